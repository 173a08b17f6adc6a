"""The base class of loss objects and the reductions they apply."""

from __future__ import annotations

import numpy as np

from kerasette import backend as _backend
from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.losses.inputs import TensorLike, _to_tensor


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
