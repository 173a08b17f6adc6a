"""Serialization: the name registries, and model files (`.h5`, `.keras`, model folders)."""

from kerasette.saving.api import load_model, save_model
from kerasette.saving.errors import ModelFileError
from kerasette.utils.registry import register_serializable

# Keras 3's spelling (`keras.saving.register_keras_serializable`).
register_keras_serializable = register_serializable

__all__ = ["ModelFileError", "load_model", "register_keras_serializable", "register_serializable",
           "save_model"]
