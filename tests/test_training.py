"""compile/fit/evaluate/predict: inputs, options and what they report."""

import subprocess
import sys
import tracemalloc

import h5py
import numpy as np
import pytest

import kerasette as keras
from kerasette.autodiff import state

L = keras.layers


def small_classifier(n_in=4, n_out=3):
    return keras.Sequential([L.Dense(8, activation="relu", input_shape=(n_in,)),
                             L.Dense(n_out, activation="softmax")])


def data(n=64, n_in=4, n_out=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, n_in)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1).astype("int64")
    return x, np.minimum(y, n_out - 1)


def compiled(model=None, optimizer="adam", **kwargs):
    model = model or small_classifier()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], **kwargs)
    return model


def test_history_keys_epochs_and_params():
    x, y = data()
    model = compiled()
    history = model.fit(x, y, epochs=3, batch_size=16, validation_data=(x[:16], y[:16]),
                        verbose=0)
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert history.epoch == [0, 1, 2]
    assert history.params["epochs"] == 3 and history.params["steps"] == 4
    assert all(len(v) == 3 for v in history.history.values())
    assert model.history is history
    assert model.metrics_names == ["loss", "accuracy"]


def test_acc_alias_keeps_the_users_name():
    x, y = data()
    model = small_classifier()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["acc"])
    history = model.fit(x, y, epochs=1, verbose=0)
    assert "acc" in history.history and "accuracy" not in history.history


def test_training_lowers_the_loss_and_learns():
    x, y = data(256)
    model = compiled(optimizer=keras.optimizers.Adam(0.01))
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.9


def test_reported_loss_includes_regularization_and_weights():
    x, y = data(32)
    model = keras.Sequential([L.Dense(3, activation="softmax", input_shape=(4,),
                                      kernel_regularizer=keras.regularizers.l2(0.1))])
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    weights = np.linspace(0.5, 2.0, 32).astype("float32")
    history = model.fit(x, y, batch_size=32, epochs=1, sample_weight=weights, verbose=0)
    w, b = model.get_weights()
    logits = x.astype("float64") @ w + b
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    ce = -logp[np.arange(32), y]
    expected = (ce * weights).sum() / 32 + 0.1 * (w.astype("float64") ** 2).sum()
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)


def test_class_weight_weights_the_loss():
    x, y = data(32)
    model = small_classifier()
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    plain = model.evaluate(x, y, verbose=0)
    cw = {0: 2.0, 1: 2.0, 2: 2.0}
    history = model.fit(x, y, batch_size=32, epochs=1, class_weight=cw, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], 2 * plain, rtol=1e-5)
    with pytest.raises(ValueError, match="class_weight"):
        model.fit(x, y, class_weight={"a": 1.0}, verbose=0)


def test_uint8_images_are_cast_per_batch_not_copied_whole():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(20000, 784), dtype=np.uint8)  # 15.7 MB; float32 would be 63 MB
    y = rng.integers(0, 10, size=20000)
    model = keras.Sequential([L.Dense(4, activation="relu", input_shape=(784,)),
                              L.Dense(10, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    tracemalloc.start()
    model.fit(x, y, batch_size=256, epochs=1, verbose=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 12e6, f"fit allocated {peak / 1e6:.1f} MB at peak"


def test_h5py_dataset_is_read_batch_by_batch(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as f:
        f["x"] = rng.standard_normal((12000, 256)).astype("float32")  # 12 MB
        f["y"] = rng.integers(0, 3, size=12000)
    model = keras.Sequential([L.Dense(3, activation="softmax", input_shape=(256,))])
    model.compile("adam", "sparse_categorical_crossentropy")
    with h5py.File(path, "r") as f:
        tracemalloc.start()
        history = model.fit(f["x"], f["y"], batch_size=500, epochs=2, shuffle=True, verbose=0)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak < 6e6, f"fit allocated {peak / 1e6:.1f} MB at peak"
        assert np.isfinite(history.history["loss"]).all()
        assert model.predict(f["x"], batch_size=4000, verbose=0).shape == (12000, 3)


def test_lists_generators_and_sequences():
    x, y = data(40)
    model = compiled()
    model.fit(x.tolist(), y.tolist(), epochs=1, verbose=0)

    def gen():
        while True:
            for i in range(0, 40, 8):
                yield x[i:i + 8], y[i:i + 8]

    h = model.fit(gen(), steps_per_epoch=5, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2

    class Batches(keras.utils.Sequence):
        def __init__(self):
            self.ends = 0

        def __len__(self):
            return 5

        def __getitem__(self, i):
            return x[i * 8:(i + 1) * 8], y[i * 8:(i + 1) * 8]

        def on_epoch_end(self):
            self.ends += 1

    seq = Batches()
    h = model.fit(seq, epochs=3, verbose=0)
    assert seq.ends == 3 and h.params["steps"] == 5
    assert model.evaluate(seq, verbose=0)[0] > 0


def test_validation_split_takes_the_last_fraction_and_warns_on_sorted_labels():
    x, _ = data(50)
    y_sorted = np.repeat([0, 1, 2], [20, 20, 10])  # sorted by class, like the Iris CSV
    model = compiled(optimizer=keras.optimizers.SGD(0.0))
    with pytest.warns(UserWarning, match="one class"):
        h = model.fit(x, y_sorted, validation_split=0.2, epochs=1, verbose=0)
    val_loss = model.evaluate(x[40:], y_sorted[40:], verbose=0)[0]
    np.testing.assert_allclose(h.history["val_loss"][0], val_loss, rtol=1e-6)


def test_initial_epoch_and_validation_freq():
    x, y = data()
    model = compiled()
    h = model.fit(x, y, epochs=5, initial_epoch=2, validation_data=(x, y),
                  validation_freq=2, verbose=0)
    assert h.epoch == [2, 3, 4]
    assert len(h.history["loss"]) == 3 and len(h.history["val_loss"]) == 1


def test_evaluate_predict_and_batch_methods():
    x, y = data()
    model = compiled()
    loss, acc = model.evaluate(x, y, verbose=0)
    assert isinstance(loss, float) and 0 <= acc <= 1
    d = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(d) == ["loss", "accuracy"] and d["loss"] == pytest.approx(loss)
    pred = model.predict(x, batch_size=10, verbose=0)
    assert isinstance(pred, np.ndarray) and pred.dtype == np.float32 and pred.shape == (64, 3)
    np.testing.assert_allclose(pred, model(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x[:5]), pred[:5], rtol=1e-6)
    before = model.get_weights()
    out = model.train_on_batch(x[:16], y[:16])
    assert len(out) == 2
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.test_on_batch(x[:16], y[:16], return_dict=True).keys() == {"loss", "accuracy"}
    model.compile("adam", "sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y, verbose=0), float)


def test_inference_builds_no_graph():
    x, y = data()
    model = compiled()

    class Spy(keras.callbacks.Callback):
        seen = []

        def on_predict_batch_end(self, batch, logs=None):
            self.seen.append(state.recording())

        def on_test_batch_end(self, batch, logs=None):
            self.seen.append(state.recording())

    model.predict(x, verbose=0, callbacks=[Spy()])
    model.evaluate(x, y, verbose=0, callbacks=[Spy()])
    assert Spy.seen and not any(Spy.seen)
    out = model(x)
    assert out._parents == () and out._backward is None


def test_errors_before_any_work():
    x, y = data()
    model = small_classifier()
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(x, y, verbose=0)
    model = compiled()
    before = model.get_weights()
    with pytest.raises(ValueError, match="cardinality"):
        model.fit(x, y[:10], verbose=0)
    for kwargs, word in (({"batch_size": 0}, "batch_size"), ({"epochs": -1}, "epochs"),
                         ({"validation_split": 1.5}, "validation_split")):
        with pytest.raises(ValueError, match=word):
            model.fit(x, y, verbose=0, **kwargs)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_seeded_runs_repeat_bit_for_bit():
    x, y = data()

    def run():
        keras.utils.set_random_seed(3)
        model = keras.Sequential([L.Dense(8, activation="relu", input_shape=(4,)),
                                  L.Dropout(0.3), L.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_verbose_auto_to_a_file_writes_one_line_per_epoch(tmp_path, backend):
    if backend.name != "numpy":
        pytest.skip("runs a subprocess; once is enough")
    script = (
        "import numpy as np, kerasette as keras\n"
        "x = np.random.default_rng(0).standard_normal((2000, 4)).astype('float32')\n"
        "y = (x[:, 0] > 0).astype('int64')\n"
        "m = keras.Sequential([keras.layers.Dense(2, activation='softmax', input_shape=(4,))])\n"
        "m.compile('adam', 'sparse_categorical_crossentropy', metrics=['accuracy'])\n"
        "m.fit(x, y, epochs=3, batch_size=8, validation_split=0.1)\n"
    )
    out = tmp_path / "log.txt"
    with open(out, "w") as f:
        subprocess.run([sys.executable, "-c", script], stdout=f, stderr=subprocess.STDOUT,
                       check=True, timeout=120)
    text = out.read_text()
    assert "\r" not in text
    lines = [line for line in text.splitlines() if line.strip()]
    assert 3 <= len(lines) <= 8, text
    assert "val_accuracy" in lines[-1]
