"""kerasette.regularizers: penalty values, gradients, configs, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import kerasette
from kerasette import ops
from kerasette import regularizers as R
from gradcheck import check_gradients


def _weights(shape=(4, 3), seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _away_from_zero(w, gap=0.05):
    w = np.array(w, dtype=np.float64)
    near = np.abs(w) < gap
    w[near] = np.where(w[near] >= 0, gap, -gap)
    return w


CASES = [
    (R.l2(0.01), lambda w: 0.01 * np.sum(w**2)),
    (R.L2(), lambda w: 0.01 * np.sum(w**2)),
    (R.l1(0.003), lambda w: 0.003 * np.sum(np.abs(w))),
    (R.L1(), lambda w: 0.01 * np.sum(np.abs(w))),
    (R.l1_l2(), lambda w: 0.01 * np.sum(np.abs(w)) + 0.01 * np.sum(w**2)),
    (R.L1L2(l1=0.2, l2=0.5), lambda w: 0.2 * np.sum(np.abs(w)) + 0.5 * np.sum(w**2)),
    (R.L1L2(l2=0.1), lambda w: 0.1 * np.sum(w**2)),
    (R.L1L2(), lambda w: 0.0 * np.sum(w)),
]
IDS = ["l2(0.01)", "L2()", "l1(0.003)", "L1()", "l1_l2()", "L1L2(0.2,0.5)", "L1L2(l2=0.1)",
       "L1L2()"]


@pytest.mark.parametrize("reg,ref", CASES, ids=IDS)
def test_values_match_numpy(reg, ref):
    w = _weights()
    out = reg(ops.convert_to_tensor(w))
    assert isinstance(out, kerasette.Tensor)
    assert out.shape == ()
    assert out.dtype == np.float32
    assert float(out.numpy()) == pytest.approx(ref(w.astype(np.float64)), rel=1e-6, abs=1e-9)
    w64 = _weights(dtype=np.float64)
    out64 = reg(ops.convert_to_tensor(w64))
    assert out64.dtype == np.float64
    assert float(out64.numpy()) == pytest.approx(ref(w64), rel=1e-12, abs=1e-15)


def test_l2_has_no_one_half():
    w = ops.convert_to_tensor(np.array([[3.0, 4.0]], dtype=np.float32))
    assert float(R.l2(0.01)(w).numpy()) == pytest.approx(0.25, rel=1e-6)  # 0.01 * 25


@pytest.mark.parametrize("reg", [c[0] for c in CASES[:-1]], ids=IDS[:-1])
def test_gradients(reg):
    check_gradients(reg, [_away_from_zero(_weights(seed=1, dtype=np.float64))], kind="kinked")


def test_gradient_on_a_variable():
    w = kerasette.Variable(np.array([[1.0, -2.0], [0.5, 3.0]], dtype=np.float32))
    with kerasette.GradientTape() as tape:
        penalty = R.L1L2(l1=0.1, l2=0.01)(w)
    grad = tape.gradient(penalty, w).numpy()
    expected = 0.1 * np.sign(w.numpy()) + 2 * 0.01 * w.numpy()
    np.testing.assert_allclose(grad, expected, rtol=1e-6)
    assert grad.dtype == np.float32


def test_keras_defaults_and_aliases():
    assert R.L1().get_config() == {"l1": 0.01}
    assert R.L2().get_config() == {"l2": 0.01}
    assert R.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert R.l1_l2().get_config() == {"l1": 0.01, "l2": 0.01}
    assert R.l1 is R.L1 and R.l2 is R.L2
    assert R.L2(None).l2 == 0.01 and R.L1L2(None, None).get_config() == {"l1": 0.0, "l2": 0.0}
    assert isinstance(R.L2(1).l2, float)


@pytest.mark.parametrize("reg", [R.L1(0.3), R.L2(0.001), R.L1L2(0.1, 0.2), R.l1_l2(), R.L1L2()],
                         ids=["L1", "L2", "L1L2", "l1_l2", "L1L2()"])
def test_config_round_trip_through_json(reg):
    config = R.serialize(reg)
    assert config["module"] == "keras.regularizers"
    assert config["class_name"] == type(reg).__name__
    assert config["registered_name"] is None
    restored = R.deserialize(json.loads(json.dumps(config)))
    assert type(restored) is type(reg)
    assert restored.get_config() == reg.get_config()
    assert type(reg).from_config(reg.get_config()).get_config() == reg.get_config()
    w = ops.convert_to_tensor(_weights())
    assert float(restored(w).numpy()) == float(reg(w).numpy())


def test_reads_tf_keras_2_float32_rounded_factors():
    config = {"module": "keras.regularizers", "class_name": "L2",
              "config": {"l2": 0.0010000000474974513}, "registered_name": None}
    reg = R.get(config)
    assert reg.l2 == 0.0010000000474974513
    w = _weights()
    expected = 0.001 * np.sum(w.astype(np.float64) ** 2)
    assert float(reg(ops.convert_to_tensor(w)).numpy()) == pytest.approx(expected, rel=1e-6)
    keras3 = {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.001},
              "registered_name": None}
    assert R.serialize(R.deserialize(keras3)) == keras3


def test_names():
    assert R.deserialize("l2").get_config() == {"l2": 0.01}
    assert R.deserialize("L1").get_config() == {"l1": 0.01}
    # the string "l1_l2" uses the function's defaults, "L1L2" the class's (as tf.keras 2)
    assert R.deserialize("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}
    assert R.deserialize("L1L2").get_config() == {"l1": 0.0, "l2": 0.0}
    assert R.get("l1_l2").get_config() == {"l1": 0.01, "l2": 0.01}
    assert R.serialize(None) is None


def test_get():
    assert R.get(None) is None
    reg = R.L2(0.5)
    assert R.get(reg) is reg

    def custom(x):
        return ops.sum(x)

    assert R.get(custom) is custom
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier"):
        R.get(0.01)


def test_unknown_name_suggests_closest():
    with pytest.raises(ValueError, match=r"Unknown regularizer: 'l3'.*Did you mean"):
        R.get("l3")
    with pytest.raises(ValueError, match=r"Did you mean 'L1L2'\?"):
        R.deserialize({"class_name": "L1L3", "config": {}})


def test_custom_subclass_round_trip():
    @kerasette.saving.register_serializable(package="kerasette_tests")
    class SumPenalty(R.Regularizer):
        def __init__(self, factor=1.0):
            self.factor = factor

        def __call__(self, x):
            return ops.multiply(self.factor, ops.sum(x))

        def get_config(self):
            return {"factor": self.factor}

    config = json.loads(json.dumps(R.serialize(SumPenalty(2.0))))
    assert config["registered_name"] == "kerasette_tests>SumPenalty"
    restored = R.get(config)
    w = ops.convert_to_tensor(np.array([1.0, 2.0], dtype=np.float32))
    assert float(restored(w).numpy()) == 6.0
    assert float(R.Regularizer()(w).numpy()) == 0.0


@pytest.mark.parametrize("make,pattern", [
    (lambda: R.L2(l2=-1), r"`l2` to be a non-negative finite number.*l2=-1"),
    (lambda: R.L1(l1=-0.5), r"`l1`.*l1=-0.5"),
    (lambda: R.L1L2(l1=float("nan")), r"l1=nan"),
    (lambda: R.L1L2(l2=float("inf")), r"l2=inf"),
    (lambda: R.l1_l2(l1="0.1"), r"l1='0.1'"),
    (lambda: R.L2(True), r"l2=True"),
])
def test_bad_arguments_raise_in_init(make, pattern):
    with pytest.raises(ValueError, match=pattern):
        make()
