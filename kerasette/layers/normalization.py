"""BatchNormalization."""

from __future__ import annotations

import numbers

from kerasette import backend as _backend
from kerasette import constraints, initializers, ops, regularizers
from kerasette.layers.base import Layer
from kerasette.ops.nn import (batch_norm_inference_forward, batch_norm_train_backward,
                              batch_norm_train_forward)


class BatchNormalization(Layer):
    """Normalises each feature with batch statistics in training and moving
    averages at inference, with Keras's semantics.

    In training (`training=True` and `trainable`), outputs use the batch
    mean and (biased) variance, and the moving statistics update as
    `moving -= (moving - batch) * (1 - momentum)`. At inference, and
    whenever the layer is frozen (`trainable=False`, as in tf.keras 2), the
    moving statistics are used and nothing updates.

    Args:
        axis: the feature axis (default -1); tf.keras 2's `[k]` lists are
            accepted.
        momentum: of the moving averages, in [0, 1].
        epsilon: added to the variance, > 0.
        center: learn an offset `beta`.
        scale: learn a scale `gamma`.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: initializers.
        beta_regularizer, gamma_regularizer: optional regularizers.
        beta_constraint, gamma_constraint: optional constraints
            (`kerasette.constraints`), applied after each optimizer update.

    Weights, in order: gamma, beta (trainable), moving_mean,
    moving_variance (non-trainable).

    Example:
        >>> import kerasette as keras
        >>> bn = keras.layers.BatchNormalization()
        >>> bn(keras.ops.ones((8, 3)), training=True).shape
        (8, 3)
    """

    supports_masking = True  # the mask passes through, as in tf.keras 2

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        # Keras 3 extras, accepted at their defaults only.
        for key, default in (("synchronized", False), ("renorm", False),
                             ("renorm_clipping", None), ("renorm_momentum", 0.99)):
            value = kwargs.pop(key, default)
            if value != default and not (key == "renorm_momentum"):
                raise NotImplementedError(f"BatchNormalization: {key}={value!r} is not supported.")
        super().__init__(**kwargs)
        # tf.keras 2 writes the axis as a list of positive ints once built.
        self._axis_as_list = isinstance(axis, (list, tuple))
        if isinstance(axis, (list, tuple)):
            if len(axis) != 1:
                raise ValueError(f"BatchNormalization supports one axis. Received: axis={axis!r}")
            axis = axis[0]
        self.axis = int(axis)
        if not _is_number(momentum) or not 0.0 <= float(momentum) <= 1.0:
            raise ValueError(
                "BatchNormalization: argument `momentum` must be a number in [0, 1] (how much "
                f"of the moving averages each batch keeps). Received: momentum={momentum!r}"
            )
        if not _is_number(epsilon) or not float(epsilon) > 0.0:
            raise ValueError(
                "BatchNormalization: argument `epsilon` must be a positive number. "
                f"Received: epsilon={epsilon!r}"
            )
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"{self.name}: axis {self.axis} is out of range for input "
                             f"shape {tuple(input_shape)}")
        self.axis = self.axis % ndim
        n = input_shape[self.axis]
        if n is None:
            raise ValueError(f"{self.name}: the feature axis must have a known size. "
                             f"Received input_shape={tuple(input_shape)}")
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight("gamma", (n,), initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight("beta", (n,), initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight("moving_mean", (n,), trainable=False,
                                           initializer=self.moving_mean_initializer)
        self.moving_variance = self.add_weight("moving_variance", (n,), trainable=False,
                                               initializer=self.moving_variance_initializer)

    def compute_output_shape(self, input_shape):
        # Elementwise: the shape passes through, known without running a
        # probe batch (which a file's huge input shape would make huge).
        return tuple(input_shape)

    def call(self, inputs, training=None):
        if training and self.trainable:
            y, mean, var = ops.batch_normalization_training(
                inputs, self.beta, self.gamma, self.epsilon, axis=self.axis)
            self._update_moving_statistics(inputs, mean, var)
            return y
        if self.axis != inputs.ndim - 1:
            return self._inference_other_axis(inputs)
        return ops.batch_normalization(inputs, self.moving_mean.data, self.moving_variance.data,
                                       self.beta, self.gamma, self.epsilon)

    def _update_moving_statistics(self, inputs, mean, var):
        """Moves the moving averages toward a training batch's statistics."""
        if inputs.ndim == 4:
            # tf.keras 2 takes 4-D inputs through fused batch norm, whose
            # moving variance uses the unbiased (n-1) batch variance.
            count = inputs.size // inputs.shape[self.axis]
            var = var * (count / max(count - 1, 1))
        decay = 1.0 - self.momentum
        # Moving averages are state, not part of the graph: update in place.
        self.moving_mean.data -= (self.moving_mean.data - mean) * decay
        self.moving_variance.data -= (self.moving_variance.data - var) * decay

    def _direct_kernel(self):
        """Array kernels for the direct training step (training/fast_step.py):
        the feature axis last, as after Dense."""
        shape = self._build_input_shape
        if (type(self) is not BatchNormalization or not self.trainable or shape is None
                or self.axis != len(shape) - 1):
            return None
        return _BatchNormKernel(self)

    def _inference_other_axis(self, inputs):
        # Move the feature axis last, normalise, move it back.
        perm = [i for i in range(inputs.ndim) if i != self.axis] + [self.axis]
        inverse = [perm.index(i) for i in range(inputs.ndim)]
        y = ops.batch_normalization(ops.transpose(inputs, perm), self.moving_mean.data,
                                    self.moving_variance.data, self.beta, self.gamma,
                                    self.epsilon)
        return ops.transpose(y, inverse)

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": [self.axis] if self.built or self._axis_as_list else self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        })
        return config


def _is_number(value) -> bool:
    """A real number, not a bool or a string (`float("0.9")` would pass)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class _BatchNormKernel:
    """BatchNormalization as `ops.nn.batch_norm_train_forward`/`_backward`
    (and `batch_norm_inference_forward` outside training), updating the
    moving statistics where `call` does."""

    activation = None

    def __init__(self, layer):
        self.layer = layer
        self.params = tuple(v for v in (layer.gamma, layer.beta) if v is not None)

    def forward(self, x, training):
        layer = self.layer
        gamma = None if layer.gamma is None else layer.gamma.data
        beta = None if layer.beta is None else layer.beta.data
        if training:
            y, mean, var, saved = batch_norm_train_forward(x, beta, gamma, layer.epsilon,
                                                           layer.axis)
            layer._update_moving_statistics(x, mean, var)
            return y, saved
        y = batch_norm_inference_forward(x, layer.moving_mean.data, layer.moving_variance.data,
                                         beta, gamma, layer.epsilon)[0]
        return y, None

    def backward(self, g, saved, need_dx, grads, at_logits=False):
        layer = self.layer
        k = 0
        gamma_grad = beta_grad = None
        if layer.gamma is not None:
            gamma_grad, k = grads[0], 1
        if layer.beta is not None:
            beta_grad = grads[k]
        dx, dgamma, dbeta = batch_norm_train_backward(g, saved, need_dx, gamma_grad is not None,
                                                      beta_grad is not None)
        xp = _backend.get_backend().xp
        if dgamma is not None:
            xp.copyto(gamma_grad, dgamma)
        if dbeta is not None:
            xp.copyto(beta_grad, dbeta)
        return dx

    def logits(self, saved):
        return None
