"""Conv2D, pooling, ZeroPadding2D and LayerNormalization through the layer
harness, plus their Keras-specific configs, errors and file round trips."""

import json

import h5py
import numpy as np
import pytest
from layer_harness import run_layer_test
from test_conv_ops import ref_conv2d, ref_layer_norm
from test_keras_fixtures import FIXTURES

import kerasette as keras
from kerasette import layers


# -- Conv2D -------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, input_shape, output_shape", [
    ({"filters": 3, "kernel_size": 3}, (2, 5, 5, 2), (2, 3, 3, 3)),
    ({"filters": 2, "kernel_size": (2, 3), "padding": "same"}, (2, 4, 5, 2), (2, 4, 5, 2)),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, (1, 5, 6, 2),
     (1, 3, 3, 2)),
    ({"filters": 2, "kernel_size": 3, "strides": (2, 1)}, (2, 6, 5, 1), (2, 2, 3, 2)),
    ({"filters": 2, "kernel_size": 2, "dilation_rate": 2, "padding": "same"}, (1, 5, 5, 2),
     (1, 5, 5, 2)),
    ({"filters": 2, "kernel_size": 2, "dilation_rate": (2, 1)}, (1, 5, 5, 2), (1, 3, 4, 2)),
    ({"filters": 2, "kernel_size": 3, "activation": "relu"}, (2, 5, 5, 2), (2, 3, 3, 2)),
    ({"filters": 3, "kernel_size": 1, "activation": "softmax"}, (2, 3, 3, 2), (2, 3, 3, 3)),
    ({"filters": 2, "kernel_size": 2, "activation": "elu"}, (1, 4, 4, 2), (1, 3, 3, 2)),
], ids=str)
def test_conv2d_harness(kwargs, input_shape, output_shape):
    run_layer_test(layers.Conv2D, kwargs, input_shape, output_shape,
                   expected_num_trainable_weights=2, gradient_kind="kinked")


def test_conv2d_without_bias():
    run_layer_test(layers.Conv2D, {"filters": 2, "kernel_size": 3, "use_bias": False},
                   (2, 4, 4, 3), (2, 2, 2, 2), expected_num_trainable_weights=1)


def test_conv2d_matches_a_direct_sum_with_keras_kernel_layout():
    layer = layers.Conv2D(4, (3, 2), strides=(1, 2), padding="same", activation="tanh",
                          bias_initializer="glorot_uniform")
    x = np.random.default_rng(0).standard_normal((3, 6, 7, 2)).astype("float32")
    out = layer(x)
    w, b = layer.get_weights()
    assert w.shape == (3, 2, 2, 4) and b.shape == (4,)
    expected = np.tanh(ref_conv2d(x.astype("float64"), w.astype("float64"), b, (1, 2), "same",
                                  (1, 1)))
    assert out.dtype == np.float32 and out.shape == (3, 6, 4, 4)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-5)


def test_conv2d_glorot_uniform_uses_receptive_field_fans():
    layer = layers.Conv2D(64, 5)
    layer.build((None, 28, 28, 32))
    w = layer.get_weights()[0]
    limit = np.sqrt(6.0 / (5 * 5 * 32 + 5 * 5 * 64))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit


def test_conv2d_symbolic_output_shape_and_names():
    keras.backend.clear_session()
    layer = layers.Conv2D(8, 3, strides=2, padding="same")
    assert layer.name == "conv2d"
    assert layer.compute_output_shape((None, 28, 27, 1)) == (None, 14, 14, 8)
    assert layer.compute_output_shape((None, None, 9, 1)) == (None, None, 5, 8)
    assert layers.Conv2D(1, 3).compute_output_shape((4, 7, 7, 1)) == (4, 5, 5, 1)
    assert layers.MaxPooling2D().name == "max_pooling2d"
    assert layers.GlobalAveragePooling2D().name == "global_average_pooling2d"
    assert layers.ZeroPadding2D().name == "zero_padding2d"


@pytest.mark.parametrize("kwargs, match", [
    ({"filters": 0, "kernel_size": 3}, "filters"),
    ({"filters": 2, "kernel_size": (3, 0)}, "kernel_size"),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, "dilation_rate > 1"),
    ({"filters": 2, "kernel_size": 3, "padding": "causal"}, "Conv1D"),
    ({"filters": 2, "kernel_size": 3, "padding": "full"}, "padding"),
    ({"filters": 2, "kernel_size": 3, "data_format": "channels_first"}, "channels_first"),
])
def test_conv2d_rejects_bad_configuration_in_init(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.Conv2D(**kwargs)


def test_conv2d_rejects_groups():
    # Constraints are supported (tests/test_constraints.py).
    with pytest.raises(NotImplementedError, match="groups"):
        layers.Conv2D(4, 3, groups=2)


def test_conv2d_explains_a_missing_channel_axis():
    with pytest.raises(ValueError, match=r"expected ndim=4, found ndim=3.*channel axis"):
        keras.Sequential([layers.Conv2D(2, 3, input_shape=(28, 28))])
    with pytest.raises(ValueError, match=r"expected ndim=4, found ndim=3.*channel axis"):
        layers.Conv2D(2, 3)(np.zeros((2, 28, 28), "float32"))
    layer = layers.Conv2D(2, 3)
    layer(np.zeros((1, 5, 5, 1), "float32"))
    with pytest.raises(ValueError, match="axis -1 of the input to have value 1"):
        layer(np.zeros((1, 5, 5, 3), "float32"))


def test_conv2d_regularizers_add_to_losses():
    layer = layers.Conv2D(2, 3, kernel_regularizer=keras.regularizers.l2(0.01),
                          activity_regularizer=keras.regularizers.l1(0.1))
    x = np.random.default_rng(1).standard_normal((4, 5, 5, 1)).astype("float32")
    out = layer(x).numpy()
    penalty, activity = [float(v) for v in layer.losses]
    w = layer.get_weights()[0].astype("float64")
    np.testing.assert_allclose(penalty, 0.01 * np.sum(w ** 2), rtol=1e-5)
    np.testing.assert_allclose(activity, 0.1 * np.abs(out).sum() / 4, rtol=1e-5)


# -- pooling --------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [layers.MaxPooling2D, layers.AveragePooling2D])
@pytest.mark.parametrize("kwargs, output_shape", [
    ({}, (2, 2, 3, 2)),
    ({"pool_size": 3, "strides": 1}, (2, 3, 5, 2)),
    ({"pool_size": (2, 3), "strides": 2, "padding": "same"}, (2, 3, 4, 2)),
    ({"pool_size": 3, "strides": 2, "padding": "same"}, (2, 3, 4, 2)),
], ids=str)
def test_pooling_harness(cls, kwargs, output_shape):
    run_layer_test(cls, kwargs, (2, 5, 7, 2), output_shape)


@pytest.mark.parametrize("cls, reduce", [(layers.GlobalAveragePooling2D, np.mean),
                                         (layers.GlobalMaxPooling2D, np.max)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling(cls, reduce, keepdims):
    run_layer_test(cls, {"keepdims": keepdims}, (2, 3, 4, 2),
                   (2, 1, 1, 2) if keepdims else (2, 2))
    x = np.random.default_rng(0).standard_normal((3, 4, 5, 2)).astype("float32")
    np.testing.assert_allclose(cls(keepdims=keepdims)(x).numpy(),
                               reduce(x, axis=(1, 2), keepdims=keepdims), rtol=1e-6)


def test_pooling_defaults_and_config_match_tf_keras():
    layer = layers.MaxPooling2D()
    config = layer.get_config()
    assert config["pool_size"] == [2, 2] and config["strides"] == [2, 2]
    assert config["padding"] == "valid" and config["data_format"] == "channels_last"
    assert layers.AveragePooling2D(3, 1).get_config()["strides"] == [1, 1]
    assert layers.MaxPool2D is layers.MaxPooling2D and layers.AvgPool2D is layers.AveragePooling2D
    with pytest.raises(ValueError, match="pool_size"):
        layers.MaxPooling2D(0)
    with pytest.raises(ValueError, match="channels_first"):
        layers.AveragePooling2D(data_format="channels_first")
    with pytest.raises(ValueError, match="channels_first"):
        layers.GlobalAveragePooling2D(data_format="channels_first")


# -- ZeroPadding2D ----------------------------------------------------------------------------
@pytest.mark.parametrize("padding, output_shape, pads", [
    (1, (2, 5, 6, 2), ((1, 1), (1, 1))),
    ((2, 0), (2, 7, 4, 2), ((2, 2), (0, 0))),
    (((1, 0), (0, 3)), (2, 4, 7, 2), ((1, 0), (0, 3))),
])
def test_zero_padding(padding, output_shape, pads):
    run_layer_test(layers.ZeroPadding2D, {"padding": padding}, (2, 3, 4, 2), output_shape)
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 2)).astype("float32")
    np.testing.assert_array_equal(layers.ZeroPadding2D(padding)(x).numpy(),
                                  np.pad(x, ((0, 0),) + pads + ((0, 0),)))


def test_zero_padding_rejects_bad_padding():
    for bad in (-1, (1, 2, 3), ((1,), (2, 2)), 1.5):
        with pytest.raises(ValueError, match="padding"):
            layers.ZeroPadding2D(bad)


# -- LayerNormalization ----------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, input_shape, n_weights", [
    ({}, (3, 4), 2),
    ({"axis": [1, 2]}, (2, 3, 4), 2),
    ({"axis": -1, "center": False}, (2, 3, 4), 1),
    ({"scale": False, "center": False}, (2, 5), 0),
    ({"axis": (1, 2, 3)}, (2, 2, 3, 2), 2),
])
def test_layer_normalization_harness(kwargs, input_shape, n_weights):
    run_layer_test(layers.LayerNormalization, kwargs, input_shape, input_shape,
                   expected_num_trainable_weights=n_weights)


def test_layer_normalization_matches_numpy_and_writes_tf_keras_axis():
    layer = layers.LayerNormalization(gamma_initializer="glorot_uniform",
                                      beta_initializer="glorot_uniform")
    x = np.random.default_rng(0).standard_normal((4, 6)).astype("float32") * 3 + 2
    out = layer(x).numpy()
    gamma, beta = layer.get_weights()
    assert next(w.name for w in layer.weights).endswith("gamma:0")
    np.testing.assert_allclose(out, ref_layer_norm(x.astype("float64"), gamma, beta, 1e-3, (1,)),
                               rtol=1e-5, atol=1e-5)
    assert layer.get_config()["axis"] == [1]
    assert layers.LayerNormalization().get_config()["axis"] == -1
    with pytest.raises(ValueError, match="epsilon"):
        layers.LayerNormalization(epsilon=0)


# -- configs and files -----------------------------------------------------------------------
def keras_layer_configs(impl):
    with h5py.File(FIXTURES / f"{impl}_cnn_small.h5") as f:
        return json.loads(f.attrs["model_config"])["config"]["layers"]


@pytest.mark.parametrize("impl", ["tfkeras2", "keras3"])
def test_keras_conv_and_pool_configs_deserialize(impl):
    entries = {e["class_name"]: e for e in keras_layer_configs(impl)}
    conv = layers.deserialize(entries["Conv2D"])
    assert (conv.filters, conv.kernel_size, conv.strides, conv.padding) == (4, (3, 3), (1, 1),
                                                                           "valid")
    assert conv.dtype == "float32" and conv.get_config()["activation"] == "relu"
    pool = layers.deserialize(entries["MaxPooling2D"])
    assert pool.pool_size == (2, 2) and pool.strides == (2, 2)


def test_written_conv_configs_are_tf_keras_2s():
    keras.backend.clear_session()
    model = keras.Sequential([
        layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])
    ours = json.loads(model.to_json())["config"]["layers"]
    for mine, theirs in zip(ours[1:], keras_layer_configs("tfkeras2")[1:]):
        assert mine == theirs


def test_cnn_trains_and_round_trips_through_h5(tmp_path):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([
        layers.ZeroPadding2D(1, input_shape=(6, 6, 1)),
        layers.Conv2D(4, 3, padding="same", activation="relu"),
        layers.LayerNormalization(),
        layers.MaxPooling2D(2),
        layers.Conv2D(4, 2, dilation_rate=2),
        layers.AveragePooling2D(2, padding="same"),
        layers.GlobalAveragePooling2D(),
        layers.Dense(2, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6, 6, 1)).astype("float32")
    y = (x[:, :3].mean(axis=(1, 2, 3)) > x[:, 3:].mean(axis=(1, 2, 3))).astype("int64")
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    model.save(tmp_path / "cnn.h5")
    loaded = keras.models.load_model(tmp_path / "cnn.h5")
    assert [type(a) for a in loaded.layers] == [type(a) for a in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
