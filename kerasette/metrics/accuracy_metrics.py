"""The accuracy metrics: per-sample functions (`binary_accuracy`,
`sparse_categorical_accuracy`, ...) and their running-mean classes.
"""

from __future__ import annotations

from kerasette import backend as _backend
from kerasette.autodiff.tensor import Tensor
from kerasette.metrics._utils import (
    _check_int,
    _check_real,
    _device,
    _floating,
    _squeeze_last,
    _squeeze_pair,
    _xp,
)
from kerasette.metrics.base import MeanMetricWrapper


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


# -- accuracy metric classes -----------------------------------------------------------
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
