"""DepthwiseConv2D and SeparableConv2D, and the `depthwise_conv2d` op.

Forward passes are checked against plain NumPy loops written here
(TensorFlow's channel order: output `c * multiplier + m` is channel `c`'s
filter `m`), gradients by float64 finite differences, and each layer
through the layer harness; then weights, configs (tf.keras 2's and
Keras 3's) and errors. Files real Keras wrote: test_conv_more_files.py."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gradcheck import check_gradients
from layer_harness import run_layer_test

from kerasette import layers, ops

RNG = np.random.default_rng(0)


def tf_axis(size, k, stride, dilation, padding):
    """`(out, pad_before)` along one axis, TensorFlow's rules."""
    span = (k - 1) * dilation + 1
    if padding == "valid":
        return (size - span) // stride + 1, 0
    out = -(-size // stride)
    return out, max((out - 1) * stride + span - size, 0) // 2


def ref_depthwise(x, w, b=None, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """y[n, i, j, c * m_count + m] = sum_{a, b} x[n, i*s + a*d - pad, j*s + b*d - pad, c]
    * w[a, b, c, m]."""
    n, h, wd, c = x.shape
    kh, kw, _, mult = w.shape
    (oh, pt), (ow, pl) = (tf_axis(h, kh, strides[0], dilation[0], padding),
                          tf_axis(wd, kw, strides[1], dilation[1], padding))
    y = np.zeros((n, oh, ow, c, mult))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for bb in range(kw):
                    r = i * strides[0] + a * dilation[0] - pt
                    q = j * strides[1] + bb * dilation[1] - pl
                    if 0 <= r < h and 0 <= q < wd:
                        y[:, i, j] += x[:, r, q, :, None] * w[a, bb]
    y = y.reshape(n, oh, ow, c * mult)
    return y if b is None else y + b


def t(a):
    return ops.convert_to_tensor(a)


@pytest.mark.parametrize("hw, k, s, padding, d, mult", [
    ((5, 4), (3, 3), (1, 1), "valid", (1, 1), 1),
    ((5, 6), (3, 2), (2, 2), "same", (1, 1), 2),
    ((4, 5), (2, 3), (1, 1), "same", (2, 2), 3),
    ((6, 5), (1, 1), (1, 1), "valid", (1, 1), 2),  # the 1x1 (dense) path
])
def test_depthwise_conv2d_matches_numpy_loops(backend, hw, k, s, padding, d, mult):
    for channels in (3, 9):  # the offset loop, and NumPy's sliding-window gather
        x = RNG.standard_normal((2, *hw, channels)).astype("float32")
        w = RNG.standard_normal((*k, channels, mult)).astype("float32")
        b = RNG.standard_normal(channels * mult).astype("float32")
        y = ops.depthwise_conv2d(t(x), t(w), t(b), strides=s, padding=padding, dilation_rate=d)
        want = ref_depthwise(x.astype("float64"), w.astype("float64"), b, s, padding, d)
        assert y.dtype == np.float32 and y.shape == want.shape
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("s, padding, d, activation", [
    (1, "valid", 1, "linear"), (2, "same", 1, "tanh"), (1, "same", 2, "linear"),
])
def test_depthwise_conv2d_gradients(backend, s, padding, d, activation):
    arrays = [RNG.standard_normal(shape) for shape in ((1, 4, 5, 3), (2, 3, 3, 2), (6,))]
    check_gradients(lambda x, w, b: ops.depthwise_conv2d(
        x, w, b, strides=s, padding=padding, dilation_rate=d, activation=activation), arrays)


# -- the layers ------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, out_shape, n_weights", [
    ({"kernel_size": 3}, (2, 2, 3, 3), 2),
    ({"kernel_size": (2, 3), "strides": 2, "padding": "same", "depth_multiplier": 2,
      "activation": "relu"}, (2, 2, 3, 6), 2),
    ({"kernel_size": 2, "dilation_rate": 2, "use_bias": False}, (2, 2, 3, 3), 1),
])
def test_depthwise_layer_harness(backend, kwargs, out_shape, n_weights):
    run_layer_test(layers.DepthwiseConv2D, kwargs, (2, 4, 5, 3), out_shape,
                   expected_num_trainable_weights=n_weights, gradient_kind="kinked")


@pytest.mark.parametrize("kwargs, out_shape, n_weights", [
    ({"filters": 4, "kernel_size": 3}, (2, 2, 3, 4), 3),
    ({"filters": 2, "kernel_size": 2, "strides": 2, "padding": "same", "depth_multiplier": 2,
      "activation": "tanh"}, (2, 2, 3, 2), 3),
    ({"filters": 3, "kernel_size": 2, "dilation_rate": 2, "use_bias": False}, (2, 2, 3, 3), 2),
])
def test_separable_layer_harness(backend, kwargs, out_shape, n_weights):
    run_layer_test(layers.SeparableConv2D, kwargs, (2, 4, 5, 2), out_shape,
                   expected_num_trainable_weights=n_weights, gradient_kind="kinked")


def test_layers_hold_keras_weights_and_compute_the_ops(backend):
    x = RNG.standard_normal((2, 6, 5, 3)).astype("float32")
    dw = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw")
    y = dw(x)
    assert [w.name for w in dw.weights] == ["dw/depthwise_kernel:0", "dw/bias:0"]
    kernel, bias = dw.get_weights()
    assert kernel.shape == (3, 3, 3, 2) and bias.shape == (6,)
    np.testing.assert_allclose(y.numpy(), ref_depthwise(x.astype("float64"), kernel, bias,
                                                        padding="same"), rtol=1e-5, atol=1e-5)
    sep = layers.SeparableConv2D(4, (2, 3), strides=2, depth_multiplier=2, name="sep")
    y = sep(x)
    assert [w.name for w in sep.weights] == ["sep/depthwise_kernel:0",
                                             "sep/pointwise_kernel:0", "sep/bias:0"]
    depthwise, pointwise, bias = sep.get_weights()
    assert depthwise.shape == (2, 3, 3, 2) and pointwise.shape == (1, 1, 6, 4)
    want = ref_depthwise(x.astype("float64"), depthwise, strides=(2, 2)) @ pointwise[0, 0] + bias
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-5)
    assert dw.compute_output_shape((None, 8, None, 3)) == (None, 8, None, 6)
    assert sep.compute_output_shape((None, 7, 7, 3)) == (None, 3, 3, 4)


def test_configs_have_tf_keras_2_keys():
    config = layers.DepthwiseConv2D(3, depth_multiplier=2, name="d").get_config()
    assert list(config) == [
        "name", "trainable", "dtype", "kernel_size", "strides", "padding", "data_format",
        "dilation_rate", "groups", "activation", "use_bias", "bias_initializer",
        "bias_regularizer", "activity_regularizer", "bias_constraint", "depth_multiplier",
        "depthwise_initializer", "depthwise_regularizer", "depthwise_constraint"]
    config = layers.SeparableConv2D(4, 3, name="s").get_config()
    assert list(config)[3:] == [
        "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
        "groups", "activation", "use_bias", "kernel_initializer", "bias_initializer",
        "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
        "bias_constraint", "depth_multiplier", "depthwise_initializer",
        "pointwise_initializer", "depthwise_regularizer", "pointwise_regularizer",
        "depthwise_constraint", "pointwise_constraint"]
    for cls in (layers.DepthwiseConv2D, layers.SeparableConv2D):
        layer = cls(**({"filters": 2, "pointwise_constraint": "non_neg"}
                       if cls is layers.SeparableConv2D else {}),
                    kernel_size=2, depthwise_regularizer="l2", depthwise_constraint="max_norm",
                    name="x")
        config = json.loads(json.dumps(layer.get_config()))
        clone = layers.deserialize({"class_name": cls.__name__, "config": config})
        assert clone.get_config() == config
        clone(np.ones((1, 3, 3, 2), "float32"))
        assert clone.depthwise_kernel.constraint is not None
    alias = layers.deserialize({"class_name": "SeparableConvolution2D", "config": {
        "name": "x", "filters": 2, "kernel_size": 3}})
    assert type(alias) is layers.SeparableConv2D


def test_keras_3_configs_read():
    # As Keras 3.15 writes them: no groups, no kernel_* on SeparableConv2D.
    common = {"trainable": True, "dtype": "float32", "kernel_size": [3, 3], "strides": [1, 1],
              "padding": "same", "data_format": "channels_last", "dilation_rate": [1, 1],
              "activation": "linear", "use_bias": True, "bias_initializer": "zeros",
              "bias_regularizer": None, "activity_regularizer": None, "bias_constraint": None,
              "depth_multiplier": 2, "depthwise_initializer": "glorot_uniform",
              "depthwise_regularizer": None, "depthwise_constraint": None}
    dw = layers.DepthwiseConv2D.from_config({"name": "dw", **common})
    sep = layers.SeparableConv2D.from_config({
        "name": "sep", **common, "filters": 5, "pointwise_initializer": "glorot_uniform",
        "pointwise_regularizer": None, "pointwise_constraint": None})
    x = np.ones((1, 4, 4, 3), "float32")
    assert dw(x).shape == (1, 4, 4, 6) and sep(x).shape == (1, 4, 4, 5)


@pytest.mark.parametrize("build, error, match", [
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), ValueError, "depth_multiplier"),
    (lambda: layers.DepthwiseConv2D((3, 3, 3)), ValueError, "kernel_size"),
    (lambda: layers.SeparableConv2D(0, 3), ValueError, "filters"),
    (lambda: layers.SeparableConv2D(2, 3, strides=2, dilation_rate=2), ValueError,
     "dilation_rate > 1"),
    (lambda: layers.DepthwiseConv2D(3, padding="causal"), ValueError, "causal"),
    (lambda: layers.DepthwiseConv2D(3, groups=3), NotImplementedError, "groups"),
])
def test_bad_arguments_are_refused_at_construction(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_bad_inputs_are_refused(backend):
    with pytest.raises(ValueError, match="expected ndim=4"):
        layers.DepthwiseConv2D(2)(np.ones((1, 4, 4), "float32"))
    with pytest.raises(ValueError, match=r"\(kh, kw, 3, depth_multiplier\)"):
        ops.depthwise_conv2d(t(np.ones((1, 4, 4, 3), "float32")), t(np.ones((3, 3, 2, 1),
                                                                          "float32")))
    with pytest.raises(ValueError, match="bias"):
        ops.depthwise_conv2d(t(np.ones((1, 4, 4, 3), "float32")),
                             t(np.ones((3, 3, 3, 2), "float32")), t(np.ones(3, "float32")))
