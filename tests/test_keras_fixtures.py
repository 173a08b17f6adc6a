"""Models rebuilt with real Keras's weights predict what real Keras predicted.

The architectures are those of `../shared/fixtures/keras/make_fixtures.py`,
written with `import kerasette as keras` exactly as a user would.
"""

from pathlib import Path

import numpy as np
import pytest

import kerasette as keras

FIXTURES = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures" / "keras"


def build(name):
    L = keras.layers
    if name == "xor":
        return keras.Sequential([
            L.Dense(2, activation="sigmoid", input_shape=(2,)),
            L.Dense(1, activation="sigmoid"),
        ])
    if name == "iris_like":
        return keras.Sequential([
            L.Dense(20, activation="tanh", input_shape=(4,),
                    kernel_regularizer=keras.regularizers.l2(0.001)),
            L.Dropout(0.5),
            L.Dense(20, activation="tanh"),
            L.Dropout(0.5),
            L.Dense(3, activation="softmax"),
        ])
    if name == "mnist_like":
        return keras.Sequential([
            L.Flatten(input_shape=(28, 28)),
            L.Dense(64, activation="relu"),
            L.BatchNormalization(),
            L.Dropout(0.2),
            L.Dense(10, activation="softmax"),
        ])
    if name == "cnn_small":
        return keras.Sequential([
            L.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
            L.MaxPooling2D(2),
            L.Flatten(),
            L.Dense(3, activation="softmax"),
        ])
    if name == "activation_layer":
        return keras.Sequential([
            L.Dense(5, input_shape=(3,)),
            L.Activation("relu"),
            L.Dense(2),
        ])
    raise ValueError(name)


CASES = [(impl, name) for impl in ("tfkeras2", "keras3")
         for name in ("xor", "iris_like", "mnist_like", "cnn_small", "activation_layer")]


@pytest.mark.parametrize("impl,name", CASES)
def test_reference_weights_reproduce_keras_predictions(impl, name):
    path = FIXTURES / f"{impl}_{name}_ref.npz"
    if not path.exists():
        pytest.skip(f"fixture missing: {path}")
    ref = np.load(path, allow_pickle=False)
    model = build(name)
    weights = [ref[f"w{i}"] for i in range(int(ref["n_weights"]))]
    model.set_weights(weights)
    out = model(ref["x"], training=False)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), ref["y_call"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(model(ref["x"])), ref["y"], rtol=1e-5, atol=1e-6)


def test_fixture_folder_is_present():
    assert (FIXTURES / "tfkeras2_xor_ref.npz").exists(), FIXTURES
