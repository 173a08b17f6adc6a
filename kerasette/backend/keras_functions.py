"""tf.keras 2's `keras.backend` helpers that course notebooks call.

`epsilon`, `set_epsilon`, `image_data_format`, `set_image_data_format`,
`get_value`, `set_value`, `batch_get_value`, `batch_set_value`,
`int_shape`, `count_params` and `cast_to_floatx`. They work on kerasette's
tensors and variables by what they offer (`numpy()`, `assign`, `shape`),
so this low module imports nothing above the backend.

Example:
    >>> import kerasette as keras
    >>> from kerasette import backend as K
    >>> opt = keras.optimizers.SGD(learning_rate=0.1)
    >>> K.set_value(opt.learning_rate, 0.01)
    >>> round(float(K.get_value(opt.lr)), 6)
    0.01
"""

from __future__ import annotations

import numbers

import numpy as np

_epsilon = 1e-7
_image_data_format = "channels_last"


def epsilon() -> float:
    """The fuzz factor of numeric expressions, 1e-7 as in Keras.

    kerasette's losses and metrics clip with their own constant 1e-7 (the
    value Keras uses by default); `set_epsilon` changes what this function
    returns, for user code that reads it.
    """
    return _epsilon


def set_epsilon(value) -> None:
    """Sets the value `epsilon()` returns.

    Raises:
        ValueError: for anything but a finite, non-negative number.
    """
    global _epsilon
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
            0 <= value < float("inf")):
        raise ValueError(f"set_epsilon expects a finite number >= 0. Received: {value!r}")
    _epsilon = float(value)


def image_data_format() -> str:
    """`"channels_last"`: images are `(batch, height, width, channels)`."""
    return _image_data_format


def set_image_data_format(data_format) -> None:
    """Sets the default image layout; kerasette computes channels last only.

    Raises:
        ValueError: for `"channels_first"` (convert images with
            `np.moveaxis(x, 1, -1)` instead) or an unknown name.
    """
    if data_format == "channels_last":
        return
    if data_format == "channels_first":
        raise ValueError(
            "set_image_data_format('channels_first') is not supported: kerasette's "
            "convolutions compute channels last (NHWC, tf.keras's default on CPUs). Give "
            "images as (batch, height, width, channels), e.g. with np.moveaxis(x, 1, -1); "
            "Flatten and SpatialDropout2D/3D still take data_format='channels_first' "
            "explicitly.")
    raise ValueError("set_image_data_format expects 'channels_last' or 'channels_first'. "
                     f"Received: {data_format!r}")


def get_value(x):
    """The value of a variable or tensor as NumPy (a scalar for 0-d values,
    as tf.keras 2 returns `np.float32`); NumPy arrays and Python numbers are
    returned as they are.

    Example:
        >>> import kerasette as keras
        >>> float(keras.backend.get_value(keras.Variable(2.5)))
        2.5
    """
    if isinstance(x, (np.ndarray, np.generic, numbers.Number)):
        return x
    to_numpy = getattr(x, "numpy", None)
    if to_numpy is None:
        raise TypeError("get_value expects a kerasette variable or tensor (e.g. "
                        f"model.optimizer.learning_rate). Received: {type(x).__name__}")
    value = to_numpy()
    return value[()] if getattr(value, "ndim", None) == 0 else value


def set_value(x, value) -> None:
    """Assigns `value` to a variable, e.g. `set_value(model.optimizer.lr, 0.01)`.

    Raises:
        TypeError: when `x` cannot be assigned (a plain number or tensor).
    """
    assign = getattr(x, "assign", None)
    if assign is None:
        raise TypeError("set_value expects a kerasette variable (e.g. "
                        "model.optimizer.learning_rate or a layer weight). Received: "
                        f"{type(x).__name__}. To change an optimizer's rate, pass "
                        "optimizer.learning_rate.")
    value = np.asarray(value)
    # A scalar goes as a Python number: an optimizer's rate takes floats.
    assign(value.item() if value.ndim == 0 else value)


def batch_get_value(tensors) -> list:
    """`[get_value(x) for x in tensors]`."""
    return [get_value(x) for x in tensors]


def batch_set_value(tuples) -> None:
    """`set_value(x, value)` for each `(x, value)` pair."""
    for x, value in tuples:
        set_value(x, value)


def int_shape(x):
    """The shape of a tensor, variable, symbolic tensor or array as a tuple
    of ints (None where unknown), as tf.keras 2 returns it.

    Example:
        >>> import kerasette as keras
        >>> keras.backend.int_shape(keras.Input(shape=(3, 4)))
        (None, 3, 4)
    """
    shape = getattr(x, "shape", None)
    if shape is None:
        raise TypeError(f"int_shape expects a tensor or an array. Received: {type(x).__name__}")
    return tuple(None if d is None else int(d) for d in shape)


def count_params(x) -> int:
    """The number of scalars in a variable or tensor."""
    return int(np.prod(int_shape(x), dtype=np.int64))


def cast_to_floatx(x):
    """`x` as a NumPy array (or scalar) of `floatx()`."""
    from kerasette.backend import floatx

    return np.asarray(x, dtype=floatx())


__all__ = [
    "batch_get_value",
    "batch_set_value",
    "cast_to_floatx",
    "count_params",
    "epsilon",
    "get_value",
    "image_data_format",
    "int_shape",
    "set_epsilon",
    "set_image_data_format",
    "set_value",
]
