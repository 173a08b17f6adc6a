"""Serialization: name registries now; model files (HDF5, .keras) later."""

from kerasette.saving.api import load_model, save_model
from kerasette.saving.errors import ModelFileError
from kerasette.saving.registry import register_serializable

__all__ = ["ModelFileError", "load_model", "register_serializable", "save_model"]
