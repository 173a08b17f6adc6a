"""MNIST read row by row: an LSTM over 28 steps of 28 pixels.

The courses' first recurrent network: each image is a sequence of its 28
rows, each row a vector of 28 pixels in [0, 1], and an LSTM reads the rows
top to bottom; its last state classifies the digit:

    LSTM(128) -> Dense(10, softmax)

trained with Adam(0.001) on sparse categorical cross-entropy, batches of
128. The model has 81,674 parameters.

The default run (4 epochs, seed 1) ends with `test_accuracy=0.9731
test_loss=0.0836`; an epoch took about 10 s on the 2-core development
machine while other jobs ran. The last line printed is
`test_accuracy=... test_loss=...`.

Run:
    python examples/mnist_lstm.py [--epochs 4] [--batch-size 128] [--seed 1]
        [--units 128] [--limit N] [--verbose auto|0|1|2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import kerasette as keras


def load_data(limit=None):
    """MNIST as float32 `(n, 28, 28)` sequences in [0, 1], integer labels.

    Args:
        limit: keep only the first `limit` training images (quick runs).
    """
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
    scale = np.float32(1.0 / 255.0)
    return ((x_train.astype("float32") * scale, y_train),
            (x_test.astype("float32") * scale, y_test))


def build_model(units=128):
    """An LSTM over the 28 rows, then a softmax over the 10 digits."""
    return keras.Sequential([
        keras.Input(shape=(28, 28)),
        keras.layers.LSTM(units),
        keras.layers.Dense(10, activation="softmax"),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first N images only (quick checks)")
    parser.add_argument("--verbose", default="auto", help="fit's verbosity: auto, 0, 1 or 2")
    args = parser.parse_args(argv)
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_data(args.limit)
    model = build_model(args.units)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              verbose=verbose)
    per_epoch = (time.perf_counter() - start) / max(args.epochs, 1)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    print(f"seconds_per_epoch={per_epoch:.1f}")
    print(f"test_accuracy={test_accuracy:.4f} test_loss={test_loss:.4f}")
    return {"test_accuracy": float(test_accuracy), "test_loss": float(test_loss),
            "seconds_per_epoch": per_epoch}


if __name__ == "__main__":
    main()
