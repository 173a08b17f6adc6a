"""Adadelta, Adamax, Nadam, AdamW and the learning rate schedules.

The optimizer references below transcribe tf.keras 2.11+'s `update_step`s
(tf_keras/optimizers/{adadelta,adamax,nadam,adamw}.py) into plain float64
NumPy, Nadam's `_u_product` bookkeeping included; the schedule references
transcribe tf_keras/optimizers/schedules/learning_rate_schedule.py. The
`TF_*` tables were produced by TensorFlow 2.15's tf.keras (the 2.11+
optimizers), as a check of the transcriptions themselves.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import kerasette as keras
from test_optimizers import run_kerasette  # one copy of the in-place check
from kerasette import ops, optimizers
from kerasette.optimizers import schedules

TOL = {np.float32: dict(rtol=1e-6, atol=1e-7), np.float64: dict(rtol=1e-11, atol=1e-13)}

SHAPES = [(3, 4), (5,), ()]
SCALES = [3.0, 0.1, 2.0, 0.05, 1.0]


def make_problem(seed=0):
    rng = np.random.default_rng(seed)
    init = [np.asarray(rng.normal(size=s)) for s in SHAPES]
    grads = []
    for scale in SCALES:
        step = [np.asarray(scale * rng.normal(size=s)) for s in SHAPES]
        step[0][0, 0] = 0.0  # an exact zero gradient
        grads.append(step)
    return init, grads


# -- references (float64) ------------------------------------------------------------
# Each takes (w, g, s, t, shared, **hyper): s holds the variable's slots, shared
# the optimizer-wide state (Nadam's u_product); t = iterations + 1.
def ref_adadelta(w, g, s, t, shared, learning_rate, rho=0.95, epsilon=1e-7):
    acc_g = s.setdefault("accumulated_grad", np.zeros_like(w))
    acc_d = s.setdefault("accumulated_delta_var", np.zeros_like(w))
    acc_g[...] = rho * acc_g + (1 - rho) * g * g
    delta = -np.sqrt(acc_d + epsilon) * g / np.sqrt(acc_g + epsilon)
    acc_d[...] = rho * acc_d + (1 - rho) * delta * delta
    return w + learning_rate * delta


def ref_adamax(w, g, s, t, shared, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m = s.setdefault("m", np.zeros_like(w))
    u = s.setdefault("u", np.zeros_like(w))
    m[...] = m + (g - m) * (1 - beta_1)
    u[...] = np.maximum(beta_2 * u, np.abs(g))
    return w - learning_rate * m / ((1 - beta_1**t) * (u + epsilon))


def ref_nadam(w, g, s, t, shared, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    u_t = beta_1 * (1.0 - 0.5 * 0.96**t)
    u_t_1 = beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
    # tf.keras: one u_product for all variables and a counter, so that the
    # first variable of each step multiplies it by u_t and the others reuse it.
    shared.setdefault("u_product", 1.0)
    shared.setdefault("counter", 1)
    if shared["counter"] != t + 1:  # `_u_product_counter == iterations + 2`
        shared["u_product"] *= u_t
        shared["counter"] += 1
    u_product_t = shared["u_product"]
    u_product_t_1 = u_product_t * u_t_1
    m = s.setdefault("m", np.zeros_like(w))
    v = s.setdefault("v", np.zeros_like(w))
    m[...] = m + (g - m) * (1 - beta_1)
    v[...] = v + (g * g - v) * (1 - beta_2)
    m_hat = u_t_1 * m / (1 - u_product_t_1) + (1 - u_t) * g / (1 - u_product_t)
    v_hat = v / (1 - beta_2**t)
    return w - m_hat * learning_rate / (np.sqrt(v_hat) + epsilon)


def ref_adamw(w, g, s, t, shared, learning_rate, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
              epsilon=1e-7, amsgrad=False):
    w = w - w * weight_decay * learning_rate  # the base optimizer's decay, before the step
    m = s.setdefault("m", np.zeros_like(w))
    v = s.setdefault("v", np.zeros_like(w))
    alpha = learning_rate * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    m[...] = m + (g - m) * (1 - beta_1)
    v[...] = v + (g * g - v) * (1 - beta_2)
    if amsgrad:
        vhat = s.setdefault("vhat", np.zeros_like(w))
        vhat[...] = np.maximum(vhat, v)
        v = vhat
    return w - m * alpha / (np.sqrt(v) + epsilon)


def ref_adam(w, g, s, t, shared, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    return ref_adamw(w, g, s, t, shared, learning_rate, 0.0, beta_1, beta_2, epsilon)


def ref_sgd(w, g, s, t, shared, learning_rate):
    return w - learning_rate * g


def ref_clip(grads, clipnorm=None, global_clipnorm=None, clipvalue=None):
    if clipnorm is not None:
        return [g * clipnorm / max(np.linalg.norm(g), clipnorm) for g in grads]
    if global_clipnorm is not None:
        norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
        return [g * global_clipnorm / max(norm, global_clipnorm) for g in grads]
    if clipvalue is not None:
        return [np.clip(g, -clipvalue, clipvalue) for g in grads]
    return grads


REFERENCES = {
    optimizers.Adadelta: ref_adadelta,
    optimizers.Adamax: ref_adamax,
    optimizers.Nadam: ref_nadam,
    optimizers.AdamW: ref_adamw,
    optimizers.Adam: ref_adam,
    optimizers.SGD: ref_sgd,
}
CLIP_KEYS = ("clipnorm", "global_clipnorm", "clipvalue")


def run_reference(cls, kwargs, init, grads_seq, lr_of_step=None):
    """The reference run; `lr_of_step(step)` replaces `learning_rate` (a
    schedule's formula, called with the completed steps, as tf.keras does)."""
    hyper = {k: v for k, v in kwargs.items() if k not in CLIP_KEYS}
    clip = {k: v for k, v in kwargs.items() if k in CLIP_KEYS}
    weights = [w.copy() for w in init]
    states = [{} for _ in init]
    shared = {}
    for t, grads in enumerate(grads_seq, start=1):
        if lr_of_step is not None:
            hyper["learning_rate"] = lr_of_step(t - 1)
        grads = ref_clip(grads, **clip)
        weights = [REFERENCES[cls](w, g, s, t, shared, **hyper)
                   for w, g, s in zip(weights, grads, states)]
    return weights, states, shared




def rounded_problem(dtype, seed=0):
    # Both sides start from the same (rounded) inputs: only arithmetic differs.
    init, grads_seq = make_problem(seed)
    init = [w.astype(dtype).astype(np.float64) for w in init]
    grads_seq = [[g.astype(dtype).astype(np.float64) for g in gs] for gs in grads_seq]
    return init, grads_seq


CASES = [
    (optimizers.Adadelta, dict(learning_rate=1.0)),
    (optimizers.Adadelta, dict(learning_rate=0.5, rho=0.8, epsilon=1e-3)),
    (optimizers.Adadelta, dict(learning_rate=1.0, rho=0.0, epsilon=0.1)),
    (optimizers.Adamax, dict(learning_rate=0.01)),
    (optimizers.Adamax, dict(learning_rate=0.01, beta_1=0.8, beta_2=0.95, epsilon=0.1)),
    (optimizers.Adamax, dict(learning_rate=0.01, beta_2=1.0)),
    (optimizers.Nadam, dict(learning_rate=0.01)),
    (optimizers.Nadam, dict(learning_rate=0.01, beta_1=0.8, beta_2=0.95, epsilon=0.01)),
    (optimizers.Nadam, dict(learning_rate=0.01, beta_1=0.0)),
    (optimizers.AdamW, dict(learning_rate=0.01)),
    (optimizers.AdamW, dict(learning_rate=0.01, weight_decay=0.5, beta_1=0.8, beta_2=0.95,
                            epsilon=0.1)),
    (optimizers.AdamW, dict(learning_rate=0.01, weight_decay=0.1, amsgrad=True)),
    (optimizers.AdamW, dict(learning_rate=0.01, weight_decay=0.0)),
    # Clipping, each kind with a bound that bites.
    (optimizers.Adadelta, dict(learning_rate=1.0, clipnorm=1.0)),
    (optimizers.Adadelta, dict(learning_rate=1.0, clipvalue=0.5)),
    (optimizers.Adamax, dict(learning_rate=0.01, global_clipnorm=2.0)),
    (optimizers.Adamax, dict(learning_rate=0.01, clipvalue=0.5)),
    (optimizers.Nadam, dict(learning_rate=0.01, clipnorm=0.5)),
    (optimizers.Nadam, dict(learning_rate=0.01, global_clipnorm=2.0, beta_1=0.8)),
    (optimizers.AdamW, dict(learning_rate=0.01, weight_decay=0.1, clipnorm=0.5, amsgrad=True)),
    (optimizers.AdamW, dict(learning_rate=0.01, global_clipnorm=1.0)),
    (optimizers.AdamW, dict(learning_rate=0.01, clipvalue=0.1)),
]


def _case_id(case):
    cls, kwargs = case
    return cls.__name__ + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_reference(case, dtype):
    cls, kwargs = case
    init, grads_seq = rounded_problem(dtype)
    opt = cls(**kwargs)
    variables = run_kerasette(opt, init, grads_seq, dtype)
    expected, states, _ = run_reference(cls, kwargs, init, grads_seq)
    for v, want in zip(variables, expected):
        np.testing.assert_allclose(v.numpy(), want, **TOL[dtype])
    # The slots hold the reference's state, under tf.keras's names and dtype.
    slots = {s.name: s for s in opt.variables[1:]}
    assert len(slots) == sum(len(state) for state in states)
    for i, state in enumerate(states):
        for slot_name, want in state.items():
            slot = slots[f"{cls.__name__}/{slot_name}/w{i}:0"]
            assert slot.dtype == dtype
            np.testing.assert_allclose(slot.numpy(), want, **TOL[dtype])
    assert opt.iterations.numpy() == len(grads_seq)


# Final weights of tf.keras 2.15 (eager apply_gradients, float64 variables) for
# make_problem(0)'s second and third variables after its 5 steps. tf.keras
# rounds the hyper-parameters it casts (beta powers, learning rate, weight
# decay, Nadam's 0.96) to float32 first, hence the looser tolerance.
TF_FINAL_WEIGHTS = {
    (optimizers.Adadelta, (("learning_rate", 1.0), ("rho", 0.9), ("epsilon", 1e-3))): (
        [-2.328534924, -0.2140438839, -1.397182165, -0.6396766939, -0.5517723647],
        -0.6113705445),
    (optimizers.Adamax, (("learning_rate", 0.01),)): (
        [-2.312665293, -0.2112869952, -1.239336721, -0.7399572745, -0.5641410172],
        -0.3466796456),
    (optimizers.Nadam, (("learning_rate", 0.01),)): (
        [-2.321278892, -0.2171229431, -1.253088506, -0.7287445848, -0.5501051835],
        -0.3444187291),
    (optimizers.AdamW, (("learning_rate", 0.01),)): (
        [-2.311164826, -0.2148636107, -1.2430362, -0.7361296268, -0.5702896657],
        -0.356551193),
}


@pytest.mark.parametrize("key", list(TF_FINAL_WEIGHTS), ids=lambda k: k[0].__name__)
def test_matches_tf_keras(key):
    cls, kwargs = key
    init, grads_seq = make_problem(0)
    init, grads_seq = init[1:], [g[1:] for g in grads_seq]
    want_1, want_2 = TF_FINAL_WEIGHTS[key]
    # The reference, and kerasette in float64, against tf.keras's numbers.
    expected, _, shared = run_reference(cls, dict(kwargs), init, grads_seq)
    got = run_kerasette(cls(**dict(kwargs)), init, grads_seq, np.float64)
    for w1, w2 in (expected, [v.numpy() for v in got]):
        np.testing.assert_allclose(w1, want_1, rtol=2e-5)
        np.testing.assert_allclose(w2, want_2, rtol=2e-5)
    if cls is optimizers.Nadam:
        # u_1 * ... * u_5: tf.keras 2.15 ended with 0.0314615273... in float64.
        assert shared["u_product"] == pytest.approx(0.03146152733668111, rel=1e-6)
        assert shared["u_product"] == pytest.approx(
            math.prod(0.9 * (1 - 0.5 * 0.96**i) for i in range(1, 6)), rel=1e-15)


# -- Nadam's u_product -------------------------------------------------------------------
def test_nadam_u_product_advances_once_per_step_for_all_variables():
    init, grads_seq = make_problem(2)
    one = optimizers.Nadam(0.01)
    run_kerasette(one, init[:1], [g[:1] for g in grads_seq], np.float32)
    three = optimizers.Nadam(0.01)
    run_kerasette(three, init, grads_seq, np.float32)
    want = math.prod(0.9 * (1 - 0.5 * 0.96**t) for t in range(1, len(grads_seq) + 1))
    assert one._u_product == pytest.approx(want, rel=1e-15)
    assert three._u_product == pytest.approx(want, rel=1e-15)
    # Not an optimizer variable, as in tf.keras: files hold m and v only.
    assert [v.name for v in three.variables][1:3] == ["Nadam/m/w0:0", "Nadam/v/w0:0"]
    assert len(three.variables) == 1 + 2 * 3


def test_restored_nadam_continues_exactly():
    init, grads_seq = make_problem(3)
    first = optimizers.Nadam(0.01)
    variables = run_kerasette(first, init, grads_seq[:3], np.float32)
    state = [v.numpy() for v in first.variables]

    second = optimizers.Nadam(0.01)
    copies = [keras.Variable(v.numpy()) for v in variables]
    second.build(copies)
    second.set_weights(state)
    for grads in grads_seq[3:]:
        tensors = [ops.convert_to_tensor(g.astype(np.float32)) for g in grads]
        first.apply_gradients(zip(tensors, variables))
        second.apply_gradients(zip(tensors, copies))
    assert second._u_product == pytest.approx(first._u_product, rel=1e-12)
    for a, b in zip(variables, copies):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


# -- AdamW ------------------------------------------------------------------------------
def test_adamw_without_decay_is_adam():
    init, grads_seq = make_problem(4)
    adam = run_kerasette(optimizers.Adam(0.01, amsgrad=True), init, grads_seq, np.float32)
    adamw = run_kerasette(optimizers.AdamW(0.01, weight_decay=0.0, amsgrad=True), init,
                          grads_seq, np.float32)
    for a, b in zip(adam, adamw):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not isinstance(optimizers.AdamW(), optimizers.Adam)  # as in tf.keras


def test_adamw_decay_is_decoupled_from_the_gradient():
    # With a zero gradient Adam's step is zero: only the decay moves w.
    w = keras.Variable([2.0, -4.0], name="dense/kernel:0")
    b = keras.Variable([1.0], name="dense/bias:0")
    opt = optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    for _ in range(2):
        opt.apply_gradients([(ops.zeros((2,)), w), (ops.zeros((1,)), b)])
    np.testing.assert_allclose(w.numpy(), np.array([2.0, -4.0]) * 0.95**2, rtol=1e-6)
    np.testing.assert_array_equal(b.numpy(), [1.0])


def test_adamw_needs_a_weight_decay():
    with pytest.raises(ValueError, match="`weight_decay` is required by AdamW"):
        optimizers.AdamW(weight_decay=None)
    assert optimizers.AdamW().weight_decay == 0.004


# -- state, dtypes, in-place updates ---------------------------------------------------
# The in-place, no-write-into-gradients and no-host-read checks run over
# these optimizers' options too, in test_optimizers.py (EXTRA_OPTIONS).


def test_float64_variables_get_float64_slots():
    for make in (optimizers.Adadelta, optimizers.Adamax, optimizers.Nadam, optimizers.AdamW):
        opt = make()
        w = keras.Variable(np.ones(3, np.float64))
        opt.apply_gradients([(ops.convert_to_tensor(np.ones(3, np.float64)), w)])
        assert w.dtype == np.float64
        assert all(v.dtype == np.float64 for v in opt.variables[1:])


@pytest.mark.parametrize("make, slots", [
    (lambda: optimizers.Adadelta(), ["accumulated_grad", "accumulated_delta_var"]),
    (lambda: optimizers.Adamax(), ["m", "u"]),
    (lambda: optimizers.Nadam(), ["m", "v"]),
    (lambda: optimizers.AdamW(), ["m", "v"]),
    (lambda: optimizers.Nadam(use_ema=True), ["average", "m", "v"]),
])
def test_slot_layout_matches_tf_keras(make, slots):
    opt = make()
    a = keras.Variable(np.ones(3, np.float32), name="d/k:0")
    b = keras.Variable(np.ones(2, np.float32), name="d/b:0")
    opt.apply_gradients([(ops.ones((3,)), a), (ops.ones((2,)), b)])
    per_variable = [s for s in slots if s == "average"]
    interleaved = [s for s in slots if s != "average"]
    # tf.keras 2.15 lists e.g. Adadelta/accumulated_grad/..., Adadelta/
    # accumulated_delta_var/... for each variable in turn (EMA averages first).
    expected = [f"{opt.name}/{s}/d/{n}:0" for s in per_variable for n in "kb"]
    expected += [f"{opt.name}/{s}/d/{n}:0" for n in "kb" for s in interleaved]
    assert [v.name for v in opt.variables] == ["iteration:0"] + expected


def test_adamw_amsgrad_slots_come_last():
    opt = optimizers.AdamW(amsgrad=True)
    a = keras.Variable(np.ones(3, np.float32), name="d/k:0")
    b = keras.Variable(np.ones(2, np.float32), name="d/b:0")
    opt.apply_gradients([(ops.ones((3,)), a), (ops.ones((2,)), b)])
    assert [v.name for v in opt.variables] == [
        "iteration:0", "AdamW/m/d/k:0", "AdamW/v/d/k:0", "AdamW/m/d/b:0", "AdamW/v/d/b:0",
        "AdamW/vhat/d/k:0", "AdamW/vhat/d/b:0"]


@pytest.mark.parametrize("make", [
    lambda: optimizers.Adadelta(1.0, epsilon=1e-2),  # slow to start with a tiny epsilon
    lambda: optimizers.Adamax(0.1),
    lambda: optimizers.Nadam(0.1),
    lambda: optimizers.AdamW(0.1),
])
def test_minimize_lowers_a_quadratic(make):
    opt = make()
    target = ops.convert_to_tensor(np.array([1.0, -2.0, 0.5], np.float32))
    w = keras.Variable(np.zeros(3, np.float32))

    def loss():
        return ops.sum(ops.square(w - target))

    start = float(loss())
    for _ in range(30):
        opt.minimize(loss, [w])
    assert float(loss()) < 0.5 * start


# -- configuration ---------------------------------------------------------------------------
# Written by tf.keras 2.15 (get_config of a default optimizer; the learning
# rate is a float32 variable read back as a double).
_BASE = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
         "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
         "jit_compile": False, "is_legacy_optimizer": False,
         "learning_rate": 0.0010000000474974513}
TF_KERAS_CONFIGS = {
    "Nadam": {"name": "Nadam", **_BASE, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07},
    "AdamW": {"name": "AdamW", **_BASE, "weight_decay": 0.004, "beta_1": 0.9,
              "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False},
    "Adadelta": {"name": "Adadelta", **_BASE, "rho": 0.95, "epsilon": 1e-07},
    "Adamax": {"name": "Adamax", **_BASE, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07},
}


@pytest.mark.parametrize("name", sorted(TF_KERAS_CONFIGS))
def test_default_config_matches_tf_keras(name):
    config = getattr(optimizers, name)().get_config()
    expected = TF_KERAS_CONFIGS[name]
    assert list(config) == list(expected)
    config["learning_rate"] = float(np.float32(config["learning_rate"]))
    assert config == expected


def test_tf_keras_configs_load():
    for name, config in TF_KERAS_CONFIGS.items():
        data = {"class_name": f"Custom>{name}", "config": config}
        opt = optimizers.deserialize(json.loads(json.dumps(data)))
        assert type(opt) is getattr(optimizers, name)
        assert opt.get_config()["epsilon"] == 1e-7


def _config_cases():
    return [
        optimizers.Adadelta(0.5, rho=0.9, epsilon=1e-6, clipnorm=1.0, name="my_adadelta"),
        optimizers.Adamax(2e-3, beta_1=0.8, beta_2=0.99, epsilon=1e-5, global_clipnorm=2.0),
        optimizers.Nadam(3e-4, beta_1=0.85, beta_2=0.99, epsilon=1e-6, clipvalue=0.5,
                         use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=10),
        optimizers.AdamW(1e-3, weight_decay=0.01, beta_1=0.8, beta_2=0.95, epsilon=1e-6,
                         amsgrad=True),
        optimizers.AdamW(schedules.CosineDecay(0.0, 100, alpha=0.1, warmup_target=0.01,
                                               warmup_steps=10)),
        optimizers.SGD(schedules.ExponentialDecay(0.1, 1000, 0.96, staircase=True),
                       momentum=0.9),
        optimizers.Adam(schedules.PiecewiseConstantDecay([100, 200], [0.1, 0.01, 0.001])),
        optimizers.RMSprop(schedules.InverseTimeDecay(0.01, 10, 0.5)),
        optimizers.Nadam(schedules.PolynomialDecay(0.01, 50, 1e-5, power=2.0, cycle=True)),
    ]


@pytest.mark.parametrize("index", range(len(_config_cases())))
def test_config_round_trips_through_json(index):
    opt = _config_cases()[index]
    config = opt.get_config()
    restored = type(opt).from_config(json.loads(json.dumps(config)))
    assert restored.get_config() == config
    again = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(opt))))
    assert type(again) is type(opt)
    assert again.get_config() == config
    if isinstance(config["learning_rate"], dict):
        assert type(again._schedule) is type(opt._schedule)
        assert again._schedule is not opt._schedule


@pytest.mark.parametrize("name, cls", [
    ("adadelta", optimizers.Adadelta), ("adamax", optimizers.Adamax),
    ("nadam", optimizers.Nadam), ("adamw", optimizers.AdamW), ("Nadam", optimizers.Nadam),
    ("AdamW", optimizers.AdamW), ("ADADELTA", optimizers.Adadelta),
])
def test_get_by_name(name, cls):
    opt = optimizers.get(name)
    assert type(opt) is cls
    assert opt.get_config() == cls().get_config()


def test_unknown_name_lists_the_new_names():
    with pytest.raises(ValueError) as info:
        optimizers.get("nadamm")
    message = str(info.value)
    assert "Did you mean 'nadam'?" in message
    assert "adadelta, adagrad, adam, adamax, adamw, nadam, rmsprop, sgd" in message


NON_NEGATIVE = "must be a non-negative float"


@pytest.mark.parametrize("cls, kwargs, needle", [
    (optimizers.Adadelta, dict(rho=1.5), "`rho` must be a float in [0, 1]. Received: rho=1.5"),
    (optimizers.Adadelta, dict(epsilon=-1.0), f"`epsilon` {NON_NEGATIVE}. Received: epsilon=-1.0"),
    (optimizers.Adadelta, dict(learning_rate=-1.0), "Received: learning_rate=-1.0"),
    (optimizers.Adamax, dict(beta_1=1.0),
     "`beta_1` must be a float in [0, 1). Received: beta_1=1.0"),
    (optimizers.Adamax, dict(beta_2=1.01),
     "`beta_2` must be a float in [0, 1]. Received: beta_2=1.01"),
    (optimizers.Adamax, dict(epsilon=float("nan")), "Received: epsilon=nan"),
    (optimizers.Nadam, dict(beta_1=-0.1), "Received: beta_1=-0.1"),
    (optimizers.Nadam, dict(beta_2=1.0),
     "`beta_2` must be a float in [0, 1). Received: beta_2=1.0"),
    (optimizers.Nadam, dict(clipnorm=0.0), "Received: clipnorm=0.0"),
    (optimizers.AdamW, dict(weight_decay=-0.1), "Received: weight_decay=-0.1"),
    (optimizers.AdamW, dict(beta_2=2.0), "Received: beta_2=2.0"),
    (optimizers.AdamW, dict(epsilon="small"), "Received: epsilon='small'"),
])
def test_bad_arguments_are_rejected_at_construction(cls, kwargs, needle):
    with pytest.raises(ValueError) as info:
        cls(**kwargs)
    assert needle in str(info.value)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword arguments: bogus"):
        optimizers.Nadam(bogus=1)


# -- schedules: formulas --------------------------------------------------------------------
# tf.keras 2.15's values at steps 0..11 (float32, as it computes them).
TF_SCHEDULE_VALUES = {
    "exp": [0.1, 0.079370052, 0.062996052, 0.050000001, 0.039685026, 0.031498026, 0.025,
            0.019842515, 0.015749013, 0.0125, 0.0099212574, 0.0078745065],
    "exp_stair": [0.1, 0.1, 0.1, 0.050000001, 0.050000001, 0.050000001, 0.025, 0.025, 0.025,
                  0.0125, 0.0125, 0.0125],
    "pw": [1, 1, 1, 0.5, 0.5, 0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1],
    "inv": [0.1, 0.079999998, 0.06666667, 0.057142857, 0.050000001, 0.044444446,
            0.039999999, 0.036363635, 0.033333335, 0.030769231, 0.028571429, 0.026666667],
    "inv_stair": [0.1, 0.1, 0.06666667, 0.06666667, 0.050000001, 0.050000001, 0.039999999,
                  0.039999999, 0.033333335, 0.033333335, 0.028571429, 0.028571429],
    "poly": [0.1, 0.060625002, 0.032499999, 0.015625, 0.0099999998, 0.0099999998,
             0.0099999998, 0.0099999998, 0.0099999998, 0.0099999998, 0.0099999998,
             0.0099999998],
    "poly_cycle": [0.1, 0.087942287, 0.073639609, 0.055, 0.0099999998, 0.065113522, 0.055,
                   0.041819803, 0.0099999998, 0.055, 0.04674235, 0.035980761],
    "cos": [0.1, 0.092360675, 0.07236068, 0.047639318, 0.027639318, 0.020000001,
            0.020000001, 0.020000001, 0.020000001, 0.020000001, 0.020000001, 0.020000001],
    "cos_warm": [0, 0.06666667, 0.13333334, 0.2, 0.18281153, 0.13781153, 0.08218845,
                 0.037188467, 0.020000001, 0.020000001, 0.020000001, 0.020000001],
}


def _poly_ref(initial, decay_steps, end, power, cycle):
    def f(step):
        if cycle:
            decay_steps_now = decay_steps * (1.0 if step == 0 else math.ceil(step / decay_steps))
        else:
            decay_steps_now, step = decay_steps, min(step, decay_steps)
        return (initial - end) * (1 - step / decay_steps_now) ** power + end
    return f


def _cos_ref(initial, decay_steps, alpha, warmup_target=None, warmup_steps=0):
    def decay(step, start):
        return start * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * step / decay_steps)) + alpha)

    def f(step):
        if warmup_target is None:
            return decay(min(step, decay_steps), initial)
        step = min(step, decay_steps + warmup_steps)
        if step < warmup_steps:
            return (warmup_target - initial) * step / warmup_steps + initial
        return decay(step - warmup_steps, warmup_target)
    return f


def _pw_ref(boundaries, values):
    def f(step):
        for b, v in zip(boundaries, values):
            if step <= b:
                return v
        return values[-1]
    return f


# (schedule, formula written from tf.keras's code, key in TF_SCHEDULE_VALUES)
SCHEDULES = {
    "exp": (lambda: schedules.ExponentialDecay(0.1, 3, 0.5),
            lambda s: 0.1 * 0.5 ** (s / 3)),
    "exp_stair": (lambda: schedules.ExponentialDecay(0.1, 3, 0.5, staircase=True),
                  lambda s: 0.1 * 0.5 ** math.floor(s / 3)),
    "pw": (lambda: schedules.PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.1]),
           _pw_ref([2, 5], [1.0, 0.5, 0.1])),
    "inv": (lambda: schedules.InverseTimeDecay(0.1, 2, 0.5),
            lambda s: 0.1 / (1 + 0.5 * s / 2)),
    "inv_stair": (lambda: schedules.InverseTimeDecay(0.1, 2, 0.5, staircase=True),
                  lambda s: 0.1 / (1 + 0.5 * math.floor(s / 2))),
    "poly": (lambda: schedules.PolynomialDecay(0.1, 4, 0.01, power=2.0),
             _poly_ref(0.1, 4, 0.01, 2.0, False)),
    "poly_cycle": (lambda: schedules.PolynomialDecay(0.1, 4, 0.01, power=0.5, cycle=True),
                   _poly_ref(0.1, 4, 0.01, 0.5, True)),
    "cos": (lambda: schedules.CosineDecay(0.1, 5, alpha=0.2), _cos_ref(0.1, 5, 0.2)),
    "cos_warm": (lambda: schedules.CosineDecay(0.0, 5, alpha=0.1, warmup_target=0.2,
                                               warmup_steps=3),
                 _cos_ref(0.0, 5, 0.1, 0.2, 3)),
}


@pytest.mark.parametrize("key", sorted(SCHEDULES))
def test_schedule_matches_its_formula_and_tf_keras(key):
    make, formula = SCHEDULES[key]
    schedule = make()
    got = [schedule(step) for step in range(12)]
    assert all(type(x) is float for x in got)
    np.testing.assert_allclose(got, [formula(step) for step in range(12)], rtol=1e-14, atol=0)
    np.testing.assert_allclose(got, TF_SCHEDULE_VALUES[key], rtol=1e-6, atol=1e-8)
    # Later steps too (decay ends, cycles restart).
    for step in (50, 123, 10_000):
        assert schedule(step) == pytest.approx(formula(step), rel=1e-14, abs=0)


def test_staircase_cycle_and_warmup_by_hand():
    assert schedules.ExponentialDecay(1.0, 10, 0.5, staircase=True)(19) == 0.5
    assert schedules.ExponentialDecay(1.0, 10, 0.5, staircase=True)(20) == 0.25
    assert schedules.ExponentialDecay(1.0, 10, 0.5)(5) == pytest.approx(0.5**0.5)
    assert schedules.InverseTimeDecay(1.0, 10, 1.0, staircase=True)(9) == 1.0
    assert schedules.InverseTimeDecay(1.0, 10, 1.0, staircase=True)(10) == 0.5
    poly = schedules.PolynomialDecay(1.0, 10, end_learning_rate=0.0, cycle=True)
    assert poly(0) == 1.0
    assert poly(10) == 0.0  # the end of the first cycle
    assert poly(11) == pytest.approx(1 - 11 / 20)  # the second spans 20 steps
    assert poly(20) == 0.0
    assert schedules.PolynomialDecay(1.0, 10, end_learning_rate=0.0)(25) == 0.0
    warm = schedules.CosineDecay(0.0, 10, warmup_target=1.0, warmup_steps=4)
    assert [warm(s) for s in range(5)] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert warm(9) == pytest.approx(0.5)  # half way through the decay
    assert warm(100) == pytest.approx(0.0, abs=1e-15)
    # Without warmup_target the warmup steps are ignored.
    assert schedules.CosineDecay(1.0, 10, warmup_steps=5)(0) == 1.0
    assert schedules.CosineDecay(1.0, 10, alpha=0.5)(10) == 0.5


def test_piecewise_boundaries_are_inclusive():
    schedule = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.25])
    assert [schedule(s) for s in (0, 10, 11, 20, 21)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    # NumPy inputs are accepted and stored as plain numbers.
    schedule = schedules.PiecewiseConstantDecay(np.array([3]), np.array([0.1, 0.01]))
    assert schedule.get_config() == {"boundaries": [3], "values": [0.1, 0.01], "name": None}
    assert json.dumps(schedule.get_config())


def test_a_schedule_takes_the_iterations_variable():
    opt = optimizers.SGD(0.1)
    w = keras.Variable(1.0)
    for _ in range(4):
        opt.apply_gradients([(ops.convert_to_tensor(1.0), w)])
    schedule = schedules.ExponentialDecay(1.0, 2, 0.5, staircase=True)
    assert schedule(opt.iterations) == 0.25
    assert schedule(np.int64(4)) == 0.25
    with pytest.raises(TypeError, match="step must be a number"):
        schedule("4")


# -- schedules: the optimizer side ------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("cls, kwargs, key", [
    (optimizers.SGD, {}, "pw"),
    (optimizers.Adam, {}, "exp"),
    (optimizers.Adadelta, dict(clipnorm=1.0), "inv_stair"),
    (optimizers.Nadam, {}, "cos_warm"),
    (optimizers.AdamW, dict(weight_decay=0.5), "cos_warm"),  # the decay follows the schedule
    (optimizers.Adamax, dict(clipvalue=0.5), "poly_cycle"),
], ids=lambda x: x if isinstance(x, str) else getattr(x, "__name__", None))
def test_scheduled_updates_match_reference(cls, kwargs, key, dtype):
    make, formula = SCHEDULES[key]
    init, grads_seq = rounded_problem(dtype, seed=5)
    grads_seq = grads_seq * 2  # ten steps, through the schedules' changes
    opt = cls(learning_rate=make(), **kwargs)
    variables = [keras.Variable(w.astype(dtype)) for w in init]
    ref_kwargs = {"learning_rate": None, **kwargs}
    for k, grads in enumerate(grads_seq):
        opt.apply_gradients(zip([ops.convert_to_tensor(g.astype(dtype)) for g in grads],
                                variables))
        # The rate of step k is schedule(k), read before the update.
        assert float(opt.learning_rate) == pytest.approx(formula(k), rel=1e-6)
        expected, _, _ = run_reference(cls, ref_kwargs, init, grads_seq[:k + 1], formula)
        for v, want in zip(variables, expected):
            np.testing.assert_allclose(v.numpy(), want, **TOL[dtype])


def test_learning_rate_of_a_scheduled_optimizer():
    opt = optimizers.SGD(schedules.PiecewiseConstantDecay([1], [0.5, 0.25]))
    assert float(opt.learning_rate) == 0.5  # schedule(0), before any step
    w = keras.Variable(1.0)
    seen = []
    for _ in range(3):
        opt.apply_gradients([(ops.convert_to_tensor(1.0), w)])
        seen.append(float(opt.lr))
    assert seen == [0.5, 0.5, 0.25]
    np.testing.assert_allclose(w.numpy(), 1 - 0.5 - 0.5 - 0.25, rtol=1e-6)
    with pytest.raises(TypeError, match="schedule"):
        opt.learning_rate = 0.1


# Written by tf.keras 2.15: optimizers.serialize(SGD(ExponentialDecay(0.1, 3, 0.5))).
TF_SGD_WITH_SCHEDULE = {
    "module": "keras.optimizers.experimental", "class_name": "SGD",
    "config": {"name": "SGD", "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
               "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
               "ema_overwrite_frequency": None, "jit_compile": False,
               "is_legacy_optimizer": False,
               "learning_rate": {"module": "keras.optimizers.schedules",
                                 "class_name": "ExponentialDecay",
                                 "config": {"initial_learning_rate": 0.1, "decay_steps": 3,
                                            "decay_rate": 0.5, "staircase": False,
                                            "name": None},
                                 "registered_name": None},
               "momentum": 0.0, "nesterov": False},
    "registered_name": None,
}


def test_optimizer_with_schedule_writes_and_reads_tf_keras_configs():
    opt = optimizers.deserialize(json.loads(json.dumps(TF_SGD_WITH_SCHEDULE)))
    assert isinstance(opt, optimizers.SGD)
    assert isinstance(opt._schedule, schedules.ExponentialDecay)
    assert opt.get_config() == TF_SGD_WITH_SCHEDULE["config"]
    mine = optimizers.SGD(schedules.ExponentialDecay(0.1, 3, 0.5)).get_config()
    assert mine == TF_SGD_WITH_SCHEDULE["config"]
    # tf.keras 2.11-2.12 wrote the schedule without "module"/"registered_name".
    old = json.loads(json.dumps(TF_SGD_WITH_SCHEDULE["config"]))
    del old["learning_rate"]["module"], old["learning_rate"]["registered_name"]
    assert optimizers.SGD.from_config(old).get_config() == TF_SGD_WITH_SCHEDULE["config"]


def test_a_plain_function_schedule_is_saved_as_its_current_value():
    opt = optimizers.SGD(learning_rate=lambda step: 0.1 / (1 + step))
    w = keras.Variable(1.0)
    for _ in range(2):
        opt.apply_gradients([(ops.convert_to_tensor(1.0), w)])
    assert opt.get_config()["learning_rate"] == pytest.approx(0.05)


# -- schedules: serialization, custom schedules, errors -----------------------------------------
@pytest.mark.parametrize("key", sorted(SCHEDULES))
def test_schedule_config_round_trips_through_json(key):
    schedule = SCHEDULES[key][0]()
    data = schedules.serialize(schedule)
    assert data["module"] == "keras.optimizers.schedules"
    assert data["class_name"] == type(schedule).__name__
    assert data["registered_name"] is None
    assert data["config"]["name"] is None
    again = schedules.deserialize(json.loads(json.dumps(data)))
    assert type(again) is type(schedule)
    assert again.get_config() == schedule.get_config()
    assert [again(s) for s in range(12)] == [schedule(s) for s in range(12)]
    assert type(schedule).from_config(schedule.get_config()).get_config() == data["config"]


def test_schedule_configs_keep_tf_keras_keys_and_types():
    assert list(schedules.CosineDecay(0.1, 10).get_config()) == [
        "initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target",
        "warmup_steps"]
    assert list(schedules.PolynomialDecay(0.1, 10).get_config()) == [
        "initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle", "name"]
    config = schedules.ExponentialDecay(0.1, 1000, 0.96, name="decay").get_config()
    assert config == {"initial_learning_rate": 0.1, "decay_steps": 1000, "decay_rate": 0.96,
                      "staircase": False, "name": "decay"}
    assert type(config["decay_steps"]) is int
    # CosineDecay's positional order is tf.keras's: name comes before warmup_target.
    assert schedules.CosineDecay(0.1, 10, 0.0, "cos", 0.2, 5).get_config()["warmup_target"] == 0.2


class TriangleSchedule(schedules.LearningRateSchedule):
    def __init__(self, peak, period):
        self.peak, self.period = peak, period

    def __call__(self, step):
        phase = (step % self.period) / self.period
        return self.peak * (1 - abs(2 * phase - 1))

    def get_config(self):
        return {"peak": self.peak, "period": self.period}


def test_custom_schedules_with_custom_objects():
    opt = optimizers.Adam(TriangleSchedule(0.1, 4))
    data = json.loads(json.dumps(optimizers.serialize(opt)))
    assert data["config"]["learning_rate"]["class_name"] == "TriangleSchedule"
    with pytest.raises(ValueError, match="Unknown learning rate schedule: 'TriangleSchedule'"):
        optimizers.deserialize(data)
    again = optimizers.deserialize(data, custom_objects={"TriangleSchedule": TriangleSchedule})
    assert isinstance(again._schedule, TriangleSchedule)
    assert again.get_config() == opt.get_config()
    rebuilt = schedules.deserialize(data["config"]["learning_rate"],
                                    custom_objects={"TriangleSchedule": TriangleSchedule})
    assert rebuilt(1) == pytest.approx(0.05)


def test_base_schedule_must_be_subclassed():
    class NoCall(schedules.LearningRateSchedule):
        pass

    with pytest.raises(NotImplementedError, match="'NoCall' must override `__call__"):
        NoCall()(0)
    with pytest.raises(NotImplementedError, match="must override `get_config"):
        schedules.serialize(NoCall())


def test_get_and_serialize_identifiers():
    schedule = schedules.ExponentialDecay(0.1, 10, 0.9)
    assert schedules.get(schedule) is schedule
    from_dict = schedules.get(schedules.serialize(schedule))
    assert from_dict is not schedule and from_dict.get_config() == schedule.get_config()

    def fn(step):
        return 0.1

    assert schedules.get(fn) is fn
    assert schedules.serialize(None) is None
    with pytest.raises(ValueError, match="Could not interpret learning rate schedule"):
        schedules.get(0.1)
    with pytest.raises(ValueError, match="Could not interpret learning rate schedule"):
        schedules.get(schedules.ExponentialDecay)
    with pytest.raises(ValueError, match="schedules take arguments"):
        schedules.get("ExponentialDecay")
    with pytest.raises(ValueError, match="schedules take arguments"):
        schedules.deserialize("exponential_decay")
    with pytest.raises(ValueError, match="Unknown learning rate schedule: 'Expo'"):
        schedules.deserialize({"class_name": "Expo", "config": {}})
    with pytest.raises(TypeError, match="get_config"):
        schedules.serialize(fn)


@pytest.mark.parametrize("make, needle", [
    (lambda: schedules.ExponentialDecay(-0.1, 10, 0.9),
     "`initial_learning_rate` must be a non-negative float. Received: initial_learning_rate=-0.1"),
    (lambda: schedules.ExponentialDecay(0.1, 0, 0.9),
     "`decay_steps` must be a positive number. Received: decay_steps=0"),
    (lambda: schedules.ExponentialDecay(0.1, 10, -0.9), "Received: decay_rate=-0.9"),
    (lambda: schedules.ExponentialDecay(0.1, 10, 0.9, staircase="yes"),
     "`staircase` must be a boolean. Received: staircase='yes'"),
    (lambda: schedules.ExponentialDecay(0.1, 10, 0.9, name=3), "Received: name=3"),
    (lambda: schedules.InverseTimeDecay(0.1, -5, 0.5), "Received: decay_steps=-5"),
    (lambda: schedules.InverseTimeDecay(float("inf"), 5, 0.5),
     "Received: initial_learning_rate=inf"),
    (lambda: schedules.PolynomialDecay(0.1, 10, end_learning_rate=-1.0),
     "Received: end_learning_rate=-1.0"),
    (lambda: schedules.PolynomialDecay(0.1, 10, power=-1.0),
     "`power` must be a non-negative float. Received: power=-1.0"),
    (lambda: schedules.PolynomialDecay(0.1, 10, cycle=None), "Received: cycle=None"),
    (lambda: schedules.CosineDecay(0.1, 10, alpha=1.5),
     "`alpha` must be a float in [0, 1]. Received: alpha=1.5"),
    (lambda: schedules.CosineDecay(0.1, float("nan")), "Received: decay_steps=nan"),
    (lambda: schedules.CosineDecay(0.1, 10, warmup_target=-1.0), "Received: warmup_target=-1.0"),
    (lambda: schedules.CosineDecay(0.1, 10, warmup_target=1.0, warmup_steps=-2),
     "`warmup_steps` must be a non-negative number. Received: warmup_steps=-2"),
    (lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2]),
     "The length of `boundaries` must be 1 less than the length of `values`"),
    (lambda: schedules.PiecewiseConstantDecay([5, 2], [0.1, 0.2, 0.3]),
     "`boundaries` must be strictly increasing. Received: boundaries=[5, 2]"),
    (lambda: schedules.PiecewiseConstantDecay([1, 1], [0.1, 0.2, 0.3]), "strictly increasing"),
    (lambda: schedules.PiecewiseConstantDecay(5, [0.1, 0.2]),
     "`boundaries` must be a list of numbers. Received: boundaries=5"),
    (lambda: schedules.PiecewiseConstantDecay([1], [0.1, "x"]), "Received: values='x'"),
])
def test_bad_schedule_arguments(make, needle):
    with pytest.raises(ValueError) as info:
        make()
    assert needle in str(info.value)
