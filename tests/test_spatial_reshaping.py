"""UpSampling2D (nearest and bilinear), UpSampling3D, Cropping2D, Cropping3D
and ZeroPadding3D.

Forward passes are checked against NumPy written here (`np.repeat`,
`np.pad`, slicing, and `np.interp` at TensorFlow's half-pixel centres for
bilinear), gradients through the layer harness (float64 finite
differences); then configs and errors. Files real Keras wrote:
test_conv_more_files.py."""

from __future__ import annotations

import json

import numpy as np
import pytest
from layer_harness import run_layer_test

from kerasette import layers

RNG = np.random.default_rng(0)


def ref_bilinear(x, fh, fw):
    """tf.image.resize bilinear (half-pixel centres) by integer factors:
    output i samples input position (i + 0.5) / f - 0.5, clamped at the
    borders, which is what np.interp does past the ends."""
    def along(a, axis, f):
        n = a.shape[axis]
        pos = (np.arange(n * f) + 0.5) / f - 0.5
        return np.apply_along_axis(lambda v: np.interp(pos, np.arange(n), v), axis, a)
    return along(along(x, 1, fh), 2, fw)


@pytest.mark.parametrize("cls, kwargs, in_shape, out_shape", [
    (layers.UpSampling2D, {}, (2, 3, 2, 2), (2, 6, 4, 2)),
    (layers.UpSampling2D, {"size": (1, 3), "interpolation": "bilinear"}, (2, 3, 2, 2),
     (2, 3, 6, 2)),
    (layers.UpSampling2D, {"size": 2, "interpolation": "bilinear"}, (1, 2, 3, 2), (1, 4, 6, 2)),
    (layers.UpSampling3D, {"size": (2, 1, 3)}, (2, 2, 3, 2, 1), (2, 4, 3, 6, 1)),
    (layers.Cropping2D, {"cropping": ((1, 0), (2, 1))}, (2, 4, 5, 2), (2, 3, 2, 2)),
    (layers.Cropping2D, {"cropping": 1}, (2, 4, 5, 2), (2, 2, 3, 2)),
    (layers.Cropping3D, {}, (1, 3, 4, 5, 2), (1, 1, 2, 3, 2)),
    (layers.Cropping3D, {"cropping": (0, 1, (2, 0))}, (1, 3, 4, 5, 2), (1, 3, 2, 3, 2)),
    (layers.ZeroPadding3D, {}, (1, 2, 3, 2, 2), (1, 4, 5, 4, 2)),
    (layers.ZeroPadding3D, {"padding": ((1, 0), (0, 2), (1, 1))}, (1, 2, 3, 2, 2),
     (1, 3, 5, 4, 2)),
])
def test_layer_harness(backend, cls, kwargs, in_shape, out_shape):
    run_layer_test(cls, kwargs, in_shape, out_shape)


def test_forward_passes_match_numpy(backend):
    x = RNG.standard_normal((2, 3, 4, 2)).astype("float32")
    np.testing.assert_array_equal(layers.UpSampling2D((2, 3))(x).numpy(),
                                  x.repeat(2, axis=1).repeat(3, axis=2))
    np.testing.assert_allclose(layers.UpSampling2D((3, 2), interpolation="bilinear")(x).numpy(),
                               ref_bilinear(x.astype("float64"), 3, 2), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(layers.Cropping2D(((1, 1), (0, 2)))(x).numpy(),
                                  x[:, 1:2, 0:2])
    v = RNG.standard_normal((2, 3, 2, 4, 2)).astype("float32")
    np.testing.assert_array_equal(layers.UpSampling3D((1, 2, 2))(v).numpy(),
                                  v.repeat(2, axis=2).repeat(2, axis=3))
    np.testing.assert_array_equal(layers.Cropping3D(((1, 0), (0, 1), (1, 2)))(v).numpy(),
                                  v[:, 1:, :1, 1:2])
    np.testing.assert_array_equal(layers.ZeroPadding3D((1, 0, 2))(v).numpy(),
                                  np.pad(v, ((0, 0), (1, 1), (0, 0), (2, 2), (0, 0))))


def test_bilinear_doubles_a_row_as_tensorflow_does(backend):
    x = np.array([1.0, 3.0], "float32").reshape(1, 1, 2, 1)
    y = layers.UpSampling2D((1, 2), interpolation="bilinear")(x).numpy().ravel()
    np.testing.assert_allclose(y, [1.0, 1.5, 2.5, 3.0])


def test_configs_have_tf_keras_2_keys():
    up = layers.UpSampling2D(3, interpolation="bilinear", name="u").get_config()
    assert list(up) == ["name", "trainable", "dtype", "size", "data_format", "interpolation"]
    assert up["size"] == [3, 3] and up["interpolation"] == "bilinear"
    assert layers.UpSampling3D(name="u3").get_config()["size"] == [2, 2, 2]
    crop = layers.Cropping2D(((1, 2), (0, 3)), name="c").get_config()
    assert list(crop) == ["name", "trainable", "dtype", "cropping", "data_format"]
    assert crop["cropping"] == [[1, 2], [0, 3]]
    assert layers.Cropping3D(name="c3").get_config()["cropping"] == [[1, 1]] * 3
    assert layers.ZeroPadding3D(2, name="z").get_config()["padding"] == [[2, 2]] * 3
    for cls in (layers.UpSampling2D, layers.UpSampling3D, layers.Cropping2D,
                layers.Cropping3D, layers.ZeroPadding3D):
        config = json.loads(json.dumps(cls(name="x").get_config()))
        assert layers.deserialize({"class_name": cls.__name__, "config": config}
                                  ).get_config() == config


@pytest.mark.parametrize("build, error, match", [
    (lambda: layers.UpSampling2D(interpolation="bicubic"), NotImplementedError, "bicubic"),
    (lambda: layers.UpSampling2D(interpolation="cubic"), ValueError, "interpolation"),
    (lambda: layers.UpSampling2D(size=0), ValueError, "size"),
    (lambda: layers.UpSampling3D(size=(2, 2)), ValueError, "size"),
    (lambda: layers.Cropping2D(-1), ValueError, "cropping"),
    (lambda: layers.Cropping3D(((1, 1), (1, 1))), ValueError, "cropping"),
    (lambda: layers.ZeroPadding3D((1, 2)), ValueError, "padding"),
    (lambda: layers.ZeroPadding3D(1.5), ValueError, "padding"),
    (lambda: layers.Cropping2D(data_format="channels_first"), ValueError, "channels_first"),
])
def test_bad_arguments_are_refused_at_construction(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_bad_inputs_are_refused(backend):
    with pytest.raises(ValueError, match="at least one"):
        layers.Cropping2D(((2, 2), (0, 0)))(np.ones((1, 4, 4, 1), "float32"))
    with pytest.raises(ValueError, match="expected ndim=5"):
        layers.UpSampling3D()(np.ones((1, 4, 4, 1), "float32"))
    with pytest.raises(ValueError, match="expected ndim=4"):
        layers.UpSampling2D()(np.ones((1, 4, 4, 4, 1), "float32"))
