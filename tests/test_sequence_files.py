"""Sequence models in files: the `conv1d` fixtures real Keras wrote (tf.keras
2.21 and Keras 3.15; `.h5`, `.weights.h5`, `.keras`), the `conv1d_adam`
training run recorded in tf.keras 2.21, tf.keras 2's masked mean against
`embed_pool_mask`, and kerasette's own saves of every sequence layer
(TimeDistributed's nested weights included) in every format."""

from __future__ import annotations

import json
import zipfile

import h5py
import numpy as np
import pytest
from fixture_paths import KERAS2, PARITY2, SHARED
from parity2_replay import check_fit, recorded

import kerasette as keras

L = keras.layers
IMPLS = ("tfkeras2", "keras3")
COPIED = [f"{impl}_conv1d{ext}" for impl in IMPLS
          for ext in (".h5", ".keras", ".weights.h5", "_ref.npz")]


def _reference(impl, name):
    with np.load(KERAS2 / f"{impl}_{name}_ref.npz") as ref:
        return dict(ref)


def _conv1d_model():
    """The fixture's architecture (fixtures/keras2/README.md), in code."""
    return keras.Sequential([
        keras.Input(shape=(20, 3)),
        L.Conv1D(6, 3, padding="same", activation="relu"),
        L.MaxPooling1D(2),
        L.Conv1D(6, 3, strides=2, padding="valid", activation="relu"),
        L.AveragePooling1D(2),
        L.GlobalMaxPooling1D(),
        L.Dense(3, activation="softmax"),
    ])


def test_copies_match_the_shared_fixtures():
    if not (SHARED / "fixtures").is_dir():
        pytest.skip(f"no shared fixtures to compare with ({SHARED / 'fixtures'})")
    for name in COPIED:
        original = SHARED / "fixtures" / "keras2" / name
        assert (KERAS2 / name).read_bytes() == original.read_bytes(), name
    name = "parity2_conv1d_adam.npz"
    assert (PARITY2 / name).read_bytes() == (SHARED / "fixtures" / "parity2" / name).read_bytes()


# -- files real Keras wrote -----------------------------------------------------------------
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("ext", [".h5", ".keras"])
def test_keras_conv1d_files_load_and_predict(backend, impl, ext):
    ref = _reference(impl, "conv1d")
    path = KERAS2 / f"{impl}_conv1d{ext}"
    if ext == ".keras":
        # As for the functional fixtures (test_functional_files.py): the
        # optimizer's variables do not fit Keras 3's layout, so the model
        # loads with a fresh optimizer state, and says so.
        with pytest.warns(UserWarning, match="optimizer state was not restored"):
            model = keras.models.load_model(path)
    else:
        model = keras.models.load_model(path)
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv1D", "MaxPooling1D", "Conv1D", "AveragePooling1D", "GlobalMaxPooling1D", "Dense"]
    y = model.predict(ref["x"], verbose=0)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, ref["y"], atol=1e-6, rtol=0)
    np.testing.assert_allclose(model(ref["x"]).numpy(), ref["y_call"], atol=1e-6, rtol=0)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_array_equal(w, ref[f"w{i}"])


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("ext", [".weights.h5", ".h5"])
def test_keras_conv1d_weights_load_into_a_code_built_model(backend, impl, ext):
    ref = _reference(impl, "conv1d")
    model = _conv1d_model()
    model.load_weights(KERAS2 / f"{impl}_conv1d{ext}")
    np.testing.assert_allclose(model.predict(ref["x"], verbose=0), ref["y"], atol=1e-6, rtol=0)


def test_loaded_configs_are_the_ones_tf_keras_2_wrote(backend):
    path = KERAS2 / "tfkeras2_conv1d.h5"
    with h5py.File(path, "r") as f:
        written = json.loads(f.attrs["model_config"])["config"]["layers"][1:]
    model = keras.models.load_model(path)
    ours = model.get_config()["layers"]
    ours = [entry for entry in ours if entry["class_name"] != "InputLayer"]
    assert [e["class_name"] for e in ours] == [e["class_name"] for e in written]
    for mine, theirs in zip(ours, written):
        assert mine["config"] == theirs["config"], theirs["class_name"]


def test_masked_global_average_pooling_matches_embed_pool_mask(backend):
    """tf.keras 2's masked mean, from the fixture's own weights and a NumPy
    embedding lookup: row 0 is all padding, so its prediction is NaN."""
    for impl in IMPLS:
        ref = _reference(impl, "embed_pool_mask")
        tokens = ref["x"]
        vectors = ref["w0"][tokens]  # the embedding, looked up in NumPy
        pooled = L.GlobalAveragePooling1D()(vectors, mask=tokens != 0).numpy()
        logits = pooled.astype("float64") @ ref["w1"] + ref["w2"]
        with np.errstate(invalid="ignore"):
            y = 1.0 / (1.0 + np.exp(-logits))
        assert np.isnan(ref["y"][0]).all() and np.isnan(y[0]).all()
        np.testing.assert_allclose(y, ref["y"], atol=1e-6, rtol=0)


@pytest.mark.parametrize("impl", IMPLS)
def test_embed_pool_mask_model_loads_and_predicts_nan_for_all_padding(backend, impl):
    ref = _reference(impl, "embed_pool_mask")
    model = keras.models.load_model(KERAS2 / f"{impl}_embed_pool_mask.h5", compile=False)
    y = model.predict(ref["x"], verbose=0)
    assert np.isnan(y[0]).all()
    np.testing.assert_allclose(y, ref["y"], atol=1e-6, rtol=0)


# -- the training run recorded in tf.keras 2.21 ----------------------------------------------
def test_conv1d_adam_reproduces_tf_keras_training(backend):
    """Rebuilt from the recorded config, started from the recorded weights,
    trained as check_parity2.py trains it: history, final weights,
    evaluate and predictions as tf.keras 2.21 recorded them."""
    case, d = recorded("conv1d_adam")
    model = keras.models.model_from_json(json.dumps(case["model_config"]))
    model.set_weights([d[f"init_{i}"] for i in range(case["n_weights"])])
    model.compile(optimizer=keras.optimizers.Adam(**case["optimizer"]["config"]),
                  loss=case["loss"], metrics=case["metrics"], loss_weights=case["loss_weights"])
    x, y = d["x"], d["y"]
    check_fit(model, case, d, x, y)
    np.testing.assert_allclose(model.predict(x[:10], verbose=0), d["pred"], rtol=1e-4, atol=1e-6)


# -- kerasette's own saves ---------------------------------------------------------------------
def _every_sequence_layer():
    model = keras.Sequential([
        keras.Input(shape=(12, 3)),
        L.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="tanh"),
        L.ZeroPadding1D((1, 2)),
        L.Cropping1D((2, 1)),
        L.UpSampling1D(2),
        L.MaxPooling1D(3, strides=2, padding="same"),
        L.AveragePooling1D(2, padding="same"),
        L.TimeDistributed(L.Dense(5, activation="relu")),
        L.Convolution1D(3, 2, use_bias=False),
        L.GlobalAveragePooling1D(),
        L.RepeatVector(3),
        L.GlobalMaxPooling1D(keepdims=True),
        L.Flatten(),
        L.Dense(2),
    ])
    return model, np.random.default_rng(1).standard_normal((5, 12, 3)).astype("float32")


@pytest.mark.parametrize("target", ["m.h5", "m.keras", "m_dir"])
def test_own_saves_round_trip_exactly(backend, tmp_path, target):
    model, x = _every_sequence_layer()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.zeros((5, 2), "float32"), epochs=1, verbose=0)
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / target)
    loaded = keras.models.load_model(tmp_path / target)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    assert loaded.optimizer.iterations.numpy() == model.optimizer.iterations.numpy()
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("target", ["w.h5", "w.weights.h5"])
def test_own_weights_round_trip_exactly(backend, tmp_path, target):
    model, x = _every_sequence_layer()
    model.save_weights(tmp_path / target)
    twin, _ = _every_sequence_layer()
    twin.load_weights(tmp_path / target)
    np.testing.assert_array_equal(twin.predict(x, verbose=0), model.predict(x, verbose=0))


def test_time_distributed_weights_sit_where_keras_puts_them(backend, tmp_path):
    keras.backend.clear_session()
    model = keras.Sequential([keras.Input(shape=(4, 3)), L.TimeDistributed(L.Dense(2))])
    kernel, bias = model.get_weights()
    # tf.keras 2's legacy layout: the wrapped layer's weights, named in the
    # wrapper's scope, in the wrapper's group.
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        group = f["model_weights/time_distributed"]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        assert names == ["time_distributed/kernel:0", "time_distributed/bias:0"]
        np.testing.assert_array_equal(group["time_distributed/kernel:0"][()], kernel)
        entry = json.loads(f.attrs["model_config"])["config"]["layers"][1]
        assert entry["class_name"] == "TimeDistributed"
        assert entry["config"]["layer"]["class_name"] == "Dense"
        assert entry["config"]["layer"]["config"]["units"] == 2
    # Keras 3's `.weights.h5`: the wrapper's own (empty) vars, and the
    # wrapped layer's under the attribute that holds it.
    model.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5", "r") as f:
        td = f["layers/time_distributed"]
        assert sorted(td) == ["layer", "vars"] and len(td["vars"]) == 0
        np.testing.assert_array_equal(td["layer/vars/0"][()], kernel)
        np.testing.assert_array_equal(td["layer/vars/1"][()], bias)
    # Keras 3's config: the wrapped layer as a Keras 3 entry.
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        config = json.loads(z.read("config.json"))
        with h5py.File(z.open("model.weights.h5"), "r") as f:
            np.testing.assert_array_equal(f["layers/time_distributed/layer/vars/0"][()], kernel)
    td_entry = config["config"]["layers"][1]
    inner = td_entry["config"]["layer"]
    assert inner["class_name"] == "Dense" and inner["module"] == "keras.layers"
    assert inner["config"]["dtype"]["class_name"] == "DTypePolicy"
    assert inner["build_config"] == {"input_shape": [None, 3]}
    assert td_entry["build_config"] == {"input_shape": [None, 4, 3]}


def test_keras_3_config_of_weightless_sequence_layers_has_no_build_config(backend, tmp_path):
    model, _ = _every_sequence_layer()
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        entries = json.loads(z.read("config.json"))["config"]["layers"]
    has = {e["class_name"]: "build_config" in e for e in entries}
    assert has["Conv1D"] and has["TimeDistributed"]
    for name in ("MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D",
                 "GlobalMaxPooling1D", "UpSampling1D", "Cropping1D", "ZeroPadding1D",
                 "RepeatVector"):
        assert not has[name], name  # as Keras 3 writes them (no build of their own)
