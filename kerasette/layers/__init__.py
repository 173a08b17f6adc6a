"""Layers, with Keras's names, arguments and defaults."""

from kerasette.layers.base import Layer
from kerasette.layers.core import Activation, Dense, Flatten, Input, InputLayer, Reshape
from kerasette.layers.normalization import BatchNormalization
from kerasette.layers.regularization import Dropout
from kerasette.saving.registry import NameTable

_TABLE = NameTable("layer", "keras.layers")
for _cls in (Activation, BatchNormalization, Dense, Dropout, Flatten, InputLayer, Reshape):
    _TABLE.register(_cls, _cls.__name__)


def serialize(layer) -> dict:
    """`{"class_name": ..., "config": ...}`, the form legacy `.h5` files use."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config, custom_objects=None):
    """Rebuilds a layer from `serialize` output (tf.keras 2 or Keras 3 form)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A layer config must be a dict with 'class_name' and 'config'. "
                         f"Received: {config!r}")
    cls = _TABLE.lookup(config.get("registered_name") or config["class_name"], custom_objects)
    return cls.from_config(dict(config.get("config") or {}))


__all__ = [
    "Activation",
    "BatchNormalization",
    "Dense",
    "Dropout",
    "Flatten",
    "Input",
    "InputLayer",
    "Layer",
    "Reshape",
    "deserialize",
    "serialize",
]
