"""Embedding, Masking and the masks they put on tensors: forward passes
against NumPy, gradients against finite differences, tf.keras 2's mask
rules layer by layer, and the embed_pool fixtures of real Keras."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fixture_paths import KERAS2
from gradcheck import check_gradients

import kerasette as keras
from kerasette import layers, ops
from kerasette.ops.embedding import embedding_lookup

IDS = np.array([[3, 1, 0, 3], [4, 4, 2, 0]])


def test_embedding_forward_is_row_lookup(backend):
    layer = layers.Embedding(5, 3)
    out = layer(IDS)
    table = layer.get_weights()[0]
    assert out.dtype == np.float32 and out.shape == (2, 4, 3)
    np.testing.assert_array_equal(out.numpy(), table[IDS])
    assert np.all(np.abs(table) <= 0.05)  # "uniform": U(-0.05, 0.05), as tf.keras 2


def test_embedding_gradient_adds_repeated_ids_and_skips_unused_rows(backend):
    ids = ops.convert_to_tensor(np.array([[3, 1, 3], [1, 1, 0]]))
    table = np.random.default_rng(0).standard_normal((6, 2))
    check_gradients(lambda t: embedding_lookup(ids, t), [table])
    t = ops.convert_to_tensor(table)
    with keras.GradientTape() as tape:
        tape.watch(t)
        loss = ops.sum(embedding_lookup(ids, t))
    grad = tape.gradient(loss, t).numpy()
    np.testing.assert_array_equal(grad[:, 0], [1, 3, 0, 2, 0, 0])  # counts of each id


def test_sgd_leaves_rows_no_id_names_unchanged(backend):
    model = keras.Sequential([layers.Embedding(6, 2, input_length=3), layers.Flatten(),
                              layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    before = model.layers[0].get_weights()[0]
    model.fit(np.array([[1, 2, 2], [2, 1, 1]]), np.array([1.0, -1.0]), verbose=0)
    after = model.layers[0].get_weights()[0]
    np.testing.assert_array_equal(after[[0, 3, 4, 5]], before[[0, 3, 4, 5]])
    assert not np.allclose(after[[1, 2]], before[[1, 2]])


@pytest.mark.parametrize("bad", [-1, 5, 99])
def test_out_of_range_ids_name_the_layer_and_the_id(backend, bad):
    layer = layers.Embedding(5, 2, name="words")
    layer(np.array([[0, 1]]))
    kept = layer.get_weights()[0]
    with pytest.raises(ValueError, match=rf"'words' \(Embedding\) received id {bad}, outside "
                                         r"its table of input_dim=5"):
        layer(np.array([[1, bad]]))
    np.testing.assert_array_equal(layer.get_weights()[0], kept)


def test_integer_ids_stay_integers_and_float_ids_are_cast(backend):
    seen = []

    class Spy(layers.Embedding):
        def call(self, inputs):
            seen.append(inputs.dtype)
            return super().call(inputs)

    model = keras.Sequential([Spy(7, 2), layers.GlobalAveragePooling1D(), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(IDS, np.zeros(2), verbose=0)
    model.predict(IDS.astype("float64"), verbose=0)
    assert {np.dtype(d).kind for d in seen} == {"i"}
    assert model._x_dtype() == "int32"


def test_embedding_shapes_config_and_arguments():
    layer = layers.Embedding(10, 4, input_length=6, mask_zero=True)
    assert layer.compute_output_shape((None, None)) == (None, 6, 4)
    config = json.loads(json.dumps(layer.get_config()))
    assert config["batch_input_shape"] == [None, 6] and config["input_length"] == 6
    assert config["embeddings_initializer"]["class_name"] == "RandomUniform"
    clone = layers.Embedding.from_config(config)
    assert clone.get_config() == config
    # Without input_length the input is (None, None): a Sequential builds at once.
    model = keras.Sequential([layers.Embedding(10, 4), layers.Dense(2)])
    assert model.output_shape == (None, None, 2)
    for bad in ({"input_dim": 0, "output_dim": 2}, {"input_dim": 3, "output_dim": 2.5},
                {"input_dim": 3, "output_dim": 2, "input_length": -1}):
        with pytest.raises(ValueError, match="Embedding: `"):
            layers.Embedding(**bad)


def test_mask_zero_mask_and_its_journey(backend):
    ids = np.array([[5, 2, 0, 0], [1, 0, 0, 0]])
    x = layers.Embedding(6, 3, mask_zero=True)(ids)
    want = ids != 0
    np.testing.assert_array_equal(np.asarray(x._keras_mask.tolist()), want)
    # Layers that support masking pass it on (tf.keras 2: Dense, Dropout, ...).
    h = layers.Dense(2)(layers.Dropout(0.5)(x))
    np.testing.assert_array_equal(np.asarray(h._keras_mask.tolist()), want)
    # Others drop it.
    assert layers.Flatten()(x)._keras_mask is None
    assert layers.Embedding(6, 3)(ids)._keras_mask is None
    # Merging: a step is kept where every masked input keeps it.
    other = ops.convert_to_tensor(np.ones((2, 4, 3), "float32"))
    other._keras_mask = backend.asarray(np.array([[1, 0, 1, 0], [1, 1, 1, 1]], bool))
    added = layers.Add()([x, other])
    np.testing.assert_array_equal(np.asarray(added._keras_mask.tolist()),
                                  want & np.array([[1, 0, 1, 0], [1, 1, 1, 1]], bool))
    joined = layers.Concatenate()([x, ops.convert_to_tensor(np.ones((2, 4, 2), "float32"))])
    np.testing.assert_array_equal(np.asarray(joined._keras_mask.tolist()), want)


def test_masking_layer_against_numpy(backend):
    x = np.random.default_rng(3).standard_normal((2, 5, 3)).astype("float32")
    x[0, 1] = -1.0
    x[1, 3:] = -1.0
    x[1, 0, 0] = -1.0  # one padding value among real ones: the step is kept
    layer = layers.Masking(mask_value=-1.0)
    out = layer(x)
    keep = np.any(x != -1.0, axis=-1)
    np.testing.assert_array_equal(np.asarray(out._keras_mask.tolist()), keep)
    np.testing.assert_array_equal(out.numpy(), x * keep[..., None])
    assert out.dtype == np.float32
    # Moving a padding value by any epsilon unmasks its step, so finite
    # differences do not apply at padding; the gradient is the upstream one
    # where a step is kept and zero where it is masked.
    check_gradients(lambda t: layers.Masking(mask_value=-1.0, dtype="float64")(t),
                    [x[:, :1].astype("float64")])  # real steps only
    t = ops.convert_to_tensor(x)
    upstream = np.random.default_rng(4).standard_normal(x.shape).astype("float32")
    with keras.GradientTape() as tape:
        tape.watch(t)
        loss = ops.sum(layer(t) * ops.convert_to_tensor(upstream))
    np.testing.assert_array_equal(tape.gradient(loss, t).numpy(), upstream * keep[..., None])
    assert layers.Masking.from_config(layer.get_config()).mask_value == -1.0
    with pytest.raises(ValueError, match="mask_value"):
        layers.Masking(mask_value="pad")


def _pool_model(mask_zero):
    return keras.Sequential([
        keras.Input(shape=(10,), dtype="int32"),
        layers.Embedding(50, 8, input_length=10, mask_zero=mask_zero),
        layers.GlobalAveragePooling1D(),
        layers.Dense(1, activation="sigmoid"),
    ])


@pytest.mark.parametrize("impl", ["tfkeras2", "keras3"])
@pytest.mark.parametrize("name", ["embed_pool", "embed_pool_mask"])
@pytest.mark.parametrize("ext", [".h5", ".keras", ".weights.h5"])
def test_keras_embedding_fixtures_predict_as_stored(backend, impl, name, ext):
    ref = np.load(KERAS2 / f"{impl}_{name}_ref.npz")
    path = KERAS2 / f"{impl}_{name}{ext}"
    if ext == ".weights.h5":
        model = _pool_model(name.endswith("mask"))
        model.load_weights(path)
    else:
        model = keras.models.load_model(path, compile=False)
    got = model.predict(ref["x"], verbose=0)
    # The all-padding probe row is NaN (0/0) in both Kerases; NaN == NaN here.
    np.testing.assert_allclose(got, ref["y"], rtol=1e-6, atol=1e-6)
    assert np.isnan(got[0, 0]) == name.endswith("mask")
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_array_equal(w, ref[f"w{i}"])


def test_loss_and_metrics_count_only_kept_steps(backend):
    # A tagger: one label per token; padding steps must not count (tf.keras 2).
    rng = np.random.default_rng(5)
    ids = rng.integers(1, 9, (6, 5))
    ids[0, 2:] = 0
    ids[3, 4:] = 0
    labels = rng.integers(0, 3, (6, 5))
    model = keras.Sequential([layers.Embedding(9, 4, mask_zero=True),
                              layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, acc = model.evaluate(ids, labels, batch_size=6, verbose=0)
    probs = model.predict(ids, verbose=0).astype("float64")
    kept = ids != 0
    step_ce = -np.log(np.take_along_axis(probs, labels[..., None], -1)[..., 0])
    np.testing.assert_allclose(loss, step_ce[kept].mean(), rtol=1e-5)
    np.testing.assert_allclose(acc, (probs.argmax(-1) == labels)[kept].mean(), rtol=1e-6)
    assert not np.isclose(loss, step_ce.mean(), rtol=1e-4)  # the padding would change it
