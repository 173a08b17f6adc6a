"""The numba loops behind inference-heavy image ops (imported only when numba is installed).

`depthwise_forward`: a depthwise 2-D convolution (one filter per channel)
in one pass over the output, where the NumPy path
(`kerasette.ops.conv._depthwise_direct`) makes two passes per kernel tap.
`affine_channels`: `x * scale + shift` per channel (batch normalisation at
inference) in one pass instead of two.

Each performs the same float operations in the same order as the NumPy
code it replaces (taps in row-major order, `acc = x0 * w0`, then
`acc += xk * wk`; `x * scale`, then `+ shift`), without `fastmath`, so the
results are the same bits. Single-threaded (`nogil`): the BLAS thread
count is what `kerasette.backend.threads` chooses, and these loops do not
compete with it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = dict(nogil=True, cache=True, error_model="numpy", boundscheck=False)


@njit(**_JIT)
def depthwise_forward(x, w, out, sh, sw, dh, dw, top, left):  # pragma: no cover - compiled
    """`out[b, i, j, c] = sum_{p, q} xpad[b, i*sh + p*dh, j*sw + q*dw, c] * w[p, q, c]`.

    `xpad` is `x` `(n, H, W, C)` with `top` rows and `left` columns of zeros
    before it (and zeros after): a tap on the padding adds `0 * w`, as the
    padded copy would, without making that copy. `w` is `(kh, kw, C)`,
    `out` `(n, oh, ow, C)`, all C-contiguous.
    """
    n, oh, ow, c = out.shape
    h, wd = x.shape[1], x.shape[2]
    kh, kw = w.shape[0], w.shape[1]
    zero = np.zeros(1, dtype=x.dtype)[0]  # 0 in the arrays' dtype (float32 stays float32)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                o = out[b, i, j]
                for p in range(kh):
                    r = i * sh + p * dh - top
                    for q in range(kw):
                        s = j * sw + q * dw - left
                        wr = w[p, q]
                        inside = 0 <= r < h and 0 <= s < wd
                        if p == 0 and q == 0:
                            if inside:
                                xr = x[b, r, s]
                                for ch in range(c):
                                    o[ch] = xr[ch] * wr[ch]
                            else:
                                for ch in range(c):
                                    o[ch] = zero * wr[ch]
                        elif inside:
                            xr = x[b, r, s]
                            for ch in range(c):
                                o[ch] += xr[ch] * wr[ch]
                        else:
                            for ch in range(c):
                                o[ch] += zero * wr[ch]


@njit(**_JIT)
def affine_channels(x, scale, shift, out):  # pragma: no cover - compiled
    """`out = x * scale + shift` for `x` and `out` `(rows, C)`, `scale`, `shift` `(C,)`."""
    c = scale.shape[0]
    for r in range(x.shape[0]):
        for ch in range(c):
            out[r, ch] = x[r, ch] * scale[ch] + shift[ch]
