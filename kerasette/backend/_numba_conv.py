"""The numba loops behind image ops (imported only when numba is installed).

`col2im2d`, `max_pool2d_forward` / `max_pool2d_backward`, `bias_relu_`
and `relu_bias_grad`: a 2-D convolution's patch-gradient scatter, max
pooling, and the bias + ReLU passes of a convolution's forward and
backward, each one pass where NumPy makes several (measured on
examples/mnist_cnn.py's network: a training step 42 -> 34 ms on one
thread; `ops/conv.py`, `ops/conv_geometry.py`, `ops/pooling.py`).
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


@njit(**_JIT)
def col2im2d(cols, grad, sh, sw, dh, dw):  # pragma: no cover - compiled
    """`grad[b, i*sh + p*dh, j*sw + q*dw] += cols[b, i, j, p, q]`, from zeros,
    tap after tap in row-major order: `conv_geometry._col2im`'s offset loop,
    so each pixel takes its taps in the same order (the same bits), but one
    image at a time, so that the image's gradient stays in the cache for
    all the taps. `cols` is `(n, oh, ow, kh, kw, C)` and `grad`
    `(n, H, W, C)`, both C-contiguous.
    """
    n, oh, ow, kh, kw, c = cols.shape
    zero = np.zeros(1, dtype=grad.dtype)[0]
    for b in range(n):
        gb = grad[b]
        for r in range(gb.shape[0]):
            for s in range(gb.shape[1]):
                for ch in range(c):
                    gb[r, s, ch] = zero
        cb = cols[b]
        for p in range(kh):
            for q in range(kw):
                for i in range(oh):
                    r = i * sh + p * dh
                    for j in range(ow):
                        s = j * sw + q * dw
                        for ch in range(c):
                            gb[r, s, ch] += cb[i, j, p, q, ch]


@njit(**_JIT)
def max_pool2d_forward(x, out, winner, ph, pw, sh, sw):  # pragma: no cover - compiled
    """Max over `(ph, pw)` windows with strides `(sh, sw)` of the (padded) `x`
    `(n, H, W, C)` into `out` `(n, oh, ow, C)`, and which tap won into
    `winner` (the first maximum: a later tap wins only when strictly
    larger). NumPy's `maximum` semantics, NaN and signed zeros included: the
    running maximum keeps itself only when it is NaN or larger (of equal
    values, `maximum(a, b)` gives `b`), so the values and winners
    are those of `pooling._max_pool_kernel`'s NumPy loop.

    One output row at a time, tap after tap over the whole row: each pass
    runs along `ow * C` values with plain index arithmetic, which LLVM
    vectorises (window by window, with a few channels per window, the same
    work took 4-6x longer).
    """
    n, oh, ow, c = out.shape
    for b in range(n):
        for i in range(oh):
            r0 = i * sh
            for j in range(ow):
                for ch in range(c):
                    out[b, i, j, ch] = x[b, r0, j * sw, ch]
                    winner[b, i, j, ch] = 0
            k = 0
            for p in range(ph):
                for q in range(pw):
                    if k > 0:
                        for j in range(ow):
                            col = j * sw + q
                            for ch in range(c):  # selects, not branches: vectorised
                                v = x[b, r0 + p, col, ch]
                                o = out[b, i, j, ch]
                                winner[b, i, j, ch] = k if v > o else winner[b, i, j, ch]
                                out[b, i, j, ch] = o if (o > v or o != o) else v
                    k += 1


@njit(**_JIT)
def max_pool2d_backward(g, winner, grad, ph, pw, sh, sw):  # pragma: no cover - compiled
    """The max-pool gradient for windows that do not overlap (`sh >= ph`,
    `sw >= pw`): `grad` `(n, H, W, C)` (zeros where no window reads) gets
    `0 + g * (winner == k)` at tap `k` of each window, as the NumPy loop
    adds it (NaN and -0.0 included), in one pass (row by row, tap by tap,
    as the forward)."""
    n, oh, ow, c = g.shape
    zero = np.zeros(1, dtype=grad.dtype)[0]
    one = np.ones(1, dtype=grad.dtype)[0]
    for b in range(n):
        for i in range(oh):
            k = 0
            for p in range(ph):
                r = i * sh + p
                for q in range(pw):
                    for j in range(ow):
                        col = j * sw + q
                        for ch in range(c):
                            grad[b, r, col, ch] = zero + g[b, i, j, ch] * (
                                one if winner[b, i, j, ch] == k else zero)
                    k += 1


@njit(**_JIT)
def bias_relu_(z, bias, relu):  # pragma: no cover - compiled
    """`z += bias`, then, with `relu`, `np.maximum(z, 0, out=z)`, in place and
    in one pass, for `z` `(rows, C)` and `bias` `(C,)`. NumPy's `maximum`
    keeps NaN and gives its second operand of two equal ones (so -0.0
    becomes 0.0), and so does this loop: the same bits."""
    c = bias.shape[0]
    zero = np.zeros(1, dtype=z.dtype)[0]
    for r in range(z.shape[0]):
        for ch in range(c):
            v = z[r, ch] + bias[ch]
            if relu and not (v > zero or v != v):
                v = zero
            z[r, ch] = v


@njit(**_JIT)
def relu_bias_grad(g, a, dz, db):  # pragma: no cover - compiled
    """`dz = g * (a > 0)` and `db = dz.sum(axis=0)` in one pass, for `(rows,
    C)` arrays with `C >= 2`: NumPy's product by the mask (so `-x * 0` is
    -0.0 and `inf * 0` NaN) and its column sum, which for two or more
    columns adds the rows in order starting from the first (a single column
    is summed pairwise: not this loop's case), so the same bits (where both
    give NaN, its sign bit may differ: which NaN an add keeps is the CPU's
    choice)."""
    rows, c = g.shape
    zero = np.zeros(1, dtype=g.dtype)[0]
    one = np.ones(1, dtype=g.dtype)[0]
    for ch in range(c):
        v = g[0, ch] * (one if a[0, ch] > zero else zero)
        dz[0, ch] = v
        db[ch] = v
    for r in range(1, rows):
        for ch in range(c):
            v = g[r, ch] * (one if a[r, ch] > zero else zero)
            dz[r, ch] = v
            db[ch] += v
