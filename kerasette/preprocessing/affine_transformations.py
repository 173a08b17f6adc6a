"""The affine warp of `ImageDataGenerator`, as tf.keras 2's
`apply_affine_transform` (`scipy.ndimage.affine_transform` with Keras's
matrix), computed without SciPy by `kerasette.ops.image.warp_array` for a
whole batch at once; and the other per-image steps (flips, channel and
brightness shifts).
"""

from __future__ import annotations

import numpy as np

from kerasette.ops import image as image_ops
from kerasette.preprocessing.image_utils import array_to_img, img_to_array, pil_image


def transform_matrix_offset_center(matrix, x, y):
    """`matrix` about the image centre (Keras's helper, same arguments)."""
    o_x, o_y = float(x) / 2 - 0.5, float(y) / 2 - 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return offset @ matrix @ reset


def _affine_matrix(theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, h=1, w=1, swap=True):
    """Keras's 3x3 matrix (input coordinates from output ones), or None."""
    matrix = None

    def chain(step):
        return step if matrix is None else matrix @ step

    if theta != 0:
        t = np.deg2rad(theta)
        matrix = chain(np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0],
                                 [0, 0, 1]]))
    if tx != 0 or ty != 0:
        matrix = chain(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]))
    if shear != 0:
        s = np.deg2rad(shear)
        matrix = chain(np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        matrix = chain(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]]))
    if matrix is None:
        return None
    matrix = transform_matrix_offset_center(matrix, h, w)
    if swap:  # Keras: "swap the x and y axes" (P M P) when col_axis > row_axis
        matrix = matrix[[1, 0, 2]][:, [1, 0, 2]]
    return matrix


def _warp_params(matrix):
    """Keras's `(row, col)` matrix as a `[a0, a1, a2, b0, b1, b2, 0, 0]`
    transform on `(x=col, y=row)`."""
    return [matrix[1, 1], matrix[1, 0], matrix[1, 2], matrix[0, 1], matrix[0, 0],
            matrix[0, 2], 0.0, 0.0]


def _warp_batch(images, matrices, fill_mode, cval, order):
    """Warps a channels-last batch by per-image matrices (None: untouched)."""
    todo = [i for i, m in enumerate(matrices) if m is not None]
    if not todo:
        return images
    params = np.array([_warp_params(matrices[i]) for i in todo], dtype="float64")
    warped, _ = image_ops.warp_array(np, images[todo], params,
                                     "bilinear" if order == 1 else "nearest", fill_mode,
                                     cval, flavour="scipy")
    images = images.copy()
    images[todo] = warped.astype(images.dtype, copy=False)
    return images


def _check_order(order):
    if order not in (0, 1):
        raise NotImplementedError("ImageDataGenerator: `interpolation_order` 0 (nearest) and "
                                  "1 (linear) are supported; spline orders 2-5 are not. "
                                  f"Received: interpolation_order={order!r}")


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=1,
                           col_axis=2, channel_axis=0, fill_mode="nearest", cval=0.0, order=1):
    """Rotates (degrees), shifts, shears (degrees) and zooms one 3-D image
    about its centre, as tf.keras 2's function (SciPy's warp, Keras's axes).

    Keras's quirk is kept: `tx` (which `ImageDataGenerator` draws from
    `height_shift_range`) moves the image along its columns.

    Example:
        >>> x = np.arange(9.0).reshape(3, 3, 1)
        >>> apply_affine_transform(x, tx=1, row_axis=0, col_axis=1,
        ...                        channel_axis=2)[..., 0].tolist()
        [[1.0, 2.0, 2.0], [4.0, 5.0, 5.0], [7.0, 8.0, 8.0]]
    """
    if sorted((row_axis, col_axis, channel_axis)) != [0, 1, 2]:
        raise ValueError("apply_affine_transform: `row_axis`, `col_axis` and `channel_axis` "
                         "must be 0, 1 and 2 in some order. Received: "
                         f"{(row_axis, col_axis, channel_axis)}")
    if np.ndim(x) != 3:
        raise ValueError("apply_affine_transform: input arrays must be multi-channel 2D images "
                         f"(rank 3). Received: shape={np.shape(x)}")
    if channel_axis not in (0, 2):
        raise ValueError("apply_affine_transform: channels must be on the first or last axis. "
                         f"Received: channel_axis={channel_axis}")
    image_ops.check_fill_mode(fill_mode, "apply_affine_transform")
    _check_order(order)
    x = np.asarray(x)
    matrix = _affine_matrix(theta, tx, ty, shear, zx, zy, x.shape[row_axis],
                            x.shape[col_axis], swap=col_axis > row_axis)
    if matrix is None:
        return x
    hwc = np.moveaxis(x, (row_axis, col_axis, channel_axis), (0, 1, 2))
    if row_axis > col_axis:  # the array's first spatial axis is the columns
        hwc = hwc.transpose(1, 0, 2)
        matrix = matrix[[1, 0, 2]][:, [1, 0, 2]]
    out = _warp_batch(hwc[None].astype("float64"), [matrix], fill_mode, cval, order)[0]
    if row_axis > col_axis:
        out = out.transpose(1, 0, 2)
    return np.moveaxis(out, (0, 1, 2), (row_axis, col_axis, channel_axis)).astype(
        x.dtype if x.dtype.kind == "f" else "float64", copy=False)


def flip_axis(x, axis):
    """`x` reversed along `axis`."""
    return np.flip(np.asarray(x), axis)


def apply_channel_shift(x, intensity, channel_axis=0):
    """Adds `intensity` to every channel, clipped to the image's range."""
    low, high = np.min(x), np.max(x)
    return np.clip(x + intensity, low, high).astype(x.dtype, copy=False)


def apply_brightness_shift(x, brightness, scale=True):
    """Pillow's `ImageEnhance.Brightness(brightness)` of one image, as Keras."""
    pil_image()  # the error that names the extra, if Pillow is missing
    from PIL import ImageEnhance
    low, high = np.min(x), np.max(x)
    local_scale = low < 0 or high > 255
    img = array_to_img(x, scale=local_scale or scale)
    out = img_to_array(ImageEnhance.Brightness(img).enhance(brightness))
    if not scale and local_scale:
        out = out / 255 * (high - low) + low
    return out


__all__ = ["apply_affine_transform", "apply_brightness_shift", "apply_channel_shift",
           "flip_axis", "transform_matrix_offset_center"]
