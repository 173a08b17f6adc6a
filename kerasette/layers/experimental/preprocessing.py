"""`keras.layers.experimental.preprocessing.*`: the preprocessing layers
under the names old scripts import them by.

Each name of tf.keras 2's module resolves, on first use, to the layer of
the same name in `kerasette.layers` (one class, two paths). Names are
looked up lazily (PEP 562), so layers added to `kerasette.layers` later are
found too; a name tf.keras 2 has there but kerasette does not implement yet
raises an `AttributeError` that says so.

Example:
    >>> from kerasette.layers.experimental import preprocessing
    >>> import kerasette as keras
    >>> preprocessing.Rescaling is keras.layers.Rescaling
    True
"""

from __future__ import annotations

# tf.keras 2.21's `keras.layers.experimental.preprocessing` (its API golden file).
TF_KERAS_NAMES = (
    "CategoryEncoding", "CenterCrop", "Discretization", "HashedCrossing", "Hashing",
    "IntegerLookup", "Normalization", "PreprocessingLayer", "RandomContrast", "RandomCrop",
    "RandomFlip", "RandomHeight", "RandomRotation", "RandomTranslation", "RandomWidth",
    "RandomZoom", "Rescaling", "Resizing", "StringLookup", "TextVectorization",
)


def _layers():
    import kerasette.layers as layers  # the package imports this module: look up late

    return layers


def _available() -> list:
    layers = _layers()
    return [name for name in TF_KERAS_NAMES if hasattr(layers, name)]


def __getattr__(name):
    if name in TF_KERAS_NAMES:
        layers = _layers()
        if hasattr(layers, name):
            return getattr(layers, name)
        raise AttributeError(
            f"keras.layers.experimental.preprocessing.{name} is not implemented in kerasette "
            f"yet. Available here: {', '.join(_available())}.")
    raise AttributeError(
        f"module 'kerasette.layers.experimental.preprocessing' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_available()))
