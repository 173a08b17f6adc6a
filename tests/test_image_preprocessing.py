"""Image ops and layers: `resize`, `affine_transform`, `Resizing`,
`CenterCrop`, `RandomCrop`, `RandomFlip`, `RandomRotation`, `RandomZoom`,
`RandomTranslation`, `RandomContrast`, `RandomBrightness`.

References are plain NumPy written here from the documented formulas
(tf.image.resize with half-pixel centres; TensorFlow's
ImageProjectiveTransformV3 fill modes), looping over pixels, so they share
no code with the vectorised ops.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from gradcheck import check_gradients
from layer_harness import run_layer_test

import kerasette as keras
from kerasette import layers, ops
from kerasette.ops import image as image_ops


def _images(shape, seed=0, low=0.0, high=255.0):
    return np.random.default_rng(seed).uniform(low, high, shape).astype("float32")


# -- NumPy references ---------------------------------------------------------------
def _ref_resize_bilinear(x, out_h, out_w):
    """tf.image.resize(method="bilinear", antialias=False) by its formula."""
    n, in_h, in_w, c = x.shape
    out = np.zeros((n, out_h, out_w, c), dtype="float64")

    def source(i, in_size, out_size):
        s = (i + 0.5) * (in_size / out_size) - 0.5
        lower = max(math.floor(s), 0)
        upper = min(math.ceil(s), in_size - 1)
        return lower, upper, s - math.floor(s)

    for i in range(out_h):
        y0, y1, dy = source(i, in_h, out_h)
        for j in range(out_w):
            x0, x1, dx = source(j, in_w, out_w)
            top = x[:, y0, x0] + (x[:, y0, x1] - x[:, y0, x0]) * dx
            bottom = x[:, y1, x0] + (x[:, y1, x1] - x[:, y1, x0]) * dx
            out[:, i, j] = top + (bottom - top) * dy
    return out


def _ref_resize_nearest(x, out_h, out_w):
    n, in_h, in_w, c = x.shape
    rows = [min(math.floor((i + 0.5) * in_h / out_h), in_h - 1) for i in range(out_h)]
    cols = [min(math.floor((j + 0.5) * in_w / out_w), in_w - 1) for j in range(out_w)]
    return x[:, rows][:, :, cols]


def _ref_extend(i, n, mode):
    """The documented padding patterns for an integer index `i` of a row of `n`."""
    if 0 <= i < n:
        return i
    if mode == "reflect":  # d c b a | a b c d | d c b a
        i %= 2 * n
        return i if i < n else 2 * n - 1 - i
    if mode == "wrap":  # a b c d | a b c d | a b c d
        return i % n
    if mode == "nearest":  # a a a a | a b c d | d d d d
        return min(max(i, 0), n - 1)
    return None  # constant: k k k k | a b c d | k k k k


def _ref_warp_nearest(img, transform, fill_value=0.0):
    """Inverse mapping with nearest interpolation and constant fill, per
    pixel, in float32 as TensorFlow's kernel computes."""
    h, w, c = img.shape
    a0, a1, a2, b0, b1, b2 = (np.float32(v) for v in transform[:6])
    out = np.full(img.shape, fill_value, dtype="float64")
    for y in range(h):
        for x in range(w):
            fx, fy = np.float32(x), np.float32(y)
            sx, sy = a0 * fx + a1 * fy + a2, b0 * fx + b1 * fy + b2
            if 0 <= sx <= w - 1 and 0 <= sy <= h - 1:
                out[y, x] = img[int(math.floor(sy + 0.5)), int(math.floor(sx + 0.5))]
    return out


# -- resize ---------------------------------------------------------------------------
@pytest.mark.parametrize("in_hw,out_hw", [((7, 9), (12, 5)), ((16, 16), (5, 7)),
                                          ((3, 4), (10, 10)), ((8, 6), (8, 6))])
def test_resize_bilinear_matches_tf_formula(to_device, in_hw, out_hw):
    x = _images((2,) + in_hw + (3,))
    got = image_ops.resize(to_device(x), out_hw).numpy()
    assert got.dtype == np.float32 and got.shape == (2,) + out_hw + (3,)
    np.testing.assert_allclose(got, _ref_resize_bilinear(x.astype("float64"), *out_hw),
                               rtol=1e-5, atol=1e-5 * 255)


def test_resize_nearest_and_uint8(to_device):
    x = np.random.default_rng(1).integers(0, 256, (2, 7, 10, 1)).astype("uint8")
    got = image_ops.resize(to_device(x), (4, 13), "nearest").numpy()
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, _ref_resize_nearest(x, 4, 13))
    # Bilinear of integer images gives float32, as tf.image.resize does.
    assert image_ops.resize(to_device(x), (3, 3)).numpy().dtype == np.float32


def test_resizing_layer_crop_to_aspect_ratio(to_device):
    x = _images((2, 10, 20, 3))
    got = layers.Resizing(4, 4, crop_to_aspect_ratio=True)(to_device(x)).numpy()
    # The largest centred square of a 10 x 20 image is columns 5..14.
    np.testing.assert_allclose(got, _ref_resize_bilinear(x[:, :, 5:15].astype("float64"), 4, 4),
                               rtol=1e-5, atol=1e-3)
    unbatched = layers.Resizing(5, 3)(to_device(x[0])).numpy()
    np.testing.assert_allclose(unbatched, _ref_resize_bilinear(x[:1].astype("float64"), 5, 3)[0],
                               rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("interpolation,crop", [("bilinear", False), ("nearest", False),
                                                ("bilinear", True)])
def test_resize_gradients(interpolation, crop):
    x = np.random.default_rng(2).standard_normal((2, 4, 6, 2))
    check_gradients(lambda t: image_ops.resize(t, (5, 3), interpolation, crop), [x])


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
def test_affine_transform_gradients(fill_mode):
    x = np.random.default_rng(3).standard_normal((2, 5, 4, 2))
    transforms = ops.convert_to_tensor(np.array([[0.9, -0.3, 0.7, 0.2, 1.1, -0.6, 0, 0],
                                                 [1.2, 0.1, -1.3, -0.2, 0.8, 1.7, 0, 0]]))
    check_gradients(lambda t: image_ops.affine_transform(t, transforms, "bilinear", fill_mode,
                                                          fill_value=0.5), [x])


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
@pytest.mark.parametrize("interpolation", ["nearest", "bilinear"])
def test_fill_modes_follow_the_documented_patterns(to_device, fill_mode, interpolation):
    row = np.arange(1.0, 6.0, dtype="float32").reshape(1, 1, 5, 1)  # a b c d e
    # TF's wrap divides by n - 1 but shifts by n (a kept quirk), so shifts of
    # n - 1 or more are not plain wrapping there; within, every mode is.
    shifts = range(-3, 4) if fill_mode == "wrap" else range(-9, 10)
    for shift in shifts:
        t = [1, 0, -shift, 0, 1, 0, 0, 0]  # output x reads input x - shift
        got = image_ops.affine_transform(to_device(row), t, interpolation, fill_mode,
                                         fill_value=-1.0).numpy().ravel()
        want = []
        for x in range(5):
            i = _ref_extend(x - shift, 5, fill_mode)
            want.append(-1.0 if i is None else row.ravel()[i])
        np.testing.assert_array_equal(got, want, err_msg=f"{fill_mode} shift {shift}")


def test_tf_wrap_quirk_is_kept(to_device):
    row = np.arange(1.0, 5.0, dtype="float32").reshape(1, 1, 4, 1)
    # TF: in = -3 -> -3 + 4 * (trunc(3 / 3) + 1) = 5 -> clamped to 3.
    got = image_ops.affine_transform(to_device(row), [1, 0, -3, 0, 1, 0, 0, 0], "nearest",
                                     "wrap").numpy().ravel()
    assert got[0] == 4.0


def test_bilinear_warp_half_pixel_and_constant_edge(to_device):
    row = np.array([0.0, 10.0, 20.0, 30.0], dtype="float32").reshape(1, 1, 4, 1)
    got = image_ops.affine_transform(to_device(row), [1, 0, 0.5, 0, 1, 0, 0, 0], "bilinear",
                                     "constant", fill_value=100.0).numpy().ravel()
    # x + 0.5: halfway between neighbours; the last point (3.5) lies outside.
    np.testing.assert_allclose(got, [5.0, 15.0, 25.0, 100.0])


def test_affine_transform_errors(to_device):
    x = to_device(np.zeros((1, 4, 4, 1), "float32"))
    with pytest.raises(ValueError, match="fill_mode"):
        image_ops.affine_transform(x, [1, 0, 0, 0, 1, 0, 0, 0], fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation"):
        image_ops.resize(x, (2, 2), "bicubic")
    with pytest.raises(ValueError, match=r"\(batch, 8\)"):
        image_ops.affine_transform(x, np.zeros((3, 8), "float32") if keras.backend.backend()
                                   == "numpy" else to_device(np.zeros((3, 8), "float32")))


# -- the augmentation layers --------------------------------------------------------------
def _rotate(x, turns, interpolation="nearest", fill_mode="constant"):
    layer = layers.RandomRotation((turns, turns), fill_mode=fill_mode,
                                  interpolation=interpolation)
    return layer(x, training=True).numpy()


def test_rotation_by_right_angles_is_rot90(to_device):
    x = _images((3, 6, 6, 2))
    for turns, k in ((0.25, 1), (0.5, 2), (-0.25, -1)):
        # "nearest" fill: float32 cos(pi / 2) is -4e-8, so edge pixels land a
        # hair outside, where "constant" (in TensorFlow too) would fill.
        got = _rotate(to_device(x), turns, fill_mode="nearest")
        np.testing.assert_array_equal(got, np.rot90(x, k, axes=(1, 2)), err_msg=str(turns))


def test_rotation_by_30_degrees_matches_pixel_reference(to_device):
    x = _images((1, 9, 7, 1))
    got = _rotate(to_device(x), 30 / 360)
    a = np.float32(30 / 360 * 2.0 * math.pi)
    cos, sin = np.cos(a), np.sin(a)
    h, w = 9, 7
    x_off = ((w - 1) - (cos * (w - 1) - sin * (h - 1))) / np.float32(2)
    y_off = ((h - 1) - (sin * (w - 1) + cos * (h - 1))) / np.float32(2)
    want = _ref_warp_nearest(x[0], [cos, -sin, x_off, sin, cos, y_off])
    np.testing.assert_array_equal(got[0], want)


def test_translation_by_whole_pixels_is_exact(to_device):
    x = _images((2, 8, 8, 3))
    layer = layers.RandomTranslation((0.25, 0.25), (-0.5, -0.5), fill_mode="constant",
                                     fill_value=7.0)
    got = layer(to_device(x), training=True).numpy()
    want = np.full_like(x, 7.0)
    want[:, 2:, :4] = x[:, :6, 4:]  # down by 2 rows, left by 4 columns
    np.testing.assert_array_equal(got, want)


def test_zoom_by_two_keeps_the_centre(to_device):
    x = _images((1, 5, 5, 1))
    # height_factor -0.5: zoom in to half: the output samples the input at
    # (2 + (j - 2) / 2), so odd pixels fall between two input pixels.
    got = layers.RandomZoom((-0.5, -0.5), interpolation="bilinear")(
        to_device(x), training=True).numpy()[0, :, :, 0]
    coords = [1.0, 1.5, 2.0, 2.5, 3.0]

    def sample(r, c):
        r0, c0 = int(math.floor(r)), int(math.floor(c))
        r1, c1 = min(r0 + 1, 4), min(c0 + 1, 4)
        dr, dc = r - r0, c - c0
        v = x[0, :, :, 0]
        return ((1 - dr) * ((1 - dc) * v[r0, c0] + dc * v[r0, c1])
                + dr * ((1 - dc) * v[r1, c0] + dc * v[r1, c1]))

    want = np.array([[sample(r, c) for c in coords] for r in coords])
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_flips_are_exact_and_both_happen(to_device):
    x = _images((32, 4, 5, 2))
    got = layers.RandomFlip("horizontal")(to_device(x), training=True).numpy()
    flipped = [np.array_equal(g, xi[:, ::-1]) for g, xi in zip(got, x)]
    kept = [np.array_equal(g, xi) for g, xi in zip(got, x)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)
    got = layers.RandomFlip("vertical")(to_device(x), training=True).numpy()
    assert all(np.array_equal(g, xi[::-1]) or np.array_equal(g, xi) for g, xi in zip(got, x))
    got = layers.RandomFlip()(to_device(x), training=True).numpy()
    seen = set()
    for g, xi in zip(got, x):
        variants = [xi, xi[:, ::-1], xi[::-1], xi[::-1, ::-1]]
        match = [i for i, v in enumerate(variants) if np.array_equal(g, v)]
        assert match
        seen.add(match[0])
    assert seen == {0, 1, 2, 3}


def test_contrast_formula(to_device):
    x = _images((4, 6, 6, 3), low=100, high=150)
    got = layers.RandomContrast((0.5, 0.5))(to_device(x), training=True).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    factor = (got - mean) / (x - mean)
    c = float(np.median(factor))
    assert 0.5 <= c <= 1.5
    np.testing.assert_allclose(got, (x - mean) * c + mean, rtol=1e-5, atol=1e-3)
    # Clipped to [0, 255].
    wide = layers.RandomContrast((0.0, 50.0))(to_device(_images((2, 4, 4, 1))),
                                              training=True).numpy()
    assert wide.min() >= 0.0 and wide.max() <= 255.0


def test_brightness_formula(to_device):
    x = _images((8, 3, 3, 3), low=0.3, high=0.6)
    got = layers.RandomBrightness(0.2, value_range=(0, 1))(to_device(x), training=True).numpy()
    delta = (got - x).reshape(8, -1)
    np.testing.assert_allclose(delta, delta[:, :1] * np.ones_like(delta), atol=1e-6)
    assert np.all(np.abs(delta[:, 0]) <= 0.2 + 1e-6) and np.ptp(delta[:, 0]) > 0
    clipped = layers.RandomBrightness((1.0, 1.0))(to_device(_images((2, 2, 2, 3))),
                                                  training=True).numpy()
    np.testing.assert_array_equal(clipped, 255.0)


RANDOM_LAYERS = [
    (layers.RandomFlip, {}),
    (layers.RandomRotation, {"factor": 0.2}),
    (layers.RandomZoom, {"height_factor": 0.3, "width_factor": (-0.2, 0.1)}),
    (layers.RandomTranslation, {"height_factor": 0.2, "width_factor": 0.3,
                                "fill_mode": "wrap"}),
    (layers.RandomContrast, {"factor": 0.4}),
    (layers.RandomBrightness, {"factor": 0.3}),
    (layers.RandomCrop, {"height": 4, "width": 3}),
]


@pytest.mark.parametrize("cls,kwargs", RANDOM_LAYERS, ids=lambda v: getattr(v, "__name__", ""))
def test_seeded_draws_repeat_and_inference_is_identity(to_device, cls, kwargs):
    x = to_device(_images((4, 6, 5, 3)))
    layer = cls(**kwargs)
    keras.utils.set_random_seed(11)
    first = layer(x, training=True).numpy()
    keras.utils.set_random_seed(11)
    np.testing.assert_array_equal(layer(x, training=True).numpy(), first)
    assert not np.array_equal(layer(x, training=True).numpy(), first)
    # A direct call augments, as tf.keras 2's `call(..., training=True)` does.
    keras.utils.set_random_seed(11)
    np.testing.assert_array_equal(layer(x).numpy(), first)
    if cls is not layers.RandomCrop:  # at inference RandomCrop resizes, as in tf.keras 2
        np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy())
        model = keras.Sequential([keras.Input(shape=x.shape[1:]), layer])
        np.testing.assert_array_equal(model.predict(x, verbose=0), x.numpy())


HARNESS = [
    (layers.Resizing, {"height": 3, "width": 5}, (2, 4, 6, 2), (2, 3, 5, 2), False),
    (layers.Resizing, {"height": 3, "width": 3, "interpolation": "nearest",
                       "crop_to_aspect_ratio": True}, (2, 4, 6, 2), (2, 3, 3, 2), False),
    (layers.CenterCrop, {"height": 3, "width": 2}, (2, 5, 5, 2), (2, 3, 2, 2), False),
    (layers.CenterCrop, {"height": 6, "width": 4}, (2, 5, 5, 2), (2, 6, 4, 2), False),
    (layers.RandomCrop, {"height": 3, "width": 4}, (4, 12, 12, 2), (4, 3, 4, 2), True),
    (layers.RandomFlip, {"mode": "horizontal"}, (6, 3, 4, 2), (6, 3, 4, 2), True),
    (layers.RandomRotation, {"factor": (-0.2, 0.3), "fill_mode": "nearest"}, (3, 4, 5, 2),
     (3, 4, 5, 2), True),
    (layers.RandomZoom, {"height_factor": 0.3, "fill_mode": "constant", "fill_value": 1.0},
     (3, 4, 4, 2), (3, 4, 4, 2), True),
    (layers.RandomTranslation, {"height_factor": 0.4, "width_factor": 0.2,
                                "interpolation": "nearest"}, (3, 4, 4, 2), (3, 4, 4, 2), True),
    (layers.RandomContrast, {"factor": (0.2, 0.6)}, (3, 3, 3, 2), (3, 3, 3, 2), True),
    (layers.RandomBrightness, {"factor": (-0.1, 0.2)}, (3, 3, 3, 2), (3, 3, 3, 2), True),
]


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape,random", HARNESS,
                         ids=lambda v: getattr(v, "__name__", None))
def test_layer_harness(cls, kwargs, in_shape, out_shape, random):
    # Small values (finite differences stay precise), inside [0, 255] where
    # RandomContrast clips.
    data = np.random.default_rng(4).uniform(1.0, 3.0, in_shape)
    run_layer_test(cls, kwargs, in_shape, out_shape, random_in_training=random,
                   input_data=data)


def test_configs_round_trip_through_the_registry():
    for cls, kwargs in RANDOM_LAYERS + [(layers.Resizing, {"height": 2, "width": 3}),
                                        (layers.CenterCrop, {"height": 2, "width": 2})]:
        layer = cls(**kwargs, seed=5) if cls not in (layers.Resizing, layers.CenterCrop) \
            else cls(**kwargs)
        clone = keras.layers.deserialize(keras.layers.serialize(layer))
        assert type(clone) is cls and clone.get_config() == layer.get_config()
    config = layers.RandomBrightness(0.2).get_config()
    assert config["factor"] == [-0.2, 0.2] and config["value_range"] == [0, 255]


def test_model_with_augmentation_trains_predicts_and_saves(to_device, tmp_path):
    keras.utils.set_random_seed(0)
    x = _images((16, 8, 8, 3)) / 255.0
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype("float32")
    model = keras.Sequential([
        keras.Input((8, 8, 3)),
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
        layers.Resizing(6, 6),
        layers.Conv2D(2, 3, activation="relu"),
        layers.Flatten(),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile("adam", "binary_crossentropy")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    first = model.predict(x, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), first)  # no augmentation
    path = str(tmp_path / "m.h5")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers[:3]] == [
        "RandomFlip", "RandomRotation", "Resizing"]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), first, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("make,message", [
    (lambda: layers.RandomFlip("diagonal"), "mode"),
    (lambda: layers.RandomRotation(0.2, fill_mode="mirror"), "fill_mode"),
    (lambda: layers.RandomRotation((0.3, 0.1)), "factor"),
    (lambda: layers.RandomZoom(1.5), "height_factor"),
    (lambda: layers.RandomTranslation(0.1, (0.2,)), "width_factor"),
    (lambda: layers.RandomContrast(-0.1), "factor"),
    (lambda: layers.RandomBrightness(1.5), "factor"),
    (lambda: layers.RandomBrightness(0.1, value_range=(0,)), "value_range"),
    (lambda: layers.Resizing(0, 4), "height"),
    (lambda: layers.Resizing(4, 4, interpolation="area"), "interpolation"),
    (lambda: layers.CenterCrop(4, 2.5), "width"),
])
def test_bad_arguments_are_refused_in_init(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_rank_is_checked(to_device):
    with pytest.raises(ValueError, match="height, width, channels"):
        layers.RandomFlip()(to_device(np.zeros((4, 4), "float32")), training=True)


def test_unbatched_images(to_device):
    image = _images((6, 5, 3))
    for layer in (layers.RandomRotation(0.2), layers.RandomFlip(), layers.RandomContrast(0.3),
                  layers.RandomBrightness(0.2), layers.RandomZoom(0.2)):
        assert layer(to_device(image), training=True).shape == (6, 5, 3)
    np.testing.assert_array_equal(layers.CenterCrop(4, 3)(to_device(image)).numpy(),
                                  image[1:5, 1:4])
    assert layers.RandomCrop(3, 3)(to_device(image), training=True).shape == (3, 3, 3)
    quarter = layers.RandomRotation((0.25, 0.25), fill_mode="nearest",
                                    interpolation="nearest")(to_device(image[:5]), training=True)
    np.testing.assert_array_equal(quarter.numpy(), np.rot90(image[:5], 1, axes=(0, 1)))


def test_keras3_config_keys_are_accepted():
    flip = layers.RandomFlip.from_config({"name": "f", "mode": "vertical", "seed": None,
                                          "data_format": "channels_last", "trainable": True})
    assert flip.mode == "vertical"
    resize = layers.Resizing.from_config({
        "name": "r", "height": 4, "width": 4, "interpolation": "bilinear",
        "crop_to_aspect_ratio": False, "pad_to_aspect_ratio": False, "fill_mode": "constant",
        "fill_value": 0.0, "antialias": False, "data_format": None})
    assert "data_format" not in resize.get_config()
    contrast = layers.RandomContrast.from_config({"factor": 0.2, "value_range": [0, 1],
                                                  "seed": None})
    assert contrast.get_config()["value_range"] == [0.0, 1.0]
    assert "value_range" not in layers.RandomContrast(0.2).get_config()  # tf.keras 2 keys
    with pytest.raises(ValueError, match="channels_last"):
        layers.RandomRotation(0.1, data_format="channels_first")
    with pytest.raises(NotImplementedError, match="pad_to_aspect_ratio"):
        layers.Resizing(4, 4, pad_to_aspect_ratio=True)
