"""Stateful metrics with tf.keras 2's names, defaults and numerics.

A metric accumulates statistics batch after batch (`update_state`) and
reports a value computed from them (`result`). The state lives in
non-trainable `Variable`s on the active backend and is updated in place with
the backend's array module, so a training loop on the GPU never waits for a
metric: only the caller reads host floats (`float(m.result())`) when it
wants to display them.

Each metric here behaves like its tf.keras 2 namesake: the same default
name, the same handling of `sample_weight` (a running weighted mean
`sum(values * w) / sum(w)`), the same threshold layout and interpolation for
`AUC`, the same squeezing of `(batch, 1)` labels. Per-sample functions
(`binary_accuracy`, `mean_squared_error`, ...) return one value per sample,
as tf.keras 2's do.

The string `"accuracy"` means different formulas for different outputs, so
`get("accuracy")` returns tf.keras 2's exact-match `accuracy` function,
while `compile(metrics=["accuracy"])` resolves it from the shapes of
`y_true` and `y_pred` with `get_accuracy_metric` (or `get_metric_object`,
which handles every kind of metric identifier the way `compile` does).

Example:
    >>> m = BinaryAccuracy()
    >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    >>> float(m.result())
    0.75
    >>> m.name
    'binary_accuracy'
    >>> get_accuracy_metric("acc", (None, 1), (None, 1)).name
    'acc'
"""

from __future__ import annotations

import functools
import math
import numbers
import types
import warnings
from collections.abc import Callable, Sequence
from types import MappingProxyType

import numpy as np

from kerasette import backend as _backend
from kerasette import ops
from kerasette.autodiff.tensor import Tensor, Variable
from kerasette.utils.naming import to_snake_case, unique_name
from kerasette.utils.registry import NameTable

__all__ = [
    "AUC",
    "Accuracy",
    "BinaryAccuracy",
    "BinaryCrossentropy",
    "BinaryIoU",
    "CategoricalAccuracy",
    "CategoricalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "F1Score",
    "FBetaScore",
    "FalseNegatives",
    "FalsePositives",
    "Hinge",
    "IoU",
    "KLD",
    "KLDivergence",
    "LogCoshError",
    "Mean",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanIoU",
    "MeanMetricWrapper",
    "MeanRelativeError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "MeanTensor",
    "Metric",
    "OneHotIoU",
    "OneHotMeanIoU",
    "Poisson",
    "Precision",
    "PrecisionAtRecall",
    "R2Score",
    "Recall",
    "RecallAtPrecision",
    "RootMeanSquaredError",
    "SensitivityAtSpecificity",
    "SparseCategoricalAccuracy",
    "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy",
    "SpecificityAtSensitivity",
    "SquaredHinge",
    "Sum",
    "TopKCategoricalAccuracy",
    "TrueNegatives",
    "TruePositives",
    "accuracy",
    "binary_accuracy",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_accuracy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "deserialize",
    "experimental",
    "get",
    "get_accuracy_metric",
    "get_metric_object",
    "hinge",
    "kl_divergence",
    "kld",
    "kullback_leibler_divergence",
    "log_cosh",
    "logcosh",
    "mae",
    "mape",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "mse",
    "msle",
    "poisson",
    "serialize",
    "sparse_categorical_accuracy",
    "sparse_categorical_crossentropy",
    "sparse_top_k_categorical_accuracy",
    "squared_hinge",
    "top_k_categorical_accuracy",
]

# tf.keras 2's `backend.epsilon()` and `metrics_utils.NEG_INF`.
EPSILON = 1e-7
NEG_INF = -1e10

Shape = Sequence  # a tuple of ints (None for an unknown batch size)


# -- device helpers ---------------------------------------------------------------
def _xp():
    return _backend.get_backend().xp


def _device(x, dtype=None):
    """The backend array behind `x`; host data crosses to the device here.

    Tensors and backend arrays are used as they are (no copy, no host
    round trip); lists, numbers and NumPy arrays go through
    `ops.convert_to_tensor`, the explicit host-to-device boundary.
    """
    if isinstance(x, Tensor):
        data = x.data
    elif _backend.get_backend().is_array(x):
        data = x
    else:
        data = ops.convert_to_tensor(x).data
    if dtype is not None and data.dtype != dtype:
        data = data.astype(dtype)
    return data


def _floating(data):
    """Integer or boolean data as floatx; floating data unchanged."""
    if data.dtype.kind != "f":
        return data.astype(_backend.floatx())
    return data


def _squeeze_last(a):
    return a.reshape(a.shape[:-1])


def _squeeze_pair(y_true, y_pred):
    """tf.keras 2's `squeeze_or_expand_dimensions(y_pred, y_true)`: drops a
    trailing 1 from whichever of the two has one rank more, except for the
    sparse case (labels `(batch,)` against predictions `(batch, classes)`)."""
    pr, tr = y_pred.ndim, y_true.ndim
    if pr - tr != 1 or (pr and y_pred.shape[-1] == 1):
        if pr - tr == 1 and y_pred.shape[-1] == 1:
            y_pred = _squeeze_last(y_pred)
        elif tr - pr == 1 and y_true.shape[-1] == 1:
            y_true = _squeeze_last(y_true)
    return y_true, y_pred


def _fit_weight_rank(w, ndim):
    """Squeezes or expands the last axis of `w` when its rank is one off."""
    if w.ndim == 0:
        return w
    if w.ndim - ndim == 1 and w.shape[-1] == 1:
        return _squeeze_last(w)
    if ndim - w.ndim == 1:
        return w.reshape(w.shape + (1,))
    return w


def _broadcastable(w_shape, v_shape) -> bool:
    """tf.keras 2's `broadcast_weights` rule: a scalar, or the same rank with
    every axis either 1 or equal."""
    if len(w_shape) == 0:
        return True
    return len(w_shape) == len(v_shape) and all(
        a == b or a == 1 for a, b in zip(w_shape, v_shape))


def _divide_no_nan(a, b):
    """`a / b`, and 0 where `b == 0` (no warning, no NaN)."""
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 0 and b.ndim == 0:
        # A running mean's state on the host (`fit` reads one per metric
        # every epoch): NumPy's scalar arithmetic rounds as the ufuncs do,
        # in a fraction of the time of five of them.
        den = b[()]
        if den != 0:
            return np.asarray(a[()] / den)
        # Integer state divides to float64 (true division), as in tf.keras 2.
        return np.zeros((), dtype=np.result_type(a.dtype, b.dtype)
                        if a.dtype.kind == "f" else np.float64)
    xp = _xp()
    zero = b == 0
    safe = xp.where(zero, xp.ones_like(b), b)
    return xp.where(zero, xp.zeros_like(a), a / safe)


def _result_tensor(data) -> Tensor:
    return Tensor(data)


# -- validation -------------------------------------------------------------------
def _check_int(value, name, owner, minimum=0, allow_none=True):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(
            f"{owner} expects `{name}` to be an integer >= {minimum}"
            f"{' or None' if allow_none else ''}. Received: {name}={value!r}"
        )
    return int(value)


def _check_real(value, name, owner):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{owner} expects `{name}` to be a finite number. "
                         f"Received: {name}={value!r}")
    return float(value)


def _parse_thresholds(thresholds, default, owner):
    """tf.keras 2's `parse_init_thresholds`: a list of floats in [0, 1]."""
    if thresholds is None:
        return [float(default)]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) \
        else [thresholds]
    if not values:
        raise ValueError(f"{owner} expects at least one threshold. Received: thresholds=[]")
    bad = [t for t in values
           if isinstance(t, bool) or not isinstance(t, numbers.Real) or not 0 <= t <= 1]
    if bad:
        raise ValueError(f"{owner}: threshold values must be in [0, 1]. Invalid values: {bad}. "
                         f"Received: thresholds={thresholds!r}")
    return [float(t) for t in values]


def _evenly_distributed(thresholds) -> bool:
    """tf.keras 2's `is_evenly_distributed_thresholds`."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


def _json_ready(value):
    """Config values as plain Python (tuples become lists)."""
    if isinstance(value, tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    return value


def _state_dtype(dtype, cls) -> np.dtype:
    """The state dtype a metric class accepts, as tf.keras 2 does: a float
    dtype for every metric; also int32/int64 for the means and sums of
    exact values (`_integer_state`), whose result tf.keras 2 then gives as
    float64 (a mean) or in the integer dtype (`Sum`)."""
    owner = cls.__name__
    if isinstance(dtype, str) and dtype == "bfloat16":
        raise ValueError(f"{owner}: bfloat16 has no NumPy or CuPy dtype; use 'float16', "
                         f"'float32' or 'float64'. Received: dtype={dtype!r}")
    try:
        np_dtype = np.dtype(dtype or _backend.floatx())
    except TypeError as err:
        raise ValueError(f"{owner}: unknown dtype. Received: dtype={dtype!r}") from err
    if np_dtype.kind == "f" or (np_dtype.kind in "iu" and cls._integer_state):
        return np_dtype
    kinds = "a floating or integer" if cls._integer_state else "a floating"
    raise ValueError(f"{owner} expects {kinds} dtype for its state (as tf.keras 2, where "
                     f"this metric fails on integer state). Received: dtype={dtype!r}")


# -- the base class -----------------------------------------------------------------
class Metric:
    """Base class of metrics: state, `update_state`, `result`, `reset_state`.

    Subclasses create their state in `__init__` with `add_weight`, update it
    in place in `update_state`, and compute the value in `result` without
    reading anything back to the host.

    Args:
        name: the metric's name (the key in `fit`'s logs). `None` gives the
            snake-case class name, made unique (`auc`, `auc_1`, ...), as in
            tf.keras 2.
        dtype: dtype of the state and the result; `floatx()` (float32) by
            default. `Mean`, `Sum` and the means of exact values
            (`Accuracy`, `BinaryAccuracy`, `CategoricalAccuracy`,
            `SparseCategoricalAccuracy`, `MeanSquaredError`,
            `MeanAbsoluteError`, `RootMeanSquaredError`) also take
            `"int32"`/`"int64"`, as tf.keras 2 does: inputs and weights are
            then truncated to integers and a mean comes out as float64.

    Example (tf.keras 2's custom-metric example):
        >>> from kerasette import ops
        >>> class BinaryTruePositives(Metric):
        ...     def __init__(self, name="binary_true_positives", **kwargs):
        ...         super().__init__(name=name, **kwargs)
        ...         self.true_positives = self.add_weight(name="tp", initializer="zeros")
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         y_true = ops.convert_to_tensor(y_true)
        ...         y_pred = ops.convert_to_tensor(y_pred)
        ...         values = ops.cast(ops.equal(y_true, 1) * ops.equal(y_pred, 1), "float32")
        ...         self.true_positives.assign_add(ops.sum(values))
        ...     def result(self):
        ...         return self.true_positives
        >>> m = BinaryTruePositives()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> float(m.result())
        2.0
    """

    # Whether `dtype` may be an integer dtype (see `_state_dtype`).
    _integer_state = False

    def __init__(self, name: str | None = None, dtype=None):
        if name is None:
            name = unique_name(to_snake_case(type(self).__name__))
        if not isinstance(name, str) or not name:
            raise ValueError(f"{type(self).__name__} expects `name` to be a non-empty string. "
                             f"Received: name={name!r}")
        np_dtype = _state_dtype(dtype, type(self))
        self.name = name
        self._np_dtype = np_dtype
        self._variables: list[Variable] = []

    # -- properties ------------------------------------------------------------------
    @property
    def dtype(self) -> str:
        """The dtype of the state and the result, as a name (`"float32"`)."""
        return self._np_dtype.name

    @property
    def variables(self) -> list[Variable]:
        """The state variables, in creation order."""
        return list(self._variables)

    @property
    def weights(self) -> list[Variable]:
        """tf.keras 2's other name for `variables`."""
        return self.variables

    # -- state -----------------------------------------------------------------------
    def add_weight(self, name: str, shape=(), initializer="zeros", dtype=None) -> Variable:
        """Creates a zero-initialised, non-trainable state variable.

        Args:
            name: the variable's name (`"total"` becomes `"total:0"`).
            shape: the variable's shape.
            initializer: only `"zeros"` (what every built-in metric uses).
            dtype: the variable's dtype; the metric's by default.

        Returns:
            The new `Variable`.
        """
        if initializer not in ("zeros", None):
            raise ValueError(f"Metric state is initialised with zeros. "
                             f"Received: initializer={initializer!r}")
        dt = np.dtype(dtype) if dtype is not None else self._np_dtype
        value = _xp().zeros(tuple(shape), dtype=dt)
        var = Variable(value, trainable=False, name=f"{name}:0", dtype=dt)
        self._variables.append(var)
        return var

    def update_state(self, *args, **kwargs) -> None:
        """Accumulates statistics from one batch (implemented by subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must implement update_state().")

    def result(self) -> Tensor:
        """The metric's value from the state so far (implemented by subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def reset_state(self) -> None:
        """Sets every state variable back to zero (between epochs)."""
        for v in self._variables:
            v.data[...] = 0

    def reset_states(self) -> None:
        """The tf.keras 2.0-2.4 spelling of `reset_state`."""
        self.reset_state()

    def merge_state(self, metrics) -> None:
        """Adds the state of other metrics of the same kind into this one."""
        xp = _xp()
        for other in metrics:
            if len(other.variables) != len(self._variables) or any(
                    a.shape != b.shape for a, b in zip(self._variables, other.variables)):
                raise ValueError(f"Metric {other!r} is not compatible with {self!r}.")
            for mine, theirs in zip(self._variables, other.variables):
                xp.add(mine.data, theirs.data, out=mine.data)

    def __call__(self, *args, **kwargs) -> Tensor:
        """Updates the state with one batch, then returns `result()`."""
        self.update_state(*args, **kwargs)
        return self.result()

    # -- config ----------------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments, as JSON-ready values."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        """Rebuilds a metric from `get_config()`'s dict."""
        return cls(**dict(config))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


# -- reductions -----------------------------------------------------------------------
class _Reduce(Metric):
    """Running `sum` or weighted `mean` of values (tf.keras 2's `Reduce`)."""

    _reduction = "weighted_mean"
    _integer_state = True

    def __init__(self, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_weight("total")
        if self._reduction != "sum":
            self.count = self.add_weight("count")

    def _accumulate(self, values, sample_weight=None) -> None:
        xp = _xp()
        values = _device(values, self._np_dtype)
        if xp is np and self._np_dtype.kind == "f" and (
                sample_weight is None or type(sample_weight) is float):
            # The host's per-batch case (the loss tracker, an accuracy): the
            # ufuncs below in fewer calls, and without NumPy scalars (NumPy
            # keeps some freed scalars for reuse, and a stream of them made
            # here showed as memory creeping up over many epochs): a 0-d
            # value is weighted into a scratch array, a batch is summed with
            # `keepdims`, both added in place.
            total = self.total.data
            if sample_weight is not None:
                scratch = None if values.ndim else self._host_scratch(values.dtype)
                values_w = np.multiply(values, sample_weight, out=scratch)
            else:
                values_w = values
            if values_w.ndim:
                values_w = values_w.sum(keepdims=True).reshape(())
            np.add(total, values_w, out=total)
            if self._reduction != "sum":
                count_inc = values.size if sample_weight is None else sample_weight * values.size
                np.add(self.count.data, count_inc, out=self.count.data)
            return
        if sample_weight is None:
            total_inc = xp.sum(values)
            count_inc = values.size
        elif isinstance(sample_weight, numbers.Real) and not isinstance(sample_weight, bool):
            # A Python number stays on the host: no transfer for the weight
            # `fit` gives its loss tracker every batch.
            w = float(sample_weight) if self._np_dtype.kind == "f" else int(sample_weight)
            total_inc = xp.sum(values * w)
            count_inc = w * values.size
        else:
            w = _fit_weight_rank(_device(sample_weight, self._np_dtype), values.ndim)
            if not _broadcastable(w.shape, values.shape):
                if w.ndim < values.ndim and _broadcastable(w.shape, values.shape[:w.ndim]):
                    # tf.keras 2 reduces values down to the weight's rank.
                    axes = tuple(range(w.ndim, values.ndim))
                    reduce = xp.sum if self._reduction == "sum" else xp.mean
                    values = reduce(values, axis=axes)
                else:
                    raise ValueError(
                        f"{self.name}: sample_weight of shape {tuple(w.shape)} cannot be "
                        f"broadcast to the values of shape {tuple(values.shape)}. Pass one "
                        "weight per sample, shape (batch,) or (batch, 1)."
                    )
            w = xp.broadcast_to(w, values.shape)
            total_inc = xp.sum(values * w)
            count_inc = xp.sum(w)
        xp.add(self.total.data, total_inc, out=self.total.data)
        if self._reduction != "sum":
            xp.add(self.count.data, count_inc, out=self.count.data)

    def _host_scratch(self, dtype):
        scratch = self.__dict__.get("_scratch")
        if scratch is None or scratch.dtype != dtype:
            scratch = self.__dict__["_scratch"] = np.zeros((), dtype=dtype)
        return scratch

    def _host_weighted_adder(self):
        """For `fit`'s loss tracker on the host: a function `add(value,
        weight)` that is `update_state(value, sample_weight=weight)` for a
        0-d float value (array or NumPy scalar) of the state's dtype and a
        Python float weight, as the three in-place ufuncs `_accumulate`
        runs for them, without its dispatch; None where `_accumulate` takes
        another path (a device backend, an integer state, a sum)."""
        if (_xp() is not np or self._np_dtype.kind != "f" or self._reduction == "sum"
                or type(self).update_state is not _Reduce.update_state
                or type(self)._accumulate is not _Reduce._accumulate):
            return None
        scratch = self._host_scratch(self._np_dtype)
        multiply, add = np.multiply, np.add

        def add_weighted(value, weight):
            # `_accumulate`'s host case: value * weight into the scratch,
            # added to the total; the count grows by weight * value.size (1).
            # The state is looked up each time: a restore may replace it.
            total, count = self.total.data, self.count.data
            add(total, multiply(value, weight, out=scratch), out=total)
            add(count, weight, out=count)

        return add_weighted

    def update_state(self, values, sample_weight=None) -> None:
        """Adds `values` (weighted by `sample_weight`) to the running state.

        Args:
            values: a tensor, array or number of any shape.
            sample_weight: `None`, a number, or weights broadcastable to
                `values` after tf.keras 2's squeeze/expand of the last axis
                (`(batch,)` and `(batch, 1)` both work for `(batch,)` values).
        """
        self._accumulate(values, sample_weight)

    def result(self) -> Tensor:
        if self._reduction == "sum":
            return _result_tensor(self.total.data.copy())
        return _result_tensor(_divide_no_nan(self.total.data, self.count.data))


class Sum(_Reduce):
    """The running (weighted) sum of the values.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = Sum()
        >>> m.update_state([1, 3, 5, 7])
        >>> float(m.result())
        16.0
    """

    _reduction = "sum"

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)


class Mean(_Reduce):
    """The running (weighted) mean of the values: `sum(values * w) / sum(w)`.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = Mean()
        >>> m.update_state([1, 3, 5, 7])
        >>> float(m.result())
        4.0
        >>> m.reset_state()
        >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
        >>> float(m.result())
        2.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)


def _fn_name(fn) -> str:
    """The name a metric function is serialized under."""
    try:
        return _FUNCTION_NAMES[fn]
    except (KeyError, TypeError):  # TypeError: an unhashable callable object
        pass
    registered = getattr(fn, "_registered_name", None)
    if registered:
        return registered
    name = getattr(fn, "__name__", None)
    if not name or name == "<lambda>":
        raise ValueError(f"Metric function {fn!r} cannot be serialized: it has no name. Use a "
                         "named function registered with kerasette.saving.register_serializable.")
    return name


class MeanMetricWrapper(Mean):
    """The running weighted mean of a per-sample function `fn(y_true, y_pred)`.

    Before calling `fn`, both inputs are cast to the metric's dtype and a
    trailing axis of size 1 is squeezed when their ranks differ by one, as
    in tf.keras 2.

    Args:
        fn: a function of `(y_true, y_pred, **kwargs)` returning per-sample
            values (a tensor).
        name: the metric's name.
        dtype: dtype of the state and the result.
        **kwargs: extra arguments for `fn` (saved in the config).

    Example:
        >>> m = MeanMetricWrapper(mean_absolute_error, name="mae")
        >>> m.update_state([[0.0, 1.0]], [[1.0, 1.0]])
        >>> float(m.result())
        0.5
    """

    def __init__(self, fn: Callable, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper expects a callable `fn`. Received: fn={fn!r}")
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds the per-sample values of one batch to the running mean.

        Args:
            y_true: the labels.
            y_pred: the predictions.
            sample_weight: `None`, a number, or per-sample weights of shape
                `(batch,)` or `(batch, 1)` (or broadcastable to `fn`'s values).
        """
        yt = _device(y_true, self._np_dtype)
        yp = _device(y_pred, self._np_dtype)
        yt, yp = _squeeze_pair(yt, yp)
        pred = Tensor(yp)
        # As in tf.keras 2 (where casting to the same dtype is the identity),
        # an unchanged softmax/sigmoid output keeps its logits, so a
        # cross-entropy metric takes the stable path.
        if isinstance(y_pred, Tensor) and y_pred._keras_logits is not None and yp is y_pred.data:
            pred._keras_logits = Tensor(y_pred._keras_logits.data)
        values, mask = self._values_and_mask(Tensor(yt), pred)
        if mask is not None:
            sample_weight = self._masked_weight(values, sample_weight, mask)
        self._accumulate(values, sample_weight)

    def _values_and_mask(self, y_true: Tensor, y_pred: Tensor):
        """`(per-sample values, mask of the values that count or None)`."""
        return self._fn(y_true, y_pred, **self._fn_kwargs), None

    def _host_hits_updater(self, y, pred):
        """For the direct training step on the host: a function
        `update(y, pred)` that leaves the state exactly as
        `update_state(y, pred)` (unweighted) would, for batches of the
        shapes and dtypes of host arrays `y` and `pred`, or None.

        It serves the accuracies `compile(metrics=["accuracy"])` resolves
        to, whose per-sample values are 0 or 1: their sum is the number of
        hits, an integer the state's float dtype holds exactly (below 2**24
        values a batch), so adding the count of hits (`_hits`) gives the
        bits that summing the 0/1 values gives, without making them.
        """
        kind = _HOST_HITS.get(self._fn)
        dtype = self._np_dtype
        if (kind is None or type(self).update_state is not MeanMetricWrapper.update_state
                or type(self)._values_and_mask is not MeanMetricWrapper._values_and_mask
                or type(self)._accumulate is not _Reduce._accumulate
                or _xp() is not np or type(y) is not np.ndarray or type(pred) is not np.ndarray
                or dtype.kind != "f" or dtype.itemsize < 4 or pred.dtype != dtype
                or pred.ndim != 2 or y.size >= 2 ** 24 or pred.shape[-1] >= 2 ** 24
                or not _hits_exact(kind, y.dtype, dtype)):
            return None
        n = pred.shape[0]
        # The rank-matched labels `CompiledMetrics` passes: `(batch, 1)` class
        # ids, else the prediction's shape (one value per sample for the
        # per-sample means, per element for `BinaryAccuracy`).
        if (y.shape != ((n, 1) if kind == "sparse" else pred.shape)
                or (kind == "binary_mean" and pred.shape[-1] != 1)):
            return None
        kwargs, add = self._fn_kwargs, np.add
        per_sample = kind != "binary"
        hits = np.zeros((), dtype=dtype)

        def update(y, pred):
            total, count = self.total.data, self.count.data
            add(total, _hits(kind, y, pred, kwargs, hits), out=total)
            add(count, pred.shape[0] if per_sample else y.size, out=count)

        return update

    def _masked_weight(self, values, sample_weight, mask):
        """tf.keras 2's `apply_valid_mask` for a weighted mean: the masked
        values weigh 0, so they count in neither the total nor the count."""
        mask = _device(mask, self._np_dtype)
        if sample_weight is None:
            return mask
        if isinstance(sample_weight, numbers.Real) and not isinstance(sample_weight, bool):
            return mask * (float(sample_weight) if self._np_dtype.kind == "f"
                           else int(sample_weight))
        w = _fit_weight_rank(_device(sample_weight, self._np_dtype), mask.ndim)
        if not _broadcastable(w.shape, mask.shape):
            raise ValueError(f"{self.name}: sample_weight of shape {tuple(w.shape)} cannot be "
                             f"broadcast to the values of shape {tuple(mask.shape)}. Pass one "
                             "weight per sample, shape (batch,) or (batch, 1).")
        return w * mask

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({k: _json_ready(v) for k, v in self._fn_kwargs.items()})
        if type(self) is MeanMetricWrapper:
            config["fn"] = _fn_name(self._fn)
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        fn = config.pop("fn", None)
        if cls is MeanMetricWrapper:
            if isinstance(fn, str):
                fn = get(fn)
            return cls(fn, **config)
        return cls(**config)


# -- per-sample functions -------------------------------------------------------------
def _binary_matches(y_true, y_pred, threshold=0.5):
    yt, yp = _squeeze_pair(_device(y_true), _device(y_pred))
    yp = _floating(yp)
    pred = (yp > float(threshold)).astype(yp.dtype)
    return (yt == pred).astype(_backend.floatx())


def _binary_matches_fn(y_true, y_pred, threshold=0.5) -> Tensor:
    return Tensor(_binary_matches(y_true, y_pred, threshold))


def accuracy(y_true, y_pred) -> Tensor:
    """Exact equality of labels and predictions, averaged over the last axis.

    This is tf.keras 2's `accuracy` function (what `get("accuracy")` gives):
    it does not threshold or argmax. `compile(metrics=["accuracy"])` picks
    binary, categorical or sparse accuracy instead (`get_accuracy_metric`).

    Args:
        y_true: labels.
        y_pred: predictions of the same shape.

    Returns:
        A tensor of shape `y_true.shape[:-1]`.

    Example:
        >>> accuracy([[1], [2], [3], [4]], [[0], [2], [3], [4]]).numpy().tolist()
        [0.0, 1.0, 1.0, 1.0]
    """
    xp = _xp()
    yt, yp = _squeeze_pair(_device(y_true), _device(y_pred))
    matches = (yt == yp).astype(_backend.floatx())
    return Tensor(xp.mean(matches, axis=-1))


def _accuracy_matches(y_true, y_pred) -> Tensor:
    """Element-by-element equality (tf.keras 2's `Accuracy` fn): keeping
    every element lets per-element weights count each one."""
    yt, yp = _squeeze_pair(_device(y_true), _device(y_pred))
    if yp.dtype != yt.dtype:
        yp = yp.astype(yt.dtype)
    return Tensor((yt == yp).astype(_backend.floatx()))


def binary_accuracy(y_true, y_pred, threshold=0.5) -> Tensor:
    """How often `y_pred > threshold` equals the 0/1 label, per sample.

    Args:
        y_true: 0/1 labels, shape `(batch, d)` (or `(batch,)`).
        y_pred: probabilities (or scores, with a matching `threshold`).
        threshold: predictions above it count as 1.

    Returns:
        The mean over the last axis: shape `(batch,)` for `(batch, d)` inputs.

    Example:
        >>> binary_accuracy([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]).numpy().tolist()
        [1.0, 1.0, 1.0, 0.0]
    """
    return Tensor(_xp().mean(_binary_matches(y_true, y_pred, threshold), axis=-1))


def _sparse_categorical_matches(yt, yp):
    """tf.keras 2's `sparse_categorical_matches` on backend arrays."""
    xp = _xp()
    original_shape = yt.shape
    reshape = False
    if yt.ndim == yp.ndim:
        if yt.shape[-1] != 1:
            raise ValueError(
                "Sparse categorical accuracy expects integer labels of shape (batch,) or "
                f"(batch, 1). Received y_true of shape {tuple(yt.shape)} with y_pred of shape "
                f"{tuple(yp.shape)}; for one-hot labels use categorical accuracy."
            )
        yt = _squeeze_last(yt)
        reshape = True
    pred = xp.argmax(yp, axis=-1)
    if pred.dtype != yt.dtype:
        pred = pred.astype(yt.dtype)
    matches = (yt == pred).astype(_backend.floatx())
    if reshape:
        matches = matches.reshape(original_shape)
    return matches


def _hits_exact(kind, label_dtype, state_dtype) -> bool:
    """Whether comparing labels of `label_dtype` as they are picks the same
    hits as comparing them cast to the metric's `state_dtype` (what
    `MeanMetricWrapper.update_state` does): a safe cast keeps every value;
    for the class-id and 0/1 comparisons any integer does too (one of more
    than 2**24 in magnitude casts to a float at least that large, which
    equals no class id below 2**24, nor 0 or 1). One-hot labels go through
    an arg-max, which a rounding cast could change: safe casts only."""
    if np.can_cast(label_dtype, state_dtype):
        return True
    return kind != "categorical" and label_dtype.kind in "iu"


def _hits(kind, y, pred, kwargs, out):
    """The number of 0/1 values of one batch that are 1, for
    `MeanMetricWrapper._host_hits_updater`: the matches of
    `sparse_categorical_accuracy`, `categorical_accuracy`,
    `binary_accuracy` and `BinaryAccuracy`, on host arrays, written into
    the 0-d array `out` of the state's dtype (the sum of the 0/1 values; no
    NumPy scalar is made: NumPy keeps some freed ones, which shows as memory
    creeping up)."""
    if kind == "sparse":
        # `_sparse_categorical_matches`: the label against the arg-max.
        hits = y.reshape(-1) == pred.argmax(axis=-1)
    elif kind == "categorical":
        hits = y.argmax(axis=-1) == pred.argmax(axis=-1)
    else:
        # `_binary_matches`: the label against the thresholded prediction
        # (the comparison with booleans is the one with their 0/1 cast).
        hits = y == (pred > float(kwargs.get("threshold", 0.5)))
    return np.add.reduce(hits, axis=None, dtype=out.dtype, out=out)


def categorical_accuracy(y_true, y_pred) -> Tensor:
    """Whether the arg-max of `y_pred` is the arg-max of the one-hot `y_true`.

    Args:
        y_true: one-hot labels, shape `(batch, classes)`.
        y_pred: scores of the same shape (probabilities or logits).

    Returns:
        A tensor of 0/1 values of shape `(batch,)`.

    Example:
        >>> categorical_accuracy([[0, 0, 1], [0, 1, 0]],
        ...                      [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]).numpy().tolist()
        [0.0, 1.0]
    """
    xp = _xp()
    return Tensor(_sparse_categorical_matches(xp.argmax(_device(y_true), axis=-1),
                                              _device(y_pred)))


def sparse_categorical_accuracy(y_true, y_pred) -> Tensor:
    """Whether the arg-max of `y_pred` equals the integer label.

    Args:
        y_true: integer (or integral float) labels, shape `(batch,)` or
            `(batch, 1)`.
        y_pred: scores, shape `(batch, classes)`.

    Returns:
        A tensor of 0/1 values of the shape of `y_true` (tf.keras 2 keeps a
        `(batch, 1)` label shape).

    Example:
        >>> sparse_categorical_accuracy([[2], [1]],
        ...                             [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]).numpy().tolist()
        [[0.0], [1.0]]
    """
    return Tensor(_sparse_categorical_matches(_device(y_true), _device(y_pred)))


def _in_top_k(targets, predictions, k):
    """tf.math.in_top_k: the target is in the top `k` when fewer than `k`
    classes score strictly higher (ties straddling the boundary count as in);
    out-of-range targets and rows with non-finite scores give False."""
    xp = _xp()
    num_classes = predictions.shape[-1]
    targets = targets.astype(xp.int64)
    valid = (targets >= 0) & (targets < num_classes)
    safe = xp.clip(targets, 0, num_classes - 1)
    target_score = xp.take_along_axis(predictions, safe[:, None], axis=-1)[:, 0]
    higher = xp.sum(predictions > target_score[:, None], axis=-1)
    finite = xp.all(xp.isfinite(predictions), axis=-1)
    return (higher < k) & valid & finite


def _sparse_top_k_matches(yt, yp, k):
    original_shape = yt.shape
    reshape = False
    if yp.ndim > 2:
        yp = yp.reshape(-1, yp.shape[-1])
    if yt.ndim > 1:
        reshape = True
        yt = yt.reshape(-1)
    matches = _in_top_k(yt, yp, k).astype(_backend.floatx())
    if reshape:
        matches = matches.reshape(original_shape)
    return matches


def top_k_categorical_accuracy(y_true, y_pred, k=5) -> Tensor:
    """Whether the one-hot label's class is among the `k` highest scores.

    Args:
        y_true: one-hot labels, shape `(batch, classes)`.
        y_pred: scores of the same shape.
        k: how many of the highest scores count.

    Returns:
        A tensor of 0/1 values of shape `(batch,)`.

    Example:
        >>> top_k_categorical_accuracy([[0, 0, 1], [0, 1, 0]],
        ...                            [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], k=1).numpy().tolist()
        [0.0, 1.0]
    """
    k = _check_int(k, "k", "top_k_categorical_accuracy", minimum=1, allow_none=False)
    xp = _xp()
    return Tensor(_sparse_top_k_matches(xp.argmax(_device(y_true), axis=-1),
                                        _floating(_device(y_pred)), k))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5) -> Tensor:
    """Whether the integer label is among the `k` highest scores.

    Args:
        y_true: integer labels, shape `(batch,)` or `(batch, 1)`.
        y_pred: scores, shape `(batch, classes)`.
        k: how many of the highest scores count.

    Returns:
        A tensor of 0/1 values of the shape of `y_true`.

    Example:
        >>> sparse_top_k_categorical_accuracy(
        ...     [2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]], k=1).numpy().tolist()
        [0.0, 1.0]
    """
    k = _check_int(k, "k", "sparse_top_k_categorical_accuracy", minimum=1, allow_none=False)
    return Tensor(_sparse_top_k_matches(_device(y_true), _floating(_device(y_pred)), k))


def _regression_pair(y_true, y_pred):
    yp = _floating(_device(y_pred))
    yt = _device(y_true, yp.dtype)
    return yt, yp


def mean_squared_error(y_true, y_pred) -> Tensor:
    """`mean((y_pred - y_true) ** 2)` over the last axis, per sample.

    Args:
        y_true: targets.
        y_pred: predictions of the same shape.

    Returns:
        A tensor of shape `y_pred.shape[:-1]`.

    Example:
        >>> mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]]).numpy().tolist()
        [0.5]
    """
    xp = _xp()
    yt, yp = _regression_pair(y_true, y_pred)
    return Tensor(xp.mean(xp.square(yp - yt), axis=-1))


def mean_absolute_error(y_true, y_pred) -> Tensor:
    """`mean(|y_pred - y_true|)` over the last axis, per sample.

    Args:
        y_true: targets.
        y_pred: predictions of the same shape.

    Returns:
        A tensor of shape `y_pred.shape[:-1]`.

    Example:
        >>> mean_absolute_error([[0.0, 1.0]], [[1.0, 1.0]]).numpy().tolist()
        [0.5]
    """
    xp = _xp()
    yt, yp = _regression_pair(y_true, y_pred)
    return Tensor(xp.mean(xp.abs(yp - yt), axis=-1))


def mean_absolute_percentage_error(y_true, y_pred) -> Tensor:
    """`100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))`, per sample.

    Args:
        y_true: targets.
        y_pred: predictions of the same shape.

    Returns:
        A tensor of shape `y_pred.shape[:-1]`.

    Example:
        >>> mean_absolute_percentage_error([[2.0, 4.0]], [[1.0, 5.0]]).numpy().tolist()
        [37.5]
    """
    xp = _xp()
    yt, yp = _regression_pair(y_true, y_pred)
    diff = xp.abs((yt - yp) / xp.maximum(xp.abs(yt), EPSILON))
    return Tensor(100.0 * xp.mean(diff, axis=-1))


def mean_squared_logarithmic_error(y_true, y_pred) -> Tensor:
    """`mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)) ** 2)`.

    Args:
        y_true: targets.
        y_pred: predictions of the same shape.

    Returns:
        A tensor of shape `y_pred.shape[:-1]`.

    Example:
        >>> round(float(mean_squared_logarithmic_error([[0.0, 1.0]], [[1.0, 1.0]])[0]), 5)
        0.24023
    """
    xp = _xp()
    yt, yp = _regression_pair(y_true, y_pred)
    first = xp.log(xp.maximum(yp, EPSILON) + 1.0)
    second = xp.log(xp.maximum(yt, EPSILON) + 1.0)
    return Tensor(xp.mean(xp.square(first - second), axis=-1))


# tf.keras 2's short names are the same functions.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error


def _losses():
    try:
        from kerasette import losses
    except ImportError as err:  # pragma: no cover - depends on the build
        raise ImportError("Cross-entropy metrics use kerasette.losses, which is not "
                          "available in this build.") from err
    return losses


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0,
                        axis=-1) -> Tensor:
    """Per-sample binary cross-entropy; `kerasette.losses.binary_crossentropy`.

    Args:
        y_true: 0/1 labels.
        y_pred: probabilities (or logits with `from_logits=True`).
        from_logits: whether `y_pred` holds logits.
        label_smoothing: squeezes the labels towards 0.5.
        axis: the axis averaged over.

    Returns:
        A tensor of per-sample losses.
    """
    return _losses().binary_crossentropy(y_true, y_pred, from_logits=from_logits,
                                         label_smoothing=label_smoothing, axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0,
                             axis=-1) -> Tensor:
    """Per-sample categorical cross-entropy; `kerasette.losses.categorical_crossentropy`.

    Args:
        y_true: one-hot labels.
        y_pred: probabilities (or logits with `from_logits=True`).
        from_logits: whether `y_pred` holds logits.
        label_smoothing: mixes the labels with the uniform distribution.
        axis: the class axis.

    Returns:
        A tensor of per-sample losses.
    """
    return _losses().categorical_crossentropy(y_true, y_pred, from_logits=from_logits,
                                              label_smoothing=label_smoothing, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1,
                                    ignore_class=None) -> Tensor:
    """Per-sample sparse categorical cross-entropy;
    `kerasette.losses.sparse_categorical_crossentropy`.

    Args:
        y_true: integer labels.
        y_pred: probabilities (or logits with `from_logits=True`).
        from_logits: whether `y_pred` holds logits.
        axis: the class axis.
        ignore_class: a label whose samples count as zero loss.

    Returns:
        A tensor of per-sample losses.
    """
    kwargs = {"from_logits": from_logits, "axis": axis}
    if ignore_class is not None:
        kwargs["ignore_class"] = ignore_class
    return _losses().sparse_categorical_crossentropy(y_true, y_pred, **kwargs)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0,
                              axis=-1) -> Tensor:
    """Per-sample binary focal cross-entropy;
    `kerasette.losses.binary_focal_crossentropy`."""
    return _losses().binary_focal_crossentropy(
        y_true, y_pred, apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
        from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1) -> Tensor:
    """Per-sample categorical focal cross-entropy;
    `kerasette.losses.categorical_focal_crossentropy`."""
    return _losses().categorical_focal_crossentropy(
        y_true, y_pred, alpha=alpha, gamma=gamma, from_logits=from_logits,
        label_smoothing=label_smoothing, axis=axis)


def hinge(y_true, y_pred) -> Tensor:
    """Per-sample hinge loss; `kerasette.losses.hinge`.

    Example:
        >>> round(float(hinge([[0.0, 1.0]], [[0.6, 0.4]])[0]), 4)
        1.1
    """
    return _losses().hinge(y_true, y_pred)


def squared_hinge(y_true, y_pred) -> Tensor:
    """Per-sample squared hinge loss; `kerasette.losses.squared_hinge`."""
    return _losses().squared_hinge(y_true, y_pred)


def _categorical_hinge(y_true, y_pred) -> Tensor:
    return _losses().categorical_hinge(y_true, y_pred)


def kl_divergence(y_true, y_pred) -> Tensor:
    """Per-sample Kullback-Leibler divergence; `kerasette.losses.kl_divergence`."""
    return _losses().kl_divergence(y_true, y_pred)


def poisson(y_true, y_pred) -> Tensor:
    """Per-sample Poisson loss; `kerasette.losses.poisson`."""
    return _losses().poisson(y_true, y_pred)


def log_cosh(y_true, y_pred) -> Tensor:
    """Per-sample `log(cosh(y_pred - y_true))`, averaged over the last axis;
    `kerasette.losses.log_cosh`."""
    return _losses().log_cosh(y_true, y_pred)


def _cosine_similarity(y_true, y_pred, axis=-1) -> Tensor:
    """tf.keras 2's metric `cosine_similarity`: the (positive) cosine of the
    angle between the L2-normalised vectors, the loss's negative."""
    return ops.negative(_losses().cosine_similarity(y_true, y_pred, axis=axis))


kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh


# -- accuracy and regression metric classes ---------------------------------------------
class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly (tf.keras 2's `Accuracy`).

    Elements are compared one by one, so `sample_weight` may give one weight
    per sample (`(batch,)`, `(batch, 1)`) or one per element.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = Accuracy()
        >>> m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
        >>> float(m.result())
        0.75
        >>> m.reset_state()
        >>> m.update_state([[1, 2], [3, 4]], [[1, 0], [3, 4]], sample_weight=[[1, 3], [1, 1]])
        >>> float(m.result())
        0.5
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(_accuracy_matches, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often `y_pred > threshold` matches the 0/1 label.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.
        threshold: predictions above it count as 1.

    Example:
        >>> m = BinaryAccuracy()
        >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
        >>> float(m.result())
        0.75
        >>> m.reset_state()
        >>> m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]],
        ...                sample_weight=[1, 0, 0, 1])
        >>> float(m.result())
        0.5
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        threshold = _check_real(threshold, "threshold", "BinaryAccuracy")
        # tf.keras 2 averages element matches (not per-sample means) here.
        super().__init__(_binary_matches_fn, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of `y_pred` matches the one-hot label.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = CategoricalAccuracy()
        >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
        ...                sample_weight=[0.7, 0.3])
        >>> round(float(m.result()), 6)
        0.3
    """

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of `y_pred` matches the integer label.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = SparseCategoricalAccuracy()
        >>> m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
        >>> float(m.result())
        0.5
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the `k` highest scores.

    Args:
        k: how many of the highest scores count.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = TopKCategoricalAccuracy(k=1)
        >>> m.update_state([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
        >>> float(m.result())
        0.5
    """

    _integer_state = False  # tf.keras 2 fails on integer state here

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        k = _check_int(k, "k", "TopKCategoricalAccuracy", minimum=1, allow_none=False)
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the `k` highest scores.

    Args:
        k: how many of the highest scores count.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = SparseTopKCategoricalAccuracy(k=1)
        >>> m.update_state([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
        >>> float(m.result())
        0.5
    """

    _integer_state = False  # tf.keras 2 fails on integer state here

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        k = _check_int(k, "k", "SparseTopKCategoricalAccuracy", minimum=1, allow_none=False)
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k)


class MeanSquaredError(MeanMetricWrapper):
    """The running mean of `mean_squared_error`.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = MeanSquaredError()
        >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> float(m.result())
        0.25
    """

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The running mean of `mean_absolute_error`.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = MeanAbsoluteError()
        >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]], sample_weight=[1, 0])
        >>> float(m.result())
        0.5
    """

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The running mean of `mean_absolute_percentage_error`.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = MeanAbsolutePercentageError()
        >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> float(m.result())
        250000000.0
    """

    _integer_state = False  # tf.keras 2 fails on integer state here

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """The running mean of `mean_squared_logarithmic_error`.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = MeanSquaredLogarithmicError()
        >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> round(float(m.result()), 6)
        0.120113
    """

    _integer_state = False  # tf.keras 2 fails on integer state here

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """`sqrt` of the running weighted mean of the squared errors.

    The mean is over every element (not per-sample means), as in tf.keras 2.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = RootMeanSquaredError()
        >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]])
        >>> float(m.result())
        0.5
        >>> m.reset_state()
        >>> m.update_state([[0, 1], [0, 0]], [[1, 1], [0, 0]], sample_weight=[1, 0])
        >>> round(float(m.result()), 6)
        0.707107
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds the squared errors of one batch.

        Args:
            y_true: targets.
            y_pred: predictions.
            sample_weight: optional per-sample weights.
        """
        xp = _xp()
        yt, yp = _squeeze_pair(_device(y_true, self._np_dtype), _device(y_pred, self._np_dtype))
        self._accumulate(xp.square(yp - yt), sample_weight)

    def result(self) -> Tensor:
        return _result_tensor(_xp().sqrt(_divide_no_nan(self.total.data, self.count.data)))


class BinaryCrossentropy(MeanMetricWrapper):
    """The running mean of the binary cross-entropy (`kerasette.losses`).

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.
        from_logits: whether predictions are logits.
        label_smoothing: squeezes the labels towards 0.5.
    """

    _integer_state = False  # tf.keras 2 fails on integer state here

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(binary_crossentropy, name=name, dtype=dtype,
                         from_logits=bool(from_logits), label_smoothing=label_smoothing)


class CategoricalCrossentropy(MeanMetricWrapper):
    """The running mean of the categorical cross-entropy (`kerasette.losses`).

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.
        from_logits: whether predictions are logits.
        label_smoothing: mixes the labels with the uniform distribution.
        axis: the class axis.
    """

    _integer_state = False  # tf.keras 2 fails on integer state here

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=bool(from_logits), label_smoothing=label_smoothing,
                         axis=axis)


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The running mean of the sparse categorical cross-entropy (`kerasette.losses`).

    With `ignore_class`, the samples of that label are left out of the mean
    altogether: they add nothing to the total and their weights nothing to
    the count. That is tf.keras 2's metric (its `apply_valid_mask`), with or
    without `sample_weight`; Keras 3's metric divides by every sample in the
    unweighted case, a smaller number: kerasette follows tf.keras 2.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.
        from_logits: whether predictions are logits.
        ignore_class: a label whose samples are left out of the mean.
        axis: the class axis.

    Example:
        >>> m = SparseCategoricalCrossentropy(ignore_class=0)
        >>> m.update_state([0, 1, 2], [[0.8, 0.1, 0.1], [0.05, 0.95, 0], [0.1, 0.8, 0.1]],
        ...                sample_weight=[0.5, 1.5, 2.0])
        >>> round(float(m.result()), 4)
        1.3377
    """

    _integer_state = False  # tf.keras 2 fails on integer state here

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=bool(from_logits), ignore_class=ignore_class, axis=axis)

    def _values_and_mask(self, y_true, y_pred):
        if self._fn_kwargs.get("ignore_class") is None:
            return super()._values_and_mask(y_true, y_pred)
        kw = self._fn_kwargs
        return _losses()._sparse_categorical_crossentropy(
            y_true, y_pred, kw["from_logits"], kw["axis"], kw["ignore_class"])


class _FloatMeanMetric(MeanMetricWrapper):
    """A mean metric whose function needs floating inputs (tf.keras 2 fails
    on integer state for these)."""

    _integer_state = False


class CosineSimilarity(_FloatMeanMetric):
    """The running mean of the cosine similarity of labels and predictions.

    `sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`: 1 for vectors
    pointing the same way, -1 for opposite ones (the `CosineSimilarity`
    loss is its negative).

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.
        axis: the axis of the vectors.

    Example:
        >>> m = CosineSimilarity(axis=1)
        >>> m.update_state([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])
        >>> round(float(m.result()), 4)
        0.5
    """

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        axis = _check_int(axis, "axis", "CosineSimilarity", minimum=-(2 ** 31),
                          allow_none=False)
        super().__init__(_cosine_similarity, name=name, dtype=dtype, axis=axis)


class LogCoshError(_FloatMeanMetric):
    """The running mean of `log(cosh(y_pred - y_true))` (see `log_cosh`).

    Args:
        name: the metric's name (tf.keras 2's default is `"logcosh"`).
        dtype: dtype of the state and the result.

    Example:
        >>> m = LogCoshError()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])
        >>> round(float(m.result()), 4)
        0.1084
    """

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name=name, dtype=dtype)


class Hinge(_FloatMeanMetric):
    """The running mean of the hinge loss (labels -1/1, or 0/1 mapped to them).

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = Hinge()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(m.result()), 4)
        1.3
    """

    def __init__(self, name="hinge", dtype=None):
        super().__init__(hinge, name=name, dtype=dtype)


class SquaredHinge(_FloatMeanMetric):
    """The running mean of the squared hinge loss.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = SquaredHinge()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(m.result()), 4)
        1.86
    """

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(_FloatMeanMetric):
    """The running mean of the categorical hinge loss.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = CategoricalHinge()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(m.result()), 4)
        1.4
    """

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(_categorical_hinge, name=name, dtype=dtype)


class KLDivergence(_FloatMeanMetric):
    """The running mean of the Kullback-Leibler divergence (see `kl_divergence`).

    Args:
        name: the metric's name (tf.keras 2's default is
            `"kullback_leibler_divergence"`).
        dtype: dtype of the state and the result.

    Example:
        >>> m = KLDivergence()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(m.result()), 4)
        0.4581
    """

    def __init__(self, name="kullback_leibler_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, dtype=dtype)


class Poisson(_FloatMeanMetric):
    """The running mean of the Poisson loss `y_pred - y_true * log(y_pred)`.

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = Poisson()
        >>> m.update_state([[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 0.0]])
        >>> round(float(m.result()), 4)
        0.5
    """

    def __init__(self, name="poisson", dtype=None):
        super().__init__(poisson, name=name, dtype=dtype)


class R2Score(Metric):
    """The coefficient of determination, from running sums (tf.keras 2's `R2Score`).

    For each output (the last axis of `(batch, outputs)` data):
    `1 - sum(w * (y - y_pred) ** 2) / sum(w * (y - mean_w(y)) ** 2)`, the
    sums over every batch so far. The per-output scores are averaged
    (`"uniform_average"`), weighted by the targets' variances
    (`"variance_weighted_average"`), or returned as they are (`None`).
    With `num_regressors=p`, the adjusted score `1 - (1 - r2) * (n - 1) /
    (n - p - 1)`, where `n` counts every target value seen (tf.keras 2
    counts elements, not rows); it falls back to the plain score, with a
    warning, when `n - 1 <= p`.

    Args:
        class_aggregation: `"uniform_average"`, `"variance_weighted_average"`
            or `None`.
        num_regressors: the number of independent regressors (0: plain R2).
        name: the metric's name.
        dtype: dtype of the state and the result (floating).

    Example:
        >>> m = R2Score()
        >>> m.update_state([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]])
        >>> round(float(m.result()), 5)
        0.57143
    """

    _AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in self._AGGREGATIONS:
            raise ValueError("Invalid value for argument `class_aggregation`. Expected one of "
                             f"{self._AGGREGATIONS}. Received: "
                             f"class_aggregation={class_aggregation!r}")
        self.class_aggregation = class_aggregation
        self.num_regressors = _check_int(num_regressors, "num_regressors", "R2Score",
                                         allow_none=False)
        self.num_samples = self.add_weight("num_samples", dtype="int32")
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError("R2Score expects 2D inputs with shape (batch_size, output_dim). "
                             f"Received input shapes: y_pred.shape={tuple(y_pred_shape)} and "
                             f"y_true.shape={tuple(y_true_shape)}.")
        n = y_pred_shape[-1]
        self.squared_sum = self.add_weight("squared_sum", shape=(n,))
        self.sum = self.add_weight("sum", shape=(n,))
        self.total_mse = self.add_weight("residual", shape=(n,))
        self.count = self.add_weight("count", shape=(n,))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds one batch to the running sums.

        Args:
            y_true: targets, shape `(batch, outputs)`.
            y_pred: predictions, same shape.
            sample_weight: `None`, a number, per-sample weights `(batch,)`,
                or weights broadcastable to `(batch, outputs)`.
        """
        xp = _xp()
        yt = _device(y_true, self._np_dtype)
        yp = _device(y_pred, self._np_dtype)
        if not self._built:
            self._build(yt.shape, yp.shape)
        if tuple(yt.shape) != tuple(yp.shape) or yt.ndim != 2 or \
                yt.shape[1] != self.sum.shape[0]:
            raise ValueError(f"R2Score expects y_true and y_pred of shape (batch, "
                             f"{self.sum.shape[0]}). Received y_true.shape={tuple(yt.shape)}, "
                             f"y_pred.shape={tuple(yp.shape)}.")
        if sample_weight is None:
            w = xp.ones_like(yt)
        else:
            w = _device(sample_weight, self._np_dtype)
            if w.ndim == 1:
                w = w.reshape(-1, 1)  # one weight per sample
            if not _broadcastable(w.shape, yt.shape):
                raise ValueError(f"R2Score: sample_weight of shape {tuple(w.shape)} cannot be "
                                 f"broadcast to y_true of shape {tuple(yt.shape)}.")
            w = xp.broadcast_to(w, yt.shape)
        weighted = yt * w
        xp.add(self.sum.data, xp.sum(weighted, axis=0), out=self.sum.data)
        xp.add(self.squared_sum.data, xp.sum(yt * weighted, axis=0), out=self.squared_sum.data)
        xp.add(self.total_mse.data, xp.sum(xp.square(yt - yp) * w, axis=0),
               out=self.total_mse.data)
        xp.add(self.count.data, xp.sum(w, axis=0), out=self.count.data)
        xp.add(self.num_samples.data, yt.size, out=self.num_samples.data)

    def result(self) -> Tensor:
        xp = _xp()
        if not self._built:
            return _result_tensor(xp.zeros((), dtype=self._np_dtype))
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum.data / self.count.data
            total = self.squared_sum.data - self.sum.data * mean
            raw = 1.0 - self.total_mse.data / total
        raw = xp.where(xp.isinf(raw), xp.zeros_like(raw), raw)
        if self.class_aggregation == "uniform_average":
            score = xp.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            with np.errstate(divide="ignore", invalid="ignore"):
                score = xp.sum(total * raw) / xp.sum(total)
        else:
            score = raw
        if self.num_regressors:
            # One host read of a counter, only for the adjusted score (the
            # fallback's warning depends on it, as tf.keras 2's does).
            n = int(self.num_samples.data)
            p = self.num_regressors
            if p > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 "
                              "score. Falling back to standard R2 score.", stacklevel=2)
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to "
                              "standard R2 score.", stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * float(n - 1) / float(n - p - 1)
        return _result_tensor(score.astype(self._np_dtype, copy=False))

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()
        else:
            self.num_samples.data[...] = 0

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"class_aggregation": self.class_aggregation,
                       "num_regressors": self.num_regressors})
        return config


class MeanRelativeError(Mean):
    """The running mean of `|y_true - y_pred| / normalizer` (0 where the
    normalizer is 0), as tf.keras 2's `MeanRelativeError`.

    Args:
        normalizer: the values to divide by: a number, or an array that
            broadcasts against the predictions (one per output, say).
        name: the metric's name.
        dtype: dtype of the state and the result (floating).

    Example:
        >>> m = MeanRelativeError(normalizer=[1, 3, 2, 3])
        >>> m.update_state([1, 3, 2, 3], [2, 4, 6, 8])
        >>> round(float(m.result()), 4)
        1.25
    """

    _integer_state = False

    def __init__(self, normalizer, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        try:
            host = np.asarray(normalizer.numpy() if isinstance(normalizer, Tensor)
                              else normalizer, dtype=self._np_dtype)
        except (TypeError, ValueError):
            host = np.asarray(np.nan)
        if not np.isfinite(host).all():
            raise ValueError("MeanRelativeError expects a finite `normalizer` (a number or an "
                             f"array of numbers). Received: normalizer={normalizer!r}")
        self._normalizer_host = host
        self.normalizer = ops.convert_to_tensor(host)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds the relative errors of one batch.

        Args:
            y_true: targets.
            y_pred: predictions.
            sample_weight: optional per-sample weights.
        """
        xp = _xp()
        yt, yp = _squeeze_pair(_device(y_true, self._np_dtype), _device(y_pred, self._np_dtype))
        if tuple(yt.shape) != tuple(yp.shape):
            raise ValueError(f"{self.name}: y_true and y_pred must have the same shape. "
                             f"Received {tuple(yt.shape)} and {tuple(yp.shape)}.")
        norm = self.normalizer.data
        if norm.ndim == yp.ndim + 1 and norm.shape[-1] == 1:
            norm = _squeeze_last(norm)  # tf.keras 2's remove_squeezable_dimensions
        self._accumulate(_divide_no_nan(xp.abs(yt - yp), norm), sample_weight)

    def get_config(self) -> dict:
        config = super().get_config()
        config["normalizer"] = self._normalizer_host.tolist()
        return config


class MeanTensor(Metric):
    """The element-by-element running (weighted) mean of tensors of one shape.

    Unlike `Mean`, nothing is averaged within a tensor: the result has the
    shape of the values (fixed by `shape` or by the first update).

    Args:
        name: the metric's name.
        dtype: dtype of the state and the result (floating).
        shape: the values' shape, or `None` to take it from the first update.

    Example:
        >>> m = MeanTensor()
        >>> m.update_state([0, 1, 2, 3])
        >>> m.update_state([4, 5, 6, 7])
        >>> m.result().numpy().tolist()
        [2.0, 3.0, 4.0, 5.0]
    """

    def __init__(self, name="mean_tensor", dtype=None, shape=None):
        super().__init__(name=name, dtype=dtype)
        self._shape = None
        if shape is not None:
            self._build(shape)

    def _build(self, shape):
        self._shape = tuple(int(d) for d in shape)
        self.total = self.add_weight("total", shape=self._shape)
        self.count = self.add_weight("count", shape=self._shape)

    def update_state(self, values, sample_weight=None) -> None:
        """Adds `values` (weighted by `sample_weight`) to the running means.

        Args:
            values: a tensor of the metric's shape.
            sample_weight: `None`, or weights broadcastable to `values`.
        """
        xp = _xp()
        values = _device(values, self._np_dtype)
        if self._shape is None:
            self._build(values.shape)
        elif tuple(values.shape) != self._shape:
            raise ValueError("MeanTensor input values must always have the same shape. "
                             f"Expected shape (set during the first call): {self._shape}. "
                             f"Got: {tuple(values.shape)}.")
        if sample_weight is None:
            w = xp.ones_like(values)
        else:
            w = _fit_weight_rank(_device(sample_weight, self._np_dtype), values.ndim)
            if not _broadcastable(w.shape, values.shape):
                raise ValueError(f"{self.name}: sample_weight of shape {tuple(w.shape)} cannot "
                                 f"be broadcast to the values of shape {tuple(values.shape)}.")
            w = xp.broadcast_to(w, values.shape)
        xp.add(self.total.data, values * w, out=self.total.data)
        xp.add(self.count.data, w, out=self.count.data)

    def result(self) -> Tensor:
        if self._shape is None:
            raise ValueError("MeanTensor does not have any value yet. Please call the "
                             "MeanTensor instance or use `.update_state(value)` before "
                             "retrieving the result.")
        return _result_tensor(_divide_no_nan(self.total.data, self.count.data))


_AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """The F-beta score per class, or averaged (tf.keras 2's `FBetaScore`).

    `(1 + beta**2) * precision * recall / (beta**2 * precision + recall)`,
    from true positives, false positives and false negatives counted per
    class (the last axis of `(batch, classes)` data) over every batch. A
    prediction counts as positive above `threshold`, or, with
    `threshold=None`, where it is the largest of its row (and not 0).

    Args:
        average: `None` (one score per class), `"micro"` (one score from
            the counts of all classes), `"macro"` (the mean of the class
            scores) or `"weighted"` (their mean weighted by each class's
            count of true labels).
        beta: the weight of recall (> 0).
        threshold: in (0, 1], or `None` for the arg-max rule.
        name: the metric's name.
        dtype: dtype of the state and the result (floating).

    Example:
        >>> m = FBetaScore(beta=2.0, threshold=0.5)
        >>> m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
        ...                [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
        >>> [round(v, 4) for v in m.result().numpy().tolist()]
        [0.3846, 0.9091, 0.8333]
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        owner = type(self).__name__
        if average not in _AVERAGES:
            raise ValueError("Invalid `average` argument value. Expected one of: {None, "
                             f"'micro', 'macro', 'weighted'}}. Received: average={average!r}")
        if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not beta > 0:
            raise ValueError(f"{owner}: invalid `beta` argument value. It should be a number "
                             f"> 0. Received: beta={beta!r}")
        if threshold is not None and (isinstance(threshold, bool)
                                      or not isinstance(threshold, numbers.Real)
                                      or not 0.0 < threshold <= 1.0):
            raise ValueError(f"{owner}: invalid `threshold` argument value. It should verify "
                             f"0 < threshold <= 1. Received: threshold={threshold!r}")
        self.average = average
        self.beta = float(beta)
        self.threshold = None if threshold is None else float(threshold)
        self._axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(f"{type(self).__name__} expects 2D inputs with shape (batch_size, "
                             f"output_dim). Received input shapes: y_pred.shape="
                             f"{tuple(y_pred_shape)} and y_true.shape={tuple(y_true_shape)}.")
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        for name in ("true_positives", "false_positives", "false_negatives",
                     "intermediate_weights"):
            setattr(self, name, self.add_weight(name, shape=shape))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds the counts of one batch.

        Args:
            y_true: 0/1 labels, shape `(batch, classes)`.
            y_pred: scores of the same shape.
            sample_weight: `None`, or one weight per sample, `(batch,)`.
        """
        xp = _xp()
        yt = _device(y_true, self._np_dtype)
        yp = _device(y_pred, self._np_dtype)
        if not self._built:
            self._build(yt.shape, yp.shape)
        if tuple(yt.shape) != tuple(yp.shape) or yp.ndim != 2:
            raise ValueError(f"{type(self).__name__} expects y_true and y_pred of the same 2D "
                             f"shape. Received {tuple(yt.shape)} and {tuple(yp.shape)}.")
        if self.threshold is None:
            top = xp.max(yp, axis=-1, keepdims=True)
            pred = ((yp >= top) & (xp.abs(yp) > 1e-9)).astype(self._np_dtype)
        else:
            pred = (yp > self.threshold).astype(self._np_dtype)
        w = None
        if sample_weight is not None:
            w = _device(sample_weight, self._np_dtype).reshape(-1, 1)

        def total(values):
            return xp.sum(values if w is None else values * w, axis=self._axis)

        xp.add(self.true_positives.data, total(pred * yt), out=self.true_positives.data)
        xp.add(self.false_positives.data, total(pred * (1.0 - yt)),
               out=self.false_positives.data)
        xp.add(self.false_negatives.data, total((1.0 - pred) * yt),
               out=self.false_negatives.data)
        xp.add(self.intermediate_weights.data, total(yt), out=self.intermediate_weights.data)

    def result(self) -> Tensor:
        xp = _xp()
        if not self._built:
            return _result_tensor(xp.zeros((), dtype=self._np_dtype))
        tp = self.true_positives.data
        precision = _divide_no_nan(tp, tp + self.false_positives.data)
        recall = _divide_no_nan(tp, tp + self.false_negatives.data)
        b2 = self.beta * self.beta
        score = _divide_no_nan(precision * recall, b2 * precision + recall) * (1.0 + b2)
        if self.average == "weighted":
            support = self.intermediate_weights.data
            score = xp.sum(score * _divide_no_nan(support, xp.sum(support)))
        elif self.average is not None:
            score = xp.mean(score)
        return _result_tensor(score.astype(self._np_dtype, copy=False))

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"average": self.average, "beta": self.beta,
                       "threshold": self.threshold})
        return config


class F1Score(FBetaScore):
    """The F1 score (`FBetaScore` with `beta=1`): the harmonic mean of
    precision and recall, per class or averaged.

    Args:
        average: `None`, `"micro"`, `"macro"` or `"weighted"` (see
            `FBetaScore`).
        threshold: in (0, 1], or `None` for the arg-max rule.
        name: the metric's name.
        dtype: dtype of the state and the result (floating).

    Example:
        >>> m = F1Score(threshold=0.5)
        >>> m.update_state([[1, 1, 1], [1, 0, 0], [1, 1, 0]],
        ...                [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]])
        >>> [round(v, 4) for v in m.result().numpy().tolist()]
        [0.5, 0.8, 0.6667]
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config


def _class_ids(values, num_classes, owner):
    ids = list(values) if isinstance(values, (list, tuple)) else None
    if not ids or any(isinstance(i, bool) or not isinstance(i, numbers.Integral) or i < 0
                      for i in ids):
        raise ValueError(f"{owner} expects `target_class_ids` to be a non-empty list of "
                         f"class ids. Received: target_class_ids={values!r}")
    if max(ids) >= num_classes:
        raise ValueError(f"Target class id {max(ids)} is out of range, which is "
                         f"[0, {num_classes}).")
    return [int(i) for i in ids]


class _IoUBase(Metric):
    """A running confusion matrix of integer labels and predictions
    (tf.keras 2's `_IoUBase`): rows are the true classes, columns the
    predicted ones, each entry the weighted count of such samples.

    The matrix is a matrix product of one-hot codes, chunked: no scatter
    (CuPy's would read the largest label back to the host) and no host
    read per batch. Labels or predictions outside `[0, num_classes)` are
    left out (tf.keras 2 raises; checking needs a host read).
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype)
        owner = type(self).__name__
        self.num_classes = _check_int(num_classes, "num_classes", owner, minimum=1,
                                      allow_none=False)
        self.ignore_class = _check_int(ignore_class, "ignore_class", owner,
                                       minimum=-(2 ** 63))
        self.sparse_y_true = bool(sparse_y_true)
        self.sparse_y_pred = bool(sparse_y_pred)
        self.axis = _check_int(axis, "axis", owner, minimum=-(2 ** 31), allow_none=False)
        self.total_cm = self.add_weight("total_confusion_matrix",
                                        shape=(self.num_classes, self.num_classes))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds one batch to the confusion matrix.

        Args:
            y_true: class ids (or one-hot rows with `sparse_y_true=False`).
            y_pred: class ids (or scores with `sparse_y_pred=False`).
            sample_weight: `None`, a number, or weights of the labels' shape.
        """
        xp = _xp()
        yt = _device(y_true)
        yp = _device(y_pred)
        if not self.sparse_y_true:
            yt = xp.argmax(yt, axis=self.axis)
        if not self.sparse_y_pred:
            yp = xp.argmax(yp, axis=self.axis)
        # tf.keras 2 casts to the metric dtype, then to int (truncation).
        yt = yt.astype(self._np_dtype).reshape(-1)
        yp = yp.astype(self._np_dtype).reshape(-1)
        if yt.shape != yp.shape:
            raise ValueError(f"{self.name}: y_true and y_pred hold {yt.shape[0]} and "
                             f"{yp.shape[0]} class ids; they must match.")
        if sample_weight is None:
            w = xp.ones(yt.shape, dtype=self._np_dtype)
        else:
            w = _device(sample_weight, self._np_dtype)
            w = xp.broadcast_to(w, yt.shape) if w.ndim == 0 else w.reshape(-1)
            if w.shape != yt.shape:
                raise ValueError(f"{self.name}: sample_weight holds {w.shape[0]} values for "
                                 f"{yt.shape[0]} labels.")
        if self.ignore_class is not None:
            w = w * (yt != float(self.ignore_class)).astype(self._np_dtype)
        yt, yp = yt.astype(xp.int64), yp.astype(xp.int64)
        classes = xp.arange(self.num_classes, dtype=xp.int64)
        step = max(1, _CHUNK // self.num_classes)
        for start in range(0, yt.shape[0], step):
            rows = (yt[start:start + step, None] == classes).astype(self._np_dtype)
            cols = (yp[start:start + step, None] == classes).astype(self._np_dtype)
            cols *= w[start:start + step, None]
            xp.add(self.total_cm.data, xp.matmul(rows.T, cols), out=self.total_cm.data)

    def _iou(self, target_class_ids) -> Tensor:
        xp = _xp()
        cm = self.total_cm.data
        predicted = xp.sum(cm, axis=0)
        actual = xp.sum(cm, axis=1)
        tp = xp.diagonal(cm)
        denominator = predicted + actual - tp
        if target_class_ids is not None:
            index = _backend.get_backend().asarray(np.asarray(target_class_ids, np.int64))
            tp, denominator = xp.take(tp, index), xp.take(denominator, index)
        valid = xp.sum((denominator != 0).astype(self._np_dtype))
        iou = _divide_no_nan(tp, denominator)
        return _result_tensor(_divide_no_nan(xp.sum(iou), valid))


class IoU(_IoUBase):
    """Intersection-over-union of chosen classes, averaged (tf.keras 2's `IoU`).

    For each class, `tp / (tp + fp + fn)` from a running confusion matrix;
    the result is the mean over `target_class_ids` of the classes that
    occur (in labels or predictions).

    Args:
        num_classes: the number of classes.
        target_class_ids: the classes to average over (one id: that
            class's IoU).
        name: the metric's name.
        dtype: dtype of the state and the result (floating).
        ignore_class: a label whose samples are left out (e.g. a "void" id).
        sparse_y_true: whether labels are class ids (else one-hot rows,
            reduced with arg-max over `axis`).
        sparse_y_pred: whether predictions are class ids (else scores).
        axis: the class axis of dense labels or predictions.

    Example:
        >>> m = IoU(num_classes=2, target_class_ids=[0])
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        >>> round(float(m.result()), 6)
        0.333333
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        self.target_class_ids = _class_ids(target_class_ids, self.num_classes,
                                           type(self).__name__)

    def result(self) -> Tensor:
        return self._iou(self.target_class_ids)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_classes": self.num_classes,
                       "target_class_ids": self.target_class_ids,
                       "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                       "sparse_y_pred": self.sparse_y_pred, "axis": self.axis})
        return config


class BinaryIoU(IoU):
    """IoU of a binary task: predictions `>= threshold` are class 1.

    Args:
        target_class_ids: `[0, 1]` (both, averaged), `[0]` or `[1]`.
        threshold: predictions at or above it count as class 1.
        name: the metric's name.
        dtype: dtype of the state and the result (floating).

    Example:
        >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
        >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
        >>> round(float(m.result()), 6)
        0.333333
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = _check_real(threshold, "threshold", "BinaryIoU")

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds one batch (0/1 labels, scores thresholded at `threshold`)."""
        yp = _device(y_pred, self._np_dtype)
        super().update_state(y_true, (yp >= self.threshold).astype(self._np_dtype),
                             sample_weight)

    def get_config(self) -> dict:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """The mean IoU over all `num_classes` classes (those that occur).

    Args:
        num_classes: the number of classes.
        name: the metric's name.
        dtype: dtype of the state and the result (floating).
        ignore_class: a label whose samples are left out.
        sparse_y_true: whether labels are class ids.
        sparse_y_pred: whether predictions are class ids.
        axis: the class axis of dense labels or predictions.

    Example:
        >>> m = MeanIoU(num_classes=2)
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        >>> round(float(m.result()), 6)
        0.333333
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        n = _check_int(num_classes, "num_classes", type(self).__name__, minimum=1,
                       allow_none=False)
        super().__init__(n, list(range(n)), name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """`IoU` for one-hot labels (and scores as predictions by default).

    Args:
        num_classes: the number of classes.
        target_class_ids: the classes to average over.
        name: the metric's name.
        dtype: dtype of the state and the result (floating).
        ignore_class: a label whose samples are left out.
        sparse_y_pred: whether predictions are class ids (else scores).
        axis: the class axis.

    Example:
        >>> m = OneHotIoU(num_classes=3, target_class_ids=[0, 2])
        >>> m.update_state([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]],
        ...                [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1],
        ...                 [0.1, 0.4, 0.5]])
        >>> round(float(m.result()), 6)
        0.166667
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """`MeanIoU` for one-hot labels (and scores as predictions by default).

    Args:
        num_classes: the number of classes.
        name: the metric's name.
        dtype: dtype of the state and the result (floating).
        ignore_class: a label whose samples are left out.
        sparse_y_pred: whether predictions are class ids (else scores).
        axis: the class axis.

    Example:
        >>> m = OneHotMeanIoU(num_classes=3)
        >>> m.update_state([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]],
        ...                [[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1],
        ...                 [0.1, 0.4, 0.5]])
        >>> round(float(m.result()), 6)
        0.111111
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


# -- confusion-matrix metrics -------------------------------------------------------------
def _filter_top_k(x, k):
    """Keeps the `k` largest values on the last axis (the lower index first
    among ties, like tf.math.top_k) and sets the rest to NEG_INF."""
    xp = _xp()
    order = xp.argsort(-x, axis=-1, kind="stable")
    ranks = xp.argsort(order, axis=-1, kind="stable")
    return xp.where(ranks < k, x, NEG_INF)


# Entries of the (thresholds x predictions) comparison made at once: bounds
# the temporary at 16 MiB of float32 however large the batch.
_CHUNK = 1 << 22


def _threshold_sums(keys, levels, columns, *, inclusive, multi_label, dtype):
    """Weighted counts of the keys above (or not above) each level.

    For each `(name, weights, side)` of `columns` and each level `t`: the
    sum of `weights` where `key > t` (`>=` when `inclusive`), or where not
    (`side="below"`). One comparison and one matrix product per chunk of
    samples, all in `dtype`: no scatter (CuPy's `bincount` reads its input's
    maximum back to the host) and no float64 accumulator.
    """
    xp = _xp()
    n = keys.shape[0]
    width = levels.shape[0] * (keys.shape[1] if multi_label else 1)
    step = max(1, _CHUNK // max(width, 1))
    out = {}
    for start in range(0, n, step) or [0]:
        k = keys[start:start + step]
        if multi_label:
            above = (k[None] >= levels[:, None, None]) if inclusive else \
                (k[None] > levels[:, None, None])
        else:
            above = (k[None, :] >= levels[:, None]) if inclusive else (k[None, :] > levels[:, None])
        above = above.astype(dtype)
        below = None
        for name, weights, side in columns:
            w = weights[start:start + step]
            if side == "below":
                below = 1.0 - above if below is None else below
                mask = below
            else:
                mask = above
            part = xp.sum(mask * w[None], axis=1) if multi_label else xp.matmul(mask, w)
            out[name] = part if name not in out else out[name] + part
    return out


def _confusion_counts(want, y_true, y_pred, sample_weight, *, thresholds, thresholds_device,
                      evenly, top_k=None, class_id=None, multi_label=False, label_weights=None,
                      dtype, owner):
    """tf.keras 2's `update_confusion_matrix_variables`, as increments.

    For each threshold `t`: tp counts label 1 with `y_pred > t`, fp label 0
    with `y_pred > t`, fn label 1 with `y_pred <= t`, tn label 0 with
    `y_pred <= t`, each weighted. With evenly spaced thresholds a prediction
    is compared through its bucket `ceil(p * (T - 1)) - 1`, as in tf.keras
    2's optimized path, so values at a threshold land on the same side.

    Returns:
        A dict from each key of `want` ("tp", "fp", "tn", "fn") to an array
        of shape `(T,)`, or `(T, labels)` when `multi_label`.
    """
    xp = _xp()
    yt = _device(y_true, dtype)
    yp = _device(y_pred, dtype)
    yt, yp = _squeeze_pair(yt, yp)
    if tuple(yt.shape) != tuple(yp.shape):
        raise ValueError(f"{owner}: y_true and y_pred must have the same shape. Received "
                         f"y_true of shape {tuple(yt.shape)} and y_pred of shape "
                         f"{tuple(yp.shape)}.")
    w = None
    if sample_weight is not None:
        w = _fit_weight_rank(_device(sample_weight, dtype), yp.ndim)
        if not _broadcastable(w.shape, yp.shape):
            raise ValueError(f"{owner}: sample_weight of shape {tuple(w.shape)} cannot be "
                             f"broadcast to y_pred of shape {tuple(yp.shape)}.")
        w = xp.broadcast_to(w, yp.shape)
    if top_k is not None:
        yp = _filter_top_k(yp, top_k)
    if class_id is not None:
        if yp.ndim == 0 or class_id >= yp.shape[-1]:
            raise ValueError(f"{owner}: class_id={class_id} is out of range for predictions of "
                             f"shape {tuple(yp.shape)}.")
        yt, yp = yt[..., class_id], yp[..., class_id]
        if w is not None:
            w = w[..., class_id]
    if label_weights is not None and not multi_label:
        if yp.ndim == 0 or yp.shape[-1] != label_weights.shape[0]:
            raise ValueError(f"{owner}: label_weights has {label_weights.shape[0]} entries but "
                             f"y_pred has shape {tuple(yp.shape)}.")
        lw = xp.broadcast_to(label_weights, yp.shape)
        w = lw if w is None else w * lw
    if multi_label:
        if yp.ndim != 2:
            raise ValueError(f"{owner}: y_pred must have rank 2 when multi_label=True. "
                             f"Received shape {tuple(yp.shape)}.")
    else:
        yt, yp = yt.reshape(-1), yp.reshape(-1)
        if w is not None:
            w = w.reshape(-1)

    positive = (yt != 0).astype(dtype)
    true_w = positive if w is None else positive * w
    false_w = (1.0 - positive) if w is None else (1.0 - positive) * w
    num_thresholds = len(thresholds)

    columns = [(key, true_w if key in ("tp", "fn") else false_w,
                "above" if key in ("tp", "fp") else "below")
               for key in ("tp", "fp", "fn", "tn") if key in want]
    if evenly:
        # tf.keras 2's bucketing for evenly spaced thresholds: a prediction
        # p counts as above threshold t_i exactly when its bucket
        # ceil(p * (T - 1)) - 1 is >= i (p == t_i falls below t_i).
        p = xp.clip(yp, 0.0, 1.0)
        bucket = xp.ceil(p * float(num_thresholds - 1)) - 1.0
        if thresholds[0] < 0.0 or thresholds[-1] > 1.0:
            # Every prediction in [0, 1] exceeds the first threshold (-eps).
            bucket = xp.maximum(bucket, 0.0)
        levels = xp.arange(num_thresholds, dtype=dtype)
        return _threshold_sums(bucket, levels, columns, inclusive=True,
                               multi_label=multi_label, dtype=dtype)
    return _threshold_sums(yp, thresholds_device, columns, inclusive=False,
                           multi_label=multi_label, dtype=dtype)


_VAR_NAMES = MappingProxyType({"tp": "true_positives", "fp": "false_positives",
                               "tn": "true_negatives", "fn": "false_negatives"})


class _ThresholdMetric(Metric):
    """Shared state handling of the confusion-matrix metrics."""

    _keys: tuple = ()
    _var_names = _VAR_NAMES

    def _setup_thresholds(self, thresholds):
        self.thresholds = thresholds
        self._thresholds_evenly = _evenly_distributed(thresholds)
        self._thresholds_device = _backend.get_backend().asarray(
            np.asarray(thresholds, dtype=self._np_dtype))

    # Copies (pickle, deepcopy) take the host values; their device copies are
    # made again on the backend active where the copy is loaded.
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_thresholds_device", None)
        if state.get("_label_weights_host") is not None:
            state["label_weights"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        b = _backend.get_backend()
        thresholds = getattr(self, "thresholds", None)
        if thresholds is not None:
            self._thresholds_device = b.asarray(np.asarray(thresholds, dtype=self._np_dtype))
        if getattr(self, "_label_weights_host", None) is not None:
            self.label_weights = b.asarray(self._label_weights_host)

    def _update(self, y_true, y_pred, sample_weight, **kwargs):
        xp = _xp()
        counts = _confusion_counts(
            set(self._keys), y_true, y_pred, sample_weight, thresholds=self.thresholds,
            thresholds_device=self._thresholds_device, evenly=self._thresholds_evenly,
            dtype=self._np_dtype, owner=type(self).__name__, **kwargs)
        for key in self._keys:
            var = getattr(self, self._var_names[key])
            xp.add(var.data, counts[key], out=var.data)

    def _pick(self, values) -> Tensor:
        """A scalar for one threshold, a vector for several (tf.keras 2)."""
        return _result_tensor(values[0] if len(self.thresholds) == 1 else values)


class _ConfusionMatrixConditionCount(_ThresholdMetric):
    _key = "tp"

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = _json_ready(thresholds)
        self._setup_thresholds(_parse_thresholds(thresholds, 0.5, type(self).__name__))
        self._keys = (self._key,)
        self.accumulator = self.add_weight("accumulator", shape=(len(self.thresholds),))
        setattr(self, self._var_names[self._key], self.accumulator)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds the weighted count of one batch.

        Args:
            y_true: 0/1 labels (any non-zero value counts as 1).
            y_pred: predictions in [0, 1].
            sample_weight: optional weights broadcastable to `y_pred`.
        """
        self._update(y_true, y_pred, sample_weight)

    def result(self) -> Tensor:
        return self._pick(self.accumulator.data.copy())

    def get_config(self) -> dict:
        config = super().get_config()
        config["thresholds"] = self.init_thresholds
        return config


class TruePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true positives, per threshold.

    Args:
        thresholds: a float or a list of floats in [0, 1]; 0.5 by default.
            Predictions above a threshold count as positive.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = TruePositives()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> float(m.result())
        2.0
    """

    _key = "tp"


class FalsePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false positives, per threshold.

    Args:
        thresholds: a float or a list of floats in [0, 1]; 0.5 by default.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = FalsePositives()
        >>> m.update_state([0, 1, 0, 0], [0, 0, 1, 1])
        >>> float(m.result())
        2.0
    """

    _key = "fp"


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true negatives, per threshold.

    Args:
        thresholds: a float or a list of floats in [0, 1]; 0.5 by default.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = TrueNegatives()
        >>> m.update_state([0, 1, 0, 0], [1, 1, 0, 0])
        >>> float(m.result())
        2.0
    """

    _key = "tn"


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false negatives, per threshold.

    Args:
        thresholds: a float or a list of floats in [0, 1]; 0.5 by default.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = FalseNegatives()
        >>> m.update_state([0, 1, 1, 1], [0, 1, 0, 0])
        >>> float(m.result())
        2.0
    """

    _key = "fn"


class _PrecisionRecall(_ThresholdMetric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        owner = type(self).__name__
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = _json_ready(thresholds)
        self.top_k = _check_int(top_k, "top_k", owner, minimum=1)
        self.class_id = _check_int(class_id, "class_id", owner, minimum=0)
        default = 0.5 if top_k is None else NEG_INF
        self._setup_thresholds(_parse_thresholds(thresholds, default, owner))
        n = len(self.thresholds)
        self.true_positives = self.add_weight("true_positives", shape=(n,))
        other = self._var_names[self._keys[1]]
        setattr(self, other, self.add_weight(other, shape=(n,)))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds the true positives and the other count of one batch.

        Args:
            y_true: 0/1 labels of the shape of `y_pred` (non-zero counts as 1).
            y_pred: predictions in [0, 1].
            sample_weight: optional weights broadcastable to `y_pred`.
        """
        self._update(y_true, y_pred, sample_weight, top_k=self.top_k, class_id=self.class_id)

    def result(self) -> Tensor:
        tp = self.true_positives.data
        other = getattr(self, self._var_names[self._keys[1]]).data
        return self._pick(_divide_no_nan(tp, tp + other))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"thresholds": self.init_thresholds, "top_k": self.top_k,
                       "class_id": self.class_id})
        return config


class Precision(_PrecisionRecall):
    """`tp / (tp + fp)`: how often a predicted positive is a real one.

    Args:
        thresholds: a float or a list of floats in [0, 1] (a list gives one
            value per threshold). 0.5 by default; with `top_k`, every top-k
            prediction counts as positive.
        top_k: count only the `k` highest predictions of each sample as
            positive.
        class_id: compute the binary metric for this class only (the last
            axis of the predictions).
        name: the metric's name (`precision`, `precision_1`, ... by default).
        dtype: dtype of the state and the result.

    Example:
        >>> m = Precision()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
        >>> round(float(m.result()), 6)
        0.666667
        >>> m = Precision(top_k=2)
        >>> m.update_state([0, 0, 1, 1], [1, 1, 1, 1])
        >>> float(m.result())
        0.0
    """

    _keys = ("tp", "fp")


class Recall(_PrecisionRecall):
    """`tp / (tp + fn)`: how often a real positive is predicted positive.

    Args:
        thresholds: a float or a list of floats in [0, 1] (a list gives one
            value per threshold). 0.5 by default; with `top_k`, every top-k
            prediction counts as positive.
        top_k: count only the `k` highest predictions of each sample as
            positive.
        class_id: compute the binary metric for this class only.
        name: the metric's name (`recall`, `recall_1`, ... by default).
        dtype: dtype of the state and the result.

    Example:
        >>> m = Recall()
        >>> m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
        >>> float(m.result())
        1.0
    """

    _keys = ("tp", "fn")


class _SensitivitySpecificityBase(_ThresholdMetric):
    """tf.keras 2's `SensitivitySpecificityBase`: the four confusion counts
    at `num_thresholds` evenly spaced thresholds from 0 to 1 (0.5 alone for
    one threshold); `result` is the best `dependent` rate among the
    thresholds whose `constrained` rate reaches `value` (0 if none does)."""

    _keys = ("tp", "tn", "fp", "fn")  # tf.keras 2's variable order
    _value_name = "value"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        owner = type(self).__name__
        if (isinstance(value, bool) or not isinstance(value, numbers.Real)
                or not 0 <= value <= 1):
            raise ValueError(f"Argument `{self._value_name}` must be in the range [0, 1]. "
                             f"Received: {self._value_name}={value!r}")
        num_thresholds = _check_int(num_thresholds, "num_thresholds", owner, minimum=1,
                                    allow_none=False)
        super().__init__(name=name, dtype=dtype)
        self.value = value
        self.num_thresholds = num_thresholds
        self.class_id = _check_int(class_id, "class_id", owner, minimum=0)
        if num_thresholds == 1:
            self._setup_thresholds([0.5])
            self._thresholds_evenly = False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._setup_thresholds([0.0] + inner + [1.0])
            self._thresholds_evenly = True
        for key in self._keys:
            setattr(self, self._var_names[key],
                    self.add_weight(self._var_names[key], shape=(num_thresholds,)))

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds the confusion counts of one batch at every threshold.

        Args:
            y_true: 0/1 labels (non-zero counts as 1).
            y_pred: predictions in [0, 1].
            sample_weight: optional weights broadcastable to `y_pred`.
        """
        self._update(y_true, y_pred, sample_weight, class_id=self.class_id)

    def _rates(self):
        tp, tn = self.true_positives.data, self.true_negatives.data
        fp, fn = self.false_positives.data, self.false_negatives.data
        return {"sensitivity": _divide_no_nan(tp, tp + fn),
                "specificity": _divide_no_nan(tn, tn + fp),
                "precision": _divide_no_nan(tp, tp + fp)}

    def _max_under_constraint(self, constrained, dependent) -> Tensor:
        # On the device: no host read to find the feasible thresholds.
        xp = _xp()
        feasible = constrained >= self.value
        best = xp.max(xp.where(feasible, dependent, xp.full_like(dependent, -np.inf)))
        return _result_tensor(xp.where(xp.any(feasible), best, xp.zeros_like(best)))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"class_id": self.class_id, "num_thresholds": self.num_thresholds,
                       self._value_name: self.value})
        return config


class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    """The best sensitivity (recall) among thresholds with specificity >= `specificity`.

    Args:
        specificity: the specificity to reach, in [0, 1].
        num_thresholds: how many evenly spaced thresholds in [0, 1] to try.
        class_id: compute the binary metric for this class only (the last
            axis of the predictions).
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = SensitivityAtSpecificity(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> float(m.result())
        0.5
    """

    _value_name = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)
        self.specificity = specificity

    def result(self) -> Tensor:
        r = self._rates()
        return self._max_under_constraint(r["specificity"], r["sensitivity"])


class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    """The best specificity among thresholds with sensitivity >= `sensitivity`.

    Args:
        sensitivity: the sensitivity (recall) to reach, in [0, 1].
        num_thresholds: how many evenly spaced thresholds in [0, 1] to try.
        class_id: compute the binary metric for this class only.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = SpecificityAtSensitivity(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> round(float(m.result()), 6)
        0.666667
    """

    _value_name = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)
        self.sensitivity = sensitivity

    def result(self) -> Tensor:
        r = self._rates()
        return self._max_under_constraint(r["sensitivity"], r["specificity"])


class PrecisionAtRecall(_SensitivitySpecificityBase):
    """The best precision among thresholds with recall >= `recall`.

    Args:
        recall: the recall to reach, in [0, 1].
        num_thresholds: how many evenly spaced thresholds in [0, 1] to try.
        class_id: compute the binary metric for this class only.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = PrecisionAtRecall(0.5)
        >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
        >>> float(m.result())
        0.5
    """

    _value_name = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds=num_thresholds, class_id=class_id, name=name,
                         dtype=dtype)
        self.recall = recall

    def result(self) -> Tensor:
        r = self._rates()
        return self._max_under_constraint(r["sensitivity"], r["precision"])


class RecallAtPrecision(_SensitivitySpecificityBase):
    """The best recall among thresholds with precision >= `precision` (0 if
    no threshold reaches it).

    Args:
        precision: the precision to reach, in [0, 1].
        num_thresholds: how many evenly spaced thresholds in [0, 1] to try.
        class_id: compute the binary metric for this class only.
        name: the metric's name.
        dtype: dtype of the state and the result.

    Example:
        >>> m = RecallAtPrecision(0.8)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> float(m.result())
        0.5
    """

    _value_name = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)
        self.precision = precision

    def result(self) -> Tensor:
        r = self._rates()
        return self._max_under_constraint(r["precision"], r["sensitivity"])


_CURVES = {"roc": "ROC", "pr": "PR"}
_SUMMATIONS = ("interpolation", "minoring", "majoring")


class AUC(_ThresholdMetric):
    """Area under the ROC or precision-recall curve, from bucketed counts.

    Predictions are counted against `num_thresholds` thresholds: `-1e-7`,
    `(i + 1) / (num_thresholds - 1)` for `i < num_thresholds - 2`, and
    `1 + 1e-7` (tf.keras 2's layout). The ROC area is the trapezoid sum of
    recall over the false-positive rate; the PR area with
    `summation_method="interpolation"` interpolates the true and false
    positives linearly between thresholds (Davis & Goadrich, 2006), exactly
    as tf.keras 2 does. Predictions outside [0, 1] are clipped (tf.keras 2
    raises instead; checking would need a host read every batch).

    Args:
        num_thresholds: how many thresholds (> 1); ignored with `thresholds`.
        curve: `"ROC"` or `"PR"`.
        summation_method: `"interpolation"`, `"minoring"` (left sums on
            rising intervals) or `"majoring"`.
        name: the metric's name (`auc`, `auc_1`, ... by default).
        dtype: dtype of the state and the result.
        thresholds: explicit thresholds in [0, 1]; the endpoints `-1e-7`
            and `1 + 1e-7` are added.
        multi_label: compute one AUC per label (last axis of rank-2 data)
            and average them; otherwise all values are pooled.
        num_labels: the number of labels with `multi_label` (else the state
            is created on the first batch).
        label_weights: non-negative per-label weights: the weighted average
            of the label AUCs with `multi_label`, else weights of the pooled
            values.
        from_logits: apply a sigmoid to the predictions first.

    Example:
        >>> m = AUC(num_thresholds=3)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> float(m.result())
        0.75
    """

    _keys = ("tp", "tn", "fp", "fn")  # tf.keras 2's variable order

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        if not isinstance(curve, str) or curve.lower() not in _CURVES:
            raise ValueError(f'Invalid `curve` argument value "{curve}". Expected one of: '
                             "'ROC', 'PR'.")
        if not isinstance(summation_method, str) or summation_method.lower() not in _SUMMATIONS:
            raise ValueError(f'Invalid `summation_method` argument value "{summation_method}". '
                             f"Expected one of: {', '.join(repr(s) for s in _SUMMATIONS)}.")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in (
                thresholds if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]))
            self.num_thresholds = len(inner) + 2
            evenly = _evenly_distributed([0.0] + inner + [1.0])
        else:
            if (isinstance(num_thresholds, bool) or not isinstance(num_thresholds, numbers.Integral)
                    or num_thresholds <= 1):
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds!r}")
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (self.num_thresholds - 1)
                     for i in range(self.num_thresholds - 2)]
            evenly = True
        super().__init__(name=name, dtype=dtype)
        self.curve = _CURVES[curve.lower()]
        self.summation_method = summation_method.lower()
        self.multi_label = bool(multi_label)
        self.num_labels = _check_int(num_labels, "num_labels", "AUC", minimum=1)
        self._from_logits = bool(from_logits)
        self._setup_thresholds([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        self._thresholds_evenly = evenly
        if label_weights is not None:
            lw = np.asarray(
                label_weights.numpy() if isinstance(label_weights, Tensor) else label_weights,
                dtype=self._np_dtype)
            if lw.ndim != 1 or (lw < 0).any():
                raise ValueError("All values of `label_weights` must be non-negative, in a 1-D "
                                 f"list. Received: label_weights={label_weights!r}")
            self._label_weights_host = lw
            self.label_weights = _backend.get_backend().asarray(lw)
        else:
            self._label_weights_host = None
            self.label_weights = None
        self._built = False
        if self.multi_label:
            if self.num_labels:
                self._build(self.num_labels)
        else:
            if self.num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    def _build(self, num_labels):
        shape = (self.num_thresholds,) if num_labels is None else (self.num_thresholds,
                                                                   num_labels)
        if self._label_weights_host is not None and num_labels is not None and \
                self._label_weights_host.shape[0] != num_labels:
            raise ValueError(f"AUC: label_weights has {self._label_weights_host.shape[0]} "
                             f"entries for {num_labels} labels.")
        self._num_labels = num_labels
        for key in self._keys:
            setattr(self, self._var_names[key], self.add_weight(self._var_names[key], shape=shape))
        self._built = True

    @property
    def thresholds(self) -> list:
        """The thresholds, endpoints included (Python floats)."""
        return list(self._thresholds)

    @thresholds.setter
    def thresholds(self, value):
        self._thresholds = [float(t) for t in value]

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds the confusion counts of one batch at every threshold.

        Args:
            y_true: 0/1 labels (non-zero counts as 1).
            y_pred: probabilities (logits with `from_logits=True`).
            sample_weight: optional weights broadcastable to `y_pred`.
        """
        yp = _device(y_pred, self._np_dtype)
        if not self._built:
            if yp.ndim != 2:
                raise ValueError("AUC: `y_pred` must have rank 2 when `multi_label=True`. "
                                 f"Received shape {tuple(yp.shape)}.")
            self._build(yp.shape[1])
        if self._from_logits:
            yp = 0.5 * (_xp().tanh(0.5 * yp) + 1.0)  # a sigmoid that cannot overflow
        self._update(y_true, yp, sample_weight, multi_label=self.multi_label,
                     label_weights=None if self.multi_label else self.label_weights)

    def _interpolate_pr_auc(self, tp, fp, fn):
        """tf.keras 2's closed form of Davis & Goadrich's PR interpolation."""
        xp = _xp()
        n = self.num_thresholds
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        slope = _divide_no_nan(dtp, xp.maximum(dp, 0.0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[: n - 1] > 0) & (p[1:] > 0)
        ratio = xp.where(both, _divide_no_nan(p[: n - 1], xp.maximum(p[1:], 0.0)),
                         xp.ones_like(p[1:]))
        return _divide_no_nan(slope * (dtp + intercept * xp.log(ratio)),
                              xp.maximum(tp[1:] + fn[1:], 0.0))

    def result(self) -> Tensor:
        xp = _xp()
        if not self._built:
            return _result_tensor(xp.zeros((), dtype=self._np_dtype))
        tp, fp = self.true_positives.data, self.false_positives.data
        tn, fn = self.true_negatives.data, self.false_negatives.data
        n = self.num_thresholds
        if self.curve == "PR" and self.summation_method == "interpolation":
            terms = self._interpolate_pr_auc(tp, fp, fn)
        else:
            recall = _divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = _divide_no_nan(fp, fp + tn), recall
            else:
                x, y = recall, _divide_no_nan(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[: n - 1] + y[1:]) / 2.0
            elif self.summation_method == "minoring":
                heights = xp.minimum(y[: n - 1], y[1:])
            else:
                heights = xp.maximum(y[: n - 1], y[1:])
            terms = (x[: n - 1] - x[1:]) * heights
        if not self.multi_label:
            return _result_tensor(xp.sum(terms))
        by_label = xp.sum(terms, axis=0)
        if self.label_weights is None:
            return _result_tensor(xp.mean(by_label))
        lw = self.label_weights
        return _result_tensor(_divide_no_nan(xp.sum(by_label * lw), xp.sum(lw)))

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self._label_weights_host is None
            else [float(v) for v in self._label_weights_host],
            "from_logits": self._from_logits,
        })
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


# -- host metrics (tf.keras 2's `metrics.experimental.PyMetric`) -------------------------
def _host(value):
    """A tensor or backend array as a NumPy array (one transfer); anything
    else as it is."""
    if isinstance(value, Tensor):
        return value.numpy()
    b = _backend.get_backend()
    return b.to_numpy(value) if b.is_array(value) else value


class PyMetric(Metric):
    """A metric whose state is plain Python and whose code runs on the host.

    For metrics that are easiest to write with NumPy or another library
    (scikit-learn's scores, say): `update_state` receives NumPy arrays
    (tensors are copied to the host first, as tf.keras 2 hands eager
    tensors to its `PyMetric`), and `result` returns a Python number.
    `reset_state` sets up the state; it also runs at construction.
    Subclasses implement `update_state`, `result` and `reset_state`
    (and `merge_state` to support merging). tf.keras 2's
    `keras.metrics.experimental.PyMetric`.

    Args:
        name: the metric's name.
        dtype: the metric's dtype (kept for the config).

    Example:
        >>> import numpy as np
        >>> class MedianAbsoluteError(PyMetric):
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         self.errors.extend(np.abs(y_true - y_pred).ravel().tolist())
        ...     def reset_state(self):
        ...         self.errors = []
        ...     def result(self):
        ...         return float(np.median(self.errors)) if self.errors else 0.0
        >>> m = MedianAbsoluteError()
        >>> m.update_state(np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 5.0]))
        >>> m.result()
        0.5
    """

    def __init__(self, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        update = cls.__dict__.get("update_state")
        if update is None or getattr(update, "_keras_host_inputs", False):
            return

        @functools.wraps(update)
        def update_state(self, *args, **kw):
            return update(self, *(_host(a) for a in args),
                          **{k: _host(v) for k, v in kw.items()})

        update_state._keras_host_inputs = True
        cls.update_state = update_state

    def reset_state(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement reset_state(), which "
                                  "sets up its Python state.")

    def merge_state(self, metrics) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement merge_state() to "
                                  "merge the state of other metrics into its own.")


# tf.keras 2's `keras.metrics.experimental` namespace.
experimental = types.ModuleType("kerasette.metrics.experimental",
                                "tf.keras 2's `keras.metrics.experimental`: `PyMetric`.")
experimental.PyMetric = PyMetric


# -- "accuracy" and friends, resolved from shapes --------------------------------------
_RESOLVED_NAMES = ("accuracy", "acc", "crossentropy", "ce")


def _shape_of(value, what) -> tuple:
    shape = getattr(value, "shape", value)
    try:
        shape = tuple(shape)
    except TypeError:
        raise ValueError(f"get_accuracy_metric needs the shape of {what} (a tuple such as "
                         f"(None, 1)). Received: {value!r}") from None
    if not shape:
        raise ValueError(f"get_accuracy_metric needs {what} of rank >= 1. "
                         f"Received shape {shape}.")
    return shape


def get_accuracy_metric(name: str, y_true_shape: Shape, y_pred_shape: Shape,
                        loss=None) -> MeanMetricWrapper:
    """Resolves `"accuracy"`/`"acc"` (or `"crossentropy"`/`"ce"`) from shapes.

    tf.keras 2's `compile_utils.MetricsContainer._get_metric_object`:
    `is_binary = y_pred_last_dim == 1`; `is_sparse = y_true_rank <
    y_pred_rank or (y_true_last_dim == 1 and y_pred_last_dim > 1)`; binary
    wins, then sparse, else categorical. The result is a `MeanMetricWrapper`
    over `binary_accuracy`, `sparse_categorical_accuracy` or
    `categorical_accuracy` (or the matching cross-entropy) named exactly as
    the user wrote it, which is what tf.keras 2 writes into model files:
    `{"class_name": "MeanMetricWrapper", "config": {"name": "accuracy",
    "dtype": "float32", "fn": "sparse_categorical_accuracy"}}`.

    Args:
        name: `"accuracy"`, `"acc"`, `"crossentropy"` or `"ce"` (any case);
            the metric keeps this spelling as its name.
        y_true_shape: shape of the labels (a tuple, `None` for unknown
            sizes; an array or tensor also works).
        y_pred_shape: shape of the model's output.
        loss: the compiled loss. Accepted and ignored, as in tf.keras 2's
            eager `compile`: with `loss="binary_crossentropy"` and a last
            dimension above 1 (multi-label sigmoid outputs) "accuracy" is
            categorical accuracy there too; only tf.keras 1's graph mode
            looked at the loss. Ask for `BinaryAccuracy()` explicitly.

    Returns:
        A `MeanMetricWrapper` named `name`.

    Raises:
        ValueError: for another name or a shape of rank 0.

    Example:
        >>> m = get_accuracy_metric("accuracy", (None,), (None, 3))
        >>> m.name, m.get_config()["fn"]
        ('accuracy', 'sparse_categorical_accuracy')
    """
    if not isinstance(name, str) or name.lower() not in _RESOLVED_NAMES:
        raise ValueError(f"get_accuracy_metric resolves {', '.join(map(repr, _RESOLVED_NAMES))}. "
                         f"Received: name={name!r}")
    del loss  # tf.keras 2 (eager compile) does not look at it.
    t_shape = _shape_of(y_true_shape, "y_true")
    p_shape = _shape_of(y_pred_shape, "y_pred")
    t_last, p_last = t_shape[-1], p_shape[-1]
    is_binary = p_last == 1
    is_sparse = len(t_shape) < len(p_shape) or (
        t_last == 1 and p_last is not None and p_last > 1)
    if name.lower() in ("accuracy", "acc"):
        fn = (binary_accuracy if is_binary else
              sparse_categorical_accuracy if is_sparse else categorical_accuracy)
    else:
        fn = (binary_crossentropy if is_binary else
              sparse_categorical_crossentropy if is_sparse else categorical_crossentropy)
    return MeanMetricWrapper(fn, name=name)


def get_metric_object(identifier, y_true_shape: Shape | None = None,
                      y_pred_shape: Shape | None = None, loss=None) -> Metric | None:
    """Turns one entry of `compile(metrics=[...])` into a `Metric`, as tf.keras 2.

    Args:
        identifier: `None`, `"accuracy"`/`"acc"`/`"crossentropy"`/`"ce"`
            (resolved from the shapes), another name (`"mae"`, `"AUC"`), a
            config dict, a function (wrapped in a `MeanMetricWrapper` named
            after it), a `Metric` (returned as is) or a `Metric` class
            (instantiated).
        y_true_shape: shape of the labels (needed for the resolved names).
        y_pred_shape: shape of the model's output.
        loss: passed on to `get_accuracy_metric` (which ignores it).

    Returns:
        A `Metric` (its name is the string the user gave, for names), or
        `None` for `None`.

    Example:
        >>> get_metric_object("mae").name
        'mae'
        >>> type(get_metric_object("AUC")).__name__
        'AUC'
    """
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in _RESOLVED_NAMES:
        if y_true_shape is None or y_pred_shape is None:
            raise ValueError(f"The metric {identifier!r} is resolved from the shapes of y_true "
                             "and y_pred; pass y_true_shape and y_pred_shape.")
        return get_accuracy_metric(identifier, y_true_shape, y_pred_shape, loss=loss)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    obj = get(identifier)
    if isinstance(obj, Metric):
        return obj
    name = identifier if isinstance(identifier, str) else _fn_name(obj)
    return MeanMetricWrapper(obj, name=name)


# -- names -------------------------------------------------------------------------------
_TABLE = NameTable("metric", "keras.metrics")
_EXACT: dict[str, object] = {}

_FUNCTIONS: tuple[Callable, ...] = (
    accuracy, binary_accuracy, binary_crossentropy, binary_focal_crossentropy,
    categorical_accuracy, categorical_crossentropy, categorical_focal_crossentropy, hinge,
    kl_divergence, log_cosh, poisson, squared_hinge, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error,
    sparse_categorical_accuracy, sparse_categorical_crossentropy,
    sparse_top_k_categorical_accuracy, top_k_categorical_accuracy,
)
_FUNCTION_NAMES = {fn: fn.__name__ for fn in _FUNCTIONS}
# The 0/1 accuracies whose host update counts hits (`_host_hits_updater`).
_HOST_HITS = {sparse_categorical_accuracy: "sparse", categorical_accuracy: "categorical",
              binary_accuracy: "binary_mean", _binary_matches_fn: "binary"}
_ALIASES = {"acc": accuracy, "ACC": accuracy, "mse": mse, "MSE": mse, "mae": mae, "MAE": mae,
            "mape": mape, "MAPE": mape, "msle": msle, "MSLE": msle, "kld": kld, "KLD": kld,
            "kullback_leibler_divergence": kld, "logcosh": logcosh}
_CLASSES: tuple[type, ...] = (
    AUC, Accuracy, BinaryAccuracy, BinaryCrossentropy, BinaryIoU, CategoricalAccuracy,
    CategoricalCrossentropy, CategoricalHinge, CosineSimilarity, F1Score, FBetaScore,
    FalseNegatives, FalsePositives, Hinge, IoU, KLDivergence, LogCoshError, Mean,
    MeanAbsoluteError, MeanAbsolutePercentageError, MeanIoU, MeanMetricWrapper,
    MeanRelativeError, MeanSquaredError, MeanSquaredLogarithmicError, MeanTensor, OneHotIoU,
    OneHotMeanIoU, Poisson, Precision, PrecisionAtRecall, R2Score, Recall,
    RecallAtPrecision, RootMeanSquaredError, SensitivityAtSpecificity,
    SparseCategoricalAccuracy, SparseCategoricalCrossentropy, SparseTopKCategoricalAccuracy,
    SpecificityAtSensitivity, SquaredHinge, Sum, TopKCategoricalAccuracy, TrueNegatives,
    TruePositives,
)
# Exact spellings first: "mean_squared_error" is the function and
# "MeanSquaredError" the class, as in tf.keras 2. The case- and
# underscore-blind table (for other spellings and suggestions) lets the
# class win where the two normalise alike.
for _fn in _FUNCTIONS:
    _EXACT[_fn.__name__] = _fn
    _TABLE.register(_fn, _fn.__name__)
for _alias, _fn in _ALIASES.items():
    _EXACT[_alias] = _fn
    _TABLE.register(_fn, _alias)
for _cls in _CLASSES:
    _EXACT[_cls.__name__] = _cls
    _TABLE.register(_cls, _cls.__name__)


def _lookup(name: str, custom_objects=None):
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _EXACT:
        return _EXACT[name]
    return _TABLE.lookup(name, custom_objects)


def serialize(metric):
    """What tf.keras 2 writes for a metric.

    Args:
        metric: a `Metric` instance, or a metric function.

    Returns:
        For a `Metric`, the nested dict `{"module": "keras.metrics",
        "class_name": "AUC", "config": {...}, "registered_name": None}`; for a
        function, its name (`"mean_squared_error"`).

    Raises:
        ValueError: for anything else.

    Example:
        >>> serialize(CategoricalAccuracy(name="accuracy"))["config"]
        {'name': 'accuracy', 'dtype': 'float32'}
        >>> serialize(mse)
        'mean_squared_error'
    """
    if isinstance(metric, Metric):
        return _TABLE.serialize(metric)
    if isinstance(metric, str):
        obj = _lookup(metric)
        return obj.__name__ if isinstance(obj, type) else _fn_name(obj)
    if callable(metric):
        return _fn_name(metric)
    raise ValueError(f"metrics.serialize expects a Metric or a metric function. "
                     f"Received: {metric!r}")


def deserialize(config, custom_objects=None):
    """Builds a metric (or returns a metric function) from a name or config.

    Args:
        config: a function or class name (`"mse"`, `"binary_accuracy"`,
            `"AUC"`; case and underscores are forgiven for other spellings),
            or a config dict with `class_name` and `config` (the nested
            form, or the legacy `{"class_name": "MeanMetricWrapper",
            "config": {..., "fn": "sparse_categorical_accuracy"}}` of
            tf.keras 2 model files).
        custom_objects: optional dict of extra `name -> class or function`.

    Returns:
        A `Metric` instance for a class, the function for a function name.

    Raises:
        ValueError: for an unknown name (with the closest valid one).

    Example:
        >>> deserialize("mse") is mean_squared_error
        True
        >>> deserialize({"class_name": "AUC", "config": {"name": "auc_roc"}}).name
        'auc_roc'
    """
    if isinstance(config, str):
        obj = _lookup(config, custom_objects)
        return obj() if isinstance(obj, type) else obj
    if isinstance(config, dict) and "class_name" in config:
        inner = config.get("config")
        if config["class_name"] == "function":
            if not isinstance(inner, str):
                raise ValueError(f"Could not interpret metric function config: {config!r}")
            return _lookup(config.get("registered_name") or inner, custom_objects)
        name = config.get("registered_name") or config["class_name"]
        try:
            cls = _lookup(name, custom_objects)
        except ValueError:
            cls = _lookup(config["class_name"], custom_objects)
        if not isinstance(cls, type):
            return cls
        inner = dict(inner or {})
        if issubclass(cls, MeanMetricWrapper) and isinstance(inner.get("fn"), str):
            inner["fn"] = _lookup(inner["fn"], custom_objects)
        return cls.from_config(inner)
    raise ValueError(f"Could not interpret metric config: {config!r}. Expected a name or a "
                     "dict with 'class_name' and 'config'.")


def get(identifier):
    """Turns what `compile(metrics=...)` accepts into a metric or a function.

    As in tf.keras 2: a function name gives the function (`"mse"`,
    `"accuracy"` - the exact-match one; `compile` resolves `"accuracy"` by
    shape with `get_accuracy_metric`), a class name gives a new instance
    (`"AUC"`), a config dict is deserialized, a callable is returned as is.

    Args:
        identifier: a name, a config dict, or a callable.

    Returns:
        A `Metric` instance or a metric function.

    Raises:
        ValueError: for an unknown name or an identifier of another kind.

    Example:
        >>> get("mae") is mean_absolute_error
        True
        >>> type(get("Precision")).__name__
        'Precision'
    """
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")

