"""A Sequential model with a known input shape is a functional model (Keras):
`model.input`/`model.output`, each layer's `input`/`output`, and new models
made from part of its graph (feature extractors, every layer's activations)."""

from __future__ import annotations

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers
from kerasette.layers.node import KerasTensor


def _relu(a):
    return np.maximum(a, 0.0)


def _mlp():
    return keras.Sequential([
        layers.Dense(6, activation="relu", input_shape=(4,), name="hidden"),
        layers.Dense(5, activation="relu", name="features"),
        layers.Dense(3, activation="softmax", name="probs"),
    ])


def test_inputs_and_outputs_are_symbolic_once_the_shape_is_known():
    model = _mlp()
    assert isinstance(model.input, KerasTensor) and model.input.shape == (None, 4)
    assert model.inputs == [model.input] and model.outputs == [model.output]
    assert model.output.shape == (None, 3)
    assert model.layers[0].input is model.input
    assert model.layers[-1].output is model.output
    for before, after in zip(model.layers, model.layers[1:]):
        assert after.input is before.output


def test_feature_extractor_predicts_the_numpy_forward_pass():
    model = _mlp()
    x = np.random.default_rng(0).normal(size=(9, 4)).astype("float32")
    (w1, b1), (w2, b2) = (model.layers[0].get_weights(), model.layers[1].get_weights())
    extractor = keras.Model(model.input, model.get_layer("features").output)
    assert extractor.output_shape == (None, 5)
    want = _relu(_relu(x @ w1 + b1) @ w2 + b2)
    np.testing.assert_allclose(extractor.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)
    # The extractor shares the weights: training the model moves its features.
    assert extractor.get_layer("hidden") is model.layers[0]


def test_every_layer_activation_of_a_cnn():
    # The course's "visualise the feature maps" recipe.
    model = keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        layers.Conv2D(2, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(2, activation="softmax"),
    ])
    probe = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    x = np.random.default_rng(1).normal(size=(3, 8, 8, 1)).astype("float32")
    activations = probe.predict(x, verbose=0)
    assert [a.shape for a in activations] == [(3, 6, 6, 2), (3, 3, 3, 2), (3, 18), (3, 2)]
    np.testing.assert_allclose(activations[-1], model.predict(x, verbose=0), rtol=1e-6)


def test_deferred_model_has_no_graph_until_built():
    model = keras.Sequential([layers.Dense(3), layers.Dense(1)])
    assert model.inputs is None and model.outputs is None
    with pytest.raises(AttributeError, match="no input yet"):
        _ = model.input
    model.build((None, 7))
    assert model.input.shape == (None, 7) and model.output.shape == (None, 1)
    # The InputLayer the graph starts from stays out of the config (tf.keras 2).
    assert [entry["class_name"] for entry in model.get_config()["layers"]] == ["Dense", "Dense"]


def test_model_built_by_fit_gets_its_graph():
    model = keras.Sequential([layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(np.zeros((4, 3), "float32"), np.zeros(4), verbose=0)
    assert model.input.shape == (None, 3) and model.layers[0].output is model.output


def test_add_and_pop_keep_the_graph_and_one_node_per_layer():
    model = _mlp()
    last = model.pop()
    assert model.output is model.layers[-1].output and model.output_shape == (None, 5)
    model.add(layers.Dense(2, name="new_head"))
    assert model.output.shape == (None, 2) and model.layers[-1].input is model.layers[-2].output
    model.build()  # a rebuild keeps each layer's node in its place
    assert all(len(layer._inbound_nodes) == 1 for layer in model.layers)
    assert model.layers[1].output is model.layers[2].input
    assert last.output.shape == (None, 3)  # the popped layer keeps the node it had


def test_layers_reused_in_a_second_model_have_two_nodes():
    # As tf.keras 2: `layer.output` is then ill-defined, and the error says so.
    base = _mlp()
    transfer = keras.Sequential(base.layers[:-1] + [layers.Dense(2, name="other_head")])
    assert transfer.output.shape == (None, 2)
    with pytest.raises(AttributeError, match="multiple inbound nodes"):
        _ = base.layers[0].output
    assert base.layers[0].get_output_at(1) is transfer.layers[0].get_output_at(1)


def test_sequential_nested_in_a_functional_model_keeps_its_own_graph():
    inner = _mlp()
    inputs = keras.Input(shape=(4,))
    outer = keras.Model(inputs, layers.Dense(1)(inner(inputs)))
    x = np.ones((2, 4), "float32")
    assert outer.predict(x, verbose=0).shape == (2, 1)
    assert inner.layers[0].input is inner.input  # the layers were called once, in `inner`
    assert outer.layers[1] is inner and inner.get_output_at(0).shape == (None, 3)
    assert inner.get_output_at(0) is not inner.output  # the outer graph's node, not inner's


def test_a_layer_called_on_a_list_is_built_from_the_list_of_shapes(backend):
    # Keras passes the list of shapes to `build`, eagerly and symbolically.
    class Gate(layers.Layer):
        def build(self, input_shape):
            self.seen = input_shape
            self.w = self.add_weight("w", (input_shape[1][-1], input_shape[0][-1]))

        def call(self, inputs):
            x, context = inputs
            return x * keras.ops.sigmoid(keras.ops.matmul(context, self.w))

    eager = Gate()
    out = eager([np.ones((2, 3), "float32"), np.ones((2, 5), "float32")])
    assert eager.seen == [(2, 3), (2, 5)] and out.shape == (2, 3)
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(5,))
    symbolic = Gate()
    model = keras.Model([a, b], symbolic([a, b]))
    assert symbolic.seen == [(None, 3), (None, 5)] and symbolic.input_shape == [(None, 3),
                                                                                (None, 5)]
    assert model.predict([np.ones((4, 3)), np.ones((4, 5))], verbose=0).shape == (4, 3)
