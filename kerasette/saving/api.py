"""`model.save` and `load_model`: choosing the format of a model file."""

from __future__ import annotations

import os

from kerasette.saving.errors import ModelFileError

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK\x03\x04"


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """Saves a model: `.h5`/`.hdf5` in tf.keras 2's format (which Keras 3
    also reads), `.keras` in Keras 3's zip format.

    Raises:
        ValueError: for another extension.
        FileExistsError: when the file exists and `overwrite=False`.
    """
    path = os.fspath(filepath)
    lower = path.lower()
    if not lower.endswith((".h5", ".hdf5", ".keras")):
        raise ValueError(
            f"Unsupported file extension for model.save: {path!r}. Use '.h5' or '.hdf5' "
            "(tf.keras 2's format, which Keras 3 also loads) or '.keras' (Keras 3's format)."
        )
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False.")
    if lower.endswith(".keras"):
        from kerasette.saving.keras_zip import save_model_keras

        save_model_keras(model, path, include_optimizer=include_optimizer)
    else:
        from kerasette.saving.h5_model import save_model_h5

        save_model_h5(model, path, include_optimizer=include_optimizer)


def _file_kind(path):
    with open(path, "rb") as f:
        head = f.read(8)
        if head.startswith(_ZIP_MAGIC):
            return "keras"
        for offset in (0, 512, 1024, 2048):  # HDF5 allows a user block before it
            f.seek(offset)
            if f.read(8) == _HDF5_MAGIC:
                return "h5"
    return None


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved by kerasette, tf.keras 2 or Keras 3.

    Reads full-model `.h5` files of both Keras dialects and `.keras` zips,
    and restores the compiled state (optimizer with its hyper-parameters
    and, where the file holds them, its slots and step count; loss;
    metrics) unless `compile=False`. Nothing in the file is executed.

    Args:
        filepath: path of the file.
        custom_objects: `{name: class or function}` for user layers,
            losses, metrics and activations named in the file.
        compile: restore the compiled state.
        safe_mode: kept for Keras compatibility; kerasette never runs
            code from a file either way.

    Raises:
        kerasette.saving.ModelFileError: naming the file and the problem.

    Example:
        >>> import kerasette as keras
        >>> m = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
        >>> m.save("doc_model.h5")
        >>> keras.models.load_model("doc_model.h5").count_params()
        3
    """
    path = os.fspath(filepath)
    if os.path.isdir(path):
        raise ModelFileError(path, "is a folder (a TensorFlow SavedModel?); kerasette reads "
                                   ".h5 and .keras files.")
    if not os.path.exists(path):
        raise ModelFileError(path, "no such file.")
    try:
        kind = _file_kind(path)
    except OSError as err:  # unreadable (permissions), vanished meanwhile...
        raise ModelFileError(path, f"cannot be read ({err}).") from err
    if kind == "keras":
        from kerasette.saving.keras_zip import load_model_keras

        return load_model_keras(path, custom_objects=custom_objects, compile=compile,
                                safe_mode=safe_mode)
    if kind == "h5":
        from kerasette.saving.h5_model import load_model_h5

        return load_model_h5(path, custom_objects=custom_objects, compile=compile,
                             safe_mode=safe_mode)
    raise ModelFileError(path, "is neither an HDF5 (.h5) file nor a .keras zip.")
