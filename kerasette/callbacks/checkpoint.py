"""`ModelCheckpoint`: save the model or its weights during training."""

from __future__ import annotations

import math
import os
import string

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

__all__ = ["ModelCheckpoint"]


def _template_fields(filepath: str) -> list[str]:
    """The names used in `filepath`'s `{...}` fields (`epoch`, `val_loss`, ...)."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(filepath) if f is not None]
    except ValueError as e:
        raise ValueError(f"ModelCheckpoint: `filepath` is not a valid template ({e}). "
                         f"Double the braces to write one literally. "
                         f"Received: filepath={filepath!r}") from None
    for field in fields:
        if field == "" or field[0].isdigit():
            raise ValueError(
                "ModelCheckpoint: the fields of `filepath` must be named, as in "
                f"'{{epoch:02d}}' or '{{val_loss:.2f}}'. Received: filepath={filepath!r}")
    return fields


class ModelCheckpoint(Callback):
    """Saves the model (or its weights) at the end of epochs or every few batches.

    Args:
        filepath: where to save. It may hold fields filled from the logs,
            with `epoch` counted from 1 (and `batch` from 1 with an integer
            `save_freq`), e.g. `"weights.{epoch:02d}-{val_loss:.2f}.h5"`.
            Missing folders are created.
        monitor: the logged quantity deciding what "best" means.
        verbose: 1 prints a message at each save decision.
        save_best_only: save only when `monitor` improves on the best value
            so far (without fields in `filepath`, the file then always holds
            the best model).
        save_weights_only: save with `model.save_weights(filepath)` instead of
            `model.save(filepath)`.
        mode: `"min"`, `"max"` or `"auto"` (`"max"` for names containing
            "acc" or "auc", `"min"` otherwise).
        save_freq: `"epoch"` to save after each epoch, or an integer: save
            after that many training batches (counted across epochs).
        options: accepted for tf.keras compatibility; ignored.
        initial_value_threshold: the value the first save must beat when
            `save_best_only` is set.
        **kwargs: `period`, the number of epochs between saves (deprecated
            in tf.keras in favour of `save_freq`, still accepted).

    Raises:
        ValueError: for an unknown `mode`, a bad `save_freq` or `period`, or
            a `filepath` with unnamed fields. At save time, a `ValueError`
            names a field of `filepath` that the logs do not hold.

    Example:
        >>> from kerasette.callbacks import ModelCheckpoint
        >>> ckpt = ModelCheckpoint("ckpt/model.{epoch:02d}-{val_loss:.2f}.h5")
        >>> ckpt._get_file_path(epoch=2, batch=None, logs={"val_loss": 0.1234})
        'ckpt/model.03-0.12.h5'
    """

    def __init__(self, filepath, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq="epoch", options=None,
                 initial_value_threshold: float | None = None, **kwargs):
        super().__init__()
        name = "ModelCheckpoint"
        self.filepath = os.fspath(filepath)
        _template_fields(self.filepath)
        self.monitor = check_monitor(monitor, name)
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.mode = check_mode(mode, name)
        if save_freq != "epoch":
            try:
                save_freq = check_int(save_freq, "save_freq", name, minimum=1)
            except ValueError:
                raise ValueError(
                    f"{name}: argument `save_freq` must be 'epoch' or a positive integer "
                    f"(a number of batches). Received: save_freq={save_freq!r}") from None
        self.save_freq = save_freq
        self.options = options
        period = kwargs.pop("period", 1)
        if kwargs:
            raise TypeError(f"{name}: unexpected keyword arguments {sorted(kwargs)}.")
        self.period = check_int(period, "period", name, minimum=1)
        if self.period != 1:
            logger.warning("`period` argument is deprecated. Please use `save_freq` to "
                           "specify the frequency in number of batches seen.")
        self._maximize = resolve_direction(self.mode, self.monitor)
        if initial_value_threshold is not None:
            self.best = check_float(initial_value_threshold, "initial_value_threshold", name,
                                    "a number or None")
        else:
            self.best = -math.inf if self._maximize else math.inf
        self.epochs_since_last_save = 0
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = -1
        self._current_epoch = 0

    def _implements_hook(self, hook: str) -> bool:
        if hook == "on_train_batch_end":
            return self.save_freq != "epoch"  # batch hooks only when saving on batches
        return super()._implements_hook(hook)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(epoch=self._current_epoch, batch=batch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_since_last_save += 1
        if self.save_freq == "epoch":
            self._save_model(epoch=epoch, batch=None, logs=logs)

    def _should_save_on_batch(self, batch: int) -> bool:
        if self.save_freq == "epoch":
            return False
        if batch <= self._last_batch_seen:  # a new epoch started
            added = batch + 1
        else:
            added = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += added
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _is_improvement(self, current: float) -> bool:
        return current > self.best if self._maximize else current < self.best

    def _save_model(self, epoch: int, batch: int | None, logs) -> None:
        if not (isinstance(self.save_freq, int) or self.epochs_since_last_save >= self.period):
            return
        logs = dict(logs or {})  # batch logs are read here, at save time only
        self.epochs_since_last_save = 0
        filepath = self._get_file_path(epoch, batch, logs)
        if os.path.isdir(filepath):
            raise IsADirectoryError(
                "Please specify a non-directory filepath for ModelCheckpoint. "
                f"Filepath used is an existing directory: {filepath}")
        if self.save_best_only:
            current = as_float(logs.get(self.monitor))
            if current is None:
                logger.warning("Can save best model only with %s available, skipping.",
                               self.monitor)
                return
            if not self._is_improvement(current):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve "
                          f"from {self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} "
                      f"to {current:.5f}, saving model to {filepath}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        self._write(filepath)

    def _write(self, filepath: str) -> None:
        folder = os.path.dirname(filepath)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)

    def _get_file_path(self, epoch: int, batch: int | None, logs) -> str:
        """`filepath` with its fields filled (`epoch` and `batch` from 1)."""
        values = dict(logs)
        values["epoch"] = epoch + 1
        if batch is not None and "batch" not in values:
            values["batch"] = batch + 1
        try:
            return self.filepath.format_map(values)
        except KeyError as e:
            key = e.args[0]
            raise ValueError(
                f"ModelCheckpoint could not fill the field {{{key}}} of filepath "
                f"{self.filepath!r}: {key!r} is not in the logs. Available: "
                f"{', '.join(sorted(values))}. (Validation metrics such as 'val_loss' "
                "exist only when fit has validation data.)") from None
        except (ValueError, TypeError) as e:
            raise ValueError(
                f"ModelCheckpoint could not format filepath {self.filepath!r} with "
                f"{values}: {e}") from None
