"""Confusion counts at thresholds (tf.keras 2's `metrics_utils`
`update_confusion_matrix_variables`) and `_ThresholdMetric`, the state
handling shared by the confusion-matrix metrics and `AUC`.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from kerasette import backend as _backend
from kerasette.autodiff.tensor import Tensor
from kerasette.metrics import _utils
from kerasette.metrics._utils import (
    NEG_INF,
    _broadcastable,
    _device,
    _evenly_distributed,
    _fit_weight_rank,
    _result_tensor,
    _squeeze_pair,
    _xp,
)
from kerasette.metrics.base import Metric


# -- confusion counts at thresholds ------------------------------------------------------
def _filter_top_k(x, k):
    """Keeps the `k` largest values on the last axis (the lower index first
    among ties, like tf.math.top_k) and sets the rest to NEG_INF."""
    xp = _xp()
    order = xp.argsort(-x, axis=-1, kind="stable")
    ranks = xp.argsort(order, axis=-1, kind="stable")
    return xp.where(ranks < k, x, NEG_INF)


def _threshold_sums(keys, levels, columns, *, inclusive, multi_label, dtype):
    """Weighted counts of the keys above (or not above) each level.

    For each `(name, weights, side)` of `columns` and each level `t`: the
    sum of `weights` where `key > t` (`>=` when `inclusive`), or where not
    (`side="below"`). One comparison and one matrix product per chunk of
    samples, all in `dtype`: no scatter (CuPy's `bincount` reads its input's
    maximum back to the host) and no float64 accumulator.
    """
    xp = _xp()
    n = keys.shape[0]
    width = levels.shape[0] * (keys.shape[1] if multi_label else 1)
    step = max(1, _utils._CHUNK // max(width, 1))
    out = {}
    for start in range(0, n, step) or [0]:
        k = keys[start:start + step]
        if multi_label:
            above = (k[None] >= levels[:, None, None]) if inclusive else \
                (k[None] > levels[:, None, None])
        else:
            above = (k[None, :] >= levels[:, None]) if inclusive else (k[None, :] > levels[:, None])
        above = above.astype(dtype)
        below = None
        for name, weights, side in columns:
            w = weights[start:start + step]
            if side == "below":
                below = 1.0 - above if below is None else below
                mask = below
            else:
                mask = above
            part = xp.sum(mask * w[None], axis=1) if multi_label else xp.matmul(mask, w)
            out[name] = part if name not in out else out[name] + part
    return out


def _confusion_counts(want, y_true, y_pred, sample_weight, *, thresholds, thresholds_device,
                      evenly, top_k=None, class_id=None, multi_label=False, label_weights=None,
                      dtype, owner):
    """tf.keras 2's `update_confusion_matrix_variables`, as increments.

    For each threshold `t`: tp counts label 1 with `y_pred > t`, fp label 0
    with `y_pred > t`, fn label 1 with `y_pred <= t`, tn label 0 with
    `y_pred <= t`, each weighted. With evenly spaced thresholds a prediction
    is compared through its bucket `ceil(p * (T - 1)) - 1`, as in tf.keras
    2's optimized path, so values at a threshold land on the same side.

    Returns:
        A dict from each key of `want` ("tp", "fp", "tn", "fn") to an array
        of shape `(T,)`, or `(T, labels)` when `multi_label`.
    """
    xp = _xp()
    yt = _device(y_true, dtype)
    yp = _device(y_pred, dtype)
    yt, yp = _squeeze_pair(yt, yp)
    if tuple(yt.shape) != tuple(yp.shape):
        raise ValueError(f"{owner}: y_true and y_pred must have the same shape. Received "
                         f"y_true of shape {tuple(yt.shape)} and y_pred of shape "
                         f"{tuple(yp.shape)}.")
    w = None
    if sample_weight is not None:
        w = _fit_weight_rank(_device(sample_weight, dtype), yp.ndim)
        if not _broadcastable(w.shape, yp.shape):
            raise ValueError(f"{owner}: sample_weight of shape {tuple(w.shape)} cannot be "
                             f"broadcast to y_pred of shape {tuple(yp.shape)}.")
        w = xp.broadcast_to(w, yp.shape)
    if top_k is not None:
        yp = _filter_top_k(yp, top_k)
    if class_id is not None:
        if yp.ndim == 0 or class_id >= yp.shape[-1]:
            raise ValueError(f"{owner}: class_id={class_id} is out of range for predictions of "
                             f"shape {tuple(yp.shape)}.")
        yt, yp = yt[..., class_id], yp[..., class_id]
        if w is not None:
            w = w[..., class_id]
    if label_weights is not None and not multi_label:
        if yp.ndim == 0 or yp.shape[-1] != label_weights.shape[0]:
            raise ValueError(f"{owner}: label_weights has {label_weights.shape[0]} entries but "
                             f"y_pred has shape {tuple(yp.shape)}.")
        lw = xp.broadcast_to(label_weights, yp.shape)
        w = lw if w is None else w * lw
    if multi_label:
        if yp.ndim != 2:
            raise ValueError(f"{owner}: y_pred must have rank 2 when multi_label=True. "
                             f"Received shape {tuple(yp.shape)}.")
    else:
        yt, yp = yt.reshape(-1), yp.reshape(-1)
        if w is not None:
            w = w.reshape(-1)

    positive = (yt != 0).astype(dtype)
    true_w = positive if w is None else positive * w
    false_w = (1.0 - positive) if w is None else (1.0 - positive) * w
    num_thresholds = len(thresholds)

    columns = [(key, true_w if key in ("tp", "fn") else false_w,
                "above" if key in ("tp", "fp") else "below")
               for key in ("tp", "fp", "fn", "tn") if key in want]
    if evenly:
        # tf.keras 2's bucketing for evenly spaced thresholds: a prediction
        # p counts as above threshold t_i exactly when its bucket
        # ceil(p * (T - 1)) - 1 is >= i (p == t_i falls below t_i).
        p = xp.clip(yp, 0.0, 1.0)
        bucket = xp.ceil(p * float(num_thresholds - 1)) - 1.0
        if thresholds[0] < 0.0 or thresholds[-1] > 1.0:
            # Every prediction in [0, 1] exceeds the first threshold (-eps).
            bucket = xp.maximum(bucket, 0.0)
        levels = xp.arange(num_thresholds, dtype=dtype)
        return _threshold_sums(bucket, levels, columns, inclusive=True,
                               multi_label=multi_label, dtype=dtype)
    return _threshold_sums(yp, thresholds_device, columns, inclusive=False,
                           multi_label=multi_label, dtype=dtype)


_VAR_NAMES = MappingProxyType({"tp": "true_positives", "fp": "false_positives",
                               "tn": "true_negatives", "fn": "false_negatives"})


class _ThresholdMetric(Metric):
    """Shared state handling of the confusion-matrix metrics."""

    _keys: tuple = ()
    _var_names = _VAR_NAMES

    def _setup_thresholds(self, thresholds):
        self.thresholds = thresholds
        self._thresholds_evenly = _evenly_distributed(thresholds)
        self._thresholds_device = _backend.get_backend().asarray(
            np.asarray(thresholds, dtype=self._np_dtype))

    # Copies (pickle, deepcopy) take the host values; their device copies are
    # made again on the backend active where the copy is loaded.
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_thresholds_device", None)
        if state.get("_label_weights_host") is not None:
            state["label_weights"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        b = _backend.get_backend()
        thresholds = getattr(self, "thresholds", None)
        if thresholds is not None:
            self._thresholds_device = b.asarray(np.asarray(thresholds, dtype=self._np_dtype))
        if getattr(self, "_label_weights_host", None) is not None:
            self.label_weights = b.asarray(self._label_weights_host)

    def _update(self, y_true, y_pred, sample_weight, **kwargs):
        xp = _xp()
        counts = _confusion_counts(
            set(self._keys), y_true, y_pred, sample_weight, thresholds=self.thresholds,
            thresholds_device=self._thresholds_device, evenly=self._thresholds_evenly,
            dtype=self._np_dtype, owner=type(self).__name__, **kwargs)
        for key in self._keys:
            var = getattr(self, self._var_names[key])
            xp.add(var.data, counts[key], out=var.data)

    def _pick(self, values) -> Tensor:
        """A scalar for one threshold, a vector for several (tf.keras 2)."""
        return _result_tensor(values[0] if len(self.thresholds) == 1 else values)
