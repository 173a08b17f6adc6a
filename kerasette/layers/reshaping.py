"""ZeroPadding2D."""

from __future__ import annotations

import numbers

from kerasette import ops
from kerasette.layers.base import Layer
from kerasette.layers.convolutional import check_image_shape, data_format_arg


def _padding_pairs(padding):
    """Keras's three spellings as `((top, bottom), (left, right))`."""
    def nonneg_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0

    if nonneg_int(padding):
        p = int(padding)
        return ((p, p), (p, p))
    if isinstance(padding, (list, tuple)) and len(padding) == 2:
        if all(nonneg_int(v) for v in padding):
            return ((int(padding[0]),) * 2, (int(padding[1]),) * 2)
        if all(isinstance(v, (list, tuple)) and len(v) == 2 and all(nonneg_int(u) for u in v)
               for v in padding):
            return tuple((int(a), int(b)) for a, b in padding)
    raise ValueError(
        "ZeroPadding2D: `padding` must be an int, a pair (symmetric_height_pad, "
        "symmetric_width_pad), or ((top, bottom), (left, right)), of non-negative ints. "
        f"Received: padding={padding!r}"
    )


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around channels-last images.

    Args:
        padding: an int (the same on all four sides), a pair
            `(height_pad, width_pad)` (symmetric), or
            `((top, bottom), (left, right))`.
        data_format: `"channels_last"` (or `None`), the only layout.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.ZeroPadding2D(((1, 0), (2, 2)))(keras.ops.ones((1, 3, 3, 2))).shape
        (1, 4, 7, 2)
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _padding_pairs(padding)
        self.data_format = data_format_arg(data_format, "ZeroPadding2D")

    def build(self, input_shape):
        check_image_shape(self, input_shape)

    def call(self, inputs):
        check_image_shape(self, inputs.shape)
        (t, b), (l, r) = self.padding
        return ops.pad(inputs, ((0, 0), (t, b), (l, r), (0, 0)))

    def compute_output_shape(self, input_shape):
        check_image_shape(self, input_shape)
        n, h, w, c = input_shape
        (t, b), (l, r) = self.padding
        return (n, None if h is None else h + t + b, None if w is None else w + l + r, c)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": [list(p) for p in self.padding],
                       "data_format": self.data_format})
        return config
