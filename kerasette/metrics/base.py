"""The metric base classes: `Metric`, the running `Sum` and `Mean`,
`MeanMetricWrapper` (the running mean of a per-sample function, with its
host fast path for the accuracies) and `MeanTensor`.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from kerasette.autodiff.tensor import Tensor, Variable
from kerasette.metrics._utils import (
    _broadcastable,
    _device,
    _divide_no_nan,
    _fit_weight_rank,
    _json_ready,
    _result_tensor,
    _squeeze_pair,
    _state_dtype,
    _xp,
)
from kerasette.utils.naming import to_snake_case, unique_name


def _names():
    """The metric name tables (kerasette.metrics.serialization). They list
    every metric class, this module's too, so they are imported when first
    needed, once the package is imported."""
    from kerasette.metrics import serialization
    return serialization


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


# -- the host fast path of the accuracies ------------------------------------------
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
        >>> from kerasette.metrics import mean_absolute_error
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
        kind = _names()._HOST_HITS.get(self._fn)
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
            config["fn"] = _names()._fn_name(self._fn)
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        fn = config.pop("fn", None)
        if cls is MeanMetricWrapper:
            if isinstance(fn, str):
                fn = _names().get(fn)
            return cls(fn, **config)
        return cls(**config)


class _FloatMeanMetric(MeanMetricWrapper):
    """A mean metric whose function needs floating inputs (tf.keras 2 fails
    on integer state for these)."""

    _integer_state = False


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
