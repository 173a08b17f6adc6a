"""Loss functions and loss classes with tf.keras 2's names, defaults and numerics.

Every loss exists twice, as in Keras:

* a **function** `fn(y_true, y_pred, ...)` that returns one value per sample
  (it reduces the last axis, or `axis`), such as `mean_squared_error`;
* a **class** such as `MeanSquaredError(reduction="auto", name=...)` whose
  instances are called as `loss(y_true, y_pred, sample_weight=None)` and
  return one number: the per-sample losses, weighted, then summed and divided
  by their count (`"auto"` / `"sum_over_batch_size"`), summed (`"sum"`), or
  left as they are (`"none"`).

The numbers are tf.keras 2's: probabilities are clipped to
`[1e-7, 1 - 1e-7]` in the cross-entropies, and a `y_pred` that came out of
a softmax or sigmoid is scored from the logits that made it (the stable
path tf.keras 2 takes too), so a saturated output never gives an infinite
loss. Everything is built from `kerasette.ops`, so a loss is differentiable
and runs on the active backend.

Example:
    >>> import kerasette as keras
    >>> from kerasette import losses, ops
    >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
    >>> y_pred = ops.convert_to_tensor([[1.0, 1.0], [1.0, 0.0]])
    >>> losses.mean_squared_error(y_true, y_pred).numpy().tolist()
    [0.5, 0.5]
    >>> float(losses.MeanSquaredError()(y_true, y_pred))
    0.5
    >>> losses.get("mse") is losses.mean_squared_error
    True
"""

from __future__ import annotations

import difflib
import math
import numbers
import warnings
from collections.abc import Callable
from typing import Union

import numpy as np

from kerasette import backend as _backend
from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.ops import nn as _nn
from kerasette.utils.registry import _CUSTOM_OBJECTS, NameTable

__all__ = [
    "BCE",
    "KLD",
    "MAE",
    "MAPE",
    "MSE",
    "MSLE",
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "CategoricalHinge",
    "CosineSimilarity",
    "Hinge",
    "Huber",
    "KLDivergence",
    "LogCosh",
    "Loss",
    "LossFunctionWrapper",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "Reduction",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "bce",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_hinge",
    "cosine_similarity",
    "deserialize",
    "get",
    "hinge",
    "huber",
    "huber_loss",
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
    "sparse_categorical_crossentropy",
    "squared_hinge",
]

# Union, not `|`: this alias is evaluated at import, also on Python 3.9.
TensorLike = Union[Tensor, np.ndarray, list, float, int]  # noqa: UP007

# tf.keras 2's `backend.epsilon()`: the clip margin of the probability-space
# cross-entropies and the floor of a few denominators and logarithms.
_EPSILON = 1e-7


# -- inputs ------------------------------------------------------------------------
def _to_tensor(x, owner: str, what: str) -> Tensor:
    """A loss input as a Tensor: tensors and backend arrays as they are, lists
    and numbers converted (the explicit host-to-device step), NumPy arrays
    only on the NumPy backend (CuPy refuses them, and so does `strict`)."""
    if isinstance(x, Tensor):
        return x
    b = _backend.get_backend()
    if b.is_array(x):
        return Tensor(x)
    if isinstance(x, np.ndarray) and b.name != "numpy":
        raise TypeError(
            f"{owner} received `{what}` as a NumPy array of shape {x.shape} while the "
            f"{b.name!r} backend is active, where device code refuses host arrays (as "
            "CuPy does). Convert it once with kerasette.ops.convert_to_tensor(x)."
        )
    try:
        return ops.convert_to_tensor(x)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{owner} expects `{what}` to be a tensor, an array or a (nested) list of "
            f"numbers. Received: {what}={x!r} of type {type(x).__name__}"
        ) from err


def _prediction(y_pred, owner: str) -> Tensor:
    """`y_pred` as a floating tensor (integer predictions become floatx)."""
    t = _to_tensor(y_pred, owner, "y_pred")
    if t.dtype.kind != "f":
        t = ops.cast(t, _backend.floatx())
    return t


def _labels(y_true, like: Tensor, owner: str) -> Tensor:
    """`y_true` cast to the dtype of `y_pred`, as tf.keras 2 does (so float32
    predictions never meet float64 labels)."""
    t = _to_tensor(y_true, owner, "y_true")
    if t.dtype != like.dtype:
        t = ops.cast(t, like.dtype)
    return t


# -- argument checks -----------------------------------------------------------------
def _check_axis(axis, owner: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise ValueError(f"{owner} expects `axis` to be an int. Received: axis={axis!r}")
    return int(axis)


def _check_label_smoothing(value, owner: str) -> float:
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or not 0.0 <= value <= 1.0):
        raise ValueError(
            f"{owner} expects `label_smoothing` to be a number in [0, 1]. "
            f"Received: label_smoothing={value!r}"
        )
    return float(value)


def _check_from_logits(value, owner: str) -> bool:
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, numbers.Integral)
                                              and value in (0, 1)):
        return bool(value)
    raise ValueError(f"{owner} expects `from_logits` to be True or False. "
                     f"Received: from_logits={value!r}")


def _check_delta(value, owner: str) -> float:
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value <= 0):
        raise ValueError(f"{owner} expects `delta` to be a positive number. "
                         f"Received: delta={value!r}")
    return float(value)


def _check_ignore_class(value, owner: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{owner} expects `ignore_class` to be None or an int class id. "
                         f"Received: ignore_class={value!r}")
    return int(value)


def _check_axis_in(axis: int, ndim: int, owner: str) -> int:
    if not -ndim <= axis < ndim:
        raise ValueError(f"{owner}: axis={axis} is out of range for y_pred of rank {ndim}.")
    return axis % ndim


def _same_shape(y_true: Tensor, y_pred: Tensor, owner: str, hint: str = "") -> None:
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{owner} expects `y_true` and `y_pred` of the same shape. Received: "
            f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}.{hint}"
        )


def _get_logits(y_pred: Tensor, from_logits: bool, activation: str, owner: str,
                axis: int | None = None):
    """The logits behind a softmax/sigmoid output, as tf.keras 2's `_get_logits`.

    A softmax or sigmoid output remembers its input (`_keras_logits`).
    Scoring that input with the fused, stable op gives the same loss without
    ever taking the log of a probability that rounded to 0 or 1. A softmax
    is marked only when it ran over the last axis, so the logits are used
    only when the loss reduces that axis too.
    """
    logits = getattr(y_pred, "_keras_logits", None)
    if logits is None or (axis is not None and axis != y_pred.ndim - 1):
        return y_pred, from_logits
    if from_logits:
        warnings.warn(
            f"`{owner}` received `from_logits=True`, but the `y_pred` argument was "
            f"produced by a {activation} activation and thus does not represent "
            "logits. Was this intended?",
            stacklevel=4,
        )
    return logits, True


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


# -- probabilistic losses -----------------------------------------------------------------
def kl_divergence(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Kullback-Leibler divergence: `sum(y_true * log(y_true / y_pred), -1)`.

    Both inputs are clipped to `[1e-7, 1]` first, as in tf.keras 2, so zero
    entries contribute (almost) nothing instead of NaN.

    Args:
        y_true: target distributions, shape `(batch, ..., classes)`.
        y_pred: predicted distributions, same shape.

    Returns:
        Per-sample losses, shape `(batch, ...)`.

    Example:
        >>> from kerasette import ops
        >>> loss = kl_divergence(ops.convert_to_tensor([[0.0, 1.0]]),
        ...                      ops.convert_to_tensor([[0.6, 0.4]]))
        >>> round(float(loss[0]), 4)
        0.9163
    """
    y_pred = _prediction(y_pred, "kl_divergence")
    y_true = _labels(y_true, y_pred, "kl_divergence")
    y_true = ops.clip(y_true, _EPSILON, 1.0)
    y_pred = ops.clip(y_pred, _EPSILON, 1.0)
    return ops.sum(ops.multiply(y_true, ops.log(ops.divide(y_true, y_pred))), axis=-1)


kld = KLD = kullback_leibler_divergence = kl_divergence


def binary_crossentropy(y_true: TensorLike, y_pred: TensorLike, from_logits=False,
                        label_smoothing=0.0, axis=-1) -> Tensor:
    """Binary cross-entropy, averaged over `axis`.

    With probabilities (`from_logits=False`), `p` is clipped to
    `[1e-7, 1 - 1e-7]` and each entry scores
    `-(y * log(p + 1e-7) + (1 - y) * log(1 - p + 1e-7))`, exactly as
    tf.keras 2. If `y_pred` is the output of a sigmoid, its logits are
    scored instead with the stable `max(z, 0) - z*y + log(1 + exp(-|z|))`.
    With `from_logits=True` `y_pred` is taken to be logits.

    Args:
        y_true: labels in `[0, 1]`, shape `(batch, d0, ..., dN)`.
        y_pred: probabilities (or logits), same shape.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: in `[0, 1]`; labels become
            `y * (1 - label_smoothing) + 0.5 * label_smoothing`.
        axis: the axis averaged over.

    Returns:
        Per-sample losses, `y_pred`'s shape without `axis`.

    Example:
        >>> from kerasette import ops
        >>> loss = binary_crossentropy(ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]]),
        ...                            ops.convert_to_tensor([[0.6, 0.4], [0.4, 0.6]]))
        >>> [round(v, 3) for v in loss.numpy().tolist()]
        [0.916, 0.714]
    """
    owner = "binary_crossentropy"
    from_logits = _check_from_logits(from_logits, owner)
    label_smoothing = _check_label_smoothing(label_smoothing, owner)
    axis = _check_axis(axis, owner)
    y_pred = _prediction(y_pred, owner)
    y_true = _labels(y_true, y_pred, owner)
    if label_smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)
    return ops.mean(_binary_crossentropy(y_true, y_pred, from_logits, owner), axis=axis)


def _binary_crossentropy(target: Tensor, output: Tensor, from_logits: bool, owner: str):
    """Elementwise binary cross-entropy (tf.keras 2's `backend.binary_crossentropy`)."""
    output, from_logits = _get_logits(output, from_logits, "sigmoid", owner)
    if from_logits:
        _same_shape(target, output, owner)
        return ops.sigmoid_cross_entropy(target, output)
    output = ops.clip(output, _EPSILON, 1.0 - _EPSILON)
    positive = ops.multiply(target, ops.log(ops.add(output, _EPSILON)))
    negative = ops.multiply(ops.subtract(1.0, target),
                            ops.log(ops.add(ops.subtract(1.0, output), _EPSILON)))
    return ops.negative(ops.add(positive, negative))


bce = BCE = binary_crossentropy


def _check_gamma(value, owner: str) -> float:
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value < 0):
        raise ValueError(f"{owner} expects `gamma` to be a non-negative number. "
                         f"Received: gamma={value!r}")
    return float(value)


def _check_alpha(value, owner: str, allow_list: bool):
    """A finite number, or (for the categorical loss) a list of them, one per
    class; returned as given so the config keeps it."""
    values = list(value) if allow_list and isinstance(value, (list, tuple)) else [value]
    if not values or any(isinstance(v, bool) or not isinstance(v, numbers.Real)
                         or not math.isfinite(v) for v in values):
        expected = "a number or a list of numbers (one per class)" if allow_list else "a number"
        raise ValueError(f"{owner} expects `alpha` to be {expected}. Received: alpha={value!r}")
    if isinstance(value, (list, tuple)):
        return [float(v) for v in value]
    return float(value)


def _check_bool(value, name: str, owner: str) -> bool:
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, numbers.Integral)
                                              and value in (0, 1)):
        return bool(value)
    raise ValueError(f"{owner} expects `{name}` to be True or False. Received: {name}={value!r}")


def binary_focal_crossentropy(y_true: TensorLike, y_pred: TensorLike,
                              apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1) -> Tensor:
    """Binary focal cross-entropy (Lin et al., 2018), averaged over `axis`.

    Each entry scores `(1 - p_t) ** gamma * bce`, where `p_t` is the
    predicted probability of the true label and `bce` the entry's binary
    cross-entropy (computed as `binary_crossentropy` does, from the logits
    behind a sigmoid output). With `apply_class_balancing`, entries of label
    1 are further weighted by `alpha` and those of label 0 by `1 - alpha`.
    tf.keras 2's formula, step for step.

    Args:
        y_true: labels in `[0, 1]`, shape `(batch, d0, ..., dN)`.
        y_pred: probabilities (or logits), same shape.
        apply_class_balancing: whether to weight the two classes by `alpha`
            and `1 - alpha`.
        alpha: the weight of class 1 with `apply_class_balancing`.
        gamma: the focusing parameter (0 gives the plain cross-entropy).
        from_logits: whether `y_pred` holds logits.
        label_smoothing: in `[0, 1]`; labels become
            `y * (1 - label_smoothing) + 0.5 * label_smoothing`.
        axis: the axis averaged over.

    Returns:
        Per-sample losses, `y_pred`'s shape without `axis`.

    Example:
        >>> from kerasette import ops
        >>> loss = binary_focal_crossentropy(ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]]),
        ...                                  ops.convert_to_tensor([[0.6, 0.4], [0.4, 0.6]]),
        ...                                  gamma=2.0)
        >>> [round(v, 3) for v in loss.numpy().tolist()]
        [0.33, 0.206]
    """
    owner = "binary_focal_crossentropy"
    apply_class_balancing = _check_bool(apply_class_balancing, "apply_class_balancing", owner)
    alpha = _check_alpha(alpha, owner, allow_list=False)
    gamma = _check_gamma(gamma, owner)
    from_logits = _check_from_logits(from_logits, owner)
    label_smoothing = _check_label_smoothing(label_smoothing, owner)
    axis = _check_axis(axis, owner)
    y_pred = _prediction(y_pred, owner)
    y_true = _labels(y_true, y_pred, owner)
    if label_smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)
    probs = ops.sigmoid(y_pred) if from_logits else y_pred
    p_t = ops.add(ops.multiply(y_true, probs),
                  ops.multiply(ops.subtract(1.0, y_true), ops.subtract(1.0, probs)))
    focal = ops.multiply(ops.power(ops.subtract(1.0, p_t), gamma),
                         _binary_crossentropy(y_true, y_pred, from_logits, owner))
    if apply_class_balancing:
        weight = ops.add(ops.multiply(y_true, alpha),
                         ops.multiply(ops.subtract(1.0, y_true), 1.0 - alpha))
        focal = ops.multiply(weight, focal)
    return ops.mean(focal, axis=axis)


def categorical_focal_crossentropy(y_true: TensorLike, y_pred: TensorLike, alpha=0.25,
                                   gamma=2.0, from_logits=False, label_smoothing=0.0,
                                   axis=-1) -> Tensor:
    """Categorical focal cross-entropy (Lin et al., 2018), summed over `axis`.

    Each class scores `alpha * (1 - p) ** gamma * (-y * log(p))`, with `p`
    the predicted probability rescaled to sum to one along `axis` and clipped
    to `[1e-7, 1 - 1e-7]` (a softmax of the logits first with
    `from_logits=True`), as tf.keras 2 computes it.

    Args:
        y_true: one-hot or probability labels, shape `(batch, ..., classes)`.
        y_pred: probabilities (or logits), same shape.
        alpha: a weight for every class, or a list with one weight per class
            (applied along the last axis, as in tf.keras 2).
        gamma: the focusing parameter (0 gives `alpha` times the plain
            cross-entropy).
        from_logits: whether `y_pred` holds logits.
        label_smoothing: in `[0, 1]`; labels become
            `y * (1 - label_smoothing) + label_smoothing / classes`.
        axis: the class axis.

    Returns:
        Per-sample losses, `y_pred`'s shape without `axis`.

    Example:
        >>> from kerasette import ops
        >>> loss = categorical_focal_crossentropy(
        ...     ops.convert_to_tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
        ...     ops.convert_to_tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]))
        >>> [round(v, 5) for v in loss.numpy().tolist()]
        [3e-05, 0.46627]
    """
    owner = "categorical_focal_crossentropy"
    alpha = _check_alpha(alpha, owner, allow_list=True)
    gamma = _check_gamma(gamma, owner)
    from_logits = _check_from_logits(from_logits, owner)
    label_smoothing = _check_label_smoothing(label_smoothing, owner)
    axis = _check_axis(axis, owner)
    y_pred = _prediction(y_pred, owner)
    y_true = _labels(y_true, y_pred, owner)
    _same_shape(y_true, y_pred, owner)
    axis = _check_axis_in(axis, y_pred.ndim, owner)
    if isinstance(alpha, list) and len(alpha) != y_pred.shape[-1]:
        raise ValueError(f"{owner}: `alpha` has {len(alpha)} entries for y_pred of shape "
                         f"{y_pred.shape}; give one per class (the last axis).")
    if y_pred.shape[-1] == 1:
        warnings.warn(
            "In loss categorical_focal_crossentropy, expected y_pred.shape to be "
            "(batch_size, num_classes) with num_classes > 1. Received: "
            f"y_pred.shape={y_pred.shape}. Consider using 'binary_crossentropy' if "
            "you only have 2 classes.",
            SyntaxWarning,
            stacklevel=2,
        )
    if label_smoothing:
        # tf.keras 2 counts the classes on the last axis, whatever `axis` is.
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing),
                         label_smoothing / y_true.shape[-1])
    output, from_logits = _get_logits(y_pred, from_logits, "softmax", owner, axis)
    if from_logits:
        output = ops.softmax(output, axis=axis)
    output = _normalized_probabilities(output, axis)
    cce = ops.negative(ops.multiply(y_true, ops.log(output)))
    modulating = ops.power(ops.subtract(1.0, output), gamma)
    if isinstance(alpha, list):
        weights = ops.multiply(modulating, ops.convert_to_tensor(alpha, dtype=y_pred.dtype))
    else:
        weights = ops.multiply(modulating, alpha)
    return ops.sum(ops.multiply(weights, cce), axis=axis)


def categorical_crossentropy(y_true: TensorLike, y_pred: TensorLike, from_logits=False,
                             label_smoothing=0.0, axis=-1) -> Tensor:
    """Categorical cross-entropy between one-hot (or soft) labels and predictions.

    With probabilities (`from_logits=False`), `y_pred` is rescaled to sum to
    one along `axis`, clipped to `[1e-7, 1 - 1e-7]`, and the loss is
    `-sum(y_true * log(y_pred), axis)`, exactly as tf.keras 2. If `y_pred`
    is the output of a softmax over that axis, its logits are scored
    instead with the fused, stable softmax cross-entropy. With
    `from_logits=True` `y_pred` is taken to be logits.

    Args:
        y_true: one-hot or probability labels, shape `(batch, ..., classes)`.
        y_pred: probabilities (or logits), same shape.
        from_logits: whether `y_pred` holds logits.
        label_smoothing: in `[0, 1]`; labels become
            `y * (1 - label_smoothing) + label_smoothing / classes`.
        axis: the class axis.

    Returns:
        Per-sample losses, `y_pred`'s shape without `axis`.

    Example:
        >>> from kerasette import ops
        >>> loss = categorical_crossentropy(
        ...     ops.convert_to_tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]),
        ...     ops.convert_to_tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]))
        >>> [round(v, 4) for v in loss.numpy().tolist()]
        [0.0513, 2.3026]
    """
    owner = "categorical_crossentropy"
    from_logits = _check_from_logits(from_logits, owner)
    label_smoothing = _check_label_smoothing(label_smoothing, owner)
    axis = _check_axis(axis, owner)
    y_pred = _prediction(y_pred, owner)
    y_true = _labels(y_true, y_pred, owner)
    _same_shape(y_true, y_pred, owner,
                " For integer class ids use sparse_categorical_crossentropy.")
    axis = _check_axis_in(axis, y_pred.ndim, owner)
    if y_pred.shape[-1] == 1:
        # tf.keras 2 warns here too (with this category): one class is
        # always right, so the loss is constant and nothing is learnt.
        warnings.warn(
            "In loss categorical_crossentropy, expected y_pred.shape to be "
            "(batch_size, num_classes) with num_classes > 1. Received: "
            f"y_pred.shape={y_pred.shape}. Consider using 'binary_crossentropy' if "
            "you only have 2 classes.",
            SyntaxWarning,
            stacklevel=2,
        )
    if label_smoothing:
        num_classes = y_true.shape[axis]
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing),
                         label_smoothing / num_classes)
    output, from_logits = _get_logits(y_pred, from_logits, "softmax", owner, axis)
    if from_logits:
        return ops.softmax_cross_entropy(y_true, output, axis=axis)
    output = _normalized_probabilities(output, axis)
    return ops.negative(ops.sum(ops.multiply(y_true, ops.log(output)), axis=axis))


def _normalized_probabilities(output, axis):
    """Probabilities rescaled to sum to one along `axis`, then clipped so a
    log stays finite. The floor on the sum changes nothing for a
    distribution (sum >= 1e-7) and turns the 0/0 of an all-zero row (a ReLU
    output, say) into zeros, scored by the clip as probability 1e-7, where
    tf.keras 2 gives NaN."""
    total = ops.maximum(ops.sum(output, axis=axis, keepdims=True), _EPSILON)
    return ops.clip(ops.divide(output, total), _EPSILON, 1.0 - _EPSILON)


def sparse_categorical_crossentropy(y_true: TensorLike, y_pred: TensorLike, from_logits=False,
                                    axis=-1, ignore_class=None) -> Tensor:
    """Categorical cross-entropy with integer class ids as labels.

    Labels may have `y_pred`'s shape without the class axis, or that shape
    with a trailing 1 (`(batch,)` or `(batch, 1)` for `(batch, classes)`
    predictions), and any integer or float dtype (floats are truncated to
    ints). With probabilities, `y_pred` is clipped to `[1e-7, 1 - 1e-7]` and
    its log is scored with a softmax cross-entropy, exactly as tf.keras 2;
    the output of a softmax is scored from its logits instead.

    Args:
        y_true: integer class ids.
        y_pred: probabilities (or logits), shape `(batch, ..., classes)`.
        from_logits: whether `y_pred` holds logits.
        axis: the class axis of `y_pred`.
        ignore_class: a class id whose entries get a loss of 0 (for example
            a "void" label such as -1 or 255), or `None`.

    Returns:
        Per-sample losses, `y_pred`'s shape without `axis`.

    Example:
        >>> from kerasette import ops
        >>> loss = sparse_categorical_crossentropy(
        ...     ops.convert_to_tensor([1, 2]),
        ...     ops.convert_to_tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]))
        >>> [round(v, 4) for v in loss.numpy().tolist()]
        [0.0513, 2.3026]
    """
    return _sparse_categorical_crossentropy(y_true, y_pred, from_logits, axis, ignore_class)[0]


def _sparse_categorical_crossentropy(y_true, y_pred, from_logits, axis, ignore_class):
    """`(losses, valid_mask or None)`; the mask marks entries not ignored."""
    owner = "sparse_categorical_crossentropy"
    from_logits = _check_from_logits(from_logits, owner)
    axis = _check_axis(axis, owner)
    ignore_class = _check_ignore_class(ignore_class, owner)
    y_pred = _prediction(y_pred, owner)
    labels = _to_tensor(y_true, owner, "y_true")
    if labels.dtype != np.int64:
        labels = ops.cast(labels, "int64")
    rank = y_pred.ndim
    if rank < 1:
        raise ValueError(f"{owner} expects y_pred with a class axis. "
                         f"Received: y_pred.shape={y_pred.shape}")
    axis = _check_axis_in(axis, rank, owner)
    output, from_logits = _get_logits(y_pred, from_logits, "softmax", owner, axis)
    if not from_logits:
        # tf.keras 2 takes log(clip(p)) as the logits: the softmax inside the
        # fused op renormalises the clipped probabilities.
        output = ops.log(ops.clip(output, _EPSILON, 1.0 - _EPSILON))
    if axis != rank - 1:
        output = ops.transpose(output, [a for a in range(rank) if a != axis] + [axis])
    out_shape = output.shape
    lead = out_shape[:-1]
    if labels.shape != lead:
        if labels.size != int(np.prod(lead, dtype=np.int64)):
            raise ValueError(
                f"{owner} expects integer class ids of shape {lead} (or {lead + (1,)}) for "
                f"y_pred of shape {y_pred.shape}. Received: y_true.shape={labels.shape}. "
                "For one-hot labels use categorical_crossentropy."
            )
        labels = ops.reshape(labels, lead)
    valid = None
    if ignore_class is not None:
        valid = ops.not_equal(labels, ignore_class)
        # Ignored ids (often -1 or 255) may not index a class: use 0 there and
        # zero the loss (and so its gradient) afterwards.
        labels = ops.where(valid, labels, 0)
    losses = ops.sparse_softmax_cross_entropy(labels, output)
    if valid is not None:
        losses = ops.where(valid, losses, 0.0)
    return losses, valid


# -- reductions -------------------------------------------------------------------------
class Reduction:
    """The ways a loss object reduces its per-sample losses (tf.keras 2's
    `tf.keras.losses.Reduction`).

    * `AUTO`: `SUM_OVER_BATCH_SIZE` (the default).
    * `NONE`: no reduction; the weighted per-sample losses.
    * `SUM`: the sum of the weighted per-sample losses.
    * `SUM_OVER_BATCH_SIZE`: that sum divided by the number of per-sample
      losses (not by the sum of the weights).

    Example:
        >>> Reduction.SUM
        'sum'
        >>> Reduction.validate("sum_over_batch_size")
    """

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls) -> tuple:
        """The four reduction names."""
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key) -> None:
        """Raises `ValueError` unless `key` is one of `all()`."""
        if key not in cls.all():
            raise ValueError(
                f"Invalid Reduction Key: {key!r}. Expected one of {', '.join(cls.all())}."
            )


def _check_reduction(reduction, owner: str) -> str:
    if reduction is None:
        return Reduction.NONE  # Keras 3 spells "no reduction" as None
    if not isinstance(reduction, str) or reduction not in Reduction.all():
        raise ValueError(
            f"{owner} expects `reduction` to be one of {', '.join(Reduction.all())}. "
            f"Received: reduction={reduction!r}"
        )
    return reduction


def _weights_like(sample_weight, losses: Tensor, owner: str) -> Tensor:
    """`sample_weight` in `losses`' dtype with its rank matched as tf.keras 2
    does: a trailing 1 is dropped, or a trailing axis added, when the ranks
    differ by one; a scalar stays a scalar."""
    sw = _to_tensor(sample_weight, owner, "sample_weight")
    if sw.dtype != losses.dtype:
        sw = ops.cast(sw, losses.dtype)
    if sw.ndim > 0:
        if sw.ndim == losses.ndim + 1 and sw.shape[-1] == 1:
            sw = ops.squeeze(sw, axis=-1)
        elif sw.ndim + 1 == losses.ndim:
            sw = ops.expand_dims(sw, -1)
    try:
        np.broadcast_shapes(tuple(losses.shape), tuple(sw.shape))
    except ValueError:
        raise ValueError(
            f"{owner}: `sample_weight` of shape {tuple(sw.shape)} does not broadcast "
            f"against the per-sample losses of shape {tuple(losses.shape)}. Pass one "
            "weight per sample, shape (batch,) or (batch, 1), or a scalar."
        ) from None
    return sw


def _with_output_mask(mask, y_pred, losses):
    """`mask` joined with the mask riding on `y_pred` (a sequence output
    of masked time steps), as tf.keras 2's `Loss.__call__` joins them: the
    masked steps then weigh nothing and the mean runs over the others. A
    mask that does not fit the per-step losses is left out."""
    out_mask = getattr(y_pred, "_keras_mask", None)
    if out_mask is None or tuple(out_mask.shape) != tuple(losses.shape):
        return mask
    out_mask = ops.convert_to_tensor(out_mask)
    if mask is None:
        return out_mask
    return ops.multiply(ops.cast(mask, losses.dtype), ops.cast(out_mask, losses.dtype))


def _compute_weighted_loss(losses: Tensor, sample_weight, reduction: str, owner: str):
    if sample_weight is not None:
        losses = ops.multiply(losses, _weights_like(sample_weight, losses, owner))
    if reduction == Reduction.NONE:
        return losses
    total = ops.sum(losses)
    if reduction == Reduction.SUM_OVER_BATCH_SIZE and losses.size:
        # Divide by the count of losses, not by the sum of the weights: a
        # weight of 0 still counts (tf.keras 2's SUM_OVER_BATCH_SIZE).
        total = ops.divide(total, float(losses.size))
    return total


# -- loss classes ------------------------------------------------------------------------
class Loss:
    """Base class of loss objects.

    Subclasses implement `call(y_true, y_pred)`, returning per-sample losses
    built from `kerasette.ops`; calling the object weights and reduces them.

    Args:
        reduction: `"auto"` (= `"sum_over_batch_size"`), `"sum_over_batch_size"`,
            `"sum"` or `"none"`; see `Reduction`.
        name: the loss's name.

    Example:
        >>> from kerasette import ops
        >>> class MeanCubedError(Loss):
        ...     def call(self, y_true, y_pred):
        ...         return ops.mean(ops.abs(y_pred - y_true) ** 3, axis=-1)
        >>> y_true = ops.convert_to_tensor([[0.0], [0.0]])
        >>> y_pred = ops.convert_to_tensor([[1.0], [2.0]])
        >>> float(MeanCubedError()(y_true, y_pred))
        4.5
        >>> float(MeanCubedError(reduction="sum")(y_true, y_pred))
        9.0
    """

    def __init__(self, reduction=Reduction.AUTO, name=None):
        self.reduction = _check_reduction(reduction, type(self).__name__)
        if name is not None and not isinstance(name, str):
            raise ValueError(f"{type(self).__name__} expects `name` to be a string or None. "
                             f"Received: name={name!r}")
        self.name = name

    def __call__(self, y_true: TensorLike, y_pred: TensorLike, sample_weight=None) -> Tensor:
        """Weighted, reduced loss.

        Args:
            y_true: ground truth, shape `(batch, d0, ..., dN)` (one axis less
                for sparse losses).
            y_pred: predictions, shape `(batch, d0, ..., dN)`.
            sample_weight: `None`, a scalar (scales the loss), one weight per
                sample (`(batch,)` or `(batch, 1)`), or one per loss entry.

        Returns:
            A scalar tensor, or the weighted per-sample losses when the
            reduction is `"none"`.
        """
        owner = type(self).__name__
        losses, mask = self._call_with_mask(y_true, y_pred)
        losses = _to_tensor(losses, owner, "the result of call()")
        if losses.dtype.kind != "f":
            losses = ops.cast(losses, _backend.floatx())
        mask = _with_output_mask(mask, y_pred, losses)
        reduction = self._get_reduction()
        if mask is not None:
            sample_weight = self._apply_valid_mask(losses, sample_weight, mask, reduction)
        return _compute_weighted_loss(losses, sample_weight, reduction, owner)

    def call(self, y_true, y_pred) -> Tensor:
        """Per-sample losses; implemented by subclasses."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement call(y_true, y_pred), returning the "
            "per-sample losses."
        )

    def _call_with_mask(self, y_true, y_pred):
        """`(per-sample losses, mask of entries that count, or None)`."""
        return self.call(y_true, y_pred), None

    @staticmethod
    def _apply_valid_mask(losses, sample_weight, mask, reduction):
        # tf.keras 2's apply_valid_mask: masked entries weigh 0, and under
        # SUM_OVER_BATCH_SIZE the others weigh total/valid, so the mean is
        # taken over the entries that count.
        m = ops.cast(mask, losses.dtype)
        if reduction == Reduction.SUM_OVER_BATCH_SIZE and m.size:
            # max(valid, 1): an all-ignored batch gives 0 rather than NaN.
            m = ops.multiply(m, ops.divide(float(m.size), ops.maximum(ops.sum(m), 1.0)))
        if sample_weight is None:
            return m
        return ops.multiply(_weights_like(sample_weight, m, "Loss"), m)

    def _get_reduction(self) -> str:
        if self.reduction == Reduction.AUTO:
            return Reduction.SUM_OVER_BATCH_SIZE
        return self.reduction

    def get_config(self) -> dict:
        """The constructor arguments, as JSON-ready values."""
        return {"reduction": self.reduction, "name": self.name}

    @classmethod
    def from_config(cls, config: dict):
        """Rebuilds a loss from `get_config()`'s dict.

        Keras 3 also writes `dtype`; kerasette computes a loss in `y_pred`'s
        dtype, so that key is read and dropped.
        """
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _match_ranks(y_true, y_pred, owner: str):
    """Lines up `y_true` and `y_pred` whose ranks differ by a trailing 1.

    `(batch,)` labels against `(batch, 1)` predictions get the missing axis,
    so the loss has one value per sample (and sample weights line up), as
    in tf.keras 2's `model.fit`, which reshapes 1-D targets this way before
    the loss. (A standalone tf.keras 2 loss object squeezes `y_pred`
    instead; both give the same `"auto"` value.) `(batch, 1)` labels
    against `(batch,)` predictions lose their trailing 1, as in tf.keras 2.
    Sparse labels `(batch,)` against `(batch, classes)` are left alone.
    """
    y_pred = _prediction(y_pred, owner)
    y_true = _to_tensor(y_true, owner, "y_true")
    diff = y_pred.ndim - y_true.ndim
    if diff == 1 and y_pred.shape[-1] == 1:
        y_true = ops.expand_dims(y_true, -1)
    elif diff == -1 and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    return y_true, y_pred


class LossFunctionWrapper(Loss):
    """Turns a per-sample loss function `fn(y_true, y_pred, **kwargs)` into a
    loss object.

    Args:
        fn: the loss function.
        reduction: see `Loss`.
        name: the loss's name.
        **kwargs: keyword arguments passed to `fn` on every call (and saved in
            the config).

    Example:
        >>> from kerasette import ops
        >>> loss = LossFunctionWrapper(huber, delta=0.5, name="huber_half")
        >>> float(loss(ops.convert_to_tensor([[0.0]]), ops.convert_to_tensor([[2.0]])))
        0.875
    """

    def __init__(self, fn, reduction=Reduction.AUTO, name=None, **kwargs):
        super().__init__(reduction=reduction, name=name)
        if not callable(fn):
            raise ValueError(f"LossFunctionWrapper expects a callable `fn`. Received: fn={fn!r}")
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred) -> Tensor:
        """Per-sample losses: `fn(y_true, y_pred, **kwargs)`."""
        y_true, y_pred = _match_ranks(y_true, y_pred, type(self).__name__)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update(self._fn_kwargs)
        if type(self) is LossFunctionWrapper:
            # The built-in subclasses know their function; a bare wrapper
            # must say which it wraps to be rebuilt (Keras 3 writes "fn" too).
            config["fn"] = serialize(self.fn)
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config.pop("dtype", None)
        fn = config.pop("fn", None)
        if cls is LossFunctionWrapper:
            if fn is None:
                raise ValueError("A LossFunctionWrapper config needs 'fn', the name of the "
                                 f"wrapped function. Received: {config!r}")
            config["fn"] = get(fn)
        return cls(**config)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors: `mean(square(y_true - y_pred))`.

    Args:
        reduction: see `Loss`.
        name: defaults to `"mean_squared_error"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[1.0, 1.0], [1.0, 0.0]])
        >>> float(MeanSquaredError()(y_true, y_pred))
        0.5
        >>> round(float(MeanSquaredError()(y_true, y_pred, sample_weight=[0.7, 0.3])), 4)
        0.25
    """

    def __init__(self, reduction=Reduction.AUTO, name="mean_squared_error"):
        super().__init__(mean_squared_error, reduction=reduction, name=name)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors: `mean(abs(y_true - y_pred))`.

    Args:
        reduction: see `Loss`.
        name: defaults to `"mean_absolute_error"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[1.0, 1.0], [1.0, 0.0]])
        >>> float(MeanAbsoluteError(reduction="sum")(y_true, y_pred))
        1.0
    """

    def __init__(self, reduction=Reduction.AUTO, name="mean_absolute_error"):
        super().__init__(mean_absolute_error, reduction=reduction, name=name)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean absolute percentage error: `100 * mean(abs((y_true - y_pred) / y_true))`
    (denominator floored at `1e-7`).

    Args:
        reduction: see `Loss`.
        name: defaults to `"mean_absolute_percentage_error"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[2.0, 1.0], [2.0, 3.0]])
        >>> y_pred = ops.convert_to_tensor([[1.0, 1.0], [1.0, 0.0]])
        >>> float(MeanAbsolutePercentageError()(y_true, y_pred))
        50.0
    """

    def __init__(self, reduction=Reduction.AUTO, name="mean_absolute_percentage_error"):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared logarithmic error: `mean(square(log(y_true + 1) - log(y_pred + 1)))`.

    Args:
        reduction: see `Loss`.
        name: defaults to `"mean_squared_logarithmic_error"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[1.0, 1.0], [1.0, 0.0]])
        >>> round(float(MeanSquaredLogarithmicError()(y_true, y_pred)), 3)
        0.24
    """

    def __init__(self, reduction=Reduction.AUTO, name="mean_squared_logarithmic_error"):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy for 0/1 labels (see `binary_crossentropy`).

    Args:
        from_logits: whether `y_pred` holds logits rather than probabilities.
        label_smoothing: in `[0, 1]`; squeezes the labels towards 0.5.
        axis: the axis averaged over.
        reduction: see `Loss`.
        name: defaults to `"binary_crossentropy"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> logits = ops.convert_to_tensor([[-18.6, 0.51], [2.94, -12.8]])
        >>> round(float(BinaryCrossentropy(from_logits=True)(y_true, logits)), 3)
        0.865
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction=Reduction.AUTO, name="binary_crossentropy"):
        owner = type(self).__name__
        self.from_logits = _check_from_logits(from_logits, owner)
        self.label_smoothing = _check_label_smoothing(label_smoothing, owner)
        self.axis = _check_axis(axis, owner)
        super().__init__(binary_crossentropy, reduction=reduction, name=name,
                         from_logits=self.from_logits, label_smoothing=self.label_smoothing,
                         axis=self.axis)


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy between one-hot labels and class probabilities (see
    `categorical_crossentropy`).

    Args:
        from_logits: whether `y_pred` holds logits rather than probabilities.
        label_smoothing: in `[0, 1]`; mixes the labels with the uniform
            distribution.
        axis: the class axis.
        reduction: see `Loss`.
        name: defaults to `"categorical_crossentropy"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        >>> y_pred = ops.convert_to_tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
        >>> round(float(CategoricalCrossentropy()(y_true, y_pred)), 3)
        1.177
    """

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction=Reduction.AUTO, name="categorical_crossentropy"):
        owner = type(self).__name__
        self.from_logits = _check_from_logits(from_logits, owner)
        self.label_smoothing = _check_label_smoothing(label_smoothing, owner)
        self.axis = _check_axis(axis, owner)
        super().__init__(categorical_crossentropy, reduction=reduction, name=name,
                         from_logits=self.from_logits, label_smoothing=self.label_smoothing,
                         axis=self.axis)


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal cross-entropy: down-weights easy examples (see
    `binary_focal_crossentropy`).

    Args:
        apply_class_balancing: weight class 1 by `alpha`, class 0 by
            `1 - alpha`.
        alpha: the weight of class 1 with `apply_class_balancing`.
        gamma: the focusing parameter.
        from_logits: whether `y_pred` holds logits rather than probabilities.
        label_smoothing: in `[0, 1]`; squeezes the labels towards 0.5.
        axis: the axis averaged over.
        reduction: see `Loss`.
        name: defaults to `"binary_focal_crossentropy"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(BinaryFocalCrossentropy(gamma=2.0)(y_true, y_pred)), 3)
        0.268
    """

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction=Reduction.AUTO,
                 name="binary_focal_crossentropy"):
        owner = type(self).__name__
        self.apply_class_balancing = _check_bool(apply_class_balancing,
                                                 "apply_class_balancing", owner)
        self.alpha = _check_alpha(alpha, owner, allow_list=False)
        self.gamma = _check_gamma(gamma, owner)
        self.from_logits = _check_from_logits(from_logits, owner)
        self.label_smoothing = _check_label_smoothing(label_smoothing, owner)
        self.axis = _check_axis(axis, owner)
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name,
                         apply_class_balancing=self.apply_class_balancing, alpha=self.alpha,
                         gamma=self.gamma, from_logits=self.from_logits,
                         label_smoothing=self.label_smoothing, axis=self.axis)


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical focal cross-entropy: down-weights easy examples (see
    `categorical_focal_crossentropy`).

    Args:
        alpha: a weight for every class, or a list with one per class.
        gamma: the focusing parameter.
        from_logits: whether `y_pred` holds logits rather than probabilities.
        label_smoothing: in `[0, 1]`; mixes the labels with the uniform
            distribution.
        axis: the class axis.
        reduction: see `Loss`.
        name: defaults to `"categorical_focal_crossentropy"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        >>> y_pred = ops.convert_to_tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
        >>> round(float(CategoricalFocalCrossentropy()(y_true, y_pred)), 4)
        0.2332
    """

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction=Reduction.AUTO, name="categorical_focal_crossentropy"):
        owner = type(self).__name__
        self.alpha = _check_alpha(alpha, owner, allow_list=True)
        self.gamma = _check_gamma(gamma, owner)
        self.from_logits = _check_from_logits(from_logits, owner)
        self.label_smoothing = _check_label_smoothing(label_smoothing, owner)
        self.axis = _check_axis(axis, owner)
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name,
                         alpha=self.alpha, gamma=self.gamma, from_logits=self.from_logits,
                         label_smoothing=self.label_smoothing, axis=self.axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy between integer class ids and class probabilities (see
    `sparse_categorical_crossentropy`).

    With `ignore_class`, entries with that label get a loss of 0 and, under
    `"sum_over_batch_size"`, the mean is taken over the other entries only.

    Args:
        from_logits: whether `y_pred` holds logits rather than probabilities.
        ignore_class: a class id to leave out of the loss, or `None`.
        reduction: see `Loss`.
        name: defaults to `"sparse_categorical_crossentropy"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([1, 2])
        >>> y_pred = ops.convert_to_tensor([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
        >>> round(float(SparseCategoricalCrossentropy()(y_true, y_pred)), 3)
        1.177
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction=Reduction.AUTO,
                 name="sparse_categorical_crossentropy"):
        owner = type(self).__name__
        self.from_logits = _check_from_logits(from_logits, owner)
        self.ignore_class = _check_ignore_class(ignore_class, owner)
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         from_logits=self.from_logits, ignore_class=self.ignore_class)

    def _call_with_mask(self, y_true, y_pred):
        if self.ignore_class is None:
            return self.call(y_true, y_pred), None
        y_true, y_pred = _match_ranks(y_true, y_pred, type(self).__name__)
        return _sparse_categorical_crossentropy(y_true, y_pred, self.from_logits, -1,
                                                self.ignore_class)


class Hinge(LossFunctionWrapper):
    """Hinge loss `mean(maximum(1 - y_true * y_pred, 0))` for -1/1 (or 0/1) labels.

    Args:
        reduction: see `Loss`.
        name: defaults to `"hinge"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(Hinge()(y_true, y_pred)), 4)
        1.3
    """

    def __init__(self, reduction=Reduction.AUTO, name="hinge"):
        super().__init__(hinge, reduction=reduction, name=name)


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss `mean(square(maximum(1 - y_true * y_pred, 0)))`.

    Args:
        reduction: see `Loss`.
        name: defaults to `"squared_hinge"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(SquaredHinge()(y_true, y_pred)), 4)
        1.86
    """

    def __init__(self, reduction=Reduction.AUTO, name="squared_hinge"):
        super().__init__(squared_hinge, reduction=reduction, name=name)


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss `maximum(neg - pos + 1, 0)` (see `categorical_hinge`).

    Args:
        reduction: see `Loss`.
        name: defaults to `"categorical_hinge"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(CategoricalHinge()(y_true, y_pred)), 4)
        1.4
    """

    def __init__(self, reduction=Reduction.AUTO, name="categorical_hinge"):
        super().__init__(categorical_hinge, reduction=reduction, name=name)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence `sum(y_true * log(y_true / y_pred))`.

    Args:
        reduction: see `Loss`.
        name: defaults to `"kl_divergence"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(KLDivergence()(y_true, y_pred)), 3)
        0.458
    """

    def __init__(self, reduction=Reduction.AUTO, name="kl_divergence"):
        super().__init__(kl_divergence, reduction=reduction, name=name)


class Poisson(LossFunctionWrapper):
    """Poisson loss `mean(y_pred - y_true * log(y_pred))`.

    Args:
        reduction: see `Loss`.
        name: defaults to `"poisson"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[1.0, 1.0], [0.0, 0.0]])
        >>> round(float(Poisson()(y_true, y_pred)), 3)
        0.5
    """

    def __init__(self, reduction=Reduction.AUTO, name="poisson"):
        super().__init__(poisson, reduction=reduction, name=name)


class LogCosh(LossFunctionWrapper):
    """Logarithm of the hyperbolic cosine of the error (see `log_cosh`).

    Args:
        reduction: see `Loss`.
        name: defaults to `"log_cosh"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[1.0, 1.0], [0.0, 0.0]])
        >>> round(float(LogCosh()(y_true, y_pred)), 3)
        0.108
    """

    def __init__(self, reduction=Reduction.AUTO, name="log_cosh"):
        super().__init__(log_cosh, reduction=reduction, name=name)


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic for errors up to `delta`, linear beyond (see `huber`).

    Args:
        delta: where the loss turns linear (positive).
        reduction: see `Loss`.
        name: defaults to `"huber_loss"` (tf.keras 2's name).

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [0.0, 0.0]])
        >>> y_pred = ops.convert_to_tensor([[0.6, 0.4], [0.4, 0.6]])
        >>> round(float(Huber()(y_true, y_pred)), 3)
        0.155
    """

    def __init__(self, delta=1.0, reduction=Reduction.AUTO, name="huber_loss"):
        self.delta = _check_delta(delta, type(self).__name__)
        super().__init__(huber, reduction=reduction, name=name, delta=self.delta)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along `axis` (see `cosine_similarity`).

    Args:
        axis: the axis of the vectors.
        reduction: see `Loss`.
        name: defaults to `"cosine_similarity"`.

    Example:
        >>> from kerasette import ops
        >>> y_true = ops.convert_to_tensor([[0.0, 1.0], [1.0, 1.0]])
        >>> y_pred = ops.convert_to_tensor([[1.0, 0.0], [1.0, 1.0]])
        >>> round(float(CosineSimilarity(axis=1)(y_true, y_pred)), 3)
        -0.5
    """

    def __init__(self, axis=-1, reduction=Reduction.AUTO, name="cosine_similarity"):
        self.axis = _check_axis(axis, type(self).__name__)
        super().__init__(cosine_similarity, reduction=reduction, name=name, axis=self.axis)


# -- names -------------------------------------------------------------------------------
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
logcosh = log_cosh

_FUNCTIONS: tuple = (
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, binary_crossentropy, categorical_crossentropy,
    binary_focal_crossentropy, categorical_focal_crossentropy,
    sparse_categorical_crossentropy, hinge, squared_hinge, categorical_hinge, kl_divergence,
    poisson, log_cosh, huber, cosine_similarity,
)
# tf.keras 2's module-level aliases (each is the same function object).
_ALIASES = {
    "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
    "kld": kl_divergence, "KLD": kl_divergence, "kullback_leibler_divergence": kl_divergence,
    "logcosh": log_cosh, "huber_loss": huber,
}
_CLASSES: tuple = (
    LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, BinaryCrossentropy, CategoricalCrossentropy,
    BinaryFocalCrossentropy, CategoricalFocalCrossentropy, SparseCategoricalCrossentropy, Hinge,
    SquaredHinge, CategoricalHinge, KLDivergence, Poisson, LogCosh, Huber, CosineSimilarity,
)

# Exact names first, as tf.keras 2 looks them up: "mean_squared_error" is the
# function and "MeanSquaredError" the class, which a case- and
# underscore-blind table could not tell apart.
_EXACT: dict = {fn.__name__: fn for fn in _FUNCTIONS}
_EXACT.update(_ALIASES)
_EXACT.update({cls.__name__: cls for cls in _CLASSES})
# Other spellings ("Mean_Squared_Error", "MSE ") fall back to the functions.
_FUNCTION_TABLE = NameTable("loss function", "keras.losses")
for _name, _obj in _EXACT.items():
    if not isinstance(_obj, type):
        _FUNCTION_TABLE.register(_obj, _name)
_CLASS_TABLE = NameTable("loss", "keras.losses")
for _cls in _CLASSES:
    _CLASS_TABLE.register(_cls, _cls.__name__)
_FUNCTION_NAMES = {fn: fn.__name__ for fn in _FUNCTIONS}


# -- array kernels for the direct training step ----------------------------------------------
class _DirectLoss:
    """A built-in loss as array kernels (`training/fast_step.py`): the
    per-sample losses and their gradient, from the same `ops.nn` kernels
    the loss's ops record, so both paths compute the same bits.

    `at_logits` says whether the loss scores the logits behind a softmax or
    sigmoid output (as `_get_logits` makes the general path do), so that
    its gradient skips that activation.
    """

    def __init__(self, kind, at_logits):
        self.kind = kind
        self.at_logits = at_logits

    def labels(self, y, pred_shape, pred_dtype):
        """`y` as the loss reads it (cast, rank matched), or None when the
        general path must handle (and explain) it."""
        shape = tuple(y.shape)
        if self.kind == "sparse":
            if shape == pred_shape[:-1]:
                return y if y.dtype == np.int64 else y.astype(np.int64)
            if shape == pred_shape[:-1] + (1,) and y.dtype.kind in "iuf":
                y = y.reshape(pred_shape[:-1])
                return y if y.dtype == np.int64 else y.astype(np.int64)
            return None
        if y.dtype.kind not in "iufb":
            return None
        if shape == pred_shape[:-1] and pred_shape[-1] == 1 and self.kind != "categorical":
            y = y.reshape(pred_shape)  # `_match_ranks`: (batch,) labels for (batch, 1) outputs
        elif shape != pred_shape:
            return None
        return y if y.dtype == pred_dtype else y.astype(pred_dtype)

    def forward(self, y, pred):
        """Per-sample losses of `pred` (the logits when `at_logits`) and what
        `backward` needs."""
        kind = self.kind
        if kind == "sparse":
            per, shifted, lse = _nn._sparse_ce_arrays(pred, y)
            return per, (y, shifted, lse)
        if kind == "categorical":
            axis = pred.ndim - 1
            per, log_p = _nn._softmax_ce_arrays(y, pred, axis)
            return per, (y, log_p, axis)
        if kind == "binary":  # ops.mean over the last axis of the elementwise losses
            per = _nn.mean_last_axis(_nn.sigmoid_ce_forward(y, pred))
            return per, (y, pred)
        if kind == "mse":
            return _nn.squared_error_forward(y, pred)
        return _nn.absolute_error_forward(y, pred)

    def backward(self, g, saved):
        """The gradient in `pred` for the upstream per-sample gradient `g`."""
        kind = self.kind
        if kind == "sparse":
            return _nn.sparse_ce_backward(g, saved[1], saved[2], saved[0])
        if kind == "categorical":
            return _nn.softmax_ce_backward(g, *saved)
        if kind == "binary":
            y, z = saved
            return _nn.sigmoid_ce_backward((g / z.shape[-1])[..., None], y, z)
        if kind == "mse":
            return _nn.squared_error_backward(g, saved)
        return _nn.absolute_error_backward(g, saved)


_DIRECT_FUNCTIONS = {
    sparse_categorical_crossentropy: "sparse", categorical_crossentropy: "categorical",
    binary_crossentropy: "binary", mean_squared_error: "mse", mean_absolute_error: "mae",
}


def _direct_kernel(loss, output_activation, units):
    """The `_DirectLoss` of a compiled loss object, or None when the direct
    step cannot reproduce it (other functions or arguments, a custom class,
    another reduction).

    Args:
        loss: the compiled `Loss`.
        output_activation: the name of the model's output activation
            (`"softmax"`, `"sigmoid"`, `"linear"`, ...).
        units: the size of the output's last axis.
    """
    cls = type(loss)
    if (not isinstance(loss, LossFunctionWrapper) or cls.__call__ is not Loss.__call__
            or cls.call is not LossFunctionWrapper.call
            or cls._call_with_mask not in (Loss._call_with_mask,
                                           SparseCategoricalCrossentropy._call_with_mask)
            or loss._get_reduction() != Reduction.SUM_OVER_BATCH_SIZE):
        return None
    kind = _DIRECT_FUNCTIONS.get(loss.fn)
    kwargs = dict(loss._fn_kwargs)
    if kind is None:
        return None
    if kind in ("mse", "mae"):
        return None if kwargs else _DirectLoss(kind, False)
    from_logits = bool(kwargs.pop("from_logits", False))
    if (kwargs.pop("label_smoothing", 0.0) or kwargs.pop("axis", -1) not in (-1,)
            or kwargs.pop("ignore_class", None) is not None or kwargs):
        return None
    wanted = "sigmoid" if kind == "binary" else "softmax"
    if output_activation == wanted and not from_logits:
        return _DirectLoss(kind, True)  # scored from the logits, as `_get_logits` does
    if output_activation == "linear" and from_logits:
        return _DirectLoss(kind, False)  # the output is the logits
    if kind == "categorical" and units == 1:
        return None  # the general path warns about it
    return None


def _lookup(name: str, custom_objects=None):
    for table in (custom_objects or {}, _CUSTOM_OBJECTS):
        if name in table:
            return table[name]
    if name in _EXACT:
        return _EXACT[name]
    try:
        return _FUNCTION_TABLE.lookup(name.strip())
    except ValueError:
        pass
    valid = sorted(_EXACT)
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"Unknown loss function: {name!r}.{hint} Valid losses: {', '.join(valid)}. Custom "
        "ones can be passed in custom_objects or registered with "
        "kerasette.saving.register_serializable."
    )


def serialize(loss) -> dict | str | None:
    """What tf.keras 2 writes for a loss in a config.

    Args:
        loss: a `Loss` instance, a loss function, a loss name, or `None`.

    Returns:
        For a `Loss` instance, the nested config
        `{"module": "keras.losses", "class_name": ..., "config": ...,
        "registered_name": None}`; for a function, its full name
        (`"mean_squared_error"` for `mse`, which every Keras loads back); for a
        function registered with `register_serializable`, `"Package>name"`;
        `None` for `None`.

    Raises:
        ValueError: for an unknown name or an anonymous function.

    Example:
        >>> serialize(mse)
        'mean_squared_error'
        >>> serialize(Huber(delta=2.0))["config"]["delta"]
        2.0
    """
    if loss is None:
        return None
    if isinstance(loss, str):
        loss = _lookup(loss)
        if isinstance(loss, type):
            return loss.__name__
    if isinstance(loss, type) and issubclass(loss, Loss):
        loss = loss()
    if isinstance(loss, Loss):
        return _CLASS_TABLE.serialize(loss)
    try:
        return _FUNCTION_NAMES[loss]
    except (KeyError, TypeError):  # TypeError: an unhashable callable object
        pass
    registered = getattr(loss, "_registered_name", None)
    if registered:
        return registered
    name = getattr(loss, "__name__", None)
    if callable(loss) and name and name != "<lambda>":
        return name
    raise ValueError(
        "Cannot serialize this loss: it is neither a Loss object nor a named function. "
        "Use a named function registered with kerasette.saving.register_serializable. "
        f"Received: loss={loss!r}"
    )


def deserialize(config, custom_objects=None):
    """Builds a loss from what `serialize` (or Keras) wrote.

    Args:
        config: a name (`"mse"`, `"mean_squared_error"`, `"Huber"`, a
            registered `"Package>name"`), a nested class config
            `{"class_name": "Huber", "config": {...}}`, or the function form
            Keras 2.13+ and Keras 3 write,
            `{"class_name": "function", "config": "mean_squared_error"}`.
        custom_objects: optional dict of extra `name -> function or class`.

    Returns:
        A loss function, or a `Loss` instance for a class name or config.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones and
            suggests the closest) or a config of another shape.

    Example:
        >>> deserialize("mse") is mean_squared_error
        True
        >>> deserialize({"class_name": "Huber", "config": {"delta": 2.0}}).delta
        2.0
    """
    if config is None:
        return None
    if isinstance(config, str):
        obj = _lookup(config, custom_objects)
        return obj() if isinstance(obj, type) else obj
    if isinstance(config, dict) and "class_name" in config:
        class_name = config["class_name"]
        if class_name == "function":
            inner = config.get("config")
            if not isinstance(inner, str):
                raise ValueError(f"Could not interpret loss function config: {config!r}")
            return _lookup(inner, custom_objects)
        obj = None
        registered = config.get("registered_name")
        if registered and registered != class_name:
            try:
                obj = _lookup(registered, custom_objects)
            except ValueError:
                obj = None
        if obj is None:
            obj = _lookup(class_name, custom_objects)
        inner = config.get("config") or {}
        if isinstance(obj, type):
            if hasattr(obj, "from_config"):
                return obj.from_config(inner)
            return obj(**inner)
        return obj
    raise ValueError(
        "Could not interpret loss config: expected a name or a dict with 'class_name' and "
        f"'config'. Received: {config!r}"
    )


def get(identifier) -> Callable | Loss | None:
    """Turns what `compile(loss=...)` accepts into a loss function or object.

    Args:
        identifier: `None`; a name such as `"mse"` or
            `"sparse_categorical_crossentropy"` (a function) or
            `"CategoricalCrossentropy"` (a class, instantiated with its
            defaults); a config dict; a `Loss` instance or class; or any
            callable `fn(y_true, y_pred)` (returned as is).

    Returns:
        A loss function, a `Loss` instance, or `None`.

    Raises:
        ValueError: for an unknown name or an identifier of another kind.

    Example:
        >>> get("categorical_crossentropy") is categorical_crossentropy
        True
        >>> type(get("CategoricalCrossentropy")).__name__
        'CategoricalCrossentropy'
        >>> get({"class_name": "CategoricalCrossentropy",
        ...      "config": {"from_logits": True}}).from_logits
        True
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss function identifier: {identifier!r}")
