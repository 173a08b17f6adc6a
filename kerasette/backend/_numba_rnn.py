"""The numba loops behind `kerasette.ops.rnn`'s steps (imported only when numba is installed).

One recurrent step is a matrix product and then a dozen elementwise passes
over `(batch, units)` blocks; each pass is a separate ufunc call with its
own overhead and its own trip through the cache. These loops do the
passes that need no transcendental function in one go (the `tanh` calls
stay NumPy's, which are vectorised). Each performs the same float
operations in the same order as the ufunc chain in `kerasette/ops/rnn.py`
it replaces, without `fastmath`, so the results are the same bits.

The arrays are `(batch, n * units)` views whose rows are contiguous; the
constants (`half`, `one`) arrive in the arrays' dtype, so float32 stays
float32 (a Python float would make numba compute in float64).
"""

from __future__ import annotations

from numba import njit

_JIT = dict(nogil=True, cache=True, error_model="numpy", boundscheck=False)


@njit(**_JIT)
def lstm_forward(g, c_prev, c_new, half):  # pragma: no cover - compiled
    """Gates `g` = tanh(pre) in order i, f, o, c, with the sigmoid gates' inputs halved:
    finishes the sigmoids in place and writes `c_new = f * c_prev + i * c~`."""
    u = c_prev.shape[1]
    for r in range(g.shape[0]):
        for j in range(u):
            i = g[r, j] * half + half
            f = g[r, u + j] * half + half
            g[r, j] = i
            g[r, u + j] = f
            g[r, 2 * u + j] = g[r, 2 * u + j] * half + half
            c_new[r, j] = f * c_prev[r, j] + i * g[r, 3 * u + j]


@njit(**_JIT)
def lstm_backward(dh, dc, g, tc, c_prev, d, one):  # pragma: no cover - compiled
    """One LSTM step back (sigmoid gates, tanh): `d` gets the pre-activations'
    gradients (i, f, o, c order); `dc` turns from dc_new into dc_prev."""
    u = dh.shape[1]
    for r in range(dh.shape[0]):
        for j in range(u):
            i = g[r, j]
            f = g[r, u + j]
            o = g[r, 2 * u + j]
            gg = g[r, 3 * u + j]
            t = tc[r, j]
            dhv = dh[r, j]
            dct = dhv * o * (one - t * t) + dc[r, j]
            d[r, j] = dct * gg * ((one - i) * i)
            d[r, u + j] = dct * c_prev[r, j] * ((one - f) * f)
            d[r, 2 * u + j] = dhv * t * ((one - o) * o)
            d[r, 3 * u + j] = dct * i * (one - gg * gg)
            dc[r, j] = dct * f


@njit(**_JIT)
def gru_backward(dh, g, h_prev, rec_h, d, di, one):  # pragma: no cover - compiled
    """One reset-after GRU step back (sigmoid gates, tanh): `d` gets the gradients
    of `x W + b_in` (z, r, h order) and `di` those of `h U + b_rec`."""
    u = dh.shape[1]
    for r in range(dh.shape[0]):
        for j in range(u):
            z = g[r, j]
            rr = g[r, u + j]
            hh = g[r, 2 * u + j]
            dhv = dh[r, j]
            dz = (h_prev[r, j] - hh) * dhv * ((one - z) * z)
            dah = (one - z) * dhv * (one - hh * hh)
            dr = dah * rec_h[r, j] * ((one - rr) * rr)
            d[r, j] = dz
            d[r, u + j] = dr
            d[r, 2 * u + j] = dah
            di[r, j] = dz
            di[r, u + j] = dr
            di[r, 2 * u + j] = dah * rr
