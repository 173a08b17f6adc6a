"""Tape semantics: what is recorded, what is differentiated, and how results look."""

from __future__ import annotations

import operator

import numpy as np
import pytest
from gradcheck import check_gradients

import kerasette
from kerasette import GradientTape, Variable, ops


def t(x, dtype=None):
    return ops.convert_to_tensor(np.asarray(x), dtype=dtype)


def arr(*shape, seed=0, dtype="float32"):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# -- targets and sources ---------------------------------------------------------------
def test_non_scalar_target_is_differentiated_as_its_sum():
    x = t(arr(2, 3))
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        s = ops.sum(y)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), tape.gradient(s, x).numpy())
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 2 * x.numpy(), rtol=1e-6)


def test_list_of_targets_is_differentiated_as_their_sum():
    x = t(arr(3))
    with GradientTape() as tape:
        tape.watch(x)
        a, b = x * 2.0, ops.sum(x * x)
    np.testing.assert_allclose(tape.gradient([a, b], x).numpy(), 2 + 2 * x.numpy(), rtol=1e-6)


def test_output_gradients_weight_the_target():
    x = t(arr(2, 3))
    upstream = t(arr(2, 3, seed=1))
    with GradientTape() as tape:
        tape.watch(x)
        y = x * 3.0
    g = tape.gradient(y, x, output_gradients=upstream)
    np.testing.assert_allclose(g.numpy(), 3 * upstream.numpy(), rtol=1e-6)


def test_structure_of_sources():
    w, b = Variable(arr(3, 2)), Variable(np.zeros(2, "float32"))
    x = t(arr(4, 3, seed=1))
    with GradientTape(persistent=True) as tape:
        loss = ops.sum(x @ w + b)
    single = tape.gradient(loss, w)
    assert isinstance(single, kerasette.Tensor) and single.shape == (3, 2)
    as_list = tape.gradient(loss, [w, b])
    assert isinstance(as_list, list) and [g.shape for g in as_list] == [(3, 2), (2,)]
    as_tuple = tape.gradient(loss, (w, b))
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 2
    np.testing.assert_allclose(as_list[1].numpy(), [4.0, 4.0])
    np.testing.assert_allclose(as_list[0].numpy(), np.repeat(x.numpy().sum(0)[:, None], 2, 1),
                               rtol=1e-6)


def test_unconnected_sources():
    x, z = t(arr(3)), t(arr(2, 2))
    with GradientTape(persistent=True) as tape:
        tape.watch([x, z])
        y = ops.sum(x * 2.0)
    gx, gz = tape.gradient(y, [x, z])
    assert gz is None
    np.testing.assert_allclose(gx.numpy(), [2.0, 2.0, 2.0])
    gz = tape.gradient(y, z, unconnected_gradients="zero")
    assert gz.shape == (2, 2) and gz.dtype == np.float32
    np.testing.assert_array_equal(gz.numpy(), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="unconnected_gradients"):
        tape.gradient(y, z, unconnected_gradients="nan")


def test_target_not_recorded_gives_none():
    x = t(arr(3))
    with GradientTape() as tape:
        tape.watch(x)
        y = t(arr(3, seed=1)) * 2.0  # does not involve x
    assert tape.gradient(y, x) is None


def test_source_that_is_the_target():
    x = t(arr(3))
    with GradientTape() as tape:
        tape.watch(x)
    np.testing.assert_array_equal(tape.gradient(x, x).numpy(), np.ones(3))


def test_intermediate_tensor_as_source():
    x = t(arr(3))
    with GradientTape() as tape:
        tape.watch(x)
        y = x * 2.0
        z = ops.sum(y * y)
    np.testing.assert_allclose(tape.gradient(z, y).numpy(), 2 * y.numpy(), rtol=1e-6)


# -- persistence -----------------------------------------------------------------------
def test_non_persistent_tape_refuses_a_second_gradient():
    x = t(arr(3))
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(x * x)
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, x)


def test_persistent_tape_allows_repeated_gradients():
    x = t(arr(3))
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = ops.sum(x * x)
        z = ops.sum(ops.exp(x))
    g1, g2 = tape.gradient(y, x), tape.gradient(y, x)
    np.testing.assert_array_equal(g1.numpy(), g2.numpy())
    np.testing.assert_allclose(tape.gradient(z, x).numpy(), np.exp(x.numpy()), rtol=1e-6)


def test_gradient_inside_the_with_block():
    v = Variable(2.0)
    with GradientTape() as tape:
        y = v * v
        g = tape.gradient(y, v)
    assert float(g) == 4.0


# -- what is watched -------------------------------------------------------------------
def test_constants_need_watch():
    x = t(arr(3))
    with GradientTape() as tape:
        y = ops.sum(x * x)
    assert tape.gradient(y, x) is None
    with GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(x * x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 2 * x.numpy(), rtol=1e-6)


def test_unwatched_constant_next_to_a_variable_gets_no_gradient():
    x, w = t(arr(3)), Variable(arr(3, seed=1))
    with GradientTape() as tape:
        y = ops.sum(x * w)  # recorded (w is watched), but x is not a source
    gx, gw = tape.gradient(y, [x, w])
    assert gx is None
    np.testing.assert_allclose(gw.numpy(), x.numpy())


def test_trainable_variables_are_watched_non_trainable_are_not():
    w = Variable(arr(3), name="w")
    frozen = Variable(arr(3, seed=1), trainable=False, name="frozen")
    with GradientTape(persistent=True) as tape:
        y = ops.sum(w * frozen)
    np.testing.assert_allclose(tape.gradient(y, w).numpy(), frozen.numpy())
    assert tape.gradient(y, frozen) is None
    with GradientTape() as tape:
        tape.watch(frozen)
        y = ops.sum(w * frozen)
    np.testing.assert_allclose(tape.gradient(y, frozen).numpy(), w.numpy())
    assert any(v is frozen for v in tape.watched_variables())


def test_watch_accessed_variables_false():
    w, v = Variable(arr(3)), Variable(arr(3, seed=1))
    with GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(v)
        y = ops.sum(w * v)
    gw, gv = tape.gradient(y, [w, v])
    assert gw is None
    np.testing.assert_allclose(gv.numpy(), w.numpy())


def test_watch_rejects_non_tensors():
    with GradientTape() as tape:
        with pytest.raises(TypeError, match="convert_to_tensor"):
            tape.watch(np.ones(3))
    with pytest.raises(TypeError):
        tape.gradient(t(1.0), [np.ones(3)])


def test_nothing_is_recorded_outside_a_tape():
    w, x = Variable(arr(3, 2)), t(arr(4, 3))
    y = ops.relu(x @ w)
    z = ops.dense(x, w, activation="tanh")
    for out in (y, z):
        assert out._parents == () and out._backward is None
    with GradientTape():
        inside = ops.relu(x @ w)
    assert inside._parents != ()
    after = ops.relu(x @ w)  # the tape has exited
    assert after._parents == ()


def test_stop_recording():
    w = Variable(arr(3))
    with GradientTape() as tape:
        with tape.stop_recording():
            hidden = ops.sum(w * 2.0)
        seen = ops.sum(w * 3.0)
    assert hidden._parents == ()
    np.testing.assert_allclose(tape.gradient([hidden, seen], w).numpy(), [3.0, 3.0, 3.0])
    with pytest.raises(RuntimeError, match="active"):
        tape.stop_recording()


def test_stop_gradient():
    w = Variable(arr(3))
    with GradientTape() as tape:
        y = ops.sum(ops.stop_gradient(w * 2.0) * w)
    np.testing.assert_allclose(tape.gradient(y, w).numpy(), 2 * w.numpy(), rtol=1e-6)


# -- accumulation ----------------------------------------------------------------------
@pytest.mark.parametrize("f, df", [
    (lambda x: x * x, lambda x: 2 * x),
    (lambda x: x * x + x, lambda x: 2 * x + 1),
    (lambda x: (x * 2.0) * (x * 2.0) + x * 2.0, lambda x: 8 * x + 2),  # a diamond
    (lambda x: ops.concatenate([x, x, x]) * 2.0, lambda x: np.full_like(x, 6.0)),
    (lambda x: ops.matmul(x, x), lambda x: 2 * x),
], ids=["x*x", "x*x+x", "diamond", "concat_x_thrice", "dot_x_x"])
def test_a_tensor_used_several_times_accumulates(f, df):
    xv = arr(4)
    x = t(xv)
    with GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), df(xv), rtol=1e-5)


# -- no work for leaves that need no gradient ------------------------------------------
def spy_on(out, calls):
    """Wraps `out`'s backward to record the `needs` it gets and what it returns."""
    inner = out._backward

    def backward(g, needs):
        grads = inner(g, needs)
        calls.append((needs, grads))
        return grads

    out._backward = backward
    return out


@pytest.mark.parametrize("op", [
    lambda x, w, b: ops.dense(x, w, b, activation="relu"),
    lambda x, w, b: ops.dense(ops.reshape(x, (2, 2, 3)), w, b, activation="softmax"),
    lambda x, w, b: ops.dense(x, w, activation="tanh"),
    lambda x, w, b: ops.matmul(x, w),
], ids=["dense", "dense_3d", "dense_no_bias", "matmul"])
def test_no_gradient_is_computed_for_a_constant_input(op):
    x = t(arr(4, 3))  # the input batch: a constant
    w, b = Variable(arr(3, 2, seed=1)), Variable(np.zeros(2, "float32"))
    calls = []
    with GradientTape() as tape:
        out = spy_on(op(x, w, b), calls)
        loss = ops.sum(out)
    assert tape.gradient(loss, [w, b])[0] is not None
    (needs, grads), = calls
    assert needs[0] is False and grads[0] is None  # dX was never formed
    assert all(needs[1:]) and all(g is not None for g in grads[1:])


def test_constant_input_of_dense_with_watched_input_does_get_a_gradient():
    x, w = t(arr(4, 3)), Variable(arr(3, 2, seed=1))
    calls = []
    with GradientTape() as tape:
        tape.watch(x)
        out = spy_on(ops.dense(x, w, activation="sigmoid"), calls)
        loss = ops.sum(out)
    gx, _ = tape.gradient(loss, [x, w])
    (needs, grads), = calls
    assert needs == (True, True) and gx.shape == (4, 3)


def test_frozen_branch_is_not_differentiated():
    """Only nodes on a path to a source are visited."""
    w, frozen = Variable(arr(3)), Variable(arr(3, seed=1), trainable=False)
    calls = []
    with GradientTape() as tape:
        tape.watch(frozen)
        side = spy_on(frozen * 2.0, calls)
        y = ops.sum(w * 3.0) + ops.sum(side)
    tape.gradient(y, w)
    assert calls == []


# -- operators -------------------------------------------------------------------------
OPERATORS = [
    ("x @ W + b", lambda x, W, b: x @ W + b),
    ("W.T @ x.T", lambda x, W: W.T @ x.T),
    ("abs(x) ** W[0]", lambda x, W: abs(x) ** W[0]),
    ("-x", lambda x: -x),
    ("+x", lambda x: +x),
    ("abs", lambda x: abs(x)),
    ("x ** 2", lambda x: x ** 2),
    ("2 ** x", lambda x: 2.0 ** x),
    ("2.0 - x", lambda x: 2.0 - x),
    ("1 / x", lambda x: 1 / x),
    ("x / 2", lambda x: x / 2),
    ("3 * x - 1", lambda x: 3 * x - 1),
    ("x + 1.5", lambda x: x + 1.5),
    ("x[0]", lambda x: x[0]),
]


@pytest.mark.parametrize("f", [pytest.param(f, id=n) for n, f in OPERATORS])
def test_operators(f):
    rng = np.random.default_rng(0)
    x = rng.choice([-1.0, 1.0], (4, 3)) * rng.uniform(0.5, 2.0, (4, 3))
    inputs = [x, rng.standard_normal((3, 3)), rng.standard_normal(3)][:f.__code__.co_argcount]
    expected = f(*inputs)  # the same expression on NumPy arrays
    out = f(*[t(a, "float32") for a in inputs])
    assert isinstance(out, kerasette.Tensor) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    check_gradients(f, inputs)


@pytest.mark.parametrize("compare", [operator.lt, operator.le, operator.gt, operator.ge,
                                     operator.eq, operator.ne], ids=lambda f: f.__name__)
def test_comparisons_give_bool_tensors(compare):
    a, b = np.array([1.0, 2.0, 3.0], "float32"), np.array([3.0, 2.0, 1.0], "float32")
    for rhs, np_rhs in ((t(b), b), (2.0, 2.0)):
        out = compare(t(a), rhs)
        assert isinstance(out, kerasette.Tensor) and out.dtype == np.bool_
        np.testing.assert_array_equal(out.numpy(), compare(a, np_rhs))


def test_tensors_hash_by_identity():
    a, b = t([1.0]), t([1.0])
    assert len({a: 1, b: 2}) == 2


def test_numpy_read_out():
    x = t(np.arange(6, dtype="float32").reshape(2, 3))
    for host in (x.numpy(), np.asarray(x), np.array(x), ops.convert_to_numpy(x)):
        assert type(host) is np.ndarray and host.dtype == np.float32
        np.testing.assert_array_equal(host, np.arange(6).reshape(2, 3))
    assert np.asarray(x, dtype="float64").dtype == np.float64
    assert float(ops.sum(x)) == 15.0 and int(x[1, 2]) == 5 and len(x) == 2
    v = Variable(np.ones(3, "float32"))
    assert type(np.asarray(v)) is np.ndarray and type(v.numpy()) is np.ndarray


@pytest.mark.parametrize("read", [lambda x: x.numpy(), np.asarray, ops.convert_to_numpy])
def test_read_out_is_a_copy(read):
    """Writing to what `.numpy()` returned never changes a tensor or a weight."""
    x, v = t(np.ones(3, "float32")), Variable(np.ones(3, "float32"))
    for tensor in (x, v):
        host = read(tensor)
        host[...] = 5.0
        np.testing.assert_array_equal(tensor.numpy(), np.ones(3))


def test_host_array_on_the_left_defers_to_the_tensor(backend):
    if backend.name != "numpy":
        pytest.skip("host arrays as operands are refused on device backends (test_backend)")
    out = np.full(3, 2.0, dtype="float32") * t(np.ones(3, "float32"))
    assert isinstance(out, kerasette.Tensor) and out.dtype == np.float32


# -- variables -------------------------------------------------------------------------
@pytest.mark.parametrize("method, value, expected", [
    ("assign", [4.0, 5.0, 6.0], [4.0, 5.0, 6.0]),
    ("assign", 7.0, [7.0, 7.0, 7.0]),
    ("assign_add", np.array([1.0, 1.0, 1.0], "float64"), [2.0, 3.0, 4.0]),
    ("assign_sub", 0.5, [0.5, 1.5, 2.5]),
])
def test_variable_updates_are_in_place(method, value, expected):
    v = Variable(np.array([1.0, 2.0, 3.0], "float32"))
    buffer = v.data
    value = value if not isinstance(value, list) else t(value)
    assert getattr(v, method)(value) is v
    assert v.data is buffer and v.dtype == np.float32 and v.shape == (3,)
    np.testing.assert_array_equal(v.numpy(), expected)


def test_variable_owns_its_buffer():
    host = np.ones(3, "float32")
    v = Variable(host)
    v.assign_add(1.0)
    np.testing.assert_array_equal(host, np.ones(3))  # the host array is untouched
    src = t(np.ones(3, "float32"))
    w = Variable(src)
    w.assign(5.0)
    np.testing.assert_array_equal(src.numpy(), np.ones(3))


@pytest.mark.parametrize("value, dtype, expected", [
    (1.0, None, "float32"),
    ([1.0, 2.0], None, "float32"),
    (np.zeros(2, "float64"), None, "float64"),
    (np.zeros(2, "float64"), "float32", "float32"),
    (3, "float32", "float32"),
])
def test_variable_dtype(value, dtype, expected):
    v = Variable(value, dtype=dtype, name="v:0")
    assert v.dtype == np.dtype(expected)
    assert v.name == "v:0" and v.path == "v" and v.trainable


# -- dtypes ----------------------------------------------------------------------------
SCALAR_EXPRESSIONS = [
    lambda x: x * 0.5,
    lambda x: x + 1,
    lambda x: 2.0 - x,
    lambda x: x / 3,
    lambda x: 1.0 / (x + 10.0),
    lambda x: x ** 2,
    lambda x: (x + 10.0) ** 0.5,
    lambda x: 2.0 ** x,
    lambda x: x * np.float64(0.5),
    lambda x: np.float64(0.5) * x,
    lambda x: ops.maximum(x, 0.0),
    lambda x: ops.minimum(1, x),
    lambda x: ops.where(x > 0, x, 0.0),
    lambda x: ops.where(x > 0, 1.0, 0.0),
    lambda x: ops.clip(x, 0.0, 1.0),
    lambda x: ops.power(2.0, x) * ops.exp(x) / ops.mean(x + 3.0),
]


@pytest.mark.parametrize("f", SCALAR_EXPRESSIONS)
def test_float32_stays_float32_with_python_scalars(f):
    x = t(arr(2, 3))
    with GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    assert y.dtype == np.float32, "no silent float64"
    g = tape.gradient(y, x)
    assert g is None or g.dtype == np.float32


def test_gradients_have_the_dtype_of_their_source():
    w32, w64 = Variable(arr(3)), Variable(arr(3, dtype="float64"))
    with GradientTape() as tape:
        y = ops.sum(ops.cast(w32, "float64") * w64)
    g32, g64 = tape.gradient(y, [w32, w64])
    assert g32.dtype == np.float32 and g64.dtype == np.float64
