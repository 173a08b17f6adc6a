"""kerasette.datasets: mnist and fashion_mnist through the cache, iris shipped.

No test touches the internet: MNIST comes from the data-set cache (the
`mnist_npz` fixture, which skips without it; CI links the shared copy there),
downloads come from a server on 127.0.0.1, and "offline" is a port where
nothing listens.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import urllib.request
from importlib import resources
from pathlib import Path

import fixture_paths
import numpy as np
import pytest
from local_server import LocalServer, closed_port_url

import kerasette
from kerasette import datasets
from kerasette.datasets import fashion_mnist, iris, mnist
from kerasette.utils import file_utils

# From ../shared/datasets/README.md.
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
IRIS_SHA256 = "9cc1c345c71bcc9b486b74cbf6063fa66f4bb5e0f603a4b3c3471ec2e5e8e355"


@pytest.fixture(autouse=True)
def backend():
    """Overrides conftest's per-backend fixture: these checks run once."""
    yield None


pytestmark = pytest.mark.usefixtures("quick_retries")


@pytest.fixture
def home(datasets_home):
    return datasets_home


@pytest.fixture(scope="module")
def mnist_source(mnist_npz):
    """The real file behind the cached mnist.npz, for tests that copy or damage it."""
    return mnist_npz.resolve()


@pytest.fixture(scope="module")
def mnist_arrays(mnist_source):
    with np.load(mnist_source, allow_pickle=False) as f:
        return {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}


def check_mnist(result):
    (x_train, y_train), (x_test, y_test) = result
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8
    assert np.bincount(y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == MNIST_TEST_COUNTS
    assert x_train.max() == 255 and x_train.min() == 0


# --- mnist ----------------------------------------------------------------------------------


def test_mnist_loads_from_the_cache(home, mnist_source, monkeypatch):
    (home / "mnist.npz").symlink_to(mnist_source)
    monkeypatch.setattr(mnist, "ORIGIN", closed_port_url("/mnist.npz"))  # must not be needed
    check_mnist(kerasette.datasets.mnist.load_data())


def test_mnist_accepts_any_copy_with_the_right_arrays(home, mnist_arrays, monkeypatch):
    # Saved again (uncompressed, other timestamps): another file hash, same arrays.
    np.savez(home / "copy.npz", **mnist_arrays)
    assert file_utils.hash_file(home / "copy.npz") not in mnist.KNOWN_FILE_HASHES
    monkeypatch.setattr(mnist, "ORIGIN", closed_port_url("/mnist.npz"))
    check_mnist(mnist.load_data(path="copy.npz"))


def flipped_byte(src: Path, dst: Path) -> None:
    data = bytearray(src.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dst.write_bytes(bytes(data))


def changed_pixel(arrays: dict, dst: Path) -> None:
    arrays = dict(arrays)
    arrays["x_test"] = arrays["x_test"].copy()
    arrays["x_test"][0, 14, 14] ^= 1
    np.savez(dst, **arrays)


@pytest.mark.parametrize("corrupt", ["flipped byte", "changed pixel"])
def test_mnist_rejects_a_corrupted_cached_file(home, mnist_source, mnist_arrays, monkeypatch,
                                               corrupt):
    cached = home / "mnist.npz"
    if corrupt == "flipped byte":
        flipped_byte(mnist_source, cached)
    else:
        changed_pixel(mnist_arrays, cached)
    before = cached.read_bytes()
    url = closed_port_url("/mnist.npz")
    monkeypatch.setattr(mnist, "ORIGIN", url)
    with pytest.raises(datasets.DatasetUnavailableError) as info:
        mnist.load_data()
    message = str(info.value)
    assert "failed verification" in message and str(cached) in message and url in message
    assert cached.read_bytes() == before  # left alone: no good copy replaced it


def test_mnist_downloads_to_the_cache(home, mnist_source, monkeypatch, capsys):
    payload = mnist_source.read_bytes()
    flipped_byte(mnist_source, home / "mnist.npz")  # a bad copy to be replaced
    with LocalServer({"/tf-keras-datasets/mnist.npz": payload}) as server:
        server.fail_next["/tf-keras-datasets/mnist.npz"] = ["503"]
        monkeypatch.setattr(mnist, "ORIGIN", server.url("/tf-keras-datasets/mnist.npz"))
        # The cached copy stands in for Keras's file, so its hash is the expected one.
        monkeypatch.setattr(mnist, "FILE_HASH", hashlib.sha256(payload).hexdigest())
        check_mnist(mnist.load_data())
        assert len(server.requests) == 2  # one 503, then the file
    assert (home / "mnist.npz").read_bytes() == payload
    assert sorted(p.name for p in home.iterdir()) == ["mnist.npz"]
    assert "100%" in capsys.readouterr().err


def test_mnist_download_with_a_wrong_hash_leaves_nothing(home, monkeypatch):
    with LocalServer({"/mnist.npz": b"not the real file"}) as server:
        monkeypatch.setattr(mnist, "ORIGIN", server.url("/mnist.npz"))
        with pytest.raises(ValueError, match="corrupted"):
            mnist.load_data()
    assert list(home.iterdir()) == []


def test_mnist_offline_error_is_one_line_naming_the_cache_path(home, monkeypatch):
    url = closed_port_url("/mnist.npz")
    monkeypatch.setattr(mnist, "ORIGIN", url)
    with pytest.raises(datasets.DatasetUnavailableError) as info:
        mnist.load_data()
    error = info.value
    assert isinstance(error, OSError)
    message = str(error)
    assert "\n" not in message
    assert str(home / "mnist.npz") in message and url in message
    assert "KERASETTE_HOME" in message
    assert error.__cause__ is None and error.__suppress_context__  # no chained traceback
    assert list(home.iterdir()) == []


def test_mnist_offline_error_prints_one_error_line(home, tmp_path):
    """Uncaught, the error is a short traceback ending in one message line."""
    url = closed_port_url("/mnist.npz")
    code = (
        "import kerasette\n"
        "from kerasette.utils import file_utils\n"
        "file_utils._RETRY_DELAYS = (0.0, 0.0)\n"
        f"kerasette.datasets.mnist.ORIGIN = {url!r}\n"
        "kerasette.datasets.mnist.load_data()\n"
    )
    env = dict(os.environ, KERASETTE_HOME=str(home.parent))
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(kerasette.__file__).resolve().parent.parent), env.get("PYTHONPATH"))
        if p)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert "During handling" not in proc.stderr and "Connection refused" in lines[-1]
    assert lines[-1].startswith("kerasette.datasets.DatasetUnavailableError: MNIST is not in")
    assert str(home / "mnist.npz") in lines[-1]
    errors = [line for line in lines if "Error" in line and not line.startswith(" ")]
    assert errors == [lines[-1]]


# --- fashion_mnist ----------------------------------------------------------------------------


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def small_fashion(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, 6, dtype=np.uint8),
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, 4, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
    }


def gzipped(arrays: dict[str, np.ndarray]) -> dict[str, bytes]:
    return {name: gzip.compress(idx_bytes(a), mtime=0) for name, a in arrays.items()}


def check_fashion(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    expected = [arrays[n] for n in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")]
    for got, want in zip((x_train, y_train, x_test, y_test), expected):
        assert got.dtype == np.uint8 and got.flags.writeable
        np.testing.assert_array_equal(got, want)


def test_fashion_mnist_sha256s_are_keras_ones():
    # As stated by Keras's loader (keras/src/datasets/fashion_mnist.py).
    assert fashion_mnist.FILE_HASHES["train-images-idx3-ubyte.gz"].startswith("3aede38d")
    assert list(fashion_mnist.FILE_HASHES) == [
        "train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]
    assert fashion_mnist.ORIGIN == "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def test_fashion_mnist_reads_cached_idx_files(home, monkeypatch):
    arrays = small_fashion()
    files = gzipped(arrays)
    folder = home / "fashion-mnist"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    monkeypatch.setattr(fashion_mnist, "FILE_HASHES",
                        {n: hashlib.sha256(d).hexdigest() for n, d in files.items()})
    monkeypatch.setattr(fashion_mnist, "ORIGIN", closed_port_url("/"))
    check_fashion(fashion_mnist.load_data(), arrays)


def test_fashion_mnist_downloads_missing_or_bad_files(home, monkeypatch):
    arrays = small_fashion(1)
    files = gzipped(arrays)
    folder = home / "fashion-mnist"
    folder.mkdir()
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(files["t10k-labels-idx1-ubyte.gz"])
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(b"corrupted")
    with LocalServer({f"/ds/{n}": d for n, d in files.items()}) as server:
        monkeypatch.setattr(fashion_mnist, "ORIGIN", server.url("/ds/"))
        monkeypatch.setattr(fashion_mnist, "FILE_HASHES",
                            {n: hashlib.sha256(d).hexdigest() for n, d in files.items()})
        check_fashion(fashion_mnist.load_data(), arrays)
        assert sorted(server.requests) == sorted(
            f"/ds/{n}" for n in files if n != "t10k-labels-idx1-ubyte.gz")
    assert sorted(p.name for p in folder.iterdir()) == sorted(files)


def test_fashion_mnist_offline_error_names_the_folder(home, monkeypatch):
    url = closed_port_url("/")
    monkeypatch.setattr(fashion_mnist, "ORIGIN", url)
    with pytest.raises(datasets.DatasetUnavailableError) as info:
        fashion_mnist.load_data()
    message = str(info.value)
    assert "\n" not in message and str(home / "fashion-mnist") in message and url in message
    assert all(name in message for name in fashion_mnist.FILE_HASHES)


def test_read_idx_plain_gzip_and_other_types(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "plain").write_bytes(idx_bytes(images))
    (tmp_path / "packed.gz").write_bytes(gzip.compress(idx_bytes(images)))
    for name in ("plain", "packed.gz"):
        np.testing.assert_array_equal(fashion_mnist.read_idx(tmp_path / name), images)
    ints = np.array([[1, -2], [300000, 4]], dtype=">i4")
    (tmp_path / "ints").write_bytes(idx_bytes(ints, 0x0C))
    out = fashion_mnist.read_idx(tmp_path / "ints")
    assert out.dtype == np.int32 and out.dtype.isnative
    np.testing.assert_array_equal(out, [[1, -2], [300000, 4]])


@pytest.mark.parametrize("damage, match", [
    (lambda b: b"\x00\x01" + b[2:], "not an IDX file"),
    (lambda b: b[:-1], "truncated"),
    (lambda b: b + b"\x00", "bytes after"),
    (lambda b: b[:6], "truncated"),
])
def test_read_idx_rejects_damaged_files(tmp_path, damage, match):
    good = idx_bytes(np.zeros((3, 2, 2), dtype=np.uint8))
    (tmp_path / "bad.gz").write_bytes(gzip.compress(damage(good)))
    with pytest.raises(ValueError, match=match):
        fashion_mnist.read_idx(tmp_path / "bad.gz")


def test_read_idx_rejects_a_broken_gzip(tmp_path):
    (tmp_path / "broken.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(5, np.uint8)))[:-6])
    with pytest.raises(ValueError, match="broken.gz"):
        fashion_mnist.read_idx(tmp_path / "broken.gz")


# --- iris -----------------------------------------------------------------------------------


def test_iris_shipped_file_is_the_known_one():
    data = resources.files("kerasette.datasets").joinpath("iris.csv").read_bytes()
    assert hashlib.sha256(data).hexdigest() == IRIS_SHA256 == iris.FILE_HASH


def test_iris_shipped_file_is_the_shared_original():
    """The packaged iris.csv is CI's original byte for byte (the hash above
    is the check a fresh clone runs; this one needs the shared folder)."""
    shared = fixture_paths.SHARED / "datasets" / "iris.csv"
    if not shared.is_file():
        pytest.skip(f"no shared iris.csv to compare with ({shared})")
    data = resources.files("kerasette.datasets").joinpath("iris.csv").read_bytes()
    assert shared.read_bytes() == data


def test_iris_load_data():
    (x, y), class_names = kerasette.datasets.iris.load_data()
    assert x.shape == (150, 4) and x.dtype == np.float32
    assert y.shape == (150,) and y.dtype == np.int64
    assert class_names == ["setosa", "versicolor", "virginica"]
    assert np.bincount(y).tolist() == [50, 50, 50]
    np.testing.assert_array_equal(y, np.repeat([0, 1, 2], 50))  # the CSV's order
    np.testing.assert_array_equal(x[0], np.array([5.1, 3.5, 1.4, 0.2], dtype=np.float32))
    np.testing.assert_array_equal(x[-1], np.array([5.9, 3.0, 5.1, 1.8], dtype=np.float32))
    # Well-known facts of Fisher's data: setosa's petals are the shortest.
    assert x[y == 0, 2].max() < x[y != 0, 2].min()
    np.testing.assert_allclose(x.mean(axis=0), [5.8433, 3.0573, 3.758, 1.1993], atol=1e-3)


def test_iris_needs_no_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERASETTE_HOME", str(tmp_path / "nothing-here"))
    (x, _), _ = iris.load_data()
    assert x.shape == (150, 4) and not (tmp_path / "nothing-here").exists()


# --- the package ------------------------------------------------------------------------------


def test_datasets_are_reachable_as_in_keras():
    assert kerasette.datasets.mnist.load_data is mnist.load_data
    assert "datasets" in kerasette.__all__
    assert set(datasets.__all__) >= {"mnist", "fashion_mnist", "iris"}
    assert issubclass(datasets.DatasetUnavailableError, OSError)


def test_importing_datasets_reads_no_files(tmp_path):
    """`import kerasette` opens no data file and needs no cache folder."""
    code = (
        "import builtins, io, os, sys\n"
        "opened = []\n"
        "real_open = io.open\n"
        "def spy(file, *a, **k):\n"
        "    opened.append(str(file))\n"
        "    return real_open(file, *a, **k)\n"
        "builtins.open = io.open = spy\n"
        "import kerasette\n"
        "print([f for f in opened if f.endswith(('.npz', '.csv', '.gz'))])\n"
        "print(os.path.exists(os.environ['KERASETTE_HOME']))\n"
    )
    env = dict(os.environ, KERASETTE_HOME=str(tmp_path / "home"))
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(kerasette.__file__).resolve().parent.parent), env.get("PYTHONPATH"))
        if p)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["[]", "False"]


def test_mnist_copy_of_the_cached_file_is_accepted_by_file_hash(home, mnist_source):
    shutil.copyfile(mnist_source, home / "mnist.npz")
    assert file_utils.hash_file(home / "mnist.npz") in mnist.KNOWN_FILE_HASHES


# --- the tests' own MNIST fixture (fixture_paths.find_mnist) -----------------------------------


def test_tests_without_mnist_skip_with_one_line_saying_how(home, monkeypatch):
    monkeypatch.delenv(fixture_paths.DOWNLOAD_VAR, raising=False)
    with pytest.raises(pytest.skip.Exception) as info:
        fixture_paths.find_mnist()
    message = str(info.value)
    assert "\n" not in message and str(home / "mnist.npz") in message
    assert "kerasette.datasets.mnist.load_data()" in message
    assert f"{fixture_paths.DOWNLOAD_VAR}=1" in message
    assert list(home.iterdir()) == []  # no download was tried


def test_tests_download_mnist_only_when_allowed(home, mnist_source, monkeypatch):
    payload = mnist_source.read_bytes()
    monkeypatch.setenv(fixture_paths.DOWNLOAD_VAR, "1")
    monkeypatch.setattr(mnist, "FILE_HASH", hashlib.sha256(payload).hexdigest())
    with LocalServer({"/mnist.npz": payload}) as server:
        monkeypatch.setattr(mnist, "ORIGIN", server.url("/mnist.npz"))
        assert fixture_paths.find_mnist() == home / "mnist.npz"
    assert (home / "mnist.npz").read_bytes() == payload


def test_tests_skip_at_once_when_the_download_cannot_start(home, monkeypatch):
    monkeypatch.setenv(fixture_paths.DOWNLOAD_VAR, "1")
    monkeypatch.setattr(mnist, "ORIGIN", closed_port_url("/mnist.npz"))
    monkeypatch.setattr(urllib.request, "getproxies", dict)  # no proxy: the probe decides
    with pytest.raises(pytest.skip.Exception, match="cannot reach 127.0.0.1"):
        fixture_paths.find_mnist()
