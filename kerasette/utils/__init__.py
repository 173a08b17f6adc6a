"""Utilities: seeding, batch datasets, labels, downloads, plots, naming."""

from kerasette.utils.file_utils import get_file
from kerasette.utils.numerical import normalize, to_categorical
from kerasette.utils.plotting import plot_history
from kerasette.utils.random import set_random_seed
from kerasette.utils.registry import register_serializable
from kerasette.utils.sequence import PyDataset, Sequence

# tf.keras 2's name for `kerasette.saving.register_serializable`.
register_keras_serializable = register_serializable


def __getattr__(name):
    # `plot_model` and `model_to_dot` load on first use (PEP 562): they need
    # pydot, an optional extra, and their module reads the model classes'
    # graphs, so `import kerasette` loads neither.
    if name in ("model_to_dot", "plot_model"):
        from kerasette.utils import vis_utils

        return getattr(vis_utils, name)
    raise AttributeError(f"module 'kerasette.utils' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {"model_to_dot", "plot_model"})

__all__ = [
    "PyDataset",
    "Sequence",
    "get_file",
    "model_to_dot",
    "normalize",
    "plot_history",
    "plot_model",
    "register_keras_serializable",
    "set_random_seed",
    "to_categorical",
]
