"""SimpleRNN, LSTM, GRU and Bidirectional: the layer harness, every option
against a plain NumPy recurrence, states, masks, dropout, errors, float64
gradients through the layers, and the functional graph with several outputs
(`return_state`) and `initial_state` tensors."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from gradcheck import check_gradients
from layer_harness import run_layer_test

import kerasette as keras
from kerasette import ops

L = keras.layers
B, T, F, U = 3, 5, 2, 4


# -- a plain NumPy recurrence (tf.keras 2's formulas; check_numpy_forward.py) -------------
def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _np_rnn(kind, x, w, h0=None, c0=None, mask=None, go_backwards=False, reset_after=True,
            activation=np.tanh):
    """Returns (sequence in processing order, final h, final c)."""
    k, rk = w[0], w[1]
    b = w[2] if len(w) > 2 else None
    u = rk.shape[0]
    h = np.zeros((x.shape[0], u)) if h0 is None else h0
    c = np.zeros((x.shape[0], u)) if c0 is None else c0
    steps = range(x.shape[1])[::-1] if go_backwards else range(x.shape[1])
    seq, prev_out = [], np.zeros_like(h)
    for t in steps:
        xt = x[:, t]
        if kind == "simple_rnn":
            hn, cn = activation(xt @ k + h @ rk + (0 if b is None else b)), c
        elif kind == "lstm":
            z = xt @ k + h @ rk + (0 if b is None else b)
            i, f, g, o = (z[:, j * u:(j + 1) * u] for j in range(4))
            cn = _sigmoid(f) * c + _sigmoid(i) * activation(g)
            hn = _sigmoid(o) * activation(cn)
        else:
            bi, br = (b[0], b[1]) if b is not None and reset_after else (b, None)
            xz = xt @ k + (0 if bi is None else bi)
            if reset_after:
                hz = h @ rk + (0 if br is None else br)
                zg, r = _sigmoid(xz[:, :u] + hz[:, :u]), _sigmoid(xz[:, u:2 * u] + hz[:, u:2 * u])
                hh = activation(xz[:, 2 * u:] + r * hz[:, 2 * u:])
            else:
                zg = _sigmoid(xz[:, :u] + h @ rk[:, :u])
                r = _sigmoid(xz[:, u:2 * u] + h @ rk[:, u:2 * u])
                hh = activation(xz[:, 2 * u:] + (r * h) @ rk[:, 2 * u:])
            hn, cn = zg * h + (1 - zg) * hh, c
        if mask is not None:
            m = mask[:, t][:, None]
            out = np.where(m, hn, prev_out)
            hn, cn = np.where(m, hn, h), np.where(m, cn, c)
        else:
            out = hn
        seq.append(out)
        prev_out, h, c = out, hn, cn
    return np.stack(seq, axis=1), h, c


def _x(shape=(B, T, F), seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _kind(layer):
    return {"SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru"}[type(layer).__name__]


def _numpy(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


def _with_random_bias(layer, x):
    """Builds `layer` on `x` and gives it a nonzero bias (zeros hide bias bugs)."""
    layer(x)
    weights = layer.get_weights()
    rng = np.random.default_rng(1)
    layer.set_weights([w + 0.3 * rng.standard_normal(w.shape).astype("float32")
                       for w in weights])
    return layer.get_weights()


# -- the harness ---------------------------------------------------------------------------
HARNESS = [
    (L.SimpleRNN, {"units": 3}, (2, 3, 2), (2, 3)),
    (L.LSTM, {"units": 3, "return_sequences": True}, (2, 3, 2), (2, 3, 3)),
    (L.GRU, {"units": 3}, (2, 3, 2), (2, 3)),
    (L.GRU, {"units": 3, "reset_after": False, "go_backwards": True}, (2, 3, 2), (2, 3)),
]


@pytest.mark.parametrize("cls, kwargs, in_shape, out_shape", HARNESS)
def test_layer_harness(cls, kwargs, in_shape, out_shape, backend):
    run_layer_test(cls, kwargs, in_shape, out_shape, expected_num_trainable_weights=3)


def test_gradients_with_dropout_in_training(backend):
    """The harness's training step would redraw the masks between its two
    losses; here the masks are fixed by re-seeding before each evaluation."""
    rng = np.random.default_rng(2)
    layer = L.LSTM(3, dropout=0.3, recurrent_dropout=0.3, dtype="float64")
    layer.build((2, 3, 2))

    def f(x, *weights):
        return _layer_with(layer, list(weights), x, training=True)

    check_gradients(f, [rng.standard_normal((2, 3, 2))] + layer.get_weights(), reseed=11)
    x = ops.convert_to_tensor(rng.standard_normal((2, 3, 2)))
    assert not np.array_equal(layer(x, training=True).numpy(), layer(x).numpy())


def test_layer_harness_bidirectional(backend):
    run_layer_test(L.Bidirectional, {"layer": L.GRU(2, return_sequences=True),
                                     "merge_mode": "sum"},
                   (2, 3, 2), (2, 3, 2), expected_num_trainable_weights=6)


# -- forward against NumPy ------------------------------------------------------------------
FORWARD = [
    (L.SimpleRNN, {}),
    (L.SimpleRNN, {"activation": "relu", "use_bias": False}),
    (L.LSTM, {}),
    (L.LSTM, {"go_backwards": True, "return_sequences": True}),
    (L.GRU, {}),
    (L.GRU, {"reset_after": False, "return_sequences": True}),
    (L.GRU, {"use_bias": False, "go_backwards": True}),
]


@pytest.mark.parametrize("cls, kwargs", FORWARD)
def test_forward_matches_numpy(cls, kwargs, backend):
    x = _x()
    layer = cls(U, **kwargs)
    w = [a.astype("float64") for a in _with_random_bias(layer, x)]
    act = {"relu": lambda a: np.maximum(a, 0)}.get(kwargs.get("activation"), np.tanh)
    seq, h, _ = _np_rnn(_kind(layer), x.astype("float64"), w, activation=act,
                        go_backwards=layer.go_backwards,
                        reset_after=getattr(layer, "reset_after", True))
    out = layer(x).numpy()
    assert out.dtype == np.float32
    want = seq if layer.return_sequences else h
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    assert len(layer.weights) == (2 if kwargs.get("use_bias") is False else 3)


@pytest.mark.parametrize("cls", [L.SimpleRNN, L.LSTM, L.GRU])
def test_return_state_initial_state_and_mask(cls, backend):
    """`return_state` gives the final states; `initial_state` starts from
    given ones; with a mask a masked step carries the state and output over
    (the last output is the last real step's)."""
    x = _x()
    n_states = 2 if cls is L.LSTM else 1
    layer = cls(U, return_sequences=True, return_state=True)
    w = [a.astype("float64") for a in _with_random_bias(layer, x)]
    rng = np.random.default_rng(4)
    states = [rng.standard_normal((B, U)).astype("float32") for _ in range(n_states)]
    mask = np.ones((B, T), bool)
    mask[0, 3:] = False
    mask[1, 1] = False
    out = layer(x, initial_state=states, mask=mask)
    assert isinstance(out, list) and len(out) == 1 + n_states
    seq, h, c = _np_rnn(_kind(layer), x.astype("float64"), w, *[s.astype("float64")
                                                                 for s in states], mask=mask)
    np.testing.assert_allclose(out[0].numpy(), seq, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out[1].numpy(), h, rtol=1e-5, atol=1e-5)
    if cls is L.LSTM:
        np.testing.assert_allclose(out[2].numpy(), c, rtol=1e-5, atol=1e-5)
    last = cls(U)
    last(x)
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(last(x, mask=mask, initial_state=states).numpy(), seq[:, -1],
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(seq[0, -1], seq[0, 2])  # the carried-over output


def test_lstm_returns_output_h_and_c():
    out, h, c = L.LSTM(U, return_state=True)(_x())
    np.testing.assert_array_equal(out.numpy(), h.numpy())
    assert c.shape == (B, U)


def test_compute_mask():
    mask = np.ones((B, T), bool)
    assert L.LSTM(U, return_sequences=True).compute_mask(_x(), mask) is mask
    assert L.LSTM(U).compute_mask(_x(), mask) is None
    assert L.GRU(U, return_sequences=True, return_state=True).compute_mask(
        _x(), mask) == [mask, None]
    assert L.LSTM(U).supports_masking and L.Bidirectional(L.LSTM(U)).supports_masking
    both = L.Bidirectional(L.LSTM(U, return_sequences=True), merge_mode=None)
    assert both.compute_mask(_x(), mask) == [mask, mask]


# -- weights and config ---------------------------------------------------------------------
def test_weights_layouts_names_and_initializers():
    layer = L.LSTM(U)
    layer(_x())
    assert [w.name for w in layer.weights] == [
        f"{layer.name}/lstm_cell/kernel:0", f"{layer.name}/lstm_cell/recurrent_kernel:0",
        f"{layer.name}/lstm_cell/bias:0"]
    kernel, rec, bias = layer.get_weights()
    assert kernel.shape == (F, 4 * U) and rec.shape == (U, 4 * U) and bias.shape == (4 * U,)
    np.testing.assert_array_equal(bias, np.r_[np.zeros(U), np.ones(U), np.zeros(2 * U)])
    np.testing.assert_allclose(rec @ rec.T, np.eye(U), atol=1e-5)  # orthogonal rows
    gru = L.GRU(U)
    gru(_x())
    assert gru.weights[2].shape == (2, 3 * U)
    assert L.LSTM(U, unit_forget_bias=False)(_x()) is not None
    config = L.LSTM(U).get_config()
    assert config["recurrent_initializer"]["class_name"] == "Orthogonal"
    assert config["time_major"] is False and config["implementation"] == 2


def test_config_round_trip_keeps_every_option():
    layer = L.GRU(3, activation="relu", recurrent_activation="hard_sigmoid", use_bias=False,
                  dropout=0.1, recurrent_dropout=0.2, return_sequences=True,
                  return_state=True, go_backwards=True, unroll=True, reset_after=False,
                  kernel_regularizer="l2", implementation=1, name="g")
    config = json.loads(json.dumps(layer.get_config()))
    clone = L.GRU.from_config(config)
    assert clone.get_config() == config
    for key, value in (("activation", "relu"), ("recurrent_activation", "hard_sigmoid"),
                       ("use_bias", False), ("dropout", 0.1), ("recurrent_dropout", 0.2),
                       ("go_backwards", True), ("unroll", True), ("reset_after", False),
                       ("implementation", 1)):
        assert config[key] == value, key
    # Keras 3's extra keys are accepted.
    L.LSTM.from_config(dict(L.LSTM(2).get_config(), zero_output_for_mask=True, seed=3))


def test_kernel_regularizer_joins_losses():
    layer = L.SimpleRNN(U, kernel_regularizer=keras.regularizers.l2(0.01))
    layer(_x())
    want = 0.01 * np.sum(layer.get_weights()[0].astype("float64") ** 2)
    np.testing.assert_allclose(float(layer.losses[0]), want, rtol=1e-5)


# -- dropout ----------------------------------------------------------------------------------
def test_dropout_only_in_training_and_seeded(backend):
    x = _x()
    layer = L.LSTM(U, dropout=0.5, recurrent_dropout=0.5)
    plain = L.LSTM(U)
    layer(x)
    plain(x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_array_equal(layer(x).numpy(), plain(x).numpy())
    np.testing.assert_array_equal(layer(x, training=False).numpy(), plain(x).numpy())
    keras.utils.set_random_seed(5)
    a = layer(x, training=True).numpy()
    keras.utils.set_random_seed(5)
    b = layer(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, plain(x).numpy())


def test_input_dropout_mask_is_fixed_over_the_sequence(backend):
    """tf.keras 2 draws one input mask per sequence: with equal steps and no
    recurrence, every step's output is the same."""
    x = np.repeat(_x((2, 1, 6)), 4, axis=1)
    layer = L.SimpleRNN(5, activation="linear", use_bias=False, dropout=0.5,
                        return_sequences=True)
    layer(x)
    layer.set_weights([layer.get_weights()[0], np.zeros((5, 5), "float32")])
    out = layer(x, training=True).numpy()
    for t in range(1, 4):
        np.testing.assert_array_equal(out[:, t], out[:, 0])
    assert not np.allclose(out, layer(x).numpy())


# -- stateful ---------------------------------------------------------------------------------
def test_stateful_carries_states_and_resets(backend):
    x = _x((2, 6, F))
    layer = L.GRU(U, stateful=True)
    whole = L.GRU(U)
    layer(x[:, :3])
    whole(x)
    whole.set_weights(layer.get_weights())
    layer.reset_states()
    layer(x[:, :3])
    np.testing.assert_allclose(layer(x[:, 3:]).numpy(), whole(x).numpy(), rtol=1e-5, atol=1e-6)
    layer.reset_states()
    np.testing.assert_allclose(layer(x[:, :3]).numpy(), whole(x[:, :3]).numpy(), rtol=1e-6)
    h = np.ones((2, U), "float32")
    layer.reset_states([h])
    np.testing.assert_array_equal(layer.states[0].numpy(), h)
    with pytest.raises(ValueError, match="batch size 2, but received a batch of 3"):
        layer(_x((3, 6, F)))
    with pytest.raises(AttributeError, match="must be stateful"):
        L.GRU(U).reset_states()


def test_stateful_lstm_in_a_sequential_model_with_a_batch_size(backend):
    model = keras.Sequential([L.LSTM(U, stateful=True, batch_input_shape=(2, 3, F)),
                              L.Dense(1)])
    x = _x((2, 3, F))
    first = model.predict(x, verbose=0)
    assert not np.allclose(model.predict(x, verbose=0), first)
    model.layers[0].reset_states()
    np.testing.assert_allclose(model.predict(x, verbose=0), first, rtol=1e-6)


def test_stateful_needs_a_batch_size():
    with pytest.raises(ValueError, match="stateful, so it needs to know its batch size"):
        keras.Sequential([keras.Input(shape=(3, F)), L.LSTM(U, stateful=True)])


# -- Bidirectional ------------------------------------------------------------------------------
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_is_two_runs_merged(merge_mode, return_sequences, backend):
    x = _x()
    layer = L.Bidirectional(L.LSTM(U, return_sequences=return_sequences),
                            merge_mode=merge_mode)
    weights = _with_random_bias(layer, x)
    w = [a.astype("float64") for a in weights]
    x64 = x.astype("float64")
    seq_f, h_f, _ = _np_rnn("lstm", x64, w[:3])
    seq_b, h_b, _ = _np_rnn("lstm", x64, w[3:], go_backwards=True)
    y, y_rev = (seq_f, seq_b[:, ::-1]) if return_sequences else (h_f, h_b)
    want = {"concat": lambda: np.concatenate([y, y_rev], -1), "sum": lambda: y + y_rev,
            "mul": lambda: y * y_rev, "ave": lambda: (y + y_rev) / 2,
            None: lambda: [y, y_rev]}[merge_mode]()
    out = layer(x)
    got = [o.numpy() for o in out] if merge_mode is None else out.numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    shape = layer.compute_output_shape((None, T, F))
    assert (shape[0] if merge_mode is None else shape)[1:] == (want[0] if merge_mode is None
                                                                else want).shape[1:]


def test_bidirectional_states_backward_layer_and_config(backend):
    x = _x()
    layer = L.Bidirectional(L.GRU(U, return_state=True),
                            backward_layer=L.GRU(U, return_state=True, go_backwards=True,
                                                 name="back"))
    states = [np.ones((B, U), "float32"), np.zeros((B, U), "float32")]
    out = layer(x, initial_state=states)
    assert len(out) == 3 and out[0].shape == (B, 2 * U)
    w = [a.astype("float64") for a in layer.get_weights()]
    _, h_f, _ = _np_rnn("gru", x.astype("float64"), w[:3], h0=np.ones((B, U)))
    np.testing.assert_allclose(out[1].numpy(), h_f, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out[0].numpy()[:, :U], h_f, rtol=1e-5, atol=1e-5)
    assert layer.backward_layer.name == "backward_back"
    assert layer.weights[3].name == f"{layer.name}/backward_back/gru_cell/kernel:0"
    config = json.loads(json.dumps(layer.get_config()))
    assert config["backward_layer"]["config"]["name"] == "back"
    clone = L.Bidirectional.from_config(config)
    clone(x, initial_state=states)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x, initial_state=states)[0].numpy(), out[0].numpy())
    with pytest.raises(ValueError, match="expects 2 initial states"):
        layer(x, initial_state=states[:1])


def test_bidirectional_masks_zero_the_padded_outputs(backend):
    """With sequences, masked steps output zeros in both directions (tf.keras
    2 forces `zero_output_for_mask` inside Bidirectional)."""
    x = _x()
    mask = np.ones((B, T), bool)
    mask[:, 3:] = False
    layer = L.Bidirectional(L.SimpleRNN(U, return_sequences=True))
    out = layer(x, mask=mask).numpy()
    np.testing.assert_array_equal(out[:, 3:], 0.0)
    unmasked = layer(x[:, :3]).numpy()
    np.testing.assert_allclose(out[:, :3], unmasked, rtol=1e-5, atol=1e-6)


# -- errors --------------------------------------------------------------------------------------
def test_clear_errors():
    with pytest.raises(ValueError, match=r"layer 'lstm_x' \(LSTM\).*expected ndim=3.*\(4, 3\)"):
        L.LSTM(U, name="lstm_x")(np.zeros((4, 3), "float32"))
    with pytest.raises(ValueError, match=r"'gru_y'.*expected ndim=3"):
        L.GRU(U, name="gru_y")(keras.Input(shape=(3,)))
    with pytest.raises(ValueError, match="activation"):
        L.LSTM(U, activation="softmax")
    with pytest.raises(ValueError, match="time_major"):
        L.GRU(U, time_major=True)
    with pytest.raises(ValueError, match="dropout"):
        L.SimpleRNN(U, dropout=1.0)
    with pytest.raises(ValueError, match="units"):
        L.SimpleRNN(0)
    with pytest.raises(ValueError, match="expects 2 initial state"):
        L.LSTM(U)(_x(), initial_state=[np.zeros((B, U), "float32")])
    with pytest.raises(ValueError, match=r"initial state 0 must have shape \(3, 4\)"):
        L.GRU(U)(_x(), initial_state=[np.zeros((B, U + 1), "float32")])
    layer = L.SimpleRNN(U)
    layer(_x())
    with pytest.raises(ValueError, match="last axis of the input to have size 2"):
        layer(_x((B, T, 3)))
    with pytest.raises(ValueError, match="merge_mode"):
        L.Bidirectional(L.LSTM(U), merge_mode="max")
    with pytest.raises(ValueError, match="SimpleRNN, LSTM or GRU"):
        L.Bidirectional(L.Dense(U))
    with pytest.raises(ValueError, match="go_backwards"):
        L.Bidirectional(L.LSTM(U), backward_layer=L.LSTM(U))


# -- gradients in float64 -------------------------------------------------------------------------
def test_gradients_through_lstm_with_mask_states_and_go_backwards(backend):
    """Through the layer: to x, the three weights and both initial states."""
    rng = np.random.default_rng(3)
    layer = L.LSTM(2, go_backwards=True, return_sequences=True, dtype="float64")
    layer.build((2, 3, 2))
    w = [a + 0.1 * rng.standard_normal(a.shape) for a in layer.get_weights()]
    mask = np.array([[True, True, False], [True, False, True]])

    def f(x, kernel, rec, bias, h0, c0):
        return _layer_with(layer, [kernel, rec, bias], x, initial_state=[h0, c0], mask=mask)

    inputs = [rng.standard_normal((2, 3, 2))] + w + [rng.standard_normal((2, 2))
                                                      for _ in range(2)]
    check_gradients(f, inputs)


def test_gradients_through_bidirectional_gru(backend):
    rng = np.random.default_rng(4)
    layer = L.Bidirectional(L.GRU(2, return_sequences=True), merge_mode="mul", dtype="float64")
    layer.build((2, 3, 2))

    def f(x, *weights):
        return _layer_with(layer, list(weights), x)

    check_gradients(f, [rng.standard_normal((2, 3, 2))] +
                    [a + 0.1 * rng.standard_normal(a.shape) for a in layer.get_weights()])


def _layer_with(layer, tensors, x, **kwargs):
    """Calls `layer` with its weights replaced by `tensors` (so the tape
    differentiates with respect to them)."""
    variables = layer.weights
    owners = []
    for sub in [layer] + list(getattr(layer, "_sublayers", [])):
        for attr in ("kernel", "recurrent_kernel", "bias"):
            if attr in sub.__dict__:
                owners.append((sub, attr, sub.__dict__[attr]))
    by_id = {id(v): t for v, t in zip(variables, tensors)}
    try:
        for sub, attr, var in owners:
            object.__setattr__(sub, attr, by_id[id(var)])
        return layer(x, **kwargs)
    finally:
        for sub, attr, var in owners:
            object.__setattr__(sub, attr, var)


# -- the functional graph -------------------------------------------------------------------------
def test_return_state_in_a_functional_model_and_files(tmp_path, backend):
    """`GRU(return_state=True)` gives two KerasTensors; the model runs,
    and its config (both dialects) and files rebuild the same graph."""
    inp = keras.Input(shape=(T, F))
    seq, state = L.GRU(U, return_sequences=True, return_state=True, name="gru")(inp)
    assert seq.shape == (None, T, U) and state.shape == (None, U)
    joined = L.Concatenate()([L.LSTM(3)(seq), state])
    model = keras.Model(inp, L.Dense(2)(joined))
    x = _x()
    want = model.predict(x, verbose=0)
    config = model.get_config()
    dense_inbound = [e for e in config["layers"] if e["class_name"] == "Concatenate"][0]
    assert ["gru", 0, 1, {}] in dense_inbound["inbound_nodes"][0]
    again = keras.Model.from_config(config)
    again.set_weights(model.get_weights())
    np.testing.assert_array_equal(again.predict(x, verbose=0), want)
    for fmt in (".h5", ".keras"):
        model.save(tmp_path / f"m{fmt}")
        loaded = keras.models.load_model(tmp_path / f"m{fmt}")
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), want)


def test_encoder_states_feed_a_decoder(tmp_path, backend):
    """`initial_state=` symbolic tensors join the decoder's inputs, so the
    graph (and its `.h5` file) records the encoder -> decoder link."""
    enc_in, dec_in = keras.Input(shape=(T, F)), keras.Input(shape=(4, 3))
    _, h, c = L.LSTM(U, return_state=True)(enc_in)
    dec = L.LSTM(U, return_sequences=True)(dec_in, initial_state=[h, c])
    model = keras.Model([enc_in, dec_in], L.Dense(1)(dec))
    x = [_x(), _x((B, 4, 3), seed=1)]
    out = model.predict(x, verbose=0)
    assert out.shape == (B, 4, 1)
    other = model.predict([_x(seed=2), x[1]], verbose=0)
    assert not np.allclose(out, other)  # the encoder's input reaches the output
    model.save(tmp_path / "s2s.h5")
    np.testing.assert_array_equal(keras.models.load_model(tmp_path / "s2s.h5").predict(
        x, verbose=0), out)
    # Keras 3's dialect records the states by keyword: args [x], kwargs {initial_state}.
    model.save(tmp_path / "s2s.keras")
    with zipfile.ZipFile(tmp_path / "s2s.keras") as zf:
        entries = json.loads(zf.read("config.json"))["config"]["layers"]
    node = [e for e in entries if e["class_name"] == "LSTM"][1]["inbound_nodes"][0]
    assert len(node["args"]) == 1 and node["args"][0]["class_name"] == "__keras_tensor__"
    assert [t["config"]["keras_history"][2] for t in node["kwargs"]["initial_state"]] == [1, 2]
    np.testing.assert_array_equal(keras.models.load_model(tmp_path / "s2s.keras").predict(
        x, verbose=0), out)


def test_trains_in_a_sequential_model(backend):
    x = _x((16, T, F))
    y = x.sum(axis=(1, 2))[:, None]
    model = keras.Sequential([keras.Input(shape=(T, F)), L.Bidirectional(L.LSTM(4)),
                              L.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]


def test_masks_from_embedding_and_masking_reach_the_layer(backend):
    """A padded row gives what its unpadded part gives (the mask rides on
    the tensors from Embedding(mask_zero=True) and Masking)."""
    tokens = np.array([[3, 1, 0, 0], [2, 5, 4, 0]])
    embed = L.Embedding(10, 3, mask_zero=True)
    layer = L.GRU(4)
    out = layer(embed(tokens)).numpy()
    np.testing.assert_allclose(out[:1], layer(embed(tokens[:1, :2])).numpy(), rtol=1e-5,
                               atol=1e-6)
    x = _x((2, 4, 3))
    x[0, 2:] = 0.0
    masked = keras.Sequential([keras.Input(shape=(4, 3)), L.Masking(0.0),
                               L.Bidirectional(L.LSTM(2))])
    plain = L.Bidirectional(L.LSTM(2))
    plain(x[:1, :2])
    plain.set_weights(masked.get_weights())
    np.testing.assert_allclose(masked.predict(x, verbose=0)[:1], plain(x[:1, :2]).numpy(),
                               rtol=1e-5, atol=1e-6)
