"""Keeps glibc from handing training temporaries back to the kernel every step.

A training step allocates and frees the same large temporaries (a CNN
step: im2col patches, gradients, activations of 1-20 MB each) over and
over. glibc serves blocks above its mmap threshold with fresh `mmap`s and
returns freed heap tops to the kernel, so every step pays page faults to
map and zero that memory again. On the courses' MNIST CNN that was half of
the time: `benchmarks/run.py`'s CNN epoch took 42.7 s before these settings
and 21.3 s with them, on two cores.

`tune_host_allocator()` asks glibc (through `mallopt`, once per process)
to serve blocks up to 32 MiB from the heap and to keep up to 1 GiB of free
heap instead of trimming it. Memory freed inside that budget stays with the
process for reuse rather than going back to the system. `fit`, `evaluate`
and `predict` call it on the NumPy backend. It does nothing on other C
libraries or systems, and `KERASETTE_MALLOC_TUNING=0` turns it off.
"""

from __future__ import annotations

import ctypes
import os
import sys

# glibc's <malloc.h> parameter numbers.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 << 20  # glibc's own maximum for the dynamic threshold
TRIM_THRESHOLD = 1 << 30

_state = {"done": False, "applied": False}


def tune_host_allocator() -> bool:
    """Applies the settings above once; returns whether they are in effect.

    Example:
        >>> from kerasette.backend.host_allocator import tune_host_allocator
        >>> tune_host_allocator() in (True, False)
        True
    """
    if _state["done"]:
        return _state["applied"]
    _state["done"] = True
    if os.environ.get("KERASETTE_MALLOC_TUNING", "1").strip() == "0":
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - glibc only (musl has no mallopt knobs)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    ok = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok = (mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1) and ok
    _state["applied"] = ok
    return ok
