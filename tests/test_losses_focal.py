"""Focal cross-entropies against tf.keras 2.21, and their float64 gradients.

`tests/data/tfkeras2_focal_refs.json` (made by `tests/data/make_metric_refs.py`
with real tf.keras 2.21) holds each function's per-sample values and each
class's value under every reduction, with and without sample weights, for
fixed inputs and argument sets (`alpha`, `gamma`, `apply_class_balancing`,
`from_logits`, `label_smoothing`, `axis`, a per-class `alpha` list).
"""

import json
import warnings

import numpy as np
import pytest
from fixture_paths import DATA
from gradcheck import check_gradients

import kerasette as keras
from kerasette import losses, ops

REFS = json.loads((DATA / "tfkeras2_focal_refs.json").read_text())
INPUTS = {k: np.asarray(v, "float32") for k, v in REFS["inputs"].items()}
CASES = REFS["cases"]
IDS = [f"{c['class']}-{json.dumps(c['kwargs'], sort_keys=True)}-{c['p']}" for c in CASES]


def _t(x, dtype="float32"):
    return ops.convert_to_tensor(np.asarray(x, dtype=dtype))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_function_and_class_match_tf_keras(case):
    y, p = INPUTS[case["y"]], INPUTS[case["p"]]
    fn = getattr(losses, case["function"])
    got = fn(_t(y), _t(p), **case["kwargs"])
    assert got.dtype == np.float32 and keras.backend.get_backend().is_array(got.data)
    np.testing.assert_allclose(got.numpy(), case["function_value"], rtol=2e-6, atol=1e-6)
    cls = getattr(losses, case["class"])
    for key, expected in case["class_values"].items():
        reduction = key.replace("_weighted", "")
        weight = _t(INPUTS["w"]) if key.endswith("_weighted") else None
        value = cls(reduction=reduction, **case["kwargs"])(_t(y), _t(p), sample_weight=weight)
        np.testing.assert_allclose(value.numpy(), expected, rtol=2e-6, atol=1e-6,
                                   err_msg=key)
    config = cls(**case["kwargs"]).get_config()
    expected = dict(case["config"])
    expected.pop("fn")  # kerasette writes `fn` only for a bare LossFunctionWrapper
    assert config == expected
    assert cls.from_config(case["config"]).get_config() == config  # tf's config loads


def test_serialized_tf_keras_configs_load():
    for kind, entry in REFS["serialized"].items():
        loss = losses.deserialize(entry)
        assert type(loss).__name__ == entry["class_name"]
        mine = losses.serialize(loss)
        assert mine["class_name"] == entry["class_name"] and mine["module"] == "keras.losses"
        expected = dict(entry["config"])
        expected.pop("fn")
        assert mine["config"] == expected
        assert losses.deserialize(json.loads(json.dumps(mine))).get_config() == \
            loss.get_config()


def test_names_and_get():
    assert losses.get("binary_focal_crossentropy") is losses.binary_focal_crossentropy
    assert losses.get("categorical_focal_crossentropy") is losses.categorical_focal_crossentropy
    assert type(losses.get("BinaryFocalCrossentropy")) is losses.BinaryFocalCrossentropy
    assert losses.serialize(losses.categorical_focal_crossentropy) == \
        "categorical_focal_crossentropy"


GRAD_CASES = [
    ("binary", {}, False),
    ("binary", {"apply_class_balancing": True, "alpha": 0.6, "gamma": 1.5,
                "label_smoothing": 0.1}, False),
    ("binary", {"from_logits": True, "gamma": 3.0}, True),
    ("binary", {"axis": 0, "gamma": 1.0}, False),
    ("categorical", {}, False),
    ("categorical", {"alpha": [0.2, 0.5, 0.3], "gamma": 1.0, "label_smoothing": 0.2}, False),
    ("categorical", {"from_logits": True, "gamma": 2.5, "alpha": 0.7}, True),
    ("categorical", {"axis": 0}, False),
]


@pytest.mark.parametrize("kind,kwargs,logits", GRAD_CASES,
                         ids=[f"{k}-{json.dumps(kw, sort_keys=True)}" for k, kw, _ in GRAD_CASES])
def test_float64_gradients_wrt_predictions(kind, kwargs, logits):
    rng = np.random.default_rng(5)
    if kind == "binary":
        y = (rng.random((3, 4)) > 0.5).astype("float64")
        fn = losses.binary_focal_crossentropy
    else:
        y = np.eye(3)[rng.integers(0, 3, 4)]
        fn = losses.categorical_focal_crossentropy
    if logits:
        p = rng.normal(size=y.shape) * 2
    else:
        p = rng.uniform(0.05, 0.95, y.shape)
        if kind == "categorical":
            p = p / p.sum(-1, keepdims=True)
    y_t = ops.convert_to_tensor(y)

    def per_sample(pred):
        return fn(y_t, pred, **kwargs)

    check_gradients(per_sample, [p])
    cls = losses.BinaryFocalCrossentropy if kind == "binary" else \
        losses.CategoricalFocalCrossentropy
    if kwargs.get("axis", -1) == -1:
        weights = ops.convert_to_tensor(rng.random(y.shape[0]))
        check_gradients(lambda pred: cls(**kwargs)(y_t, pred, sample_weight=weights), [p])


@pytest.mark.parametrize("kind", ["binary", "categorical"])
def test_activation_outputs_are_scored_and_differentiated(kind):
    # A sigmoid/softmax output: the cross-entropy part takes the logits
    # path (as tf.keras 2's `_get_logits`), the gradient reaches the logits.
    rng = np.random.default_rng(2)
    z = rng.normal(size=(4, 3))
    y = (rng.random((4, 3)) > 0.5).astype("float64") if kind == "binary" else \
        np.eye(3)[rng.integers(0, 3, 4)]
    act = ops.sigmoid if kind == "binary" else ops.softmax
    fn = losses.binary_focal_crossentropy if kind == "binary" else \
        losses.categorical_focal_crossentropy
    y_t = ops.convert_to_tensor(y)
    check_gradients(lambda logits: fn(y_t, act(logits)), [z])
    # The same value as scoring the probabilities as plain numbers.
    probs = act(ops.convert_to_tensor(z))
    plain = ops.convert_to_tensor(probs.numpy())
    np.testing.assert_allclose(fn(y_t, probs).numpy(), fn(y_t, plain).numpy(), rtol=1e-6,
                               atol=1e-9)


def test_float64_in_float64_out_and_float32_stays_float32():
    y = np.array([[0.0, 1.0], [1.0, 0.0]])
    p = np.array([[0.2, 0.7], [0.6, 0.3]])
    for dtype in ("float32", "float64"):
        for fn in (losses.binary_focal_crossentropy, losses.categorical_focal_crossentropy):
            assert fn(_t(y, dtype), _t(p, dtype)).dtype == np.dtype(dtype)


def test_trains_in_fit_with_the_string_name():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, :1] + x[:, 1:2] > 0).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.SGD(0.5), loss="binary_focal_crossentropy")
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    yc = keras.utils.to_categorical((x[:, 0] > 0).astype(int), 2)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.5),
                  loss=losses.CategoricalFocalCrossentropy(alpha=[0.3, 0.7]))
    history = model.fit(x, yc, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_argument_errors_name_the_argument():
    with pytest.raises(ValueError, match="`gamma`.*Received: gamma=-1"):
        losses.BinaryFocalCrossentropy(gamma=-1)
    with pytest.raises(ValueError, match="`alpha`.*Received: alpha='a'"):
        losses.CategoricalFocalCrossentropy(alpha="a")
    with pytest.raises(ValueError, match="`alpha` to be a number"):
        losses.BinaryFocalCrossentropy(alpha=[0.1, 0.9])
    with pytest.raises(ValueError, match="apply_class_balancing"):
        losses.BinaryFocalCrossentropy(apply_class_balancing="yes")
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.binary_focal_crossentropy(_t([[1.0]]), _t([[0.5]]), label_smoothing=2)
    with pytest.raises(ValueError, match="3 entries"):
        losses.categorical_focal_crossentropy(_t(np.eye(2)), _t(np.eye(2)), alpha=[1, 2, 3])
    with pytest.raises(ValueError, match="same shape"):
        losses.categorical_focal_crossentropy(_t(np.eye(2)), _t(np.ones((2, 3))))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(SyntaxWarning, match="num_classes > 1"):
            losses.categorical_focal_crossentropy(_t([[1.0]]), _t([[0.7]]))
