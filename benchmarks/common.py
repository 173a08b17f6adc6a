"""Shared pieces of the benchmark suite: thread pinning, timing, tables.

Every system in one run gets the same thread count. BLAS libraries read
their thread count when they load, so `pin_threads` must run before NumPy,
PyTorch or TensorFlow are imported; `run.py` calls it first thing.
"""

from __future__ import annotations

import os
import platform
import statistics
import time

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def pin_threads(threads: int) -> None:
    """Sets every BLAS/OpenMP thread count to `threads` for this process and
    its children (must run before the numeric libraries are imported)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    # TensorFlow reads these when it starts its thread pools.
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def median(values):
    """The median of a non-empty sequence of numbers."""
    return statistics.median(values)


def timed(fn, *args, **kwargs):
    """`(seconds, result)` of one call."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_description() -> str:
    """One line naming the CPU, the core count and the Python/NumPy/BLAS versions."""
    import numpy as np

    cpu = cpu_name()
    blas = ""
    try:
        config = np.show_config(mode="dicts")
        info = config["Build Dependencies"]["blas"]
        blas = f", {info.get('name', '?')} {info.get('version', '')}".rstrip()
    except Exception:  # noqa: BLE001 - show_config's layout varies across NumPy versions
        pass
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"NumPy {np.__version__}{blas}; {cpu_update_description()}")


def cpu_update_description() -> str:
    """How kerasette's optimizers update on the CPU here: numba kernels or NumPy."""
    from kerasette.backend import cpu_kernels

    reason = cpu_kernels.unavailable_reason()
    if reason is None:
        import numba

        return f"kerasette's CPU optimizer update compiled with numba {numba.__version__}"
    return f"kerasette's CPU optimizer update in NumPy ({reason})"


def markdown_table(header, rows) -> str:
    """A Markdown table; numbers are already formatted by the caller."""
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(header))) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def fmt_seconds(seconds: float) -> str:
    """Seconds with a sensible number of digits."""
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.0f} ms"


def fmt_ratio(value) -> str:
    """`0.83x`, or an em dash when there is nothing to compare against."""
    return "—" if value is None else f"{value:.2f}x"
