"""Saving over a file keeps what the user set on it, and a failed save says
what happened.

* The new file keeps the old one's permission bits, its owner and group
  (where the process may set them) and symbolic links to it; other hard
  links keep the old content (documented: the atomic rename gives the
  name a new file). For `.h5`, `.keras`, `.weights.h5`, legacy weights and
  `ModelCheckpoint`.
* A full disk (simulated) or a file-size limit (a real `RLIMIT_FSIZE` in a
  child process) raises `SaveError`: an `OSError` with the system's errno,
  whose message names the target and says that the previous file is
  unchanged. The previous file is indeed unchanged and no temporary file
  is left. HDF5 never sees the failed write (it once answered with "Can't
  decrement id ref count" and crashed the process).
"""

import errno
import json
import os
import stat
import subprocess
import sys
import types

import numpy as np
import pytest

import kerasette as keras
from kerasette.saving import atomic

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX modes, owners and links")

KINDS = ["model.h5", "model.keras", "w.weights.h5", "w.h5", "folder"]


@pytest.fixture
def numpy_only(backend):
    if backend.name != "numpy":
        pytest.skip("saving is backend-independent; runs once, on the numpy backend")


def model(shift=0.0):
    m = keras.Sequential([keras.layers.Dense(16, input_shape=(8,)), keras.layers.Dense(2)])
    m.compile("adam", "mse")
    if shift:
        m.set_weights([w + shift for w in m.get_weights()])
    return m


def save(m, path, kind=None):
    """`save_weights` for the kinds named `w.*`, else `save`."""
    if (kind or os.path.basename(str(path))).startswith("w."):
        m.save_weights(path)
    else:
        m.save(path)


def contents(path):
    """The bytes at `path`: a file's, or a folder's files by name."""
    if os.path.isdir(path):
        return {name: contents(os.path.join(path, name)) for name in sorted(os.listdir(path))}
    with open(path, "rb") as fh:
        return fh.read()


def leftovers(folder):
    return [name for name in os.listdir(folder) if name.startswith(atomic.PREFIX)]


# -- what a save keeps ------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS[:4] + ["checkpoint.h5"])
def test_mode_owner_and_symbolic_links_are_kept(numpy_only, tmp_path, kind):
    store = tmp_path / "run42"
    store.mkdir()
    real = store / kind
    v0, v1 = model(), model(shift=0.5)
    save(v0, real)
    os.chmod(real, 0o600)
    owner = (4242, 4343) if os.geteuid() == 0 else None  # only root may give files away
    if owner:
        os.chown(real, *owner)
    link = tmp_path / f"latest-{kind}"
    link.symlink_to(real)
    alias = tmp_path / f"alias-{kind}"
    os.link(real, alias)
    old = contents(real)
    if kind.startswith("checkpoint"):
        x = np.ones((4, 8), "float32")
        v1.fit(x, np.zeros((4, 2), "float32"), epochs=1, verbose=0,
               callbacks=[keras.callbacks.ModelCheckpoint(str(link))])
    else:
        save(v1, link, kind)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert contents(real) != old and contents(alias) == old  # hard links keep the old file
    info = os.stat(real)
    assert stat.S_IMODE(info.st_mode) == 0o600
    if owner:
        assert (info.st_uid, info.st_gid) == owner
    assert leftovers(store) == [] and leftovers(tmp_path) == []
    fresh = model()
    if kind.startswith("w."):
        fresh.load_weights(link)
    else:
        fresh = keras.models.load_model(link)
    for a, b in zip(fresh.get_weights(), v1.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_owner_and_group_are_set_only_where_allowed(tmp_path, monkeypatch):
    path = tmp_path / "new.h5"
    path.write_bytes(b"x")
    mine = os.stat(path)
    calls = []

    def chown(p, uid, gid):
        calls.append((uid, gid))
        raise PermissionError(errno.EPERM, "Operation not permitted", p)

    monkeypatch.setattr(os, "chown", chown)
    other = types.SimpleNamespace(st_uid=mine.st_uid + 1, st_gid=mine.st_gid + 1,
                                  st_mode=stat.S_IFREG | 0o640)
    atomic.keep_attributes(path, other)  # not allowed: no error, the mode still kept
    assert calls == [(mine.st_uid + 1, mine.st_gid + 1), (-1, mine.st_gid + 1)]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    calls.clear()
    same = types.SimpleNamespace(st_uid=mine.st_uid, st_gid=mine.st_gid,
                                 st_mode=stat.S_IFREG | 0o600)
    atomic.keep_attributes(path, same)
    assert calls == []  # nothing to change: no chown at all
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


# -- a full disk --------------------------------------------------------------------------------
class _FillsUp:
    """A temporary file on a disk with `room` bytes left."""

    def __init__(self, fh, room):
        self._fh, self._room = fh, room

    def write(self, data):
        data = memoryview(data).cast("B")
        if len(data) > self._room:
            self._fh.write(data[:self._room])
            self._room = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= len(data)
        return self._fh.write(data)

    def __getattr__(self, name):  # seek, tell, flush, fileno, close...
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._fh.close()


@pytest.mark.parametrize("kind", KINDS)
def test_a_full_disk_names_the_target_and_keeps_the_old_file(numpy_only, tmp_path, kind,
                                                             monkeypatch):
    path = str(tmp_path / kind)
    save(model(), path)
    before = contents(path)
    real_open_temp = atomic.open_temp
    monkeypatch.setattr(atomic, "open_temp", lambda p: _FillsUp(real_open_temp(p), 1000))
    with pytest.raises(atomic.SaveError) as info:
        save(model(shift=0.5), path)
    noun = "folder" if kind == "folder" else "file"
    assert str(info.value) == f"disk full while writing {path}; the previous {noun} is unchanged."
    assert isinstance(info.value, OSError) and info.value.errno == errno.ENOSPC
    assert info.value.filename == path
    assert contents(path) == before
    assert leftovers(tmp_path) == [] and sorted(os.listdir(tmp_path)) == [kind]
    # With nothing there before, nothing is left there.
    fresh = str(tmp_path / f"new-{kind}")
    with pytest.raises(atomic.SaveError, match=f"no {noun} was written"):
        save(model(), fresh)
    assert not os.path.exists(fresh) and leftovers(tmp_path) == []


def test_other_errors_name_the_target_not_the_temporary_file(numpy_only, tmp_path, monkeypatch):
    def refuse(p):
        raise PermissionError(errno.EACCES, "Permission denied", p)

    monkeypatch.setattr(atomic, "open_temp", refuse)
    path = str(tmp_path / "m.h5")
    with pytest.raises(PermissionError) as info:
        model().save(path)
    assert info.value.filename == path and atomic.PREFIX not in str(info.value)


# -- a file-size limit (real) -----------------------------------------------------------------
CHILD = """
import json, os, resource, signal, sys
import kerasette as keras

folder, kinds = sys.argv[1], sys.argv[2:]
m = keras.Sequential([keras.layers.Dense(64, input_shape=(64,)), keras.layers.Dense(64)])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the process
resource.setrlimit(resource.RLIMIT_FSIZE, (8000, resource.RLIM_INFINITY))
out = {}
for kind in kinds:
    path = os.path.join(folder, kind)
    try:
        m.save_weights(path) if kind.startswith("w.") else m.save(path)
        out[kind] = ["saved"]
    except Exception as err:
        out[kind] = [type(err).__name__, getattr(err, "errno", None), str(err)]
print(json.dumps(out))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE as on Linux")
def test_a_file_size_limit_names_the_target_and_keeps_the_old_file(numpy_only, tmp_path):
    old = keras.Sequential([keras.layers.Dense(64, input_shape=(64,)), keras.layers.Dense(64)])
    for kind in KINDS:
        save(old, tmp_path / kind)
    before = {kind: contents(tmp_path / kind) for kind in KINDS}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path), *KINDS],
                          env=os.environ, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]  # was a segfault for .h5
    assert "Can't decrement" not in proc.stderr and "Exception ignored" not in proc.stderr
    outcomes = json.loads(proc.stdout.splitlines()[-1])
    for kind in KINDS:
        name, code, message = outcomes[kind]
        path = str(tmp_path / kind)
        noun = "folder" if kind == "folder" else "file"
        assert (name, code) == ("SaveError", errno.EFBIG), outcomes[kind]
        assert message.startswith("file size limit reached"), message
        assert message.endswith(f"while writing {path}; the previous {noun} is unchanged."), \
            message
        assert contents(path) == before[kind], kind
    assert leftovers(tmp_path) == [] and sorted(os.listdir(tmp_path)) == sorted(KINDS)
