"""Flat buffers for the optimizer update: one pass per operation for all variables.

An optimizer's update is a dozen elementwise operations per variable, each
a pass over memory. Run variable by variable, a three-layer MLP costs 6 x 12
NumPy calls per step, which dominates small models, and the calls on the
large kernels run on one core. `FlatPack` packs the model variables, their
gradients and every slot into one contiguous buffer each, rebinding each
`Variable.data` (and each slot's) to a view of its buffer, so that the
optimizer's unchanged `update_step` runs once over the whole model, or once
per chunk on a few threads (NumPy releases the GIL inside its loops).
The values are bit-identical to the per-variable update: every operation is
elementwise, so neither the grouping nor the chunking changes a rounding.

Only `update_step` sees the packed arrays, through `FlatChunk`; weight decay,
EMA, constraints and the saved files still see the individual variables,
which are views into the pack.
"""

from __future__ import annotations

import operator
import os
from concurrent.futures import ThreadPoolExecutor

from kerasette.backend import threads as blas_threads

# Below this many elements a thread pool costs more than it saves.
PARALLEL_MIN_SIZE = 1 << 17
_CHUNK_ALIGN = 4096

_pool = None
_pool_size = 0


def elementwise_threads() -> int:
    """Threads asked for the flat update on the CPU: `KERASETTE_NUM_THREADS`, else 1.

    One by default, because threads here compete with the BLAS library's:
    after each matrix product OpenBLAS keeps its worker threads spinning for
    a while, and on two cores a second update thread then made a batch-32
    MNIST step slower (one-off timings of the update inside `fit`). Where
    BLAS threads sleep at once (`OPENBLAS_THREAD_TIMEOUT=4`, or other BLAS
    libraries), `KERASETTE_NUM_THREADS=2` made the same update faster.
    Inside `fit` the update never uses more threads than the cores other
    processes leave free (`threads.load_cap()`, backend/threads.py).
    """
    value = os.environ.get("KERASETTE_NUM_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return min(int(value), 8)
    return 1


def _thread_pool(size):
    global _pool, _pool_size
    if _pool is None or _pool_size != size:
        if _pool is not None:
            _pool.shutdown(wait=False)
        _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="kerasette-update")
        _pool_size = size
    return _pool


class FlatChunk:
    """Stands in for a variable in `update_step`: `data` and the slot arrays
    are slices of the packed buffers."""

    __slots__ = ("data", "slot_arrays")

    def __init__(self, data, slot_arrays):
        self.data = data
        self.slot_arrays = slot_arrays


class FlatPack:
    """The model variables, their gradients and slots in contiguous buffers.

    Args:
        xp: the backend's array module.
        variables: the model variables, all of one dtype.
        slots: per variable, `{slot name: slot Variable}`; every variable
            has the same slot names, each slot shaped like its variable.
        on_cpu: whether the arrays live in host memory (threads may help).
    """

    def __init__(self, xp, variables, slots, on_cpu):
        self.variables = list(variables)
        self.ids = tuple(id(v) for v in self.variables)
        self.slot_names = tuple(slots[0])
        dtype = self.variables[0].dtype
        sizes = [int(v.data.size) for v in self.variables]
        offsets = [0]
        for n in sizes:
            offsets.append(offsets[-1] + n)
        total = offsets[-1]
        self.size = total

        def pack(arrays):
            flat = xp.empty(total, dtype=dtype)
            views = []
            for a, start, stop in zip(arrays, offsets[:-1], offsets[1:]):
                view = flat[start:stop].reshape(a.shape)
                xp.copyto(view, a)
                views.append(view)
            return flat, views

        self.params, self.param_views = pack([v.data for v in self.variables])
        for v, view in zip(self.variables, self.param_views):
            v.data = view
        self.slot_flats, self.slot_views = {}, {}
        for name in self.slot_names:
            slot_vars = [s[name] for s in slots]
            flat, views = pack([s.data for s in slot_vars])
            for s, view in zip(slot_vars, views):
                s.data = view
            self.slot_flats[name] = flat
            self.slot_views[name] = (slot_vars, views)
        # `intact()` compares these pairwise every step.
        self._owners = self.variables + [s for vars_, _ in self.slot_views.values() for s in vars_]
        self._owned = self.param_views + [w for _, views in self.slot_views.values() for w in views]
        self.grads = xp.empty(total, dtype=dtype)
        self.grad_views = [self.grads[a:b].reshape(v.shape)
                           for v, a, b in zip(self.variables, offsets[:-1], offsets[1:])]
        self.requested = elementwise_threads() if on_cpu else 1
        self._chunkings = {}  # thread count -> chunks
        self.chunks = self._chunks_for(self.requested)

    def _chunks_for(self, threads):
        if threads > 1:
            threads = min(threads, blas_threads.load_cap() or threads)
        if threads not in self._chunkings:
            self._chunkings[threads] = self._make_chunks(threads)
        return self._chunkings[threads]

    def _make_chunks(self, threads):
        if threads < 2 or self.size < PARALLEL_MIN_SIZE:
            bounds = [(0, self.size)]
        else:
            step = -(-self.size // threads)
            step = -(-step // _CHUNK_ALIGN) * _CHUNK_ALIGN
            bounds = [(a, min(a + step, self.size)) for a in range(0, self.size, step)]
        return [(FlatChunk(self.params[a:b],
                           {n: f[a:b] for n, f in self.slot_flats.items()}),
                 self.grads[a:b]) for a, b in bounds]

    def intact(self) -> bool:
        """Whether every variable and slot still lives in the pack (nothing
        rebound its `data` since packing)."""
        return all(map(operator.is_, map(_data_of, self._owners), self._owned))

    def matches(self, variables) -> bool:
        """Whether `variables` are the packed ones, in the packed order."""
        return len(variables) == len(self.ids) and all(
            id(v) == i for v, i in zip(variables, self.ids))

    def run(self, update_step):
        """Calls `update_step(grad_chunk, chunk)` for each chunk, on threads
        when there are several."""
        if self.requested > 1:
            self.chunks = self._chunks_for(self.requested)  # the BLAS count may have changed
        if len(self.chunks) == 1:
            chunk, grad = self.chunks[0]
            update_step(grad, chunk)
            return
        # The calling thread takes the last chunk itself rather than idle.
        pool = _thread_pool(len(self.chunks) - 1)
        futures = [pool.submit(update_step, grad, chunk) for chunk, grad in self.chunks[:-1]]
        chunk, grad = self.chunks[-1]
        try:
            update_step(grad, chunk)
        finally:
            for f in futures:
                f.result()

    def __reduce__(self):
        # A copied optimizer must not keep this pack: copied views would no
        # longer alias the copied buffers. The copy packs again on its next step.
        return (_no_pack, ())


_data_of = operator.attrgetter("data")


def _no_pack():
    return None
