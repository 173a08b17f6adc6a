"""Image files: `image_dataset_from_directory`, `ImageDataGenerator` and its
iterators, `load_img` / `img_to_array` / `array_to_img` / `save_img`.

The folders are written by the tests (PNG files through Pillow). Each
image is filled with a colour that encodes its class and its number, so
every batch can be checked against its labels after shuffling. The checks
of file handling run once; the ones that train run on every backend.
"""

from __future__ import annotations

import io
import os

import numpy as np
import pytest
from conftest import BACKENDS

import kerasette as keras
from kerasette import backend as K
from kerasette.preprocessing import image as image_module
from kerasette.utils import dataset_utils

pytest.importorskip("PIL")


@pytest.fixture(autouse=True)
def backend():
    """Overrides conftest's per-backend fixture: file handling is host-only;
    the tests that train loop over the backends themselves."""
    keras.utils.set_random_seed(1234)
    yield None
    K.set_backend("numpy")


def _each_backend():
    for name in BACKENDS:
        K.set_backend(name)
        K.clear_session()
        keras.utils.set_random_seed(0)
        yield name


def _colour(cls, i):
    return 40 * cls + 10, 5 * i, 200 - 3 * i


def write_folder(root, counts=(6, 4, 5), names=("b_cls", "a_cls", "c_cls"), size=(10, 14)):
    """One folder per class; image `i` of class `k` (in sorted name order)
    is filled with `_colour(k, i)`."""
    order = sorted(names)
    for name, count in zip(names, counts):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            img = np.zeros(size + (3,), dtype="uint8")
            img[...] = _colour(order.index(name), i)
            keras.utils.save_img(str(folder / f"img_{i:02d}.png"), img, scale=False)
    return root


def _class_of(pixel):
    return int(round((float(pixel[0]) - 10) / 40))


# -- image_dataset_from_directory -----------------------------------------------------------
def test_labels_follow_the_sorted_class_folders(tmp_path):
    write_folder(tmp_path)
    ds = keras.utils.image_dataset_from_directory(tmp_path, image_size=(6, 7), batch_size=4,
                                                  seed=3)
    assert ds.class_names == ["a_cls", "b_cls", "c_cls"]
    assert len(ds) == 4  # 15 files
    seen = 0
    for x, y in ds:
        assert x.dtype == np.float32 and x.shape[1:] == (6, 7, 3) and y.dtype == np.int32
        assert [_class_of(img[0, 0]) for img in x] == y.tolist()
        seen += len(y)
    assert seen == 15
    images, labels = next(iter(ds))
    assert images[0].numpy().shape == (6, 7, 3)  # tf's `.numpy()` works on batches


def test_explicit_class_names_set_the_label_order(tmp_path):
    write_folder(tmp_path)
    ds = keras.utils.image_dataset_from_directory(
        tmp_path, class_names=["c_cls", "a_cls", "b_cls"], image_size=(4, 4), shuffle=False)
    assert ds.class_names == ["c_cls", "a_cls", "b_cls"]
    x = np.concatenate([b[0] for b in ds])
    y = np.concatenate([b[1] for b in ds])
    # Unshuffled: the files in sorted path order; labels by the given names.
    assert [_class_of(p) for p in x[:, 0, 0]] == [0] * 4 + [1] * 6 + [2] * 5
    assert y.tolist() == [1] * 4 + [2] * 6 + [0] * 5
    with pytest.raises(ValueError, match="did not match"):
        keras.utils.image_dataset_from_directory(tmp_path, class_names=["a_cls", "x"])


def test_label_modes_and_color_modes(tmp_path):
    write_folder(tmp_path, counts=(3, 2), names=("no", "yes"))
    cat = keras.utils.image_dataset_from_directory(tmp_path, label_mode="categorical",
                                                   image_size=(5, 5), seed=1)
    x, y = next(iter(cat))
    assert y.dtype == np.float32 and y.shape == (5, 2)
    assert y.argmax(axis=1).tolist() == [_class_of(p) for p in x[:, 0, 0]]
    binary = keras.utils.image_dataset_from_directory(tmp_path, label_mode="binary",
                                                      image_size=(5, 5), seed=1,
                                                      color_mode="grayscale")
    x, y = next(iter(binary))
    assert y.shape == (5, 1) and y.dtype == np.float32 and x.shape == (5, 5, 5, 1)
    rgba = keras.utils.image_dataset_from_directory(tmp_path, label_mode=None,
                                                    image_size=(5, 5), color_mode="rgba")
    x = next(iter(rgba))
    assert isinstance(x, np.ndarray) and x.shape == (5, 5, 5, 4)
    np.testing.assert_array_equal(x[..., 3], 255.0)  # opaque alpha added
    write_folder(tmp_path, counts=(1,), names=("third",))
    with pytest.raises(ValueError, match="exactly 2"):
        keras.utils.image_dataset_from_directory(tmp_path, label_mode="binary")


def test_resize_is_tf_image_resize(tmp_path):
    folder = tmp_path / "only"
    folder.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (9, 13, 3)).astype("uint8")
    keras.utils.save_img(str(folder / "a.png"), pixels, scale=False)
    from kerasette.ops import image as image_ops

    for crop in (False, True):
        ds = keras.utils.image_dataset_from_directory(tmp_path, image_size=(5, 4), shuffle=False,
                                                      crop_to_aspect_ratio=crop)
        got = next(iter(ds))[0][0]
        source = pixels[None].astype("float32")
        if crop:  # the largest centred 5:4 window of 9 x 13 is 9 x 7, columns 3..9
            source = source[:, :, 3:10]
        np.testing.assert_allclose(got, image_ops.resize_array(np, source, 5, 4)[0], rtol=1e-6)
    nearest = keras.utils.image_dataset_from_directory(tmp_path, image_size=(3, 3),
                                                       interpolation="nearest", shuffle=False)
    got = next(iter(nearest))[0][0]
    assert got.dtype == np.uint8  # tf.image.resize keeps the dtype for "nearest"
    np.testing.assert_array_equal(got, pixels[[1, 4, 7]][:, [2, 6, 10]])


def test_validation_split_sizes_seed_and_no_overlap(tmp_path):
    write_folder(tmp_path, counts=(10, 7, 8))
    common = dict(validation_split=0.2, seed=7, image_size=(4, 4), batch_size=8)
    train = keras.utils.image_dataset_from_directory(tmp_path, subset="training", **common)
    val = keras.utils.image_dataset_from_directory(tmp_path, subset="validation", **common)
    assert (len(train.file_paths), len(val.file_paths)) == (20, 5)
    assert (len(train), len(val)) == (3, 1)
    assert not set(train.file_paths) & set(val.file_paths)
    assert len(set(train.file_paths) | set(val.file_paths)) == 25
    both = keras.utils.image_dataset_from_directory(tmp_path, subset="both", **common)
    assert both[0].file_paths == train.file_paths and both[1].file_paths == val.file_paths
    again = keras.utils.image_dataset_from_directory(tmp_path, subset="training", **common)
    assert again.file_paths == train.file_paths
    for (x1, y1), (x2, y2) in zip(train, again):  # same seed: same batches
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    other = keras.utils.image_dataset_from_directory(tmp_path, subset="training",
                                                     **dict(common, seed=8))
    assert other.file_paths != train.file_paths


def test_each_pass_reshuffles_and_unshuffled_keeps_order(tmp_path):
    write_folder(tmp_path, counts=(8, 8))
    ds = keras.utils.image_dataset_from_directory(tmp_path, image_size=(3, 3), batch_size=16,
                                                  seed=2)
    first = next(iter(ds))[1].tolist()
    assert next(iter(ds))[1].tolist() != first
    fixed = keras.utils.image_dataset_from_directory(tmp_path, image_size=(3, 3), shuffle=False)
    assert fixed.file_paths == sorted(fixed.file_paths)
    assert [y for _, ys in fixed for y in ys.tolist()] == [0] * 8 + [1] * 8


def test_argument_errors(tmp_path):
    write_folder(tmp_path)
    load = keras.utils.image_dataset_from_directory
    with pytest.raises(ValueError, match="seed"):
        load(tmp_path, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="subset"):
        load(tmp_path, validation_split=0.2, seed=1)
    with pytest.raises(ValueError, match="label_mode"):
        load(tmp_path, label_mode="sparse")
    with pytest.raises(ValueError, match="color_mode"):
        load(tmp_path, color_mode="cmyk")
    with pytest.raises(ValueError, match="image_size"):
        load(tmp_path, image_size=(0, 4))
    with pytest.raises(ValueError, match="directory"):
        load(tmp_path / "missing")
    with pytest.raises(ValueError, match="No images"):
        load(tmp_path / "a_cls")  # images, but no class folders


def test_missing_pillow_names_the_extra(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError("No module named 'PIL'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", refuse)
    with pytest.raises(ImportError, match=r'pip install "kerasette\[image\]"'):
        keras.utils.image_dataset_from_directory(tmp_path)
    with pytest.raises(ImportError, match="kerasette\\[image\\]"):
        keras.utils.load_img(str(tmp_path / "x.png"))


def test_dataset_methods_notebooks_chain(tmp_path):
    write_folder(tmp_path)
    ds = keras.utils.image_dataset_from_directory(tmp_path, image_size=(4, 4), batch_size=4,
                                                  seed=1)
    chained = ds.cache().shuffle(1000).prefetch(buffer_size=-1)
    assert chained is ds
    assert len(ds.take(2)) == 2 and len(list(ds.take(2))) == 2
    rescale = keras.layers.Rescaling(1.0 / 255)
    mapped = ds.map(lambda x, y: (rescale(x), y))
    x, y = next(iter(mapped))
    assert float(keras.ops.max(x)) <= 1.0 and mapped.class_names == ds.class_names
    assert len(mapped) == len(ds) and isinstance(mapped[0], tuple)


def test_fit_evaluate_predict_take_the_dataset(tmp_path):
    write_folder(tmp_path, counts=(12, 12), names=("dark", "light"))
    for _ in _each_backend():
        train, val = keras.utils.image_dataset_from_directory(
            tmp_path, validation_split=0.25, subset="both", seed=5, image_size=(8, 8),
            batch_size=6)
        model = keras.Sequential([
            keras.Input((8, 8, 3)),
            keras.layers.Rescaling(1.0 / 255),
            keras.layers.RandomFlip("horizontal"),
            keras.layers.Conv2D(4, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2, activation="softmax"),
        ])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(train, validation_data=val, epochs=2, verbose=0)
        assert len(history.history["val_accuracy"]) == 2
        assert len(model.evaluate(val, verbose=0)) == 2
        unlabeled = keras.utils.image_dataset_from_directory(
            tmp_path, labels=None, image_size=(8, 8), batch_size=5, shuffle=False)
        assert model.predict(unlabeled, verbose=0).shape == (24, 2)


# -- ImageDataGenerator --------------------------------------------------------------
def test_flow_shapes_len_and_endless_iteration():
    x = np.random.default_rng(0).uniform(0, 255, (10, 6, 7, 3))
    y = np.arange(10)
    it = keras.preprocessing.image.ImageDataGenerator(rescale=1 / 255).flow(x, y, batch_size=4,
                                                                              shuffle=False)
    assert len(it) == 3 and it.n == 10
    batches = [next(it) for _ in range(5)]  # past the end: a new epoch starts
    assert [len(b[1]) for b in batches] == [4, 4, 2, 4, 4]
    np.testing.assert_allclose(batches[0][0], x[:4] / 255, rtol=1e-6)
    assert batches[0][0].dtype == np.float32
    np.testing.assert_array_equal(batches[3][1], y[:4])
    assert it[2][0].shape == (2, 6, 7, 3)
    with pytest.raises(ValueError, match="length"):
        it[3]


def test_flow_flips_and_warps_like_keras():
    x = np.random.default_rng(1).uniform(0, 255, (16, 5, 6, 3)).astype("float32")
    gen = keras.preprocessing.image.ImageDataGenerator(horizontal_flip=True)
    out = next(gen.flow(x, batch_size=16, shuffle=False))
    flipped = [np.array_equal(o, xi[:, ::-1]) for o, xi in zip(out, x)]
    assert all(f or np.array_equal(o, xi) for f, o, xi in zip(flipped, out, x)) and any(flipped)
    # A whole-pixel height shift moves the image along its columns, as Keras does.
    shift = keras.preprocessing.image.ImageDataGenerator(height_shift_range=[2],
                                                         fill_mode="constant", cval=-1)
    out = next(shift.flow(x[:1], batch_size=1, shuffle=False))[0]
    left = np.full_like(x[0], -1.0)
    left[:, :4] = x[0][:, 2:]
    right = np.full_like(x[0], -1.0)
    right[:, 2:] = x[0][:, :4]
    assert np.array_equal(out, left) or np.array_equal(out, right)


def test_apply_transform_matches_scipy_transcription_of_keras():
    ndimage = pytest.importorskip("scipy.ndimage")
    x = np.random.default_rng(2).uniform(0, 255, (9, 13, 3))
    params = {"theta": 25.0, "tx": 1.5, "ty": -2.0, "shear": 10.0, "zx": 0.9, "zy": 1.2}
    for fill_mode in ("nearest", "reflect", "wrap", "constant"):
        gen = keras.preprocessing.image.ImageDataGenerator(fill_mode=fill_mode, cval=3.0)
        got = gen.apply_transform(x, params)
        # tf.keras 2's apply_affine_transform, step by step.
        t = np.deg2rad(params["theta"])
        s = np.deg2rad(params["shear"])
        m = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
        m = m @ np.array([[1, 0, params["tx"]], [0, 1, params["ty"]], [0, 0, 1]])
        m = m @ np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
        m = m @ np.array([[params["zx"], 0, 0], [0, params["zy"], 0], [0, 0, 1]])
        o_x, o_y = 9 / 2 - 0.5, 13 / 2 - 0.5
        m = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]]) @ m @ np.array(
            [[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
        m[:, [0, 1]] = m[:, [1, 0]]
        m[[0, 1]] = m[[1, 0]]
        want = np.stack([ndimage.affine_transform(x[..., c], m[:2, :2], m[:2, 2], order=1,
                                                  mode=fill_mode, cval=3.0)
                         for c in range(3)], axis=-1)
        np.testing.assert_allclose(got, want, atol=1e-9, err_msg=fill_mode)


def test_seeded_flow_repeats_and_preprocessing_function_runs_last():
    x = np.random.default_rng(3).uniform(0, 255, (6, 8, 8, 1))
    calls = []

    def mark(image):
        calls.append(image.shape)
        return image + 1000.0

    gen = keras.preprocessing.image.ImageDataGenerator(rotation_range=30, zoom_range=0.2,
                                                       width_shift_range=0.1,
                                                       preprocessing_function=mark)
    a = next(gen.flow(x, batch_size=6, seed=4))
    b = next(gen.flow(x, batch_size=6, seed=4))
    np.testing.assert_array_equal(a, b)
    assert calls == [(8, 8, 1)] * 12 and a.min() >= 1000.0


def test_flow_validation_split_subsets():
    x = np.zeros((10, 4, 4, 1))
    y = np.tile([0, 1], 5)
    gen = keras.preprocessing.image.ImageDataGenerator(validation_split=0.3)
    assert gen.flow(x, y, subset="validation").n == 3
    assert gen.flow(x, y, subset="training").n == 7
    with pytest.raises(ValueError, match="different number of classes"):
        gen.flow(x, np.sort(y), subset="training")


def test_flow_from_directory(tmp_path):
    write_folder(tmp_path, counts=(6, 4, 5), size=(12, 9))
    gen = keras.preprocessing.image.ImageDataGenerator(rescale=1 / 255, validation_split=0.5)
    it = gen.flow_from_directory(tmp_path, target_size=(6, 5), batch_size=4, seed=1)
    assert it.class_indices == {"a_cls": 0, "b_cls": 1, "c_cls": 2}
    assert it.samples == 15 and len(it) == 4 and it.num_classes == 3
    assert it.filenames[0] == os.path.join("a_cls", "img_00.png")
    x, y = next(it)
    assert x.shape == (4, 6, 5, 3) and y.shape == (4, 3) and x.max() <= 1.0
    assert y.argmax(axis=1).tolist() == [_class_of(p * 255) for p in x[:, 0, 0]]
    train = gen.flow_from_directory(tmp_path, target_size=(6, 5), subset="training",
                                    class_mode="sparse")
    val = gen.flow_from_directory(tmp_path, target_size=(6, 5), subset="validation",
                                  class_mode="binary", classes=["b_cls", "a_cls", "c_cls"])
    # Per class: the first half of its sorted files for validation.
    assert (train.samples, val.samples) == (8, 7)
    assert not set(train.filepaths) & set(val.filepaths)
    assert val.class_indices["b_cls"] == 0 and val.classes[:3].tolist() == [0, 0, 0]
    _, labels = val[0]
    assert labels.dtype == np.float32 and labels.ndim == 1
    inputs = gen.flow_from_directory(tmp_path, target_size=(3, 3), class_mode="input",
                                     color_mode="grayscale")
    x, target = inputs[0]
    assert x.shape[-1] == 1 and np.array_equal(x, target)
    assert gen.flow_from_directory(tmp_path, target_size=(3, 3), class_mode=None)[0].ndim == 4
    with pytest.raises(ValueError, match="class_mode"):
        gen.flow_from_directory(tmp_path, class_mode="onehot")


def test_fit_takes_generator_iterators(tmp_path):
    write_folder(tmp_path, counts=(8, 8), names=("dark", "light"))
    for _ in _each_backend():
        gen = keras.preprocessing.image.ImageDataGenerator(
            rescale=1 / 255, rotation_range=20, horizontal_flip=True, validation_split=0.25)
        train = gen.flow_from_directory(tmp_path, target_size=(8, 8), batch_size=4,
                                        class_mode="binary", subset="training")
        val = gen.flow_from_directory(tmp_path, target_size=(8, 8), batch_size=4,
                                      class_mode="binary", subset="validation")
        model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        history = model.fit(train, validation_data=val, epochs=2, verbose=0)
        assert len(history.history["loss"]) == 2 and "val_accuracy" in history.history
        arrays = gen.flow(np.zeros((8, 8, 8, 3)), np.zeros(8), batch_size=4)
        model.fit(arrays, epochs=1, verbose=0)


def test_featurewise_statistics():
    x = np.random.default_rng(5).normal(3.0, 2.0, (50, 4, 4, 3))
    gen = keras.preprocessing.image.ImageDataGenerator(featurewise_center=True,
                                                       featurewise_std_normalization=True)
    gen.fit(x)
    np.testing.assert_allclose(gen.mean.ravel(), x.mean(axis=(0, 1, 2)), rtol=1e-5)
    out = np.concatenate([b for b in [gen.flow(x, batch_size=50, shuffle=False)[0]]])
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1.0, atol=1e-3)


def test_generator_argument_errors():
    gen_cls = keras.preprocessing.image.ImageDataGenerator
    with pytest.raises(ValueError, match="zoom_range"):
        gen_cls(zoom_range=(0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match="validation_split"):
        gen_cls(validation_split=1.5)
    with pytest.raises(ValueError, match="fill_mode"):
        gen_cls(fill_mode="mirror")
    with pytest.raises(NotImplementedError, match="interpolation_order"):
        gen_cls(interpolation_order=3)
    with pytest.raises(ValueError, match="rank 4"):
        gen_cls().flow(np.zeros((4, 4, 4)))


# -- image files and arrays ----------------------------------------------------------------
def test_image_file_round_trip(tmp_path):
    pixels = np.random.default_rng(6).integers(0, 256, (5, 7, 3)).astype("float32")
    path = str(tmp_path / "x.png")
    keras.utils.save_img(path, pixels, scale=False)
    img = keras.preprocessing.image.load_img(path)
    assert img.size == (7, 5)
    array = keras.preprocessing.image.img_to_array(img)
    assert array.dtype == np.float32
    np.testing.assert_array_equal(array, pixels)
    assert keras.utils.img_to_array(img, data_format="channels_first").shape == (3, 5, 7)
    gray = keras.utils.load_img(path, color_mode="grayscale", target_size=(2, 3))
    assert keras.utils.img_to_array(gray).shape == (2, 3, 1)
    square = keras.utils.load_img(path, target_size=(4, 4), keep_aspect_ratio=True)
    assert square.size == (4, 4)
    stretched = keras.utils.array_to_img(np.array([[[0.0], [0.5]], [[0.25], [1.0]]]))
    np.testing.assert_array_equal(np.asarray(stretched), [[0, 127], [63, 255]])
    buffer = io.BytesIO()
    keras.utils.save_img(buffer, pixels, file_format="png", scale=False)
    np.testing.assert_array_equal(keras.utils.img_to_array(keras.utils.load_img(buffer)), pixels)
    with pytest.raises(ValueError, match="rank 3"):
        keras.utils.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="color_mode"):
        keras.utils.load_img(path, color_mode="hsv")


def test_index_directory_api(tmp_path):
    write_folder(tmp_path, counts=(2, 3), names=("x", "y"))
    (tmp_path / "x" / "notes.txt").write_text("not an image")
    paths, labels, names = dataset_utils.index_directory(str(tmp_path), "inferred", (".png",),
                                                         shuffle=False)
    assert names == ["x", "y"] and labels.tolist() == [0, 0, 1, 1, 1]
    assert paths[0] == os.path.join(str(tmp_path), "x", "img_00.png")
    shuffled, shuffled_labels, _ = dataset_utils.index_directory(
        str(tmp_path), "inferred", (".png",), seed=3)
    assert sorted(shuffled) == paths
    assert [labels[paths.index(p)] for p in shuffled] == shuffled_labels.tolist()
    listed, given, _ = dataset_utils.index_directory(str(tmp_path), [5, 6, 7, 8, 9], (".png",),
                                                     shuffle=False)
    assert given == [5, 6, 7, 8, 9]
    with pytest.raises(ValueError, match="lengths of `labels`"):
        dataset_utils.index_directory(str(tmp_path), [1, 2], (".png",))
    assert image_module.ImageDataGenerator is keras.preprocessing.image.ImageDataGenerator
