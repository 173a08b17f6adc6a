"""Save a trained model to `.h5`, load it back, and carry on training.

The course notes end the Iris lecture with `keras_model.save("IrisModel")`
and `model2 = keras.models.load_model('IrisModel')`. This script trains the
notes' Iris network (4-20-20-3 tanh, L2(0.001), Dropout(0.5), Adam, batches
of 20, the standardised 120/30 split of `examples/iris.py`) for half of its
epochs, then

1. saves it with `model.save(path)` in Keras's HDF5 format (the JSON
   architecture, the weights, the compile settings and Adam's state);
2. loads it with `keras.models.load_model(path)` and checks that the loaded
   model's predictions equal the original's bit for bit;
3. trains both the original and the loaded model for the remaining epochs
   from the same random seed, and checks that they end with identical
   weights: loading restores Adam's moments and step count, so training
   resumes exactly where it stopped;
4. evaluates the loaded, further-trained model on the 30 test flowers.

Expect "identical: True" twice and `test_accuracy=0.9667`, in a few seconds.

The file is written in tf.keras 2's dialect of the format, the one both real
Keras versions read: `tf.keras.models.load_model(path)` opens it in
TensorFlow 2.21's tf.keras (the `tf_keras` package), and
`keras.models.load_model(path)` opens it in Keras 3 (whose loader needs the
`.h5`/`.hdf5` suffix), each giving the same architecture and weights and so
the same predictions up to float rounding. (Adam's state is written too, in
tf.keras's naming: kerasette restores it exactly, as step 3 shows; real
Keras may start its optimizer afresh.) kerasette also loads `.h5` files
written by either real Keras. The file goes to `--out` (by default a fresh
temporary folder, printed at the end, never the current directory).

The last line printed is `test_accuracy=... test_loss=...`.

Run:
    python examples/save_and_load.py [--out /tmp/iris_model.h5] [--epochs 300] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import tempfile

import numpy as np

import kerasette as keras

SPLIT_SEED = 0  # as examples/iris.py


def load_split():
    (x, y), _ = keras.datasets.iris.load_data()
    x = np.asarray(x, dtype="float32")
    y = np.asarray(y, dtype="int64")
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    x, y = x[order], y[order]
    x_train, y_train, x_test, y_test = x[:120], y[:120], x[120:], y[120:]
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    return (x_train - mean) / std, y_train, (x_test - mean) / std, y_test


def build_model(k_l2=0.001):
    L = keras.layers
    l2 = keras.regularizers.l2
    model = keras.Sequential([
        L.Dense(20, activation="tanh", input_shape=(4,), kernel_regularizer=l2(k_l2)),
        L.Dropout(0.5),
        L.Dense(20, activation="tanh", kernel_regularizer=l2(k_l2)),
        L.Dropout(0.5),
        L.Dense(3, activation="softmax", kernel_regularizer=l2(k_l2)),
    ])
    model.compile(optimizer=keras.optimizers.Adam(),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None,
                        help="the .h5 file to write (default: in a new temporary folder)")
    parser.add_argument("--epochs", type=int, default=300,
                        help="total epochs: half before saving, half after loading")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = args.out or os.path.join(tempfile.mkdtemp(prefix="kerasette_"), "iris_model.h5")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    first = args.epochs // 2
    rest = args.epochs - first

    x_train, y_train, x_test, y_test = load_split()
    fit_args = {"batch_size": 20, "validation_data": (x_test, y_test), "verbose": 0}

    keras.utils.set_random_seed(args.seed)
    model = build_model()
    model.fit(x_train, y_train, epochs=first, **fit_args)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"after {first} epochs: test_accuracy={accuracy:.4f} test_loss={loss:.4f}")

    model.save(path)
    print(f"saved to {path} ({os.path.getsize(path)} bytes)")
    loaded = keras.models.load_model(path)
    print(f"loaded: {len(loaded.layers)} layers, {loaded.count_params()} parameters, "
          f"optimizer {type(loaded.optimizer).__name__} at step "
          f"{int(loaded.optimizer.iterations.numpy())}")

    before = model.predict(x_test, verbose=0)
    after = loaded.predict(x_test, verbose=0)
    same_predictions = bool(np.array_equal(before, after))
    print(f"predictions of the loaded model identical: {same_predictions} "
          f"(largest difference {float(np.max(np.abs(before - after))):.1e})")

    # Carry on training both, from the same seed (same batch order and
    # dropout masks): the loaded model continues exactly as the original.
    keras.utils.set_random_seed(args.seed + 1)
    model.fit(x_train, y_train, epochs=rest, **fit_args)
    keras.utils.set_random_seed(args.seed + 1)
    history = loaded.fit(x_train, y_train, epochs=rest, **fit_args)
    same_resume = all(np.array_equal(a, b)
                      for a, b in zip(model.get_weights(), loaded.get_weights()))
    print(f"after {rest} more epochs, weights of original and loaded model identical: "
          f"{same_resume}")
    print(f"loaded model's last epoch: loss {history.history['loss'][-1]:.4f}  "
          f"val_accuracy {history.history['val_accuracy'][-1]:.4f}")
    print(f"the file stays at {path}; in TensorFlow: tf.keras.models.load_model({path!r})")

    test_loss, test_accuracy = loaded.evaluate(x_test, y_test, verbose=0)
    print(f"test_accuracy={test_accuracy:.4f} test_loss={test_loss:.4f}")
    return {"test_accuracy": float(test_accuracy), "test_loss": float(test_loss),
            "identical_predictions": same_predictions, "identical_resume": same_resume,
            "path": path}


if __name__ == "__main__":
    main()
