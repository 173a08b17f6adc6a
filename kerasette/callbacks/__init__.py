"""Callbacks: code run by `fit`, `evaluate` and `predict` at set points.

Pass them as `model.fit(..., callbacks=[...])`. `History` (returned by
`fit`) and `ProgbarLogger` (when `verbose` is not 0) are added for you.

Example:
    >>> import kerasette as keras
    >>> stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3,
    ...                                      restore_best_weights=True)
    >>> stop.patience
    3
"""

from kerasette.callbacks.backup_restore import BackupAndRestore
from kerasette.callbacks.base import Callback
from kerasette.callbacks.callback_list import CallbackList
from kerasette.callbacks.checkpoint import ModelCheckpoint
from kerasette.callbacks.csv_logger import CSVLogger
from kerasette.callbacks.early_stopping import EarlyStopping
from kerasette.callbacks.history import History
from kerasette.callbacks.logs import LazyLogs
from kerasette.callbacks.lr import LearningRateScheduler, ReduceLROnPlateau
from kerasette.callbacks.misc import LambdaCallback, TerminateOnNaN
from kerasette.callbacks.progbar import ProgbarLogger, resolve_verbose
from kerasette.callbacks.tensorboard import TensorBoard

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LazyLogs",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
    "resolve_verbose",
]
