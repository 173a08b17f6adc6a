"""Convolutions (1-D, 2-D, 3-D, grouped and depthwise), masked mean,
padding and layer normalisation, as fused ops.

Arrays are channels-last (`(batch, *spatial, channels)`) and kernels have
Keras's layout `(*kernel_size, in_channels // groups, filters)`.

Every convolution is im2col over any number of spatial axes
(`conv_geometry`): the patches are gathered by a loop over the kernel
offsets, each step copying one strided slice of the (padded) input, so
there is no Python loop over pixels or samples and the same code runs on
NumPy, the strict backend and CuPy. Then ONE matrix product makes the
output (a stack of `groups` products for grouped convolutions; for
depthwise ones, a sum over the taps of broadcast products), and one each
makes the two backward products:
`dW = patches^T dY` and `dX = col2im(dY W^T)` (the offset loop, adding);
`dX` only when the input needs a gradient. With numba (the optional
extra), the 2-D col2im, the bias + ReLU pass and the ReLU backward with the
bias gradient run as compiled loops that do the same float operations in
the same order (`backend/_numba_conv.py`): the same bits, fewer passes. Transposed convolutions
(`conv_transpose`) run the same two halves the other way round.
The patch matrix is `batch * prod(out) * prod(kernel) * in` floats: it
grows with the batch, never with the data set, and it is kept only while
a tape records.

A depthwise convolution is the grouped one with one group per input
channel: its `(kh, kw, channels, multiplier)` kernel is already the grouped
layout `(kh, kw, 1, channels * multiplier)`, output channel
`c * multiplier + m` coming from input channel `c` (as TensorFlow orders
them).

Padding follows TensorFlow (see `conv_geometry`): `"same"` gives
`ceil(in / stride)` outputs with the odd padded element at the end;
`"causal"` (1-D only) pads only the start.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from kerasette.backend import conv_kernels
from kerasette.ops.conv_geometry import (Windows, _col2im, _crop, _im2col, _pad_array,
                                         _padding, _pair, _spatial, check_rank)
from kerasette.ops.core import _tensor, record, xp
from kerasette.ops.nn import FUSED_ACTIVATIONS, _act_backward, _act_inplace

_KERNEL_AXES = {1: "k", 2: "kh, kw", 3: "kd, kh, kw"}


# -- the array kernel --------------------------------------------------------------
def _fused_activation(activation, op):
    activation = activation or "linear"
    if activation not in FUSED_ACTIVATIONS:
        raise ValueError(f"{op} fuses only {FUSED_ACTIVATIONS}. "
                         f"Received: activation={activation!r}")
    return activation


def _dense_product(cols, wd, groups, taps):
    """`patches @ kernel` for an ungrouped convolution: ONE matrix product,
    and one for each gradient."""
    w2 = wd.reshape(cols.shape[1], wd.shape[-1])

    def backward(dz, need_cols, need_w):
        return (dz @ w2.T if need_cols else None,
                (cols.T @ dz).reshape(wd.shape) if need_w else None)

    return cols @ w2, backward


def _grouped_product(cols, wd, groups, taps):
    """One product per group, stacked: patches `(groups, P, taps * cg)` times
    kernels `(groups, taps * cg, og)` (filter group `g` sees channel group `g`)."""
    cg, og = wd.shape[-2], wd.shape[-1] // groups
    colsg = cols.reshape(-1, taps, groups, cg).transpose(2, 0, 1, 3).reshape(
        groups, -1, taps * cg)
    wg = wd.reshape(taps, cg, groups, og).transpose(2, 0, 1, 3).reshape(groups, taps * cg, og)

    def backward(dz, need_cols, need_w):
        dzg = dz.reshape(-1, groups, og).transpose(1, 0, 2)
        dcols = gw = None
        if need_cols:
            dcols = (dzg @ wg.transpose(0, 2, 1)).reshape(groups, -1, taps, cg).transpose(
                1, 2, 0, 3).reshape(cols.shape)
        if need_w:
            gw = (colsg.transpose(0, 2, 1) @ dzg).reshape(groups, taps, cg, og).transpose(
                1, 2, 0, 3).reshape(wd.shape)
        return dcols, gw

    return (colsg @ wg).transpose(1, 0, 2).reshape(-1, wd.shape[-1]), backward


def _depthwise_product(cols, wd, groups, taps):
    """The grouped product with one channel per group (depthwise). Each
    group's product is `(P, taps) x (taps, og)`, too thin for BLAS, and
    stacking them would transpose the patches; so the taps are summed as
    broadcast products in the patches' own layout (measured 6x faster
    for a 3x3 depthwise layer of 64 channels)."""
    m = xp()
    og = wd.shape[-1] // groups
    c3 = cols.reshape(-1, taps, groups)
    w3 = wd.reshape(taps, groups, og)

    def tap_sum(terms):
        """`sum(a * b for a, b in terms)` with one temporary."""
        terms = iter(terms)
        a, b = next(terms)
        acc = a * b
        tmp = m.empty_like(acc)
        for a, b in terms:
            acc += m.multiply(a, b, out=tmp)
        return acc

    z = m.empty((og, c3.shape[0], groups), dtype=cols.dtype)
    for o in range(og):
        z[o] = tap_sum((c3[:, k], w3[k, :, o]) for k in range(taps))

    def backward(dz, need_cols, need_w):
        dzo = dz.reshape(-1, groups, og).transpose(2, 0, 1)  # (og, P, groups) view
        dcols = gw = None
        if need_cols:
            dcols = m.empty(c3.shape, dtype=dz.dtype)
            for k in range(taps):
                dcols[:, k] = tap_sum((dzo[o], w3[k, :, o]) for o in range(og))
            dcols = dcols.reshape(cols.shape)
        if need_w:
            gw = m.empty(w3.shape, dtype=dz.dtype)
            for k in range(taps):
                for o in range(og):
                    gw[k, :, o] = m.einsum("pg,pg->g", c3[:, k], dzo[o])
            gw = gw.reshape(wd.shape)
        return dcols, gw

    return z.transpose(1, 2, 0).reshape(-1, wd.shape[-1]), backward


# A depthwise block's output and product buffer stay this small (bytes), so
# that the taps' multiply-adds run in the CPU's cache rather than memory.
_DEPTHWISE_BLOCK_BYTES = 1 << 18


def _depthwise_blocks(n, out_rows, row_bytes):
    """`(images, rows)` slices of a depthwise output, each about
    `_DEPTHWISE_BLOCK_BYTES` (whole images together when they are small)."""
    image_bytes = max(out_rows * row_bytes, 1)
    if image_bytes <= _DEPTHWISE_BLOCK_BYTES:
        step = max(1, _DEPTHWISE_BLOCK_BYTES // image_bytes)
        return [(slice(b, min(b + step, n)), slice(0, out_rows)) for b in range(0, n, step)]
    rows = max(1, _DEPTHWISE_BLOCK_BYTES // max(row_bytes, 1))
    return [(slice(b, b + 1), slice(r, min(r + rows, out_rows)))
            for b in range(n) for r in range(0, out_rows, rows)]


def _depthwise_direct(xd, wd, bd, win, activation):
    """A 2-D depthwise convolution with one filter per channel, straight
    from strided views of the padded input: `out = sum_k view_k * w[k]`,
    with no patch matrix (im2col would copy `taps` times the output). On
    NumPy the sum runs block by block (`_depthwise_blocks`) so that its
    `2 * taps` passes hit the cache, the images split between as many
    threads as the BLAS library uses (`conv_kernels.run_split`); with numba,
    one compiled pass (`_numba_conv.depthwise_forward`). The taps are added
    in the same order as the patch path's, so the results are the same to
    the bit."""
    m = xp()
    n, c = xd.shape[0], xd.shape[-1]
    (oh, ow), (sh, _) = win.out, win.strides
    w2 = wd.reshape(-1, c)
    w3 = w2.reshape(wd.shape[0], wd.shape[1], c)
    offsets = [slices for _, slices in win.offsets()]
    out = m.empty((n, oh, ow, c), dtype=xd.dtype)
    padded = None

    def tap_sums(first, last):
        """The NumPy sums for images [first, last), block by block."""
        blocks = ([(slice(first + b.start, first + b.stop), rows) for b, rows in
                   _depthwise_blocks(last - first, oh, ow * c * xd.itemsize)] if m is np
                  else [(slice(first, last), slice(0, oh))])
        tmp = None
        for images, rows in blocks:
            acc = out[images, rows]
            if tmp is None or tmp.shape != acc.shape:
                tmp = m.empty_like(acc)
            for k, (rs, cs) in enumerate(offsets):
                start = rs.start + sh * rows.start
                src = padded[images, start:start + sh * (rows.stop - rows.start - 1) + 1:sh, cs]
                if k == 0:
                    m.multiply(src, w2[0], out=acc)
                else:
                    acc += m.multiply(src, w2[k], out=tmp)

    if conv_kernels.enabled(m, out, xd, w3):  # the same sums in one compiled pass
        geometry = (*win.strides, *win.dilation, win.pads[0][0], win.pads[1][0])
        conv_kernels.run_split(conv_kernels.module().depthwise_forward, n,
                               lambda a, b: (xd[a:b], w3, out[a:b], *geometry),
                               out.size * len(offsets))
    else:
        padded = _pad_array(xd, win.pads)
        if m is np:  # NumPy's loops release the GIL: images split between threads
            conv_kernels.run_split(tap_sums, n, lambda a, b: (a, b), out.size * len(offsets))
        else:
            tap_sums(0, n)
    if bd is not None:
        out += bd
    out = _act_inplace(activation, out)

    def backward(g, needs):
        nonlocal padded
        padded = _pad_array(xd, win.pads) if padded is None else padded
        dz = _act_backward(activation, g.reshape(out.shape), out)
        gx = gw = None
        if needs[0]:
            gp = m.zeros(padded.shape, dtype=dz.dtype)
            for k, (rs, cs) in enumerate(offsets):
                gp[:, rs, cs] += dz * w2[k]
            gx = _crop(gp, win.pads)
        if needs[1]:
            gw = m.stack([m.einsum("nhwc,nhwc->c", padded[:, rs, cs], dz)
                          for rs, cs in offsets]).reshape(wd.shape)
        grads = (gx, gw)
        if bd is not None:
            grads += (dz.sum(axis=(0, 1, 2)) if needs[2] else None,)
        return grads

    return out, backward


def _conv_kernel(xd, wd, bd, strides, dilation, padding, activation, op, groups=1):
    """The convolution on arrays: `(out, backward)` for a channels-last `xd`
    with any number of spatial axes, kernel `wd` `(*k, in // groups, out)`,
    bias `bd` (or None), all checked by the caller. `backward(g, needs)`
    gives `(dx, dw[, db])`."""
    rank = xd.ndim - 2
    n, cin = xd.shape[0], xd.shape[-1]
    ksize, cout = tuple(wd.shape[:rank]), wd.shape[-1]
    win = Windows(xd.shape[1:-1], ksize, strides, dilation, padding, op)
    taps = math.prod(ksize)
    if rank == 2 and groups == cin == cout and groups > 1:
        return _depthwise_direct(xd, wd, bd, win, activation)
    pointwise = taps == 1 and max(strides) == 1 and not win.any_padding

    if pointwise:
        cols2 = xd.reshape(-1, cin)  # a 1x1 convolution is a dense layer
    else:
        cols2 = _im2col(_pad_array(xd, win.pads), win).reshape(n * math.prod(win.out),
                                                               taps * cin)
    product = (_dense_product if groups == 1 else
               _depthwise_product if groups == cin else _grouped_product)
    z, product_backward = product(cols2, wd, groups, taps)
    m = xp()
    if (bd is not None and activation in ("relu", "linear") and z.ndim == 2
            and conv_kernels.enabled(m, z, bd)):
        conv_kernels.module().bias_relu_(z, bd, activation == "relu")  # one pass, same bits
        a = z
    else:
        if bd is not None:
            z += bd
        a = _act_inplace(activation, z)
    out = a.reshape((n,) + win.out + (cout,))

    def activation_backward(g, need_db):
        """`(dz, db)`: the activation's backward and, when `need_db`, the
        bias gradient `dz.sum(axis=0)`; for ReLU with numba, both in one
        pass (`_numba_conv.relu_bias_grad`, the same bits)."""
        g = g.reshape(a.shape)
        if (need_db and activation == "relu" and a.shape[1] >= 2
                and conv_kernels.enabled(m, g, a)):
            dz, db = m.empty_like(a), m.empty(a.shape[1], dtype=a.dtype)
            conv_kernels.module().relu_bias_grad(g, a, dz, db)
            return dz, db
        dz = _act_backward(activation, g, a)
        return dz, (dz.sum(axis=0) if need_db else None)

    def backward(g, needs):
        dz, db = activation_backward(g, bd is not None and needs[2])
        dcols, gw = product_backward(dz, needs[0], needs[1])
        gx = None
        if needs[0]:
            if pointwise:
                gx = dcols.reshape(xd.shape)
            else:
                dcols = dcols.reshape((n,) + win.out + ksize + (cin,))
                gx = _crop(_col2im(dcols, win, n, cin, xd.dtype), win.pads)
        grads = (gx, gw)
        if bd is not None:
            grads += (db,)
        return grads

    return out, backward


# -- the ops -----------------------------------------------------------------------
def _conv_operands(op, rank, x, kernel, bias, groups):
    """The checked tensors `(x, w, b)` of a convolution of `rank` spatial axes."""
    w = _tensor(kernel, op)
    x = _tensor(x, op, like=w)
    b = None if bias is None else _tensor(bias, op, like=w)
    xd, wd = x.data, w.data
    check_rank(xd, rank, op)
    cin = xd.shape[-1]
    if wd.ndim != rank + 2 or wd.shape[-2] * groups != cin or wd.shape[-1] % groups:
        per_group = f"{cin} // groups" if groups > 1 else str(cin)
        raise ValueError(f"{op}: the kernel must be ({_KERNEL_AXES[rank]}, {per_group}, "
                         f"filters) for an input with {cin} channels. Received: kernel shape "
                         f"{tuple(wd.shape)}, input shape {tuple(xd.shape)}"
                         + (f", groups={groups}." if groups > 1 else "."))
    if b is not None and tuple(b.shape) != (wd.shape[-1],):
        raise ValueError(f"{op}: the bias must have shape ({wd.shape[-1]},), one value per "
                         f"filter. Received: bias shape {tuple(b.shape)}.")
    return x, w, b


def _conv(op, rank, x, kernel, bias, strides, padding, dilation_rate, activation, groups=1):
    activation = _fused_activation(activation, op)
    strides = _spatial(strides, rank, "strides", op)
    dilation = _spatial(dilation_rate, rank, "dilation_rate", op)
    padding = _padding(padding, op, causal=rank == 1)
    if not isinstance(groups, numbers.Integral) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: `groups` must be a positive int. Received: groups={groups!r}")
    x, w, b = _conv_operands(op, rank, x, kernel, bias, int(groups))
    out, backward = _conv_kernel(x.data, w.data, None if b is None else b.data, strides,
                                 dilation, padding, activation, op, int(groups))
    return record(out, (x, w) if b is None else (x, w, b), backward)


def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
           activation="linear", groups=1):
    """2-D convolution (cross-correlation, as Keras) with an optional bias and
    a fused activation, with a hand-written backward.

    Args:
        x: input `(batch, height, width, in_channels)`.
        kernel: `(kh, kw, in_channels // groups, filters)`.
        bias: `(filters,)` or `None`.
        strides: int or pair.
        padding: `"valid"` or `"same"` (TensorFlow's arithmetic).
        dilation_rate: int or pair.
        activation: one of `FUSED_ACTIVATIONS` (or `None` for linear); it
            acts on the last (channel) axis for softmax.
        groups: split the channels into this many groups convolved apart
            (filter group `g` sees input channel group `g`), as Keras.

    Returns:
        Tensor `(batch, out_h, out_w, filters)`.

    Example:
        >>> from kerasette import ops
        >>> ops.conv2d(ops.ones((2, 5, 5, 1)), ops.ones((3, 3, 1, 4)), padding="same").shape
        (2, 5, 5, 4)
    """
    return _conv("conv2d", 2, x, kernel, bias, strides, padding, dilation_rate, activation,
                 groups)


def conv1d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
           activation="linear", groups=1):
    """1-D convolution (cross-correlation, as Keras) over the steps of a
    `(batch, steps, channels)` input, with an optional bias and a fused
    activation.

    Args:
        x: input `(batch, steps, in_channels)`.
        kernel: `(k, in_channels // groups, filters)` (Keras's Conv1D layout).
        bias: `(filters,)` or `None`.
        strides: int (or a tuple of one int).
        padding: `"valid"`, `"same"` (TensorFlow's arithmetic) or
            `"causal"` (`(k - 1) * dilation_rate` zeros on the left only).
        dilation_rate: int (or a tuple of one int).
        activation: one of `FUSED_ACTIVATIONS` (or `None` for linear).
        groups: as in `conv2d`.

    Returns:
        Tensor `(batch, out_steps, filters)`.

    Example:
        >>> from kerasette import ops
        >>> ops.conv1d(ops.ones((2, 10, 3)), ops.ones((3, 3, 4)), padding="causal").shape
        (2, 10, 4)
    """
    return _conv("conv1d", 1, x, kernel, bias, strides, padding, dilation_rate, activation,
                 groups)


def conv3d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
           activation="linear", groups=1):
    """3-D convolution (cross-correlation, as Keras) of `(batch, depth,
    height, width, channels)` volumes, with an optional bias and a fused
    activation: `conv2d`'s im2col over three axes.

    Args:
        x: input `(batch, depth, height, width, in_channels)`.
        kernel: `(kd, kh, kw, in_channels // groups, filters)`.
        bias: `(filters,)` or `None`.
        strides: int or a tuple of three ints.
        padding: `"valid"` or `"same"` (TensorFlow's arithmetic).
        dilation_rate: int or a tuple of three ints.
        activation: one of `FUSED_ACTIVATIONS` (or `None` for linear).
        groups: as in `conv2d`.

    Returns:
        Tensor `(batch, out_d, out_h, out_w, filters)`.

    Example:
        >>> from kerasette import ops
        >>> ops.conv3d(ops.ones((2, 4, 5, 6, 1)), ops.ones((3, 3, 3, 1, 2))).shape
        (2, 2, 3, 4, 2)
    """
    return _conv("conv3d", 3, x, kernel, bias, strides, padding, dilation_rate, activation,
                 groups)


def depthwise_conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
                     activation="linear"):
    """Depthwise 2-D convolution: each input channel convolved with its own
    `depth_multiplier` filters (`tf.nn.depthwise_conv2d`), with an optional
    bias and a fused activation: the grouped `conv2d` with one group per
    channel.

    Args:
        x: input `(batch, height, width, channels)`.
        kernel: `(kh, kw, channels, depth_multiplier)` (Keras's layout).
        bias: `(channels * depth_multiplier,)` or `None`.
        strides: int or pair.
        padding: `"valid"` or `"same"`.
        dilation_rate: int or pair.
        activation: one of `FUSED_ACTIVATIONS` (or `None` for linear).

    Returns:
        Tensor `(batch, out_h, out_w, channels * depth_multiplier)`; output
        channel `c * depth_multiplier + m` is input channel `c`'s filter `m`.

    Example:
        >>> from kerasette import ops
        >>> ops.depthwise_conv2d(ops.ones((2, 5, 5, 3)), ops.ones((3, 3, 3, 2))).shape
        (2, 3, 3, 6)
    """
    op = "depthwise_conv2d"
    activation = _fused_activation(activation, op)
    strides = _pair(strides, "strides", op)
    dilation = _pair(dilation_rate, "dilation_rate", op)
    padding = _padding(padding, op)
    w = _tensor(kernel, op)
    x = _tensor(x, op, like=w)
    b = None if bias is None else _tensor(bias, op, like=w)
    xd, wd = x.data, w.data
    check_rank(xd, 2, op)
    channels = xd.shape[-1]
    if wd.ndim != 4 or wd.shape[2] != channels:
        raise ValueError(f"{op}: the kernel must be (kh, kw, {channels}, depth_multiplier) for "
                         f"an input with {channels} channels. Received: kernel shape "
                         f"{tuple(wd.shape)}, input shape {tuple(xd.shape)}.")
    filters = channels * wd.shape[3]
    if b is not None and tuple(b.shape) != (filters,):
        raise ValueError(f"{op}: the bias must have shape ({filters},), one value per output "
                         f"channel. Received: bias shape {tuple(b.shape)}.")
    grouped = wd.reshape(wd.shape[0], wd.shape[1], 1, filters)  # the same memory, no copy
    out, backward4 = _conv_kernel(xd, grouped, None if b is None else b.data, strides, dilation,
                                  padding, activation, op, channels)

    def backward(g, needs):
        grads = backward4(g, needs)
        gw = None if grads[1] is None else grads[1].reshape(wd.shape)
        return (grads[0], gw) + grads[2:]

    return record(out, (x, w) if b is None else (x, w, b), backward)


def depthwise_conv2d_padded(x, kernel, bias, pads, strides=1, dilation_rate=1):
    """`depthwise_conv2d(pad(x), kernel, bias, padding="valid")` for a
    one-filter-per-channel kernel, without making the padded copy: the
    padding's zeros enter the sums as `0 * w`, so the result is the same
    bits. Inference only (no gradient is recorded); MobileNet's
    `ZeroPadding2D` -> strided `DepthwiseConv2D` pairs run through it
    (`kerasette.models.inference_fusion`).

    Args:
        x: input `(batch, height, width, channels)` (a tensor).
        kernel: `(kh, kw, channels, 1)`.
        bias: `(channels,)` or `None`.
        pads: `((top, bottom), (left, right))` zeros around `x`.
        strides, dilation_rate: int or pair.

    Returns:
        Tensor `(batch, out_h, out_w, channels)`.

    Example:
        >>> from kerasette import ops
        >>> from kerasette.ops import conv
        >>> conv.depthwise_conv2d_padded(ops.ones((2, 4, 4, 3)), ops.ones((3, 3, 3, 1)), None,
        ...                              ((0, 1), (0, 1)), strides=2).shape
        (2, 2, 2, 3)
    """
    op = "depthwise_conv2d"
    strides = _pair(strides, "strides", op)
    dilation = _pair(dilation_rate, "dilation_rate", op)
    w = _tensor(kernel, op)
    x = _tensor(x, op, like=w)
    xd, wd = x.data, w.data
    check_rank(xd, 2, op)
    channels = xd.shape[-1]
    if wd.ndim != 4 or wd.shape[2:] != (channels, 1):
        raise ValueError(f"{op}: the kernel must be (kh, kw, {channels}, 1) for an input with "
                         f"{channels} channels. Received: kernel shape {tuple(wd.shape)}.")
    pads = tuple((int(a), int(b)) for a, b in pads)
    padded = tuple(size + a + b for size, (a, b) in zip(xd.shape[1:3], pads))
    win = Windows(padded, tuple(wd.shape[:2]), strides, dilation, "valid", op)
    win.pads, win.padded = pads, padded  # the zeros stay implicit
    bd = None if bias is None else _tensor(bias, op, like=w).data
    out, _ = _depthwise_direct(xd, wd.reshape(wd.shape[0], wd.shape[1], 1, channels), bd, win,
                               "linear")
    return record(out, (), None)


def masked_mean(x, mask, axis=1, keepdims=False):
    """Mean of `x` over the steps `mask` keeps: `sum(x * mask) / sum(mask)`
    along `axis`, as tf.keras 2's masked `GlobalAveragePooling1D`.

    A row whose mask keeps nothing gives NaN (0 / 0), as in tf.keras; NumPy's
    warning for it is silenced because that NaN is the documented result.

    Args:
        x: input `(batch, steps, ...)`.
        mask: `(batch, steps)` booleans (or 0/1 numbers); not differentiated.
        axis: the steps axis, 1.
        keepdims: keep the steps axis as size 1.

    Example:
        >>> from kerasette import ops
        >>> x = ops.convert_to_tensor([[[1.0], [3.0], [100.0]]])
        >>> ops.conv.masked_mean(x, [[True, True, False]]).numpy().tolist()
        [[2.0]]
    """
    if axis != 1:
        raise ValueError(f"masked_mean: the steps axis must be 1. Received: axis={axis!r}")
    x = _tensor(x, "masked_mean")
    xd = x.data
    md = _tensor(mask, "masked_mean").data
    if xd.ndim < 2 or tuple(md.shape) != tuple(xd.shape[:2]):
        raise ValueError(f"masked_mean: the mask must have the shape (batch, steps) of the "
                         f"input's first two axes, {tuple(xd.shape[:2])}. Received: mask "
                         f"shape {tuple(md.shape)}, input shape {tuple(xd.shape)}.")
    weights = md.astype(xd.dtype).reshape(tuple(md.shape) + (1,) * (xd.ndim - 2))
    count = weights.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (xd * weights).sum(axis=1, keepdims=True) / count
    if not keepdims:
        out = out.reshape(out.shape[:1] + out.shape[2:])

    def backward(g, needs):
        g = g.reshape(count.shape[:1] + (1,) + tuple(g.shape[2 if keepdims else 1:]))
        with np.errstate(invalid="ignore", divide="ignore"):
            return ((g / count) * weights,)

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
