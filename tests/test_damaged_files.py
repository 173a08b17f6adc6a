"""Damaged and foreign files give a `ModelFileError` naming the file (never
a KeyError, OSError, JSON error or crash), a failed `load_weights` leaves
the model as it was, and an interrupted save keeps the old file.

Damaged files are good files edited with h5py, as a broken disk, a
careless script or another program would leave them."""

import json
import os
import shutil

import h5py
import numpy as np
import pytest

import kerasette as keras
from kerasette.saving import ModelFileError

L = keras.layers


def _model():
    keras.utils.set_random_seed(4)
    model = keras.Sequential([
        L.Dense(4, activation="relu", input_shape=(3,), name="dense_a"),
        L.BatchNormalization(name="norm"),
        L.Dense(2, activation="softmax", name="dense_b"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.linspace(-1, 1, 48, dtype="float32").reshape(16, 3)
    model.fit(x, (x[:, 0] > 0).astype("int64"), batch_size=8, epochs=1, verbose=0)
    return model


@pytest.fixture
def good(tmp_path):
    """A trained model and its good `.h5` file."""
    model = _model()
    path = tmp_path / "good.h5"
    model.save(path)
    return model, path


def _copy(good_path, name):
    path = good_path.with_name(name)
    shutil.copyfile(good_path, path)
    return path


def _model_config(f):
    return json.loads(f.attrs["model_config"])


def _set_model_config(f, config):
    f.attrs["model_config"] = json.dumps(config).encode("utf8")


def _edit_layers(f, edit):
    config = _model_config(f)
    edit(config["config"]["layers"])
    _set_model_config(f, config)


def _raises(load, path, *phrases):
    with pytest.raises(ModelFileError) as info:
        load(path)
    message = str(info.value)
    assert path.name in message, message
    for phrase in phrases:
        assert phrase.lower() in message.lower(), message
    return message


def _unchanged(model, before):
    after = model.get_weights()
    assert len(after) == len(before)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


# -- not a model file at all ---------------------------------------------------------


def test_missing_file_and_folder(tmp_path):
    model = _model()
    before = model.get_weights()
    for load in (keras.models.load_model, model.load_weights):
        _raises(load, tmp_path / "absent.h5", "no such file")
    folder = tmp_path / "saved_model_dir.h5"
    folder.mkdir()
    _raises(keras.models.load_model, folder, "folder")
    _raises(model.load_weights, folder)
    _unchanged(model, before)


def test_foreign_bytes(tmp_path, good):
    model, good_path = good
    header = good_path.read_bytes()[:8]
    rng = np.random.default_rng(0)
    files = {
        "empty.h5": b"",
        "random.h5": rng.bytes(4096),
        "random_after_magic.h5": header + rng.bytes(4096),
        "notes.h5": b"model: three dense layers\nweights: see other file\n" * 20,
        "config.json.h5": json.dumps({"class_name": "Sequential"}).encode(),
    }
    before = model.get_weights()
    for name, data in files.items():
        path = good_path.with_name(name)
        path.write_bytes(data)
        _raises(keras.models.load_model, path)
        _raises(model.load_weights, path)
    _unchanged(model, before)


def test_truncated_files(good):
    model, good_path = good
    data = good_path.read_bytes()
    before = model.get_weights()
    for cut in (8, 96, 800, len(data) // 3, len(data) // 2, len(data) - 200, len(data) - 1):
        path = good_path.with_name(f"cut_{cut}.h5")
        path.write_bytes(data[:cut])
        _raises(keras.models.load_model, path)
        _raises(model.load_weights, path)
    _unchanged(model, before)


# -- model_config and training_config ------------------------------------------------


def _no_model_config(f):
    del f.attrs["model_config"]


def _invalid_json(f):
    f.attrs["model_config"] = b'{"class_name": "Sequential", "config": {"layers": ['


def _functional(f):
    config = _model_config(f)
    config["class_name"] = "Functional"
    config["config"]["input_layers"] = [["input_1", 0, 0]]
    _set_model_config(f, config)


def _lambda(f):
    _edit_layers(f, lambda layers: layers.insert(2, {"class_name": "Lambda", "config": {
        "name": "lambda", "function": [("4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwApAk7p"
                                        "AgAAAKkAKQHaAXhyAgAAAHICAAAA+gc8c3RkaW4+2gg8bGFtYmRhPgEA"
                                        "AADzAAAAAA==\n"), None, None],
        "function_type": "lambda", "module": "__main__", "output_shape": None,
        "arguments": {}}}))


def _unknown_layer(f):
    _edit_layers(f, lambda layers: layers[2].update(class_name="FancyLayer"))


def _bad_layer_argument(f):
    _edit_layers(f, lambda layers: layers[1]["config"].update(units="four"))


def _config_without_layers(f):
    _set_model_config(f, {"class_name": "Sequential", "config": {"name": "s"}})


def _config_is_a_list(f):
    f.attrs["model_config"] = b"[1, 2, 3]"


def _training_config_invalid(f):
    f.attrs["training_config"] = b'{"loss": "mse", '


def _training_config_unknown_optimizer(f):
    config = json.loads(f.attrs["training_config"])
    config["optimizer_config"]["class_name"] = "Shampoo"
    f.attrs["training_config"] = json.dumps(config).encode()


CONFIG_CASES = {
    "no_model_config": (_no_model_config, ["model_config", "load_weights"]),
    "invalid_json": (_invalid_json, ["model_config", "json"]),
    "functional": (_functional, ["Functional", "output_layers"]),
    "lambda": (_lambda, ["Lambda", "custom_objects"]),
    "unknown_layer": (_unknown_layer, ["FancyLayer", "custom_objects"]),
    "bad_layer_argument": (_bad_layer_argument, ["units"]),
    "config_without_layers": (_config_without_layers, ["layers"]),
    "config_is_a_list": (_config_is_a_list, ["class_name"]),
    "training_config_invalid": (_training_config_invalid, ["training_config", "json"]),
    "training_config_unknown_optimizer": (_training_config_unknown_optimizer,
                                          ["Shampoo", "compile=False"]),
}


@pytest.mark.parametrize("case", sorted(CONFIG_CASES))
def test_damaged_configs(good, case):
    edit, phrases = CONFIG_CASES[case]
    model, good_path = good
    path = _copy(good_path, f"{case}.h5")
    with h5py.File(path, "r+") as f:
        edit(f)
    _raises(keras.models.load_model, path, *phrases)
    if case.startswith("training_config"):  # the model itself is intact
        loaded = keras.models.load_model(path, compile=False)
        _unchanged(loaded, model.get_weights())


# -- weights -------------------------------------------------------------------------


def _wrong_shape(f):
    g = f["model_weights/dense_b/dense_b"]
    del g["kernel:0"]
    g.create_dataset("kernel:0", data=np.zeros((4, 3), "float32"))


def _missing_group(f):
    del f["model_weights/norm"]


def _missing_dataset(f):
    del f["model_weights/dense_a/dense_a/bias:0"]


def _string_dataset(f):
    g = f["model_weights/dense_a/dense_a"]
    del g["bias:0"]
    g.create_dataset("bias:0", data=np.array([b"a", b"b", b"c", b"d"]))


def _layer_names(f):
    return [n.encode() if isinstance(n, str) else bytes(n)
            for n in f["model_weights"].attrs["layer_names"]]


def _extra_layer_name(f):
    f["model_weights"].attrs["layer_names"] = _layer_names(f) + [b"ghost_layer"]


def _missing_layer_name(f):
    f["model_weights"].attrs["layer_names"] = [n for n in _layer_names(f) if n != b"norm"]


def _missing_weight_names(f):
    f["model_weights/dense_b"].attrs["weight_names"] = [b"dense_b/kernel:0"]


WEIGHT_CASES = {
    "wrong_shape": (_wrong_shape, ["shape"]),
    "missing_group": (_missing_group, ["norm"]),
    "missing_dataset": (_missing_dataset, ["bias"]),
    "string_dataset": (_string_dataset, ["bias"]),
    "extra_layer_name": (_extra_layer_name, ["ghost_layer"]),
    "missing_layer_name": (_missing_layer_name, ["layer"]),
    "missing_weight_name": (_missing_weight_names, ["dense_b"]),
}


@pytest.mark.parametrize("case", sorted(WEIGHT_CASES))
def test_damaged_weights(good, case):
    edit, phrases = WEIGHT_CASES[case]
    _, good_path = good
    path = _copy(good_path, f"{case}.h5")
    with h5py.File(path, "r+") as f:
        edit(f)
    _raises(keras.models.load_model, path, *phrases)
    # load_weights reads the model_weights group of a full file too.
    target = _model()
    before = target.get_weights()
    _raises(target.load_weights, path, *phrases)
    _unchanged(target, before)


def test_damaged_optimizer_state(good):
    model, good_path = good
    path = _copy(good_path, "optimizer_gone.h5")
    with h5py.File(path, "r+") as f:
        group = f["optimizer_weights"]
        name = [n if isinstance(n, str) else n.decode() for n in group.attrs["weight_names"]][1]
        del group[name]
    _raises(keras.models.load_model, path, "optimizer")
    loaded = keras.models.load_model(path, compile=False)
    _unchanged(loaded, model.get_weights())


def test_weights_only_file_given_to_load_model(good):
    model, good_path = good
    path = good_path.with_name("only_weights.h5")
    model.save_weights(path)
    _raises(keras.models.load_model, path, "load_weights")
    path3 = good_path.with_name("only_weights.weights.h5")
    model.save_weights(path3)
    _raises(keras.models.load_model, path3, "load_weights")


def test_load_weights_count_mismatch_leaves_the_model_alone(tmp_path):
    model = _model()
    before = model.get_weights()
    others = {
        "fewer_layers.h5": keras.Sequential([L.Dense(4, input_shape=(3,))]),
        "no_bias.h5": keras.Sequential([
            L.Dense(4, input_shape=(3,), use_bias=False), L.BatchNormalization(), L.Dense(2)]),
        "bigger.h5": keras.Sequential([
            L.Dense(5, input_shape=(3,)), L.BatchNormalization(), L.Dense(2)]),
        "more_layers.weights.h5": keras.Sequential([
            L.Dense(4, input_shape=(3,)), L.Dense(4), L.BatchNormalization(), L.Dense(2)]),
    }
    for name, other in others.items():
        other.save_weights(tmp_path / name)
        _raises(model.load_weights, tmp_path / name)
        _unchanged(model, before)
    model.save(tmp_path / "model.h5")
    _raises(others["bigger.h5"].load_weights, tmp_path / "model.h5", "shape")


# -- saving atomically ---------------------------------------------------------------


def _leftovers(folder):
    return [p for p in os.listdir(folder) if p.startswith(".kerasette-")]


def test_failed_model_save_keeps_the_old_file(good, monkeypatch):
    model, path = good
    before = path.read_bytes()
    from kerasette.saving import h5_model

    def fail_midway(group, optimizer):
        group.create_dataset("partial", data=np.zeros(3))
        raise OSError("No space left on device")

    monkeypatch.setattr(h5_model, "_write_optimizer", fail_midway)
    x = np.ones((4, 3), "float32")
    model.fit(x, np.zeros(4, "int64"), verbose=0)  # the new state differs
    with pytest.raises(OSError, match="No space left"):
        model.save(path)
    assert path.read_bytes() == before
    assert not _leftovers(path.parent)
    monkeypatch.undo()
    loaded = keras.models.load_model(path)
    assert loaded.get_config() == model.get_config()


def test_failed_weights_save_keeps_the_old_file(good, monkeypatch):
    model, good_path = good
    from kerasette.saving import weights_h5

    for name, target in (("w.h5", "write_legacy_group"), ("w.weights.h5", "write_v3_file")):
        path = good_path.with_name(name)
        model.save_weights(path)
        before = path.read_bytes()

        def fail_midway(f, m):
            f.create_group("half")
            raise KeyboardInterrupt

        monkeypatch.setattr(weights_h5, target, fail_midway)
        with pytest.raises(KeyboardInterrupt):
            model.save_weights(path)
        monkeypatch.undo()
        assert path.read_bytes() == before
        assert not _leftovers(path.parent)
        fresh = _model()
        fresh.load_weights(path)
        _unchanged(fresh, model.get_weights())


# -- storage and links Keras never writes (issue 16) ---------------------------------

# How a weight reached another file: kind of rewrite -> the refusal's words.
FOREIGN_STORAGE = {
    "external": "uses external storage (its bytes live in another file); kerasette refuses "
                "it, as Keras 3 does.",
    "virtual": "is a virtual dataset (its values come from other HDF5 files); kerasette "
               "refuses it, as Keras 3 does.",
    "external_link": "is an external link (it points into another file); kerasette refuses "
                     "it, as Keras 3 does.",
    "soft_link": "is a soft link; Keras files hold only hard links",
    "gzip_shuffle_fletcher32": "is compressed or filtered (shuffle, gzip, fletcher32)",
    "compact": "is stored compact",
}


def _foreign(model, tmp_path, kind, fmt):
    """`model` saved as `fmt`, its first kernel rewritten as `kind`, whose
    other file holds the same values: a loader that followed it would
    load them without a word."""
    from file_fuzz import make_targets, rewrite_dataset

    targets = make_targets(str(tmp_path), model)
    key = {"h5": "model_weights/dense_a/dense_a/kernel:0", "weights.h5": "layers/dense/vars/0"}

    def edit(f):
        rewrite_dataset(f, key["weights.h5" if "layers" in f else "h5"], kind, targets)

    if fmt in ("h5", "weights.h5"):
        path = tmp_path / f"m.{fmt}"
        (model.save if fmt == "h5" else model.save_weights)(path)
        with h5py.File(path, "r+") as f:
            edit(f)
        return path, ("dataset '/model_weights/dense_a/dense_a/kernel:0'" if fmt == "h5"
                      else "dataset '/layers/dense/vars/0'")
    path = tmp_path / ("m.keras" if fmt == "keras" else "IrisModel")
    model.save(path)
    weights = path / "model.weights.h5" if fmt == "folder" else tmp_path / "model.weights.h5"
    if fmt == "keras":
        import zipfile

        from file_fuzz import rezip

        def member(name, payload):
            if name != "model.weights.h5":
                return payload
            weights.write_bytes(payload)
            with h5py.File(weights, "r+") as f:
                edit(f)
            return weights.read_bytes()

        path.write_bytes(rezip(path.read_bytes(), member))
        assert zipfile.is_zipfile(path)
    else:
        with h5py.File(weights, "r+") as f:
            edit(f)
    return path, "model.weights.h5: dataset '/layers/dense/vars/0'"


@pytest.mark.parametrize("fmt", ["h5", "weights.h5", "keras", "folder"])
@pytest.mark.parametrize("kind", sorted(FOREIGN_STORAGE))
def test_storage_keras_never_writes_is_refused(tmp_path, kind, fmt):
    model = _model()
    path, dataset = _foreign(model, tmp_path, kind, fmt)
    if kind.endswith("link"):
        dataset = dataset.replace("dataset ", "")
    target = _model()
    before = target.get_weights()
    loads = [target.load_weights] if fmt == "weights.h5" else [keras.models.load_model]
    if fmt == "h5":
        loads.append(target.load_weights)  # reads the model_weights group: refused too
    for load in loads:
        with pytest.raises(ModelFileError) as info:
            load(path)
        assert str(info.value).startswith(f"{path}: {dataset} {FOREIGN_STORAGE[kind]}"), \
            str(info.value)
    _unchanged(target, before)


def test_every_keras_file_uses_only_what_kerasette_reads():
    """Every real Keras file in tests/data (and the fixtures' folder) has
    contiguous, unfiltered datasets in the file itself and hard links only:
    what the loaders accept."""
    import glob
    import io
    import zipfile

    from fixture_paths import DATA

    files = sorted(glob.glob(str(DATA / "keras" / "*.h5")))
    files.append(str(DATA / "keras3_IrisModel" / "model.weights.h5"))
    archives = sorted(glob.glob(str(DATA / "keras3_*.keras")))
    sources = [(p, p) for p in files] + [
        (p, io.BytesIO(zipfile.ZipFile(p).read("model.weights.h5"))) for p in archives]
    assert len(sources) >= 40, sources
    datasets = 0
    for name, source in sources:
        with h5py.File(source, "r") as f:
            found = []
            f.visit_links(lambda n: found.append(n))
            for link in found:
                assert isinstance(f.get(link, getlink=True), h5py.HardLink), (name, link)
                obj = f[link]
                if isinstance(obj, h5py.Dataset):
                    plist = obj.id.get_create_plist()
                    assert plist.get_layout() == h5py.h5d.CONTIGUOUS, (name, link)
                    assert plist.get_nfilters() == 0 and plist.get_external_count() == 0
                    datasets += 1
    assert datasets > 400


# -- configs that declare more weights than the file holds (issue 16) ---------------


def test_config_larger_than_its_weights_is_refused_before_allocating(good):
    model, good_path = good
    path = _copy(good_path, "dense_40m.h5")
    with h5py.File(path, "r+") as f:
        _edit_layers(f, lambda layers: layers[-1]["config"].update(units=40_000_000))
    message = _raises(keras.models.load_model, path, "layer 'dense_b' declares a weight "
                      "'kernel' of shape (4, 40000000) (160000000 values), but the file's "
                      "datasets hold ")
    assert "The config does not match the weights stored" in message


def test_probe_of_a_custom_layer_is_bounded(tmp_path):
    """A custom layer without `compute_output_shape` is run once on one
    sample to learn its output shape: a file's input shape cannot make that
    sample huge."""

    class Identity(L.Layer):
        pass

    model = keras.Sequential([Identity(input_shape=(3,), name="identity"), L.Dense(2)])
    model.save(tmp_path / "good.h5")
    keras.models.load_model(tmp_path / "good.h5", custom_objects={"Identity": Identity})
    path = _copy(tmp_path / "good.h5", "custom.h5")
    with h5py.File(path, "r+") as f:
        def huge(layers):
            for layer in layers:
                if "batch_input_shape" in layer["config"]:
                    layer["config"]["batch_input_shape"] = [None, 50_000_000]
        _edit_layers(f, huge)
    with pytest.raises(ModelFileError, match="layer 'identity' declares an input sample of "
                                             r"shape \(1, 50000000\)"):
        keras.models.load_model(path, custom_objects={"Identity": Identity})
