"""keras.datasets.cifar10, .cifar100 and .boston_housing: Keras's algorithm, the cache,
the safety gate.

No test touches the internet: the tests write small files in the real
formats (a tar.gz of Python 2 pickled batches for CIFAR, an .npz for
Boston) and tell the loaders their sha256 by monkeypatching `FILE_HASH`, as
the MNIST and IMDB tests do. Downloads come from a server on 127.0.0.1;
"offline" is a port where nothing listens. The expected results come from
tf.keras 2's loaders (tf_keras/datasets/cifar*.py, boston_housing.py),
transcribed below.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import struct
import tarfile

import numpy as np
import pytest
from local_server import LocalServer, closed_port_url

from kerasette import datasets
from kerasette.datasets import boston_housing, cifar10, cifar100


@pytest.fixture(autouse=True)
def backend():
    """Overrides conftest's per-backend fixture: these checks run once."""
    yield None


pytestmark = pytest.mark.usefixtures("quick_retries")


@pytest.fixture
def home(datasets_home):
    return datasets_home


# --- CIFAR archives as the CIFAR homepage ships them ---------------------------------------------


class Py2Pickler(pickle._Pickler):
    """Writes strings as Python 2's `str` (SHORT_BINSTRING/BINSTRING), as in CIFAR's
    files, which Keras reads with `encoding="bytes"`."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        raw = obj.encode("latin1") if isinstance(obj, str) else obj
        if len(raw) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(raw)]) + raw)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(raw)) + raw)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[str] = save_py2_str


def py2_pickle(obj) -> bytes:
    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(obj)
    # NumPy 1 (which wrote CIFAR's files) names `numpy.core`.
    return buffer.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


def tar_gz(members: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def cifar_batch(rng, n, **labels) -> dict:
    batch = {b"batch_label": b"a batch", b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
             b"filenames": [b"img_%d.png" % i for i in range(n)]}
    batch.update({key.encode(): [int(v) for v in value] for key, value in labels.items()})
    return batch


@pytest.fixture(scope="module")
def cifar10_source():
    rng = np.random.default_rng(5)
    batches = {f"data_batch_{i}": cifar_batch(rng, 3, labels=rng.integers(0, 10, 3))
               for i in range(1, 6)}
    batches["test_batch"] = cifar_batch(rng, 4, labels=rng.integers(0, 10, 4))
    members = {f"cifar-10-batches-py/{name}": py2_pickle(b) for name, b in batches.items()}
    members["cifar-10-batches-py/batches.meta"] = py2_pickle({b"label_names": [b"airplane"]})
    members["cifar-10-batches-py/readme.html"] = b"<html></html>"
    return members, tar_gz(members)


@pytest.fixture(scope="module")
def cifar100_source():
    rng = np.random.default_rng(6)
    members = {f"cifar-100-python/{name}": py2_pickle(cifar_batch(
        rng, n, fine_labels=rng.integers(0, 100, n), coarse_labels=rng.integers(0, 20, n)))
        for name, n in (("train", 5), ("test", 3))}
    members["cifar-100-python/meta"] = py2_pickle({b"fine_label_names": [b"apple"]})
    return members, tar_gz(members)


def keras_load_batch(raw: bytes, label_key="labels"):
    """tf_keras/datasets/cifar.py's load_batch, on a member's bytes."""
    d = pickle.loads(raw, encoding="bytes")  # our own test data: trusted
    d = {k.decode("utf8"): v for k, v in d.items()}
    data = d["data"]
    return data.reshape(data.shape[0], 3, 32, 32), d[label_key]


def keras_cifar10(members):
    """tf_keras/datasets/cifar10.py's load_data (channels_last), for any batch size."""
    parts = [keras_load_batch(members[f"cifar-10-batches-py/data_batch_{i}"])
             for i in range(1, 6)]
    n = sum(len(x) for x, _ in parts)
    x_train = np.empty((n, 3, 32, 32), dtype="uint8")
    y_train = np.empty((n,), dtype="uint8")
    start = 0
    for x, y in parts:
        x_train[start:start + len(x)], y_train[start:start + len(x)] = x, y
        start += len(x)
    x_test, y_test = keras_load_batch(members["cifar-10-batches-py/test_batch"])
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    x_train, x_test = x_train.transpose(0, 2, 3, 1), x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test.astype(x_train.dtype), y_test.astype(y_train.dtype))


def keras_cifar100(members, label_mode):
    key = label_mode + "_labels"
    x_train, y_train = keras_load_batch(members["cifar-100-python/train"], key)
    x_test, y_test = keras_load_batch(members["cifar-100-python/test"], key)
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    return (x_train.transpose(0, 2, 3, 1), y_train), (x_test.transpose(0, 2, 3, 1), y_test)


def assert_same(got, expected):
    for g, e in zip(np.array(got, dtype=object).ravel(), np.array(expected, dtype=object).ravel()):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_array_equal(g, e)


@pytest.fixture
def cached_cifar10(home, cifar10_source, monkeypatch):
    members, data = cifar10_source
    (home / cifar10.FNAME).write_bytes(data)
    monkeypatch.setattr(cifar10, "FILE_HASH", hashlib.sha256(data).hexdigest())
    monkeypatch.setattr(cifar10, "ORIGIN", closed_port_url("/c10.tar.gz"))  # must not be needed
    return members


def test_cifar10_is_keras_result(cached_cifar10):
    (x_train, y_train), (x_test, y_test) = got = cifar10.load_data()
    assert_same(got, keras_cifar10(cached_cifar10))
    assert x_train.shape == (15, 32, 32, 3) and x_test.shape == (4, 32, 32, 3)
    assert y_train.shape == (15, 1) and y_test.shape == (4, 1)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    assert x_train.flags.c_contiguous
    # Channels last: pixel (row 2, column 5) of the green plane of the 4th image,
    # the first of data_batch_2.
    first = pickle.loads(cached_cifar10["cifar-10-batches-py/data_batch_2"], encoding="bytes")
    assert x_train[3, 2, 5, 1] == first[b"data"][0, 1024 + 2 * 32 + 5]
    assert y_train[3, 0] == first[b"labels"][0]


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_is_keras_result(home, cifar100_source, monkeypatch, label_mode):
    members, data = cifar100_source
    (home / cifar100.FNAME).write_bytes(data)
    monkeypatch.setattr(cifar100, "FILE_HASH", hashlib.sha256(data).hexdigest())
    got = cifar100.load_data(label_mode=label_mode)
    assert_same(got, keras_cifar100(members, label_mode))
    (x_train, y_train), (x_test, y_test) = got
    assert x_train.shape == (5, 32, 32, 3) and y_test.shape == (3, 1)
    assert y_train.dtype == np.int64  # tf.keras's np.reshape of the label list
    assert y_train.max() < (100 if label_mode == "fine" else 20)


def test_cifar100_bad_label_mode_before_any_download(home, monkeypatch):
    with LocalServer({}) as server:
        monkeypatch.setattr(cifar100, "ORIGIN", server.url("/c100.tar.gz"))
        with pytest.raises(ValueError, match=r"`label_mode` must be one of .*label_mode='Fine'"):
            cifar100.load_data(label_mode="Fine")
        assert server.requests == []


def test_cifar10_downloads_to_the_cache_with_a_progress_bar(home, cifar10_source, monkeypatch,
                                                             capsys):
    members, data = cifar10_source
    with LocalServer({"/~kriz/cifar-10-python.tar.gz": data}) as server:
        server.fail_next["/~kriz/cifar-10-python.tar.gz"] = ["503"]
        monkeypatch.setattr(cifar10, "ORIGIN", server.url("/~kriz/cifar-10-python.tar.gz"))
        monkeypatch.setattr(cifar10, "FILE_HASH", hashlib.sha256(data).hexdigest())
        assert_same(cifar10.load_data(), keras_cifar10(members))
        assert len(server.requests) == 2  # one 503, then the file
        assert_same(cifar10.load_data(), keras_cifar10(members))  # from the cache
        assert len(server.requests) == 2
    # Keras's name for its copy; nothing extracted beside it.
    assert [p.name for p in home.iterdir()] == ["cifar-10-batches-py.tar.gz"]
    assert "100%" in capsys.readouterr().err


def test_cifar100_cache_dir_is_used_as_keras_does(tmp_path, home, cifar100_source, monkeypatch):
    members, data = cifar100_source
    with LocalServer({"/c100.tar.gz": data}) as server:
        monkeypatch.setattr(cifar100, "ORIGIN", server.url("/c100.tar.gz"))
        monkeypatch.setattr(cifar100, "FILE_HASH", hashlib.sha256(data).hexdigest())
        assert_same(cifar100.load_data(cache_dir=str(tmp_path / "elsewhere")),
                    keras_cifar100(members, "fine"))
    assert (tmp_path / "elsewhere" / "datasets" / "cifar-100-python.tar.gz").read_bytes() == data
    assert list(home.iterdir()) == []


def test_cifar10_offline_error_is_one_line_naming_the_cache_path(home, monkeypatch):
    url = closed_port_url("/cifar-10-python.tar.gz")
    monkeypatch.setattr(cifar10, "ORIGIN", url)
    with pytest.raises(datasets.DatasetUnavailableError) as info:
        cifar10.load_data()
    message = str(info.value)
    assert isinstance(info.value, OSError) and "\n" not in message
    assert message.startswith("CIFAR-10 is not in the cache")
    assert str(home / "cifar-10-batches-py.tar.gz") in message and url in message
    assert list(home.iterdir()) == []


class Gadget:
    """Unpickling this would create `path`: code running from a data file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def evil_cifar10(cifar10_source, marker) -> bytes:
    members = dict(cifar10_source[0])
    batch = cifar_batch(np.random.default_rng(0), 2, labels=[0, 1])
    batch[b"labels"] = Gadget(str(marker))
    members["cifar-10-batches-py/data_batch_1"] = py2_pickle(batch)
    return tar_gz(members)


def test_an_archive_without_keras_hash_is_never_unpickled(home, tmp_path, cifar10_source,
                                                          monkeypatch):
    marker = tmp_path / "ran"
    cached = home / cifar10.FNAME
    cached.write_bytes(evil_cifar10(cifar10_source, marker))
    monkeypatch.setattr(cifar10, "ORIGIN", closed_port_url("/c10.tar.gz"))
    with pytest.raises(datasets.DatasetUnavailableError) as info:
        cifar10.load_data()
    message = str(info.value)
    assert "failed verification" in message and "kerasette unpickles only that file" in message
    assert cifar10.FILE_HASH in message and str(cached) in message
    assert not marker.exists()
    assert cached.exists()  # left alone: no good copy replaced it


def test_even_a_matching_hash_builds_nothing_but_arrays(home, tmp_path, cifar10_source,
                                                        monkeypatch):
    marker = tmp_path / "ran"
    data = evil_cifar10(cifar10_source, marker)
    (home / cifar10.FNAME).write_bytes(data)
    monkeypatch.setattr(cifar10, "FILE_HASH", hashlib.sha256(data).hexdigest())
    with pytest.raises(ValueError, match=r"CIFAR-10: cifar-10-batches-py/data_batch_1 is not a "
                                         r"readable CIFAR batch: refusing to load `(io|builtins)"
                                         r".open`"):
        cifar10.load_data()
    assert not marker.exists()


@pytest.mark.parametrize("damage, match", [
    (lambda m: m.pop("cifar-10-batches-py/test_batch"), "has no cifar-10-batches-py/test_batch"),
    (lambda m: m.__setitem__("cifar-10-batches-py/data_batch_3", py2_pickle([1, 2])),
     "data_batch_3 holds a list, not a CIFAR batch"),
    (lambda m: m.__setitem__("cifar-10-batches-py/data_batch_3", py2_pickle(
        {b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]})), r"shape \(n, 3072\)"),
    (lambda m: m.__setitem__("cifar-10-batches-py/data_batch_3", py2_pickle(
        {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]})), "are not 2 integers"),
])
def test_a_verified_archive_that_is_not_cifar_says_so(home, cifar10_source, monkeypatch, damage,
                                                      match):
    members = dict(cifar10_source[0])
    damage(members)
    data = tar_gz(members)
    (home / cifar10.FNAME).write_bytes(data)
    monkeypatch.setattr(cifar10, "FILE_HASH", hashlib.sha256(data).hexdigest())
    with pytest.raises(ValueError, match=match):
        cifar10.load_data()


def test_cifar_origins_and_hashes_are_keras():
    assert cifar10.ORIGIN == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert cifar100.ORIGIN == "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    assert cifar10.FILE_HASH.startswith("6d958be0") and cifar100.FILE_HASH.startswith("85cd44d0")
    assert boston_housing.FILE_HASH.startswith("f553886a")


# --- Boston housing -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def boston_source():
    rng = np.random.default_rng(7)
    arrays = {"x": rng.normal(size=(21, 13)) * 10, "y": rng.uniform(10, 50, 21)}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return arrays, buffer.getvalue()


def keras_boston(arrays, test_split=0.2, seed=113):
    """tf_keras/datasets/boston_housing.py's load_data after the download."""
    x, y = arrays["x"], arrays["y"]
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x))
    rng.shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))


@pytest.fixture
def cached_boston(home, boston_source, monkeypatch):
    arrays, data = boston_source
    (home / "boston_housing.npz").write_bytes(data)
    monkeypatch.setattr(boston_housing, "FILE_HASH", hashlib.sha256(data).hexdigest())
    monkeypatch.setattr(boston_housing, "ORIGIN", closed_port_url("/boston_housing.npz"))
    return arrays


@pytest.mark.parametrize("kwargs", [{}, {"test_split": 0.5, "seed": 1}, {"test_split": 0}])
def test_boston_is_keras_split(cached_boston, kwargs):
    got = boston_housing.load_data(**kwargs)
    assert_same(got, keras_boston(cached_boston, **kwargs))
    (x_train, y_train), (x_test, y_test) = got
    split = kwargs.get("test_split", 0.2)
    assert len(x_train) == int(21 * (1 - split)) and len(x_train) + len(x_test) == 21
    assert x_train.dtype == y_train.dtype == np.float64 and x_train.shape[1:] == (13,)


def test_boston_seed_changes_the_split(cached_boston):
    (a, _), _ = boston_housing.load_data(seed=1)
    (b, _), _ = boston_housing.load_data(seed=2)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("kwargs, match", [
    ({"test_split": 1}, "test_split"), ({"test_split": -0.1}, "test_split"),
    ({"test_split": "0.2"}, "test_split"), ({"seed": -1}, "seed"),
])
def test_boston_bad_arguments_before_any_download(home, monkeypatch, kwargs, match):
    with LocalServer({}) as server:
        monkeypatch.setattr(boston_housing, "ORIGIN", server.url("/boston_housing.npz"))
        with pytest.raises(ValueError, match=match):
            boston_housing.load_data(**kwargs)
        assert server.requests == []


def test_boston_downloads_then_reads_the_cache(home, boston_source, monkeypatch, capsys):
    arrays, data = boston_source
    with LocalServer({"/tf-keras-datasets/boston_housing.npz": data}) as server:
        monkeypatch.setattr(boston_housing, "ORIGIN",
                            server.url("/tf-keras-datasets/boston_housing.npz"))
        monkeypatch.setattr(boston_housing, "FILE_HASH", hashlib.sha256(data).hexdigest())
        assert_same(boston_housing.load_data(), keras_boston(arrays))
        assert_same(boston_housing.load_data(), keras_boston(arrays))
        assert len(server.requests) == 1
    assert (home / "boston_housing.npz").read_bytes() == data
    assert "100%" in capsys.readouterr().err


def test_boston_offline_and_damaged_copy_messages(home, monkeypatch):
    url = closed_port_url("/boston_housing.npz")
    monkeypatch.setattr(boston_housing, "ORIGIN", url)
    with pytest.raises(datasets.DatasetUnavailableError, match="Boston housing is not in the "
                                                               "cache"):
        boston_housing.load_data()
    (home / "boston_housing.npz").write_bytes(b"not an npz")
    with pytest.raises(datasets.DatasetUnavailableError, match="failed verification"):
        boston_housing.load_data()


def test_boston_with_keras_hash_but_not_npz_says_so(home, monkeypatch):
    data = b"PK but not a zip"
    (home / "boston_housing.npz").write_bytes(data)
    monkeypatch.setattr(boston_housing, "FILE_HASH", hashlib.sha256(data).hexdigest())
    with pytest.raises(ValueError, match="Boston housing: not a readable Keras data file"):
        boston_housing.load_data()
