"""Every op in `kerasette.ops`: forward against NumPy, gradients against finite differences.

Differentiable ops are listed once in a table of cases. Each case runs twice:
in float32 against a plain NumPy formula (and the result must stay float32),
and in float64 through `check_gradients`. The fused ops (dense, the
cross-entropies, batch normalisation, dropout) have their own tests below.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from gradcheck import check_gradients

import kerasette
from kerasette import ops

RTOL, ATOL = 2e-5, 1e-6  # float32 forward against a float64 NumPy formula


# -- inputs ----------------------------------------------------------------------------
# A spec draws one float64 input from a generator; cases draw their inputs in
# order from one generator, so two inputs of the same shape differ (no ties).
def normal(*shape):
    return lambda rng: rng.standard_normal(shape)


def positive(*shape):
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def nonzero(*shape):
    """Values in +-[0.2, 2]: away from the kink of relu, abs, ... at 0."""
    return lambda rng: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 2.0, shape)


def avoiding(*kinks, shape, low=-3.0, high=3.0):
    """Uniform values kept at least 0.05 away from each kink."""

    def make(rng):
        x = rng.uniform(low, high, shape)
        for k in kinks:
            x[np.abs(x - k) < 0.05] += 0.1
        return x

    return make


def make_inputs(specs, dtype):
    rng = np.random.default_rng(0)
    return [spec(rng).astype(dtype) for spec in specs]


def t(x, dtype=None):
    """Host data to a tensor on the active backend."""
    return ops.convert_to_tensor(np.asarray(x), dtype=dtype)


def case(name, fn, ref, *specs, kind="default"):
    return pytest.param(fn, ref, specs, kind, id=name)


# -- NumPy references ------------------------------------------------------------------
def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def np_softplus(x):
    return np.logaddexp(0.0, x)


def np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def np_gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def np_gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
MASK = np.array([[1, 0, 1, 1, 0], [0, 0, 1, 0, 1], [1, 1, 1, 0, 0], [0, 1, 0, 0, 1]], dtype=bool)


# -- the table of differentiable ops ---------------------------------------------------
ARITHMETIC = [
    case("add", ops.add, np.add, normal(3, 4), normal(3, 4)),
    case("add_row", ops.add, np.add, normal(3, 4), normal(4)),
    case("add_outer", ops.add, np.add, normal(3, 1), normal(1, 4)),
    case("add_scalar", lambda x: ops.add(x, 2.0), lambda x: x + 2.0, normal(3, 4)),
    case("add_scalar_left", lambda x: ops.add(2, x), lambda x: 2 + x, normal(3, 4)),
    case("subtract", ops.subtract, np.subtract, normal(3, 4), normal(3, 4)),
    case("subtract_row", ops.subtract, np.subtract, normal(3, 4), normal(4)),
    case("subtract_outer", ops.subtract, np.subtract, normal(3, 1), normal(1, 4)),
    case("subtract_scalar_left", lambda x: ops.subtract(2.0, x), lambda x: 2.0 - x, normal(3, 4)),
    case("multiply", ops.multiply, np.multiply, normal(3, 4), normal(3, 4)),
    case("multiply_row", ops.multiply, np.multiply, normal(3, 4), normal(4)),
    case("multiply_outer", ops.multiply, np.multiply, normal(3, 1), normal(1, 4)),
    case("multiply_3d", ops.multiply, np.multiply, normal(2, 3, 4), normal(3, 1)),
    case("multiply_scalar", lambda x: ops.multiply(x, 0.5), lambda x: x * 0.5, normal(3, 4)),
    case("divide", ops.divide, np.divide, normal(3, 4), nonzero(3, 4)),
    case("divide_row", ops.divide, np.divide, normal(3, 4), nonzero(4)),
    case("divide_col", ops.divide, np.divide, normal(3, 4), positive(3, 1)),
    case("divide_broadcast_numerator", ops.divide, np.divide, normal(4), positive(3, 4)),
    case("divide_scalar_left", lambda x: ops.divide(1.0, x), lambda x: 1.0 / x, nonzero(3, 4)),
    case("true_divide", ops.true_divide, np.true_divide, normal(3, 4), positive(3, 4)),
    case("negative", ops.negative, np.negative, normal(3, 4)),
    case("power_2", lambda x: ops.power(x, 2), lambda x: x**2, normal(3, 4)),
    case("power_3", lambda x: ops.power(x, 3), lambda x: x**3, normal(3, 4)),
    case("power_half", lambda x: ops.power(x, 0.5), np.sqrt, positive(3, 4)),
    case("power_negative", lambda x: ops.power(x, -1.5), lambda x: x**-1.5, positive(3, 4)),
    case("power_tensor", ops.power, np.power, positive(3, 4), normal(3, 4)),
    case("power_tensor_row", ops.power, np.power, positive(3, 4), normal(4)),
    case("power_tensor_base_row", ops.power, np.power, positive(4), normal(3, 4)),
    case("power_scalar_base", lambda y: ops.power(2.0, y), lambda y: 2.0**y, normal(3, 4)),
    case("square", ops.square, np.square, normal(3, 4)),
    case("sqrt", ops.sqrt, np.sqrt, positive(3, 4)),
    case("exp", ops.exp, np.exp, normal(3, 4)),
    case("log", ops.log, np.log, positive(3, 4)),
    case("abs", ops.abs, np.abs, nonzero(3, 4), kind="kinked"),
    case("absolute", ops.absolute, np.abs, nonzero(3, 4), kind="kinked"),
]

MATMUL = [
    case(f"matmul_{name}", ops.matmul, np.matmul, normal(*a), normal(*b))
    for name, a, b in [
        ("2d", (3, 4), (4, 5)),
        ("batched", (2, 3, 4), (2, 4, 5)),
        ("broadcast_batch", (2, 1, 3, 4), (5, 4, 2)),
        ("2d_by_batched", (3, 4), (2, 4, 5)),
        ("batched_by_2d", (2, 3, 4), (4, 5)),
        ("vec_mat", (4,), (4, 5)),
        ("mat_vec", (3, 4), (4,)),
        ("vec_vec", (4,), (4,)),
        ("vec_batched", (4,), (2, 4, 5)),
        ("batched_vec", (2, 3, 4), (4,)),
    ]
] + [case("dot", ops.dot, np.dot, normal(3, 4), normal(4, 5))]

REDUCTION_ARGS = [
    {},
    {"axis": 0},
    {"axis": -1},
    {"axis": (0, 2)},
    {"axis": (-1, 0), "keepdims": True},
    {"axis": 1, "keepdims": True},
    {"keepdims": True},
]
REDUCTIONS = [
    case(f"{name}_{'_'.join(f'{k}={v}' for k, v in args.items()) or 'all'}",
         lambda x, f=f, args=args: f(x, **args),
         lambda x, r=r, args=args: r(x, **args),
         normal(2, 3, 4), kind=kind)
    for name, f, r, kind in [
        ("sum", ops.sum, np.sum, "default"),
        ("mean", ops.mean, np.mean, "default"),
        ("max", ops.max, np.max, "kinked"),
        ("min", ops.min, np.min, "kinked"),
    ]
    for args in REDUCTION_ARGS
]

SHAPES = [
    case("reshape", lambda x: ops.reshape(x, (6, 4)), lambda x: x.reshape(6, 4), normal(2, 3, 4)),
    case("reshape_infer", lambda x: ops.reshape(x, (4, -1)), lambda x: x.reshape(4, -1),
         normal(2, 3, 4)),
    case("reshape_flat", lambda x: ops.reshape(x, (-1,)), lambda x: x.reshape(-1), normal(2, 3, 4)),
    case("transpose", ops.transpose, np.transpose, normal(2, 3, 4)),
    case("transpose_axes", lambda x: ops.transpose(x, (1, 0, 2)),
         lambda x: x.transpose(1, 0, 2), normal(2, 3, 4)),
    case("transpose_cycle", lambda x: ops.transpose(x, (2, 0, 1)),
         lambda x: x.transpose(2, 0, 1), normal(2, 3, 4)),
    case("transpose_negative_axes", lambda x: ops.transpose(x, (-1, 0, -2)),
         lambda x: x.transpose(2, 0, 1), normal(2, 3, 4)),
    case("transpose_T", lambda x: x.T, lambda x: x.T, normal(3, 4)),
    case("expand_dims_0", lambda x: ops.expand_dims(x, 0), lambda x: x[None], normal(3, 4)),
    case("expand_dims_1", lambda x: ops.expand_dims(x, 1), lambda x: x[:, None], normal(3, 4)),
    case("expand_dims_last", lambda x: ops.expand_dims(x, -1), lambda x: x[..., None],
         normal(3, 4)),
    case("squeeze", ops.squeeze, np.squeeze, normal(1, 3, 1, 4)),
    case("squeeze_axis", lambda x: ops.squeeze(x, axis=2),
         lambda x: np.squeeze(x, axis=2), normal(1, 3, 1, 4)),
    case("squeeze_negative_axis", lambda x: ops.squeeze(x, axis=-4),
         lambda x: np.squeeze(x, axis=0), normal(1, 3, 1, 4)),
    case("concatenate_0", lambda a, b, c: ops.concatenate([a, b, c]),
         lambda a, b, c: np.concatenate([a, b, c]), normal(2, 3), normal(1, 3), normal(4, 3)),
    case("concatenate_1", lambda a, b, c: ops.concatenate([a, b, c], axis=1),
         lambda a, b, c: np.concatenate([a, b, c], axis=1),
         normal(2, 1), normal(2, 3), normal(2, 2)),
    case("concatenate_last", lambda a, b: ops.concatenate([a, b], axis=-1),
         lambda a, b: np.concatenate([a, b], axis=-1), normal(2, 3, 1), normal(2, 3, 2)),
    case("concatenate_same_tensor", lambda a: ops.concatenate([a, a], axis=0),
         lambda a: np.concatenate([a, a]), normal(2, 3)),
    case("stack_0", lambda a, b: ops.stack([a, b]), lambda a, b: np.stack([a, b]),
         normal(3, 4), normal(3, 4)),
    case("stack_1", lambda a, b, c: ops.stack([a, b, c], axis=1),
         lambda a, b, c: np.stack([a, b, c], axis=1), normal(3, 4), normal(3, 4), normal(3, 4)),
    case("stack_last", lambda a, b: ops.stack([a, b], axis=-1),
         lambda a, b: np.stack([a, b], axis=-1), normal(3, 4), normal(3, 4)),
]

SELECTION = [
    case("maximum", ops.maximum, np.maximum, normal(3, 4), normal(3, 4), kind="kinked"),
    case("maximum_row", ops.maximum, np.maximum, normal(3, 4), normal(4), kind="kinked"),
    case("maximum_scalar", lambda x: ops.maximum(x, 0.0), lambda x: np.maximum(x, 0.0),
         nonzero(3, 4), kind="kinked"),
    case("minimum", ops.minimum, np.minimum, normal(3, 4), normal(3, 4), kind="kinked"),
    case("minimum_outer", ops.minimum, np.minimum, normal(3, 1), normal(1, 4), kind="kinked"),
    case("minimum_scalar", lambda x: ops.minimum(0.0, x), lambda x: np.minimum(0.0, x),
         nonzero(3, 4), kind="kinked"),
    case("where", lambda x, y: ops.where(x > 0, x, y), lambda x, y: np.where(x > 0, x, y),
         nonzero(3, 4), normal(3, 4)),
    case("where_broadcast", lambda x, y: ops.where(x > 0, x, y),
         lambda x, y: np.where(x > 0, x, y), nonzero(3, 4), normal(4)),
    case("where_scalar", lambda x: ops.where(x > 0, x, 0.0), lambda x: np.where(x > 0, x, 0.0),
         nonzero(3, 4)),
    case("where_host_condition", lambda x, y: ops.where(t(MASK[:3, :4]), x, y),
         lambda x, y: np.where(MASK[:3, :4], x, y), normal(3, 4), normal(3, 4)),
    case("clip", lambda x: ops.clip(x, -0.5, 0.5), lambda x: np.clip(x, -0.5, 0.5),
         avoiding(-0.5, 0.5, shape=(3, 4)), kind="kinked"),
]

INDEXING = [
    case("take_flat_repeats", lambda x: ops.take(x, [0, 3, 3, 11]),
         lambda x: np.take(x, [0, 3, 3, 11]), normal(3, 4)),
    case("take_flat_2d_indices", lambda x: ops.take(x, [[0, 1], [1, 5]]),
         lambda x: np.take(x, [[0, 1], [1, 5]]), normal(3, 4)),
    case("take_axis0_repeats", lambda x: ops.take(x, [2, 0, 2], axis=0),
         lambda x: np.take(x, [2, 0, 2], axis=0), normal(3, 4)),
    case("take_axis1_2d_indices", lambda x: ops.take(x, [[1, 1], [3, 0]], axis=1),
         lambda x: np.take(x, [[1, 1], [3, 0]], axis=1), normal(2, 4, 3)),
    case("take_axis_last", lambda x: ops.take(x, [3, 3, 0], axis=-1),
         lambda x: np.take(x, [3, 3, 0], axis=-1), normal(2, 3, 4)),
    case("take_negative_index", lambda x: ops.take(x, [-1, 0, -1], axis=0),
         lambda x: np.take(x, [-1, 0, -1], axis=0), normal(3, 4)),
    case("take_scalar_index", lambda x: ops.take(x, 2, axis=1),
         lambda x: np.take(x, 2, axis=1), normal(3, 4)),
    case("take_tensor_indices", lambda x: ops.take(x, t([1, 1, 0]), axis=0),
         lambda x: np.take(x, [1, 1, 0], axis=0), normal(3, 4)),
    case("getitem_slice", lambda x: x[1:3], lambda x: x[1:3], normal(4, 5)),
    case("getitem_step", lambda x: x[:, ::2], lambda x: x[:, ::2], normal(4, 5)),
    case("getitem_negative_step", lambda x: x[::-1, 1:-1], lambda x: x[::-1, 1:-1], normal(4, 5)),
    case("getitem_int", lambda x: x[2], lambda x: x[2], normal(4, 5)),
    case("getitem_ellipsis", lambda x: x[..., 1], lambda x: x[..., 1], normal(2, 4, 5)),
    case("getitem_newaxis", lambda x: x[None, 1], lambda x: x[None, 1], normal(4, 5)),
    case("getitem_repeats", lambda x: x[[0, 0, 2]], lambda x: x[[0, 0, 2]], normal(4, 5)),
    case("getitem_pairs", lambda x: x[[0, 2, 2], [1, 1, 3]],
         lambda x: x[[0, 2, 2], [1, 1, 3]], normal(4, 5)),
    case("getitem_slice_and_array", lambda x: x[1:, [0, 0, 3]],
         lambda x: x[1:, [0, 0, 3]], normal(4, 5)),
    case("getitem_tensor", lambda x: ops.getitem(x, t([3, 0, 3])),
         lambda x: x[[3, 0, 3]], normal(4, 5)),
    case("getitem_mask", lambda x: x[t(MASK)], lambda x: x[MASK], normal(4, 5)),
]

ACTIVATIONS = [
    case("relu", ops.relu, lambda x: np.maximum(x, 0.0), nonzero(3, 4), kind="kinked"),
    case("relu_alpha", lambda x: ops.relu(x, alpha=0.2), lambda x: np.where(x > 0, x, 0.2 * x),
         nonzero(3, 4), kind="kinked"),
    case("relu_max_value", lambda x: ops.relu(x, max_value=1.0), lambda x: np.clip(x, 0.0, 1.0),
         avoiding(0.0, 1.0, shape=(3, 4)), kind="kinked"),
    case("relu_all_options", lambda x: ops.relu(x, alpha=0.1, max_value=2.0, threshold=0.5),
         lambda x: np.where(x > 0.5, np.minimum(x, 2.0), 0.1 * (x - 0.5)),
         avoiding(0.5, 2.0, shape=(3, 4)), kind="kinked"),
    case("relu6", ops.relu6, lambda x: np.clip(x, 0.0, 6.0),
         avoiding(0.0, 6.0, shape=(3, 4), low=-8, high=8), kind="kinked"),
    case("leaky_relu", ops.leaky_relu, lambda x: np.where(x >= 0, x, 0.2 * x),
         nonzero(3, 4), kind="kinked"),
    case("leaky_relu_alpha", lambda x: ops.leaky_relu(x, alpha=0.3),
         lambda x: np.where(x >= 0, x, 0.3 * x), nonzero(3, 4), kind="kinked"),
    case("sigmoid", ops.sigmoid, np_sigmoid, normal(3, 4)),
    case("tanh", ops.tanh, np.tanh, normal(3, 4)),
    case("softmax", ops.softmax, np_softmax, normal(3, 4)),
    case("softmax_axis0", lambda x: ops.softmax(x, axis=0), lambda x: np_softmax(x, axis=0),
         normal(3, 4)),
    case("log_softmax", ops.log_softmax, np_log_softmax, normal(3, 4)),
    case("log_softmax_axis1", lambda x: ops.log_softmax(x, axis=1),
         lambda x: np_log_softmax(x, axis=1), normal(2, 3, 4)),
    case("elu", ops.elu, np_elu, nonzero(3, 4), kind="kinked"),
    case("elu_alpha", lambda x: ops.elu(x, alpha=0.5), lambda x: np_elu(x, 0.5),
         nonzero(3, 4), kind="kinked"),
    case("selu", ops.selu, lambda x: SELU_SCALE * np_elu(x, SELU_ALPHA), nonzero(3, 4),
         kind="kinked"),
    case("softplus", ops.softplus, np_softplus, normal(3, 4)),
    case("softsign", ops.softsign, lambda x: x / (1.0 + np.abs(x)), nonzero(3, 4), kind="kinked"),
    case("silu", ops.silu, lambda x: x * np_sigmoid(x), normal(3, 4)),
    case("swish", ops.swish, lambda x: x * np_sigmoid(x), normal(3, 4)),
    case("hard_sigmoid", ops.hard_sigmoid, lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0),
         avoiding(-2.5, 2.5, shape=(3, 4), low=-4, high=4), kind="kinked"),
    case("mish", ops.mish, lambda x: x * np.tanh(np_softplus(x)), normal(3, 4)),
    case("gelu", ops.gelu, np_gelu, normal(3, 4), kind="approximate"),
    case("gelu_tanh", lambda x: ops.gelu(x, approximate=True), np_gelu_tanh, normal(3, 4)),
    case("exponential", ops.exponential, np.exp, normal(3, 4)),
    case("linear", ops.linear, lambda x: x, normal(3, 4)),
]

DIFFERENTIABLE = ARITHMETIC + MATMUL + REDUCTIONS + SHAPES + SELECTION + INDEXING + ACTIVATIONS


@pytest.mark.parametrize("fn, ref, specs, kind", DIFFERENTIABLE)
def test_forward_float32(fn, ref, specs, kind):
    arrays = make_inputs(specs, "float32")
    out = fn(*[t(a) for a in arrays])
    expected = ref(*[a.astype("float64") for a in arrays])
    assert out.dtype == np.float32, "float32 in, float32 out"
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.numpy(), expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("fn, ref, specs, kind", DIFFERENTIABLE)
def test_gradient_float64(fn, ref, specs, kind):
    check_gradients(fn, make_inputs(specs, "float64"), kind=kind)


# -- ops with special gradient rules ---------------------------------------------------
def grads_of(f, *arrays):
    tensors = [t(a) for a in arrays]
    with kerasette.GradientTape() as tape:
        tape.watch(tensors)
        y = f(*tensors)
    return [None if g is None else g.numpy() for g in tape.gradient(y, tensors)]


@pytest.mark.parametrize("op, expected", [
    (ops.max, [0.0, 0.5, 0.5, 0.0]),
    (ops.min, [0.5, 0.0, 0.0, 0.5]),
])
def test_max_min_ties_share_the_gradient(op, expected):
    (g,) = grads_of(op, np.array([1.0, 3.0, 3.0, 1.0], dtype="float32"))
    np.testing.assert_allclose(g, expected)


@pytest.mark.parametrize("op, expected_x, expected_y", [
    (ops.maximum, [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]),
    (ops.minimum, [0.0, 1.0, 1.0], [1.0, 0.0, 0.0]),
])
def test_maximum_minimum_ties_send_the_gradient_to_x(op, expected_x, expected_y):
    gx, gy = grads_of(op, np.array([2.0, 1.0, 0.0], "float32"), np.ones(3, "float32"))
    np.testing.assert_array_equal(gx, expected_x)
    np.testing.assert_array_equal(gy, expected_y)


def test_clip_gradient_passes_only_inside_the_range():
    (g,) = grads_of(lambda x: ops.clip(x, -1.0, 1.0), np.array([-2.0, -0.5, 0.5, 2.0], "float32"))
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 0.0])


def test_where_sends_no_gradient_to_the_other_branch():
    gx, gy = grads_of(lambda x, y: ops.where(t(np.array([True, False])), x, y),
                      np.ones(2, "float32"), np.ones(2, "float32"))
    np.testing.assert_array_equal(gx, [1.0, 0.0])
    np.testing.assert_array_equal(gy, [0.0, 1.0])


def test_cast():
    x = np.array([0.5, -1.25, 2.0], dtype="float32")
    for dtype in ("float16", "float64", "int32", "bool"):
        out = ops.cast(t(x), dtype)
        assert out.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(out.numpy(), x.astype(dtype))
    # The gradient flows between float dtypes and comes back in the source's dtype.
    (g,) = grads_of(lambda v: ops.cast(v, "float64") * 3.0, x)
    assert g.dtype == np.float32
    np.testing.assert_array_equal(g, [3.0, 3.0, 3.0])
    # ... but not through an integer cast.
    (g,) = grads_of(lambda v: ops.cast(v, "int32"), x)
    assert g is None
    check_gradients(lambda v: ops.cast(v, "float64") * 2.0, [x.astype("float64")])


# -- ops without a gradient ------------------------------------------------------------
X = np.array([[0.5, -1.0, 2.0], [3.0, 0.0, -2.0]], dtype="float32")
Y = np.array([[0.5, 1.0, -2.0], [1.0, 0.0, 4.0]], dtype="float32")

NON_DIFFERENTIABLE = [
    ("argmax", lambda x, y: ops.argmax(x), lambda x, y: np.argmax(x, axis=-1)),
    ("argmax_axis0", lambda x, y: ops.argmax(x, axis=0), lambda x, y: np.argmax(x, axis=0)),
    ("argmin", lambda x, y: ops.argmin(x), lambda x, y: np.argmin(x, axis=-1)),
    ("sign", lambda x, y: ops.sign(x), lambda x, y: np.sign(x)),
    ("equal", ops.equal, np.equal),
    ("not_equal", ops.not_equal, np.not_equal),
    ("less", ops.less, np.less),
    ("less_equal", ops.less_equal, np.less_equal),
    ("greater", ops.greater, np.greater),
    ("greater_equal", ops.greater_equal, np.greater_equal),
    ("greater_scalar", lambda x, y: ops.greater(x, 0.5), lambda x, y: x > 0.5),
    ("zeros_like", lambda x, y: ops.zeros_like(x), lambda x, y: np.zeros_like(x)),
    ("ones_like", lambda x, y: ops.ones_like(x), lambda x, y: np.ones_like(x)),
    ("ones_like_int", lambda x, y: ops.ones_like(x, dtype="int32"),
     lambda x, y: np.ones(x.shape, "int32")),
    ("zeros", lambda x, y: ops.zeros((2, 3)), lambda x, y: np.zeros((2, 3), "float32")),
    ("ones", lambda x, y: ops.ones((2,), dtype="float64"), lambda x, y: np.ones(2)),
    ("stop_gradient", lambda x, y: ops.stop_gradient(x), lambda x, y: x),
]


@pytest.mark.parametrize("fn, ref", [pytest.param(f, r, id=n) for n, f, r in NON_DIFFERENTIABLE])
def test_non_differentiable_forward(fn, ref):
    out = fn(t(X), t(Y))
    expected = ref(X, Y)
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out.numpy(), expected)
    # Watched inputs get no gradient through these ops.
    x = t(X)
    with kerasette.GradientTape() as tape:
        tape.watch(x)
        y = fn(x, t(Y))
    assert tape.gradient(y, x) is None


@pytest.mark.parametrize("indices, depth, dtype", [
    ([0, 2, 1, 2], 3, None),
    ([[1, 0], [3, 3]], 4, None),
    ([1, 0], 2, "int32"),
])
def test_one_hot(indices, depth, dtype):
    out = ops.one_hot(t(indices), depth, dtype=dtype)
    expected = np.eye(depth, dtype=dtype or "float32")[np.asarray(indices)]
    assert out.dtype == expected.dtype
    np.testing.assert_array_equal(out.numpy(), expected)


def test_one_hot_of_float_labels():
    out = ops.one_hot(t(np.array([2.0, 0.0], "float32")), 3)
    np.testing.assert_array_equal(out.numpy(), [[0, 0, 1], [1, 0, 0]])


@pytest.mark.parametrize("value, dtype", [
    (1.5, "float32"), (3, "int32"), (True, "bool"), ([1.0, 2.0], "float32"), ([1, 2], "int32"),
    (np.zeros(2, "float64"), "float64"), (np.zeros(2, "int64"), "int64"),
])
def test_convert_to_tensor_dtypes(value, dtype):
    out = ops.convert_to_tensor(value)
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(ops.convert_to_numpy(out), np.asarray(value))
    assert ops.convert_to_tensor(value, dtype="float16").dtype == np.float16


ELEMENTWISE = [ops.negative, ops.square, ops.sqrt, ops.exp, ops.log, ops.abs, ops.relu, ops.relu6,
               ops.leaky_relu, ops.sigmoid, ops.tanh, ops.elu, ops.selu, ops.softplus,
               ops.softsign, ops.silu, ops.hard_sigmoid, ops.mish, ops.gelu]


@pytest.mark.parametrize("fn", ELEMENTWISE, ids=lambda f: f.__name__)
def test_elementwise_ops_on_0d_tensors(fn):
    x = np.array([0.7], dtype="float32")
    expected = fn(t(x)).numpy()[0]
    out = fn(ops.sum(t(x)))  # a full reduction's 0-d result
    assert out.shape == () and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    check_gradients(fn, [np.array(0.7)])


def test_full_reductions_give_0d_tensors():
    x = t(np.arange(6, dtype="float32").reshape(2, 3))
    for out in (ops.sum(x), ops.mean(x), ops.max(x), ops.sum(x, axis=(0, 1))):
        assert out.shape == () and out.dtype == np.float32
        # and the result works as an input to every later op (in-place kernels included)
        assert ops.sigmoid(out).shape == ()
        assert ops.dense(ops.reshape(out, (1, 1)), t(np.ones((1, 2), "float32")),
                         activation="sigmoid").shape == (1, 2)


# -- fused ops: dense ------------------------------------------------------------------
ACTIVATION_REFS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "sigmoid": np_sigmoid,
    "tanh": np.tanh,
    "softmax": np_softmax,
}


def np_dense(x, w, b, activation):
    z = x @ w
    if b is not None:
        z = z + b
    return ACTIVATION_REFS[activation](z)


DENSE_CASES = [
    pytest.param(act, bias, shape, id=f"{act}-{'bias' if bias else 'nobias'}-{len(shape)}d")
    for act in ACTIVATION_REFS
    for bias in (True, False)
    for shape in ((4, 3), (2, 4, 3))
]


def dense_inputs(bias, shape, dtype):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(shape), rng.standard_normal((3, 5))]
    if bias:
        arrays.append(rng.standard_normal(5))
    return [a.astype(dtype) for a in arrays]


@pytest.mark.parametrize("activation, bias, shape", DENSE_CASES)
def test_dense_forward(activation, bias, shape):
    arrays = dense_inputs(bias, shape, "float32")
    out = ops.dense(*[t(a) for a in arrays], activation=activation)
    x, w, *b = [a.astype("float64") for a in arrays]
    expected = np_dense(x, w, b[0] if b else None, activation)
    assert out.dtype == np.float32
    assert out.shape == shape[:-1] + (5,)
    np.testing.assert_allclose(out.numpy(), expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("activation, bias, shape", DENSE_CASES)
def test_dense_gradient(activation, bias, shape):
    kind = "kinked" if activation == "relu" else "default"
    check_gradients(lambda *a: ops.dense(*a, activation=activation),
                    dense_inputs(bias, shape, "float64"), kind=kind)


def test_dense_activation_none_is_linear_and_others_are_refused():
    x, w = t(np.ones((2, 3), "float32")), t(np.ones((3, 4), "float32"))
    np.testing.assert_array_equal(ops.dense(x, w, activation=None).numpy(), np.full((2, 4), 3.0))
    with pytest.raises(ValueError, match="fuses only"):
        ops.dense(x, w, activation="elu")


# -- fused ops: cross-entropies --------------------------------------------------------
def soft_labels(rng, shape):
    return np_softmax(rng.standard_normal(shape))


def one_hot_labels(rng, shape):
    return np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])]


def unnormalised_labels(rng, shape):
    return rng.uniform(0, 1, shape)


@pytest.mark.parametrize("make_labels", [one_hot_labels, soft_labels, unnormalised_labels])
@pytest.mark.parametrize("shape, axis", [((4, 5), -1), ((2, 3, 4), -1), ((4, 5), 0)])
def test_softmax_cross_entropy(make_labels, shape, axis):
    rng = np.random.default_rng(2)
    logits = rng.standard_normal(shape) * 3
    labels = make_labels(rng, shape) if axis == -1 else make_labels(rng, shape[::-1]).T
    out = ops.softmax_cross_entropy(t(labels, "float32"), t(logits, "float32"), axis=axis)
    expected = -np.sum(labels * np_log_softmax(logits, axis=axis), axis=axis)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=RTOL, atol=ATOL)
    check_gradients(lambda z: ops.softmax_cross_entropy(t(labels), z, axis=axis), [logits])


def test_softmax_cross_entropy_extreme_logits_stay_finite():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype="float32")
    labels = np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]], dtype="float32")
    z = t(logits)
    with kerasette.GradientTape() as tape:
        tape.watch(z)
        loss = ops.softmax_cross_entropy(t(labels), z)
    g = tape.gradient(loss, z).numpy()
    np.testing.assert_allclose(loss.numpy(), [2e4, 1e4], rtol=1e-6)
    np.testing.assert_allclose(g, [[1.0, -1.0, 0.0], [-0.5, 0.0, 0.5]], atol=1e-6)


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4)])
def test_sparse_softmax_cross_entropy(shape):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal(shape) * 3
    labels = rng.integers(0, shape[-1], shape[:-1])
    out = ops.sparse_softmax_cross_entropy(t(labels), t(logits, "float32"))
    expected = -np.take_along_axis(np_log_softmax(logits), labels[..., None], axis=-1)[..., 0]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=RTOL, atol=ATOL)
    # The same as the dense form with one-hot labels, including the gradient.
    dense_form = ops.softmax_cross_entropy(t(np.eye(shape[-1])[labels], "float32"),
                                           t(logits, "float32"))
    np.testing.assert_allclose(out.numpy(), dense_form.numpy(), rtol=1e-6, atol=1e-6)
    check_gradients(lambda z: ops.sparse_softmax_cross_entropy(t(labels), z), [logits])
    # Float labels (as Keras accepts) are read as class indices.
    out_f = ops.sparse_softmax_cross_entropy(t(labels, "float32"), t(logits, "float32"))
    np.testing.assert_allclose(out_f.numpy(), out.numpy())


def test_sigmoid_cross_entropy():
    rng = np.random.default_rng(4)
    logits = rng.uniform(-5, 5, (4, 3))
    labels = rng.uniform(0, 1, (4, 3))
    out = ops.sigmoid_cross_entropy(t(labels, "float32"), t(logits, "float32"))
    s = np_sigmoid(logits)
    expected = -(labels * np.log(s) + (1 - labels) * np.log(1 - s))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=RTOL, atol=ATOL)
    check_gradients(lambda z: ops.sigmoid_cross_entropy(t(labels), z), [logits])


def test_sigmoid_cross_entropy_extreme_logits_stay_finite():
    logits = np.array([1e4, -1e4, 1e4, -1e4], dtype="float32")
    labels = np.array([1.0, 0.0, 0.0, 1.0], dtype="float32")
    z = t(logits)
    with kerasette.GradientTape() as tape:
        tape.watch(z)
        loss = ops.sigmoid_cross_entropy(t(labels), z)
    g = tape.gradient(loss, z).numpy()
    np.testing.assert_allclose(loss.numpy(), [0.0, 0.0, 1e4, 1e4])
    np.testing.assert_allclose(g, [0.0, 0.0, 1.0, -1.0], atol=1e-7)


# -- fused ops: batch normalisation ----------------------------------------------------
BN_CASES = [
    pytest.param((6, 3), -1, id="2d"),
    pytest.param((2, 3, 4), -1, id="3d_last"),
    pytest.param((2, 3, 2, 2), 1, id="4d_channels_first"),
]


def bn_inputs(shape, axis, dtype):
    rng = np.random.default_rng(5)
    n = shape[axis]
    x = rng.standard_normal(shape) * 2 + 1
    return [a.astype(dtype) for a in (x, rng.uniform(0.5, 1.5, n), rng.standard_normal(n))]


def bn_param_shape(shape, axis):
    out = [1] * len(shape)
    out[axis] = shape[axis]
    return out


@pytest.mark.parametrize("shape, axis", BN_CASES)
def test_batch_normalization_training_forward_and_stats(shape, axis):
    x, gamma, beta = bn_inputs(shape, axis, "float32")
    eps = 1e-3
    y, mean, var = ops.batch_normalization_training(t(x), t(beta), t(gamma), eps, axis=axis)
    red = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    x64 = x.astype("float64")
    np_mean, np_var = x64.mean(axis=red), x64.var(axis=red)
    np.testing.assert_allclose(kerasette.backend.get_backend().to_numpy(mean), np_mean,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(kerasette.backend.get_backend().to_numpy(var), np_var,
                               rtol=1e-5, atol=1e-6)
    ps = bn_param_shape(shape, axis)
    expected = ((x64 - np_mean.reshape(ps)) / np.sqrt(np_var.reshape(ps) + eps)
                * gamma.reshape(ps) + beta.reshape(ps))
    assert y.dtype == mean.dtype == var.dtype == np.float32
    assert mean.shape == var.shape == (shape[axis],)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape, axis", BN_CASES)
def test_batch_normalization_training_gradient(shape, axis):
    check_gradients(
        lambda x, g, b: ops.batch_normalization_training(x, b, g, 1e-3, axis=axis)[0],
        bn_inputs(shape, axis, "float64"))


def test_batch_normalization_training_without_scale_and_offset():
    x = bn_inputs((6, 3), -1, "float64")[0]
    y, _, _ = ops.batch_normalization_training(t(x), None, None, 1e-3)
    np.testing.assert_allclose(y.numpy(), (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3), rtol=1e-10)
    check_gradients(lambda v: ops.batch_normalization_training(v, None, None, 1e-3)[0], [x])


@pytest.mark.parametrize("scale, offset",
                         [(True, True), (True, False), (False, True), (False, False)])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3)])
def test_batch_normalization_inference(shape, scale, offset):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape)
    mean, var = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    gamma, beta = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
    expected = (x - mean) / np.sqrt(var + 1e-3) * (gamma if scale else 1) + (beta if offset else 0)

    def bn(x, *params):
        params = list(params)
        g = params.pop(0) if scale else None
        b = params.pop(0) if offset else None
        return ops.batch_normalization(x, t(mean.astype(x.dtype)), t(var.astype(x.dtype)),
                                       b, g, 1e-3)

    params = [p for p, use in ((gamma, scale), (beta, offset)) if use]
    out = bn(*[t(a, "float32") for a in [x] + params])
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    check_gradients(bn, [x] + params)


def test_batch_normalization_inference_with_channels_first_parameters():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 3, 2, 2))
    mean, var = rng.standard_normal((3, 1, 1)), rng.uniform(0.5, 2, (3, 1, 1))
    gamma, beta = rng.uniform(0.5, 1.5, (3, 1, 1)), rng.standard_normal((3, 1, 1))

    def bn(x, g, b):
        return ops.batch_normalization(x, t(mean), t(var), b, g, 1e-3)

    expected = (x - mean) / np.sqrt(var + 1e-3) * gamma + beta
    np.testing.assert_allclose(bn(t(x), t(gamma), t(beta)).numpy(), expected, rtol=1e-10)
    check_gradients(bn, [x, gamma, beta])


# -- fused ops: dropout ----------------------------------------------------------------
@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_statistics(rate):
    x = t(np.ones((200, 500), dtype="float32"))
    out = ops.dropout(x, rate).numpy()
    assert out.dtype == np.float32
    dropped = out == 0
    assert abs(dropped.mean() - rate) < 0.01
    np.testing.assert_allclose(out[~dropped], 1.0 / (1.0 - rate), rtol=1e-6)
    assert abs(out.mean() - 1.0) < 0.03  # the expected value is preserved


def test_dropout_gradient_with_a_fixed_mask():
    x = np.random.default_rng(7).standard_normal((4, 6))
    check_gradients(lambda v: ops.dropout(v, 0.5), [x], reseed=11)
    check_gradients(lambda v: ops.dropout(v, 0.3, noise_shape=(None, 1)), [x], reseed=11)


def test_dropout_gradient_is_the_mask():
    x = t(np.ones((10, 20), dtype="float32"))
    with kerasette.GradientTape() as tape:
        tape.watch(x)
        y = ops.dropout(x, 0.25)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), y.numpy())


def test_dropout_noise_shape_broadcasts_the_mask():
    out = ops.dropout(t(np.ones((8, 50), dtype="float32")), 0.5, noise_shape=(None, 1)).numpy()
    assert all(len(set(row.tolist())) == 1 for row in out)  # whole rows kept or dropped
    out = ops.dropout(t(np.ones((8, 50), dtype="float32")), 0.5, noise_shape=(1, 50)).numpy()
    assert (out == out[0]).all()


def test_dropout_repeats_with_a_seed_and_rate_zero_is_identity():
    x = t(np.ones((5, 7), dtype="float32"))
    kerasette.utils.set_random_seed(3)
    a = ops.dropout(x, 0.5).numpy()
    kerasette.utils.set_random_seed(3)
    b = ops.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, b)
    assert ops.dropout(x, 0.0) is x
