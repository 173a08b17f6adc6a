"""How many BLAS threads `fit`, `evaluate` and `predict` use, chosen for the machine as it is.

OpenBLAS splits every large matrix product between its threads and waits
for the last one to finish, and its idle threads spin for a while before
they sleep. On a machine where another process keeps a core busy, the
thread that shares that core runs in the scheduler's time slices (a few
milliseconds) while the products take a fraction of a millisecond, so
every product waits for it, and the spinning threads take CPU from the
main one in between. On the 2-core development machine, beside one
CPU-bound process, MNIST MLP epochs took 2.9-3.5x as long as on the quiet
machine with OpenBLAS's 2 threads and a CNN epoch 2.4x, while with 1
thread they took 0.97-1.08x (benchmarks/RESULTS.md, "A busy machine").

So, on the CPU backends, `fit`, `evaluate` and `predict` set the BLAS
library's thread count while they run and put the previous count back when
they return (or raise), so NumPy code around them sees its own setting.
The count is, in order of precedence:

1. `set_blas_threads(n)`, for the rest of the process;
2. the environment variable `KERASETTE_BLAS_THREADS` (`auto` or a positive
   integer);
3. automatic (`"auto"`, the default): `choose_threads()` takes the count
   the library had before (`OPENBLAS_NUM_THREADS`, or the core count: never
   more than the user allowed), lowers it for small products (no more
   threads than `MIN_WORK_PER_THREAD` multiply-adds of the step's largest
   product can keep busy) and to the cores other processes leave free. The
   free cores are, at the start, what other processes used during the
   last call if it ended less than `REMEMBER_S` ago, else a snapshot of the
   runnable processes; then, every `RECHECK_S` between two batches, what
   they actually used since the last reading (`cpu_load.py`, about 0.1 ms
   per reading).

The optimizer's threaded update (`KERASETTE_NUM_THREADS`, see
`optimizers/flat.py`) never uses more threads than the load allows
(`load_cap()`). CuPy runs nothing on the host BLAS: there, nothing changes.

BLAS libraries may sum in another order with another thread count, so
float32 results can differ in the last bits between counts (they do with
OpenBLAS 0.3.31). For runs that repeat bit for bit whatever the load, fix
the count: `KERASETTE_BLAS_THREADS=1` (or any fixed number).

Example:
    >>> from kerasette.backend import threads
    >>> threads.set_blas_threads(1)
    >>> threads.get_blas_threads()
    1
    >>> threads.set_blas_threads(None)  # back to the default
    >>> threads.choose_threads(ceiling=8, cores=8, others=3.0, work=1e9)
    5
"""

from __future__ import annotations

import math
import os
import threading
import time

from kerasette.backend import blas_library, cpu_load

ENV_VARIABLE = "KERASETTE_BLAS_THREADS"
AUTO = "auto"

# A thread needs about this many multiply-adds of one product to pay for
# splitting it. On the 2-core development machine a second thread made MNIST
# MLP epochs 1.2-1.5x faster from batch 8 up (largest product 3.2M
# multiply-adds) and changed nothing at batch 4 (1.6M; OpenBLAS keeps such
# products on one thread itself). Below 2x this, one thread, and the load is
# not even read: the Iris network's products are 1,600.
MIN_WORK_PER_THREAD = 1_000_000
# Other processes may use this much CPU (in cores) before a core counts as
# taken: light background work should not halve a quiet machine's speed.
TOLERATED_LOAD = 0.3
# How long a load measured in one call still informs the next call's start.
REMEMBER_S = 30.0
# Re-read the load between two batches at most this often (0.1 ms a time).
RECHECK_S = 0.5

_lock = threading.Lock()
_override: list = []  # [count or AUTO] once set_blas_threads was called


def set_blas_threads(count) -> None:
    """Sets the BLAS threads for `fit`, `evaluate` and `predict` in this process.

    Takes precedence over `KERASETTE_BLAS_THREADS`. Outside those calls the
    BLAS library keeps its own setting.

    Args:
        count: a positive integer to use exactly that many threads;
            `"auto"` to let kerasette choose; None to go back to the
            default (`KERASETTE_BLAS_THREADS` if set, else automatic).

    Raises:
        ValueError: for anything else.

    Example:
        >>> import kerasette as keras
        >>> keras.backend.set_blas_threads(1)
        >>> keras.backend.get_blas_threads()
        1
        >>> keras.backend.set_blas_threads(None)
    """
    if count is None:
        _override.clear()
        return
    _override[:] = [_parse(count, "set_blas_threads(count)")]


def get_blas_threads():
    """The setting in effect: a positive integer, or `"auto"`.

    Raises:
        ValueError: when `KERASETTE_BLAS_THREADS` holds something invalid.
    """
    if _override:
        return _override[0]
    return _parse(os.environ.get(ENV_VARIABLE, AUTO), ENV_VARIABLE)


def _parse(value, source):
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("", AUTO):
            return AUTO
        if text.isdigit() and int(text) > 0:
            return int(text)
    elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return int(value)
    raise ValueError(f"{source} expects 'auto' or a positive integer (the number of BLAS "
                     f"threads for fit, evaluate and predict). Received: {value!r}")


def choose_threads(ceiling: int, cores: int, others: float, work: float | None) -> int:
    """The automatic thread count.

    Args:
        ceiling: the BLAS library's count before kerasette changed it (the
            user's `OPENBLAS_NUM_THREADS`, or the library's default).
        cores: the cores this process may use (`cpu_load.usable_cores()`).
        others: cores' worth of CPU that other processes use on them.
        work: multiply-adds of the largest matrix product in one step, or
            None when unknown (then only the load limits the count).

    Returns:
        Between 1 and `ceiling`.

    Example:
        >>> choose_threads(ceiling=2, cores=2, others=1.0, work=5e7)  # one busy neighbour
        1
        >>> choose_threads(ceiling=2, cores=2, others=0.1, work=5e7)  # quiet
        2
        >>> choose_threads(ceiling=2, cores=2, others=0.0, work=1.5e6)  # small products
        1
    """
    count = max(1, int(ceiling))
    if work is not None:
        count = min(count, max(1, int(work // MIN_WORK_PER_THREAD)))
    free = math.floor(cores - others + TOLERATED_LOAD)
    return max(1, min(count, free))


def largest_product(model, batch_size) -> float | None:
    """Multiply-adds of the largest matrix product in `model`'s forward pass
    at `batch_size` (a Dense kernel, or a convolution's as one product over
    the output positions), or None when the model does not say."""
    if model is None or not batch_size:
        return None
    largest = 0.0
    try:
        stack = list(model.layers)
        while stack:
            layer = stack.pop()
            stack.extend(getattr(layer, "layers", ()))
            kernel = getattr(layer, "kernel", None)
            shape = getattr(layer, "_build_input_shape", None)
            if kernel is None or shape is None:
                continue
            positions = math.prod(int(d) for d in tuple(shape)[1:-1])
            positions /= math.prod(getattr(layer, "strides", None) or (1,))
            largest = max(largest, batch_size * max(positions, 1.0) * int(kernel.size))
    except (AttributeError, TypeError, ValueError):
        return None  # a layer that does not describe itself this way
    return largest or None


class _Session:
    """The BLAS threads of one `fit`, `evaluate` or `predict` call."""

    def __init__(self, library, previous, setting, work):
        self.library = library
        self.previous = previous
        self.auto = setting == AUTO
        self.count = previous
        self.ceiling = previous if self.auto else setting
        self.work = work
        self.sample = None
        self.cap = None  # threads the load allows, whatever the products' size

    def start(self):
        if not self.auto:
            self._apply(self.ceiling)
            return
        if self.ceiling == 1:
            return  # nothing to choose; the load cap is read when asked for
        if choose_threads(self.ceiling, self.ceiling, 0.0, self.work) == 1:
            self._apply(1)  # products too small to share: no need to read the load
            return
        self._read_load()

    def load_cap(self):
        if self.cap is None:
            self._read_load()
        return self.cap

    def _read_load(self):
        self.sample = cpu_load.sample()
        if _memory and time.monotonic() - _memory[1] < REMEMBER_S:
            # A recent average beats a snapshot, which also counts threads
            # that are only spinning down (another process's OpenBLAS spins
            # for about 0.1 s after its last product); either way the first
            # recheck, half a second later, measures the present.
            others = _memory[0]
        else:
            others = cpu_load.others_now(self.sample)
        self._choose(others)

    def recheck(self):
        if self.sample is None or time.monotonic() - self.sample.wall < RECHECK_S:
            return
        now = cpu_load.sample()
        others = cpu_load.others_between(self.sample, now)
        if others is not None:
            self.sample = now
            _remember(others)
            self._choose(others)

    def finish(self):
        if self.sample is not None:
            others = cpu_load.others_between(self.sample, cpu_load.sample())
            if others is not None:
                _remember(others)
        if self.count != self.previous:
            self.library.set(self.previous)

    def _choose(self, others):
        cores = cpu_load.usable_cores()
        # The load cap counts the cores other processes leave free, whatever
        # BLAS may use: the optimizer's update threads (KERASETTE_NUM_THREADS)
        # are asked for on their own, also beside OPENBLAS_NUM_THREADS=1.
        self.cap = choose_threads(cores, cores, others, None)
        if self.auto:  # a count the user fixed stays as it is
            self._apply(choose_threads(self.ceiling, cores, others, self.work))

    def _apply(self, count):
        if count != self.count:
            self.library.set(count)
            self.count = count


_memory: list = []  # [others, time.monotonic()] from the last measured interval
_active: list = []  # [the outermost _Session] while one runs


def _remember(others):
    _memory[:] = [others, time.monotonic()]


class blas_threads_for:  # noqa: N801 - used as a `with` statement, like a function
    """Context manager around `fit`, `evaluate` and `predict`: sets the BLAS
    threads for `model` at `batch_size`, puts the previous count back on exit.

    Nested calls (a callback that calls `predict` inside `fit`) keep the
    outer call's count. On the CuPy backend, or where the BLAS library
    cannot be controlled, it does nothing.
    """

    def __init__(self, model=None, batch_size=None):
        self.model = model
        self.batch_size = batch_size
        self.session = None

    def __enter__(self):
        from kerasette import backend

        setting = get_blas_threads()  # raises on a bad environment value, before any change
        if backend.get_backend().name == "cupy":
            return self
        library = blas_library.find()
        if library is None:
            return self
        with _lock:
            if _active:
                return self
            session = _Session(library, library.get(), setting,
                               largest_product(self.model, self.batch_size))
            _active.append(session)
        self.session = session
        try:
            session.start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info):
        session, self.session = self.session, None
        if session is None:
            return
        try:
            session.finish()
        finally:
            with _lock:
                _active.clear()


def rechecking(batches):
    """Yields `batches`; between two of them, at most once every `RECHECK_S`,
    re-reads the load and adjusts the running call's count.

    `fit`, `evaluate` and `predict` loop over their batches through this, so
    a neighbour that starts or stops in the middle of a long epoch is seen
    within about half a second. Between checks it costs one clock reading per
    batch; where the load is not read (fixed counts, small products) nothing.
    """
    session = _active[0] if _active else None
    if session is None or session.sample is None:
        yield from batches
        return
    for batch in batches:
        if time.monotonic() - session.sample.wall >= RECHECK_S:
            session.recheck()
        yield batch


def count_in_effect() -> int | None:
    """The BLAS thread count kerasette set for the running call, or None
    outside `fit`, `evaluate` and `predict`."""
    return _active[0].count if _active else None


def load_cap() -> int | None:
    """Inside `fit`, `evaluate` and `predict`: the most threads kerasette's
    own threaded work (the optimizer's update) should use, from the cores
    other processes leave free; None outside them."""
    return _active[0].load_cap() if _active else None
