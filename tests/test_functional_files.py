"""Functional models in files: the fixtures real Keras wrote (tf.keras 2.21
and Keras 3.15, `.h5`, `.weights.h5` and `.keras`), kerasette's own saves
in every format, both config dialects, and what the loaders refuse."""

from __future__ import annotations

import json
import shutil
import zipfile

import h5py
import numpy as np
import interop_functional
import pytest
from fixture_paths import KERAS2

import kerasette as keras
from kerasette.saving import ModelFileError

MODELS = interop_functional.MODELS
IMPLS = ("tfkeras2", "keras3")
L = keras.layers


def _numpy(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def _outputs(model, x):
    out = model(x, training=False)
    return [_numpy(o) for o in out] if isinstance(out, (list, tuple)) else [_numpy(out)]


def _reference(impl, name):
    ref = np.load(KERAS2 / f"{impl}_{name}_ref.npz")
    x = [ref["x0"], ref["x1"]] if "x0" in ref else ref["x"]
    ys = [ref["y0"], ref["y1"]] if "y0" in ref else [ref["y"]]
    return x, ys


# The fixtures' architectures (fixtures/keras2/README.md), built in code by
# the same lines the interop check gives real Keras.
def _build(name):
    return interop_functional.build(keras, name)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("ext", [".h5", ".keras"])
def test_keras_functional_files_load_and_predict(backend, impl, name, ext):
    x, ys = _reference(impl, name)
    # Multi-output compile configs (a loss per output) are not restored yet.
    compile = name != "func_two_outputs"
    path = KERAS2 / f"{impl}_{name}{ext}"
    if compile and ext == ".keras":
        # The optimizer state does not fit: tf.keras 2's `.keras` layout has
        # no learning_rate variable, and these Keras 3 archives' compile_config
        # names no optimizer (so the default RMSprop meets Adam's slots). The
        # model loads, with a fresh optimizer state.
        with pytest.warns(UserWarning, match="optimizer state was not restored"):
            model = keras.models.load_model(path)
    else:
        model = keras.models.load_model(path, compile=compile)
    assert type(model).__name__ == "Functional"
    outputs = _outputs(model, x)
    assert len(outputs) == len(ys)
    for out, y in zip(outputs, ys):
        np.testing.assert_allclose(out, y, atol=1e-6, rtol=0)


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("name", MODELS)
def test_keras_functional_weights_load_into_code_built_models(backend, impl, name):
    x, ys = _reference(impl, name)
    model = _build(name)
    model.load_weights(KERAS2 / f"{impl}_{name}.weights.h5")
    for out, y in zip(_outputs(model, x), ys):
        np.testing.assert_allclose(out, y, atol=1e-6, rtol=0)


def test_single_input_predict_matches_the_fixture(backend):
    x, (y,) = _reference("tfkeras2", "func_nested")
    model = keras.models.load_model(KERAS2 / "tfkeras2_func_nested.h5")
    np.testing.assert_allclose(model.predict(x, verbose=0), y, atol=1e-6, rtol=0)


# -- kerasette's own saves -------------------------------------------------------------------
def _skip():
    x = keras.Input(shape=(4,), name="x")
    h = L.Dense(4, activation="relu")(x)
    return keras.Model(x, L.Dense(2)(L.Add()([h, x]))), np.random.rand(5, 4)


def _two_inputs():
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(2,), name="b")
    joined = L.Concatenate()([L.Dense(4)(a), L.Dense(4, activation="tanh")(b)])
    return keras.Model([a, b], L.Dense(1)(joined)), [np.random.rand(5, 3), np.random.rand(5, 2)]


def _two_outputs():
    x = keras.Input(shape=(3,))
    trunk = L.Dense(5, activation="relu", name="trunk")(x)
    return (keras.Model(x, [L.Dense(2, name="cls")(trunk), L.Dense(1, name="reg")(trunk)]),
            np.random.rand(5, 3))


def _shared():
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(3,), name="b")
    shared = L.Dense(4, name="shared")
    out = L.Dense(1)(L.Subtract()([shared(a), shared(b)]))
    return keras.Model([a, b], out), [np.random.rand(5, 3), np.random.rand(5, 3)]


def _nested():
    sub = keras.Sequential([keras.Input(shape=(3,)), L.Dense(4, activation="relu"),
                            L.Dense(2)], name="sub")
    x = keras.Input(shape=(3,))
    inner = keras.Model(x, sub(x), name="inner")  # a functional model in a functional model
    y = keras.Input(shape=(3,))
    return keras.Model(y, L.Dense(1)(L.Add()([inner(y), sub(y)]))), np.random.rand(5, 3)


GRAPHS = {"skip": _skip, "two_inputs": _two_inputs, "two_outputs": _two_outputs,
          "shared": _shared, "nested": _nested}


@pytest.mark.parametrize("graph", sorted(GRAPHS))
@pytest.mark.parametrize("target", ["m.h5", "m.keras", "m_dir"])
def test_own_functional_saves_round_trip_exactly(backend, tmp_path, graph, target):
    model, x = GRAPHS[graph]()
    expected = _outputs(model, x)
    model.save(tmp_path / target)
    loaded = keras.models.load_model(tmp_path / target)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert loaded.get_config() == model.get_config()
    assert len(_outputs(loaded, x)) == len(expected)
    for out, want in zip(_outputs(loaded, x), expected):
        np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("graph", sorted(GRAPHS))
@pytest.mark.parametrize("target", ["w.h5", "w.weights.h5"])
def test_own_functional_weights_round_trip_exactly(backend, tmp_path, graph, target):
    model, x = GRAPHS[graph]()
    model.save_weights(tmp_path / target)
    twin, _ = GRAPHS[graph]()
    twin.load_weights(tmp_path / target)
    assert len(_outputs(twin, x)) == len(_outputs(model, x))
    for out, want in zip(_outputs(twin, x), _outputs(model, x)):
        np.testing.assert_array_equal(out, want)


def test_compiled_functional_model_round_trips_its_compile_state(backend, tmp_path):
    model, x = _skip()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.random.rand(5, 2), epochs=1, verbose=0)
    for target in ("m.h5", "m.keras"):
        model.save(tmp_path / target)
        loaded = keras.models.load_model(tmp_path / target)
        assert loaded.optimizer.iterations.numpy() == model.optimizer.iterations.numpy()
        np.testing.assert_array_equal(_outputs(loaded, x)[0], _outputs(model, x)[0])


# -- the dialects ----------------------------------------------------------------------------
def test_h5_holds_tf_keras_2_dialect(backend, tmp_path):
    model, _ = _nested()
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5") as f:
        config = json.loads(f.attrs["model_config"])
        names = [n.decode() if isinstance(n, bytes) else n
                 for n in f["model_weights"].attrs["layer_names"]]
    assert config["class_name"] == "Functional"
    inner = config["config"]
    assert names == [layer.name for layer in model.layers]  # InputLayers too, as tf.keras
    assert inner["input_layers"] == [[model.layers[0].name, 0, 0]]
    by_name = {e["name"]: e for e in inner["layers"]}
    # tf.keras 2 counts a nested model's construction as its node 0.
    add = [e for e in inner["layers"] if e["class_name"] == "Add"][0]
    # `sub` has one node in this graph (its node in `inner` is not counted).
    assert add["inbound_nodes"] == [[["inner", 1, 0, {}], ["sub", 1, 0, {}]]]
    assert by_name["sub"]["inbound_nodes"] == [[[model.layers[0].name, 0, 0, {}]]]


def test_keras_archive_holds_keras_3_dialect(backend, tmp_path):
    model, _ = _shared()
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as z:
        config = json.loads(z.read("config.json"))
    assert config["class_name"] == config["registered_name"] == "Functional"
    inner = config["config"]
    shared = [e for e in inner["layers"] if e["name"] == "shared"][0]
    histories = [node["args"][0]["config"]["keras_history"] for node in shared["inbound_nodes"]]
    assert histories == [["a", 0, 0], ["b", 0, 0]]
    subtract = [e for e in inner["layers"] if e["class_name"] == "Subtract"][0]
    args = subtract["inbound_nodes"][0]["args"]
    assert [t["config"]["keras_history"] for t in args[0]] == [["shared", 0, 0],
                                                              ["shared", 1, 0]]
    assert len(inner["output_layers"]) == 3 and isinstance(inner["output_layers"][0], str)


def test_config_json_and_clone_rebuild_the_graph(backend):
    model, x = _two_outputs()
    again = keras.models.model_from_json(model.to_json())
    clone = keras.models.clone_model(model)
    for other in (again, clone, keras.Model.from_config(model.get_config())):
        assert other.get_config() == model.get_config()
        other.set_weights(model.get_weights())
        assert len(_outputs(other, x)) == len(_outputs(model, x))
        for out, want in zip(_outputs(other, x), _outputs(model, x)):
            np.testing.assert_array_equal(out, want)


# -- refusals --------------------------------------------------------------------------------
def _rewrite_h5_config(tmp_path, source, change):
    target = tmp_path / "changed.h5"
    shutil.copy(source, target)
    with h5py.File(target, "r+") as f:
        config = json.loads(f.attrs["model_config"])
        change(config["config"])
        f.attrs["model_config"] = json.dumps(config).encode()
    return target


def test_functional_file_with_lambda_is_refused(backend, tmp_path):
    def add_lambda(inner):
        inner["layers"][-1] = {"class_name": "Lambda", "config": {"name": "f"}, "name": "f",
                               "inbound_nodes": []}

    path = _rewrite_h5_config(tmp_path, KERAS2 / "tfkeras2_func_mlp.h5", add_lambda)
    with pytest.raises(ModelFileError, match="Lambda"):
        keras.models.load_model(path)


def test_functional_config_beyond_its_weights_is_refused(backend, tmp_path):
    def huge(inner):
        inner["layers"][1]["config"]["units"] = 10 ** 8

    path = _rewrite_h5_config(tmp_path, KERAS2 / "tfkeras2_func_mlp.h5", huge)
    with pytest.raises(ModelFileError, match="changed.h5"):
        keras.models.load_model(path)


def test_functional_config_with_a_dangling_node_is_refused(backend, tmp_path):
    def dangle(inner):
        inner["layers"][1]["inbound_nodes"] = [[["nowhere", 0, 0, {}]]]

    path = _rewrite_h5_config(tmp_path, KERAS2 / "tfkeras2_func_mlp.h5", dangle)
    with pytest.raises(ModelFileError, match="nowhere"):
        keras.models.load_model(path)


def _two_heads():
    """A two-input, two-output model compiled per output, trained two epochs."""
    layers = keras.layers
    keras.utils.set_random_seed(3)
    a, b = keras.Input(shape=(4,), name="a"), keras.Input(shape=(3,), name="b")
    hidden = layers.concatenate([layers.Dense(8, activation="relu")(a), b])
    reg = layers.Dense(1, name="reg")(hidden)
    cls = layers.Dense(3, activation="softmax", name="cls")(hidden)
    model = keras.Model([a, b], [reg, cls])
    model.compile("adam", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  metrics={"cls": ["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=2)]},
                  loss_weights={"reg": 0.5})
    rng = np.random.default_rng(0)
    x = [rng.random((40, 4), dtype=np.float32), rng.random((40, 3), dtype=np.float32)]
    y = [rng.random((40, 1), dtype=np.float32), rng.integers(0, 3, 40)]
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    return model, x, y


@pytest.mark.parametrize("target", ["m.h5", "m.keras", "m_folder"])
def test_compiled_two_output_model_round_trips_and_trains_on(backend, tmp_path, target):
    model, x, y = _two_heads()
    model.save(tmp_path / target)
    loaded = keras.models.load_model(tmp_path / target)
    assert loaded.metrics_names == model.metrics_names == [
        "loss", "reg_loss", "cls_loss", "cls_accuracy", "cls_sparse_top_k_categorical_accuracy"]
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == model.evaluate(
        x, y, verbose=0, return_dict=True)
    assert int(loaded.optimizer.iterations.numpy()) == int(model.optimizer.iterations.numpy())
    for twin in (model, loaded):  # one more epoch, same data order: the same bits
        keras.utils.set_random_seed(5)
        twin.fit(x, y, batch_size=16, epochs=1, verbose=0)
    for got, want in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("impl", ["tfkeras2", "keras3"])
@pytest.mark.parametrize("ext", [".h5", ".keras"])
def test_keras_two_output_files_restore_their_compile_state(backend, impl, ext):
    """Per-output losses, metrics and loss weights, as each Keras wrote them
    (tf.keras 2 writes metric names with the output's name in front)."""
    import warnings

    with warnings.catch_warnings():
        # The .keras archives' optimizer state: see the test above this file's dialects.
        warnings.simplefilter("ignore")
        model = keras.models.load_model(KERAS2 / f"{impl}_func_two_outputs{ext}")
    assert model.metrics_names == ["loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"]
    assert model.compiled_loss.weights == [1.0, 0.5]


def test_loss_objects_are_written_with_a_reduction_both_kerases_read(backend, tmp_path):
    """tf.keras 2 writes `reduction: "auto"`, which Keras 3 refuses; kerasette
    writes `"sum_over_batch_size"`, what "auto" means in `fit`, which both read."""
    model, x, y = _two_heads()
    model.compile("adam", loss={"reg": keras.losses.MeanSquaredError(),
                                "cls": keras.losses.SparseCategoricalCrossentropy()})
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        loss = json.loads(f.attrs["training_config"])["loss"]
    assert {entry["config"]["reduction"] for entry in loss.values()} == {"sum_over_batch_size"}
    loaded = keras.models.load_model(tmp_path / "m.h5")
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


def test_h5_optimizer_slots_are_in_the_order_tf_keras_fills_them(backend, tmp_path):
    """tf.keras 2.21 builds its legacy optimizer_v2 Adam from the plain name in
    kerasette's `.h5` and fills it by position: the step count, every `m`,
    then every `v`. (Per-weight `m, v` pairs made it drop the whole state.)
    kerasette reads that order, and tf.keras 2.11+'s own, by name."""
    model, x = _skip()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.random.rand(5, 2), epochs=2, verbose=0)
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5") as f:
        group = f["optimizer_weights"]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        shapes = [group[n].shape for n in names]
    weights = model.trainable_weights
    assert names == (["iteration:0"] + [f"Adam/m/{w.name}" for w in weights]
                     + [f"Adam/v/{w.name}" for w in weights])
    assert shapes == [()] + [tuple(w.shape) for w in weights] * 2
    loaded = keras.models.load_model(tmp_path / "m.h5")
    for got, want in zip(loaded.optimizer.variables, model.optimizer.variables, strict=True):
        assert got.name == want.name
        np.testing.assert_array_equal(_numpy(got), _numpy(want))
    # tf.keras 2.21's own file: m and v per weight, restored by name all the same.
    theirs = keras.models.load_model(KERAS2 / "tfkeras2_func_mlp.h5")
    with h5py.File(KERAS2 / "tfkeras2_func_mlp.h5") as f:
        group = f["optimizer_weights"]
        saved = {n.decode() if isinstance(n, bytes) else n: np.asarray(group[n])
                 for n in group.attrs["weight_names"]}
    assert int(theirs.optimizer.iterations.numpy()) == 12
    for variable in theirs.optimizer.variables:
        np.testing.assert_array_equal(_numpy(variable), saved[variable.name])
