"""Arrays already on the device stay there through fit, evaluate and predict.

On CuPy (and on the strict backend, which refuses host/device mixing as
CuPy does) a training set passed as device arrays must not be copied to the
host: batches are gathered on the device. The results must be those of the
same data passed as NumPy arrays, bit for bit.
"""

import numpy as np
import pytest

import kerasette as keras
from kerasette.training import data as data_module


@pytest.fixture(autouse=True)
def device_backend_only(backend):
    if backend.name == "numpy":
        pytest.skip("NumPy arrays are the host arrays: nothing to keep on a device")


@pytest.fixture
def readbacks(backend, monkeypatch):
    """The sizes of the arrays read back to the host, as a list."""
    sizes = []
    real = type(backend).to_numpy

    def to_numpy(self, x):
        sizes.append(int(getattr(x, "size", 0)))
        return real(self, x)

    monkeypatch.setattr(type(backend), "to_numpy", to_numpy)
    return sizes


def make_data(n=96, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = rng.integers(0, classes, size=n)
    return x, y


def make_model(dropout=True):
    keras.utils.set_random_seed(7)
    layers = [keras.layers.Input((6,)), keras.layers.Dense(16, activation="relu")]
    if dropout:
        layers.append(keras.layers.Dropout(0.25))
    layers.append(keras.layers.Dense(3, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def fit_both(backend, **kwargs):
    """Fits once on host arrays and once on device arrays; returns both."""
    x, y = make_data()
    results = []
    for to_device in (False, True):
        model = make_model()
        xs, ys = (backend.asarray(x), backend.asarray(y)) if to_device else (x, y)
        extra = dict(kwargs)
        if "validation_data" in extra and to_device:
            xv, yv = extra["validation_data"]
            extra["validation_data"] = (backend.asarray(xv), backend.asarray(yv))
        if "sample_weight" in extra and to_device:
            extra["sample_weight"] = backend.asarray(extra["sample_weight"])
        history = model.fit(xs, ys, batch_size=16, epochs=3, verbose=0, **extra)
        results.append((model.get_weights(), history.history))
    return results


@pytest.mark.parametrize("options", [
    {},
    {"shuffle": False},
    {"validation_split": 0.25},
    {"validation_data": make_data(24, seed=1)},
    {"class_weight": {0: 1.0, 1: 2.0, 2: 0.5}},
    {"sample_weight": np.linspace(0.5, 1.5, 96).astype("float32")},
], ids=["shuffled", "in_order", "validation_split", "validation_data", "class_weight",
        "sample_weight"])
def test_device_arrays_train_as_host_arrays_do(backend, options):
    (host_weights, host_history), (device_weights, device_history) = fit_both(backend, **options)
    assert device_history == host_history
    for a, b in zip(device_weights, host_weights):
        np.testing.assert_array_equal(a, b)


def test_fit_never_reads_the_device_training_set_back(backend, readbacks):
    x, y = make_data(n=600)
    xd, yd = backend.asarray(x), backend.asarray(y)
    model = make_model()
    model.fit(xd, yd, batch_size=32, epochs=2, verbose=0, validation_split=0.2)
    model.evaluate(xd, yd, verbose=0)
    # Labels may be read back to check their values (600 of them, once per
    # call); the 3,600 features never are, whole or in batches of 32 x 6.
    assert readbacks and max(readbacks) <= y.size, readbacks
    assert x.size not in readbacks and 32 * 6 not in readbacks


def test_device_tensor_inputs_stay_on_the_device(backend, readbacks):
    x, y = make_data()
    model = make_model(dropout=False)
    model.fit(keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(y), batch_size=16,
              epochs=1, verbose=0)
    assert x.size not in readbacks


def test_predict_and_evaluate_take_device_arrays(backend):
    x, y = make_data()
    model = make_model(dropout=False)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    xd, yd = backend.asarray(x), backend.asarray(y)
    np.testing.assert_array_equal(model.predict(xd, batch_size=32, verbose=0),
                                  model.predict(x, batch_size=32, verbose=0))
    assert model.evaluate(xd, yd, verbose=0) == model.evaluate(x, y, verbose=0)


def test_nan_in_device_array_is_reported_with_its_row(backend):
    x, y = make_data()
    x[41, 2] = np.nan
    model = make_model()
    with pytest.raises(ValueError, match=r"Argument `x` holds NaN in sample 41"):
        model.fit(backend.asarray(x), backend.asarray(y), verbose=0)
    assert not model.optimizer.iterations.numpy()  # raised before any step


def test_device_values_beyond_float32_are_found_on_the_device(backend, readbacks):
    x, y = make_data()
    model = make_model()
    model.fit(backend.asarray(x.astype("float64")), backend.asarray(y), verbose=0)
    assert x.size not in readbacks  # judged by its min and max, read back alone
    huge = x.astype("float64")
    huge[17, 4] = 1e300
    with pytest.raises(ValueError, match=r"`x` holds 1e\+300 in sample 17 \(x\[17, 4\]\)"):
        model.predict(backend.asarray(huge), verbose=0)
    weights = np.where(np.arange(len(y)) == 8, -1.0, 1.0).astype("float32")
    iterations = int(model.optimizer.iterations.numpy())
    with pytest.raises(ValueError, match=r"`sample_weight` holds -1.0 in sample 8"):
        model.fit(backend.asarray(x), backend.asarray(y), verbose=0,
                  sample_weight=backend.asarray(weights))
    assert int(model.optimizer.iterations.numpy()) == iterations


def test_bad_device_labels_are_named(backend):
    x, y = make_data()
    y[5] = 7
    model = make_model()
    with pytest.raises(ValueError, match=r"class index 7 in sample 5"):
        model.fit(backend.asarray(x), backend.asarray(y), verbose=0)


def test_one_dimensional_device_x_is_one_feature(backend):
    x = np.linspace(-1, 1, 32).astype("float32")
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.layers.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(backend.asarray(x), backend.asarray(2 * x), epochs=2, verbose=0)
    assert model.predict(backend.asarray(x), verbose=0).shape == (32, 1)


def test_is_device_array_distinguishes_host_and_device(backend):
    assert not data_module.is_device_array(np.zeros(3))
    assert data_module.is_device_array(backend.asarray(np.zeros(3)))
    np.testing.assert_array_equal(data_module.to_host(backend.asarray(np.arange(3))),
                                  np.arange(3))
