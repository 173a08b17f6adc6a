"""Conv2DTranspose and Conv1DTranspose, and their ops.

Forward passes are checked against a plain NumPy scatter written here (each
input pixel adds `x @ W[k]^T` at `i * stride + k * dilation - pad`), and
against the adjoint identity `<convT(x), y> = <x, conv(y)>` with
`conv2d`; output sizes against tf.keras 2's table; gradients by float64
finite differences; each layer through the layer harness; then configs and
errors. Files real Keras wrote: test_conv_more_files.py."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gradcheck import check_gradients
from layer_harness import run_layer_test

import kerasette as keras
from kerasette import layers, ops

RNG = np.random.default_rng(0)


# -- NumPy reference -------------------------------------------------------------------
def deconv_length(size, k, stride, dilation, padding, output_padding):
    """tf.keras 2's `conv_utils.deconv_output_length`, written out again."""
    span = k + (k - 1) * (dilation - 1)
    if output_padding is None:
        return size * stride + max(span - stride, 0) if padding == "valid" else size * stride
    pad = span // 2 if padding == "same" else 0
    return (size - 1) * stride + span - 2 * pad + output_padding


def ref_conv_transpose(x, w, b=None, strides=(1, 1), padding="valid", output_padding=None,
                       dilation=(1, 1)):
    """y[n, o] += x[n, i] @ w[k]^T at o = i * s + k * d - pad_before, per axis;
    `pad_before` is TensorFlow's padding of the convolution from y back to x."""
    rank = x.ndim - 2
    ops_ = output_padding or (None,) * rank
    outs, befores = [], []
    for size, k, s, d, p in zip(x.shape[1:-1], w.shape[:rank], strides, dilation, ops_):
        out = deconv_length(size, k, s, d, padding, p)
        span = (k - 1) * d + 1
        total = max((size - 1) * s + span - out, 0) if padding == "same" else 0
        outs.append(out)
        befores.append(total // 2)
    y = np.zeros((x.shape[0], *outs, w.shape[-2]))
    for i in np.ndindex(*x.shape[1:-1]):
        for k in np.ndindex(*w.shape[:rank]):
            o = tuple(ii * s + kk * d - bb for ii, kk, s, d, bb in zip(
                i, k, strides, dilation, befores))
            if all(0 <= oo < n for oo, n in zip(o, outs)):
                y[(slice(None),) + o] += x[(slice(None),) + i] @ w[k].T
    return y if b is None else y + b


def t(a):
    return ops.convert_to_tensor(a)


# -- the ops ---------------------------------------------------------------------------
CASES_2D = [  # (input hw, kernel, strides, padding, output_padding, dilation)
    ((3, 4), (3, 3), (1, 1), "valid", None, (1, 1)),
    ((3, 4), (3, 3), (2, 2), "same", None, (1, 1)),
    ((3, 3), (2, 3), (2, 1), "valid", (1, 0), (1, 1)),
    ((4, 3), (4, 4), (2, 2), "same", (1, 1), (1, 1)),
    ((3, 3), (3, 2), (3, 2), "valid", None, (1, 1)),  # kernel shorter than the stride
    ((3, 4), (3, 2), (1, 1), "same", None, (2, 2)),
    ((4, 3), (2, 3), (1, 1), "valid", None, (2, 1)),
    ((2, 3), (3, 3), (3, 2), "same", (2, 1), (1, 1)),
]


@pytest.mark.parametrize("hw, k, s, padding, op_pad, d", CASES_2D)
def test_conv2d_transpose_matches_the_numpy_scatter(backend, hw, k, s, padding, op_pad, d):
    x = RNG.standard_normal((2, *hw, 3)).astype("float32")
    w = RNG.standard_normal((*k, 4, 3)).astype("float32")
    b = RNG.standard_normal(4).astype("float32")
    y = ops.conv2d_transpose(t(x), t(w), t(b), strides=s, padding=padding,
                             output_padding=op_pad, dilation_rate=d)
    want = ref_conv_transpose(x.astype("float64"), w.astype("float64"), b, s, padding, op_pad, d)
    assert y.dtype == np.float32 and y.shape == want.shape
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("hw, k, s, padding, op_pad, d", CASES_2D[:4] + CASES_2D[5:6])
def test_conv2d_transpose_is_the_adjoint_of_conv2d(hw, k, s, padding, op_pad, d):
    # <convT(x; W), y> == <x, conv(y; W)> with W read as a conv2d kernel
    # (kh, kw, filters, in): the transposed convolution is conv2d's dX.
    x = RNG.standard_normal((2, *hw, 3))
    w = RNG.standard_normal((*k, 4, 3))
    yt = ops.conv2d_transpose(t(x), t(w), strides=s, padding=padding, output_padding=op_pad,
                              dilation_rate=d).numpy()
    probe = RNG.standard_normal(yt.shape)
    back = ops.conv2d(t(probe), t(w), strides=s, padding=padding, dilation_rate=d).numpy()
    assert back.shape == x.shape
    np.testing.assert_allclose((yt * probe).sum(), (x * back).sum(), rtol=1e-10)


@pytest.mark.parametrize("case", [CASES_2D[1], CASES_2D[2], CASES_2D[5]])
@pytest.mark.parametrize("activation", ["linear", "tanh"])
def test_conv2d_transpose_gradients(backend, case, activation):
    hw, k, s, padding, op_pad, d = case
    shapes = [(1, *hw, 2), (*k, 2, 2), (2,)]
    arrays = [RNG.standard_normal(shape) for shape in shapes]
    check_gradients(lambda x, w, b: ops.conv2d_transpose(
        x, w, b, strides=s, padding=padding, output_padding=op_pad, dilation_rate=d,
        activation=activation), arrays)


@pytest.mark.parametrize("steps, k, s, padding, op_pad, d", [
    (5, 3, 1, "valid", None, 1), (5, 3, 2, "same", None, 1), (4, 4, 3, "valid", 2, 1),
    (4, 3, 1, "same", None, 2), (3, 2, 2, "same", 1, 1),
])
def test_conv1d_transpose_matches_the_numpy_scatter_and_differentiates(
        backend, steps, k, s, padding, op_pad, d):
    x = RNG.standard_normal((2, steps, 3))
    w = RNG.standard_normal((k, 2, 3))
    b = RNG.standard_normal(2)
    y = ops.conv1d_transpose(t(x.astype("float32")), t(w.astype("float32")),
                             t(b.astype("float32")), strides=s, padding=padding,
                             output_padding=op_pad, dilation_rate=d)
    want = ref_conv_transpose(x, w, b, (s,), padding, None if op_pad is None else (op_pad,),
                              (d,))
    assert y.dtype == np.float32 and y.shape == want.shape
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-5)
    check_gradients(lambda x, w, b: ops.conv1d_transpose(
        x, w, b, strides=s, padding=padding, output_padding=op_pad, dilation_rate=d),
        [x[:1], w, b])


def test_conv2d_transpose_computes_only_the_gradients_asked_for(backend):
    x = t(np.ones((1, 3, 3, 2), "float32"))
    w = keras.Variable(np.ones((3, 3, 4, 2), "float32"))
    with keras.GradientTape() as tape:
        y = ops.sum(ops.conv2d_transpose(x, w, strides=2))
    (gw,) = tape.gradient(y, [w])
    # Every kernel entry meets every input pixel once: 9 pixels of ones.
    np.testing.assert_array_equal(gw.numpy(), np.full((3, 3, 4, 2), 9.0, "float32"))
    assert gw.dtype == np.float32


# -- the layers ------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, in_shape, out_shape", [
    ({"filters": 3, "kernel_size": 3}, (2, 3, 3, 2), (2, 5, 5, 3)),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "tanh"},
     (2, 3, 2, 2), (2, 6, 4, 2)),
    ({"filters": 2, "kernel_size": (2, 3), "strides": (2, 1), "output_padding": (1, 0),
      "use_bias": False}, (1, 2, 3, 2), (1, 5, 5, 2)),
    ({"filters": 2, "kernel_size": 2, "dilation_rate": 2, "padding": "same",
      "activation": "relu"}, (1, 3, 3, 2), (1, 3, 3, 2)),
])
def test_conv2d_transpose_layer_harness(backend, kwargs, in_shape, out_shape):
    run_layer_test(layers.Conv2DTranspose, kwargs, in_shape, out_shape,
                   expected_num_trainable_weights=2 if kwargs.get("use_bias", True) else 1,
                   gradient_kind="kinked")


@pytest.mark.parametrize("kwargs, in_shape, out_shape", [
    ({"filters": 3, "kernel_size": 3, "strides": 2}, (2, 4, 2), (2, 9, 3)),
    ({"filters": 2, "kernel_size": 4, "strides": 3, "output_padding": 2, "padding": "same"},
     (1, 3, 2), (1, 8, 2)),
])
def test_conv1d_transpose_layer_harness(backend, kwargs, in_shape, out_shape):
    run_layer_test(layers.Conv1DTranspose, kwargs, in_shape, out_shape,
                   expected_num_trainable_weights=2)


def test_layers_keep_keras_kernel_layout_and_compute_the_op(backend):
    layer = layers.Conv2DTranspose(5, (2, 3), strides=2, name="up")
    x = RNG.standard_normal((2, 3, 4, 3)).astype("float32")
    y = layer(x)
    assert layer.kernel.shape == (2, 3, 5, 3) and layer.bias.shape == (5,)
    assert [w.name for w in layer.weights] == ["up/kernel:0", "up/bias:0"]
    kernel, bias = layer.get_weights()
    want = ref_conv_transpose(x.astype("float64"), kernel, bias, (2, 2))
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-5)
    assert layer.compute_output_shape((None, None, 4, 3)) == (None, None, 9, 5)
    assert layers.Conv1DTranspose(2, 3)(np.ones((1, 4, 6), "float32")).shape == (1, 6, 2)


def test_configs_have_tf_keras_2_keys():
    config = layers.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1,
                                    name="ct").get_config()
    assert list(config)[-1] == "output_padding" and config["output_padding"] == [1, 1]
    assert config["groups"] == 1 and config["kernel_size"] == [3, 3]
    assert config["strides"] == [2, 2] and config["dilation_rate"] == [1, 1]
    assert layers.Conv1DTranspose(2, 3, name="c").get_config()["output_padding"] is None
    clone = layers.deserialize(json.loads(json.dumps(
        {"class_name": "Conv2DTranspose", "config": config})))
    assert clone.output_padding == (1, 1) and clone.get_config() == config
    for alias, cls in (("Convolution2DTranspose", layers.Conv2DTranspose),
                       ("Convolution1DTranspose", layers.Conv1DTranspose)):
        rebuilt = layers.deserialize({"class_name": alias, "config": {
            "name": "x", "filters": 2, "kernel_size": 3}})
        assert type(rebuilt) is cls


def test_a_keras_3_config_reads():
    # As Keras 3.15 writes it: no `groups`, `output_padding` before `data_format`.
    layer = layers.Conv2DTranspose.from_config({
        "name": "conv2d_transpose", "trainable": True, "dtype": "float32", "filters": 4,
        "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "output_padding": None,
        "data_format": "channels_last", "dilation_rate": [1, 1], "activation": "linear",
        "use_bias": True, "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None})
    assert layer(np.ones((1, 3, 3, 2), "float32")).shape == (1, 6, 6, 4)


@pytest.mark.parametrize("build, error, match", [
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=2), ValueError,
     "greater than output padding"),
    (lambda: layers.Conv2DTranspose(2, 3, output_padding=-1), ValueError, "output_padding"),
    (lambda: layers.Conv2DTranspose(2, 4, strides=2, padding="same", output_padding=0),
     ValueError, "output_padding >= 1"),
    (lambda: layers.Conv2DTranspose(2, 3, padding="causal"), ValueError, "causal"),
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, dilation_rate=2), ValueError,
     "dilation_rate > 1"),
    (lambda: layers.Conv2DTranspose(2, 3, groups=2), NotImplementedError, "groups"),
    (lambda: layers.Conv1DTranspose(2, (3, 3)), ValueError, "kernel_size"),
    (lambda: layers.Conv2DTranspose(2, 3, data_format="channels_first"), ValueError,
     "channels_first"),
])
def test_bad_arguments_are_refused_at_construction(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_bad_inputs_are_refused(backend):
    with pytest.raises(ValueError, match="expected ndim=4"):
        layers.Conv2DTranspose(2, 3)(np.ones((1, 4, 4), "float32"))
    with pytest.raises(ValueError, match=r"\(kh, kw, filters, 3\)"):
        ops.conv2d_transpose(t(np.ones((1, 4, 4, 3), "float32")),
                             t(np.ones((3, 3, 3, 2), "float32")))
    with pytest.raises(ValueError, match="bias"):
        ops.conv1d_transpose(t(np.ones((1, 4, 3), "float32")), t(np.ones((3, 2, 3), "float32")),
                             t(np.ones(3, "float32")))
