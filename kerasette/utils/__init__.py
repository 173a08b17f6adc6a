"""Utilities: seeding, batch datasets, labels, downloads, plots, naming."""

from kerasette.preprocessing.sequence import pad_sequences  # tf.keras 2 exports it here too
from kerasette.preprocessing.image_utils import (  # tf.keras 2 exports them here too
    array_to_img,
    img_to_array,
    load_img,
    save_img,
)
from kerasette.utils.file_utils import get_file
from kerasette.utils import np_utils  # tf.keras 2's keras.utils.np_utils
from kerasette.utils.image_dataset import image_dataset_from_directory
from kerasette.utils.text_dataset import text_dataset_from_directory
from kerasette.utils.numerical import normalize, to_categorical
from kerasette.utils.plotting import plot_history
from kerasette.utils.random import set_random_seed
from kerasette.utils.registry import register_serializable
from kerasette.utils.sequence import PyDataset, Sequence
from kerasette.utils.timeseries import timeseries_dataset_from_array

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
    "timeseries_dataset_from_array",
    "PyDataset",
    "Sequence",
    "array_to_img",
    "get_file",
    "image_dataset_from_directory",
    "img_to_array",
    "load_img",
    "model_to_dot",
    "normalize",
    "pad_sequences",
    "plot_history",
    "plot_model",
    "register_keras_serializable",
    "save_img",
    "set_random_seed",
    "text_dataset_from_directory",
    "to_categorical",
]
