"""The Keras 3 `.keras` archive: writing, reading, and files from real Keras 3.

`tests/data/keras3_*.keras` were written by real Keras 3.15.1 with
`tests/data/make_keras3_files.py`; `keras3_*_ref.npz` hold what Keras 3
predicted, its weights and its optimizer variables.
"""

import io
import json
import os
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from fixture_paths import DATA, KERAS
from test_keras_fixtures import build

import kerasette as keras
from kerasette.saving import ModelFileError
from kerasette.saving.keras_zip import load_model_keras, save_model_keras

K3_MODELS = ("xor", "iris_like", "activation_layer", "bn_small", "cnn_small", "uncompiled")
MEMBERS = ["metadata.json", "config.json", "model.weights.h5"]


def data(name, n=64, seed=0):
    """Inputs and targets for the fixture architectures."""
    rng = np.random.RandomState(seed)
    shape, kind = {"xor": ((2,), "reg1"), "iris_like": ((4,), "sparse3"),
                   "mnist_like": ((28, 28), "onehot10"), "activation_layer": ((3,), "reg2"),
                   "bn_small": ((4, 3), "onehot3"), "plain": ((4,), "onehot3"),
                   "cnn_small": ((6, 6, 1), "onehot3")}[name]
    x = rng.rand(n, *shape).astype("float32")
    if kind.startswith("sparse"):
        y = rng.randint(0, int(kind[6:]), size=(n,))
    elif kind.startswith("onehot"):
        k = int(kind[6:])
        y = np.eye(k, dtype="float32")[rng.randint(0, k, size=(n,))]
    else:
        y = rng.rand(n, int(kind[3:])).astype("float32")
    return x, y


def build_more(name):
    L = keras.layers
    if name == "bn_small":
        return keras.Sequential([
            L.Flatten(input_shape=(4, 3)),
            L.Dense(8, activation="relu", kernel_regularizer=keras.regularizers.l2(0.01)),
            L.BatchNormalization(),
            L.Dropout(0.2),
            L.Dense(3, activation="softmax"),
        ])
    if name == "cnn_small":
        return keras.Sequential([
            L.Conv2D(3, 3, activation="relu", input_shape=(6, 6, 1)),
            L.ZeroPadding2D(1),
            L.MaxPooling2D(2),
            L.AveragePooling2D(1),
            L.LayerNormalization(),
            L.GlobalAveragePooling2D(),
            L.Dense(3, activation="softmax"),
        ])
    if name == "plain":  # no dropout: training continues deterministically
        return keras.Sequential([
            L.Dense(6, activation="tanh", input_shape=(4,)),
            L.BatchNormalization(),
            L.Dense(3, activation="softmax"),
        ])
    if name == "uncompiled":
        return keras.Sequential([keras.Input((3,)), L.Dense(4, activation="tanh"), L.Dense(1)])
    return build(name)


COMPILES = {
    "xor": lambda: {"optimizer": keras.optimizers.SGD(0.5), "loss": "mse"},
    "iris_like": lambda: {"optimizer": keras.optimizers.Adam(),
                              "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
    "mnist_like": lambda: {"optimizer": keras.optimizers.Adam(1e-3),
                               "loss": "categorical_crossentropy", "metrics": ["accuracy"]},
    "activation_layer": lambda: {"optimizer": keras.optimizers.RMSprop(), "loss": "mse"},
}


def trained(name, compile_kw, epochs=2):
    model = build_more(name)
    model.compile(**compile_kw)
    x, y = data(name)
    model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, shuffle=False)
    return model, x, y


def assert_same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb):
        assert u.dtype == v.dtype
        np.testing.assert_array_equal(u, v)


def assert_same_optimizer(a, b):
    assert type(a) is type(b)
    assert a.get_config() == b.get_config()
    va, vb = a.variables, b.variables
    assert [v.shape for v in va] == [v.shape for v in vb]
    for u, v in zip(va, vb):
        np.testing.assert_array_equal(u.numpy(), v.numpy())


def same_config_without_first_shape(model):
    # tf.keras 2 repeats the input shape on the first layer; Keras 3 keeps it
    # on the InputLayer only, so a .keras round trip drops that copy.
    config = model.get_config()
    config["layers"][1]["config"].pop("batch_input_shape", None)
    return config


def no_temp_files(folder):
    return not [p for p in Path(folder).iterdir() if p.name.startswith(".kerasette-")]


# -- round trips -----------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(COMPILES) + ["cnn_small"])
def test_round_trip_restores_everything(tmp_path, name):
    compile_kw = COMPILES[name]() if name in COMPILES else K3_COMPILES[name]()
    model, x, _ = trained(name, compile_kw)
    path = tmp_path / f"{name}.keras"
    save_model_keras(model, path)
    loaded = load_model_keras(path)
    assert type(loaded) is keras.Sequential
    assert loaded.get_config() == same_config_without_first_shape(model)
    assert_same_weights(model, loaded)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.loss == model.loss
    assert loaded.metrics_names == model.metrics_names
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy()) == 8
    if name != "xor":  # SGD without momentum keeps no state in Keras 3's layout
        assert_same_optimizer(model.optimizer, loaded.optimizer)
    else:
        assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert no_temp_files(tmp_path)


@pytest.mark.parametrize("make_optimizer", [
    lambda: keras.optimizers.Adam(0.01),
    lambda: keras.optimizers.Adam(0.01, amsgrad=True),
    lambda: keras.optimizers.Adam(0.01, use_ema=True),
    lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    lambda: keras.optimizers.SGD(0.05),
    lambda: keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    lambda: keras.optimizers.Adagrad(0.05),
    lambda: keras.optimizers.Adadelta(1.0),
    lambda: keras.optimizers.Adamax(0.01),
    lambda: keras.optimizers.Nadam(0.01),
    lambda: keras.optimizers.AdamW(0.01),
    lambda: keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.01, 3, 0.5)),
], ids=["adam", "amsgrad", "ema", "nesterov", "sgd", "rmsprop_centered", "adagrad",
        "adadelta", "adamax", "nadam", "adamw", "schedule"])
def test_training_resumes_exactly_after_a_round_trip(tmp_path, make_optimizer):
    compile_kw = {"optimizer": make_optimizer(), "loss": "categorical_crossentropy",
                      "metrics": ["accuracy"]}
    model, x, y = trained("plain", compile_kw)
    path = tmp_path / "plain.keras"
    save_model_keras(model, path)
    loaded = load_model_keras(path)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    # One more epoch on both: identical weights only if every slot came back.
    h1 = model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    h2 = loaded.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    assert h1.history == h2.history
    assert_same_weights(model, loaded)
    assert int(loaded.optimizer.iterations.numpy()) == 12


def test_uncompiled_and_include_optimizer_false(tmp_path):
    model = build_more("uncompiled")
    path = tmp_path / "u.keras"
    save_model_keras(model, path)
    loaded = load_model_keras(path)
    assert loaded.optimizer is None
    assert_same_weights(model, loaded)
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
        assert config["compile_config"] == {}  # as Keras 3 writes it
    trained_model, _, _ = trained("iris_like", COMPILES["iris_like"]())
    save_model_keras(trained_model, path, include_optimizer=False)
    loaded = load_model_keras(path)
    assert loaded.optimizer is None
    assert_same_weights(trained_model, loaded)
    with zipfile.ZipFile(path) as zf, h5py.File(io.BytesIO(zf.read("model.weights.h5"))) as f:
        assert "optimizer" not in f


def test_compile_false_returns_an_uncompiled_model(tmp_path):
    model, _, _ = trained("iris_like", COMPILES["iris_like"]())
    save_model_keras(model, tmp_path / "m.keras")
    loaded = load_model_keras(tmp_path / "m.keras", compile=False)
    assert loaded.optimizer is None
    assert_same_weights(model, loaded)


def test_compiled_but_untrained_model(tmp_path):
    model = build("iris_like")
    model.compile(**COMPILES["iris_like"]())
    save_model_keras(model, tmp_path / "m.keras")
    loaded = load_model_keras(tmp_path / "m.keras")
    assert int(loaded.optimizer.iterations.numpy()) == 0
    assert loaded.optimizer.get_config() == model.optimizer.get_config()


def test_loss_and_metric_objects_survive(tmp_path):
    model = build_more("bn_small")
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
                  metrics=[keras.metrics.CategoricalAccuracy(name="acc")], loss_weights=0.5)
    x, y = data("bn_small")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    save_model_keras(model, tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        compile_config = json.loads(zf.read("config.json"))["compile_config"]
    assert compile_config["loss"]["config"]["reduction"] == "sum_over_batch_size"
    assert compile_config["loss_weights"] == 0.5
    loaded = load_model_keras(tmp_path / "m.keras")
    assert isinstance(loaded.loss, keras.losses.CategoricalCrossentropy)
    assert loaded.loss.label_smoothing == pytest.approx(0.1)
    assert loaded.metrics_names == ["loss", "acc"]
    assert model.evaluate(x, y, verbose=0) == loaded.evaluate(x, y, verbose=0)


# -- the archive ---------------------------------------------------------------------------
def test_archive_layout(tmp_path):
    model, _, _ = trained("mnist_like", COMPILES["mnist_like"](), epochs=1)
    path = tmp_path / "m.keras"
    save_model_keras(model, path)
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == MEMBERS
        assert all(info.compress_type == zipfile.ZIP_STORED for info in zf.infolist())
        metadata = json.loads(zf.read("metadata.json"))
        config = json.loads(zf.read("config.json"))
        weights = zf.read("model.weights.h5")
    assert set(metadata) == {"keras_version", "date_saved"}
    assert metadata["keras_version"].startswith("3.")
    assert config["module"] == "keras" and config["class_name"] == "Sequential"
    assert config["build_config"] == {"input_shape": [None, 28, 28]}
    inner = config["config"]
    assert inner["build_input_shape"] == [None, 28, 28]
    assert inner["dtype"]["class_name"] == "DTypePolicy"
    first = inner["layers"][0]
    assert first["class_name"] == "InputLayer"
    assert first["config"]["batch_shape"] == [None, 28, 28]
    for entry in inner["layers"][1:]:
        assert entry["module"] == "keras.layers"
        assert "batch_input_shape" not in entry["config"]
        assert entry["config"]["dtype"]["config"] == {"name": "float32"}
    bn = next(e for e in inner["layers"] if e["class_name"] == "BatchNormalization")
    assert bn["config"]["axis"] == -1
    assert bn["build_config"] == {"input_shape": [None, 64]}
    with h5py.File(io.BytesIO(weights), "r") as f:
        assert sorted(f["layers"]) == ["batch_normalization", "dense", "dense_1", "dropout",
                                       "flatten"]
        assert f["layers/dense/vars"].attrs["name"] == model.layers[1].name
        assert f["vars"].attrs["name"] == model.name
        opt = f["optimizer/vars"]
        assert opt.attrs["name"] == "adam"
        assert len(opt) == 2 + 2 * len(model.trainable_variables)
        assert opt["0"].dtype == np.int64 and int(opt["0"][()]) == 4
        assert opt["1"].dtype == np.float32 and float(opt["1"][()]) == np.float32(1e-3)
        np.testing.assert_array_equal(opt["2"][()], model.optimizer.variables[1].numpy())
        np.testing.assert_array_equal(f["layers/batch_normalization/vars/3"][()],
                                      model.layers[2].moving_variance.numpy())


def _normalise(obj):
    """Drops what legitimately differs between two writers of one model:
    object names, Keras's shared-object ids and float32 rounding."""
    if isinstance(obj, dict):
        return {k: _normalise(v) for k, v in obj.items()
                if k not in ("name", "shared_object_id")}
    if isinstance(obj, list):
        return [_normalise(v) for v in obj]
    if isinstance(obj, float):
        return float(np.float32(obj))
    return obj


K3_COMPILES = {
    "xor": lambda: {"optimizer": keras.optimizers.SGD(learning_rate=0.5), "loss": "mse"},
    "iris_like": COMPILES["iris_like"],
    "activation_layer": COMPILES["activation_layer"],
    "bn_small": lambda: {
        "optimizer": keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
        "loss": keras.losses.CategoricalCrossentropy(),
        "metrics": [keras.metrics.CategoricalAccuracy(name="acc")]},
    "cnn_small": lambda: {
        "optimizer": keras.optimizers.RMSprop(learning_rate=0.01, momentum=0.5, centered=True),
        "loss": "categorical_crossentropy", "metrics": ["accuracy"]},
    "uncompiled": None,
}


@pytest.mark.parametrize("name", K3_MODELS)
def test_config_matches_what_keras3_writes(tmp_path, name):
    model = build_more(name)
    if K3_COMPILES[name] is not None:
        model.compile(**K3_COMPILES[name]())
    save_model_keras(model, tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as ours, \
            zipfile.ZipFile(DATA / f"keras3_{name}.keras") as theirs:
        assert ours.namelist() == theirs.namelist()
        mine = json.loads(ours.read("config.json"))
        real = json.loads(theirs.read("config.json"))
        assert set(json.loads(ours.read("metadata.json"))) == set(
            json.loads(theirs.read("metadata.json")))
    assert _normalise(mine) == _normalise(real)


# -- files written by real Keras 3 ---------------------------------------------------------
@pytest.mark.parametrize("name", K3_MODELS)
def test_keras3_files_load_and_predict_like_keras3(name):
    ref = np.load(DATA / f"keras3_{name}_ref.npz", allow_pickle=False)
    model = load_model_keras(DATA / f"keras3_{name}.keras")
    weights = model.get_weights()
    assert len(weights) == int(ref["n_weights"])
    for i, w in enumerate(weights):
        np.testing.assert_array_equal(w, ref[f"w{i}"])
    out = model.predict(ref["x"], verbose=0)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref["y"], rtol=1e-5, atol=1e-6)
    if name == "uncompiled":
        assert model.optimizer is None
        return
    opt = model.optimizer
    assert int(opt.iterations.numpy()) == int(ref["iterations"]) == 6
    saved = [ref[f"opt{i}"] for i in range(int(ref["n_opt"]))]
    np.testing.assert_array_equal(saved[1], np.float32(opt.learning_rate.numpy()))
    if opt.variables[1:] or len(saved) > 2:
        slots = [v.numpy() for v in opt.variables[1:]]
        assert len(slots) == len(saved) - 2
        for a, b in zip(slots, saved[2:]):
            np.testing.assert_array_equal(a, b)
    x, y = data(name, n=16)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)  # it trains on
    assert int(opt.iterations.numpy()) == 8


def test_keras3_compile_config_is_restored():
    model = load_model_keras(DATA / "keras3_bn_small.keras")
    opt = model.optimizer
    assert isinstance(opt, keras.optimizers.SGD)
    assert opt.momentum == pytest.approx(0.9) and opt.nesterov is True
    assert float(opt.learning_rate.numpy()) == pytest.approx(0.05)
    assert isinstance(model.loss, keras.losses.CategoricalCrossentropy)
    assert model.metrics_names == ["loss", "acc"]
    iris = load_model_keras(DATA / "keras3_iris_like.keras")
    assert iris.optimizer.name == "Adam" and iris.loss == "sparse_categorical_crossentropy"
    assert iris.metrics_names == ["loss", "accuracy"]
    x, y = data("iris_like", n=32)
    _, acc = iris.evaluate(x, y, verbose=0)
    expected = np.mean(np.argmax(iris.predict(x, verbose=0), axis=1) == y)
    assert acc == pytest.approx(expected)


def test_keras3_files_resave_and_reload(tmp_path):
    model = load_model_keras(DATA / "keras3_iris_like.keras")
    save_model_keras(model, tmp_path / "again.keras")
    again = load_model_keras(tmp_path / "again.keras")
    assert_same_weights(model, again)
    assert_same_optimizer(model.optimizer, again.optimizer)


# -- code in files is refused ---------------------------------------------------------------
def test_lambda_layer_from_keras3_is_refused():
    for safe_mode in (True, False):
        with pytest.raises(ModelFileError, match=r"keras3_lambda\.keras.*Lambda layer \('lambda'\)"):
            load_model_keras(DATA / "keras3_lambda.keras", safe_mode=safe_mode)


def rewrite(src, dst, config=None, drop=(), replace=None):
    """Copies an archive, changing its config or dropping/replacing members."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            if name in drop:
                continue
            raw = zin.read(name)
            if name == "config.json" and config is not None:
                raw = config(json.loads(raw)) if callable(config) else config
                raw = raw if isinstance(raw, bytes) else json.dumps(raw).encode()
            if replace and name in replace:
                raw = replace[name]
            zout.writestr(name, raw)
    return dst


def test_serialized_lambda_anywhere_is_refused(tmp_path):
    def with_lambda_loss(config):
        config["compile_config"]["loss"] = {
            "module": "builtins", "class_name": "__lambda__",
            "config": {"code": "4wEAAAAAAAAAAAAAAAEAAAADAAAA", "defaults": None, "closure": None},
            "registered_name": None}
        return config

    bad = rewrite(DATA / "keras3_xor.keras", tmp_path / "bad.keras", config=with_lambda_loss)
    with pytest.raises(ModelFileError, match=r"bad\.keras.*serialized Python lambda"):
        load_model_keras(bad)
    with pytest.raises(ModelFileError, match="lambda"):
        load_model_keras(bad, compile=False)


# -- damaged and foreign files --------------------------------------------------------------
def test_damaged_files_raise_model_file_error(tmp_path):
    good = DATA / "keras3_iris_like.keras"
    raw = good.read_bytes()
    cases = {}
    (tmp_path / "truncated.keras").write_bytes(raw[: len(raw) // 2])
    cases["truncated.keras"] = "zip"
    (tmp_path / "empty.keras").write_bytes(b"")
    cases["empty.keras"] = "zip"
    (tmp_path / "text.keras").write_bytes(b"hello, I am not an archive\n" * 10)
    cases["text.keras"] = "zip"
    rewrite(good, tmp_path / "no_config.keras", drop=("config.json",))
    cases["no_config.keras"] = "config.json"
    rewrite(good, tmp_path / "no_weights.keras", drop=("model.weights.h5",))
    cases["no_weights.keras"] = "model.weights.h5"
    rewrite(good, tmp_path / "bad_json.keras", config=b"{\"module\": \"keras\", ")
    cases["bad_json.keras"] = "not valid JSON"
    rewrite(good, tmp_path / "bad_meta.keras", replace={"metadata.json": b"\xff\xfe"})
    cases["bad_meta.keras"] = "metadata.json"
    rewrite(good, tmp_path / "list.keras", config=[1, 2, 3])
    cases["list.keras"] = "class_name"
    rewrite(good, tmp_path / "functional.keras",
            config=lambda c: {**c, "class_name": "Functional"})
    cases["functional.keras"] = "Functional"
    rewrite(good, tmp_path / "no_layers.keras",
            config=lambda c: {**c, "config": {"name": "x"}})
    cases["no_layers.keras"] = "layers"
    rewrite(good, tmp_path / "unknown_layer.keras", config=lambda c: (
        c["config"]["layers"][1].update(class_name="Frobnicate") or c))
    cases["unknown_layer.keras"] = "Frobnicate"

    def wider(c):
        c["config"]["layers"][1]["config"]["units"] = 21
        return c

    rewrite(good, tmp_path / "shapes.keras", config=wider)
    cases["shapes.keras"] = "shape"
    rewrite(good, tmp_path / "bad_h5.keras", replace={"model.weights.h5": b"\x89HDF\r\n" * 20})
    cases["bad_h5.keras"] = "model.weights.h5"
    with zipfile.ZipFile(good) as zf:
        weights = zf.read("model.weights.h5")
    rewrite(good, tmp_path / "cut_h5.keras",
            replace={"model.weights.h5": weights[: len(weights) // 3]})
    cases["cut_h5.keras"] = "model.weights.h5"
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        f.create_group("something_else")
    rewrite(good, tmp_path / "foreign_h5.keras", replace={"model.weights.h5": buf.getvalue()})
    cases["foreign_h5.keras"] = "layers"
    # A legacy .h5 model file is not a .keras archive either.
    (tmp_path / "legacy.keras").write_bytes((KERAS / "keras3_xor.h5").read_bytes())
    cases["legacy.keras"] = "zip"
    for name, problem in cases.items():
        with pytest.raises(ModelFileError) as info:
            load_model_keras(tmp_path / name)
        message = str(info.value)
        assert name in message and problem in message, (name, message)
        assert info.value.path.endswith(name)
    with pytest.raises(ModelFileError, match="no such file"):
        load_model_keras(tmp_path / "missing.keras")


def test_bit_flip_in_weights_member_is_caught(tmp_path):
    # A stored member with a flipped byte fails its CRC check on reading.
    path = tmp_path / "m.keras"
    model, _, _ = trained("xor", COMPILES["xor"](), epochs=1)
    save_model_keras(model, path)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("model.weights.h5")
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + info.file_size // 2
    raw[offset] ^= 0xFF
    (tmp_path / "flipped.keras").write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="flipped.keras"):
        load_model_keras(tmp_path / "flipped.keras")


def test_optimizer_state_that_does_not_fit_warns_and_starts_fresh(tmp_path):
    model, _, _ = trained("iris_like", COMPILES["iris_like"]())
    path = tmp_path / "m.keras"
    save_model_keras(model, path)
    buf = io.BytesIO()
    with zipfile.ZipFile(path) as zf:
        buf.write(zf.read("model.weights.h5"))
    with h5py.File(buf, "a") as f:
        del f["optimizer/vars/5"]
        f["optimizer/vars"].create_dataset("5", data=np.zeros((7, 7), "float32"))
    rewrite(path, tmp_path / "odd.keras", replace={"model.weights.h5": buf.getvalue()})
    with pytest.warns(UserWarning, match="optimizer state was not restored"):
        loaded = load_model_keras(tmp_path / "odd.keras")
    assert int(loaded.optimizer.iterations.numpy()) == 0
    assert_same_weights(model, loaded)


# -- saving safely --------------------------------------------------------------------------
def test_save_is_atomic_and_checks_its_arguments(tmp_path, monkeypatch):
    model, x, _ = trained("xor", COMPILES["xor"](), epochs=1)
    path = tmp_path / "m.keras"
    save_model_keras(model, path)
    before = path.read_bytes()
    other = build("xor")
    from kerasette.saving import keras_zip

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(keras_zip, "_weights_bytes", lambda *a: b"x" * 10)
    real_member = keras_zip._member
    calls = []

    def member_then_fail(name):
        calls.append(name)
        if name == "model.weights.h5":
            explode()
        return real_member(name)

    monkeypatch.setattr(keras_zip, "_member", member_then_fail)
    with pytest.raises(RuntimeError, match="disk full"):
        save_model_keras(other, path)
    assert calls == MEMBERS
    assert path.read_bytes() == before  # the good file is untouched
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert no_temp_files(tmp_path)
    monkeypatch.undo()
    with pytest.raises(FileExistsError):
        save_model_keras(model, path, overwrite=False)
    with pytest.raises(ValueError, match=r"\.keras"):
        save_model_keras(model, tmp_path / "m.h5")
    with pytest.raises(ValueError, match="built"):
        save_model_keras(keras.Sequential([keras.layers.Dense(2)]), tmp_path / "u.keras")
    assert no_temp_files(tmp_path)
    np.testing.assert_array_equal(load_model_keras(path).predict(x, verbose=0),
                                  model.predict(x, verbose=0))


def test_model_built_by_calling_it(tmp_path):
    model = keras.Sequential([keras.layers.Dense(3, activation="relu"), keras.layers.Dense(1)])
    x = np.random.RandomState(0).rand(5, 4).astype("float32")
    expected = model.predict(x, verbose=0)
    save_model_keras(model, tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        config = json.loads(zf.read("config.json"))
    assert config["config"]["build_input_shape"] == [None, 4]
    assert [e["class_name"] for e in config["config"]["layers"]] == ["Dense", "Dense"]
    loaded = load_model_keras(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)


def test_model_save_and_load_model_dispatch_to_the_keras_format(tmp_path):
    model, x, _ = trained("iris_like", COMPILES["iris_like"]())
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == MEMBERS
    loaded = keras.models.load_model(path)
    assert_same_weights(model, loaded)
    assert_same_optimizer(model.optimizer, loaded.optimizer)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    real = keras.models.load_model(DATA / "keras3_bn_small.keras")
    assert [type(layer).__name__ for layer in real.layers] == [
        "Flatten", "Dense", "BatchNormalization", "Dropout", "Dense"]
