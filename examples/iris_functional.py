"""Iris with the functional API: two inputs, a skip connection, a saved graph.

The same flowers and split as `iris.py`, built as a graph of layers instead
of a stack: the sepal measurements and the petal measurements come in as two
`keras.Input`s, each goes through its own `Dense` branch, the branches are
joined with `layers.concatenate`, and a residual block adds its input back
(`layers.add([h, Dense(h)])`) before the softmax. This is the shape of the
keras.io functional-API guide's examples, on data small enough to train in
seconds.

`fit`, `evaluate` and `predict` take the two inputs as a dict keyed by the
inputs' names (a list in input order works too). The model is saved as a
Keras 3 `.keras` archive and loaded back, and the reloaded model must
predict exactly what the trained one does.

The last line printed is the test result, `test_accuracy=... test_loss=...`.

Run:
    python examples/iris_functional.py [--epochs 300] [--seed 0] [--save iris_functional.keras]
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

import kerasette as keras

SPLIT_SEED = 0  # the shuffle of the 150 rows into 120/30, as in iris.py
N_TRAIN = 120


def load_split():
    """Standardised `({"sepal", "petal"}, y)` for the training and test rows."""
    (x, y), _ = keras.datasets.iris.load_data()
    x = np.asarray(x, dtype="float32")
    y = np.asarray(y, dtype="int64")
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    x, y = x[order], y[order]
    mean, std = x[:N_TRAIN].mean(axis=0), x[:N_TRAIN].std(axis=0)  # training rows only
    x = (x - mean) / std

    def two_inputs(rows):
        return {"sepal": rows[:, :2], "petal": rows[:, 2:]}

    return ((two_inputs(x[:N_TRAIN]), y[:N_TRAIN]),
            (two_inputs(x[N_TRAIN:]), y[N_TRAIN:]))


def build_model(width: int = 16):
    """Two inputs, a branch each, concatenated, one residual block, softmax."""
    layers = keras.layers
    sepal = keras.Input(shape=(2,), name="sepal")
    petal = keras.Input(shape=(2,), name="petal")
    joined = layers.concatenate([
        layers.Dense(width // 2, activation="tanh", name="sepal_branch")(sepal),
        layers.Dense(width // 2, activation="tanh", name="petal_branch")(petal),
    ])
    residual = layers.Dense(width, activation="tanh", name="residual")(joined)
    hidden = layers.add([joined, residual])  # the skip connection
    species = layers.Dense(3, activation="softmax", name="species")(hidden)
    return keras.Model(inputs=[sepal, petal], outputs=species, name="iris_functional")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0,
                        help="seed for the initial weights and the batch order")
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--save", metavar="PATH", default=None,
                        help="where to save the model (default: a temporary .keras file)")
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_split()
    model = build_model()
    model.summary()
    model.compile(optimizer=keras.optimizers.Adam(),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_data=(x_test, y_test), verbose=0)
    h = history.history
    print(f"after {len(h['loss'])} epochs: loss {h['loss'][-1]:.4f}  "
          f"accuracy {h['accuracy'][-1]:.4f}  val_accuracy {h['val_accuracy'][-1]:.4f}")

    with tempfile.TemporaryDirectory() as scratch:
        path = args.save or os.path.join(scratch, "iris_functional.keras")
        model.save(path)
        reloaded = keras.models.load_model(path)
        same = np.array_equal(reloaded.predict(x_test, verbose=0),
                              model.predict(x_test, verbose=0))
        print(f"saved to {path} and reloaded: identical predictions: {same}")

    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test_accuracy={test_accuracy:.4f} test_loss={test_loss:.4f}")
    return {"test_accuracy": float(test_accuracy), "test_loss": float(test_loss),
            "reloaded_identical": bool(same)}


if __name__ == "__main__":
    main()
