"""Callbacks that set the optimizer's learning rate between epochs:
`LearningRateScheduler` and `ReduceLROnPlateau`."""

from __future__ import annotations

import inspect
import math
import numbers

import numpy as np

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

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau"]


def _optimizer(callback: Callback):
    optimizer = getattr(callback.model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError(
            f"{type(callback).__name__} needs a compiled model: `model.optimizer` must "
            f"have a `learning_rate`. Received: optimizer={optimizer!r}")
    return optimizer


def get_lr(callback: Callback) -> float:
    """The current learning rate of the model's optimizer, as a Python float."""
    return float(_optimizer(callback).learning_rate)


def set_lr(callback: Callback, value: float) -> None:
    _optimizer(callback).learning_rate = value


def _takes_lr(schedule) -> bool | None:
    """Whether `schedule` accepts `(epoch, lr)`; None when that cannot be told."""
    try:
        signature = inspect.signature(schedule)
    except (TypeError, ValueError):  # some builtins and C callables
        return None
    try:
        signature.bind(0, 0.1)
    except TypeError:
        return False
    return True


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch from a schedule.

    Args:
        schedule: a function of the epoch index (from 0) and the current
            learning rate, returning the new rate: `schedule(epoch, lr)`.
            A function of the epoch alone, `schedule(epoch)`, works too.
        verbose: 1 prints the new rate at each epoch.

    The epoch logs get the rate used during the epoch as `lr`, so
    `History` records it (as tf.keras 2 does).

    Raises:
        TypeError: if `schedule` is not callable.
        ValueError: if the schedule returns something that is not a number,
            or if the model has no optimizer.

    Example:
        >>> import kerasette as keras
        >>> model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
        >>> model.optimizer = keras.optimizers.SGD(learning_rate=0.1)
        >>> halve = keras.callbacks.LearningRateScheduler(
        ...     lambda epoch, lr: lr if epoch < 1 else lr / 2)
        >>> halve.set_model(model)
        >>> for epoch in range(3):
        ...     halve.on_epoch_begin(epoch)
        >>> round(float(model.optimizer.learning_rate), 6)
        0.025
    """

    def __init__(self, schedule, verbose: int = 0):
        super().__init__()
        if not callable(schedule):
            raise TypeError("LearningRateScheduler: argument `schedule` must be a function "
                             f"of (epoch, lr) or of epoch. Received: schedule={schedule!r}")
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _takes_lr(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        lr = get_lr(self)
        if self._takes_lr is None:  # cannot inspect it: try both, as tf.keras does
            try:
                new_lr = self.schedule(epoch, lr)
            except TypeError:
                new_lr = self.schedule(epoch)
        elif self._takes_lr:
            new_lr = self.schedule(epoch, lr)
        else:
            new_lr = self.schedule(epoch)
        value = as_float(new_lr)
        if isinstance(new_lr, (bool, str)) or value is None or math.isnan(value):
            raise ValueError('The output of the "schedule" function should be a float. '
                             f"Got: {new_lr!r} at epoch {epoch}")
        set_lr(self, value)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{new_lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = get_lr(self)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by `factor` when `monitor` stops improving.

    After `patience` epochs without an improvement (a change beyond
    `min_delta` in the right direction), the rate becomes
    `max(lr * factor, min_lr)`; then `cooldown` epochs pass before epochs
    without improvement are counted again. The epoch logs get the rate used
    during the epoch as `lr` (tf.keras 2 does the same).

    Args:
        monitor: the logged quantity to watch.
        factor: the multiplier, in `[0, 1)`: `new_lr = lr * factor`.
        patience: epochs without improvement before reducing.
        verbose: 1 prints a message at each reduction.
        mode: `"min"`, `"max"` or `"auto"` (`"max"` for names containing
            "acc" or "auc", `"min"` otherwise).
        min_delta: the least change counting as an improvement.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the rate is never reduced below this.
        **kwargs: `epsilon`, an old name of `min_delta`.

    Raises:
        ValueError: for `factor >= 1` (or negative), an unknown `mode`, or a
            negative `patience`, `cooldown` or `min_lr`.

    Example:
        >>> import kerasette as keras
        >>> model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
        >>> model.optimizer = keras.optimizers.Adam(learning_rate=0.01)
        >>> reduce = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5,
        ...                                            patience=1)
        >>> reduce.set_model(model)
        >>> reduce.on_train_begin()
        >>> for epoch, loss in enumerate([1.0, 0.9, 0.95]):
        ...     reduce.on_epoch_end(epoch, {"loss": loss})
        >>> round(float(model.optimizer.learning_rate), 6)
        0.005
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0, **kwargs):
        super().__init__()
        name = "ReduceLROnPlateau"
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
            logger.warning("`epsilon` argument is deprecated and will be removed, use "
                           "`min_delta` instead.")
        if kwargs:
            raise TypeError(f"{name}: unexpected keyword arguments {sorted(kwargs)}.")
        self.monitor = check_monitor(monitor, name)
        number = factor if isinstance(factor, numbers.Real) else None
        if number is not None and number >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received: factor={factor!r}")
        self.factor = check_float(factor, "factor", name, "a float in [0, 1)",
                                  lambda x: 0 <= x < 1)
        self.min_lr = check_float(min_lr, "min_lr", name, "a non-negative float",
                                  lambda x: x >= 0)
        self.min_delta = check_float(min_delta, "min_delta", name, "a number")
        self.patience = check_int(patience, "patience", name)
        self.verbose = verbose
        self.cooldown = check_int(cooldown, "cooldown", name)
        self.mode = check_mode(mode, name)
        self._maximize = resolve_direction(self.mode, self.monitor)
        self._reset()

    def _reset(self) -> None:
        self.best = -math.inf if self._maximize else math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def _is_improvement(self, current: float) -> bool:
        if self._maximize:
            return current > self.best + self.min_delta
        return current < self.best - self.min_delta

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        old_lr = get_lr(self)
        logs["lr"] = old_lr
        current = as_float(logs.get(self.monitor))
        if current is None:
            logger.warning(
                "Learning rate reduction is conditioned on metric `%s` which is not "
                "available. Available metrics are: %s", self.monitor, ",".join(logs.keys()))
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and old_lr > float(np.float32(self.min_lr)):
                new_lr = max(old_lr * self.factor, self.min_lr)
                set_lr(self, new_lr)
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                          f"to {new_lr}.")
                self.cooldown_counter = self.cooldown
                self.wait = 0
