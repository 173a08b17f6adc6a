"""Activation layers (ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax),
Permute and Flatten(data_format): the harness, NumPy formulas, and tf.keras
2.21's outputs and configs (`data/tf2_layers/make_tf2_layer_refs.py`)."""

import json

import numpy as np
import pytest
from fixture_paths import DATA
from layer_harness import run_layer_test

import kerasette as keras
from kerasette import layers

REFS_DIR = DATA / "tf2_layers"
REFS = json.loads((REFS_DIR / "tf2_layer_refs.json").read_text())
CASES = [c for c in REFS["layers"] if c["class_name"] in (
    "ReLU", "LeakyReLU", "PReLU", "ELU", "ThresholdedReLU", "Softmax", "Permute", "Flatten")]


def _kwargs(case):
    kwargs = dict(case["kwargs"])
    if "alpha_initializer" in kwargs:
        kwargs["alpha_initializer"] = keras.initializers.deserialize(kwargs["alpha_initializer"])
    return kwargs


def assert_config_like_tf_keras(ours, theirs):
    """Same keys; same values (floats to float32 precision: tf.keras writes
    float32 hyper-parameters as doubles, 0.3 as 0.30000001192092896)."""
    ours, theirs = dict(ours), dict(theirs)
    ours.pop("name"), theirs.pop("name")
    assert sorted(ours) == sorted(theirs)
    for key, want in theirs.items():
        got = ours[key]
        if isinstance(want, float):
            assert got == pytest.approx(want, rel=1e-7), key
        elif isinstance(want, dict):  # initializers: class and config
            assert got["class_name"] == want["class_name"] and got["config"] == want["config"]
        else:
            assert got == want, key


# -- tf.keras references ------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['class_name']}-{c['kwargs']}")
def test_outputs_and_configs_match_tf_keras(case):
    layer = getattr(layers, case["class_name"])(**_kwargs(case))
    x = np.array(case["x"], dtype="float32")
    kwargs = {} if case["mask"] is None else {"mask": np.array(case["mask"])}
    out = layer(x, **kwargs)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), np.array(case["y"]), rtol=1e-6, atol=1e-6)
    assert_config_like_tf_keras(layer.get_config(), case["config"])
    # tf.keras's config (floats as it writes them) builds an equal layer.
    clone = type(layer).from_config(case["config"])
    clone.build(x.shape)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(x, **kwargs).numpy(), out.numpy(), rtol=1e-6, atol=1e-6)


def test_tf_keras_h5_model_with_every_new_layer_loads_and_predicts(tmp_path):
    model = keras.models.load_model(REFS_DIR / "tfkeras2_act_noise.h5", compile=False)
    x = np.array(REFS["crossload"]["x_probe"], dtype="float32")
    want = np.array(REFS["crossload"]["y_probe"])
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)
    assert [type(layer).__name__ for layer in model.layers][:3] == [
        "Permute", "GaussianNoise", "Flatten"]
    model.save(tmp_path / "again.h5")
    again = keras.models.load_model(tmp_path / "again.h5", compile=False)
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


# -- harness and formulas -------------------------------------------------------------------
@pytest.mark.parametrize("cls, kwargs, trainable", [
    (layers.ReLU, {}, 0),
    (layers.ReLU, {"max_value": 1.0, "negative_slope": 0.1, "threshold": 0.3}, 0),
    (layers.LeakyReLU, {}, 0),
    (layers.PReLU, {"alpha_initializer": "glorot_uniform"}, 1),
    (layers.PReLU, {"alpha_initializer": "glorot_uniform", "shared_axes": [1]}, 1),
    (layers.ELU, {"alpha": 0.5}, 0),
    (layers.ThresholdedReLU, {"theta": 0.4}, 0),
    (layers.Softmax, {}, 0),
    (layers.Softmax, {"axis": [1, 2]}, 0),
    (layers.Permute, {"dims": (2, 1)}, 0),
])
def test_harness(cls, kwargs, trainable):
    out_shape = (2, 4, 3) if cls is layers.Permute else (2, 3, 4)
    run_layer_test(cls, kwargs, (2, 3, 4), out_shape, expected_num_trainable_weights=trainable,
                   gradient_kind="kinked")


def test_flatten_channels_first_harness_and_order():
    run_layer_test(layers.Flatten, {"data_format": "channels_first"}, (2, 3, 2, 2), (2, 12))
    x = np.arange(24, dtype="float32").reshape(2, 3, 2, 2)
    out = layers.Flatten(data_format="channels_first")(x).numpy()
    np.testing.assert_array_equal(out, np.moveaxis(x, 1, -1).reshape(2, -1))
    np.testing.assert_array_equal(layers.Flatten()(x).numpy(), x.reshape(2, -1))


def test_numpy_formulas(to_device):
    x = np.random.default_rng(1).standard_normal((4, 5)).astype("float32") * 3
    xt = to_device(x)
    np.testing.assert_allclose(layers.ReLU(6.0, 0.2, 1.0)(xt).numpy(),
                               np.where(x >= 6, 6, np.where(x > 1, x, 0.2 * (x - 1))),
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(layers.LeakyReLU()(xt).numpy(), np.where(x >= 0, x, 0.3 * x),
                               rtol=1e-6)
    np.testing.assert_allclose(layers.ELU(0.7)(xt).numpy(),
                               np.where(x > 0, x, 0.7 * np.expm1(np.minimum(x, 0))), rtol=1e-6)
    np.testing.assert_array_equal(layers.ThresholdedReLU(0.5)(xt).numpy(), np.where(x > 0.5, x, 0))
    e = np.exp(x - x.max(axis=0))
    np.testing.assert_allclose(layers.Softmax(axis=0)(xt).numpy(), e / e.sum(axis=0), rtol=1e-6)
    prelu = layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25))
    np.testing.assert_allclose(prelu(xt).numpy(), np.where(x >= 0, x, 0.25 * x), rtol=1e-6)
    assert prelu.get_weights()[0].shape == (5,)


def test_prelu_shared_axes_shape_and_unknown_axes():
    layer = layers.PReLU(shared_axes=[1, 2])
    layer.build((None, 5, 6, 3))
    assert layer.get_weights()[0].shape == (1, 1, 3)
    with pytest.raises(ValueError, match="shared_axes"):
        layers.PReLU().build((None, None, 3))
    with pytest.raises(ValueError, match="shared_axes"):
        layers.PReLU(shared_axes=[0])


def test_softmax_mask_adds_minus_1e9_as_tf_keras(to_device):
    x = np.array([[1.0, 2.0, 1.0]], dtype="float32")
    mask = np.array([[True, False, True]])
    out = layers.Softmax()(to_device(x), mask=mask).numpy()
    np.testing.assert_allclose(out, [[0.5, 0.0, 0.5]], atol=1e-7)
    robust = layers.Softmax(robust_masking=True)
    np.testing.assert_allclose(robust(to_device(x), mask=mask).numpy(), out, atol=1e-7)
    assert robust.get_config()["robust_masking"] is True
    assert "robust_masking" not in layers.Softmax().get_config()


def test_masks_pass_through(to_device):
    x = to_device(np.array([[[1.0], [0.0], [2.0]]], dtype="float32"))
    masked = layers.Masking()(x)
    for layer in (layers.ReLU(), layers.LeakyReLU(), layers.ELU(), layers.ThresholdedReLU(),
                  layers.Softmax(), layers.PReLU()):
        out = layer(masked)
        assert out._keras_mask.tolist() == [[True, False, True]], type(layer).__name__


def test_leaky_relu_reads_keras3_negative_slope():
    layer = layers.deserialize({"class_name": "LeakyReLU",
                                "config": {"negative_slope": 0.2, "name": "lr"}})
    assert layer.alpha == 0.2 and layer.get_config()["alpha"] == 0.2
    assert layers.LeakyReLU().alpha == 0.3
    with pytest.raises(ValueError, match="not both"):
        layers.LeakyReLU(alpha=0.1, negative_slope=0.2)


@pytest.mark.parametrize("make, match", [
    (lambda: layers.ReLU(max_value=-1), "max_value"),
    (lambda: layers.ReLU(negative_slope=-0.1), "negative_slope"),
    (lambda: layers.ReLU(threshold="1"), "threshold"),
    (lambda: layers.LeakyReLU(alpha=None, negative_slope="x"), "alpha"),
    (lambda: layers.ELU(alpha=None), "alpha"),
    (lambda: layers.ThresholdedReLU(theta=-1), "theta"),
    (lambda: layers.Softmax(axis="last"), "axis"),
    (lambda: layers.Permute((1, 3)), "dims"),
    (lambda: layers.Flatten(data_format="nchw"), "data_format"),
])
def test_bad_arguments_are_refused_in_init(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_permute_checks_rank_and_shapes():
    layer = layers.Permute((3, 1, 2))
    assert layer.compute_output_shape((None, 2, 3, 4)) == (None, 4, 2, 3)
    with pytest.raises(ValueError, match="rank 4"):
        layer(np.ones((2, 3, 4), dtype="float32"))


def test_in_a_trained_model_with_symbolic_shapes():
    inputs = keras.Input(shape=(4, 3))
    h = layers.Permute((2, 1))(inputs)
    h = layers.Flatten()(h)
    h = layers.Dense(5)(h)
    h = layers.PReLU()(h)
    outputs = layers.Softmax()(layers.Dense(3)(layers.LeakyReLU()(h)))
    model = keras.Model(inputs, outputs)
    assert model.output_shape == (None, 3)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4, 3)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 32)]
    losses = model.fit(x, y, epochs=5, batch_size=8, verbose=0).history["loss"]
    assert losses[-1] < losses[0]


def test_prelu_constraint_is_applied_and_kept_in_the_config():
    layer = layers.PReLU(alpha_initializer=keras.initializers.Constant(0.5),
                         alpha_constraint="non_neg")
    assert layer.get_config()["alpha_constraint"]["class_name"] == "NonNeg"
    model = keras.Sequential([keras.Input(shape=(3,)), layer])
    model.compile(optimizer=keras.optimizers.SGD(10.0), loss="mse")
    x = -np.ones((4, 3), dtype="float32")
    model.fit(x, np.ones((4, 3), dtype="float32"), epochs=1, batch_size=4, verbose=0)
    assert (layer.get_weights()[0] >= 0).all()  # the step pushed alpha far below 0
    assert type(layer).from_config(layer.get_config()).alpha_constraint is not None


def test_fit_with_flatten_channels_first_transposes_as_the_layer_does():
    # A Dense stack's direct training step must not take Flatten(channels_first)
    # for a plain reshape: the same training as Permute to channels last.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 3, 2, 2)).astype("float32")
    y = np.eye(4, dtype="float32")[rng.integers(0, 4, 16)]

    def train(first):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input(shape=(3, 2, 2))] + first + [
            layers.Dense(4, activation="softmax")])
        model.compile(optimizer="sgd", loss="categorical_crossentropy")
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        return model.get_weights()

    got = train([layers.Flatten(data_format="channels_first")])
    want = train([layers.Permute((2, 3, 1)), layers.Flatten()])
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_keras3_file_with_the_new_layers_loads_and_predicts(tmp_path):
    ref = np.load(REFS_DIR / "keras3_act_noise_ref.npz")
    model = keras.models.load_model(REFS_DIR / "keras3_act_noise.keras", compile=False)
    np.testing.assert_allclose(model.predict(ref["x"], verbose=0), ref["y"], rtol=1e-5,
                               atol=1e-6)
    by_type = {type(layer).__name__: layer for layer in model.layers}
    assert by_type["LeakyReLU"].alpha == pytest.approx(0.2)  # Keras 3's negative_slope
    assert by_type["SpatialDropout2D"].data_format == "channels_first"
    assert by_type["AlphaDropout"].noise_shape == (None, 8)
    model.save(tmp_path / "again.keras")  # Keras 3's spellings written back
    again = keras.models.load_model(tmp_path / "again.keras", compile=False)
    np.testing.assert_array_equal(again.predict(ref["x"], verbose=0),
                                  model.predict(ref["x"], verbose=0))
