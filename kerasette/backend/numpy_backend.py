"""The NumPy (CPU) backend."""

from __future__ import annotations

import numpy as np

from kerasette.backend.base import Backend


class NumpyBackend(Backend):
    """Runs everything with NumPy on the host.

    Example:
        >>> b = NumpyBackend(seed=0)
        >>> b.asarray([1, 2], dtype="float32").dtype
        dtype('float32')
    """

    name = "numpy"
    xp = np
    array_type = np.ndarray

    def asarray(self, x, dtype=None):
        return np.asarray(x, dtype=dtype)

    def to_numpy(self, x) -> np.ndarray:
        # Always a copy, as CuPy's .get() is: a caller editing the result
        # (or variable.numpy()) must never edit a model's weights.
        return np.array(x, copy=True)

    def seed(self, seed):
        self._rng = np.random.default_rng(seed)

    def random_uniform(self, shape, dtype="float32"):
        return self._rng.random(shape, dtype=np.dtype(dtype))
