"""Checks of what users pass to `compile`, `fit`, `evaluate`, `predict` and
the `*_on_batch` methods, made before any work.

Each entry point (`check_compile`, `check_fit`, ...) runs once per call, on
the host, before a callback runs or a weight changes, so a mistake costs
one clear message instead of a traceback from inside a batch. (An unbuilt
Sequential is built from `x`, as `fit` would build it, once `x` has passed
its own checks, so that `y` can be checked against the model's output.)
Messages follow Keras's form: the argument, what was expected and what was
received, e.g. "Argument `batch_size` must be a positive integer.
Received: batch_size=0".

Cost: scalar checks are free; each float array gets one pass (in chunks,
judged by their minimum and maximum, so no temporary) for NaN, infinity
and values beyond the dtype it is cast to (float64's 1e300 is float32's
infinity), and labels one more; none of it runs per step. Integer arrays
are read only when a value could be out of range (negative sample
weights). h5py datasets and generators are checked only for what they
show without being read.
"""

from __future__ import annotations

import difflib
import inspect
import numbers
import warnings

import numpy as np

from kerasette import backend as _backend
from kerasette import losses as losses_module
from kerasette import metrics as metrics_module
from kerasette.autodiff.tensor import Tensor
from kerasette.training import compile_utils
from kerasette.training import data as data_module
from kerasette.training.compile_utils import _ACCURACY_NAMES  # resolved later, from shapes
from kerasette.training.compile_utils import _single_weight
from kerasette.utils.string_data import STRING, is_string_array

# Elements per chunk of the value scan (NaN, infinity, range): only a chunk
# that fails is searched for its row, with boolean temporaries of 256 KiB,
# whatever the size of the training set.
_FINITE_CHUNK = 1 << 18

# tf.keras 2 arguments of fit/evaluate/predict that do nothing here:
# kerasette reads batches in the training thread, without workers or queues.
_IGNORED_KWARGS = ("max_queue_size", "workers", "use_multiprocessing")


# Built-in losses by what they expect of `y`.
_SPARSE, _CATEGORICAL, _BINARY, _SAME_SHAPE = "sparse", "categorical", "binary", "same_shape"
_LOSS_KINDS = {
    "sparse_categorical_crossentropy": _SPARSE,
    "categorical_crossentropy": _CATEGORICAL,
    "binary_crossentropy": _BINARY,
    **{name: _SAME_SHAPE for name in (
        "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
        "mean_squared_logarithmic_error", "log_cosh", "huber", "poisson",
        "cosine_similarity", "hinge", "squared_hinge", "categorical_hinge", "kl_divergence")},
}


# -- scalar arguments -------------------------------------------------------------------
def positive_int(value, name, allow_none=False):
    """`value` as an int, or a `ValueError` naming the argument.

    Args:
        value: what the user passed.
        name: the argument's name, for the message.
        allow_none: whether `None` (meaning "the default") is accepted.

    Returns:
        `int(value)`, or `None` when allowed and given.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"Argument `{name}` must be a positive integer. "
                         f"Received: {name}={value!r}")
    return int(value)


def _non_negative_int(value, name, meaning=""):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"Argument `{name}` must be a non-negative integer{meaning}. "
                         f"Received: {name}={value!r}")


def _check_validation_split(value):
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not 0 <= value < 1):
        hint = ""
        if isinstance(value, numbers.Real) and 1 < value < 100:
            hint = f" (a fraction: for {value:g}% pass {value / 100:g})"
        raise ValueError("Argument `validation_split` must be a float in [0, 1) (the fraction "
                         f"held out). Received: validation_split={value!r}{hint}")


def _check_validation_freq(value):
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        positive_int(value, "validation_freq")
        return
    items = list(value) if isinstance(value, (list, tuple, set, range)) else None
    if not items or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0
                        for v in items):
        raise ValueError("Argument `validation_freq` must be a positive integer (validate "
                         "every n epochs) or a list of epoch numbers from 1. "
                         f"Received: validation_freq={value!r}")


def check_kwargs(method, kwargs, ignored=()):
    """A `TypeError` for keywords `method` does not take, with the closest one.

    Args:
        method: the bound method (its signature lists the valid names).
        kwargs: the extra keywords it received.
        ignored: names accepted and ignored (tf.keras 2's `workers`, ...).
    """
    unknown = sorted(k for k in kwargs if k not in ignored)
    if not unknown:
        return
    valid = [p for p in inspect.signature(method).parameters if p != "kwargs"]
    name = unknown[0]
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    raise TypeError(f"{method.__name__}() got an unexpected keyword argument {name!r}.{hint} "
                    f"Valid arguments: {', '.join(valid)}.")


# -- compile ------------------------------------------------------------------------------
def check_compile(compile_method, optimizer, loss, metrics, weighted_metrics, kwargs,
                  loss_weights=None):
    """Checks `compile`'s arguments before anything is resolved.

    Unknown names of losses and metrics fail here, before `compile` sets
    anything on the model, with the closest valid name (tf.keras 2 reports
    an unknown metric only at the first batch of `fit`); an unknown
    optimizer name fails in `compile`'s first statement.

    Raises:
        TypeError: for an unknown keyword argument.
        ValueError: for a missing loss, a class where an instance is
            needed, an unknown metric name, or `loss_weights` that is not
            one finite, non-negative number.
    """
    check_kwargs(compile_method, kwargs)
    if isinstance(optimizer, type):
        raise ValueError("Argument `optimizer` must be an optimizer instance or a name such as "
                         f"'adam'. Received: the class {optimizer.__name__}. Did you mean "
                         f"keras.optimizers.{optimizer.__name__}()?")
    if loss is None:
        raise ValueError("Argument `loss` is missing: compile() needs a loss, e.g. loss='mse' "
                         "or loss='sparse_categorical_crossentropy'.")
    outputs = _compile_output_names(compile_method)
    if outputs is not None:
        _check_compile_per_output(outputs, loss, metrics, weighted_metrics, loss_weights)
        return
    if isinstance(loss, (str, dict)):
        losses_module.get(loss)  # an unknown name fails before compile sets anything
    _single_weight(loss_weights)
    for what, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
        if value is None or isinstance(value, dict):
            continue  # dicts get their own message from compile
        for spec in value if isinstance(value, (list, tuple)) else [value]:
            _check_metric(spec, what, value)


def _compile_output_names(compile_method):
    """The output names of the model being compiled when it has several
    outputs (a loss, metrics and weights per output), else None."""
    model = getattr(compile_method, "__self__", None)
    ends = None if model is None else model._graph_ends()
    if ends is None or len(ends[1]) < 2:
        return None
    return list(model.output_names)


def _check_compile_per_output(outputs, loss, metrics, weighted_metrics, loss_weights):
    """`check_compile` for a model with several outputs: each output's loss
    and metrics by name, and the per-output structure of every argument."""
    for spec in compile_utils.per_output(loss, outputs, "loss"):
        if isinstance(spec, type):
            raise ValueError("Argument `loss` must hold loss names, Loss instances or "
                             f"functions. Received: the class {spec.__name__}.")
        if isinstance(spec, str):
            losses_module.get(spec)
    compile_utils._output_weights(loss_weights, outputs)
    for what, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
        for specs in compile_utils.metrics_per_output(value, outputs, what):
            for spec in specs:
                _check_metric(spec, what, value)


def _check_metric(spec, what, given):
    if isinstance(spec, type):
        raise ValueError(f"Argument `{what}` must hold metric names, Metric instances or "
                         f"functions. Received: the class {spec.__name__}. Did you mean "
                         f"keras.metrics.{spec.__name__}()?")
    if isinstance(spec, str):
        if spec not in _ACCURACY_NAMES:
            metrics_module.get(spec)  # an unknown name raises with the closest match
        return
    if not (callable(spec) or isinstance(spec, dict)):
        raise ValueError(f"Argument `{what}` must hold metric names, Metric instances or "
                         f"functions. Received: {what}={given!r}")


# -- entry points ---------------------------------------------------------------------------
def check_fit(model, x, y, sample_weight, validation_data, kwargs, *, batch_size, epochs,
              validation_split, class_weight, initial_epoch, steps_per_epoch,
              validation_steps, validation_batch_size, validation_freq):
    """Checks everything `fit` was given, before any work.

    Returns:
        `(x, y, sample_weight, validation_data)` with lists turned into
        arrays (once) and 1-D `x` given a feature axis, as tf.keras 2 does;
        arrays are never copied.

    Raises:
        RuntimeError: if the model is not compiled.
        TypeError: for an unknown keyword, a non-array `x`, or data that
            does not hold numbers.
        ValueError: for anything out of range or of the wrong shape.
    """
    check_kwargs(model.fit, kwargs, _IGNORED_KWARGS)
    model._require_compiled()
    positive_int(batch_size, "batch_size", allow_none=True)
    _non_negative_int(epochs, "epochs", " (the number of passes over the data)")
    _non_negative_int(initial_epoch, "initial_epoch")
    for name, value in (("steps_per_epoch", steps_per_epoch),
                        ("validation_steps", validation_steps),
                        ("validation_batch_size", validation_batch_size)):
        positive_int(value, name, allow_none=True)
    _check_validation_split(validation_split)
    _check_validation_freq(validation_freq)
    data_module.check_class_weight(class_weight)
    if x is None:
        raise ValueError("Argument `x` is missing: fit() needs training data, "
                         "e.g. model.fit(x_train, y_train).")
    if data_module.is_batch_source(x):
        return x, y, sample_weight, _check_validation_data(model, validation_data, None)
    io = nested_io(model)
    if io is not None:
        _check_nested_class_weight(model, class_weight, io)
        x, y, sample_weight = _check_nested_arrays(model, "fit", x, y, sample_weight,
                                                   _needs_targets(model, "train_step"), io)
        return x, y, sample_weight, _check_validation_data(model, validation_data, x)
    x, y, sample_weight = _unwrap_single(model, x, y, sample_weight)
    x, y, sample_weight = _check_arrays(model, "fit", x, y, sample_weight,
                                        _needs_targets(model, "train_step"))
    if class_weight is not None and y is not None:
        _check_class_weight_keys(model, class_weight)
    validation_data = _check_validation_data(model, validation_data, x)
    return x, y, sample_weight, validation_data


def check_evaluate(model, x, y, sample_weight, kwargs, *, batch_size, steps):
    """Checks `evaluate`'s arguments; returns `(x, y, sample_weight)`."""
    check_kwargs(model.evaluate, kwargs, _IGNORED_KWARGS)
    model._require_compiled()
    positive_int(batch_size, "batch_size", allow_none=True)
    positive_int(steps, "steps", allow_none=True)
    if x is None:
        raise ValueError("Argument `x` is missing: evaluate() needs data, "
                         "e.g. model.evaluate(x_test, y_test).")
    if data_module.is_batch_source(x):
        return x, y, sample_weight
    io = nested_io(model)
    if io is not None:
        return _check_nested_arrays(model, "evaluate", x, y, sample_weight,
                                    _needs_targets(model, "test_step"), io)
    x, y, sample_weight = _unwrap_single(model, x, y, sample_weight)
    return _check_arrays(model, "evaluate", x, y, sample_weight,
                         _needs_targets(model, "test_step"))


def check_predict(model, x, kwargs, *, batch_size, steps):
    """Checks `predict`'s arguments; returns `x`.

    NaN and infinity in `x` are not errors here: they only make the matching
    outputs NaN. A finite value the model's dtype cannot hold (1e300 for
    float32) is, since the user's data looks fine and the output would not.
    """
    check_kwargs(model.predict, kwargs, _IGNORED_KWARGS)
    positive_int(batch_size, "batch_size", allow_none=True)
    positive_int(steps, "steps", allow_none=True)
    if x is None:
        raise ValueError("Argument `x` is missing: predict() needs inputs, "
                         "e.g. model.predict(x_test).")
    if data_module.is_batch_source(x):
        return x
    io = nested_io(model)
    if io is not None:
        return _check_nested_arrays(model, "predict", x, None, None, False, io)[0]
    x = _unwrap_single(model, x, None, None)[0]
    given = x
    x = _samples(x, "x", "predict", text=_takes_text(model))
    _check_parts(model, given, "x", None)
    _check_input_shape(model, x, "x")
    _check_values(x, "x", "x", _input_dtype(model), nonfinite_ok=True)
    return _expand_1d(x)


def check_predict_on_batch(model, x):
    """`predict_on_batch`'s one check: values of `x` its dtype can hold."""
    _check_values(x, "x", "x", _input_dtype(model), nonfinite_ok=True)


def check_on_batch(model, method, x, y, sample_weight, class_weight=None):
    """Checks `train_on_batch`/`test_on_batch` arguments (one batch, so
    cheap); returns `(x, y, sample_weight)`."""
    model._require_compiled()
    data_module.check_class_weight(class_weight)
    step = "train_step" if method == "train_on_batch" else "test_step"
    io = nested_io(model)
    if io is not None:
        _check_nested_class_weight(model, class_weight, io)
        return _check_nested_arrays(model, method, x, y, sample_weight,
                                    _needs_targets(model, step), io)
    x, y, sample_weight = _unwrap_single(model, x, y, sample_weight)
    x, y, sample_weight = _check_arrays(model, method, x, y, sample_weight,
                                        _needs_targets(model, step))
    if class_weight is not None and y is not None:
        _check_class_weight_keys(model, class_weight)
    return x, y, sample_weight


# -- arrays -----------------------------------------------------------------------------------
def _check_arrays(model, method, x, y, sample_weight, needs_y, names=("x", "y", "sample_weight"),
                  build=True):
    """The checks of one `(x, y, sample_weight)` triple, cheapest first.

    With `build`, an unbuilt Sequential is built from `x` (as `fit` would)
    once the data passed the checks that need no model, so that `y` can be
    checked against the output; validation data never builds the model.
    """
    x_name, y_name, sw_name = names
    given_x, given_y = x, y
    x = _samples(x, x_name, method, text=_takes_text(model))
    if y is None and needs_y:
        raise ValueError(f"Argument `{y_name}` is missing: {method}() needs targets for the "
                         f"loss. Pass {method}(x, y), or a generator or Sequence that yields "
                         "(x, y) batches.")
    y = None if y is None else _samples(y, y_name, method)
    sample_weight = None if sample_weight is None else _samples(sample_weight, sw_name, method)
    _check_parts(model, given_x, x_name, None if y is None else len(y))
    _check_parts(None, given_y, y_name, len(x), role="output")
    _check_cardinality((x_name, x), (y_name, y), (sw_name, sample_weight))
    _check_input_shape(model, x, x_name)
    # NaN, infinity and values beyond the dtype each is cast to, in one pass each.
    x_dtype = _input_dtype(model)
    _check_values(x, x_name, "x", x_dtype)
    y_dtype = None if y is None else data_module._label_dtype(y.dtype)
    if y is not None and (y is not x or y_dtype != x_dtype):  # an autoencoder's y is x
        _check_values(y, y_name, "y", y_dtype)
    if sample_weight is not None:
        _check_values(sample_weight, sw_name, "sample_weight", _backend.floatx(),
                      non_negative=True)
    if y is not None:
        out_shape = _output_shape(model, x if build else None)
        if out_shape is not None:
            _check_targets(model, y, y_name, out_shape)
            _check_label_values(model, y, y_name, out_shape)
    return _expand_1d(x), y, sample_weight


def _samples(value, name, method, text=False):
    """`value` as an array of samples (lists converted once, device arrays
    left on the device), checked for numbers (strings, with `text`), a
    batch axis and at least one sample."""
    arr = data_module.as_samples(value, name)
    if not text:
        data_module._check_numeric(arr, name)
    elif not is_string_array(arr):
        raise TypeError(f"Argument `{name}` must hold strings: this model's input takes text "
                        f"(dtype 'string'). Received: an array of dtype {arr.dtype}.")
    if arr.ndim == 0:
        raise ValueError(f"Argument `{name}` must be an array of samples, batch axis first. "
                         f"Received: a scalar, {name}={value!r}")
    if len(arr) == 0:
        raise ValueError(f"Argument `{name}` is empty: {method}() needs at least one sample. "
                         f"Received: {name}.shape={tuple(arr.shape)}")
    return arr


def _input_dtype(model):
    """The float dtype `x` is cast to, batch by batch: the model's (None
    for text, which is not cast)."""
    dtype = getattr(model, "_x_dtype", None)
    dtype = dtype() if callable(dtype) else _backend.floatx()
    return None if dtype == STRING else dtype


def _takes_text(model) -> bool:
    """Whether the model's one input takes strings (kept on the host)."""
    dtype = getattr(model, "_x_dtype", None)
    return callable(dtype) and dtype() == STRING


def _expand_1d(x):
    """1-D `x` becomes one feature per sample, `(n,)` -> `(n, 1)` (a view),
    as tf.keras 2's data adapter does: `Dense(1, input_shape=[1])` then
    trains on a plain vector of numbers."""
    if (isinstance(x, np.ndarray) or data_module.is_device_array(x)) and x.ndim == 1:
        return x.reshape(-1, 1)
    return x


def _part_shapes(value):
    """The shapes of the arrays in a tuple or list of two or more arrays
    (what tf.keras 2 reads as one array per input), else None."""
    if not isinstance(value, (tuple, list)) or len(value) < 2:
        return None
    shapes = []
    for item in value:
        array = item.data if isinstance(item, Tensor) else item
        if not (isinstance(array, np.ndarray) or data_module.is_device_array(array)
                or data_module._is_array_like(array)) or len(array.shape) == 0:
            return None
        shapes.append(tuple(array.shape))
    return shapes


def _check_parts(model, value, name, other_samples, role="input"):
    """A `ValueError` for a tuple or list of arrays given as one input (or target).

    tf.keras 2 reads a tuple or list of arrays as one array per input of a
    multi-input model; stacked into one array, the parts became samples
    ("x has 2 samples"). A tuple is always refused. A list of arrays is also
    a list of samples (images, rows), so it is refused only when each part
    is shaped like a whole `x` for this model, or, for a model whose input
    shape is not known yet, holds as many samples as the other argument.
    """
    shapes = _part_shapes(value)
    if shapes is None:
        return
    if isinstance(value, list):
        expected = _expected_input_shape(model) if role == "input" else None
        if expected is not None:
            if not all(_dims_match(expected[1:], s[1:]) for s in shapes):
                return
        elif other_samples is None or other_samples == len(shapes) or any(
                s[0] != other_samples for s in shapes):
            return
    var = _var(name)
    listed = ", ".join(map(str, shapes[:3])) + (", ..." if len(shapes) > 3 else "")
    takes = ("takes one input array" if role == "input"
             else "has one output, so it takes one array of targets")
    if all(len(s) == 1 for s in shapes):
        joined = f"np.stack({var}, axis=-1) makes one column of each part"
    else:
        joined = f"np.concatenate({var}, axis=-1) joins the parts' last axes"
        if role == "input" and len(set(shapes)) == 1:
            joined += (f", or np.stack({var}, axis=1) stacks them on a new axis, for a model "
                       f"built with input_shape={(len(shapes),) + shapes[0][1:]}")
    raise ValueError(
        f"Argument `{name}` is a {type(value).__name__} of {len(shapes)} arrays (shapes "
        f"{listed}), but this model {takes}. tf.keras reads a tuple or list of arrays as one "
        f"array per {role} of a multi-{role} model, built with the functional API "
        f"(keras.Model(inputs, outputs)). Pass one array: {joined}.")


def _check_cardinality(*named):
    present = [(name, arr) for name, arr in named if arr is not None]
    first_name, first = present[0]
    for name, arr in present[1:]:
        if len(arr) != len(first):
            raise ValueError(
                f"Data cardinality is ambiguous: {first_name} has {len(first)} samples but "
                f"{name} has {len(arr)}. Make sure all arrays contain the same number of "
                "samples."
            )


def first_nonfinite_row(arr):
    """The index of the first sample holding NaN or infinity, or None
    (`first_invalid_row` with no range to respect)."""
    return first_invalid_row(arr)


def first_invalid_row(arr, dtype=None, non_negative=False, nonfinite_ok=False):
    """The index of the first sample holding a value training cannot use, or None.

    Such a value is NaN or infinity (unless `nonfinite_ok`: predict's inputs
    may hold them), a finite number beyond the range of `dtype` (what the
    array is cast to, batch by batch: float64's 1e300 is float32's
    infinity), or, with `non_negative`, a number below zero.

    One pass, in chunks of `_FINITE_CHUNK` elements, each judged by its
    minimum and maximum (which NaN propagates), so the scan allocates
    nothing; only a chunk that fails is searched for its row, with
    chunk-sized temporaries. Arrays whose dtype holds no bad value (uint8
    images, integers for a float32 model) are not read at all, nor are
    h5py datasets. A device array is judged on the device (two numbers
    read back) and copied to the host only when it holds a bad value, to
    find the row.

    Args:
        arr: a host or device array of samples, or an h5py dataset.
        dtype: the float dtype `arr` is cast to (None: no cast).
        non_negative: refuse numbers below zero (sample weights).
        nonfinite_ok: let NaN and infinity pass (predict's inputs).
    """
    bounds = _bounds(arr.dtype, dtype, non_negative, nonfinite_ok)
    if bounds is None or arr.size == 0:
        return None
    if data_module.is_device_array(arr):
        if _device_within(arr, bounds, nonfinite_ok):
            return None
        arr = data_module.to_host(arr)
    if not isinstance(arr, np.ndarray):
        return None
    per_sample = arr.size // len(arr)
    rows = max(1, _FINITE_CHUNK // max(per_sample, 1))
    for start in range(0, len(arr), rows):
        chunk = arr[start:start + rows]
        if _within(chunk, bounds, nonfinite_ok):
            continue
        bad = _outside(chunk, bounds, nonfinite_ok).reshape(len(chunk), -1).any(axis=1)
        if bad.any():
            return start + int(np.argmax(bad))
    return None


def _bounds(arr_dtype, dtype, non_negative, nonfinite_ok):
    """`(low, high)`: the values of `arr_dtype` that pass; `(None, None)`:
    finite values pass (complex numbers, whose min and max are not
    magnitudes); None: every value passes, so the array need not be read."""
    kind = arr_dtype.kind
    if kind == "c":
        return None if nonfinite_ok else (None, None)
    if kind == "f":
        own_low, own_high = -float(np.finfo(arr_dtype).max), float(np.finfo(arr_dtype).max)
    elif kind in "iu":
        own_low, own_high = int(np.iinfo(arr_dtype).min), int(np.iinfo(arr_dtype).max)
    else:
        return None  # booleans
    limit = float(np.finfo(dtype).max) if dtype is not None and np.dtype(
        dtype).kind == "f" else float("inf")
    low, high = max(own_low, -limit), min(own_high, limit)
    if non_negative:
        low = max(low, 0)
    if (kind in "iu" or nonfinite_ok) and low <= own_low and high >= own_high:
        return None  # no NaN to look for, and no value out of bounds
    return low, high


def _within(chunk, bounds, nonfinite_ok):
    """Whether every value of a host chunk passes (no temporaries)."""
    low, high = bounds
    if low is None:
        return bool(np.isfinite(chunk).all())
    if nonfinite_ok:  # fmin/fmax skip NaN; an infinity sends the chunk to `_outside`
        return bool(np.fmin.reduce(chunk, axis=None) >= low
                    and np.fmax.reduce(chunk, axis=None) <= high)
    return bool(chunk.min() >= low and chunk.max() <= high)


def _outside(values, bounds, nonfinite_ok):
    """The boolean mask of the values that fail (NaN compares False, so fails)."""
    low, high = bounds
    if low is None:
        return ~np.isfinite(values)
    ok = values >= low
    ok &= values <= high
    if nonfinite_ok:
        ok |= ~np.isfinite(values)
    return ~ok


def _device_within(arr, bounds, nonfinite_ok):
    """`_within` of a whole device array: reductions only, one read-back."""
    b = _backend.get_backend()
    xp = b.xp
    low, high = bounds
    if low is None:
        return bool(xp.isfinite(arr).all())
    if nonfinite_ok:
        with warnings.catch_warnings():  # an all-NaN array: NaN, judged on the host
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, hi = b.to_numpy(xp.stack((xp.nanmin(arr), xp.nanmax(arr))))
    else:
        lo, hi = b.to_numpy(xp.stack((xp.min(arr), xp.max(arr))))
    return bool(lo >= low and hi <= high)


# Per argument: what its dtype is, and what to do about a value beyond it.
_CAST_ROLES = {
    "x": ("the model's dtype", "Rescale the inputs first (e.g. standardise each feature)"),
    "y": ("the dtype float labels are cast to", "Rescale the targets first"),
    "sample_weight": ("the dtype sample weights are cast to",
                      "Rescale the weights first (only their ratios matter)"),
}


def _check_values(arr, name, role, dtype=None, non_negative=False, nonfinite_ok=False):
    """A `ValueError` naming the first value of `arr` that training cannot
    use (see `first_invalid_row`): its sample, its index and the value."""
    row = first_invalid_row(arr, dtype, non_negative, nonfinite_ok)
    if row is None:
        return
    sample = np.asarray(data_module.to_host(arr[row]))
    bounds = _bounds(arr.dtype, dtype, non_negative, nonfinite_ok)
    flat = _outside(sample.reshape(-1), bounds, nonfinite_ok)
    at = int(np.argmax(flat))
    value = _item(sample.reshape(-1)[at])
    if np.isnan(value) or np.isinf(value):
        what = "NaN" if np.isnan(value) else "infinity"
        raise ValueError(
            f"Argument `{name}` holds {what} in sample {row} ({name}[{row}]). Expected finite "
            "numbers: one NaN in a batch turns the loss, and then every weight, into NaN. Drop "
            f"or fill those samples first, e.g. keep = np.isfinite({_var(name)}).reshape("
            f"len({_var(name)}), -1).all(axis=1)."
        )
    index = ", ".join(str(i) for i in (row,) + np.unravel_index(at, sample.shape))
    if non_negative and value < 0:
        raise ValueError(
            f"Argument `{name}` holds {value!r} in sample {row} ({name}[{index}]). Expected "
            "non-negative weights (0 leaves a sample out of the loss): a negative weight "
            "rewards the model for getting that sample wrong, so the loss has no minimum and "
            "training drives the weights without bound.")
    cast, fix = _CAST_ROLES[role]
    dtype_name = np.dtype(dtype).name
    effect = ("the model's outputs for that sample" if nonfinite_ok
              else "one infinity in a batch turns every weight")
    raise ValueError(
        f"Argument `{name}` holds {value!r} in sample {row} ({name}[{index}]), beyond the "
        f"range of {dtype_name}, {cast}: the largest {dtype_name} is "
        f"{float(np.finfo(dtype_name).max):.8g}, so the cast each batch makes turns it into "
        f"infinity, and {effect} into NaN. {fix}, or drop those samples.")


def _var(name):
    """A variable name to use in code hints (`validation_data[0]` is not one;
    `x['a']`, one input of several, is an expression that works as one)."""
    if name.isidentifier():
        return name
    if name.startswith("validation_data"):
        return "x_val" if name.startswith("validation_data[0]") else "y_val"
    return name


# -- the model's input and output ---------------------------------------------------------------
# The model says what it takes and gives (`Trainer._declared_input_shape`,
# `_checked_output_shape`, `_uses_default_step`): this module imports neither
# the models nor the trainer, which both import it.
def _expected_input_shape(model):
    """The batch-first input shape a built Sequential takes, or None (subclassed
    models declare none, so any shape may be fine for them)."""
    return model._declared_input_shape()


def _dims_match(expected, received):
    return len(expected) == len(received) and all(
        e is None or e == r for e, r in zip(expected, received))


def _check_input_shape(model, x, name):
    expected = _expected_input_shape(model)
    received = tuple(x.shape)
    if expected is None or _dims_match(expected[1:], received[1:]):
        return
    if len(received) == 1 and expected[1:] == (1,):
        return  # one feature per sample, given as a vector: expanded as in tf.keras 2
    raise ValueError(
        f"Argument `{name}` has the wrong shape for this model: expected shape "
        f"{_fmt(expected)}, received {received}.{_shape_hint(name, expected, received)}"
    )


def _fmt(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _shape_hint(name, expected, received):
    """The likeliest cause of a shape mismatch, as a sentence (or "")."""
    var = _var(name)
    want, got = expected[1:], received[1:]
    if received == want:
        return (f" This looks like one sample without the batch axis: pass "
                f"np.expand_dims({var}, 0) (or {var}[None]).")
    if got + (1,) == want:
        return f" Add the channel axis: {var}[..., None]."
    if None not in want and got and int(np.prod(want)) == int(np.prod(got)):
        hint = (f" Each sample has the right number of values in another shape: reshape with "
                f"{var}.reshape(-1, {', '.join(map(str, want))})")
        if len(want) == 1 and len(got) > 1:
            hint += f", or start the model with keras.layers.Flatten(input_shape={got})"
        return hint + "."
    if len(want) == len(got) == 1 and var == "x":
        return (f" The model takes {want[0]} features per sample and x has {got[0]}: "
                "check for a label or ID column left in x, or build the model with "
                f"input_shape=({got[0]},).")
    if len(want) == len(got) == 1:
        return f" {var} must have the same {want[0]} features per sample as x."
    return ""


def _output_shape(model, x=None):
    """The batch-first output shape of a Sequential model, building it from
    `x` first when needed (as `fit` would); None for other models."""
    return model._checked_output_shape(x)


def _needs_targets(model, step):
    """Whether the model's step uses `y` (a custom `train_step` may not)."""
    return model._uses_default_step(step)


# -- targets ----------------------------------------------------------------------------------
def _loss_info(model, loss=None):
    """`(kind, name, loss object)` of a built-in compiled loss (the model's,
    or `loss`, one output's); kind None for others."""
    loss = model.compiled_loss.loss if loss is None else loss
    fn = getattr(loss, "fn", None)
    name = getattr(fn, "__name__", None)
    if name not in _LOSS_KINDS or getattr(losses_module, name, None) is not fn:
        return None, None, loss
    return _LOSS_KINDS[name], name, loss


def _check_targets(model, y, name, out, loss=None):
    """Shape checks of `y` against the output for the built-in losses (the
    model's, or `loss`, the loss of the output `y` is for)."""
    kind, loss_name, _ = _loss_info(model, loss)
    if kind is None:
        return
    got, want, units = tuple(y.shape[1:]), tuple(out[1:]), out[-1]
    if kind == _SPARSE:
        if _dims_match(want[:-1], got) or _dims_match(want[:-1] + (1,), got):
            return
        if _dims_match(want, got) and units and units > 1:
            raise ValueError(
                f"Argument `{name}` has shape {tuple(y.shape)} and looks one-hot, but "
                f"{loss_name} expects integer class indices of shape {_fmt(out[:-1])} or "
                f"{_fmt(out[:-1] + (1,))}. Use loss='categorical_crossentropy' for one-hot "
                f"labels, or pass {_var(name)}.argmax(axis=-1).")
        raise ValueError(
            f"Argument `{name}` has the wrong shape for {loss_name}: expected integer class "
            f"indices of shape {_fmt(out[:-1])} or {_fmt(out[:-1] + (1,))} for the model's "
            f"output of shape {_fmt(out)}, received {tuple(y.shape)}.")
    if _same_shape(want, got):
        return
    if kind == _CATEGORICAL and units and units > 1 and (
            _dims_match(want[:-1], got) or _dims_match(want[:-1] + (1,), got)):
        raise ValueError(
            f"Argument `{name}` has shape {tuple(y.shape)} and holds class indices, but "
            f"{loss_name} expects one-hot labels of shape {_fmt(out)}, like the model's "
            "output. Use loss='sparse_categorical_crossentropy', or one-hot encode with "
            f"{_var(name)} = keras.utils.to_categorical({_var(name)}, num_classes={units}).")
    hint = ""
    if len(got) == len(want) == 1:
        hint = (f" The last layer has {_plural(want[0], 'unit')} and {_var(name)} has "
                f"{_plural(got[0], 'column')}: make the last layer Dense({got[0]}), or give "
                f"{_var(name)} {_plural(want[0], 'column')}.")
    if kind == _BINARY and units == 1 and len(got) == 1 and got[0] > 1:
        hint = (f" {_var(name)} looks one-hot with {got[0]} classes: use Dense({got[0]}, "
                "activation='softmax') with loss='categorical_crossentropy'.")
    raise ValueError(
        f"Argument `{name}` has the wrong shape for {loss_name}: expected shape {_fmt(out)} "
        f"(the model's output), received {tuple(y.shape)}.{hint}")


def _same_shape(want, got):
    """Equal shapes after the trailing-1 reconciliation the losses apply."""
    return (_dims_match(want, got)
            or (want[-1:] == (1,) and _dims_match(want[:-1], got))
            or (got[-1:] == (1,) and _dims_match(want, got[:-1])))


def _check_label_values(model, y, name, out, loss=None):
    """Value checks of `y` for the classification losses (one pass over y)."""
    kind, loss_name, loss = _loss_info(model, loss)
    if kind not in (_SPARSE, _CATEGORICAL, _BINARY):
        return
    if data_module.is_device_array(y):
        y = data_module.to_host(y)  # labels: a small read-back, once per call
    if not isinstance(y, np.ndarray):
        return
    units = out[-1]
    if kind == _SPARSE:
        _check_class_indices(y, name, loss_name, units, getattr(loss, "ignore_class", None))
    else:
        _check_unit_interval(y, name, loss_name, kind, units)


def _first_bad(y, bad):
    """`(sample index, value)` of the first True in `bad` (y's shape)."""
    row = int(np.argmax(bad.reshape(len(y), -1).any(axis=1)))
    return row, _item(np.asarray(y[row]).reshape(-1)[np.asarray(bad[row]).reshape(-1)][0])


def _check_class_indices(y, name, loss_name, units, ignore_class):
    values = y if ignore_class is None else y[y != ignore_class]
    if y.dtype.kind == "f":
        fractional = y != np.floor(y)
        if fractional.any():
            row, value = _first_bad(y, fractional)
            raise ValueError(
                f"Argument `{name}` must hold integer class indices for {loss_name}. "
                f"Received: {value} in sample {row}.")
    if units is None or values.size == 0:
        return
    lo, hi = _item(values.min()), _item(values.max())
    if lo >= 0 and hi < units:
        return
    bad = (y < 0) | (y >= units)
    if ignore_class is not None:
        bad &= y != ignore_class
    row, value = _first_bad(y, bad)
    if units == 1:
        hint = (" One output unit cannot score classes: for two classes use "
                "Dense(1, activation='sigmoid') with loss='binary_crossentropy', or "
                "Dense(2, activation='softmax').")
    elif lo == 1 and hi == units:
        hint = f" The labels look 1-based: subtract 1 ({_var(name)} - 1)."
    elif lo < 0:
        hint = (" Negative labels are not classes; if -1 marks unlabeled samples, drop them "
                "or use keras.losses.SparseCategoricalCrossentropy(ignore_class=-1).")
    else:
        hint = f" If there are {hi + 1} classes, make the last layer Dense({hi + 1})."
    raise ValueError(
        f"Argument `{name}` holds class index {value} in sample {row}, but the model's "
        f"output has {_plural(units, 'unit')}, so {loss_name} expects class indices from 0 to "
        f"{units - 1}. Received: labels from {lo} to {hi}.{hint}")


def _check_unit_interval(y, name, loss_name, kind, units):
    lo, hi = _item(y.min()), _item(y.max())
    if lo >= 0 and hi <= 1:
        return
    row, value = _first_bad(y, (y < 0) | (y > 1))
    hint = ""
    if kind == _BINARY and lo >= 0 and float(hi).is_integer():
        classes = int(hi) + 1
        hint = (f" For {classes} classes, end the model with Dense({classes}, "
                "activation='softmax') and use loss='sparse_categorical_crossentropy'.")
    elif kind == _BINARY and lo == -1 and hi == 1:
        hint = f" Labels of -1 and 1 are for hinge losses; map them with ({_var(name)} + 1) / 2."
    what = "labels" if kind == _BINARY else "one-hot (or probability) labels"
    raise ValueError(
        f"Argument `{name}` holds {value} in sample {row}, but {loss_name} expects {what} "
        f"between 0 and 1. Received: labels "
        f"from {lo} to {hi}.{hint}")


def _plural(n, word):
    return f"{n} {word}" + ("" if n == 1 else "s")


def _item(value):
    """A NumPy scalar as a plain Python number, for messages."""
    value = np.asarray(value)
    return value.item() if value.size == 1 else value.tolist()


def _check_class_weight_keys(model, class_weight):
    """Keys of `class_weight` must be class indices of this model's output."""
    kind, _, _ = _loss_info(model)
    out = _output_shape(model)
    if kind not in (_SPARSE, _CATEGORICAL, _BINARY) or out is None or out[-1] is None:
        return
    classes = 2 if out[-1] == 1 else out[-1]
    top = max(class_weight)
    if top >= classes:
        raise ValueError(
            f"Argument `class_weight` has key {top}, which is not a class of this model: its "
            f"output has {_plural(out[-1], 'unit')}, so class indices run "
            f"from 0 to {classes - 1}. Received: class_weight={class_weight!r}")


# -- validation_data ----------------------------------------------------------------------------
def _check_validation_data(model, validation_data, x):
    """Checks `(x_val, y_val[, sample_weight])` like the training data, and
    against `x`'s sample shape; returns it with lists converted."""
    if validation_data is None or data_module.is_batch_source(validation_data):
        return validation_data
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        received = (f"a {type(validation_data).__name__} of length {len(validation_data)}"
                    if isinstance(validation_data, (tuple, list))
                    else type(validation_data).__name__)
        raise ValueError("Argument `validation_data` must be a tuple (x_val, y_val) or "
                         "(x_val, y_val, val_sample_weight), a generator or a Sequence. "
                         f"Received: {received}.")
    xv, yv, swv = (tuple(validation_data) + (None,))[:3]
    names = ("validation_data[0]", "validation_data[1]", "validation_data[2]")
    needs_y = yv is not None or _needs_targets(model, "test_step")
    io = nested_io(model)
    if io is not None:
        xv, yv, swv = _check_nested_arrays(model, "fit", xv, yv, swv, needs_y, io, names=names)
        return (xv, yv) if swv is None else (xv, yv, swv)
    xv, yv, swv = _unwrap_single(model, xv, yv, swv)
    xv, yv, swv = _check_arrays(model, "fit", xv, yv, swv, needs_y, names=names, build=False)
    if x is not None and _expected_input_shape(model) is None and tuple(
            xv.shape[1:]) != tuple(x.shape[1:]):
        raise ValueError(
            f"Argument `validation_data[0]` has the wrong shape: expected samples shaped like "
            f"x's, {_fmt((None,) + tuple(x.shape[1:]))}, received {tuple(xv.shape)}.")
    return (xv, yv) if swv is None else (xv, yv, swv)


# -- several inputs or outputs ------------------------------------------------------------------
def nested_io(model):
    """`(input names, output names)` of a graph model with several inputs or
    outputs (whose data comes as lists or dicts of arrays), else None."""
    ends = model._graph_ends()
    if ends is None:
        return None
    inputs, outputs = ends
    if len(inputs) == 1 and len(outputs) == 1:
        return None
    return list(model.input_names), list(model.output_names)


def _unwrap_single(model, x, y, sample_weight):
    """For a graph model with one input and one output, tf.keras 2 takes a
    dict by input (output) name, or a list of the one array, too: each
    becomes the array itself, so the one-array path runs."""
    ends = model._graph_ends()
    if ends is None:
        return x, y, sample_weight
    x = _one_of(x, model.input_names, "x", "input")
    y = _one_of(y, model.output_names, "y", "output")
    sample_weight = _one_of(sample_weight, model.output_names, "sample_weight", "output")
    return x, y, sample_weight


def _one_of(value, names, arg, role):
    if isinstance(value, dict):
        return _adapt(value, names, arg, role)[0][0]
    return value


def _check_nested_class_weight(model, class_weight, io):
    """`class_weight` works for a model with one output (whatever its
    inputs), as in tf.keras 2, which refuses it for several outputs."""
    if class_weight is None:
        return
    if len(io[1]) > 1:
        raise ValueError(
            "Argument `class_weight` is only supported for models with a single output "
            f"(model {model.name!r} has {len(io[1])}: {', '.join(io[1])}), as in tf.keras 2; "
            "pass `sample_weight` per output instead, e.g. the weight of each sample's "
            "class: sample_weight={name: np.take(weights, labels)}.")
    _check_class_weight_keys(model, class_weight)


def _adapt(value, names, arg, role):
    """`value` (a dict by name, a list or tuple in order, or one array where
    there is one name) as a list of arrays in the order of `names`, with
    the label of each for messages (`x['a']`, `x[0]`).

    Raises:
        ValueError: naming the argument, the model's names and what was
            received: a missing or unknown key, or the wrong number of arrays.
    """
    count = f"{len(names)} {role}{'s' if len(names) != 1 else ''} ({', '.join(map(repr, names))})"
    if isinstance(value, dict):
        missing = [name for name in names if name not in value]
        unknown = [key for key in value if key not in names]
        if missing or unknown:
            problem = (f"has no entry for {role} {missing[0]!r}" if missing
                       else f"has key {unknown[0]!r}, which is not an {role} name")
            raise ValueError(
                f"Argument `{arg}` {problem}: the model has {count}. Pass a dict with one "
                f"array per {role} name, or a list in that order. Received keys: "
                f"{sorted(map(str, value))}")
        return [value[name] for name in names], [f"{arg}[{name!r}]" for name in names]
    if isinstance(value, (list, tuple)) and len(names) > 1:
        if len(value) != len(names):
            raise ValueError(
                f"Argument `{arg}` is a {type(value).__name__} of {len(value)} arrays, but the "
                f"model has {count}: pass one array per {role}, in that order, or a dict by "
                f"{role} name.")
        return list(value), [f"{arg}[{i}]" for i in range(len(names))]
    if len(names) > 1:
        raise ValueError(
            f"Argument `{arg}` is one array, but the model has {count}: pass a list of "
            f"{len(names)} arrays, in that order, or a dict by {role} name. Received: "
            f"{type(value).__name__}" + (f" of shape {tuple(value.shape)}"
                                         if hasattr(value, "shape") else ""))
    if isinstance(value, (list, tuple)) and len(value) == 1 and hasattr(value[0], "shape"):
        value = value[0]  # [array] for the one input: one array, not a list of samples
    return [value], [arg]


def _adapt_weights(value, names, arg):
    """`sample_weight` per output: one array for every output (the same
    array, not copies), a list in output order, or a dict by output name
    (outputs left out are unweighted)."""
    if value is None:
        return None, None
    if isinstance(value, dict):
        unknown = [key for key in value if key not in names]
        if unknown:
            raise ValueError(
                f"Argument `{arg}` has key {unknown[0]!r}, which is not an output name: the "
                f"model's outputs are {names}. Received keys: {sorted(map(str, value))}")
        return ([value.get(name) for name in names],
                [f"{arg}[{name!r}]" for name in names])
    if isinstance(value, (list, tuple)) and len(names) > 1 and not _is_number_list(value):
        return _adapt(value, names, arg, "output")
    return [value] * len(names), [arg] * len(names)


def _is_number_list(value):
    """A list of numbers is one weight per sample, not one array per output."""
    return all(isinstance(v, numbers.Number) for v in value)


def _check_nested_arrays(model, method, x, y, sample_weight, needs_y, io,
                         names=("x", "y", "sample_weight")):
    """`_check_arrays` for a model with several inputs or outputs: each
    array is checked as one array is, against its own input or output.

    Returns:
        `(x, y, sample_weight)` as `data.Arrays` in the model's input and
        output order (y and sample_weight may be None; a sample weight
        given as one array appears once per output, the same array).
    """
    in_names, out_names = io
    x_arg, y_arg, sw_arg = names
    xs, x_labels = _adapt(x, in_names, x_arg, "input")
    if y is None and needs_y:
        raise ValueError(f"Argument `{y_arg}` is missing: {method}() needs targets for the "
                         f"loss, one array per output ({', '.join(out_names)}). Pass "
                         f"{method}(x, y), or a generator or Sequence that yields (x, y) "
                         "batches.")
    ys, y_labels = (None, None) if y is None else _adapt(y, out_names, y_arg, "output")
    sws, sw_labels = _adapt_weights(sample_weight, out_names, sw_arg)
    xs = [_samples(a, label, method, text=ref.dtype == STRING)
          for a, label, ref in zip(xs, x_labels, model._graph_ends()[0])]
    if ys is not None:
        ys = [_samples(a, label, method) for a, label in zip(ys, y_labels)]
    if sws is not None:
        converted = {}
        for i, (a, label) in enumerate(zip(sws, sw_labels)):
            if a is not None:  # one array for every output is converted once
                converted.setdefault(id(a), _samples(a, label, method))
        sws = [None if a is None else converted[id(a)] for a in sws]
    described = [(f"{label} (input {name!r})" if "[" in label and label.endswith("]")
                  and not label.endswith(f"[{name!r}]") else label, a)
                 for label, name, a in zip(x_labels, in_names, xs)]
    for group, labels in ((ys, y_labels), (sws, sw_labels)):
        for i, (label, a) in enumerate(zip(labels or (), group or ())):
            if a is not None:
                name = out_names[i]
                tag = (f"{label} (output {name!r})" if label.endswith(f"[{i}]")
                       else label)
                described.append((tag, a))
    _check_cardinality(*described)
    inputs, outputs = model._graph_ends()
    float_dtype = _input_dtype(model)
    xs = [_expand_1d(a) for a in xs]
    for a, label, name, ref in zip(xs, x_labels, in_names, inputs):
        expected = (None,) + tuple(ref.shape[1:])
        if not _dims_match(expected[1:], tuple(a.shape[1:])):
            raise ValueError(
                f"Argument `{label}` has the wrong shape for input {name!r} of this model: "
                f"expected shape {_fmt(expected)}, received {tuple(a.shape)}."
                f"{_shape_hint(label, expected, tuple(a.shape))}")
        dtype = (None if ref.dtype == STRING else ref.dtype if np.dtype(ref.dtype).kind != "f"
                 else float_dtype)
        _check_values(a, label, "x", dtype, nonfinite_ok=(method == "predict"))
    if ys is not None:
        for i, (a, label, ref) in enumerate(zip(ys, y_labels, outputs)):
            _check_values(a, label, "y", data_module._label_dtype(a.dtype))
            loss = _output_loss(model, i)
            if loss is not None:
                out = (None,) + tuple(ref.shape[1:])
                _check_targets(model, a, label, out, loss=loss)
                _check_label_values(model, a, label, out, loss=loss)
    if sws is not None:
        seen = set()
        for a, label in zip(sws, sw_labels):
            if a is not None and id(a) not in seen:
                seen.add(id(a))
                _check_values(a, label, "sample_weight", _backend.floatx(), non_negative=True)
    wrap = data_module.Arrays
    return wrap(xs), None if ys is None else wrap(ys), None if sws is None else wrap(sws)


def _output_loss(model, index):
    """The compiled loss object of output `index` (None: that output has none)."""
    compiled = getattr(model, "compiled_loss", None)
    if compiled is None:
        return None
    losses = getattr(compiled, "losses", None)
    return compiled.loss if losses is None else losses[index]
