"""What every metric module shares: device helpers, argument checks, constants.

The device helpers take tensors, backend arrays or host data and return
backend arrays (host data crosses to the device in `_device`, nowhere
else); the checks raise a `ValueError` that names the argument and the
value received.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from kerasette import backend as _backend
from kerasette import ops
from kerasette.autodiff.tensor import Tensor


# tf.keras 2's `backend.epsilon()` and `metrics_utils.NEG_INF`.
EPSILON = 1e-7
NEG_INF = -1e10


# Entries of the (thresholds x predictions) comparison made at once: bounds
# the temporary at 16 MiB of float32 however large the batch. The IoU
# confusion matrix chunks its one-hot codes by it too; both read it here
# (`_utils._CHUNK`) when they run, so it is one setting.
_CHUNK = 1 << 22


# -- device helpers ---------------------------------------------------------------
def _xp():
    return _backend.get_backend().xp


def _device(x, dtype=None):
    """The backend array behind `x`; host data crosses to the device here.

    Tensors and backend arrays are used as they are (no copy, no host
    round trip); lists, numbers and NumPy arrays go through
    `ops.convert_to_tensor`, the explicit host-to-device boundary.
    """
    if isinstance(x, Tensor):
        data = x.data
    elif _backend.get_backend().is_array(x):
        data = x
    else:
        data = ops.convert_to_tensor(x).data
    if dtype is not None and data.dtype != dtype:
        data = data.astype(dtype)
    return data


def _floating(data):
    """Integer or boolean data as floatx; floating data unchanged."""
    if data.dtype.kind != "f":
        return data.astype(_backend.floatx())
    return data


def _squeeze_last(a):
    return a.reshape(a.shape[:-1])


def _squeeze_pair(y_true, y_pred):
    """tf.keras 2's `squeeze_or_expand_dimensions(y_pred, y_true)`: drops a
    trailing 1 from whichever of the two has one rank more, except for the
    sparse case (labels `(batch,)` against predictions `(batch, classes)`)."""
    pr, tr = y_pred.ndim, y_true.ndim
    if pr - tr != 1 or (pr and y_pred.shape[-1] == 1):
        if pr - tr == 1 and y_pred.shape[-1] == 1:
            y_pred = _squeeze_last(y_pred)
        elif tr - pr == 1 and y_true.shape[-1] == 1:
            y_true = _squeeze_last(y_true)
    return y_true, y_pred


def _fit_weight_rank(w, ndim):
    """Squeezes or expands the last axis of `w` when its rank is one off."""
    if w.ndim == 0:
        return w
    if w.ndim - ndim == 1 and w.shape[-1] == 1:
        return _squeeze_last(w)
    if ndim - w.ndim == 1:
        return w.reshape(w.shape + (1,))
    return w


def _broadcastable(w_shape, v_shape) -> bool:
    """tf.keras 2's `broadcast_weights` rule: a scalar, or the same rank with
    every axis either 1 or equal."""
    if len(w_shape) == 0:
        return True
    return len(w_shape) == len(v_shape) and all(
        a == b or a == 1 for a, b in zip(w_shape, v_shape))


def _divide_no_nan(a, b):
    """`a / b`, and 0 where `b == 0` (no warning, no NaN)."""
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 0 and b.ndim == 0:
        # A running mean's state on the host (`fit` reads one per metric
        # every epoch): NumPy's scalar arithmetic rounds as the ufuncs do,
        # in a fraction of the time of five of them.
        den = b[()]
        if den != 0:
            return np.asarray(a[()] / den)
        # Integer state divides to float64 (true division), as in tf.keras 2.
        return np.zeros((), dtype=np.result_type(a.dtype, b.dtype)
                        if a.dtype.kind == "f" else np.float64)
    xp = _xp()
    zero = b == 0
    safe = xp.where(zero, xp.ones_like(b), b)
    return xp.where(zero, xp.zeros_like(a), a / safe)


def _result_tensor(data) -> Tensor:
    return Tensor(data)


# -- validation -------------------------------------------------------------------
def _check_int(value, name, owner, minimum=0, allow_none=True):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(
            f"{owner} expects `{name}` to be an integer >= {minimum}"
            f"{' or None' if allow_none else ''}. Received: {name}={value!r}"
        )
    return int(value)


def _check_real(value, name, owner):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{owner} expects `{name}` to be a finite number. "
                         f"Received: {name}={value!r}")
    return float(value)


def _parse_thresholds(thresholds, default, owner):
    """tf.keras 2's `parse_init_thresholds`: a list of floats in [0, 1]."""
    if thresholds is None:
        return [float(default)]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) \
        else [thresholds]
    if not values:
        raise ValueError(f"{owner} expects at least one threshold. Received: thresholds=[]")
    bad = [t for t in values
           if isinstance(t, bool) or not isinstance(t, numbers.Real) or not 0 <= t <= 1]
    if bad:
        raise ValueError(f"{owner}: threshold values must be in [0, 1]. Invalid values: {bad}. "
                         f"Received: thresholds={thresholds!r}")
    return [float(t) for t in values]


def _evenly_distributed(thresholds) -> bool:
    """tf.keras 2's `is_evenly_distributed_thresholds`."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


def _json_ready(value):
    """Config values as plain Python (tuples become lists)."""
    if isinstance(value, tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    return value


def _state_dtype(dtype, cls) -> np.dtype:
    """The state dtype a metric class accepts, as tf.keras 2 does: a float
    dtype for every metric; also int32/int64 for the means and sums of
    exact values (`_integer_state`), whose result tf.keras 2 then gives as
    float64 (a mean) or in the integer dtype (`Sum`)."""
    owner = cls.__name__
    if isinstance(dtype, str) and dtype == "bfloat16":
        raise ValueError(f"{owner}: bfloat16 has no NumPy or CuPy dtype; use 'float16', "
                         f"'float32' or 'float64'. Received: dtype={dtype!r}")
    try:
        np_dtype = np.dtype(dtype or _backend.floatx())
    except TypeError as err:
        raise ValueError(f"{owner}: unknown dtype. Received: dtype={dtype!r}") from err
    if np_dtype.kind == "f" or (np_dtype.kind in "iu" and cls._integer_state):
        return np_dtype
    kinds = "a floating or integer" if cls._integer_state else "a floating"
    raise ValueError(f"{owner} expects {kinds} dtype for its state (as tf.keras 2, where "
                     f"this metric fails on integer state). Received: dtype={dtype!r}")


def _losses():
    try:
        from kerasette import losses
    except ImportError as err:  # pragma: no cover - depends on the build
        raise ImportError("Cross-entropy metrics use kerasette.losses, which is not "
                          "available in this build.") from err
    return losses
