"""Pooling layers: MaxPooling2D, AveragePooling2D and their global forms."""

from __future__ import annotations

from kerasette import ops
from kerasette.layers.base import Layer
from kerasette.layers.convolutional import check_image_shape, data_format_arg
from kerasette.ops.conv import _padding, _pair, output_length


class _Pooling2D(Layer):
    """Shared arguments, shapes and config of the windowed 2-D poolings."""

    _op = None  # the pooling op, set by subclasses

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        self.pool_size = _pair(pool_size, "pool_size", kind)
        self.strides = self.pool_size if strides is None else _pair(strides, "strides", kind)
        self.padding = _padding(padding, kind)
        self.data_format = data_format_arg(data_format, kind)

    def build(self, input_shape):
        check_image_shape(self, input_shape)

    def call(self, inputs):
        check_image_shape(self, inputs.shape)
        return type(self)._op(inputs, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        check_image_shape(self, input_shape)
        n, h, w, c = input_shape
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        return (n, output_length(h, ph, sh, 1, self.padding),
                output_length(w, pw, sw, 1, self.padding), c)

    def get_config(self):
        config = super().get_config()
        config.update({
            "pool_size": list(self.pool_size),
            "padding": self.padding,
            "strides": list(self.strides),
            "data_format": self.data_format,
        })
        return config


class MaxPooling2D(_Pooling2D):
    """Max pooling over `pool_size` windows of channels-last images.

    The gradient of each window goes to its first maximal element
    (TensorFlow's rule for ties).

    Args:
        pool_size: int or pair (default `(2, 2)`).
        strides: int or pair; `None` (default) means `pool_size`.
        padding: `"valid"` or `"same"` (TensorFlow's arithmetic; padded
            positions never win).
        data_format: `"channels_last"` (or `None`), the only layout.

    Input shape:
        `(batch, height, width, channels)`.

    Output shape:
        `(batch, pooled_height, pooled_width, channels)`.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.MaxPooling2D()(keras.ops.ones((1, 6, 6, 4))).shape
        (1, 3, 3, 4)
    """

    _op = staticmethod(ops.max_pool2d)


class AveragePooling2D(_Pooling2D):
    """Average pooling over `pool_size` windows of channels-last images.

    With `padding="same"`, border windows average only their real
    (unpadded) elements, as TensorFlow does.

    Args:
        pool_size: int or pair (default `(2, 2)`).
        strides: int or pair; `None` (default) means `pool_size`.
        padding: `"valid"` or `"same"`.
        data_format: `"channels_last"` (or `None`), the only layout.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.AveragePooling2D(3, 2, "same")(keras.ops.ones((1, 5, 5, 2))).shape
        (1, 3, 3, 2)
    """

    _op = staticmethod(ops.avg_pool2d)


class _GlobalPooling2D(Layer):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format_arg(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        check_image_shape(self, input_shape)

    def compute_output_shape(self, input_shape):
        check_image_shape(self, input_shape)
        n, _, _, c = input_shape
        return (n, 1, 1, c) if self.keepdims else (n, c)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling2D(_GlobalPooling2D):
    """Averages each channel over height and width.

    Args:
        data_format: `"channels_last"` (or `None`), the only layout.
        keepdims: keep the spatial axes as size 1: `(batch, 1, 1, channels)`.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.GlobalAveragePooling2D()(keras.ops.ones((2, 4, 4, 3))).shape
        (2, 3)
    """

    def call(self, inputs):
        check_image_shape(self, inputs.shape)
        return ops.mean(inputs, axis=(1, 2), keepdims=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """Takes each channel's maximum over height and width (ties share the
    gradient, as TensorFlow's `reduce_max`).

    Args:
        data_format: `"channels_last"` (or `None`), the only layout.
        keepdims: keep the spatial axes as size 1: `(batch, 1, 1, channels)`.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.GlobalMaxPooling2D(keepdims=True)(keras.ops.ones((2, 4, 4, 3))).shape
        (2, 1, 1, 3)
    """

    def call(self, inputs):
        check_image_shape(self, inputs.shape)
        return ops.max(inputs, axis=(1, 2), keepdims=self.keepdims)


# Keras's aliases.
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
