"""Whether the compiled image loops (`_numba_conv`) apply, and the loops.

The same rules as the optimizer's and recurrent kernels
(`cpu_kernels.py`): NumPy backend, float32 or float64 C-contiguous arrays
of at least `cpu_kernels.MIN_SIZE` elements, numba installed (the optional
extra) and not switched off with `KERASETTE_CPU_KERNELS=0`. Otherwise the
NumPy code runs, with the same results to the bit.

Example:
    >>> import numpy as np
    >>> from kerasette.backend import conv_kernels
    >>> conv_kernels.enabled(np, np.zeros(10, "float32"))  # too small to pay
    False
"""

from __future__ import annotations

import numpy as np

from kerasette.backend import cpu_kernels

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_module = None  # kerasette.backend._numba_conv once imported; False if it cannot be


def enabled(xp, first, *others) -> bool:
    """Whether the loops can take `first` (at least `MIN_SIZE` elements) and
    `others`: NumPy arrays of one float dtype, C-contiguous, numba usable."""
    if xp is not np or first.size < cpu_kernels.MIN_SIZE or first.dtype not in _DTYPES:
        return False
    for a in (first,) + others:
        if type(a) is not np.ndarray or a.dtype != first.dtype or not a.flags.c_contiguous:
            return False
    return module() is not None


def module():
    """`kerasette.backend._numba_conv`, or None where numba is not usable."""
    global _module
    if _module is None and cpu_kernels._load() is not None:
        try:
            from kerasette.backend import _numba_conv
        except Exception:  # noqa: BLE001 - as in cpu_kernels._load: NumPy still works
            _module = False
        else:
            _module = _numba_conv
    return _module or None
