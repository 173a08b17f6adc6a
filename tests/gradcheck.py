"""Finite-difference gradient checks in float64, with one tolerance table."""

from __future__ import annotations

import numpy as np

import kerasette
from kerasette import ops

# (rtol, atol) per kind of function; one place to read and tune.
TOLERANCES = {
    "default": (1e-5, 1e-7),
    "kinked": (1e-4, 1e-6),  # piecewise functions: keep inputs off the kinks
    "approximate": (1e-4, 1e-6),  # forwards built on approximations (erf)
}


def numeric_gradients(f, inputs, eps=1e-6):
    """Central differences of the scalar `f(*tensors)` for each float64 input."""
    grads = []
    for i, x in enumerate(inputs):
        g = np.zeros_like(x)
        it = np.nditer(x, flags=["multi_index"])
        for _ in it:
            idx = it.multi_index
            plus = [a.copy() for a in inputs]
            minus = [a.copy() for a in inputs]
            plus[i][idx] += eps
            minus[i][idx] -= eps
            fp = float(_scalar(f, plus))
            fm = float(_scalar(f, minus))
            g[idx] = (fp - fm) / (2 * eps)
        grads.append(g)
    return grads


def _scalar(f, arrays):
    tensors = [ops.convert_to_tensor(a) for a in arrays]
    return f(*tensors)


def analytic_gradients(f, inputs):
    tensors = [ops.convert_to_tensor(a) for a in inputs]
    with kerasette.GradientTape() as tape:
        tape.watch(tensors)
        y = f(*tensors)
    grads = tape.gradient(y, tensors)
    return [None if g is None else g.numpy() for g in grads]


def check_gradients(f, inputs, kind="default", eps=1e-6, reseed=None):
    """Asserts that the tape's gradients of `f` match finite differences.

    Args:
        f: function of tensors returning a tensor; non-scalar outputs are
            projected on a fixed random direction so every output counts.
        inputs: list of float64 NumPy arrays.
        kind: a key of `TOLERANCES`.
        reseed: if given, the backend is re-seeded with it before every
            evaluation (for random ops such as dropout).
    """
    inputs = [np.asarray(x, dtype="float64") for x in inputs]
    probe = _call(f, inputs, reseed)
    direction = np.random.default_rng(0).standard_normal(probe.shape)
    weight = ops.convert_to_tensor(direction)

    def projected(*ts):
        if reseed is not None:
            kerasette.backend.set_seed(reseed)
        out = f(*ts)
        assert out.dtype == np.float64, f"float64 in, {out.dtype} out"
        return ops.sum(out * weight)

    expected = numeric_gradients(projected, inputs, eps)
    got = analytic_gradients(projected, inputs)
    rtol, atol = TOLERANCES[kind]
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g is not None, f"no gradient for input {i}"
        assert g.shape == e.shape, f"input {i}: gradient shape {g.shape}, expected {e.shape}"
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f"gradient of input {i}")


def _call(f, inputs, reseed):
    if reseed is not None:
        kerasette.backend.set_seed(reseed)
    return f(*[ops.convert_to_tensor(a) for a in inputs]).numpy()
