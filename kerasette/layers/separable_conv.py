"""DepthwiseConv2D and SeparableConv2D (MobileNet's and Xception's blocks)."""

from __future__ import annotations

from kerasette import constraints, initializers, ops, regularizers
from kerasette.layers.convolutional import _Conv, check_image_shape
from kerasette.layers.core import _positive_int


class _Depthwise(_Conv):
    """A `_Conv` whose first weight is a `(kh, kw, in, depth_multiplier)`
    depthwise kernel, configured by the `depthwise_*` arguments."""

    _rank = 2
    _check_shape = staticmethod(check_image_shape)

    def __init__(self, filters, kernel_size, strides, padding, depth_multiplier, data_format,
                 dilation_rate, activation, use_bias, depthwise_initializer, bias_initializer,
                 depthwise_regularizer, bias_regularizer, activity_regularizer,
                 depthwise_constraint, bias_constraint, kernel_kwargs, **kwargs):
        groups = kwargs.pop("groups", 1)  # tf.keras 2 writes groups=1 into the config
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, bias_initializer=bias_initializer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         bias_constraint=bias_constraint, **kernel_kwargs, **kwargs)
        kind = type(self).__name__
        self.depth_multiplier = _positive_int(depth_multiplier, "depth_multiplier", kind)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def _add_depthwise_kernel(self, in_channels):
        return self.add_weight("depthwise_kernel",
                               self.kernel_size + (in_channels, self.depth_multiplier),
                               initializer=self.depthwise_initializer,
                               regularizer=self.depthwise_regularizer,
                               constraint=self.depthwise_constraint)

    def _add_bias(self, size):
        if not self.use_bias:
            return None
        return self.add_weight("bias", (size,), initializer=self.bias_initializer,
                               regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint)

    def get_config(self):
        config = super().get_config()
        config.update({
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
        })
        return config


class DepthwiseConv2D(_Depthwise):
    """Depthwise 2-D convolution: each input channel is convolved with its
    own `depth_multiplier` filters, then biased and activated.

    The kernel (`depthwise_kernel`, tf.keras 2's weight name) has Keras's
    layout `(kh, kw, channels, depth_multiplier)`, and output channel
    `c * depth_multiplier + m` is channel `c`'s filter `m`, as in
    TensorFlow, so weights load from and save to Keras files unchanged. It
    runs as the grouped `conv2d` with one group per channel.

    Args:
        kernel_size: int or pair `(kh, kw)`.
        strides: int or pair (default 1).
        padding: `"valid"` or `"same"`.
        depth_multiplier: filters per input channel (default 1).
        data_format: `"channels_last"` (or `None`), the only layout.
        dilation_rate: int or pair (default 1).
        activation: name or callable; `None` means linear.
        use_bias: whether to add a bias (`channels * depth_multiplier`).
        depthwise_initializer: default `"glorot_uniform"`.
        bias_initializer: default `"zeros"`.
        depthwise_regularizer, bias_regularizer: optional regularizers.
        activity_regularizer: optional regularizer of the output.
        depthwise_constraint, bias_constraint: optional constraints
            (`kerasette.constraints`), applied after each optimizer update.

    Input shape:
        `(batch, height, width, channels)`.

    Output shape:
        `(batch, new_height, new_width, channels * depth_multiplier)`.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same")
        >>> layer(keras.ops.ones((2, 8, 8, 3))).shape
        (2, 8, 8, 6)
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(None, kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint,
                         {"kernel_initializer": None, "kernel_regularizer": None,
                          "kernel_constraint": None}, **kwargs)

    def build(self, input_shape):
        in_ch = self._check_channels(input_shape)
        self._in_channels = in_ch
        self.depthwise_kernel = self._add_depthwise_kernel(in_ch)
        self.bias = self._add_bias(in_ch * self.depth_multiplier)

    def _convolve(self, inputs, activation):
        return ops.depthwise_conv2d(inputs, self.depthwise_kernel, self.bias,
                                    activation=activation, **self._op_kwargs())

    def _out_channels(self, in_channels):
        return None if in_channels is None else in_channels * self.depth_multiplier

    def get_config(self):
        config = super().get_config()
        for key in ("filters", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            del config[key]  # tf.keras 2 writes only the depthwise_* forms
        return config

    def keras3_config(self, config, layer_entry=None):
        """Keras 3 writes no `groups` here (and refuses it)."""
        config.pop("groups", None)
        return config


class SeparableConv2D(_Depthwise):
    """Depthwise separable 2-D convolution: a depthwise convolution (each
    input channel with its own `depth_multiplier` filters) followed by a
    pointwise 1x1 convolution to `filters` channels, then the bias and the
    activation.

    Its weights are, in Keras's order and layouts, `depthwise_kernel`
    `(kh, kw, in_channels, depth_multiplier)`, `pointwise_kernel`
    `(1, 1, in_channels * depth_multiplier, filters)` and `bias`
    `(filters,)`. Strides, padding and dilation apply to the depthwise step.

    Args:
        filters: number of output channels.
        kernel_size: int or pair `(kh, kw)`.
        strides: int or pair (default 1).
        padding: `"valid"` or `"same"`.
        data_format: `"channels_last"` (or `None`), the only layout.
        dilation_rate: int or pair (default 1).
        depth_multiplier: depthwise filters per input channel (default 1).
        activation: name or callable; `None` means linear.
        use_bias: whether to add a bias.
        depthwise_initializer, pointwise_initializer: default
            `"glorot_uniform"`.
        bias_initializer: default `"zeros"`.
        depthwise_regularizer, pointwise_regularizer, bias_regularizer:
            optional regularizers.
        activity_regularizer: optional regularizer of the output.
        depthwise_constraint, pointwise_constraint, bias_constraint:
            optional constraints, applied after each optimizer update.

    Input shape:
        `(batch, height, width, channels)`.

    Output shape:
        `(batch, new_height, new_width, filters)`.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.SeparableConv2D(8, 3, padding="same", activation="relu")
        >>> layer(keras.ops.ones((2, 8, 8, 3))).shape
        (2, 8, 8, 8)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        # tf.keras 2's config also carries the unused kernel_* arguments of its base class.
        kernel_kwargs = {"kernel_initializer": kwargs.pop("kernel_initializer",
                                                          "glorot_uniform"),
                         "kernel_regularizer": kwargs.pop("kernel_regularizer", None),
                         "kernel_constraint": kwargs.pop("kernel_constraint", None)}
        super().__init__(filters, kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint,
                         kernel_kwargs, **kwargs)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        in_ch = self._check_channels(input_shape)
        self._in_channels = in_ch
        self.depthwise_kernel = self._add_depthwise_kernel(in_ch)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1, 1, in_ch * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self.bias = self._add_bias(self.filters)

    def _convolve(self, inputs, activation):
        depthwise = ops.depthwise_conv2d(inputs, self.depthwise_kernel, **self._op_kwargs())
        return ops.conv2d(depthwise, self.pointwise_kernel, self.bias, activation=activation)

    def get_config(self):
        config = super().get_config()
        config.update({  # tf.keras 2's order: depthwise, pointwise for each argument
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "depthwise_regularizer": config.pop("depthwise_regularizer"),
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
            "depthwise_constraint": config.pop("depthwise_constraint"),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
        })
        return config

    def keras3_config(self, config, layer_entry=None):
        """Keras 3 writes neither `groups` nor the unused kernel_* arguments."""
        for key in ("groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(key, None)
        return config


SeparableConvolution2D = SeparableConv2D
