"""conv2d, max/avg pooling, pad and layer normalisation ops: forward passes
against plain NumPy loops, float64 gradient checks, and TensorFlow's rules
(same-padding arithmetic, pooling ties, averages over real elements)."""

import itertools
import math

import numpy as np
import pytest
from gradcheck import check_gradients

import kerasette
from kerasette import ops

RTOL, ATOL = 1e-5, 1e-5


def t(a):
    return ops.convert_to_tensor(a)


# -- plain NumPy references (direct sums; tiny sizes only) -----------------------------
def tf_same_pads(size, k, stride, dilation):
    """TensorFlow's SAME padding, written out independently of the op."""
    span = (k - 1) * dilation + 1
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + span - size, 0)
    return out, total // 2, total - total // 2


def ref_geometry(size, k, stride, dilation, padding):
    if padding == "same":
        return tf_same_pads(size, k, stride, dilation)
    return (size - ((k - 1) * dilation + 1)) // stride + 1, 0, 0


def ref_conv2d(x, w, b, strides, padding, dilation):
    n, h, wd, _ = x.shape
    kh, kw, _, cout = w.shape
    (sh, sw), (dh, dw) = strides, dilation
    oh, pt, pb = ref_geometry(h, kh, sh, dh, padding)
    ow, pl, pr = ref_geometry(wd, kw, sw, dw, padding)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    out = np.zeros((n, oh, ow, cout))
    for p, q, i, j in itertools.product(range(oh), range(ow), range(kh), range(kw)):
        out[:, p, q, :] += xp[:, p * sh + i * dh, q * sw + j * dw, :] @ w[i, j]
    return out if b is None else out + b


def ref_pool(x, pool, strides, padding, kind):
    n, h, wd, c = x.shape
    (ph, pw), (sh, sw) = pool, strides
    oh, pt, _ = ref_geometry(h, ph, sh, 1, padding)
    ow, pl, _ = ref_geometry(wd, pw, sw, 1, padding)
    out = np.zeros((n, oh, ow, c))
    for p, q in itertools.product(range(oh), range(ow)):
        r0, c0 = p * sh - pt, q * sw - pl
        window = x[:, max(r0, 0):r0 + ph, max(c0, 0):c0 + pw, :]  # real elements only
        out[:, p, q, :] = window.max(axis=(1, 2)) if kind == "max" else window.mean(axis=(1, 2))
    return out


def ref_layer_norm(x, gamma, beta, eps, axes):
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    shape = [x.shape[i] if i in axes else 1 for i in range(x.ndim)]
    return (x - mu) / np.sqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)


# -- conv2d -----------------------------------------------------------------------------
CONV_CASES = [
    {"padding": p, "strides": (s, s), "dilation_rate": (d, d)}
    for p in ("valid", "same") for s in (1, 2) for d in (1, 2)
] + [
    {"padding": "same", "strides": (2, 1), "dilation_rate": (1, 1), "kernel": (2, 3)},
    {"padding": "valid", "strides": (1, 3), "dilation_rate": (1, 1), "kernel": (3, 2)},
    {"padding": "same", "strides": (1, 1), "dilation_rate": (1, 1), "kernel": (1, 1)},
    {"padding": "valid", "strides": (2, 2), "dilation_rate": (1, 1), "kernel": (1, 1)},
    {"padding": "same", "strides": (1, 1), "dilation_rate": (1, 1), "kernel": (4, 4)},
]


def conv_inputs(case, dtype, bias=True, shape=(2, 6, 7, 2), filters=3):
    rng = np.random.default_rng(11)
    kh, kw = case.get("kernel", (3, 3))
    arrays = [rng.standard_normal(shape), rng.standard_normal((kh, kw, shape[-1], filters))]
    if bias:
        arrays.append(rng.standard_normal(filters))
    return [a.astype(dtype) for a in arrays]


def conv_kwargs(case):
    return {k: v for k, v in case.items() if k != "kernel"}


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d_forward_matches_a_direct_sum(case):
    arrays = conv_inputs(case, "float32")
    out = ops.conv2d(*[t(a) for a in arrays], **conv_kwargs(case))
    x, w, b = [a.astype("float64") for a in arrays]
    expected = ref_conv2d(x, w, b, case["strides"], case["padding"], case["dilation_rate"])
    assert out.dtype == np.float32
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d_gradient(case):
    check_gradients(lambda *a: ops.conv2d(*a, **conv_kwargs(case)),
                    conv_inputs(case, "float64", shape=(2, 5, 5, 2), filters=2))


@pytest.mark.parametrize("case", CONV_CASES[:8] + CONV_CASES[8:9], ids=str)
def test_conv2d_with_many_channels(case):
    # From 8 channels on, NumPy gathers patches through a sliding-window view.
    arrays = conv_inputs(case, "float32", shape=(2, 6, 5, 8), filters=2)
    out = ops.conv2d(*[t(a) for a in arrays], **conv_kwargs(case))
    expected = ref_conv2d(*[a.astype("float64") for a in arrays], case["strides"],
                          case["padding"], case["dilation_rate"])
    np.testing.assert_allclose(out.numpy(), expected, rtol=RTOL, atol=ATOL)
    check_gradients(lambda *a: ops.conv2d(*a, **conv_kwargs(case)),
                    conv_inputs(case, "float64", shape=(1, 5, 5, 8), filters=2))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "softmax"])
def test_conv2d_fused_activation_forward_and_gradient(activation):
    case = {"padding": "same", "strides": (1, 1), "dilation_rate": (1, 1)}
    arrays = conv_inputs(case, "float32", bias=False, shape=(2, 4, 4, 2))
    out = ops.conv2d(*[t(a) for a in arrays], padding="same", activation=activation)
    z = ref_conv2d(*[a.astype("float64") for a in arrays], None, (1, 1), "same", (1, 1))
    fn = {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh,
          "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
          "softmax": lambda v: np.exp(v) / np.exp(v).sum(-1, keepdims=True)}[activation]
    np.testing.assert_allclose(out.numpy(), fn(z), rtol=RTOL, atol=ATOL)
    check_gradients(lambda *a: ops.conv2d(*a, padding="same", activation=activation),
                    conv_inputs(case, "float64", bias=False, shape=(1, 4, 4, 2), filters=2),
                    kind="kinked")


def test_conv2d_computes_the_input_gradient_only_when_needed(monkeypatch):
    from kerasette.ops import conv

    crops = []
    real_crop = conv._crop
    monkeypatch.setattr(conv, "_crop", lambda *a: crops.append(1) or real_crop(*a))
    x = t(np.ones((2, 5, 5, 1), "float32"))
    w = kerasette.Variable(np.ones((3, 3, 1, 2), "float32"))
    with kerasette.GradientTape() as tape:
        y = ops.sum(ops.conv2d(x, w))
    (gw,) = tape.gradient(y, [w])
    np.testing.assert_array_equal(gw.numpy(), np.full((3, 3, 1, 2), 18.0, "float32"))
    assert crops == [], "dX (col2im) was computed for an input nobody watches"
    with kerasette.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.conv2d(x, w))
    gx = tape.gradient(y, x).numpy()
    assert crops == [1]
    assert gx[0, 2, 2, 0] == 18.0 and gx[0, 0, 0, 0] == 2.0


def test_same_padding_follows_tensorflow_arithmetic():
    # in=5, k=4, s=1: total 3 -> top 1, bottom 2 (TF puts the extra one last).
    x = np.zeros((1, 5, 1, 1), "float32")
    x[0, 0, 0, 0] = 1.0
    w = np.zeros((4, 1, 1, 1), "float32")
    w[1, 0, 0, 0] = 1.0  # output row p reads padded row p + 1, i.e. input row p
    out = ops.conv2d(t(x), t(w), padding="same").numpy()
    assert out.shape == (1, 5, 1, 1) and out[0, 0, 0, 0] == 1.0
    # in=6, k=3, s=2: out 3, total max(2*2+3-6, 0)=1 -> top 0, bottom 1.
    assert tf_same_pads(6, 3, 2, 1) == (3, 0, 1)
    x6 = np.arange(6, dtype="float32").reshape(1, 6, 1, 1)
    w3 = np.zeros((3, 1, 1, 1), "float32")
    w3[0] = 1.0
    np.testing.assert_array_equal(
        ops.conv2d(t(x6), t(w3), strides=(2, 1), padding="same").numpy().ravel(), [0, 2, 4])


def test_conv2d_rejects_bad_arguments():
    x, w = t(np.ones((1, 4, 4, 2), "float32")), t(np.ones((3, 3, 3, 1), "float32"))
    with pytest.raises(ValueError, match="kernel must be"):
        ops.conv2d(x, w)
    with pytest.raises(ValueError, match="4-D input"):
        ops.conv2d(t(np.ones((4, 4, 2), "float32")), w)
    with pytest.raises(ValueError, match="larger than the input"):
        ops.conv2d(t(np.ones((1, 2, 2, 3), "float32")), w)
    with pytest.raises(ValueError, match="padding"):
        ops.conv2d(t(np.ones((1, 4, 4, 3), "float32")), w, padding="full")
    with pytest.raises(ValueError, match="strides"):
        ops.conv2d(t(np.ones((1, 4, 4, 3), "float32")), w, strides=0)


# -- pooling ----------------------------------------------------------------------------
POOL_CASES = [
    {"pool_size": (p, p), "strides": (s, s), "padding": pad}
    for p in (2, 3) for s in (1, 2) for pad in ("valid", "same")
] + [{"pool_size": (2, 3), "strides": (3, 1), "padding": "same"}]

POOL_OPS = {"max": ops.max_pool2d, "avg": ops.avg_pool2d}


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_pool_forward_matches_a_direct_loop(kind, case):
    x = np.random.default_rng(2).standard_normal((2, 7, 6, 3)).astype("float32")
    out = POOL_OPS[kind](t(x), **case)
    expected = ref_pool(x.astype("float64"), case["pool_size"], case["strides"], case["padding"],
                        kind)
    assert out.dtype == np.float32 and out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES, ids=str)
def test_pool_gradient(kind, case):
    # A permutation of spread-out values: no ties, so max pooling is smooth
    # at every point finite differences visit.
    x = np.random.default_rng(4).permutation(2 * 5 * 5 * 2).reshape(2, 5, 5, 2) * 0.1
    check_gradients(lambda v: POOL_OPS[kind](v, **case), [x])


def test_max_pool_ties_send_the_gradient_to_the_first_element():
    x = t(np.ones((1, 4, 4, 1), "float32"))
    with kerasette.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(ops.max_pool2d(x, 2))
    g = tape.gradient(y, x).numpy()[0, :, :, 0]
    np.testing.assert_array_equal(g, [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])


def test_max_pool_same_padding_never_picks_the_padding():
    x = -np.ones((1, 3, 3, 1), "float32") * np.arange(1, 10, dtype="float32").reshape(1, 3, 3, 1)
    out = ops.max_pool2d(t(x), 2, padding="same").numpy()[0, :, :, 0]
    np.testing.assert_array_equal(out, [[-1, -3], [-7, -9]])


def test_avg_pool_same_padding_divides_by_real_elements():
    out = ops.avg_pool2d(t(np.ones((1, 5, 5, 1), "float32")), 2, padding="same")
    np.testing.assert_array_equal(out.numpy(), np.ones((1, 3, 3, 1), "float32"))


# -- pad --------------------------------------------------------------------------------
@pytest.mark.parametrize("pad_width", [1, (1, 2), ((0, 0), (2, 1), (1, 0), (0, 0))])
def test_pad_forward_and_gradient(pad_width):
    x = np.random.default_rng(0).standard_normal((1, 3, 2, 2))
    out = ops.pad(t(x.astype("float32")), pad_width)
    np.testing.assert_array_equal(out.numpy(), np.pad(x.astype("float32"), pad_width))
    assert out.dtype == np.float32
    check_gradients(lambda v: ops.pad(v, pad_width), [x])


def test_pad_constant_and_errors():
    out = ops.pad(t(np.zeros((2,), "float32")), 1, constant_values=5)
    np.testing.assert_array_equal(out.numpy(), [5, 0, 0, 5])
    with pytest.raises(ValueError, match="mode"):
        ops.pad(t(np.zeros((2,), "float32")), 1, mode="reflect")
    with pytest.raises(ValueError, match="negative"):
        ops.pad(t(np.zeros((2,), "float32")), -1)


# -- layer normalisation ------------------------------------------------------------------
LN_CASES = [((3, 4), -1), ((2, 3, 4), -1), ((2, 3, 4), (1, 2)), ((2, 3, 4, 2), (1, 2, 3)),
            ((2, 3, 4), 1)]


def ln_inputs(shape, axis, dtype):
    rng = np.random.default_rng(5)
    axes = sorted(a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis))
    pshape = tuple(shape[a] for a in axes)
    arrays = [rng.standard_normal(shape) * 2 + 1, rng.standard_normal(pshape),
              rng.standard_normal(pshape)]
    return [a.astype(dtype) for a in arrays], tuple(axes)


@pytest.mark.parametrize("shape, axis", LN_CASES)
def test_layer_normalization_forward(shape, axis):
    arrays, axes = ln_inputs(shape, axis, "float32")
    out = ops.layer_normalization(*[t(a) for a in arrays], epsilon=1e-3, axis=axis)
    expected = ref_layer_norm(*[a.astype("float64") for a in arrays], 1e-3, axes)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("shape, axis", LN_CASES)
def test_layer_normalization_gradient(shape, axis):
    arrays, _ = ln_inputs(shape, axis, "float64")
    check_gradients(lambda x, g, b: ops.layer_normalization(x, g, b, 1e-3, axis), arrays)


def test_layer_normalization_without_scale_and_offset():
    arrays, _ = ln_inputs((3, 5), -1, "float64")
    check_gradients(lambda x: ops.layer_normalization(x, epsilon=1e-3), arrays[:1])
    out = ops.layer_normalization(t(arrays[0]), epsilon=0.0).numpy()
    np.testing.assert_allclose(out.mean(-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(-1), 1.0, rtol=1e-12)
