"""Arrays of strings: text inputs that stay on the host.

A string array cannot go to a device (CuPy has no string dtype), so text
data travels through `fit`, `evaluate` and `predict` as a host NumPy array,
batch by batch, and the layer that takes it (`TextVectorization`,
`StringLookup`) turns it into integer ids on the host and moves the ids to
the device once. Every other layer refuses it with an error naming itself.

`"string"` is the dtype name of such inputs (`keras.Input(dtype="string")`,
tf.keras 2's `tf.string`).
"""

from __future__ import annotations

import numpy as np

STRING = "string"


def is_string_dtype(dtype) -> bool:
    """Whether `dtype` names text: `"string"`, or a NumPy str/bytes dtype."""
    if isinstance(dtype, str) and dtype == STRING:
        return True
    try:
        return np.dtype(dtype).kind in "US"
    except TypeError:
        return False


def is_string_array(x) -> bool:
    """Whether `x` is a host array of text: a NumPy str or bytes array, or
    an object array whose first element is a str or bytes (pandas columns)."""
    if not isinstance(x, np.ndarray):
        return False
    kind = x.dtype.kind
    if kind in "US":
        return True
    return kind == "O" and x.size > 0 and isinstance(x.flat[0], (str, bytes))


def is_string_data(x) -> bool:
    """`is_string_array`, or a (nested) list or tuple whose first leaf is a
    str or bytes: what a layer called on `["a b", "c"]` receives."""
    if isinstance(x, np.ndarray):
        return is_string_array(x)
    while isinstance(x, (list, tuple)) and x:
        x = x[0]
    return isinstance(x, (str, bytes, np.str_, np.bytes_))


def as_string_array(x, encoding="utf-8") -> np.ndarray:
    """`x` (an array, list or scalar of str or bytes) as a NumPy str array.

    Bytes are decoded with `encoding` (tf.keras 2 holds text as UTF-8
    bytes); bytes that do not decode become surrogates ("surrogateescape"),
    so they stay distinct and encode back to the same bytes.

    Raises:
        TypeError: for elements that are neither str nor bytes, naming one.

    Example:
        >>> as_string_array(["café".encode("utf-8"), "tea"]).tolist()
        ['café', 'tea']
    """
    # Lists through object arrays: NumPy would decode bytes beside str as ASCII.
    arr = x if isinstance(x, np.ndarray) else np.asarray(x, dtype=object)
    kind = arr.dtype.kind
    if kind == "U":
        return arr
    if kind == "S":
        return np.char.decode(arr, encoding, errors="surrogateescape")
    if kind == "O":
        flat = arr.reshape(-1)
        out = np.empty(flat.shape, dtype=object)
        for i, item in enumerate(flat):
            if isinstance(item, bytes):
                # Invalid bytes survive as surrogates: distinct tokens stay distinct.
                out[i] = item.decode(encoding, errors="surrogateescape")
            elif isinstance(item, str):
                out[i] = item
            else:
                raise TypeError(f"Expected strings, but element {i} is {item!r} "
                                f"({type(item).__name__}).")
        return out.astype(str).reshape(arr.shape) if flat.size else arr.astype(str)
    raise TypeError(f"Expected strings. Received: an array of dtype {arr.dtype}.")


__all__ = ["STRING", "as_string_array", "is_string_array", "is_string_data", "is_string_dtype"]
