"""Conv1DTranspose and Conv2DTranspose (the "deconvolution" layers of
autoencoders and GAN generators)."""

from __future__ import annotations

from kerasette import ops
from kerasette.layers.convolutional import _Conv, check_image_shape, check_sequence_shape
from kerasette.ops.conv_transpose import output_padding_arg, transposed_shape


class _ConvTranspose(_Conv):
    """What the transposed convolutions add to `_Conv`: `output_padding`,
    the `(*kernel_size, filters, in_channels)` kernel and tf.keras 2's
    output sizes."""

    def __init__(self, filters, kernel_size, strides, padding, output_padding, data_format,
                 dilation_rate, activation, use_bias, kernel_initializer, bias_initializer,
                 kernel_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
                 bias_constraint, **kwargs):
        groups = kwargs.pop("groups", 1)  # tf.keras 2 writes groups=1 into the config
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)
        self.output_padding = output_padding_arg(output_padding, self.strides,
                                                 self.kernel_size, self.dilation_rate,
                                                 self.padding, type(self).__name__)

    def _kernel_shape(self, in_channels):
        return self.kernel_size + (self.filters, in_channels)

    def _op_kwargs(self):
        return dict(super()._op_kwargs(), output_padding=self.output_padding)

    def _output_spatial(self, spatial):
        return transposed_shape(spatial, self.kernel_size, self.strides, self.dilation_rate,
                                self.padding, self.output_padding)

    def get_config(self):
        config = super().get_config()
        config["output_padding"] = None if self.output_padding is None else list(
            self.output_padding)
        return config

    def keras3_config(self, config, layer_entry=None):
        """Keras 3 writes no `groups` for transposed convolutions (and refuses it)."""
        config.pop("groups", None)
        return config


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution: the input gradient of a `Conv2D`, used to
    upsample learned feature maps (`activation(conv2d_transpose(inputs,
    kernel) + bias)`).

    The kernel has Keras's layout `(kh, kw, filters, in_channels)` (output
    channels before input channels), so weights load from and save to Keras
    files unchanged. Output sizes follow tf.keras 2: `in * stride` with
    `"same"`, `in * stride + max(k_eff - stride, 0)` with `"valid"`, and
    `(in - 1) * stride + k_eff - 2 * pad + output_padding` when
    `output_padding` is given (`pad = k_eff // 2` for `"same"`, else 0;
    `k_eff = (k - 1) * dilation + 1`).

    Args:
        filters: number of output channels.
        kernel_size: int or pair `(kh, kw)`.
        strides: int or pair (default 1).
        padding: `"valid"` or `"same"`.
        output_padding: `None` (default), an int or a pair, each smaller
            than its stride: the extra rows/columns at the end of the output.
        data_format: `"channels_last"` (or `None`), the only layout.
        dilation_rate: int or pair (default 1). As in Keras, strides and
            dilation cannot both exceed 1.
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
        `(batch, height, width, channels)`.

    Output shape:
        `(batch, new_height, new_width, filters)`.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.Conv2DTranspose(8, 3, strides=2, padding="same")
        >>> layer(keras.ops.ones((2, 7, 7, 16))).shape
        (2, 14, 14, 8)
    """

    _rank = 2
    _op = staticmethod(ops.conv2d_transpose)
    _check_shape = staticmethod(check_image_shape)

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution: the input gradient of a `Conv1D`
    (`activation(conv1d_transpose(inputs, kernel) + bias)`).

    The kernel has Keras's layout `(kernel_size, filters, in_channels)`;
    output lengths follow tf.keras 2 as for `Conv2DTranspose`.

    Args:
        filters: number of output channels.
        kernel_size: int (or a tuple of one int).
        strides: int (default 1).
        padding: `"valid"` or `"same"`.
        output_padding: `None` (default) or an int smaller than `strides`.
        data_format: `"channels_last"` (or `None`), the only layout.
        dilation_rate: int (default 1).
        activation: name or callable; `None` means linear.
        use_bias: whether to add a bias.
        kernel_initializer: default `"glorot_uniform"`.
        bias_initializer: default `"zeros"`.
        kernel_regularizer, bias_regularizer: optional regularizers.
        activity_regularizer: optional regularizer of the output.
        kernel_constraint, bias_constraint: optional constraints.

    Input shape:
        `(batch, steps, channels)`.

    Output shape:
        `(batch, new_steps, filters)`.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.Conv1DTranspose(4, 3, strides=2)(keras.ops.ones((2, 5, 3))).shape
        (2, 11, 4)
    """

    _rank = 1
    _op = staticmethod(ops.conv1d_transpose)
    _check_shape = staticmethod(check_sequence_shape)

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


Convolution2DTranspose = Conv2DTranspose
Convolution1DTranspose = Conv1DTranspose
