"""Define-by-run reverse-mode autodiff: tensors, variables and the tape."""

from kerasette.autodiff.tape import GradientTape
from kerasette.autodiff.tensor import Tensor, Variable

__all__ = ["GradientTape", "Tensor", "Variable"]
