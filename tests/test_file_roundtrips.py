"""Every layer type and every optimizer through `model.save("x.h5")` and
`load_model`: same config, same weights bit for bit, same predictions,
same optimizer state and compiled state, and training that goes on exactly
as it would have without the file in between."""

import h5py
import numpy as np
import pytest

import kerasette as keras
from kerasette import activations
from kerasette.saving.training_config import training_config

L = keras.layers
R = keras.regularizers

ACTIVATIONS = [name for name in activations.__all__
               if name not in ("get", "serialize", "deserialize")]


def _data(in_shape, out_units, n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n,) + in_shape).astype("float32")
    y = rng.uniform(-1, 1, (n, out_units)).astype("float32")
    return x, y


def _fit(model, x, y, steps):
    """`steps` batches of 8, in order, with the same dropout masks each time."""
    keras.utils.set_random_seed(11)
    model.fit(x[:8 * steps], y[:8 * steps], batch_size=8, epochs=1, shuffle=False, verbose=0)


def _assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb):
        assert u.dtype == v.dtype
        np.testing.assert_array_equal(u, v)


def _assert_same_optimizer(a, b, just_loaded=False):
    va, vb = a.optimizer.variables, b.optimizer.variables
    assert [v.name for v in va] == [v.name for v in vb]
    # SGD without momentum: its `m` slot (the last step) is write-only, and the
    # .h5 holds the step count alone, as tf.keras 2's legacy SGD wants (issue 24).
    write_only = just_loaded and type(a.optimizer).__name__ == "SGD" and not a.optimizer.momentum
    for u, v in zip(va, vb):
        if not (write_only and "/m/" in u.name):
            np.testing.assert_array_equal(u.numpy(), v.numpy())
    assert type(a.optimizer) is type(b.optimizer)
    assert a.optimizer.get_config() == b.optimizer.get_config()


def round_trip(model, x, y, path):
    """Trains two steps, saves, loads and checks everything; then one more
    step on each model must give the same weights and optimizer state."""
    _fit(model, x, y, 2)
    model.save(path)
    loaded = keras.models.load_model(path)

    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    _assert_same_weights(model, loaded)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.metrics_names == model.metrics_names
    assert training_config(loaded) == training_config(model)
    assert int(loaded.optimizer.iterations.numpy()) == 2
    _assert_same_optimizer(model, loaded, just_loaded=str(path).endswith(".h5"))

    _fit(model, x[16:], y[16:], 1)
    _fit(loaded, x[16:], y[16:], 1)
    _assert_same_weights(model, loaded)
    _assert_same_optimizer(model, loaded)
    return loaded


# -- layers ----------------------------------------------------------------------------


def _regression(model, optimizer=None):
    model.compile(optimizer or keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    return model


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_with_each_activation(tmp_path, activation):
    model = _regression(keras.Sequential([
        L.Dense(6, activation=activation, input_shape=(5,)),
        L.Dense(2),
    ]))
    x, y = _data((5,), 2)
    loaded = round_trip(model, x, y, tmp_path / "m.h5")
    assert loaded.layers[0].get_config()["activation"] == activation


LAYER_MODELS = {
    "dense_regularizers": lambda: [
        L.Dense(6, activation="relu", input_shape=(5,), kernel_regularizer=R.l1(0.01),
                bias_regularizer=R.l2(0.02), activity_regularizer=R.l1_l2(0.001, 0.002)),
        L.Dense(2, use_bias=False, kernel_regularizer=R.L1L2(l1=0.003),
                kernel_initializer="he_normal"),
    ],
    "activation_layer": lambda: [
        L.Dense(6, input_shape=(5,)), L.Activation("tanh"), L.Dense(2), L.Activation("linear"),
    ],
    "dropout": lambda: [
        L.Dense(6, activation="relu", input_shape=(5,)), L.Dropout(0.3), L.Dense(2),
    ],
    "flatten": lambda: [
        L.Flatten(input_shape=(5, 1)), L.Dense(4, activation="sigmoid"), L.Dense(2),
    ],
    "reshape": lambda: [
        keras.Input(shape=(5,)), L.Dense(6), L.Reshape((2, 3)), L.Flatten(), L.Dense(2),
    ],
    "batchnorm": lambda: [
        L.Dense(6, input_shape=(5,)), L.BatchNormalization(momentum=0.9), L.Dense(2),
    ],
    "batchnorm_no_center_scale": lambda: [
        L.Dense(6, input_shape=(5,)), L.BatchNormalization(center=False, scale=False),
        L.Dense(2),
    ],
    "input_layer": lambda: [
        keras.Input(shape=(5,), name="features"), L.Dense(3, activation="elu"), L.Dense(2),
    ],
}


@pytest.mark.parametrize("name", sorted(LAYER_MODELS))
def test_layer_types(tmp_path, name):
    model = _regression(keras.Sequential(LAYER_MODELS[name]()))
    in_shape = (5, 1) if name == "flatten" else (5,)
    x, y = _data(in_shape, 2)
    loaded = round_trip(model, x, y, tmp_path / f"{name}.h5")
    if name == "input_layer":
        assert loaded.get_config()["layers"][0]["config"]["name"] == "features"
    if name == "batchnorm_no_center_scale":
        assert [w.name.split("/")[-1] for w in loaded.layers[1].weights] == [
            "moving_mean:0", "moving_variance:0"]


# -- optimizers ------------------------------------------------------------------------

S = keras.optimizers.schedules
OPTIMIZERS = {
    "sgd": lambda: keras.optimizers.SGD(0.05),
    "sgd_nesterov": lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "adam_amsgrad": lambda: keras.optimizers.Adam(0.01, amsgrad=True),
    "rmsprop_centered_momentum": lambda: keras.optimizers.RMSprop(0.01, momentum=0.5,
                                                                   centered=True),
    "adagrad": lambda: keras.optimizers.Adagrad(0.05),
    "adadelta": lambda: keras.optimizers.Adadelta(1.0),
    "adamax": lambda: keras.optimizers.Adamax(0.01),
    "nadam": lambda: keras.optimizers.Nadam(0.01),
    "adamw": lambda: keras.optimizers.AdamW(0.01, weight_decay=0.01),
    "sgd_exponential_decay": lambda: keras.optimizers.SGD(S.ExponentialDecay(0.1, 2, 0.5),
                                                          momentum=0.5),
    "adam_piecewise": lambda: keras.optimizers.Adam(S.PiecewiseConstantDecay([1], [0.02, 0.01])),
    "adam_clipnorm": lambda: keras.optimizers.Adam(0.01, clipnorm=0.5),
}


def _classifier(optimizer):
    keras.utils.set_random_seed(5)
    model = keras.Sequential([
        L.Dense(8, activation="relu", input_shape=(4,), kernel_regularizer=R.l2(1e-3)),
        L.BatchNormalization(),
        L.Dropout(0.2),
        L.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=2)])
    return model


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizers(tmp_path, name):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5)
    model = _classifier(OPTIMIZERS[name]())
    loaded = round_trip(model, x, y[:, None], tmp_path / f"{name}.h5")
    assert loaded.metrics_names == ["loss", "accuracy", "sparse_top_k_categorical_accuracy"]
    if "decay" in name or "piecewise" in name:
        lr = loaded.optimizer.get_config()["learning_rate"]
        assert isinstance(lr, dict) and lr["class_name"] in ("ExponentialDecay",
                                                             "PiecewiseConstantDecay")


# -- other paths -----------------------------------------------------------------------


def _small():
    keras.utils.set_random_seed(2)
    return _regression(keras.Sequential([
        L.Dense(4, activation="relu", input_shape=(3,), name="first"),
        L.BatchNormalization(name="norm"),
        L.Dense(2, name="second"),
    ]))


def test_include_optimizer_false_writes_no_training_config(tmp_path):
    model = _small()
    x, y = _data((3,), 2)
    _fit(model, x, y, 2)
    model.save(tmp_path / "bare.h5", include_optimizer=False)
    with h5py.File(tmp_path / "bare.h5", "r") as f:
        assert "training_config" not in f.attrs and "optimizer_weights" not in f
        assert "model_config" in f.attrs
    loaded = keras.models.load_model(tmp_path / "bare.h5")
    assert loaded.optimizer is None and loaded.metrics_names == []
    _assert_same_weights(model, loaded)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(RuntimeError, match="compile"):
        loaded.fit(x, y, verbose=0)


def test_compile_false_ignores_the_training_config(tmp_path):
    model = _small()
    x, y = _data((3,), 2)
    _fit(model, x, y, 2)
    model.save(tmp_path / "full.h5")
    loaded = keras.models.load_model(tmp_path / "full.h5", compile=False)
    assert loaded.optimizer is None and loaded.metrics_names == []
    assert loaded.get_config() == model.get_config()
    _assert_same_weights(model, loaded)
    loaded.compile("sgd", "mse")  # the user compiles it their way
    loaded.fit(x, y, epochs=1, verbose=0)


def test_uncompiled_model_round_trips(tmp_path):
    model = keras.Sequential([L.Dense(3, input_shape=(2,)), L.Dense(1)])
    model.save(tmp_path / "plain.h5")
    loaded = keras.models.load_model(tmp_path / "plain.h5")
    assert loaded.optimizer is None and loaded.get_config() == model.get_config()
    _assert_same_weights(model, loaded)


def test_clone_model_same_config_fresh_weights():
    model = _small()
    clone = keras.models.clone_model(model)
    assert clone.get_config() == model.get_config()
    assert clone is not model and clone.layers[0] is not model.layers[0]
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    assert not np.array_equal(clone.get_weights()[0], model.get_weights()[0])
    assert clone.optimizer is None


def test_load_weights_by_name(tmp_path):
    model = _small()
    x, y = _data((3,), 2)
    _fit(model, x, y, 2)
    model.save(tmp_path / "full.h5")
    model.save_weights(tmp_path / "w.h5")
    keras.utils.set_random_seed(9)
    other = keras.Sequential([
        L.Dense(4, activation="relu", input_shape=(3,), name="first"),
        L.Dense(4, name="extra"),
        L.Dense(2, name="second"),
    ])
    extra_before = other.get_layer("extra").get_weights()
    for path in (tmp_path / "w.h5", tmp_path / "full.h5"):
        other.load_weights(path, by_name=True)
        for name in ("first", "second"):
            for a, b in zip(model.get_layer(name).get_weights(),
                            other.get_layer(name).get_weights()):
                np.testing.assert_array_equal(a, b)
        for a, b in zip(extra_before, other.get_layer("extra").get_weights()):
            np.testing.assert_array_equal(a, b)


def test_load_weights_skip_mismatch(tmp_path):
    model = _small()
    model.save_weights(tmp_path / "w.h5")
    keras.utils.set_random_seed(9)
    other = keras.Sequential([
        L.Dense(4, activation="relu", input_shape=(3,), name="first"),
        L.Dense(5, name="second"),  # the file's "second" has 2 units
    ])
    second_before = other.get_layer("second").get_weights()
    first_before = other.get_layer("first").get_weights()
    with pytest.raises(keras.saving.ModelFileError, match="w.h5"):
        other.load_weights(tmp_path / "w.h5", by_name=True)
    for a, b in zip(first_before, other.get_layer("first").get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing assigned on failure

    other.load_weights(tmp_path / "w.h5", by_name=True, skip_mismatch=True)
    for a, b in zip(model.get_layer("first").get_weights(), other.get_layer("first").get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(second_before, other.get_layer("second").get_weights()):
        np.testing.assert_array_equal(a, b)
