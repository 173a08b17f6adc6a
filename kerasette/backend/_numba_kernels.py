"""The numba loops behind `cpu_kernels` (imported only when numba is installed).

Every loop keeps NumPy's order of operations and rounds each one to the
arrays' dtype: the scalars arrive already in that dtype, and numba neither
widens float32 arithmetic nor fuses a multiply and an add (no `fastmath`).
`error_model="numpy"` lets a division by zero give inf as NumPy does instead
of raising, which is also what lets LLVM vectorize the loops. `nogil` lets
the flat update's chunks run on several threads, and `cache` keeps the
compiled code on disk between processes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = dict(nogil=True, cache=True, error_model="numpy", boundscheck=False)


@njit(**_JIT)
def adam(g, m, v, w, c1, c2, alpha, eps):  # pragma: no cover - compiled
    for i in range(g.shape[0]):
        gi = g[i]
        mi = m[i] + (gi - m[i]) * c1
        vi = v[i] + (gi * gi - v[i]) * c2
        m[i] = mi
        v[i] = vi
        w[i] = w[i] - (mi * alpha) / (np.sqrt(vi) + eps)


@njit(**_JIT)
def sgd(g, m, w, neg_lr, mu, nesterov):  # pragma: no cover - compiled
    zero = mu - mu
    for i in range(g.shape[0]):
        s = g[i] * neg_lr
        if mu == zero:
            m[i] = s
            w[i] = w[i] + s
        else:
            mi = s + m[i] * mu
            m[i] = mi
            if nesterov:
                w[i] = w[i] + (s + mi * mu)
            else:
                w[i] = w[i] + mi


@njit(**_JIT)
def rmsprop(g, velocity, w, rho, c, lr, eps):  # pragma: no cover - compiled
    for i in range(g.shape[0]):
        gi = g[i]
        vi = velocity[i] * rho + (gi * gi) * c
        velocity[i] = vi
        w[i] = w[i] - (gi * lr) / np.sqrt(vi + eps)
