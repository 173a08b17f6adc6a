"""Regression losses: squared, absolute, percentage and logarithmic errors,
log-cosh, Huber, Poisson and cosine similarity."""

from __future__ import annotations

import math

from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.losses.inputs import (
    _EPSILON,
    TensorLike,
    _check_axis,
    _check_delta,
    _labels,
    _prediction,
)
from kerasette.ops import nn as _nn


# -- regression losses -----------------------------------------------------------------
def mean_squared_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Mean squared error over the last axis: `mean(square(y_true - y_pred), -1)`.

    Args:
        y_true: ground truth values, shape `(batch, d0, ..., dN)`.
        y_pred: predicted values, same shape.

    Returns:
        Per-sample losses, shape `(batch, d0, ..., dN-1)`.

    Example:
        >>> from kerasette import ops
        >>> loss = mean_squared_error(ops.convert_to_tensor([[0.0, 1.0]]),
        ...                           ops.convert_to_tensor([[1.0, 1.0]]))
        >>> loss.numpy().tolist()
        [0.5]
    """
    y_pred = _prediction(y_pred, "mean_squared_error")
    y_true = _labels(y_true, y_pred, "mean_squared_error")
    # One op whose array kernels the direct training step runs too.
    return _nn.mean_squared_error_rows(y_true, y_pred)


def mean_absolute_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Mean absolute error over the last axis: `mean(abs(y_true - y_pred), -1)`.

    Args:
        y_true: ground truth values, shape `(batch, d0, ..., dN)`.
        y_pred: predicted values, same shape.

    Returns:
        Per-sample losses, shape `(batch, d0, ..., dN-1)`.

    Example:
        >>> from kerasette import ops
        >>> loss = mean_absolute_error(ops.convert_to_tensor([[0.0, 1.0]]),
        ...                            ops.convert_to_tensor([[1.0, 3.0]]))
        >>> loss.numpy().tolist()
        [1.5]
    """
    y_pred = _prediction(y_pred, "mean_absolute_error")
    y_true = _labels(y_true, y_pred, "mean_absolute_error")
    return _nn.mean_absolute_error_rows(y_true, y_pred)


def mean_absolute_percentage_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """`100 * mean(abs((y_true - y_pred) / max(abs(y_true), 1e-7)), -1)`.

    The denominator is floored at `1e-7`, as in tf.keras 2, so a zero target
    gives a large but finite loss.

    Args:
        y_true: ground truth values, shape `(batch, d0, ..., dN)`.
        y_pred: predicted values, same shape.

    Returns:
        Per-sample losses (percentages), shape `(batch, d0, ..., dN-1)`.

    Example:
        >>> from kerasette import ops
        >>> loss = mean_absolute_percentage_error(ops.convert_to_tensor([[2.0, 1.0]]),
        ...                                       ops.convert_to_tensor([[1.0, 1.0]]))
        >>> loss.numpy().tolist()
        [25.0]
    """
    y_pred = _prediction(y_pred, "mean_absolute_percentage_error")
    y_true = _labels(y_true, y_pred, "mean_absolute_percentage_error")
    diff = ops.abs(ops.divide(ops.subtract(y_true, y_pred),
                              ops.maximum(ops.abs(y_true), _EPSILON)))
    return ops.multiply(100.0, ops.mean(diff, axis=-1))


def mean_squared_logarithmic_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """`mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), -1)`.

    Values below `eps = 1e-7` are raised to it first, as in tf.keras 2, so
    negative inputs do not give NaN.

    Args:
        y_true: ground truth values, shape `(batch, d0, ..., dN)`.
        y_pred: predicted values, same shape.

    Returns:
        Per-sample losses, shape `(batch, d0, ..., dN-1)`.

    Example:
        >>> from kerasette import ops
        >>> loss = mean_squared_logarithmic_error(ops.convert_to_tensor([[0.0, 1.0]]),
        ...                                       ops.convert_to_tensor([[1.0, 1.0]]))
        >>> round(float(loss[0]), 4)
        0.2402
    """
    y_pred = _prediction(y_pred, "mean_squared_logarithmic_error")
    y_true = _labels(y_true, y_pred, "mean_squared_logarithmic_error")
    first_log = ops.log(ops.add(ops.maximum(y_pred, _EPSILON), 1.0))
    second_log = ops.log(ops.add(ops.maximum(y_true, _EPSILON), 1.0))
    return ops.mean(ops.square(ops.subtract(first_log, second_log)), axis=-1)


def log_cosh(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Mean over the last axis of `log(cosh(y_pred - y_true))`.

    Computed as `x + softplus(-2x) - log(2)`, which never overflows. About
    `x**2 / 2` for small errors and `|x| - log(2)` for large ones: like the
    squared error, but not dominated by a few wild predictions.

    Args:
        y_true: ground truth values, shape `(batch, d0, ..., dN)`.
        y_pred: predicted values, same shape.

    Returns:
        Per-sample losses, shape `(batch, d0, ..., dN-1)`.

    Example:
        >>> from kerasette import ops
        >>> loss = log_cosh(ops.convert_to_tensor([[0.0, 1.0]]),
        ...                 ops.convert_to_tensor([[1.0, 1.0]]))
        >>> round(float(loss[0]), 4)
        0.2169
    """
    y_pred = _prediction(y_pred, "log_cosh")
    y_true = _labels(y_true, y_pred, "log_cosh")
    x = ops.subtract(y_pred, y_true)
    per_value = ops.subtract(ops.add(x, ops.softplus(ops.multiply(-2.0, x))), math.log(2.0))
    return ops.mean(per_value, axis=-1)


def huber(y_true: TensorLike, y_pred: TensorLike, delta=1.0) -> Tensor:
    """Huber loss, averaged over the last axis.

    For each error `x = y_pred - y_true`: `0.5 * x**2` where `|x| <= delta`,
    and `delta * |x| - 0.5 * delta**2` beyond (quadratic near zero, linear
    far away).

    Args:
        y_true: ground truth values, shape `(batch, d0, ..., dN)`.
        y_pred: predicted values, same shape.
        delta: where the loss turns from quadratic to linear (positive).

    Returns:
        Per-sample losses, shape `(batch, d0, ..., dN-1)`.

    Example:
        >>> from kerasette import ops
        >>> loss = huber(ops.convert_to_tensor([[0.0, 0.0]]),
        ...              ops.convert_to_tensor([[0.5, 3.0]]))
        >>> loss.numpy().tolist()
        [1.3125]
    """
    delta = _check_delta(delta, "huber")
    y_pred = _prediction(y_pred, "huber")
    y_true = _labels(y_true, y_pred, "huber")
    error = ops.subtract(y_pred, y_true)
    abs_error = ops.abs(error)
    quadratic = ops.multiply(0.5, ops.square(error))
    linear = ops.subtract(ops.multiply(delta, abs_error), 0.5 * delta * delta)
    return ops.mean(ops.where(ops.less_equal(abs_error, delta), quadratic, linear), axis=-1)


huber_loss = huber


def poisson(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Poisson loss: `mean(y_pred - y_true * log(y_pred + 1e-7), -1)`.

    Args:
        y_true: observed counts, shape `(batch, d0, ..., dN)`.
        y_pred: predicted rates (non-negative), same shape.

    Returns:
        Per-sample losses, shape `(batch, d0, ..., dN-1)`.

    Example:
        >>> from kerasette import ops
        >>> loss = poisson(ops.convert_to_tensor([[0.0, 1.0]]),
        ...                ops.convert_to_tensor([[1.0, 1.0]]))
        >>> round(float(loss[0]), 4)
        1.0
    """
    y_pred = _prediction(y_pred, "poisson")
    y_true = _labels(y_true, y_pred, "poisson")
    log_pred = ops.log(ops.add(y_pred, _EPSILON))
    return ops.mean(ops.subtract(y_pred, ops.multiply(y_true, log_pred)), axis=-1)


def cosine_similarity(y_true: TensorLike, y_pred: TensorLike, axis=-1) -> Tensor:
    """Negative cosine similarity along `axis`: `-sum(l2_normalize(y_true) *
    l2_normalize(y_pred), axis)`.

    The result lies in `[-1, 1]`; -1 means the vectors point the same way, so
    minimising it maximises the similarity. A zero vector gives 0. (Norms are
    floored at `1e-6`, as TensorFlow's `l2_normalize` floors the squared norm
    at `1e-12`.)

    Args:
        y_true: ground truth vectors.
        y_pred: predicted vectors, same shape.
        axis: the axis of the vectors.

    Returns:
        Per-sample losses, `y_pred`'s shape without `axis`.

    Example:
        >>> from kerasette import ops
        >>> loss = cosine_similarity(ops.convert_to_tensor([[0.0, 1.0], [1.0, 1.0]]),
        ...                          ops.convert_to_tensor([[1.0, 0.0], [2.0, 2.0]]))
        >>> [round(v, 4) for v in loss.numpy().tolist()]
        [-0.0, -1.0]
    """
    axis = _check_axis(axis, "cosine_similarity")
    y_pred = _prediction(y_pred, "cosine_similarity")
    y_true = _labels(y_true, y_pred, "cosine_similarity")
    return ops.negative(ops.sum(ops.multiply(_l2_normalize(y_true, axis),
                                             _l2_normalize(y_pred, axis)), axis=axis))


def _l2_normalize(x: Tensor, axis: int) -> Tensor:
    # TensorFlow's l2_normalize: x / sqrt(max(sum(x**2), 1e-12)).
    square_sum = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return ops.divide(x, ops.sqrt(ops.maximum(square_sum, 1e-12)))
