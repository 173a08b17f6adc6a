"""Activation functions as differentiable ops, and the fused ops layers use.

Activations whose derivative is a function of their output (relu, sigmoid,
tanh, softmax, linear) keep only the output for the backward pass; the
fused `dense` op applies them in place on the product it just made, which
saves one array per layer and one pass over it.
"""

from __future__ import annotations

import math

from kerasette import backend as _backend
from kerasette.autodiff.tensor import Tensor
from kerasette.backend import cupy_kernels
from kerasette.ops import normal_cdf
from kerasette.ops.core import _tensor, record, unbroadcast, xp

# Constants of SELU (Klambauer et al., 2017), as in Keras.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

# Below this, exp(-x) overflows float32; sigmoid(x) < 1e-38 there anyway.
_EXP_LIMIT = 88.0


def _sigmoid_array(z):
    m = xp()
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
        out = m.maximum(xd, 0.0)
        return record(out, (x,), lambda g, needs: (g * (out > 0),))
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
    x = _tensor(x, "leaky_relu")
    xd = x.data
    pos = xd >= 0
    out = xp().where(pos, xd, slope * xd)
    return record(out, (x,), lambda g, needs: (g * xp().where(pos, 1.0, slope).astype(xd.dtype),))


def sigmoid(x):
    """Logistic function `1 / (1 + exp(-x))`."""
    x = _tensor(x, "sigmoid")
    out = _sigmoid_array(x.data)
    y = record(out, (x,), lambda g, needs: (g * out * (1.0 - out),))
    y._keras_logits = x
    return y


def tanh(x):
    """Hyperbolic tangent."""
    x = _tensor(x, "tanh")
    out = xp().tanh(x.data)
    return record(out, (x,), lambda g, needs: (g * (1.0 - out * out),))


def _softmax_array(z, axis):
    if _rows_kernel_fits(z) and axis in (-1, 1):
        return cupy_kernels.softmax_rows(z)
    # Array methods rather than xp.max/xp.sum: the same reductions without
    # NumPy's Python-level dispatch, which dominates for single rows.
    e = z - z.max(axis=axis, keepdims=True)
    xp().exp(e, out=e)
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
    x = _tensor(x, "elu")
    xd = x.data
    m = xp()
    pos = xd > 0
    neg = alpha * m.expm1(m.minimum(xd, 0.0))
    out = m.where(pos, xd, neg)
    return record(out, (x,), lambda g, needs: (g * m.where(pos, 1.0, neg + alpha).astype(xd.dtype),))


def selu(x):
    """Scaled ELU with the self-normalising constants."""
    x = _tensor(x, "selu")
    xd = x.data
    m = xp()
    pos = xd > 0
    neg = SELU_ALPHA * m.expm1(m.minimum(xd, 0.0))
    out = SELU_SCALE * m.where(pos, xd, neg)
    return record(out, (x,), lambda g, needs: (
        g * (SELU_SCALE * m.where(pos, 1.0, neg + SELU_ALPHA)).astype(xd.dtype),))


def softplus(x):
    """`log(1 + exp(x))`, computed without overflow."""
    x = _tensor(x, "softplus")
    xd = x.data
    out = xp().logaddexp(0.0, xd).astype(xd.dtype, copy=False)
    return record(out, (x,), lambda g, needs: (g * _sigmoid_array(xd),))


def softsign(x):
    """`x / (1 + |x|)`."""
    x = _tensor(x, "softsign")
    xd = x.data
    denom = 1.0 + xp().abs(xd)
    return record(xd / denom, (x,), lambda g, needs: (g / (denom * denom),))


def silu(x):
    """`x * sigmoid(x)` (also called swish)."""
    x = _tensor(x, "silu")
    xd = x.data
    s = _sigmoid_array(xd)
    return record(xd * s, (x,), lambda g, needs: (g * (s * (1.0 + xd * (1.0 - s))),))


swish = silu


def hard_sigmoid(x):
    """tf.keras 2's piecewise-linear sigmoid: `clip(0.2 * x + 0.5, 0, 1)`."""
    x = _tensor(x, "hard_sigmoid")
    xd = x.data
    out = xp().clip(0.2 * xd + 0.5, 0.0, 1.0)
    return record(out, (x,), lambda g, needs: (g * (0.2 * ((xd > -2.5) & (xd < 2.5))),))


def mish(x):
    """`x * tanh(softplus(x))` (Misra, 2019)."""
    x = _tensor(x, "mish")
    xd = x.data
    m = xp()
    t = m.tanh(m.logaddexp(0.0, xd)).astype(xd.dtype, copy=False)
    s = _sigmoid_array(xd)
    return record(xd * t, (x,), lambda g, needs: (g * (t + xd * s * (1.0 - t * t)),))


def gelu(x, approximate=False):
    """Gaussian error linear unit (exact by default, as tf.keras 2).

    With `approximate=True`, the tanh form
    `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
    """
    x = _tensor(x, "gelu")
    xd = x.data
    m = xp()
    if approximate:
        c = math.sqrt(2.0 / math.pi)
        inner = c * (xd + 0.044715 * xd ** 3)
        t = m.tanh(inner)
        out = 0.5 * xd * (1.0 + t)

        def backward(g, needs):
            dinner = c * (1.0 + 3 * 0.044715 * xd * xd)
            return (g * (0.5 * (1.0 + t) + 0.5 * xd * (1.0 - t * t) * dinner),)
    else:
        # Phi to a small relative error everywhere (normal_cdf's doc): an erf
        # accurate only in absolute terms loses gelu's left tail.
        work = xd if xd.dtype.name in ("float32", "float64") else xd.astype("float32")
        pdf = normal_cdf.gaussian_pdf(work)
        cdf = normal_cdf.normal_cdf(work, pdf)
        out = work * cdf

        def backward(g, needs):
            return (g * (cdf + work * pdf).astype(xd.dtype, copy=False),)

    return record(out.astype(xd.dtype, copy=False), (x,), backward)


# -- fused ops for the built-in layers ------------------------------------------------
def _act_inplace(name, z):
    """Applies a fused activation to `z` in place (z is the op's own buffer)."""
    m = xp()
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
    if (name in cupy_kernels.FUSED and g.dtype == a.dtype and g.shape == a.shape
            and cupy_kernels.enabled(xp())):
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
    z = x2 @ wd
    if (b is not None and activation in cupy_kernels.FUSED and b.data.dtype == z.dtype
            and cupy_kernels.enabled(xp())):
        a = cupy_kernels.bias_activation(activation, z, b.data)  # one launch for both
    else:
        if b is not None:
            z += b.data
        a = _act_inplace(activation, z)
    out = a.reshape(lead + (wd.shape[1],)) if xd.ndim != 2 else a

    def backward(g, needs):
        dz = _act_backward(activation, g.reshape(a.shape), a)
        gx = (dz @ wd.T).reshape(xd.shape) if needs[0] else None
        gw = x2.T @ dz if needs[1] else None
        grads = (gx, gw)
        if b is not None:
            grads += (dz.sum(axis=0) if needs[2] else None,)
        return grads

    parents = (x, w) if b is None else (x, w, b)
    return record(out, parents, backward)


def _rows_kernel_fits(*arrays) -> bool:
    """Whether the one-thread-per-row CuPy kernels apply: 2-D C-contiguous
    arrays of one float dtype, on the CuPy backend."""
    z = arrays[0]
    return (cupy_kernels.enabled(xp()) and z.ndim == 2 and z.dtype.kind == "f"
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
    m = xp()
    shifted = z - z.max(axis=-1, keepdims=True)
    lse = m.log(m.exp(shifted).sum(axis=-1))
    picked = m.take_along_axis(shifted, idx[..., None], axis=-1)[..., 0]
    return lse - picked, shifted, lse


def _sparse_ce_grad(shifted, lse, idx):
    """d(per-example loss)/d(logits), `softmax - one_hot`, before the upstream
    gradient."""
    if _sparse_rows_fit(shifted, idx):
        return cupy_kernels.sparse_ce_grad(shifted, lse, idx)
    m = xp()
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
        return (xp().expand_dims(g, axis) * _softmax_ce_grad(y, log_p, axis),)

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
        return (_sparse_ce_grad(shifted, lse, idx) * g[..., None],)

    return record(loss, (z,), backward)


def sigmoid_cross_entropy(labels, logits):
    """Elementwise `-(y log s + (1-y) log(1-s))` with `s = sigmoid(logits)`, stably.

    Uses `max(z, 0) - z*y + log(1 + exp(-|z|))`; the gradient is
    `sigmoid(z) - y`.
    """
    z = _tensor(logits, "sigmoid_cross_entropy")
    y = _tensor(labels, "sigmoid_cross_entropy", like=z).data
    m = xp()
    zd = z.data
    loss = m.maximum(zd, 0.0) - zd * y + m.log1p(m.exp(-m.abs(zd)))
    return record(loss, (z,), lambda g, needs: (g * (_sigmoid_array(zd) - y),))


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
    m = xp()
    inv = 1.0 / m.sqrt(_data(variance) + epsilon)
    mu = _data(mean)
    sc = None if scale is None else _tensor(scale, "batch_normalization", like=x)
    of = None if offset is None else _tensor(offset, "batch_normalization", like=x)
    mult = inv if sc is None else inv * sc.data
    out = (x.data - mu) * mult
    if of is not None:
        out += of.data
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
    m = xp()
    xd = x.data
    red, ax = _bn_axes(xd.ndim, axis)
    n = xd.shape[ax]
    shape = _bn_shape(xd.ndim, ax, n)
    count = xd.size // n
    mu = m.mean(xd, axis=red, keepdims=True)
    centered = xd - mu
    var = m.mean(centered * centered, axis=red, keepdims=True)
    inv = 1.0 / m.sqrt(var + epsilon)
    xhat = centered * inv
    sc = None if scale is None else _tensor(scale, "batch_normalization", like=x)
    of = None if offset is None else _tensor(offset, "batch_normalization", like=x)
    out = xhat * sc.data.reshape(shape) if sc is not None else xhat.copy()
    if of is not None:
        out += of.data.reshape(shape)

    def backward(g, needs):
        grads = []
        dxhat = g * sc.data.reshape(shape) if sc is not None else g
        if needs[0]:
            s1 = m.sum(dxhat, axis=red, keepdims=True)
            s2 = m.sum(dxhat * xhat, axis=red, keepdims=True)
            grads.append((inv / count) * (count * dxhat - s1 - xhat * s2))
        else:
            grads.append(None)
        k = 1
        if sc is not None:
            grads.append(m.sum(g * xhat, axis=red) if needs[k] else None)
            k += 1
        if of is not None:
            grads.append(m.sum(g, axis=red) if needs[k] else None)
        return tuple(grads)

    parents = [x] + ([sc] if sc is not None else []) + ([of] if of is not None else [])
    y = record(out, parents, backward)
    return y, mu.reshape(n), var.reshape(n)


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
    xd = x.data
    shape = xd.shape
    if noise_shape is not None:
        shape = tuple(s if n is None else n for s, n in zip(xd.shape, noise_shape))
    u = _backend.get_backend().random_uniform(shape, dtype=xd.dtype)
    mask = (u >= rate).astype(xd.dtype)
    mask *= 1.0 / (1.0 - rate)
    return record(xd * mask, (x,), lambda g, needs: (g * mask,))
