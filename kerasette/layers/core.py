"""Core layers: InputLayer, Dense, Activation, Flatten, Reshape."""

from __future__ import annotations

import math
import numbers

import numpy as np

from kerasette import activations, constraints, initializers, ops, regularizers
from kerasette.layers.base import Layer, _shape_tuple
from kerasette.layers.node import KerasTensor, Node
from kerasette.ops.nn import (ACTIVATION_KERNELS, FUSED_ACTIVATIONS, LOGIT_ACTIVATIONS,
                              dense_backward, dense_forward)


class InputLayer(Layer):
    """Declares a model's input shape; passes its input through unchanged.

    Args:
        input_shape: shape of one sample, without the batch (tf.keras 2);
            `shape` is Keras 3's spelling.
        batch_size: optional fixed batch size.
        batch_input_shape / batch_shape: full shape with the batch first.
        dtype: the input dtype (default float32).
        name: layer name.
    """

    def __init__(self, input_shape=None, batch_size=None, dtype=None, name=None,
                 batch_input_shape=None, shape=None, batch_shape=None, sparse=False,
                 ragged=False, optional=False, **kwargs):
        if sparse or ragged:
            raise ValueError(f"InputLayer: sparse and ragged inputs are not supported. "
                             f"Received: sparse={sparse}, ragged={ragged}")
        if input_shape is None:
            input_shape = shape
        if input_shape is None and batch_input_shape is None and batch_shape is None:
            raise ValueError("InputLayer needs `input_shape` (or `shape`/`batch_input_shape`).")
        super().__init__(name=name, dtype=dtype, input_shape=input_shape,
                         batch_size=batch_size, batch_input_shape=batch_input_shape,
                         batch_shape=batch_shape, **kwargs)
        self.built = True
        self._build_input_shape = self._batch_input_shape
        # Its own node, with no inputs: the entry point of a layer graph,
        # whose output is the tensor `keras.Input` returns.
        Node(self, None, KerasTensor(self._batch_input_shape, self.dtype, name=self.name))

    @property
    def input_shape(self) -> tuple:
        """The declared shape, batch size included (`None` unless given)."""
        return self._batch_input_shape

    output_shape = input_shape

    def get_config(self):
        return {
            "batch_input_shape": list(self._batch_input_shape),
            "dtype": self.dtype,
            "sparse": False,
            "ragged": False,
            "name": self.name,
        }


# Before the layer graph, `keras.Input` returned a placeholder of this name.
KerasInput = KerasTensor


def Input(shape=None, batch_size=None, name=None, dtype=None, batch_shape=None,
          **kwargs):  # noqa: N802 - Keras's name
    """A symbolic model input of `shape` (one sample, without the batch axis).

    Call layers on it to build a graph, then make a model of the graph with
    `keras.Model(inputs, outputs)`; or start a `Sequential` list with it.

    Args:
        shape: one sample's shape, e.g. `(784,)`; `None` for a size that
            varies.
        batch_size: optional fixed batch size.
        name: the name of the `InputLayer` made for it (and of the tensor).
        dtype: the input's dtype (default float32); a model called on
            integer data for an integer input keeps it integer (`fit`
            still casts each batch to float: a later step).
        batch_shape: the full shape with the batch first, instead of
            `shape` and `batch_size`.

    Returns:
        A `KerasTensor` whose shape has the batch axis first.

    Example:
        >>> import kerasette as keras
        >>> inputs = keras.Input(shape=(4,))
        >>> inputs.shape
        (None, 4)
        >>> outputs = keras.layers.Dense(3)(inputs)
        >>> keras.Model(inputs, outputs).count_params()
        15
        >>> model = keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(3)])
        >>> model.count_params()
        15
    """
    _shape_tuple(shape, "shape", positive=True)  # names Keras 3's argument in messages
    layer = InputLayer(input_shape=shape, batch_size=batch_size, name=name, dtype=dtype,
                       batch_shape=batch_shape, **kwargs)
    return layer._inbound_nodes[0].outputs


def _positive_int(value, what, layer):
    """`int(value)`, or a `ValueError` naming the layer and the argument.

    Strings and floats are refused, not converted: `Dense("10")` or
    `Dense(2.5)` is a mistake better caught than guessed at.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        hint = ""
        if isinstance(value, str) and value.strip().isdigit():
            hint = f" (a string: pass the number {int(value)})"
        raise ValueError(
            f"{layer}: argument `{what}` must be a positive integer. "
            f"Received: {what}={value!r}{hint}"
        )
    return int(value)


class Dense(Layer):
    """A densely connected layer: `activation(inputs @ kernel + bias)`.

    Inputs of rank above 2 are contracted on their last axis. The built-in
    relu, tanh and linear activations are fused with the product into one
    op; softmax and sigmoid run as a separate op whose output keeps the
    logits, so a following cross-entropy takes the stable from-logits path.

    Args:
        units: output width.
        activation: name or callable; `None` means linear.
        use_bias: whether to add a bias.
        kernel_initializer: default `"glorot_uniform"`.
        bias_initializer: default `"zeros"`.
        kernel_regularizer, bias_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints
            (`kerasette.constraints`), applied after each optimizer update.
        activity_regularizer: optional regularizer of the output (its value
            divided by the batch size joins `losses`, as in tf.keras 2).

    Input shape:
        `(batch, ..., input_dim)`.

    Output shape:
        `(batch, ..., units)`.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.Dense(3, activation="relu")
        >>> layer(keras.ops.ones((2, 4))).shape
        (2, 3)
    """

    supports_masking = True  # the mask passes through, as in tf.keras 2

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        kwargs.pop("quantization_config", None)  # Keras 3 key, always null for us
        super().__init__(**kwargs)
        self.units = _positive_int(units, "units", "Dense")
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

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"{self.name}: the last axis of the input must be known. "
                             f"Received input_shape={tuple(input_shape)}")
        self.kernel = self.add_weight("kernel", (in_dim, self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def call(self, inputs):
        if inputs.shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                f"Input of layer {self.name!r} is incompatible with the layer: expected "
                f"the last axis of the input to have size {self.kernel.shape[0]}, but "
                f"received input with shape {inputs.shape}."
            )
        if self._fused is not None:
            out = ops.dense(inputs, self.kernel, self.bias, self._fused)
        else:
            out = self.activation(ops.dense(inputs, self.kernel, self.bias, "linear"))
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(out) / float(out.shape[0]))
        return out

    def _direct_kernel(self):
        """This layer's array kernels for the direct training step
        (training/fast_step.py), or None for an activation without them."""
        if self._fused is not None:
            return _DenseKernel(self, self._fused, None)
        act = _activation_kernels(self.activation)
        return None if act is None else _DenseKernel(self, "linear", act)

    def compute_output_shape(self, input_shape):
        # A built layer reused on another input (a shared layer, a model
        # called on a new graph) must be told here: no data runs through it.
        if self.built and input_shape[-1] is not None and input_shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                f"Input of layer {self.name!r} is incompatible with the layer: expected the "
                f"last axis of the input to have size {self.kernel.shape[0]}, but received "
                f"input with shape {_fmt_shape(input_shape)}."
            )
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
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


def _fused_name(fn):
    """The fused-op name of a built-in activation, else None.

    Softmax and sigmoid stay unfused: their separate op tags its output with
    the logits, which cross-entropy losses then use (tf.keras 2's path).
    """
    try:
        name = activations.serialize(fn)
    except ValueError:
        return None
    if name in FUSED_ACTIVATIONS and name not in LOGIT_ACTIVATIONS and activations.get(name) is fn:
        return name
    return None


def _activation_kernels(fn):
    """`(name, forward, backward)` of a built-in activation as
    `activations.get(name)` gives it (`ops.nn.ACTIVATION_KERNELS`), with
    None kernels for linear; None for any other function."""
    try:
        name = activations.serialize(fn)
    except ValueError:
        return None
    if activations.get(name) is not fn:
        return None
    if name == "linear":
        return name, None, None
    kernels = ACTIVATION_KERNELS.get(name)
    return None if kernels is None else (name,) + kernels


def _dot_for(x2, w):
    """`numpy.dot` where it makes the BLAS call `matmul` makes (2-D
    C-contiguous host operands, no dimension of 1, where the two may pick
    different BLAS routines): the same bits without the generalized-ufunc
    overhead, about 0.4 us of a 1.1 us product on a 20 x 20 matrix; else
    None (the kernels' `matmul`)."""
    if (type(x2) is np.ndarray and x2.flags.c_contiguous and x2.shape[0] > 1
            and min(w.shape) > 1):
        return np.dot
    return None


class _DenseKernel:
    """Dense as array kernels: `ops.nn.dense_forward`/`dense_backward`
    (the fused activation) and, for an unfused one, the activation's
    kernels, as `Dense.call` runs them (see training/fast_step.py)."""

    def __init__(self, layer, fused, act):
        self.layer = layer
        self.fused = fused
        self.act = act
        self.activation = act[0] if act is not None else fused
        self.params = (layer.kernel,) + ((layer.bias,) if layer.bias is not None else ())

    def forward(self, x, training):
        layer = self.layer
        w = layer.kernel.data
        b = None if layer.bias is None else layer.bias.data
        x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
        dot = _dot_for(x2, w)  # the backward's products qualify alike
        a = dense_forward(x2, w, b, self.fused, dot=dot)
        out = a.reshape(x.shape[:-1] + (w.shape[1],)) if x.ndim != 2 else a
        if self.act is None or self.act[1] is None:
            return out, (x, x2, a, out, None, dot)
        y, saved = self.act[1](out)
        return y, (x, x2, a, out, saved, dot)

    def backward(self, g, saved, need_dx, grads, at_logits=False):
        x, x2, a, out, act_saved, dot = saved
        if act_saved is not None and not at_logits:
            g = self.act[2](g, act_saved)
        w = self.layer.kernel.data
        gb = grads[1] if len(grads) > 1 else None
        dx, _, _ = dense_backward(g.reshape(a.shape), x2, w, a, self.fused, need_dx,
                                  grads[0] is not None, gb is not None, gw=grads[0], gb=gb,
                                  dot=dot)
        return None if dx is None else dx.reshape(x.shape)

    def logits(self, saved):
        return saved[3] if self.activation in LOGIT_ACTIVATIONS else None


class _ActivationKernel:
    """An Activation layer's kernels (`ops.nn.ACTIVATION_KERNELS`)."""

    params = ()

    def __init__(self, name, forward, backward):
        self.activation = name
        self._forward, self._backward = forward, backward

    def forward(self, x, training):
        if self._forward is None:
            return x, None
        y, saved = self._forward(x)
        return y, (x, saved)

    def backward(self, g, saved, need_dx, grads, at_logits=False):
        if saved is None or at_logits:
            return g
        return self._backward(g, saved[1])

    def logits(self, saved):
        return saved[0] if self.activation in LOGIT_ACTIVATIONS and saved is not None else None


class _ReshapeKernel:
    """Flatten (channels last) and Reshape: a view forward, a reshape back."""

    params = ()
    activation = None

    def __init__(self, target):
        self.target = target  # the sample shape, or None for flat

    def forward(self, x, training):
        n = x.shape[0]
        if self.target is None:
            y = x.reshape(n, 1) if x.ndim == 1 else x.reshape(n, -1)
        else:
            y = x.reshape((n,) + self.target)
        return y, x.shape

    def backward(self, g, shape, need_dx, grads, at_logits=False):
        return g.reshape(shape) if need_dx else None

    def logits(self, saved):
        return None


class Activation(Layer):
    """Applies an activation function.

    Args:
        activation: name (`"relu"`, ...) or callable.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.Activation("relu")(keras.ops.convert_to_tensor([-1.0, 2.0])).numpy()
        array([0., 2.], dtype=float32)
    """

    supports_masking = True  # the mask passes through, as in tf.keras 2

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def _direct_kernel(self):
        """Array kernels for the direct training step, or None."""
        act = _activation_kernels(self.activation)
        return None if act is None else _ActivationKernel(*act)

    def compute_output_shape(self, input_shape):
        # Elementwise: the shape passes through, known without running a
        # probe batch (which a file's huge input shape would make huge).
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Flatten(Layer):
    """Flattens each sample to one axis: `(batch, ...)` -> `(batch, prod(...))`.

    Args:
        data_format: `"channels_last"` (row-major order) or
            `"channels_first"`: inputs `(batch, channels, ...)` are first
            transposed to channels last, as tf.keras 2 does, so the order of
            the flat features matches a channels-last model's. None means
            `keras.backend.image_data_format()`.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.Flatten()(keras.ops.ones((2, 3, 4))).shape
        (2, 12)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format is None:
            from kerasette import backend as _backend

            data_format = _backend.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError('Flatten: `data_format` must be "channels_last" or '
                             f'"channels_first". Received: data_format={data_format!r}')
        self.data_format = data_format

    def call(self, inputs):
        if inputs.ndim == 1:
            return ops.expand_dims(inputs, 1)
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = ops.transpose(inputs, (0,) + tuple(range(2, inputs.ndim)) + (1,))
        return ops.reshape(inputs, (inputs.shape[0], -1))

    def _direct_kernel(self):
        """Array kernels for the direct training step (channels_last only:
        channels_first transposes first, which is not a reshape)."""
        return _ReshapeKernel(None) if self.data_format == "channels_last" else None

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest))
        return (input_shape[0], size if rest else 1)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes each sample to `target_shape` (one entry may be -1).

    Example:
        >>> import kerasette as keras
        >>> keras.layers.Reshape((2, 3))(keras.ops.ones((4, 6))).shape
        (4, 2, 3)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, numbers.Integral):
            target_shape = (target_shape,)
        dims = (tuple(target_shape) if hasattr(target_shape, "__iter__")
                and not isinstance(target_shape, str) else ())
        if (not dims or any(isinstance(d, bool) or not isinstance(d, numbers.Integral)
                            or d == 0 or d < -1 for d in dims) or dims.count(-1) > 1):
            raise ValueError("Reshape: argument `target_shape` must be a tuple of positive "
                             "sizes with at most one -1 (one sample's shape, without the "
                             f"batch axis). Received: target_shape={target_shape!r}")
        target = tuple(int(d) for d in dims)
        self.target_shape = target

    def build(self, input_shape):
        # An impossible target fails here, naming the layer, when the model
        # is built (and summarised), not later inside NumPy during predict.
        self.compute_output_shape(input_shape)
        super().build(input_shape)

    def call(self, inputs):
        return ops.reshape(inputs, (inputs.shape[0],) + self.target_shape)

    def _direct_kernel(self):
        """Array kernels for the direct training step."""
        return _ReshapeKernel(self.target_shape)

    def compute_output_shape(self, input_shape):
        """The batch-first output shape, with the -1 resolved.

        Raises:
            ValueError: when one sample of `input_shape` cannot take
                `target_shape`: the sizes must multiply to the number of
                values per sample, or divide it when one of them is -1
                (as tf.keras checks).
        """
        target = list(self.target_shape)
        rest = tuple(input_shape)[1:]
        if any(d is None for d in rest):  # unknown until data arrives
            if -1 in target:
                target[target.index(-1)] = None
            return (input_shape[0],) + tuple(target)
        total = math.prod(rest)
        known = math.prod(d for d in target if d != -1)
        if -1 in target and total % known == 0:
            target[target.index(-1)] = total // known
        elif -1 in target or total != known:
            wanted = f"a multiple of {known} values" if -1 in target else f"{known} values"
            raise ValueError(
                f"Reshape {self.name!r} cannot reshape an input of shape "
                f"{_fmt_shape(input_shape)} ({total} values per sample) to "
                f"{self.target_shape} ({wanted}). The sizes of `target_shape` must multiply "
                f"to the {total} values of one sample; one of them may be -1 (inferred).")
        return (input_shape[0],) + tuple(target)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


def _fmt_shape(shape):
    """`(None, 8)` for a shape whose batch size is unknown."""
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


__all__ = ["Activation", "Dense", "Flatten", "Input", "InputLayer", "KerasInput", "KerasTensor",
           "Reshape",
           "_shape_tuple"]
