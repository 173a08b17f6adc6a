"""Weight constraints (and the orthogonal regularizer) against tf.keras 2.21.

`tests/data/tfkeras2_constraint_refs.json` (made by
`tests/data/make_metric_refs.py`) holds what tf.keras 2.21 computes for
each constraint on fixed weights, the configs it (and Keras 3.15) writes
for constraints and for layers that carry them, and one SGD step of a
`Dense` layer with a `MaxNorm` kernel and a `NonNeg` bias.
"""

import json

import numpy as np
import pytest
from fixture_paths import DATA
from gradcheck import check_gradients

import kerasette as keras
from kerasette import constraints as C
from kerasette import ops, regularizers
from kerasette.optimizers import flat
from kerasette.training.fast_step import FastStep

REFS = json.loads((DATA / "tfkeras2_constraint_refs.json").read_text())
ORTHO = json.loads((DATA / "tfkeras2_metric_refs.json").read_text())["orthogonal"]
L = keras.layers


def _t(x, dtype="float32"):
    return ops.convert_to_tensor(np.asarray(x, dtype=dtype))


@pytest.mark.parametrize("case", REFS["cases"],
                         ids=[f"{c['class']}-{np.shape(c['w'])}-{json.dumps(c['kwargs'])}"
                              for c in REFS["cases"]])
def test_constraint_matches_tf_keras(case):
    constraint = getattr(C, case["class"])(**case["kwargs"])
    out = constraint(_t(case["w"]))
    assert out.dtype == np.float32 and keras.backend.get_backend().is_array(out.data)
    np.testing.assert_allclose(out.numpy(), case["value"], rtol=1e-6, atol=1e-7)
    assert constraint.get_config() == case["config"]
    assert C.serialize(constraint) == case["serialized"]
    again = C.deserialize(json.loads(json.dumps(case["serialized"])))
    assert type(again) is type(constraint) and again.get_config() == case["config"]
    keras3 = REFS["keras3"]["serialized"].get(
        case["class"] + json.dumps(case["kwargs"], sort_keys=True))
    if keras3 is not None:  # Keras 3 writes the same dict (it has no RadialConstraint)
        assert C.serialize(constraint) == keras3


def test_names_aliases_and_get():
    assert C.max_norm is C.MaxNorm and C.min_max_norm is C.MinMaxNorm
    assert C.non_neg is C.NonNeg and C.unit_norm is C.UnitNorm
    assert C.radial_constraint is C.RadialConstraint
    assert keras.constraints is C
    for name, cls in (("max_norm", C.MaxNorm), ("maxnorm", C.MaxNorm), ("NonNeg", C.NonNeg),
                      ("unit_norm", C.UnitNorm), ("min_max_norm", C.MinMaxNorm),
                      ("radial_constraint", C.RadialConstraint)):
        assert type(C.get(name)) is cls
    assert type(C.get(C.UnitNorm)) is C.UnitNorm
    custom = lambda w: w  # noqa: E731 - any callable is accepted, as in tf.keras 2
    assert C.get(custom) is custom and C.get(None) is None
    assert C.serialize(None) is None
    assert type(C.Constraint()(_t([1.0]))) is keras.Tensor
    with pytest.raises(ValueError, match="Unknown constraint: 'max_nrom'. Did you mean"):
        C.get("max_nrom")
    with pytest.raises(ValueError, match="Could not interpret constraint"):
        C.get(3)


def test_argument_errors():
    with pytest.raises(ValueError, match="`max_value`.*Received: max_value=-1"):
        C.MaxNorm(-1)
    with pytest.raises(ValueError, match="`axis`.*Received: axis='rows'"):
        C.UnitNorm(axis="rows")
    with pytest.raises(ValueError, match="`max_value`"):
        C.MinMaxNorm(min_value=2.0, max_value=1.0)
    with pytest.raises(ValueError, match="rank 4"):
        C.RadialConstraint()(_t(np.ones((3, 3))))
    with pytest.raises(ValueError, match="square"):
        C.RadialConstraint()(_t(np.ones((3, 2, 1, 1))))


@pytest.mark.parametrize("constraint", [C.MaxNorm(1.5), C.MaxNorm(0.5, axis=1),
                                        C.MinMaxNorm(0.5, 1.0, rate=0.7), C.UnitNorm(),
                                        C.NonNeg()], ids=repr)
def test_float64_gradients(constraint):
    # Constraints run after the update, without a tape; being made of ops,
    # they still differentiate (useful in custom loops), checked here.
    w = np.random.default_rng(1).normal(size=(4, 3))
    w[np.abs(w) < 0.1] += 0.3  # NonNeg's kink at 0
    check_gradients(lambda x: constraint(x), [w], kind="kinked")


def test_radial_constraint_by_hand():
    # tf.keras 2's construction: ring 0 copies kernel[s-1, s-1], ring r
    # copies kernel[s+r, s+r] (even sizes) or kernel[s+r-1, s+r-1] (odd).
    w = np.arange(25.0).reshape(5, 5, 1, 1)
    out = C.RadialConstraint()(_t(w)).numpy()[:, :, 0, 0]
    assert out[2, 2] == w[1, 1, 0, 0] and out[1, 2] == w[2, 2, 0, 0]
    assert out[0, 0] == w[3, 3, 0, 0] and out[4, 2] == w[3, 3, 0, 0]


LAYER_CASES = {
    "Dense": (lambda: L.Dense(2, kernel_constraint=C.MaxNorm(2, axis=0),
                              bias_constraint="non_neg"), (3, 4),
              {"kernel": "MaxNorm", "bias": "NonNeg"}),
    "Conv2D": (lambda: L.Conv2D(2, 3, kernel_constraint=C.UnitNorm(axis=[0, 1, 2])),
               (2, 5, 5, 1), {"kernel": "UnitNorm", "bias": None}),
    "Conv1D": (lambda: L.Conv1D(2, 2, kernel_constraint="max_norm", bias_constraint="non_neg"),
               (2, 5, 3), {"kernel": "MaxNorm", "bias": "NonNeg"}),
    "Embedding": (lambda: L.Embedding(5, 2, embeddings_constraint="unit_norm"), None,
                  {"embeddings": "UnitNorm"}),
    "LSTM": (lambda: L.LSTM(2, kernel_constraint="max_norm", recurrent_constraint="unit_norm",
                            bias_constraint="non_neg"), (2, 3, 4),
             {"kernel": "MaxNorm", "recurrent_kernel": "UnitNorm", "bias": "NonNeg"}),
    "GRU": (lambda: L.GRU(2, recurrent_constraint="non_neg"), (2, 3, 4),
            {"kernel": None, "recurrent_kernel": "NonNeg"}),
    "SimpleRNN": (lambda: L.SimpleRNN(2, kernel_constraint="non_neg"), (2, 3, 4),
                  {"kernel": "NonNeg"}),
    "BatchNormalization": (lambda: L.BatchNormalization(
        beta_constraint="non_neg", gamma_constraint=C.MinMaxNorm(0.5, 1.5)), (4, 3),
        {"beta": "NonNeg", "gamma": "MinMaxNorm", "moving_mean": None}),
    "LayerNormalization": (lambda: L.LayerNormalization(gamma_constraint="non_neg"), (4, 3),
                           {"gamma": "NonNeg", "beta": None}),
}


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
def test_layers_store_constraints_on_their_variables(name):
    make, shape, expected = LAYER_CASES[name]
    layer = make()
    x = _t(np.random.default_rng(0).integers(0, 5, (2, 3))) if shape is None else \
        _t(np.random.default_rng(0).normal(size=shape))
    layer(x)
    by_name = {v.name.split("/")[-1].split(":")[0]: v for v in layer.weights}
    for weight, cls in expected.items():
        got = getattr(by_name[weight], "constraint", None)
        assert (got is None) if cls is None else type(got).__name__ == cls, weight
    config = json.loads(json.dumps(layer.get_config()))
    if name in REFS["layers"]:  # tf.keras 2's config of the same layer
        ref = REFS["layers"][name]
        for key in ref:
            if key.endswith("_constraint"):
                assert config[key] == ref[key], key
        rebuilt = type(layer).from_config(ref)
        assert {k: v for k, v in rebuilt.get_config().items() if k.endswith("_constraint")} \
            == {k: v for k, v in ref.items() if k.endswith("_constraint")}
    again = type(layer).from_config(config)
    assert again.get_config() == layer.get_config()


def test_keras3_layer_configs_carry_the_same_constraint_dicts():
    for name, ref in REFS["keras3"]["layers"].items():
        if name not in LAYER_CASES:
            continue
        layer = LAYER_CASES[name][0]()
        config = layer.get_config()
        for key in ref:
            if key.endswith("_constraint"):
                assert config[key] == ref[key], (name, key)


def test_sgd_step_applies_the_constraints_as_tf_keras():
    t = REFS["training"]
    model = keras.Sequential([keras.Input((3,)), L.Dense(
        2, kernel_constraint=C.MaxNorm(0.5), bias_constraint="non_neg")])
    model.layers[0].set_weights([np.asarray(t["kernel0"], "float32"),
                                 np.asarray(t["bias0"], "float32")])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    model.train_on_batch(np.asarray(t["x"], "float32"), np.asarray(t["y"], "float32"))
    np.testing.assert_allclose(model.layers[0].kernel.numpy(), t["kernel1"], rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(model.layers[0].bias.numpy(), t["bias1"], atol=1e-7)


def test_custom_loop_apply_gradients_applies_constraints():
    layer = L.Dense(3, kernel_constraint=C.MaxNorm(0.1))
    x = _t(np.random.default_rng(0).normal(size=(4, 5)))
    layer(x)
    opt = keras.optimizers.Adam(0.5)
    with keras.GradientTape() as tape:
        loss = ops.sum(ops.square(layer(x)))
    grads = tape.gradient(loss, layer.trainable_weights)
    opt.apply_gradients(zip(grads, layer.trainable_weights))
    norms = np.sqrt((layer.kernel.numpy() ** 2).sum(axis=0))
    assert norms.max() <= 0.1 + 1e-6


def _constrained_mlp():
    return [L.Dense(16, activation="relu", input_shape=(6,), kernel_constraint=C.MaxNorm(0.3)),
            L.Dense(3, activation="softmax", kernel_constraint="unit_norm",
                    bias_constraint="non_neg")]


def _fit(monkeypatch, direct, flat_update):
    keras.utils.set_random_seed(3)
    model = keras.Sequential(_constrained_mlp())
    model.compile(keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    if not flat_update:
        monkeypatch.setattr(type(model.optimizer), "_elementwise_update", False)
    if not direct:
        monkeypatch.setattr(FastStep, "build", classmethod(lambda cls, m: None))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = rng.integers(0, 3, 64)
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    monkeypatch.undo()
    return model, history.history


def test_direct_step_and_flat_buffer_apply_constraints_bit_identically(monkeypatch):
    # The direct step (fast_step.py) updates through the optimizer's flat
    # pack, whose update ends with the constraints (written into the
    # variables' views of the flat buffer): the same bits as the tape and
    # the per-variable update.
    ref, ref_history = _fit(monkeypatch, direct=False, flat_update=False)
    model, history = _fit(monkeypatch, direct=True, flat_update=True)
    assert FastStep.build(model) is not None
    assert isinstance(model.optimizer._pack, flat.FlatPack)
    for a, b in zip(model.get_weights(), ref.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert history == ref_history
    kernel0, _, kernel1, bias1 = (w.numpy() for w in model.trainable_weights)
    assert np.sqrt((kernel0 ** 2).sum(0)).max() <= 0.3 + 1e-6
    np.testing.assert_allclose(np.sqrt((kernel1 ** 2).sum(0)), 1.0, rtol=1e-5)
    assert (bias1 >= 0).all()


@pytest.mark.parametrize("ext", [".h5", ".keras"])
def test_constraints_survive_saving_in_both_dialects(tmp_path, ext):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((4,)),
        L.Dense(5, kernel_constraint=C.MaxNorm(0.7, axis=0), bias_constraint="non_neg"),
        L.BatchNormalization(gamma_constraint=C.MinMaxNorm(0.5, 1.5)),
        L.Dense(1, kernel_regularizer=regularizers.OrthogonalRegularizer(0.1, "columns")),
    ])
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    path = str(tmp_path / f"m{ext}")
    model.save(path)
    loaded = keras.models.load_model(path)
    first = loaded.layers[0]
    assert type(first.kernel.constraint) is C.MaxNorm and first.kernel.constraint.max_value == 0.7
    assert type(first.bias.constraint) is C.NonNeg
    assert type(loaded.layers[1].gamma.constraint) is C.MinMaxNorm
    assert type(loaded.layers[2].kernel_regularizer) is regularizers.OrthogonalRegularizer
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


@pytest.mark.parametrize("case", ORTHO, ids=[f"{c['mode']}-{c['factor']}" for c in ORTHO])
def test_orthogonal_regularizer_matches_tf_keras(case):
    reg = regularizers.OrthogonalRegularizer(factor=case["factor"], mode=case["mode"])
    value = reg(_t(case["x"]))
    assert value.dtype == np.float32 and value.shape == ()
    np.testing.assert_allclose(float(value), case["value"], rtol=1e-6)
    assert reg.get_config() == {"factor": case["factor"], "mode": case["mode"]}
    # tf.keras 2 writes the float32-rounded factor; it loads back.
    loaded = regularizers.deserialize(case["serialized"])
    np.testing.assert_allclose(float(loaded(_t(case["x"]))), case["value"], rtol=1e-6)
    assert regularizers.serialize(reg)["module"] == "keras.regularizers"


def test_orthogonal_regularizer_names_gradients_and_errors():
    assert regularizers.orthogonal_regularizer is regularizers.OrthogonalRegularizer
    assert type(regularizers.get("orthogonal_regularizer")) is regularizers.OrthogonalRegularizer
    keras3 = REFS["keras3"]["layers"]["OrthogonalRegularizer"]
    assert regularizers.serialize(regularizers.deserialize(keras3)) == keras3
    w = np.random.default_rng(4).normal(size=(4, 3))
    for mode in ("rows", "columns"):
        reg = regularizers.OrthogonalRegularizer(0.3, mode)
        check_gradients(lambda x: reg(x), [w], kind="kinked")
    with pytest.raises(ValueError, match="rank 2"):
        regularizers.OrthogonalRegularizer()(_t(np.ones(3)))
    with pytest.raises(ValueError, match="mode"):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="factor"):
        regularizers.OrthogonalRegularizer(factor=-0.1)
    layer = L.Dense(3, kernel_regularizer=regularizers.OrthogonalRegularizer(0.5))
    layer(_t(np.ones((2, 4))))
    assert len(layer.losses) == 1 and float(layer.losses[0]) >= 0.0
