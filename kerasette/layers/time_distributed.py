"""TimeDistributed: one layer applied to every time step."""

from __future__ import annotations

import inspect

from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.base import Layer, _accepts
from kerasette.utils.registry import model_class


def _check_rank(layer, shape):
    if len(shape) < 3:
        raise ValueError(
            f"Input 0 of layer {layer.name!r} is incompatible with the layer: `TimeDistributed` "
            f"needs an input of at least 3 dimensions (batch, time, ...), but received an "
            f"input of shape {tuple(shape)}."
        )


def _fold(a, b):
    """The size of two axes folded into one (`None` if either is unknown)."""
    return None if a is None or b is None else a * b


def layer_entry(layer) -> dict:
    """The nested `{"module", "class_name", "config", "registered_name"}`
    entry of a wrapped layer, as tf.keras 2's `serialize_keras_object`
    writes it (`kerasette.layers.deserialize` reads it back)."""
    from kerasette import layers as layers_module  # the package imports this module

    cls = type(layer)
    builtin = getattr(layers_module, cls.__name__, None) is cls
    registered = getattr(cls, "_registered_name", None)
    return {"module": "keras.layers" if builtin else cls.__module__,
            "class_name": cls.__name__, "config": layer.get_config(),
            "registered_name": None if builtin else registered or cls.__name__}


def layer_from_entry(entry, custom_objects=None):
    """The layer (or model) a nested entry describes."""
    from kerasette import layers as layers_module

    if not isinstance(entry, dict) or "class_name" not in entry:
        raise ValueError("TimeDistributed: the config's `layer` must be a layer config dict "
                         f"with 'class_name' and 'config'. Received: {entry!r}")
    name = entry.get("registered_name") or entry["class_name"]
    cls = model_class(name.removeprefix("keras>")) if isinstance(name, str) else None
    if cls is not None:
        return cls.from_config(dict(entry.get("config") or {}), custom_objects=custom_objects)
    return layers_module.deserialize(entry, custom_objects=custom_objects)


class TimeDistributed(Layer):
    """Applies `layer` to every time step of a `(batch, time, ...)` input.

    The time axis is folded into the batch (`(batch * time, ...)`), the
    wrapped layer runs once on that, and the result is unfolded, so one set
    of weights serves every step (tf.keras 2's reshape path, which it takes
    for its built-in layers). Weights belong to the wrapped layer; when this
    wrapper builds it they are named `time_distributed/kernel:0`, as in
    tf.keras 2, and Keras 3's `.weights.h5` keeps them under
    `layers/time_distributed/layer/vars`.

    Args:
        layer: a `Layer` instance.

    Call arguments:
        inputs: `(batch, time, ...)`.
        training: passed on to the wrapped layer.
        mask: optional `(batch, time)` booleans, passed on (folded) to a
            wrapped layer whose `call` takes a mask; the output keeps it.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.TimeDistributed(keras.layers.Dense(4))
        >>> layer(keras.ops.ones((2, 5, 3))).shape
        (2, 5, 4)
        >>> [w.name for w in layer.weights]
        ['time_distributed/kernel:0', 'time_distributed/bias:0']
    """

    supports_masking = True

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with a `Layer` "
                             f"instance. Received: layer={layer!r}")
        super().__init__(**kwargs)
        self.layer = layer
        params = inspect.signature(type(layer).call).parameters
        self._passes_mask = "mask" in params

    def _child_shape(self, input_shape):
        _check_rank(self, input_shape)
        return (_fold(input_shape[0], input_shape[1]),) + tuple(input_shape[2:])

    def build(self, input_shape):
        child = self._child_shape(input_shape)
        if not self.layer.built:
            self.layer._maybe_build(child)
            # tf.keras 2 builds the wrapped layer in the wrapper's name scope:
            # `dense/kernel:0` is `time_distributed/kernel:0` (an LSTM's
            # `lstm/lstm_cell/kernel:0` is `time_distributed/lstm_cell/...`).
            prefix = f"{self.layer.name}/"
            for w in self.layer.weights:
                if w.name.startswith(prefix):
                    w.name = f"{self.name}/{w.name[len(prefix):]}"

    def call(self, inputs, training=None, mask=None):
        shape = inputs.shape
        _check_rank(self, shape)
        batch, steps = shape[0], shape[1]
        kwargs = {}
        if _accepts(type(self.layer), "training"):
            kwargs["training"] = training
        if mask is not None and self._passes_mask:
            if not isinstance(mask, Tensor):
                mask = ops.convert_to_tensor(mask)  # a host mask crosses to the device once
            kwargs["mask"] = ops.reshape(mask, (batch * steps,) + tuple(mask.shape[2:]))
        out = self.layer(ops.reshape(inputs, (batch * steps,) + tuple(shape[2:])), **kwargs)
        return ops.reshape(out, (batch, steps) + tuple(out.shape[1:]))

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((input_shape[0],) + tuple(
            self._child_shape(input_shape)[1:]))
        return (inner[0], input_shape[1]) + tuple(inner[1:])

    def compute_mask(self, inputs, mask=None):
        return mask

    def _v3_weight_groups(self):
        """`(path, name, weights)` of the `vars` groups in Keras 3's
        `.weights.h5`: an empty one of its own, and the wrapped layer's under
        the attribute that holds it (`time_distributed/layer/vars`)."""
        inner = getattr(self.layer, "_v3_weight_groups", None)
        groups = inner() if inner is not None else [((), self.layer.name, self.layer.weights)]
        return [((), self.name, [])] + [(("layer",) + path, name, weights)
                                        for path, name, weights in groups]

    def keras3_config(self, config, entry):
        """Keras 3's config: the wrapped layer as a Keras 3 entry (`entry`)."""
        config["layer"] = entry(self.layer)
        return config

    def get_config(self):
        config = super().get_config()
        config["layer"] = layer_entry(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        layer = layer_from_entry(config.pop("layer", None), custom_objects)
        return cls(layer, **config)

    def __repr__(self):
        return f"<TimeDistributed name={self.name}, layer={self.layer!r}>"

