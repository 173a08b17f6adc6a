"""Convolution, pooling, padding and layer normalisation, as fused ops.

Images are channels-last (`NHWC`) and kernels Keras's `(kh, kw, in, out)`.

`conv2d` is im2col: the patches are gathered by a loop over the `kh * kw`
kernel offsets, each step copying one strided slice of the (padded) input,
so there is no Python loop over pixels or samples and the same code runs on
NumPy, the strict backend and CuPy (no `as_strided`). On the NumPy backend,
inputs with 8 or more channels are gathered instead by one copy of a
read-only `sliding_window_view`, which NumPy runs about 3x faster. Then ONE
matrix product makes the output, and one each makes the two backward
products: `dW = patches^T dY` and `dX = col2im(dY W^T)` (the offset loop,
adding); `dX` only when the input needs a gradient.
The patch matrix is `batch * out_h * out_w * kh * kw * in` floats: it grows
with the batch, never with the data set, and it is kept only while a tape
records.

Pooling uses the same offset loop: max pooling remembers which offset won
(the first maximum, so ties send the whole gradient to one element, as
TensorFlow's kernel does), average pooling with `"same"` padding divides by
the count of real (unpadded) elements, as TensorFlow does.

`"same"` padding follows TensorFlow: the output size is `ceil(in / stride)`
and the total padding `max((out - 1) * stride + k_eff - in, 0)` with
`k_eff = (k - 1) * dilation + 1`, of which the top/left gets `total // 2`
and the bottom/right the rest.
"""

from __future__ import annotations

import numbers

import numpy as np

from kerasette.ops.core import _tensor, record, xp
from kerasette.ops.nn import FUSED_ACTIVATIONS, _act_backward, _act_inplace

PADDINGS = ("valid", "same")


# -- geometry ----------------------------------------------------------------------
def _pair(value, what, op):
    """`value` as a tuple of two positive ints (an int means both)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (int(value), int(value))
    try:
        pair = tuple(int(v) for v in value)
        ok = len(pair) == 2 and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)
    except TypeError:
        ok = False
    if not ok or min(pair) <= 0:
        raise ValueError(f"{op}: `{what}` must be a positive int or a tuple of two positive "
                         f"ints. Received: {what}={value!r}")
    return pair


def _padding(padding, op):
    p = padding.lower() if isinstance(padding, str) else padding
    if p not in PADDINGS:
        raise ValueError(f"{op}: `padding` must be 'valid' or 'same'. "
                         f"Received: padding={padding!r}")
    return p


def output_length(size, k, stride, dilation, padding):
    """Output size along one spatial axis (`None` stays `None`)."""
    if size is None:
        return None
    if padding == "same":
        return -(-size // stride)
    span = (k - 1) * dilation + 1
    return (size - span) // stride + 1 if size >= span else 0


def _geometry(size, k, stride, dilation, padding, op):
    """`(out, pad_before, pad_after)` along one spatial axis, TF's rules."""
    span = (k - 1) * dilation + 1
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + span - size, 0)
        return out, total // 2, total - total // 2
    if size < span:
        raise ValueError(
            f"{op}: the window (size {k}, dilation {dilation}, so spanning {span}) is larger "
            f"than the input ({size}) with padding='valid'. Use a smaller window, "
            "padding='same', or a larger input."
        )
    return (size - span) // stride + 1, 0, 0


def _check_image(xd, op):
    if xd.ndim != 4:
        raise ValueError(f"{op} expects a 4-D input (batch, height, width, channels). "
                         f"Received an input of shape {tuple(xd.shape)}.")


def _window_slice(start, stride, count):
    """The slice of the padded input that offset `start` reads for `count` outputs."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def _offsets(kh, kw, sh, sw, dh, dw, oh, ow):
    """`(i, j, rows, cols)` for each kernel offset, in `(kh, kw)` row-major order."""
    for i in range(kh):
        rows = _window_slice(i * dh, sh, oh)
        for j in range(kw):
            yield i, j, rows, _window_slice(j * dw, sw, ow)


def _pad_array(a, pt, pb, pl, pr, value=0.0):
    """`a` (NHWC) padded spatially with `value`; `a` itself when no padding."""
    if not (pt or pb or pl or pr):
        return a
    n, h, w, c = a.shape
    out = xp().full((n, h + pt + pb, w + pl + pr, c), value, dtype=a.dtype)
    out[:, pt:pt + h, pl:pl + w, :] = a
    return out


def _crop(a, pt, pb, pl, pr):
    if not (pt or pb or pl or pr):
        return a
    h, w = a.shape[1], a.shape[2]
    return a[:, pt:h - pb, pl:w - pr, :]


# -- convolution -------------------------------------------------------------------
# From this many channels on, NumPy gathers patches faster through one copy of
# a sliding-window view (its inner loop spans kw * channels contiguous floats)
# than through kh * kw slice copies (inner loop: channels floats).
_WINDOW_VIEW_MIN_CHANNELS = 8


def _im2col(padded, kh, kw, sh, sw, dh, dw, oh, ow):
    """Patches `(n, oh, ow, kh, kw, c)` of a padded NHWC input, copied once."""
    n, _, _, c = padded.shape
    if c >= _WINDOW_VIEW_MIN_CHANNELS and isinstance(padded, np.ndarray):
        # NumPy backend only: a read-only view, copied at once (no as_strided
        # writes, so none of its pitfalls). Other backends take the loop.
        span = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)
        view = np.lib.stride_tricks.sliding_window_view(padded, span, axis=(1, 2))
        view = view[:, :(oh - 1) * sh + 1:sh, :(ow - 1) * sw + 1:sw, :, ::dh, ::dw]
        return np.ascontiguousarray(view.transpose(0, 1, 2, 4, 5, 3))
    cols = xp().empty((n, oh, ow, kh, kw, c), dtype=padded.dtype)
    for i, j, rows, cs in _offsets(kh, kw, sh, sw, dh, dw, oh, ow):
        cols[:, :, :, i, j, :] = padded[:, rows, cs, :]
    return cols


def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
           activation="linear"):
    """2-D convolution (cross-correlation, as Keras) with an optional bias and
    a fused activation, with a hand-written backward.

    Args:
        x: input `(batch, height, width, in_channels)`.
        kernel: `(kh, kw, in_channels, filters)`.
        bias: `(filters,)` or `None`.
        strides: int or pair.
        padding: `"valid"` or `"same"` (TensorFlow's arithmetic).
        dilation_rate: int or pair.
        activation: one of `FUSED_ACTIVATIONS` (or `None` for linear); it
            acts on the last (channel) axis for softmax.

    Returns:
        Tensor `(batch, out_h, out_w, filters)`.

    Example:
        >>> from kerasette import ops
        >>> ops.conv2d(ops.ones((2, 5, 5, 1)), ops.ones((3, 3, 1, 4)), padding="same").shape
        (2, 5, 5, 4)
    """
    activation = activation or "linear"
    if activation not in FUSED_ACTIVATIONS:
        raise ValueError(f"conv2d fuses only {FUSED_ACTIVATIONS}. "
                         f"Received: activation={activation!r}")
    sh, sw = _pair(strides, "strides", "conv2d")
    dh, dw = _pair(dilation_rate, "dilation_rate", "conv2d")
    padding = _padding(padding, "conv2d")
    w = _tensor(kernel, "conv2d")
    x = _tensor(x, "conv2d", like=w)
    b = None if bias is None else _tensor(bias, "conv2d", like=w)
    xd, wd = x.data, w.data
    _check_image(xd, "conv2d")
    if wd.ndim != 4 or wd.shape[2] != xd.shape[3]:
        raise ValueError(f"conv2d: the kernel must be (kh, kw, {xd.shape[3]}, filters) for an "
                         f"input with {xd.shape[3]} channels. Received: kernel shape "
                         f"{tuple(wd.shape)}, input shape {tuple(xd.shape)}.")
    n, h, wid, cin = xd.shape
    kh, kw, _, cout = wd.shape
    oh, pt, pb = _geometry(h, kh, sh, dh, padding, "conv2d")
    ow, pl, pr = _geometry(wid, kw, sw, dw, padding, "conv2d")
    k = kh * kw * cin
    w2 = wd.reshape(k, cout)

    if kh == kw == 1 and sh == sw == 1:
        cols2 = xd.reshape(n * h * wid, cin)  # a 1x1 convolution is a dense layer
    else:
        padded = _pad_array(xd, pt, pb, pl, pr)
        cols2 = _im2col(padded, kh, kw, sh, sw, dh, dw, oh, ow).reshape(n * oh * ow, k)
        del padded
    z = cols2 @ w2
    if b is not None:
        z += b.data
    a = _act_inplace(activation, z)
    out = a.reshape(n, oh, ow, cout)

    def backward(g, needs):
        dz = _act_backward(activation, g.reshape(a.shape), a)
        gx = None
        if needs[0]:
            dcols = dz @ w2.T
            if kh == kw == 1 and sh == sw == 1:
                gx = dcols.reshape(xd.shape)
            else:
                dcols = dcols.reshape(n, oh, ow, kh, kw, cin)
                gp = xp().zeros((n, h + pt + pb, wid + pl + pr, cin), dtype=xd.dtype)
                for i, j, rows, cs in _offsets(kh, kw, sh, sw, dh, dw, oh, ow):
                    gp[:, rows, cs, :] += dcols[:, :, :, i, j, :]
                gx = _crop(gp, pt, pb, pl, pr)
        gw = (cols2.T @ dz).reshape(wd.shape) if needs[1] else None
        grads = (gx, gw)
        if b is not None:
            grads += (dz.sum(axis=0) if needs[2] else None,)
        return grads

    parents = (x, w) if b is None else (x, w, b)
    return record(out, parents, backward)


# -- pooling -----------------------------------------------------------------------
def _pool_setup(x, pool_size, strides, padding, op):
    x = _tensor(x, op)
    _check_image(x.data, op)
    ph, pw = _pair(pool_size, "pool_size", op)
    sh, sw = _pair(pool_size if strides is None else strides, "strides", op)
    padding = _padding(padding, op)
    n, h, w, c = x.shape
    oh, pt, pb = _geometry(h, ph, sh, 1, padding, op)
    ow, pl, pr = _geometry(w, pw, sw, 1, padding, op)
    offsets = list(_offsets(ph, pw, sh, sw, 1, 1, oh, ow))
    return x, offsets, (pt, pb, pl, pr), (n, h + pt + pb, w + pl + pr, c)


def max_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """Max pooling over `(pool_h, pool_w)` windows of an NHWC input.

    Padded positions never win (they hold `-inf`). The gradient goes to the
    first maximal element of each window in row-major order, so ties do not
    split it (TensorFlow's rule).

    Args:
        x: input `(batch, height, width, channels)`.
        pool_size: int or pair.
        strides: int or pair; `None` means `pool_size`.
        padding: `"valid"` or `"same"`.

    Example:
        >>> from kerasette import ops
        >>> ops.max_pool2d(ops.ones((1, 5, 5, 2)), 2).shape
        (1, 2, 2, 2)
    """
    x, offsets, pads, padded_shape = _pool_setup(x, pool_size, strides, padding, "max_pool2d")
    xd = x.data
    m = xp()
    padded = _pad_array(xd, *pads, value=-np.inf)
    _, _, rows, cs = offsets[0]
    out = padded[:, rows, cs, :].copy()
    # The offset that wins each window: a strictly larger value takes over,
    # so ties keep the first. Offsets come in increasing order, so the
    # winner is the largest k whose slice beat the running maximum (a
    # `maximum` is much cheaper than a boolean-mask assignment).
    index = "int8" if len(offsets) <= 127 else "int32"
    winner = m.zeros(out.shape, dtype=index)
    for k, (_, _, rows, cs) in enumerate(offsets[1:], start=1):
        s = padded[:, rows, cs, :]
        better = (s > out).astype(index)
        better *= k
        m.maximum(winner, better, out=winner)
        m.maximum(out, s, out=out)
    del padded

    def backward(g, needs):
        gp = m.zeros(padded_shape, dtype=g.dtype)
        for k, (_, _, rows, cs) in enumerate(offsets):
            gp[:, rows, cs, :] += g * (winner == k)
        return (_crop(gp, *pads),)

    return record(out, (x,), backward)


def avg_pool2d(x, pool_size=2, strides=None, padding="valid"):
    """Average pooling over `(pool_h, pool_w)` windows of an NHWC input.

    With `"same"` padding, each window's sum is divided by the number of
    real (unpadded) elements in it, as TensorFlow does.

    Args:
        x: input `(batch, height, width, channels)`.
        pool_size: int or pair.
        strides: int or pair; `None` means `pool_size`.
        padding: `"valid"` or `"same"`.

    Example:
        >>> from kerasette import ops
        >>> float(ops.avg_pool2d(ops.ones((1, 5, 5, 2)), 2, padding="same").numpy()[0, 2, 2, 0])
        1.0
    """
    x, offsets, pads, padded_shape = _pool_setup(x, pool_size, strides, padding, "avg_pool2d")
    xd = x.data
    m = xp()
    padded = _pad_array(xd, *pads)
    _, _, rows, cs = offsets[0]
    out = padded[:, rows, cs, :].copy()
    for _, _, rows, cs in offsets[1:]:
        out += padded[:, rows, cs, :]
    del padded
    if any(pads):
        # Count the real elements of each window: pool a mask of ones.
        mask = _pad_array(m.ones((1,) + tuple(xd.shape[1:3]) + (1,), dtype=xd.dtype), *pads)
        _, _, rows, cs = offsets[0]
        scale = mask[:, rows, cs, :].copy()
        for _, _, rows, cs in offsets[1:]:
            scale += mask[:, rows, cs, :]
        m.reciprocal(scale, out=scale)
        out *= scale
    else:
        scale = 1.0 / len(offsets)
        out *= scale

    def backward(g, needs):
        gs = g * scale
        gp = m.zeros(padded_shape, dtype=g.dtype)
        for _, _, rows, cs in offsets:
            gp[:, rows, cs, :] += gs
        return (_crop(gp, *pads),)

    return record(out, (x,), backward)


# -- padding -----------------------------------------------------------------------
def _pad_widths(pad_width, ndim):
    """NumPy's `pad_width` forms, as a tuple of `(before, after)` per axis."""
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype="int64"), (ndim, 2))
    except (TypeError, ValueError) as err:
        raise ValueError("pad: `pad_width` must be an int, a (before, after) pair, or one pair "
                         f"per axis of the {ndim}-D input. Received: pad_width={pad_width!r}"
                         ) from err
    if (widths < 0).any():
        raise ValueError(f"pad: `pad_width` must not be negative. Received: {pad_width!r}")
    return tuple((int(a), int(b)) for a, b in widths)


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads `x` with a constant (`pad_width` as in NumPy); the gradient crops.

    Args:
        x: input tensor.
        pad_width: an int, a `(before, after)` pair, or one pair per axis.
        mode: only `"constant"`.
        constant_values: the fill value (0 when `None`).

    Example:
        >>> from kerasette import ops
        >>> ops.pad(ops.ones((2, 3)), ((0, 0), (1, 2))).shape
        (2, 6)
    """
    if mode != "constant":
        raise ValueError(f"pad supports mode='constant' only. Received: mode={mode!r}")
    x = _tensor(x, "pad")
    widths = _pad_widths(pad_width, x.ndim)
    fill = 0.0 if constant_values is None else float(constant_values)
    out = xp().pad(x.data, widths, mode="constant", constant_values=fill)
    if out.dtype != x.dtype:
        out = out.astype(x.dtype)
    key = tuple(slice(a, s + a) for (a, _), s in zip(widths, x.shape))
    return record(out, (x,), lambda g, needs: (g[key],))


# -- layer normalisation -------------------------------------------------------------
def _norm_axes(axis, ndim, op):
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    if not axes:
        raise ValueError(f"{op}: `axis` must name at least one axis. Received: axis={axis!r}")
    out = []
    for a in axes:
        if not -ndim <= int(a) < ndim:
            raise ValueError(f"{op}: axis {a} is out of range for a {ndim}-D input.")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: `axis` has repeated entries. Received: axis={axis!r}")
    return tuple(sorted(out))


def layer_normalization(x, gamma=None, beta=None, epsilon=1e-3, axis=-1):
    """Normalises each sample over `axis` (its mean and biased variance),
    then scales by `gamma` and shifts by `beta`, fused with its backward.

    Args:
        x: input tensor.
        gamma: scale with the shape of `x` over `axis` (sorted), or `None`.
        beta: offset of the same shape, or `None`.
        epsilon: added to the variance.
        axis: int or list of ints: the axes normalised together.

    Example:
        >>> from kerasette import ops
        >>> y = ops.layer_normalization(ops.convert_to_tensor([[1.0, 3.0]]), epsilon=0.0)
        >>> y.numpy().tolist()
        [[-1.0, 1.0]]
    """
    x = _tensor(x, "layer_normalization")
    m = xp()
    xd = x.data
    axes = _norm_axes(axis, xd.ndim, "layer_normalization")
    others = tuple(i for i in range(xd.ndim) if i not in axes)
    pshape = tuple(xd.shape[i] if i in axes else 1 for i in range(xd.ndim))
    count = int(np.prod([xd.shape[i] for i in axes]))
    sc = None if gamma is None else _tensor(gamma, "layer_normalization", like=x)
    of = None if beta is None else _tensor(beta, "layer_normalization", like=x)
    mu = m.mean(xd, axis=axes, keepdims=True)
    xhat = xd - mu
    var = m.mean(xhat * xhat, axis=axes, keepdims=True)
    inv = 1.0 / m.sqrt(var + epsilon)
    xhat *= inv
    out = xhat * sc.data.reshape(pshape) if sc is not None else xhat.copy()
    if of is not None:
        out += of.data.reshape(pshape)

    def backward(g, needs):
        dxhat = g * sc.data.reshape(pshape) if sc is not None else g
        grads = [None]
        if needs[0]:
            s1 = m.sum(dxhat, axis=axes, keepdims=True)
            s2 = m.sum(dxhat * xhat, axis=axes, keepdims=True)
            grads[0] = (inv / count) * (count * dxhat - s1 - xhat * s2)
        k = 1
        if sc is not None:
            grads.append(m.sum(g * xhat, axis=others).reshape(sc.shape) if needs[k] else None)
            k += 1
        if of is not None:
            grads.append(m.sum(g, axis=others).reshape(of.shape) if needs[k] else None)
        return tuple(grads)

    parents = [x] + ([sc] if sc is not None else []) + ([of] if of is not None else [])
    return record(out, parents, backward)
