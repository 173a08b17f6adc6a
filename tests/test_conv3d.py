"""Conv3D, MaxPooling3D, AveragePooling3D, GlobalAveragePooling3D and
GlobalMaxPooling3D, and their ops (`conv3d`, `max_pool3d`, `avg_pool3d`).

Forward passes are checked against plain NumPy loops written here (TF's
padding, written out again), gradients by float64 finite differences, and
each layer through the layer harness; then configs and errors. Files real
Keras wrote: test_conv_more_files.py."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gradcheck import check_gradients
from layer_harness import run_layer_test

import kerasette
from kerasette import layers, ops

RNG = np.random.default_rng(0)


# -- NumPy references ------------------------------------------------------------------
def tf_axis(size, k, stride, dilation, padding):
    """`(out, pad_before)` along one axis, TensorFlow's rules."""
    span = (k - 1) * dilation + 1
    if padding == "valid":
        return (size - span) // stride + 1, 0
    out = -(-size // stride)
    return out, max((out - 1) * stride + span - size, 0) // 2


def ref_conv(x, w, b=None, strides=(1, 1, 1), padding="valid", dilation=(1, 1, 1), groups=1):
    """y[n, o, f] = sum_{k, c} x[n, o * s + k * d - pad, c] * w[k, c, f] over
    the filters' group (zero outside the input), for any number of axes."""
    rank = x.ndim - 2
    geo = [tf_axis(size, k, s, d, padding) for size, k, s, d in zip(
        x.shape[1:-1], w.shape[:rank], strides, dilation)]
    outs = [g[0] for g in geo]
    cin, cout = x.shape[-1], w.shape[-1]
    cg, og = cin // groups, cout // groups
    y = np.zeros((x.shape[0], *outs, cout))
    for o in np.ndindex(*outs):
        for k in np.ndindex(*w.shape[:rank]):
            pos = tuple(oo * s + kk * d - g[1] for oo, kk, s, d, g in zip(
                o, k, strides, dilation, geo))
            if not all(0 <= p < size for p, size in zip(pos, x.shape[1:-1])):
                continue
            for g in range(groups):
                gi, go = slice(g * cg, (g + 1) * cg), slice(g * og, (g + 1) * og)
                y[(slice(None),) + o + (go,)] += x[(slice(None),) + pos + (gi,)] @ w[k][:, go]
    return y if b is None else y + b


def ref_pool(x, pool, strides, padding, how):
    """Each window's max or mean over its real (unpadded) elements."""
    geo = [tf_axis(size, p, s, 1, padding) for size, p, s in zip(x.shape[1:-1], pool, strides)]
    y = np.zeros((x.shape[0], *[g[0] for g in geo], x.shape[-1]))
    for o in np.ndindex(*y.shape[1:-1]):
        key = tuple(slice(max(oo * s - g[1], 0), max(oo * s - g[1] + p, 0))
                    for oo, s, g, p in zip(o, strides, geo, pool))
        window = x[(slice(None),) + key].reshape(x.shape[0], -1, x.shape[-1])
        y[(slice(None),) + o] = window.max(axis=1) if how == "max" else window.mean(axis=1)
    return y


def t(a):
    return ops.convert_to_tensor(a)


# -- conv3d ----------------------------------------------------------------------------
@pytest.mark.parametrize("shape, k, s, padding, d", [
    ((3, 4, 5), (2, 3, 2), (1, 1, 1), "valid", (1, 1, 1)),
    ((3, 4, 5), (3, 3, 3), (2, 1, 2), "same", (1, 1, 1)),
    ((4, 3, 5), (2, 2, 2), (1, 1, 1), "same", (2, 1, 2)),
    ((5, 4, 3), (2, 1, 2), (3, 2, 1), "valid", (1, 1, 1)),
])
def test_conv3d_matches_numpy_loops(backend, shape, k, s, padding, d):
    # 3 input channels: the op gathers patches by the offset loop; 9 (below)
    # takes NumPy's sliding-window path on the numpy backend.
    for channels in (3, 9):
        x = RNG.standard_normal((2, *shape, channels)).astype("float32")
        w = RNG.standard_normal((*k, channels, 4)).astype("float32")
        b = RNG.standard_normal(4).astype("float32")
        y = ops.conv3d(t(x), t(w), t(b), strides=s, padding=padding, dilation_rate=d)
        want = ref_conv(x.astype("float64"), w.astype("float64"), b, s, padding, d)
        assert y.dtype == np.float32 and y.shape == want.shape
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("k, s, padding, d, activation", [
    ((2, 2, 2), (1, 1, 1), "valid", (1, 1, 1), "linear"),
    ((3, 2, 2), (2, 1, 2), "same", (1, 1, 1), "tanh"),
    ((2, 2, 1), (1, 1, 1), "same", (2, 1, 1), "linear"),
])
def test_conv3d_gradients(backend, k, s, padding, d, activation):
    arrays = [RNG.standard_normal(shape) for shape in ((1, 3, 3, 4, 2), (*k, 2, 2), (2,))]
    check_gradients(lambda x, w, b: ops.conv3d(x, w, b, strides=s, padding=padding,
                                               dilation_rate=d, activation=activation), arrays)


def test_grouped_convolutions_match_numpy_loops_and_differentiate(backend):
    # conv2d and conv3d with groups: filter group g sees input channel group g.
    x = RNG.standard_normal((2, 4, 5, 6))
    w = RNG.standard_normal((3, 2, 3, 4))
    y = ops.conv2d(t(x.astype("float32")), t(w.astype("float32")), groups=2, padding="same")
    np.testing.assert_allclose(y.numpy(), ref_conv(x, w, padding="same", strides=(1, 1),
                                                   dilation=(1, 1), groups=2),
                               rtol=1e-5, atol=1e-5)
    check_gradients(lambda x, w, b: ops.conv2d(x, w, b, strides=2, padding="same", groups=3),
                    [x[:1, :3, :3], RNG.standard_normal((2, 2, 2, 3)), RNG.standard_normal(3)])
    x3 = RNG.standard_normal((1, 2, 3, 3, 4))
    check_gradients(lambda x, w: ops.conv3d(x, w, groups=2),
                    [x3, RNG.standard_normal((1, 2, 2, 2, 4))])


# -- 3-D pooling -----------------------------------------------------------------------
@pytest.mark.parametrize("pool, s, padding", [
    ((2, 2, 2), (2, 2, 2), "valid"), ((2, 3, 2), (1, 2, 2), "same"),
    ((3, 1, 2), (2, 1, 3), "same"), ((1, 2, 2), (1, 1, 1), "valid"),
])
@pytest.mark.parametrize("how", ["max", "avg"])
def test_pool3d_matches_numpy_loops_and_differentiates(backend, pool, s, padding, how):
    op = ops.max_pool3d if how == "max" else ops.avg_pool3d
    x = RNG.standard_normal((2, 4, 5, 3, 2))
    y = op(t(x.astype("float32")), pool, s, padding)
    want = ref_pool(x, pool, s, padding, "max" if how == "max" else "mean")
    assert y.dtype == np.float32 and y.shape == want.shape
    np.testing.assert_allclose(y.numpy(), want, rtol=1e-6, atol=1e-6)
    check_gradients(lambda x: op(x, pool, s, padding), [x[:1]],
                    kind="kinked" if how == "max" else "default")


def test_max_pool3d_sends_a_tie_to_the_first_maximum(backend):
    x = t(np.ones((1, 2, 2, 2, 1), "float32"))
    with kerasette.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.max_pool3d(x, 2))
    g = tape.gradient(y, x).numpy()
    assert g[0, 0, 0, 0, 0] == 1.0 and g.sum() == 1.0


# -- the layers ------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, in_shape, out_shape", [
    ({"filters": 2, "kernel_size": 2}, (2, 3, 3, 3, 2), (2, 2, 2, 2, 2)),
    ({"filters": 3, "kernel_size": (3, 2, 1), "strides": (2, 1, 1), "padding": "same",
      "activation": "relu"}, (1, 3, 3, 2, 2), (1, 2, 3, 2, 3)),
    ({"filters": 2, "kernel_size": 2, "dilation_rate": (2, 1, 1), "use_bias": False},
     (1, 4, 2, 3, 1), (1, 2, 1, 2, 2)),
])
def test_conv3d_layer_harness(backend, kwargs, in_shape, out_shape):
    run_layer_test(layers.Conv3D, kwargs, in_shape, out_shape,
                   expected_num_trainable_weights=2 if kwargs.get("use_bias", True) else 1,
                   gradient_kind="kinked")


@pytest.mark.parametrize("cls, kwargs, out_shape", [
    (layers.MaxPooling3D, {}, (2, 2, 1, 2, 2)),
    (layers.MaxPooling3D, {"pool_size": (1, 2, 3), "strides": 1, "padding": "same"},
     (2, 4, 3, 5, 2)),
    (layers.AveragePooling3D, {"pool_size": 2, "padding": "same"}, (2, 2, 2, 3, 2)),
    (layers.AveragePooling3D, {"pool_size": (3, 1, 2), "strides": (1, 2, 2)}, (2, 2, 2, 2, 2)),
    (layers.GlobalAveragePooling3D, {}, (2, 2)),
    (layers.GlobalMaxPooling3D, {"keepdims": True}, (2, 1, 1, 1, 2)),
])
def test_pooling3d_layer_harness(backend, cls, kwargs, out_shape):
    run_layer_test(cls, kwargs, (2, 4, 3, 5, 2), out_shape, gradient_kind="kinked")


def test_layers_compute_the_ops(backend):
    x = RNG.standard_normal((2, 4, 3, 5, 2)).astype("float32")
    conv = layers.Conv3D(3, (2, 2, 3), padding="same", name="c3")
    y = conv(x)
    kernel, bias = conv.get_weights()
    assert kernel.shape == (2, 2, 3, 2, 3)
    assert [w.name for w in conv.weights] == ["c3/kernel:0", "c3/bias:0"]
    np.testing.assert_allclose(y.numpy(), ref_conv(x.astype("float64"), kernel, bias,
                                                   padding="same"), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(layers.GlobalAveragePooling3D()(x).numpy(),
                               x.mean(axis=(1, 2, 3)), rtol=1e-6)
    np.testing.assert_array_equal(layers.GlobalMaxPooling3D()(x).numpy(), x.max(axis=(1, 2, 3)))
    assert layers.MaxPooling3D().compute_output_shape((None, 5, None, 4, 3)) == (
        None, 2, None, 2, 3)


def test_configs_have_tf_keras_2_keys():
    conv = layers.Conv3D(3, 2, name="c").get_config()
    assert conv["kernel_size"] == [2, 2, 2] and conv["strides"] == [1, 1, 1]
    assert conv["dilation_rate"] == [1, 1, 1] and conv["groups"] == 1
    pool = layers.MaxPooling3D(padding="same", name="p").get_config()
    assert list(pool) == ["name", "trainable", "dtype", "pool_size", "padding", "strides",
                          "data_format"]
    assert pool["pool_size"] == [2, 2, 2] and pool["strides"] == [2, 2, 2]
    assert layers.GlobalAveragePooling3D(name="g").get_config()["keepdims"] is False
    for alias, cls in (("Convolution3D", layers.Conv3D), ("MaxPool3D", layers.MaxPooling3D),
                       ("AvgPool3D", layers.AveragePooling3D),
                       ("GlobalAvgPool3D", layers.GlobalAveragePooling3D),
                       ("GlobalMaxPool3D", layers.GlobalMaxPooling3D)):
        extra = {"filters": 2, "kernel_size": 3} if cls is layers.Conv3D else {}
        rebuilt = layers.deserialize(json.loads(json.dumps(
            {"class_name": alias, "config": {"name": "x", **extra}})))
        assert type(rebuilt) is cls


@pytest.mark.parametrize("build, match", [
    (lambda: layers.Conv3D(2, (3, 3)), "kernel_size"),
    (lambda: layers.Conv3D(2, 3, padding="causal"), "causal"),
    (lambda: layers.Conv3D(2, 3, strides=2, dilation_rate=2), "dilation_rate > 1"),
    (lambda: layers.MaxPooling3D((2, 2)), "pool_size"),
    (lambda: layers.AveragePooling3D(strides=0), "strides"),
    (lambda: layers.GlobalMaxPooling3D(data_format="channels_first"), "channels_first"),
])
def test_bad_arguments_are_refused_at_construction(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_bad_inputs_are_refused(backend):
    with pytest.raises(ValueError, match="expected ndim=5"):
        layers.Conv3D(2, 2)(np.ones((1, 4, 4, 1), "float32"))
    with pytest.raises(ValueError, match="expected ndim=5"):
        layers.GlobalAveragePooling3D()(np.ones((1, 4, 4, 1), "float32"))
    with pytest.raises(ValueError, match=r"\(kd, kh, kw, 2, filters\)"):
        ops.conv3d(t(np.ones((1, 3, 3, 3, 2), "float32")), t(np.ones((2, 2, 2, 3, 1), "float32")))
    with pytest.raises(ValueError, match="larger than the input"):
        ops.max_pool3d(t(np.ones((1, 1, 3, 3, 2), "float32")), 2)
