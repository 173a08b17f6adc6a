"""The convolution layers of issue 21 in files real Keras wrote, and in
kerasette's own saves.

`tests/data/keras21/` holds six small models (Conv2DTranspose,
Conv1DTranspose, DepthwiseConv2D + SeparableConv2D, Conv3D with 3-D
pooling/padding/cropping/upsampling, 3-D max pooling, UpSampling2D
nearest/bilinear + Cropping2D) written by tf_keras 2.21 (`.h5`) and Keras
3.15 (`.keras`) with the same weights, and their predictions
(`make_keras21.py` there says how). Each must load, predict within 1e-5,
keep its weights bit for bit and its config key for key, and survive
kerasette's own save in every format."""

from __future__ import annotations

import io
import json
import zipfile

import h5py
import numpy as np
import pytest
from fixture_paths import DATA

import kerasette as keras

KERAS21 = DATA / "keras21"
LAYERS = {
    "conv2d_transpose": ["Conv2DTranspose"] * 4,
    "conv1d_transpose": ["Conv1DTranspose"] * 3,
    "separable": ["DepthwiseConv2D", "SeparableConv2D", "DepthwiseConv2D", "SeparableConv2D",
                  "SeparableConv2D"],
    "conv3d": ["Conv3D", "MaxPooling3D", "Conv3D", "AveragePooling3D", "UpSampling3D",
               "ZeroPadding3D", "Cropping3D", "Conv3D", "AveragePooling3D",
               "GlobalAveragePooling3D"],
    "pool3d": ["MaxPooling3D", "GlobalMaxPooling3D"],
    "upsample_crop": ["UpSampling2D", "Cropping2D", "UpSampling2D", "Conv2D", "Cropping2D",
                      "UpSampling2D"],
}
FILES = [(name, impl) for name in LAYERS for impl in ("tfkeras2", "keras3")]


def _ref(name):
    with np.load(KERAS21 / f"{name}_ref.npz") as ref:
        return dict(ref)


def _path(name, impl):
    return KERAS21 / (f"tfkeras2_{name}.h5" if impl == "tfkeras2" else f"keras3_{name}.keras")


@pytest.mark.parametrize("name, impl", FILES)
def test_files_real_keras_wrote_load_and_predict(backend, name, impl):
    ref = _ref(name)
    model = keras.models.load_model(_path(name, impl))
    assert [type(layer).__name__ for layer in model.layers] == LAYERS[name]
    y = model.predict(ref["x"], verbose=0)
    assert y.dtype == np.float32 and y.shape == ref["y"].shape
    np.testing.assert_allclose(y, ref["y" if impl == "tfkeras2" else "y3"], rtol=0, atol=1e-5)
    weights = model.get_weights()
    assert len(weights) == int(ref["n_weights"])
    for i, w in enumerate(weights):
        np.testing.assert_array_equal(w, ref[f"w{i}"])


@pytest.mark.parametrize("name", list(LAYERS))
def test_configs_are_the_ones_tf_keras_2_wrote(backend, name):
    with h5py.File(_path(name, "tfkeras2"), "r") as f:
        written = json.loads(f.attrs["model_config"])["config"]["layers"][1:]
    model = keras.models.load_model(_path(name, "tfkeras2"))
    assert len(model.layers) == len(written)
    for layer, entry in zip(model.layers, written):
        config = json.loads(json.dumps(layer.get_config()))
        assert config == entry["config"], layer.name
        assert list(config) == list(entry["config"]), f"{layer.name}: key order"


@pytest.mark.parametrize("name", list(LAYERS))
def test_keras_3_configs_are_written_as_keras_3_writes_them(backend, tmp_path, name):
    model = keras.models.load_model(_path(name, "keras3"))
    model.save(tmp_path / "m.keras")

    def layer_entries(path):
        with zipfile.ZipFile(path) as z:
            return json.loads(z.read("config.json"))["config"]["layers"][1:]

    ours_all, theirs_all = layer_entries(tmp_path / "m.keras"), layer_entries(_path(name, "keras3"))
    assert len(ours_all) == len(theirs_all)
    for ours, theirs in zip(ours_all, theirs_all):
        a, b = dict(ours["config"]), dict(theirs["config"])
        b["dtype"] = {k: v for k, v in b["dtype"].items() if k != "shared_object_id"}
        assert a == b, ours["class_name"]
        assert ours.get("build_config") == theirs.get("build_config"), ours["class_name"]


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("target", ["m.h5", "m.keras", "m.weights.h5"])
def test_own_saves_round_trip_exactly(backend, tmp_path, name, target):
    ref = _ref(name)
    model = keras.models.load_model(_path(name, "tfkeras2"))
    y = model.predict(ref["x"], verbose=0)
    path = tmp_path / target
    if target.endswith(".weights.h5"):
        model.save_weights(path)
        again = keras.models.load_model(_path(name, "keras3"))
        for w in again.weights:
            w.assign(np.zeros(w.shape, "float32"))
        again.load_weights(path)
    else:
        model.save(path)
        again = keras.models.load_model(path)
    np.testing.assert_array_equal(again.predict(ref["x"], verbose=0), y)


def _names(group):
    return [n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs["weight_names"]]


def test_separable_weights_sit_where_keras_puts_them(backend, tmp_path):
    # tf.keras 2's .h5 lists depthwise_kernel, pointwise_kernel, bias in that
    # order; Keras 3's .weights.h5 numbers them vars/0, 1, 2 in the same order.
    model = keras.models.load_model(_path("separable", "tfkeras2"))
    model.save(tmp_path / "m.h5")
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(_path("separable", "tfkeras2"), "r") as theirs, \
            h5py.File(tmp_path / "m.h5", "r") as ours:
        for layer in ("depthwise_conv2d", "separable_conv2d", "separable_conv2d_2"):
            names = _names(ours["model_weights"][layer])
            assert names == _names(theirs["model_weights"][layer])
        assert names == ["separable_conv2d_2/depthwise_kernel:0",
                         "separable_conv2d_2/pointwise_kernel:0"]
    with zipfile.ZipFile(_path("separable", "keras3")) as z:
        theirs = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
    with theirs, h5py.File(tmp_path / "m.weights.h5", "r") as ours:
        group = "layers/separable_conv2d/vars"
        assert sorted(ours[group]) == sorted(theirs[group]) == ["0", "1", "2"]
        for i in "012":
            assert ours[group][i].shape == theirs[group][i].shape
            np.testing.assert_array_equal(ours[group][i][()], theirs[group][i][()])


def test_a_loaded_model_trains(backend):
    ref = _ref("separable")
    model = keras.models.load_model(_path("separable", "tfkeras2"))
    model.compile(optimizer="adam", loss="mse")
    y = np.zeros((len(ref["x"]), 1, 1, 3), "float32")
    before = model.evaluate(ref["x"], y, verbose=0)
    model.fit(ref["x"], y, epochs=3, batch_size=3, verbose=0)
    assert model.evaluate(ref["x"], y, verbose=0) < before
