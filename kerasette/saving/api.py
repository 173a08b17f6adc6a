"""`model.save` and `load_model`: choosing the format of a model file."""

from __future__ import annotations

import os

from kerasette.saving.errors import ModelFileError
from kerasette.saving.sources import open_regular

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGIC = b"PK\x03\x04"


_H5_EXT = (".h5", ".hdf5")
_FORMATS = {"h5": "h5", "hdf5": "h5", "keras": "keras", "keras_v3": "keras", "tf": "dir"}


def save_model(model, filepath, overwrite=True, include_optimizer=True, save_format=None,
               zipped=None):
    """Saves a model; the name (or `save_format`/`zipped`) picks the format.

    * `.h5`/`.hdf5`: tf.keras 2's HDF5 file, which Keras 3 also loads.
    * `.keras`: Keras 3's zip archive.
    * a name without extension (`"IrisModel"`): a folder in Keras 3's format
      unzipped (`config.json`, `metadata.json`, `model.weights.h5`), what
      Keras 3 writes for `save_model(model, path, zipped=False)` and loads
      with `load_model(path)`. tf.keras 2 wrote a TensorFlow SavedModel
      folder there, which needs TensorFlow.

    Every format is written to a temporary name next to the target and
    renamed into place: a failed or killed save leaves the old model
    loadable. A folder replaces only an empty folder or a model folder.
    The new file keeps the old one's permission bits, owner and group
    (where the process may set them) and symbolic links; other hard links
    to the old file keep the old model (the rename gives the name a new
    file; writing in place would lose the guarantee above).

    Args:
        model: the model to save.
        filepath: the file or folder (`str` or `pathlib.Path`).
        overwrite: with `False`, an existing target is an error (Keras asks
            on the console instead).
        include_optimizer: save the compile state and the optimizer's state.
        save_format: tf.keras 2's argument: `"h5"` writes HDF5 whatever the
            name; `"keras"` a `.keras` archive; `"tf"` the model folder
            (kerasette's stand-in for the SavedModel). `None`: from the name.
        zipped: Keras 3's argument: `False` writes the model folder whatever
            the name (but `.keras`, as in Keras 3); `True` a `.keras` archive
            or, for `.h5`, HDF5. `None`: from the name.

    Raises:
        ValueError: for another extension, an unknown `save_format`, or
            arguments that contradict each other or the name.
        FileExistsError: when the target exists and `overwrite=False`, or a
            folder would replace a file or a folder that is not a model's.
        kerasette.saving.atomic.SaveError: an `OSError` (same `errno`) for a
            full disk, an exceeded quota or a file-size limit, naming the
            target; the previous file or folder is unchanged.

    Example:
        >>> import kerasette as keras
        >>> m = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
        >>> m.save("IrisModel")  # a folder, as Keras 3's zipped=False writes
        >>> keras.models.load_model("IrisModel").count_params()
        3
    """
    path = os.fspath(filepath)
    kind = _save_kind(path, save_format, zipped)
    if kind == "dir":
        from kerasette.saving.keras_dir import save_model_dir

        save_model_dir(model, path, include_optimizer=include_optimizer, overwrite=overwrite)
        return
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False.")
    if kind == "keras":
        from kerasette.saving.keras_zip import save_model_keras

        save_model_keras(model, path, include_optimizer=include_optimizer)
    else:
        from kerasette.saving.h5_model import save_model_h5

        save_model_h5(model, path, include_optimizer=include_optimizer)


def _save_kind(path, save_format, zipped):
    """"h5", "keras" or "dir" for a save of `path`, or a ValueError that
    names the arguments that do not fit."""
    lower = path.lower()
    name = os.path.basename(path.rstrip("/" + os.sep))
    by_name = ("keras" if lower.endswith(".keras") else "h5" if lower.endswith(_H5_EXT)
               else "dir" if not os.path.splitext(name)[1] else None)
    if zipped not in (None, True, False):
        raise ValueError(f"Argument `zipped` must be True, False or None. Received: "
                         f"zipped={zipped!r}")
    kind = None
    if save_format is not None:
        kind = _FORMATS.get(str(save_format).lower())
        if kind is None:
            raise ValueError(f"Argument `save_format` must be one of 'h5', 'keras' or 'tf' "
                             f"(or None to follow the name). Received: save_format="
                             f"{save_format!r}")
        if kind == "keras" and by_name != "keras":
            raise ValueError(f"save_format={save_format!r} writes a .keras archive, whose name "
                             f"must end in '.keras'. Received: {path!r}")
        if kind == "h5" and by_name == "keras":
            raise ValueError(f"save_format={save_format!r} writes HDF5, but {path!r} ends in "
                             "'.keras', the zip format's name: name it '.h5'.")
    if zipped is False:
        if kind not in (None, "dir"):
            raise ValueError(f"zipped=False writes a model folder, but save_format="
                             f"{save_format!r} asks for one file.")
        kind = "dir"
    elif zipped is True and kind == "dir":
        raise ValueError("zipped=True writes one file, but save_format='tf' asks for a folder.")
    if kind == "dir" and by_name == "keras":
        # Keras 3's rule: a folder may not be named like an archive.
        raise ValueError(f"A model folder's name should not end in '.keras' (that names the "
                         f"zip archive). Received: {path!r}. Drop zipped=False/save_format="
                         "'tf' for an archive, or choose a name without '.keras'.")
    kind = kind or by_name
    if zipped is True and kind == "dir":
        raise ValueError(f"zipped=True writes a .keras archive, whose name must end in "
                         f"'.keras' (or '.h5' for HDF5). Received: {path!r}")
    if kind is None:
        raise ValueError(
            f"Unsupported file extension for model.save: {path!r}. Use '.h5' or '.hdf5' "
            "(tf.keras 2's format, which Keras 3 also loads), '.keras' (Keras 3's format), "
            "or a name without extension for a model folder (Keras 3's format unzipped); "
            "zipped=False writes a folder under any name.")
    return kind


def _file_kind(path):
    """"keras", "h5" or None, from the file's first bytes; a path that is not
    a regular file (a FIFO, a device) is a `ModelFileError` before anything
    could block (`sources.open_regular`)."""
    with open_regular(path) as f:
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

    Reads full-model `.h5` files of both Keras dialects, `.keras` zips and
    Keras 3's model folders (`model.save("IrisModel")` in kerasette,
    `save_model(model, path, zipped=False)` in Keras 3), and restores the
    compiled state (optimizer with its hyper-parameters and, where the
    file holds them, its slots and step count; loss; metrics) unless
    `compile=False`. Nothing in the file is executed. A TensorFlow
    SavedModel folder gets a `ModelFileError` that says how to convert it.

    Args:
        filepath: path of the file or folder.
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
    if not os.path.exists(path):
        _recover(path)  # a folder save killed mid-swap left the old folder aside
    if os.path.isdir(path):
        from kerasette.saving.keras_dir import load_model_dir

        return load_model_dir(path, custom_objects=custom_objects, compile=compile,
                              safe_mode=safe_mode)
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


def _recover(path):
    """Renames back the old model folder that a save killed between its two
    renames left aside (`atomic.recover_directory`); where that fails, the
    error says where the old folder is."""
    from kerasette.saving import atomic

    try:
        atomic.recover_directory(path)
    except OSError as err:
        raise ModelFileError(path, f"no such folder, but an interrupted save left the old one "
                                   f"whole at {err.filename}, and it cannot be renamed back "
                                   f"({err.strerror}): rename it to {path}.") from err
