"""Preprocessing layers: numeric ones (`Rescaling`, `Normalization`,
`Discretization`) and categorical ones (`CategoryEncoding`, `Hashing`)."""

from kerasette.layers.preprocessing.base import PreprocessingLayer
from kerasette.layers.preprocessing.category_encoding import CategoryEncoding
from kerasette.layers.preprocessing.discretization import Discretization
from kerasette.layers.preprocessing.hashing import Hashing
from kerasette.layers.preprocessing.integer_lookup import IntegerLookup
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
from kerasette.layers.preprocessing.normalization import Normalization
from kerasette.layers.preprocessing.rescaling import Rescaling
from kerasette.layers.preprocessing.string_lookup import StringLookup
from kerasette.layers.preprocessing.text_vectorization import TextVectorization

__all__ = [
    "CategoryEncoding",
    "CenterCrop",
    "RandomBrightness",
    "RandomContrast",
    "RandomCrop",
    "RandomFlip",
    "RandomRotation",
    "RandomTranslation",
    "RandomZoom",
    "Resizing",
    "Discretization",
    "Hashing",
    "IntegerLookup",
    "StringLookup",
    "TextVectorization",
    "Normalization",
    "PreprocessingLayer",
    "Rescaling",
]
