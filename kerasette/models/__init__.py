"""Models: `Sequential`, `Model`, and (re)building them from configs."""

from kerasette.models.model import Model
from kerasette.models.sequential import Sequential, model_from_json

__all__ = ["Model", "Sequential", "model_from_json"]
