"""The batches `adapt` reads: whatever the user passed, as host NumPy arrays.

`PreprocessingLayer.adapt` accepts what tf.keras 2's accepts, less
`tf.data`: a NumPy array (or a list, or a kerasette tensor, read back to
the host once), cut into batches of `batch_size` rows (32 by default, as
tf.keras's data handler cuts them); a `keras.utils.Sequence` (or any
object with `__len__` and `__getitem__` returning batches); or a Python
generator or iterator of batches. A batch that is a tuple `(x, y[, w])`
contributes its `x`, as when a training `Sequence` is reused. Statistics
are computed on the host, so adapting never moves data to the device.
"""

from __future__ import annotations

import numbers

import numpy as np

from kerasette import backend as _backend
from kerasette.autodiff.tensor import Tensor

DEFAULT_BATCH_SIZE = 32


def to_host(value, who):
    """`value` (a tensor, a device array, a NumPy array, a list) as a NumPy array."""
    if isinstance(value, tuple) and value:  # (x, y) or (x, y, w): the inputs only
        value = value[0]
    if isinstance(value, Tensor):
        return value.numpy()
    b = _backend.get_backend()
    if b.is_array(value):
        return b.to_numpy(value)
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{who}: `adapt` expects arrays of numbers. Received a batch of type "
                        f"{type(value).__name__}: {err}") from err


def _check_count(value, what, who):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{who}: `{what}` must be a positive integer or None. "
                         f"Received: {what}={value!r}")
    return int(value)


def _is_array_like(data):
    return isinstance(data, (np.ndarray, list, tuple, Tensor, numbers.Number)) or \
        _backend.get_backend().is_array(data)


def iter_batches(data, batch_size, steps, who):
    """Yields the host batches of `data` (at most `steps` of them).

    Args:
        data: an array, a list, a tensor, a `Sequence`-like object or an
            iterator of batches.
        batch_size: rows per batch for array data (default 32); must be
            None for data that comes in batches already (as in tf.keras).
        steps: the most batches to read, or None for all of them.
        who: the layer's name, for messages.

    Raises:
        ValueError: for a bad `batch_size` or `steps`, a `batch_size` given
            with batched data, or data with no samples.
        TypeError: for data that is none of the above.
    """
    batch_size = _check_count(batch_size, "batch_size", who)
    steps = _check_count(steps, "steps", who)
    if data is None or isinstance(data, (str, bytes, dict)):
        raise TypeError(f"{who}: `adapt` expects a NumPy array, a tensor, a "
                        f"keras.utils.Sequence or a generator of batches. Received: "
                        f"{type(data).__name__}")
    if _is_array_like(data):
        array = to_host(data, who)
        if array.ndim == 0 or array.shape[0] == 0:
            raise ValueError(f"{who}: `adapt` needs data with at least one sample along the "
                             f"first axis. Received data of shape {array.shape}.")
        size = batch_size or DEFAULT_BATCH_SIZE
        count = -(-array.shape[0] // size)
        for i in range(count if steps is None else min(steps, count)):
            yield array[i * size:(i + 1) * size]
        return
    if batch_size is not None:
        raise ValueError(f"{who}: do not pass `batch_size` with data that comes in batches "
                         f"already ({type(data).__name__}); it sets the batch size itself. "
                         f"Received: batch_size={batch_size}")
    if hasattr(data, "__len__") and hasattr(data, "__getitem__"):  # keras.utils.Sequence
        count = len(data)
        for i in range(count if steps is None else min(steps, count)):
            yield to_host(data[i], who)
        return
    if not hasattr(data, "__iter__"):
        raise TypeError(f"{who}: `adapt` expects a NumPy array, a tensor, a "
                        f"keras.utils.Sequence or a generator of batches. Received: "
                        f"{type(data).__name__}")
    for i, batch in enumerate(data):
        if steps is not None and i >= steps:
            break
        yield to_host(batch, who)
