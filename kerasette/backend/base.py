"""The `Backend` interface: which array library runs the numbers.

A backend owns four things: the array module `xp` that device code calls,
the array type it produces, the host<->device boundary (`asarray` in,
`to_numpy` out) and one seeded random generator for device-side draws
(dropout masks). Device code takes `xp` from the active backend, never from
the data, so a GPU run can never quietly become a CPU run.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np


class Backend:
    """Base class of the array backends.

    Attributes:
        name: `"numpy"`, `"strict"` or `"cupy"`.
        xp: the array module used by device code (`numpy`, `cupy`, or the
            strict wrapper).
        array_type: the type of the arrays `xp` returns.
    """

    name: str = "base"
    xp: Any = None
    array_type: type = np.ndarray

    def __init__(self, seed: int | None = None):
        self.seed(seed)

    # -- the data boundary -------------------------------------------------
    def asarray(self, x, dtype=None):
        """Moves host data (NumPy arrays, lists, scalars) onto the device.

        Args:
            x: array-like host data, or an array of this backend.
            dtype: the dtype of the result; `None` keeps the input's.

        Returns:
            An array of `array_type`.
        """
        raise NotImplementedError

    def to_numpy(self, x) -> np.ndarray:
        """Copies a device array back to the host as a new NumPy array
        (never a view of the device buffer)."""
        raise NotImplementedError

    def is_array(self, x) -> bool:
        """Whether `x` is an array of this backend (not a host array)."""
        return isinstance(x, self.array_type)

    # -- randomness ---------------------------------------------------------
    def seed(self, seed: int | None) -> None:
        """Re-seeds this backend's device generator."""
        raise NotImplementedError

    def random_uniform(self, shape, dtype="float32"):
        """Device array of uniform draws in [0, 1) (used for dropout masks)."""
        raise NotImplementedError

    def random_normal(self, shape, dtype="float32"):
        """Device array of standard normal draws (GaussianNoise, GaussianDropout).

        Made from two uniform draws of the same generator (Box-Muller), so
        every backend gets normals from its one seeded stream.
        """
        xp = self.xp
        u1 = self.random_uniform(shape, dtype=dtype)
        u2 = self.random_uniform(shape, dtype=dtype)
        radius = xp.sqrt(xp.log1p(-u1) * -2.0)  # 1 - u1 is in (0, 1]: the log is finite
        return radius * xp.cos(u2 * (2.0 * math.pi))

    def get_rng_state(self):
        """A copy of the device generator's state, for `set_rng_state`
        (BackupAndRestore saves it so a resumed run draws the same masks).

        Raises:
            NotImplementedError: for a generator whose state cannot be read
                (CuPy's cuRAND generator).
        """
        bit_generator = getattr(getattr(self, "_rng", None), "bit_generator", None)
        if bit_generator is None:
            raise NotImplementedError(
                f"The {self.name} backend's random generator cannot report its state.")
        return copy.deepcopy(bit_generator.state)

    def set_rng_state(self, state) -> None:
        """Restores a state from `get_rng_state`."""
        bit_generator = getattr(getattr(self, "_rng", None), "bit_generator", None)
        if bit_generator is None:
            raise NotImplementedError(
                f"The {self.name} backend's random generator cannot take a state.")
        bit_generator.state = copy.deepcopy(state)

    def __repr__(self) -> str:
        return f"<kerasette backend {self.name!r}>"
