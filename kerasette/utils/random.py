"""`set_random_seed`: one call that makes a run repeat bit for bit."""

from __future__ import annotations

import random

import numpy as np

from kerasette import backend


def set_random_seed(seed: int) -> None:
    """Seeds Python's, NumPy's and kerasette's generators (host and device).

    Two runs that call this with the same seed and do the same work on the
    same machine get the same initial weights, dropout masks and shuffles.

    Args:
        seed: a non-negative integer.

    Example:
        >>> set_random_seed(42)
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"set_random_seed expects a non-negative integer. Received: seed={seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    backend.set_seed(seed)
