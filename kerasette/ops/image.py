"""Image ops: resizing and projective warps, batched and differentiable.

Images are channels-last, `(batch, height, width, channels)`. Every op
computes its sample positions for the whole batch at once and reads the
pixels with ONE gather per corner (flat indices), so there is no Python
loop over images or pixels and the same code runs on NumPy, the strict
backend and CuPy.

`resize` follows `tf.image.resize` (TF 2, `antialias=False`):

- `"bilinear"`: half-pixel centres. Output pixel `i` samples the input at
  `s = (i + 0.5) * in / out - 0.5`; with `f = floor(s)` the two source rows
  are `max(f, 0)` and `min(ceil(s), in - 1)` and the weight of the second
  is `s - f`. Rows first, then columns, as
  `top = tl + (tr - tl) * dx; out = top + (bottom - top) * dy` in float32.
- `"nearest"`: source `min(floor((i + 0.5) * in / out), in - 1)`.

`affine_transform` follows TensorFlow's `ImageProjectiveTransformV3` (the
kernel behind tf.keras 2's `RandomRotation`, `RandomZoom` and
`RandomTranslation`). A transform `[a0, a1, a2, b0, b1, b2, c0, c1]` maps
an OUTPUT pixel `(x, y)` to the INPUT point
`((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)` with `k = c0 x + c1 y + 1`.
Input points outside the image are brought back by `fill_mode`:

- `"reflect"`: `(d c b a | a b c d | d c b a)`, reflecting about the edge
  of the last pixel;
- `"wrap"`: `(a b c d | a b c d | a b c d)`;
- `"nearest"`: `(a a a a | a b c d | d d d d)`;
- `"constant"`: `(k k k k | a b c d | k k k k)` with `k = fill_value`;
  a point outside `[0, size - 1]` takes `fill_value` whole.

then read with `"nearest"` (round half away from zero) or `"bilinear"`
interpolation (a neighbour outside the image reads `fill_value`, with
weight zero in every mode but `"constant"`). TensorFlow's own arithmetic
is kept, including its quirk in `"wrap"`, which divides by `size - 1` but
shifts by `size`. Both ops pass gradients to the images (not to the
transforms), as TensorFlow's do.
"""

from __future__ import annotations

import numbers

import numpy as np

from kerasette.ops.core import _tensor, record, xp

INTERPOLATIONS = ("bilinear", "nearest")
FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def check_interpolation(interpolation, op, allowed=INTERPOLATIONS):
    if interpolation not in allowed:
        raise ValueError(f"{op}: argument `interpolation` must be one of "
                         f"{', '.join(map(repr, allowed))}. Received: "
                         f"interpolation={interpolation!r}")
    return interpolation


def check_fill_mode(fill_mode, op):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"{op}: argument `fill_mode` must be one of "
                         f"{', '.join(map(repr, FILL_MODES))}. Received: fill_mode={fill_mode!r}")
    return fill_mode


def check_size(size, op, what="size"):
    """`size` as a `(height, width)` pair of positive ints."""
    try:
        pair = tuple(size)
    except TypeError:
        pair = ()
    if len(pair) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                 and v > 0 for v in pair):
        raise ValueError(f"{op}: argument `{what}` must be a tuple of two positive ints "
                         f"(height, width). Received: {what}={size!r}")
    return int(pair[0]), int(pair[1])


def _batched(x, op):
    """`(images, unbatched)`: a 3-D image gets a batch axis of one."""
    if x.ndim == 3:
        return x.reshape((1,) + tuple(x.shape)), True
    if x.ndim != 4:
        raise ValueError(f"{op} expects images of shape (batch, height, width, channels) or "
                         f"(height, width, channels). Received: shape={tuple(x.shape)}")
    return x, False


# -- resize --------------------------------------------------------------------------
def _source_positions(m, in_size, out_size, interpolation):
    """Per output row: `(lower, upper, weight of upper)` in TF's float32 arithmetic."""
    scale = float(np.float32(in_size) / np.float32(out_size))  # float32 value, kept float32
    i = m.arange(out_size, dtype="float32")
    if interpolation == "nearest":
        lower = m.minimum(m.floor((i + 0.5) * scale), in_size - 1)
        lower = m.maximum(lower, 0).astype("int64")
        return lower, lower, None
    s = (i + 0.5) * scale - 0.5
    f = m.floor(s)
    lower = m.maximum(f, 0).astype("int64")
    upper = m.minimum(m.ceil(s), in_size - 1).astype("int64")
    return lower, upper, s - f


def resize_array(m, x, height, width, interpolation="bilinear"):
    """`tf.image.resize` of a NHWC array `x` with the array module `m`
    (NumPy on the host, or the backend's `xp` on the device)."""
    n, in_h, in_w, c = x.shape
    y0, y1, dy = _source_positions(m, in_h, height, interpolation)
    x0, x1, dx = _source_positions(m, in_w, width, interpolation)
    if interpolation == "nearest":
        return m.take(m.take(x, y0, axis=1), x0, axis=2)
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype("float32")
    x = x.astype(dtype, copy=False)
    dx = dx.astype(dtype)[None, None, :, None]
    dy = dy.astype(dtype)[None, :, None, None]
    top_rows = m.take(x, y0, axis=1)
    bottom_rows = m.take(x, y1, axis=1)
    top_left = m.take(top_rows, x0, axis=2)
    top = top_left + (m.take(top_rows, x1, axis=2) - top_left) * dx
    bottom_left = m.take(bottom_rows, x0, axis=2)
    bottom = bottom_left + (m.take(bottom_rows, x1, axis=2) - bottom_left) * dx
    return top + (bottom - top) * dy


def _weight_matrix(m, in_size, out_size, interpolation, dtype):
    """The `(out, in)` matrix of the 1-D resize, for the backward pass."""
    lower, upper, w = _source_positions(m, in_size, out_size, interpolation)
    cols = m.arange(in_size)[None, :]
    if w is None:
        return (cols == lower[:, None]).astype(dtype)
    w = w.astype(dtype)[:, None]
    return (cols == lower[:, None]).astype(dtype) * (1 - w) + (cols == upper[:, None]) * w


def crop_box(in_h, in_w, height, width):
    """`smart_resize`'s centred crop `(top, left, crop_h, crop_w)`: the largest
    window with the target aspect ratio (TF's float32 arithmetic)."""
    crop_h = min(in_h, int(np.float32(in_w * height) / np.float32(width)))
    crop_w = min(in_w, int(np.float32(in_h * width) / np.float32(height)))
    return (in_h - crop_h) // 2, (in_w - crop_w) // 2, crop_h, crop_w


def resize(images, size, interpolation="bilinear", crop_to_aspect_ratio=False):
    """Resizes images as `tf.image.resize` does (half-pixel centres, no antialias).

    Args:
        images: `(batch, height, width, channels)` or `(height, width,
            channels)` tensor.
        size: `(height, width)` of the result.
        interpolation: `"bilinear"` or `"nearest"`.
        crop_to_aspect_ratio: first crop the largest centred window with the
            target aspect ratio (tf.keras 2's `smart_resize`).

    Returns:
        The resized images: float32 for `"bilinear"` (float64 stays float64),
        the input dtype for `"nearest"`.

    Example:
        >>> import numpy as np
        >>> from kerasette import ops
        >>> x = ops.convert_to_tensor(np.arange(4, dtype="float32").reshape(1, 2, 2, 1))
        >>> resize(x, (4, 4))[0, :, :, 0].numpy()[0].tolist()
        [0.0, 0.25, 0.75, 1.0]
    """
    height, width = check_size(size, "resize")
    check_interpolation(interpolation, "resize")
    x = _tensor(images, "image.resize")
    xd, unbatched = _batched(x.data, "resize")
    m = xp()
    if crop_to_aspect_ratio:
        top, left, ch, cw = crop_box(xd.shape[1], xd.shape[2], height, width)
        xd = xd[:, top:top + ch, left:left + cw]
    else:
        top, left, ch, cw = 0, 0, xd.shape[1], xd.shape[2]
    out = resize_array(m, xd, height, width, interpolation)
    in_shape = x.data.shape

    def backward(g, needs):
        gb = g.reshape((1,) + g.shape) if unbatched else g
        wy = _weight_matrix(m, ch, height, interpolation, gb.dtype)
        wx = _weight_matrix(m, cw, width, interpolation, gb.dtype)
        # The resize is linear: its transpose maps the output gradient back.
        gc = m.einsum("oh,nopc,pw->nhwc", wy, gb, wx)
        if (ch, cw) != tuple(in_shape[-3:-1]):
            full = m.zeros(((1,) if unbatched else in_shape[:1]) + tuple(in_shape[-3:]),
                           dtype=gc.dtype)
            full[:, top:top + ch, left:left + cw] = gc
            gc = full
        return (gc.reshape(in_shape).astype(x.data.dtype, copy=False),)

    if unbatched:
        out = out[0]
    return record(out, (x,), backward)


# -- projective warps ---------------------------------------------------------------
def _map_coordinate(m, coord, size, fill_mode, flavour="tf"):
    """Brings float32 input coordinates back into the image by `fill_mode`.

    `flavour="scipy"` gives `scipy.ndimage`'s legacy `"wrap"` (period
    `size - 1`), which `ImageDataGenerator` inherits; the other modes agree.
    """
    if fill_mode == "constant":
        return coord
    if fill_mode == "nearest" or size <= 1:
        return m.clip(coord, 0, size - 1) if size > 1 else m.zeros_like(coord)
    last = size - 1
    if fill_mode == "reflect":
        sz2 = 2 * size
        neg = sz2 * m.trunc(-coord / sz2) + coord
        neg = m.where(neg < -size, neg + sz2, -neg - 1)
        pos = coord - sz2 * m.trunc(coord / sz2)
        pos = m.where(pos >= size, sz2 - pos - 1, pos)
    else:  # wrap
        period = size if flavour == "tf" else last
        neg = coord + period * (m.trunc(-coord / last) + 1)
        pos = coord - period * m.trunc(coord / last)
    mapped = m.where(coord < 0, neg, m.where(coord > last, pos, coord))
    return m.clip(mapped, 0, last)


def _round_half_away(m, v):
    """`std::round` for `v >= 0` (NumPy rounds halves to even)."""
    f = m.floor(v)
    return f + (v - f >= 0.5)


def _sample_plan(m, transforms, n, in_h, in_w, out_h, out_w, interpolation, fill_mode,
                 flavour):
    """Where each output pixel reads: `(corners, weights, outside)`.

    `corners` lists `(flat pixel index, inside)` pairs, each `(n, out_h,
    out_w)`: one for `"nearest"`, four (y0x0, y0x1, y1x0, y1x1) for
    `"bilinear"`, whose `weights` are `(x1 - x, x - x0, y1 - y, y - y0)`.
    `outside` marks the outputs that are `fill_value` whole.
    """
    coord = "float32" if flavour == "tf" else "float64"  # scipy computes in float64
    t = transforms.astype(coord)
    if t.shape[0] == 1 and n > 1:
        t = m.broadcast_to(t, (n, 8))
    t = t[:, :, None, None]
    ox = m.arange(out_w, dtype=coord)[None, None, :]
    oy = m.arange(out_h, dtype=coord)[None, :, None]
    k = t[:, 6] * ox + t[:, 7] * oy + 1.0
    infinite = k == 0
    k = m.where(infinite, 1.0, k).astype(coord)
    x = (t[:, 0] * ox + t[:, 1] * oy + t[:, 2]) / k
    y = (t[:, 3] * ox + t[:, 4] * oy + t[:, 5]) / k
    x = _map_coordinate(m, x, in_w, fill_mode, flavour)
    y = _map_coordinate(m, y, in_h, fill_mode, flavour)
    outside = infinite | (x < 0) | (x > in_w - 1) | (y < 0) | (y > in_h - 1)
    base = (m.arange(n) * (in_h * in_w))[:, None, None]

    def corner(yi, xi):
        inside = (yi >= 0) & (yi < in_h) & (xi >= 0) & (xi < in_w) & ~outside
        yi = m.clip(yi, 0, in_h - 1).astype("int64")
        xi = m.clip(xi, 0, in_w - 1).astype("int64")
        return base + yi * in_w + xi, inside

    if interpolation == "nearest":
        return [corner(_round_half_away(m, y), _round_half_away(m, x))], None, outside
    y0 = m.floor(y)
    x0 = m.floor(x)
    y1, x1 = y0 + 1, x0 + 1
    corners = [corner(y0, x0), corner(y0, x1), corner(y1, x0), corner(y1, x1)]
    return corners, (x1 - x, x - x0, y1 - y, y - y0), outside


def _warp_forward(m, flat, corners, weights, outside, fill_value, fill_mode):
    dtype = flat.dtype
    fill = dtype.type(fill_value)

    def read(idx, inside):
        if fill_mode != "constant":
            # Mapped points lie inside, so a neighbour outside has weight 0;
            # its clipped index reads a finite pixel instead of fill_value.
            return m.take(flat, idx, axis=0)
        return m.where(inside[..., None], m.take(flat, idx, axis=0), fill)

    if weights is None:
        return m.where(outside[..., None], fill, read(*corners[0]))
    wx0, wx1, wy0, wy1 = (w.astype(dtype)[..., None] for w in weights)
    # TF's order: along x on the upper and lower rows, then along y.
    upper = wx0 * read(*corners[0]) + wx1 * read(*corners[1])
    lower = wx0 * read(*corners[2]) + wx1 * read(*corners[3])
    return m.where(outside[..., None], fill, wy0 * upper + wy1 * lower)


def _corner_weights(weights):
    if weights is None:
        return [None]
    wx0, wx1, wy0, wy1 = weights
    return [wy0 * wx0, wy0 * wx1, wy1 * wx0, wy1 * wx1]


def _scatter(m, idx, values, rows, channels):
    """Sums `values` (..., C) into `rows` rows at `idx` (...)."""
    flat_idx = (idx.reshape(-1, 1) * channels + m.arange(channels)[None, :]).reshape(-1)
    summed = m.bincount(flat_idx, weights=values.reshape(-1).astype("float64"),
                        minlength=rows * channels)
    return summed.reshape(rows, channels)


def warp_array(m, x, transforms, interpolation="bilinear", fill_mode="reflect",
               fill_value=0.0, flavour="tf"):
    """`affine_transform` of a NHWC array `x` by `(n or 1, 8)` transforms with
    the array module `m`; returns `(warped, plan)`, the plan for a backward."""
    n, in_h, in_w, c = x.shape
    corners, weights, outside = _sample_plan(m, transforms, n, in_h, in_w, in_h, in_w,
                                             interpolation, fill_mode, flavour)
    flat = x.reshape(n * in_h * in_w, c)
    if flat.dtype.kind != "f":
        flat = flat.astype("float32")
    return (_warp_forward(m, flat, corners, weights, outside, fill_value, fill_mode),
            (corners, weights))


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0.0):
    """Warps images by projective transforms, as TensorFlow's
    `ImageProjectiveTransformV3` (see the module docstring for the rules).

    Args:
        images: `(batch, height, width, channels)` or `(height, width,
            channels)` tensor.
        transform: `(8,)` or `(batch, 8)` array of
            `[a0, a1, a2, b0, b1, b2, c0, c1]`, each mapping output pixels to
            input points; one row is used for the whole batch.
        interpolation: `"bilinear"` or `"nearest"`.
        fill_mode: `"constant"` (Keras 3's default for this op; the layers
            default to `"reflect"`), `"reflect"`, `"wrap"` or `"nearest"`.
        fill_value: the value of points outside for `"constant"`.

    Returns:
        The warped images, float32 (float64 stays float64).

    Example:
        >>> import numpy as np
        >>> from kerasette import ops
        >>> x = ops.convert_to_tensor(np.arange(4, dtype="float32").reshape(1, 1, 4, 1))
        >>> shift_right = [1, 0, -1, 0, 1, 0, 0, 0]
        >>> affine_transform(x, shift_right)[0, 0, :, 0].numpy().tolist()
        [0.0, 0.0, 1.0, 2.0]
    """
    check_interpolation(interpolation, "affine_transform")
    check_fill_mode(fill_mode, "affine_transform")
    x = _tensor(images, "image.affine_transform")
    xd, unbatched = _batched(x.data, "affine_transform")
    m = xp()
    t = _tensor(transform, "image.affine_transform").data
    t = t.reshape(-1, 8)
    if t.shape[0] not in (1, xd.shape[0]):
        raise ValueError("affine_transform: `transform` must have shape (8,) or (batch, 8). "
                         f"Received: shape={tuple(t.shape)} for a batch of {xd.shape[0]}")
    out, (corners, weights) = warp_array(m, xd, t, interpolation, fill_mode, fill_value)
    in_shape = x.data.shape
    n, in_h, in_w, c = xd.shape

    def backward(g, needs):
        gb = g.reshape((1,) + g.shape) if unbatched else g
        total = None
        for (idx, inside), w in zip(corners, _corner_weights(weights)):
            w = inside.astype(gb.dtype) if w is None else w.astype(gb.dtype) * inside
            part = _scatter(m, idx, gb * w[..., None], n * in_h * in_w, c)
            total = part if total is None else total + part
        return (total.reshape(in_shape).astype(x.data.dtype),)

    if unbatched:
        out = out[0]
    return record(out, (x,), backward)


# -- transforms of the random layers (tf.keras 2's formulas) ------------------------
def rotation_transforms(m, angles, height, width):
    """`(n, 8)` transforms rotating by `angles` (radians, counter-clockwise)
    about the image centre, as tf.keras 2's `get_rotation_matrix`."""
    cos, sin = m.cos(angles), m.sin(angles)
    x_offset = ((width - 1) - (cos * (width - 1) - sin * (height - 1))) / 2.0
    y_offset = ((height - 1) - (sin * (width - 1) + cos * (height - 1))) / 2.0
    zeros = m.zeros_like(angles)
    return m.stack([cos, -sin, x_offset, sin, cos, y_offset, zeros, zeros], axis=1)


def zoom_transforms(m, zoom_x, zoom_y, height, width):
    """`(n, 8)` zoom transforms about the centre (`get_zoom_matrix`): a factor
    above 1 zooms out."""
    x_offset = ((width - 1.0) / 2.0) * (1.0 - zoom_x)
    y_offset = ((height - 1.0) / 2.0) * (1.0 - zoom_y)
    zeros = m.zeros_like(zoom_x)
    return m.stack([zoom_x, zeros, x_offset, zeros, zoom_y, y_offset, zeros, zeros], axis=1)


def translation_transforms(m, dx, dy):
    """`(n, 8)` transforms moving the image by `(dx, dy)` pixels
    (`get_translation_matrix`): positive moves right and down."""
    ones, zeros = m.ones_like(dx), m.zeros_like(dx)
    return m.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=1)


__all__ = ["affine_transform", "resize"]
