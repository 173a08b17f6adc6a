"""Built-in layers through the harness, plus their Keras-specific semantics."""

import json

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers, ops
from layer_harness import run_layer_test


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh", "softmax", "elu", "gelu"])
def test_dense_harness(activation):
    run_layer_test(layers.Dense, {"units": 3, "activation": activation}, (4, 5), (4, 3),
                   expected_num_trainable_weights=2,
                   gradient_kind="approximate" if activation == "gelu" else "kinked")


def test_dense_without_bias_and_3d_input():
    run_layer_test(layers.Dense, {"units": 2, "use_bias": False}, (2, 3, 4), (2, 3, 2),
                   expected_num_trainable_weights=1)


def test_dense_matches_numpy_formula():
    layer = layers.Dense(3, activation="tanh")
    x = np.random.default_rng(0).standard_normal((5, 4)).astype("float32")
    out = layer(x).numpy()
    w, b = layer.get_weights()
    np.testing.assert_allclose(out, np.tanh(x @ w + b), rtol=1e-5, atol=1e-6)
    assert w.dtype == np.float32 and out.dtype == np.float32


def test_dense_default_initializers_are_glorot_uniform_and_zeros():
    layer = layers.Dense(300)
    layer.build((None, 200))
    w, b = layer.get_weights()
    limit = np.sqrt(6.0 / (200 + 300))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit
    assert not b.any()


def test_dense_rejects_bad_units_in_init():
    for bad in (0, -3, 2.5, "8"):
        with pytest.raises(ValueError, match="units"):
            layers.Dense(bad)


def test_dense_rejects_wrong_input_width():
    layer = layers.Dense(2)
    layer(ops.ones((1, 3)))
    with pytest.raises(ValueError, match="expected the last axis"):
        layer(ops.ones((1, 4)))


def test_dense_kernel_regularizer_adds_to_losses():
    layer = layers.Dense(2, kernel_regularizer=keras.regularizers.l2(0.01))
    layer(ops.ones((1, 3)))
    (penalty,) = layer.losses
    w = layer.get_weights()[0]
    np.testing.assert_allclose(float(penalty), 0.01 * np.sum(w.astype("float64") ** 2), rtol=1e-5)


def test_activation_layer_harness():
    run_layer_test(layers.Activation, {"activation": "tanh"}, (3, 4), (3, 4))


def test_flatten_and_reshape_harness():
    run_layer_test(layers.Flatten, {}, (2, 3, 4), (2, 12))
    run_layer_test(layers.Reshape, {"target_shape": (2, -1)}, (3, 8), (3, 2, 4))


def test_flatten_is_row_major_like_keras():
    x = np.arange(24, dtype="float32").reshape(2, 3, 4)
    np.testing.assert_array_equal(layers.Flatten()(x).numpy(), x.reshape(2, -1))


def test_dropout_harness():
    run_layer_test(layers.Dropout, {"rate": 0.5}, (6, 5), (6, 5), random_in_training=True)


def test_dropout_only_in_training():
    layer = layers.Dropout(0.4)
    x = ops.ones((200, 50))
    np.testing.assert_array_equal(layer(x).numpy(), np.ones((200, 50), "float32"))
    y = layer(x, training=True).numpy()
    kept = y != 0
    assert abs(1 - kept.mean() - 0.4) < 0.02
    np.testing.assert_allclose(y[kept], 1 / 0.6, rtol=1e-6)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "half"])
def test_dropout_rejects_bad_rate(rate):
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(rate)


def test_batchnorm_harness():
    run_layer_test(layers.BatchNormalization, {}, (8, 3), (8, 3),
                   expected_num_trainable_weights=2, expected_num_non_trainable_weights=2,
                   stateful_in_training=True)


def test_batchnorm_training_semantics_match_keras():
    bn = layers.BatchNormalization()
    x = np.random.default_rng(1).standard_normal((16, 3)).astype("float32") * 3 + 2
    y = bn(x, training=True).numpy()
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    gamma, beta, moving_mean, moving_var = bn.get_weights()
    np.testing.assert_allclose(moving_mean, 0.01 * mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(moving_var, 0.99 + 0.01 * var, rtol=1e-5)
    # Inference uses the moving statistics and changes nothing.
    inf = bn(x).numpy()
    np.testing.assert_allclose(inf, (x - moving_mean) / np.sqrt(moving_var + 1e-3), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(bn.get_weights()[2], moving_mean)


def test_batchnorm_frozen_means_inference_mode():
    bn = layers.BatchNormalization()
    x = np.random.default_rng(2).standard_normal((8, 2)).astype("float32")
    bn(x)
    bn.trainable = False
    before = bn.get_weights()
    np.testing.assert_array_equal(bn(x, training=True).numpy(), bn(x).numpy())
    for a, b in zip(before, bn.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert bn.trainable_weights == [] and len(bn.non_trainable_weights) == 4


def test_batchnorm_weight_order_and_names():
    bn = layers.BatchNormalization(name="bn")
    bn(ops.ones((2, 4)))
    assert [w.name for w in bn.weights] == [
        "bn/gamma:0", "bn/beta:0", "bn/moving_mean:0", "bn/moving_variance:0"]


@pytest.mark.parametrize("kwargs", [{"momentum": 2}, {"momentum": -0.1}, {"epsilon": 0}])
def test_batchnorm_rejects_bad_arguments(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        layers.BatchNormalization(**kwargs)


def test_automatic_names_are_unique_and_resettable():
    names = [layers.Dense(1).name for _ in range(3)]
    assert names == ["dense", "dense_1", "dense_2"]
    assert layers.BatchNormalization().name == "batch_normalization"
    keras.backend.clear_session()
    assert layers.Dense(1).name == "dense"


def test_unknown_keyword_is_rejected():
    with pytest.raises(TypeError, match="not understood"):
        layers.Dense(2, unit=3)


def test_custom_layer_subclass_trains():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(name="w", shape=(input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return inputs * self.w

    layer = Scale()
    x = ops.convert_to_tensor(np.array([[1.0, 2.0]], "float32"))
    with keras.GradientTape() as tape:
        y = ops.sum(layer(x))
    (g,) = tape.gradient(y, layer.trainable_weights)
    np.testing.assert_array_equal(g.numpy(), [1.0, 2.0])
    assert layer.count_params() == 2
    assert json.loads(json.dumps(layer.get_config()))["name"] == layer.name


def test_set_weights_checks_count_and_shape_without_damage():
    layer = layers.Dense(2)
    layer(ops.ones((1, 3)))
    before = layer.get_weights()
    with pytest.raises(ValueError, match="expects 2 weight arrays"):
        layer.set_weights([before[0]])
    with pytest.raises(ValueError, match=r"shape \(3, 2\)"):
        layer.set_weights([np.zeros((2, 3)), np.zeros(2)])
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_count_params_before_build_is_an_error():
    with pytest.raises(ValueError, match="isn't built"):
        layers.Dense(2).count_params()


def test_uint8_input_is_cast_to_float32():
    layer = layers.Dense(2)
    out = layer(np.ones((2, 3), dtype="uint8"))
    assert out.dtype == np.float32
