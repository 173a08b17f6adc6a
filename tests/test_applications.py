"""keras.applications against tf.keras 2.21: architectures, arguments, errors,
preprocess_input, decode_predictions and the ImageNet weight files' path.

The references (`tests/data/applications/`, written by
`make_applications_refs.py` there with real tf.keras) hold every layer's
name, class, output shape and weights in file order, and the parameter
counts. These checks build models and compare shapes and files, the same
on every backend, so they run once (numerics on each backend:
test_applications_numerics.py).
"""

from __future__ import annotations

import hashlib
import json

import h5py
import numpy as np
import pytest
from fixture_paths import DATA
from local_server import closed_port_url

import kerasette as keras
from kerasette.applications import (efficientnet, imagenet_utils, mobilenet_v2, resnet,
                                    resnet50, vgg16)
from kerasette.datasets import DatasetUnavailableError

REFS = DATA / "applications"
REF = json.loads((REFS / "architectures.json").read_text())
APPS = keras.applications
MODELS = ("VGG16", "VGG19", "ResNet50", "MobileNet", "MobileNetV2", "EfficientNetB0")


@pytest.fixture(autouse=True)
def backend():
    """Overrides conftest's per-backend fixture: these checks run once (NumPy)."""
    keras.backend.set_backend("numpy")
    keras.backend.clear_session()
    keras.utils.set_random_seed(1234)
    yield None


pytestmark = pytest.mark.usefixtures("quick_retries")


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty KERASETTE_HOME (and KERAS_HOME) ; returns its models folder."""
    monkeypatch.setenv("KERASETTE_HOME", str(tmp_path / "kerasette"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    models = tmp_path / "kerasette" / "models"
    models.mkdir(parents=True)
    return models


_BUILT = {}


def built(name):
    """Each default model once per test session (VGG's 138M weights take seconds)."""
    if name not in _BUILT:
        keras.backend.clear_session()
        _BUILT[name] = getattr(APPS, name)(weights=None)
    return _BUILT[name]


def describe(model):
    """The reference's fields, from a kerasette model."""
    layers = []
    for layer in model.layers:
        weights = layer.trainable_weights + layer.non_trainable_weights
        layers.append([layer.name, type(layer).__name__, list(layer.output.shape),
                       [[w.name.split("/")[-1].split(":")[0], list(w.shape)] for w in weights]])
    count = lambda ws: sum(int(np.prod(w.shape)) for w in ws)  # noqa: E731
    return {"name": model.name, "trainable": count(model.trainable_weights),
            "non_trainable": count(model.non_trainable_weights), "layers": layers}


def same_architecture(got, want):
    assert (got["name"], got["trainable"], got["non_trainable"]) == (
        want["name"], want["trainable"], want["non_trainable"])
    assert len(got["layers"]) == len(want["layers"])
    for g, w in zip(got["layers"], want["layers"]):
        if w[1] == "InputLayer":  # its automatic name counts inputs made before
            g = [w[0]] + g[1:]
        assert g == w


# -- architectures -----------------------------------------------------------------
@pytest.mark.parametrize("name", MODELS)
def test_architecture_is_tf_keras(name):
    model = built(name)
    same_architecture(describe(model), REF["models"][name])
    assert model.count_params() == (REF["models"][name]["trainable"]
                                    + REF["models"][name]["non_trainable"])


def _variant_params():
    params = []
    for name in MODELS:
        for i, row in enumerate(REF["variants"][name]):
            # VGG's dense top (120M weights) takes seconds to initialise.
            slow = name.startswith("VGG") and row[0].get("include_top")
            params.append(pytest.param(name, i, marks=[pytest.mark.slow] if slow else []))
    return params


@pytest.mark.parametrize("name,index", _variant_params())
def test_variants_are_tf_keras(name, index):
    kwargs, shape, trainable, non_trainable, n_layers, model_name = REF["variants"][name][index]
    model = getattr(APPS, name)(weights=None, **kwargs)
    assert list(model.output_shape) == shape
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == trainable
    assert sum(int(np.prod(w.shape)) for w in model.non_trainable_weights) == non_trainable
    assert (len(model.layers), model.name) == (n_layers, model_name)


@pytest.mark.parametrize("index", range(len(REF["errors"])))
def test_argument_errors_are_tf_keras(index):
    name, kwargs, message = REF["errors"][index]
    if "input_shape" in kwargs:
        kwargs = dict(kwargs, input_shape=tuple(kwargs["input_shape"]))
    with pytest.raises(ValueError) as info:
        getattr(APPS, name)(**kwargs)
    assert str(info.value) == message


def test_more_argument_errors():
    with pytest.raises(ValueError, match="`pooling` must be None, 'avg' or 'max'"):
        APPS.MobileNetV2(weights=None, include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="classes"):
        APPS.MobileNet(weights=None, classes=0)
    with pytest.raises(ValueError, match="alpha must be one of"):
        APPS.MobileNetV2(weights="imagenet", alpha=0.6, include_top=False)
    with pytest.raises(ValueError, match="depth multiplier must be 1"):
        APPS.MobileNet(weights="imagenet", depth_multiplier=2)
    with pytest.raises(ValueError, match="`input_tensor` must be a symbolic tensor"):
        APPS.VGG16(weights=None, include_top=False, input_tensor=np.zeros((1, 32, 32, 3)))
    with pytest.raises(ValueError, match=r"input_tensor.shape\[2\] must equal input_shape\[1\]"):
        APPS.MobileNetV2(weights=None, include_top=False, input_shape=(64, 64, 3),
                         input_tensor=keras.Input(shape=(64, 96, 3)))
    with pytest.warns(UserWarning, match="usually expects 1 or 3 input channels"):
        APPS.VGG16(weights=None, include_top=False, input_shape=(32, 32, 4))


def test_classes_and_classifier_activation():
    logits = APPS.MobileNetV2(weights=None, input_shape=(32, 32, 3), alpha=0.35, classes=3,
                              classifier_activation=None)
    soft = APPS.MobileNetV2(weights=None, input_shape=(32, 32, 3), alpha=0.35, classes=3)
    assert logits.get_layer("predictions").get_config()["activation"] == "linear"
    assert soft.get_layer("predictions").get_config()["activation"] == "softmax"
    x = np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    assert np.allclose(soft.predict(x, verbose=0).sum(axis=1), 1.0, atol=1e-6)
    # Pretrained weights (even from a path) allow only softmax or None, as tf.keras.
    with pytest.raises(ValueError, match="Only `None` and `softmax` activations"):
        APPS.MobileNet(weights=str(REFS / "mobilenetv2_small.h5"), input_shape=(32, 32, 3),
                       classes=3, classifier_activation="relu")


def test_input_tensor_and_source_inputs():
    inputs = keras.Input(shape=(40, 40, 3))
    x = keras.layers.Rescaling(1.0 / 255)(inputs)
    model = APPS.MobileNetV2(weights=None, include_top=False, input_tensor=x, alpha=0.35)
    assert model.inputs[0] is inputs if isinstance(model.inputs, list) else model.inputs is inputs
    assert model.output_shape == (None, 2, 2, 1280)
    assert model.name == "mobilenetv2_0.35_None"  # tf.keras names it from input_shape (None)
    out = model.predict(np.full((1, 40, 40, 3), 255.0, "float32"), verbose=0)
    assert out.shape == (1, 2, 2, 1280)


def test_module_paths():
    assert resnet50.ResNet50 is resnet.ResNet50 is APPS.ResNet50
    assert APPS.mobilenet_v2.MobileNetV2 is APPS.MobileNetV2
    for module in (APPS.vgg16, APPS.vgg19, APPS.resnet, APPS.resnet50, APPS.mobilenet,
                   APPS.mobilenet_v2, APPS.efficientnet):
        assert callable(module.preprocess_input) and callable(module.decode_predictions)
    assert keras.applications.EfficientNetB3.__name__ == "EfficientNetB3"


def test_efficientnet_b1_counts_are_tf_keras():
    # tf.keras 2.21: EfficientNetB1(weights=None, include_top=False,
    # input_shape=(64, 64, 3)) has 6,575,239 parameters and 339 layers.
    model = APPS.EfficientNetB1(weights=None, include_top=False, input_shape=(64, 64, 3))
    assert (model.count_params(), len(model.layers)) == (6575239, 339)
    assert model.name == "efficientnetb1"


# -- preprocess_input --------------------------------------------------------------
def _images(shape=(2, 5, 4, 3), seed=0):
    return np.random.default_rng(seed).uniform(0, 255, shape).astype("float32")


def test_preprocess_modes_are_tf_keras_formulas():
    x = _images()
    mean_bgr = np.array([103.939, 116.779, 123.68], "float32")
    caffe = imagenet_utils.preprocess_input(x.copy(), mode="caffe")
    np.testing.assert_array_equal(caffe, x[..., ::-1] - mean_bgr)
    tf_mode = imagenet_utils.preprocess_input(x.copy(), mode="tf")
    np.testing.assert_array_equal(tf_mode, x / np.float32(127.5) - np.float32(1.0))
    torch = imagenet_utils.preprocess_input(x.copy(), mode="torch")
    want = (x / np.float32(255.0) - np.array([0.485, 0.456, 0.406], "float32")) / np.array(
        [0.229, 0.224, 0.225], "float32")
    np.testing.assert_allclose(torch, want, rtol=1e-6, atol=1e-6)
    for out in (caffe, tf_mode, torch):
        assert out.dtype == np.float32
    # The modules pick the mode their weights were trained with.
    np.testing.assert_array_equal(vgg16.preprocess_input(x.copy()), caffe)
    np.testing.assert_array_equal(resnet.preprocess_input(x.copy()), caffe)
    np.testing.assert_array_equal(mobilenet_v2.preprocess_input(x.copy()), tf_mode)
    np.testing.assert_array_equal(APPS.mobilenet.preprocess_input(x.copy()), tf_mode)
    assert efficientnet.preprocess_input(x) is x


def test_preprocess_channels_first_and_3d():
    x = _images((2, 3, 4, 5))
    out = imagenet_utils.preprocess_input(x.copy(), data_format="channels_first")
    want = x[:, ::-1] - np.array([103.939, 116.779, 123.68], "float32").reshape(1, 3, 1, 1)
    np.testing.assert_array_equal(out, want)
    one = _images((4, 5, 3))
    np.testing.assert_array_equal(vgg16.preprocess_input(one.copy()),
                                  one[..., ::-1] - np.array([103.939, 116.779, 123.68],
                                                            "float32"))
    single = _images((3, 4, 5))
    out = imagenet_utils.preprocess_input(single.copy(), data_format="channels_first",
                                          mode="torch")
    want = (single / np.float32(255) - np.array([0.485, 0.456, 0.406], "float32").reshape(
        3, 1, 1)) / np.array([0.229, 0.224, 0.225], "float32").reshape(3, 1, 1)
    np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-6)


def test_preprocess_in_place_and_integer_input_as_tf_keras():
    x = _images()
    out = mobilenet_v2.preprocess_input(x)
    assert out is x  # a float array is written over, as tf.keras does
    pixels = np.arange(24, dtype="uint8").reshape(2, 2, 2, 3)
    out = mobilenet_v2.preprocess_input(pixels)
    assert out.dtype == np.float32 and pixels.dtype == np.uint8
    np.testing.assert_array_equal(out, pixels.astype("float32") / np.float32(127.5) - 1)


def test_preprocess_errors():
    with pytest.raises(ValueError, match="Expected mode to be one of `caffe`, `tf` or `torch`"):
        imagenet_utils.preprocess_input(_images(), mode="keras")
    with pytest.raises(ValueError, match="Expected data_format to be one of"):
        imagenet_utils.preprocess_input(_images(), data_format="nhwc")


@pytest.mark.parametrize("mode", ["tf", "torch", "caffe"])
def test_preprocess_in_a_model_matches_numpy(mode):
    inputs = keras.Input(shape=(5, 4, 3))
    outputs = imagenet_utils.preprocess_input(inputs, mode=mode)
    model = keras.Model(inputs, outputs)
    x = _images()
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               imagenet_utils.preprocess_input(x.copy(), mode=mode),
                               rtol=1e-6, atol=1e-5)


# -- decode_predictions --------------------------------------------------------------
def _class_index(home, monkeypatch):
    """A stand-in index (1000 made-up classes) in the cache, with its md5."""
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path = home / "imagenet_class_index.json"
    path.write_text(json.dumps(index))
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH",
                        hashlib.md5(path.read_bytes()).hexdigest())
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_PATH", closed_port_url("/index.json"))
    return index


def test_decode_predictions_from_the_cache(home, monkeypatch):
    _class_index(home, monkeypatch)
    preds = np.zeros((2, 1000), "float32")
    preds[0, [7, 42, 999]] = [0.2, 0.5, 0.3]
    preds[1, 3] = 1.0
    out = vgg16.decode_predictions(preds, top=3)
    assert [r[:2] for r in out[0]] == [("n00000042", "class_42"), ("n00000999", "class_999"),
                                       ("n00000007", "class_7")]
    assert [float(r[2]) for r in out[0]] == pytest.approx([0.5, 0.3, 0.2])
    assert out[1][0][:2] == ("n00000003", "class_3") and len(out[1]) == 3
    assert len(APPS.resnet50.decode_predictions(preds)[0]) == 5


def test_decode_predictions_errors(home, monkeypatch):
    with pytest.raises(ValueError, match=r"Found array with shape: \(2, 10\)"):
        mobilenet_v2.decode_predictions(np.zeros((2, 10)))
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_PATH", closed_port_url("/index.json"))
    with pytest.raises(DatasetUnavailableError) as info:
        mobilenet_v2.decode_predictions(np.zeros((1, 1000)))
    message = str(info.value)
    assert "\n" not in message
    assert str(home / "imagenet_class_index.json") in message


# -- weight files ----------------------------------------------------------------------
def _names(group, attr):
    return [v.decode() if isinstance(v, bytes) else v for v in group.attrs[attr]]


def test_saved_weights_have_tf_keras_layout(tmp_path):
    # tf.keras's save_weights file of MobileNetV2(alpha=0.35, 32x32, 10 classes)
    # and kerasette's of the same architecture: the same layers, weights, shapes.
    keras.utils.set_random_seed(0)
    model = APPS.MobileNetV2(weights=None, alpha=0.35, input_shape=(32, 32, 3), classes=10,
                             classifier_activation=None)
    path = tmp_path / "mine.h5"
    model.save_weights(str(path))
    with h5py.File(REFS / "mobilenetv2_small.h5", "r") as theirs, h5py.File(path, "r") as mine:
        assert _names(mine, "layer_names")[1:] == _names(theirs, "layer_names")[1:]
        for name in _names(theirs, "layer_names")[1:]:
            want = [(w.split("/", 1)[1], theirs[name][w].shape)
                    for w in _names(theirs[name], "weight_names")]
            got = [(w.split("/", 1)[1], mine[name][w].shape)
                   for w in _names(mine[name], "weight_names")]
            assert got == want


def _notop_file(tmp_path):
    """Keras's notop layout: the base layers of the tf.keras file, by name."""
    keras.utils.set_random_seed(0)
    full = APPS.MobileNetV2(weights=str(REFS / "mobilenetv2_small.h5"), alpha=0.35,
                            input_shape=(32, 32, 3), classes=10, classifier_activation=None)
    base = APPS.MobileNetV2(weights=None, alpha=0.35, input_shape=(32, 32, 3),
                            include_top=False)
    base.load_weights(str(REFS / "mobilenetv2_small.h5"), by_name=True)
    path = tmp_path / "notop.h5"
    base.save_weights(str(path))
    return full, path


def test_notop_file_loads_by_position_and_by_name(tmp_path):
    full, path = _notop_file(tmp_path)
    with h5py.File(path, "r") as f:
        names = _names(f, "layer_names")
    assert "predictions" not in names and "Conv_1" in names
    for by_name in (False, True):
        model = APPS.MobileNetV2(weights=None, alpha=0.35, input_shape=(32, 32, 3),
                                 include_top=False, pooling="avg")
        if by_name:
            model.load_weights(str(path), by_name=True)
        else:
            model = APPS.MobileNetV2(weights=str(path), alpha=0.35, input_shape=(32, 32, 3),
                                     include_top=False, pooling="avg")
        for layer in model.layers:
            if layer.weights:
                ref = full.get_layer(layer.name).get_weights()
                assert len(ref) == len(layer.weights)
                for w, r in zip(layer.get_weights(), ref):
                    np.testing.assert_array_equal(w, r)
    # By position, a notop model refuses the full file (one layer too many), as tf.keras.
    with pytest.raises(keras.saving.ModelFileError, match="layer count mismatch"):
        APPS.MobileNetV2(weights=str(REFS / "mobilenetv2_small.h5"), alpha=0.35,
                         input_shape=(32, 32, 3), include_top=False)


def test_imagenet_weights_come_from_the_cache(home, tmp_path):
    _, notop = _notop_file(tmp_path)
    name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96_no_top.h5"
    (home / name).write_bytes(notop.read_bytes())
    model = APPS.MobileNetV2(weights="imagenet", alpha=0.35, input_shape=(96, 96, 3),
                             include_top=False)
    ref = APPS.MobileNetV2(weights=str(notop), alpha=0.35, input_shape=(96, 96, 3),
                           include_top=False)
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.name == "mobilenetv2_0.35_96"


def test_imagenet_weights_checked_by_md5(home, tmp_path, monkeypatch):
    # ResNet50's files carry an md5 in tf.keras: a cached copy must match it.
    model = APPS.ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))
    path = home / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    model.save_weights(str(path))
    monkeypatch.setattr(resnet, "_BASE", closed_port_url("/"))
    with pytest.raises(DatasetUnavailableError, match="failed verification"):
        APPS.ResNet50(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    monkeypatch.setitem(resnet.WEIGHTS_HASHES, "resnet50", ("0" * 32, md5))
    loaded = APPS.ResNet50(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_imagenet_weights_missing_offline_say_where_to_put_them(home, monkeypatch):
    monkeypatch.setattr(mobilenet_v2, "BASE_WEIGHT_PATH", closed_port_url("/"))
    with pytest.raises(DatasetUnavailableError) as info:
        APPS.MobileNetV2(weights="imagenet", include_top=False, input_shape=(96, 96, 3))
    message = str(info.value)
    assert "\n" not in message
    assert "MobileNetV2 ImageNet weight file" in message
    assert str(home / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5") \
        in message


def test_a_copy_keras_downloaded_is_used(home, tmp_path, monkeypatch):
    _, notop = _notop_file(tmp_path)
    keras_models = tmp_path / "keras" / "models"
    keras_models.mkdir(parents=True)
    name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_128_no_top.h5"
    (keras_models / name).write_bytes(notop.read_bytes())
    monkeypatch.setattr(mobilenet_v2, "BASE_WEIGHT_PATH", closed_port_url("/"))
    model = APPS.MobileNetV2(weights="imagenet", alpha=0.35, input_shape=(128, 128, 3),
                             include_top=False)
    assert model.get_layer("Conv_1").get_weights()[0].shape == (1, 1, 112, 1280)


def test_efficientnet_imagenet_adds_tf_keras_multiply(home, tmp_path, monkeypatch):
    plain = APPS.EfficientNetB0(weights=None, include_top=False, input_shape=(32, 32, 3))
    path = home / "efficientnetb0_notop.h5"
    plain.save_weights(str(path))
    monkeypatch.setitem(efficientnet.WEIGHTS_HASHES, "b0",
                        ("0" * 32, hashlib.md5(path.read_bytes()).hexdigest()))
    model = APPS.EfficientNetB0(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    # tf.keras inserts its `tf.math.multiply` op layer only for "imagenet".
    assert [(type(layer).__name__) for layer in model.layers[1:5]] == [
        "Rescaling", "Normalization", "Rescaling", "ZeroPadding2D"]
    assert model.layers[3].name == "tf.math.multiply"
    assert len(model.layers) == len(plain.layers) + 1
    x = np.random.default_rng(0).uniform(0, 255, (1, 32, 32, 3)).astype("float32")
    # The extra layer only rescales the normalised pixels per channel.
    scale = np.array([1 / np.sqrt(s) for s in (0.229, 0.224, 0.225)], "float32")
    head = keras.Model(model.inputs, model.get_layer("tf.math.multiply").output)
    norm = keras.Model(model.inputs, model.layers[2].output)
    np.testing.assert_allclose(head.predict(x, verbose=0), norm.predict(x, verbose=0) * scale,
                               rtol=1e-6)
