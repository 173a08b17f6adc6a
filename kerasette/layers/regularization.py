"""Dropout, its spatial forms, the noise layers and ActivityRegularization.

The random layers act only in training (`training=True`: `fit`, or a
direct call asking for it) and are the identity otherwise. Their draws come
from the backend's seeded generator, so `kerasette.utils.set_random_seed`
repeats a run bit for bit; the `seed` arguments are kept in configs only.
"""

from __future__ import annotations

import math
import numbers

from kerasette import backend as _backend
from kerasette import ops, regularizers
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.base import Layer
from kerasette.ops.core import _tensor, record
from kerasette.ops.nn import SELU_ALPHA, SELU_SCALE, dropout_backward, dropout_forward


class Dropout(Layer):
    """Randomly zeroes a fraction `rate` of the inputs during training.

    Inverted dropout: the kept inputs are scaled by `1 / (1 - rate)` so the
    expected value is unchanged, and inference (`training=False`, the
    default for direct calls, `predict` and `evaluate`) is the identity.
    Masks come from the backend's seeded generator
    (`kerasette.utils.set_random_seed`).

    Args:
        rate: fraction of inputs to drop, `0 <= rate < 1`.
        noise_shape: optional mask shape broadcast over the input (`None`
            entries take the input's size), e.g. `(None, 1, features)`.
        seed: accepted for Keras compatibility and kept in the config;
            reproducibility comes from `set_random_seed`.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.Dropout(0.5)
        >>> float(keras.ops.sum(layer(keras.ops.ones((4, 4)), training=False)))
        16.0
    """

    supports_masking = True  # the mask passes through, as in tf.keras 2

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
            raise ValueError(
                "Dropout: argument `rate` must be a number in [0, 1) (the fraction of inputs "
                f"to drop). Received: rate={rate!r}"
            )
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed

    def call(self, inputs, training=None):
        if training and self.rate > 0:
            return ops.dropout(inputs, self.rate, self.noise_shape)
        return inputs

    def _direct_kernel(self):
        """Array kernels for the direct training step (training/fast_step.py)."""
        return _DropoutKernel(self.rate, self.noise_shape) if type(self) is Dropout else None

    def compute_output_shape(self, input_shape):
        # Elementwise: the shape passes through, known without running a
        # probe batch (which a file's huge input shape would make huge).
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "rate": self.rate,
            "noise_shape": None if self.noise_shape is None else list(self.noise_shape),
            "seed": self.seed,
        })
        return config


class _DropoutKernel:
    """Dropout as `ops.nn.dropout_forward`/`dropout_backward`, drawing its
    mask where `Dropout.call` draws it."""

    params = ()
    activation = None

    def __init__(self, rate, noise_shape):
        self.rate = rate
        self.noise_shape = noise_shape

    def forward(self, x, training):
        if not training or self.rate <= 0:
            return x, None
        return dropout_forward(x, self.rate, self.noise_shape)

    def backward(self, g, mask, need_dx, grads, at_logits=False):
        return g if mask is None else dropout_backward(g, mask)

    def logits(self, saved):
        return None


def _rate(rate, layer):
    """`float(rate)` for `0 <= rate < 1`, else a `ValueError` naming `layer`."""
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
        raise ValueError(f"{layer}: argument `rate` must be a number in [0, 1) (the fraction "
                         f"of inputs to drop). Received: rate={rate!r}")
    return float(rate)


def _image_format(data_format, layer):
    """tf.keras 2's `data_format`: None means `image_data_format()`."""
    if data_format is None:
        data_format = _backend.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f'{layer}: `data_format` must be "channels_last" or '
                         f'"channels_first". Received: data_format={data_format!r}')
    return data_format


class _SpatialDropout(Dropout):
    """Dropout of whole channels: one draw per (sample, channel), shared by
    every position of the feature map (tf.keras 2's SpatialDropout)."""

    _rank = 3  # the input's rank, batch included

    def __init__(self, rate, data_format=None, **kwargs):
        kwargs.pop("noise_shape", None)  # tf.keras 2 writes null: the shape is the channels'
        super().__init__(rate, **kwargs)
        self.data_format = _image_format(data_format, type(self).__name__)

    def _mask_shape(self, shape):
        if self.data_format == "channels_first":
            return (shape[0], shape[1]) + (1,) * (len(shape) - 2)
        return (shape[0],) + (1,) * (len(shape) - 2) + (shape[-1],)

    def call(self, inputs, training=None):
        if inputs.ndim != self._rank:
            raise ValueError(f"{self.name}: expects inputs of rank {self._rank} (batch "
                             f"included). Received: input of shape {inputs.shape}")
        if training and self.rate > 0:
            return ops.dropout(inputs, self.rate, self._mask_shape(inputs.shape))
        return inputs

    def get_config(self):
        config = super().get_config()
        # tf.keras 2 leaves `data_format` out (its SpatialDropout2D/3D keep
        # Dropout's config); written here only when it is not the default.
        if self.data_format == "channels_first":
            config["data_format"] = self.data_format
        return config

    def keras3_config(self, config, layer_entry=None):
        """Keras 3's SpatialDropout takes only these keys (no `**kwargs`)."""
        keys = ("rate", "seed", "name", "dtype") + (("data_format",) if self._rank > 3 else ())
        config = {k: config[k] for k in keys if k in config}
        if self._rank > 3:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Drops whole feature channels of sequences `(batch, steps, channels)`.

    Args:
        rate: fraction of channels to drop, in [0, 1).

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.SpatialDropout1D(0.5)
        >>> layer(keras.ops.ones((2, 3, 4)), training=False).shape
        (2, 3, 4)
    """

    _rank = 3

    def __init__(self, rate, **kwargs):
        kwargs.pop("data_format", None)
        super().__init__(rate, data_format="channels_last", **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Drops whole feature maps of images.

    Args:
        rate: fraction of channels to drop, in [0, 1).
        data_format: `"channels_last"` (`(batch, rows, cols, channels)`) or
            `"channels_first"`; None means `keras.backend.image_data_format()`.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.SpatialDropout2D(0.5)(keras.ops.ones((2, 4, 4, 3))).shape
        (2, 4, 4, 3)
    """

    _rank = 4


class SpatialDropout3D(_SpatialDropout):
    """Drops whole feature volumes of 3D inputs `(batch, d1, d2, d3, channels)`.

    Args:
        rate: fraction of channels to drop, in [0, 1).
        data_format: `"channels_last"` or `"channels_first"`.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.SpatialDropout3D(0.5)(keras.ops.ones((1, 2, 2, 2, 3))).shape
        (1, 2, 2, 2, 3)
    """

    _rank = 5


class _Noise(Layer):
    """An elementwise random layer: shape and mask pass through."""

    supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


def _constant(array):
    """A backend array as a tensor that takes no gradient."""
    return Tensor(array)


class GaussianNoise(_Noise):
    """Adds zero-mean Gaussian noise of standard deviation `stddev` in training.

    Args:
        stddev: the noise's standard deviation (>= 0).
        seed: kept in the config; draws come from `set_random_seed`'s generator.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.GaussianNoise(0.1)
        >>> float(keras.ops.sum(layer(keras.ops.ones((2, 2)))))
        4.0
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, numbers.Real) or not stddev >= 0:
            raise ValueError("GaussianNoise: argument `stddev` must be a number >= 0. "
                             f"Received: stddev={stddev!r}")
        self.stddev = float(stddev)
        self.seed = seed

    def call(self, inputs, training=None):
        if not training or self.stddev == 0:
            return inputs
        noise = _backend.get_backend().random_normal(inputs.shape, dtype=inputs.dtype)
        noise *= self.stddev
        return ops.add(inputs, _constant(noise))

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(_Noise):
    """Multiplies the inputs by Gaussian noise of mean 1 and standard
    deviation `sqrt(rate / (1 - rate))` in training.

    Args:
        rate: the drop probability the noise stands for, in [0, 1).
        seed: kept in the config.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.GaussianDropout(0.2)
        >>> float(keras.ops.sum(layer(keras.ops.ones((2, 2)))))
        4.0
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _rate(rate, "GaussianDropout")
        self.seed = seed

    def call(self, inputs, training=None):
        if not training or not 0 < self.rate < 1:
            return inputs
        noise = _backend.get_backend().random_normal(inputs.shape, dtype=inputs.dtype)
        noise *= math.sqrt(self.rate / (1.0 - self.rate))
        noise += 1.0
        return ops.multiply(inputs, _constant(noise))

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


class AlphaDropout(_Noise):
    """Dropout that keeps the mean and variance of self-normalising (SELU)
    activations: dropped inputs are set to SELU's negative saturation
    `-alpha * scale`, then an affine map `a * x + b` restores the moments.

    Args:
        rate: fraction of inputs to drop, in [0, 1).
        noise_shape: optional mask shape broadcast over the input (`None`
            entries take the input's size).
        seed: kept in the config.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.AlphaDropout(0.1)
        >>> float(keras.ops.sum(layer(keras.ops.ones((2, 2)))))
        4.0
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _rate(rate, "AlphaDropout")
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed

    def call(self, inputs, training=None):
        if not training or not 0 < self.rate < 1:
            return inputs
        x = _tensor(inputs, "alpha_dropout")
        shape = x.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for s, n in zip(x.shape, self.noise_shape))
        rate = self.rate
        alpha_p = -SELU_ALPHA * SELU_SCALE
        a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * rate
        kept = (_backend.get_backend().random_uniform(shape, dtype=x.dtype) >= rate)
        kept = kept.astype(x.dtype)
        # tf.keras 2's order: x * kept + alpha_p * (1 - kept), then a * . + b.
        out = (x.data * kept + (1.0 - kept) * alpha_p) * a + b
        slope = kept * a  # broadcasts into the input's shape, as `g` has
        return record(out, (x,), lambda g, needs: (g * slope,))

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        if self.noise_shape is not None:  # tf.keras 2 leaves it out; Keras 3 writes it
            config["noise_shape"] = list(self.noise_shape)
        return config


class ActivityRegularization(Layer):
    """Passes its input through and adds `l1 * sum(|x|) + l2 * sum(x**2)`,
    divided by the batch size, to the model's losses (tf.keras 2's rule for
    activity regularizers; in training and evaluation alike).

    Args:
        l1: the L1 factor (>= 0).
        l2: the L2 factor (>= 0).

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.ActivityRegularization(l1=0.1)
        >>> _ = layer(keras.ops.ones((2, 3)))
        >>> round(float(layer.losses[0]), 4)
        0.3
    """

    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)  # tf.keras 2 may write it beside l1/l2
        super().__init__(**kwargs)
        self._penalty = regularizers.L1L2(l1=l1, l2=l2)
        self.l1 = l1
        self.l2 = l2

    def call(self, inputs):
        if self._penalty.l1 or self._penalty.l2:
            self.add_loss(self._penalty(inputs) / float(inputs.shape[0]))
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"l1": self.l1, "l2": self.l2})
        return config
