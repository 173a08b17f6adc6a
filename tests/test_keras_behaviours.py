"""tf.keras 2 behaviours that course scripts rely on (issue 15, section 3).

`model.input_shape` / `output_shape`, pickling and copying models,
formatting 0-d tensors, a built model nested in a new Sequential, and
`keras.wrappers` after a plain `import kerasette`. Every test runs on each
backend of the conftest fixture.
"""

from __future__ import annotations

import copy
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import kerasette as keras
from kerasette import backend as K
from kerasette import layers, ops

KERASETTE_PARENT = Path(keras.__file__).resolve().parent.parent


def _data(n=48, features=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = rng.integers(0, classes, size=n)
    return x, y


def _weights_equal(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    return len(wa) == len(wb) and all(
        x.dtype == y.dtype and np.array_equal(x, y) for x, y in zip(wa, wb))


def _fit_one_epoch(model, x, y, seed=7):
    keras.utils.set_random_seed(seed)  # shuffling and dropout draw the same numbers
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)


# -- 1. input_shape and output_shape -------------------------------------------------------------
def test_sequential_shapes_are_tf_keras_tuples():
    model = keras.Sequential([layers.Dense(8, input_shape=(4,)), layers.Dense(1)])
    assert model.input_shape == (None, 4)
    assert model.output_shape == (None, 1)
    assert [(lay.input_shape, lay.output_shape) for lay in model.layers] == [
        ((None, 4), (None, 8)), ((None, 8), (None, 1))]
    assert all(type(d) is int for d in model.output_shape[1:])  # plain ints, not NumPy's


def test_flatten_and_conv_layers_report_their_shapes():
    model = keras.Sequential([layers.Flatten(input_shape=(28, 28)), layers.Dense(10)])
    assert model.layers[0].output_shape == (None, 784)
    assert model.output_shape == (None, 10)

    cnn = keras.Sequential([
        layers.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    assert cnn.input_shape == (None, 28, 28, 1)
    assert [lay.output_shape for lay in cnn.layers] == [
        (None, 26, 26, 32), (None, 13, 13, 32), (None, 5408), (None, 10)]
    assert cnn.layers[1].input_shape == (None, 26, 26, 32)


def test_keras_input_and_a_declared_batch_size():
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(2)])
    assert (model.input_shape, model.output_shape) == ((None, 4), (None, 2))
    fixed = keras.Sequential([layers.Dense(2, input_shape=(4,), batch_size=16)])
    assert (fixed.input_shape, fixed.output_shape) == ((16, 4), (16, 2))


def test_shapes_before_any_input_are_attribute_errors():
    model = keras.Sequential([layers.Dense(8), layers.Dense(1)])
    for obj, attr in [(model, "input_shape"), (model, "output_shape"),
                      (model.layers[0], "input_shape"), (layers.Dense(3), "output_shape")]:
        with pytest.raises(AttributeError, match="has never been called"):
            getattr(obj, attr)
    assert not hasattr(model, "input_shape")  # what scripts test before printing it


def test_shapes_once_built_from_data_have_a_none_batch():
    x = np.ones((6, 5), "float32")
    called = keras.Sequential([layers.Dense(8), layers.Dense(1)])
    called(x)
    assert (called.input_shape, called.output_shape) == ((None, 5), (None, 1))
    assert called.layers[1].input_shape == (None, 8)

    fitted = keras.Sequential([layers.Dense(3)])
    fitted.compile("sgd", "mse")
    fitted.fit(x, np.zeros((6, 3), "float32"), verbose=0)
    assert (fitted.input_shape, fitted.output_shape) == ((None, 5), (None, 3))

    dense = layers.Dense(2)
    dense(x)
    assert (dense.input_shape, dense.output_shape) == ((None, 5), (None, 2))


def test_subclassed_model_shapes_after_a_call_or_fit():
    x = np.ones((6, 4), "float32")
    net = Net()
    net(x)
    assert (net.input_shape, net.output_shape) == ((None, 4), (None, 3))
    fitted = Net()
    fitted.compile("sgd", "mse")
    fitted.fit(x, np.zeros((6, 3), "float32"), verbose=0)
    assert (fitted.input_shape, fitted.output_shape) == ((None, 4), (None, 3))


# -- 2. pickle and copy.deepcopy -------------------------------------------------------------------
class Net(keras.Model):
    """A subclassed model at module level, so pickle can find its class."""

    def __init__(self, units=3):
        super().__init__()
        self.hidden = layers.Dense(8, activation="relu")
        self.drop = layers.Dropout(0.25)
        self.out = layers.Dense(units, activation="softmax")

    def call(self, x, training=None):
        return self.out(self.drop(self.hidden(x), training=training))


def _pickled(obj):
    return pickle.loads(pickle.dumps(obj))


COPIERS = {"pickle": _pickled, "deepcopy": copy.deepcopy}


def _mlp():
    return keras.Sequential([
        layers.Dense(8, activation="relu", input_shape=(4,)),
        layers.BatchNormalization(),
        layers.Dropout(0.25),
        layers.Dense(3, activation="softmax"),
    ])


def _assert_same_optimizer_state(a, b):
    va, vb = a.optimizer.variables, b.optimizer.variables
    assert [v.name for v in va] == [v.name for v in vb]
    assert all(np.array_equal(x.numpy(), y.numpy()) for x, y in zip(va, vb))
    assert int(b.optimizer.iterations) == int(a.optimizer.iterations) > 0


@pytest.mark.parametrize("copier", sorted(COPIERS))
def test_copy_of_a_trained_model_is_the_same_and_trains_on_identically(backend, copier):
    x, y = _data()
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    _fit_one_epoch(model, x, y, seed=1)
    twin = COPIERS[copier](model)

    assert twin is not model and twin.to_json() == model.to_json()
    assert _weights_equal(model, twin)
    assert twin.metrics_names == model.metrics_names == ["loss", "accuracy"]
    assert twin.optimizer.get_config() == model.optimizer.get_config()
    _assert_same_optimizer_state(model, twin)
    assert twin.history.history == model.history.history
    assert all(isinstance(w.data, backend.array_type) for w in twin.weights)

    slot_count = len(twin.optimizer.variables)
    _fit_one_epoch(model, x, y)
    _fit_one_epoch(twin, x, y)
    assert _weights_equal(model, twin)  # bit for bit
    _assert_same_optimizer_state(model, twin)
    assert len(twin.optimizer.variables) == slot_count  # the copied slots were used
    assert twin.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


@pytest.mark.parametrize("copier", sorted(COPIERS))
def test_copy_is_independent_of_the_original(copier):
    x, y = _data()
    model = _mlp()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    _fit_one_epoch(model, x, y)
    before = model.get_weights()
    twin = COPIERS[copier](model)
    _fit_one_epoch(twin, x, y)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert not _weights_equal(model, twin)


@pytest.mark.parametrize("copier", sorted(COPIERS))
def test_copies_of_unbuilt_and_uncompiled_models(copier):
    x, y = _data()
    unbuilt = keras.Sequential([layers.Dense(8, activation="relu"), layers.Dense(3)])
    twin = COPIERS[copier](unbuilt)
    assert not twin.built and twin.metrics_names == []
    twin.build((None, 4))
    assert twin.count_params() == 67

    built = _mlp()
    twin = COPIERS[copier](built)
    assert twin.built and not twin._compiled and _weights_equal(built, twin)
    np.testing.assert_array_equal(twin.predict(x, verbose=0), built.predict(x, verbose=0))

    # Compiled, not yet built nor trained: both build and train the same way.
    lazy = keras.Sequential([layers.Dense(8, activation="relu"), layers.Dense(3)])
    lazy.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    twin = COPIERS[copier](lazy)
    for m in (lazy, twin):
        keras.utils.set_random_seed(3)  # the same initial weights
        _fit_one_epoch(m, x, y)
    assert _weights_equal(lazy, twin)


@pytest.mark.parametrize("copier", sorted(COPIERS))
def test_copy_of_a_subclassed_model(copier):
    x, y = _data()
    net = Net()
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
    _fit_one_epoch(net, x, y)
    twin = COPIERS[copier](net)
    assert type(twin) is Net and [lay.name for lay in twin.layers] == [
        lay.name for lay in net.layers]
    assert _weights_equal(net, twin)
    _assert_same_optimizer_state(net, twin)
    _fit_one_epoch(net, x, y)
    _fit_one_epoch(twin, x, y)
    assert _weights_equal(net, twin)


@pytest.mark.parametrize("copier", sorted(COPIERS))
def test_copied_optimizer_keeps_every_kind_of_state(copier):
    """Momentum slots, EMA, clipping, a schedule, and variables exempted from
    weight decay before the optimizer was built (kept by object, not id)."""
    x, y = _data()
    schedule = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=2, decay_rate=0.5)
    for optimizer in (keras.optimizers.SGD(learning_rate=schedule, momentum=0.9, nesterov=True),
                      keras.optimizers.Adam(use_ema=True, clipnorm=1.0)):
        model = _mlp()
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        _fit_one_epoch(model, x, y)
        twin = COPIERS[copier](model)
        _assert_same_optimizer_state(model, twin)
        _fit_one_epoch(model, x, y)
        _fit_one_epoch(twin, x, y)
        assert _weights_equal(model, twin)

    model = _mlp()
    adamw = keras.optimizers.AdamW(learning_rate=0.05, weight_decay=0.5)
    adamw.exclude_from_weight_decay(var_list=[model.layers[0].kernel])
    model.compile(optimizer=adamw, loss="sparse_categorical_crossentropy")
    twin = COPIERS[copier](model)
    assert twin.optimizer._use_weight_decay(twin.layers[0].kernel) is False
    assert twin.optimizer._use_weight_decay(twin.layers[3].kernel) is True
    _fit_one_epoch(model, x, y)
    _fit_one_epoch(twin, x, y)
    assert _weights_equal(model, twin)


@pytest.mark.parametrize("copier", sorted(COPIERS))
def test_copy_keeps_metric_state(copier):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    model = keras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["accuracy", keras.metrics.AUC(), keras.metrics.Precision(),
                           keras.metrics.Recall()])
    _fit_one_epoch(model, x, y)
    twin = COPIERS[copier](model)
    assert [float(m.result()) for m in twin.metrics] == [float(m.result()) for m in model.metrics]
    assert twin.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


def test_pickled_weights_land_on_the_backend_active_at_load(backend):
    model = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    _fit_one_epoch(model, *_data())
    blob = pickle.dumps(model)
    expected = model.get_weights()
    K.set_backend("numpy")  # a CPU-only worker loading what a GPU process sent
    try:
        loaded = pickle.loads(blob)
        assert all(type(v.data) is np.ndarray for v in loaded.weights + loaded.optimizer.variables)
        assert all(np.array_equal(a, b) for a, b in zip(expected, loaded.get_weights()))
        _fit_one_epoch(loaded, *_data())  # and trains there
    finally:
        K.set_backend(backend.name)


def test_tensors_and_variables_copy_as_values(backend):
    v = keras.Variable([1.0, 2.0], name="w:0", trainable=False)
    for twin in (_pickled(v), copy.deepcopy(v)):
        assert type(twin) is keras.Variable and twin.name == "w:0" and not twin.trainable
        assert isinstance(twin.data, backend.array_type) and twin.dtype == np.float32
        twin.assign([5.0, 6.0])
        np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])

    w = keras.Variable([3.0])
    with keras.GradientTape() as tape:
        y = w * w
    for twin in (_pickled(y), copy.deepcopy(y)):  # a value, without the autodiff links
        assert twin._parents == () and twin._backward is None
        np.testing.assert_array_equal(twin.numpy(), [9.0])
    assert tape.gradient(y, w).numpy().tolist() == [6.0]


# -- 3. formatting and Python numbers ------------------------------------------------------------
def test_format_a_0d_tensor_like_a_number():
    t = ops.convert_to_tensor(1.23456)
    assert f"{t:.4f}" == "1.2346" and format(t, ".3f") == "1.235"
    assert f"{t:>8.2f}" == "    1.23" and f"{t:.1%}" == "123.5%"
    assert f"{t}" == format(np.float32(1.23456).item(), "")  # as NumPy and TF print it
    metric = keras.metrics.Mean()
    metric.update_state([1.0, 2.0])
    assert f"Loss: {metric.result():.4f}" == "Loss: 1.5000"  # the TF quickstart's line
    acc = keras.metrics.SparseCategoricalAccuracy()
    acc.update_state([1, 0], [[0.2, 0.8], [0.4, 0.6]])
    assert f"{acc.result() * 100:.2f}%" == "50.00%"


def test_float_int_and_round_of_a_0d_tensor():
    t = ops.convert_to_tensor(1.23456)
    assert float(t) == pytest.approx(1.23456) and type(float(t)) is float
    assert int(ops.convert_to_tensor(7.9)) == 7
    assert round(t, 3) == 1.235 and type(round(t, 3)) is float
    assert round(t) == 1 and type(round(t)) is int
    assert round(ops.convert_to_tensor(5, dtype="int32"), 1) == 5


def test_format_of_a_tensor_that_is_not_0d():
    t = ops.convert_to_tensor([1.5, 2.0])
    with pytest.raises(TypeError, match=r"shape \(2,\)"):
        format(t, ".3f")
    with pytest.raises(TypeError, match=r"shape \(2, 1\)"):
        f"{ops.ones((2, 1)):.2f}"  # noqa: B018 - the f-string is the check
    with pytest.raises(TypeError, match=r"0-d tensor.*shape \(2,\)"):
        round(t, 3)
    assert format(t, "") == f"{t}" == str(t.numpy())  # the array's text, as TensorFlow's


# -- 4. a built model nested in a new Sequential ------------------------------------------------
def _base():
    return keras.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                             layers.Dense(6, activation="relu")], name="base")


def test_built_model_in_a_new_sequential_is_built_at_once():
    base = _base()
    model = keras.Sequential([base, layers.Dense(1, activation="sigmoid")])
    assert model.built and model.input_shape == (None, 4) and model.output_shape == (None, 1)
    assert len(model.trainable_weights) == 6 and model.count_params() == 40 + 54 + 7

    added = keras.Sequential()
    added.add(_base())
    added.add(layers.Dense(1))
    assert added.built and len(added.trainable_weights) == 6

    base.trainable = False  # before training, as the transfer-learning tutorials do
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 4
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "base (Sequential)" in text and "(None, 6)" in text
    assert "Total params: 101" in text and "Trainable params: 7 " in text
    assert "Non-trainable params: 94 " in text


def test_nested_model_trains_and_stays_frozen():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("float32")
    base = _base()
    model = keras.Sequential([base, layers.Dense(1, activation="sigmoid")])
    base.trainable = False
    model.compile(optimizer="adam", loss="binary_crossentropy")
    frozen, head = base.get_weights(), model.layers[1].get_weights()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(frozen, base.get_weights()))
    assert not all(np.array_equal(a, b) for a, b in zip(head, model.layers[1].get_weights()))

    base.trainable = True  # fine-tuning: recompile, then everything trains
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert not any(np.array_equal(a, b) for a, b in zip(frozen, base.get_weights()))


def test_unbuilt_model_in_a_new_sequential_waits_for_its_input():
    inner = keras.Sequential([layers.Dense(3)])  # no input shape: as tf.keras, not built
    model = keras.Sequential([inner, layers.Dense(1)])
    assert not model.built
    model.build((None, 5))
    assert model.count_params() == 18 + 4


# -- 5. keras.wrappers after a plain import -------------------------------------------------------
def test_wrappers_load_on_first_use_only(backend):
    if backend.name != "numpy":
        pytest.skip("backend-independent; runs on the numpy backend")
    pytest.importorskip("sklearn")
    code = (
        "import sys\n"
        "import kerasette as keras\n"
        "loaded = sorted(m for m in sys.modules\n"
        "                if m.split('.')[0] == 'sklearn' or m.startswith('kerasette.wrappers'))\n"
        "assert loaded == [], loaded\n"
        "assert 'wrappers' in dir(keras)\n"
        "from kerasette.wrappers.scikit_learn import KerasClassifier, KerasRegressor\n"
        "assert keras.wrappers.KerasClassifier is KerasClassifier\n"
        "assert keras.wrappers.scikit_learn.KerasClassifier is KerasClassifier\n"
        "assert keras.wrappers.scikit_learn.KerasRegressor is KerasRegressor\n"
        "try:\n"
        "    keras.no_such_thing\n"
        "except AttributeError as err:\n"
        "    assert 'no_such_thing' in str(err), err\n"
        "else:\n"
        "    raise AssertionError('expected an AttributeError')\n"
        "print('ok')\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(KERASETTE_PARENT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
