"""Saving a file atomically: write a temporary file next to the target,
then rename it over the target.

A reader of the target sees either the old file or the new one, never a
half-written one, whatever happens to the saving process (an exception,
Ctrl-C, SIGKILL, a full disk). A process killed mid-save leaves its
temporary file behind. The name of the temporary file records the target,
the host and the process id:

    .kerasette-<pid>-<host>-<token>-<target name>.tmp

so the next save of the same target recognises the leftovers of processes
of this host that no longer run, and removes them. Temporary files of
running processes (a concurrent save of the same target) are left alone.

Durability against power loss is the filesystem's: files are not fsync'ed.
"""

from __future__ import annotations

import os
import re
import secrets
import socket

PREFIX = ".kerasette-"
SUFFIX = ".tmp"
_NAME_KEEP = 100  # characters of the target's name kept in the temporary name


def _host():
    # "-" separates the fields of the temporary name, so it may not appear.
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname())[:32] or "host"


def temp_name(target):
    """A fresh temporary file name for `target` (a name, not a path)."""
    return (f"{PREFIX}{os.getpid()}-{_host()}-{secrets.token_hex(4)}-"
            f"{os.path.basename(target)[:_NAME_KEEP]}{SUFFIX}")


def parse_temp_name(name):
    """`(pid, host, target name)` of one of our temporary names, else None."""
    if not (name.startswith(PREFIX) and name.endswith(SUFFIX)):
        return None
    fields = name[len(PREFIX):-len(SUFFIX)].split("-", 3)
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


def stale_temp_files(path):
    """Temporary files that saves of `path` by dead processes of this host
    left in its folder."""
    folder = os.path.dirname(os.path.abspath(path))
    target = os.path.basename(path)[:_NAME_KEEP]
    host, me = _host(), os.getpid()
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    stale = []
    for name in names:
        parsed = parse_temp_name(name)
        if parsed is None:
            continue
        pid, their_host, their_target = parsed
        if their_target == target and their_host == host and pid != me and not _running(pid):
            stale.append(os.path.join(folder, name))
    return stale


def sweep(path):
    """Removes `stale_temp_files(path)`; a file that vanished meanwhile (a
    concurrent sweep) is no error."""
    for stale in stale_temp_files(path):
        try:
            os.remove(stale)
        except FileNotFoundError:
            pass


def write_atomically(path, write):
    """Calls `write(tmp)` to write the whole file at the fresh path `tmp`
    (created empty, with the permissions `open` would give), then renames
    `tmp` over `path`. On any exception, `tmp` is removed and `path` is
    untouched."""
    path = os.fspath(path)
    sweep(path)
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, temp_name(path))
    # O_EXCL: never reuse an existing name; mode 0o666 & ~umask, as open() gives.
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except FileNotFoundError:
            pass
        raise
