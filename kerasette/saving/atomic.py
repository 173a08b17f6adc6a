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
gets the old one's permission bits.

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

import errno
import os
import re
import secrets
import socket
import stat
import warnings

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


def target_of(path):
    """The path a save of `path` writes: where a symbolic link points (so
    the link stays), else `path` itself."""
    path = os.fspath(path)
    return os.path.realpath(path) if os.path.islink(path) else path


def mode_of(path):
    """The permission bits of `path`, or None when it does not exist."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None


def write_atomically(path, write):
    """Calls `write(tmp)` to write the whole file at the fresh path `tmp`
    (created empty, with the permissions `open` would give, or those of
    the file it replaces), then renames `tmp` over `path`. A symbolic link
    at `path` is kept: its target is replaced. On any exception, `tmp` is
    removed and `path` is untouched."""
    path = target_of(path)
    sweep(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, temp_name(path))
    # O_EXCL: never reuse an existing name; mode 0o666 & ~umask, as open() gives.
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        write(tmp)
        mode = mode_of(path)
        if mode is not None:
            os.chmod(tmp, mode)  # keep what the user set (e.g. 0o600)
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
    the target) with the files named in `members`, fsync'ed. The folder
    then takes the old folder's permission bits, and replaces it: old
    folder renamed aside, new one renamed into place, aside copy removed
    (`remove_directory`). A symbolic link at `path` is kept: the folder it
    points to is replaced. On any exception the temporary folder is
    removed and the old folder is at `path`, as it was.

    The caller checks first that the old folder holds only `members`:
    nothing else would be deleted anyway, but it would be left aside.
    """
    from kerasette.training.interrupts import CriticalSection

    path = target_of(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)  # as Keras's and tf.keras's folder saves do
    try:
        recover_directory(path)
    except OSError:
        pass  # the swap below fails cleanly if the target name is in use
    sweep(path, members)
    tmp = os.path.join(folder, temp_name(path))
    os.mkdir(tmp, 0o777)  # & ~umask, as os.makedirs and Keras give
    aside, swapped = None, False
    try:
        write(tmp)
        mode = mode_of(path) if os.path.isdir(path) else None
        if mode is not None:
            os.chmod(tmp, mode)
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
