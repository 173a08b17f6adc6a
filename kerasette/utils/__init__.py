"""Utilities: seeding, batch datasets, labels, downloads, plots, naming."""

from kerasette.utils.file_utils import get_file
from kerasette.utils.numerical import normalize, to_categorical
from kerasette.utils.plotting import plot_history
from kerasette.utils.random import set_random_seed
from kerasette.utils.registry import register_serializable
from kerasette.utils.sequence import PyDataset, Sequence

# tf.keras 2's name for `kerasette.saving.register_serializable`.
register_keras_serializable = register_serializable

__all__ = [
    "PyDataset",
    "Sequence",
    "get_file",
    "normalize",
    "plot_history",
    "register_keras_serializable",
    "set_random_seed",
    "to_categorical",
]
