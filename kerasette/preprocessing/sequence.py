"""Sequence utilities, as `keras.preprocessing.sequence`: `pad_sequences`.

`pad_sequences` is also `keras.utils.pad_sequences` (tf.keras 2 exports it
under both names; course notebooks use both).
"""

from __future__ import annotations

import numpy as np

from kerasette.preprocessing._checks import check_int

__all__ = ["pad_sequences"]

_SIDES = ("pre", "post")


def _check_side(value, arg: str, what: str) -> None:
    # Keras's own words first ('Padding type "mid" not understood'), so code
    # that matches Keras's message still matches; then what was expected.
    if not (isinstance(value, str) and value in _SIDES):
        raise ValueError(f'{what} type "{value}" not understood: argument `{arg}` must be '
                         f'"pre" or "post". Received: {arg}={value!r}')


def _output_dtype(sequences, dtype, value) -> np.dtype:
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"Argument `dtype` must be a NumPy dtype (such as 'int32', 'float32' "
                         f"or object). Received: dtype={dtype!r}") from None
    if isinstance(value, str) and dtype.kind not in "OSU":
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}. "
            "You should set `dtype=object` for variable length strings. "
            f"Received: dtype={dtype}, value={value!r}")
    if dtype.kind in "SU" and dtype.itemsize == 0:
        # `dtype=str` alone means '<U1' to `np.full`, which would cut every
        # string to its first character (what Keras does); size it to the
        # longest string instead.
        sized = np.asarray(value, dtype=dtype).dtype
        for s in sequences:
            if len(s):
                sized = np.promote_types(sized, np.asarray(s, dtype=dtype).dtype)
        dtype = sized
    return dtype


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pads sequences to the same length.

    Turns a list of `num_samples` sequences (lists of integers) into a 2D
    NumPy array of shape `(num_samples, num_timesteps)`, where
    `num_timesteps` is `maxlen` if given, else the length of the longest
    sequence. Shorter sequences are padded with `value`; longer ones are
    truncated. `padding` and `truncating` say at which end ("pre": the
    start, the default; "post": the end). Sequences whose items are arrays
    (all of one shape) give an array of shape
    `(num_samples, num_timesteps) + item_shape`.

    Args:
        sequences: a list of sequences (lists, tuples or 1-D arrays).
        maxlen: None or an int, the length of every output row. Default:
            the length of the longest sequence.
        dtype: the output's dtype, `"int32"` by default. For strings use
            `object` (or `str`, which is sized to the longest string).
        padding: `"pre"` or `"post"`: pad before or after each sequence.
        truncating: `"pre"` or `"post"`: drop values from the start or the
            end of sequences longer than `maxlen`.
        value: the padding value (a number, or a string with a string or
            object `dtype`). Default `0.0`.

    Returns:
        A NumPy array of shape `(len(sequences), maxlen)` and dtype `dtype`.

    Raises:
        ValueError: `padding` or `truncating` is not "pre" or "post",
            `maxlen` is not a non-negative integer, an entry of `sequences`
            is not a sequence, items disagree in shape, or `value` is a
            string and `dtype` is numeric. All checked before any work.

    Example:
        >>> sequence = [[1], [2, 3], [4, 5, 6]]
        >>> pad_sequences(sequence)
        array([[0, 0, 1],
               [0, 2, 3],
               [4, 5, 6]], dtype=int32)
        >>> pad_sequences(sequence, padding="post", maxlen=2)
        array([[1, 0],
               [2, 3],
               [5, 6]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable: a list of sequences (a generator has no "
                         f"length; pass list(...)). Received: sequences of type "
                         f"{type(sequences).__name__}")
    _check_side(truncating, "truncating", "Truncating")
    _check_side(padding, "padding", "Padding")
    maxlen = check_int(maxlen, "maxlen", allow_none=True)

    lengths = []
    sample_shape = ()
    found_sample = False
    for x in sequences:
        try:
            lengths.append(len(x))
        except TypeError:
            raise ValueError("`sequences` must be a list of iterables. "
                             f"Found non-iterable: {x!s}") from None
        if not found_sample and len(x):
            # The item shape comes from the first non-empty sequence (as in Keras).
            sample_shape = np.asarray(x).shape[1:]
            found_sample = True
    if maxlen is None:
        # Keras calls np.max(lengths), which fails on an empty list; none gives (0, 0).
        maxlen = max(lengths, default=0)
    dtype = _output_dtype(sequences, dtype, value)

    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    if maxlen == 0:
        return out  # Keras's s[-0:] would keep the whole sequence, then fail to fit it
    for idx, s in enumerate(sequences):
        if not len(s):
            continue
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        trunc = np.asarray(trunc, dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(f"Shape of sample {trunc.shape[1:]} of sequence at position {idx} "
                             f"is different from expected shape {sample_shape}")
        if padding == "post":
            out[idx, :len(trunc)] = trunc
        else:
            out[idx, -len(trunc):] = trunc
    return out
