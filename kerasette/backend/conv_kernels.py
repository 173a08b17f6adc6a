"""Whether the compiled image loops (`_numba_conv`) apply, the loops, and
`run_split`, which shares an image op's work between threads.

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

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from kerasette.backend import blas_library, cpu_kernels

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_module = None  # kerasette.backend._numba_conv once imported; False if it cannot be
_pool = None  # (size, ThreadPoolExecutor) for the loops split by image
_blas = []  # [blas_library.find()] once looked up


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


def threads() -> int:
    """How many threads a loop split by image may use: as many as the BLAS
    library's products (kerasette's count inside `fit`/`evaluate`/`predict`,
    the library's own elsewhere), so the image ops scale like the products
    around them."""
    from kerasette.backend import threads as blas_threads

    count = blas_threads.count_in_effect()
    if count is None:
        if not _blas:
            _blas.append(blas_library.find())
        count = _blas[0].get() if _blas[0] is not None else 1
    return max(1, min(int(count), 16))


# Below this much work (elements times passes) one thread does it: handing
# work to the pool costs tens of microseconds.
PARALLEL_MIN_WORK = 1 << 20


def run_split(fn, n, args_for, work):
    """Calls `fn(*args_for(a, b))` for slices `[a, b)` of the first axis (`n`
    long) in parallel threads, as many as `threads()`, or
    `fn(*args_for(0, n))` once where there is one thread or less than
    `PARALLEL_MIN_WORK` of `work`. `fn` must release the GIL for its bulk
    (numba's `nogil` loops and NumPy's ufunc loops do) and write disjoint
    parts of its output per slice, so the result is that of one call, to
    the bit."""
    global _pool
    count = min(threads(), n) if work >= PARALLEL_MIN_WORK else 1
    if count < 2:
        fn(*args_for(0, n))
        return
    if _pool is None or _pool[0] != count:
        if _pool is not None:
            _pool[1].shutdown(wait=False)
        _pool = (count, ThreadPoolExecutor(max_workers=count - 1,
                                           thread_name_prefix="kerasette-conv"))
    step = -(-n // count)
    bounds = [(a, min(a + step, n)) for a in range(0, n, step)]
    futures = [_pool[1].submit(fn, *args_for(a, b)) for a, b in bounds[1:]]
    fn(*args_for(*bounds[0]))  # this thread takes the first slice
    for future in futures:
        future.result()
