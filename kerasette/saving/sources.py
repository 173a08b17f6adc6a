"""Opening the file a load reads: regular files only.

A path given to `load_model` or `load_weights` may name anything: a FIFO,
whose open blocks until a writer comes (forever, in a service); a device
such as `/dev/zero` or `/dev/urandom`, which never ends; a folder. Only
regular files are read. The path is first looked at with `stat`, so a
device is never even opened (opening some has effects), then opened with
`O_NONBLOCK`, so a FIFO swapped in meanwhile cannot block the open, and
the opened descriptor is checked again: what is read is what was checked.
The loaders then read only through that descriptor (zipfile, and h5py's
file-object driver), never the path again.

Example:
    >>> os.mkfifo("pipe.h5")
    >>> open_regular("pipe.h5")
    Traceback (most recent call last):
    ...
    kerasette.saving.errors.ModelFileError: pipe.h5: is a FIFO (named pipe), not a regular file; ...
"""

from __future__ import annotations

import os
import stat

from kerasette.saving.errors import ModelFileError

# O_NONBLOCK: a FIFO's open returns at once instead of waiting for a writer.
# O_NOCTTY: a terminal never becomes the controlling one.
_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
          | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))


def kind_of(mode):
    """What a file of `st_mode` `mode` is, in words: `"a FIFO (named pipe)"`,
    `"a character device"`, `"a folder"`, ... (`"a regular file"`).

    Example:
        >>> kind_of(os.stat("/dev/null").st_mode)
        'a character device'
    """
    if stat.S_ISREG(mode):
        return "a regular file"
    for test, words in _KINDS:
        if test(mode):
            return words
    return "not a regular file"


def not_regular(path, mode, member=None):
    """The `ModelFileError` for a path (or a folder's `member`) that is not
    a regular file."""
    what = f"{member} is" if member else "is"
    why = ("" if stat.S_ISDIR(mode) else " Models and weights are read only from regular "
           "files: a FIFO or a device could block the load or never end.")
    return ModelFileError(path, f"{what} {kind_of(mode)}, not a regular file; refused.{why}")


def open_regular(path):
    """Opens `path` for reading if it is a regular file (a symbolic link to
    one is followed), without blocking on anything else.

    Args:
        path: the file to load (`str` or path-like).

    Returns:
        A binary file object at offset 0; the caller closes it.

    Raises:
        kerasette.saving.ModelFileError: naming `path`: no such file, not a
            regular file (saying what it is), or unreadable.
    """
    path = os.fspath(path)
    try:
        mode = os.stat(path).st_mode  # look before opening: opening a device may act
    except FileNotFoundError:
        raise ModelFileError(path, "no such file.") from None
    except OSError as err:
        raise ModelFileError(path, f"cannot be read ({err.strerror}).") from err
    if not stat.S_ISREG(mode):
        raise not_regular(path, mode)
    try:
        fd = os.open(path, _FLAGS)
    except FileNotFoundError:
        raise ModelFileError(path, "no such file (it vanished while being opened).") from None
    except OSError as err:
        raise ModelFileError(path, f"cannot be read ({err.strerror}).") from err
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # swapped between the stat and the open
            raise not_regular(path, mode)
        if _FLAGS & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)  # no effect on a regular file; plain reads after
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


__all__ = ["kind_of", "not_regular", "open_regular"]
