"""The numba loops behind inference-heavy image ops (imported only when numba is installed).

`depthwise_forward`: a depthwise 2-D convolution (one filter per channel)
in one pass over the output, where the NumPy path
(`kerasette.ops.conv._depthwise_direct`) makes two passes per kernel tap.
`affine_channels_`: `z * scale + shift` per channel, in place, and
optionally ReLU6's clip (batch normalisation and ReLU at inference on a
convolution's own output, `kerasette.models.inference_fusion`) in one pass
instead of three.

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
def _tap_row(orow, xrow, wr, ow, sw, offset, width, zero, first):  # pragma: no cover
    """Adds one kernel tap to an output row: `orow[j] (+)= xrow[j*sw + offset] * wr`,
    `zero * wr` where that column is padding; `first` assigns instead of adding."""
    c = wr.shape[0]
    # The output columns whose input column lies inside the image: [lo, hi).
    lo = 0 if offset >= 0 else min(ow, (-offset + sw - 1) // sw)
    hi = max(lo, min(ow, (width - 1 - offset) // sw + 1)) if width - 1 - offset >= 0 else lo
    for j in range(ow):
        if lo <= j < hi:
            s = j * sw + offset
            if first:
                for ch in range(c):
                    orow[j, ch] = xrow[s, ch] * wr[ch]
            else:
                for ch in range(c):
                    orow[j, ch] += xrow[s, ch] * wr[ch]
        elif first:
            for ch in range(c):
                orow[j, ch] = zero * wr[ch]
        else:
            for ch in range(c):
                orow[j, ch] += zero * wr[ch]


@njit(**_JIT)
def depthwise_forward(x, w, out, sh, sw, dh, dw, top, left):  # pragma: no cover - compiled
    """`out[b, i, j, c] = sum_{p, q} xpad[b, i*sh + p*dh, j*sw + q*dw, c] * w[p, q, c]`.

    `xpad` is `x` `(n, H, W, C)` with `top` rows and `left` columns of zeros
    before it (and zeros after): a tap on the padding adds `0 * w`, as the
    padded copy would, without making that copy. `w` is `(kh, kw, C)`,
    `out` `(n, oh, ow, C)`, all C-contiguous. One output row at a time, tap
    after tap (in row-major order), so the row stays in the cache.
    """
    n, oh, ow, c = out.shape
    h, width = x.shape[1], x.shape[2]
    kh, kw = w.shape[0], w.shape[1]
    zero = np.zeros(1, dtype=x.dtype)[0]  # 0 in the arrays' dtype (float32 stays float32)
    blank = np.zeros((width, c), dtype=x.dtype)  # a row of padding
    for b in range(n):
        for i in range(oh):
            orow = out[b, i]
            for p in range(kh):
                r = i * sh + p * dh - top
                inside = 0 <= r < h
                xrow = x[b, r] if inside else blank
                for q in range(kw):
                    first = p == 0 and q == 0
                    if inside:
                        _tap_row(orow, xrow, w[p, q], ow, sw, q * dw - left, width, zero,
                                 first)
                    else:  # every column is padding
                        _tap_row(orow, xrow, w[p, q], ow, sw, q * dw - left, 0, zero, first)


@njit(**_JIT)
def affine_channels_(z, scale, shift, low, high, clip):  # pragma: no cover - compiled
    """`z = z * scale + shift` in place, for `z` `(rows, C)` and `scale`,
    `shift` `(C,)`; then, with `clip`, `np.clip(z, low, high)` in the same
    pass (NaN stays NaN; -0.0 becomes `low` when that is 0.0, as NumPy's
    clip gives).

    In place on purpose: with one array, LLVM vectorises the loop (with a
    separate output it cannot rule out aliasing, and runs 3x slower than
    NumPy's two passes).
    """
    c = scale.shape[0]
    for r in range(z.shape[0]):
        for ch in range(c):
            v = z[r, ch] * scale[ch] + shift[ch]
            if clip and v == v:
                v = v if v > low else low
                v = v if v < high else high
            z[r, ch] = v
