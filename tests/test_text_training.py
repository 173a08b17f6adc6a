"""Text through fit, evaluate, predict and the model files.

Strings never reach the device: they travel as host NumPy arrays batch by
batch, and the text layer (TextVectorization, StringLookup) sends the ids.
The strict backend refuses NumPy arrays in device code, so running these
on it (conftest's `backend` fixture) checks that rule.
"""

from __future__ import annotations

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers as L

POSITIVE = ["good great fine", "great movie", "fine good film"]
NEGATIVE = ["bad awful", "awful movie bad", "terrible film"]


def corpus(n=48):
    x = np.array([POSITIVE[i % 3] if i % 2 else NEGATIVE[i % 3] for i in range(n)])
    y = (np.arange(n) % 2).astype("float32")
    return x, y


def vectorizer(x):
    layer = L.TextVectorization(max_tokens=20, output_sequence_length=4)
    layer.adapt(x)
    return layer


def head(layer):
    return [layer, L.Embedding(20, 4), L.GlobalAveragePooling1D(), L.Dense(1, activation="sigmoid")]


def test_sequential_starting_with_text_vectorization_trains_on_strings():
    x, y = corpus()
    model = keras.Sequential(head(vectorizer(x)))
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0, validation_split=0.25)
    assert history.history["loss"][-1] < history.history["loss"][0]
    # adapt on 1-D texts declared the layer's input (None,), as in tf.keras 2
    assert model.input_shape == (None,) and model.output_shape == (None, 1)
    probs = model.predict(x[:5], verbose=0)
    assert probs.shape == (5, 1) and probs.dtype == np.float32
    np.testing.assert_allclose(model(x[:5]).numpy(), probs, rtol=1e-6)
    loss, _ = model.evaluate(x, y, verbose=0)
    assert np.isfinite(loss)
    model.train_on_batch(x[:4], y[:4])
    assert model.predict_on_batch(list(x[:2])).shape == (2, 1)


def test_functional_model_with_a_string_input():
    x, y = corpus()
    inputs = keras.Input(shape=(1,), dtype="string")
    layers = head(vectorizer(x))
    hidden = inputs
    for layer in layers:
        hidden = layer(hidden)
    model = keras.Model(inputs, hidden)
    assert model.inputs[0].dtype == "string"
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert len(history.history["loss"]) == 2
    # (batch,) and (batch, 1) strings are both taken, as tf.keras 2 takes them.
    np.testing.assert_allclose(model.predict(x[:3], verbose=0),
                               model.predict(x[:3, None], verbose=0), rtol=1e-6)


def test_strings_from_a_generator():
    x, y = corpus(32)
    model = keras.Sequential(head(vectorizer(x)))
    model.compile(optimizer="sgd", loss="binary_crossentropy")

    def batches():
        while True:
            for start in range(0, 32, 8):
                yield x[start:start + 8], y[start:start + 8]

    history = model.fit(batches(), steps_per_epoch=4, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


@pytest.mark.parametrize("suffix", [".h5", ".keras"])
def test_adapted_text_models_round_trip_exactly(tmp_path, suffix):
    x, y = corpus()
    model = keras.Sequential([keras.Input(shape=(1,), dtype="string")] + head(vectorizer(x)))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    path = str(tmp_path / f"text{suffix}")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[0].get_vocabulary() == model.layers[0].get_vocabulary()
    probe = np.array(["good film", "awful unseen words"])
    np.testing.assert_array_equal(loaded.predict(probe, verbose=0),
                                  model.predict(probe, verbose=0))


def test_strings_refused_by_a_layer_that_cannot_take_them():
    model = keras.Sequential([L.Dense(2, input_shape=(1,))])
    with pytest.raises(TypeError, match=r"Layer 'dense\w*' \(Dense\) cannot take strings"):
        model(np.array([["a"]]))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="must hold numbers"):
        model.fit(np.array([["a"]]), np.zeros(1), verbose=0)
    x, y = corpus(8)
    text_model = keras.Sequential(head(vectorizer(x)))
    text_model.compile(optimizer="sgd", loss="binary_crossentropy")
    with pytest.raises(TypeError, match="must hold strings"):
        text_model.fit(np.zeros((8, 1)), y, verbose=0)
    inputs = keras.Input(shape=(1,))
    numeric = keras.Model(inputs, L.Dense(1)(inputs))
    with pytest.raises(TypeError, match="dtype='string'"):
        numeric(np.array([["a"]]))


def test_an_adapted_first_layer_declares_a_string_input():
    # adapt records the data's rank as the layer's input (tf.keras 2), and the
    # InputLayer a Sequential makes for it takes the layer's dtype: "string".
    x, _ = corpus(8)
    model = keras.Sequential(head(vectorizer(x)))
    first = model.get_config()["layers"][0]
    assert first["class_name"] == "InputLayer"
    assert first["config"]["dtype"] == "string" and first["config"]["batch_input_shape"] == [None]


def test_a_model_with_a_text_input_beside_a_numeric_one():
    x, y = corpus(16)
    text = keras.Input(shape=(1,), dtype="string", name="text")
    extra = keras.Input(shape=(2,), name="extra")
    pooled = L.GlobalAveragePooling1D()(L.Embedding(20, 4)(vectorizer(x)(text)))
    output = L.Dense(1, activation="sigmoid")(L.Concatenate()([pooled, extra]))
    model = keras.Model([text, extra], output)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    numbers = np.ones((16, 2), dtype="float32")
    history = model.fit({"text": x, "extra": numbers}, y, epochs=2, batch_size=4, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.predict([x[:3], numbers[:3]], verbose=0).shape == (3, 1)
