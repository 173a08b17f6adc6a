"""The model folder: Keras 3's format unzipped.

`model.save("IrisModel")` (a name without extension, the course notes'
idiom) writes the folder that Keras 3 writes for
`keras.saving.save_model(model, "IrisModel", zipped=False)`:

    IrisModel/
        config.json       the model's config, with its compile config
        metadata.json     {"keras_version": ..., "date_saved": ...}
        model.weights.h5  the weights and the optimizer's variables

The three files hold exactly the bytes of the three members of a `.keras`
archive (`keras_zip.model_members`), and are read by the same reader
(`keras_zip.load_members`), so everything said there about Keras 3
compatibility and damaged files holds here too. Keras 3.15 loads a folder
that holds these three files. It writes the same three, plus an empty
`assets/` folder when the path is absolute (its `DiskIOStore` joins the
path to a temporary folder that it deletes: a relative path's assets land
there, an absolute one's in the model folder); kerasette ignores `assets/`
when loading (its layers have no assets) and writes none. tf.keras 2
wrote a TensorFlow SavedModel (`saved_model.pb`) for the same call;
kerasette cannot read those, and says so (`saved_model_error`).

Saving replaces the whole folder atomically (`atomic.replace_directory`): a
failed or killed save leaves the old model loadable. It replaces only what
a model save could have written: a folder that holds anything else is
refused, so that no file of the user's is ever deleted.

Loading opens the folder once and then only the three member names inside
it, relative to it, refusing links and anything but regular files (a FIFO
would block, a device would never end). Each file is read with the size
the filesystem reports, `config.json` and `metadata.json` at most 64 MiB.
"""

from __future__ import annotations

import errno
import os
import stat

from kerasette.saving import atomic
from kerasette.saving.errors import ModelFileError
from kerasette.saving.keras_zip import (
    CONFIG,
    METADATA,
    WEIGHTS,
    WEIGHTS_NPZ,
    check_savable,
    load_members,
    model_members,
)
from kerasette.saving.sources import not_regular

ASSETS = "assets"
# What a Keras 3 model folder may hold: a save replaces only these names
# (`assets` only as an empty folder, which Keras 3.15 leaves when saving to
# an absolute path).
MEMBERS = (CONFIG, METADATA, WEIGHTS, WEIGHTS_NPZ, ASSETS)
_SAVED_MODEL = ("saved_model.pb", "saved_model.pbtxt")

_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
# Open members relative to the folder's descriptor where the platform can
# (Linux, macOS): the folder cannot be swapped for another between checks.
_AT = (os.open in os.supports_dir_fd and os.stat in os.supports_dir_fd
       and hasattr(os, "O_DIRECTORY"))


# ----------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------
def save_model_dir(model, path, include_optimizer=True, overwrite=True):
    """Writes `model` as a Keras 3 model folder, which Keras 3 and kerasette
    load with `load_model(path)`.

    Args:
        model: a built kerasette `Sequential` or functional model.
        path: the folder. A folder there is replaced whole, atomically, if
            it is empty or holds only a model's files (`MEMBERS`); a
            symbolic link to a folder is kept and the folder it points to
            replaced. Missing parent folders are created, as Keras does.
        include_optimizer: with `False`, or for an uncompiled model, the
            folder holds no compile config and no optimizer state.
        overwrite: with `False`, anything at `path` is an error.

    Raises:
        TypeError: for a model that is neither a `Sequential` nor functional.
        ValueError: for an unbuilt model.
        FileExistsError: something other than a model folder is at `path`
            (a file, a folder with other files, a TensorFlow SavedModel),
            or anything is there and `overwrite` is False.
        PermissionError: the folder at `path` is read-only.

    Example:
        >>> import kerasette as keras
        >>> m = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
        >>> save_model_dir(m, "doc_folder")
        >>> sorted(os.listdir("doc_folder"))
        ['config.json', 'metadata.json', 'model.weights.h5']
        >>> keras.models.load_model("doc_folder").count_params()
        3
    """
    path = _strip(os.fspath(path))
    check_savable(model)
    check_replaceable(path, overwrite)
    members = model_members(model, include_optimizer)
    real = atomic.target_of(path)
    olds = {name: atomic.stat_of(os.path.join(real, name)) for name, _ in members}

    def write(tmp):
        for name, data in members:
            _write_file(os.path.join(tmp, name), data, olds[name])

    atomic.replace_directory(path, write, MEMBERS)


def _strip(path):
    # "IrisModel/" names the folder "IrisModel" (whose name the temporary
    # folder's name records).
    stripped = path.rstrip("/" + os.sep)
    return stripped or path


def _write_file(path, data, old):
    """Writes `data` to the new file `path` in the temporary folder (ours and
    fresh: `open_temp`'s O_EXCL), fsync'ed, with what the user set on the
    file it replaces, `old` (an `os.stat` result or None)."""
    with atomic.open_temp(path) as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    atomic.keep_attributes(path, old)


def check_replaceable(path, overwrite=True):
    """Raises unless a model folder may be written at `path`: nothing there,
    an empty folder, or a folder holding only a model's files (`MEMBERS`,
    with `assets/` empty).

    Raises:
        FileExistsError: naming `path`, what is there and what to do.
        PermissionError: `path` is a folder this process may not write.
    """
    if not os.path.lexists(path) or (os.path.islink(path) and not os.path.exists(path)):
        return  # nothing there (a dangling link: its target is created)
    if not overwrite:
        raise FileExistsError(f"{path} exists and overwrite=False.")
    if not os.path.isdir(path):
        raise FileExistsError(
            f"{path} is a file, not a model folder: model.save({os.path.basename(path)!r}) "
            "writes a folder (Keras 3's format, unzipped) and does not replace a file with "
            "one. Save to another name, add '.keras' or '.h5' to save one file, or remove "
            "the file first.")
    if not os.access(path, os.W_OK | os.X_OK):
        # Keras could not write its files into it either; replacing it would
        # override the protection (and could not remove the old files).
        raise PermissionError(errno.EACCES, f"{path} is a read-only folder: kerasette does not "
                                            "replace it. Make it writable, or save to another "
                                            "name", path)
    names = sorted(os.listdir(path))
    if any(name in names for name in _SAVED_MODEL):
        raise FileExistsError(
            f"{path} holds a TensorFlow SavedModel (saved_model.pb), which kerasette "
            "neither reads nor replaces, so that it is not lost. Save to another name "
            f"(e.g. {os.path.basename(path) + '.keras'!r}), or remove that folder first if "
            "you no longer need it.")
    foreign = [name for name in names if not _replaceable(os.path.join(path, name), name)]
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5
                                          else "")
        raise FileExistsError(
            f"{path} is a folder that holds {shown}, which a saved model does not: "
            "kerasette replaces only an empty folder or a model folder (config.json, "
            "metadata.json, model.weights.h5), so that none of your files is deleted. "
            "Save to another name, or move those files away first.")


def _replaceable(entry, name):
    if name not in MEMBERS:
        return False
    if name == ASSETS:  # Keras 3's assets folder: replaced only when empty
        return os.path.isdir(entry) and not os.path.islink(entry) and not os.listdir(entry)
    return not os.path.isdir(entry) or os.path.islink(entry)


# ----------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------
def saved_model_error(path):
    """The error for a TensorFlow SavedModel folder given to `load_model`."""
    name = os.path.basename(os.path.normpath(path)) or "model"
    return ModelFileError(
        path, "this folder is a TensorFlow SavedModel (it holds saved_model.pb), the format "
              f"tf.keras 2 writes for model.save({name!r}), a name without '.h5' or '.keras'. "
              "It stores TensorFlow graphs, which kerasette cannot read. Convert it once "
              "where tf.keras 2 runs (TensorFlow 2.15 or older, or the tf_keras package): "
              f"model = tf.keras.models.load_model({name!r}); model.save({name + '.h5'!r}) "
              f"(or {name + '.keras'!r}); then here: keras.models.load_model({name + '.h5'!r}).")


def load_model_dir(path, custom_objects=None, compile=True, safe_mode=True):
    """Reads a model folder written by kerasette or by Keras 3
    (`save_model(model, path, zipped=False)`).

    Args:
        path: the folder (a symbolic link to it is followed).
        custom_objects: optional dict of names to custom classes/functions.
        compile: with `True` (default) and a compile config in the folder,
            the model comes back compiled, with the optimizer's state.
        safe_mode: accepted for Keras's signature; kerasette never runs
            code from a file.

    Returns:
        A kerasette `Sequential` or functional model with the saved weights.

    Raises:
        kerasette.saving.ModelFileError: naming the folder: a TensorFlow
            SavedModel, no `config.json`, a member that is a link or not a
            regular file, or any damage the `.keras` reader reports.
    """
    path = os.fspath(path)
    with _DirMembers(path) as members:
        if not members.has(CONFIG):
            if any(members.has(name) for name in _SAVED_MODEL):
                raise saved_model_error(path)
            raise ModelFileError(
                path, "is a folder without config.json, so not a saved model: kerasette "
                      "reads model folders written by model.save('name') or by Keras 3's "
                      "save_model(model, 'name', zipped=False), and .h5 and .keras files.")
        return load_members(members, path, custom_objects, compile)


class _DirMembers:
    """The members of a model folder (see `keras_zip.load_members`).

    Opens the folder once, then only the member names inside it: relative
    to its descriptor where the platform allows, never through a link, and
    only regular files (`O_NONBLOCK` so a FIFO cannot block the open)."""

    container, noun = "folder", "file"

    def __init__(self, path):
        self._path = path
        self._fd = None
        try:
            if _AT:
                flags = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
                self._fd = os.open(path, flags)
            elif not os.path.isdir(path):
                raise NotADirectoryError(errno.ENOTDIR, "Not a directory", path)
        except OSError as err:
            raise ModelFileError(path, f"cannot open the folder ({err.strerror}).") from err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _lstat(self, name):
        if _AT:
            return os.stat(name, dir_fd=self._fd, follow_symlinks=False)
        return os.lstat(os.path.join(self._path, name))

    def has(self, name):
        try:
            self._lstat(name)
        except FileNotFoundError:
            return False
        except OSError as err:
            raise ModelFileError(self._path, f"cannot read {name} ({err.strerror}).") from err
        return True

    def read(self, name, max_bytes=None):
        """The bytes of `name`, a regular file in the folder."""
        try:
            if _AT:
                fd = os.open(name, _READ_FLAGS, dir_fd=self._fd)
            else:  # no O_NOFOLLOW on Windows: look first
                if stat.S_ISLNK(self._lstat(name).st_mode):
                    raise OSError(errno.ELOOP, "is a link", name)
                fd = os.open(os.path.join(self._path, name), _READ_FLAGS)
        except FileNotFoundError:
            raise ModelFileError(self._path, f"the folder has no {name} file.") from None
        except OSError as err:
            if err.errno in (errno.ELOOP, errno.EMLINK) or self._is_link(name):
                raise ModelFileError(self._path, f"{name} is a symbolic link. kerasette reads "
                                                 "only the model's own files inside the folder, "
                                                 "never through links; copy the file "
                                                 "there instead.") from err
            raise ModelFileError(self._path, f"cannot open {name} ({err.strerror}).") from err
        try:
            return self._read_fd(fd, name, max_bytes)
        finally:
            os.close(fd)

    def _is_link(self, name):
        try:
            return stat.S_ISLNK(self._lstat(name).st_mode)
        except OSError:
            return False

    def _read_fd(self, fd, name, max_bytes):
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise not_regular(self._path, info.st_mode, member=name)
        size = info.st_size
        if max_bytes is not None and size > max_bytes:
            raise ModelFileError(self._path, f"{name} holds {size} bytes, more than the "
                                             f"{max_bytes} allowed for it.")
        try:
            # The size the filesystem reports, no more: a file that grows
            # while it is read cannot make this read without end.
            with open(fd, "rb", closefd=False) as fh:
                data = fh.read(size)
                changed = len(data) != size or fh.read(1)
        except MemoryError as err:
            raise ModelFileError(self._path, f"{name} ({size} bytes) does not fit in "
                                             "memory.") from err
        except OSError as err:
            raise ModelFileError(self._path, f"cannot read {name} ({err.strerror}).") from err
        if changed:
            raise ModelFileError(self._path, f"{name} changed while it was read (a save in "
                                             "progress?); load it again.")
        return data


__all__ = ["MEMBERS", "check_replaceable", "load_model_dir", "save_model_dir",
           "saved_model_error"]
