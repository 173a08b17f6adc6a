"""Conv1D, Conv2D and Conv3D, their shared base, and the argument checks the
sequence, image and volume layers share."""

from __future__ import annotations

from kerasette import activations, constraints, initializers, ops, regularizers
from kerasette.layers.base import Layer
from kerasette.layers.core import _fused_name, _positive_int
from kerasette.ops.conv_geometry import _padding, _spatial, output_length


def data_format_arg(data_format, layer):
    """Checks `data_format`: channels-last is the only layout (`None` means it)."""
    if data_format in (None, "channels_last"):
        return "channels_last"
    if data_format == "channels_first":
        raise ValueError(
            f"{layer}: data_format='channels_first' is not supported; kerasette computes "
            "in channels_last (NHWC), the default of tf.keras on CPUs. Drop the argument "
            "and give images as (batch, height, width, channels), e.g. with "
            "np.moveaxis(x, 1, -1)."
        )
    raise ValueError(f"{layer}: `data_format` must be 'channels_last' (or None). "
                     f"Received: data_format={data_format!r}")


# What each convolution rank takes, and the hint for data one axis short.
_RANKS = {
    3: ("sequences", "(batch, steps, channels)", "give a single feature a channel axis, "
        "e.g. x[..., None] or input_shape=(steps, 1)"),
    4: ("images", "(batch, height, width, channels)", "add a channel axis to grayscale "
        "images, e.g. x[..., None] or input_shape=(28, 28, 1)"),
    5: ("volumes", "(batch, depth, height, width, channels)", "add a channel axis to "
        "single-channel volumes, e.g. x[..., None] or input_shape=(depth, height, width, 1)"),
}


def _check_rank(layer, input_shape, ndim):
    if len(input_shape) != ndim:
        what, shape, hint = _RANKS[ndim]
        raise ValueError(
            f"Input 0 of layer {layer.name!r} is incompatible with the layer: expected "
            f"ndim={ndim}, found ndim={len(input_shape)}. Full shape received: "
            f"{tuple(input_shape)}. {type(layer).__name__} expects {what} of shape "
            f"{shape}; {hint}."
        )


def check_image_shape(layer, input_shape):
    """Refuses inputs that are not `(batch, height, width, channels)`."""
    _check_rank(layer, input_shape, 4)


def check_sequence_shape(layer, input_shape):
    """Refuses inputs that are not `(batch, steps, channels)`."""
    _check_rank(layer, input_shape, 3)


def check_volume_shape(layer, input_shape):
    """Refuses inputs that are not `(batch, depth, height, width, channels)`."""
    _check_rank(layer, input_shape, 5)


def _reject_keras3_extras(kwargs, layer):
    for key in ("lora_rank", "lora_alpha"):
        value = kwargs.pop(key, None)
        if value is not None:
            raise NotImplementedError(f"{layer}: {key}={value!r} (LoRA) is not supported.")


class _Conv(Layer):
    """What the convolution layers share: arguments, weights, call and config.

    Subclasses set `_rank` (spatial axes), `_op` (the fused op, called as
    `_op(inputs, kernel, bias, activation=..., strides=..., padding=...,
    dilation_rate=...)`), `_check_shape` (the input rank check, with its
    message) and `_causal` (whether `padding="causal"` is allowed); the
    transposed, depthwise and separable layers override `_kernel_shape`,
    `_op_kwargs`, `_output_spatial`, `_out_channels` and, if their weights
    differ, `build` and `_convolve`.
    """

    _rank = 2
    _op = None
    _check_shape = None
    _causal = False

    def __init__(self, filters, kernel_size, strides, padding, data_format, dilation_rate,
                 groups, activation, use_bias, kernel_initializer, bias_initializer,
                 kernel_regularizer, bias_regularizer, activity_regularizer,
                 kernel_constraint, bias_constraint, **kwargs):
        kind = type(self).__name__
        _reject_keras3_extras(kwargs, kind)
        super().__init__(**kwargs)
        self.filters = None if filters is None else _positive_int(filters, "filters", kind)
        self.kernel_size = self._spatial(kernel_size, "kernel_size")
        self.strides = self._spatial(strides, "strides")
        if not self._causal and isinstance(padding, str) and padding.lower() == "causal":
            raise ValueError(f"{kind}: padding='causal' exists only for Conv1D. "
                             "Use 'valid' or 'same'.")
        self.padding = _padding(padding, kind, causal=self._causal)
        self.data_format = data_format_arg(data_format, kind)
        self.dilation_rate = self._spatial(dilation_rate, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{kind}: strides > 1 are not supported together with "
                             f"dilation_rate > 1 (as in Keras). Received: strides="
                             f"{self.strides}, dilation_rate={self.dilation_rate}")
        if groups != 1:
            raise NotImplementedError(f"{kind}: grouped convolutions are not supported; "
                                      f"`groups` must be 1. Received: groups={groups!r}")
        self.groups = 1
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._fused = _fused_name(self.activation)

    def _spatial(self, value, what):
        """`value` as one positive int per spatial axis (a tuple)."""
        return _spatial(value, self._rank, what, type(self).__name__)

    def _kernel_shape(self, in_channels):
        return self.kernel_size + (in_channels, self.filters)

    def _op_kwargs(self):
        return {"strides": self.strides, "padding": self.padding,
                "dilation_rate": self.dilation_rate}

    def _output_spatial(self, spatial):
        return tuple(output_length(size, k, s, d, self.padding) for size, k, s, d in zip(
            spatial, self.kernel_size, self.strides, self.dilation_rate))

    def _check_channels(self, input_shape):
        type(self)._check_shape(self, input_shape)
        in_ch = input_shape[-1]
        if in_ch is None:
            raise ValueError(f"{self.name}: the channel axis of the input must be known. "
                             f"Received input_shape={tuple(input_shape)}")
        return in_ch

    def build(self, input_shape):
        in_ch = self._check_channels(input_shape)
        self._in_channels = in_ch
        self.kernel = self.add_weight("kernel", self._kernel_shape(in_ch),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def _convolve(self, inputs, activation):
        """The layer's op(s) on `inputs`, with a fused `activation` name."""
        return type(self)._op(inputs, self.kernel, self.bias, activation=activation,
                              **self._op_kwargs())

    def call(self, inputs):
        type(self)._check_shape(self, inputs.shape)
        if inputs.shape[-1] != self._in_channels:
            raise ValueError(
                f"Input of layer {self.name!r} is incompatible with the layer: expected "
                f"axis -1 of the input to have value {self._in_channels}, but received "
                f"input with shape {inputs.shape}."
            )
        if self._fused is not None:
            out = self._convolve(inputs, self._fused)
        else:
            out = self.activation(self._convolve(inputs, "linear"))
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(out) / float(out.shape[0]))
        return out

    def compute_output_shape(self, input_shape):
        type(self)._check_shape(self, input_shape)
        return (input_shape[0], *self._output_spatial(input_shape[1:-1]),
                self._out_channels(input_shape[-1]))

    def _out_channels(self, in_channels):
        return self.filters

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config


class Conv2D(_Conv):
    """2-D convolution: `activation(conv2d(inputs, kernel) + bias)`.

    Images are channels-last, `(batch, height, width, channels)`, and the
    kernel has Keras's layout `(kh, kw, in_channels, filters)`, so weights
    load from and save to Keras files unchanged. Built-in activations whose
    derivative follows from their output (relu, tanh, linear) are fused
    with the convolution into one op.

    Args:
        filters: number of output channels.
        kernel_size: int or pair `(kh, kw)`.
        strides: int or pair (default 1).
        padding: `"valid"` (no padding) or `"same"` (output size
            `ceil(input / stride)`, TensorFlow's padding arithmetic).
        data_format: `"channels_last"` (or `None`), the only layout.
        dilation_rate: int or pair (default 1). As in Keras, strides and
            dilation cannot both exceed 1.
        groups: 1 (grouped convolutions are not supported).
        activation: name or callable; `None` means linear.
        use_bias: whether to add a bias.
        kernel_initializer: default `"glorot_uniform"`.
        bias_initializer: default `"zeros"`.
        kernel_regularizer, bias_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints
            (`kerasette.constraints`), applied after each optimizer update.
        activity_regularizer: optional regularizer of the output (divided
            by the batch size, as in tf.keras 2).

    Input shape:
        `(batch, height, width, channels)`.

    Output shape:
        `(batch, new_height, new_width, filters)`.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.Conv2D(4, 3, activation="relu")
        >>> layer(keras.ops.ones((2, 8, 8, 1))).shape
        (2, 6, 6, 4)
    """

    _rank = 2
    _op = staticmethod(ops.conv2d)
    _check_shape = staticmethod(check_image_shape)

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


class Conv1D(_Conv):
    """1-D convolution over time: `activation(conv1d(inputs, kernel) + bias)`.

    Sequences are channels-last, `(batch, steps, channels)`, and the kernel
    has Keras's layout `(kernel_size, in_channels, filters)`, so weights
    load from and save to Keras files unchanged. It runs Conv2D's kernel on
    a `(batch, 1, steps, channels)` view (no copy); relu, tanh and linear
    are fused with the convolution as in Conv2D.

    Args:
        filters: number of output channels.
        kernel_size: int (or a tuple of one int).
        strides: int (default 1).
        padding: `"valid"`, `"same"` (output length `ceil(steps / stride)`,
            TensorFlow's arithmetic) or `"causal"` (`(kernel_size - 1) *
            dilation_rate` zeros on the left, so output `t` sees only inputs
            up to `t`, as in WaveNet).
        data_format: `"channels_last"` (or `None`), the only layout.
        dilation_rate: int (default 1). As in Keras, strides and dilation
            cannot both exceed 1.
        groups: 1 (grouped convolutions are not supported).
        activation: name or callable; `None` means linear.
        use_bias: whether to add a bias.
        kernel_initializer: default `"glorot_uniform"`.
        bias_initializer: default `"zeros"`.
        kernel_regularizer, bias_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints
            (`kerasette.constraints`), applied after each optimizer update.
        activity_regularizer: optional regularizer of the output (divided
            by the batch size, as in tf.keras 2).

    Input shape:
        `(batch, steps, channels)`.

    Output shape:
        `(batch, new_steps, filters)`.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.Conv1D(4, 3, padding="causal", dilation_rate=2)
        >>> layer(keras.ops.ones((2, 10, 3))).shape
        (2, 10, 4)
    """

    _rank = 1
    _op = staticmethod(ops.conv1d)
    _check_shape = staticmethod(check_sequence_shape)
    _causal = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 data_format="channels_last", dilation_rate=1, groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


class Conv3D(_Conv):
    """3-D convolution over volumes: `activation(conv3d(inputs, kernel) + bias)`.

    Volumes are channels-last, `(batch, depth, height, width, channels)`,
    and the kernel has Keras's layout `(kd, kh, kw, in_channels, filters)`,
    so weights load from and save to Keras files unchanged. It runs
    Conv2D's im2col over three axes; relu, tanh and linear are fused with
    the convolution as in Conv2D.

    Args:
        filters: number of output channels.
        kernel_size: int or a tuple of three ints `(kd, kh, kw)`.
        strides: int or a tuple of three ints (default 1).
        padding: `"valid"` or `"same"` (TensorFlow's arithmetic).
        data_format: `"channels_last"` (or `None`), the only layout.
        dilation_rate: int or a tuple of three ints (default 1). As in
            Keras, strides and dilation cannot both exceed 1.
        groups: 1 (grouped convolutions are not supported).
        activation: name or callable; `None` means linear.
        use_bias: whether to add a bias.
        kernel_initializer: default `"glorot_uniform"`.
        bias_initializer: default `"zeros"`.
        kernel_regularizer, bias_regularizer: optional regularizers.
        activity_regularizer: optional regularizer of the output (divided
            by the batch size, as in tf.keras 2).
        kernel_constraint, bias_constraint: optional constraints
            (`kerasette.constraints`), applied after each optimizer update.

    Input shape:
        `(batch, depth, height, width, channels)`.

    Output shape:
        `(batch, new_depth, new_height, new_width, filters)`.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.Conv3D(4, 3, padding="same", activation="relu")
        >>> layer(keras.ops.ones((2, 5, 6, 7, 1))).shape
        (2, 5, 6, 7, 4)
    """

    _rank = 3
    _op = staticmethod(ops.conv3d)
    _check_shape = staticmethod(check_volume_shape)

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1, 1), groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
