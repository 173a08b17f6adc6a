"""Recurrent models in files: the fixtures real Keras wrote (tf.keras 2.21 and
Keras 3.15; `.h5`, `.weights.h5` and `.keras`), kerasette's own saves in
each dialect, and training parity with tf.keras 2.21 (tests/data/parity2/)."""

from __future__ import annotations

import json
import zipfile

import h5py
import numpy as np
import pytest
from fixture_paths import KERAS2, PARITY2
from parity2_replay import check_fit, recorded

import kerasette as keras

L = keras.layers
IMPLS = ("tfkeras2", "keras3")
MODELS = ("simple_rnn", "lstm", "gru", "gru_noreset", "lstm_seq", "gru_state", "bilstm",
          "masking")
FORMATS = (".h5", ".weights.h5", ".keras")


def _needs(*names):
    missing = [n for n in names if not hasattr(L, n)]
    if missing:
        pytest.skip(f"kerasette.layers has no {', '.join(missing)} yet")


def _sequential(*layers):
    return keras.Sequential([keras.Input(shape=(7, 3))] + list(layers))


# The fixtures' architectures (../shared/fixtures/keras2/README.md), built in code.
def _build(name):
    if name == "simple_rnn":
        return _sequential(L.SimpleRNN(6), L.Dense(2))
    if name == "lstm":
        return _sequential(L.LSTM(6), L.Dense(2))
    if name == "gru":
        return _sequential(L.GRU(6), L.Dense(2))
    if name == "gru_noreset":
        return _sequential(L.GRU(6, reset_after=False), L.Dense(2))
    if name == "lstm_seq":
        return _sequential(L.LSTM(5, return_sequences=True), L.LSTM(4), L.Dense(1))
    if name == "bilstm":
        return _sequential(L.Bidirectional(L.LSTM(4)), L.Dense(2, activation="softmax"))
    if name == "masking":
        _needs("Masking")
        return _sequential(L.Masking(mask_value=0.0), L.LSTM(5), L.Dense(1))
    assert name == "gru_state"
    _needs("GlobalAveragePooling1D")
    inp = keras.Input(shape=(7, 3))
    seq, state = L.GRU(6, return_sequences=True, return_state=True)(inp)
    joined = L.Concatenate()([L.GlobalAveragePooling1D()(seq), state])
    return keras.Model(inp, L.Dense(2)(joined))


def _needs_for(name):
    if name == "masking":
        _needs("Masking")
    if name == "gru_state":
        _needs("GlobalAveragePooling1D")


def _predict(model, x):
    out = model(x, training=False)
    return out.numpy() if hasattr(out, "numpy") else np.asarray(out)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", MODELS)
def test_keras_files_load_and_predict(name, impl, fmt):
    """Every fixture loads (a `.weights.h5` into the model built in code) and
    predicts the writer's stored `y` within 1e-6, with its weights."""
    _needs_for(name)
    path = KERAS2 / f"{impl}_{name}{fmt}"
    with np.load(KERAS2 / f"{impl}_{name}_ref.npz") as f:
        ref = dict(f)
    if fmt == ".weights.h5":
        model = _build(name)
        model.load_weights(path)
    else:
        model = keras.models.load_model(path, compile=False)
    np.testing.assert_allclose(_predict(model, ref["x"]), ref["y"], rtol=0, atol=1e-6)
    weights = model.get_weights()
    assert len(weights) == int(ref["n_weights"])
    for i, w in enumerate(weights):
        np.testing.assert_array_equal(w, ref[f"w{i}"])


@pytest.mark.parametrize("name", ["lstm", "gru", "bilstm"])
def test_keras_h5_files_load_compiled(name):
    """Full `.h5` files restore the compiled state too (tf.keras 2's)."""
    model = keras.models.load_model(KERAS2 / f"tfkeras2_{name}.h5")
    with np.load(KERAS2 / f"tfkeras2_{name}_ref.npz") as f:
        x, y = f["x"], f["y"]
    assert model.optimizer is not None
    np.testing.assert_allclose(model.predict(x, verbose=0), y, atol=1e-6)


def _layer_configs(model_config):
    """Every layer config at any depth of a model config (Bidirectional's too)."""
    out = []

    def visit(entry):
        if isinstance(entry, dict):
            if entry.get("class_name") in ("SimpleRNN", "LSTM", "GRU", "Bidirectional"):
                out.append(entry)
            for value in entry.values():
                visit(value)
        elif isinstance(entry, list):
            for value in entry:
                visit(value)

    visit(model_config)
    return out


@pytest.mark.parametrize("name", ["lstm_seq", "gru_noreset", "bilstm", "simple_rnn", "gru_state",
                                  "masking"])
def test_kerasette_saves_round_trip_in_both_dialects(name, tmp_path):
    """kerasette's `.h5` (tf.keras 2 dialect: `time_major: false`,
    `implementation`) and `.keras` (Keras 3 dialect: neither, but
    `zero_output_for_mask`) reload with identical predictions and weights,
    and carry the layout each Keras reads."""
    _needs_for(name)
    with np.load(KERAS2 / f"tfkeras2_{name}_ref.npz") as f:
        x = f["x"]
    model = keras.models.load_model(KERAS2 / f"tfkeras2_{name}.h5")
    want = _predict(model, x)
    for fmt in (".h5", ".keras", ".weights.h5"):
        path = tmp_path / f"m{fmt}"
        if fmt == ".weights.h5":
            model.save_weights(path)
            again = _build(name)
            again.load_weights(path)
        else:
            model.save(path)
            again = keras.models.load_model(path)
        np.testing.assert_array_equal(_predict(again, x), want)
        for a, b in zip(again.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)

    with h5py.File(tmp_path / "m.h5", "r") as f:
        config = json.loads(f.attrs["model_config"])
        ref_names = []
        f["model_weights"].visit(ref_names.append)
    for entry in _layer_configs(config):
        if entry["class_name"] != "Bidirectional":
            # tf.keras 2's default, left out so that Keras 3 reads the file too.
            assert "time_major" not in entry["config"]
            assert "zero_output_for_mask" not in entry["config"]
    assert any("_cell/kernel:0" in n for n in ref_names), ref_names

    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        config = json.loads(zf.read("config.json"))
    for entry in _layer_configs(config):
        inner = entry["config"]
        if entry["class_name"] == "Bidirectional":
            assert inner["layer"]["config"]["name"].startswith("forward_")
            assert inner["backward_layer"]["config"]["go_backwards"] is True
            continue
        assert "time_major" not in inner and "implementation" not in inner
        assert inner["zero_output_for_mask"] in (False, True)
    with h5py.File(tmp_path / "m.weights.h5", "r") as f:
        names = []
        f.visit(names.append)
    assert any(n.endswith("cell/vars/0") for n in names), names


def test_bidirectional_weights_layout_matches_keras3(tmp_path):
    """The `.weights.h5` groups of a Bidirectional are Keras 3's:
    `layers/bidirectional/forward_layer/cell/vars/<i>` and `backward_layer`."""
    model = _build("bilstm")
    model.save_weights(tmp_path / "b.weights.h5")
    with h5py.File(tmp_path / "b.weights.h5", "r") as f:
        ours = sorted(k for k in _tree(f) if k.startswith("layers/"))
    with h5py.File(KERAS2 / "keras3_bilstm.weights.h5", "r") as f:
        theirs = sorted(k for k in _tree(f) if k.startswith("layers/"))
    assert ours == theirs


def _tree(f):
    names = []
    f.visit(names.append)
    return names


# -- training parity with tf.keras 2.21 -----------------------------------------------------
PARITY_CASES = {
    "lstm_adam": (lambda: L.LSTM(6), keras.optimizers.Adam),
    "gru_rmsprop": (lambda: L.GRU(6), keras.optimizers.RMSprop),
    "simple_rnn_sgd": (lambda: L.SimpleRNN(6), keras.optimizers.SGD),
    # Embedding(30, 4) over int32 ids -> LSTM(5) -> Dense(1, sigmoid).
    "embed_lstm_adam": (lambda: L.LSTM(5), keras.optimizers.Adam),
}


@pytest.mark.parametrize("case_name", sorted(PARITY_CASES))
def test_training_matches_tf_keras(case_name, backend):
    """fit for 3 epochs (batch 16, no shuffle, validation on the first 32
    rows) from tf.keras's initial weights: weights, history, evaluate and
    predictions within 1e-4 relative of tf.keras 2.21's."""
    case, d = recorded(case_name)
    model = keras.models.model_from_json(json.dumps(case["model_config"]))
    model.set_weights([d[f"init_{i}"] for i in range(case["n_weights"])])
    opt_cls = PARITY_CASES[case_name][1]
    assert opt_cls.__name__ == case["optimizer"]["class_name"]
    model.compile(optimizer=opt_cls(**case["optimizer"]["config"]), loss=case["loss"],
                  metrics=case["metrics"], loss_weights=case["loss_weights"])
    x, y = d["x"], d["y"]
    check_fit(model, case, d, x, y)
    np.testing.assert_allclose(model.predict(x[:10], verbose=0), d["pred"], rtol=1e-4, atol=1e-6)


def _strip_ids(value):
    if isinstance(value, dict):
        return {k: _strip_ids(v) for k, v in value.items() if k != "shared_object_id"}
    if isinstance(value, list):
        return [_strip_ids(v) for v in value]
    return value


@pytest.mark.parametrize("name", ["simple_rnn", "lstm", "gru", "gru_noreset", "bilstm"])
def test_configs_are_what_each_keras_writes(name):
    """A layer rebuilt from each writer's config writes exactly that config
    back: tf.keras 2's in `.h5` (with `time_major`, `implementation`),
    Keras 3's in `.keras` (`zero_output_for_mask`, `seed`, the Bidirectional's
    `backward_layer`, `build_config`)."""
    from kerasette.saving import keras_zip

    with h5py.File(KERAS2 / f"tfkeras2_{name}.h5", "r") as f:
        entry = json.loads(f.attrs["model_config"])["config"]["layers"][1]
    layer = L.deserialize(entry)
    assert layer.get_config() == entry["config"]

    with zipfile.ZipFile(KERAS2 / f"keras3_{name}.keras") as zf:
        entry = json.loads(zf.read("config.json"))["config"]["layers"][1]
    model = keras.models.load_model(KERAS2 / f"keras3_{name}.keras", compile=False)
    assert keras_zip.keras3_entry(model.layers[0]) == _strip_ids(entry)


def test_copies_are_the_files_keras_wrote():
    """The copies used here still match the shared originals (where present)."""
    from fixture_paths import SHARED

    if not (SHARED / "fixtures").is_dir():
        pytest.skip(f"no shared fixtures to compare with ({SHARED / 'fixtures'})")
    copies = [KERAS2 / f"{impl}_{name}{ext}" for impl in IMPLS for name in MODELS
              for ext in FORMATS + ("_ref.npz",)]
    copies += [PARITY2 / f"parity2_{case}.npz" for case in PARITY_CASES]
    for copy in copies:
        original = SHARED / "fixtures" / copy.parent.name / copy.name
        assert copy.read_bytes() == original.read_bytes(), copy.name
