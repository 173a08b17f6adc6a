"""`fit`, `evaluate` and `predict` on `dask.array` data, read a chunk at a time.

A dask array passes the data checks as it is (as an h5py dataset does:
only its shape and dtype are looked at), and `ArrayData` reads its
batches through `DaskRows`, so the whole array is never computed or
copied: a cluster's array (or one larger than memory) feeds training
batch by batch.

* Batches in order (`shuffle=False`, `evaluate`, `predict`): the row
  chunks a batch needs are computed, one `dask.compute` for all of them,
  and kept until a batch needs others, so each chunk is computed once per
  epoch and at most the chunks of one batch are held.
* Shuffled batches (`fit`'s default): each batch's rows (its indices,
  sorted) are taken with dask's own indexing, one computation per batch,
  so only those rows travel from the cluster. A chunk that is computed
  from scratch (not `persist()`-ed) is computed again for every batch that
  takes rows from it: `persist()` the array on the cluster first, or pass
  `shuffle=False` and shuffle the array once beforehand.

The sample order, and so the trained weights, are those of the same data
given as a NumPy array. dask is imported only by the arrays themselves:
kerasette does not depend on it.

Example:
    >>> from kerasette.training.dask_arrays import is_dask_array
    >>> import numpy as np
    >>> is_dask_array(np.zeros(3))
    False
"""

from __future__ import annotations

import math

import numpy as np


def is_dask_array(x) -> bool:
    """Whether `x` is a `dask.array.Array` (told by its type's module, so
    that dask need not be imported)."""
    return (type(x).__module__.startswith("dask.array") and hasattr(x, "chunks")
            and hasattr(x, "compute"))


class DaskRows:
    """Rows of a dask array, read as NumPy arrays a chunk at a time.

    `rows[index]` with a slice or an increasing array of row indices (a
    batch, as `ArrayData` makes them) returns a NumPy array.

    Args:
        array: a `dask.array.Array` with known chunk sizes.

    Raises:
        ValueError: when the row chunk sizes are unknown (NaN), as after
            boolean indexing.
    """

    def __init__(self, array):
        sizes = array.chunks[0]
        if any(isinstance(n, float) and math.isnan(n) for n in sizes):
            raise ValueError(
                "A dask array with unknown chunk sizes cannot be batched: its number of "
                "samples is not known. Call `x.compute_chunk_sizes()` first. Received: "
                f"a dask array of shape {array.shape}")
        self.array = array
        self.shape = tuple(int(d) for d in array.shape)
        self.dtype = np.dtype(array.dtype)
        self.ndim = len(self.shape)
        self.size = math.prod(self.shape)
        self._starts = np.cumsum((0,) + tuple(int(n) for n in sizes))  # row of each chunk
        self._held = {}  # chunk index -> its rows (NumPy), the last batch's chunks only

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index):
        if isinstance(index, slice):
            start, stop, step = index.indices(self.shape[0])
            if step == 1:
                return self._rows_in_order(start, stop)
        return np.asarray(self.array[np.asarray(index)].compute())

    def _rows_in_order(self, start, stop):
        if stop <= start:
            return np.asarray(self.array[start:stop].compute())
        first = int(np.searchsorted(self._starts, start, side="right")) - 1
        last = int(np.searchsorted(self._starts, stop, side="left")) - 1
        wanted = range(first, last + 1)
        missing = [i for i in wanted if i not in self._held]
        if missing:
            import dask

            computed = dask.compute(*(self.array.blocks[i] for i in missing))
            self._held = {i: self._held[i] for i in wanted if i in self._held}
            self._held.update(zip(missing, (np.asarray(c) for c in computed)))
        parts = [self._held[i][max(start - self._starts[i], 0):stop - self._starts[i]]
                 for i in wanted]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)
