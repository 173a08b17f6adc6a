"""BLAS threads inside fit/evaluate/predict (backend/threads.py, cpu_load.py, blas_library.py).

No timings here: whether the chosen counts are fast is for benchmarks/
(`run.py --load 1`). These tests check the settings, that the user's count
comes back, the choice from given load figures, and what the thread count
does and does not change in the results.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import kerasette as keras
from kerasette.backend import blas_library, cpu_load, threads
from kerasette.optimizers import flat


class FakeLibrary:
    """Stands in for the BLAS library: records every count set."""

    def __init__(self, count):
        self.count = count
        self.history = []

    def get(self):
        return self.count

    def set(self, count):
        self.count = count
        self.history.append(count)


@pytest.fixture(autouse=True)
def clean_state(monkeypatch):
    monkeypatch.delenv(threads.ENV_VARIABLE, raising=False)
    monkeypatch.delenv("KERASETTE_NUM_THREADS", raising=False)
    for state in (threads._override, threads._memory, threads._active):
        state.clear()
    real = blas_library.find()
    before = real.get() if real is not None else None
    yield
    for state in (threads._override, threads._memory, threads._active):
        state.clear()
    if real is not None:
        real.set(before)


@pytest.fixture
def fake(monkeypatch):
    """A library at 2 threads, on a machine with 2 free cores."""
    lib = FakeLibrary(2)
    monkeypatch.setattr(blas_library, "_found", [lib])
    set_load(monkeypatch, others=0.0, cores=2)
    return lib


def set_load(monkeypatch, others, cores=2):
    """The load figures cpu_load reports, whatever the machine is doing."""
    monkeypatch.setattr(cpu_load, "sample",
                        lambda: cpu_load.Sample(time.monotonic(), 0.0, 0.0, running=1))
    monkeypatch.setattr(cpu_load, "others_now", lambda now=None: others)
    monkeypatch.setattr(cpu_load, "others_between", lambda a, b: others)
    monkeypatch.setattr(cpu_load, "usable_cores", lambda: cores)


def real_library():
    lib = blas_library.find()
    if lib is None:
        pytest.skip("no controllable BLAS library here (e.g. Accelerate)")
    return lib


class CountProbe(keras.callbacks.Callback):
    """Reads the library's count at every kind of batch."""

    def __init__(self, lib):
        super().__init__()
        self.lib = lib
        self.seen = {"train": [], "test": [], "predict": []}

    def on_train_batch_begin(self, batch, logs=None):
        self.seen["train"].append(self.lib.get())

    def on_test_batch_begin(self, batch, logs=None):
        self.seen["test"].append(self.lib.get())

    def on_predict_batch_begin(self, batch, logs=None):
        self.seen["predict"].append(self.lib.get())


def mlp(inputs=784, hidden=512):
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.layers.Dense(hidden, activation="relu",
                                                 input_shape=(inputs,)),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data(rows=256, inputs=784):
    rng = np.random.default_rng(0)
    return (rng.random((rows, inputs), dtype=np.float32),
            rng.integers(0, 10, rows).astype(np.int64))


# -- the settings ------------------------------------------------------------------------------
def test_default_is_auto():
    assert threads.get_blas_threads() == "auto"
    assert keras.backend.get_blas_threads() == "auto"


@pytest.mark.parametrize("value, expected", [(1, 1), (3, 3), ("4", 4), ("auto", "auto"),
                                             ("AUTO", "auto"), (None, "auto")])
def test_set_blas_threads(value, expected):
    keras.backend.set_blas_threads(value)
    assert keras.backend.get_blas_threads() == expected


@pytest.mark.parametrize("value", [0, -2, 1.5, "two", "", True, [2]])
def test_set_blas_threads_rejects_bad_values(value):
    if value == "":
        keras.backend.set_blas_threads(value)  # an empty string means the default
        assert keras.backend.get_blas_threads() == "auto"
        return
    with pytest.raises(ValueError) as info:
        keras.backend.set_blas_threads(value)
    message = str(info.value)
    assert "set_blas_threads" in message and "'auto' or a positive integer" in message
    assert f"Received: {value!r}" in message


@pytest.mark.parametrize("value, expected", [("2", 2), (" 1 ", 1), ("auto", "auto"),
                                             ("", "auto")])
def test_environment_variable(monkeypatch, value, expected):
    monkeypatch.setenv("KERASETTE_BLAS_THREADS", value)
    assert threads.get_blas_threads() == expected


@pytest.mark.parametrize("value", ["0", "-1", "many", "2.5"])
def test_environment_variable_rejects_bad_values(monkeypatch, value):
    monkeypatch.setenv("KERASETTE_BLAS_THREADS", value)
    with pytest.raises(ValueError) as info:
        threads.get_blas_threads()
    message = str(info.value)
    assert "KERASETTE_BLAS_THREADS" in message and "positive integer" in message
    assert f"Received: {value!r}" in message


def test_api_takes_precedence_over_environment(monkeypatch):
    monkeypatch.setenv("KERASETTE_BLAS_THREADS", "3")
    keras.backend.set_blas_threads(1)
    assert threads.get_blas_threads() == 1
    keras.backend.set_blas_threads("auto")
    assert threads.get_blas_threads() == "auto"  # the API's "auto" too
    keras.backend.set_blas_threads(None)
    assert threads.get_blas_threads() == 3  # None: back to the environment's


def test_bad_environment_value_fails_fit_before_any_change(monkeypatch, fake):
    monkeypatch.setenv("KERASETTE_BLAS_THREADS", "zero")
    model = mlp()
    x, y = data()
    with pytest.raises(ValueError, match="KERASETTE_BLAS_THREADS"):
        model.fit(x, y, batch_size=128, verbose=0)
    assert fake.history == [] and fake.count == 2


# -- the count in effect, and the count given back -------------------------------------------
def test_fixed_count_during_each_call_and_previous_count_after(monkeypatch, fake, backend):
    if backend.name == "cupy":
        pytest.skip("the CuPy backend leaves the host BLAS alone (next test)")
    monkeypatch.setenv("KERASETTE_BLAS_THREADS", "3")
    model, probe = mlp(), CountProbe(fake)
    x, y = data()
    model.fit(x, y, batch_size=128, epochs=2, verbose=0, callbacks=[probe])
    assert fake.count == 2
    model.evaluate(x, y, batch_size=128, verbose=0, callbacks=[probe])
    assert fake.count == 2
    model.predict(x, batch_size=128, verbose=0, callbacks=[probe])
    assert fake.count == 2
    assert probe.seen == {"train": [3] * 4, "test": [3] * 2, "predict": [3] * 2}
    assert fake.history == [3, 2] * 3


def test_cupy_backend_leaves_the_host_blas_alone(monkeypatch, fake):
    from types import SimpleNamespace

    import kerasette.backend as backend_module

    monkeypatch.setattr(backend_module, "get_backend", lambda: SimpleNamespace(name="cupy"))
    keras.backend.set_blas_threads(1)
    with threads.blas_threads_for():
        assert threads.count_in_effect() is None
    assert fake.history == []


def test_previous_count_comes_back_after_an_exception(monkeypatch, fake, backend):
    if backend.name == "cupy":
        pytest.skip("nothing is set on the CuPy backend")

    class Boom(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise RuntimeError("boom")

    keras.backend.set_blas_threads(1)
    model = mlp()
    x, y = data()
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(x, y, batch_size=128, verbose=0, callbacks=[Boom()])
    assert fake.count == 2 and fake.history == [1, 2]
    assert threads.count_in_effect() is None
    model.fit(x, y, batch_size=128, verbose=0)  # and the next call starts afresh
    assert fake.history == [1, 2, 1, 2]


def test_nested_calls_keep_the_outer_count(monkeypatch, fake, backend):
    if backend.name == "cupy":
        pytest.skip("nothing is set on the CuPy backend")
    x, y = data()

    class PredictInside(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.predict(x, batch_size=64, verbose=0)
            self.after_inner = fake.get()

    keras.backend.set_blas_threads(3)
    inner = PredictInside()
    mlp().fit(x, y, batch_size=128, verbose=0, callbacks=[inner])
    assert inner.after_inner == 3, "the inner predict must not give the count back early"
    assert fake.count == 2 and fake.history == [3, 2]


def test_real_library_count_restored(monkeypatch, backend):
    if backend.name == "cupy":
        pytest.skip("nothing is set on the CuPy backend")
    lib = real_library()
    before = lib.get()
    inside = 2 if before == 1 else 1
    monkeypatch.setenv("KERASETTE_BLAS_THREADS", str(inside))
    model, probe = mlp(), CountProbe(lib)
    x, y = data()
    model.fit(x, y, batch_size=128, verbose=0, callbacks=[probe])
    model.predict(x, batch_size=128, verbose=0, callbacks=[probe])
    assert set(probe.seen["train"]) == set(probe.seen["predict"]) == {inside}
    assert lib.get() == before, "NumPy code after fit must see its own thread count"


# -- the automatic choice --------------------------------------------------------------------
BIG = 100 * threads.MIN_WORK_PER_THREAD


@pytest.mark.parametrize("ceiling, cores, others, work, expected", [
    (2, 2, 0.0, BIG, 2),     # a quiet 2-core machine
    (2, 2, 0.25, BIG, 2),    # light background work: still both cores
    (2, 2, 0.9, BIG, 1),     # one busy neighbour
    (2, 2, 1.0, BIG, 1),
    (2, 2, 5.0, BIG, 1),     # never below one
    (1, 16, 0.0, BIG, 1),    # never above what the user allowed
    (4, 16, 0.0, BIG, 4),
    (16, 16, 3.0, BIG, 13),  # three busy neighbours
    (16, 8, 0.0, BIG, 8),    # more threads allowed than cores to run them
    (8, 8, 0.0, 3.5 * threads.MIN_WORK_PER_THREAD, 3),  # products for three threads
    (2, 2, 0.0, 1.5 * threads.MIN_WORK_PER_THREAD, 1),  # small products: one thread
    (2, 2, 0.0, None, 2),    # size unknown: the load decides
])
def test_choose_threads(ceiling, cores, others, work, expected):
    assert threads.choose_threads(ceiling, cores, others, work) == expected


def test_largest_product():
    model = mlp(inputs=784, hidden=512)
    model.build((None, 784))
    assert threads.largest_product(model, 128) == 128 * 784 * 512
    assert threads.largest_product(model, 32) == 32 * 784 * 512
    assert threads.largest_product(object(), 32) is None
    assert threads.largest_product(model, None) is None

    conv = keras.Sequential([keras.layers.Conv2D(32, 3, input_shape=(28, 28, 1)),
                             keras.layers.Flatten(), keras.layers.Dense(10)])
    conv.build((None, 28, 28, 1))
    # The convolution as one product over its output positions (counted as
    # the input's, an estimate) dwarfs the Dense layer.
    assert threads.largest_product(conv, 128) == 128 * 28 * 28 * 3 * 3 * 32


def test_busy_machine_gets_fewer_threads_and_quiet_epochs_more(monkeypatch, fake, backend):
    if backend.name == "cupy":
        pytest.skip("nothing is set on the CuPy backend")
    monkeypatch.setattr(threads, "RECHECK_S", 0.0)  # re-read before every batch
    x, y = data()
    figures = iter([1.0, 1.0, 0.0, 0.0])  # the load from the end of each epoch on

    class Quieter(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            set_load(monkeypatch, others=next(figures))

    set_load(monkeypatch, others=1.0)  # a busy neighbour at the start
    probe = CountProbe(fake)
    mlp().fit(x, y, batch_size=128, epochs=4, verbose=0, callbacks=[probe, Quieter()])
    assert probe.seen["train"] == [1, 1, 1, 1, 1, 1, 2, 2]
    assert fake.count == 2


def test_small_products_use_one_thread_without_reading_the_load(monkeypatch, fake, backend):
    if backend.name == "cupy":
        pytest.skip("nothing is set on the CuPy backend")

    def unexpected(*_):
        raise AssertionError("the load was read for a model too small to share out")

    monkeypatch.setattr(cpu_load, "sample", unexpected)
    probe = CountProbe(fake)
    model = mlp(inputs=4, hidden=20)
    x, y = data(inputs=4)
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[probe])
    assert set(probe.seen["train"]) == {1} and fake.count == 2


def test_recent_measurement_decides_the_next_start(monkeypatch, fake, backend):
    if backend.name == "cupy":
        pytest.skip("nothing is set on the CuPy backend")
    x, y = data()

    def threads_used():
        probe = CountProbe(fake)
        mlp().fit(x, y, batch_size=128, verbose=0, callbacks=[probe])
        return set(probe.seen["train"])

    set_load(monkeypatch, others=1.0)
    assert threads_used() == {1}  # and it measures a busy neighbour on its way out
    # A snapshot that misses the neighbour does not override the measurement...
    monkeypatch.setattr(cpu_load, "others_now", lambda now=None: 0.0)
    assert threads_used() == {1}
    # ...nor does one that catches a neighbour's threads spinning down.
    set_load(monkeypatch, others=0.0)
    threads_used()  # measures a quiet machine
    monkeypatch.setattr(cpu_load, "others_now", lambda now=None: 1.0)
    assert threads_used() == {2}
    # Once the measurement is old, the snapshot decides.
    monkeypatch.setattr(threads, "REMEMBER_S", 0.0)
    assert threads_used() == {1}


def test_threaded_update_never_exceeds_the_free_cores(monkeypatch, fake, backend):
    if backend.name == "cupy":
        pytest.skip("the update is one pass on the GPU")
    monkeypatch.setenv("KERASETTE_NUM_THREADS", "3")
    monkeypatch.setattr(flat, "PARALLEL_MIN_SIZE", 1)
    set_load(monkeypatch, others=1.0, cores=4)  # three cores free
    model = mlp()
    x, y = data()
    model.fit(x, y, batch_size=128, verbose=0)
    # The free cores decide, not the BLAS count (the fake library's is 2):
    # KERASETTE_NUM_THREADS is asked for on its own, also beside
    # OPENBLAS_NUM_THREADS=1, as flat.elementwise_threads recommends.
    assert len(model.optimizer._pack.chunks) == 3
    set_load(monkeypatch, others=1.0, cores=2)
    model.fit(x, y, batch_size=128, verbose=0)
    assert len(model.optimizer._pack.chunks) == 1


# -- what the count changes in the results ---------------------------------------------------
def _trained_weights(count):
    keras.backend.set_blas_threads(count)
    model = mlp()
    x, y = data(rows=512)
    model.fit(x, y, batch_size=128, epochs=2, verbose=0, shuffle=False)
    return model.get_weights(), model.predict(x, batch_size=128, verbose=0)


def test_same_count_repeats_bit_for_bit(backend):
    if backend.name == "cupy":
        pytest.skip("host BLAS only")
    real_library()
    first, second = _trained_weights(2), _trained_weights(2)
    for a, b in zip(first[0] + [first[1]], second[0] + [second[1]]):
        np.testing.assert_array_equal(a, b)


def test_other_counts_agree_within_float32_rounding(backend):
    """OpenBLAS 0.3.31 sums float32 products in another order with another
    thread count (its results for 1, 2 and 4 threads differ in the last bits
    on the development machine), so only closeness is promised."""
    if backend.name == "cupy":
        pytest.skip("host BLAS only")
    real_library()
    one, two = _trained_weights(1), _trained_weights(2)
    for a, b in zip(one[0] + [one[1]], two[0] + [two[1]]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


# -- the pieces --------------------------------------------------------------------------------
def test_load_between_two_samples():
    a = cpu_load.Sample(wall=10.0, busy=100.0, own=5.0, running=1)
    b = cpu_load.Sample(wall=12.0, busy=103.0, own=6.0, running=1)
    # 3 s of CPU on our cores in 2 s, 1 s of it ours: one core's worth of others.
    assert cpu_load.others_between(a, b) == pytest.approx(1.0)
    too_soon = cpu_load.Sample(wall=10.1, busy=100.2, own=5.1, running=1)
    assert cpu_load.others_between(a, too_soon) is None
    assert cpu_load.others_between(None, b) is None
    idle = cpu_load.Sample(wall=12.0, busy=101.0, own=6.0, running=1)
    assert cpu_load.others_between(a, idle) == 0.0  # never negative


def test_readings_on_this_machine():
    assert cpu_load.usable_cores() >= 1
    assert cpu_load.others_now() >= 0
    now = cpu_load.sample()
    if now is not None:  # Linux
        assert now.busy > 0 and now.own > 0 and now.running >= 1


def test_library_get_and_set_round_trip():
    lib = real_library()
    before = lib.get()
    assert before >= 1
    lib.set(1)
    assert lib.get() == 1
    lib.set(before)
    assert lib.get() == before


def test_threaded_update_beside_one_blas_thread_keeps_its_threads(monkeypatch, backend):
    """OPENBLAS_NUM_THREADS=1 with KERASETTE_NUM_THREADS=2 (the setup
    flat.elementwise_threads recommends where BLAS threads spin): the
    update still splits over the two free cores."""
    if backend.name == "cupy":
        pytest.skip("the update is one pass on the GPU")
    monkeypatch.setattr(blas_library, "_found", [FakeLibrary(1)])
    set_load(monkeypatch, others=0.0, cores=2)
    monkeypatch.setenv("KERASETTE_NUM_THREADS", "2")
    monkeypatch.setattr(flat, "PARALLEL_MIN_SIZE", 1)
    model = mlp()
    x, y = data()
    model.fit(x, y, batch_size=128, verbose=0)
    assert len(model.optimizer._pack.chunks) == 2
