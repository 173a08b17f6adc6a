"""Built-in losses as array kernels for the direct training step
(`training/fast_step.py` reads `_direct_kernel`)."""

from __future__ import annotations

import numpy as np

from kerasette.losses.base import Loss, Reduction
from kerasette.losses.classes import LossFunctionWrapper, SparseCategoricalCrossentropy
from kerasette.losses.probabilistic import (
    binary_crossentropy,
    categorical_crossentropy,
    sparse_categorical_crossentropy,
)
from kerasette.losses.regression import mean_absolute_error, mean_squared_error
from kerasette.ops import nn as _nn


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
