"""Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D and their global forms."""

from __future__ import annotations

from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.base import Layer
from kerasette.layers.convolutional import (check_image_shape, check_sequence_shape,
                                            check_volume_shape, data_format_arg)
from kerasette.ops.conv import masked_mean
from kerasette.ops.conv_geometry import _padding, _single, _spatial, output_length


class _Pooling2D(Layer):
    """Shared arguments, shapes and config of the windowed 2-D and 3-D
    poolings (`_rank` spatial axes, checked by `_check_shape`)."""

    _op = None  # the pooling op, set by subclasses
    _rank = 2
    _check_shape = staticmethod(check_image_shape)

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        self.pool_size = _spatial(pool_size, self._rank, "pool_size", kind)
        self.strides = self.pool_size if strides is None else _spatial(strides, self._rank,
                                                                       "strides", kind)
        self.padding = _padding(padding, kind)
        self.data_format = data_format_arg(data_format, kind)

    def build(self, input_shape):
        type(self)._check_shape(self, input_shape)

    def call(self, inputs):
        type(self)._check_shape(self, inputs.shape)
        return type(self)._op(inputs, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        type(self)._check_shape(self, input_shape)
        return (input_shape[0],) + tuple(
            output_length(size, p, s, 1, self.padding)
            for size, p, s in zip(input_shape[1:-1], self.pool_size, self.strides)) \
            + (input_shape[-1],)

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
    """Shared arguments, shapes and config of the global 2-D and 3-D poolings."""

    _rank = 2
    _check_shape = staticmethod(check_image_shape)

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format_arg(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        type(self)._check_shape(self, input_shape)

    _reduce = None  # ops.mean or ops.max, set by subclasses

    def call(self, inputs):
        type(self)._check_shape(self, inputs.shape)
        return type(self)._reduce(inputs, axis=tuple(range(1, self._rank + 1)),
                                  keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        type(self)._check_shape(self, input_shape)
        n, c = input_shape[0], input_shape[-1]
        return (n,) + (1,) * self._rank + (c,) if self.keepdims else (n, c)

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

    _reduce = staticmethod(ops.mean)


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

    _reduce = staticmethod(ops.max)


class MaxPooling3D(_Pooling2D):
    """Max pooling over `pool_size` windows of channels-last volumes
    (`MaxPooling2D`'s rules: padded positions never win, the first maximum
    of a window takes its gradient).

    Args:
        pool_size: int or a tuple of three ints (default `(2, 2, 2)`).
        strides: int or a tuple of three ints; `None` (default) means
            `pool_size`.
        padding: `"valid"` or `"same"`.
        data_format: `"channels_last"` (or `None`), the only layout.

    Input shape:
        `(batch, depth, height, width, channels)`.

    Output shape:
        `(batch, pooled_depth, pooled_height, pooled_width, channels)`.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.MaxPooling3D()(keras.ops.ones((1, 4, 6, 6, 2))).shape
        (1, 2, 3, 3, 2)
    """

    _op = staticmethod(ops.max_pool3d)
    _rank = 3
    _check_shape = staticmethod(check_volume_shape)

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(_Pooling2D):
    """Average pooling over `pool_size` windows of channels-last volumes;
    with `padding="same"`, border windows average only their real elements,
    as TensorFlow does.

    Args:
        pool_size: int or a tuple of three ints (default `(2, 2, 2)`).
        strides: int or a tuple of three ints; `None` (default) means
            `pool_size`.
        padding: `"valid"` or `"same"`.
        data_format: `"channels_last"` (or `None`), the only layout.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.AveragePooling3D(2, padding="same")(keras.ops.ones((1, 3, 3, 3, 2))).shape
        (1, 2, 2, 2, 2)
    """

    _op = staticmethod(ops.avg_pool3d)
    _rank = 3
    _check_shape = staticmethod(check_volume_shape)

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class GlobalAveragePooling3D(_GlobalPooling2D):
    """Averages each channel over depth, height and width.

    Args:
        data_format: `"channels_last"` (or `None`), the only layout.
        keepdims: keep the spatial axes as size 1:
            `(batch, 1, 1, 1, channels)`.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.GlobalAveragePooling3D()(keras.ops.ones((2, 3, 4, 4, 5))).shape
        (2, 5)
    """

    _reduce = staticmethod(ops.mean)
    _rank = 3
    _check_shape = staticmethod(check_volume_shape)


class GlobalMaxPooling3D(_GlobalPooling2D):
    """Takes each channel's maximum over depth, height and width (ties
    share the gradient, as TensorFlow's `reduce_max`).

    Args:
        data_format: `"channels_last"` (or `None`), the only layout.
        keepdims: keep the spatial axes as size 1:
            `(batch, 1, 1, 1, channels)`.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.GlobalMaxPooling3D(keepdims=True)(keras.ops.ones((2, 3, 4, 4, 5))).shape
        (2, 1, 1, 1, 5)
    """

    _reduce = staticmethod(ops.max)
    _rank = 3
    _check_shape = staticmethod(check_volume_shape)


class _Pooling1D(Layer):
    """Shared arguments, shapes and config of the windowed 1-D poolings."""

    _op = None  # the pooling op, set by subclasses

    def __init__(self, pool_size=2, strides=None, padding="valid",
                 data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        kind = type(self).__name__
        self.pool_size = (_single(pool_size, "pool_size", kind),)
        self.strides = self.pool_size if strides is None else (
            _single(strides, "strides", kind),)
        self.padding = _padding(padding, kind)
        self.data_format = data_format_arg(data_format, kind)

    def build(self, input_shape):
        check_sequence_shape(self, input_shape)

    def call(self, inputs):
        check_sequence_shape(self, inputs.shape)
        return type(self)._op(inputs, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        check_sequence_shape(self, input_shape)
        n, steps, c = input_shape
        return (n, output_length(steps, self.pool_size[0], self.strides[0], 1, self.padding), c)

    def get_config(self):
        config = super().get_config()
        config.update({  # tf.keras 2's order
            "strides": list(self.strides),
            "pool_size": list(self.pool_size),
            "padding": self.padding,
            "data_format": self.data_format,
        })
        return config


class MaxPooling1D(_Pooling1D):
    """Max pooling over windows of `pool_size` steps of `(batch, steps,
    channels)` sequences.

    Args:
        pool_size: int (default 2).
        strides: int; `None` (default) means `pool_size`.
        padding: `"valid"` or `"same"` (padded steps never win).
        data_format: `"channels_last"` (or `None`), the only layout.

    Input shape:
        `(batch, steps, channels)`.

    Output shape:
        `(batch, pooled_steps, channels)`.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.MaxPooling1D()(keras.ops.ones((2, 7, 4))).shape
        (2, 3, 4)
    """

    _op = staticmethod(ops.max_pool1d)


class AveragePooling1D(_Pooling1D):
    """Average pooling over windows of `pool_size` steps of `(batch, steps,
    channels)` sequences. With `padding="same"`, border windows average only
    their real steps, as TensorFlow does.

    Args:
        pool_size: int (default 2).
        strides: int; `None` (default) means `pool_size`.
        padding: `"valid"` or `"same"`.
        data_format: `"channels_last"` (or `None`), the only layout.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.AveragePooling1D(3, 2, "same")(keras.ops.ones((2, 7, 4))).shape
        (2, 4, 4)
    """

    _op = staticmethod(ops.avg_pool1d)


class _GlobalPooling1D(Layer):
    def __init__(self, data_format="channels_last", keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format_arg(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        check_sequence_shape(self, input_shape)

    def compute_output_shape(self, input_shape):
        check_sequence_shape(self, input_shape)
        n, _, c = input_shape
        return (n, 1, c) if self.keepdims else (n, c)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Averages each channel over the steps; with a mask, over the steps
    it keeps.

    With `mask` (`(batch, steps)` booleans, as a masking `Embedding` gives)
    the result is tf.keras 2's masked mean `sum(x * mask) / sum(mask)`, so a
    row whose mask keeps no step is NaN (0 / 0), as in tf.keras. The mask
    stops here: the output carries none.

    Args:
        data_format: `"channels_last"` (or `None`), the only layout.
        keepdims: keep the steps axis as size 1: `(batch, 1, channels)`.

    Call arguments:
        inputs: `(batch, steps, channels)`.
        mask: optional `(batch, steps)` booleans; `True` keeps a step.

    Example:
        >>> import kerasette as keras
        >>> x = keras.ops.convert_to_tensor([[[1.0], [3.0], [8.0]]])
        >>> layer = keras.layers.GlobalAveragePooling1D()
        >>> layer(x).numpy().tolist(), layer(x, mask=[[True, True, False]]).numpy().tolist()
        ([[4.0]], [[2.0]])
    """

    supports_masking = True

    def call(self, inputs, mask=None):
        check_sequence_shape(self, inputs.shape)
        if mask is None:
            return ops.mean(inputs, axis=1, keepdims=self.keepdims)
        if not isinstance(mask, Tensor):
            mask = ops.convert_to_tensor(mask)  # a host mask crosses to the device once
        return masked_mean(inputs, mask, axis=1, keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Takes each channel's maximum over the steps (ties share the
    gradient, as TensorFlow's `reduce_max`).

    Args:
        data_format: `"channels_last"` (or `None`), the only layout.
        keepdims: keep the steps axis as size 1: `(batch, 1, channels)`.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.GlobalMaxPooling1D()(keras.ops.ones((2, 5, 3))).shape
        (2, 3)
    """

    def call(self, inputs):
        check_sequence_shape(self, inputs.shape)
        return ops.max(inputs, axis=1, keepdims=self.keepdims)


# Keras's aliases.
MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool3D = AveragePooling3D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool3D = GlobalMaxPooling3D
