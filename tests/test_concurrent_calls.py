"""One model called from several threads (a web server's request threads, say).

`fit`, `evaluate`, `predict` and the `*_on_batch` methods each hold the
model's lock (training/trainer.py), so calls on one model run one after
another and each returns what it would return alone. Before, two threads
calling `evaluate` shared the model's metric state and got each other's
numbers in about half the calls. The lock is re-entrant (a callback may
call `predict` inside `fit`) and is not copied or pickled with the model.
"""

from __future__ import annotations

import copy
import pickle
import sys
import threading

import numpy as np
import pytest

import kerasette as keras

THREADS, CALLS = 4, 10


@pytest.fixture(autouse=True)
def switch_often():
    """Threads switch every 10 µs instead of 5 ms, so that unguarded calls
    would interleave their batches in every run, not now and then."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def trained_model(n=512, seed=0):
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)
    model = keras.Sequential([keras.layers.Dense(16, activation="relu", input_shape=(8,)),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    return model, x, y


def in_threads(call, threads=THREADS, calls=CALLS):
    """Every thread makes `calls` calls, all starting together; the results."""
    results, errors = [], []
    start = threading.Barrier(threads)

    def work():
        try:
            start.wait()
            for _ in range(calls):
                results.append(call())
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers), "a call never returned"
    assert not errors, errors[0]
    assert len(results) == threads * calls
    return results


def test_evaluate_from_four_threads_gives_the_single_thread_result():
    model, x, y = trained_model()
    alone = model.evaluate(x, y, batch_size=8, verbose=0)
    results = in_threads(lambda: model.evaluate(x, y, batch_size=8, verbose=0))
    assert all(result == alone for result in results), (alone, results)


def test_predict_and_evaluate_mixed_from_threads():
    model, x, y = trained_model()
    expected_out = model.predict(x, batch_size=16, verbose=0)
    expected_eval = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    calls = iter(range(10**6))

    def call():
        if next(calls) % 2:
            return ("predict", model.predict(x, batch_size=16, verbose=0))
        return ("evaluate", model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True))

    for kind, result in in_threads(call):
        if kind == "predict":
            np.testing.assert_array_equal(result, expected_out)
        else:
            assert result == expected_eval


def test_train_on_batch_from_threads_loses_no_step():
    model, x, y = trained_model()
    before = int(model.optimizer.iterations.numpy())
    in_threads(lambda: model.train_on_batch(x[:32], y[:32]))
    assert int(model.optimizer.iterations.numpy()) == before + THREADS * CALLS
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_a_callback_may_call_predict_inside_fit():
    model, x, y = trained_model()
    seen = []
    probe = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append(model.predict(x[:4], verbose=0).shape))
    model.fit(x, y, epochs=2, verbose=0, callbacks=[probe])  # the lock is re-entrant
    assert seen == [(4, 3), (4, 3)]


def test_a_failed_call_releases_the_lock():
    model, x, y = trained_model()
    with pytest.raises(ValueError):
        model.fit(x, y + 5, verbose=0)
    done = in_threads(lambda: model.evaluate(x, y, verbose=0), threads=2, calls=1)
    assert len(done) == 2


def test_copies_and_pickles_get_their_own_free_lock():
    model, x, y = trained_model()
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert twin._call_lock is not model._call_lock
        with model._call_lock:  # held here: the twin must not wait for it
            other = in_threads(lambda: twin.predict(x[:2], verbose=0), threads=1, calls=1)
        np.testing.assert_array_equal(other[0], model.predict(x[:2], verbose=0))
