"""What `fit` skips every epoch to stay cheap, and that nothing observable changes.

Per-epoch hooks go only to the callbacks that override them; a shuffled
epoch of one batch yields the rows in order (its sorted indices) while still
drawing its permutation, so the host generator's stream is what it was.
"""

from __future__ import annotations

import numpy as np

import kerasette as keras
from kerasette.training import data as data_module


def test_epoch_hooks_reach_the_callbacks_that_implement_them(backend):
    seen = []

    class Hooks(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(("epoch_begin", epoch))

        def on_test_begin(self, logs=None):
            seen.append(("test_begin",))

        def on_test_end(self, logs=None):
            seen.append(("test_end", sorted(logs)))

    lam = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(("lam", e)))
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    y = np.arange(6, dtype=np.float32).reshape(6, 1)
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, validation_data=(x, y),
              callbacks=[Hooks(), lam])
    assert seen == [("epoch_begin", 0), ("lam", 0), ("test_begin",), ("test_end", ["loss"]),
                    ("epoch_begin", 1), ("lam", 1), ("test_begin",), ("test_end", ["loss"])]
    # A callback appended later is heard too.
    cbs = keras.callbacks.CallbackList([], verbose=0, epochs=1, steps=1)
    cbs.append(Hooks())
    cbs.on_epoch_begin(5)
    cbs.on_test_begin()
    assert seen[-2:] == [("epoch_begin", 5), ("test_begin",)]


def test_a_shuffled_single_batch_epoch_keeps_rows_and_random_stream(backend):
    x = np.arange(10, dtype=np.float32).reshape(5, 2)
    y = np.arange(5, dtype=np.int64)
    for batch_size in (5, 8):
        data = data_module.make_data(x, y, None, batch_size, shuffle=True)
        keras.utils.set_random_seed(11)
        (batch,) = list(data.epoch())
        after = keras.backend.host_rng().random()
        keras.utils.set_random_seed(11)
        keras.backend.host_rng().permutation(5)  # what the epoch must still draw
        assert after == keras.backend.host_rng().random()
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(batch.x), x)
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(batch.y), y)
    # Several batches still shuffle (each batch's indices sorted).
    data = data_module.make_data(x, y, None, 2, shuffle=True)
    keras.utils.set_random_seed(11)
    rows = np.concatenate([keras.ops.convert_to_numpy(b.y) for b in data.epoch()])
    keras.utils.set_random_seed(11)
    order = keras.backend.host_rng().permutation(5)
    expected = np.concatenate([np.sort(order[:2]), np.sort(order[2:4]), order[4:]])
    np.testing.assert_array_equal(rows, expected)
