"""What `compile` resolves: the loss container and the metrics container."""

from __future__ import annotations

import numbers

import numpy as np

from kerasette import losses as losses_module
from kerasette import metrics as metrics_module
from kerasette import ops

_ACCURACY_NAMES = ("accuracy", "acc")


class CompiledLoss:
    """The compiled loss: `loss(y, y_pred, sample_weight) * loss_weight`
    plus the model's regularization losses, as tf.keras 2 reports it."""

    def __init__(self, loss, loss_weights=None):
        if loss is None:
            raise ValueError("compile() needs a `loss`, e.g. loss='mse' or "
                             "loss='sparse_categorical_crossentropy'.")
        obj = losses_module.get(loss)
        if not isinstance(obj, losses_module.Loss):
            name = getattr(obj, "__name__", "loss")
            obj = losses_module.LossFunctionWrapper(obj, name=name)
        self.loss = obj
        self.weight = _single_weight(loss_weights)

    def __call__(self, y_true, y_pred, sample_weight, regularization_losses):
        value = self.loss(y_true, y_pred, sample_weight=sample_weight)
        if self.weight != 1.0:
            value = value * self.weight
        for extra in regularization_losses:
            value = value + extra
        return value


def _single_weight(loss_weights):
    """`loss_weights` for a model with one output, as a float.

    Raises:
        ValueError: naming what was received, for anything but one finite,
            non-negative number (alone, in a list of one, or in a dict of
            one): NaN or infinity would turn every weight into NaN, and a
            negative weight makes training climb the loss.
    """
    if loss_weights is None:
        return 1.0
    value = loss_weights
    if isinstance(value, (list, tuple, dict)):
        if len(value) != 1:
            raise ValueError(
                "Argument `loss_weights` must hold one weight: this model has one output. "
                f"Received: {len(value)} entries, loss_weights={loss_weights!r}")
        value = next(iter(value.values())) if isinstance(value, dict) else value[0]
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            "Argument `loss_weights` must be a number (the factor of the loss), a list of one "
            f"number, or a dict {{output name: number}}. Received: loss_weights={loss_weights!r}")
    if not 0 <= value < float("inf"):
        raise ValueError(
            "Argument `loss_weights` must be a finite, non-negative number: NaN or infinity "
            "turns every weight into NaN, and a negative factor makes training climb the "
            f"loss. Received: loss_weights={loss_weights!r}")
    return float(value)


class CompiledMetrics:
    """The user's metrics, resolved on the first batch (when the shapes that
    decide what "accuracy" means are known), plus the loss tracker."""

    def __init__(self, metrics, weighted_metrics, loss):
        self.loss_tracker = metrics_module.Mean(name="loss")
        self._specs = [(m, False) for m in _as_list(metrics, "metrics")]
        self._specs += [(m, True) for m in _as_list(weighted_metrics, "weighted_metrics")]
        self._loss = loss
        self.metrics = None  # [(metric object, weighted)] once built
        # Names are known now; resolution only decides which formula.
        # As in tf.keras 2, a weighted metric whose name an unweighted one
        # already has is reported as `weighted_<name>`.
        plain = {_name_of(m) for m, weighted in self._specs if not weighted}
        self.names = [("weighted_" + _name_of(m)) if weighted and _name_of(m) in plain
                      else _name_of(m) for m, weighted in self._specs]
        for name in self.names:
            if self.names.count(name) > 1:
                raise ValueError(f"Two metrics are named {name!r}; give one an explicit name.")

    def build(self, y_true, y_pred):
        self.metrics = []
        for (spec, weighted), name in zip(self._specs, self.names):
            if isinstance(spec, str) and spec in _ACCURACY_NAMES:
                metric = metrics_module.get_accuracy_metric(
                    spec, tuple(y_true.shape), tuple(y_pred.shape), loss=self._loss)
            else:
                metric = metrics_module.get(spec)
                if not isinstance(metric, metrics_module.Metric):
                    metric = metrics_module.MeanMetricWrapper(metric, name=_name_of(spec))
            if isinstance(spec, str) and metric.name != name:
                metric.name = name  # the `weighted_` prefix; a user's object keeps its own
            self.metrics.append((metric, weighted))

    def update(self, y_true, y_pred, sample_weight, loss_value, batch_size):
        self.loss_tracker.update_state(loss_value, sample_weight=float(batch_size))
        if y_true is None:
            return
        if self.metrics is None:
            self.build(y_true, y_pred)
        y_pred = ops.stop_gradient(y_pred)
        y_true, sample_weight = match_rank(y_true, y_pred, sample_weight)
        for metric, weighted in self.metrics:
            metric.update_state(y_true, y_pred, sample_weight=sample_weight if weighted else None)

    def reset(self):
        self.loss_tracker.reset_state()
        for metric, _ in self.metrics or ():
            metric.reset_state()

    def all(self):
        return [self.loss_tracker] + [m for m, _ in self.metrics or ()]

    def results(self) -> dict:
        """Host floats for display and History (one read per metric)."""
        out = {"loss": float(self.loss_tracker.result())}
        if self.metrics is not None:
            for name, (metric, _) in zip(self.names, self.metrics):
                out[name] = float(metric.result())
        return out


def match_rank(y_true, y_pred, sample_weight):
    """tf.keras 2's `match_dtype_and_rank`, rank part: against a 2-D
    prediction, 1-D labels and 1-D sample weights get a trailing axis.

    Without it a `(batch,)` label against a `(batch, 1)` output is squeezed
    pairwise by the metric, and a per-sample metric such as
    `binary_accuracy` (a mean over the last axis) returns one number per
    batch instead of one per sample: a partial last batch then counts as
    much as a full one.
    """
    if _ndim(y_pred) != 2:
        return y_true, sample_weight
    if _ndim(y_true) == 1:
        y_true = ops.expand_dims(y_true, -1)
    if sample_weight is not None and _ndim(sample_weight) == 1:
        sample_weight = ops.expand_dims(sample_weight, -1)
    return y_true, sample_weight


def _ndim(value) -> int:
    return len(getattr(value, "shape", ()))


def _as_list(value, what):
    if value is None:
        return []
    if isinstance(value, dict):
        raise ValueError(f"`{what}` as a dict is for multi-output models; this model has one "
                         "output. Pass a list.")
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _name_of(spec) -> str:
    if isinstance(spec, str):
        return spec
    name = getattr(spec, "name", None) or getattr(spec, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot name metric {spec!r}; give it a `name`.")
    return name
