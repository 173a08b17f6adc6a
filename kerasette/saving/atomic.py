"""Saving atomically: write a temporary file (or folder) next to the
target, then rename it over the target.

A reader of the target sees either the old model or the new one, never a
half-written one, whatever happens to the saving process (an exception,
Ctrl-C, SIGKILL, a full disk). A process killed mid-save leaves its
temporary file behind. The name of the temporary file records the target,
the host and the process id:

    .kerasette-<pid>-<host>-<token>-<target name>.tmp

so the next save of the same target recognises the leftovers of processes
of this host that no longer run, and removes them. Temporary files of
running processes (a concurrent save of the same target) are left alone.

What the user set on the target is kept: a save through a symbolic link
writes where the link points and leaves the link in place, and the new file
gets the old one's permission bits and, where the process may set them, its
owner and group. Hard links are not kept: the rename gives the target's
name a new file, and other names of the old file (hard links) keep the old
content. Writing in place would keep them, but then a crash could leave a
half-written model under every name; use symbolic links instead.

A save that fails while writing (disk full, quota exceeded, a file-size
limit) raises `SaveError`, an `OSError` with the same `errno`, whose message
names the target and says that the previous file is unchanged; the
temporary file is removed. Every byte goes through one file object opened
by `open_temp`: writers build anything that needs a library's own file
handling (HDF5) in memory first, so a write error never reaches such a
library's error paths.

Durability against power loss is the filesystem's: files are not fsync'ed.

Folders (the Keras 3 model folder, `replace_directory`) cannot be renamed
over a non-empty folder, so the swap takes two renames: the old folder is
first renamed aside (`.kerasette-...-<target name>.old`, next to it), then
the new one into place, then the aside copy is removed. Ctrl-C cannot land
between the two renames (they run in a `CriticalSection`); a process killed
there leaves no folder at the target and the old one, whole, aside. The
next save or load of that target renames it back (`recover_directory`).
Folders' files are fsync'ed before the swap.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import socket
import stat
import warnings

from kerasette.utils.interrupts import CriticalSection

PREFIX = ".kerasette-"
SUFFIX = ".tmp"
ASIDE = ".old"  # an old model folder renamed aside during a swap
_NAME_KEEP = 100  # characters of the target's name kept in the temporary name


def _host():
    # "-" separates the fields of the temporary name, so it may not appear.
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname())[:32] or "host"


def temp_name(target, suffix=SUFFIX):
    """A fresh temporary name for `target` (a name, not a path).

    Example:
        >>> parse_temp_name(temp_name("/tmp/IrisModel"))[2]
        'IrisModel'
    """
    return (f"{PREFIX}{os.getpid()}-{_host()}-{secrets.token_hex(4)}-"
            f"{os.path.basename(target)[:_NAME_KEEP]}{suffix}")


def parse_temp_name(name, suffix=SUFFIX):
    """`(pid, host, target name)` of one of our temporary names ending in
    `suffix`, else None."""
    if not (name.startswith(PREFIX) and name.endswith(suffix)):
        return None
    fields = name[len(PREFIX):-len(suffix)].split("-", 3)
    if len(fields) != 4 or not fields[0].isdigit():
        return None
    pid, host, _, target = fields
    return int(pid), host, target


def _running(pid):
    """Whether process `pid` of this host exists (True when unsure)."""
    if os.name != "posix":
        return True  # os.kill(pid, 0) would terminate it on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, as another user
        return True
    return True


def stale_temp_files(path, suffix=SUFFIX):
    """Temporary files (or folders) that saves of `path` by dead processes
    of this host left in its folder."""
    folder = os.path.dirname(os.path.abspath(path))
    target = os.path.basename(path)[:_NAME_KEEP]
    host, me = _host(), os.getpid()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    stale = []
    for name in names:
        parsed = parse_temp_name(name, suffix)
        if parsed is None:
            continue
        pid, their_host, their_target = parsed
        if their_target == target and their_host == host and pid != me and not _running(pid):
            stale.append(os.path.join(folder, name))
    return stale


def sweep(path, members=None):
    """Removes `stale_temp_files(path)`; a file that vanished meanwhile (a
    concurrent sweep) is no error.

    Args:
        path: the target.
        members: for a folder target, the file names its saves write:
            stale temporary folders (and aside copies of an old folder,
            when the target exists) lose those files and are then removed
            if empty. Without it, folders are left alone.
    """
    for stale in stale_temp_files(path):
        if os.path.isdir(stale) and not os.path.islink(stale):
            if members is not None:
                remove_directory(stale, members)
            continue
        try:
            os.remove(stale)
        except FileNotFoundError:
            pass
    if members is not None and os.path.isdir(path):
        # A process killed after its swap, before it removed the old folder.
        for aside in stale_temp_files(path, ASIDE):
            remove_directory(aside, members)


class SaveError(OSError):
    """A save that could not be written: `errno` is the system's (`ENOSPC`
    disk full, `EDQUOT` quota exceeded, `EFBIG` file-size limit), `filename`
    the target the user named, and the message says what happened and that
    the previous file (or folder) is unchanged.

    Example:
        >>> err = SaveError(28, "disk full while writing m.h5; the previous file is "
        ...                 "unchanged.", "m.h5")
        >>> str(err)
        'disk full while writing m.h5; the previous file is unchanged.'
        >>> err.errno, err.filename, isinstance(err, OSError)
        (28, 'm.h5', True)
    """

    def __str__(self):
        return self.strerror


_FULL = {errno.ENOSPC: "disk full", errno.EFBIG: "file size limit reached (ulimit -f, or the "
                                                 "largest file the filesystem holds)"}
if hasattr(errno, "EDQUOT"):
    _FULL[errno.EDQUOT] = "disk quota exceeded"


def save_error(err, shown, existed, noun="file"):
    """The error to raise for `err`, raised while a save of `shown` (the
    path the user gave) wrote its temporary file, or None to re-raise `err`.

    A full disk, quota or file-size limit becomes a `SaveError` saying so;
    another `OSError` that names the temporary file is raised again naming
    the target instead (the temporary name means nothing to the user).
    """
    if not isinstance(err, OSError):
        return None
    if err.errno in _FULL:
        after = f"the previous {noun} is unchanged" if existed else f"no {noun} was written"
        return SaveError(err.errno, f"{_FULL[err.errno]} while writing {shown}; {after}.", shown)
    name = err.filename
    if isinstance(name, str) and os.path.basename(name).startswith(PREFIX) and err.errno:
        return type(err)(err.errno, err.strerror, shown)
    return None


@contextlib.contextmanager
def naming_target(shown, existed, noun="file"):
    """Raises what `save_error` makes of an `OSError` raised inside."""
    try:
        yield
    except OSError as err:
        error = save_error(err, shown, existed, noun)
        if error is None:
            raise
        raise error from err


def open_temp(path):
    """A new, empty file at `path` (`O_EXCL`: never an existing name), with
    the permissions `open` would give, open for writing as a binary file.
    Every save writes through such a file (the one place for its bytes)."""
    flags = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
             | getattr(os, "O_BINARY", 0))
    return os.fdopen(os.open(path, flags, 0o666), "wb")  # 0o666 & ~umask, as open() gives


def stat_of(path):
    """`os.stat(path)` (through links), or None when nothing is there."""
    try:
        return os.stat(path)
    except OSError:
        return None


def keep_attributes(path, old):
    """Gives the new file (or folder) at `path` what the user set on the
    one it replaces, `old` (an `os.stat` result, or None for nothing): its
    owner and group where this process may set them (root may; anyone may
    set a group they belong to), then its permission bits (after the owner:
    a change of owner clears the set-id bits)."""
    if old is None:
        return
    if hasattr(os, "chown"):
        new = os.stat(path)
        uid = old.st_uid if old.st_uid != new.st_uid else -1
        gid = old.st_gid if old.st_gid != new.st_gid else -1
        tries = [(uid, gid)] if uid != -1 or gid != -1 else []
        if uid != -1 and gid != -1:
            tries.append((-1, gid))  # not root: the group alone may still be allowed
        for owner in tries:
            try:
                os.chown(path, *owner)
                break
            except PermissionError:
                continue  # not allowed: the file stays ours
    os.chmod(path, stat.S_IMODE(old.st_mode))


def target_of(path):
    """The path a save of `path` writes: where a symbolic link points (so
    the link stays), else `path` itself."""
    path = os.fspath(path)
    return os.path.realpath(path) if os.path.islink(path) else path


def write_atomically(path, write):
    """Calls `write(fh)` with `fh` a binary file open on a fresh temporary
    file in the target's folder (`open_temp`), closes it, gives it what the
    user set on the file it replaces (`keep_attributes`), then renames it
    over `path`. A symbolic link at `path` is kept: its target is replaced.

    On any exception the temporary file is removed and `path` is untouched;
    a full disk or a file-size limit raises `SaveError` (`save_error`).
    """
    shown = os.fspath(path)
    path = target_of(shown)
    sweep(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, temp_name(path))
    existed = os.path.exists(path)
    with naming_target(shown, existed):  # a read-only folder, a full disk, ...
        fh = open_temp(tmp)
    try:
        with naming_target(shown, existed):
            with fh:
                write(fh)
            keep_attributes(tmp, stat_of(path))  # as the target is now, not as it was
            os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise


# ----------------------------------------------------------------------------------
# folders
# ----------------------------------------------------------------------------------
def remove_directory(path, members):
    """Removes a folder that a save wrote or put aside: only the entries
    named in `members` (files, or folders if empty), then the folder if it
    is then empty. Anything else inside (a file a user added) is never
    deleted: the folder then stays, with a warning. Returns whether the
    folder is gone."""
    for name in members:
        entry = os.path.join(path, name)
        try:
            if os.path.isdir(entry) and not os.path.islink(entry):
                os.rmdir(entry)  # only if empty (Keras 3's empty assets/)
            else:
                os.remove(entry)
        except FileNotFoundError:
            pass
        except OSError:
            pass  # not empty, permissions: the rmdir below says so
    try:
        os.rmdir(path)
    except FileNotFoundError:
        return True
    except OSError as err:
        warnings.warn(f"kerasette left {path} in place: it holds files kerasette did not "
                      f"write ({err.strerror}). Remove it once you have checked it.",
                      stacklevel=3)
        return False
    return True


def fsync_directory(path):
    """Makes the folder's entries (created, renamed files) durable where the
    platform allows it."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return  # Windows: folders cannot be opened; their entries need no fsync
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on folders
    finally:
        os.close(fd)


def recover_directory(path):
    """Puts back the old folder that a save killed between its two renames
    left aside, when nothing is at `path`. Returns the recovered aside path,
    or None when there was nothing to recover.

    Raises:
        OSError: the aside copy exists but cannot be renamed back (the
            exception's `filename` is its path).
    """
    path = target_of(path)
    if os.path.lexists(path):
        return None
    asides = stale_temp_files(path, ASIDE)
    if not asides:
        return None
    # Several asides only after several killed saves: the newest is the last
    # model that was whole at the target.
    aside = max(asides, key=lambda p: os.lstat(p).st_ctime)
    os.rename(aside, path)
    fsync_directory(os.path.dirname(os.path.abspath(path)))
    return aside


def replace_directory(path, write, members):
    """Writes a new folder and swaps it in for `path` atomically.

    `write(tmp)` fills the fresh, empty folder `tmp` (in the same parent as
    the target) with the files named in `members`, fsync'ed (`open_temp`
    for each). The folder then takes the old folder's permission bits and
    owner (`keep_attributes`), and replaces it: old folder renamed aside,
    new one renamed into place, aside copy removed (`remove_directory`). A symbolic link at `path` is kept: the folder it
    points to is replaced. On any exception the temporary folder is
    removed and the old folder is at `path`, as it was; a full disk or a
    file-size limit while writing raises `SaveError`.

    The caller checks first that the old folder holds only `members`:
    nothing else would be deleted anyway, but it would be left aside.
    """
    shown = os.fspath(path)
    path = target_of(shown)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)  # as Keras's and tf.keras's folder saves do
    try:
        recover_directory(path)
    except OSError:
        pass  # the swap below fails cleanly if the target name is in use
    sweep(path, members)
    tmp = os.path.join(folder, temp_name(path))
    existed = os.path.isdir(path)
    with naming_target(shown, existed, "folder"):
        os.mkdir(tmp, 0o777)  # & ~umask, as os.makedirs and Keras give
    aside, swapped = None, False
    try:
        with naming_target(shown, existed, "folder"):  # nothing is swapped yet
            write(tmp)
            keep_attributes(tmp, stat_of(path) if os.path.isdir(path) else None)
            fsync_directory(tmp)
        # Ctrl-C never lands between the two renames: it is raised when the
        # block ends, and the clean-up in `finally` still runs.
        with CriticalSection():
            if os.path.isdir(path):
                aside = os.path.join(folder, temp_name(path, ASIDE))
                os.rename(path, aside)
                try:
                    os.rename(tmp, path)
                except BaseException:
                    _put_back(aside, path)
                    aside = None
                    raise
            else:
                os.rename(tmp, path)  # fails if a file or a non-empty folder appeared
            swapped = True
    finally:
        if swapped:
            fsync_directory(folder)
            if aside is not None:
                remove_directory(aside, members)
        else:
            remove_directory(tmp, members)


def _put_back(aside, path):
    try:
        os.rename(aside, path)
    except OSError as err:
        raise OSError(err.errno or errno.EIO,
                      f"the new model could not be moved to {path} and the old one could not "
                      f"be moved back: it is whole at {aside}; rename it to {path}",
                      aside) from err
