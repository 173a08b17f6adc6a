"""`Bidirectional`: runs a recurrent layer forwards and backwards and merges."""

from __future__ import annotations

from kerasette import ops
from kerasette.layers.base import Layer
from kerasette.layers.recurrent import Recurrent, fold_initial_state, split_initial_state

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _removeprefix(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


def _serialize(layer) -> dict:
    return {"module": "keras.layers", "class_name": type(layer).__name__,
            "config": layer.get_config(), "registered_name": None}


def _copy(layer, name, go_backwards=None, dtype=None):
    """A fresh layer of `layer`'s class and config, renamed (no weights or
    state carried over, as Keras recreates it)."""
    config = dict(layer.get_config(), name=name)
    config.pop("batch_input_shape", None)
    if dtype is not None:
        config["dtype"] = dtype
    if go_backwards is not None:
        config["go_backwards"] = go_backwards
    return type(layer).from_config(config)


class Bidirectional(Layer):
    """Runs `layer` over the sequence forwards and a copy of it backwards,
    then merges their outputs, as tf.keras 2.

    The backward copy processes the steps from the last to the first; with
    `return_sequences=True` its sequence is reversed back before merging,
    so step `t` of the output sees the whole sequence.

    Args:
        layer: a `SimpleRNN`, `LSTM` or `GRU` (its config is copied into a
            `forward_<name>` layer; the instance itself is not run).
        merge_mode: `"concat"` (default), `"sum"`, `"mul"`, `"ave"`, or
            `None` for the list `[forward, backward]`.
        weights: optional initial weights (forward's, then backward's).
        backward_layer: optional layer for the backward direction (its
            `go_backwards` must differ from `layer`'s); default: a copy
            of `layer` with `go_backwards` flipped.

    Call arguments:
        inputs: `(batch, timesteps, features)`.
        mask: optional bool `(batch, timesteps)`, given to both layers.
        training: whether dropout applies.
        initial_state: the forward layer's states, then the backward's.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.Bidirectional(keras.layers.LSTM(4))
        >>> layer(keras.ops.ones((2, 5, 3))).shape
        (2, 8)
        >>> [w.name for w in layer.weights][:1]
        ['bidirectional/forward_lstm/lstm_cell/kernel:0']
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        for what, value in (("layer", layer), ("backward_layer", backward_layer)):
            if value is not None and not isinstance(value, Recurrent):
                raise ValueError(f"Bidirectional: argument `{what}` must be a SimpleRNN, LSTM "
                                 f"or GRU layer instance. Received: {what}={value!r}")
        if layer is None:
            raise ValueError("Bidirectional: argument `layer` is required (a SimpleRNN, LSTM "
                             "or GRU layer instance).")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Bidirectional: argument `merge_mode` must be one of "
                             f"{list(MERGE_MODES)}. Received: merge_mode={merge_mode!r}")
        kwargs.setdefault("trainable", layer.trainable)
        super().__init__(**kwargs)
        self._template = layer  # not run, not tracked: the two copies are
        self._backward_layer_config = None
        if backward_layer is not None:  # kept as given, for tf.keras 2's config
            self._backward_layer_config = _serialize(backward_layer)
        base = _removeprefix(layer.name, "forward_")
        # A dtype given to the wrapper is the copies' dtype (float64 checks).
        dtype = kwargs.get("dtype")
        self.forward_layer = _copy(layer, f"forward_{base}", dtype=dtype)
        if backward_layer is None:
            self.backward_layer = _copy(layer, f"backward_{base}", dtype=dtype,
                                        go_backwards=not layer.go_backwards)
        else:
            backward_layer.name = f"backward_{_removeprefix(backward_layer.name, 'backward_')}"
            self.backward_layer = backward_layer
        fw, bw = self.forward_layer, self.backward_layer
        if fw.go_backwards == bw.go_backwards:
            raise ValueError("Bidirectional: the forward and backward layers must have "
                             f"different `go_backwards` values. Received: {fw.go_backwards} "
                             "for both.")
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(fw, attr) != getattr(bw, attr):
                raise ValueError(f"Bidirectional: the forward and backward layers must have "
                                 f"the same `{attr}`. Received: {getattr(fw, attr)} (forward) "
                                 f"and {getattr(bw, attr)} (backward).")
        # A masked step's output is zeros in the sequences the two merge (Keras).
        fw.zero_output_for_mask = bw.zero_output_for_mask = fw.return_sequences
        self.merge_mode = merge_mode
        self.stateful = fw.stateful
        self.return_sequences = fw.return_sequences
        self.return_state = fw.return_state
        self._initial_weights = weights

    @property
    def layer(self):
        """The layer given to the constructor (a template; not run)."""
        return self._template

    def build(self, input_shape):
        for sub in (self.forward_layer, self.backward_layer):
            sub._maybe_build(input_shape)
            for v in sub.weights:  # tf.keras 2's names: bidirectional/forward_lstm/...
                if not v.name.startswith(f"{self.name}/"):
                    v.name = f"{self.name}/{v.name}"
        if self._initial_weights:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def reset_states(self, states=None):
        """Resets both layers' states (a stateful layer): zeros, or
        `states`, the forward layer's then the backward's."""
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
            return
        states = list(states)
        half = len(states) // 2
        self.forward_layer.reset_states(states[:half])
        self.backward_layer.reset_states(states[half:])

    def _v3_weight_groups(self):
        groups = [((), self.name, [])]
        for key, sub in (("forward_layer", self.forward_layer),
                         ("backward_layer", self.backward_layer)):
            groups += [((key,) + path, name, weights)
                       for path, name, weights in sub._v3_weight_groups()]
        return groups

    def __call__(self, inputs, training=None, initial_state=None, **kwargs):
        return super().__call__(fold_initial_state(self, inputs, initial_state),
                                training=training, **kwargs)

    def keras3_call_arguments(self, inputs, kwargs):
        """Keras 3's call record: `[x]` and `initial_state=` by keyword."""
        return split_initial_state(inputs, kwargs)

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if isinstance(inputs, (list, tuple)):  # [x] + initial states
            inputs, initial_state = inputs[0], list(inputs[1:]) or initial_state
        if isinstance(mask, (list, tuple)):  # one per input: the sequence's counts
            mask = mask[0]
        forward_state = backward_state = None
        if initial_state is not None:
            states = list(initial_state)
            n = self.forward_layer._n_states
            if len(states) != 2 * n:
                raise ValueError(
                    f"Layer {self.name!r} (Bidirectional) expects {2 * n} initial states "
                    f"(the forward layer's {n}, then the backward layer's), but received "
                    f"{len(states)}.")
            forward_state, backward_state = states[:n], states[n:]
        y = self.forward_layer(inputs, training=training, mask=mask, initial_state=forward_state)
        y_rev = self.backward_layer(inputs, training=training, mask=mask,
                                    initial_state=backward_state)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = ops.getitem(y_rev, (slice(None), slice(None, None, -1)))
        if self.merge_mode == "concat":
            output = [ops.concatenate([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            output = [y + y_rev]
        elif self.merge_mode == "ave":
            output = [(y + y_rev) * 0.5]
        elif self.merge_mode == "mul":
            output = [y * y_rev]
        else:
            output = [y, y_rev]
        if self.return_state or self.merge_mode is None:
            return output + states
        return output[0]

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        if self.merge_mode == "concat":
            outputs = [tuple(shape[:-1]) + (2 * shape[-1],)]
        elif self.merge_mode is None:
            outputs = [tuple(shape), tuple(shape)]
        else:
            outputs = [tuple(shape)]
        if self.return_state or self.merge_mode is None:
            return outputs + states + states
        return outputs[0]

    def compute_mask(self, inputs, mask=None):
        """As tf.keras 2: the input's mask for sequences (one per output
        with `merge_mode=None`), None for vectors and states."""
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        outputs = [out, out] if self.merge_mode is None else [out]
        if self.return_state:
            return outputs + [None] * (2 * self.forward_layer._n_states)
        return outputs if self.merge_mode is None else out

    def get_config(self):
        """tf.keras 2's keys: `layer` (the template), `merge_mode`, and
        `backward_layer` only when one was given."""
        config = super().get_config()
        config["layer"] = _serialize(self._template)
        config["merge_mode"] = self.merge_mode
        if self._backward_layer_config is not None:
            config["backward_layer"] = self._backward_layer_config
        return config

    def keras3_config(self, config, layer_entry):
        """Keras 3's keys: `layer` is the forward layer, and the backward
        layer is always stored, each as a full Keras 3 entry."""
        config = {k: v for k, v in config.items() if k not in ("layer", "backward_layer")}
        config["layer"] = layer_entry(self.forward_layer)
        config["backward_layer"] = layer_entry(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from kerasette.layers import deserialize  # the name table lives there

        config = dict(config)
        config["layer"] = deserialize(config["layer"], custom_objects=custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize(config["backward_layer"],
                                                   custom_objects=custom_objects)
        config.pop("num_constants", None)
        return cls(**config)


__all__ = ["Bidirectional"]
