"""An explicit `build()` is remembered (Keras's contract): weights set after
it are the ones the first call uses, and the weight count never changes."""

from __future__ import annotations

import numpy as np
import pytest

from kerasette import layers

RNG = np.random.default_rng(0)


def _x(shape, integer=False):
    if integer:
        return RNG.integers(0, 10, shape)
    return RNG.standard_normal(shape).astype("float32")


# (factory, input shape, integer ids) for every built-in layer with weights.
CASES = {
    "Dense": (lambda: layers.Dense(3, activation="relu"), (2, 4), False),
    "Conv2D": (lambda: layers.Conv2D(2, 3), (2, 5, 5, 3), False),
    "Conv1D": (lambda: layers.Conv1D(2, 3, padding="causal"), (2, 6, 3), False),
    "BatchNormalization": (lambda: layers.BatchNormalization(), (2, 4), False),
    "LayerNormalization": (lambda: layers.LayerNormalization(), (2, 4), False),
    "Embedding": (lambda: layers.Embedding(10, 3), (2, 5), True),
    "SimpleRNN": (lambda: layers.SimpleRNN(3), (2, 4, 2), False),
    "LSTM": (lambda: layers.LSTM(3, return_sequences=True), (2, 4, 2), False),
    "GRU": (lambda: layers.GRU(3), (2, 4, 2), False),
    "Bidirectional": (lambda: layers.Bidirectional(layers.LSTM(2)), (2, 4, 2), False),
    "TimeDistributed": (lambda: layers.TimeDistributed(layers.Dense(2)), (2, 3, 4), False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_explicit_build_then_set_weights_is_what_the_call_uses(backend, name):
    factory, shape, integer = CASES[name]
    x = _x(shape, integer)
    explicit = factory()
    explicit.build((None,) + shape[1:])
    assert explicit.built
    count = len(explicit.weights)
    assert count > 0
    chosen = [RNG.standard_normal(w.shape).astype("float32") for w in explicit.get_weights()]
    if name == "BatchNormalization":
        chosen[3] = np.abs(chosen[3]) + 0.5  # a variance
    explicit.set_weights(chosen)
    implicit = factory()
    implicit(x)  # built by its first call, the path every model takes
    implicit.set_weights(chosen)
    got = explicit(x).numpy()
    assert len(explicit.weights) == count  # no second set of weights
    np.testing.assert_array_equal(got, implicit(x).numpy())
    for w, want in zip(explicit.get_weights(), chosen):
        np.testing.assert_array_equal(w, want)


def test_dense_built_explicitly_gives_the_tf_keras_answer(backend):
    # tf.keras 2.21 gives [[10, 0]] for this (the example).
    layer = layers.Dense(2, activation="relu")
    layer.build((1, 2))
    layer.set_weights([np.array([[1.0, -2.0], [3.0, -4.0]]), np.array([5.0, -6.0])])
    np.testing.assert_array_equal(layer(np.array([[-1.0, 2.0]])).numpy(), [[10.0, 0.0]])
    assert len(layer.weights) == 2 and layer.input_shape == (None, 2)


def test_normalizations_built_explicitly_follow_their_formulas(backend):
    x = _x((3, 4))
    bn = layers.BatchNormalization(epsilon=1e-3)
    bn.build((None, 4))
    gamma, beta, mean = (RNG.standard_normal(4).astype("float32") for _ in range(3))
    var = RNG.uniform(0.5, 2.0, 4).astype("float32")
    bn.set_weights([gamma, beta, mean, var])
    np.testing.assert_allclose(bn(x).numpy(), (x - mean) / np.sqrt(var + 1e-3) * gamma + beta,
                               rtol=1e-5, atol=1e-6)
    ln = layers.LayerNormalization(epsilon=1e-3)
    ln.build((None, 4))
    ln.set_weights([gamma, beta])
    mu, sigma2 = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(ln(x).numpy(), (x - mu) / np.sqrt(sigma2 + 1e-3) * gamma + beta,
                               rtol=1e-5, atol=1e-5)


def test_conv2d_built_explicitly_follows_the_formula(backend):
    x = _x((2, 5, 5, 3))
    conv = layers.Conv2D(2, 3)
    conv.build((None, 5, 5, 3))
    kernel = RNG.standard_normal((3, 3, 3, 2)).astype("float32")
    bias = RNG.standard_normal(2).astype("float32")
    conv.set_weights([kernel, bias])
    want = np.zeros((2, 3, 3, 2), "float32")
    for i in range(3):
        for j in range(3):
            want[:, i, j] = np.einsum("bhwc,hwco->bo", x[:, i:i + 3, j:j + 3], kernel) + bias
    np.testing.assert_allclose(conv(x).numpy(), want, rtol=1e-5, atol=1e-5)


def test_a_custom_layer_that_builds_itself_keeps_its_weights(backend):
    class Scale(layers.Layer):
        def build(self, input_shape):  # no super().build(): Keras users often omit it
            self.w = self.add_weight("w", (input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return inputs * self.w

    layer = Scale()
    layer.build((None, 3))
    layer.set_weights([np.array([2.0, 3.0, 4.0])])
    np.testing.assert_array_equal(layer(np.ones((1, 3), "float32")).numpy(), [[2.0, 3.0, 4.0]])
    assert len(layer.weights) == 1
