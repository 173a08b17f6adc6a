"""What `compile` resolves: the loss container and the metrics container."""

from __future__ import annotations

import copy
import numbers

import numpy as np

from kerasette import losses as losses_module
from kerasette import metrics as metrics_module
from kerasette import ops
from kerasette.autodiff.tensor import Tensor

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
        self._direct_plans = None
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
        if (sample_weight is None and self.metrics is not None and type(y_true) is Tensor
                and type(y_pred) is Tensor and y_pred._keras_mask is None
                and type(loss_value) is Tensor):
            # The common batch (no weights, no mask; the loss's logits play
            # no part: `update_metrics` stops the gradient, which drops
            # them): `update_direct`, which gives the same state.
            y, pred = y_true.data, y_pred.data
            if pred.ndim == 2 and y.ndim == 1:
                y = y.reshape(-1, 1)  # `match_rank`'s trailing axis, as a view
            self.update_direct(y, pred, loss_value.data, batch_size)
            return
        self.loss_tracker.update_state(loss_value, sample_weight=float(batch_size))
        self.update_metrics(y_true, y_pred, sample_weight)

    def update_metrics(self, y_true, y_pred, sample_weight, metrics=None):
        """The user's metrics only (the loss tracker is `update`'s); with
        `metrics`, only those of the `(metric, weighted)` pairs given."""
        if y_true is None:
            return
        if self.metrics is None:
            self.build(y_true, y_pred)
        mask = getattr(y_pred, "_keras_mask", None)
        y_pred = ops.stop_gradient(y_pred)
        y_true, sample_weight = match_rank(y_true, y_pred, sample_weight)
        unweighted = None
        if mask is not None:
            # tf.keras 2: a masked sequence output's metrics count the kept
            # steps only; weighted metrics multiply the mask in.
            unweighted = ops.cast(ops.convert_to_tensor(mask), y_pred.dtype)
            sample_weight = unweighted if sample_weight is None else ops.multiply(
                sample_weight, unweighted)
        for metric, weighted in self.metrics if metrics is None else metrics:
            metric.update_state(y_true, y_pred,
                                sample_weight=sample_weight if weighted else unweighted)

    def update_direct(self, y, pred, loss_value, batch_size):
        """`update(Tensor(y), Tensor(pred), None, Tensor(loss_value),
        batch_size)` for the direct training step (training/fast_step.py),
        with the same resulting state, bit for bit.

        `y` and `pred` are backend arrays, `y` rank-matched to `pred` as
        `match_rank` makes it; `loss_value` is the 0-d loss. On the host,
        the loss tracker and the accuracies take the short ways their
        metrics offer (`_host_weighted_adder`, `_host_hits_updater`), chosen
        once per batch shape; everything else goes through `update`'s path.
        """
        if self.metrics is None:
            self.update(Tensor(y), Tensor(pred), None, Tensor(loss_value), batch_size)
            return
        key = (y.shape, y.dtype, pred.shape, pred.dtype)
        plan = self._direct_plans.get(key) if self._direct_plans is not None else None
        if plan is None:
            plan = self._direct_plan(y, pred)
        add_loss, fast, rest = plan
        if add_loss is None:
            self.loss_tracker.update_state(Tensor(loss_value), sample_weight=float(batch_size))
        else:
            add_loss(loss_value, float(batch_size))
        for update in fast:
            update(y, pred)
        if rest:
            self.update_metrics(Tensor(y), Tensor(pred), None, metrics=rest)

    _direct_plans = None

    def __getstate__(self):
        # The plans are functions bound to these metric objects: a copy
        # (deepcopy, pickle) makes its own from its own metrics.
        state = dict(self.__dict__)
        state.pop("_direct_plans", None)
        return state

    def _direct_plan(self, y, pred):
        """`(loss adder or None, [fast metric updates], [other (metric,
        weighted) pairs])` for batches shaped like `y` and `pred`."""
        fast, rest = [], []
        for metric, weighted in self.metrics:
            hook = getattr(metric, "_host_hits_updater", None)
            update = hook(y, pred) if hook is not None else None
            if update is None:
                rest.append((metric, weighted))
            else:
                fast.append(update)
        hook = getattr(self.loss_tracker, "_host_weighted_adder", None)
        plan = (hook() if hook is not None else None, fast, rest)
        if self._direct_plans is None or len(self._direct_plans) > 8:
            self._direct_plans = {}  # a few shapes a fit (the last batch, validation)
        self._direct_plans[(y.shape, y.dtype, pred.shape, pred.dtype)] = plan
        return plan

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


class MultiCompiledLoss:
    """The compiled losses of a model with several outputs, as tf.keras 2
    reports them: the total is the sum over the outputs that have a loss of
    `loss_weight * loss(y, y_pred, sample_weight)`, plus the model's
    regularization losses.

    Args:
        loss: one loss for every output, a list in output order, or a dict
            by output name (outputs left out have no loss and are not trained).
        loss_weights: None (1 each), a list in output order, or a dict by
            output name (missing names weigh 1).
        output_names: the names of the model's outputs, in order.
    """

    def __init__(self, loss, loss_weights, output_names):
        self.output_names = list(output_names)
        self.given = (loss, loss_weights)  # as the user wrote them, for saving
        specs = per_output(loss, self.output_names, "loss")
        self.losses = [None if spec is None else _loss_object(spec) for spec in specs]
        if all(obj is None for obj in self.losses):
            raise ValueError("Argument `loss` names none of the model's outputs "
                             f"{self.output_names}. Received: loss={loss!r}")
        self.weights = _output_weights(loss_weights, self.output_names)
        # The unweighted loss of each output at the last call, for the
        # `OUTPUTNAME_loss` trackers (kept here so that `train_step` keeps
        # its one-loss signature and custom steps keep working).
        self.last_values = [None] * len(self.losses)
        self.loss = self.losses[0] if len(set(map(id, self.losses))) == 1 else None

    def __call__(self, y_true, y_pred, sample_weight, regularization_losses):
        names = self.output_names
        ys, preds = _as_output_list(y_true, names), _as_output_list(y_pred, names)
        weights = None if sample_weight is None else _as_output_list(sample_weight, names)
        total = None
        for i, obj in enumerate(self.losses):
            if obj is None:
                continue
            sw = None if weights is None else weights[i]
            value = obj(ys[i], preds[i], sample_weight=sw)
            self.last_values[i] = value
            if self.weights[i] != 1.0:
                value = value * self.weights[i]
            total = value if total is None else total + value
        for extra in regularization_losses:
            total = total + extra
        return total


class MultiCompiledMetrics:
    """The loss trackers and metrics of a model with several outputs, named
    as tf.keras 2 names them: `loss`, then `OUTPUTNAME_loss` for each output
    with a loss, then `OUTPUTNAME_METRICNAME` output by output.

    Args:
        metrics, weighted_metrics: a flat list (applied to every output), a
            list of lists in output order, or a dict by output name.
        compiled_loss: the model's `MultiCompiledLoss` (its per-output values
            feed the `OUTPUTNAME_loss` trackers).
    """

    def __init__(self, metrics, weighted_metrics, compiled_loss):
        names = compiled_loss.output_names
        self.given = (metrics, weighted_metrics)  # as the user wrote them, for saving
        self._compiled_loss = compiled_loss
        self.loss_tracker = metrics_module.Mean(name="loss")
        self.output_loss_trackers = [
            None if obj is None else metrics_module.Mean(name=f"{name}_loss")
            for name, obj in zip(names, compiled_loss.losses)]
        plain = metrics_per_output(metrics, names, "metrics")
        weighted = metrics_per_output(weighted_metrics, names, "weighted_metrics")
        self.per_output = [CompiledMetrics(p, w, obj)
                           for p, w, obj in zip(plain, weighted, compiled_loss.losses)]
        self.names = [t.name for t in self.output_loss_trackers if t is not None]
        for name, container in zip(names, self.per_output):
            self.names += [f"{name}_{metric}" for metric in container.names]
        for name in self.names:
            if self.names.count(name) > 1:
                raise ValueError(f"Two metrics are named {name!r}; give one an explicit name.")
        self._specs = []  # what saving reads of a one-output model: nothing here

    @property
    def metrics(self):
        """The per-output metrics once built (None before the first batch)."""
        if any(c.metrics is None for c in self.per_output if c.names):
            return None
        return [pair for c in self.per_output for pair in c.metrics or ()]

    def update(self, y_true, y_pred, sample_weight, loss_value, batch_size):
        batch = float(batch_size)
        self.loss_tracker.update_state(loss_value, sample_weight=batch)
        for tracker, value in zip(self.output_loss_trackers, self._compiled_loss.last_values):
            if tracker is not None and value is not None:
                tracker.update_state(value, sample_weight=batch)
        if y_true is None:
            return
        names = self._compiled_loss.output_names
        ys, preds = _as_output_list(y_true, names), _as_output_list(y_pred, names)
        weights = None if sample_weight is None else _as_output_list(sample_weight, names)
        for i, container in enumerate(self.per_output):
            if container.names:
                container.update_metrics(ys[i], preds[i], None if weights is None else weights[i])

    def reset(self):
        self.loss_tracker.reset_state()
        for tracker in self.output_loss_trackers:
            if tracker is not None:
                tracker.reset_state()
        for container in self.per_output:
            container.reset()

    def all(self):
        trackers = [t for t in self.output_loss_trackers if t is not None]
        return [self.loss_tracker] + trackers + [
            m for c in self.per_output for m, _ in c.metrics or ()]

    def results(self) -> dict:
        """Host floats for display and History, in `metrics_names` order."""
        out = {"loss": float(self.loss_tracker.result())}
        for tracker in self.output_loss_trackers:
            if tracker is not None:
                out[tracker.name] = float(tracker.result())
        for name, container in zip(self._compiled_loss.output_names, self.per_output):
            if container.metrics is not None:
                for metric_name, (metric, _) in zip(container.names, container.metrics):
                    out[f"{name}_{metric_name}"] = float(metric.result())
        return out


def per_output(value, names, what):
    """`value` as one entry per output: one value for all, a list in output
    order, or a dict by output name (missing names get None).

    Raises:
        ValueError: for a list of the wrong length or a dict key that is not
            an output name, naming the argument, the outputs and what was
            received.
    """
    if isinstance(value, dict):
        unknown = [key for key in value if key not in names]
        if unknown:
            raise ValueError(
                f"Argument `{what}` has key(s) {unknown} that are not outputs of the model. "
                f"Its outputs are named {names} (the names of the layers that make them). "
                f"Received: {what}={value!r}")
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(
                f"Argument `{what}` is a list of {len(value)} entries, but the model has "
                f"{len(names)} outputs ({', '.join(names)}): pass one entry per output, in "
                f"that order, or a dict by output name. Received: {what}={value!r}")
        return list(value)
    return [value] * len(names)


def metrics_per_output(metrics, names, what):
    """`metrics` as one list per output: a flat list goes to every output
    (Metric objects copied, so outputs do not share their state), a list of
    lists is in output order, a dict by output name."""
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, dict):
        per = per_output(metrics, names, what)
        return [_as_list(m, what) if m is not None else [] for m in per]
    if not isinstance(metrics, (list, tuple)):
        metrics = [metrics]
    if metrics and all(isinstance(m, (list, tuple)) or m is None for m in metrics):
        per = per_output(list(metrics), names, what)
        return [_as_list(m, what) for m in per]
    out = []
    for i in range(len(names)):
        out.append([copy.deepcopy(m) if i and isinstance(m, metrics_module.Metric) else m
                    for m in metrics])
    return out


def _loss_object(loss):
    obj = losses_module.get(loss)
    if not isinstance(obj, losses_module.Loss):
        name = getattr(obj, "__name__", "loss")
        obj = losses_module.LossFunctionWrapper(obj, name=name)
    return obj


def _output_weights(loss_weights, names):
    """`loss_weights` as one float per output (1 where not given)."""
    if loss_weights is None:
        return [1.0] * len(names)
    if not isinstance(loss_weights, (list, tuple, dict)):
        raise ValueError(
            f"Argument `loss_weights` must be a list (one number per output, in the order "
            f"{names}) or a dict by output name for a model with {len(names)} outputs. "
            f"Received: loss_weights={loss_weights!r}")
    per = per_output(loss_weights, names, "loss_weights")
    return [1.0 if w is None else _single_weight(w) for w in per]


def _as_output_list(value, names):
    """Targets, predictions or sample weights of a multi-output batch as a
    list in output order (`names`): data adapters give a list; a user's
    custom step may give a dict by output name, and a model built with a
    dict of outputs returns one."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, dict):
        return [value[name] for name in names]
    return [value]


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
