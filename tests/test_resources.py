"""Resources: repeated fit/predict/evaluate calls do not grow memory.

Each step's autodiff graph and saved activations must be released when the
step ends, by reference counting alone (no reference cycles left for the
garbage collector), and nothing may accumulate across `fit` calls.
"""

from __future__ import annotations

import gc
import os
import tracemalloc
import weakref

import numpy as np
import pytest

import kerasette as keras
from kerasette.autodiff.tensor import Tensor

ROWS, BATCH = 256, 32


@pytest.fixture
def once(backend):
    if backend.name != "numpy":
        pytest.skip("measured once, on the numpy backend")


class Probe(keras.layers.Layer):
    """Passes its input on, keeping weak references to what it produced."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.outputs = []

    def call(self, inputs):
        out = inputs * 1.0
        self.outputs.append(weakref.ref(out))
        return out


def _model_and_data(probe=False):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, 16)).astype("float32")
    y = (x[:, :4].sum(axis=1) > 0).astype("float32")
    model = keras.Sequential([
        keras.layers.Dense(32, activation="relu", input_shape=(16,)),
        keras.layers.Dropout(0.2),
        keras.layers.BatchNormalization(),
        *([Probe()] if probe else []),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model, x, y


def _round(model, x, y, epochs=10):
    """One fit call (with validation), one predict, one evaluate."""
    model.fit(x, y, batch_size=BATCH, epochs=epochs, validation_split=0.25, verbose=0)
    model.predict(x, batch_size=BATCH, verbose=0)
    model.evaluate(x, y, batch_size=BATCH, verbose=0)


PACKAGE = os.path.dirname(os.path.abspath(keras.__file__))


def _live_tensors() -> int:
    return sum(isinstance(obj, Tensor) for obj in gc.get_objects())


def _measure() -> dict:
    """Traced bytes now: in all, of NumPy array buffers, of objects made by kerasette.

    "Made by kerasette" means allocated with a kerasette line as the innermost
    Python frame; what NumPy's own caches hold is traced to NumPy's wrappers.
    """
    gc.collect()  # also empties the interpreter's free lists: the same start each time
    snapshot = tracemalloc.take_snapshot()
    arrays = snapshot.filter_traces([tracemalloc.DomainFilter(True, np.lib.tracemalloc_domain)])
    ours = snapshot.filter_traces([tracemalloc.Filter(True, os.path.join(PACKAGE, "*"))])
    return {"total": tracemalloc.get_traced_memory()[0],
            "arrays": sum(t.size for t in arrays.traces),
            "kerasette": sum(t.size for t in ours.traces),
            "tensors": _live_tensors()}


def _peak_of_a_round(model, x, y) -> int:
    gc.collect()
    tracemalloc.reset_peak()
    _round(model, x, y)
    return tracemalloc.get_traced_memory()[1]


def test_memory_stays_flat_over_200_more_epochs(once):
    model, x, y = _model_and_data()
    _round(model, x, y)  # warm-up: optimizer slots and packs, scratch buffers, metrics
    tracemalloc.start()
    try:
        _round(model, x, y)
        before = _measure()
        peak_first = _peak_of_a_round(model, x, y)
        for _ in range(18):
            _round(model, x, y)
        peak_last = _peak_of_a_round(model, x, y)  # the 20th round of 10 epochs
        after = _measure()
    finally:
        tracemalloc.stop()
    print(f"\nafter 200 more epochs (1200 steps, 20 fit + predict + evaluate calls): "
          f"{before} -> {after}; peak of a round {peak_first} -> {peak_last} B")
    assert int(model.optimizer.iterations) == 22 * 10 * (ROWS * 3 // 4) // BATCH
    assert after["tensors"] == before["tensors"]  # no step left a tensor behind
    assert after["arrays"] - before["arrays"] < 4096  # nor an array buffer
    assert after["kerasette"] - before["kerasette"] < 2048  # nor an object of ours
    # The rest is NumPy's internal caches filling up (bounded, about 25 KB);
    # anything kept per step would add 1200 times its size.
    assert after["total"] - before["total"] < 64 * 1024
    assert peak_last - peak_first < 64 * 1024


def test_steps_leave_nothing_for_the_garbage_collector(once):
    model, x, y = _model_and_data(probe=True)
    _round(model, x, y, epochs=1)
    probe = model.layers[3]
    probe.outputs.clear()
    gc.collect()
    gc.disable()  # whatever is freed now is freed by reference counting
    gc.set_debug(gc.DEBUG_SAVEALL)  # and what a collection finds is kept to look at
    try:
        _round(model, x, y, epochs=2)
        alive = [ref for ref in probe.outputs if ref() is not None]
        gc.collect()
        cyclic = [obj for obj in gc.garbage if isinstance(obj, Tensor)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert len(probe.outputs) > 10  # training, validation, predict and evaluate batches
    assert alive == []  # every step's tensors died with the step
    assert cyclic == []  # none was kept alive by a reference cycle
