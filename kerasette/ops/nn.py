"""Activation functions as differentiable ops, and the fused ops layers use.

Activations whose derivative is a function of their output (relu, sigmoid,
tanh, softmax, linear) keep only the output for the backward pass; the
fused `dense` op applies them in place on the product it just made, which
saves one array per layer and one pass over it.
"""

from __future__ import annotations

import math

import numpy as np

from kerasette import backend as _backend
from kerasette.autodiff.tensor import Tensor
from kerasette.backend import conv_kernels, cupy_kernels
from kerasette.ops import normal_cdf
from kerasette.ops.core import _tensor, record, unbroadcast, xp, xp_of

# Constants of SELU (Klambauer et al., 2017), as in Keras.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

# Below this, exp(-x) overflows float32; sigmoid(x) < 1e-38 there anyway.
_EXP_LIMIT = 88.0


def _sigmoid_array(z):
    m = xp_of(z)
    if cupy_kernels.enabled(m):
        return cupy_kernels.activation("sigmoid", z)
    e = m.exp(-m.maximum(z, -_EXP_LIMIT))
    if e.ndim == 0:  # NumPy returns a scalar here, with no buffer to reuse
        return 1.0 / (1.0 + e)
    e += 1.0
    return m.reciprocal(e, out=e)


# -- activations --------------------------------------------------------------------
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit with tf.keras 2's options.

    `f(x) = x` for `threshold < x < max_value`, `max_value` above it, and
    `alpha * (x - threshold)` below the threshold.

    Args:
        x: input tensor.
        alpha: slope below the threshold.
        max_value: saturation value, or `None`.
        threshold: the value below which the unit is off (or leaks).
    """
    x = _tensor(x, "relu")
    xd = x.data
    m = xp()
    if alpha == 0.0 and max_value is None and threshold == 0.0:
        return _unary("relu", x, _relu_forward, _relu_backward)
    if alpha == 0.0 and threshold == 0.0:
        # ReLU6 (MobileNet's): one pass of `clip` (NumPy 2's is vectorised)
        # instead of the general form's three temporaries.
        out = m.clip(xd, 0.0, float(max_value))
        return record(out, (x,), lambda g, needs: (g * ((xd > 0) & (xd < max_value)),))
    on = xd > threshold
    out = m.where(on, xd, 0.0)
    if max_value is not None:
        out = m.clip(out, 0.0, float(max_value))
    if alpha != 0.0:
        out = out - alpha * m.maximum(threshold - xd, 0.0)

    def backward(g, needs):
        slope = on.astype(xd.dtype)
        if max_value is not None:
            slope *= (xd < max_value) & (xd > 0)
        if alpha != 0.0:
            slope += alpha * (xd < threshold)
        return (g * slope,)

    return record(out, (x,), backward)


def relu6(x):
    """`min(max(x, 0), 6)`."""
    return relu(x, max_value=6.0)


def leaky_relu(x, negative_slope=0.2, alpha=None):
    """`x` for `x >= 0`, `negative_slope * x` below (Keras 3's name; `alpha` also accepted)."""
    slope = float(negative_slope if alpha is None else alpha)
    return _unary("leaky_relu", x, _leaky_relu_forward, _leaky_relu_backward, slope)


def sigmoid(x):
    """Logistic function `1 / (1 + exp(-x))`."""
    x = _tensor(x, "sigmoid")
    y = _unary("sigmoid", x, _sigmoid_forward, _sigmoid_backward)
    y._keras_logits = x
    return y


def tanh(x):
    """Hyperbolic tangent."""
    return _unary("tanh", x, _tanh_forward, _tanh_backward)


def _softmax_array(z, axis):
    if _rows_kernel_fits(z) and axis in (-1, 1):
        return cupy_kernels.softmax_rows(z)
    # Array methods rather than xp.max/xp.sum: the same reductions without
    # NumPy's Python-level dispatch, which dominates for single rows.
    e = z - z.max(axis=axis, keepdims=True)
    xp_of(e).exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def _softmax_backward(g, out, axis):
    return out * (g - xp().sum(g * out, axis=axis, keepdims=True))


def softmax(x, axis=-1):
    """Softmax along `axis`, computed stably (the row maximum is subtracted)."""
    x = _tensor(x, "softmax")
    out = _softmax_array(x.data, axis)
    y = record(out, (x,), lambda g, needs: (_softmax_backward(g, out, axis),))
    if axis in (-1, x.ndim - 1):
        y._keras_logits = x
    return y


def log_softmax(x, axis=-1):
    """`log(softmax(x))`, computed without forming the softmax."""
    x = _tensor(x, "log_softmax")
    m = xp()
    shifted = x.data - m.max(x.data, axis=axis, keepdims=True)
    out = shifted - m.log(m.sum(m.exp(shifted), axis=axis, keepdims=True))
    return record(out, (x,),
                  lambda g, needs: (g - m.exp(out) * m.sum(g, axis=axis, keepdims=True),))


def linear(x):
    """The identity."""
    return _tensor(x, "linear")


def exponential(x):
    """`exp(x)`."""
    from kerasette.ops.core import exp

    return exp(x)


def elu(x, alpha=1.0):
    """`x` for `x > 0`, `alpha * (exp(x) - 1)` below."""
    return _unary("elu", x, _elu_forward, _elu_backward, alpha)


def selu(x):
    """Scaled ELU with the self-normalising constants."""
    return _unary("selu", x, _selu_forward, _selu_backward)


def softplus(x):
    """`log(1 + exp(x))`, computed without overflow."""
    return _unary("softplus", x, _softplus_forward, _softplus_backward)


def softsign(x):
    """`x / (1 + |x|)`."""
    return _unary("softsign", x, _softsign_forward, _softsign_backward)


def silu(x):
    """`x * sigmoid(x)` (also called swish)."""
    return _unary("silu", x, _silu_forward, _silu_backward)


swish = silu


def hard_sigmoid(x):
    """tf.keras 2's piecewise-linear sigmoid: `clip(0.2 * x + 0.5, 0, 1)`."""
    return _unary("hard_sigmoid", x, _hard_sigmoid_forward, _hard_sigmoid_backward)


def mish(x):
    """`x * tanh(softplus(x))` (Misra, 2019)."""
    return _unary("mish", x, _mish_forward, _mish_backward)


def gelu(x, approximate=False):
    """Gaussian error linear unit (exact by default, as tf.keras 2).

    With `approximate=True`, the tanh form
    `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
    """
    if approximate:
        return _unary("gelu", x, _gelu_tanh_forward, _gelu_tanh_backward)
    return _unary("gelu", x, _gelu_forward, _gelu_backward)


def _unary(name, x, forward, backward, *args):
    """An elementwise op from its array kernels: `forward(x, *args) ->
    (out, saved)` and `backward(g, saved) -> dx`."""
    x = _tensor(x, name)
    out, saved = forward(x.data, *args)
    return record(out, (x,), lambda g, needs: (backward(g, saved),))


# -- activation kernels: one definition each, for the ops above and the direct step -------
def _relu_forward(xd):
    out = xp().maximum(xd, 0.0)
    return out, out


def _relu_backward(g, out):
    return g * (out > 0)


def _leaky_relu_forward(xd, slope):
    pos = xd >= 0
    return xp().where(pos, xd, slope * xd), (pos, slope, xd.dtype)


def _leaky_relu_backward(g, saved):
    pos, slope, dtype = saved
    return g * xp().where(pos, 1.0, slope).astype(dtype)


def _sigmoid_forward(xd):
    out = _sigmoid_array(xd)
    return out, out


def _sigmoid_backward(g, out):
    return g * out * (1.0 - out)


def _tanh_forward(xd):
    out = xp_of(xd).tanh(xd)
    return out, out


def _tanh_backward(g, out):
    return g * (1.0 - out * out)


def _softmax_forward(xd):
    out = _softmax_array(xd, -1)
    return out, out


def _softmax_last_backward(g, out):
    return _softmax_backward(g, out, -1)


def _elu_forward(xd, alpha=1.0):
    m = xp()
    pos = xd > 0
    neg = alpha * m.expm1(m.minimum(xd, 0.0))
    return m.where(pos, xd, neg), (pos, neg, alpha, xd.dtype)


def _elu_backward(g, saved):
    pos, neg, alpha, dtype = saved
    return g * xp().where(pos, 1.0, neg + alpha).astype(dtype)


def _selu_forward(xd):
    m = xp()
    pos = xd > 0
    neg = SELU_ALPHA * m.expm1(m.minimum(xd, 0.0))
    return SELU_SCALE * m.where(pos, xd, neg), (pos, neg, xd.dtype)


def _selu_backward(g, saved):
    pos, neg, dtype = saved
    return g * (SELU_SCALE * xp().where(pos, 1.0, neg + SELU_ALPHA)).astype(dtype)


def _softplus_forward(xd):
    return xp().logaddexp(0.0, xd).astype(xd.dtype, copy=False), xd


def _softplus_backward(g, xd):
    return g * _sigmoid_array(xd)


def _softsign_forward(xd):
    denom = 1.0 + xp().abs(xd)
    return xd / denom, denom


def _softsign_backward(g, denom):
    return g / (denom * denom)


def _silu_forward(xd):
    s = _sigmoid_array(xd)
    return xd * s, (xd, s)


def _silu_backward(g, saved):
    xd, s = saved
    return g * (s * (1.0 + xd * (1.0 - s)))


def _hard_sigmoid_forward(xd):
    return xp().clip(0.2 * xd + 0.5, 0.0, 1.0), xd


def _hard_sigmoid_backward(g, xd):
    # 0.2 times a boolean array is float64: back to the input's dtype, as
    # the tape casts every gradient it accumulates.
    return (g * (0.2 * ((xd > -2.5) & (xd < 2.5)))).astype(xd.dtype, copy=False)


def _mish_forward(xd):
    m = xp()
    t = m.tanh(m.logaddexp(0.0, xd)).astype(xd.dtype, copy=False)
    s = _sigmoid_array(xd)
    return xd * t, (xd, t, s)


def _mish_backward(g, saved):
    xd, t, s = saved
    return g * (t + xd * s * (1.0 - t * t))


_GELU_C = math.sqrt(2.0 / math.pi)


def _gelu_tanh_forward(xd):
    inner = _GELU_C * (xd + 0.044715 * xd ** 3)
    t = xp().tanh(inner)
    return (0.5 * xd * (1.0 + t)).astype(xd.dtype, copy=False), (xd, t)


def _gelu_tanh_backward(g, saved):
    xd, t = saved
    dinner = _GELU_C * (1.0 + 3 * 0.044715 * xd * xd)
    return g * (0.5 * (1.0 + t) + 0.5 * xd * (1.0 - t * t) * dinner)


def _gelu_forward(xd):
    # Phi to a small relative error everywhere (normal_cdf's doc): an erf
    # accurate only in absolute terms loses gelu's left tail.
    work = xd if xd.dtype.name in ("float32", "float64") else xd.astype("float32")
    pdf = normal_cdf.gaussian_pdf(work)
    cdf = normal_cdf.normal_cdf(work, pdf)
    return (work * cdf).astype(xd.dtype, copy=False), (work, pdf, cdf, xd.dtype)


def _gelu_backward(g, saved):
    work, pdf, cdf, dtype = saved
    return g * (cdf + work * pdf).astype(dtype, copy=False)


# The kernels of each built-in activation as `keras.activations.get(name)`
# gives it (default arguments): `(forward, backward)` as `_unary` takes them.
ACTIVATION_KERNELS = {
    "relu": (_relu_forward, _relu_backward),
    "leaky_relu": (lambda xd: _leaky_relu_forward(xd, 0.2), _leaky_relu_backward),
    "sigmoid": (_sigmoid_forward, _sigmoid_backward),
    "tanh": (_tanh_forward, _tanh_backward),
    "softmax": (_softmax_forward, _softmax_last_backward),
    "elu": (_elu_forward, _elu_backward),
    "selu": (_selu_forward, _selu_backward),
    "softplus": (_softplus_forward, _softplus_backward),
    "softsign": (_softsign_forward, _softsign_backward),
    "silu": (_silu_forward, _silu_backward),
    "swish": (_silu_forward, _silu_backward),
    "hard_sigmoid": (_hard_sigmoid_forward, _hard_sigmoid_backward),
    "mish": (_mish_forward, _mish_backward),
    "gelu": (_gelu_forward, _gelu_backward),
}


# -- fused ops for the built-in layers ------------------------------------------------
def _act_inplace(name, z):
    """Applies a fused activation to `z` in place (z is the op's own buffer)."""
    m = xp_of(z)
    if name in cupy_kernels.FUSED and cupy_kernels.enabled(m):
        return cupy_kernels.activation(name, z, z)
    if name == "relu":
        return m.maximum(z, 0.0, out=z)
    if name == "sigmoid":
        return _sigmoid_array(z)
    if name == "tanh":
        return m.tanh(z, out=z)
    if name == "softmax":
        return _softmax_array(z, -1)
    return z


def _act_backward(name, g, a):
    """d(activation)/dz times `g`, from the activation's output `a`."""
    if (name in cupy_kernels.FUSED and type(a) is not np.ndarray and g.dtype == a.dtype
            and g.shape == a.shape and cupy_kernels.enabled(xp())):
        return cupy_kernels.activation_backward(name, g, a)
    if name == "relu":
        return g * (a > 0)
    if name == "sigmoid":
        return g * a * (1.0 - a)
    if name == "tanh":
        return g * (1.0 - a * a)
    if name == "softmax":
        return _softmax_backward(g, a, -1)
    return g


FUSED_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax")
# Output activations whose logits a following cross-entropy wants (see
# Tensor._keras_logits): Dense keeps these unfused so the logits survive.
LOGIT_ACTIVATIONS = ("sigmoid", "softmax")


def dense(x, kernel, bias=None, activation="linear"):
    """`activation(x @ kernel + bias)` in one op with a hand-written backward.

    Inputs of rank above 2 are contracted on their last axis, as Keras's
    `Dense` does. The kernel gradient is `x^T dz`, the bias gradient the sum
    of `dz` over the batch, and `dx` is computed only when `x` needs it.

    Args:
        x: input tensor `(..., in)`.
        kernel: `(in, units)`.
        bias: `(units,)` or `None`.
        activation: one of `FUSED_ACTIVATIONS` (or `None` for linear).

    Returns:
        Tensor `(..., units)`.
    """
    activation = activation or "linear"
    if activation not in FUSED_ACTIVATIONS:
        raise ValueError(
            f"dense fuses only {FUSED_ACTIVATIONS}. Received: activation={activation!r}"
        )
    w = _tensor(kernel, "dense")
    x = _tensor(x, "dense", like=w)
    b = None if bias is None else _tensor(bias, "dense", like=w)
    xd, wd = x.data, w.data
    lead = xd.shape[:-1]
    x2 = xd.reshape(-1, xd.shape[-1]) if xd.ndim != 2 else xd
    a = dense_forward(x2, wd, None if b is None else b.data, activation)
    out = a.reshape(lead + (wd.shape[1],)) if xd.ndim != 2 else a

    def backward(g, needs):
        gx, gw, gb = dense_backward(g.reshape(a.shape), x2, wd, a, activation, needs[0],
                                    needs[1], b is not None and needs[2])
        grads = (None if gx is None else gx.reshape(xd.shape), gw)
        return grads if b is None else grads + (gb,)

    parents = (x, w) if b is None else (x, w, b)
    return record(out, parents, backward)


def dense_forward(x2, w, b, activation, out=None, dot=None):
    """The array kernel of `dense`: `activation(x2 @ w + b)` for a 2-D `x2`.

    Args:
        x2: `(batch, in)`; w: `(in, units)`; b: `(units,)` or None.
        activation: one of `FUSED_ACTIVATIONS`, applied in place.
        out: optional `(batch, units)` buffer for the product (and result).
        dot: the product function (`xp.matmul` by default; the direct step
            passes `numpy.dot` where it makes the same BLAS call).

    Returns:
        The activation's output, which `dense_backward` takes as `a`.
    """
    z = x2 @ w if dot is None and out is None else (dot or xp().matmul)(x2, w, out=out)
    if (b is not None and type(z) is not np.ndarray and activation in cupy_kernels.FUSED
            and b.dtype == z.dtype and cupy_kernels.enabled(xp())):
        return cupy_kernels.bias_activation(activation, z, b)  # one launch for both
    if b is not None:
        z += b
    return _act_inplace(activation, z)


def dense_backward(g, x2, w, a, activation, need_x=True, need_w=True, need_b=True,
                   gx=None, gw=None, gb=None, dot=None):
    """The gradients of `dense_forward` from the upstream gradient `g`.

    The kernel gradient is `x2^T dz`, the bias gradient the sum of `dz`
    over the batch, `dx = dz w^T`; each is computed only when asked for,
    into the given buffer when one is given.

    Returns:
        `(dx, dkernel, dbias)`, None where not asked for.
    """
    mm = dot or xp().matmul
    dz = _act_backward(activation, g, a)
    dx = (dz @ w.T if dot is None and gx is None else mm(dz, w.T, out=gx)) if need_x else None
    dw = (x2.T @ dz if dot is None and gw is None else mm(x2.T, dz, out=gw)) if need_w else None
    db = dz.sum(axis=0, out=gb) if need_b else None
    return dx, dw, db


def _rows_kernel_fits(*arrays) -> bool:
    """Whether the one-thread-per-row CuPy kernels apply: 2-D C-contiguous
    arrays of one float dtype, on the CuPy backend."""
    z = arrays[0]
    return (type(z) is not np.ndarray and cupy_kernels.enabled(xp()) and z.ndim == 2
            and z.dtype.kind == "f"
            and all(a.ndim == 2 and a.flags.c_contiguous and a.dtype == z.dtype
                    and a.shape == z.shape for a in arrays))


def _sparse_rows_fit(z, idx) -> bool:
    """`_rows_kernel_fits` for logits `z` and 1-D class ids `idx`."""
    return (_rows_kernel_fits(z) and idx.ndim == 1 and idx.flags.c_contiguous
            and idx.shape[0] == z.shape[0])


def _softmax_ce_arrays(y, z, axis=-1):
    """Per-example `-sum(y * log_softmax(z))` and the `log_softmax` it used."""
    if axis in (-1, 1) and _rows_kernel_fits(z, y):
        return cupy_kernels.softmax_ce_rows(y, z)
    m = xp()
    shifted = z - z.max(axis=axis, keepdims=True)
    log_p = shifted - m.log(m.exp(shifted).sum(axis=axis, keepdims=True))
    return -(y * log_p).sum(axis=axis), log_p


def _softmax_ce_grad(y, log_p, axis=-1):
    """d(per-example loss)/d(logits), before the upstream gradient."""
    if axis in (-1, 1) and _rows_kernel_fits(log_p, y):
        return cupy_kernels.softmax_ce_grad(y, log_p)
    return xp().exp(log_p) * y.sum(axis=axis, keepdims=True) - y


def _sparse_ce_arrays(z, idx):
    """Per-example cross-entropy of class ids `idx` against logits `z` (last
    axis), and `(shifted, lse)` for the gradient."""
    if _sparse_rows_fit(z, idx):
        return cupy_kernels.sparse_ce_rows(z, idx)
    m = xp_of(z)
    shifted = z - z.max(axis=-1, keepdims=True)
    lse = m.log(m.exp(shifted).sum(axis=-1))
    if shifted.ndim == 2:  # the entries take_along_axis picks, without its index arrays
        picked = shifted[m.arange(shifted.shape[0]), idx]
    else:
        picked = m.take_along_axis(shifted, idx[..., None], axis=-1)[..., 0]
    return lse - picked, shifted, lse


def _sparse_ce_grad(shifted, lse, idx):
    """d(per-example loss)/d(logits), `softmax - one_hot`, before the upstream
    gradient."""
    if _sparse_rows_fit(shifted, idx):
        return cupy_kernels.sparse_ce_grad(shifted, lse, idx)
    m = xp_of(shifted)
    p = m.exp(shifted - lse[..., None])
    flat = p.reshape(-1, p.shape[-1])
    flat[m.arange(flat.shape[0]), idx.reshape(-1)] -= 1.0
    return p


def softmax_cross_entropy(labels, logits, axis=-1):
    """Per-example `-sum(labels * log_softmax(logits))`, fused.

    The gradient with respect to the logits is `softmax * sum(labels) -
    labels`, so no log of a probability is ever taken and extreme logits stay
    finite. Labels get no gradient.

    Args:
        labels: probabilities or one-hot rows, same shape as `logits`.
        logits: unnormalised scores.
        axis: the class axis.

    Returns:
        A tensor with `axis` removed.
    """
    z = _tensor(logits, "softmax_cross_entropy")
    y = _tensor(labels, "softmax_cross_entropy", like=z).data
    loss, log_p = _softmax_ce_arrays(y, z.data, axis)

    def backward(g, needs):
        return (softmax_ce_backward(g, y, log_p, axis),)

    return record(loss, (z,), backward)


def sparse_softmax_cross_entropy(labels, logits):
    """Per-example cross-entropy of integer `labels` against `logits` (last axis).

    Args:
        labels: integer class indices, shape `logits.shape[:-1]`.
        logits: unnormalised scores `(..., classes)`.
    """
    z = _tensor(logits, "sparse_softmax_cross_entropy")
    idx = _tensor(labels, "sparse_softmax_cross_entropy").data.astype("int64")
    loss, shifted, lse = _sparse_ce_arrays(z.data, idx)

    def backward(g, needs):
        return (sparse_ce_backward(g, shifted, lse, idx),)

    return record(loss, (z,), backward)


def sigmoid_cross_entropy(labels, logits):
    """Elementwise `-(y log s + (1-y) log(1-s))` with `s = sigmoid(logits)`, stably.

    Uses `max(z, 0) - z*y + log(1 + exp(-|z|))`; the gradient is
    `sigmoid(z) - y`.
    """
    z = _tensor(logits, "sigmoid_cross_entropy")
    y = _tensor(labels, "sigmoid_cross_entropy", like=z).data
    zd = z.data
    return record(sigmoid_ce_forward(y, zd), (z,),
                  lambda g, needs: (sigmoid_ce_backward(g, y, zd),))


def sigmoid_ce_forward(y, z):
    """The array kernel of `sigmoid_cross_entropy` (elementwise losses)."""
    m = xp()
    return m.maximum(z, 0.0) - z * y + m.log1p(m.exp(-m.abs(z)))


def sigmoid_ce_backward(g, y, z):
    """`g * (sigmoid(z) - y)`: the gradient of `sigmoid_ce_forward` in `z`."""
    return g * (_sigmoid_array(z) - y)


def sparse_ce_backward(g, shifted, lse, idx):
    """`sparse_softmax_cross_entropy`'s gradient in the logits for the
    per-example upstream gradient `g` (an array of the loss's shape, or a 0-d one)."""
    return _sparse_ce_grad(shifted, lse, idx) * g[..., None]


def softmax_ce_backward(g, y, log_p, axis=-1):
    """`softmax_cross_entropy`'s gradient in the logits for the upstream `g`."""
    g = g[..., None] if axis in (-1, log_p.ndim - 1) else xp().expand_dims(g, axis)
    return g * _softmax_ce_grad(y, log_p, axis)


# -- per-sample regression losses (mean over the last axis), fused ---------------------
def mean_squared_error_rows(labels, predictions):
    """Per-sample `mean((predictions - labels)**2, axis=-1)` as one op.

    The values and gradients are those of the unfused ops (subtract,
    square, mean), computed in the same order.
    """
    return _rows_loss("mean_squared_error", labels, predictions, squared_error_forward,
                      squared_error_backward)


def mean_absolute_error_rows(labels, predictions):
    """Per-sample `mean(|predictions - labels|, axis=-1)` as one op."""
    return _rows_loss("mean_absolute_error", labels, predictions, absolute_error_forward,
                      absolute_error_backward)


def _rows_loss(name, labels, predictions, forward, backward):
    p = _tensor(predictions, name)
    t = _tensor(labels, name, like=p)
    out, saved = forward(t.data, p.data)

    def grads(g, needs):
        dp = backward(g, saved)
        return tuple((dp if i == 1 else -dp) if need else None
                     for i, need in zip((0, 1), needs))

    return record(out, (t, p), grads)


def squared_error_forward(t, p):
    """`mean((p - t)**2, -1)` and what its backward needs."""
    d = p - t
    return mean_last_axis(d * d), d


def squared_error_backward(g, d):
    """The gradient of `squared_error_forward` in `p` (minus it in `t`)."""
    return (g / d.shape[-1])[..., None] * (2 * d)


def absolute_error_forward(t, p):
    """`mean(|p - t|, -1)` and what its backward needs."""
    d = p - t
    return mean_last_axis(xp().abs(d)), d


def absolute_error_backward(g, d):
    """The gradient of `absolute_error_forward` in `p` (minus it in `t`)."""
    return (g / d.shape[-1])[..., None] * xp().sign(d)


def mean_last_axis(x):
    """`xp.mean(x, axis=-1)` for a float array, with the same bits (NumPy
    sums in the array's dtype, then divides by the count as an intp, which
    resolves to a float64 division rounded back), without `mean`'s Python
    wrapper, a third of a small loss's time."""
    m = xp()
    if m is not np or x.ndim == 0 or x.dtype.kind != "f":
        return m.mean(x, axis=(x.ndim - 1,))
    total = np.add.reduce(x, axis=-1)
    if type(total) is not np.ndarray:
        return total.dtype.type(total / np.intp(x.shape[-1]))
    return np.true_divide(total, np.intp(x.shape[-1]), out=total, casting="unsafe")


# -- weight penalties ---------------------------------------------------------------------
def weight_penalty(x, l1=0.0, l2=0.0):
    """`l1 * sum(|x|) + l2 * sum(x**2)` (the terms with a nonzero factor) as one op."""
    x = _tensor(x, "weight_penalty")
    xd = x.data
    return record(penalty_forward(xd, l1, l2), (x,),
                  lambda g, needs: (penalty_backward(g, xd, l1, l2),))


def penalty_forward(xd, l1, l2):
    """The array kernel of `weight_penalty`: a 0-d value."""
    m = xp_of(xd)
    # Array methods and `vdot` (one BLAS pass for the sum of squares): the
    # reductions without `xp.sum`'s Python wrapper or a squared copy.
    v1 = l1 * m.abs(xd).sum(axis=tuple(range(xd.ndim))) if l1 else None
    v2 = l2 * m.vdot(xd, xd) if l2 else None
    if v1 is None:
        return v2 if v2 is not None else m.zeros((), dtype=xd.dtype)
    return v1 if v2 is None else v1 + v2


def penalty_backward(g, xd, l1, l2, out=None):
    """The gradient of `penalty_forward` for the upstream 0-d `g`; with
    `out` (the weight's gradient so far), added into it in place."""
    m = xp_of(xd)
    # The factors are 0-d: `xd * (2 * (g * l2))` has the bits of
    # `(g * l2) * (2 * xd)` (doubling is exact) with one pass over `xd`.
    d1 = m.sign(xd) * (g * l1) if l1 else None
    d2 = xd * (2 * (g * l2)) if l2 else None
    if d1 is None:
        d = d2 if d2 is not None else m.zeros_like(xd)
    else:
        d = d1 if d2 is None else d1 + d2
    return d if out is None else m.add(out, d, out=out)


def _bn_axes(ndim, axis):
    axis = axis % ndim
    return tuple(i for i in range(ndim) if i != axis), axis


def _bn_shape(ndim, axis, n):
    shape = [1] * ndim
    shape[axis] = n
    return tuple(shape)


def batch_normalization(x, mean, variance, offset, scale, epsilon):
    """Normalises with given statistics: `(x - mean) / sqrt(variance + eps) * scale + offset`.

    `mean` and `variance` are constants here (the moving statistics at
    inference); `x`, `scale` and `offset` get gradients. All parameters have
    the shape of the feature axis broadcast against `x` (e.g. `(features,)`
    for `(batch, features)` inputs).
    """
    x = _tensor(x, "batch_normalization")
    mu = _data(mean)
    sc = None if scale is None else _tensor(scale, "batch_normalization", like=x)
    of = None if offset is None else _tensor(offset, "batch_normalization", like=x)
    out, inv, mult = batch_norm_inference_forward(
        x.data, mu, _data(variance), None if of is None else of.data,
        None if sc is None else sc.data, epsilon)
    xd = x.data

    def backward(g, needs):
        grads = [g * mult if needs[0] else None]
        k = 1
        if sc is not None:
            grads.append(unbroadcast(g * ((xd - mu) * inv), sc.shape) if needs[k] else None)
            k += 1
        if of is not None:
            grads.append(unbroadcast(g, of.shape) if needs[k] else None)
        return tuple(grads)

    parents = [x] + ([sc] if sc is not None else []) + ([of] if of is not None else [])
    return record(out, parents, backward)


def batch_norm_affine(mean, variance, offset, scale, epsilon):
    """Batch normalisation at inference as one affine map per feature:
    `(1/sqrt(var + eps), mult, shift)` with `y = x * mult + shift`,
    `mult = scale / sqrt(var + eps)` and `shift = offset - mean * mult`
    (TensorFlow's inference arithmetic)."""
    inv = 1.0 / xp().sqrt(variance + epsilon)
    mult = inv if scale is None else inv * scale
    shift = -mean * mult
    if offset is not None:
        shift += offset
    return inv, mult, shift


def affine_channels(xd, mult, shift, out=None, clip=None):
    """`xd * mult + shift` over the last axis (rounded after the product, as
    two NumPy passes are), into `out` when given (which may be `xd` itself,
    a buffer its caller owns), then `clip(.., low, high)` with
    `clip=(low, high)`. In place, one compiled pass (split between the BLAS
    library's thread count) where numba is installed, with the same bits."""
    c = xd.shape[-1] if xd.ndim else 0
    if (out is xd and c and getattr(mult, "shape", None) == (c,)
            and getattr(shift, "shape", None) == (c,)
            and conv_kernels.enabled(xp(), xd, mult, shift)):
        flat = xd.reshape(-1, c)
        low, high = (0.0, 0.0) if clip is None else clip
        bounds = (xd.dtype.type(low), xd.dtype.type(high), clip is not None)
        conv_kernels.run_split(conv_kernels.module().affine_channels_, flat.shape[0],
                               lambda a, b: (flat[a:b], mult, shift, *bounds), xd.size)
        return xd
    if out is None:
        out = xd * mult
        out += shift
        return out if clip is None else xp().clip(out, clip[0], clip[1], out=out)

    def passes(key):
        part = out[key]
        xp().multiply(xd[key], mult, out=part)
        part += shift
        if clip is not None:
            xp().clip(part, clip[0], clip[1], out=part)

    if xp() is np and xd.ndim:  # NumPy's loops release the GIL: rows split between threads
        conv_kernels.run_split(passes, xd.shape[0], lambda a, b: (slice(a, b),), xd.size)
    else:
        passes(...)
    return out


def batch_norm_inference_forward(xd, mean, variance, offset, scale, epsilon):
    """The array kernel of `batch_normalization`: `(y, 1/sqrt(var + eps), multiplier)`.

    One affine map, `x * mult + (offset - mean * mult)`, as TensorFlow's
    inference kernels compute it: two passes over `x` instead of three.
    """
    inv, mult, shift = batch_norm_affine(mean, variance, offset, scale, epsilon)
    return affine_channels(xd, mult, shift), inv, mult


def batch_normalization_training(x, offset, scale, epsilon, axis=-1):
    """Normalises `x` with its own batch statistics, fused forward and backward.

    Args:
        x: input tensor.
        offset: beta, shape `(features,)`, or `None`.
        scale: gamma, shape `(features,)`, or `None`.
        epsilon: added to the variance.
        axis: the feature axis; statistics are taken over all others.

    Returns:
        `(y, batch_mean, batch_variance)`: `y` is a differentiable tensor;
        the statistics are raw arrays (biased variance) for the moving
        averages.
    """
    x = _tensor(x, "batch_normalization")
    sc = None if scale is None else _tensor(scale, "batch_normalization", like=x)
    of = None if offset is None else _tensor(offset, "batch_normalization", like=x)
    out, mean, var, saved = batch_norm_train_forward(
        x.data, None if of is None else of.data, None if sc is None else sc.data, epsilon, axis)

    def backward(g, needs):
        k = 1 + (sc is not None)
        dx, dscale, doffset = batch_norm_train_backward(
            g, saved, needs[0], sc is not None and needs[1], of is not None and needs[k])
        return ((dx,) + ((dscale,) if sc is not None else ())
                + ((doffset,) if of is not None else ()))

    parents = [x] + ([sc] if sc is not None else []) + ([of] if of is not None else [])
    return record(out, parents, backward), mean, var


def batch_norm_train_forward(xd, offset, scale, epsilon, axis=-1):
    """The array kernel of `batch_normalization_training`.

    Returns:
        `(y, batch_mean, batch_variance, saved)`: the statistics as `(features,)`
        arrays (biased variance), `saved` for `batch_norm_train_backward`.
    """
    m = xp()
    red, ax = _bn_axes(xd.ndim, axis)
    n = xd.shape[ax]
    shape = _bn_shape(xd.ndim, ax, n)
    count = xd.size // n
    mu = m.mean(xd, axis=red, keepdims=True)
    centered = xd - mu
    var = m.mean(centered * centered, axis=red, keepdims=True)
    inv = 1.0 / m.sqrt(var + epsilon)
    xhat = centered * inv
    out = xhat * scale.reshape(shape) if scale is not None else xhat.copy()
    if offset is not None:
        out += offset.reshape(shape)
    return out, mu.reshape(n), var.reshape(n), (xhat, inv, count, red, shape, scale)


def batch_norm_train_backward(g, saved, need_x=True, need_scale=True, need_offset=True):
    """The gradients of `batch_norm_train_forward`: `(dx, dscale, doffset)`,
    None where not asked for."""
    m = xp()
    xhat, inv, count, red, shape, scale = saved
    dx = dscale = doffset = None
    if need_x:
        dxhat = g * scale.reshape(shape) if scale is not None else g
        s1 = m.sum(dxhat, axis=red, keepdims=True)
        s2 = m.sum(dxhat * xhat, axis=red, keepdims=True)
        dx = (inv / count) * (count * dxhat - s1 - xhat * s2)
    if need_scale:
        dscale = m.sum(g * xhat, axis=red)
    if need_offset:
        doffset = m.sum(g, axis=red)
    return dx, dscale, doffset


def _data(v):
    return v.data if isinstance(v, Tensor) else v


def dropout(x, rate, noise_shape=None):
    """Inverted dropout: zeroes entries with probability `rate`, scales the rest
    by `1 / (1 - rate)`. The mask comes from the backend's seeded generator.

    Args:
        x: input tensor.
        rate: fraction to drop, in `[0, 1)`.
        noise_shape: shape of the mask, broadcast against `x` (`None`
            entries take `x`'s size).
    """
    x = _tensor(x, "dropout")
    if rate <= 0.0:
        return x
    out, mask = dropout_forward(x.data, rate, noise_shape)
    return record(out, (x,), lambda g, needs: (dropout_backward(g, mask),))


def dropout_forward(xd, rate, noise_shape=None):
    """The array kernel of `dropout` (for `rate > 0`): `(xd * mask, mask)`,
    the mask drawn from the backend's seeded generator."""
    shape = xd.shape
    if noise_shape is not None:
        shape = tuple(s if n is None else n for s, n in zip(xd.shape, noise_shape))
    u = _backend.get_backend().random_uniform(shape, dtype=xd.dtype)
    mask = (u >= rate).astype(xd.dtype)
    mask *= 1.0 / (1.0 - rate)
    return xd * mask, mask


def dropout_backward(g, mask):
    """The gradient of `dropout_forward`."""
    return g * mask
