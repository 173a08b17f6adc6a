"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax.

tf.keras 2's names, arguments, defaults and configs (`LeakyReLU`'s slope is
`alpha=0.3`; Keras 3's `negative_slope` is read too). Each passes the mask
on (`supports_masking`), as in tf.keras 2.
"""

from __future__ import annotations

import numbers

import numpy as np

from kerasette import backend as _backend
from kerasette import constraints, initializers, ops, regularizers
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.base import Layer
from kerasette.ops.core import _tensor, record, xp

# tf.keras 2's additive mask for Softmax (`_large_compatible_negative`):
# -1e9, or float16's lowest value, which -1e9 would overflow.
_MASK_ADDER = -1e9
_FLOAT16_LOWEST = float(np.finfo(np.float16).min)


def _number(value, what, layer, minimum=None, allow_none=False):
    """`float(value)`, or a `ValueError` naming the layer and the argument
    (None where allowed; below `minimum` refused)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != value:
        raise ValueError(f"{layer}: argument `{what}` must be a number. "
                         f"Received: {what}={value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{layer}: argument `{what}` must be >= {minimum}. "
                         f"Received: {what}={value!r}")
    return float(value)


class _Elementwise(Layer):
    """An elementwise activation: the shape and the mask pass through."""

    supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class ReLU(_Elementwise):
    """Rectified linear unit with tf.keras 2's options.

    `f(x) = max_value` for `x >= max_value`, `x` for
    `threshold <= x < max_value`, and `negative_slope * (x - threshold)`
    otherwise.

    Args:
        max_value: saturation value (>= 0), or None for none.
        negative_slope: slope below the threshold (>= 0).
        threshold: where the unit turns on (>= 0).

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.ReLU(max_value=1.0)
        >>> layer(keras.ops.convert_to_tensor([-3.0, -1.0, 0.0, 2.0])).numpy().tolist()
        [0.0, 0.0, 0.0, 1.0]
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = _number(max_value, "max_value", "ReLU", 0.0, allow_none=True)
        self.negative_slope = _number(negative_slope, "negative_slope", "ReLU", 0.0)
        self.threshold = _number(threshold, "threshold", "ReLU", 0.0)

    def call(self, inputs):
        return ops.relu(inputs, alpha=self.negative_slope, max_value=self.max_value,
                        threshold=self.threshold)

    def get_config(self):
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


class LeakyReLU(_Elementwise):
    """Leaky ReLU: `x` for `x >= 0`, `alpha * x` below.

    Args:
        alpha: the slope below zero (tf.keras 2's default 0.3; Keras 3
            names it `negative_slope`, and its configs are read too).

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.LeakyReLU()
        >>> [round(v, 2) for v in layer(keras.ops.convert_to_tensor([-3.0, 2.0])).numpy().tolist()]
        [-0.9, 2.0]
    """

    def __init__(self, alpha=None, negative_slope=None, **kwargs):
        super().__init__(**kwargs)
        if alpha is not None and negative_slope is not None:
            raise ValueError("LeakyReLU: pass `alpha` (tf.keras 2) or `negative_slope` "
                             f"(Keras 3), not both. Received: alpha={alpha!r}, "
                             f"negative_slope={negative_slope!r}")
        if alpha is None:
            alpha = 0.3 if negative_slope is None else negative_slope
        self.alpha = _number(alpha, "alpha", "LeakyReLU")

    def call(self, inputs):
        return ops.leaky_relu(inputs, negative_slope=self.alpha)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config

    def keras3_config(self, config, layer_entry=None):
        """Keras 3 names the slope `negative_slope` (and warns on `alpha`)."""
        config["negative_slope"] = config.pop("alpha")
        return config


class PReLU(_Elementwise):
    """Parametric ReLU: `x` for `x >= 0`, `alpha * x` below, with `alpha`
    a learned weight of the input's shape (one per feature).

    Args:
        alpha_initializer: initializer of `alpha` (default `"zeros"`).
        alpha_regularizer: optional regularizer of `alpha`.
        alpha_constraint: optional constraint of `alpha` (e.g. `"non_neg"`),
            applied after each optimizer step.
        shared_axes: axes (1-based, batch excluded) along which one `alpha`
            is shared, e.g. `[1, 2]` for one slope per channel of images.

    Input shape:
        any, batch first; every axis but the shared ones must be known.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25))
        >>> layer(keras.ops.convert_to_tensor([[-4.0, 2.0]])).numpy().tolist()
        [[-1.0, 2.0]]
    """

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_constraint = constraints.get(alpha_constraint)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        if shared_axes is not None and not isinstance(shared_axes, (list, tuple)):
            shared_axes = [shared_axes]
        if shared_axes is not None and any(
                isinstance(a, bool) or not isinstance(a, numbers.Integral) or a < 1
                for a in shared_axes):
            raise ValueError("PReLU: argument `shared_axes` must hold axis numbers >= 1 (the "
                             f"batch axis is 0 and never shared). Received: "
                             f"shared_axes={shared_axes!r}")
        self.shared_axes = None if shared_axes is None else [int(a) for a in shared_axes]

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis > len(shape):
                raise ValueError(f"{self.name}: `shared_axes` {self.shared_axes} name an axis "
                                 f"the input of shape {tuple(input_shape)} does not have.")
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"{self.name}: every axis that is not shared must be known to "
                             f"make `alpha`. Received input_shape={tuple(input_shape)}; "
                             "share the unknown axes with `shared_axes`.")
        self.alpha = self.add_weight("alpha", tuple(shape), initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)

    def call(self, inputs):
        # tf.keras 2's form: relu(x) - alpha * relu(-x).
        return ops.relu(inputs) - self.alpha * ops.relu(ops.negative(inputs))

    def get_config(self):
        config = super().get_config()
        config.update({
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        })
        return config


class ELU(_Elementwise):
    """Exponential linear unit: `x` for `x > 0`, `alpha * (exp(x) - 1)` below.

    Args:
        alpha: scale of the negative part (default 1.0).

    Example:
        >>> import kerasette as keras
        >>> keras.layers.ELU()(keras.ops.convert_to_tensor([0.0, 2.0])).numpy().tolist()
        [0.0, 2.0]
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = _number(alpha, "alpha", "ELU")

    def call(self, inputs):
        return ops.elu(inputs, alpha=self.alpha)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class ThresholdedReLU(_Elementwise):
    """`x` for `x > theta`, 0 otherwise.

    Args:
        theta: the threshold (>= 0, default 1.0).

    Example:
        >>> import kerasette as keras
        >>> keras.layers.ThresholdedReLU()(keras.ops.convert_to_tensor([0.5, 2.0])).numpy().tolist()
        [0.0, 2.0]
    """

    def __init__(self, theta=1.0, **kwargs):
        super().__init__(**kwargs)
        self.theta = _number(theta, "theta", "ThresholdedReLU", 0.0)

    def call(self, inputs):
        x = _tensor(inputs, "thresholded_relu")
        on = (x.data > self.theta).astype(x.dtype)
        return record(x.data * on, (x,), lambda g, needs: (g * on,))

    def get_config(self):
        config = super().get_config()
        config["theta"] = self.theta
        return config


class Softmax(_Elementwise):
    """Softmax along `axis` (an axis or a list of axes), with an optional mask.

    Where `mask` is False, -1e9 is added to the input before the softmax
    (tf.keras 2's rule), so masked positions get (almost exactly) zero; with
    `robust_masking=True` they are replaced by -1e9 instead of shifted.

    Args:
        axis: the axis, or a list of axes, normalised over (default -1).
        robust_masking: replace rather than shift masked inputs.

    Call arguments:
        inputs: the logits.
        mask: a boolean array broadcastable to the inputs (True keeps).

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> layer = keras.layers.Softmax()
        >>> x = keras.ops.convert_to_tensor([[1.0, 2.0, 1.0]])
        >>> layer(x, mask=np.array([[True, False, True]])).numpy().tolist()
        [[0.5, 0.0, 0.5]]
    """

    def __init__(self, axis=-1, robust_masking=False, **kwargs):
        super().__init__(**kwargs)
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or any(isinstance(a, bool) or not isinstance(a, numbers.Integral)
                           for a in axes):
            raise ValueError("Softmax: argument `axis` must be an integer or a list of "
                             f"integers. Received: axis={axis!r}")
        self.axis = [int(a) for a in axis] if isinstance(axis, (list, tuple)) else int(axis)
        self.robust_masking = bool(robust_masking)

    def call(self, inputs, mask=None):
        if mask is not None:
            inputs = self._masked(inputs, mask)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        if len(axes) == 1:
            return ops.softmax(inputs, axis=axes[0])
        axes = tuple(a % inputs.ndim for a in axes)
        shifted = inputs - ops.stop_gradient(ops.max(inputs, axis=axes, keepdims=True))
        e = ops.exp(shifted)
        return e / ops.sum(e, axis=axes, keepdims=True)

    def _masked(self, inputs, mask):
        data = mask.data if isinstance(mask, Tensor) else mask
        if not _backend.get_backend().is_array(data):  # a host mask: the data boundary
            data = _backend.get_backend().asarray(np.asarray(data))
        large = _FLOAT16_LOWEST if inputs.dtype == np.float16 else _MASK_ADDER
        if self.robust_masking:
            keep = data if data.dtype == np.bool_ else data > 0.5
            return ops.where(keep, inputs, xp().asarray(large, dtype=inputs.dtype))
        adder = (1.0 - data.astype(inputs.dtype)) * inputs.dtype.type(large)
        return inputs + adder

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        if self.robust_masking:  # tf.keras 2 writes the key only when set
            config["robust_masking"] = True
        return config


__all__ = ["ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax", "ThresholdedReLU"]
