"""`fit`, `evaluate` and `predict` on dask arrays (training/dask_arrays.py).

The arrays are built from chunks that a counting loader makes, so the tests
see every chunk computation: each `dask.compute` (told apart by a dask
callback) may load only the chunks of one batch, never the whole array,
and in-order reading loads each chunk once per pass. The results must equal
those of the same data as NumPy arrays, bit for bit. dask is an optional
extra (`pip install ".[dask]"`); without it these tests are skipped.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

dask = pytest.importorskip("dask", reason="dask is an optional extra: pip install '.[dask]'")
da = pytest.importorskip("dask.array", reason="dask.array needs NumPy (pip install '.[dask]')")
from dask.callbacks import Callback  # noqa: E402

import kerasette as keras  # noqa: E402
from kerasette.training.dask_arrays import DaskRows, is_dask_array  # noqa: E402

CHUNKS, ROWS, FEATURES = 10, 12, 5  # 120 samples in 10 chunks


class Loads(Callback):
    """Counts chunk loads, in total and per `dask.compute`."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.total = 0
        self.current = 0
        self.per_compute = []
        self.chunks = []

    def load(self, i):
        with self.lock:
            self.total += 1
            self.current += 1
            self.chunks.append(i)
        return chunk(i)

    def _start(self, dsk):
        self.current = 0

    def _finish(self, dsk, state, errored):
        self.per_compute.append(self.current)


def chunk(i):
    return np.random.default_rng(i).normal(size=(ROWS, FEATURES)).astype("float32")


def labels(x):
    return ((x[:, 0] + x[:, 1]) > 0).astype("int64")


@pytest.fixture
def loads():
    counter = Loads()
    with dask.config.set(scheduler="synchronous"), counter:
        yield counter


def lazy_x(loads):
    parts = [da.from_delayed(dask.delayed(loads.load)(i), shape=(ROWS, FEATURES),
                             dtype="float32") for i in range(CHUNKS)]
    return da.concatenate(parts)


def numpy_x():
    return np.concatenate([chunk(i) for i in range(CHUNKS)])


def build():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.layers.Dense(6, activation="relu", input_shape=(FEATURES,)),
                              keras.layers.Dropout(0.1),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def train(x, y, shuffle, batch_size=16, **kwargs):
    model = build()
    history = model.fit(x, y, epochs=2, batch_size=batch_size, shuffle=shuffle, verbose=0,
                        **kwargs)
    return model, history.history


@pytest.mark.parametrize("shuffle, batch_size, most_chunks", [(False, 16, 3), (True, 4, 4)])
def test_fit_on_a_dask_array_equals_fit_on_numpy(backend, loads, shuffle, batch_size,
                                                  most_chunks):
    xn = numpy_x()
    y = labels(xn)
    expected, expected_logs = train(xn, y, shuffle, batch_size, validation_split=0.25)
    loads.total = 0
    model, logs = train(lazy_x(loads), da.from_array(y, chunks=25), shuffle, batch_size,
                        validation_split=0.25)
    for got, want in zip(model.get_weights(), expected.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert logs == expected_logs
    assert loads.total > 0  # the chunks were read by training, not before
    # No computation ever loaded more than one batch's chunks (16 rows in
    # order span at most 3 chunks of 12; 4 shuffled rows at most 4), let
    # alone the whole array.
    assert max(loads.per_compute) <= most_chunks < CHUNKS


def test_in_order_passes_load_each_chunk_once(backend, loads):
    xn = numpy_x()
    y = labels(xn)
    model = build()
    model.fit(xn, y, epochs=1, verbose=0)
    x = lazy_x(loads)
    loads.total = 0
    predictions = model.predict(x, batch_size=7, verbose=0)
    assert loads.total == CHUNKS and max(loads.per_compute) <= 2
    np.testing.assert_array_equal(predictions, model.predict(xn, batch_size=7, verbose=0))
    loads.total = 0
    assert model.evaluate(x, y, batch_size=16, verbose=0) == model.evaluate(
        xn, y, batch_size=16, verbose=0)
    assert loads.total == CHUNKS
    loads.total = 0
    model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
    assert loads.total == 3 * CHUNKS


def test_sample_weights_and_several_inputs_as_dask_arrays(backend, loads):
    xn = numpy_x()
    y = labels(xn)
    weights = np.linspace(0.5, 1.5, len(xn)).astype("float32")

    def functional():
        keras.utils.set_random_seed(5)
        a, b = keras.Input((3,)), keras.Input((2,))
        joined = keras.layers.Concatenate()([a, b])
        out = keras.layers.Dense(2, activation="softmax")(keras.layers.Dense(4)(joined))
        model = keras.Model([a, b], out)
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        return model

    expected = functional()
    expected.fit([xn[:, :3], xn[:, 3:]], y, sample_weight=weights, epochs=2, batch_size=32,
                 shuffle=False, verbose=0)
    model = functional()
    x = lazy_x(loads)
    model.fit([x[:, :3], x[:, 3:]], da.from_array(y, chunks=40),
              sample_weight=da.from_array(weights, chunks=50), epochs=2, batch_size=32,
              shuffle=False, verbose=0)
    for got, want in zip(model.get_weights(), expected.get_weights()):
        np.testing.assert_array_equal(got, want)
    assert max(loads.per_compute) <= 4  # 32 rows in order: at most 4 chunks of 12


def test_a_dask_array_over_an_h5py_dataset(backend, tmp_path):
    h5py = pytest.importorskip("h5py")
    xn = numpy_x()
    y = labels(xn)
    with h5py.File(tmp_path / "x.h5", "w") as f:
        f["x"] = xn
    expected, _ = train(xn, y, shuffle=True)
    with h5py.File(tmp_path / "x.h5", "r") as f, dask.config.set(scheduler="synchronous"):
        model, _ = train(da.from_array(f["x"], chunks=(30, FEATURES)), y, shuffle=True)
    for got, want in zip(model.get_weights(), expected.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_rows_reader_keeps_only_the_last_batch_chunks(loads):
    rows = DaskRows(lazy_x(loads))
    assert len(rows) == CHUNKS * ROWS and rows.shape == (CHUNKS * ROWS, FEATURES)
    assert rows.dtype == np.float32 and rows.ndim == 2
    np.testing.assert_array_equal(rows[10:30], numpy_x()[10:30])
    assert sorted(rows._held) == [0, 1, 2]
    np.testing.assert_array_equal(rows[30:33], numpy_x()[30:33])  # held: no load
    assert sorted(rows._held) == [0, 1, 2] and loads.total == 3
    np.testing.assert_array_equal(rows[33:40], numpy_x()[33:40])
    assert sorted(rows._held) == [2, 3] and loads.total == 4
    np.testing.assert_array_equal(rows[np.array([1, 50, 119])], numpy_x()[[1, 50, 119]])
    assert is_dask_array(rows.array) and not is_dask_array(numpy_x())


def test_unknown_chunk_sizes_are_refused_with_the_remedy(backend):
    x = da.from_array(numpy_x(), chunks=40)
    masked = x[x[:, 0] > 0]  # boolean indexing: chunk sizes unknown
    with pytest.raises(ValueError, match="compute_chunk_sizes"):
        DaskRows(masked)
    model = build()
    with pytest.raises((ValueError, TypeError), match="compute_chunk_sizes"):
        model.predict(masked, verbose=0)
