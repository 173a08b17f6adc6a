"""Full-model .h5 files: Keras's fixtures load, ours are portable, and
training resumes exactly after save and load."""

import json
import os

import h5py
import numpy as np
import pytest

import kerasette as keras
from test_keras_fixtures import FIXTURES, build

L = keras.layers
MODELS = ("xor", "iris_like", "mnist_like", "cnn_small", "activation_layer")


@pytest.mark.parametrize("impl", ["tfkeras2", "keras3", "portable"])
@pytest.mark.parametrize("name", MODELS)
def test_keras_model_files_load_with_weights_and_predictions(impl, name):
    ref = np.load(FIXTURES / f"{'tfkeras2' if impl == 'portable' else impl}_{name}_ref.npz")
    model = keras.models.load_model(FIXTURES / f"{impl}_{name}.h5")
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_array_equal(w, ref[f"w{i}"])
    np.testing.assert_allclose(model.predict(ref["x"], verbose=0), ref["y"], rtol=1e-5, atol=1e-6)
    assert model.optimizer is not None and model.metrics_names[0] == "loss"


def test_tf_keras_optimizer_state_and_hyper_parameters_are_restored():
    model = keras.models.load_model(FIXTURES / "tfkeras2_iris_like.h5")
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert int(model.optimizer.iterations.numpy()) == 50
    with h5py.File(FIXTURES / "tfkeras2_iris_like.h5") as f:
        m_kernel = np.asarray(f["optimizer_weights"]["Adam"]["m"]["dense"]["kernel:0"])
    slot = [v for v in model.optimizer.variables if v.name == "Adam/m/dense/kernel:0"][0]
    np.testing.assert_array_equal(slot.numpy(), m_kernel)
    assert model.metrics_names == ["loss", "accuracy"]


def compiled_model(optimizer=None):
    keras.utils.set_random_seed(5)
    model = keras.Sequential([
        L.Dense(16, activation="relu", input_shape=(6,),
                kernel_regularizer=keras.regularizers.l2(1e-3)),
        L.BatchNormalization(),
        L.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer or keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def toy_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 6)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5)


@pytest.mark.parametrize("optimizer", ["adam", "sgd_momentum", "rmsprop"])
def test_resume_after_save_and_load_is_exact(tmp_path, optimizer):
    make = {"adam": lambda: keras.optimizers.Adam(0.01),
            "sgd_momentum": lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
            "rmsprop": lambda: keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True)}[optimizer]
    x, y = toy_data()
    straight = compiled_model(make())
    straight.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)

    resumed = compiled_model(make())
    resumed.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    resumed.save(tmp_path / "half.h5")
    loaded = keras.models.load_model(tmp_path / "half.h5")
    loaded.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)

    for a, b in zip(straight.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(straight.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_written_file_is_in_the_portable_tf_keras_dialect(tmp_path):
    x, y = toy_data()
    model = compiled_model()
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.h5"
    model.save(path)
    with h5py.File(path) as f:
        assert f.attrs["keras_version"] == "2.21.0" and f.attrs["backend"] == "tensorflow"
        config = json.loads(f.attrs["model_config"])
        train = json.loads(f.attrs["training_config"])
        names = [n for n in f["model_weights"].attrs["layer_names"]]
        weight_names = list(f["optimizer_weights"].attrs["weight_names"])
    layers = config["config"]["layers"]
    assert config["class_name"] == "Sequential" and layers[0]["class_name"] == "InputLayer"
    assert layers[0]["config"]["batch_input_shape"] == [None, 6]
    assert all(set(entry) == {"class_name", "config"} for entry in layers)
    assert names == [layer.name for layer in model.layers]
    assert train["loss"] == "sparse_categorical_crossentropy"
    assert train["metrics"] == [{"class_name": "SparseCategoricalAccuracy",
                                 "config": {"name": "accuracy", "dtype": "float32"}}]
    assert train["loss_weights"] is None
    opt = train["optimizer_config"]
    assert opt["class_name"] == "Adam"
    assert set(opt["config"]) == {"name", "learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad"}
    assert weight_names[0] == "iteration:0" and weight_names[1] == "Adam/m/dense/kernel:0"


def test_save_without_optimizer_and_load_uncompiled(tmp_path):
    model = compiled_model()
    model.save(tmp_path / "m.h5", include_optimizer=False)
    with h5py.File(tmp_path / "m.h5") as f:
        assert "training_config" not in f.attrs and "optimizer_weights" not in f
    loaded = keras.models.load_model(tmp_path / "m.h5")
    assert loaded.optimizer is None
    model.save(tmp_path / "c.h5")
    assert keras.models.load_model(tmp_path / "c.h5", compile=False).optimizer is None


def test_interrupted_save_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.h5"
    model = compiled_model()
    model.save(path)
    before = path.read_bytes()
    from kerasette.saving import weights_h5

    def broken(group, model):
        group.create_group("half_written")
        raise RuntimeError("disk full")

    monkeypatch.setattr(weights_h5, "write_legacy_group", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.h5"]
    monkeypatch.undo()
    assert keras.models.load_model(path).count_params() == model.count_params()


def test_unsupported_extension_and_overwrite(tmp_path):
    model = compiled_model()
    with pytest.raises(ValueError, match="extension"):
        model.save(tmp_path / "m.pkl")
    model.save(tmp_path / "m.h5")
    with pytest.raises(FileExistsError):
        model.save(tmp_path / "m.h5", overwrite=False)


def test_model_checkpoint_saves_full_models(tmp_path):
    x, y = toy_data()
    model = compiled_model()
    cb = keras.callbacks.ModelCheckpoint(str(tmp_path / "best.h5"), monitor="loss",
                                         save_best_only=True)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[cb])
    loaded = keras.models.load_model(tmp_path / "best.h5")
    assert loaded.metrics_names == ["loss", "accuracy"]
    assert loaded.count_params() == model.count_params()


def test_clone_model_has_the_architecture_and_fresh_weights():
    model = build("iris_like")
    clone = keras.models.clone_model(model)
    assert json.loads(clone.to_json())["config"]["layers"][1]["config"]["units"] == 20
    assert clone.count_params() == model.count_params()
    assert not all(np.array_equal(a, b) for a, b in zip(model.get_weights(), clone.get_weights()))


def test_saved_files_get_normal_permissions(tmp_path):
    model = compiled_model()
    model.save(tmp_path / "m.h5")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "m.h5").stat().st_mode & 0o777 == 0o666 & ~umask
