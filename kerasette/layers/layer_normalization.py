"""LayerNormalization."""

from __future__ import annotations

import numbers

from kerasette import constraints, initializers, ops, regularizers
from kerasette.layers.base import Layer


class LayerNormalization(Layer):
    """Normalises each sample over `axis` with its own mean and (biased)
    variance, then scales by `gamma` and shifts by `beta`. Unlike
    `BatchNormalization` it keeps no state and behaves the same in training
    and inference.

    Args:
        axis: int or list of ints (default -1): the axes normalised
            together; `gamma` and `beta` have the input's sizes there (in
            increasing axis order). tf.keras 2 writes it as a list of
            positive ints once built.
        epsilon: added to the variance, > 0 (default 1e-3).
        center: learn the offset `beta`.
        scale: learn the scale `gamma`.
        beta_initializer, gamma_initializer: initializers (zeros, ones).
        beta_regularizer, gamma_regularizer: optional regularizers.
        beta_constraint, gamma_constraint: optional constraints
            (`kerasette.constraints`), applied after each optimizer update.

    Weights, in order: gamma, beta.

    Example:
        >>> import kerasette as keras
        >>> ln = keras.layers.LayerNormalization()
        >>> ln(keras.ops.convert_to_tensor([[1.0, 2.0, 3.0]])).shape
        (1, 3)
    """

    supports_masking = True  # the mask passes through, as in tf.keras 2

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        rms = kwargs.pop("rms_scaling", False)  # Keras 3 key
        if rms:
            raise NotImplementedError("LayerNormalization: rms_scaling=True is not supported.")
        super().__init__(**kwargs)
        if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            self.axis = int(axis)
        elif isinstance(axis, (list, tuple)) and axis and all(
                isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis):
            self.axis = [int(a) for a in axis]
        else:
            raise ValueError("LayerNormalization: `axis` must be an int or a non-empty list of "
                             f"ints. Received: axis={axis!r}")
        if not float(epsilon) > 0.0:
            raise ValueError("LayerNormalization: `epsilon` must be positive. "
                             f"Received: epsilon={epsilon!r}")
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape):
        ndim = len(input_shape)
        axes = [self.axis] if isinstance(self.axis, int) else list(self.axis)
        if any(not -ndim <= a < ndim for a in axes):
            raise ValueError(f"{self.name}: axis {self.axis} is out of range for input shape "
                             f"{tuple(input_shape)}")
        axes = sorted(a % ndim for a in axes)
        if len(set(axes)) != len(axes):
            raise ValueError(f"{self.name}: `axis` has repeated entries: {self.axis}")
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(f"{self.name}: the normalised axes must have known sizes. "
                             f"Received input_shape={tuple(input_shape)}")
        self.axis = axes
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight("gamma", shape, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", shape, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)

    def call(self, inputs):
        return ops.layer_normalization(inputs, self.gamma, self.beta, self.epsilon, self.axis)

    def compute_output_shape(self, input_shape):
        # Elementwise: the shape passes through, known without running a
        # probe batch (which a file's huge input shape would make huge).
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": list(self.axis) if isinstance(self.axis, list) else self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        })
        return config
