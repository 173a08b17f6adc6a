"""One-pass optimizer updates on the CPU, compiled with numba when it is installed.

An optimizer update is memory-bound: Adam's NumPy form makes twelve passes
over buffers as large as the model, reading and writing scratch arrays in
between. For the MNIST MLP (468,874 parameters) that is about 0.65 ms of a
1.4 ms training step at batch 32. Compiled as one loop it reads each input
once and writes each output once, about five times faster.

numba is an optional extra (`pip install "kerasette[numba]"`), never a
requirement. When it is installed, the optimizers' `update_step` asks
`enabled(xp, arrays)` and calls `adam`, `sgd` or `rmsprop` here instead of
the ufunc chain; otherwise, and for buffers under `MIN_SIZE` elements,
nothing changes. numba is imported on the first update that qualifies (so
`import kerasette` does not pay for it) and each kernel is compiled once per
dtype, then cached on disk by numba.

Each kernel performs the same float operations, in the same order and the
same dtype, as the NumPy code it replaces, and numba does not contract
`a * b + c` into a fused multiply-add unless asked (`fastmath`), so the
results are the same bits (tests/test_cpu_kernels.py checks this).

Set `KERASETTE_CPU_KERNELS=0` to keep the NumPy updates with numba
installed (the benchmarks do, to show what the kernels save).

Example:
    >>> import numpy as np
    >>> from kerasette.backend import cpu_kernels
    >>> cpu_kernels.enabled(np, [np.zeros(10, "float32")])  # too small to pay
    False
"""

from __future__ import annotations

import os

import numpy as np

# Below this many elements the NumPy passes are a small part of a step, not
# worth numba's import (about 0.2 s), first compile (0.5 s) and 70-90 MB of
# runtime: Iris-sized models never load it.
MIN_SIZE = 1 << 15

_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_module = None  # kerasette.backend._numba_kernels once imported
_unavailable = None  # why the kernels are off, once known


def unavailable_reason() -> str | None:
    """None when the kernels are in use, else why not (for reports)."""
    _load()
    return _unavailable


def _load():
    global _module, _unavailable
    if _module is not None or _unavailable is not None:
        return _module
    if os.environ.get("KERASETTE_CPU_KERNELS", "").strip() == "0":
        _unavailable = "switched off with KERASETTE_CPU_KERNELS=0"
        return None
    try:
        from kerasette.backend import _numba_kernels
    except Exception as err:  # noqa: BLE001 - numba missing, built for another
        # NumPy, or unable to set up its cache: the NumPy update still works.
        _unavailable = f"numba not usable: {type(err).__name__}: {err}"
        return None
    _module = _numba_kernels
    return _module


def enabled(xp, arrays) -> bool:
    """Whether one compiled pass can update `arrays` (the gradient, the
    variable and its slots): NumPy arrays of one float dtype, C-contiguous,
    at least `MIN_SIZE` elements, and numba usable."""
    if xp is not np:
        return False
    first = arrays[0]
    if first.size < MIN_SIZE or first.dtype not in _DTYPES:
        return False
    for a in arrays:
        if type(a) is not np.ndarray or a.dtype != first.dtype or not a.flags.c_contiguous:
            return False
    return _load() is not None


def _flat(a):
    return a.reshape(-1)  # a view: every array here is C-contiguous


def adam(g, m, v, w, one_minus_beta_1, one_minus_beta_2, alpha, epsilon):
    """Adam without amsgrad, in place: `Adam.update_step`'s twelve passes in one.

    Args:
        g: the gradient.
        m, v: the first and second moment slots (updated).
        w: the variable's array (updated).
        one_minus_beta_1, one_minus_beta_2, alpha, epsilon: Python floats,
            rounded to the arrays' dtype as NumPy rounds them.
    """
    t = w.dtype.type
    _module.adam(_flat(g), _flat(m), _flat(v), _flat(w), t(one_minus_beta_1),
                 t(one_minus_beta_2), t(alpha), t(epsilon))


def sgd(g, m, w, neg_lr, momentum, nesterov):
    """SGD with optional (Nesterov) momentum, in place, as `SGD.update_step`."""
    t = w.dtype.type
    _module.sgd(_flat(g), _flat(m), _flat(w), t(neg_lr), t(momentum), bool(nesterov))


def rmsprop(g, velocity, w, rho, one_minus_rho, lr, epsilon):
    """Plain RMSprop (not centered, no momentum), in place, as `RMSprop.update_step`."""
    t = w.dtype.type
    _module.rmsprop(_flat(g), _flat(velocity), _flat(w), t(rho), t(one_minus_rho), t(lr),
                    t(epsilon))


# -- recurrent steps (kerasette.ops.rnn) ---------------------------------------------------------
_rnn_module = None  # kerasette.backend._numba_rnn once imported


def rnn_enabled(xp, x) -> bool:
    """Whether the compiled LSTM/GRU step loops apply to the input `x` (B, T, F):
    NumPy, float32 or float64, numba usable, and a sequence big enough
    (batch * timesteps at least `MIN_SIZE / 64`) to pay for loading numba."""
    if xp is not np or type(x) is not np.ndarray or x.dtype not in _DTYPES:
        return False
    if x.shape[0] * x.shape[1] * 64 < MIN_SIZE:
        return False
    return rnn_module() is not None


def rnn_module():
    """`kerasette.backend._numba_rnn`, or None where numba is not usable."""
    global _rnn_module
    if _rnn_module is None and _load() is not None:
        try:
            from kerasette.backend import _numba_rnn
        except Exception:  # noqa: BLE001 - as in _load: the ufunc steps still work
            _rnn_module = False
        else:
            _rnn_module = _numba_rnn
    return _rnn_module or None
