"""Layers, with Keras's names, arguments and defaults."""

from kerasette.layers.base import Layer
from kerasette.layers.bidirectional import Bidirectional
from kerasette.layers.convolutional import Conv2D, Convolution2D
from kerasette.layers.convolutional import Conv1D, Convolution1D
from kerasette.layers.convolutional import Conv3D, Convolution3D
from kerasette.layers.conv_transpose import (
    Conv1DTranspose,
    Conv2DTranspose,
    Convolution1DTranspose,
    Convolution2DTranspose,
)
from kerasette.layers.separable_conv import (
    DepthwiseConv2D,
    SeparableConv2D,
    SeparableConvolution2D,
)
from kerasette.layers.core import Activation, Dense, Flatten, Input, InputLayer, Reshape
from kerasette.layers.embedding import Embedding
from kerasette.layers.lambda_layer import Lambda
from kerasette.layers.layer_normalization import LayerNormalization
from kerasette.layers.masking import Masking
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
from kerasette.layers import experimental  # noqa: E402 - tf.keras 2's older path
from kerasette.layers.preprocessing import (
    CategoryEncoding,
    Discretization,
    Hashing,
    Normalization,
    Rescaling,
)
from kerasette.layers.preprocessing import IntegerLookup, StringLookup, TextVectorization
from kerasette.layers.preprocessing.image_preprocessing import (
    CenterCrop,
    RandomBrightness,
    RandomContrast,
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
    Resizing,
)
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
from kerasette.layers.recurrent import GRU, LSTM, SimpleRNN
from kerasette.layers.pooling import (
    AveragePooling1D,
    AvgPool1D,
    GlobalAveragePooling1D,
    GlobalAvgPool1D,
    GlobalMaxPool1D,
    GlobalMaxPooling1D,
    MaxPool1D,
    MaxPooling1D,
)
from kerasette.layers.regularization import Dropout
from kerasette.layers.activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU
from kerasette.layers.regularization import (
    ActivityRegularization,
    AlphaDropout,
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from kerasette.layers.reshaping import Permute
from kerasette.layers import experimental  # keras.layers.experimental.preprocessing
from kerasette.layers.reshaping import ZeroPadding2D
from kerasette.layers.reshaping import Cropping1D, RepeatVector, UpSampling1D, ZeroPadding1D
from kerasette.layers.reshaping import (
    Cropping2D,
    Cropping3D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding3D,
)
from kerasette.layers.pooling import (
    AveragePooling3D,
    AvgPool3D,
    GlobalAveragePooling3D,
    GlobalAvgPool3D,
    GlobalMaxPool3D,
    GlobalMaxPooling3D,
    MaxPool3D,
    MaxPooling3D,
)
from kerasette.layers.time_distributed import TimeDistributed
from kerasette.utils.registry import NameTable

_TABLE = NameTable("layer", "keras.layers")
for _cls in (Activation, AveragePooling2D, BatchNormalization, Conv2D, Dense, Dropout, Flatten,
             GlobalAveragePooling2D, GlobalMaxPooling2D, InputLayer, LayerNormalization,
             MaxPooling2D, Reshape, ZeroPadding2D, Add, Subtract, Multiply, Average, Maximum,
             Minimum, Concatenate, Dot, Lambda):
    _TABLE.register(_cls, _cls.__name__)
for _cls in (Embedding, Masking):
    _TABLE.register(_cls, _cls.__name__)
for _cls in (SimpleRNN, LSTM, GRU, Bidirectional):
    _TABLE.register(_cls, _cls.__name__)
for _cls in (Conv1D, MaxPooling1D, AveragePooling1D, GlobalMaxPooling1D,
             GlobalAveragePooling1D, UpSampling1D, Cropping1D, ZeroPadding1D, RepeatVector,
             TimeDistributed):
    _TABLE.register(_cls, _cls.__name__)
for _alias, _cls in (("Convolution1D", Conv1D), ("MaxPool1D", MaxPooling1D),
                     ("AvgPool1D", AveragePooling1D), ("GlobalAvgPool1D", GlobalAveragePooling1D),
                     ("GlobalMaxPool1D", GlobalMaxPooling1D)):
    _TABLE.register(_cls, _alias)
for _alias, _cls in (("Convolution2D", Conv2D), ("MaxPool2D", MaxPooling2D),
                     ("AvgPool2D", AveragePooling2D), ("GlobalAvgPool2D", GlobalAveragePooling2D),
                     ("GlobalMaxPool2D", GlobalMaxPooling2D)):
    _TABLE.register(_cls, _alias)

for _cls in (ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax, GaussianNoise,
             GaussianDropout, AlphaDropout, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D,
             ActivityRegularization, Permute):
    _TABLE.register(_cls, _cls.__name__)
for _cls in (Conv3D, Conv1DTranspose, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D,
             MaxPooling3D, AveragePooling3D, GlobalAveragePooling3D, GlobalMaxPooling3D,
             Cropping2D, Cropping3D, UpSampling2D, UpSampling3D, ZeroPadding3D):
    _TABLE.register(_cls, _cls.__name__)
for _alias, _cls in (("Convolution3D", Conv3D), ("Convolution1DTranspose", Conv1DTranspose),
                     ("Convolution2DTranspose", Conv2DTranspose),
                     ("SeparableConvolution2D", SeparableConv2D), ("MaxPool3D", MaxPooling3D),
                     ("AvgPool3D", AveragePooling3D), ("GlobalAvgPool3D", GlobalAveragePooling3D),
                     ("GlobalMaxPool3D", GlobalMaxPooling3D)):
    _TABLE.register(_cls, _alias)
for _cls in (Rescaling, Normalization, Discretization, CategoryEncoding, Hashing):
    _TABLE.register(_cls, _cls.__name__)
for _cls in (StringLookup, IntegerLookup, TextVectorization):
    _TABLE.register(_cls, _cls.__name__)
for _cls in (Resizing, CenterCrop, RandomCrop, RandomFlip, RandomRotation, RandomZoom,
             RandomTranslation, RandomContrast, RandomBrightness):
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
    "AveragePooling3D",
    "AvgPool3D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3D",
    "Convolution1DTranspose",
    "Convolution2DTranspose",
    "Convolution3D",
    "Cropping2D",
    "Cropping3D",
    "DepthwiseConv2D",
    "GlobalAveragePooling3D",
    "GlobalAvgPool3D",
    "GlobalMaxPool3D",
    "GlobalMaxPooling3D",
    "MaxPool3D",
    "MaxPooling3D",
    "SeparableConv2D",
    "SeparableConvolution2D",
    "UpSampling2D",
    "UpSampling3D",
    "ZeroPadding3D",
    "ActivityRegularization",
    "AlphaDropout",
    "ELU",
    "GaussianDropout",
    "GaussianNoise",
    "LeakyReLU",
    "PReLU",
    "Permute",
    "ReLU",
    "Softmax",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "ThresholdedReLU",
    "Activation",
    "Add",
    "Average",
    "AveragePooling1D",
    "AveragePooling2D",
    "AvgPool1D",
    "AvgPool2D",
    "BatchNormalization",
    "Bidirectional",
    "CenterCrop",
    "CategoryEncoding",
    "Concatenate",
    "Conv1D",
    "Conv2D",
    "Convolution1D",
    "Cropping1D",
    "Convolution2D",
    "Dense",
    "Discretization",
    "Dot",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRU",
    "Hashing",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAvgPool1D",
    "GlobalMaxPool1D",
    "GlobalMaxPooling1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling2D",
    "Input",
    "LSTM",
    "InputLayer",
    "Lambda",
    "Masking",
    "Layer",
    "LayerNormalization",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "Maximum",
    "Minimum",
    "Multiply",
    "RandomBrightness",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "Normalization",
    "RepeatVector",
    "Rescaling",
    "StringLookup",
    "IntegerLookup",
    "TextVectorization",
    "Reshape",
    "Resizing",
    "SimpleRNN",
    "Subtract",
    "TimeDistributed",
    "UpSampling1D",
    "ZeroPadding1D",
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
