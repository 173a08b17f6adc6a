"""`Sequence` (tf.keras 2) / `PyDataset` (Keras 3): batches by index."""

from __future__ import annotations


class Sequence:
    """Base class for datasets that produce whole batches by index.

    Subclasses implement `__len__` (the number of batches) and
    `__getitem__(index)` returning `(x, y)` or `(x, y, sample_weight)`;
    `on_epoch_end` runs after every epoch (e.g. to reshuffle). With
    `fit(..., shuffle=True)` the batch order is shuffled each epoch.

    Example:
        >>> import numpy as np
        >>> class Batches(Sequence):
        ...     def __init__(self, x, y, batch_size):
        ...         self.x, self.y, self.batch_size = x, y, batch_size
        ...     def __len__(self):
        ...         return -(-len(self.x) // self.batch_size)
        ...     def __getitem__(self, i):
        ...         s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        ...         return self.x[s], self.y[s]
        >>> len(Batches(np.zeros((10, 2)), np.zeros(10), 4))
        3
    """

    def __len__(self):
        raise NotImplementedError

    def __getitem__(self, index):
        raise NotImplementedError

    def on_epoch_end(self):
        """Called at the end of every epoch."""


class PyDataset(Sequence):
    """Keras 3's name for `Sequence`. The worker arguments are accepted and
    ignored: batches are produced in the training thread."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size
