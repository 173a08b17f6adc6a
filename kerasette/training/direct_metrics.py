"""Metric updates for the direct training step (`fast_step.py`).

The loss tracker and the accuracies people compile with are updated from
the step's own arrays in a handful of calls, with the same float32 values
as `CompiledMetrics.update`; other metrics go through their `update_state`.
"""

from __future__ import annotations

import numpy as np

from kerasette import backend as _backend
from kerasette import metrics as metrics_module
from kerasette.autodiff.tensor import Tensor
from kerasette.training.compile_utils import match_rank


class DirectMetrics:
    """`CompiledMetrics.update` for the direct step, with the same results.

    The loss tracker and the accuracies people compile with (`"accuracy"`
    resolved to sparse or categorical accuracy, or those metrics by name or
    object) are updated in place from the step's arrays: an argmax, a
    comparison and a count, where the generic path casts, wraps in tensors
    and sums. The running states get the same float32 values, because the
    generic path adds a float32 sum of 0/1 values, which is the count
    exactly. Other metrics get the generic `update_state`.

    Args:
        model: the compiled model.
        loss_kind: `"sparse"` or `"categorical"` labels.
        units: the number of classes.
        dtype: the model's dtype (direct updates need float32 throughout,
            since the generic path casts to the metrics' float32 first).
    """

    def __init__(self, model, loss_kind, units, dtype):
        self.model = model
        self.loss_kind = loss_kind
        self.units = units
        self.float32_model = dtype == np.float32
        self._key = (None, None)  # (compiled metrics, their metric list) the plan is for
        self._plan = None

    def plan(self):
        """`(tracker_direct, [(kind, metric)])`, or None before the metrics
        are built; kind is "accuracy" for a direct update, else None."""
        compiled = self.model.compiled_metrics
        if self._key[0] is compiled and self._key[1] is compiled.metrics:
            return self._plan
        plan = None
        if compiled.metrics is not None:
            tracker = compiled.loss_tracker
            tracker_direct = (self.float32_model and type(tracker) is metrics_module.Mean
                              and _float32_state(tracker))
            plan = (tracker_direct, [("accuracy" if self._direct_accuracy(m) else None, m)
                                     for m, _ in compiled.metrics])
        self._key, self._plan = (compiled, compiled.metrics), plan
        return plan

    def _direct_accuracy(self, metric) -> bool:
        """Whether `metric` is an accuracy over these labels that the direct
        update reproduces (a plain `MeanMetricWrapper` of the matching
        accuracy function, float32 state; fewer than 2**24 classes, so that
        the generic path's float32 casts of labels and argmaxes are exact
        where they matter)."""
        cls = type(metric)
        want = (metrics_module.sparse_categorical_accuracy if self.loss_kind == "sparse"
                else metrics_module.categorical_accuracy)
        return (self.float32_model and isinstance(metric, metrics_module.MeanMetricWrapper)
                and cls.update_state is metrics_module.MeanMetricWrapper.update_state
                and cls._accumulate is metrics_module.Mean._accumulate
                and metric._fn is want and not metric._fn_kwargs
                and _float32_state(metric) and 1 < self.units < 2 ** 24)

    def update(self, plan, y_tensor, y, y_pred, loss, n, ws):
        """Adds one batch: labels `y` (and their tensor), outputs `y_pred`
        (a workspace buffer), the batch's mean loss, its size `n`, as
        `plan` (from `plan()`) says."""
        if plan is None or not plan[0]:
            # Fresh arrays, as the general step gives: a metric may keep them.
            self.model.compiled_metrics.update(y_tensor, Tensor(y_pred.copy()), None,
                                               Tensor(loss), n)
            return
        add = _add_on_host if ws.host else _add_on_device
        tracker = self.model.compiled_metrics.loss_tracker
        w = float(n)
        # Mean._accumulate(loss, sample_weight=n): total += sum(loss * n); count += n.
        add(tracker.total.data, loss * w)
        add(tracker.count.data, w)
        hits = y_true = None
        for kind, metric in plan[1]:
            if kind is None:
                if y_true is None:  # once per step, for every such metric
                    y_true, _ = match_rank(y_tensor, y_pred, None)
                metric.update_state(y_true, Tensor(y_pred.copy()), sample_weight=None)
                continue
            if hits is None:
                hits = self._hits(y, y_pred, ws)
            # Mean._accumulate(matches): total += sum(matches); count += matches.size.
            add(metric.total.data, hits)
            add(metric.count.data, w)

    def _hits(self, y, y_pred, ws):
        """How many rows the model classes right: a count of the 0/1 values
        sparse (or categorical) accuracy would sum."""
        xp = ws.xp
        predicted = y_pred.argmax(axis=-1)
        if self.loss_kind == "sparse":
            truth = y
        else:
            truth = (y if y.dtype == y_pred.dtype else y.astype(y_pred.dtype)).argmax(axis=-1)
        hits = xp.count_nonzero(predicted == truth)
        # On the host a Python int: NumPy's int64 scalar would make the
        # float32 sum go through float64 (same value, ten times the time).
        return int(hits) if ws.host else hits


def _add_on_host(state, value):
    """`state += value` for a 0-d NumPy array, in NumPy's scalar arithmetic:
    the same float32 rounding as the ufunc, in a tenth of its time."""
    state[()] = state[()] + value


def _add_on_device(state, value):
    """`state += value` for a 0-d device array, without a host round trip."""
    xp = _backend.get_backend().xp
    xp.add(state, value, out=state)


def _float32_state(metric) -> bool:
    return metric._np_dtype == np.float32 and all(
        v.data.dtype == np.float32 for v in metric._variables)
