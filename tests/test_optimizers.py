"""Optimizers against plain NumPy versions of tf.keras 2.11+'s update rules.

The references below are written from tf.keras's formulas (tf_keras/optimizers/
{sgd,adam,rmsprop,adagrad,optimizer}.py), in float64 and in the textbook
arrangement, independently of how kerasette orders its in-place passes.
"""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pytest

import kerasette as keras
from kerasette import ops, optimizers
from kerasette.optimizers import schedules
from kerasette.backend import strict_backend

# float32 kerasette against the float64 reference; float64 kerasette must
# agree to rounding.
TOL = {np.float32: dict(rtol=1e-6, atol=1e-7), np.float64: dict(rtol=1e-11, atol=1e-13)}

SHAPES = [(3, 4), (5,), ()]
# Gradient scale per step: large then small, so that AMSGrad's running
# maximum and Adagrad's accumulator matter.
SCALES = [3.0, 0.1, 2.0, 0.05, 1.0]


def make_problem(seed=0):
    rng = np.random.default_rng(seed)
    init = [np.asarray(rng.normal(size=s)) for s in SHAPES]
    grads = []
    for scale in SCALES:
        # np.asarray: `scale * 0-d array` would be a NumPy scalar.
        step = [np.asarray(scale * rng.normal(size=s)) for s in SHAPES]
        step[0][0, 0] = 0.0  # an exact zero: the update divides by epsilon alone
        grads.append(step)
    return init, grads


# -- references (float64) ------------------------------------------------------------
def ref_sgd(w, g, s, t, learning_rate, momentum=0.0, nesterov=False):
    m = s.setdefault("m", np.zeros_like(w))
    m[...] = momentum * m - learning_rate * g
    if nesterov:
        return w + momentum * m - learning_rate * g
    return w + m


def ref_adam(w, g, s, t, learning_rate, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    m = s.setdefault("m", np.zeros_like(w))
    v = s.setdefault("v", np.zeros_like(w))
    m[...] = beta_1 * m + (1 - beta_1) * g
    v[...] = beta_2 * v + (1 - beta_2) * g * g
    alpha = learning_rate * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    if amsgrad:
        vhat = s.setdefault("vhat", np.zeros_like(w))
        vhat[...] = np.maximum(vhat, v)
        v = vhat
    return w - alpha * m / (np.sqrt(v) + epsilon)


def ref_rmsprop(w, g, s, t, learning_rate, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    v = s.setdefault("velocity", np.zeros_like(w))
    v[...] = rho * v + (1 - rho) * g * g
    if centered:
        a = s.setdefault("average_gradient", np.zeros_like(w))
        a[...] = rho * a + (1 - rho) * g
        denominator = v - a * a + epsilon
    else:
        denominator = v + epsilon
    increment = learning_rate * g / np.sqrt(denominator)
    if momentum > 0:
        mom = s.setdefault("momentum", np.zeros_like(w))
        mom[...] = momentum * mom + increment
        return w - mom
    return w - increment


def ref_adagrad(w, g, s, t, learning_rate, initial_accumulator_value=0.1, epsilon=1e-7):
    acc = s.setdefault("accumulator", np.full_like(w, initial_accumulator_value))
    acc[...] = acc + g * g
    return w - learning_rate * g / np.sqrt(acc + epsilon)


def ref_clip(grads, clipnorm=None, global_clipnorm=None, clipvalue=None):
    # tf.keras applies one clipping only: clipnorm, else global, else value.
    if clipnorm is not None:
        return [g * clipnorm / max(np.linalg.norm(g), clipnorm) for g in grads]
    if global_clipnorm is not None:
        norm = math.sqrt(sum(float(np.sum(g * g)) for g in grads))
        return [g * global_clipnorm / max(norm, global_clipnorm) for g in grads]
    if clipvalue is not None:
        return [np.clip(g, -clipvalue, clipvalue) for g in grads]
    return grads


REFERENCES = {
    optimizers.SGD: ref_sgd,
    optimizers.Adam: ref_adam,
    optimizers.RMSprop: ref_rmsprop,
    optimizers.Adagrad: ref_adagrad,
}
CLIP_KEYS = ("clipnorm", "global_clipnorm", "clipvalue")


def run_reference(cls, kwargs, init, grads_seq):
    hyper = {k: v for k, v in kwargs.items() if k not in CLIP_KEYS}
    clip = {k: v for k, v in kwargs.items() if k in CLIP_KEYS}
    weights = [w.copy() for w in init]
    states = [{} for _ in init]
    for t, grads in enumerate(grads_seq, start=1):
        grads = ref_clip(grads, **clip)
        weights = [REFERENCES[cls](w, g, s, t, **hyper) for w, g, s in zip(weights, grads, states)]
    return weights, states


def run_kerasette(opt, init, grads_seq, dtype):
    variables = [keras.Variable(w.astype(dtype), name=f"w{i}:0") for i, w in enumerate(init)]
    buffers = None
    for grads in grads_seq:
        tensors = [ops.convert_to_tensor(g.astype(dtype)) for g in grads]
        opt.apply_gradients(zip(tensors, variables))
        # The first step may move the variables into the optimizer's flat
        # buffers (one view each); from then on every update is in place.
        buffers = buffers or [v.data for v in variables]
    for v, buf in zip(variables, buffers):
        assert v.data is buf, "the update must write into the variable's own buffer"
        assert v.dtype == dtype
    return variables


CASES = [
    (optimizers.SGD, dict(learning_rate=0.1)),
    (optimizers.SGD, dict(learning_rate=0.1, momentum=0.9)),
    (optimizers.SGD, dict(learning_rate=0.1, momentum=0.9, nesterov=True)),
    (optimizers.SGD, dict(learning_rate=0.05, nesterov=True)),
    (optimizers.Adam, dict(learning_rate=0.01)),
    (optimizers.Adam, dict(learning_rate=0.01, beta_1=0.8, beta_2=0.95, epsilon=0.1)),
    (optimizers.Adam, dict(learning_rate=0.01, amsgrad=True)),
    (optimizers.RMSprop, dict(learning_rate=0.01)),
    (optimizers.RMSprop, dict(learning_rate=0.01, rho=0.8, epsilon=0.1)),
    (optimizers.RMSprop, dict(learning_rate=0.01, momentum=0.5)),
    (optimizers.RMSprop, dict(learning_rate=0.01, centered=True)),
    (optimizers.RMSprop, dict(learning_rate=0.01, centered=True, momentum=0.5, epsilon=0.01)),
    (optimizers.Adagrad, dict(learning_rate=0.1)),
    (optimizers.Adagrad, dict(learning_rate=0.1, initial_accumulator_value=0.0, epsilon=0.1)),
    # Clipping, each kind with a bound that bites.
    (optimizers.SGD, dict(learning_rate=0.1, clipnorm=1.0)),
    (optimizers.SGD, dict(learning_rate=0.1, momentum=0.9, global_clipnorm=1.0)),
    (optimizers.SGD, dict(learning_rate=0.1, clipvalue=0.5)),
    (optimizers.Adam, dict(learning_rate=0.01, clipnorm=0.5)),
    (optimizers.Adam, dict(learning_rate=0.01, global_clipnorm=2.0, amsgrad=True)),
    (optimizers.RMSprop, dict(learning_rate=0.01, clipvalue=0.1, centered=True)),
    (optimizers.Adagrad, dict(learning_rate=0.1, global_clipnorm=1.0)),
    # Only clipnorm applies when clipvalue is also set (tf.keras's priority).
    (optimizers.SGD, dict(learning_rate=0.1, clipnorm=1.0, clipvalue=0.01)),
    # A bound that never bites leaves the gradients alone.
    (optimizers.Adam, dict(learning_rate=0.01, clipnorm=1e3)),
]


def _case_id(case):
    cls, kwargs = case
    return cls.__name__ + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items())


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_reference(case, dtype):
    cls, kwargs = case
    init, grads_seq = make_problem()
    # Both sides start from the same (rounded) inputs: only arithmetic differs.
    init = [w.astype(dtype).astype(np.float64) for w in init]
    grads_seq = [[g.astype(dtype).astype(np.float64) for g in gs] for gs in grads_seq]
    opt = cls(**kwargs)
    variables = run_kerasette(opt, init, grads_seq, dtype)
    expected, states = run_reference(cls, kwargs, init, grads_seq)
    for v, want in zip(variables, expected):
        np.testing.assert_allclose(v.numpy(), want, **TOL[dtype])
    # The slots hold the reference's state, under tf.keras's names and dtype.
    slots = {s.name: s for s in opt.variables[1:]}
    for i, state in enumerate(states):
        for slot_name, want in state.items():
            slot = slots[f"{cls.__name__}/{slot_name}/w{i}:0"]
            assert slot.dtype == dtype
            np.testing.assert_allclose(slot.numpy(), want, **TOL[dtype])
    assert opt.iterations.numpy() == len(grads_seq)


def test_the_reference_itself_is_sensitive_to_epsilon_placement():
    # Guards the guard: with epsilon outside the square root, RMSprop's
    # reference would give visibly different numbers on this problem.
    init, grads_seq = make_problem()
    kwargs = dict(learning_rate=0.01, rho=0.8, epsilon=0.1)
    expected, _ = run_reference(optimizers.RMSprop, kwargs, init, grads_seq)
    w, v = init[0].copy(), np.zeros_like(init[0])
    for g in (gs[0] for gs in grads_seq):
        v = 0.8 * v + 0.2 * g * g
        w = w - 0.01 * g / (np.sqrt(v) + 0.1)
    assert not np.allclose(w, expected[0], rtol=1e-4)


# -- state, dtypes, in-place updates ---------------------------------------------------
ALL_OPTIONS = [
    lambda: optimizers.SGD(0.1),
    lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True, global_clipnorm=1.0),
    lambda: optimizers.Adam(0.01, amsgrad=True, clipnorm=1.0),
    lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True, clipvalue=0.5),
    lambda: optimizers.Adagrad(0.1, weight_decay=0.01),
    lambda: optimizers.Adam(0.01, use_ema=True, ema_overwrite_frequency=2),
]
# The optimizers of test_optimizers_extra.py, with schedules, for the same checks.
EXTRA_OPTIONS = [
    lambda: optimizers.Adadelta(1.0),
    lambda: optimizers.Adadelta(1.0, clipnorm=1.0, use_ema=True),
    lambda: optimizers.Adamax(0.01, global_clipnorm=1.0),
    lambda: optimizers.Nadam(0.01, clipvalue=0.5),
    lambda: optimizers.AdamW(0.01, amsgrad=True),
    lambda: optimizers.AdamW(schedules.CosineDecay(0.0, 4, warmup_target=0.1, warmup_steps=2)),
    lambda: optimizers.Nadam(schedules.ExponentialDecay(0.01, 2, 0.5, staircase=True)),
    lambda: optimizers.Adamax(schedules.PiecewiseConstantDecay([1], [0.1, 0.01])),
    lambda: optimizers.Adadelta(schedules.InverseTimeDecay(1.0, 1, 0.5)),
    lambda: optimizers.SGD(schedules.PolynomialDecay(0.1, 3, cycle=True)),
]


@pytest.mark.parametrize("make", ALL_OPTIONS + EXTRA_OPTIONS)
def test_slots_and_variables_update_in_place_in_float32(make):
    opt = make()
    init, grads_seq = make_problem(1)
    variables = run_kerasette(opt, init, grads_seq[:1], np.float32)
    slot_buffers = [s.data for s in opt.variables]
    for grads in grads_seq[1:]:
        opt.apply_gradients(zip([ops.convert_to_tensor(g.astype(np.float32)) for g in grads],
                                variables))
    assert [s.data for s in opt.variables] == slot_buffers  # same objects
    assert all(s.data is b for s, b in zip(opt.variables, slot_buffers))
    assert opt.iterations.dtype == np.int64
    assert all(s.dtype == np.float32 for s in opt.variables[1:])
    assert all(not s.trainable for s in opt.variables)
    for v in variables:
        assert v.dtype == np.float32 and np.all(np.isfinite(v.numpy()))


@pytest.mark.parametrize("make", ALL_OPTIONS + EXTRA_OPTIONS)
def test_gradients_are_not_written_into(make):
    opt = make()
    w = keras.Variable(np.array([[1.0, -2.0], [3.0, 0.5]], np.float32))
    g = ops.convert_to_tensor(np.array([[0.5, -4.0], [0.0, 2.0]], np.float32))
    before = g.numpy()
    for _ in range(3):
        opt.apply_gradients([(g, w)])
    np.testing.assert_array_equal(g.numpy(), before)


def test_iterations_counts_steps_not_variables():
    opt = optimizers.Adam()
    a, b = keras.Variable([1.0, 2.0]), keras.Variable(3.0)
    assert int(opt.iterations) == 0
    for _ in range(3):
        opt.apply_gradients([(ops.ones((2,)), a), (ops.convert_to_tensor(1.0), b)])
    assert opt.iterations.numpy() == 3
    assert opt.iterations.dtype == np.int64
    assert opt.iterations.name == "iteration:0"


def test_variables_order_names_and_lazy_creation():
    a = keras.Variable(np.ones((2, 3), np.float32), name="dense/kernel:0")
    b = keras.Variable(np.ones((3,), np.float32), name="dense/bias:0")
    opt = optimizers.Adam(amsgrad=True)
    assert [v.name for v in opt.variables] == ["iteration:0"]  # nothing before a step
    opt.apply_gradients([(ops.ones((2, 3)), a), (ops.ones((3,)), b)])
    assert [v.name for v in opt.variables()] == [  # callable too, as in tf.keras
        "iteration:0",
        "Adam/m/dense/kernel:0", "Adam/v/dense/kernel:0",
        "Adam/m/dense/bias:0", "Adam/v/dense/bias:0",
        "Adam/vhat/dense/kernel:0", "Adam/vhat/dense/bias:0",
    ]
    assert opt.variables[1].shape == (2, 3)
    # A variable first seen later gets its slots appended.
    c = keras.Variable(np.ones((4,), np.float32), name="dense_1/bias:0")
    opt.apply_gradients([(ops.ones((4,)), c)])
    assert [v.name for v in opt.variables][-3:] == [
        "Adam/m/dense_1/bias:0", "Adam/v/dense_1/bias:0", "Adam/vhat/dense_1/bias:0"]


@pytest.mark.parametrize("make, slots", [
    (lambda: optimizers.SGD(), ["m"]),  # always, as tf.keras (its files hold SGD/m/...)
    (lambda: optimizers.SGD(momentum=0.9), ["m"]),
    (lambda: optimizers.RMSprop(), ["velocity"]),
    (lambda: optimizers.RMSprop(momentum=0.9, centered=True),
     ["velocity", "momentum", "average_gradient"]),
    (lambda: optimizers.Adagrad(), ["accumulator"]),
    (lambda: optimizers.SGD(use_ema=True), ["average", "m"]),
])
def test_slot_layout_matches_tf_keras(make, slots):
    opt = make()
    w = keras.Variable(np.ones(3, np.float32), name="d/k:0")
    opt.apply_gradients([(ops.ones((3,)), w)])
    assert [v.name for v in opt.variables] == ["iteration:0"] + [
        f"{opt.name}/{s}/d/k:0" for s in slots]


def test_sgd_without_momentum_keeps_the_last_step_in_its_slot():
    # What tf.keras 2.21 writes to its files (m = -lr * g when momentum is 0).
    opt = optimizers.SGD(0.5)
    w = keras.Variable([1.0, 2.0])
    opt.apply_gradients([(ops.convert_to_tensor([0.2, -0.4]), w)])
    np.testing.assert_allclose(opt.variables[1].numpy(), [-0.1, 0.2], rtol=1e-6)
    np.testing.assert_allclose(w.numpy(), [0.9, 2.2], rtol=1e-6)


def test_float64_variables_get_float64_slots():
    opt = optimizers.Adam()
    w = keras.Variable(np.ones(3, np.float64))
    opt.apply_gradients([(ops.convert_to_tensor(np.ones(3, np.float64)), w)])
    assert w.dtype == np.float64
    assert [v.dtype for v in opt.variables[1:]] == [np.float64, np.float64]


def test_adagrad_accumulator_starts_at_initial_value():
    opt = optimizers.Adagrad(initial_accumulator_value=0.25)
    w = keras.Variable(np.zeros(2, np.float32))
    opt.build([w])
    np.testing.assert_array_equal(opt.variables[1].numpy(), [0.25, 0.25])


# -- learning rate ------------------------------------------------------------------------
def test_learning_rate_can_change_between_steps():
    opt = optimizers.SGD(learning_rate=0.1)
    w = keras.Variable(1.0)
    g = ops.convert_to_tensor(1.0)
    opt.apply_gradients([(g, w)])
    np.testing.assert_allclose(w.numpy(), 0.9, rtol=1e-6)
    opt.learning_rate = 0.5
    opt.apply_gradients([(g, w)])
    np.testing.assert_allclose(w.numpy(), 0.4, rtol=1e-6)
    opt.lr = 0.25  # the old alias
    opt.apply_gradients([(g, w)])
    np.testing.assert_allclose(w.numpy(), 0.15, rtol=1e-5)
    opt.learning_rate.assign(0.125)  # TF style: the learning rate is a variable
    opt.apply_gradients([(g, w)])
    np.testing.assert_allclose(w.numpy(), 0.025, rtol=1e-4)
    assert float(opt.learning_rate) == 0.125
    assert opt.lr.numpy() == np.float32(0.125)
    assert opt.learning_rate.dtype == np.float32
    assert opt.get_config()["learning_rate"] == 0.125


def test_lr_keyword_alias():
    opt = optimizers.Adam(lr=0.05)
    assert opt.get_config()["learning_rate"] == 0.05
    assert optimizers.SGD(lr=0.3).get_config()["learning_rate"] == 0.3


def test_learning_rate_schedule_reads_the_step():
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1 / (1 + step)

    opt = optimizers.SGD(learning_rate=schedule)
    w = keras.Variable(1.0)
    for _ in range(3):
        opt.apply_gradients([(ops.convert_to_tensor(1.0), w)])
    assert seen[-3:] == [0, 1, 2]
    np.testing.assert_allclose(w.numpy(), 1 - 0.1 - 0.05 - 0.1 / 3, rtol=1e-6)
    np.testing.assert_allclose(float(opt.learning_rate), 0.1 / 3, rtol=1e-6)
    with pytest.raises(TypeError, match="schedule"):
        opt.learning_rate = 0.01


def test_bad_learning_rate_is_rejected_when_set():
    opt = optimizers.SGD()
    with pytest.raises(ValueError, match=r"Received: learning_rate=-1"):
        opt.learning_rate = -1
    assert opt.get_config()["learning_rate"] == 0.01


# -- minimize ----------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda: optimizers.SGD(0.05),
    lambda: optimizers.SGD(0.02, momentum=0.9, nesterov=True),
    lambda: optimizers.Adam(0.05),
    lambda: optimizers.RMSprop(0.02, centered=True),
    lambda: optimizers.Adagrad(0.5),
])
def test_minimize_with_a_callable_lowers_a_quadratic(make):
    opt = make()
    target = ops.convert_to_tensor(np.array([1.0, -2.0, 0.5], np.float32))
    w = keras.Variable(np.zeros(3, np.float32))
    b = keras.Variable(0.0)

    def loss():
        return ops.sum(ops.square(w + b - target))

    start = float(loss())
    for _ in range(30):
        opt.minimize(loss, [w, b])
    assert float(loss()) < 0.5 * start
    assert int(opt.iterations) == 30


def test_sgd_minimizes_shifted_parabola_to_its_minimum():
    x = keras.Variable(10.0)
    opt = optimizers.SGD(learning_rate=0.1)
    for _ in range(100):
        opt.minimize(lambda: (x - 3.0) ** 2, [x])
    assert abs(float(x) - 3.0) < 1e-5


def test_minimize_with_a_tensor_loss_and_its_tape():
    w = keras.Variable([1.0, 2.0])
    opt = optimizers.SGD(0.1)
    with keras.GradientTape() as tape:
        loss = ops.sum(w * w)
    opt.minimize(loss, [w], tape=tape)
    np.testing.assert_allclose(w.numpy(), [0.8, 1.6], rtol=1e-6)


def test_minimize_with_a_tensor_loss_needs_the_tape():
    w = keras.Variable([1.0, 2.0])
    loss = ops.sum(w * w)
    with pytest.raises(ValueError, match="`tape` is required"):
        optimizers.SGD().minimize(loss, [w])


def test_minimize_with_a_callable_var_list():
    holder = {}

    def loss():
        holder.setdefault("w", keras.Variable(2.0))
        return holder["w"] * holder["w"]

    opt = optimizers.SGD(0.25)
    opt.minimize(loss, lambda: [holder["w"]])
    np.testing.assert_allclose(holder["w"].numpy(), 1.0, rtol=1e-6)


def test_keras3_apply_spelling():
    w = keras.Variable([1.0, 2.0])
    opt = optimizers.SGD(0.5)
    opt.apply([ops.convert_to_tensor([1.0, 1.0])], [w])
    opt.apply([ops.convert_to_tensor([1.0, 1.0])])  # the built variables
    np.testing.assert_allclose(w.numpy(), [0.0, 1.0], rtol=1e-6)


# -- missing and malformed gradients --------------------------------------------------------
def test_none_gradients_are_skipped_with_a_warning(caplog):
    used, unused = keras.Variable([1.0, 1.0], name="used:0"), keras.Variable(5.0, name="unused:0")
    opt = optimizers.SGD(0.1, momentum=0.9)
    with caplog.at_level(logging.WARNING, logger="kerasette"):
        opt.apply_gradients([(ops.convert_to_tensor([1.0, 2.0]), used), (None, unused)])
    assert "unused:0" in caplog.text
    assert float(unused) == 5.0
    np.testing.assert_allclose(used.numpy(), [0.9, 0.8], rtol=1e-6)
    # As in tf.keras, slots exist for every variable passed.
    assert len(opt.variables) == 3


def test_no_gradient_at_all_is_an_error():
    w = keras.Variable(1.0, name="w:0")
    with pytest.raises(ValueError, match=r"No gradients provided for any variable: \['w:0'\]"):
        optimizers.Adam().apply_gradients([(None, w)])
    # What you get from minimize when the loss ignores the variables.
    other = keras.Variable(2.0)
    with pytest.raises(ValueError, match="No gradients provided"):
        optimizers.SGD().minimize(lambda: other * 2.0, [w])


def test_empty_list_is_a_no_op():
    opt = optimizers.SGD()
    assert int(opt.apply_gradients([])) == 0


def test_pairs_in_the_wrong_order_are_refused():
    w = keras.Variable([1.0])
    g = ops.convert_to_tensor([1.0])
    with pytest.raises(TypeError, match=r"\(gradient, variable\)"):
        optimizers.SGD().apply_gradients([(w, g)])
    with pytest.raises(TypeError, match="pairs"):
        optimizers.SGD().apply_gradients([g])


def test_gradient_of_the_wrong_shape_is_refused():
    w = keras.Variable(np.ones((2, 3), np.float32), name="k:0")
    with pytest.raises(ValueError, match=r"'k:0' has shape \(3, 2\); expected .* \(2, 3\)"):
        optimizers.SGD().apply_gradients([(ops.ones((3, 2)), w)])


def test_host_gradient_on_a_device_backend_is_refused(backend):
    if backend.name == "numpy":
        pytest.skip("NumPy arrays are the device arrays of the numpy backend")
    w = keras.Variable([1.0, 2.0])
    with pytest.raises(TypeError, match="convert_to_tensor"):
        optimizers.SGD().apply_gradients([(np.ones(2, np.float32), w)])


def test_gradients_may_be_backend_arrays():
    w = keras.Variable([1.0, 2.0])
    g = ops.convert_to_tensor([1.0, 1.0]).data
    optimizers.SGD(0.5).apply_gradients([(g, w)])
    np.testing.assert_allclose(w.numpy(), [0.5, 1.5])


def test_no_host_round_trip_during_a_step(backend, monkeypatch):
    if backend.name != "strict":
        pytest.skip("the strict backend can tell reads of device values")
    opts = [make() for make in ALL_OPTIONS + EXTRA_OPTIONS] + [
        optimizers.SGD(learning_rate=lambda step: 0.1 / (1 + step)),
        optimizers.Adam(global_clipnorm=0.5, weight_decay=0.1),
    ]
    def pairs():
        g = ops.convert_to_tensor(np.full((3, 2), 0.5, np.float32))
        return [(g, keras.Variable(np.ones((3, 2), np.float32))),
                (ops.convert_to_tensor(np.float32(2.0)), keras.Variable(1.0))]

    problems = [pairs() for _ in opts]

    def refuse(*args, **kwargs):
        raise AssertionError("a device value was read on the host during a step")

    for attr in ("__float__", "__int__", "__bool__", "__index__", "get"):
        monkeypatch.setattr(strict_backend.StrictArray, attr, refuse)
    for opt, gv in zip(opts, problems):
        for _ in range(3):
            opt.apply_gradients(gv)
    monkeypatch.undo()
    assert all(int(o.iterations) == 3 for o in opts)


# -- clipping, weight decay, moving averages ------------------------------------------------
def test_global_clipnorm_scales_all_gradients_together():
    a, b = keras.Variable([0.0, 0.0]), keras.Variable([0.0])
    opt = optimizers.SGD(1.0, global_clipnorm=1.0)
    opt.apply_gradients([(ops.convert_to_tensor([3.0, 0.0]), a), (ops.convert_to_tensor([4.0]), b)])
    np.testing.assert_allclose(a.numpy(), [-0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [-0.8], rtol=1e-6)


def test_clipnorm_is_per_variable_and_clipvalue_elementwise():
    a, b = keras.Variable([0.0, 0.0]), keras.Variable([0.0])
    optimizers.SGD(1.0, clipnorm=1.0).apply_gradients(
        [(ops.convert_to_tensor([3.0, 4.0]), a), (ops.convert_to_tensor([0.5]), b)])
    np.testing.assert_allclose(a.numpy(), [-0.6, -0.8], rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [-0.5], rtol=1e-6)
    c = keras.Variable([0.0, 0.0, 0.0])
    optimizers.SGD(1.0, clipvalue=1.0).apply_gradients(
        [(ops.convert_to_tensor([3.0, -4.0, 0.5]), c)])
    np.testing.assert_allclose(c.numpy(), [-1.0, 1.0, -0.5], rtol=1e-6)


def test_weight_decay_and_exclusions():
    w = keras.Variable([1.0, 2.0], name="dense/kernel:0")
    b = keras.Variable([1.0], name="dense/bias:0")
    opt = optimizers.SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply_gradients([(ops.convert_to_tensor([1.0, 1.0]), w), (ops.convert_to_tensor([1.0]), b)])
    # w - w * wd * lr - lr * g
    np.testing.assert_allclose(w.numpy(), [1 - 0.05 - 0.1, 2 - 0.1 - 0.1], rtol=1e-6)
    np.testing.assert_allclose(b.numpy(), [0.9], rtol=1e-6)
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_list=[w])


def test_moving_average_overwrites_every_n_steps():
    # tf.keras's documented example: EMA with momentum 0.5, overwrite every 3.
    opt = optimizers.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5,
                         ema_overwrite_frequency=3)
    v1, v2 = keras.Variable(2.0), keras.Variable(2.0)
    grads = [ops.convert_to_tensor(1.0), ops.convert_to_tensor(1.0)]
    opt.apply_gradients(zip(grads, [v1, v2]))
    assert float(v1) == 1.0
    opt.apply_gradients(zip(grads, [v1, v2]))
    assert float(v1) == 0.0
    opt.apply_gradients(zip(grads, [v1, v2]))
    np.testing.assert_allclose([float(v1), float(v2)], [-0.125, -0.125])


def test_finalize_variable_values_copies_the_averages():
    opt = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9)
    w = keras.Variable([1.0, 1.0])
    expected_w, expected_avg = np.array([1.0, 1.0]), np.array([1.0, 1.0])  # starts at w
    for _ in range(3):
        opt.apply_gradients([(ops.convert_to_tensor([1.0, -2.0]), w)])
        expected_w = expected_w - 0.1 * np.array([1.0, -2.0])
        expected_avg = 0.9 * expected_avg + 0.1 * expected_w
    assert opt.variables[1].name == "SGD/average/Variable:0"
    np.testing.assert_allclose(opt.variables[1].numpy(), expected_avg, rtol=1e-6)
    np.testing.assert_allclose(w.numpy(), expected_w, rtol=1e-6)  # no overwrite by default
    opt.finalize_variable_values([w])
    np.testing.assert_allclose(w.numpy(), expected_avg, rtol=1e-6)


# -- saving state ---------------------------------------------------------------------------
def test_set_weights_restores_the_step_for_bias_correction():
    init, grads_seq = make_problem(3)
    first = optimizers.Adam(0.01)
    variables = run_kerasette(first, init[:2], [g[:2] for g in grads_seq[:3]], np.float32)
    state = [v.numpy() for v in first.variables]

    second = optimizers.Adam(0.01)
    copies = [keras.Variable(v.numpy()) for v in variables]
    second.build(copies)
    second.set_weights(state)
    assert int(second.iterations) == 3
    last = [ops.convert_to_tensor(g.astype(np.float32)) for g in grads_seq[3][:2]]
    first.apply_gradients(zip(last, variables))
    second.apply_gradients(zip(last, copies))
    for a, b in zip(variables, copies):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_set_weights_checks_count_and_build():
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match="build"):
        opt.set_weights([np.zeros((), np.int64)])
    opt.build([keras.Variable([1.0])])
    with pytest.raises(ValueError, match="has 3 variables; received 1"):
        opt.set_weights([np.zeros((), np.int64)])


# -- configuration ---------------------------------------------------------------------------
BASE_KEYS = ["name", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema",
             "ema_momentum", "ema_overwrite_frequency", "jit_compile", "is_legacy_optimizer",
             "learning_rate"]

# Written by tf.keras 2.21 (training_config of tests/data/keras/tfkeras2_*.h5);
# learning rates there are float32 values read back as doubles.
TF_KERAS_CONFIGS = {
    "SGD": {"name": "SGD", "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
            "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
            "ema_overwrite_frequency": None, "jit_compile": False,
            "is_legacy_optimizer": False, "learning_rate": 0.5, "momentum": 0.0,
            "nesterov": False},
    "Adam": {"name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
             "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
             "ema_overwrite_frequency": None, "jit_compile": False,
             "is_legacy_optimizer": False, "learning_rate": 0.0010000000474974513,
             "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False},
    "RMSprop": {"name": "RMSprop", "weight_decay": None, "clipnorm": None,
                "global_clipnorm": None, "clipvalue": None, "use_ema": False,
                "ema_momentum": 0.99, "ema_overwrite_frequency": 100, "jit_compile": False,
                "is_legacy_optimizer": False, "learning_rate": 0.0010000000474974513,
                "rho": 0.9, "momentum": 0.0, "epsilon": 1e-07, "centered": False},
}


@pytest.mark.parametrize("cls, kwargs", [
    (optimizers.SGD, dict(learning_rate=0.5)),
    (optimizers.Adam, {}),
    (optimizers.RMSprop, {}),
])
def test_default_config_matches_tf_keras(cls, kwargs):
    config = cls(**kwargs).get_config()
    expected = TF_KERAS_CONFIGS[cls.__name__]
    assert list(config) == list(expected)
    config["learning_rate"] = float(np.float32(config["learning_rate"]))
    assert config == expected


def test_adagrad_default_config():
    config = optimizers.Adagrad().get_config()
    assert list(config) == BASE_KEYS + ["initial_accumulator_value", "epsilon"]
    assert config["initial_accumulator_value"] == 0.1 and config["epsilon"] == 1e-7
    assert config["learning_rate"] == 0.001 and config["ema_overwrite_frequency"] is None


CONFIG_CASES = [
    optimizers.SGD(0.2, momentum=0.5, nesterov=True, clipnorm=1.0, name="my_sgd"),
    optimizers.Adam(3e-4, beta_1=0.8, beta_2=0.99, epsilon=1e-6, amsgrad=True,
                    global_clipnorm=2.0, weight_decay=0.01),
    optimizers.RMSprop(0.02, rho=0.8, momentum=0.3, epsilon=1e-5, centered=True, clipvalue=0.5,
                       use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=10),
    optimizers.Adagrad(0.3, initial_accumulator_value=0.0, epsilon=1e-4),
]


@pytest.mark.parametrize("opt", CONFIG_CASES, ids=lambda o: type(o).__name__)
def test_config_round_trips_through_json(opt):
    config = opt.get_config()
    restored = type(opt).from_config(json.loads(json.dumps(config)))
    assert restored.get_config() == config
    again = optimizers.deserialize(json.loads(json.dumps(optimizers.serialize(opt))))
    assert type(again) is type(opt)
    assert again.get_config() == config


def test_serialize_writes_the_keras_nested_form():
    data = optimizers.serialize(optimizers.Adam())
    assert data["module"] == "keras.optimizers"
    assert data["class_name"] == "Adam"
    assert data["config"]["beta_1"] == 0.9
    assert optimizers.serialize(None) is None


def test_deserialize_reads_tf_keras_h5_training_config():
    # The form tf.keras 2.21 writes in an .h5 file's training_config.
    data = {"class_name": "Custom>RMSprop", "config": TF_KERAS_CONFIGS["RMSprop"]}
    opt = optimizers.deserialize(json.loads(json.dumps(data)))
    assert isinstance(opt, optimizers.RMSprop)
    assert opt.rho == 0.9 and opt.ema_overwrite_frequency == 100
    np.testing.assert_allclose(float(opt.learning_rate), 0.001, rtol=1e-7)


def test_deserialize_reads_legacy_configs():
    # tf.keras <= 2.10 configs: a `decay` key (zero) and none of the new keys.
    legacy = {"class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.002,
                                               "decay": 0.0, "beta_1": 0.9, "beta_2": 0.999,
                                               "epsilon": 1e-07, "amsgrad": False}}
    opt = optimizers.deserialize(legacy)
    assert isinstance(opt, optimizers.Adam) and opt.get_config()["learning_rate"] == 0.002
    with pytest.raises(ValueError, match="decay"):
        optimizers.Adam(decay=1e-4)


@pytest.mark.parametrize("name, cls", [("sgd", optimizers.SGD), ("adam", optimizers.Adam),
                                       ("rmsprop", optimizers.RMSprop),
                                       ("adagrad", optimizers.Adagrad), ("ADAM", optimizers.Adam),
                                       ("RMSprop", optimizers.RMSprop), ("SGD", optimizers.SGD)])
def test_get_by_name(name, cls):
    opt = optimizers.get(name)
    assert type(opt) is cls
    assert opt.get_config() == cls().get_config()


def test_get_instances_and_configs():
    opt = optimizers.Adam(0.1)
    assert optimizers.get(opt) is opt
    from_dict = optimizers.get(optimizers.serialize(opt))
    assert from_dict is not opt and from_dict.get_config() == opt.get_config()
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: 42"):
        optimizers.get(42)


def test_unknown_name_lists_valid_ones_and_the_closest():
    with pytest.raises(ValueError) as info:
        optimizers.get("adamm")
    message = str(info.value)
    assert "Unknown optimizer: 'adamm'" in message
    assert "Did you mean 'adam'?" in message
    assert "adadelta, adagrad, adam, adamax, adamw, nadam, rmsprop, sgd" in message


# -- argument checks ---------------------------------------------------------------------------
NON_NEGATIVE = "must be a non-negative float"
IN_UNIT = "must be a float in [0, 1]"


@pytest.mark.parametrize("cls, kwargs, needle", [
    (optimizers.SGD, dict(learning_rate=-0.1),
     f"`learning_rate` {NON_NEGATIVE} or a schedule. Received: learning_rate=-0.1"),
    (optimizers.Adam, dict(learning_rate="fast"), "Received: learning_rate='fast'"),
    (optimizers.Adam, dict(beta_1=1.0), "`beta_1` must be a float in [0, 1). Received: beta_1=1.0"),
    (optimizers.Adam, dict(beta_1=-0.1), "Received: beta_1=-0.1"),
    (optimizers.Adam, dict(beta_2=1.5), "`beta_2` must be a float in [0, 1). Received: beta_2=1.5"),
    (optimizers.Adam, dict(epsilon=-1e-7), f"`epsilon` {NON_NEGATIVE}. Received: epsilon=-1e-07"),
    (optimizers.SGD, dict(momentum=1.5), f"`momentum` {IN_UNIT}. Received: momentum=1.5"),
    (optimizers.SGD, dict(momentum=-0.1), "Received: momentum=-0.1"),
    (optimizers.RMSprop, dict(momentum=2.0), "Received: momentum=2.0"),
    (optimizers.RMSprop, dict(rho=-0.5), f"`rho` {IN_UNIT}. Received: rho=-0.5"),
    (optimizers.RMSprop, dict(epsilon=-1.0), "Received: epsilon=-1.0"),
    (optimizers.Adagrad, dict(initial_accumulator_value=-1.0),
     f"`initial_accumulator_value` {NON_NEGATIVE}. Received: initial_accumulator_value=-1.0"),
    (optimizers.Adagrad, dict(epsilon=float("nan")), "Received: epsilon=nan"),
    (optimizers.SGD, dict(clipnorm=0.0),
     "`clipnorm` must be a positive float or None. Received: clipnorm=0.0"),
    (optimizers.SGD, dict(clipnorm=-1.0), "Received: clipnorm=-1.0"),
    (optimizers.Adam, dict(global_clipnorm=0), "Received: global_clipnorm=0"),
    (optimizers.Adam, dict(clipvalue=-2), "Received: clipvalue=-2"),
    (optimizers.Adam, dict(clipnorm=1.0, global_clipnorm=1.0),
     "At most one of `clipnorm` and `global_clipnorm` can be set. "
     "Received: clipnorm=1.0, global_clipnorm=1.0"),
    (optimizers.SGD, dict(weight_decay=-0.1), "Received: weight_decay=-0.1"),
    (optimizers.SGD, dict(use_ema=True, ema_momentum=1.5), "Received: ema_momentum=1.5"),
    (optimizers.SGD, dict(use_ema=True, ema_overwrite_frequency=0),
     "Received: ema_overwrite_frequency=0"),
])
def test_bad_arguments_are_rejected_at_construction(cls, kwargs, needle):
    with pytest.raises(ValueError) as info:
        cls(**kwargs)
    assert needle in str(info.value)


def test_unknown_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword arguments: bogus"):
        optimizers.Adam(bogus=1)


def test_base_optimizer_needs_an_update_step():
    class Bare(optimizers.Optimizer):
        pass

    w = keras.Variable(1.0)
    with pytest.raises(NotImplementedError, match="Bare must implement update_step"):
        Bare(0.1).apply_gradients([(ops.convert_to_tensor(1.0), w)])


def test_custom_optimizer_with_a_slot():
    class SignSGD(optimizers.Optimizer):
        """w -= lr * sign(g); counts steps in a slot."""

        def _build_slots(self, var_list):
            for v in var_list:
                self.add_variable_from_reference(v, "count")

        def update_step(self, gradient, variable):
            xp = self._xp
            count = self._slot(variable, "count")
            xp.add(count, 1.0, out=count)
            tmp = self._temp(variable.data)
            xp.sign(gradient, out=tmp)
            xp.multiply(tmp, self._lr, out=tmp)
            xp.subtract(variable.data, tmp, out=variable.data)

    opt = SignSGD(learning_rate=0.5)
    w = keras.Variable([1.0, 1.0])
    opt.apply_gradients([(ops.convert_to_tensor([3.0, -0.1]), w)])
    np.testing.assert_allclose(w.numpy(), [0.5, 1.5])
    assert [v.name for v in opt.variables] == ["iteration:0", "SignSGD/count/Variable:0"]
    assert opt.get_config()["learning_rate"] == 0.5
