"""What every loss does to its inputs: tensors from what the user passed,
argument checks, and the logits behind a softmax or sigmoid output."""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Union

import numpy as np

from kerasette import backend as _backend
from kerasette import ops
from kerasette.autodiff.tensor import Tensor

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
