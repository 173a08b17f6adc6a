"""The regression metrics: mean squared, absolute, percentage and
logarithmic errors (functions and classes), `RootMeanSquaredError`,
`CosineSimilarity`, `LogCoshError`, `R2Score` and `MeanRelativeError`.
"""

from __future__ import annotations

import warnings

import numpy as np

from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.metrics._utils import (
    EPSILON,
    _broadcastable,
    _check_int,
    _device,
    _divide_no_nan,
    _floating,
    _losses,
    _result_tensor,
    _squeeze_last,
    _squeeze_pair,
    _xp,
)
from kerasette.metrics.base import Mean, MeanMetricWrapper, Metric, _FloatMeanMetric


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


def log_cosh(y_true, y_pred) -> Tensor:
    """Per-sample `log(cosh(y_pred - y_true))`, averaged over the last axis;
    `kerasette.losses.log_cosh`."""
    return _losses().log_cosh(y_true, y_pred)


def _cosine_similarity(y_true, y_pred, axis=-1) -> Tensor:
    """tf.keras 2's metric `cosine_similarity`: the (positive) cosine of the
    angle between the L2-normalised vectors, the loss's negative."""
    return ops.negative(_losses().cosine_similarity(y_true, y_pred, axis=axis))


logcosh = log_cosh


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
