"""The functional API: keras.Input, layers called on symbolic tensors, and
keras.Model(inputs, outputs), on every backend."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers, ops
from kerasette.layers.node import KerasTensor


class Join(layers.Layer):
    """Concatenates its inputs on the last axis (a tiny local merge layer)."""

    def call(self, inputs):
        return ops.concatenate(inputs, axis=-1)


class Plus(layers.Layer):
    """Adds its two inputs; declares its output shape (no probe)."""

    def call(self, inputs):
        return ops.add(inputs[0], inputs[1])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


def _mlp(x):
    h = layers.Dense(8, activation="relu", name="hidden")(x)
    return layers.Dense(3, activation="softmax", name="probs")(h)


def _host(t):
    return t.numpy() if hasattr(t, "numpy") else np.asarray(t)


# -- symbolic tensors and nodes ------------------------------------------------------------------
def test_input_is_symbolic_and_dense_builds_from_it():
    x = keras.Input(shape=(4,), name="features")
    assert isinstance(x, KerasTensor) and x.shape == (None, 4) and x.dtype == "float32"
    dense = layers.Dense(8)
    y = dense(x)  # was: IndexError inside Dense.build
    assert isinstance(y, KerasTensor) and y.shape == (None, 8)
    assert dense.built and dense.kernel.shape == (4, 8)
    assert dense.input is x and dense.output is y
    assert dense.input_shape == (None, 4) and dense.output_shape == (None, 8)
    assert len(dense._inbound_nodes) == 1 and dense._inbound_nodes[0].input_tensors == [x]


def test_input_arguments():
    x = keras.Input(shape=(2, 3), batch_size=5, dtype="float64", name="grid")
    assert x.shape == (5, 2, 3) and x.dtype == "float64" and x.name == "grid"
    assert keras.Input(batch_shape=(None, 7)).shape == (None, 7)
    ids = keras.Input(shape=(6,), dtype="int32")
    assert ids.dtype == "int32"


def test_keras_tensor_refuses_data_operations():
    x = keras.Input(shape=(4,))
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(x)
    with pytest.raises(TypeError, match="symbolic"):
        x + 1


def test_layer_without_compute_output_shape_is_probed():
    class Double(layers.Layer):
        def call(self, inputs):
            return ops.concatenate([inputs, inputs], axis=-1)

    assert Double()(keras.Input(shape=(3,))).shape == (None, 6)
    assert Join()([keras.Input(shape=(3,)), keras.Input(shape=(2,))]).shape == (None, 5)


# -- models ----------------------------------------------------------------------------------------
def test_model_from_inputs_and_outputs():
    x = keras.Input(shape=(4,), name="x")
    model = keras.Model(x, _mlp(x), name="mlp")
    assert type(model).__name__ == "Functional" and isinstance(model, keras.Model)
    assert model.name == "mlp"
    assert [layer.name for layer in model.layers] == ["x", "hidden", "probs"]
    assert model.inputs == [x] and model.input is x
    assert model.outputs == [model.get_layer("probs").output]
    assert model.input_shape == (None, 4) and model.output_shape == (None, 3)
    assert model.count_params() == 4 * 8 + 8 + 8 * 3 + 3
    out = model(np.ones((2, 4), "float32"))
    assert out.shape == (2, 3) and out.dtype == np.float32
    kw = keras.Model(inputs=x, outputs=model.output)
    assert kw.get_layer(index=1) is model.get_layer("hidden")


def test_get_layer_errors_name_the_layers():
    x = keras.Input(shape=(4,), name="x")
    model = keras.Model(x, _mlp(x))
    assert model.get_layer(index=2).name == "probs"
    with pytest.raises(ValueError, match="No such layer: 'nope'.*hidden"):
        model.get_layer("nope")


def test_predict_equals_numpy_forward_pass():
    x = keras.Input(shape=(4,))
    model = keras.Model(x, _mlp(x))
    data = np.random.default_rng(0).normal(size=(10, 4)).astype("float32")
    k1, b1, k2, b2 = model.get_weights()
    h = np.maximum(data @ k1 + b1, 0)
    logits = h @ k2 + b2
    expected = np.exp(logits - logits.max(1, keepdims=True))
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(model.predict(data, verbose=0), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_host(model(data)), expected, rtol=1e-5, atol=1e-6)


def test_two_inputs_merged():
    a = keras.Input(shape=(3,), name="a")
    b = keras.Input(shape=(2,), name="b")
    merged = Join(name="join")([layers.Dense(4, name="da")(a), b])
    model = keras.Model([a, b], layers.Dense(1, name="out")(merged))
    assert [layer.name for layer in model.layers] == ["a", "da", "b", "join", "out"]
    assert model.input_shape == [(None, 3), (None, 2)]
    xa = np.random.default_rng(1).normal(size=(6, 3)).astype("float32")
    xb = np.random.default_rng(2).normal(size=(6, 2)).astype("float32")
    ka, ba, ko, bo = model.get_weights()
    expected = np.concatenate([xa @ ka + ba, xb], axis=-1) @ ko + bo
    np.testing.assert_allclose(_host(model([xa, xb])), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_host(model({"a": xa, "b": xb})), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="expects 2 inputs"):
        model([xa])


def test_concatenate_layer_when_available():
    if not hasattr(layers, "Concatenate"):
        pytest.skip("kerasette.layers.Concatenate is not there yet")
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(2,))
    model = keras.Model([a, b], layers.Dense(1)(layers.Concatenate()([a, b])))
    assert model([np.ones((2, 3)), np.ones((2, 2))]).shape == (2, 1)


def test_dict_inputs_and_several_outputs():
    u = keras.Input(shape=(2,), name="u")
    v = keras.Input(shape=(3,), name="v")
    model = keras.Model({"u": u, "v": v}, [layers.Dense(1)(u), layers.Dense(2)(v)])
    assert model.output_shape == [(None, 1), (None, 2)]
    first, second = model({"u": np.ones((4, 2)), "v": np.ones((4, 3))})
    assert first.shape == (4, 1) and second.shape == (4, 2)


def test_skip_connection():
    x = keras.Input(shape=(4,))
    dense = layers.Dense(4, name="residual")
    y = Plus(name="plus")([x, dense(x)])
    model = keras.Model(x, y)
    data = np.random.default_rng(3).normal(size=(5, 4)).astype("float32")
    kernel, bias = dense.get_weights()
    np.testing.assert_allclose(_host(model(data)), data + data @ kernel + bias,
                               rtol=1e-5, atol=1e-6)
    lines = []
    model.summary(print_fn=lines.append)
    assert any("'residual[0][0]'" in line for line in lines)


def test_shared_layer_has_one_set_of_weights():
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(3,), name="b")
    shared = layers.Dense(2, name="shared")
    model = keras.Model([a, b], Plus()([shared(a), shared(b)]))
    assert model.count_params() == 3 * 2 + 2 and len(model.trainable_weights) == 2
    assert [layer.name for layer in model.layers].count("shared") == 1
    with pytest.raises(AttributeError, match="multiple inbound nodes"):
        shared.output
    assert shared.get_output_at(1).shape == (None, 2)
    # One update moves both paths: a gradient step on the shared kernel.
    xa = np.ones((2, 3), "float32")
    xb = np.full((2, 3), 2.0, "float32")
    with keras.GradientTape() as tape:
        loss = ops.sum(model([xa, xb]))
    grads = tape.gradient(loss, model.trainable_weights)
    np.testing.assert_allclose(_host(grads[0]), np.tile((xa + xb).sum(0)[:, None], (1, 2)),
                               rtol=1e-6)
    before = _host(model([xa, xa]))
    shared.kernel.assign(shared.kernel.numpy() + 1.0)
    after = _host(model([xa, xa]))
    np.testing.assert_allclose(after - before, np.full((2, 2), 2 * 3.0), rtol=1e-5)


def test_shared_layer_refuses_an_incompatible_input():
    shared = layers.Dense(2, name="shared")
    shared(keras.Input(shape=(3,)))
    with pytest.raises(ValueError, match=r"'shared' \(Dense\).*\(None, 5\).*size 3"):
        shared(keras.Input(shape=(5,)))


def test_build_error_names_the_layer_and_shape():
    x = keras.Input(shape=(None,))
    with pytest.raises(ValueError, match=r"Layer 'wide' \(Dense\).*shape \(None, None\)"):
        layers.Dense(2, name="wide")(x)


def test_nested_sequential_and_functional():
    base = keras.Sequential([layers.Dense(5, activation="relu", input_shape=(4,)),
                             layers.Dense(3)], name="base")
    x = keras.Input(shape=(4,), name="x")
    features = base(x)
    assert isinstance(features, KerasTensor) and features.shape == (None, 3)
    model = keras.Model(x, layers.Dense(1, name="head")(features))
    assert [layer.name for layer in model.layers] == ["x", "base", "head"]
    assert model.count_params() == base.count_params() + 4
    data = np.random.default_rng(4).normal(size=(3, 4)).astype("float32")
    k, b = model.get_layer("head").get_weights()
    np.testing.assert_allclose(_host(model(data)), _host(base(data)) @ k + b, rtol=1e-5,
                               atol=1e-6)
    # An unbuilt Sequential is built from the symbolic input.
    lazy = keras.Sequential([layers.Dense(2)])
    assert lazy(x).shape == (None, 2) and lazy.built and lazy.input_shape == (None, 4)
    # A functional model inside another.
    inner = keras.Model(x, features, name="inner")
    z = keras.Input(shape=(4,))
    outer = keras.Model(z, layers.Dense(2)(inner(z)))
    assert outer.layers[1] is inner and outer(data).shape == (3, 2)
    with pytest.raises(ValueError, match=r"'base'.*\(None, 6\)"):
        base(keras.Input(shape=(6,)))


def test_training_argument_reaches_dropout_and_batchnorm():
    x = keras.Input(shape=(200,))
    h = layers.Dropout(0.5)(x)
    model = keras.Model(x, layers.BatchNormalization()(h))
    data = np.ones((8, 200), "float32")
    bn = model.layers[-1]
    moving = bn.moving_mean.numpy().copy()
    inference = _host(model(data))
    np.testing.assert_array_equal(inference, _host(model(data, training=False)))
    np.testing.assert_array_equal(bn.moving_mean.numpy(), moving)
    model(data, training=True)
    assert not np.array_equal(bn.moving_mean.numpy(), moving)  # batch statistics were used
    dropped = keras.Model(x, layers.Dropout(0.5)(x, training=True))  # fixed at build time
    assert (_host(dropped(data)) == 0).any()


def test_graph_disconnected_names_tensor_and_layers():
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(2,), name="b")
    merged = Join(name="join")([layers.Dense(4, name="da")(a), b])
    with pytest.raises(ValueError, match=r"Graph disconnected: cannot obtain value for tensor "
                                         r".*name=b.* at layer \"join\". The following previous "
                                         r"layers were accessed without issue: \['a', 'da'\]"):
        keras.Model(a, merged)


def test_unused_input_is_kept_as_keras_does():
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(2,), name="b")
    model = keras.Model([a, b], layers.Dense(1, name="out")(a))
    assert [layer.name for layer in model.layers] == ["a", "b", "out"]
    assert model([np.ones((2, 3)), np.ones((2, 2))]).shape == (2, 1)


def test_model_argument_errors():
    x = keras.Input(shape=(4,))
    with pytest.raises(ValueError, match="'head' is a layer"):
        keras.Model(x, layers.Dense(1, name="head"))
    with pytest.raises(ValueError, match="made by keras.Input"):
        keras.Model(layers.Dense(2)(x), layers.Dense(1)(x))
    model = keras.Model(x, layers.Dense(1)(x))
    with pytest.raises(ValueError, match=r"Input 0 of model .*expected shape=\(None, 4\).*"
                                         r"\(2, 5\)"):
        model(np.ones((2, 5), "float32"))
    with pytest.raises(TypeError, match="mixed with a"):
        Plus()([x, ops.ones((1, 4))])
    with pytest.raises(ValueError, match="used 2 times"):
        d = layers.Dense(1, name="same")(x)
        keras.Model(x, layers.Dense(1, name="same")(d))


def test_subclassed_models_are_unchanged():
    class TwoLayers(keras.Model):
        def __init__(self):
            super().__init__(name="two")
            self.hidden = layers.Dense(4)
            self.out = layers.Dense(1)

        def call(self, x, training=None):
            return self.out(self.hidden(x))

    model = TwoLayers()
    assert type(model) is TwoLayers and model.name == "two"
    assert model(np.ones((2, 3), "float32")).shape == (2, 1)
    assert type(keras.Model()).__name__ == "Model"


def test_summary_connected_to_column():
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(2,), name="b")
    merged = Join(name="join")([layers.Dense(4, name="da")(a), b])
    model = keras.Model([a, b], layers.Dense(1, name="out")(merged), name="two_in")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert lines[0] == 'Model: "two_in"' and len(lines[1]) == 98
    assert "Connected to" in lines[2]
    assert " a (InputLayer)" in text and "[(None, 3)]" in text
    join = next(i for i, line in enumerate(lines) if "join (Join)" in line)
    assert "['da[0][0]'," in lines[join] and "'b[0][0]']" in lines[join + 1]
    assert "Total params: 23" in text and "Trainable params: 23" in text
    # A plain chain prints tf.keras 2's table without the column.
    x = keras.Input(shape=(4,), name="x")
    chain = []
    keras.Model(x, _mlp(x)).summary(print_fn=chain.append)
    assert "Connected to" not in "\n".join(chain) and "x (InputLayer)" in "\n".join(chain)


# -- training --------------------------------------------------------------------------------------
def test_fit_matches_the_equivalent_sequential():
    rng = np.random.default_rng(5)
    data = rng.normal(size=(64, 4)).astype("float32")
    labels = rng.integers(0, 3, size=64)
    seq = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                            layers.Dense(3, activation="softmax")])
    x = keras.Input(shape=(4,))
    func = keras.Model(x, _mlp(x))
    func.set_weights(seq.get_weights())
    histories = []
    for model in (seq, func):
        keras.utils.set_random_seed(7)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        histories.append(model.fit(data, labels, batch_size=16, epochs=3, shuffle=True,
                                   verbose=0).history)
    for s, f in zip(seq.get_weights(), func.get_weights()):
        np.testing.assert_allclose(f, s, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(histories[1]["loss"], histories[0]["loss"], rtol=1e-5)
    assert histories[1]["accuracy"] == histories[0]["accuracy"]
    loss, acc = func.evaluate(data, labels, verbose=0)
    np.testing.assert_allclose([loss, acc], seq.evaluate(data, labels, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(func.predict(data, verbose=0), seq.predict(data, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_two_input_model_trains_under_a_tape():
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(2,))
    model = keras.Model([a, b], layers.Dense(1)(Join()([layers.Dense(4)(a), b])))
    optimizer = keras.optimizers.SGD(0.05)
    xa = np.random.default_rng(6).normal(size=(16, 3)).astype("float32")
    xb = np.random.default_rng(7).normal(size=(16, 2)).astype("float32")
    target = ops.convert_to_tensor(xa[:, :1] - xb[:, 1:])
    losses = []
    for _ in range(20):
        with keras.GradientTape() as tape:
            loss = ops.mean(ops.square(model([xa, xb], training=True) - target))
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        losses.append(float(_host(loss)))
    assert losses[-1] < losses[0] / 2


# -- copies and files ------------------------------------------------------------------------------
def test_copies_and_weights_files(tmp_path):
    def build():
        a, b = keras.Input(shape=(3,)), keras.Input(shape=(3,))
        shared = layers.Dense(2)
        inner = keras.Sequential([layers.Dense(4, input_shape=(2,)),
                                  layers.BatchNormalization()])
        return keras.Model([a, b], layers.Dense(1)(inner(Plus()([shared(a), shared(b)]))))

    model, twin = build(), build()
    data = [np.ones((2, 3), "float32"), np.full((2, 3), 0.5, "float32")]
    expected = _host(model(data))
    for copied in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        np.testing.assert_allclose(_host(copied(data)), expected, rtol=1e-6)
    for name in ("w.weights.h5", "w.h5"):
        model.save_weights(tmp_path / name)
        twin.load_weights(tmp_path / name)
        for w, t in zip(model.get_weights(), twin.get_weights()):
            np.testing.assert_array_equal(t, w)
        np.testing.assert_allclose(_host(twin(data)), expected, rtol=1e-6)
    for name in ("m.h5", "m.keras", "m"):  # the custom layer comes back by custom_objects
        model.save(tmp_path / name)
        loaded = keras.models.load_model(tmp_path / name, custom_objects={"Plus": Plus})
        np.testing.assert_array_equal(_host(loaded(data)), _host(model(data)))
