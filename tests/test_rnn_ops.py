"""kerasette.ops.rnn: the fused SimpleRNN, LSTM and GRU ops.

Forward passes are checked against a plain NumPy step loop written here
(tf.keras 2's cells and `backend.rnn`'s masking, one step at a time) and
against predictions of real tf.keras 2 models; gradients against finite
differences in float64, for every input including the initial states.
"""

from __future__ import annotations

import numpy as np
import pytest
from fixture_paths import KERAS2
from gradcheck import check_gradients

import kerasette
from kerasette import ops
from kerasette.backend import cpu_kernels
from kerasette.ops import rnn

B, T, F, U = 3, 4, 2, 3


# -- the reference: one step at a time, as tf.keras 2 --------------------------------------
def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


REF_ACT = {
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "hard_sigmoid": lambda v: np.clip(0.2 * v + 0.5, 0.0, 1.0),
    "relu": lambda v: np.maximum(v, 0.0),
    "linear": lambda v: v,
}


def _simple_cell(w, act, rec_act, rdm, reset_after):
    kernel, rk, bias = w

    def step(xt, states):
        hp = states[0] if rdm is None else states[0] * rdm
        v = xt @ kernel + hp @ rk
        if bias is not None:
            v = v + bias
        h = REF_ACT[act](v)
        return h, [h]
    return step


def _lstm_cell(w, act, rec_act, rdm, reset_after):
    kernel, rk, bias = w
    u = rk.shape[0]

    def step(xt, states):
        h, c = states
        hp = h if rdm is None else h * rdm
        v = xt @ kernel + hp @ rk
        if bias is not None:
            v = v + bias
        i = REF_ACT[rec_act](v[:, :u])
        f = REF_ACT[rec_act](v[:, u:2 * u])
        g = REF_ACT[act](v[:, 2 * u:3 * u])
        o = REF_ACT[rec_act](v[:, 3 * u:])
        c = f * c + i * g
        h = o * REF_ACT[act](c)
        return h, [h, c]
    return step


def _gru_cell(w, act, rec_act, rdm, reset_after):
    kernel, rk, bias = w
    u = rk.shape[0]

    def step(xt, states):
        h = states[0]
        hp = h if rdm is None else h * rdm
        mx = xt @ kernel
        if bias is not None:
            mx = mx + (bias[0] if reset_after else bias)
        if reset_after:
            inner = hp @ rk
            if bias is not None:
                inner = inner + bias[1]
            z = REF_ACT[rec_act](mx[:, :u] + inner[:, :u])
            r = REF_ACT[rec_act](mx[:, u:2 * u] + inner[:, u:2 * u])
            hh = REF_ACT[act](mx[:, 2 * u:] + r * inner[:, 2 * u:])
        else:
            z = REF_ACT[rec_act](mx[:, :u] + hp @ rk[:, :u])
            r = REF_ACT[rec_act](mx[:, u:2 * u] + hp @ rk[:, u:2 * u])
            hh = REF_ACT[act](mx[:, 2 * u:] + (r * hp) @ rk[:, 2 * u:])
        h = z * h + (1 - z) * hh
        return h, [h]
    return step


CELLS = {"simple_rnn": (_simple_cell, 1, 1), "lstm": (_lstm_cell, 4, 2), "gru": (_gru_cell, 3, 1)}


def reference(op, x, w, initial_state=None, mask=None, go_backwards=False, act="tanh",
              rec_act="sigmoid", reset_after=True, rdm=None, zero_output_for_mask=False):
    """The packed output, from a plain loop over steps with backend.rnn's masking."""
    make, _, n_states = CELLS[op]
    step = make(w, act, rec_act, rdm, reset_after)
    b, t, _ = x.shape
    u = w[1].shape[0]
    states = ([np.zeros((b, u))] * n_states if initial_state is None
              else [np.asarray(s, "float64") for s in initial_state])
    prev_out = np.zeros((b, u))
    outs = []
    order = range(t - 1, -1, -1) if go_backwards else range(t)
    for k in order:
        out, new_states = step(x[:, k], states)
        if mask is not None:
            keep = mask[:, k][:, None]
            out = np.where(keep, out, 0.0 if zero_output_for_mask else prev_out)
            new_states = [np.where(keep, n, s) for n, s in zip(new_states, states)]
        prev_out, states = out, new_states
        outs.append(out)
    return np.concatenate([np.stack(outs, 1)] + [s[:, None] for s in states], 1)


# -- inputs ------------------------------------------------------------------------------------
def _weights(op, rng, reset_after=True, use_bias=True, scale=0.5):
    n = CELLS[op][1]
    kernel = rng.uniform(-scale, scale, (F, n * U))
    rk = rng.uniform(-scale, scale, (U, n * U))
    bias = None
    if use_bias:
        shape = (2, 3 * U) if (op == "gru" and reset_after) else (n * U,)
        bias = rng.uniform(-scale, scale, shape)
    return [kernel, rk, bias]


# A fully masked row, a masked middle step, a masked first and last step.
MASK = np.array([[True, False, True, True],
                 [False, False, False, False],
                 [False, True, True, False]])


def _call(op, x, w, **kw):
    fn = getattr(rnn, op)
    return fn(x, w[0], w[1], w[2], **kw)


def _dev(a, dtype="float64"):
    return None if a is None else ops.convert_to_tensor(np.asarray(a, dtype))


OPTIONS = {
    "plain": {},
    "mask": {"mask": MASK},
    "mask_zero_output": {"mask": MASK, "zero_output_for_mask": True},
    "go_backwards": {"go_backwards": True},
    "mask_backwards": {"mask": MASK, "go_backwards": True},
    "initial_state": {"initial_state": True},
    "mask_initial_state": {"mask": MASK, "initial_state": True},
    "recurrent_dropout": {"rdm": True},
    "no_bias": {"use_bias": False},
}


def _case(op, option, rng, reset_after=True):
    kw = dict(OPTIONS[option])
    use_bias = kw.pop("use_bias", True)
    w = _weights(op, rng, reset_after, use_bias)
    x = rng.standard_normal((B, T, F))
    n_states = CELLS[op][2]
    if kw.pop("initial_state", False):
        kw["initial_state"] = [rng.uniform(-1, 1, (B, U)) for _ in range(n_states)]
    if kw.pop("rdm", False):
        kw["recurrent_dropout_mask"] = (rng.random((B, U)) > 0.3) / 0.7
    return x, w, kw


def _run_op(op, x, w, kw, reset_after=True, dtype="float64", **extra):
    dev = dict(kw)
    if "initial_state" in dev:
        dev["initial_state"] = [_dev(s, dtype) for s in dev["initial_state"]]
    if "mask" in dev:
        dev["mask"] = ops.convert_to_tensor(dev["mask"])
    if "recurrent_dropout_mask" in dev:
        dev["recurrent_dropout_mask"] = _dev(dev["recurrent_dropout_mask"], dtype)
    if op == "gru":
        dev["reset_after"] = reset_after
    dev.update(extra)
    return _call(op, _dev(x, dtype), [_dev(a, dtype) for a in w], **dev)


def _ref(op, x, w, kw, reset_after=True, **extra):
    r = dict(kw)
    rdm = r.pop("recurrent_dropout_mask", None)
    r.pop("activation", None)
    return reference(op, x, w, rdm=rdm, reset_after=reset_after,
                     act=extra.get("activation", "tanh"),
                     rec_act=extra.get("recurrent_activation", "sigmoid"), **r)


OPS = [("simple_rnn", True), ("lstm", True), ("gru", True), ("gru", False)]
OP_IDS = ["simple_rnn", "lstm", "gru", "gru_reset_before"]


# -- forward --------------------------------------------------------------------------------
@pytest.mark.parametrize("op,reset_after", OPS, ids=OP_IDS)
@pytest.mark.parametrize("option", list(OPTIONS))
def test_forward_matches_step_loop(backend, op, reset_after, option):
    rng = np.random.default_rng(7)
    x, w, kw = _case(op, option, rng, reset_after)
    got = _run_op(op, x, w, kw, reset_after).numpy()
    want = _ref(op, x, w, kw, reset_after)
    n_extra = CELLS[op][2]
    assert got.shape == (B, T + n_extra, U)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("op,reset_after", OPS, ids=OP_IDS)
@pytest.mark.parametrize("act,rec_act", [("relu", "hard_sigmoid"), ("linear", "tanh"),
                                         ("sigmoid", "linear"), ("hard_sigmoid", "relu")])
def test_forward_activations(backend, op, reset_after, act, rec_act):
    rng = np.random.default_rng(3)
    x, w, kw = _case(op, "mask", rng, reset_after)
    extra = {"activation": act}
    if op != "simple_rnn":
        extra["recurrent_activation"] = rec_act
    got = _run_op(op, x, w, kw, reset_after, **extra).numpy()
    want = _ref(op, x, w, kw, reset_after, **extra)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("op,reset_after", OPS, ids=OP_IDS)
@pytest.mark.parametrize("option", ["plain", "mask_backwards", "mask_initial_state"])
def test_long_sequence_with_and_without_tape(backend, op, reset_after, option):
    # 37 steps: several projection chunks and a partial last one; the forward
    # without a tape keeps only a ring of steps, with a tape every step.
    rng = np.random.default_rng(4)
    kw = dict(OPTIONS[option])
    w = _weights(op, rng, reset_after)
    t = 37
    x = rng.standard_normal((2, t, F))
    if kw.pop("initial_state", False):
        kw["initial_state"] = [rng.uniform(-1, 1, (2, U)) for _ in range(CELLS[op][2])]
    if "mask" in kw:
        kw["mask"] = rng.random((2, t)) > 0.3
    want = _ref(op, x, w, kw, reset_after)
    np.testing.assert_allclose(_run_op(op, x, w, kw, reset_after).numpy(), want,
                               rtol=1e-10, atol=1e-12)
    with kerasette.GradientTape() as tape:
        xt = _dev(x)
        tape.watch(xt)
        dev = dict(kw)
        if "initial_state" in dev:
            dev["initial_state"] = [_dev(s) for s in dev["initial_state"]]
        if "mask" in dev:
            dev["mask"] = ops.convert_to_tensor(dev["mask"])
        if op == "gru":
            dev["reset_after"] = reset_after
        z = _call(op, xt, [_dev(a) for a in w], **dev)
        loss = ops.sum(z)
    np.testing.assert_allclose(z.numpy(), want, rtol=1e-10, atol=1e-12)
    assert tape.gradient(loss, xt).shape == x.shape


@pytest.mark.parametrize("op", ["simple_rnn", "lstm", "gru"])
def test_float32_in_float32_out(backend, op):
    rng = np.random.default_rng(0)
    x, w, kw = _case(op, "mask_initial_state", rng)
    got = _run_op(op, x, w, kw, dtype="float32")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.numpy(), _ref(op, x, w, kw), rtol=1e-5, atol=1e-6)
    with kerasette.GradientTape() as tape:
        xt = _dev(x, "float32")
        tape.watch(xt)
        y = ops.sum(_call(op, xt, [_dev(a, "float32") for a in w]))
    assert tape.gradient(y, xt).dtype == np.float32


# -- against real tf.keras 2 predictions ---------------------------------------------------------
@pytest.mark.parametrize("name", ["simple_rnn", "lstm", "gru", "gru_noreset"])
def test_forward_matches_tf_keras_predictions(backend, name):
    # Keras model: the recurrent layer (last output) and Dense on top.
    d = np.load(KERAS2 / f"tfkeras2_{name}_ref.npz")
    w = [d[f"w{i}"] for i in range(int(d["n_weights"]))]
    x = d["x"].astype("float32")
    op = "gru" if name.startswith("gru") else name
    kw = {"reset_after": w[2].ndim == 2} if op == "gru" else {}
    z = getattr(rnn, op)(ops.convert_to_tensor(x), *[ops.convert_to_tensor(a) for a in w[:3]],
                         **kw).numpy()
    last = z[:, x.shape[1] - 1]
    y = last @ w[3] + w[4]
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, d["y"], rtol=0, atol=1e-6)


def _fixture_lstm(d, x, first, **kw):
    w = [ops.convert_to_tensor(d[f"w{i}"]) for i in range(first, first + 3)]
    return rnn.lstm(ops.convert_to_tensor(x), *w, **kw).numpy()[:, x.shape[1] - 1]


def test_masked_lstm_matches_tf_keras_predictions(backend):
    # Masking(0.) -> LSTM(5) -> Dense(1); rows end in masked steps, one is masked mid-way.
    d = np.load(KERAS2 / "tfkeras2_masking_ref.npz")
    x = d["x"]
    mask = ops.convert_to_tensor(np.any(x != 0.0, axis=-1))
    last = _fixture_lstm(d, x, 0, mask=mask)
    np.testing.assert_allclose(last @ d["w3"] + d["w4"], d["y"], rtol=0, atol=1e-6)


def test_backward_lstm_matches_tf_keras_bidirectional(backend):
    # Bidirectional(LSTM(4)) concatenates the forward and the backward layer's last outputs.
    d = np.load(KERAS2 / "tfkeras2_bilstm_ref.npz")
    x = d["x"]
    h = np.concatenate([_fixture_lstm(d, x, 0), _fixture_lstm(d, x, 3, go_backwards=True)], -1)
    logits = h @ d["w6"] + d["w7"]
    e = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(e / e.sum(-1, keepdims=True), d["y"], rtol=0, atol=1e-6)


# -- gradients ------------------------------------------------------------------------------------
GRAD_OPTIONS = ["plain", "mask", "mask_zero_output", "mask_backwards", "mask_initial_state",
                "recurrent_dropout", "no_bias"]


@pytest.mark.parametrize("op,reset_after", OPS, ids=OP_IDS)
@pytest.mark.parametrize("option", GRAD_OPTIONS)
def test_gradients(backend, op, reset_after, option):
    rng = np.random.default_rng(11)
    x, w, kw = _case(op, option, rng, reset_after)
    w = [a for a in w if a is not None]
    states = kw.pop("initial_state", [])
    n_w, n_s = len(w), len(states)
    mask = kw.pop("mask", None)
    rdm = kw.pop("recurrent_dropout_mask", None)
    fn = getattr(rnn, op)
    extra = {"reset_after": reset_after} if op == "gru" else {}

    def f(xt, *args):
        ws = list(args[:n_w]) + ([None] if n_w == 2 else [])
        st = list(args[n_w:n_w + n_s]) or None
        return fn(xt, *ws, initial_state=st,
                  mask=None if mask is None else ops.convert_to_tensor(mask),
                  recurrent_dropout_mask=_dev(rdm), **kw, **extra)

    check_gradients(f, [x] + w + states)


@pytest.mark.parametrize("op,reset_after", OPS, ids=OP_IDS)
def test_gradients_by_chunks_match_one_chunk(backend, op, reset_after, monkeypatch):
    # The backward's products run per chunk of steps; the gradient checks above
    # (4 steps) see one chunk, so many chunks (and a partial one) must agree.
    rng = np.random.default_rng(6)
    w = _weights(op, rng, reset_after)
    t = 17
    x = rng.standard_normal((2, t, F))
    states = [rng.uniform(-1, 1, (2, U)) for _ in range(CELLS[op][2])]
    mask = ops.convert_to_tensor(rng.random((2, t)) > 0.3)
    rdm = _dev((rng.random((2, U)) > 0.3) / 0.7)
    extra = {"reset_after": reset_after} if op == "gru" else {}

    def run(chunk):
        monkeypatch.setattr(rnn, "CHUNK", chunk)
        params = [_dev(a) for a in [x] + w + states]
        with kerasette.GradientTape() as tape:
            tape.watch(params)
            z = _call(op, params[0], params[1:4], initial_state=params[4:], mask=mask,
                      go_backwards=True, recurrent_dropout_mask=rdm, **extra)
            loss = ops.sum(z * _dev(np.cos(np.arange(z.size)).reshape(z.shape)))
        return [z.numpy()] + [g.numpy() for g in tape.gradient(loss, params)]

    for a, b in zip(run(5), run(1000)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("op", ["simple_rnn", "lstm", "gru"])
@pytest.mark.parametrize("act,rec_act,kind", [("sigmoid", "tanh", "default"),
                                              ("relu", "hard_sigmoid", "kinked"),
                                              ("linear", "linear", "default")])
def test_gradients_other_activations(backend, op, act, rec_act, kind):
    rng = np.random.default_rng(5)
    x, w, kw = _case(op, "mask_backwards", rng)
    extra = {"activation": act}
    if op != "simple_rnn":
        extra["recurrent_activation"] = rec_act

    def f(xt, k, rk, b):
        return getattr(rnn, op)(xt, k, rk, b, mask=ops.convert_to_tensor(MASK),
                                go_backwards=True, **extra)

    check_gradients(f, [x] + w, kind=kind)


def test_gradient_of_a_variable_alone(backend):
    # Only the kernel (a float32 Variable) needs a gradient: it must still be
    # right, and float32; checked against the float64 gradient of every input.
    rng = np.random.default_rng(2)
    x, w, _ = _case("lstm", "mask", rng)
    k = kerasette.Variable(w[0].astype("float32"))
    with kerasette.GradientTape() as tape:
        y = ops.sum(rnn.lstm(_dev(x, "float32"), k, _dev(w[1], "float32"),
                             _dev(w[2], "float32"), mask=ops.convert_to_tensor(MASK)))
    g = tape.gradient(y, k)
    assert g.dtype == np.float32
    params = [_dev(a) for a in [x] + w]
    with kerasette.GradientTape() as tape:
        tape.watch(params)
        y = ops.sum(rnn.lstm(*params, mask=ops.convert_to_tensor(MASK)))
    want = tape.gradient(y, params)[1].numpy()
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-4, atol=1e-5)


# -- argument checks -------------------------------------------------------------------------------
def test_errors_name_the_argument(backend):
    rng = np.random.default_rng(0)
    x, w, _ = _case("lstm", "plain", rng)
    x, w = _dev(x), [_dev(a) for a in w]
    with pytest.raises(ValueError, match="activation.*Received: activation='softmax'"):
        rnn.lstm(x, *w, activation="softmax")
    with pytest.raises(ValueError, match="recurrent_activation"):
        rnn.gru(x, w[0][:, :9], w[1][:, :9], None, recurrent_activation="selu")
    with pytest.raises(ValueError, match="kernel.*Received"):
        rnn.lstm(x, w[1], w[1], w[2])
    with pytest.raises(ValueError, match="bias"):
        rnn.gru(x, w[0][:, :9], w[1][:, :9], _dev(np.zeros(9)), reset_after=True)
    with pytest.raises(ValueError, match=r"initial_state.*\[h0, c0\]"):
        rnn.lstm(x, *w, initial_state=[_dev(np.zeros((B, U)))])
    with pytest.raises(ValueError, match="mask"):
        rnn.lstm(x, *w, mask=ops.convert_to_tensor(np.ones((B, T + 1), bool)))
    with pytest.raises(ValueError, match=r"x.*\(batch, timesteps, features\)"):
        rnn.simple_rnn(x[0], w[0][:, :U], w[1][:, :U], None)


# -- the compiled steps (numba on NumPy, optional; fused kernels on CuPy) ----------------------
numba_reason = cpu_kernels.unavailable_reason()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op,reset_after", [("lstm", True), ("gru", True)], ids=["lstm", "gru"])
def test_compiled_steps_give_the_ufunc_bits(backend, op, reset_after, dtype, monkeypatch):
    if backend.name == "strict":
        pytest.skip("the strict backend runs the ufunc chain only")
    if backend.name == "numpy" and numba_reason is not None:
        pytest.skip(f"CPU kernels off: {numba_reason}")
    rng = np.random.default_rng(8)
    x, w, kw = _case(op, "mask_initial_state", rng, reset_after)
    x = np.concatenate([x] * 5, axis=1)  # 20 steps: two projection chunks
    mask = np.concatenate([kw["mask"]] * 5, axis=1)

    def run(compiled):
        used = []
        real = rnn._step_kernels

        def step_kernels(*args):
            kern = real(*args) if compiled else None
            used.append(kern is not None)
            return kern

        with monkeypatch.context() as patch:
            patch.setattr(cpu_kernels, "rnn_enabled", lambda xp, a: compiled)  # tiny input
            patch.setattr(rnn, "_step_kernels", step_kernels)
            params = [_dev(a, dtype) for a in [x] + w + kw["initial_state"]]
            with kerasette.GradientTape() as tape:
                tape.watch(params)
                z = _call(op, params[0], params[1:4], mask=ops.convert_to_tensor(mask),
                          initial_state=params[4:], go_backwards=True)
                loss = ops.sum(z * _dev(np.linspace(-1, 1, z.size).reshape(z.shape), dtype))
            grads = tape.gradient(loss, params)
        assert used == [compiled]
        return [z.numpy()] + [g.numpy() for g in grads]

    compiled, ufuncs = run(True), run(False)
    for a, b in zip(compiled, ufuncs):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)


def test_compiled_steps_only_for_big_numpy_inputs():
    small = np.zeros((2, 3, 4), "float32")
    assert not cpu_kernels.rnn_enabled(np, small)
    big = np.zeros((64, 200, 4), "float32")
    assert cpu_kernels.rnn_enabled(np, big) == (numba_reason is None)
    assert not cpu_kernels.rnn_enabled(np, big.astype("float16"))
