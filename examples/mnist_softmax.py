"""MNIST softmax regression: the seeds' 784-10 network, `y = softmax(xW + b)`.

The course notes (lecture L-6) build the classic TensorFlow 1 tutorial:
`W = tf.zeros([784, 10])`, `b = tf.zeros([10])`,
`y = tf.nn.softmax(tf.matmul(x, W) + b)`, the mean cross-entropy
`-sum(y_ * log(y))`, and `tf.train.GradientDescentOptimizer(0.05)` run for
1000 steps on mini-batches of 100, with pixels scaled to [0, 1]. Here that is
one `Dense(10, activation="softmax", kernel_initializer="zeros")` after a
`Flatten`, trained by `fit` with `SGD(0.05)` and `batch_size=100`. The notes'
1000 steps of 100 images are 1.67 epochs of the 60,000 training images; the
default here is 2 epochs.

Expect 0.904 test accuracy after the default 2 epochs (0.893 after 1) in
about two seconds; `--epochs 10` gives 0.918, and the original TensorFlow
tutorial's rate, `--learning-rate 0.5`, 0.915 after 2 epochs and 0.923
after 10. Softmax regression on MNIST tops out near 0.92-0.93 (the second
course's notes say "70-95%").
The last line printed is `test_accuracy=... test_loss=...`.

Run:
    python examples/mnist_softmax.py [--epochs 2] [--learning-rate 0.05] [--batch-size 100]
"""

from __future__ import annotations

import argparse

import numpy as np

import kerasette as keras


def load_data():
    """MNIST as float32 in [0, 1], images kept 28x28 (the model flattens)."""
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train.astype("float32") / np.float32(255)
    x_test = x_test.astype("float32") / np.float32(255)
    return (x_train, y_train), (x_test, y_test)


def build_model():
    """784-10 softmax regression with the notes' zero initial weights."""
    return keras.Sequential([
        keras.layers.Flatten(input_shape=(28, 28)),
        keras.layers.Dense(10, activation="softmax", kernel_initializer="zeros"),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=0.05,
                        help="plain SGD step, as GradientDescentOptimizer(0.05)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the batch order")
    parser.add_argument("--verbose", default="auto",
                        help="fit's verbosity: auto, 0, 1 or 2")
    args = parser.parse_args(argv)
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_data()
    model = build_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=args.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              verbose=verbose)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test_accuracy={test_accuracy:.4f} test_loss={test_loss:.4f}")
    return {"test_accuracy": float(test_accuracy), "test_loss": float(test_loss)}


if __name__ == "__main__":
    main()
