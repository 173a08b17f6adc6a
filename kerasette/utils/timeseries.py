"""`timeseries_dataset_from_array`: sliding windows over a time series as batches."""

from __future__ import annotations

import numbers

import numpy as np

from kerasette.utils.dataset_utils import BatchDataset


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
    return int(value)


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None):
    """Batches of sliding windows over `data`, with the target of each window.

    Window `i` starts at `start_index + i * sequence_stride` and holds
    `sequence_length` steps taken every `sampling_rate` steps; its target is
    `targets[start_index + i * sequence_stride]` (so to predict the step
    after a window, pass `targets=data[sequence_length:]`). Windows never
    reach `end_index`. The windows, their targets and their order are
    tf.keras 2's.

    Args:
        data: array of time steps, time first: `(steps, ...)`.
        targets: one target per time step (`targets[i]` for the window
            starting at step `i`), or None for windows alone.
        sequence_length: steps per window.
        sequence_stride: steps between the starts of consecutive windows.
        sampling_rate: take every `sampling_rate`-th step inside a window.
        batch_size: windows per batch; None yields single windows.
        shuffle: shuffle the windows, anew for each pass (each epoch), from
            `seed`. The windows are tf.keras 2's, their shuffled order is not:
            tf.keras permutes with NumPy and then shuffles within a buffer
            with TensorFlow's generator; kerasette draws one seeded
            permutation of all windows per pass.
        seed: the shuffle's seed (None: one drawn from `np.random`).
        start_index: first step used (default 0).
        end_index: steps from this one on are not used (default: the end).

    Returns:
        A `kerasette.utils.dataset_utils.BatchDataset`: iterating it yields
        `(x, y)` batches (`x` alone without targets), with `x` of shape
        `(batch, sequence_length, ...)`; `fit`, `evaluate` and `predict`
        take it as they take a `Sequence`.

    Raises:
        ValueError: for strides, rates or indices outside the data (tf.keras
            2's checks and messages).

    Example:
        >>> import numpy as np
        >>> data = np.arange(10)
        >>> ds = timeseries_dataset_from_array(data, data[3:], sequence_length=3, batch_size=4)
        >>> x, y = next(iter(ds))
        >>> x.tolist(), y.tolist()
        ([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [3, 4, 5, 6])
    """
    data = np.asarray(data)
    if data.ndim == 0:
        raise ValueError("`data` must be an array of time steps (time first). Received a "
                         f"scalar: {data!r}")
    sequence_length = _positive_int(sequence_length, "sequence_length")
    if batch_size is not None:
        batch_size = _positive_int(batch_size, "batch_size")
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError("`start_index` must be 0 or greater. Received: "
                             f"start_index={start_index}")
        if start_index >= n:
            raise ValueError("`start_index` must be lower than the length of the data. "
                             f"Received: start_index={start_index}, for data of length {n}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError("`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index} ")
        if end_index >= n:
            raise ValueError("`end_index` must be lower than the length of the data. "
                             f"Received: end_index={end_index}, for data of length {n}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    if sampling_rate <= 0:
        raise ValueError("`sampling_rate` must be higher than 0. Received: "
                         f"sampling_rate={sampling_rate}")
    if sampling_rate >= n:
        raise ValueError("`sampling_rate` must be lower than the length of the data. Received: "
                         f"sampling_rate={sampling_rate}, for data of length {n}")
    if sequence_stride <= 0:
        raise ValueError("`sequence_stride` must be higher than 0. Received: "
                         f"sequence_stride={sequence_stride}")
    if sequence_stride >= n:
        raise ValueError("`sequence_stride` must be lower than the length of the data. "
                         f"Received: sequence_stride={sequence_stride}, for data of length {n}")
    start_index = 0 if start_index is None else int(start_index)
    end_index = n if end_index is None else int(end_index)

    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    labels = None
    if targets is not None:
        targets = np.asarray(targets)
        num_seqs = min(num_seqs, len(targets))
    starts = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=np.int64)
    if shuffle and seed is None:
        seed = np.random.randint(1e6)  # as tf.keras 2: from NumPy's global generator
    # `targets[start_index:end_index][start]`, as tf.keras gathers them.
    labels = None if targets is None else targets[start_index:end_index][starts]
    offsets = np.arange(sequence_length, dtype=np.int64) * int(sampling_rate) + start_index

    def window(start):
        return data[start + offsets]

    # One sample per window start; a batch cuts its windows from `data` when it is made.
    return BatchDataset(starts, labels, window, batch_size=batch_size, shuffle=bool(shuffle),
                        seed=seed)


__all__ = ["timeseries_dataset_from_array"]
