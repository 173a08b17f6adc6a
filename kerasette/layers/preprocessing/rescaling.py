"""`Rescaling`: `inputs * scale + offset`."""

from __future__ import annotations

import numbers

import numpy as np

from kerasette import backend as _backend
from kerasette import ops
from kerasette.layers.base import Layer


def _number_or_list(value, what):
    """`value` as a float, or (per channel) a nested list of floats."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    try:
        array = np.asarray(value, dtype="float64")
    except (TypeError, ValueError):
        array = None
    if array is None or array.size == 0:
        raise ValueError(f"Rescaling: `{what}` must be a number or a list of numbers. "
                         f"Received: {what}={value!r}")
    return float(array) if array.ndim == 0 else array.tolist()


class Rescaling(Layer):
    """Multiplies the inputs by `scale` and adds `offset`, in training and inference.

    Integer inputs (pixels 0..255) become floats of the layer's dtype.

    Args:
        scale: a float, or a list broadcast against the inputs' last axes
            (one scale per channel).
        offset: a float or list, likewise (default 0.0).

    Input shape:
        Arbitrary.

    Output shape:
        Same as the input.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.Rescaling(1.0 / 127.5, offset=-1.0)([[0, 255]]).numpy().tolist()
        [[-1.0, 1.0]]
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = _number_or_list(scale, "scale")
        self.offset = _number_or_list(offset, "offset")
        self._constants = None  # (backend, scale, offset) on the device

    def _device_constants(self):
        b = _backend.get_backend()
        if self._constants is None or self._constants[0] is not b:
            def move(v):  # floats stay Python floats: the op keeps the input's dtype
                return v if isinstance(v, float) else ops.convert_to_tensor(
                    np.asarray(v, dtype=self.dtype))
            self._constants = (b, move(self.scale), move(self.offset))
        return self._constants[1:]

    def call(self, inputs):
        scale, offset = self._device_constants()
        return ops.add(ops.multiply(inputs, scale), offset)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale, "offset": self.offset})
        return config
