"""Recurrent layers: `SimpleRNN`, `LSTM` and `GRU`, with tf.keras 2's API.

Each layer owns its three weights in Keras's layouts (`kernel`,
`recurrent_kernel`, `bias`, named `lstm/lstm_cell/kernel:0` as tf.keras 2
names them, so files and optimizer slots match) and runs the whole sequence
through one fused op of `kerasette.ops.rnn`, which returns the output
sequence and the final states packed in one tensor `Z`: `Z[:, :T]` the
outputs in processing order, `Z[:, T]` the final `h`, and for LSTM
`Z[:, T+1]` the final `c`. The layer slices that with differentiable ops.

Dropout follows tf.keras 2's `implementation=2`: one input mask `(B, 1, F)`
and one recurrent mask `(B, U)` drawn per call (per sequence) from the
backend's seeded generator, used only when `training=True`.

`initial_state` given to a call joins the layer's inputs (`[x, h0, c0]`), as
tf.keras 2 does, so that a functional model records the states as the
layer's inputs (an encoder's states feeding a decoder).
"""

from __future__ import annotations

import numbers

from kerasette import activations, constraints, initializers, ops, regularizers
from kerasette import backend as _backend
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.base import Layer
from kerasette.layers.core import _positive_int
from kerasette.layers.node import is_symbolic
from kerasette.ops import rnn

# The activations the fused ops implement (their names in `activations`).
OP_ACTIVATIONS = ("tanh", "sigmoid", "hard_sigmoid", "relu", "linear")


def _op_activation(value, what, cls_name):
    """The name of a built-in activation the fused op runs, or a ValueError."""
    fn = activations.get(value)
    try:
        name = activations.serialize(fn)
    except ValueError:
        name = None
    if name not in OP_ACTIVATIONS or activations.get(name) is not fn:
        raise ValueError(
            f"{cls_name}: argument `{what}` must be one of {list(OP_ACTIVATIONS)} (the "
            f"activations the fused recurrence implements). Received: {what}={value!r}")
    return name


def _rate(value, what, cls_name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value < 1:
        raise ValueError(f"{cls_name}: argument `{what}` must be a number in [0, 1) (the "
                         f"fraction of units to drop). Received: {what}={value!r}")
    return float(value)


class Recurrent(Layer):
    """What SimpleRNN, LSTM and GRU share: arguments, states, masks, dropout.

    Not a public layer (kerasette has no user-defined cells); the three
    subclasses set `_op` (the fused op's name), `_gates` (blocks in the
    kernel), `_n_states` and `_cell_name`.
    """

    _op = None
    _gates = 1
    _n_states = 1
    _cell_name = None
    supports_masking = True

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, time_major=False,
                 zero_output_for_mask=False, seed=None, **kwargs):
        cls_name = type(self).__name__
        kwargs.pop("use_cudnn", None)  # Keras 3: a device choice, not a computation
        super().__init__(**kwargs)
        if time_major:
            raise ValueError(f"{cls_name}: only batch-major inputs (batch, timesteps, features) "
                             "are supported. Received: time_major=True")
        self.units = _positive_int(units, "units", cls_name)
        self.activation = activations.get(activation)
        self._activation_name = _op_activation(activation, "activation", cls_name)
        self.recurrent_activation = activations.get(recurrent_activation)
        self._recurrent_activation_name = _op_activation(
            recurrent_activation, "recurrent_activation", cls_name)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.dropout = _rate(dropout, "dropout", cls_name)
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout", cls_name)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.time_major = False
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.seed = seed
        self._states = None  # stateful: the device arrays carried between calls
        self._stateful_batch = None

    # -- weights ---------------------------------------------------------------------
    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        shape = _sequence_shape(self, input_shape)
        features = shape[-1]
        width = self._gates * self.units
        self.kernel = self._cell_weight("kernel", (features, width), self.kernel_initializer,
                                        self.kernel_regularizer, self.kernel_constraint)
        self.recurrent_kernel = self._cell_weight(
            "recurrent_kernel", (self.units, width), self.recurrent_initializer,
            self.recurrent_regularizer, self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self._cell_weight("bias", self._bias_shape(), self._bias_initializer(),
                                          self.bias_regularizer, self.bias_constraint)
        if self.stateful:
            self._batch_size_for_states(shape)
            self.reset_states()

    def _cell_weight(self, name, shape, initializer, regularizer, constraint=None):
        var = self.add_weight(name, shape, initializer=initializer, regularizer=regularizer,
                              constraint=constraint)
        # tf.keras 2's names, which files and optimizer slots carry.
        var.name = f"{self.name}/{self._cell_name}/{name}:0"
        return var

    def _v3_weight_groups(self):
        """Keras 3's `.weights.h5` groups of this layer: `(path, name,
        weights)`, the layer's own empty `vars` and its cell's."""
        return [((), self.name, []), (("cell",), self._cell_name, self.weights)]

    # -- states ----------------------------------------------------------------------
    def _batch_size_for_states(self, shape):
        batch = shape[0] if shape[0] is not None else (self._batch_input_shape or (None,))[0]
        if batch is None:
            raise ValueError(
                f"Layer {self.name!r} is stateful, so it needs to know its batch size. Give "
                "the first layer of a Sequential model `batch_input_shape=(batch, timesteps, "
                "features)` (or `batch_size=` with `input_shape=`), or give keras.Input "
                f"`batch_size=`. Received input_shape={tuple(shape)}")
        self._stateful_batch = int(batch)
        return self._stateful_batch

    @property
    def states(self):
        """The carried states of a stateful layer (tensors), else None."""
        if self._states is None:
            return None
        return [Tensor(s) for s in self._states]

    def reset_states(self, states=None):
        """Resets a stateful layer's states to zeros, or to `states`.

        Args:
            states: optional array or list of arrays, each `(batch, units)`.

        Raises:
            AttributeError: if the layer is not stateful.
            ValueError: for states of the wrong number or shape.
        """
        if not self.stateful:
            raise AttributeError(f"Layer {self.name!r} must be stateful (stateful=True) to "
                                 "reset its states.")
        if self._stateful_batch is None:  # set by build
            raise ValueError(f"Layer {self.name!r} is not built yet: call it on data (or "
                             "build it) before resetting its states.")
        shape = (self._stateful_batch, self.units)
        if states is None:
            self._states = [ops.zeros(shape, dtype=self.dtype).data
                            for _ in range(self._n_states)]
            return
        states = list(states) if isinstance(states, (list, tuple)) else [states]
        if len(states) != self._n_states:
            raise ValueError(f"Layer {self.name!r} expects {self._n_states} state(s), but "
                             f"reset_states received {len(states)}.")
        values = []
        for i, s in enumerate(states):
            t = ops.convert_to_tensor(s, dtype=self.dtype)
            if tuple(t.shape) != shape:
                raise ValueError(f"Layer {self.name!r}: state {i} must have shape {shape}. "
                                 f"Received shape {tuple(t.shape)}.")
            values.append(t.data.copy())
        self._states = values

    # -- calling ---------------------------------------------------------------------
    def __call__(self, inputs, training=None, initial_state=None, **kwargs):
        return super().__call__(fold_initial_state(self, inputs, initial_state),
                                training=training, **kwargs)

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if isinstance(inputs, (list, tuple)):  # [x] + initial states
            inputs, initial_state = inputs[0], list(inputs[1:]) or initial_state
        if isinstance(mask, (list, tuple)):  # one per input: the sequence's counts
            mask = mask[0]
        x = inputs
        _check_sequence(self, x)
        if mask is not None:
            mask = _mask_tensor(self, mask, x)
        states = self._initial_states(x, initial_state)
        if training and self.dropout > 0:
            x = ops.dropout(x, self.dropout, noise_shape=(None, 1, None))
        rec_mask = None
        if training and self.recurrent_dropout > 0:
            rec_mask = _dropout_mask((x.shape[0], self.units), self.recurrent_dropout, x.dtype)
        packed = self._run(x, states, mask, rec_mask)
        steps = x.shape[1]
        if self.return_sequences:
            output = ops.getitem(packed, (slice(None), slice(0, steps)))
        else:
            output = ops.getitem(packed, (slice(None), steps - 1))
        final = [ops.getitem(packed, (slice(None), steps + i)) for i in range(self._n_states)]
        if self.stateful:
            self._states = [s.data.copy() for s in final]  # no gradient across batches
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(output) / float(x.shape[0]))
        if self.return_state:
            return [output] + final
        return output

    def _run(self, x, states, mask, rec_mask):
        fn = getattr(rnn, self._op)
        kwargs = dict(initial_state=states, mask=mask, go_backwards=self.go_backwards,
                      activation=self._activation_name, recurrent_dropout_mask=rec_mask,
                      zero_output_for_mask=self.zero_output_for_mask)
        kwargs.update(self._op_kwargs())
        return fn(x, self.kernel, self.recurrent_kernel, self.bias, **kwargs)

    def _op_kwargs(self):
        return {"recurrent_activation": self._recurrent_activation_name}

    def _initial_states(self, x, given):
        batch = x.shape[0]
        if given is not None:
            given = list(given) if isinstance(given, (list, tuple)) else [given]
            if len(given) != self._n_states:
                raise ValueError(
                    f"Layer {self.name!r} ({type(self).__name__}) expects {self._n_states} "
                    f"initial state(s), but received {len(given)}.")
            out = []
            for i, s in enumerate(given):
                s = ops.convert_to_tensor(s, dtype=x.dtype)
                if tuple(s.shape) != (batch, self.units):
                    raise ValueError(
                        f"Layer {self.name!r}: initial state {i} must have shape "
                        f"{(batch, self.units)} (batch, units). Received shape {s.shape}.")
                out.append(s)
            return out
        if self.stateful:
            if batch != self._stateful_batch:
                raise ValueError(
                    f"Layer {self.name!r} is stateful with batch size {self._stateful_batch}, "
                    f"but received a batch of {batch}. Feed batches of exactly that size "
                    "(and shuffle=False), or rebuild the layer.")
            return [Tensor(s.astype(x.dtype) if s.dtype != x.dtype else s)
                    for s in self._states]
        return None

    def keras3_call_arguments(self, inputs, kwargs):
        """How Keras 3 records a call in a graph: `[x]` and `initial_state=`
        by keyword (kerasette, as tf.keras 2, folds the states into the
        inputs)."""
        return split_initial_state(inputs, kwargs)

    # -- shapes and masks ------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        shape = _sequence_shape(self, _first_shape(input_shape))
        if self.built and shape[-1] is not None and shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                f"Input of layer {self.name!r} is incompatible with the layer: expected the "
                f"last axis of the input to have size {self.kernel.shape[0]}, but received "
                f"input with shape {shape}.")
        batch = shape[0]
        out = (batch, shape[1], self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [out] + [(batch, self.units)] * self._n_states
        return out

    def compute_mask(self, inputs, mask=None):
        """The output's mask: the input's for `return_sequences=True`, else
        None (and None for each returned state)."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * self._n_states
        return out

    # -- config ----------------------------------------------------------------------
    def get_config(self):
        """tf.keras 2's keys (with `time_major: false`)."""
        config = super().get_config()
        config.update({
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "time_major": False,
            "units": self.units,
            "activation": self._activation_name,
        })
        config.update(self._activation_configs())
        config.update({
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
        })
        config.update(self._bias_configs())
        config.update({
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        })
        config.update(self._extra_configs())
        return config

    def _activation_configs(self):
        return {"recurrent_activation": self._recurrent_activation_name}

    def _bias_configs(self):
        return {}

    def _extra_configs(self):
        return {"implementation": self.implementation}

    def keras3_config(self, config, layer_entry=None):
        """Keras 3's keys from `config` (already in Keras 3's dtype form):
        no `time_major`/`implementation`; `zero_output_for_mask`, `seed`."""
        del layer_entry
        config = dict(config)
        config.pop("time_major", None)
        config.pop("implementation", None)
        config["zero_output_for_mask"] = self.zero_output_for_mask
        config.setdefault("activity_regularizer",
                          regularizers.serialize(self.activity_regularizer))
        if self._op != "simple_rnn":
            config["seed"] = self.seed
        return config


class SimpleRNN(Recurrent):
    """A fully connected recurrence: `h_t = activation(x_t W + h_{t-1} U + b)`.

    Args:
        units: width of the state and output.
        activation: `"tanh"` (default), `"relu"`, `"sigmoid"`,
            `"hard_sigmoid"` or `"linear"`/None.
        use_bias: whether to add a bias.
        kernel_initializer / recurrent_initializer / bias_initializer:
            defaults `"glorot_uniform"`, `"orthogonal"`, `"zeros"`.
        kernel_regularizer / recurrent_regularizer / bias_regularizer /
            activity_regularizer: optional regularizers.
        kernel_constraint / recurrent_constraint / bias_constraint: optional
            constraints (`kerasette.constraints`), applied after each update.
        dropout / recurrent_dropout: fractions of the inputs / of the state
            dropped in training, one mask per sequence.
        return_sequences: return every step's output `(B, T, units)`
            rather than the last `(B, units)`.
        return_state: also return the final state: `[output, h]`.
        go_backwards: process the sequence from its end (the returned
            sequence is then in that reversed order, as in Keras).
        stateful: carry the final state of each batch into the next
            (needs a fixed batch size); `reset_states()` zeroes it.
        unroll: accepted for compatibility; it has no effect (the fused
            op always loops over time).
        time_major: only `False` is supported.

    Call arguments:
        inputs: `(batch, timesteps, features)`.
        mask: optional bool `(batch, timesteps)`; masked steps carry the
            previous state and output over.
        training: whether dropout applies.
        initial_state: optional list of one `(batch, units)` tensor.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.SimpleRNN(4)
        >>> layer(keras.ops.ones((2, 5, 3))).shape
        (2, 4)
    """

    _op = "simple_rnn"
    _cell_name = "simple_rnn_cell"

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        kwargs.pop("implementation", None)  # tf.keras 2 accepts and drops it too
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)

    def _op_kwargs(self):
        return {}

    def _activation_configs(self):
        return {}

    def _extra_configs(self):
        return {}


class LSTM(Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), as tf.keras 2.

    Gate blocks along the kernels' last axis: input, forget, cell, output
    (`i, f, c, o`); `c_t = f * c_{t-1} + i * activation(...)`,
    `h_t = o * activation(c_t)`.

    Args:
        units: width of the state and output.
        activation: default `"tanh"`.
        recurrent_activation: of the gates, default `"sigmoid"`.
        unit_forget_bias: start the forget gate's bias at 1 (the bias
            initializer fills the other blocks), as Keras.
        implementation: accepted (1 or 2); the computation is the same.
        others: as `SimpleRNN` (`return_state` returns `[output, h, c]`;
            `initial_state` is `[h0, c0]`).

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.LSTM(4, return_sequences=True)
        >>> layer(keras.ops.ones((2, 5, 3))).shape
        (2, 5, 4)
        >>> [w.name for w in layer.weights][0]
        'lstm/lstm_cell/kernel:0'
    """

    _op = "lstm"
    _gates = 4
    _n_states = 2
    _cell_name = "lstm_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias=True, implementation=2, **kwargs):
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.implementation = _implementation(implementation, "LSTM")

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, units = self.bias_initializer, self.units

        def forget_bias_one(shape, dtype=None):
            return ops.concatenate([init((units,), dtype=dtype),
                                    ops.ones((units,), dtype=dtype),
                                    init((2 * units,), dtype=dtype)], axis=0)

        return forget_bias_one

    def _bias_configs(self):
        return {"unit_forget_bias": self.unit_forget_bias}


class GRU(Recurrent):
    """Gated recurrent unit (Cho et al., 2014), as tf.keras 2.

    Gate blocks: update, reset, candidate (`z, r, h`);
    `h_t = z * h_{t-1} + (1 - z) * candidate`. With `reset_after=True`
    (default, the cuDNN-compatible form) the bias is `(2, 3 * units)`, an
    input row and a recurrent row, and the reset gate multiplies
    `h_{t-1} U_h + b_rh`; with `reset_after=False` the bias is
    `(3 * units,)` and the gate multiplies `h_{t-1}` before `U_h`.

    Args:
        units: width of the state and output.
        reset_after: see above.
        others: as `LSTM` (`initial_state` is `[h0]`).

    Example:
        >>> import kerasette as keras
        >>> out, h = keras.layers.GRU(4, return_state=True)(keras.ops.ones((2, 5, 3)))
        >>> out.shape, h.shape
        ((2, 4), (2, 4))
    """

    _op = "gru"
    _gates = 3
    _cell_name = "gru_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, implementation=2, **kwargs):
        super().__init__(units, activation=activation,
                         recurrent_activation=recurrent_activation, **kwargs)
        self.reset_after = bool(reset_after)
        self.implementation = _implementation(implementation, "GRU")

    def _bias_shape(self):
        if self.reset_after:
            return (2, 3 * self.units)
        return (3 * self.units,)

    def _op_kwargs(self):
        return {"recurrent_activation": self._recurrent_activation_name,
                "reset_after": self.reset_after}

    def _extra_configs(self):
        return {"implementation": self.implementation, "reset_after": self.reset_after}

    def keras3_config(self, config, layer_entry=None):
        config = super().keras3_config(config, layer_entry)
        config["reset_after"] = self.reset_after  # after `seed`, where Keras 3 puts it
        return config


# -- helpers -----------------------------------------------------------------------------
def fold_initial_state(layer, inputs, initial_state):
    """`[inputs] + initial_state` (each converted to a tensor when not
    symbolic), or `inputs` alone without states: the states join the
    inputs, as tf.keras 2 does, so a graph records them as inputs."""
    if initial_state is None:
        return inputs
    states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
    if not is_symbolic(inputs) and not is_symbolic(states):
        inputs = layer._convert_input(inputs)
        states = [ops.convert_to_tensor(s, dtype=layer.dtype) for s in states]
    return [inputs] + states


def split_initial_state(inputs, kwargs):
    """`([x], kwargs with initial_state)` from folded inputs `[x, *states]`."""
    if isinstance(inputs, (list, tuple)) and len(inputs) > 1:
        return [inputs[0]], dict(kwargs, initial_state=list(inputs[1:]))
    return [inputs], kwargs


def _implementation(value, cls_name):
    if value not in (0, 1, 2) or isinstance(value, bool):
        raise ValueError(f"{cls_name}: argument `implementation` must be 1 or 2. "
                         f"Received: implementation={value!r}")
    return int(value)


def _first_shape(shape):
    """The sequence's shape from a shape or a list of them (`[x, h0, c0]`)."""
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return tuple(shape[0])
    return tuple(shape)


def _sequence_shape(layer, shape):
    shape = _first_shape(shape)
    if len(shape) != 3:
        raise ValueError(
            f"Input 0 of layer {layer.name!r} ({type(layer).__name__}) is incompatible with "
            f"the layer: expected ndim=3 (batch, timesteps, features), found ndim="
            f"{len(shape)}. Full shape received: {shape}")
    if shape[-1] is None:
        raise ValueError(f"Layer {layer.name!r}: the last axis (features) of the input must "
                         f"be known. Received input_shape={shape}")
    return shape


def _check_sequence(layer, x):
    _sequence_shape(layer, x.shape)
    if x.shape[-1] != layer.kernel.shape[0]:
        raise ValueError(
            f"Input of layer {layer.name!r} is incompatible with the layer: expected the last "
            f"axis of the input to have size {layer.kernel.shape[0]}, but received input with "
            f"shape {x.shape}.")
    if x.shape[1] == 0:
        raise ValueError(f"Layer {layer.name!r} needs at least one time step. Received input "
                         f"with shape {x.shape}.")


def _mask_tensor(layer, mask, x):
    mask = ops.convert_to_tensor(mask)
    if tuple(mask.shape) != tuple(x.shape[:2]):
        raise ValueError(
            f"Layer {layer.name!r}: `mask` must have shape (batch, timesteps) = "
            f"{tuple(x.shape[:2])}. Received mask with shape {tuple(mask.shape)}.")
    if mask.dtype != "bool":
        mask = ops.not_equal(mask, 0)
    return mask


def _dropout_mask(shape, rate, dtype):
    """An inverted-dropout mask, already scaled by `1 / (1 - rate)`."""
    u = _backend.get_backend().random_uniform(shape, dtype=dtype)
    mask = (u >= rate).astype(dtype)
    mask *= 1.0 / (1.0 - rate)
    return mask


__all__ = ["GRU", "LSTM", "Recurrent", "SimpleRNN"]
