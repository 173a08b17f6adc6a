"""`EarlyStopping`: stop training when a monitored quantity stops improving."""

from __future__ import annotations

import math

from kerasette.callbacks._checks import (
    as_float,
    check_float,
    check_int,
    check_mode,
    check_monitor,
    logger,
    resolve_direction,
)
from kerasette.callbacks.base import Callback

__all__ = ["EarlyStopping"]


class EarlyStopping(Callback):
    """Stops training when `monitor` has not improved for `patience` epochs.

    At the end of each epoch the monitored value counts as an improvement
    when it beats the best value so far by more than `min_delta`. After
    `patience` epochs in a row without one, `model.stop_training` is set and
    `fit` ends after that epoch.

    Args:
        monitor: the logged quantity to watch, e.g. `"val_loss"` (the
            default), `"loss"` or `"val_accuracy"`.
        min_delta: the least change that counts as an improvement (its sign
            is ignored).
        patience: the number of epochs without improvement to wait before
            stopping (0: stop at the first one without improvement).
        verbose: 1 prints a message when stopping and when restoring weights.
        mode: `"min"` (lower is better), `"max"` (higher is better) or
            `"auto"`: `"max"` for accuracies, AUCs and F-measures (names
            containing "acc" or "auc"), `"min"` for everything else.
        baseline: a value to beat. While no epoch beats it, the patience
            count is not reset, so training stops after `patience` epochs.
        restore_best_weights: at the end of training, give the model the
            weights of the best epoch (the best one seen after
            `start_from_epoch`, even if it did not beat `baseline`). If
            False, the model keeps the weights of the last epoch.
        start_from_epoch: the number of warm-up epochs not watched at all.

    Attributes:
        stopped_epoch: the epoch (from 0) at which training was stopped, or 0.
        best: the best monitored value seen.
        best_epoch: the epoch (from 0) of `best`.
        wait: the number of epochs since the last improvement.

    Raises:
        ValueError: for an unknown `mode`, a negative `patience` or
            `start_from_epoch`, or a non-numeric `min_delta` or `baseline`.

    Example:
        >>> import kerasette as keras
        >>> model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
        >>> stop = keras.callbacks.EarlyStopping(monitor="loss", patience=2)
        >>> stop.set_model(model)
        >>> model.stop_training = False
        >>> stop.on_train_begin()
        >>> for epoch, loss in enumerate([0.5, 0.4, 0.45, 0.41, 0.3]):
        ...     stop.on_epoch_end(epoch, {"loss": loss})
        ...     if model.stop_training:
        ...         break
        >>> stop.stopped_epoch, stop.best
        (3, 0.4)
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0):
        super().__init__()
        name = "EarlyStopping"
        self.monitor = check_monitor(monitor, name)
        self.min_delta = abs(check_float(min_delta, "min_delta", name, "a number"))
        self.patience = check_int(patience, "patience", name)
        self.verbose = verbose
        self.mode = check_mode(mode, name)
        self.baseline = (None if baseline is None
                         else check_float(baseline, "baseline", name, "a number or None"))
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = check_int(start_from_epoch, "start_from_epoch", name)
        self._maximize = resolve_direction(self.mode, self.monitor)
        self._reset()

    def _reset(self) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = -math.inf if self._maximize else math.inf
        self.best_weights = None
        self.best_epoch = 0

    def _is_improvement(self, value: float, reference: float) -> bool:
        if self._maximize:
            return value - self.min_delta > reference
        return value + self.min_delta < reference

    def on_train_begin(self, logs=None):
        self._reset()  # the same instance can serve several fit calls

    def on_epoch_end(self, epoch, logs=None):
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # Something to restore even if no epoch ever improves.
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch

        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # Patience restarts only when the baseline is beaten too.
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return

        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        """The monitored value from `logs` as a float, or None (with a warning)."""
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            logger.warning(
                "Early stopping conditioned on metric `%s` which is not available. "
                "Available metrics are: %s", self.monitor, ",".join(logs.keys()))
            return None
        return as_float(value)
