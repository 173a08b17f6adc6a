"""Image files and arrays: `load_img`, `img_to_array`, `array_to_img`,
`save_img`, `smart_resize`, as tf.keras 2's (`keras.utils.*` and
`keras.preprocessing.image.*`).

Decoding and encoding use Pillow, an optional extra
(`pip install "kerasette[image]"`), imported on first use. Arrays are
channels-last NumPy arrays on the host; `smart_resize` also takes device
tensors.
"""

from __future__ import annotations

import io
import os
import pathlib
import warnings

import numpy as np

from kerasette import backend as _backend
from kerasette.ops import image as image_ops

COLOR_MODES = {"grayscale": 1, "rgb": 3, "rgba": 4}
_PIL_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}


def pil_image():
    """The `PIL.Image` module, or an ImportError saying how to install it."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(
            "Reading and writing image files needs Pillow, an optional extra of kerasette. "
            'Install it with: pip install "kerasette[image]"  (or: pip install Pillow)'
        ) from None
    return Image


def _pil_resample(interpolation):
    image = pil_image()
    methods = {"nearest": image.NEAREST, "bilinear": image.BILINEAR,
               "bicubic": image.BICUBIC, "hamming": image.HAMMING, "box": image.BOX,
               "lanczos": image.LANCZOS}
    if interpolation not in methods:
        raise ValueError(f"load_img: argument `interpolation` must be one of "
                         f"{', '.join(map(repr, methods))}. Received: "
                         f"interpolation={interpolation!r}")
    return methods[interpolation]


def check_color_mode(color_mode, where):
    if color_mode not in COLOR_MODES:
        raise ValueError(f"{where}: argument `color_mode` must be one of 'grayscale', 'rgb', "
                         f"'rgba'. Received: color_mode={color_mode!r}")
    return color_mode


def _check_data_format(data_format, where):
    data_format = data_format or "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{where}: argument `data_format` must be 'channels_last' or "
                         f"'channels_first'. Received: data_format={data_format!r}")
    return data_format


def open_image(path, color_mode="rgb"):
    """Decodes an image file (first frame of an animation) in `color_mode`.

    Grayscale images keep their 16-bit or 32-bit integer modes, as in Keras.
    """
    check_color_mode(color_mode, "load_img")
    image = pil_image()
    if isinstance(path, io.BytesIO):
        img = image.open(path)
    elif isinstance(path, (str, bytes, os.PathLike)):
        with open(pathlib.Path(os.fsdecode(path)).resolve(), "rb") as f:
            img = image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"load_img: argument `path` must be a path or an io.BytesIO. "
                        f"Received: {type(path).__name__}")
    wanted = _PIL_MODES[color_mode]
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif img.mode != wanted:
        img = img.convert(wanted)
    return img


def load_img(path, grayscale=False, color_mode="rgb", target_size=None,
             interpolation="nearest", keep_aspect_ratio=False):
    """Loads an image file as a PIL image.

    Args:
        path: path of the file, or an `io.BytesIO`.
        grayscale: deprecated, same as `color_mode="grayscale"`.
        color_mode: `"grayscale"`, `"rgb"` or `"rgba"`.
        target_size: `None` (original size) or `(height, width)`.
        interpolation: Pillow's resampling when resizing: `"nearest"`,
            `"bilinear"`, `"bicubic"`, `"hamming"`, `"box"` or `"lanczos"`.
        keep_aspect_ratio: crop the centre to the target's aspect ratio
            before resizing.

    Returns:
        A `PIL.Image.Image`.

    Example:
        >>> import io
        >>> buffer = io.BytesIO()
        >>> save_img(buffer, np.zeros((4, 6, 3)), file_format="png")
        >>> load_img(buffer, target_size=(2, 3)).size
        (3, 2)
    """
    if grayscale:
        warnings.warn('grayscale is deprecated. Please use color_mode = "grayscale"',
                      stacklevel=2)
        color_mode = "grayscale"
    img = open_image(path, color_mode)
    if target_size is None:
        return img
    height, width = image_ops.check_size(target_size, "load_img", "target_size")
    if img.size == (width, height):
        return img
    resample = _pil_resample(interpolation)
    if not keep_aspect_ratio:
        return img.resize((width, height), resample)
    in_w, in_h = img.size
    crop_h = min(in_h, (in_w * height) // width)
    crop_w = min(in_w, (in_h * width) // height)
    top, left = (in_h - crop_h) // 2, (in_w - crop_w) // 2
    return img.resize((width, height), resample, box=[left, top, left + crop_w, top + crop_h])


def img_to_array(img, data_format=None, dtype=None):
    """A PIL image as a 3-D NumPy array (float32 by default).

    Args:
        img: a PIL image (or anything `np.asarray` takes).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        dtype: the array's dtype; `floatx()` when `None`.

    Example:
        >>> img_to_array(array_to_img(np.zeros((2, 3, 1)))).shape
        (2, 3, 1)
    """
    data_format = _check_data_format(data_format, "img_to_array")
    x = np.asarray(img, dtype=dtype or _backend.floatx())
    if x.ndim == 2:
        x = x[:, :, None]
    elif x.ndim != 3:
        raise ValueError(f"img_to_array: unsupported image shape {x.shape}; expected "
                         "(height, width) or (height, width, channels).")
    return x.transpose(2, 0, 1) if data_format == "channels_first" else x


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A 3-D array as a PIL image.

    Args:
        x: `(height, width, channels)` array (1, 3 or 4 channels).
        data_format: `"channels_last"` (default) or `"channels_first"`.
        scale: stretch the values to `[0, 255]` (min to 0, max to 255).
        dtype: the dtype the values are read in; `floatx()` when `None`.

    Example:
        >>> array_to_img(np.zeros((2, 3, 3))).size
        (3, 2)
    """
    data_format = _check_data_format(data_format, "array_to_img")
    image = pil_image()
    if _backend.get_backend().is_array(x) and not isinstance(x, np.ndarray):
        x = _backend.get_backend().to_numpy(x)
    elif hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    x = np.array(x, dtype=dtype or _backend.floatx())
    if x.ndim != 3:
        raise ValueError("array_to_img: expected an image array of rank 3 (one image). "
                         f"Received: shape={x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x /= top
        x *= 255
    channels = x.shape[2]
    if channels == 4:
        return image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img: unsupported number of channels {channels}; "
                     "expected 1, 3 or 4.")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves a 3-D array as an image file (format from `file_format` or
    the file name's extension).

    Example:
        >>> import io
        >>> save_img(io.BytesIO(), np.zeros((2, 2, 3)), file_format="png")
    """
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format in ("jpg", "jpeg"):
        warnings.warn("The JPG format does not support RGBA images, converting to RGB.",
                      stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def smart_resize(x, size, interpolation="bilinear"):
    """Resizes images without distorting them: takes the largest centred
    crop with the target aspect ratio, then resizes it (`tf.image.resize`).

    Args:
        x: `(height, width, channels)` or `(batch, height, width, channels)`
            NumPy array (or tensor).
        size: `(height, width)`.
        interpolation: `"bilinear"` or `"nearest"`.

    Returns:
        A NumPy array for a NumPy input (float32 for `"bilinear"`), else a
        tensor.

    Example:
        >>> smart_resize(np.zeros((10, 20, 3)), (5, 5)).shape
        (5, 5, 3)
    """
    height, width = image_ops.check_size(size, "smart_resize")
    image_ops.check_interpolation(interpolation, "smart_resize")
    if not isinstance(x, np.ndarray):
        return image_ops.resize(x, (height, width), interpolation, crop_to_aspect_ratio=True)
    if x.ndim not in (3, 4):
        raise ValueError("smart_resize: expected an image array of shape (height, width, "
                         f"channels) or (batch, height, width, channels). Received: {x.shape}")
    batch = x if x.ndim == 4 else x[None]
    top, left, ch, cw = image_ops.crop_box(batch.shape[1], batch.shape[2], height, width)
    out = image_ops.resize_array(np, batch[:, top:top + ch, left:left + cw], height, width,
                                 interpolation)
    if interpolation == "bilinear" and out.dtype != np.float64:
        out = out.astype("float32")
    return out if x.ndim == 4 else out[0]


__all__ = ["array_to_img", "img_to_array", "load_img", "save_img", "smart_resize"]
