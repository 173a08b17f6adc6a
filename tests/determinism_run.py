"""A small training run whose results must repeat bit for bit (test_determinism).

Run as a script it writes them to an `.npz` file:

    python determinism_run.py SEED OUT.npz

Imported, `run(seed)` returns them as a dict of NumPy arrays. The run has
everything random that `fit` does: initial weights, Dropout masks, shuffling
(`shuffle=True`), a validation split, and BatchNormalization statistics.
"""

from __future__ import annotations

import sys

import numpy as np

import kerasette as keras


def run(seed: int) -> dict:
    """Trains a small model after `set_random_seed(seed)`; returns its results.

    Returns:
        `w0, w1, ...` (the weights, moving statistics included), `o0, ...`
        (the optimizer variables), `h_<name>` (each history list) and
        `predictions`, all NumPy arrays.
    """
    data = np.random.default_rng(0)  # the data is fixed; only the seed varies
    x = data.normal(size=(200, 6)).astype("float32")
    y = data.integers(0, 3, size=200)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.layers.Dense(16, activation="relu", input_shape=(6,)),
        keras.layers.Dropout(0.3),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=True, validation_split=0.2,
                        verbose=0)
    out = {f"w{i}": np.array(w) for i, w in enumerate(model.get_weights())}
    out.update({f"o{i}": v.numpy() for i, v in enumerate(model.optimizer.variables)})
    out.update({f"h_{k}": np.array(v, dtype=np.float64) for k, v in history.history.items()})
    out["predictions"] = model.predict(x, verbose=0)
    return out


def main(argv: list[str]) -> None:
    seed, path = int(argv[0]), argv[1]
    np.savez(path, **run(seed))


if __name__ == "__main__":
    main(sys.argv[1:])
