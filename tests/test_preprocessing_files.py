"""Preprocessing layers in files: the preproc_rescaling and preproc_norm
models real Keras wrote (tf.keras 2.21 and Keras 3.15; `.h5`,
`.weights.h5`, `.keras`), and kerasette's own saves of models holding
every preprocessing layer, loaded back with identical predictions and
adapted state."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from fixture_paths import KERAS2, SHARED

import kerasette as keras

L = keras.layers
IMPLS = ("tfkeras2", "keras3")


def _ref(impl, name):
    return np.load(KERAS2 / f"{impl}_{name}_ref.npz")


def _build(name):
    """The fixtures' architectures (fixtures/keras2/README.md), in code."""
    if name == "preproc_rescaling":
        return keras.Sequential([keras.Input((8, 8)), L.Rescaling(1 / 255, offset=0.0),
                                 L.Flatten(), L.Dense(8, activation="relu"),
                                 L.Dense(3, activation="softmax")])
    return keras.Sequential([keras.Input((4,)), L.Normalization(),
                             L.Dense(8, activation="relu"), L.Dense(1)])


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", ["preproc_rescaling", "preproc_norm"])
@pytest.mark.parametrize("ext", [".h5", ".keras", ".weights.h5"])
def test_keras_files_predict_as_keras(backend, impl, name, ext):
    ref = _ref(impl, name)
    path = KERAS2 / f"{impl}_{name}{ext}"
    if ext == ".weights.h5":
        model = _build(name)
        model.load_weights(path)
    else:
        model = keras.models.load_model(path, compile=False)
    assert [type(layer).__name__ for layer in model.layers][0] == (
        "Rescaling" if name == "preproc_rescaling" else "Normalization")
    np.testing.assert_allclose(model.predict(ref["x"], verbose=0), ref["y"], rtol=0, atol=1e-6)
    got = model.get_weights()
    assert len(got) == int(ref["n_weights"])
    for i, w in enumerate(got):  # the adapted state too (Keras 3 stores count=0)
        np.testing.assert_array_equal(w, ref[f"w{i}"])


@pytest.mark.parametrize("impl", IMPLS)
def test_adapt_reproduces_the_stored_mean_and_variance(backend, impl):
    ref = _ref(impl, "preproc_norm")
    layer = L.Normalization()
    layer.adapt(ref["train_x"])
    mean, variance, count = ref["w0"], ref["w1"], ref["w2"]
    # Keras accumulates in float32, kerasette in float64: equal to float32 rounding.
    np.testing.assert_allclose(layer.adapt_mean.numpy(), mean, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), variance, rtol=1e-6)
    assert int(layer.count.numpy()) == 64 and int(count) == (64 if impl == "tfkeras2" else 0)


def _adapted_models():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 4)) * [1, 20, 0.1, 3] + [0, 100, -1, 2]
    norm = L.Normalization()
    norm.adapt(x)
    sequential = keras.Sequential([norm, L.Dense(5, activation="relu"), L.Dense(1)])
    inp = keras.Input((4,))
    scaled = L.Rescaling(0.5, offset=1.0)(inp)
    normed = L.Normalization(mean=[0.0, 1.0, 2.0, 3.0], variance=[1.0, 4.0, 9.0, 16.0])(scaled)
    buckets = L.Discretization(num_bins=3, output_mode="count")
    buckets.adapt(x[:, :2])
    counted = buckets(L.Reshape((4,))(inp))
    functional = keras.Model(inp, L.Dense(2)(L.Concatenate()([normed, counted])))
    ids = keras.Input((3,), dtype="int32")
    encoded = keras.Model(ids, L.Dense(2)(L.CategoryEncoding(num_tokens=6)(ids)))
    data = {"sequential": x.astype("float32"), "functional": x.astype("float32"),
            "encoded": rng.integers(0, 6, size=(5, 3)).astype("int32")}
    return {"sequential": sequential, "functional": functional, "encoded": encoded}, data


@pytest.mark.parametrize("ext", [".h5", ".keras", ".weights.h5"])
def test_kerasette_saves_load_back_identically(backend, tmp_path, ext):
    models, data = _adapted_models()
    for key, model in models.items():
        path = tmp_path / f"{key}{ext}"
        expected = model.predict(data[key], verbose=0)
        if ext == ".weights.h5":
            model.save_weights(path)
            loaded = keras.models.clone_model(model)
            loaded.load_weights(path)
        else:
            model.save(path)
            loaded = keras.models.load_model(path)
        np.testing.assert_array_equal(loaded.predict(data[key], verbose=0), expected)
        for a, b in zip(loaded.get_weights(), model.get_weights()):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
        if key == "sequential":
            assert int(loaded.layers[0].count.numpy()) == 40


def test_kerasette_h5_has_tf_keras_layout_for_the_state(backend, tmp_path):
    models, _ = _adapted_models()
    models["sequential"].save(tmp_path / "m.h5")
    models["sequential"].save_weights(tmp_path / "m.weights.h5")
    name = models["sequential"].layers[0].name
    with h5py.File(tmp_path / "m.h5", "r") as f:
        group = f["model_weights"][name]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        assert [n.split("/")[-1] for n in names] == ["mean:0", "variance:0", "count:0"]
        assert group[names[2]].dtype == np.int64 and group[names[2]].shape == ()
        assert group[names[0]].dtype == np.float32 and group[names[0]].shape == (4,)
    with h5py.File(tmp_path / "m.weights.h5", "r") as f:
        state = f["layers/normalization/vars"]
        assert [state[k].shape for k in "012"] == [(4,), (4,), ()]
        assert int(state["2"][()]) == 40


def test_fixture_copies_are_the_files_keras_wrote():
    copies = sorted(KERAS2.glob("*_preproc_*"))
    assert len(copies) == 16  # 2 models x 2 Keras x 4 files
    original_dir = SHARED / "fixtures" / "keras2"
    if not original_dir.is_dir():
        pytest.skip(f"no shared fixtures to compare with ({original_dir})")
    for copy in copies:
        assert copy.read_bytes() == (original_dir / copy.name).read_bytes(), copy.name
