"""The model folder: `model.save("IrisModel")`, Keras 3's format unzipped.

The course notes end the Iris lecture with `keras_model.save("IrisModel")`
and `keras.models.load_model('IrisModel')`. kerasette writes there the
folder Keras 3 writes for `save_model(model, path, zipped=False)`
(`config.json`, `metadata.json`, `model.weights.h5`), which Keras 3.15
loads. `tests/data/keras3_IrisModel/` was written by real Keras 3.15.1
(`tests/data/make_keras3_dir.py`); the `.keras` archives beside it, unzipped,
are that same layout.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from fixture_paths import DATA
from test_keras_zip import assert_same_weights

import kerasette as keras
from kerasette.saving import ModelFileError, atomic, keras_dir, keras_zip

MEMBERS = ["config.json", "metadata.json", "model.weights.h5"]
K3_ARCHIVES = ("xor", "iris_like", "activation_layer", "bn_small", "cnn_small", "uncompiled")


@pytest.fixture
def numpy_only(backend):
    if backend.name != "numpy":
        pytest.skip("the files are backend-independent; runs once, on the numpy backend")


# -- models and checks ------------------------------------------------------------------------
def iris_data(n=120, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5).astype("int64")
    return x, y


def course_iris_model():
    """The notes' Iris network, as the notes build it: no input shape (built
    by fit), tanh, L2(0.001), softmax, Adam, sparse labels."""
    L = keras.layers
    k_l2 = 0.001
    model = keras.Sequential([
        L.Dense(20, activation="tanh", kernel_regularizer=keras.regularizers.l2(k_l2)),
        L.Dense(20, activation="tanh", kernel_regularizer=keras.regularizers.l2(k_l2)),
        L.Dense(3, activation="softmax", kernel_regularizer=keras.regularizers.l2(k_l2)),
    ])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def small_model(shift=0.0):
    """A small trained model; `shift` moves every weight (a second version)."""
    keras.utils.set_random_seed(3)
    L = keras.layers
    model = keras.Sequential([L.Dense(4, activation="relu", input_shape=(3,)),
                              L.BatchNormalization(), L.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.linspace(-1, 1, 48, dtype="float32").reshape(16, 3)
    model.fit(x, (x[:, 0] > 0).astype("int64"), batch_size=8, epochs=1, verbose=0)
    if shift:
        model.set_weights([w + shift for w in model.get_weights()])
    return model


def assert_same_optimizer(a, b):
    assert type(a) is type(b)
    assert a.get_config() == b.get_config()
    assert int(a.iterations.numpy()) == int(b.iterations.numpy())
    va, vb = a.variables, b.variables
    assert [v.shape for v in va] == [v.shape for v in vb]
    for u, v in zip(va, vb):
        np.testing.assert_array_equal(u.numpy(), v.numpy())


def leftovers(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith(atomic.PREFIX))


def which_version(path, versions):
    loaded = keras.models.load_model(path).get_weights()
    for i, weights in enumerate(versions):
        if all(np.array_equal(a, b) for a, b in zip(weights, loaded)):
            return i
    return None


# -- the course idiom ------------------------------------------------------------------------
def test_course_idiom_saves_a_folder_and_loads_it_back(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    keras.utils.set_random_seed(0)
    x, y = iris_data()
    x_test, y_test = iris_data(30, seed=1)
    keras_model = course_iris_model()
    keras_model.fit(x, y, batch_size=20, epochs=3, validation_data=(x_test, y_test), verbose=0)

    keras_model.save("IrisModel")
    model2 = keras.models.load_model("IrisModel")

    assert sorted(os.listdir("IrisModel")) == MEMBERS
    assert os.listdir(tmp_path) == ["IrisModel"]  # no temporary folder left
    np.testing.assert_array_equal(model2.predict(x_test, verbose=0),
                                  keras_model.predict(x_test, verbose=0))
    assert_same_weights(keras_model, model2)
    assert_same_optimizer(keras_model.optimizer, model2.optimizer)
    assert int(model2.optimizer.iterations.numpy()) == 18
    assert model2.loss == "sparse_categorical_crossentropy"
    assert model2.metrics_names == ["loss", "accuracy"]
    assert model2.get_config()["layers"][1:] == keras_model.get_config()["layers"][1:]
    # Training goes on exactly as it would have: every Adam slot came back.
    h1 = keras_model.fit(x, y, batch_size=20, epochs=2, verbose=0, shuffle=False)
    h2 = model2.fit(x, y, batch_size=20, epochs=2, verbose=0, shuffle=False)
    assert h1.history == h2.history
    assert_same_weights(keras_model, model2)
    assert_same_optimizer(keras_model.optimizer, model2.optimizer)


@pytest.mark.parametrize("make_optimizer", [
    lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    lambda: keras.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    lambda: keras.optimizers.Nadam(0.01),
    lambda: keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.01, 3, 0.5)),
], ids=["nesterov", "rmsprop_centered", "nadam", "schedule"])
def test_training_resumes_exactly_from_a_folder(tmp_path, make_optimizer):
    L = keras.layers
    model = keras.Sequential([L.Dense(6, activation="tanh", input_shape=(4,)),
                              L.BatchNormalization(), L.Dense(3, activation="softmax")])
    model.compile(optimizer=make_optimizer(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x, y = iris_data(64)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
    model.save(tmp_path / "m")
    loaded = keras.models.load_model(tmp_path / "m")
    assert_same_optimizer(model.optimizer, loaded.optimizer)
    h1 = model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    h2 = loaded.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    assert h1.history == h2.history
    assert_same_weights(model, loaded)


def test_uncompiled_and_include_optimizer_false(tmp_path):
    model = small_model()
    model.save(tmp_path / "bare", include_optimizer=False)
    loaded = keras.models.load_model(tmp_path / "bare")
    assert loaded.optimizer is None
    assert_same_weights(model, loaded)
    assert keras.models.load_model(tmp_path / "bare", compile=False).optimizer is None
    model.save(tmp_path / "full")
    assert keras.models.load_model(tmp_path / "full", compile=False).optimizer is None


# -- one writer, one reader: the folder holds the archive's members ---------------------------
def test_folder_holds_the_members_of_the_keras_archive(numpy_only, tmp_path):
    model = small_model()
    model.save(tmp_path / "m.keras")
    keras.saving.save_model(model, tmp_path / "m", zipped=False)
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        assert sorted(zf.namelist()) == MEMBERS
        zipped = {name: zf.read(name) for name in zf.namelist()}
    folder = {name: (tmp_path / "m" / name).read_bytes() for name in MEMBERS}
    # config.json is what Keras 3 accepts in the archive (tests/test_keras_zip.py
    # compares it with real Keras 3's), byte for byte.
    assert folder["config.json"] == zipped["config.json"]
    meta = json.loads(folder["metadata.json"])
    assert set(meta) == set(json.loads(zipped["metadata.json"])) == {"keras_version",
                                                                     "date_saved"}
    assert meta["keras_version"] == keras_zip.KERAS3_VERSION

    def datasets(raw):
        out = {}
        with h5py.File(__import__("io").BytesIO(raw), "r") as f:
            f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                         if isinstance(obj, h5py.Dataset) else None)
        return out

    ours, theirs = datasets(folder["model.weights.h5"]), datasets(zipped["model.weights.h5"])
    assert sorted(ours) == sorted(theirs) and "optimizer/vars/0" in ours
    for name in ours:
        np.testing.assert_array_equal(ours[name], theirs[name])


@pytest.mark.parametrize("name", K3_ARCHIVES)
def test_real_keras3_archives_unzipped_load_as_folders(tmp_path, name):
    """A `.keras` archive from real Keras 3.15, unzipped: exactly the folder
    Keras 3 writes with zipped=False."""
    folder = tmp_path / name
    with zipfile.ZipFile(DATA / f"keras3_{name}.keras") as zf:
        zf.extractall(folder)
    ref = np.load(DATA / f"keras3_{name}_ref.npz", allow_pickle=False)
    model = keras.models.load_model(folder)
    weights = model.get_weights()
    assert len(weights) == int(ref["n_weights"])
    for i, w in enumerate(weights):
        np.testing.assert_array_equal(w, ref[f"w{i}"])
    np.testing.assert_allclose(model.predict(ref["x"], verbose=0), ref["y"], rtol=1e-5,
                               atol=1e-6)
    if name != "uncompiled":
        assert int(model.optimizer.iterations.numpy()) == int(ref["iterations"])


def test_real_keras3_folder_loads_with_its_optimizer_state(tmp_path):
    ref = np.load(DATA / "keras3_IrisModel_ref.npz", allow_pickle=False)
    folder = tmp_path / "IrisModel"
    shutil.copytree(DATA / "keras3_IrisModel", folder)
    (folder / "assets").mkdir()  # as Keras 3.15 leaves it for an absolute path
    model = keras.models.load_model(folder)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_array_equal(w, ref[f"w{i}"])
    np.testing.assert_allclose(model.predict(ref["x"], verbose=0), ref["y"], rtol=1e-5,
                               atol=1e-6)
    opt = model.optimizer
    assert isinstance(opt, keras.optimizers.Adam)
    assert int(opt.iterations.numpy()) == int(ref["iterations"]) == 3
    saved = [ref[f"opt{i}"] for i in range(int(ref["n_opt"]))]
    slots = [v.numpy() for v in opt.variables[1:]]
    assert len(slots) == len(saved) - 2  # Keras 3 adds iteration and learning_rate
    for a, b in zip(slots, saved[2:]):
        np.testing.assert_array_equal(a, b)
    assert model.metrics_names == ["loss", "accuracy"]
    # kerasette saves over the folder Keras wrote (its empty assets/ included).
    model.fit(ref["x"], np.arange(7) % 3, epochs=1, batch_size=7, verbose=0)
    model.save(folder)
    assert sorted(os.listdir(folder)) == MEMBERS
    again = keras.models.load_model(folder)
    assert_same_weights(model, again)
    assert int(again.optimizer.iterations.numpy()) == 4


# -- what load_model says about other folders -----------------------------------------------
def fake_saved_model(folder):
    """The layout tf.keras 2's model.save("name") writes (contents faked)."""
    (folder / "variables").mkdir(parents=True)
    (folder / "assets").mkdir()
    (folder / "saved_model.pb").write_bytes(b"\x08\x01\x12\x00")
    (folder / "keras_metadata.pb").write_bytes(b"\x00")
    (folder / "fingerprint.pb").write_bytes(b"\x00")
    (folder / "variables" / "variables.index").write_bytes(b"\x00")


def test_tensorflow_saved_model_gets_one_clear_error(numpy_only, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake_saved_model(tmp_path / "IrisModel")
    with pytest.raises(ModelFileError) as info:
        keras.models.load_model("IrisModel")
    err = info.value
    assert err.path == "IrisModel"
    message = str(err)
    assert message.startswith("IrisModel: this folder is a TensorFlow SavedModel")
    for words in ("saved_model.pb", "tf.keras 2", "model.save('IrisModel')",
                  "cannot read", "tf.keras.models.load_model('IrisModel')",
                  "model.save('IrisModel.h5')", "keras.models.load_model('IrisModel.h5')"):
        assert words in message, words
    assert err.__cause__ is None  # one error, not a chain of them
    # Saving over it is refused: kerasette cannot read it back, so it is not replaced.
    with pytest.raises(FileExistsError, match="TensorFlow SavedModel.*not lost"):
        small_model().save("IrisModel")
    assert (tmp_path / "IrisModel" / "saved_model.pb").read_bytes() == b"\x08\x01\x12\x00"


def test_folder_that_is_not_a_model(numpy_only, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFileError, match="empty: is a folder without config.json"):
        keras.models.load_model(tmp_path / "empty")
    with pytest.raises(ModelFileError, match="no such file"):
        keras.models.load_model(tmp_path / "missing")


def test_damaged_folders_raise_model_file_error(numpy_only, tmp_path):
    model = small_model()
    good = tmp_path / "good"
    model.save(good)

    def variant(name, change):
        folder = tmp_path / name
        shutil.copytree(good, folder)
        change(folder)
        return folder

    weights = (good / "model.weights.h5").read_bytes()
    cases = {
        "no_weights": (lambda f: (f / "model.weights.h5").unlink(),
                       "the folder has no model.weights.h5 file"),
        "npz_weights": (lambda f: (f / "model.weights.h5").rename(f / "model.weights.npz"),
                        "npz weights"),
        "truncated": (lambda f: (f / "model.weights.h5").write_bytes(weights[:len(weights) // 2]),
                      "model.weights.h5"),
        "bad_json": (lambda f: (f / "config.json").write_text("{not json"),
                     "config.json is not valid JSON"),
        "config_is_a_folder": (lambda f: ((f / "config.json").unlink(),
                                          (f / "config.json").mkdir()),
                               "config.json is a folder, not a regular file"),
        "bad_metadata": (lambda f: (f / "metadata.json").write_text("[1]"),
                         "metadata.json is not a JSON object"),
    }
    for name, (change, words) in cases.items():
        folder = variant(name, change)
        with pytest.raises(ModelFileError) as info:
            keras.models.load_model(folder)
        assert info.value.path == str(folder), name
        assert words in str(info.value), (name, str(info.value))


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name != "posix", reason="POSIX links")
def test_members_that_are_links_or_fifos_are_refused(numpy_only, tmp_path):
    model = small_model()
    model.save(tmp_path / "good")
    outside = tmp_path / "outside"
    outside.mkdir()
    for member in ("model.weights.h5", "config.json"):
        folder = tmp_path / f"linked_{member}"
        shutil.copytree(tmp_path / "good", folder)
        (folder / member).rename(outside / member)
        (folder / member).symlink_to(outside / member)
        with pytest.raises(ModelFileError, match=f"{member} is a symbolic link"):
            keras.models.load_model(folder)
    # A FIFO would block a plain open() for ever: refused at once.
    folder = tmp_path / "fifo"
    shutil.copytree(tmp_path / "good", folder)
    (folder / "model.weights.h5").unlink()
    os.mkfifo(folder / "model.weights.h5")
    start = time.monotonic()
    with pytest.raises(ModelFileError, match=r"model.weights.h5 is a FIFO \(named pipe\), "
                                             "not a regular file"):
        keras.models.load_model(folder)
    assert time.monotonic() - start < 5


def test_loading_opens_only_the_members_inside_the_folder(numpy_only, tmp_path, monkeypatch):
    model = small_model()
    model.save(tmp_path / "m")
    (tmp_path / "m" / "assets").mkdir()
    (tmp_path / "m" / "assets" / "never_read.txt").write_text("x")
    opened = []
    real_open = os.open

    def recording_open(path, flags, mode=0o777, *, dir_fd=None):
        opened.append((os.fspath(path), dir_fd is not None))
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(os, "open", recording_open)
    loaded = keras.models.load_model(tmp_path / "m")
    monkeypatch.undo()
    assert_same_weights(model, loaded)
    folder_opens = [p for p, relative in opened if not relative]
    assert folder_opens == [str(tmp_path / "m")]
    assert sorted(p for p, relative in opened if relative) == MEMBERS


# -- saving over things ------------------------------------------------------------------------
def test_overwrite_rules(numpy_only, tmp_path):
    v0, v1 = small_model(), small_model(shift=0.5)
    versions = [v0.get_weights(), v1.get_weights()]
    target = tmp_path / "m"
    v0.save(target)
    v1.save(target)  # a model folder is replaced whole
    assert which_version(target, versions) == 1
    with pytest.raises(FileExistsError, match="overwrite=False"):
        v0.save(target, overwrite=False)
    assert which_version(target, versions) == 1
    v0.save(tmp_path / "fresh", overwrite=False)  # nothing there: fine
    # An empty folder (made for the model) is fine; missing parents are made.
    (tmp_path / "made").mkdir()
    v0.save(tmp_path / "made")
    v0.save(tmp_path / "a" / "b" / "deep")
    assert which_version(tmp_path / "a" / "b" / "deep", versions) == 0
    # "name/" names the folder "name".
    v1.save(f"{tmp_path / 'made'}/")
    assert which_version(tmp_path / "made", versions) == 1
    assert leftovers(tmp_path) == []


def test_what_a_save_never_replaces(numpy_only, tmp_path):
    model = small_model()
    file_ = tmp_path / "IrisModel"
    file_.write_bytes(b"my notes")
    with pytest.raises(FileExistsError, match="is a file, not a model folder"):
        model.save(file_)
    assert file_.read_bytes() == b"my notes"
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="holds notes.txt, which a saved model does not"):
        model.save(folder)
    (folder / "notes.txt").unlink()
    (folder / "assets").mkdir()
    (folder / "assets" / "vocab.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="holds assets"):
        model.save(folder)
    assert (folder / "assets" / "vocab.txt").read_text() == "mine"
    assert sorted(os.listdir(folder)) == ["assets", "config.json"]
    assert leftovers(tmp_path) == []


def test_save_format_and_zipped_arguments(numpy_only, tmp_path):
    model = small_model()
    x = np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3)
    expected = model.predict(x, verbose=0)

    def loads_same(path):
        np.testing.assert_array_equal(keras.models.load_model(path).predict(x, verbose=0),
                                      expected)

    # Keras 3's zipped=False: a folder under any name but .keras.
    keras.saving.save_model(model, tmp_path / "k3dir", zipped=False)
    model.save(tmp_path / "odd.h5", zipped=False)
    model.save(tmp_path / "v1.0", zipped=False)
    for name in ("k3dir", "odd.h5", "v1.0"):
        assert sorted(os.listdir(tmp_path / name)) == MEMBERS
        loads_same(tmp_path / name)
    with pytest.raises(ValueError, match="should not end in '.keras'"):
        model.save(tmp_path / "m.keras", zipped=False)
    # zipped=True: one file, named .keras (or .h5), as in Keras 3.
    model.save(tmp_path / "z.keras", zipped=True)
    model.save(tmp_path / "z.h5", zipped=True)
    assert zipfile.is_zipfile(tmp_path / "z.keras") and h5py.is_hdf5(tmp_path / "z.h5")
    with pytest.raises(ValueError, match="zipped=True writes a .keras archive"):
        model.save(tmp_path / "IrisModel", zipped=True)
    with pytest.raises(ValueError, match="zipped"):
        model.save(tmp_path / "m", zipped="no")
    # tf.keras 2's save_format: "h5" whatever the name; "tf" the folder.
    model.save(tmp_path / "h5_no_ext", save_format="h5")
    assert h5py.is_hdf5(tmp_path / "h5_no_ext")
    loads_same(tmp_path / "h5_no_ext")
    model.save(tmp_path / "tf_style", save_format="tf")
    assert sorted(os.listdir(tmp_path / "tf_style")) == MEMBERS
    with pytest.raises(ValueError, match="must end in '.keras'"):
        model.save(tmp_path / "k", save_format="keras")
    with pytest.raises(ValueError, match="save_format.*Received: save_format='pickle'"):
        model.save(tmp_path / "p", save_format="pickle")
    with pytest.raises(ValueError, match="asks for one file"):
        model.save(tmp_path / "c", save_format="h5", zipped=False)
    # Another extension stays an error (a typo must not become a folder).
    with pytest.raises(ValueError, match="Unsupported file extension.*name without extension"):
        model.save(tmp_path / "m.pkl")
    assert not (tmp_path / "m.pkl").exists()
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX modes and links")
def test_modes_and_links_are_kept(numpy_only, tmp_path):
    v0, v1 = small_model(), small_model(shift=0.5)
    versions = [v0.get_weights(), v1.get_weights()]
    target = tmp_path / "m"
    v0.save(target)
    os.chmod(target, 0o750)
    os.chmod(target / "model.weights.h5", 0o600)
    v1.save(target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o750
    assert stat.S_IMODE(os.stat(target / "model.weights.h5").st_mode) == 0o600
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(target / "config.json").st_mode) == 0o666 & ~umask
    # A link to a model folder stays a link; the folder it points to is replaced.
    real = tmp_path / "store" / "iris"
    v0.save(real)
    link = tmp_path / "IrisModel"
    link.symlink_to(real, target_is_directory=True)
    v1.save(link)
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert which_version(link, versions) == which_version(real, versions) == 1
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "store") == []
    # The same for one-file saves: the link and the file's mode stay.
    v0.save(tmp_path / "store" / "m.h5")
    os.chmod(tmp_path / "store" / "m.h5", 0o600)
    (tmp_path / "m.h5").symlink_to(tmp_path / "store" / "m.h5")
    v1.save(tmp_path / "m.h5")
    assert (tmp_path / "m.h5").is_symlink()
    assert stat.S_IMODE(os.stat(tmp_path / "store" / "m.h5").st_mode) == 0o600
    assert which_version(tmp_path / "store" / "m.h5", versions) == 1


# -- atomicity ---------------------------------------------------------------------------------
def test_a_save_that_fails_while_writing_leaves_the_old_folder(numpy_only, tmp_path,
                                                                monkeypatch):
    v0, v1 = small_model(), small_model(shift=0.5)
    versions = [v0.get_weights(), v1.get_weights()]
    target = tmp_path / "m"
    v0.save(target)
    before = {name: (target / name).read_bytes() for name in MEMBERS}
    real_write = keras_dir._write_file
    written = []

    def write_then_fail(path, data, mode):
        written.append(os.path.basename(path))
        if path.endswith("model.weights.h5"):
            raise OSError(28, "No space left on device")
        real_write(path, data, mode)

    monkeypatch.setattr(keras_dir, "_write_file", write_then_fail)
    with pytest.raises(OSError, match="disk full while writing .*m; the previous folder is "
                                      "unchanged") as info:
        v1.save(target)
    assert info.value.errno == 28 and info.value.filename == str(target)
    assert written == ["metadata.json", "config.json", "model.weights.h5"]
    monkeypatch.setattr(keras_dir, "_write_file", lambda *a: (_ for _ in ()).throw(
        KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        v1.save(target)
    monkeypatch.undo()
    assert {name: (target / name).read_bytes() for name in MEMBERS} == before
    assert os.listdir(tmp_path) == ["m"]
    assert which_version(target, versions) == 0


def test_a_save_that_fails_at_the_swap_puts_the_old_folder_back(numpy_only, tmp_path,
                                                                 monkeypatch):
    v0, v1 = small_model(), small_model(shift=0.5)
    versions = [v0.get_weights(), v1.get_weights()]
    target = tmp_path / "m"
    v0.save(target)
    real_rename = os.rename
    renames = []

    def rename_fails_into_place(src, dst):
        renames.append((os.path.basename(src), os.path.basename(dst)))
        if os.path.basename(str(src)).endswith(atomic.SUFFIX):
            raise OSError(5, "Input/output error")
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename_fails_into_place)
    with pytest.raises(OSError, match="Input/output error"):
        v1.save(target)
    monkeypatch.undo()
    # old aside, new (failed), old back
    assert [d for _, d in renames][1:] == ["m", "m"]
    assert renames[0][0] == "m" and renames[0][1].endswith(atomic.ASIDE)
    assert os.listdir(tmp_path) == ["m"]
    assert which_version(target, versions) == 0


def test_ctrl_c_between_the_renames_waits_for_the_swap(numpy_only, tmp_path, monkeypatch):
    """A real SIGINT sent while the old folder is aside is deferred: the new
    folder goes into place, the aside copy is removed, then Ctrl-C raises."""
    import signal

    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("another SIGINT handler is installed")
    v0, v1 = small_model(), small_model(shift=0.5)
    versions = [v0.get_weights(), v1.get_weights()]
    target = tmp_path / "m"
    v0.save(target)
    real_rename = os.rename

    def rename_with_ctrl_c(src, dst):
        if os.path.basename(str(src)) == "m":  # the old folder goes aside
            signal.raise_signal(signal.SIGINT)
        real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename_with_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        v1.save(target)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["m"]
    assert which_version(target, versions) == 1


def test_a_read_only_folder_is_not_replaced(numpy_only, tmp_path, monkeypatch):
    model = small_model()
    model.save(tmp_path / "m")
    before = sorted(os.listdir(tmp_path / "m"))
    # Root may write anywhere, so the test stands in for the permission check.
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if os.fspath(p) == str(
        tmp_path / "m") else real_access(p, mode, **kw))
    with pytest.raises(PermissionError, match="read-only folder"):
        model.save(tmp_path / "m")
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path / "m")) == before
    assert leftovers(tmp_path) == []


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the pid no longer exists (until reused)
    return proc.pid


def _ours(pid, target, suffix):
    return f"{atomic.PREFIX}{pid}-{atomic._host()}-0a1b2c3d-{target}{suffix}"


def test_a_save_killed_between_its_renames_is_recovered(numpy_only, tmp_path):
    v0, v1 = small_model(), small_model(shift=0.5)
    versions = [v0.get_weights(), v1.get_weights()]
    target = tmp_path / "IrisModel"
    v0.save(target)
    dead = _dead_pid()
    # What a kill between the two renames leaves: the old folder aside, the
    # new one complete under its temporary name, nothing at the target.
    aside = tmp_path / _ours(dead, "IrisModel", atomic.ASIDE)
    target.rename(aside)
    v1.save(tmp_path / "scratch")
    (tmp_path / "scratch").rename(tmp_path / _ours(dead, "IrisModel", atomic.SUFFIX))
    # load_model puts the old folder back and loads it.
    assert which_version(target, versions) == 0
    assert not aside.exists()
    # The next save removes the dead process's temporary folder.
    v1.save(target)
    assert os.listdir(tmp_path) == ["IrisModel"]
    assert which_version(target, versions) == 1
    # Killed after the swap: the aside copy is the older model, removed by
    # the next save; a running process's aside copy is left alone.
    shutil.copytree(target, tmp_path / _ours(dead, "IrisModel", atomic.ASIDE))
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = tmp_path / _ours(sleeper.pid, "IrisModel", atomic.ASIDE)
        shutil.copytree(target, busy)
        v0.save(target)
        assert sorted(os.listdir(tmp_path)) == sorted(["IrisModel", busy.name])
    finally:
        sleeper.kill()
        sleeper.wait()
    assert which_version(target, versions) == 0


@pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL")
def test_killed_folder_saves_leave_a_loadable_model(numpy_only, tmp_path):
    """Real SIGKILLs at random moments of a loop of folder saves."""
    refs = tmp_path / "refs"
    v0, v1 = small_model(), small_model(shift=0.5)
    versions = [v0.get_weights(), v1.get_weights()]
    v0.save(refs / "v0")
    v1.save(refs / "v1")
    work = tmp_path / "work"
    work.mkdir()
    saver = ("import sys, kerasette as keras\n"
             "target, a, b = sys.argv[1:4]\n"
             "versions = [keras.models.load_model(a), keras.models.load_model(b)]\n"
             "i = 0\n"
             "while True:\n"
             "    versions[i % 2].save(target)\n"
             "    if i == 0:\n"
             "        print('saving', flush=True)\n"
             "    i += 1\n")
    rng = np.random.default_rng(7)
    seen, left = set(), []
    start = time.monotonic()
    for round_ in range(8):
        if round_ >= 4 and time.monotonic() - start > 12:
            break
        proc = subprocess.Popen([sys.executable, "-c", saver, str(work / "model"),
                                 str(refs / "v0"), str(refs / "v1")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline().strip()
            assert line == "saving", proc.stderr.read()
            time.sleep(float(rng.uniform(0, 0.04)))
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        version = which_version(work / "model", versions)  # recovers an aside copy
        assert version is not None, f"round {round_}: neither version"
        seen.add(version)
        # At most what the killed saver was working on remains.
        for name in leftovers(work):
            parsed = atomic.parse_temp_name(name, atomic.SUFFIX) or \
                atomic.parse_temp_name(name, atomic.ASIDE)
            assert parsed[0] == proc.pid, (round_, name)
            left.append(name[-4:])
    print(f"\nkilled folder saves: {round_ + 1} rounds, versions loaded {sorted(seen)}, "
          f"left by kills: {left}")
    v1.save(work / "model")
    assert os.listdir(work) == ["model"]
    assert which_version(work / "model", versions) == 1
