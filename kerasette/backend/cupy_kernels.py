"""Fused CuPy kernels: one GPU launch where the array code needs several.

On a GPU a small model's step is bound by launches, not arithmetic: every
CuPy call costs 10-30 µs of host time however little it computes. The
array functions of `kerasette.ops.nn` and the optimizers' `update_step`
ask `enabled(xp)` and, on CuPy, call one of these kernels instead of a
chain of ufuncs:

* `bias_activation`, `activation`, `activation_backward`: Dense's
  `act(x @ W + b)` after the product, and its derivative;
* `softmax_rows`, `sparse_ce_rows`/`sparse_ce_grad`,
  `softmax_ce_rows`/`softmax_ce_grad`: the softmax and the fused
  cross-entropies, one thread per row;
* `adam`, `sgd`, `rmsprop`: the optimizer updates, one pass over the flat
  buffers instead of eight to twelve.

Each kernel performs the same float operations in the same order as the
array code it replaces, and is compiled with `--fmad=false` so that NVRTC
does not contract `a * b + c` into one rounding. The elementwise ones thus
give the bit-identical results the ufunc chain gives; the row kernels sum a
row in order rather than pairwise, which can move the last bit.

Kernels are compiled on first use (and cached on disk by CuPy), so importing
this module costs nothing and needs no GPU.
"""

from __future__ import annotations

_OPTIONS = ("--fmad=false",)
_EXP_LIMIT = 88.0  # as kerasette.ops.nn: exp(88) is still finite in float32
_kernels: dict = {}


def enabled(xp) -> bool:
    """Whether `xp` is CuPy, where these kernels replace the array code."""
    return getattr(xp, "__name__", "") == "cupy"


def _elementwise(name, in_params, out_params, body):
    kernel = _kernels.get(name)
    if kernel is None:
        import cupy

        kernel = cupy.ElementwiseKernel(in_params, out_params, body, name=f"kerasette_{name}",
                                        options=_OPTIONS)
        _kernels[name] = kernel
    return kernel


# -- activations ----------------------------------------------------------------------
# `y` from `x`, each as the array code computes it: relu keeps NaN as
# `maximum` does; sigmoid is `1 / (1 + exp(-max(x, -88)))`.
_FORWARD = {
    "relu": "y = (x > (T)0 || isnan(x)) ? x : (T)0;",
    "sigmoid": f"y = (T)1 / (exp(-(isnan(x) ? x : max(x, (T)(-{_EXP_LIMIT})))) + (T)1);",
    "tanh": "y = tanh(x);",
}
# d(activation)/dz times g, from the activation's output a.
_BACKWARD = {
    "relu": "d = g * (T)(a > (T)0);",
    "sigmoid": "d = g * a * ((T)1 - a);",
    "tanh": "d = g * ((T)1 - a * a);",
}

FUSED = tuple(_FORWARD)


def activation(name, z, out=None):
    """`name(z)` into `out` (which may be `z` itself), or a new array."""
    kernel = _elementwise(f"{name}_forward", "T x", "T y", _FORWARD[name])
    return kernel(z) if out is None else kernel(z, out)


def bias_activation(name, z, bias):
    """`z = name(z + bias)` in place, `bias` broadcast along the last axis."""
    body = "const T x = y + b; " + _FORWARD[name]
    return _elementwise(f"bias_{name}", "T b", "T y", body)(bias, z)


def activation_backward(name, g, a):
    """A new array `g * name'(z)`, from the activation's output `a`."""
    kernel = _elementwise(f"{name}_backward", "T g, T a", "T d", _BACKWARD[name])
    return kernel(g, a)


# -- softmax and cross-entropies (2-D, C-contiguous, one thread per row) --------------------
_ROW_MAX = """
    const ptrdiff_t base = (ptrdiff_t)i * C;
    T mx = z[base];
    for (int j = 1; j < C; ++j) {
        const T v = z[base + j];
        if (v > mx || isnan(v)) mx = v;
    }
"""


def softmax_rows(z):
    """A new array: the softmax of each row of `z` (shape `(n, C)`)."""
    import cupy

    n, c = z.shape
    body = _ROW_MAX + """
        T s = 0;
        for (int j = 0; j < C; ++j) { const T e = exp(z[base + j] - mx); p[base + j] = e; s += e; }
        for (int j = 0; j < C; ++j) p[base + j] = p[base + j] / s;
    """
    kernel = _elementwise("softmax_rows", "raw T z, int32 C", "raw T p", body)
    out = cupy.empty_like(z)
    kernel(z, c, out, size=n)
    return out


def sparse_ce_rows(z, idx):
    """Per-row cross-entropy of class ids `idx` against logits `z`.

    Returns `(loss, shifted, lse)` as `kerasette.ops.nn._sparse_ce_arrays`:
    `shifted = z - max(z)` per row, `lse = log(sum(exp(shifted)))` and
    `loss = lse - shifted[idx]`. An id outside `[0, C)` gives a NaN loss.
    """
    import cupy

    n, c = z.shape
    body = _ROW_MAX + """
        T s = 0;
        for (int j = 0; j < C; ++j) { const T d = z[base + j] - mx; shifted[base + j] = d; s += exp(d); }
        lse = log(s);
        const long long k = (long long)idx[i];
        const T nan_value = (T)__longlong_as_double(0x7ff8000000000000LL);
        loss = (k >= 0 && k < C) ? lse - shifted[base + k] : nan_value;
    """
    kernel = _elementwise("sparse_ce_rows", "raw T z, raw I idx, int32 C",
                          "raw T shifted, T loss, T lse", body)
    shifted = cupy.empty_like(z)
    loss = cupy.empty(n, dtype=z.dtype)
    lse = cupy.empty(n, dtype=z.dtype)
    kernel(z, idx, c, shifted, loss, lse)
    return loss, shifted, lse


def sparse_ce_grad(shifted, lse, idx):
    """A new array `softmax - one_hot(idx)` from `sparse_ce_rows`'s outputs."""
    c = shifted.shape[-1]
    body = """
        const ptrdiff_t r = i / C;
        p = exp(s - lse[r]);
        if ((long long)(i - r * C) == (long long)idx[r]) p = p - (T)1;
    """
    kernel = _elementwise("sparse_ce_grad", "T s, raw T lse, raw I idx, int32 C", "T p", body)
    return kernel(shifted, lse, idx, c)


def softmax_ce_rows(y, z):
    """Per-row `-sum(y * log_softmax(z))` and the `log_softmax` it used."""
    import cupy

    n, c = z.shape
    body = _ROW_MAX + """
        T s = 0;
        for (int j = 0; j < C; ++j) s += exp(z[base + j] - mx);
        const T l = log(s);
        T acc = 0;
        for (int j = 0; j < C; ++j) {
            const T lp = (z[base + j] - mx) - l;
            log_p[base + j] = lp;
            acc += y[base + j] * lp;
        }
        loss = -acc;
    """
    kernel = _elementwise("softmax_ce_rows", "raw T z, raw T y, int32 C", "raw T log_p, T loss",
                          body)
    log_p = cupy.empty_like(z)
    loss = cupy.empty(n, dtype=z.dtype)
    kernel(z, y, c, log_p, loss)
    return loss, log_p


def softmax_ce_grad(y, log_p):
    """A new array `softmax * sum(y) - y` per row, from `softmax_ce_rows`."""
    import cupy

    n, c = log_p.shape
    body = """
        const ptrdiff_t base = (ptrdiff_t)i * C;
        T ys = 0;
        for (int j = 0; j < C; ++j) ys += y[base + j];
        for (int j = 0; j < C; ++j) g[base + j] = exp(log_p[base + j]) * ys - y[base + j];
    """
    kernel = _elementwise("softmax_ce_grad", "raw T log_p, raw T y, int32 C", "raw T g", body)
    out = cupy.empty_like(log_p)
    kernel(log_p, y, c, out, size=n)
    return out


# -- optimizer updates (in place, on flat buffers or single variables) ----------------------
def adam(g, m, v, w, one_minus_beta_1, one_minus_beta_2, alpha, epsilon):
    """Adam without amsgrad, as `Adam.update_step`'s twelve passes."""
    body = """
        m = m + (g - m) * c1;
        v = v + (g * g - v) * c2;
        w = w - (m * alpha) / (sqrt(v) + eps);
    """
    kernel = _elementwise("adam", "T g, T c1, T c2, T alpha, T eps", "T m, T v, T w", body)
    kernel(g, one_minus_beta_1, one_minus_beta_2, alpha, epsilon, m, v, w)


def sgd(g, m, w, neg_lr, momentum, nesterov):
    """SGD with optional (Nesterov) momentum, as `SGD.update_step`."""
    body = """
        const T s = g * neg_lr;
        if (mu == (T)0) {
            m = s;
            w = w + m;
        } else {
            m = s + m * mu;
            w = nesterov ? w + (s + m * mu) : w + m;
        }
    """
    kernel = _elementwise("sgd", "T g, T neg_lr, T mu, bool nesterov", "T m, T w", body)
    kernel(g, neg_lr, momentum, bool(nesterov), m, w)


def rmsprop(g, velocity, w, rho, one_minus_rho, lr, epsilon):
    """Plain RMSprop (not centered, no momentum), as `RMSprop.update_step`."""
    body = """
        velocity = velocity * rho + (g * g) * c;
        w = w - (g * lr) / sqrt(velocity + eps);
    """
    kernel = _elementwise("rmsprop", "T g, T rho, T c, T lr, T eps", "T velocity, T w", body)
    kernel(g, rho, one_minus_rho, lr, epsilon, velocity, w)


# -- recurrent steps (kerasette.ops.rnn): the numba loops of backend/_numba_rnn.py -----------------
# Each thread is one (batch row, unit) of a step; `g` and the gradients are
# (B, n * U) blocks addressed raw, row r's gate k at r * n * U + k * U + j.
# The constants are named k_* because CUDA's fp16 header defines `half`.
_RNN_INDEX = "const ptrdiff_t r = i / U, j = i - r * U;\n"


class _RnnSteps:
    """The per-step gate arithmetic of `kerasette.ops.rnn` in one launch each, with
    the same signatures (and the same float operations) as `_numba_rnn`."""

    @staticmethod
    def lstm_forward(g, c_prev, c_new, half):
        body = _RNN_INDEX + """
            const ptrdiff_t base = r * 4 * U + j;
            const T ig = g[base] * k_half + k_half;
            const T fg = g[base + U] * k_half + k_half;
            g[base] = ig;
            g[base + U] = fg;
            g[base + 2 * U] = g[base + 2 * U] * k_half + k_half;
            c_new = fg * c_prev + ig * g[base + 3 * U];
        """
        kernel = _elementwise("lstm_step_forward", "T c_prev, T k_half, int32 U",
                              "raw T g, T c_new", body)
        kernel(c_prev, half, c_prev.shape[1], g, c_new)

    @staticmethod
    def lstm_backward(dh, dc, g, tc, c_prev, d, one):
        body = _RNN_INDEX + """
            const ptrdiff_t base = r * 4 * U + j;
            const T ig = g[base], fg = g[base + U], og = g[base + 2 * U], gg = g[base + 3 * U];
            const T dct = dh * og * (k_one - tc * tc) + dc;
            d[base] = dct * gg * ((k_one - ig) * ig);
            d[base + U] = dct * c_prev * ((k_one - fg) * fg);
            d[base + 2 * U] = dh * tc * ((k_one - og) * og);
            d[base + 3 * U] = dct * ig * (k_one - gg * gg);
            dc = dct * fg;
        """
        kernel = _elementwise("lstm_step_backward",
                              "T dh, T tc, T c_prev, raw T g, T k_one, int32 U", "T dc, raw T d",
                              body)
        kernel(dh, tc, c_prev, g, one, dh.shape[1], dc, d)

    @staticmethod
    def gru_backward(dh, g, h_prev, rec_h, d, di, one):
        body = _RNN_INDEX + """
            const ptrdiff_t base = r * 3 * U + j;
            const T z = g[base], rr = g[base + U], hh = g[base + 2 * U];
            const T dz = (h_prev - hh) * dh * ((k_one - z) * z);
            const T dah = (k_one - z) * dh * (k_one - hh * hh);
            const T dr = dah * rec_h * ((k_one - rr) * rr);
            d[base] = dz;
            d[base + U] = dr;
            d[base + 2 * U] = dah;
            di[base] = dz;
            di[base + U] = dr;
            di[base + 2 * U] = dah * rr;
        """
        kernel = _elementwise("gru_step_backward",
                              "T dh, T h_prev, T rec_h, raw T g, T k_one, int32 U",
                              "raw T d, raw T di", body)
        kernel(dh, h_prev, rec_h, g, one, dh.shape[1], d, di)


rnn_steps = _RnnSteps()
