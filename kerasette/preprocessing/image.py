"""`keras.preprocessing.image`: `ImageDataGenerator` and its iterators.

Deprecated in Keras in favour of `image_dataset_from_directory` and the
augmentation layers, but in most CNN course notebooks, so kept with
tf.keras 2's arguments and behaviour:

- random draws come from NumPy's global generator in Keras's order (per
  image: rotation, height shift, width shift, shear, zoom, flips, channel
  shift, brightness), and an iterator with a `seed` re-seeds it with
  `seed + batches seen` before each batch, as Keras does;
- the affine warp is `scipy.ndimage.affine_transform`'s (order 1, modes
  `"nearest"`, `"reflect"`, `"wrap"`, `"constant"`), computed here for the
  whole batch at once without SciPy (see `kerasette.ops.image`), with
  Keras's matrix; that matrix swaps the roles of the two shift ranges
  (`height_shift_range` moves images sideways and `width_shift_range` up
  and down, tf-keras issue 310), and the warp keeps that, so the same
  parameters give tf.keras 2's images (checked against SciPy to 1e-9);
- a batch's parameters are all drawn before the images are finished, so a
  `preprocessing_function` that itself draws from NumPy's generator sees
  a different stream than in Keras (which draws image by image);
- iterators are `Sequence`s: `len()` is the number of batches per epoch,
  `it[i]` is batch `i`, `next(it)` runs forever, and `fit` takes them.

Decoding files (`flow_from_directory`) and `brightness_range` need Pillow
(`pip install "kerasette[image]"`).
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np

from kerasette import backend as _backend
from kerasette.ops import image as image_ops
from kerasette.preprocessing.affine_transformations import (
    _affine_matrix,
    _check_order,
    _warp_batch,
    apply_affine_transform,
    apply_brightness_shift,
    apply_channel_shift,
    flip_axis,
    transform_matrix_offset_center,
)
from kerasette.preprocessing.image_iterators import (
    DirectoryIterator,
    Iterator,
    NumpyArrayIterator,
)
from kerasette.preprocessing.image_utils import (
    array_to_img,
    img_to_array,
    load_img,
    save_img,
    smart_resize,
)


def _shift_range(value, name):
    if isinstance(value, (list, tuple, np.ndarray)):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"ImageDataGenerator: argument `{name}` must be a number or a list of "
                         f"numbers. Received: {name}={value!r}")
    return value


class ImageDataGenerator:
    """Real-time image augmentation for `flow` and `flow_from_directory`.

    Args:
        featurewise_center, samplewise_center,
        featurewise_std_normalization, samplewise_std_normalization:
            centre / scale each image, or the data set (after `fit(x)`).
        zca_whitening, zca_epsilon: ZCA whitening (after `fit(x)`).
        rotation_range: degrees; angles drawn in `[-r, r]`.
        width_shift_range, height_shift_range: a fraction of the size
            (`< 1`), pixels (`>= 1`), or a list of allowed pixel shifts.
        brightness_range: `(low, high)` brightness factors (Pillow).
        shear_range: shear angle in degrees, drawn in `[-s, s]`.
        zoom_range: `z` (draws in `[1 - z, 1 + z]`) or `(low, high)`; drawn
            per axis, values above 1 zoom out.
        channel_shift_range: channel offsets drawn in `[-c, c]`.
        fill_mode: `"nearest"` (default), `"reflect"`, `"wrap"` or
            `"constant"` (with `cval`).
        cval: fill value for `"constant"`.
        horizontal_flip, vertical_flip: flip each image with probability 1/2.
        rescale: factor multiplied into the images after the other
            transforms (e.g. `1/255`).
        preprocessing_function: `f(image) -> image` applied to each image
            (3-D array) after augmentation, before `rescale`.
        data_format: `"channels_last"` (default) or `"channels_first"`.
        validation_split: fraction for `subset="validation"`.
        interpolation_order: 1 (linear, default) or 0 (nearest).
        dtype: dtype of the batches; `floatx()` by default.

    Example:
        >>> gen = ImageDataGenerator(rescale=1 / 255, horizontal_flip=True)
        >>> it = gen.flow(np.zeros((10, 8, 8, 3)), np.arange(10), batch_size=4)
        >>> len(it), next(it)[0].shape
        (3, (4, 8, 8, 3))
    """

    def __init__(self, featurewise_center=False, samplewise_center=False,
                 featurewise_std_normalization=False, samplewise_std_normalization=False,
                 zca_whitening=False, zca_epsilon=1e-6, rotation_range=0, width_shift_range=0.0,
                 height_shift_range=0.0, brightness_range=None, shear_range=0.0, zoom_range=0.0,
                 channel_shift_range=0.0, fill_mode="nearest", cval=0.0, horizontal_flip=False,
                 vertical_flip=False, rescale=None, preprocessing_function=None,
                 data_format=None, validation_split=0.0, interpolation_order=1, dtype=None):
        data_format = data_format or "channels_last"
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError('ImageDataGenerator: `data_format` should be "channels_last" or '
                             f'"channels_first". Received: {data_format!r}')
        image_ops.check_fill_mode(fill_mode, "ImageDataGenerator")
        _check_order(interpolation_order)
        if validation_split and not 0 < validation_split < 1:
            raise ValueError("ImageDataGenerator: `validation_split` must be strictly between "
                             f"0 and 1. Received: {validation_split!r}")
        if isinstance(zoom_range, numbers.Real) and not isinstance(zoom_range, bool):
            zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif (isinstance(zoom_range, (list, tuple)) and len(zoom_range) == 2
              and all(isinstance(v, numbers.Real) for v in zoom_range)):
            zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError("ImageDataGenerator: `zoom_range` should be a float or a tuple or "
                             f"list of two floats. Received: {zoom_range!r}")
        if brightness_range is not None and (not isinstance(brightness_range, (tuple, list))
                                             or len(brightness_range) != 2):
            raise ValueError("ImageDataGenerator: `brightness_range` should be a tuple or list "
                             f"of two floats. Received: {brightness_range!r}")
        self.featurewise_center = featurewise_center or zca_whitening \
            or featurewise_std_normalization
        self.samplewise_center = samplewise_center or samplewise_std_normalization
        self.featurewise_std_normalization = featurewise_std_normalization and not zca_whitening
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening, self.zca_epsilon = zca_whitening, zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = _shift_range(width_shift_range, "width_shift_range")
        self.height_shift_range = _shift_range(height_shift_range, "height_shift_range")
        self.shear_range, self.zoom_range = shear_range, zoom_range
        self.channel_shift_range = channel_shift_range
        self.fill_mode, self.cval = fill_mode, cval
        self.horizontal_flip, self.vertical_flip = horizontal_flip, vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.brightness_range = brightness_range
        self.data_format = data_format
        self.dtype = dtype or _backend.floatx()
        self.interpolation_order = interpolation_order
        self.channel_axis, self.row_axis, self.col_axis = \
            (3, 1, 2) if data_format == "channels_last" else (1, 2, 3)
        self._validation_split = validation_split
        self.mean = self.std = self.zca_whitening_matrix = None

    # -- iterators -----------------------------------------------------------------------
    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix="", save_format="png", ignore_class_split=False,
             subset=None):
        """A `NumpyArrayIterator` of augmented `(x, y)` batches."""
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed,
                                  data_format=self.data_format, save_to_dir=save_to_dir,
                                  save_prefix=save_prefix, save_format=save_format,
                                  ignore_class_split=ignore_class_split, subset=subset,
                                  dtype=self.dtype)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode="rgb",
                            classes=None, class_mode="categorical", batch_size=32, shuffle=True,
                            seed=None, save_to_dir=None, save_prefix="", save_format="png",
                            follow_links=False, subset=None, interpolation="nearest",
                            keep_aspect_ratio=False):
        """A `DirectoryIterator` of augmented batches from class folders."""
        return DirectoryIterator(directory, self, target_size=target_size,
                                 color_mode=color_mode, classes=classes, class_mode=class_mode,
                                 batch_size=batch_size, shuffle=shuffle, seed=seed,
                                 data_format=self.data_format, save_to_dir=save_to_dir,
                                 save_prefix=save_prefix, save_format=save_format,
                                 follow_links=follow_links, subset=subset,
                                 interpolation=interpolation,
                                 keep_aspect_ratio=keep_aspect_ratio, dtype=self.dtype)

    # -- transforms ----------------------------------------------------------------------
    def get_random_transform(self, img_shape, seed=None):
        """Draws one image's parameters (Keras's draws, in Keras's order)."""
        rows, cols = img_shape[self.row_axis - 1], img_shape[self.col_axis - 1]
        if seed is not None:
            np.random.seed(seed)
        theta = np.random.uniform(-self.rotation_range, self.rotation_range) \
            if self.rotation_range else 0
        tx = self._draw_shift(self.height_shift_range, rows)
        ty = self._draw_shift(self.width_shift_range, cols)
        shear = np.random.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = np.random.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = (np.random.random() < 0.5) * self.horizontal_flip
        flip_vertical = (np.random.random() < 0.5) * self.vertical_flip
        channel_shift = None
        if self.channel_shift_range != 0:
            channel_shift = np.random.uniform(-self.channel_shift_range,
                                              self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = np.random.uniform(self.brightness_range[0], self.brightness_range[1])
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift, "brightness": brightness}

    @staticmethod
    def _draw_shift(shift_range, size):
        # Keras tests the range's truth value: a non-empty list draws even [0].
        if not (shift_range.size if isinstance(shift_range, np.ndarray) else shift_range):
            return 0
        if isinstance(shift_range, (list, tuple, np.ndarray)) or (
                isinstance(shift_range, numbers.Integral) and not isinstance(shift_range, bool)):
            # Keras: a list or an int gives whole-pixel choices with a random sign.
            shift = np.random.choice(shift_range) * np.random.choice([-1, 1])
        else:
            shift = np.random.uniform(-shift_range, shift_range)
        if np.max(shift_range) < 1:
            shift *= size
        return shift

    def _matrix(self, params, shape):
        h, w = shape[self.row_axis - 1], shape[self.col_axis - 1]
        return _affine_matrix(params.get("theta", 0), params.get("tx", 0), params.get("ty", 0),
                              params.get("shear", 0), params.get("zx", 1), params.get("zy", 1),
                              h, w, swap=True)

    def _to_hwc(self, x):
        return x if self.data_format == "channels_last" else np.moveaxis(x, -3, -1)

    def _from_hwc(self, x):
        return x if self.data_format == "channels_last" else np.moveaxis(x, -1, -3)

    def _finish(self, x, params):
        """The non-warp steps of `apply_transform` on one channels-last image."""
        if params.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, params["channel_shift_intensity"])
        if params.get("flip_horizontal", False):
            x = x[:, ::-1]
        if params.get("flip_vertical", False):
            x = x[::-1]
        if params.get("brightness") is not None:
            x = apply_brightness_shift(x, params["brightness"], False)
        return x

    def apply_transform(self, x, transform_parameters):
        """Applies `get_random_transform`'s parameters to one 3-D image."""
        x = np.asarray(x)
        hwc = self._to_hwc(x)
        out = _warp_batch(hwc[None].astype(x.dtype if x.dtype.kind == "f" else "float32"),
                          [self._matrix(transform_parameters, x.shape)], self.fill_mode,
                          self.cval, self.interpolation_order)[0]
        return self._from_hwc(self._finish(out, transform_parameters))

    def random_transform(self, x, seed=None):
        """One image, randomly transformed."""
        return self.apply_transform(x, self.get_random_transform(np.shape(x), seed))

    def _augment_batch(self, batch):
        """Draws per image in Keras's order, warps the whole batch at once,
        then finishes and standardises each image."""
        params = [self.get_random_transform(batch.shape[1:]) for _ in range(len(batch))]
        hwc = self._to_hwc(batch)
        hwc = _warp_batch(hwc, [self._matrix(p, batch.shape[1:]) for p in params],
                          self.fill_mode, self.cval, self.interpolation_order)
        out = np.empty_like(batch)
        for i, p in enumerate(params):
            image = self._from_hwc(self._finish(hwc[i], p))
            out[i] = self.standardize(np.array(image, dtype=batch.dtype))
        return out

    def standardize(self, x):
        """`preprocessing_function`, `rescale`, then the centring and scaling
        options, in place where possible (as Keras)."""
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        for flag, value, what in ((self.featurewise_center, self.mean, "featurewise_center"),
                                  (self.featurewise_std_normalization, self.std,
                                   "featurewise_std_normalization"),
                                  (self.zca_whitening, self.zca_whitening_matrix,
                                   "zca_whitening")):
            if flag and value is None:
                warnings.warn(f"This ImageDataGenerator specifies `{what}`, but it hasn't been "
                              "fit on any training data. Fit it first by calling "
                              "`.fit(numpy_data)`.", stacklevel=2)
        if self.featurewise_center and self.mean is not None:
            x -= self.mean
        if self.featurewise_std_normalization and self.std is not None:
            x /= self.std + 1e-6
        if self.zca_whitening and self.zca_whitening_matrix is not None:
            flat = x.reshape(-1, int(np.prod(x.shape[-3:])))
            x = (flat @ self.zca_whitening_matrix).reshape(x.shape)
        return x

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Computes the data set statistics the featurewise options need."""
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"ImageDataGenerator.fit: input to `.fit()` should have rank 4. "
                             f"Got array with shape: {x.shape}")
        if seed is not None:
            np.random.seed(seed)
        x = np.copy(x)
        if augment:
            x = np.concatenate([self._augment_batch_unstandardized(x) for _ in range(rounds)])
        axes = (0, self.row_axis, self.col_axis)
        shape = [1, 1, 1]
        shape[self.channel_axis - 1] = x.shape[self.channel_axis]
        if self.featurewise_center:
            self.mean = np.mean(x, axis=axes).reshape(shape)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.std(x, axis=axes).reshape(shape)
            x /= self.std + 1e-6
        if self.zca_whitening:
            flat = x.reshape(x.shape[0], -1)
            sigma = flat.T @ flat / flat.shape[0]
            u, s, _ = np.linalg.svd(sigma)
            self.zca_whitening_matrix = (u * (1.0 / np.sqrt(s[np.newaxis] + self.zca_epsilon))
                                         ) @ u.T

    def _augment_batch_unstandardized(self, batch):
        params = [self.get_random_transform(batch.shape[1:]) for _ in range(len(batch))]
        hwc = _warp_batch(self._to_hwc(batch), [self._matrix(p, batch.shape[1:]) for p in params],
                          self.fill_mode, self.cval, self.interpolation_order)
        return np.stack([self._from_hwc(self._finish(hwc[i], p)) for i, p in enumerate(params)])


__all__ = ["DirectoryIterator", "ImageDataGenerator", "Iterator", "NumpyArrayIterator",
           "apply_affine_transform", "apply_brightness_shift", "apply_channel_shift",
           "array_to_img", "flip_axis", "img_to_array", "load_img", "save_img", "smart_resize",
           "transform_matrix_offset_center"]
