"""`CSVLogger`: stream the epoch logs to a CSV file."""

from __future__ import annotations

import collections.abc
import csv
import os

import numpy as np

from kerasette.callbacks.base import Callback

__all__ = ["CSVLogger"]


def _cell(value):
    """A log value for the CSV file: 1-D iterables as `"[a, b]"`, as tf.keras."""
    if isinstance(value, str):
        return value
    if isinstance(value, collections.abc.Iterable) and not (
            isinstance(value, np.ndarray) and value.ndim == 0):
        return f"\"[{', '.join(map(str, value))}]\""
    return value


class CSVLogger(Callback):
    """Writes one CSV row per epoch: `epoch` (from 0) then the logs.

    The columns are `epoch` and the names logged at the end of the first
    epoch, sorted. As in tf.keras 2, when that epoch has no validation
    metrics (no validation data, or `validation_freq > 1`), a `val_` column
    is added for each name anyway; cells with nothing to log hold `NA`.
    Rows are written when each epoch ends (the file is flushed, so it can be
    read during training); the file is closed when training ends, also when
    `fit` stops on an exception or Ctrl-C (it then holds one row per
    finished epoch).

    Args:
        filename: the CSV file, e.g. `"run/log.csv"`.
        separator: the one-character separator between cells.
        append: if True, add rows to an existing file (and write the header
            only if it is empty); if False, overwrite it.

    Raises:
        ValueError: if `separator` is not a single character.

    Example:
        >>> import os, tempfile
        >>> from kerasette.callbacks import CSVLogger
        >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
        >>> log = CSVLogger(path)
        >>> log.on_train_begin()
        >>> log.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.75})
        >>> log.on_train_end()
        >>> with open(path) as f:
        ...     print(f.read(), end="")
        epoch,loss,val_loss
        0,0.5,0.75
    """

    def __init__(self, filename, separator: str = ",", append: bool = False):
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError("CSVLogger: argument `separator` must be a single character. "
                             f"Received: separator={separator!r}")
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = bool(append)
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        self._close()  # a file left open by a loop that never ended training
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename, encoding="utf-8") as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            mode = "w"
        # newline="": the csv module writes its own line ends.
        self.csv_file = open(self.filename, mode, newline="", encoding="utf-8")  # noqa: SIM115

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs.keys())
            if not any(key.startswith("val_") for key in self.keys):
                self.keys.extend(["val_" + key for key in self.keys])
        if self.writer is None:

            class Dialect(csv.excel):
                delimiter = self.sep

            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=Dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, _cell(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        self._close()

    def on_train_abort(self, exception):
        self._close()

    def _close(self) -> None:
        if self.csv_file is not None:
            self.csv_file.close()  # flushes the rows written so far
            self.csv_file = None
        self.writer = None
