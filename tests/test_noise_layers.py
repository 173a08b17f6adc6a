"""GaussianNoise, GaussianDropout, AlphaDropout, SpatialDropout1D/2D/3D and
ActivityRegularization: the harness, statistics of the draws, determinism
under a seed, identity at inference, and tf.keras 2.21's configs and
inference outputs (`data/tf2_layers/make_tf2_layer_refs.py`)."""

import json

import numpy as np
import pytest
from fixture_paths import DATA
from layer_harness import run_layer_test
from test_activation_layers import assert_config_like_tf_keras

import kerasette as keras
from kerasette import layers

REFS = json.loads((DATA / "tf2_layers" / "tf2_layer_refs.json").read_text())
NOISE = ("GaussianNoise", "GaussianDropout", "AlphaDropout", "SpatialDropout1D",
         "SpatialDropout2D", "SpatialDropout3D", "ActivityRegularization")
CASES = [c for c in REFS["layers"] if c["class_name"] in NOISE]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['class_name']}-{c['kwargs']}")
def test_configs_and_inference_match_tf_keras(case):
    layer = getattr(layers, case["class_name"])(**case["kwargs"])
    x = np.array(case["x"], dtype="float32")
    out = layer(x)  # inference: the identity
    np.testing.assert_array_equal(out.numpy(), np.array(case["y"], dtype="float32"))
    ours = layer.get_config()
    if case["kwargs"].get("data_format") == "channels_first" or "noise_shape" in case["kwargs"]:
        # tf.keras 2 drops these from its configs (losing them on a round
        # trip); kerasette writes them when they are not the default.
        extra = "data_format" if "data_format" in case["kwargs"] else "noise_shape"
        assert ours.pop(extra) == case["kwargs"][extra]
    assert_config_like_tf_keras(ours, case["config"])
    assert type(layer).from_config(case["config"]).get_config().keys() == ours.keys()
    if case["class_name"] == "ActivityRegularization":
        assert [float(v) for v in layer.losses] == pytest.approx(case["losses"], rel=1e-6)


@pytest.mark.parametrize("cls, kwargs, shape", [
    (layers.GaussianNoise, {"stddev": 0.5}, (2, 3, 4)),
    (layers.GaussianDropout, {"rate": 0.3}, (2, 3, 4)),
    (layers.AlphaDropout, {"rate": 0.3}, (2, 3, 4)),
    (layers.AlphaDropout, {"rate": 0.3, "noise_shape": (None, 1, 4)}, (2, 3, 4)),
    (layers.SpatialDropout1D, {"rate": 0.5}, (3, 2, 4)),
    (layers.SpatialDropout2D, {"rate": 0.5}, (3, 2, 2, 4)),
    (layers.SpatialDropout2D, {"rate": 0.5, "data_format": "channels_first"}, (3, 4, 2, 2)),
    (layers.SpatialDropout3D, {"rate": 0.5}, (3, 2, 2, 1, 4)),
])
def test_harness_random_layers(cls, kwargs, shape):
    run_layer_test(cls, kwargs, shape, shape, random_in_training=True)


def test_harness_activity_regularization():
    run_layer_test(layers.ActivityRegularization, {"l1": 0.01, "l2": 0.02}, (2, 3), (2, 3))


def _draw(layer, shape=(400, 250), value=1.0, seed=5):
    keras.utils.set_random_seed(seed)
    x = np.full(shape, value, dtype="float32")
    return layer(keras.ops.convert_to_tensor(x), training=True).numpy()


def test_gaussian_noise_statistics_and_seed():
    out = _draw(layers.GaussianNoise(0.5), value=2.0)
    assert out.dtype == np.float32
    assert abs(out.mean() - 2.0) < 0.01 and abs(out.std() - 0.5) < 0.01
    np.testing.assert_array_equal(out, _draw(layers.GaussianNoise(0.5), value=2.0))
    assert not np.array_equal(out, _draw(layers.GaussianNoise(0.5), value=2.0, seed=6))


def test_gaussian_dropout_statistics():
    out = _draw(layers.GaussianDropout(0.2))
    assert abs(out.mean() - 1.0) < 0.01 and abs(out.std() - np.sqrt(0.2 / 0.8)) < 0.01


def test_alpha_dropout_keeps_selu_moments():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).standard_normal((400, 250)).astype("float32")
    out = layers.AlphaDropout(0.2)(keras.ops.convert_to_tensor(x), training=True).numpy()
    assert abs(out.mean()) < 0.02 and abs(out.var() - 1.0) < 0.03
    # Dropped entries all take one value: a * (-alpha * scale) + b.
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.2) * (1 + 0.2 * alpha_p ** 2)) ** -0.5
    dropped = np.isclose(out, a * alpha_p - a * alpha_p * 0.2)
    assert abs(dropped.mean() - 0.2) < 0.01
    kept = ~dropped
    np.testing.assert_allclose(out[kept], a * x[kept] - a * alpha_p * 0.2, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls, shape, channel_axis", [
    (layers.SpatialDropout1D, (50, 7, 40), -1),
    (layers.SpatialDropout2D, (50, 3, 4, 40), -1),
    (layers.SpatialDropout3D, (50, 2, 3, 2, 40), -1),
])
def test_spatial_dropout_drops_whole_channels(cls, shape, channel_axis):
    out = _draw(cls(0.4), shape=shape)
    per_channel = np.moveaxis(out, channel_axis, 1).reshape(shape[0], shape[-1], -1)
    for row in per_channel.reshape(-1, per_channel.shape[-1]):
        assert len(set(row.tolist())) == 1  # a channel is all kept or all dropped
    values = per_channel[..., 0]
    np.testing.assert_allclose(np.unique(values), [0.0, 1 / 0.6], rtol=1e-6)
    assert abs((values == 0).mean() - 0.4) < 0.05


def test_spatial_dropout2d_channels_first_and_rank_check():
    out = _draw(layers.SpatialDropout2D(0.5, data_format="channels_first"), shape=(20, 30, 3, 3))
    assert np.all(out.reshape(20, 30, 9).std(axis=-1) == 0)
    with pytest.raises(ValueError, match="rank 4"):
        layers.SpatialDropout2D(0.5)(np.ones((2, 3, 4), dtype="float32"), training=True)


@pytest.mark.parametrize("layer", [
    layers.GaussianNoise(1.0), layers.GaussianDropout(0.5), layers.AlphaDropout(0.5),
    layers.SpatialDropout1D(0.5)])
def test_identity_at_inference(layer, to_device):
    x = np.random.default_rng(2).standard_normal((4, 3, 5)).astype("float32")
    for training in (None, False):
        np.testing.assert_array_equal(layer(to_device(x), training=training).numpy(), x)


def test_random_layers_draw_from_the_seeded_backend_generator(backend):
    first = _draw(layers.GaussianNoise(1.0), shape=(3, 4))
    keras.backend.set_backend("numpy" if backend.name == "strict" else "strict")
    try:  # the same seed gives the same noise on the other CPU backend
        np.testing.assert_array_equal(_draw(layers.GaussianNoise(1.0), shape=(3, 4)), first)
    finally:
        keras.backend.set_backend(backend.name)


def test_noise_in_fit_is_repeatable_and_off_in_predict():
    def run():
        keras.utils.set_random_seed(11)
        model = keras.Sequential([
            keras.Input(shape=(6,)), layers.GaussianNoise(0.3), layers.Dense(8),
            layers.GaussianDropout(0.2), layers.AlphaDropout(0.1), layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        x = np.random.default_rng(0).standard_normal((64, 6)).astype("float32")
        history = model.fit(x, x[:, :1], epochs=2, batch_size=16, verbose=0)
        p1, p2 = model.predict(x, verbose=0), model.predict(x, verbose=0)
        np.testing.assert_array_equal(p1, p2)  # no noise at inference
        return history.history["loss"], model.get_weights()

    (loss_a, w_a), (loss_b, w_b) = run(), run()
    assert loss_a == loss_b
    for a, b in zip(w_a, w_b):
        np.testing.assert_array_equal(a, b)


def test_activity_regularization_joins_the_loss():
    x = np.random.default_rng(0).standard_normal((8, 3)).astype("float32")
    model = keras.Sequential([keras.Input(shape=(3,)),
                              layers.ActivityRegularization(l1=0.1, l2=0.2)])
    model.compile(loss="mse")
    y = np.zeros((8, 3), dtype="float32")
    penalty = (0.1 * np.abs(x).sum() + 0.2 * (x ** 2).sum()) / 8
    assert model.evaluate(x, y, batch_size=8, verbose=0) == pytest.approx(
        (x ** 2).mean() + penalty, rel=1e-5)


@pytest.mark.parametrize("make, match", [
    (lambda: layers.GaussianNoise(-1.0), "stddev"),
    (lambda: layers.GaussianDropout(1.0), "rate"),
    (lambda: layers.AlphaDropout("0.1"), "rate"),
    (lambda: layers.SpatialDropout1D(-0.1), "rate"),
    (lambda: layers.SpatialDropout2D(0.1, data_format="nhwc"), "data_format"),
    (lambda: layers.ActivityRegularization(l1=-1.0), "l1"),
])
def test_bad_arguments_are_refused_in_init(make, match):
    with pytest.raises(ValueError, match=match):
        make()
