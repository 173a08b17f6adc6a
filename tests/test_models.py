"""Sequential: building, calling, weights, summary and configs."""

import json

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers, ops


def mnist_mlp():
    return keras.Sequential([
        layers.Dense(512, activation="relu", input_shape=(784,)),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def test_mlp_summary_reports_468874_params():
    model = mnist_mlp()
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert model.count_params() == 468874
    assert "Total params: 468,874 (1.79 MB)" in text
    assert "Trainable params: 468,874" in text
    assert "Non-trainable params: 0 (0.00 Byte)" in text
    assert "dense (Dense)" in text and "(None, 512)" in text and "401920" in text
    assert text.startswith('Model: "sequential"')


def test_summary_counts_batchnorm_statistics_as_non_trainable():
    model = keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.BatchNormalization()])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Total params: 32" in text and "Trainable params: 24" in text
    assert "Non-trainable params: 8" in text


def test_summary_before_build_is_an_error():
    with pytest.raises(ValueError, match="not yet been built"):
        keras.Sequential([layers.Dense(2)]).summary()


def test_input_forms_are_equivalent():
    a = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3)])
    b = keras.Sequential([layers.Dense(3, input_shape=(4,))])
    c = keras.Sequential([layers.Dense(3, input_dim=4)])
    d = keras.Sequential()
    d.add(layers.Dense(3))
    d.build((None, 4))
    for m in (a, b, c, d):
        assert m.built and m.count_params() == 15


def test_call_returns_tensor_that_numpy_understands():
    model = mnist_mlp()
    x = np.random.default_rng(0).random((2, 784), dtype="float32")
    out = model(x)
    assert isinstance(out, keras.Tensor)
    arr = np.asarray(out)
    assert arr.shape == (2, 10) and arr.dtype == np.float32
    np.testing.assert_allclose(arr.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(out.numpy(), arr)


def test_call_matches_layer_by_layer_numpy():
    model = keras.Sequential([layers.Dense(5, activation="relu", input_shape=(3,)),
                              layers.Dense(2, activation="sigmoid")])
    x = np.random.default_rng(1).standard_normal((4, 3)).astype("float32")
    w1, b1, w2, b2 = model.get_weights()
    expected = 1 / (1 + np.exp(-(np.maximum(x @ w1 + b1, 0) @ w2 + b2)))
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_wrong_input_width_is_a_clear_error():
    model = mnist_mlp()
    with pytest.raises(ValueError, match="incompatible"):
        model(np.zeros((1, 100), "float32"))


def test_add_pop_and_layers():
    model = keras.Sequential()
    model.add(layers.Dense(4, input_shape=(2,)))
    model.add(layers.Dense(1))
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dense"]
    model.pop()
    assert len(model.layers) == 1 and model.count_params() == 12
    with pytest.raises(TypeError, match="instance of class Layer"):
        model.add("dense")


def test_weights_order_and_trainable_variables():
    model = keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.BatchNormalization(),
                              layers.Dense(2)])
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(3, 4), (4,), (4,), (4,), (4,), (4,), (4, 2), (2,)]
    assert len(model.trainable_variables) == 6 and len(model.trainable_weights) == 6
    assert len(model.non_trainable_weights) == 2
    model.layers[0].trainable = False
    assert len(model.trainable_variables) == 4


def test_set_weights_checks_shapes_and_leaves_model_intact():
    model = mnist_mlp()
    before = model.get_weights()
    bad = [w.copy() for w in before]
    bad[2] = np.zeros((128, 512), "float32")
    with pytest.raises(ValueError, match="dense_1"):
        model.set_weights(bad)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_config_json_round_trip():
    model = keras.Sequential([
        layers.Dense(20, activation="tanh", input_shape=(4,),
                     kernel_regularizer=keras.regularizers.l2(0.001)),
        layers.Dropout(0.5),
        layers.BatchNormalization(),
        layers.Dense(3, activation="softmax"),
    ])
    config = json.loads(model.to_json())
    assert config["class_name"] == "Sequential"
    first = config["config"]["layers"][0]
    assert first["class_name"] == "InputLayer"
    assert first["config"]["batch_input_shape"] == [None, 4]
    clone = keras.models.model_from_json(model.to_json())
    assert json.loads(clone.to_json()) == config
    assert clone.count_params() == model.count_params()
    clone.set_weights(model.get_weights())
    x = np.random.default_rng(2).standard_normal((3, 4)).astype("float32")
    np.testing.assert_allclose(clone(x).numpy(), model(x).numpy(), rtol=1e-6)


def test_model_from_json_rejects_garbage():
    with pytest.raises(ValueError, match="JSON"):
        keras.models.model_from_json("{not json")


def test_subclassed_model_tracks_layers():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(4, activation="relu")
            self.out = layers.Dense(1)

        def call(self, x, training=None):
            return self.out(self.hidden(x))

    net = Net()
    net(ops.ones((2, 3)))
    assert net.count_params() == 21 and len(net.trainable_variables) == 4


def test_training_flag_reaches_dropout():
    model = keras.Sequential([layers.Dropout(0.5, input_shape=(100,))])
    x = np.ones((10, 100), "float32")
    np.testing.assert_array_equal(model(x).numpy(), x)
    assert (model(x, training=True).numpy() == 0).any()


def test_sequential_accepts_one_layer_not_in_a_list():
    model = keras.Sequential(keras.layers.Dense(3, input_shape=(2,)))
    assert [type(layer).__name__ for layer in model.layers] == ["Dense"]
    assert model.predict(np.ones((4, 2), "float32"), verbose=0).shape == (4, 3)
