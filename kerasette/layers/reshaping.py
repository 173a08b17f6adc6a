"""ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling1D/2D/3D and RepeatVector."""

from __future__ import annotations

import numbers

from kerasette import ops
from kerasette.layers.base import Layer
from kerasette.layers.convolutional import (check_image_shape, check_sequence_shape,
                                            check_volume_shape, data_format_arg)
from kerasette.ops.conv_geometry import _spatial
from kerasette.ops.image import check_interpolation, resize


_SIDES = {
    2: ("a pair (symmetric_height_{w}, symmetric_width_{w})",
        "((top_{w}, bottom_{w}), (left_{w}, right_{w}))"),
    3: ("a tuple of three ints (symmetric_dim1_{w}, symmetric_dim2_{w}, symmetric_dim3_{w})",
        "((left_dim1_{w}, right_dim1_{w}), (left_dim2_{w}, right_dim2_{w}), "
        "(left_dim3_{w}, right_dim3_{w}))"),
}


def _side_pairs(value, rank, what, layer):
    """Keras's spellings of a padding or cropping over `rank` spatial axes
    (an int for all; or per axis an int, symmetric, or a `(before, after)`
    pair, as tf.keras 2 normalises each entry) as `((before, after), ...)`."""
    def nonneg_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0

    def entry(v):
        if nonneg_int(v):
            return (int(v), int(v))
        if isinstance(v, (list, tuple)) and len(v) == 2 and all(nonneg_int(u) for u in v):
            return (int(v[0]), int(v[1]))
        return None

    if nonneg_int(value):
        return ((int(value),) * 2,) * rank
    if isinstance(value, (list, tuple)) and len(value) == rank:
        pairs = tuple(entry(v) for v in value)
        if None not in pairs:
            return pairs
    word = "pad" if what == "padding" else "crop"
    symmetric, pairs = (form.format(w=word) for form in _SIDES[rank])
    raise ValueError(f"{layer}: `{what}` must be an int, {symmetric}, or {pairs}, of "
                     f"non-negative ints. Received: {what}={value!r}")


def _padding_pairs(padding):
    """ZeroPadding2D's three spellings as `((top, bottom), (left, right))`."""
    return _side_pairs(padding, 2, "padding", "ZeroPadding2D")


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around channels-last images.

    Args:
        padding: an int (the same on all four sides), a pair
            `(height_pad, width_pad)` (symmetric), or
            `((top, bottom), (left, right))`.
        data_format: `"channels_last"` (or `None`), the only layout.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.ZeroPadding2D(((1, 0), (2, 2)))(keras.ops.ones((1, 3, 3, 2))).shape
        (1, 4, 7, 2)
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _padding_pairs(padding)
        self.data_format = data_format_arg(data_format, "ZeroPadding2D")

    def build(self, input_shape):
        check_image_shape(self, input_shape)

    def call(self, inputs):
        check_image_shape(self, inputs.shape)
        (t, b), (l, r) = self.padding
        return ops.pad(inputs, ((0, 0), (t, b), (l, r), (0, 0)))

    def compute_output_shape(self, input_shape):
        check_image_shape(self, input_shape)
        n, h, w, c = input_shape
        (t, b), (l, r) = self.padding
        return (n, None if h is None else h + t + b, None if w is None else w + l + r, c)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": [list(p) for p in self.padding],
                       "data_format": self.data_format})
        return config


# -- sequences ---------------------------------------------------------------------
def _count(value, what, layer):
    """A positive int argument (`size`, `n`), refused with its name otherwise
    (a `TypeError` for a non-integer, as Keras raises)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{layer}: `{what}` must be a positive int. Received: "
                        f"{what}={value!r} of type {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{layer}: `{what}` must be a positive int. Received: {what}={value!r}")
    return int(value)


def _two_sides(value, what, layer):
    """An int (both sides) or a pair `(before, after)` of non-negative ints."""
    pair = (value, value) if isinstance(value, numbers.Integral) else value
    if (not isinstance(pair, (list, tuple)) or len(pair) != 2 or any(
            not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 0 for v in pair)):
        raise ValueError(f"{layer}: `{what}` must be a non-negative int or a pair (before, "
                         f"after) of non-negative ints. Received: {what}={value!r}")
    return (int(pair[0]), int(pair[1]))


def _copies(x, axis, n):
    """`x` with a new axis at `axis` holding `n` copies of it: one broadcast
    product, whose gradient sums the copies."""
    shape = list(x.shape)
    shape.insert(axis, 1)
    ones = [1] * len(shape)
    ones[axis] = n
    return ops.multiply(ops.reshape(x, tuple(shape)), ops.ones(tuple(ones), dtype=x.dtype))


class ZeroPadding1D(Layer):
    """Adds zeros at the start and end of the steps of `(batch, steps,
    channels)` sequences.

    Args:
        padding: an int (the same at both ends) or a pair `(before, after)`.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.ZeroPadding1D((1, 2))(keras.ops.ones((2, 4, 3))).shape
        (2, 7, 3)
    """

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _two_sides(padding, "padding", "ZeroPadding1D")
        data_format_arg(data_format, "ZeroPadding1D")  # Keras 3's argument: channels last only

    def build(self, input_shape):
        check_sequence_shape(self, input_shape)

    def call(self, inputs):
        check_sequence_shape(self, inputs.shape)
        return ops.pad(inputs, ((0, 0), self.padding, (0, 0)))

    def compute_output_shape(self, input_shape):
        check_sequence_shape(self, input_shape)
        n, steps, c = input_shape
        return (n, None if steps is None else steps + sum(self.padding), c)

    def get_config(self):
        config = super().get_config()
        config["padding"] = list(self.padding)
        return config


class Cropping1D(Layer):
    """Removes steps at the start and end of `(batch, steps, channels)`
    sequences.

    Args:
        cropping: an int (the same at both ends) or a pair `(before, after)`.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.Cropping1D((1, 2))(keras.ops.ones((2, 6, 3))).shape
        (2, 3, 3)
    """

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _two_sides(cropping, "cropping", "Cropping1D")

    def _check(self, shape):
        check_sequence_shape(self, shape)
        if shape[1] is not None and sum(self.cropping) >= shape[1]:
            raise ValueError(f"Cropping1D: `cropping` must leave at least one step: it removes "
                             f"{sum(self.cropping)} of {shape[1]}. Received: cropping="
                             f"{self.cropping}, input shape {tuple(shape)}")

    def build(self, input_shape):
        self._check(input_shape)

    def call(self, inputs):
        self._check(inputs.shape)
        start, end = self.cropping
        return ops.getitem(inputs, (slice(None), slice(start, inputs.shape[1] - end)))

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        n, steps, c = input_shape
        return (n, None if steps is None else steps - sum(self.cropping), c)

    def get_config(self):
        config = super().get_config()
        config["cropping"] = list(self.cropping)
        return config


class UpSampling1D(Layer):
    """Repeats each step `size` times: `[a, b]` becomes `[a, a, b, b]`.

    Args:
        size: the repeat count (default 2).

    Example:
        >>> import kerasette as keras
        >>> x = keras.ops.convert_to_tensor([[[1.0], [2.0]]])
        >>> keras.layers.UpSampling1D(2)(x).numpy()[0, :, 0].tolist()
        [1.0, 1.0, 2.0, 2.0]
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = _count(size, "size", "UpSampling1D")

    def build(self, input_shape):
        check_sequence_shape(self, input_shape)

    def call(self, inputs):
        check_sequence_shape(self, inputs.shape)
        n, steps, c = inputs.shape
        return ops.reshape(_copies(inputs, 2, self.size), (n, steps * self.size, c))

    def compute_output_shape(self, input_shape):
        check_sequence_shape(self, input_shape)
        n, steps, c = input_shape
        return (n, None if steps is None else steps * self.size, c)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config


class RepeatVector(Layer):
    """Repeats a `(batch, features)` input `n` times: `(batch, n, features)`
    (the bridge from an encoder's vector to a decoder's sequence).

    Args:
        n: the repeat count.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.RepeatVector(3)(keras.ops.ones((2, 4))).shape
        (2, 3, 4)
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = _count(n, "n", "RepeatVector")

    def _check(self, shape):
        if len(shape) != 2:
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                f"ndim=2, found ndim={len(shape)}. Full shape received: {tuple(shape)}. "
                "RepeatVector repeats vectors of shape (batch, features).")

    def build(self, input_shape):
        self._check(input_shape)

    def call(self, inputs):
        self._check(inputs.shape)
        return _copies(inputs, 1, self.n)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


class Permute(Layer):
    """Permutes the axes of each sample (the batch axis stays first).

    Args:
        dims: a permutation of `1..rank-1` (1-based, batch excluded), e.g.
            `(2, 1)` swaps the two axes of `(batch, steps, features)`.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.Permute((2, 1))(keras.ops.ones((4, 10, 64))).shape
        (4, 64, 10)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        given = dims
        dims = tuple(dims) if isinstance(dims, (list, tuple)) else ()
        if not dims or any(isinstance(d, bool) or not isinstance(d, numbers.Integral)
                           for d in dims) or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError("Permute: argument `dims` must be a permutation of the axes "
                             "1..n, consecutive and starting from 1 (the batch axis is 0 and "
                             f"stays). Received: dims={given!r}")
        self.dims = tuple(int(d) for d in dims)

    def _check(self, shape):
        if len(shape) != len(self.dims) + 1:
            raise ValueError(f"{self.name}: `dims` {self.dims} permute {len(self.dims)} axes, "
                             f"so the input must have rank {len(self.dims) + 1} (batch "
                             f"included). Received: input of shape {tuple(shape)}")

    def build(self, input_shape):
        self._check(input_shape)

    def call(self, inputs):
        self._check(inputs.shape)
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


# -- images and volumes ------------------------------------------------------------
class _Spatial(Layer):
    """A layer over the `_rank` spatial axes of channels-last images
    (`_rank` 2) or volumes (3), checked by `_check_shape`."""

    _rank = 2
    _check_shape = staticmethod(check_image_shape)

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format_arg(data_format, type(self).__name__)

    def build(self, input_shape):
        self._check(input_shape)

    def _check(self, shape):
        type(self)._check_shape(self, shape)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        return (input_shape[0],) + tuple(
            None if size is None else self._size(size, axis)
            for axis, size in enumerate(input_shape[1:-1])) + (input_shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update(self._own_config())
        config["data_format"] = self.data_format
        return config


class _Cropping(_Spatial):
    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.cropping = _side_pairs(cropping, self._rank, "cropping", type(self).__name__)

    def _check(self, shape):
        super()._check(shape)
        for size, (a, b) in zip(shape[1:-1], self.cropping):
            if size is not None and a + b >= size:
                raise ValueError(f"{type(self).__name__}: `cropping` must leave at least one "
                                 f"element on each axis: it removes {a + b} of {size}. "
                                 f"Received: cropping={self.cropping}, input shape "
                                 f"{tuple(shape)}")

    def _size(self, size, axis):
        return size - sum(self.cropping[axis])

    def call(self, inputs):
        self._check(inputs.shape)
        key = (slice(None),) + tuple(slice(a, size - b) for size, (a, b) in zip(
            inputs.shape[1:-1], self.cropping))
        return ops.getitem(inputs, key)

    def _own_config(self):
        return {"cropping": [list(p) for p in self.cropping]}


class Cropping2D(_Cropping):
    """Removes rows and columns at the borders of channels-last images.

    Args:
        cropping: an int (the same on all four sides), a pair
            `(height_crop, width_crop)` (symmetric), or
            `((top, bottom), (left, right))`.
        data_format: `"channels_last"` (or `None`), the only layout.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.Cropping2D(((1, 0), (2, 2)))(keras.ops.ones((1, 5, 6, 2))).shape
        (1, 4, 2, 2)
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Removes elements at the borders of the three spatial axes of
    channels-last volumes.

    Args:
        cropping: an int (the same everywhere), a tuple of three ints
            (symmetric per axis), or three `(before, after)` pairs.
        data_format: `"channels_last"` (or `None`), the only layout.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.Cropping3D(((1, 0), (0, 0), (2, 1)))(keras.ops.ones((1, 4, 4, 5, 2))).shape
        (1, 3, 4, 2, 2)
    """

    _rank = 3
    _check_shape = staticmethod(check_volume_shape)

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class ZeroPadding3D(_Spatial):
    """Adds zeros at the borders of the three spatial axes of channels-last
    volumes.

    Args:
        padding: an int (the same everywhere), a tuple of three ints
            (symmetric per axis), or three `(before, after)` pairs.
        data_format: `"channels_last"` (or `None`), the only layout.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.ZeroPadding3D((1, 0, 2))(keras.ops.ones((1, 3, 3, 3, 2))).shape
        (1, 5, 3, 7, 2)
    """

    _rank = 3
    _check_shape = staticmethod(check_volume_shape)

    def __init__(self, padding=(1, 1, 1), data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = _side_pairs(padding, 3, "padding", "ZeroPadding3D")

    def _size(self, size, axis):
        return size + sum(self.padding[axis])

    def call(self, inputs):
        self._check(inputs.shape)
        return ops.pad(inputs, ((0, 0),) + self.padding + ((0, 0),))

    def _own_config(self):
        return {"padding": [list(p) for p in self.padding]}


class _UpSampling(_Spatial):
    def __init__(self, size, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.size = _spatial(size, self._rank, "size", type(self).__name__)

    def _size(self, size, axis):
        return size * self.size[axis]

    def _repeat(self, inputs):
        """Each element repeated `size` times along each spatial axis: one
        broadcast product (its gradient sums the copies)."""
        n, *spatial, c = inputs.shape
        spread = [n] + [d for size in spatial for d in (size, 1)] + [c]
        copies = [1] + [d for rep in self.size for d in (1, rep)] + [1]
        out = ops.multiply(ops.reshape(inputs, tuple(spread)),
                           ops.ones(tuple(copies), dtype=inputs.dtype))
        return ops.reshape(out, (n,) + tuple(s * r for s, r in zip(spatial, self.size)) + (c,))

    def call(self, inputs):
        self._check(inputs.shape)
        return self._repeat(inputs)

    def _own_config(self):
        return {"size": list(self.size)}


_TF_ONLY_INTERPOLATIONS = ("area", "bicubic", "gaussian", "lanczos3", "lanczos5",
                           "mitchellcubic")


class UpSampling2D(_UpSampling):
    """Enlarges channels-last images by integer factors: `"nearest"`
    repeats each pixel, `"bilinear"` interpolates as tf.keras 2 does
    (`tf.image.resize`, half-pixel centres, so `[a, b]` doubles to
    `[a, 0.75a + 0.25b, 0.25a + 0.75b, b]`).

    Args:
        size: int or pair `(rows, cols)` of factors (default `(2, 2)`).
        data_format: `"channels_last"` (or `None`), the only layout.
        interpolation: `"nearest"` (default) or `"bilinear"`.

    Example:
        >>> import kerasette as keras
        >>> x = keras.ops.convert_to_tensor([[[[1.0], [3.0]]]])
        >>> up = keras.layers.UpSampling2D((1, 2), interpolation="bilinear")
        >>> up(x).numpy()[0, 0, :, 0].tolist()
        [1.0, 1.5, 2.5, 3.0]
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, **kwargs)
        if interpolation in _TF_ONLY_INTERPOLATIONS:
            raise NotImplementedError(
                f"UpSampling2D: interpolation={interpolation!r} is not supported; use "
                "'nearest' or 'bilinear'.")
        self.interpolation = check_interpolation(interpolation, "UpSampling2D")

    def call(self, inputs):
        self._check(inputs.shape)
        if self.interpolation == "nearest":
            return self._repeat(inputs)
        _, h, w, _ = inputs.shape
        return resize(inputs, (h * self.size[0], w * self.size[1]), interpolation="bilinear")

    def get_config(self):
        config = super().get_config()
        config["interpolation"] = self.interpolation
        return config


class UpSampling3D(_UpSampling):
    """Enlarges channels-last volumes by repeating each element `size`
    times along each spatial axis.

    Args:
        size: int or a tuple of three factors (default `(2, 2, 2)`).
        data_format: `"channels_last"` (or `None`), the only layout.

    Example:
        >>> import kerasette as keras
        >>> keras.layers.UpSampling3D((2, 1, 3))(keras.ops.ones((1, 2, 2, 2, 4))).shape
        (1, 4, 2, 6, 4)
    """

    _rank = 3
    _check_shape = staticmethod(check_volume_shape)

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)
