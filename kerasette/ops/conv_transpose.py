"""Transposed convolutions (1-D, 2-D), as fused ops.

A transposed convolution is the input gradient of a convolution, run
forward (TensorFlow's `conv2d_transpose` is `conv2d_backprop_input`): with
the kernel `(*k, filters, in_channels)` as Keras lays it out, each input
pixel's `in_channels` values are spread by ONE matrix product over its
`prod(k) * filters` window (`X W^T`), and the windows are added into the
output by `conv_geometry`'s col2im. Its backward is the convolution's
forward: im2col of the output gradient times `W` gives `dX`, and
`patches^T X` gives `dW`. So the same two halves serve both directions.

Output sizes follow tf.keras 2 (`deconv_output_length`): without
`output_padding`, `in * stride` for `"same"` and
`in * stride + max(k_eff - stride, 0)` for `"valid"`; with it,
`(in - 1) * stride + k_eff - 2 * pad + output_padding` (`pad = k_eff // 2`
for `"same"`, 0 for `"valid"`), where `k_eff = (k - 1) * dilation + 1`.
The window positions are those of the convolution that maps that output
back to the input (TensorFlow's padding of it), so the extra rows that
`output_padding` adds at the end receive only the bias.
"""

from __future__ import annotations

import math

from kerasette.ops.conv import _fused_activation
from kerasette.ops.conv_geometry import (Windows, _col2im, _crop, _im2col, _ints, _pad_array,
                                         _padding, _spatial, check_rank, deconv_output_length)
from kerasette.ops.core import _tensor, record, xp
from kerasette.ops.nn import _act_backward, _act_inplace

_KERNEL_AXES = {1: "k", 2: "kh, kw", 3: "kd, kh, kw"}


def output_padding_arg(output_padding, strides, kernel, dilation, padding, op):
    """`output_padding` as one non-negative int per axis (or `None`), each
    smaller than its stride (Keras's rule). With `"same"` padding an even
    dilated kernel needs at least 1 on its axis: 0 gives an output that
    does not convolve back to the input, which TensorFlow refuses at call
    time and this refuses at once."""
    if output_padding is None:
        return None
    if len(strides) == 1 and isinstance(output_padding, (list, tuple)) \
            and len(output_padding) == 1:
        output_padding = output_padding[0]
    pads = _ints(output_padding, len(strides), "output_padding", op, allow_zero=True)
    if any(p >= s for p, s in zip(pads, strides)):
        raise ValueError(f"{op}: strides must be greater than output padding. Received "
                         f"strides={tuple(strides)}, output_padding={pads}.")
    if padding == "same" and any(p == 0 and ((k - 1) * d + 1) % 2 == 0
                                 for p, k, d in zip(pads, kernel, dilation)):
        raise ValueError(f"{op}: with padding='same', an axis whose dilated kernel size is "
                         f"even needs output_padding >= 1 (0 makes an output that does not "
                         f"convolve back to the input). Received: kernel_size={tuple(kernel)}, "
                         f"dilation_rate={tuple(dilation)}, output_padding={pads}.")
    return pads


def transposed_shape(spatial, kernel, strides, dilation, padding, output_padding):
    """The output's spatial sizes for input sizes `spatial` (`None` stays)."""
    pads = output_padding or (None,) * len(spatial)
    return tuple(deconv_output_length(size, k, s, d, padding, p) for size, k, s, d, p in zip(
        spatial, kernel, strides, dilation, pads))


def _conv_transpose_kernel(xd, wd, bd, out_spatial, strides, dilation, padding, activation,
                           op):
    """The transposed convolution on arrays: `(out, backward)` for a
    channels-last `xd`, kernel `wd` `(*k, filters, in)`, bias `bd` (or
    None), output sizes `out_spatial`. `backward(g, needs)` gives
    `(dx, dw[, db])`."""
    rank = xd.ndim - 2
    n, cin = xd.shape[0], xd.shape[-1]
    ksize, cout = tuple(wd.shape[:rank]), wd.shape[rank]
    win = Windows.transposed(xd.shape[1:-1], out_spatial, ksize, strides, dilation, padding, op)
    taps = math.prod(ksize)
    w2 = wd.reshape(taps * cout, cin)
    x2 = xd.reshape(-1, cin)
    cols = (x2 @ w2.T).reshape((n,) + tuple(xd.shape[1:-1]) + ksize + (cout,))
    z = _crop(_col2im(cols, win, n, cout, xd.dtype), win.pads)
    del cols
    # The activation writes in place into a buffer the op owns (the crop is a view).
    z = z + bd if bd is not None else xp().ascontiguousarray(z)
    a = _act_inplace(activation, z)

    def backward(g, needs):
        dz = _act_backward(activation, g.reshape(a.shape), a)
        grads = (None, None)
        if needs[0] or needs[1]:
            dcols = _im2col(_pad_array(dz, win.pads), win).reshape(x2.shape[0], taps * cout)
            grads = ((dcols @ w2).reshape(xd.shape) if needs[0] else None,
                     (dcols.T @ x2).reshape(wd.shape) if needs[1] else None)
        if bd is not None:
            grads += (dz.reshape(-1, cout).sum(axis=0) if needs[2] else None,)
        return grads

    return a, backward


def _conv_transpose(op, rank, x, kernel, bias, strides, padding, output_padding,
                    dilation_rate, activation):
    activation = _fused_activation(activation, op)
    strides = _spatial(strides, rank, "strides", op)
    dilation = _spatial(dilation_rate, rank, "dilation_rate", op)
    padding = _padding(padding, op)
    w = _tensor(kernel, op)
    x = _tensor(x, op, like=w)
    b = None if bias is None else _tensor(bias, op, like=w)
    xd, wd = x.data, w.data
    check_rank(xd, rank, op)
    cin = xd.shape[-1]
    if wd.ndim != rank + 2 or wd.shape[-1] != cin:
        raise ValueError(f"{op}: the kernel must be ({_KERNEL_AXES[rank]}, filters, {cin}) for "
                         f"an input with {cin} channels (the last axis is the input's). "
                         f"Received: kernel shape {tuple(wd.shape)}, input shape "
                         f"{tuple(xd.shape)}.")
    if b is not None and tuple(b.shape) != (wd.shape[-2],):
        raise ValueError(f"{op}: the bias must have shape ({wd.shape[-2]},), one value per "
                         f"filter. Received: bias shape {tuple(b.shape)}.")
    ksize = tuple(wd.shape[:rank])
    output_padding = output_padding_arg(output_padding, strides, ksize, dilation, padding, op)
    out_spatial = transposed_shape(xd.shape[1:-1], ksize, strides, dilation, padding,
                                   output_padding)
    out, backward = _conv_transpose_kernel(xd, wd, None if b is None else b.data, out_spatial,
                                           strides, dilation, padding, activation, op)
    return record(out, (x, w) if b is None else (x, w, b), backward)


def conv2d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1, activation="linear"):
    """2-D transposed convolution (the input gradient of `conv2d`, as
    `tf.nn.conv2d_transpose`), with an optional bias and a fused activation.

    Args:
        x: input `(batch, height, width, in_channels)`.
        kernel: `(kh, kw, filters, in_channels)` (Keras's Conv2DTranspose
            layout: the output channels come before the input's).
        bias: `(filters,)` or `None`.
        strides: int or pair.
        padding: `"valid"` or `"same"`.
        output_padding: `None`, an int or a pair, each smaller than its
            stride: rows/columns added at the end of the output.
        dilation_rate: int or pair.
        activation: one of `FUSED_ACTIVATIONS` (or `None` for linear).

    Returns:
        Tensor `(batch, out_h, out_w, filters)` (sizes: see the module).

    Example:
        >>> from kerasette import ops
        >>> ops.conv2d_transpose(ops.ones((2, 4, 4, 3)), ops.ones((3, 3, 5, 3)), strides=2,
        ...                      padding="same").shape
        (2, 8, 8, 5)
    """
    return _conv_transpose("conv2d_transpose", 2, x, kernel, bias, strides, padding,
                           output_padding, dilation_rate, activation)


def conv1d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1, activation="linear"):
    """1-D transposed convolution (the input gradient of `conv1d`), with an
    optional bias and a fused activation.

    Args:
        x: input `(batch, steps, in_channels)`.
        kernel: `(k, filters, in_channels)` (Keras's Conv1DTranspose layout).
        bias: `(filters,)` or `None`.
        strides: int (or a tuple of one int).
        padding: `"valid"` or `"same"`.
        output_padding: `None` or an int smaller than `strides`.
        dilation_rate: int (or a tuple of one int).
        activation: one of `FUSED_ACTIVATIONS` (or `None` for linear).

    Returns:
        Tensor `(batch, out_steps, filters)`.

    Example:
        >>> from kerasette import ops
        >>> ops.conv1d_transpose(ops.ones((2, 5, 3)), ops.ones((3, 4, 3)), strides=2).shape
        (2, 11, 4)
    """
    return _conv_transpose("conv1d_transpose", 1, x, kernel, bias, strides, padding,
                           output_padding, dilation_rate, activation)
