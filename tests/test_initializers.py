"""kerasette.initializers: shapes, dtypes, statistics, seeding, configs, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import kerasette
from kerasette import backend as K
from kerasette import initializers as I

TRUNC_STD = 0.87962566103423978

# Every initializer class with arguments that differ from the defaults where
# it has any, so the config round trip has something to carry.
ALL = [
    (I.Zeros, {}),
    (I.Ones, {}),
    (I.Constant, {"value": 0.25}),
    (I.RandomNormal, {"mean": 0.1, "stddev": 0.2, "seed": 3}),
    (I.RandomUniform, {"minval": -0.2, "maxval": 0.6, "seed": 3}),
    (I.TruncatedNormal, {"mean": -0.1, "stddev": 0.3, "seed": 3}),
    (I.VarianceScaling,
     {"scale": 2.5, "mode": "fan_out", "distribution": "untruncated_normal", "seed": 3}),
    (I.GlorotUniform, {"seed": 3}),
    (I.GlorotNormal, {"seed": 3}),
    (I.HeUniform, {"seed": 3}),
    (I.HeNormal, {"seed": 3}),
    (I.LecunUniform, {"seed": 3}),
    (I.LecunNormal, {"seed": 3}),
    (I.Orthogonal, {"gain": 1.5, "seed": 3}),
    (I.Identity, {"gain": 2.0}),
]
ALL_IDS = [c.__name__ for c, _ in ALL]

SNAKE = {
    "zeros": I.Zeros, "ones": I.Ones, "constant": I.Constant,
    "random_normal": I.RandomNormal, "random_uniform": I.RandomUniform,
    "truncated_normal": I.TruncatedNormal, "variance_scaling": I.VarianceScaling,
    "glorot_uniform": I.GlorotUniform, "glorot_normal": I.GlorotNormal,
    "he_uniform": I.HeUniform, "he_normal": I.HeNormal,
    "lecun_uniform": I.LecunUniform, "lecun_normal": I.LecunNormal,
    "orthogonal": I.Orthogonal, "identity": I.Identity,
}


def _draw(init, shape=(400, 500), dtype=None):
    return init(shape, dtype=dtype).numpy()


# -- shapes, dtypes, device -------------------------------------------------------------
@pytest.mark.parametrize("cls,kwargs", ALL, ids=ALL_IDS)
def test_shape_dtype_and_device(cls, kwargs, backend):
    init = cls(**kwargs)
    out = init((4, 4))
    assert isinstance(out, kerasette.Tensor)
    assert backend.is_array(out.data), "initializers must return arrays of the active backend"
    assert out.shape == (4, 4)
    assert out.dtype == np.float32
    assert init([3, 4], dtype="float64").dtype == np.float64
    assert init((4, 4), dtype=np.float16).dtype == np.float16
    assert np.isfinite(out.numpy()).all()


@pytest.mark.parametrize("cls,kwargs", [c for c in ALL if c[0] is not I.Identity],
                         ids=[i for i in ALL_IDS if i != "Identity"])
def test_conv_kernel_shapes(cls, kwargs):
    assert cls(**kwargs)((3, 3, 2, 5)).shape == (3, 3, 2, 5)


def test_floatx_is_the_default_dtype():
    K.set_floatx("float64")
    try:
        assert I.GlorotUniform()((2, 2)).dtype == np.float64
        assert I.Zeros()((2,)).dtype == np.float64
    finally:
        K.set_floatx("float32")


def test_vectors_and_scalars():
    assert I.Zeros()(3).shape == (3,)
    assert I.Ones()(()).numpy().tolist() == 1.0
    assert I.GlorotUniform(seed=1)((5,)).shape == (5,)
    assert I.RandomNormal(seed=1)((0, 3)).shape == (0, 3)


def test_zeros_ones_constant_values():
    assert (I.Zeros()((2, 3)).numpy() == 0).all()
    assert (I.Ones()((2, 3)).numpy() == 1).all()
    assert I.Zeros()((2,), dtype="int32").dtype == np.int32
    assert I.Ones()((2,), dtype="bool").numpy().tolist() == [True, True]
    np.testing.assert_array_equal(I.Constant(0.5)((2, 2)).numpy(),
                                  np.full((2, 2), 0.5, np.float32))
    np.testing.assert_array_equal(I.Constant([1, 2, 3, 4])((2, 2)).numpy(), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(I.Constant([1.0, 2.0])((3, 2)).numpy(), [[1, 2]] * 3)
    assert I.Constant(7)((2,), dtype="int64").numpy().tolist() == [7, 7]
    assert I.Constant().get_config() == {"value": 0}
    with pytest.raises(ValueError, match="cannot fill shape"):
        I.Constant([1.0, 2.0, 3.0])((2, 2))


# -- statistics -------------------------------------------------------------------------
FAN_IN, FAN_OUT = 400, 500


def _check_moments(w, mean, std, rel=0.02):
    n = w.size
    assert abs(w.mean() - mean) < 6 * std / math.sqrt(n) + 1e-12, (w.mean(), mean)
    assert w.std() == pytest.approx(std, rel=rel)


def test_glorot_uniform_statistics():
    w = _draw(I.glorot_uniform())
    limit = math.sqrt(6.0 / (FAN_IN + FAN_OUT))
    assert w.dtype == np.float32
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit
    _check_moments(w, 0.0, limit / math.sqrt(3.0))


@pytest.mark.parametrize("cls,scale,fan", [
    (I.HeNormal, 2.0, FAN_IN),
    (I.LecunNormal, 1.0, FAN_IN),
    (I.GlorotNormal, 1.0, (FAN_IN + FAN_OUT) / 2),
])
def test_truncated_variance_scaling_statistics(cls, scale, fan):
    w = _draw(cls())
    nominal = math.sqrt(scale / fan)
    _check_moments(w, 0.0, nominal)  # the rescaled truncated normal keeps the nominal std
    # nothing beyond two standard deviations of the normal before truncation
    assert np.abs(w).max() <= 2 * nominal / TRUNC_STD * (1 + 1e-6)
    assert np.abs(w).max() > 1.9 * nominal / TRUNC_STD


@pytest.mark.parametrize("cls,scale,fan", [
    (I.HeUniform, 2.0, FAN_IN),
    (I.LecunUniform, 1.0, FAN_IN),
])
def test_uniform_variance_scaling_statistics(cls, scale, fan):
    w = _draw(cls())
    limit = math.sqrt(3.0 * scale / fan)
    assert np.abs(w).max() <= limit
    _check_moments(w, 0.0, limit / math.sqrt(3.0))


@pytest.mark.parametrize("mode,fan", [("fan_in", FAN_IN), ("fan_out", FAN_OUT),
                                      ("fan_avg", (FAN_IN + FAN_OUT) / 2)])
def test_variance_scaling_modes_untruncated(mode, fan):
    w = _draw(I.VarianceScaling(scale=3.0, mode=mode, distribution="untruncated_normal"))
    _check_moments(w, 0.0, math.sqrt(3.0 / fan))
    assert np.abs(w).max() > 2.5 * math.sqrt(3.0 / fan)  # really not truncated


def test_variance_scaling_conv_kernel_fans():
    # (3, 3, 16, 32): receptive field 9, fan_in 144, fan_out 288
    assert I._compute_fans((3, 3, 16, 32)) == (144, 288)
    assert I._compute_fans((7, 5)) == (7, 5)
    assert I._compute_fans((6,)) == (6, 6)
    assert I._compute_fans(()) == (1, 1)
    w = I.VarianceScaling(scale=1.0, mode="fan_in", distribution="uniform")((3, 3, 16, 32)).numpy()
    limit = math.sqrt(3.0 / 144)
    assert limit * 0.98 < np.abs(w).max() <= limit
    w = I.HeNormal()((5, 5, 40, 64)).numpy()
    _check_moments(w, 0.0, math.sqrt(2.0 / (25 * 40)))


def test_truncated_normal_statistics_and_bounds():
    mean, stddev = 0.3, 0.05
    w = _draw(I.truncated_normal(mean=mean, stddev=stddev))
    assert np.abs(w - mean).max() <= 2 * stddev * (1 + 1e-6)
    assert np.abs(w - mean).max() > 1.95 * stddev
    _check_moments(w, mean, stddev * TRUNC_STD)  # TruncatedNormal itself is not rescaled


def test_random_normal_and_uniform_statistics():
    w = _draw(I.random_normal(mean=1.0, stddev=0.5))
    _check_moments(w, 1.0, 0.5)
    assert np.abs(w - 1.0).max() > 2.5 * 0.5
    w = _draw(I.random_uniform(minval=-0.2, maxval=0.6))
    assert w.min() >= -0.2 and w.max() <= 0.6
    _check_moments(w, 0.2, 0.8 / math.sqrt(12.0))


def test_keras_defaults():
    assert I.RandomNormal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    assert I.RandomUniform().get_config() == {"minval": -0.05, "maxval": 0.05, "seed": None}
    assert I.TruncatedNormal().get_config() == {"mean": 0.0, "stddev": 0.05, "seed": None}
    assert I.VarianceScaling().get_config() == {
        "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal", "seed": None}
    assert I.Orthogonal().get_config() == {"gain": 1.0, "seed": None}
    assert I.Identity().get_config() == {"gain": 1.0}
    assert I.GlorotUniform().get_config() == {"seed": None}
    for cls, (scale, mode, dist) in {
        I.GlorotUniform: (1.0, "fan_avg", "uniform"),
        I.GlorotNormal: (1.0, "fan_avg", "truncated_normal"),
        I.HeUniform: (2.0, "fan_in", "uniform"),
        I.HeNormal: (2.0, "fan_in", "truncated_normal"),
        I.LecunUniform: (1.0, "fan_in", "uniform"),
        I.LecunNormal: (1.0, "fan_in", "truncated_normal"),
    }.items():
        init = cls()
        assert (init.scale, init.mode, init.distribution) == (scale, mode, dist), cls.__name__
    # "normal" is Keras's old spelling of "truncated_normal"
    assert I.VarianceScaling(distribution="normal").distribution == "truncated_normal"


# -- seeding ----------------------------------------------------------------------------
@pytest.mark.parametrize("cls,kwargs", [c for c in ALL if "seed" in c[1]],
                         ids=[c.__name__ for c, k in ALL if "seed" in k])
def test_seeded_initializers_repeat(cls, kwargs):
    a = cls(**kwargs)((6, 5)).numpy()
    b = cls(**kwargs)((6, 5)).numpy()
    c = cls(**kwargs)((6, 5)).numpy()
    init = cls(**kwargs)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(init((6, 5)).numpy(), init((6, 5)).numpy())  # same instance too
    np.testing.assert_array_equal(a, c)
    other = cls(**{**kwargs, "seed": 4})((6, 5)).numpy()
    assert not np.array_equal(a, other)


def test_seeded_draw_is_the_documented_host_draw():
    # Same numbers on every backend: the seed drives NumPy's generator on the host.
    got = I.RandomUniform(-1.0, 1.0, seed=11)((3, 4)).numpy()
    expected = np.random.default_rng(11).uniform(-1.0, 1.0, size=(3, 4)).astype(np.float32)
    np.testing.assert_array_equal(got, expected)
    got = I.RandomNormal(seed=5)((7,), dtype="float64").numpy()
    np.testing.assert_array_equal(got, 0.05 * np.random.default_rng(5).standard_normal(7))


def test_unseeded_initializers_differ_between_calls():
    init = I.GlorotUniform()
    assert not np.array_equal(init((5, 5)).numpy(), init((5, 5)).numpy())


def test_set_random_seed_makes_unseeded_repeat():
    kerasette.utils.set_random_seed(42)
    first = [I.GlorotUniform()((4, 3)).numpy(), I.HeNormal()((4, 3)).numpy(),
             I.Orthogonal()((3, 3)).numpy()]
    kerasette.utils.set_random_seed(42)
    again = [I.GlorotUniform()((4, 3)).numpy(), I.HeNormal()((4, 3)).numpy(),
             I.Orthogonal()((3, 3)).numpy()]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    kerasette.utils.set_random_seed(43)
    assert not np.array_equal(first[0], I.GlorotUniform()((4, 3)).numpy())


def test_negative_seeds_are_accepted():
    a = I.RandomNormal(seed=-7)((3,)).numpy()
    np.testing.assert_array_equal(a, I.RandomNormal(seed=-7)((3,)).numpy())


# -- orthogonal and identity ------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (3, 3, 4, 8), (2, 2, 8, 3)])
def test_orthogonal(shape):
    gain = 1.7
    w = I.Orthogonal(gain=gain, seed=0)(shape, dtype="float64").numpy()
    assert w.shape == shape
    m = w.reshape(-1, shape[-1])
    rows, cols = m.shape
    if rows >= cols:  # orthonormal columns
        np.testing.assert_allclose(m.T @ m, gain**2 * np.eye(cols), atol=1e-10)
    else:  # orthonormal rows
        np.testing.assert_allclose(m @ m.T, gain**2 * np.eye(rows), atol=1e-10)
    w32 = I.Orthogonal(seed=0)((6, 4)).numpy()
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32.T @ w32, np.eye(4), atol=1e-5)


def test_orthogonal_needs_two_dimensions():
    with pytest.raises(ValueError, match=r"at least two dimensions.*shape=\(5,\)"):
        I.Orthogonal()((5,))


def test_identity():
    np.testing.assert_array_equal(I.Identity()((3, 3)).numpy(), np.eye(3, dtype=np.float32))
    np.testing.assert_array_equal(I.identity(gain=0.5)((2, 4)).numpy(), 0.5 * np.eye(2, 4))
    with pytest.raises(ValueError, match=r"2-D shape.*\(2, 2, 2\)"):
        I.Identity()((2, 2, 2))


# -- names and configs ------------------------------------------------------------------
@pytest.mark.parametrize("cls,kwargs", ALL, ids=ALL_IDS)
def test_config_round_trip_through_json(cls, kwargs):
    init = cls(**kwargs)
    config = I.serialize(init)
    assert config["module"] == "keras.initializers"
    assert config["class_name"] == cls.__name__
    assert config["registered_name"] is None
    restored = I.deserialize(json.loads(json.dumps(config)))
    assert type(restored) is cls
    assert restored.get_config() == init.get_config()
    plain = json.loads(json.dumps(init.get_config()))
    assert cls.from_config(plain).get_config() == init.get_config()
    if "seed" in kwargs or cls in (I.Zeros, I.Ones, I.Constant, I.Identity):
        np.testing.assert_array_equal(restored((3, 4)).numpy(), init((3, 4)).numpy())


def test_tf_keras_2_serialized_form():
    assert I.serialize(I.GlorotUniform()) == {
        "module": "keras.initializers", "class_name": "GlorotUniform",
        "config": {"seed": None}, "registered_name": None}
    assert I.serialize(I.Zeros()) == {
        "module": "keras.initializers", "class_name": "Zeros", "config": {},
        "registered_name": None}
    assert I.serialize(None) is None


@pytest.mark.parametrize("alias,cls", sorted(SNAKE.items()), ids=sorted(SNAKE))
def test_snake_case_aliases(alias, cls):
    assert getattr(I, alias) is cls
    assert type(I.get(alias)) is cls
    assert type(I.get(cls.__name__)) is cls
    assert type(I.deserialize(alias)) is cls


def test_keras_3_spellings():
    assert type(I.get("IdentityInitializer")) is I.Identity
    assert type(I.get("OrthogonalInitializer")) is I.Orthogonal
    assert type(I.get("normal")) is I.RandomNormal
    assert type(I.get("uniform")) is I.RandomUniform
    # Keras 3.15 writes input_axes/output_axes into VarianceScaling-family configs.
    keras3 = {"module": "keras.initializers", "class_name": "GlorotUniform",
              "config": {"seed": None, "input_axes": None, "output_axes": None},
              "registered_name": None}
    init = I.get(keras3)
    assert type(init) is I.GlorotUniform and init.get_config() == {"seed": None}
    vs = I.deserialize({"class_name": "VarianceScaling", "config": {
        "scale": 2.0, "mode": "fan_in", "distribution": "uniform", "seed": 1,
        "input_axes": None, "output_axes": None}})
    assert vs.get_config() == {"scale": 2.0, "mode": "fan_in", "distribution": "uniform",
                               "seed": 1}
    with pytest.raises(ValueError, match=r"input_axes.*Received: input_axes=\[0\]"):
        I.deserialize({"class_name": "HeNormal", "config": {"seed": None, "input_axes": [0]}})
    const = I.deserialize({"class_name": "Constant", "config": {"value": {
        "class_name": "__numpy__", "config": {"value": [1.0, 2.0], "dtype": "float32"}}}})
    assert const((2,)).numpy().tolist() == [1.0, 2.0]


def test_lenient_and_strict_config_keys():
    # tf.keras 1 wrote "dtype" into initializer configs; tf.keras 2 ignores it
    init = I.deserialize({"class_name": "RandomNormal",
                          "config": {"mean": 0.0, "stddev": 1.0, "seed": None,
                                     "dtype": "float32"}})
    assert init.stddev == 1.0
    message = r"Unrecognized keys in the config of GlorotUniform: \['foo'\]"
    with pytest.raises(ValueError, match=message):
        I.deserialize({"class_name": "GlorotUniform", "config": {"seed": None, "foo": 1}})
    # old-style configs without module/registered_name
    assert type(I.deserialize({"class_name": "Zeros", "config": {}})) is I.Zeros


def test_get():
    assert I.get(None) is None
    init = I.HeNormal(seed=1)
    assert I.get(init) is init
    assert type(I.get(I.Orthogonal)) is I.Orthogonal

    def custom(shape, dtype=None):
        return kerasette.ops.zeros(shape, dtype=dtype)

    assert I.get(custom) is custom
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        I.get(3.5)


def test_unknown_name_suggests_closest():
    message = r"Unknown initializer: 'glorot_unifrom'.*Did you mean 'glorot_uniform'\?"
    with pytest.raises(ValueError, match=message):
        I.get("glorot_unifrom")
    with pytest.raises(ValueError, match="he_normal"):
        I.deserialize({"class_name": "he_nromal", "config": {}})


def test_custom_subclass_round_trip():
    @kerasette.saving.register_serializable(package="kerasette_tests")
    class Fives(I.Initializer):
        def __init__(self, scale=1.0):
            self.scale = scale

        def __call__(self, shape, dtype=None):
            return I.Constant(5.0 * self.scale)(shape, dtype)

        def get_config(self):
            return {"scale": self.scale}

    config = json.loads(json.dumps(I.serialize(Fives(2.0))))
    assert config["registered_name"] == "kerasette_tests>Fives"
    restored = I.deserialize(config)
    assert restored((2,)).numpy().tolist() == [10.0, 10.0]


# -- errors -----------------------------------------------------------------------------
@pytest.mark.parametrize("make,pattern", [
    (lambda: I.RandomUniform(minval=1, maxval=0), r"minval <= maxval.*minval=1, maxval=0"),
    (lambda: I.VarianceScaling(scale=-1), r"`scale` to be a positive number.*scale=-1"),
    (lambda: I.VarianceScaling(scale=0.0), r"scale=0.0"),
    (lambda: I.VarianceScaling(mode="foo"), r"`mode`.*fan_in.*mode='foo'"),
    (lambda: I.VarianceScaling(distribution="foo"), r"`distribution`.*distribution='foo'"),
    (lambda: I.RandomNormal(stddev=-0.1), r"`stddev` to be a non-negative number.*stddev=-0.1"),
    (lambda: I.TruncatedNormal(stddev=float("nan")), r"stddev=nan"),
    (lambda: I.RandomNormal(mean="0"), r"`mean`.*mean='0'"),
    (lambda: I.GlorotUniform(seed="abc"), r"`seed`.*seed='abc'"),
    (lambda: I.HeNormal(seed=1.5), r"seed=1.5"),
    (lambda: I.Orthogonal(gain=None), r"`gain`.*gain=None"),
    (lambda: I.Constant("x"), r"`value`.*value='x'"),
])
def test_bad_arguments_raise_in_init(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()


def test_bad_call_arguments():
    with pytest.raises(ValueError, match=r"floating dtype.*dtype='int32'"):
        I.RandomNormal()((2,), dtype="int32")
    with pytest.raises(ValueError, match=r"floating dtype.*dtype='int32'"):
        I.GlorotUniform()((2, 2), dtype="int32")
    with pytest.raises(ValueError, match=r"non-negative integers.*shape=\(2, -1\)"):
        I.Zeros()((2, -1))
    with pytest.raises(ValueError, match=r"shape=\(None, 3\)"):
        I.GlorotUniform()((None, 3))


def test_random_uniform_integer_dtype():
    w = I.RandomUniform(minval=0, maxval=5, seed=2)((1000,), dtype="int32").numpy()
    assert w.dtype == np.int32
    assert set(np.unique(w).tolist()) == {0, 1, 2, 3, 4}
