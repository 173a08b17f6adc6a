"""Serialization: name registries now; model files (HDF5, .keras) later."""

from kerasette.saving.registry import register_serializable

__all__ = ["register_serializable"]
