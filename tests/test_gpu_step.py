"""On the CuPy backend a training step never waits for the GPU (GPU only).

Reading a value back (`float(x)`, `x.get()`, `bool(x)`) makes the host wait
for every queued kernel, which turns the GPU's queue into a sequence of
stalls. `cupyx.allow_synchronize(False)` makes CuPy raise instead; the
callback below holds it from `on_train_batch_begin` to
`on_train_batch_end`, which is exactly one step (the batch was already
fetched and moved before the first hook).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import kerasette as keras


@pytest.fixture
def cupyx(backend):
    if backend.name != "cupy":
        pytest.skip("checks the CuPy backend's training step")
    import cupyx

    if not hasattr(cupyx, "allow_synchronize"):
        pytest.skip("this CuPy has no cupyx.allow_synchronize")
    return cupyx


class _NoSync(keras.callbacks.Callback):
    def __init__(self, cupyx):
        super().__init__()
        self.cupyx = cupyx
        self.context = None
        self.steps = 0

    def on_train_batch_begin(self, batch, logs=None):
        self.context = self.cupyx.allow_synchronize(False)
        with warnings.catch_warnings():
            # CuPy 14 warns that the detector will go: it catches the
            # explicit read-backs (get, item, float, bool), which is what
            # this test is after, not every implicit wait.
            warnings.simplefilter("ignore", UserWarning)
            self.context.__enter__()

    def on_train_batch_end(self, batch, logs=None):
        self.context.__exit__(None, None, None)  # logs are lazy: not read here
        self.steps += 1


def _data(n=96):
    rng = np.random.default_rng(0)
    return rng.random((n, 12), dtype=np.float32), rng.integers(0, 3, n)


@pytest.mark.parametrize("variant", ["direct", "batchnorm", "categorical", "sgd", "rmsprop"])
def test_a_training_step_never_synchronizes(cupyx, variant):
    L = keras.layers
    layers = [L.Dense(16, activation="relu", input_shape=(12,))]
    if variant == "batchnorm":  # the general (tape) path
        layers.append(L.BatchNormalization())
    layers += [L.Dense(8, activation="tanh"), L.Dropout(0.2), L.Dense(3, activation="softmax")]
    model = keras.Sequential(layers)
    optimizer = {"sgd": keras.optimizers.SGD(0.1, momentum=0.9),
                 "rmsprop": keras.optimizers.RMSprop()}.get(variant, "adam")
    x, y = _data()
    loss = "sparse_categorical_crossentropy"
    if variant == "categorical":
        loss, y = "categorical_crossentropy", keras.utils.to_categorical(y, 3)
    model.compile(optimizer, loss, metrics=["accuracy"])
    probe = _NoSync(cupyx)
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[probe])
    assert probe.steps == 12
    assert np.isfinite(history.history["loss"]).all()
