"""Loading from a path that is not a regular file: refused at once.

A FIFO blocks a plain `open()` until a writer comes (forever, in a service
that loads users' models); `/dev/zero` and `/dev/urandom` never end; a
folder is no weights file. `load_model` and `load_weights` refuse each with
a `ModelFileError` that names the path and says what it is, before anything
could block (`kerasette.saving.sources`).

Each load runs in a thread with a deadline, so a regression fails the test
instead of hanging the suite: a load stuck opening a FIFO is released by
opening the FIFO's other end.
"""

import os
import stat
import threading
import time

import h5py
import pytest

import kerasette as keras
from kerasette.saving import ModelFileError, sources

pytestmark = pytest.mark.skipif(os.name != "posix", reason="FIFOs and devices are POSIX")
DEADLINE_S = 5.0
NAMES = ["m.h5", "m.keras", "w.weights.h5"]


@pytest.fixture
def numpy_only(backend):
    if backend.name != "numpy":
        pytest.skip("opening files is backend-independent; runs once, on the numpy backend")


def model():
    return keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])


def loaders():
    m = model()
    return {"load_model": keras.models.load_model, "load_weights": m.load_weights}


def outcome_within(load, path, fifo=None):
    """The exception `load(path)` raises (None if it returns), failing the
    test if it takes longer than DEADLINE_S."""
    result = {}

    def run():
        try:
            load(path)
            result["error"] = None
        except BaseException as err:  # noqa: BLE001 - handed to the test thread
            result["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(DEADLINE_S)
    if thread.is_alive():
        if fifo is not None:  # release the blocked open: a writer arrives and leaves
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            thread.join(DEADLINE_S)
        pytest.fail(f"loading {path} with {load.__name__} blocked for over {DEADLINE_S} s")
    assert time.monotonic() - start < DEADLINE_S
    return result["error"]


@pytest.mark.parametrize("name", NAMES)
def test_a_fifo_is_refused_at_once(numpy_only, tmp_path, name):
    fifo = tmp_path / name
    os.mkfifo(fifo)
    link = tmp_path / f"latest-{name}"
    link.symlink_to(fifo)  # a link to a FIFO is refused the same way
    for path in (fifo, link):
        for loader, load in loaders().items():
            err = outcome_within(load, str(path), fifo=str(fifo))
            assert isinstance(err, ModelFileError), (loader, err)
            assert err.path == str(path)
            assert "is a FIFO (named pipe), not a regular file" in str(err), str(err)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_devices_are_refused_without_being_read(numpy_only, tmp_path, device, monkeypatch):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    link = tmp_path / "model.h5"
    link.symlink_to(device)
    opened = []
    real_open = os.open

    def recorded_open(path, *args, **kwargs):
        opened.append(str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", recorded_open)
    for path in (device, str(link)):
        for loader, load in loaders().items():
            err = outcome_within(load, path)
            assert isinstance(err, ModelFileError), (loader, err)
            assert f"{path}: is a character device, not a regular file" in str(err)
    assert opened == []  # looked at with stat only: a device's open may have effects


def test_folders(numpy_only, tmp_path):
    folder = tmp_path / "weights.h5"
    folder.mkdir()
    err = outcome_within(model().load_weights, str(folder))
    assert isinstance(err, ModelFileError) and "is a folder, not a regular file" in str(err)
    err = outcome_within(keras.models.load_model, str(folder))
    assert isinstance(err, ModelFileError) and "folder without config.json" in str(err)


def test_an_external_link_to_a_fifo_is_refused(numpy_only, tmp_path):
    m = model()
    path = tmp_path / "m.h5"
    m.save(path)
    fifo = tmp_path / "other.h5"
    os.mkfifo(fifo)
    with h5py.File(path, "a") as f:
        del f["model_weights"]
        f["model_weights"] = h5py.ExternalLink(str(fifo), "/model_weights")
    for loader, load in {"load_model": keras.models.load_model,
                         "load_weights": m.load_weights}.items():
        err = outcome_within(load, str(path), fifo=str(fifo))
        assert isinstance(err, ModelFileError) and err.path == str(path), (loader, err)


def test_a_fifo_swapped_in_after_the_check_is_refused(numpy_only, tmp_path, monkeypatch):
    """The race: the path was a regular file when looked at, and is a FIFO
    when opened. The open does not block (O_NONBLOCK) and the opened
    descriptor is checked again."""
    fifo = tmp_path / "m.h5"
    os.mkfifo(fifo)
    regular = os.stat(__file__)
    real_stat = os.stat
    monkeypatch.setattr(sources.os, "stat", lambda p, *a, **k: regular if str(p) == str(fifo)
                        else real_stat(p, *a, **k))
    err = outcome_within(model().load_weights, str(fifo), fifo=str(fifo))
    assert isinstance(err, ModelFileError)
    assert "is a FIFO (named pipe), not a regular file" in str(err)


def test_kind_of_names_what_is_there(tmp_path):
    os.mkfifo(tmp_path / "p")
    assert sources.kind_of(os.stat(tmp_path / "p").st_mode) == "a FIFO (named pipe)"
    assert sources.kind_of(os.stat(tmp_path).st_mode) == "a folder"
    assert sources.kind_of(os.stat(__file__).st_mode) == "a regular file"
    assert sources.kind_of(stat.S_IFBLK) == "a block device"
    assert sources.kind_of(stat.S_IFSOCK) == "a socket"


def test_regular_files_and_links_to_them_still_load(numpy_only, tmp_path):
    m = model()
    m.save(tmp_path / "m.h5")
    m.save(tmp_path / "m.keras")
    m.save_weights(tmp_path / "w.weights.h5")
    for name, loads in {"m.h5": ("load_model", "load_weights"), "m.keras": ("load_model",),
                        "w.weights.h5": ("load_weights",)}.items():
        link = tmp_path / f"link-{name}"
        link.symlink_to(tmp_path / name)  # links to regular files are followed
        for path in (tmp_path / name, link):
            for loader in loads:
                assert outcome_within(loaders()[loader], str(path)) is None, (name, loader)
