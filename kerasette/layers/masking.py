"""`Masking`: marks the time steps whose features all equal a padding value."""

from __future__ import annotations

from kerasette import ops
from kerasette.layers.base import Layer
from kerasette.ops.core import xp


class Masking(Layer):
    """Masks the time steps where every feature equals `mask_value`.

    The output is the input with those steps zeroed, and carries a
    `(batch, time)` mask (True where a step is kept) that recurrent layers,
    `GlobalAveragePooling1D` and the losses honour, as in tf.keras 2.

    Args:
        mask_value: the padding value (default 0.0).

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]])
        >>> keras.layers.Masking()(x)._keras_mask.tolist()
        [[True, False, True]]
    """

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        try:
            self.mask_value = float(mask_value)
        except (TypeError, ValueError):
            raise ValueError("Masking: `mask_value` must be a number. "
                             f"Received: mask_value={mask_value!r}") from None

    def _kept(self, inputs):
        # A step is kept when any of its features differs from the padding.
        return xp().any(inputs.data != inputs.dtype.type(self.mask_value), axis=-1)

    def compute_mask(self, inputs, mask=None):
        return self._kept(inputs)

    def call(self, inputs):
        keep = self._kept(inputs)[..., None].astype(inputs.dtype)
        return ops.multiply(inputs, keep)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
