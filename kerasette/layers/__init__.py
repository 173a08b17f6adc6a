"""Layers, with Keras's names, arguments and defaults."""

from kerasette.layers.base import Layer
from kerasette.layers.convolutional import Conv2D, Convolution2D
from kerasette.layers.core import Activation, Dense, Flatten, Input, InputLayer, Reshape
from kerasette.layers.lambda_layer import Lambda
from kerasette.layers.layer_normalization import LayerNormalization
from kerasette.layers.merging import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from kerasette.layers.normalization import BatchNormalization
from kerasette.layers.pooling import (
    AveragePooling2D,
    AvgPool2D,
    GlobalAveragePooling2D,
    GlobalAvgPool2D,
    GlobalMaxPool2D,
    GlobalMaxPooling2D,
    MaxPool2D,
    MaxPooling2D,
)
from kerasette.layers.regularization import Dropout
from kerasette.layers.reshaping import ZeroPadding2D
from kerasette.utils.registry import NameTable

_TABLE = NameTable("layer", "keras.layers")
for _cls in (Activation, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
             GlobalAveragePooling2D, GlobalMaxPooling2D, InputLayer, LayerNormalization,
             MaxPooling2D, Reshape, ZeroPadding2D, Add, Subtract, Multiply, Average, Maximum,
             Minimum, Concatenate, Dot, Lambda):
    _TABLE.register(_cls, _cls.__name__)
for _alias, _cls in (("Convolution2D", Conv2D), ("MaxPool2D", MaxPooling2D),
                     ("AvgPool2D", AveragePooling2D), ("GlobalAvgPool2D", GlobalAveragePooling2D),
                     ("GlobalMaxPool2D", GlobalMaxPooling2D)):
    _TABLE.register(_cls, _alias)


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
    "Add",
    "Average",
    "AveragePooling2D",
    "AvgPool2D",
    "BatchNormalization",
    "Concatenate",
    "Conv2D",
    "Convolution2D",
    "Dense",
    "Dot",
    "Dropout",
    "Flatten",
    "GlobalAveragePooling2D",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling2D",
    "Input",
    "InputLayer",
    "Lambda",
    "Layer",
    "LayerNormalization",
    "MaxPool2D",
    "MaxPooling2D",
    "Maximum",
    "Minimum",
    "Multiply",
    "Reshape",
    "Subtract",
    "ZeroPadding2D",
    "add",
    "average",
    "concatenate",
    "deserialize",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "serialize",
    "subtract",
]
