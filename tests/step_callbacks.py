"""A test callback base: knows the current epoch and acts at one (epoch, batch)."""

import kerasette as keras


class AtStep(keras.callbacks.Callback):
    """Subclasses call `self.reached(batch)` in a batch hook; it is True at
    batch `batch` of epoch `epoch` (both counted from 0)."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at = (epoch, batch)
        self.epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def reached(self, batch) -> bool:
        return (self.epoch, batch) == self.at
