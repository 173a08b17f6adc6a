"""keras.datasets.imdb and .reuters: Keras's algorithm, the cache, the safety gate.

No test touches the internet: small archives in Keras's format (object
arrays of Python lists) are written by the tests, and the loaders are told
their sha256 by monkeypatching `FILE_HASH`, as the MNIST tests do. Downloads
come from a server on 127.0.0.1; "offline" is a port where nothing listens.
The expected results come from tf.keras 2's `load_data`, transcribed below
as the plain loops it runs.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import pickle
import zipfile

import numpy as np
import pytest
from local_server import LocalServer, closed_port_url

import kerasette as keras
from kerasette import datasets
from kerasette.datasets import _ragged, imdb, reuters


@pytest.fixture(autouse=True)
def backend():
    """Overrides conftest's per-backend fixture: these checks run once."""
    yield None


pytestmark = pytest.mark.usefixtures("quick_retries")


@pytest.fixture
def home(datasets_home):
    return datasets_home


# --- archives in Keras's format -------------------------------------------------------------


def ragged(rows) -> np.ndarray:
    array = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):
        array[i] = list(row)
    return array


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def random_reviews(rng, n, vocabulary=40, longest=12):
    # Python ints, as in Keras's files (the arrays hold lists, not arrays).
    return [[int(w) for w in rng.integers(1, vocabulary, rng.integers(1, longest))]
            for _ in range(n)]


@pytest.fixture(scope="module")
def imdb_source():
    rng = np.random.default_rng(3)
    arrays = {
        "x_train": ragged(random_reviews(rng, 23)),
        "y_train": rng.integers(0, 2, 23),
        "x_test": ragged(random_reviews(rng, 17)),
        "y_test": rng.integers(0, 2, 17),
    }
    return arrays, npz_bytes(**arrays)


@pytest.fixture(scope="module")
def reuters_source():
    rng = np.random.default_rng(4)
    arrays = {"x": ragged(random_reviews(rng, 31, vocabulary=60)), "y": rng.integers(0, 46, 31)}
    return arrays, npz_bytes(**arrays)


@pytest.fixture
def cached_imdb(home, imdb_source, monkeypatch):
    arrays, data = imdb_source
    (home / "imdb.npz").write_bytes(data)
    monkeypatch.setattr(imdb, "FILE_HASH", hashlib.sha256(data).hexdigest())
    monkeypatch.setattr(imdb, "ORIGIN", closed_port_url("/imdb.npz"))  # must not be needed
    return arrays


@pytest.fixture
def cached_reuters(home, reuters_source, monkeypatch):
    arrays, data = reuters_source
    (home / "reuters.npz").write_bytes(data)
    monkeypatch.setattr(reuters, "FILE_HASH", hashlib.sha256(data).hexdigest())
    monkeypatch.setattr(reuters, "ORIGIN", closed_port_url("/reuters.npz"))
    return arrays


# --- tf.keras 2's algorithm, as its loops ----------------------------------------------------


def keras_code(xs, num_words, skip_top, start_char, oov_char, index_from):
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    elif index_from:
        xs = [[w + index_from for w in x] for x in xs]
    else:
        xs = [list(x) for x in xs]
    return xs


def keras_cut(xs, num_words, skip_top, oov_char):
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def keras_remove_long(maxlen, seq, label):
    kept = [(x, y) for x, y in zip(seq, label) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def keras_imdb(f, num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
               index_from=3):
    x_train, labels_train, x_test, labels_test = (f["x_train"], f["y_train"], f["x_test"],
                                                  f["y_test"])
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]
    x_train = keras_code(x_train, num_words, skip_top, start_char, oov_char, index_from)
    x_test = keras_code(x_test, num_words, skip_top, start_char, oov_char, index_from)
    if maxlen:
        x_train, labels_train = keras_remove_long(maxlen, x_train, labels_train)
        x_test, labels_test = keras_remove_long(maxlen, x_test, labels_test)
    xs = keras_cut(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    idx = len(x_train)
    return (xs[:idx], labels[:idx]), (xs[idx:], labels[idx:])


def keras_reuters(f, num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113,
                  start_char=1, oov_char=2, index_from=3):
    xs, labels = f["x"], f["y"]
    rng = np.random.RandomState(seed)
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    xs, labels = xs[indices], labels[indices]
    xs = keras_code(xs, num_words, skip_top, start_char, oov_char, index_from)
    if maxlen:
        xs, labels = keras_remove_long(maxlen, xs, labels)
    xs = keras_cut(xs, num_words, skip_top, oov_char)
    idx = int(len(xs) * (1 - test_split))
    return (xs[:idx], np.array(labels[:idx])), (xs[idx:], np.array(labels[idx:]))


def assert_same(result, expected):
    for (x, y), (ex, ey) in zip(result, expected):
        assert isinstance(x, np.ndarray) and x.dtype == object and x.ndim == 1
        assert x.tolist() == ex
        assert all(type(w) is int for row in x for w in row)  # Python ints, as Keras
        np.testing.assert_array_equal(y, ey)
        if len(ey):  # Keras's np.array([]) of no labels is float64; kerasette keeps int
            assert y.dtype == np.asarray(ey).dtype


IMDB_CASES = [
    {},
    {"num_words": 20},
    {"num_words": 20, "skip_top": 5},
    {"skip_top": 2},  # the start character itself becomes OOV
    {"maxlen": 8, "seed": 0},
    {"oov_char": None, "num_words": 15, "skip_top": 4},
    {"start_char": None, "index_from": 0},
    {"start_char": None, "index_from": 2, "oov_char": 0},
    {"start_char": 0, "index_from": 1, "num_words": 30, "seed": 5},
]


@pytest.mark.parametrize("kwargs", IMDB_CASES)
def test_imdb_equals_keras_algorithm(cached_imdb, kwargs):
    assert_same(imdb.load_data(**kwargs), keras_imdb(cached_imdb, **kwargs))


@pytest.mark.parametrize("kwargs", IMDB_CASES[:6] + [{"test_split": 0.5}, {"test_split": 0.0},
                                                     {"test_split": 1, "maxlen": 9}])
def test_reuters_equals_keras_algorithm(cached_reuters, kwargs):
    assert_same(reuters.load_data(**kwargs), keras_reuters(cached_reuters, **kwargs))


def test_imdb_default_coding_by_hand(home, monkeypatch):
    # Two reviews per split; RandomState(113) leaves [0, 1] as it is, then swaps it.
    rng = np.random.RandomState(113)
    first, second = np.arange(2), np.arange(2)
    rng.shuffle(first)
    rng.shuffle(second)
    assert first.tolist() == [0, 1] and second.tolist() == [1, 0]
    data = npz_bytes(x_train=ragged([[1, 5], [2, 2, 9]]), y_train=np.array([0, 1]),
                     x_test=ragged([[4], [1, 2, 3]]), y_test=np.array([1, 0]))
    (home / "imdb.npz").write_bytes(data)
    monkeypatch.setattr(imdb, "FILE_HASH", hashlib.sha256(data).hexdigest())
    (x_train, y_train), (x_test, y_test) = imdb.load_data(num_words=9)
    # start 1, +3 to every word, indexes >= 9 (and the largest word) become 2.
    assert x_train.tolist() == [[1, 4, 8], [1, 5, 5, 2]]
    assert y_train.tolist() == [0, 1]
    assert x_test.tolist() == [[1, 4, 5, 6], [1, 7]]
    assert y_test.tolist() == [0, 1]
    # num_words=None: the cut is the largest index, 12, which itself becomes OOV (as Keras).
    (x_train, _), _ = imdb.load_data()
    assert x_train.tolist() == [[1, 4, 8], [1, 5, 5, 2]]


def test_equal_length_reviews_still_give_a_1d_array_of_lists(home, monkeypatch):
    data = npz_bytes(x_train=ragged([[1, 2], [3, 4]]), y_train=np.array([0, 1]),
                     x_test=ragged([[5, 6]]), y_test=np.array([1]))
    (home / "imdb.npz").write_bytes(data)
    monkeypatch.setattr(imdb, "FILE_HASH", hashlib.sha256(data).hexdigest())
    (x_train, _), (x_test, _) = imdb.load_data()
    assert x_train.shape == (2,) and isinstance(x_train[0], list)
    assert x_test.shape == (1,) and isinstance(x_test[0], list)


def test_imdb_maxlen_too_small_says_so(cached_imdb):
    with pytest.raises(ValueError, match="no sequence was kept. Increase maxlen"):
        imdb.load_data(maxlen=2)


def test_load_data_results_pad_into_a_model_input(cached_imdb):
    (x_train, y_train), _ = imdb.load_data(num_words=20)
    padded = keras.utils.pad_sequences(x_train, maxlen=6)
    assert padded.shape == (23, 6) and padded.dtype == np.int32
    assert padded.max() < 20 and (padded[:, -1] > 0).all()


# --- arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize("loader", [imdb.load_data, reuters.load_data])
@pytest.mark.parametrize("kwargs, match", [
    ({"num_words": -1}, r"`num_words` must be None or an integer >= 0. Received: num_words=-1"),
    ({"skip_top": 1.5}, r"Received: skip_top=1.5"),
    ({"maxlen": "100"}, r"Received: maxlen='100'"),
    ({"oov_char": -2}, r"Received: oov_char=-2"),
    ({"seed": -1}, r"`seed` must be None or an integer"),
])
def test_bad_arguments_fail_before_any_download(home, monkeypatch, loader, kwargs, match):
    with LocalServer({}) as server:
        monkeypatch.setattr(imdb, "ORIGIN", server.url("/imdb.npz"))
        monkeypatch.setattr(reuters, "ORIGIN", server.url("/reuters.npz"))
        with pytest.raises(ValueError, match=match):
            loader(**kwargs)
        assert server.requests == []


def test_reuters_test_split_is_checked(home):
    with pytest.raises(ValueError, match=r"`test_split` must be a float in \[0, 1\]"):
        reuters.load_data(test_split=1.5)


def test_nb_words_and_unknown_keywords(cached_imdb, caplog):
    with caplog.at_level(logging.WARNING, logger="kerasette.datasets"):
        (x, _), _ = imdb.load_data(nb_words=10)
    assert "renamed `num_words`" in caplog.text
    assert max(max(row) for row in x) < 10
    with pytest.raises(TypeError, match="Unrecognized keyword arguments"):
        imdb.load_data(num_word=10)


# --- the cache, downloads and the offline message --------------------------------------------


def test_imdb_downloads_to_the_cache_with_a_progress_bar(home, imdb_source, monkeypatch,
                                                          capsys):
    arrays, data = imdb_source
    with LocalServer({"/tf-keras-datasets/imdb.npz": data}) as server:
        server.fail_next["/tf-keras-datasets/imdb.npz"] = ["503"]
        monkeypatch.setattr(imdb, "ORIGIN", server.url("/tf-keras-datasets/imdb.npz"))
        monkeypatch.setattr(imdb, "FILE_HASH", hashlib.sha256(data).hexdigest())
        assert_same(imdb.load_data(), keras_imdb(arrays))
        assert len(server.requests) == 2  # one 503, then the file
    assert (home / "imdb.npz").read_bytes() == data
    assert sorted(p.name for p in home.iterdir()) == ["imdb.npz"]
    assert "100%" in capsys.readouterr().err


def test_reuters_cache_dir_is_used_as_keras_does(tmp_path, home, reuters_source, monkeypatch):
    arrays, data = reuters_source
    with LocalServer({"/reuters.npz": data}) as server:
        monkeypatch.setattr(reuters, "ORIGIN", server.url("/reuters.npz"))
        monkeypatch.setattr(reuters, "FILE_HASH", hashlib.sha256(data).hexdigest())
        assert_same(reuters.load_data(cache_dir=str(tmp_path / "elsewhere")),
                    keras_reuters(arrays))
    assert (tmp_path / "elsewhere" / "datasets" / "reuters.npz").read_bytes() == data
    assert list(home.iterdir()) == []


def test_offline_error_is_one_line_naming_the_cache_path(home, monkeypatch):
    url = closed_port_url("/imdb.npz")
    monkeypatch.setattr(imdb, "ORIGIN", url)
    with pytest.raises(datasets.DatasetUnavailableError) as info:
        imdb.load_data()
    error = info.value
    message = str(error)
    assert isinstance(error, OSError) and "\n" not in message
    assert message.startswith("IMDB is not in the cache")
    assert str(home / "imdb.npz") in message and url in message and "KERASETTE_HOME" in message
    assert error.__cause__ is None and error.__suppress_context__
    assert list(home.iterdir()) == []


def test_offline_error_with_cache_dir_names_it(tmp_path, home, monkeypatch):
    monkeypatch.setattr(reuters, "ORIGIN", closed_port_url("/reuters.npz"))
    with pytest.raises(datasets.DatasetUnavailableError) as info:
        reuters.load_data(cache_dir=tmp_path / "c")
    message = str(info.value)
    assert str(tmp_path / "c" / "datasets" / "reuters.npz") in message
    assert "pass as cache_dir" in message


# --- the safety gate ---------------------------------------------------------------------------


class Gadget:
    """Unpickling this would create `path`: code running from a data file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def evil_npz(marker) -> bytes:
    payload = np.empty(2, dtype=object)
    payload[0], payload[1] = [1, 2], Gadget(str(marker))
    return npz_bytes(x_train=payload, y_train=np.array([0, 1]),
                     x_test=ragged([[1]]), y_test=np.array([1]))


def test_a_file_without_keras_hash_is_never_unpickled(home, tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    cached = home / "imdb.npz"
    cached.write_bytes(evil_npz(marker))
    url = closed_port_url("/imdb.npz")
    monkeypatch.setattr(imdb, "ORIGIN", url)
    with pytest.raises(datasets.DatasetUnavailableError) as info:
        imdb.load_data()
    message = str(info.value)
    assert "failed verification" in message and "kerasette unpickles only that file" in message
    assert imdb.FILE_HASH in message and str(cached) in message and url in message
    assert not marker.exists()
    assert cached.exists()  # left alone: no good copy replaced it


def test_even_a_matching_hash_builds_nothing_but_arrays(home, tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    data = evil_npz(marker)
    (home / "imdb.npz").write_bytes(data)
    monkeypatch.setattr(imdb, "FILE_HASH", hashlib.sha256(data).hexdigest())
    with pytest.raises(ValueError, match=r"IMDB: not a readable Keras data file: refusing to "
                                         r"load `(io|builtins).open`"):
        imdb.load_data()
    assert not marker.exists()


def test_a_wrong_download_is_not_kept(home, monkeypatch, imdb_source):
    _, data = imdb_source
    with LocalServer({"/imdb.npz": data}) as server:
        monkeypatch.setattr(imdb, "ORIGIN", server.url("/imdb.npz"))  # Keras's hash expected
        with pytest.raises(ValueError, match="corrupted"):
            imdb.load_data()
    assert list(home.iterdir()) == []


def test_numpy1_pickles_are_read(home, monkeypatch):
    """Keras's files were written by NumPy 1, whose pickles name `numpy.core`."""
    def npy(array) -> bytes:
        buffer = io.BytesIO()
        np.lib.format.write_array_header_1_0(buffer,
                                             np.lib.format.header_data_from_array_1_0(array))
        if array.dtype.hasobject:
            pickle.dump(array, buffer, protocol=3)  # NumPy 1 used 3: globals named as text
        else:
            buffer.write(array.tobytes())
        return buffer.getvalue()

    x = npy(ragged([[3, 1], [2]]))
    assert b"numpy._core.multiarray" in x
    x = x.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.npy", x)
        archive.writestr("y.npy", npy(np.array([4, 7])))
    data = buffer.getvalue()
    (home / "reuters.npz").write_bytes(data)
    monkeypatch.setattr(reuters, "FILE_HASH", hashlib.sha256(data).hexdigest())
    (x_train, y_train), (x_test, y_test) = reuters.load_data(test_split=0.5)
    # +3, a start mark, and the largest index (6) out of the vocabulary (as Keras)
    assert sorted(x_train.tolist() + x_test.tolist()) == [[1, 2, 4], [1, 5]]
    assert sorted(y_train.tolist() + y_test.tolist()) == [4, 7]


def test_read_ragged_npz_reports_damage():
    with pytest.raises(ValueError, match=r"Reuters: not a readable Keras data file: .*no `x`"):
        _ragged.read_ragged_npz(npz_bytes(y=np.arange(3)), ("x", "y"), "Reuters")
    with pytest.raises(ValueError, match="not a readable Keras data file"):
        _ragged.read_ragged_npz(b"PK not a zip", ("x",), "Reuters")
    # A pickle that is not the announced array.
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, ragged([[1]]))
    raw = buffer.getvalue()
    header_end = raw.index(b"\n") + 1
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("x.npy", raw[:header_end] + pickle.dumps([1, 2]))
    with pytest.raises(ValueError, match="not the array of shape"):
        _ragged.read_ragged_npz(zipped.getvalue(), ("x",), "IMDB")


# --- word indexes and labels -------------------------------------------------------------------


@pytest.mark.parametrize("module, fname", [(imdb, "imdb_word_index.json"),
                                           (reuters, "reuters_word_index.json")])
def test_word_index_downloads_checked_by_md5(home, monkeypatch, module, fname):
    index = {"the": 1, "and": 2, "fin": 3}
    data = json.dumps(index).encode()
    with LocalServer({f"/{fname}": data}) as server:
        monkeypatch.setattr(module, "WORD_INDEX_ORIGIN", server.url(f"/{fname}"))
        monkeypatch.setattr(module, "WORD_INDEX_HASH", hashlib.md5(data).hexdigest())
        assert module.get_word_index() == index
        assert module.get_word_index() == index  # the second time from the cache
        assert len(server.requests) == 1
    assert (home / fname).read_bytes() == data


def test_word_index_with_a_wrong_md5_is_refused(home, monkeypatch):
    (home / "imdb_word_index.json").write_text('{"x": 1}')
    url = closed_port_url("/imdb_word_index.json")
    monkeypatch.setattr(imdb, "WORD_INDEX_ORIGIN", url)
    with pytest.raises(datasets.DatasetUnavailableError, match=r"The IMDB word index's cached "
                                                                r"copy .* failed verification"):
        imdb.get_word_index()


def test_keras_constants_and_label_names():
    # As stated by tf.keras 2's loaders (tf_keras/datasets/imdb.py, reuters.py).
    origin = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    assert imdb.ORIGIN == origin + "imdb.npz" and reuters.ORIGIN == origin + "reuters.npz"
    assert imdb.FILE_HASH == "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
    assert reuters.FILE_HASH == (
        "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916")
    assert imdb.WORD_INDEX_HASH == "bfafd718b763782e994055a2d397834f"
    assert reuters.WORD_INDEX_HASH == "4d44cc38712099c9e383dc6e5f11a921"
    names = reuters.get_label_names()
    assert isinstance(names, tuple) and len(names) == len(set(names)) == 46
    assert names[:4] == ("cocoa", "grain", "veg-oil", "earn") and names[-1] == "lead"


def test_datasets_are_reachable_as_in_keras():
    assert keras.datasets.imdb.load_data is imdb.load_data
    assert keras.datasets.reuters.get_label_names is reuters.get_label_names
    assert {"imdb", "reuters"} <= set(datasets.__all__)
    assert os.path.basename(imdb.__file__) == "imdb.py"


def test_data_that_are_not_integer_sequences_are_refused(home, monkeypatch):
    data = npz_bytes(x_train=ragged([["a", "b"], [1]]), y_train=np.array([0, 1]),
                     x_test=ragged([[1]]), y_test=np.array([1]))
    (home / "imdb.npz").write_bytes(data)
    monkeypatch.setattr(imdb, "FILE_HASH", hashlib.sha256(data).hexdigest())
    with pytest.raises(ValueError, match="IMDB: the data must be sequences of integers"):
        imdb.load_data()


# --- Keras's real files, when a copy is at hand (skipped otherwise) ----------------------------


def real_file(name):
    for folder in (os.environ.get("KERASETTE_HOME"), os.path.expanduser("~/.kerasette"),
                   os.path.expanduser("~/.keras")):
        if folder and os.path.isfile(os.path.join(folder, "datasets", name)):
            return os.path.join(folder, "datasets", name)
    pytest.skip(f"no copy of Keras's {name} in $KERASETTE_HOME/datasets, ~/.kerasette/datasets "
                "or ~/.keras/datasets")


def test_real_imdb_file():
    (x_train, y_train), (x_test, y_test) = imdb.load_data(path=real_file("imdb.npz"))
    assert len(x_train) == len(x_test) == 25000
    assert int(y_train.sum()) == int(y_test.sum()) == 12500
    # The first training review after Keras's shuffle, as Keras's users know it.
    assert x_train[0][:8] == [1, 14, 22, 16, 43, 530, 973, 1622] and len(x_train[0]) == 218
    assert y_train[0] == 1


def test_real_reuters_file():
    (x_train, y_train), (x_test, y_test) = reuters.load_data(path=real_file("reuters.npz"),
                                                             num_words=10000)
    assert (len(x_train), len(x_test)) == (8982, 2246)
    assert set(y_train.tolist()) == set(range(46))
    assert x_train[0][:8] == [1, 2, 2, 8, 43, 10, 447, 5] and y_train[0] == 3
