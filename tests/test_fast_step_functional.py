"""The direct training step for functional models that are one chain of layers.

`keras.Model(inputs, outputs)` over `Input -> Flatten -> Dense -> Dropout ->
Dense` is the same computation as the Sequential stack of those layers, so
`fit` runs it through `training/fast_step.py` (`Functional._layer_chain`)
and gives the weights, optimizer state and history the Sequential model
gives with the same seed. Any other graph takes the general step.
"""

import numpy as np
import pytest
from test_fast_step import general_steps  # noqa: F401 - a fixture shared with that file

import kerasette as keras
from kerasette.training.fast_step import FastStep
from kerasette.training.trainer import Trainer

L = keras.layers
SAMPLE = (7, 4)  # a small stand-in for MNIST's 28 x 28 images


def _data(n=90, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random(size=(n,) + SAMPLE).astype("float32")
    y = rng.integers(0, classes, n)
    return x, y


def _mlp_layers():
    return [L.Flatten(), L.Dense(16, activation="relu"), L.Dropout(0.25),
            L.Dense(3, activation="softmax")]


def _sequential():
    return keras.Sequential([keras.Input(shape=SAMPLE)] + _mlp_layers())


def _functional():
    inputs = keras.Input(shape=SAMPLE)
    h = inputs
    for layer in _mlp_layers():
        h = layer(h)
    return keras.Model(inputs, h)


def _train(make, monkeypatch, direct=True, epochs=3):
    calls = []
    original = Trainer.train_step
    monkeypatch.setattr(Trainer, "train_step",
                        lambda self, batch: calls.append(1) or original(self, batch))
    if not direct:
        monkeypatch.setattr(FastStep, "build", classmethod(lambda cls, m: None))
    keras.utils.set_random_seed(17)
    model = make()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = _data()
    history = model.fit(x, y, batch_size=16, epochs=epochs, verbose=0, validation_split=0.2)
    monkeypatch.undo()
    return model, history.history, len(calls)


def _assert_same(a, b):
    (model, history, _), (ref_model, ref_history, _) = a, b
    weights, ref_weights = model.get_weights(), ref_model.get_weights()
    assert len(weights) == len(ref_weights) == 4
    for got, want in zip(weights, ref_weights):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(model.optimizer.variables, ref_model.optimizer.variables):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got),
                                      keras.ops.convert_to_numpy(want))
    assert history == ref_history


def test_chain_hands_over_the_layers_sequential_does():
    functional, sequential = _functional(), _sequential()
    chain = functional._layer_chain()
    assert [type(layer) for layer in chain] == [type(layer) for layer in
                                                sequential._layer_chain()]
    assert chain == functional.layers[1:]  # without the InputLayer
    assert functional._declared_input_shape() == sequential._declared_input_shape()
    assert functional._checked_output_shape() == sequential._checked_output_shape()


def test_functional_mlp_takes_the_direct_step_bit_identical_to_sequential(monkeypatch):
    functional = _train(_functional, monkeypatch)
    sequential = _train(_sequential, monkeypatch)
    general = _train(_functional, monkeypatch, direct=False)
    model, _, general_calls = functional
    assert FastStep.build(model) is not None
    assert general_calls == 1, "the first step builds the optimizer; the rest go direct"
    assert general[2] == 3 * 5  # 72 rows in batches of 16, three epochs
    _assert_same(functional, sequential)
    _assert_same(functional, general)


def _skip_connection():
    inputs = keras.Input(shape=(6,))
    h = L.Dense(6, activation="relu")(inputs)
    h = L.Add()([inputs, h])
    return inputs, keras.Model(inputs, L.Dense(3, activation="softmax")(h))


def _two_inputs():
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(3,), name="b")
    h = L.Concatenate()([L.Dense(4, activation="relu")(a), b])
    return [a, b], keras.Model([a, b], L.Dense(3, activation="softmax")(h))


def _shared_layer():
    inputs = keras.Input(shape=(6,))
    shared = L.Dense(6, activation="relu")
    return inputs, keras.Model(inputs, L.Dense(3, activation="softmax")(shared(shared(inputs))))


def _fixed_training_argument():
    inputs = keras.Input(shape=(6,))
    h = L.Dropout(0.5)(L.Dense(6, activation="relu")(inputs), training=True)
    return inputs, keras.Model(inputs, L.Dense(3, activation="softmax")(h))


def _two_outputs():
    inputs = keras.Input(shape=(6,))
    h = L.Dense(6, activation="relu")(inputs)
    return inputs, keras.Model(inputs, [L.Dense(3, activation="softmax", name="p")(h),
                                        L.Dense(3, activation="softmax", name="q")(h)])


@pytest.mark.parametrize("make", [_skip_connection, _two_inputs, _shared_layer,
                                  _fixed_training_argument, _two_outputs],
                         ids=["skip_connection", "two_inputs", "shared_layer",
                              "fixed_training_argument", "two_outputs"])
def test_other_graphs_take_the_general_path_and_train(make, general_steps):
    inputs, model = make()
    assert model._layer_chain() is None
    model.compile("adam", "sparse_categorical_crossentropy")
    assert FastStep.build(model) is None
    rng = np.random.default_rng(3)
    x = [rng.normal(size=(48,) + t.shape[1:]).astype("float32")
         for t in (inputs if isinstance(inputs, list) else [inputs])]
    y = rng.integers(0, 3, 48)
    if len(model.outputs) == 2:
        y = [y, y]
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x if len(x) > 1 else x[0], y, batch_size=16, epochs=2, verbose=0)
    assert len(general_steps) == 6
    assert np.isfinite(history.history["loss"]).all()
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_input_dtype_other_than_the_models_takes_the_general_path():
    inputs = keras.Input(shape=(6,), dtype="float64")
    model = keras.Model(inputs, L.Dense(3, activation="softmax")(inputs))
    assert model._layer_chain() is None


def test_a_batch_of_another_shape_is_refused_as_before():
    """Flattened images fit the first Dense's width, but not the model's
    input: `fit` says so before the first step, as for a Sequential model,
    and the direct step does not take such a batch from a generator."""
    model = _functional()
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = _data(n=32)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)  # the optimizer's slots exist now
    flat = x.reshape(len(x), -1)
    with pytest.raises(ValueError, match="wrong shape"):
        model.fit(flat, y, batch_size=16, epochs=1, verbose=0)

    def batches():
        while True:
            yield flat[:16], y[:16]

    with pytest.raises(ValueError, match="incompatible"):
        model.fit(batches(), steps_per_epoch=2, epochs=1, verbose=0)
