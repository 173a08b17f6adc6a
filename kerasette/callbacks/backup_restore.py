"""`BackupAndRestore`: resume an interrupted `fit` where it stopped."""

from __future__ import annotations

import json
import numbers
import os
import re
import shutil
import tempfile

import numpy as np

from kerasette import backend as _backend
from kerasette.callbacks._checks import logger
from kerasette.callbacks.base import Callback

__all__ = ["BackupAndRestore"]

_POINTER = "checkpoint.json"
_FORMAT = "kerasette-backup"
_CKPT = re.compile(r"^ckpt-(\d+)$")
_WEIGHTS = "model.weights.h5"
_STATE = "state.npz"


class BackupAndRestore(Callback):
    """Backs up the training state so that a `fit` stopped by an error (or
    a killed process) goes on where it stopped when `fit` runs again.

    Each backup holds the model's weights, the optimizer's state (step count
    and slots) and learning rate, the epoch (and batch) reached, and the
    state of kerasette's random generators (shuffling, dropout masks). When
    `fit` starts with a backup in `backup_dir`, it restores all of it and
    begins at the next epoch, as tf.keras 2 does (its `initial_epoch` is
    replaced). Resumed on the same machine, the run is bit-identical to one
    never interrupted: same weights and the same epoch logs from there on.
    The returned `History` holds the epochs run by that `fit` call, as in
    tf.keras. After a `fit` that finishes, the backup is deleted (unless
    `delete_checkpoint=False`).

    A backup is written into a fresh `ckpt-N` folder (weights with
    `model.save_weights`, the rest as one `.npz`), and only then does
    `checkpoint.json` name it, replaced atomically: a crash while backing
    up leaves the previous backup in use.

    Args:
        backup_dir: the folder for the backups (created if missing); one
            per training run, not shared by runs at the same time.
        save_freq: `"epoch"` (back up at the end of every epoch) or an
            integer: back up every that many batches. A run resumed from a
            batch backup skips the batches already done in that epoch, and
            that epoch's logs cover only the batches run after the resume.
        delete_checkpoint: delete the backup when `fit` ends normally.
        save_before_preemption: tf.keras's multi-worker preemption notice;
            only False is supported.

    Raises:
        ValueError: for a `save_freq` that is neither "epoch" nor a
            positive integer, or a `backup_dir` that is not a path.

    Example:
        >>> import kerasette as keras
        >>> backup = keras.callbacks.BackupAndRestore(backup_dir="/tmp/backup")
        >>> backup.save_freq
        'epoch'
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True,
                 save_before_preemption=False):
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not os.fspath(backup_dir):
            raise ValueError("BackupAndRestore: argument `backup_dir` must be a folder path. "
                             f"Received: backup_dir={backup_dir!r}")
        if save_before_preemption:
            raise NotImplementedError("BackupAndRestore: `save_before_preemption` is for "
                                      "multi-worker training, which kerasette does not run.")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(
                save_freq, numbers.Integral) or save_freq < 1):
            raise ValueError("BackupAndRestore: argument `save_freq` must be 'epoch' or a "
                             f"positive integer (batches). Received: save_freq={save_freq!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq if save_freq == "epoch" else int(save_freq)
        self.delete_checkpoint = bool(delete_checkpoint)
        self.save_before_preemption = False
        self._resume_at = None  # (epoch, steps to skip), read by fit after on_train_begin
        self._batches_seen = 0
        self._epoch = 0
        self._epoch_start_host = None
        self._warned_device_rng = False

    # -- fit's hooks ---------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._resume_at = None
        self._batches_seen = 0
        pointer = self._read_pointer()
        if pointer is not None:
            self._resume_at = self._restore(pointer)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        if self.save_freq != "epoch":
            # A mid-epoch backup restores this: the epoch's shuffle is drawn again.
            self._epoch_start_host = _backend.get_rng_state()["host"]

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen >= self.save_freq:
            self._batches_seen = 0
            self._back_up(self._epoch, batch)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._back_up(epoch, None)

    def on_train_end(self, logs=None):
        self._resume_at = None
        if self.delete_checkpoint:
            self._delete_backups()

    def on_train_abort(self, exception):
        self._resume_at = None  # the backup stays, for the next fit

    def _implements_hook(self, hook):
        if hook == "on_train_batch_end":
            return self.save_freq != "epoch"
        return super()._implements_hook(hook)

    # -- writing -------------------------------------------------------------------------
    def _back_up(self, epoch, batch):
        model = self.model
        os.makedirs(self.backup_dir, exist_ok=True)
        previous = self._read_pointer()
        number = 0 if previous is None else int(_CKPT.match(previous["dir"]).group(1)) + 1
        name = f"ckpt-{number}"
        folder = os.path.join(self.backup_dir, name)
        if os.path.isdir(folder):  # left by a crash before its pointer was written
            shutil.rmtree(folder)
        os.makedirs(folder)
        model.save_weights(os.path.join(folder, _WEIGHTS))
        rng = _backend.get_rng_state()
        if rng["device"] is None and not self._warned_device_rng:
            self._warned_device_rng = True
            logger.warning("BackupAndRestore: the %s backend's random generator cannot report "
                           "its state, so a resumed run draws other dropout masks than an "
                           "uninterrupted one would (weights, optimizer and shuffling are "
                           "restored).", _backend.backend())
        optimizer = model.optimizer
        arrays = {}
        learning_rate = None
        if optimizer is not None:
            for i, variable in enumerate(optimizer.variables):
                arrays[f"optimizer_{i}"] = variable.numpy()
            rate = optimizer.get_config().get("learning_rate")
            learning_rate = rate if isinstance(rate, float) else None  # a schedule: its own
        meta = {
            "format": _FORMAT, "version": 1, "epoch": int(epoch),
            "batch": None if batch is None else int(batch),
            "rng": rng, "epoch_start_host": self._epoch_start_host,
            "optimizer_variables": len(arrays), "learning_rate": learning_rate,
        }
        arrays["meta"] = np.array(json.dumps(meta))
        with open(os.path.join(folder, _STATE), "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        self._write_pointer({"format": _FORMAT, "version": 1, "dir": name, "epoch": int(epoch),
                             "batch": meta["batch"]})
        if previous is not None and previous["dir"] != name:
            shutil.rmtree(os.path.join(self.backup_dir, previous["dir"]), ignore_errors=True)

    def _write_pointer(self, pointer):
        # A temporary file in the same folder, renamed over the old pointer:
        # a reader sees the old backup or the new one, never half of one.
        fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".tmp", dir=self.backup_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(pointer, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, os.path.join(self.backup_dir, _POINTER))
        except BaseException:
            try:
                os.remove(tmp)
            except FileNotFoundError:
                pass
            raise

    def _delete_backups(self):
        if not os.path.isdir(self.backup_dir):
            return
        for entry in os.listdir(self.backup_dir):
            path = os.path.join(self.backup_dir, entry)
            if _CKPT.match(entry) and os.path.isdir(path):
                shutil.rmtree(path, ignore_errors=True)
            elif entry == _POINTER:
                os.remove(path)
        try:
            os.rmdir(self.backup_dir)  # only if nothing else is in it
        except OSError:
            pass

    # -- reading -------------------------------------------------------------------------
    def _read_pointer(self):
        path = os.path.join(self.backup_dir, _POINTER)
        if not os.path.isfile(path):
            return None
        try:
            with open(path, encoding="utf-8") as fh:
                pointer = json.load(fh)
        except (OSError, ValueError) as err:
            raise ValueError(f"BackupAndRestore: {path} is not a readable backup pointer "
                             f"({err}). Delete {self.backup_dir} to start afresh.") from None
        if (not isinstance(pointer, dict) or pointer.get("format") != _FORMAT
                or not isinstance(pointer.get("dir"), str) or not _CKPT.match(pointer["dir"])):
            raise ValueError(f"BackupAndRestore: {path} was not written by kerasette's "
                             f"BackupAndRestore. Use another backup_dir, or delete this one.")
        return pointer

    def _restore(self, pointer):
        """Puts the backup back; returns `(epoch, steps to skip)` for fit."""
        model = self.model
        folder = os.path.join(self.backup_dir, pointer["dir"])
        if not model.built:
            raise ValueError(f"BackupAndRestore: found a backup in {self.backup_dir}, but the "
                             "model is not built, so its weights cannot be restored. Build it "
                             "first (give it an input shape, or call it on a batch).")
        with np.load(os.path.join(folder, _STATE), allow_pickle=False) as state:
            meta = json.loads(str(state["meta"]))
            arrays = [state[f"optimizer_{i}"] for i in range(meta["optimizer_variables"])]
        model.load_weights(os.path.join(folder, _WEIGHTS))
        optimizer = model.optimizer
        if optimizer is not None and arrays:
            optimizer.build(model.trainable_variables)
            optimizer.set_weights(arrays)
            if meta["learning_rate"] is not None:
                optimizer.learning_rate = meta["learning_rate"]
        epoch, batch = meta["epoch"], meta["batch"]
        steps = (self.params or {}).get("steps")
        rng = dict(meta["rng"])
        if batch is None or (steps is not None and batch + 1 >= steps):
            resume = (epoch + 1, 0)
        else:  # mid-epoch: the epoch's shuffle is drawn again, then its done batches skipped
            rng["host"] = meta["epoch_start_host"]
            resume = (epoch, batch + 1)
        _backend.set_rng_state(rng)
        return resume
