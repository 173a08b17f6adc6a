"""`AUC`: the area under the ROC or precision-recall curve, from
confusion counts at bucketed thresholds, as tf.keras 2 computes it."""

from __future__ import annotations

import numbers

import numpy as np

from kerasette import backend as _backend
from kerasette.autodiff.tensor import Tensor
from kerasette.metrics._utils import (
    EPSILON,
    _check_int,
    _device,
    _divide_no_nan,
    _evenly_distributed,
    _result_tensor,
    _xp,
)
from kerasette.metrics.thresholds import _ThresholdMetric


_CURVES = {"roc": "ROC", "pr": "PR"}
_SUMMATIONS = ("interpolation", "minoring", "majoring")


class AUC(_ThresholdMetric):
    """Area under the ROC or precision-recall curve, from bucketed counts.

    Predictions are counted against `num_thresholds` thresholds: `-1e-7`,
    `(i + 1) / (num_thresholds - 1)` for `i < num_thresholds - 2`, and
    `1 + 1e-7` (tf.keras 2's layout). The ROC area is the trapezoid sum of
    recall over the false-positive rate; the PR area with
    `summation_method="interpolation"` interpolates the true and false
    positives linearly between thresholds (Davis & Goadrich, 2006), exactly
    as tf.keras 2 does. Predictions outside [0, 1] are clipped (tf.keras 2
    raises instead; checking would need a host read every batch).

    Args:
        num_thresholds: how many thresholds (> 1); ignored with `thresholds`.
        curve: `"ROC"` or `"PR"`.
        summation_method: `"interpolation"`, `"minoring"` (left sums on
            rising intervals) or `"majoring"`.
        name: the metric's name (`auc`, `auc_1`, ... by default).
        dtype: dtype of the state and the result.
        thresholds: explicit thresholds in [0, 1]; the endpoints `-1e-7`
            and `1 + 1e-7` are added.
        multi_label: compute one AUC per label (last axis of rank-2 data)
            and average them; otherwise all values are pooled.
        num_labels: the number of labels with `multi_label` (else the state
            is created on the first batch).
        label_weights: non-negative per-label weights: the weighted average
            of the label AUCs with `multi_label`, else weights of the pooled
            values.
        from_logits: apply a sigmoid to the predictions first.

    Example:
        >>> m = AUC(num_thresholds=3)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> float(m.result())
        0.75
    """

    _keys = ("tp", "tn", "fp", "fn")  # tf.keras 2's variable order

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        if not isinstance(curve, str) or curve.lower() not in _CURVES:
            raise ValueError(f'Invalid `curve` argument value "{curve}". Expected one of: '
                             "'ROC', 'PR'.")
        if not isinstance(summation_method, str) or summation_method.lower() not in _SUMMATIONS:
            raise ValueError(f'Invalid `summation_method` argument value "{summation_method}". '
                             f"Expected one of: {', '.join(repr(s) for s in _SUMMATIONS)}.")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in (
                thresholds if isinstance(thresholds, (list, tuple, np.ndarray)) else [thresholds]))
            self.num_thresholds = len(inner) + 2
            evenly = _evenly_distributed([0.0] + inner + [1.0])
        else:
            if (isinstance(num_thresholds, bool) or not isinstance(num_thresholds, numbers.Integral)
                    or num_thresholds <= 1):
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds!r}")
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (self.num_thresholds - 1)
                     for i in range(self.num_thresholds - 2)]
            evenly = True
        super().__init__(name=name, dtype=dtype)
        self.curve = _CURVES[curve.lower()]
        self.summation_method = summation_method.lower()
        self.multi_label = bool(multi_label)
        self.num_labels = _check_int(num_labels, "num_labels", "AUC", minimum=1)
        self._from_logits = bool(from_logits)
        self._setup_thresholds([0.0 - EPSILON] + inner + [1.0 + EPSILON])
        self._thresholds_evenly = evenly
        if label_weights is not None:
            lw = np.asarray(
                label_weights.numpy() if isinstance(label_weights, Tensor) else label_weights,
                dtype=self._np_dtype)
            if lw.ndim != 1 or (lw < 0).any():
                raise ValueError("All values of `label_weights` must be non-negative, in a 1-D "
                                 f"list. Received: label_weights={label_weights!r}")
            self._label_weights_host = lw
            self.label_weights = _backend.get_backend().asarray(lw)
        else:
            self._label_weights_host = None
            self.label_weights = None
        self._built = False
        if self.multi_label:
            if self.num_labels:
                self._build(self.num_labels)
        else:
            if self.num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    def _build(self, num_labels):
        shape = (self.num_thresholds,) if num_labels is None else (self.num_thresholds,
                                                                   num_labels)
        if self._label_weights_host is not None and num_labels is not None and \
                self._label_weights_host.shape[0] != num_labels:
            raise ValueError(f"AUC: label_weights has {self._label_weights_host.shape[0]} "
                             f"entries for {num_labels} labels.")
        self._num_labels = num_labels
        for key in self._keys:
            setattr(self, self._var_names[key], self.add_weight(self._var_names[key], shape=shape))
        self._built = True

    @property
    def thresholds(self) -> list:
        """The thresholds, endpoints included (Python floats)."""
        return list(self._thresholds)

    @thresholds.setter
    def thresholds(self, value):
        self._thresholds = [float(t) for t in value]

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Adds the confusion counts of one batch at every threshold.

        Args:
            y_true: 0/1 labels (non-zero counts as 1).
            y_pred: probabilities (logits with `from_logits=True`).
            sample_weight: optional weights broadcastable to `y_pred`.
        """
        yp = _device(y_pred, self._np_dtype)
        if not self._built:
            if yp.ndim != 2:
                raise ValueError("AUC: `y_pred` must have rank 2 when `multi_label=True`. "
                                 f"Received shape {tuple(yp.shape)}.")
            self._build(yp.shape[1])
        if self._from_logits:
            yp = 0.5 * (_xp().tanh(0.5 * yp) + 1.0)  # a sigmoid that cannot overflow
        self._update(y_true, yp, sample_weight, multi_label=self.multi_label,
                     label_weights=None if self.multi_label else self.label_weights)

    def _interpolate_pr_auc(self, tp, fp, fn):
        """tf.keras 2's closed form of Davis & Goadrich's PR interpolation."""
        xp = _xp()
        n = self.num_thresholds
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        slope = _divide_no_nan(dtp, xp.maximum(dp, 0.0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[: n - 1] > 0) & (p[1:] > 0)
        ratio = xp.where(both, _divide_no_nan(p[: n - 1], xp.maximum(p[1:], 0.0)),
                         xp.ones_like(p[1:]))
        return _divide_no_nan(slope * (dtp + intercept * xp.log(ratio)),
                              xp.maximum(tp[1:] + fn[1:], 0.0))

    def result(self) -> Tensor:
        xp = _xp()
        if not self._built:
            return _result_tensor(xp.zeros((), dtype=self._np_dtype))
        tp, fp = self.true_positives.data, self.false_positives.data
        tn, fn = self.true_negatives.data, self.false_negatives.data
        n = self.num_thresholds
        if self.curve == "PR" and self.summation_method == "interpolation":
            terms = self._interpolate_pr_auc(tp, fp, fn)
        else:
            recall = _divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = _divide_no_nan(fp, fp + tn), recall
            else:
                x, y = recall, _divide_no_nan(tp, tp + fp)
            if self.summation_method == "interpolation":
                heights = (y[: n - 1] + y[1:]) / 2.0
            elif self.summation_method == "minoring":
                heights = xp.minimum(y[: n - 1], y[1:])
            else:
                heights = xp.maximum(y[: n - 1], y[1:])
            terms = (x[: n - 1] - x[1:]) * heights
        if not self.multi_label:
            return _result_tensor(xp.sum(terms))
        by_label = xp.sum(terms, axis=0)
        if self.label_weights is None:
            return _result_tensor(xp.mean(by_label))
        lw = self.label_weights
        return _result_tensor(_divide_no_nan(xp.sum(by_label * lw), xp.sum(lw)))

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "num_thresholds": self.num_thresholds,
            "curve": self.curve,
            "summation_method": self.summation_method,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self._label_weights_host is None
            else [float(v) for v in self._label_weights_host],
            "from_logits": self._from_logits,
        })
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
