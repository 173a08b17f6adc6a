"""Window geometry and the im2col / col2im offset loop, over any number of
spatial axes: the one place every convolution and pooling op takes them from.

Arrays are channels-last: `(batch, *spatial, channels)`. A window of size
`k` with stride `s` and dilation `d` reads, for kernel offset `i`, the
strided slice `i * d, i * d + s, ...` of the padded input, one slice per
output position along that axis. Looping over the `prod(kernel)` offsets
(never over pixels or samples) and copying one such slice per offset
gathers the patches (`im2col`); adding them back scatters a patch gradient
(`col2im`). Both are plain slicing, so the same code runs on NumPy, the
strict backend and CuPy (no `as_strided`).

`"same"` padding follows TensorFlow: the output size is `ceil(in / stride)`
and the total padding `max((out - 1) * stride + k_eff - in, 0)` with
`k_eff = (k - 1) * dilation + 1`, of which the start gets `total // 2` and
the end the rest. `"causal"` (1-D only) pads `k_eff - 1` at the start and
nothing at the end, so output step `t` sees inputs `<= t`.
"""

from __future__ import annotations

import itertools
import numbers

import numpy as np

from kerasette.backend import conv_kernels
from kerasette.ops.core import xp

PADDINGS = ("valid", "same")


# -- argument checks ---------------------------------------------------------------
def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _ints(value, rank, what, op, allow_zero=False):
    """`value` as a tuple of `rank` positive ints (non-negative with
    `allow_zero`); an int means the same on every axis."""
    if _is_int(value):
        value = (int(value),) * rank
    try:
        out = tuple(int(v) for v in value)
        ok = len(out) == rank and all(_is_int(v) for v in value)
    except (TypeError, ValueError):
        ok = False
    if not ok or min(out) < (0 if allow_zero else 1):
        kind = "non-negative" if allow_zero else "positive"
        count = {1: "one", 2: "two", 3: "three"}.get(rank, str(rank))
        raise ValueError(f"{op}: `{what}` must be a {kind} int or a tuple of {count} {kind} "
                         f"ints. Received: {what}={value!r}")
    return out


def _pair(value, what, op):
    """`value` as a tuple of two positive ints (an int means both)."""
    return _ints(value, 2, what, op)


def _single(value, what, op):
    """`value` as one positive int (an int, or a tuple/list of one int, as
    Keras's 1-D layers and their configs spell it)."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    if not _is_int(value) or value <= 0:
        raise ValueError(f"{op}: `{what}` must be a positive int or a tuple of one positive "
                         f"int. Received: {what}={value!r}")
    return int(value)


def _spatial(value, rank, what, op):
    """One positive int per spatial axis, as a tuple (1-D ops take Keras's
    1-D spellings: an int or a tuple of one int)."""
    if rank == 1:
        return (_single(value, what, op),)
    return _ints(value, rank, what, op)


def _padding(padding, op, causal=False):
    p = padding.lower() if isinstance(padding, str) else padding
    allowed = PADDINGS + (("causal",) if causal else ())
    if p not in allowed:
        names = "'valid', 'same' or 'causal'" if causal else "'valid' or 'same'"
        raise ValueError(f"{op}: `padding` must be {names}. Received: padding={padding!r}")
    return p


def check_rank(xd, rank, op):
    """Refuses an input that is not `(batch, *rank spatial axes, channels)`."""
    if xd.ndim != rank + 2:
        axes = {1: "steps", 2: "height, width", 3: "depth, height, width"}[rank]
        raise ValueError(f"{op} expects a {rank + 2}-D input (batch, {axes}, channels). "
                         f"Received an input of shape {tuple(xd.shape)}.")


# -- sizes -------------------------------------------------------------------------
def output_length(size, k, stride, dilation, padding):
    """Output size along one spatial axis (`None` stays `None`)."""
    if size is None:
        return None
    if padding in ("same", "causal"):
        return -(-size // stride)
    span = (k - 1) * dilation + 1
    return (size - span) // stride + 1 if size >= span else 0


def deconv_output_length(size, k, stride, dilation, padding, output_padding=None):
    """Output size of a transposed convolution along one axis, tf.keras 2's
    `conv_utils.deconv_output_length` (`None` stays `None`)."""
    if size is None:
        return None
    span = (k - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return size * stride + max(span - stride, 0)
        return size * stride
    pad = span // 2 if padding == "same" else 0
    return (size - 1) * stride + span - 2 * pad + output_padding


def _geometry(size, k, stride, dilation, padding, op):
    """`(out, pad_before, pad_after)` along one spatial axis, TF's rules."""
    span = (k - 1) * dilation + 1
    if padding == "same":
        out = -(-size // stride)
        total = max((out - 1) * stride + span - size, 0)
        return out, total // 2, total - total // 2
    if padding == "causal":  # all at the start; the last window ends at the last step
        return -(-size // stride), span - 1, 0
    if size < span:
        raise ValueError(
            f"{op}: the window (size {k}, dilation {dilation}, so spanning {span}) is larger "
            f"than the input ({size}) with padding='valid'. Use a smaller window, "
            "padding='same', or a larger input."
        )
    return (size - span) // stride + 1, 0, 0


class Windows:
    """Where the windows of a convolution or pooling lie in a padded input.

    Attributes:
        kernel, strides, dilation: per spatial axis.
        out: the output's spatial sizes.
        pads: `((before, after), ...)` per spatial axis.
        padded: the padded input's spatial sizes.
    """

    def __init__(self, spatial, kernel, strides, dilation, padding, op):
        geo = [_geometry(size, k, s, d, padding, op)
               for size, k, s, d in zip(spatial, kernel, strides, dilation)]
        self.kernel, self.strides, self.dilation = tuple(kernel), tuple(strides), tuple(dilation)
        self.out = tuple(g[0] for g in geo)
        self.pads = tuple((g[1], g[2]) for g in geo)
        self.padded = tuple(size + b + a for size, (b, a) in zip(spatial, self.pads))

    @classmethod
    def transposed(cls, spatial, out, kernel, strides, dilation, padding, op):
        """The windows of the convolution whose input gradient a transposed
        convolution from `spatial` to `out` computes (TensorFlow's
        `conv2d_backprop_input`: the padding of a convolution of `out`)."""
        w = cls(out, kernel, strides, dilation, padding, op)
        if w.out != tuple(spatial):
            raise ValueError(
                f"{op}: an output of size {tuple(out)} does not convolve back to the input's "
                f"size {tuple(spatial)} (kernel {tuple(kernel)}, strides {tuple(strides)}, "
                f"padding={padding!r}), which TensorFlow refuses too. Change output_padding "
                "or the kernel size.")
        return w

    @property
    def any_padding(self):
        return any(b or a for b, a in self.pads)

    def offsets(self):
        """`(index, slices)` per kernel offset in row-major order: `index`
        into the kernel axes, `slices` into the padded spatial axes."""
        axes = [[(i, slice(i * d, i * d + s * (o - 1) + 1, s)) for i in range(k)]
                for k, s, d, o in zip(self.kernel, self.strides, self.dilation, self.out)]
        for combo in itertools.product(*axes):
            yield tuple(c[0] for c in combo), tuple(c[1] for c in combo)


# -- padding and cropping ------------------------------------------------------------
def _pad_array(a, pads, value=0.0):
    """`a` padded on its spatial axes by `pads` with `value`; `a` itself when
    there is nothing to pad."""
    if not any(b or e for b, e in pads):
        return a
    shape = (a.shape[0],) + tuple(s + b + e for s, (b, e) in zip(a.shape[1:-1], pads)) \
        + (a.shape[-1],)
    out = xp().full(shape, value, dtype=a.dtype)
    out[_inner(a.shape, pads)] = a
    return out


def _inner(shape, pads):
    """The index of the unpadded part of a padded array."""
    return (slice(None),) + tuple(slice(b, b + s) for s, (b, _) in zip(shape[1:-1], pads)) \
        + (slice(None),)


def _crop(a, pads):
    """The unpadded part of a padded array (a view)."""
    if not any(b or e for b, e in pads):
        return a
    return a[(slice(None),) + tuple(slice(b, s - e) for s, (b, e) in zip(a.shape[1:-1], pads))
             + (slice(None),)]


# -- im2col / col2im -----------------------------------------------------------------
# From this many channels on, NumPy gathers patches faster through one copy of
# a sliding-window view (its inner loop spans kw * channels contiguous floats)
# than through prod(kernel) slice copies (inner loop: channels floats).
_WINDOW_VIEW_MIN_CHANNELS = 8


def _im2col(padded, win):
    """Patches `(batch, *out, *kernel, channels)` of a padded input, copied once."""
    rank = len(win.kernel)
    c = padded.shape[-1]
    if c >= _WINDOW_VIEW_MIN_CHANNELS and isinstance(padded, np.ndarray):
        # NumPy backend only: a read-only view, copied at once (no as_strided
        # writes, so none of its pitfalls). Other backends take the loop.
        spans = tuple((k - 1) * d + 1 for k, d in zip(win.kernel, win.dilation))
        view = np.lib.stride_tricks.sliding_window_view(padded, spans,
                                                        axis=tuple(range(1, rank + 1)))
        view = view[(slice(None),)
                    + tuple(slice(None, (o - 1) * s + 1, s) for o, s in zip(win.out, win.strides))
                    + (slice(None),) + tuple(slice(None, None, d) for d in win.dilation)]
        order = (0,) + tuple(range(1, rank + 1)) + tuple(range(rank + 2, 2 * rank + 2)) \
            + (rank + 1,)
        return np.ascontiguousarray(view.transpose(order))
    cols = xp().empty((padded.shape[0],) + win.out + win.kernel + (c,), dtype=padded.dtype)
    lead = (slice(None),) * (rank + 1)
    for index, slices in win.offsets():
        cols[lead + index] = padded[(slice(None),) + slices]
    return cols


def _col2im(cols, win, batch, channels, dtype):
    """The padded-input gradient of `_im2col`: each patch added back where it
    was read. `cols` is `(batch, *out, *kernel, channels)`. With numba, 2-D
    gradients take the same loop compiled, image by image
    (`_numba_conv.col2im2d`)."""
    rank = len(win.kernel)
    m = xp()
    if rank == 2 and cols.dtype == dtype and conv_kernels.enabled(m, cols):
        # The same loop compiled, image by image so that each image's
        # gradient stays in the cache (the same bits); the images split
        # between the BLAS threads.
        grad = m.empty((batch,) + win.padded + (channels,), dtype=dtype)
        conv_kernels.run_split(conv_kernels.module().col2im2d, batch,
                               lambda a, b: (cols[a:b], grad[a:b], *win.strides, *win.dilation),
                               cols.size)
        return grad
    grad = m.zeros((batch,) + win.padded + (channels,), dtype=dtype)
    lead = (slice(None),) * (rank + 1)
    for index, slices in win.offsets():
        grad[(slice(None),) + slices] += cols[lead + index]
    return grad
