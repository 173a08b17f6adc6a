"""Models rebuilt with real Keras's weights predict what real Keras predicted.

The architectures are those of `tests/data/keras/make_fixtures.py`, written
with `import kerasette as keras` exactly as a user would. The files are in
`tests/data/keras/` (see fixture_paths.py).
"""

import numpy as np
import pytest
from fixture_paths import KERAS as FIXTURES
from fixture_paths import PARITY, SHARED

import kerasette as keras

SMALL_REFS = {"tfkeras2_mnist_like_ref.npz", "keras3_mnist_like_ref.npz"}


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
    ref = np.load(FIXTURES / f"{impl}_{name}_ref.npz", allow_pickle=False)
    model = build(name)
    weights = [ref[f"w{i}"] for i in range(int(ref["n_weights"]))]
    model.set_weights(weights)
    out = model(ref["x"], training=False)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), ref["y_call"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(model(ref["x"])), ref["y"], rtol=1e-5, atol=1e-6)


def test_fixture_folder_is_present():
    assert (FIXTURES / "tfkeras2_xor_ref.npz").exists(), FIXTURES


def test_fixtures_are_the_files_keras_wrote():
    """The copies in the repository still match the shared originals."""
    if not (SHARED / "fixtures").is_dir():
        pytest.skip(f"no shared fixtures to compare with ({SHARED / 'fixtures'})")
    copies = sorted(p for p in FIXTURES.iterdir() if p.suffix in (".h5", ".npz"))
    assert len(copies) == 45  # 5 models x 2 Keras x 4 files, and 5 portable .h5
    for copy in copies + sorted(PARITY.iterdir()):
        original = SHARED / "fixtures" / copy.parent.name / copy.name
        if copy.name not in SMALL_REFS:
            assert copy.read_bytes() == original.read_bytes(), copy.name
            continue
        # tests/data/make_small_refs.py: every array as Keras wrote it, only
        # the training rows cut short.
        with np.load(copy) as small, np.load(original) as full:
            assert small.files == full.files
            for key in full.files:
                expected = full[key][:len(small[key])] if key.startswith("train_") else full[key]
                np.testing.assert_array_equal(small[key], expected, err_msg=key)
            assert 0 < len(small["train_x"]) < len(full["train_x"])
