"""Margin losses: hinge, squared hinge and categorical hinge."""

from __future__ import annotations

from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.losses.inputs import TensorLike, _labels, _prediction


# -- margin losses -----------------------------------------------------------------------
def _maybe_convert_labels(y_true: Tensor) -> Tensor:
    """Maps 0/1 labels to -1/+1 when every label is 0 or 1 (tf.keras 2).

    The test and the choice both stay on the device: no host read per batch.
    """
    if y_true.size == 0:
        return y_true
    # y * (1 - y) is exactly 0 for y in {0, 1} and nonzero otherwise.
    is_binary = ops.equal(ops.max(ops.abs(ops.multiply(y_true, ops.subtract(1.0, y_true)))), 0.0)
    return ops.where(is_binary, ops.subtract(ops.multiply(2.0, y_true), 1.0), y_true)


def hinge(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Hinge loss: `mean(maximum(1 - y_true * y_pred, 0), -1)`.

    Labels are expected to be -1 or 1; labels that are all 0 or 1 are mapped
    to -1/1 first, as in tf.keras 2.

    Args:
        y_true: labels, shape `(batch, d0, ..., dN)`.
        y_pred: predicted scores, same shape.

    Returns:
        Per-sample losses, shape `(batch, d0, ..., dN-1)`.

    Example:
        >>> from kerasette import ops
        >>> loss = hinge(ops.convert_to_tensor([[0.0, 1.0]]),
        ...              ops.convert_to_tensor([[0.6, 0.4]]))
        >>> round(float(loss[0]), 4)
        1.1
    """
    y_pred = _prediction(y_pred, "hinge")
    y_true = _maybe_convert_labels(_labels(y_true, y_pred, "hinge"))
    margin = ops.maximum(ops.subtract(1.0, ops.multiply(y_true, y_pred)), 0.0)
    return ops.mean(margin, axis=-1)


def squared_hinge(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Squared hinge loss: `mean(square(maximum(1 - y_true * y_pred, 0)), -1)`.

    Labels are expected to be -1 or 1; labels that are all 0 or 1 are mapped
    to -1/1 first, as in tf.keras 2.

    Args:
        y_true: labels, shape `(batch, d0, ..., dN)`.
        y_pred: predicted scores, same shape.

    Returns:
        Per-sample losses, shape `(batch, d0, ..., dN-1)`.

    Example:
        >>> from kerasette import ops
        >>> loss = squared_hinge(ops.convert_to_tensor([[0.0, 1.0]]),
        ...                      ops.convert_to_tensor([[0.6, 0.4]]))
        >>> round(float(loss[0]), 4)
        1.46
    """
    y_pred = _prediction(y_pred, "squared_hinge")
    y_true = _maybe_convert_labels(_labels(y_true, y_pred, "squared_hinge"))
    margin = ops.maximum(ops.subtract(1.0, ops.multiply(y_true, y_pred)), 0.0)
    return ops.mean(ops.square(margin), axis=-1)


def categorical_hinge(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Categorical hinge: `maximum(neg - pos + 1, 0)` with
    `pos = sum(y_true * y_pred, -1)` and `neg = max((1 - y_true) * y_pred, -1)`.

    Args:
        y_true: one-hot labels (0/1, or -1/+1), shape `(batch, ..., classes)`.
        y_pred: predicted scores, same shape.

    Returns:
        Per-sample losses, shape `(batch, ...)`.

    Example:
        >>> from kerasette import ops
        >>> loss = categorical_hinge(ops.convert_to_tensor([[0.0, 1.0]]),
        ...                          ops.convert_to_tensor([[0.6, 0.4]]))
        >>> round(float(loss[0]), 4)
        1.2
    """
    y_pred = _prediction(y_pred, "categorical_hinge")
    y_true = _labels(y_true, y_pred, "categorical_hinge")
    pos = ops.sum(ops.multiply(y_true, y_pred), axis=-1)
    neg = ops.max(ops.multiply(ops.subtract(1.0, y_true), y_pred), axis=-1)
    return ops.maximum(ops.add(ops.subtract(neg, pos), 1.0), 0.0)
