"""Max and average pooling over 1, 2 or 3 spatial axes, as fused ops.

One pair of array kernels serves every rank: the windows come from
`conv_geometry.Windows`, and each op loops over the window's offsets,
reading one strided slice of the (padded) input per offset.

Max pooling remembers which offset won (the first maximum, so ties send the
whole gradient to one element, as TensorFlow's kernel does); padded
positions hold `-inf` and never win. With numba (the optional extra), 2-D
max pooling runs the same comparisons as compiled loops
(`_numba_conv.max_pool2d_forward` / `_backward`), with the same results. Average pooling with `"same"` padding
divides each window by the count of its real (unpadded) elements, as
TensorFlow does.
"""

from __future__ import annotations

import numpy as np

from kerasette.backend import conv_kernels
from kerasette.ops.conv_geometry import (Windows, _crop, _pad_array, _padding, _spatial,
                                         check_rank)
from kerasette.ops.core import _tensor, record, xp


def _windows(xd, pool, strides, padding, op):
    """The pooling windows and, per offset, the index of its slice."""
    win = Windows(xd.shape[1:-1], pool, strides, (1,) * len(pool), padding, op)
    keys = [(slice(None),) + slices for _, slices in win.offsets()]
    return win, keys


def _max_pool_kernel(xd, pool, strides, padding, op):
    """Max pooling on a channels-last array: `(out, backward)`."""
    m = xp()
    win, keys = _windows(xd, pool, strides, padding, op)
    padded = _pad_array(xd, win.pads, value=-np.inf)
    padded_shape = (xd.shape[0],) + win.padded + (xd.shape[-1],)
    index = "int8" if len(keys) <= 127 else "int32"
    if len(pool) == 2 and conv_kernels.enabled(m, padded):
        return _max_pool2d_compiled(padded, win, keys, index, padded_shape)
    out = padded[keys[0]].copy()
    # The offset that wins each window: a strictly larger value takes over,
    # so ties keep the first. Offsets come in increasing order, so the
    # winner is the largest k whose slice beat the running maximum (a
    # `maximum` is much cheaper than a boolean-mask assignment).
    winner = m.zeros(out.shape, dtype=index)
    for k, key in enumerate(keys[1:], start=1):
        s = padded[key]
        better = (s > out).astype(index)
        better *= k
        m.maximum(winner, better, out=winner)
        m.maximum(out, s, out=out)
    del padded

    def backward(g, needs):
        return (_max_pool_backward(g, winner, keys, padded_shape, win.pads),)

    return out, backward


def _max_pool_backward(g, winner, keys, padded_shape, pads):
    """The gradient to the input: `g` to each window's winning offset."""
    gp = xp().zeros(padded_shape, dtype=g.dtype)
    for k, key in enumerate(keys):
        gp[key] += g * (winner == k)
    return _crop(gp, pads)


def _max_pool2d_compiled(padded, win, keys, index, padded_shape):
    """`_max_pool_kernel`'s NumPy loops as numba passes (the same values,
    winners and gradients to the bit): the forward in one pass over the
    windows rather than four array passes per tap, and, for windows that do
    not overlap, the backward writing each gradient straight to its tap.
    The images split between the BLAS threads (`conv_kernels.run_split`)."""
    m = xp()
    kernels = conv_kernels.module()
    n, c = padded.shape[0], padded.shape[-1]
    (ph, pw), (sh, sw) = win.kernel, win.strides
    out = m.empty((n,) + win.out + (c,), dtype=padded.dtype)
    winner = m.empty(out.shape, dtype=index)
    conv_kernels.run_split(kernels.max_pool2d_forward, n,
                           lambda a, b: (padded[a:b], out[a:b], winner[a:b], ph, pw, sh, sw),
                           padded.size)
    overlap = sh < ph or sw < pw
    # Windows that tile the input exactly write every gradient element:
    # no zeros needed first (else the rows and columns no window reads stay 0).
    tiled = (ph, pw) == (sh, sw) and (win.out[0] * sh, win.out[1] * sw) == padded_shape[1:3]

    def backward(g, needs):
        if overlap or g.dtype != out.dtype or not conv_kernels.enabled(m, g):
            return (_max_pool_backward(g, winner, keys, padded_shape, win.pads),)
        gp = (m.empty if tiled else m.zeros)(padded_shape, dtype=g.dtype)
        conv_kernels.run_split(kernels.max_pool2d_backward, n,
                               lambda a, b: (g[a:b], winner[a:b], gp[a:b], ph, pw, sh, sw),
                               gp.size)
        return (_crop(gp, win.pads),)

    return out, backward


def _window_sum(padded, keys):
    out = padded[keys[0]].copy()
    for key in keys[1:]:
        out += padded[key]
    return out


def _avg_pool_kernel(xd, pool, strides, padding, op):
    """Average pooling on a channels-last array: `(out, backward)`."""
    m = xp()
    win, keys = _windows(xd, pool, strides, padding, op)
    out = _window_sum(_pad_array(xd, win.pads), keys)
    if win.any_padding:
        # Count the real elements of each window: pool a mask of ones.
        ones = m.ones((1,) + tuple(xd.shape[1:-1]) + (1,), dtype=xd.dtype)
        scale = _window_sum(_pad_array(ones, win.pads), keys)
        m.reciprocal(scale, out=scale)
        out *= scale
    else:
        scale = 1.0 / len(keys)
        out *= scale
    padded_shape = (xd.shape[0],) + win.padded + (xd.shape[-1],)

    def backward(g, needs):
        gs = g * scale
        gp = m.zeros(padded_shape, dtype=g.dtype)
        for key in keys:
            gp[key] += gs
        return (_crop(gp, win.pads),)

    return out, backward


def _pool(kernel, x, pool_size, strides, padding, op, rank):
    x = _tensor(x, op)
    check_rank(x.data, rank, op)
    pool = _spatial(pool_size, rank, "pool_size", op)
    strides = pool if strides is None else _spatial(strides, rank, "strides", op)
    out, backward = kernel(x.data, pool, strides, _padding(padding, op), op)
    return record(out, (x,), backward)


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
    return _pool(_max_pool_kernel, x, pool_size, strides, padding, "max_pool2d", 2)


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
    return _pool(_avg_pool_kernel, x, pool_size, strides, padding, "avg_pool2d", 2)


def max_pool1d(x, pool_size=2, strides=None, padding="valid"):
    """Max pooling over windows of `pool_size` steps of a `(batch, steps,
    channels)` input (`max_pool2d`'s rules: padding never wins, the first
    maximum takes the gradient).

    Args:
        x: input `(batch, steps, channels)`.
        pool_size: int (or a tuple of one int).
        strides: int; `None` means `pool_size`.
        padding: `"valid"` or `"same"`.

    Example:
        >>> from kerasette import ops
        >>> ops.max_pool1d(ops.ones((2, 7, 3)), 2).shape
        (2, 3, 3)
    """
    return _pool(_max_pool_kernel, x, pool_size, strides, padding, "max_pool1d", 1)


def avg_pool1d(x, pool_size=2, strides=None, padding="valid"):
    """Average pooling over windows of `pool_size` steps of a `(batch,
    steps, channels)` input; with `"same"` padding a window averages only
    its real steps, as TensorFlow does.

    Args:
        x: input `(batch, steps, channels)`.
        pool_size: int (or a tuple of one int).
        strides: int; `None` means `pool_size`.
        padding: `"valid"` or `"same"`.

    Example:
        >>> from kerasette import ops
        >>> ops.avg_pool1d(ops.ones((2, 7, 3)), 3, 2, padding="same").shape
        (2, 4, 3)
    """
    return _pool(_avg_pool_kernel, x, pool_size, strides, padding, "avg_pool1d", 1)


def max_pool3d(x, pool_size=2, strides=None, padding="valid"):
    """Max pooling over `(pool_d, pool_h, pool_w)` windows of a
    `(batch, depth, height, width, channels)` input (`max_pool2d`'s rules:
    padding never wins, the first maximum takes the gradient).

    Args:
        x: input `(batch, depth, height, width, channels)`.
        pool_size: int or a tuple of three ints.
        strides: int or a tuple of three ints; `None` means `pool_size`.
        padding: `"valid"` or `"same"`.

    Example:
        >>> from kerasette import ops
        >>> ops.max_pool3d(ops.ones((1, 4, 5, 6, 2)), 2).shape
        (1, 2, 2, 3, 2)
    """
    return _pool(_max_pool_kernel, x, pool_size, strides, padding, "max_pool3d", 3)


def avg_pool3d(x, pool_size=2, strides=None, padding="valid"):
    """Average pooling over `(pool_d, pool_h, pool_w)` windows of a
    `(batch, depth, height, width, channels)` input; with `"same"` padding a
    window averages only its real elements, as TensorFlow does.

    Args:
        x: input `(batch, depth, height, width, channels)`.
        pool_size: int or a tuple of three ints.
        strides: int or a tuple of three ints; `None` means `pool_size`.
        padding: `"valid"` or `"same"`.

    Example:
        >>> from kerasette import ops
        >>> ops.avg_pool3d(ops.ones((1, 3, 3, 3, 1)), 2, padding="same").shape
        (1, 2, 2, 2, 1)
    """
    return _pool(_avg_pool_kernel, x, pool_size, strides, padding, "avg_pool3d", 3)
