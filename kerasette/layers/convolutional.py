"""Conv2D, and the argument checks the image layers share."""

from __future__ import annotations

from kerasette import activations, initializers, ops, regularizers
from kerasette.layers.base import Layer
from kerasette.layers.core import _fused_name, _positive_int
from kerasette.ops.conv import _padding, _pair, output_length


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


def check_image_shape(layer, input_shape):
    """Refuses inputs that are not `(batch, height, width, channels)`."""
    if len(input_shape) != 4:
        raise ValueError(
            f"Input 0 of layer {layer.name!r} is incompatible with the layer: expected "
            f"ndim=4, found ndim={len(input_shape)}. Full shape received: "
            f"{tuple(input_shape)}. {type(layer).__name__} expects images of shape "
            "(batch, height, width, channels); add a channel axis to grayscale images, "
            "e.g. x[..., None] or input_shape=(28, 28, 1)."
        )


def _reject_keras3_extras(kwargs, layer):
    for key in ("lora_rank", "lora_alpha"):
        value = kwargs.pop(key, None)
        if value is not None:
            raise NotImplementedError(f"{layer}: {key}={value!r} (LoRA) is not supported.")


class Conv2D(Layer):
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

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        _reject_keras3_extras(kwargs, "Conv2D")
        super().__init__(**kwargs)
        self.filters = _positive_int(filters, "filters", "Conv2D")
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2D")
        self.strides = _pair(strides, "strides", "Conv2D")
        if isinstance(padding, str) and padding.lower() == "causal":
            raise ValueError("Conv2D: padding='causal' exists only for Conv1D. "
                             "Use 'valid' or 'same'.")
        self.padding = _padding(padding, "Conv2D")
        self.data_format = data_format_arg(data_format, "Conv2D")
        self.dilation_rate = _pair(dilation_rate, "dilation_rate", "Conv2D")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("Conv2D: strides > 1 are not supported together with "
                             f"dilation_rate > 1 (as in Keras). Received: strides="
                             f"{self.strides}, dilation_rate={self.dilation_rate}")
        if groups != 1:
            raise NotImplementedError(f"Conv2D: grouped convolutions are not supported; "
                                      f"`groups` must be 1. Received: groups={groups!r}")
        self.groups = 1
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        if kernel_constraint is not None or bias_constraint is not None:
            raise NotImplementedError("Conv2D: weight constraints are not supported yet.")
        self._fused = _fused_name(self.activation)

    def build(self, input_shape):
        check_image_shape(self, input_shape)
        in_ch = input_shape[-1]
        if in_ch is None:
            raise ValueError(f"{self.name}: the channel axis of the input must be known. "
                             f"Received input_shape={tuple(input_shape)}")
        self.kernel = self.add_weight("kernel", self.kernel_size + (in_ch, self.filters),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer)

    def call(self, inputs):
        check_image_shape(self, inputs.shape)
        if inputs.shape[-1] != self.kernel.shape[2]:
            raise ValueError(
                f"Input of layer {self.name!r} is incompatible with the layer: expected "
                f"axis -1 of the input to have value {self.kernel.shape[2]}, but received "
                f"input with shape {inputs.shape}."
            )
        conv = {"strides": self.strides, "padding": self.padding,
                "dilation_rate": self.dilation_rate}
        if self._fused is not None:
            out = ops.conv2d(inputs, self.kernel, self.bias, activation=self._fused, **conv)
        else:
            out = self.activation(ops.conv2d(inputs, self.kernel, self.bias, **conv))
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(out) / float(out.shape[0]))
        return out

    def compute_output_shape(self, input_shape):
        check_image_shape(self, input_shape)
        n, h, w, _ = input_shape
        (kh, kw), (sh, sw), (dh, dw) = self.kernel_size, self.strides, self.dilation_rate
        return (n, output_length(h, kh, sh, dh, self.padding),
                output_length(w, kw, sw, dw, self.padding), self.filters)

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
            "kernel_constraint": None,
            "bias_constraint": None,
        })
        return config


Convolution2D = Conv2D
