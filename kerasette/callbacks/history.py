"""`History`: what `fit` returns, the epoch logs in lists."""

from __future__ import annotations

from kerasette.callbacks.base import Callback

__all__ = ["History"]


class History(Callback):
    """Records the logs of each epoch; `fit` adds one and returns it.

    Attributes:
        history: a dict mapping each logged name to the list of its values,
            one per epoch, in the order the names first appeared (`loss`, the
            metrics, then the `val_` ones).
        epoch: the indices (from 0) of the epochs recorded by the last `fit`.
        params: `{"verbose": ..., "epochs": ..., "steps": ...}` of that `fit`.

    Each `fit` call makes a new `History` (as tf.keras 2 does), so
    `model.fit(...).history` holds that call's epochs only. A `History`
    passed in `callbacks=` is used instead, and keeps appending to
    `history` across calls, while `epoch` restarts.

    Example:
        >>> from kerasette.callbacks import History
        >>> h = History()
        >>> h.on_train_begin()
        >>> h.on_epoch_end(0, {"loss": 0.5, "val_loss": 0.6})
        >>> h.on_epoch_end(1, {"loss": 0.25, "val_loss": 0.4})
        >>> h.history
        {'loss': [0.5, 0.25], 'val_loss': [0.6, 0.4]}
        >>> h.epoch
        [0, 1]
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            # As tf.keras 2: after an epoch the model points at this History.
            self.model.history = self
