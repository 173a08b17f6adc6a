"""keras.applications numerics on every backend: predictions of models whose
weights tf.keras 2.21 saved (`tests/data/applications/`, see
`make_applications_refs.py` there), preprocess_input on tensors, a file
round trip, and the inference kernels the applications lean on (the direct
depthwise convolution, its compiled loop, the one-pass batch norm, ReLU6)
against the general paths they replace."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from fixture_paths import DATA
from gradcheck import check_gradients

import kerasette as keras
from kerasette import ops
from kerasette.applications import efficientnet, imagenet_utils, mobilenet_v2, resnet
from kerasette.backend import conv_kernels, cpu_kernels
from kerasette.models import inference_fusion
from kerasette.ops import conv, nn
from kerasette.ops.conv_geometry import Windows, _im2col, _pad_array

REFS = DATA / "applications"


@pytest.fixture(scope="module")
def reference():
    with np.load(REFS / "small_predictions.npz") as f:
        return {k: f[k] for k in f.files}


def test_mobilenet_v2_predicts_as_tf_keras(backend, reference):
    model = keras.applications.MobileNetV2(
        weights=str(REFS / "mobilenetv2_small.h5"), alpha=0.35, input_shape=(32, 32, 3),
        classes=10, classifier_activation=None)
    x = mobilenet_v2.preprocess_input(reference["x"].copy())
    got = model.predict(x, verbose=0)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, reference["mobilenetv2"], rtol=1e-5, atol=1e-5)


def test_efficientnet_predicts_as_tf_keras(backend, reference, tmp_path):
    model = efficientnet.EfficientNet(
        0.25, 0.25, 32, 0.2, model_name="efficientnet_small", input_shape=(32, 32, 3),
        classes=10, weights=str(REFS / "efficientnet_small.h5"))
    got = model.predict(reference["x"], verbose=0)
    np.testing.assert_allclose(got, reference["efficientnet"], rtol=1e-5, atol=1e-6)
    # The whole model through a file (Rescaling, Normalization, SE blocks' configs).
    path = tmp_path / "efficientnet_small.h5"
    model.save(str(path))
    again = keras.models.load_model(str(path))
    np.testing.assert_array_equal(again.predict(reference["x"], verbose=0), got)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_preprocess_input_on_tensors(backend, to_device, mode):
    x = np.random.default_rng(0).uniform(0, 255, (2, 4, 5, 3)).astype("float32")
    got = imagenet_utils.preprocess_input(to_device(x), mode=mode)
    want = imagenet_utils.preprocess_input(x.copy(), mode=mode)
    assert got.dtype == "float32"
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-5)


def test_transfer_learning_step_trains_the_head_only(backend):
    keras.utils.set_random_seed(0)
    base = keras.applications.MobileNetV2(weights=None, include_top=False, alpha=0.35,
                                          input_shape=(32, 32, 3))
    base.trainable = False
    inputs = keras.Input(shape=(32, 32, 3))
    x = base(inputs, training=False)
    outputs = keras.layers.Dense(2, activation="softmax")(
        keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = [w.copy() for w in base.get_weights()]
    rng = np.random.default_rng(0)
    model.fit(rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32"), rng.integers(0, 2, 8),
              epochs=1, batch_size=4, verbose=0)
    for a, b in zip(base.get_weights(), before):
        np.testing.assert_array_equal(a, b)  # frozen: moving statistics too
    assert len(model.trainable_weights) == 2


# -- the inference kernels -------------------------------------------------------------
DEPTHWISE_CASES = [  # (n, h, w, c, k, stride, dilation, padding)
    (3, 17, 13, 24, 3, 2, 1, "same"),
    (2, 30, 31, 40, 5, 1, 2, "same"),
    (2, 56, 56, 48, 3, 2, 1, "valid"),
    (2, 41, 41, 64, 3, 1, 1, "same"),
    (1, 20, 20, 130, 3, 1, 3, "valid"),
]


def _patch_path(x, w4, b, k, s, d, padding):
    """The im2col depthwise product the direct path replaces."""
    c = x.shape[-1]
    win = Windows(x.shape[1:-1], (k, k), (s, s), (d, d), padding, "test")
    cols = _im2col(_pad_array(x, win.pads), win).reshape(-1, k * k * c)
    z, _ = conv._depthwise_product(cols, w4, c, k * k)
    z += b
    return z.reshape((x.shape[0],) + win.out + (c,))


def _numpy_kernels(backend, monkeypatch, compiled):
    """These check NumPy's array kernels: once, on the NumPy backend; with
    the compiled loops for any size (`compiled`), or with them off; split
    between threads."""
    if backend.name != "numpy":
        pytest.skip("NumPy array kernels (the strict backend runs the NumPy path)")
    if compiled and conv_kernels.module() is None:
        pytest.skip("numba is not installed (the optional extra)")
    if compiled:
        monkeypatch.setattr(cpu_kernels, "MIN_SIZE", 1)
    else:
        monkeypatch.setattr(conv_kernels, "enabled", lambda *a: False)
    # Shared between three threads whatever the size: the split must not
    # change a bit either.
    monkeypatch.setattr(conv_kernels, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(conv_kernels, "threads", lambda: 3)


@pytest.mark.parametrize("case", DEPTHWISE_CASES)
@pytest.mark.parametrize("compiled", [False, True])
def test_direct_depthwise_is_the_patch_product_to_the_bit(backend, monkeypatch, case,
                                                          compiled):
    _numpy_kernels(backend, monkeypatch, compiled)
    n, h, w, c, k, s, d, padding = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, h, w, c)).astype("float32")
    w4 = rng.standard_normal((k, k, 1, c)).astype("float32")
    b = rng.standard_normal(c).astype("float32")
    out, _ = conv._conv_kernel(x, w4, b, (s, s), (d, d), padding, "linear", "test", c)
    assert out.dtype == np.float32
    if compiled:
        assert conv_kernels.enabled(np, out, x)  # the compiled loop ran
    np.testing.assert_array_equal(out, _patch_path(x, w4, b, k, s, d, padding))


@pytest.mark.parametrize("pads,stride,k", [(((0, 1), (0, 1)), 2, 3), (((1, 2), (2, 1)), 2, 5),
                                           (((2, 2), (2, 2)), 1, 5)])
@pytest.mark.parametrize("compiled", [False, True])
def test_depthwise_on_implicit_padding_is_pad_then_convolve(backend, monkeypatch, pads, stride,
                                                            k, compiled):
    _numpy_kernels(backend, monkeypatch, compiled)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 13, 12, 8)).astype("float32")
    w = rng.standard_normal((k, k, 8, 1)).astype("float32")
    b = rng.standard_normal(8).astype("float32")
    got = conv.depthwise_conv2d_padded(x, w, b, pads, strides=stride).numpy()
    want = ops.depthwise_conv2d(ops.pad(x, ((0, 0),) + pads + ((0, 0),)), w, b,
                                strides=stride).numpy()
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match=r"the kernel must be \(kh, kw, 8, 1\)"):
        conv.depthwise_conv2d_padded(x, np.ones((3, 3, 8, 2), "float32"), None, pads)


def test_direct_depthwise_gradients(backend):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 5, 6, 3)), rng.standard_normal((3, 3, 3, 1))
    b = rng.standard_normal(3)
    check_gradients(lambda x, w, b: ops.sum(ops.depthwise_conv2d(
        x, w, b, strides=2, padding="same", activation="tanh") ** 2), [x, w, b])


def test_batch_norm_inference_is_the_three_step_formula(backend, to_device):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 5, 7, 48)).astype("float32")
    mean, offset = rng.normal(0, 1, (2, 48)).astype("float32")
    var, scale = rng.uniform(0.5, 2, (2, 48)).astype("float32")
    out = ops.batch_normalization(to_device(x), to_device(mean), to_device(var),
                                  to_device(offset), to_device(scale), 1e-3).numpy()
    inv = np.float32(1) / np.sqrt(var + np.float32(1e-3))
    want = (x - mean) * (inv * scale) + offset
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-6)
    # TensorFlow's own arithmetic, which the op follows step for step.
    np.testing.assert_array_equal(out, x * (inv * scale) + (offset - mean * (inv * scale)))


@pytest.mark.parametrize("compiled", [False, True])
def test_in_place_affine_is_the_two_numpy_passes(backend, monkeypatch, compiled):
    _numpy_kernels(backend, monkeypatch, compiled)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((2, 5, 7, 48)).astype("float32")
    mult, shift = rng.normal(0, 1, (2, 48)).astype("float32")
    want = z * mult
    want += shift
    assert nn.affine_channels(z, mult, shift, out=z) is z
    np.testing.assert_array_equal(z, want)


def test_relu6_forward_and_gradient(backend, to_device):
    x = np.array([[-2.0, 0.5, 5.9, 6.5, np.nan]], "float32")
    y = ops.relu(to_device(x), max_value=6.0)
    assert y.dtype == "float32"
    np.testing.assert_array_equal(y.numpy(), np.array([[0.0, 0.5, 5.9, 6.0, np.nan]], "float32"))
    rng = np.random.default_rng(2)
    grid = rng.uniform(-3, 9, (3, 4))
    grid[np.abs(grid) < 0.05] += 0.1  # off the kinks
    grid[np.abs(grid - 6) < 0.05] += 0.1
    check_gradients(lambda t: ops.sum(ops.relu(t, max_value=6.0) ** 2), [grid],
                    kind="kinked")


# -- conv -> batch norm -> ReLU in one step (models/inference_fusion.py) ----------------
def _perturbed(model, seed=0):
    """Batch norms with statistics away from 0 and 1, so the fused affine map counts."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.1, n),
                               rng.normal(0, 0.1, n), rng.uniform(0.5, 2.0, n)])
    return model


def _unfused(model, x, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(inference_fusion, "chains_for", lambda model, training: None)
        return model.predict(x, verbose=0)


@pytest.mark.parametrize("build", [
    lambda: keras.applications.MobileNetV2(weights=None, alpha=0.35, input_shape=(48, 48, 3),
                                           classes=5),
    lambda: keras.applications.MobileNet(weights=None, alpha=0.25, input_shape=(64, 64, 3),
                                         classes=5),
    lambda: resnet.ResNet(lambda x: resnet.stack1(resnet.stack1(x, 8, 2, stride1=1, name="c2"),
                                                  16, 2, name="c3"),
                          "small_resnet", include_top=False, weights=None,
                          input_shape=(32, 32, 3), pooling="avg"),
    lambda: efficientnet.EfficientNet(0.25, 0.25, 32, 0.2, weights=None, input_shape=(32, 32, 3),
                                      classes=4),
], ids=["mobilenet_v2", "mobilenet", "resnet", "efficientnet"])
def test_fused_inference_is_the_layer_by_layer_run_to_the_bit(backend, monkeypatch, build):
    model = _perturbed(build())
    chains = inference_fusion.plan(model)
    assert chains
    x = np.random.default_rng(0).uniform(-1, 1, (3,) + model.input_shape[1:]).astype("float32")
    fused = model.predict(x, verbose=0)
    np.testing.assert_array_equal(fused, _unfused(model, x, monkeypatch))
    # Called directly (not through predict) the same; and so are copies.
    np.testing.assert_array_equal(model(x, training=False).numpy(), fused)
    twin = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(twin.predict(x, verbose=0), fused)
    assert len(inference_fusion.plan(twin)) == len(chains)


def test_fusion_keeps_to_chains_nothing_else_sees(backend, monkeypatch):
    inputs = keras.Input(shape=(8, 8, 3))
    a = keras.layers.Conv2D(4, 3, use_bias=False, name="a")(inputs)
    a = keras.layers.BatchNormalization(name="a_bn")(a)
    a = keras.layers.ReLU(6.0, name="a_relu")(a)            # a chain of three
    b = keras.layers.Conv2D(4, 1, name="b")(a)  # its output is a model output: no chain
    b_bn = keras.layers.BatchNormalization(name="b_bn")(b)
    c = keras.layers.Conv2D(4, 1, name="c")(a)
    c_bn = keras.layers.BatchNormalization(name="c_bn")(c)  # used twice below: no ReLU fused
    d = keras.layers.Add()([keras.layers.ReLU()(c_bn), c_bn])
    e = keras.layers.Conv2D(4, 1, activation="relu", name="e")(d)  # not linear: runs plainly
    e = keras.layers.BatchNormalization(name="e_bn")(e)
    f = keras.layers.Conv2D(4, 1, name="f")(d)
    f = keras.layers.BatchNormalization(name="f_bn")(f)
    f = keras.layers.LeakyReLU(name="f_leaky")(f)            # not a ReLU: batch norm only
    model = _perturbed(keras.Model(inputs, [b, b_bn, e, f]))
    chains = {c.conv_node.layer.name: c for c in inference_fusion.plan(model).values()}
    assert set(chains) == {"a", "c", "e", "f"}
    assert chains["a"].act_node.layer.name == "a_relu"
    assert chains["c"].act_node is None and chains["f"].act_node is None
    assert chains["f"].bn_node.layer.name == "f_bn"  # the batch norm alone is still fused
    x = np.random.default_rng(0).uniform(-1, 1, (2, 8, 8, 3)).astype("float32")
    got = model.predict(x, verbose=0)
    want = _unfused(model, x, monkeypatch)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


def test_no_fusion_under_a_tape_or_in_training(backend, to_device):
    model = _perturbed(keras.applications.MobileNetV2(
        weights=None, alpha=0.35, input_shape=(32, 32, 3), include_top=False, pooling="avg"))
    x = to_device(np.random.default_rng(0).uniform(-1, 1, (2, 32, 32, 3)).astype("float32"))
    assert inference_fusion.chains_for(model, True) is None
    bn = model.get_layer("bn_Conv1")
    with keras.GradientTape() as tape:
        assert inference_fusion.chains_for(model, False) is None
        loss = keras.ops.sum(model(x, training=False))
    grads = tape.gradient(loss, [bn.gamma, model.get_layer("Conv1").kernel])
    assert all(g is not None and np.abs(g.numpy()).sum() > 0 for g in grads)
