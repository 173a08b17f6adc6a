"""kerasette.activations: forward values, gradients, names and (de)serialization."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kerasette import activations, ops
from kerasette.saving import register_serializable
from gradcheck import check_gradients

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


# -- plain NumPy references (float64) ---------------------------------------------------
def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0.0)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _gelu_exact(x):
    return np.vectorize(lambda v: 0.5 * v * (1.0 + math.erf(v / math.sqrt(2.0))))(x)


def _gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def _relu_ref(x, alpha=0.0, max_value=None, threshold=0.0):
    """The documented tf.keras 2 formula, piece by piece."""
    out = np.where(x > threshold, x, alpha * (x - threshold))
    if max_value is not None:
        out = np.where(x >= max_value, max_value, out)
    return out


# name, function of a tensor, NumPy reference, gradcheck kind, kink points.
CASES = [
    ("relu", activations.relu, lambda x: np.maximum(x, 0.0), "kinked", (0.0,)),
    ("relu6", activations.relu6, lambda x: np.clip(x, 0.0, 6.0), "kinked", (0.0, 6.0)),
    ("leaky_relu", activations.leaky_relu, lambda x: np.where(x >= 0, x, 0.2 * x), "kinked",
     (0.0,)),
    ("sigmoid", activations.sigmoid, _sigmoid, "default", ()),
    ("hard_sigmoid", activations.hard_sigmoid, lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0),
     "kinked", (-2.5, 2.5)),
    ("tanh", activations.tanh, np.tanh, "default", ()),
    ("softmax", activations.softmax, _softmax, "default", ()),
    ("log_softmax", activations.log_softmax, lambda x: np.log(_softmax(x)), "default", ()),
    ("linear", activations.linear, lambda x: x, "default", ()),
    ("exponential", activations.exponential, np.exp, "default", ()),
    ("elu", activations.elu, lambda x: np.where(x > 0, x, np.expm1(x)), "kinked", (0.0,)),
    ("selu", activations.selu,
     lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), "kinked", (0.0,)),
    ("softplus", activations.softplus, _softplus, "default", ()),
    ("softsign", activations.softsign, lambda x: x / (1.0 + np.abs(x)), "kinked", (0.0,)),
    ("swish", activations.swish, lambda x: x * _sigmoid(x), "default", ()),
    ("silu", activations.silu, lambda x: x * _sigmoid(x), "default", ()),
    ("gelu", activations.gelu, _gelu_exact, "approximate", ()),
    ("mish", activations.mish, lambda x: x * np.tanh(_softplus(x)), "default", ()),
]
IDS = [c[0] for c in CASES]


def _away_from(x, points, gap=0.05):
    """Moves entries within `gap` of a kink to `gap` beyond it."""
    x = np.array(x, dtype=np.float64)
    for p in points:
        near = np.abs(x - p) < gap
        x[near] = p + np.where(x[near] >= p, gap, -gap)
    return x


def _inputs(points, shape=(4, 5), scale=3.0, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape) * scale
    return _away_from(x, points)


# -- forward ----------------------------------------------------------------------------
@pytest.mark.parametrize("name,fn,ref,kind,kinks", CASES, ids=IDS)
def test_forward_matches_numpy_float32(name, fn, ref, kind, kinks):
    x = _inputs(kinks, scale=4.0).astype(np.float32)
    out = fn(ops.convert_to_tensor(x))
    got = out.numpy()
    assert got.dtype == np.float32, f"{name}: float32 in, {got.dtype} out"
    assert got.shape == x.shape
    np.testing.assert_allclose(got, ref(x.astype(np.float64)), rtol=2e-6, atol=2e-6)


@pytest.mark.parametrize("name,fn,ref,kind,kinks", CASES, ids=IDS)
def test_forward_float64_keeps_float64(name, fn, ref, kind, kinks):
    x = _inputs(kinks)
    got = fn(ops.convert_to_tensor(x)).numpy()
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, ref(x), rtol=1e-6 if name == "gelu" else 1e-10, atol=1e-7)


@pytest.mark.parametrize("name,fn,ref,kind,kinks", CASES, ids=IDS)
def test_gradients(name, fn, ref, kind, kinks):
    check_gradients(fn, [_inputs(kinks, shape=(3, 4))], kind=kind)


# -- softmax ----------------------------------------------------------------------------
@pytest.mark.parametrize("axis", [0, -1, 1])
@pytest.mark.parametrize("fn,ref", [
    (activations.softmax, _softmax),
    (activations.log_softmax, lambda x, axis: np.log(_softmax(x, axis))),
], ids=["softmax", "log_softmax"])
def test_softmax_axes(fn, ref, axis):
    x = np.random.default_rng(1).standard_normal((3, 5)).astype(np.float32) * 4
    got = fn(ops.convert_to_tensor(x), axis=axis).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref(x.astype(np.float64), axis), rtol=1e-5, atol=1e-6)
    check_gradients(lambda t: fn(t, axis=axis), [x.astype(np.float64)])


def test_softmax_rows_sum_to_one_and_survive_large_logits():
    x = np.array([[1000.0, 0.0, -1000.0], [5.0, 5.0, 5.0]], dtype=np.float32)
    got = activations.softmax(ops.convert_to_tensor(x)).numpy()
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(got[1], 1.0 / 3.0, rtol=1e-6)
    assert got[0, 0] == pytest.approx(1.0)


# -- relu options -----------------------------------------------------------------------
RELU_OPTIONS = [
    dict(alpha=0.0, max_value=None, threshold=0.0),
    dict(alpha=0.3, max_value=None, threshold=0.0),
    dict(alpha=0.0, max_value=2.0, threshold=0.0),
    dict(alpha=0.0, max_value=6.0, threshold=0.0),
    dict(alpha=0.0, max_value=None, threshold=1.0),
    dict(alpha=0.5, max_value=3.0, threshold=0.0),
    dict(alpha=0.2, max_value=3.0, threshold=1.0),
    dict(alpha=0.1, max_value=None, threshold=-1.0),
    dict(alpha=0.0, max_value=None, threshold=-1.0),
]


@pytest.mark.parametrize("opts", RELU_OPTIONS,
                         ids=lambda o: "a{alpha}_m{max_value}_t{threshold}".format(**o))
def test_relu_options(opts):
    kinks = [0.0, opts["threshold"]]
    if opts["max_value"] is not None:
        kinks.append(opts["max_value"])
    x = _inputs(kinks, shape=(5, 6), scale=3.0, seed=2)
    got = activations.relu(ops.convert_to_tensor(x.astype(np.float32)), **opts).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, _relu_ref(x.astype(np.float32).astype(np.float64), **opts),
                               rtol=1e-6, atol=1e-6)
    check_gradients(lambda t: activations.relu(t, **opts), [x], kind="kinked")


def test_relu_keras_docstring_example():
    x = ops.convert_to_tensor([-10.0, -5.0, 0.0, 5.0, 10.0])
    assert activations.relu(x).numpy().tolist() == [0.0, 0.0, 0.0, 5.0, 10.0]
    assert activations.relu(x, alpha=0.5).numpy().tolist() == [-5.0, -2.5, 0.0, 5.0, 10.0]
    assert activations.relu(x, max_value=5.0).numpy().tolist() == [0.0, 0.0, 0.0, 5.0, 5.0]
    assert activations.relu(x, threshold=5.0).numpy().tolist() == [-0.0, -0.0, 0.0, 0.0, 10.0]


def test_numpy_scalar_arguments_keep_float32():
    x = ops.convert_to_tensor(np.linspace(-3, 3, 7, dtype=np.float32))
    out = activations.relu(x, alpha=np.float64(0.1), max_value=np.float64(2.0),
                           threshold=np.float64(0.5))
    assert out.dtype == np.float32
    assert activations.elu(x, alpha=np.float64(0.5)).dtype == np.float32
    assert activations.leaky_relu(x, negative_slope=np.float64(0.1)).dtype == np.float32


def test_leaky_relu_slope_and_elu_alpha():
    x = np.array([-2.0, -0.5, 1.5], dtype=np.float32)
    t = ops.convert_to_tensor(x)
    np.testing.assert_allclose(activations.leaky_relu(t, negative_slope=0.1).numpy(),
                               [-0.2, -0.05, 1.5], rtol=1e-6)
    np.testing.assert_allclose(activations.elu(t, alpha=0.5).numpy(),
                               np.where(x > 0, x, 0.5 * np.expm1(x)), rtol=1e-6)
    check_gradients(lambda v: activations.elu(v, alpha=0.5), [_inputs((0.0,), shape=(6,))],
                    kind="kinked")


# -- gelu -------------------------------------------------------------------------------
@pytest.mark.parametrize("approximate", [False, True])
def test_gelu_both_forms(approximate):
    x = np.linspace(-5, 5, 41)
    ref = _gelu_tanh(x) if approximate else _gelu_exact(x)
    t = ops.convert_to_tensor(x.astype(np.float32))
    got = activations.gelu(t, approximate=approximate).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    check_gradients(lambda t: activations.gelu(t, approximate=approximate),
                    [_inputs((), shape=(3, 4))],
                    kind="default" if approximate else "approximate")


def test_gelu_default_is_exact_not_tanh():
    x = ops.convert_to_tensor(np.array([1.5], dtype=np.float64))
    exact = float(activations.gelu(x).numpy()[0])
    assert exact == pytest.approx(float(_gelu_exact(np.array([1.5]))[0]), abs=1e-7)
    assert abs(exact - float(_gelu_tanh(np.array([1.5]))[0])) > 1e-5


# -- names ------------------------------------------------------------------------------
@pytest.mark.parametrize("name,fn", [(c[0], c[1]) for c in CASES], ids=IDS)
def test_get_serialize_deserialize_round_trip(name, fn):
    assert activations.serialize(fn) == name
    assert activations.deserialize(name) is fn
    assert activations.get(name) is fn
    assert activations.get(fn) is fn
    assert activations.deserialize(activations.serialize(fn)) is fn
    nested = {"module": "keras.activations", "class_name": "function", "config": name,
              "registered_name": name}
    assert activations.get(nested) is fn


def test_get_none_is_linear_and_names_are_forgiving():
    assert activations.get(None) is activations.linear
    assert activations.get("Relu") is activations.relu
    assert activations.get("hard_sigmoid") is activations.get("HardSigmoid")
    assert activations.get("softmax_v2") is activations.softmax
    assert activations.serialize("RELU") == "relu"


def test_swish_and_silu_keep_their_names():
    assert activations.serialize(activations.swish) == "swish"
    assert activations.serialize(activations.silu) == "silu"


def test_unknown_name_suggests_closest():
    message = r"Unknown activation: 'rellu'.*Did you mean 'relu'\?"
    with pytest.raises(ValueError, match=message) as err:
        activations.get("rellu")
    assert "softmax" in str(err.value)  # lists the valid names
    with pytest.raises(ValueError, match="'sigmoid'"):
        activations.deserialize("sigmod")
    with pytest.raises(ValueError, match="'tanh'"):
        activations.serialize("tanhh")


def test_bad_identifiers():
    with pytest.raises(TypeError, match="Could not interpret activation"):
        activations.get(42)
    with pytest.raises(ValueError, match="cannot be serialized"):
        activations.serialize(lambda x: x)


def test_custom_functions():
    def scaled(x):
        return ops.multiply(x, 2.0)

    assert activations.serialize(scaled) == "scaled"
    assert activations.deserialize("scaled", custom_objects={"scaled": scaled}) is scaled
    with pytest.raises(ValueError, match="custom_objects"):
        activations.deserialize("scaled")

    @register_serializable(package="kerasette_tests")
    def doubled(x):
        return ops.multiply(x, 2.0)

    name = activations.serialize(doubled)
    assert name == "kerasette_tests>doubled"
    assert activations.deserialize(name) is doubled
    nested = {"module": "builtins", "class_name": "function", "config": "doubled",
              "registered_name": name}
    assert activations.deserialize(nested) is doubled
    out = activations.get(name)(ops.convert_to_tensor(np.array([1.5], dtype=np.float32)))
    assert out.numpy().tolist() == [3.0]


def test_every_activation_has_a_google_style_docstring():
    for name in IDS:
        doc = getattr(activations, name).__doc__
        assert doc and "Args:" in doc and "Returns:" in doc and "Example:" in doc, name
