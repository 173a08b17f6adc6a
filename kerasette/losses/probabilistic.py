"""Probabilistic losses: Kullback-Leibler divergence and the cross-entropies
(binary, categorical, sparse categorical and their focal forms)."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.losses.inputs import (
    _EPSILON,
    TensorLike,
    _check_axis,
    _check_axis_in,
    _check_from_logits,
    _check_ignore_class,
    _check_label_smoothing,
    _get_logits,
    _labels,
    _prediction,
    _same_shape,
    _to_tensor,
)


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
