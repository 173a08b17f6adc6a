"""MNIST with the courses' small convolutional network.

Two convolution blocks and a small classifier, the network the courses
build (Keras's "simple MNIST convnet" is the same without the Dense(128)):

    Conv2D(32, 3, relu) -> MaxPooling2D(2) -> Conv2D(64, 3, relu)
    -> MaxPooling2D(2) -> Flatten -> Dense(128, relu) -> Dropout(0.5)
    -> Dense(10, softmax)

on 28x28x1 images (a channel axis is added to the grayscale pixels, which
are scaled to [0, 1]), trained with Adam(0.001) on sparse categorical
cross-entropy, batches of 128. The model has 225,034 parameters.

The default run (5 epochs, seed 1) ends with `test_accuracy=0.9911
test_loss=0.0260`; one epoch gives 0.9815. An epoch of 469 batches takes
about 10.2 s on two idle CPU cores (1.04x PyTorch's time for the same
network in `benchmarks/run.py`, `benchmarks/RESULTS.md` run 5). Threaded BLAS
stalls when its threads must share cores with other jobs, so on a busy
machine `fit` lowers its BLAS thread count itself (README, Performance,
"A busy machine"); `KERASETTE_BLAS_THREADS=N` fixes the count, which
bit-for-bit repeats under a changing load need.

The last line printed is `test_accuracy=... test_loss=...`.

Run:
    python examples/mnist_cnn.py [--epochs 5] [--batch-size 128] [--seed 1]
        [--learning-rate 0.001] [--limit N] [--verbose auto|0|1|2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import kerasette as keras


def load_data(limit=None):
    """MNIST as float32 `(n, 28, 28, 1)` in [0, 1], with integer labels.

    Args:
        limit: keep only the first `limit` training images (quick runs).
    """
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
    scale = np.float32(1.0 / 255.0)
    x_train = x_train.astype("float32")[..., None] * scale
    x_test = x_test.astype("float32")[..., None] * scale
    return (x_train, y_train), (x_test, y_test)


def build_model():
    """The two-block CNN above."""
    L = keras.layers
    return keras.Sequential([
        L.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
        L.MaxPooling2D(2),
        L.Conv2D(64, 3, activation="relu"),
        L.MaxPooling2D(2),
        L.Flatten(),
        L.Dense(128, activation="relu"),
        L.Dropout(0.5),
        L.Dense(10, activation="softmax"),
    ])


class EpochTimer(keras.callbacks.Callback):
    """Records the wall time of each epoch."""

    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None,
                        help="train on the first N images only (quick checks)")
    parser.add_argument("--verbose", default="auto", help="fit's verbosity: auto, 0, 1 or 2")
    args = parser.parse_args(argv)
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_data(args.limit)
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = EpochTimer()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              verbose=verbose, callbacks=[timer])
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=256, verbose=0)
    per_epoch = sum(timer.times) / max(len(timer.times), 1)
    print(f"seconds_per_epoch={per_epoch:.1f}")
    print(f"test_accuracy={test_accuracy:.4f} test_loss={test_loss:.4f}")
    return {"test_accuracy": float(test_accuracy), "test_loss": float(test_loss),
            "seconds_per_epoch": per_epoch}


if __name__ == "__main__":
    main()
