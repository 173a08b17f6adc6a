"""Image preprocessing and augmentation layers, as tf.keras 2's.

`Resizing` and `CenterCrop` act at training and inference alike. The
random layers (`RandomFlip`, `RandomRotation`, `RandomZoom`,
`RandomTranslation`, `RandomContrast`, `RandomBrightness`) change their
inputs in training, which `fit` asks for; `predict` and `evaluate` run them
with `training=False`, which returns the input unchanged. As in tf.keras 2,
their `call` defaults to `training=True`, so a direct call, of the layer or
of a model holding it (`data_augmentation(images)`), augments.
`RandomCrop` crops at a random place when training and, like tf.keras 2,
takes the largest centred crop with the target's aspect ratio, resized,
otherwise. Draws come from the backend's seeded generator, so
`keras.utils.set_random_seed(n)` repeats a run; the `seed` argument is kept
in the config for Keras compatibility.

Inputs are `(batch, height, width, channels)` or one `(height, width,
channels)` image, of any range and any numeric dtype; outputs are floats.
The warps follow TensorFlow's `ImageProjectiveTransformV3` (see
`kerasette.ops.image` for the interpolation and fill rules).
"""

from __future__ import annotations

import math
import numbers

from kerasette import backend as _backend
from kerasette import ops
from kerasette.layers.base import Layer
from kerasette.ops import image as image_ops
from kerasette.ops.core import xp

H_AXIS, W_AXIS = -3, -2


def _check_images(x, layer):
    if x.ndim not in (3, 4):
        raise ValueError(f"{type(layer).__name__} expects images of shape (batch, height, width, "
                         f"channels) or (height, width, channels). Received: shape={x.shape}")


def _positive_int(value, name, cls):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{cls}: argument `{name}` must be a positive int. "
                         f"Received: {name}={value!r}")
    return int(value)


def _is_number(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def _bounds(factor, name, cls, limit=None, symmetric=True):
    """`(lower, upper)` from a number (`(-f, f)`, or `(f, f)` when not
    `symmetric`) or a pair; with `limit`, both must lie in `[-limit, limit]`."""
    if isinstance(factor, (tuple, list)):
        ok = len(factor) == 2 and all(_is_number(v) for v in factor)
        lower, upper = (factor if ok else (0, 0))
    else:
        ok = _is_number(factor)
        lower, upper = ((-factor, factor) if symmetric else (factor, factor)) if ok else (0, 0)
    if not ok:
        raise ValueError(f"{cls}: argument `{name}` must be a number or a tuple of two numbers "
                         f"(lower, upper). Received: {name}={factor!r}")
    if upper < lower:
        raise ValueError(f"{cls}: argument `{name}` cannot have an upper bound below its lower "
                         f"bound. Received: {name}={factor!r}")
    if limit is not None and (abs(lower) > limit or abs(upper) > limit):
        raise ValueError(f"{cls}: argument `{name}` must have values in [-{limit}, {limit}]. "
                         f"Received: {name}={factor!r}")
    return float(lower), float(upper)


def _json(factor):
    """A factor as its config holds it: tuples as lists (JSON has no tuples)."""
    return list(factor) if isinstance(factor, tuple) else factor


def _uniform(shape, lower, upper):
    """Device draws in `[lower, upper)` from the backend's seeded generator."""
    u = _backend.get_backend().random_uniform(shape, "float32")
    return u * (upper - lower) + lower


class _ImageLayer(Layer):
    """Shared by the image layers: rank checks and shapes."""

    def __init__(self, data_format=None, **kwargs):
        # Keras 3 configs carry `data_format`; only channels-last images exist here.
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{type(self).__name__}: only data_format='channels_last' is "
                             f"supported. Received: data_format={data_format!r}")
        super().__init__(**kwargs)

    def _with_batch(self, x, fn):
        """Runs `fn` on a batch, adding and removing the axis of one image."""
        _check_images(x, self)
        if x.ndim == 3:
            return ops.squeeze(fn(ops.expand_dims(x, 0)), 0)
        return fn(x)


class _SizedLayer(_ImageLayer):
    """Layers whose output has a fixed height and width."""

    def __init__(self, height, width, **kwargs):
        super().__init__(**kwargs)
        self.height = _positive_int(height, "height", type(self).__name__)
        self.width = _positive_int(width, "width", type(self).__name__)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        shape[H_AXIS], shape[W_AXIS] = self.height, self.width
        return tuple(shape)

    def _smart_resize(self, x):
        out = image_ops.resize(x, (self.height, self.width), "bilinear",
                               crop_to_aspect_ratio=True)
        return out if out.dtype == self.dtype else ops.cast(out, self.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width})
        return config


class Resizing(_SizedLayer):
    """Resizes images to `(height, width)` as `tf.image.resize` does.

    Args:
        height: output height.
        width: output width.
        interpolation: `"bilinear"` (half-pixel centres, no antialiasing)
            or `"nearest"`.
        crop_to_aspect_ratio: if True, first crop the largest centred
            window with the target aspect ratio, so nothing is distorted.

    Input shape:
        `(batch, height, width, channels)` or `(height, width, channels)`.

    Output shape:
        `(batch, height, width, channels)` with the new height and width.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> keras.layers.Resizing(8, 6)(np.zeros((2, 16, 16, 3))).shape
        (2, 8, 6, 3)
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 **kwargs):
        # Keras 3 configs add these; their defaults are tf.keras 2's behaviour.
        keras3 = {"pad_to_aspect_ratio": False, "antialias": False}
        for key, default in keras3.items():
            if kwargs.pop(key, default) != default:
                raise NotImplementedError(f"Resizing: `{key}=True` (Keras 3) is not "
                                          "supported; tf.keras 2's Resizing has no such option.")
        kwargs.pop("fill_mode", None)  # used by Keras 3 only with pad_to_aspect_ratio
        kwargs.pop("fill_value", None)
        super().__init__(height, width, **kwargs)
        self.interpolation = image_ops.check_interpolation(interpolation, "Resizing")
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)

    def call(self, inputs):
        _check_images(inputs, self)
        out = image_ops.resize(inputs, (self.height, self.width), self.interpolation,
                               self.crop_to_aspect_ratio)
        return out if out.dtype == self.dtype else ops.cast(out, self.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"interpolation": self.interpolation,
                       "crop_to_aspect_ratio": self.crop_to_aspect_ratio})
        return config


class CenterCrop(_SizedLayer):
    """Crops the central `(height, width)` window of each image.

    An image smaller than the target in either dimension is instead
    cropped to the target's aspect ratio and resized (bilinear), as in
    tf.keras 2. When the size difference is odd, the extra row or column
    is cut at the bottom or right.

    Args:
        height: output height.
        width: output width.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> keras.layers.CenterCrop(4, 4)(np.zeros((1, 10, 8, 3))).shape
        (1, 4, 4, 3)
    """

    def call(self, inputs):
        _check_images(inputs, self)
        h_diff = inputs.shape[H_AXIS] - self.height
        w_diff = inputs.shape[W_AXIS] - self.width
        if h_diff < 0 or w_diff < 0:
            return self._smart_resize(inputs)
        top, left = h_diff // 2, w_diff // 2
        return ops.getitem(inputs, (Ellipsis, slice(top, top + self.height),
                                    slice(left, left + self.width), slice(None)))


class RandomCrop(_SizedLayer):
    """Crops a random `(height, width)` window when training.

    The whole batch is cropped at the same place, drawn per call. At
    inference, or when an image is smaller than the target, the layer
    takes the largest centred crop with the target's aspect ratio and
    resizes it (bilinear), as tf.keras 2 does.

    Args:
        height: output height.
        width: output width.
        seed: kept in the config; draws come from `set_random_seed`.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> keras.layers.RandomCrop(5, 5)(np.zeros((2, 9, 9, 1)), training=True).shape
        (2, 5, 5, 1)
    """

    def __init__(self, height, width, seed=None, **kwargs):
        super().__init__(height, width, **kwargs)
        self.seed = seed

    def call(self, inputs, training=True):
        _check_images(inputs, self)
        h_diff = inputs.shape[H_AXIS] - self.height
        w_diff = inputs.shape[W_AXIS] - self.width
        if not training or h_diff < 0 or w_diff < 0:
            return self._smart_resize(inputs)
        # Two numbers on the host (the slice bounds): no read-back from the device.
        u = _backend.host_rng().random(2)
        top = min(int(u[0] * (h_diff + 1)), h_diff)
        left = min(int(u[1] * (w_diff + 1)), w_diff)
        return ops.getitem(inputs, (Ellipsis, slice(top, top + self.height),
                                    slice(left, left + self.width), slice(None)))

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config


class _RandomLayer(_ImageLayer):
    """An augmentation: the identity when called with `training=False`."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed

    def call(self, inputs, training=True):
        _check_images(inputs, self)
        if not training:
            return inputs
        return self._with_batch(inputs, self._augment)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config


class RandomFlip(_RandomLayer):
    """Flips each image left-right and/or top-bottom with probability 1/2.

    Args:
        mode: `"horizontal"` (left-right), `"vertical"` (top-bottom) or
            `"horizontal_and_vertical"` (each drawn independently).
        seed: kept in the config; draws come from `set_random_seed`.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> x = np.arange(4, dtype="float32").reshape(1, 1, 4, 1)
        >>> layer = keras.layers.RandomFlip("horizontal")
        >>> layer(x, training=False).numpy().ravel().tolist()  # as in predict()
        [0.0, 1.0, 2.0, 3.0]
        >>> sorted({tuple(layer(x).numpy().ravel().tolist()) for _ in range(20)})  # direct: flips
        [(0.0, 1.0, 2.0, 3.0), (3.0, 2.0, 1.0, 0.0)]
    """

    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        if mode not in self.MODES:
            raise ValueError(f"RandomFlip: argument `mode` must be one of "
                             f"{', '.join(map(repr, self.MODES))}. Received: mode={mode!r}")
        super().__init__(seed=seed, **kwargs)
        self.mode = mode

    def _augment(self, x):
        n = x.shape[0]
        if self.mode != "vertical":
            # tf.image's rule: flip where round(u) == 1, i.e. u > 0.5.
            flip = _uniform((n, 1, 1, 1), 0.0, 1.0) > 0.5
            left_right = ops.getitem(x, (slice(None), slice(None), slice(None, None, -1)))
            x = ops.where(flip, left_right, x)
        if self.mode != "horizontal":
            flip = _uniform((n, 1, 1, 1), 0.0, 1.0) > 0.5
            x = ops.where(flip, ops.getitem(x, (slice(None), slice(None, None, -1))), x)
        return x

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config


class _WarpLayer(_RandomLayer):
    """Random affine warps: fill and interpolation arguments and config."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 **kwargs):
        name = type(self).__name__
        image_ops.check_fill_mode(fill_mode, name)
        image_ops.check_interpolation(interpolation, name)
        if not _is_number(fill_value):
            raise ValueError(f"{name}: argument `fill_value` must be a finite number. "
                             f"Received: fill_value={fill_value!r}")
        super().__init__(seed=seed, **kwargs)
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = float(fill_value)

    def _warp(self, x, transforms):
        return image_ops.affine_transform(x, transforms, self.interpolation, self.fill_mode,
                                          self.fill_value)

    def get_config(self):
        config = super().get_config()
        config.update({"fill_mode": self.fill_mode, "fill_value": self.fill_value,
                       "interpolation": self.interpolation})
        return config


class RandomRotation(_WarpLayer):
    """Rotates each image by a random angle about its centre.

    Args:
        factor: a fraction of a full turn (2 pi): a number `f` draws angles
            in `[-f * 2pi, f * 2pi]`, a pair `(lower, upper)` in
            `[lower * 2pi, upper * 2pi]`. Positive angles turn
            counter-clockwise.
        fill_mode: how points outside the image are filled: `"reflect"`
            (`d c b a | a b c d | d c b a`), `"wrap"`
            (`a b c d | a b c d | a b c d`), `"constant"`
            (`k k k k | a b c d | k k k k`, `k = fill_value`) or `"nearest"`
            (`a a a a | a b c d | d d d d`).
        interpolation: `"bilinear"` or `"nearest"`.
        seed: kept in the config; draws come from `set_random_seed`.
        fill_value: the value outside the image for `fill_mode="constant"`.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> keras.layers.RandomRotation(0.1)(np.ones((2, 8, 8, 3)), training=True).shape
        (2, 8, 8, 3)
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        self.lower, self.upper = _bounds(factor, "factor", "RandomRotation")
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = factor

    def _augment(self, x):
        n, h, w = x.shape[0], x.shape[1], x.shape[2]
        angles = _uniform((n,), self.lower * 2.0 * math.pi, self.upper * 2.0 * math.pi)
        return self._warp(x, image_ops.rotation_transforms(xp(), angles, h, w))

    def get_config(self):
        config = super().get_config()
        config["factor"] = _json(self.factor)
        return config


class RandomZoom(_WarpLayer):
    """Zooms each image in or out by a random factor about its centre.

    Args:
        height_factor: fraction of the height: a number `f` draws in
            `[-f, f]`, a pair `(lower, upper)` in that range. Positive
            values zoom out (the image shrinks by `1 + factor`), negative
            ones zoom in.
        width_factor: the same for the width; `None` (default) uses the
            height's draw, keeping the aspect ratio.
        fill_mode, interpolation, seed, fill_value: as in `RandomRotation`.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> keras.layers.RandomZoom(0.2)(np.ones((2, 8, 8, 3)), training=True).shape
        (2, 8, 8, 3)
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        self.height_lower, self.height_upper = _bounds(height_factor, "height_factor",
                                                       "RandomZoom", limit=1.0)
        if width_factor is not None:
            self.width_lower, self.width_upper = _bounds(width_factor, "width_factor",
                                                         "RandomZoom")
            if self.width_lower < -1.0:
                raise ValueError("RandomZoom: argument `width_factor` must have values larger "
                                 f"than -1. Received: width_factor={width_factor!r}")
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor

    def _augment(self, x):
        n, h, w = x.shape[0], x.shape[1], x.shape[2]
        zoom_y = _uniform((n,), 1.0 + self.height_lower, 1.0 + self.height_upper)
        zoom_x = zoom_y if self.width_factor is None else _uniform(
            (n,), 1.0 + self.width_lower, 1.0 + self.width_upper)
        return self._warp(x, image_ops.zoom_transforms(xp(), zoom_x, zoom_y, h, w))

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": _json(self.height_factor),
                       "width_factor": _json(self.width_factor)})
        return config


class RandomTranslation(_WarpLayer):
    """Shifts each image by a random fraction of its height and width.

    Args:
        height_factor: a number `f` draws vertical shifts in `[-f, f]` of
            the height, a pair `(lower, upper)` in that range; positive
            moves the image down. Values in `[-1, 1]`.
        width_factor: the same horizontally; positive moves right.
        fill_mode, interpolation, seed, fill_value: as in `RandomRotation`.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> layer = keras.layers.RandomTranslation((0.5, 0.5), 0.0, fill_mode="constant")
        >>> x = np.arange(4, dtype="float32").reshape(1, 4, 1, 1)
        >>> layer(x, training=True).numpy().ravel().tolist()
        [0.0, 0.0, 0.0, 1.0]
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        self.height_lower, self.height_upper = _bounds(height_factor, "height_factor",
                                                       "RandomTranslation", limit=1.0)
        self.width_lower, self.width_upper = _bounds(width_factor, "width_factor",
                                                     "RandomTranslation", limit=1.0)
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor

    def _augment(self, x):
        n, h, w = x.shape[0], x.shape[1], x.shape[2]
        dy = _uniform((n,), self.height_lower, self.height_upper) * float(h)
        dx = _uniform((n,), self.width_lower, self.width_upper) * float(w)
        return self._warp(x, image_ops.translation_transforms(xp(), dx, dy))

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": _json(self.height_factor),
                       "width_factor": _json(self.width_factor)})
        return config


class RandomContrast(_RandomLayer):
    """Scales each channel's deviation from its mean by a random factor.

    One factor `c` is drawn per call in `[1 - lower, 1 + upper]` (as
    `tf.image.random_contrast`, for the whole batch); each pixel becomes
    `(x - mean) * c + mean`, with `mean` taken per image and channel over
    height and width, then clipped to `[0, 255]`.

    Args:
        factor: a number `f` in `[0, 1]` (both bounds) or a pair
            `(lower, upper)` of non-negative numbers.
        seed: kept in the config; draws come from `set_random_seed`.
        value_range: the clip range, `(0, 255)` as in tf.keras 2 (Keras 3's
            argument, accepted so its files load).

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> keras.layers.RandomContrast(0.5)(np.ones((1, 2, 2, 3))).shape
        (1, 2, 2, 3)
    """

    def __init__(self, factor, seed=None, value_range=(0, 255), **kwargs):
        if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
                or not all(_is_number(v) for v in value_range)):
            raise ValueError("RandomContrast: argument `value_range` must be a pair of numbers "
                             f"(low, high). Received: value_range={value_range!r}")
        self.value_range = sorted(float(v) for v in value_range)
        pair = isinstance(factor, (tuple, list))
        values = tuple(factor) if pair else (factor, factor)
        if (len(values) != 2 or not all(_is_number(v) for v in values) or min(values) < 0
                or values[0] > 1.0):
            raise ValueError("RandomContrast: argument `factor` must be a number in [0, 1] or a "
                             "pair (lower, upper) of non-negative numbers with lower <= 1 (the "
                             "contrast factor is drawn in [1 - lower, 1 + upper]). "
                             f"Received: factor={factor!r}")
        self.lower, self.upper = float(values[0]), float(values[1])
        super().__init__(seed=seed, **kwargs)
        self.factor = factor

    def _augment(self, x):
        c = _uniform((1, 1, 1, 1), 1.0 - self.lower, 1.0 + self.upper).astype(x.dtype)
        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        low, high = self.value_range
        return ops.clip((x - mean) * ops.convert_to_tensor(c) + mean, low, high)

    def get_config(self):
        config = super().get_config()
        config["factor"] = _json(self.factor)
        if self.value_range != [0.0, 255.0]:  # tf.keras 2 would refuse the key
            config["value_range"] = list(self.value_range)
        return config


class RandomBrightness(_RandomLayer):
    """Adds a random brightness shift to each image.

    Each image gets `delta * (high - low)` added, with `delta` drawn in
    `[factor_lower, factor_upper]` and `(low, high) = value_range`, and the
    result is clipped to `value_range`.

    Args:
        factor: a number `f` in `[-1, 1]` (draws in `[-|f|, |f|]`) or a
            pair of such numbers. -1 makes images black, 1 white.
        value_range: `(low, high)` of the input values, `(0, 255)` by
            default; use `(0, 1)` after rescaling.
        seed: kept in the config; draws come from `set_random_seed`.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> layer = keras.layers.RandomBrightness((0.1, 0.1), value_range=(0, 1))
        >>> layer(np.full((1, 1, 1, 1), 0.5, "float32"), training=True).numpy().ravel().tolist()
        [0.6000000238418579]
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        values = tuple(factor) if isinstance(factor, (tuple, list)) else (factor,)
        if (len(values) not in (1, 2) or isinstance(factor, (tuple, list)) and len(values) != 2
                or not all(_is_number(v) and -1.0 <= v <= 1.0 for v in values)):
            raise ValueError("RandomBrightness: argument `factor` must be a number in [-1, 1] or "
                             f"a pair of such numbers. Received: factor={factor!r}")
        self._factor = (sorted(float(v) for v in values) if len(values) == 2
                        else [-abs(float(factor)), abs(float(factor))])
        if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
                or not all(_is_number(v) for v in value_range)):
            raise ValueError("RandomBrightness: argument `value_range` must be a pair of "
                             f"numbers (low, high). Received: value_range={value_range!r}")
        super().__init__(seed=seed, **kwargs)
        self._value_range = sorted(value_range)

    def _augment(self, x):
        low, high = self._value_range
        delta = _uniform((x.shape[0], 1, 1, 1), self._factor[0], self._factor[1])
        delta = ops.convert_to_tensor((delta * float(high - low)).astype(x.dtype))
        return ops.clip(x + delta, low, high)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": list(self._factor), "value_range": list(self._value_range)})
        return config


__all__ = ["CenterCrop", "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip",
           "RandomRotation", "RandomTranslation", "RandomZoom", "Resizing"]
