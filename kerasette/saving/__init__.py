"""Serialization: name registries now; model files (HDF5, .keras) later."""

from kerasette.saving.errors import ModelFileError
from kerasette.saving.registry import register_serializable

__all__ = ["ModelFileError", "register_serializable"]
