"""The fused CuPy kernels against the array code they replace (GPU only).

The elementwise kernels must give bit for bit what the chain of ufuncs
gave (they are compiled without FMA contraction); the row kernels (softmax,
cross-entropies) sum a row in order, so they are compared with a tolerance
against a float64 NumPy formula. The optimizer kernels are compared with the
same update done in float32 NumPy on the host: IEEE +, -, *, / and sqrt
round the same way on both, so those too must match exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from kerasette.backend import cupy_kernels


@pytest.fixture
def cp(backend):
    if backend.name != "cupy":
        pytest.skip("the fused kernels run on the CuPy backend only")
    import cupy

    return cupy


def _awkward(rng, shape, dtype):
    """Random values with the edge cases planted: NaN, infinities, zeros, large."""
    x = rng.standard_normal(shape).astype(dtype) * 4
    flat = x.reshape(-1)
    flat[:8] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 100.0, -100.0, 1e-30]
    return x


def _same(a, b):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", cupy_kernels.FUSED)
def test_activations_match_the_ufunc_chain(cp, name, dtype):
    rng = np.random.default_rng(0)
    z = cp.asarray(_awkward(rng, (33, 17), dtype))
    b = cp.asarray(rng.standard_normal(17).astype(dtype))
    g = cp.asarray(rng.standard_normal((33, 17)).astype(dtype))
    chains = {
        "relu": lambda x: cp.maximum(x, 0.0),
        "sigmoid": lambda x: cp.reciprocal(cp.exp(-cp.maximum(x, -88.0)) + 1.0),
        "tanh": cp.tanh,
    }
    derivatives = {
        "relu": lambda g, a: g * (a > 0),
        "sigmoid": lambda g, a: g * a * (1.0 - a),
        "tanh": lambda g, a: g * (1.0 - a * a),
    }
    expected = chains[name](z)
    _same(cupy_kernels.activation(name, z).get(), expected.get())
    inplace = z.copy()
    assert cupy_kernels.activation(name, inplace, inplace) is inplace
    _same(inplace.get(), expected.get())
    fused = z.copy()
    cupy_kernels.bias_activation(name, fused, b)
    _same(fused.get(), chains[name](z + b).get())
    a = cp.asarray(np.nan_to_num(expected.get()))
    d = cupy_kernels.activation_backward(name, g, a)
    assert d.dtype == np.dtype(dtype)
    _same(d.get(), derivatives[name](g, a).get())


def _host_log_softmax(z):
    z = z.astype(np.float64)
    s = z - z.max(-1, keepdims=True)
    return s - np.log(np.exp(s).sum(-1, keepdims=True))


@pytest.mark.parametrize("classes", [1, 3, 10, 1000])
def test_softmax_rows(cp, classes):
    z = np.random.default_rng(1).standard_normal((64, classes)).astype(np.float32) * 30
    p = cupy_kernels.softmax_rows(cp.asarray(z)).get()
    assert p.dtype == np.float32
    np.testing.assert_allclose(p, np.exp(_host_log_softmax(z)), rtol=3e-5, atol=1e-30)


@pytest.mark.parametrize("label_dtype", ["int64", "int32"])
def test_sparse_cross_entropy_rows_and_gradient(cp, label_dtype):
    rng = np.random.default_rng(2)
    z = (rng.standard_normal((50, 7)) * 20).astype(np.float32)
    idx = rng.integers(0, 7, 50).astype(label_dtype)
    loss, shifted, lse = cupy_kernels.sparse_ce_rows(cp.asarray(z), cp.asarray(idx))
    log_p = _host_log_softmax(z)
    np.testing.assert_allclose(loss.get(), -log_p[np.arange(50), idx], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(shifted.get(), z - z.max(-1, keepdims=True))
    grad = cupy_kernels.sparse_ce_grad(shifted, lse, cp.asarray(idx)).get()
    expected = np.exp(log_p)
    expected[np.arange(50), idx] -= 1.0
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-6)


def test_sparse_cross_entropy_label_out_of_range_is_nan(cp):
    z = cp.zeros((3, 4), dtype=cp.float32)
    loss, _, _ = cupy_kernels.sparse_ce_rows(z, cp.asarray([0, 4, -1]))
    got = loss.get()
    assert np.isfinite(got[0]) and np.isnan(got[1]) and np.isnan(got[2])


def test_softmax_cross_entropy_rows_and_gradient(cp):
    rng = np.random.default_rng(3)
    z = (rng.standard_normal((40, 5)) * 20).astype(np.float32)
    y = rng.random((40, 5)).astype(np.float32)  # soft labels: rows need not sum to 1
    loss, log_p = cupy_kernels.softmax_ce_rows(cp.asarray(y), cp.asarray(z))
    host = _host_log_softmax(z)
    np.testing.assert_allclose(log_p.get(), host, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(loss.get(), -(y * host).sum(-1), rtol=1e-5, atol=1e-5)
    grad = cupy_kernels.softmax_ce_grad(cp.asarray(y), log_p).get()
    expected = np.exp(host) * y.sum(-1, keepdims=True) - y
    np.testing.assert_allclose(grad, expected, rtol=1e-5, atol=1e-5)


def _state(seed, n=1001):
    rng = np.random.default_rng(seed)
    g = rng.standard_normal(n).astype(np.float32)
    m = rng.standard_normal(n).astype(np.float32) * 0.1
    v = rng.random(n).astype(np.float32) * 0.01
    w = rng.standard_normal(n).astype(np.float32)
    return g, m, v, w


def test_adam_kernel_matches_host_float32_bit_for_bit(cp):
    g, m, v, w = _state(4)
    c1, c2, eps = 1.0 - 0.9, 1.0 - 0.999, 1e-7
    alpha = 1e-3 * (1 - 0.999**3) ** 0.5 / (1 - 0.9**3)  # a Python float, as Adam passes
    dm, dv, dw = cp.asarray(m), cp.asarray(v), cp.asarray(w)
    cupy_kernels.adam(cp.asarray(g), dm, dv, dw, c1, c2, alpha, eps)
    f = np.float32
    m = m + (g - m) * f(c1)
    v = v + (g * g - v) * f(c2)
    w = w - (m * f(alpha)) / (np.sqrt(v) + f(eps))
    for device, host in ((dm, m), (dv, v), (dw, w)):
        _same(device.get(), host)


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_kernel_matches_host_float32_bit_for_bit(cp, momentum, nesterov):
    g, m, _, w = _state(5)
    dm, dw = cp.asarray(m), cp.asarray(w)
    cupy_kernels.sgd(cp.asarray(g), dm, dw, -0.01, momentum, nesterov)
    f = np.float32
    step = g * f(-0.01)
    if momentum == 0:
        m, w = step, w + step
    else:
        m = step + m * f(momentum)
        w = w + (step + m * f(momentum)) if nesterov else w + m
    _same(dm.get(), m)
    _same(dw.get(), w)


def test_rmsprop_kernel_matches_host_float32_bit_for_bit(cp):
    g, _, v, w = _state(6)
    dv, dw = cp.asarray(v), cp.asarray(w)
    cupy_kernels.rmsprop(cp.asarray(g), dv, dw, 0.9, 1.0 - 0.9, 1e-3, 1e-7)
    f = np.float32
    v = v * f(0.9) + (g * g) * f(1.0 - 0.9)
    w = w - (g * f(1e-3)) / np.sqrt(v + f(1e-7))
    _same(dv.get(), v)
    _same(dw.get(), w)


def test_kernels_are_off_on_host_backends(backend):
    """NumPy and the strict stand-in never reach CuPy code."""
    from kerasette.backend import get_backend

    assert cupy_kernels.enabled(get_backend().xp) == (backend.name == "cupy")
