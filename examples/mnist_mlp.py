"""MNIST with the seeds' 784-512-128-10 MLP: sigmoid/ReLU, Adam/SGD, BN, dropout.

The course notes (lectures L-7 to L-11) train a multilayer perceptron with
hidden layers of 512 and 128 units and a softmax output on MNIST, in four
variants, each with Adam and with plain gradient descent, and publish a table
of test accuracies. This script builds the same network with Keras layers:

- `--activation sigmoid|relu`: the hidden layers' activation.
- `--batchnorm`: as in the notes (L-10), each hidden layer's `z = xW + b` is
  batch-normalised *before* the activation (`Dense` -> `BatchNormalization`
  -> `Activation`).
- `--dropout [RATE]`: `Dropout(RATE)` after each hidden layer (RATE 0.5 when
  the flag is given without a value; the notes' `keep_prob` value is not
  written down, 0.5 is the usual one).
- `--optimizer adam|sgd`: Keras's defaults, `Adam(0.001)` or `SGD(0.01)`
  (`--learning-rate` overrides either).

Pixels are scaled to [0, 1]; weights start from Keras's `glorot_uniform` (the notes'
`random_normal(stddev=0.039)` for the first layer is that same Glorot scale,
sqrt(2 / (784 + 512)) = 0.039). The notes do not say how many epochs or how
large the batches were; the defaults here are batches of 128 and 5 epochs for
one run, 20 epochs (as in the second course's notes) for `--table`.

- `--loss crossentropy|notes`: what training minimises. `crossentropy` (the
  default) is Keras's sparse categorical cross-entropy on the softmax. `notes` is the notes' cost: TensorFlow's
  `softmax_cross_entropy_with_logits` applied to the network's output,
  which had already been through a softmax, so the probabilities go through
  a second softmax (`notes_cost` below). The notes' "multiclass logloss" of
  1.48 for every Adam row is this cost (it cannot go below
  log(e + 9) - 1 = 1.461, and is log(10) = 2.303 for a network that outputs
  0.1 for every class), and their SGD rows, which barely trained, are what
  its small gradients give plain gradient descent. With it, the table's
  loss column is comparable with the notes' (`examples/RESULTS.md`).

One run prints one line per epoch (when piped) and ends with
`test_accuracy=... test_loss=...`. `--activation relu --optimizer adam
--epochs 2` gives 0.9755 with the default seed 1 in about 5 s on an idle
two-core CPU; two epochs leave this network near 97.5% (seeds 0-4 gave
97.24, 97.55, 97.58, 97.63 and 97.36%), 20 epochs take it to about 98%.

`--table` trains the notes' eight variants in turn, all with the same
settings (`--loss notes` for the notes' cost), and prints a
Markdown table of kerasette's test loss (the cost trained on) and accuracy
beside the notes' published figures; `examples/RESULTS.md` holds such runs,
with the spread over seeds.

Run:
    python examples/mnist_mlp.py [--activation relu] [--optimizer adam] [--batchnorm]
        [--dropout [0.5]] [--loss crossentropy] [--epochs 5] [--batch-size 128] [--seed 1]
    python examples/mnist_mlp.py --table [--loss notes] [--epochs 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import kerasette as keras

# The notes' table (000_*.txt, L-11): variant -> (multiclass logloss, accuracy %).
SEEDS_TABLE = [
    # activation, optimizer, batchnorm, dropout, notes' logloss, notes' accuracy %
    ("sigmoid", "adam", False, 0.0, 1.48, 97.92),
    ("sigmoid", "sgd", False, 0.0, 2.29, 9.74),
    ("relu", "adam", False, 0.0, 1.48, 97.85),
    ("relu", "sgd", False, 0.0, 1.823, 10.66),
    ("sigmoid", "adam", True, 0.0, 1.48, 98.11),
    ("sigmoid", "sgd", True, 0.0, 2.0606, 12.5),
    ("relu", "adam", False, 0.5, 1.48, 97.59),
    ("relu", "sgd", False, 0.5, 2.14, 65.53),
]


def load_data():
    """MNIST as float32 in [0, 1], images kept 28x28 (the model flattens)."""
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train.astype("float32") / np.float32(255)
    x_test = x_test.astype("float32") / np.float32(255)
    return (x_train, y_train), (x_test, y_test)


def build_model(activation="relu", batchnorm=False, dropout=0.0):
    """784-512-128-10 with the notes' options."""
    L = keras.layers
    layers = [L.Flatten(input_shape=(28, 28))]
    for units in (512, 128):
        if batchnorm:
            layers += [L.Dense(units), L.BatchNormalization(), L.Activation(activation)]
        else:
            layers.append(L.Dense(units, activation=activation))
        if dropout:
            layers.append(L.Dropout(dropout))
    layers.append(L.Dense(10, activation="softmax"))
    return keras.Sequential(layers)


def notes_cost(y_true, y_pred):
    """The notes' cost: softmax cross-entropy of the softmax outputs.

    The notes minimise `tf.nn.softmax_cross_entropy_with_logits(logits=y,
    labels=y_)` where `y` is the network's softmax output, so the
    probabilities are treated as logits and pass through a second softmax.
    (Keras's own cross-entropy with `from_logits=True` would not do this: a
    softmax output carries its logits, and Keras scores those instead.)

    Args:
        y_true: integer class labels, shape `(batch,)`.
        y_pred: the softmax output, shape `(batch, 10)`.

    Returns:
        The per-sample cost, shape `(batch,)`; about 1.46 for a confident
        right answer, log(10) = 2.303 for a uniform output.

    Example:
        >>> import numpy as np
        >>> p = np.array([[1.0] + [0.0] * 9], dtype="float32")
        >>> round(float(notes_cost(np.array([0]), p)[0]), 3)  # log(e + 9) - 1
        1.461
    """
    ops = keras.ops
    labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
    one_hot = ops.one_hot(labels, y_pred.shape[-1], dtype=y_pred.dtype)
    return -ops.sum(one_hot * ops.log_softmax(y_pred), axis=-1)


def make_loss(name):
    """Keras's sparse categorical cross-entropy, or the notes' cost."""
    if name == "crossentropy":
        return "sparse_categorical_crossentropy"
    if name == "notes":
        return notes_cost
    raise ValueError(f"loss must be 'crossentropy' or 'notes', got {name!r}")


def make_optimizer(name, learning_rate=None):
    """Keras's default Adam (0.001) or SGD (0.01), or the given rate."""
    if name == "adam":
        return keras.optimizers.Adam(learning_rate if learning_rate is not None else 0.001)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate if learning_rate is not None else 0.01)
    raise ValueError(f"unknown optimizer {name!r}")


def variant_name(activation, optimizer, batchnorm, dropout):
    name = activation.capitalize()
    if batchnorm:
        name += " + BN"
    if dropout:
        name += f" + dropout({dropout:g})"
    return f"{name} + {'Adam' if optimizer == 'adam' else 'SGD'}"


def train_and_evaluate(data, activation="relu", optimizer="adam", batchnorm=False, dropout=0.0,
                       epochs=5, batch_size=128, seed=1, learning_rate=None, verbose="auto",
                       loss="crossentropy"):
    """Trains one variant from `seed`; returns `(test_loss, test_accuracy)`."""
    (x_train, y_train), (x_test, y_test) = data
    keras.utils.set_random_seed(seed)
    model = build_model(activation, batchnorm, dropout)
    model.compile(optimizer=make_optimizer(optimizer, learning_rate),
                  loss=make_loss(loss), metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=verbose)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    return float(test_loss), float(test_accuracy)


def run_table(data, epochs, batch_size, seed, dropout_rate=0.5, loss="crossentropy"):
    """Trains the notes' eight variants; prints and returns the Markdown table."""
    rows = []
    start = time.perf_counter()
    for activation, optimizer, batchnorm, dropout, seeds_loss, seeds_acc in SEEDS_TABLE:
        dropout = dropout_rate if dropout else 0.0
        name = variant_name(activation, optimizer, batchnorm, dropout)
        t0 = time.perf_counter()
        test_loss, accuracy = train_and_evaluate(data, activation, optimizer, batchnorm, dropout,
                                                 epochs=epochs, batch_size=batch_size,
                                                 seed=seed, verbose=0, loss=loss)
        seconds = time.perf_counter() - t0
        print(f"{name}: test_accuracy={accuracy:.4f} test_loss={test_loss:.4f} ({seconds:.0f} s)",
              flush=True)
        rows.append({"variant": name, "seeds_logloss": seeds_loss, "seeds_accuracy": seeds_acc,
                     "test_loss": test_loss, "test_accuracy": accuracy, "seconds": seconds})
    wall = time.perf_counter() - start
    lines = [
        ("| variant | notes' logloss | notes' accuracy | kerasette test loss "
         "| kerasette test accuracy | at least the notes' | time |"),
        "| --- | ---: | ---: | ---: | ---: | :---: | ---: |",
    ]
    for r in rows:
        ok = "yes" if round(100 * r["test_accuracy"], 2) >= r["seeds_accuracy"] else "no"
        lines.append(f"| {r['variant']} | {r['seeds_logloss']:g} | {r['seeds_accuracy']:.2f}% "
                     f"| {r['test_loss']:.4f} | {100 * r['test_accuracy']:.2f}% | {ok} "
                     f"| {r['seconds']:.0f} s |")
    table = "\n".join(lines)
    print()
    cost = ("the notes' cost (softmax cross-entropy of the softmax outputs)" if loss == "notes"
            else "sparse categorical cross-entropy")
    print(f"Settings: {epochs} epochs, batch size {batch_size}, seed {seed}, {cost}, "
          f"Adam(0.001) / SGD(0.01) (Keras defaults), glorot_uniform weights, dropout rate "
          f"{dropout_rate:g}, pixels in [0, 1]. Wall time {wall:.0f} s.")
    print()
    print(table)
    return {"rows": rows, "wall_time_s": wall, "table": table}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activation", choices=["sigmoid", "relu"], default="relu")
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    parser.add_argument("--batchnorm", action="store_true",
                        help="batch-normalise each hidden layer before its activation")
    parser.add_argument("--dropout", type=float, nargs="?", const=0.5, default=0.0,
                        metavar="RATE", help="dropout after each hidden layer (0.5 if no RATE)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="training epochs (default 5, or 20 with --table)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="override the optimizer's default rate (one run only)")
    parser.add_argument("--loss", choices=["crossentropy", "notes"], default="crossentropy",
                        help="what training minimises: Keras's cross-entropy (default) or "
                             "the notes' cost")
    parser.add_argument("--table", action="store_true",
                        help="train the notes' eight variants and print the comparison table")
    parser.add_argument("--verbose", default="auto", help="fit's verbosity: auto, 0, 1 or 2")
    args = parser.parse_args(argv)
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)

    data = load_data()
    if args.table:
        epochs = args.epochs if args.epochs is not None else 20
        return run_table(data, epochs, args.batch_size, args.seed,
                         dropout_rate=args.dropout or 0.5, loss=args.loss)

    epochs = args.epochs if args.epochs is not None else 5
    cost = ", the notes' cost" if args.loss == "notes" else ""
    print(f"{variant_name(args.activation, args.optimizer, args.batchnorm, args.dropout)}, "
          f"{epochs} epochs, batch size {args.batch_size}, seed {args.seed}{cost}")
    test_loss, test_accuracy = train_and_evaluate(
        data, args.activation, args.optimizer, args.batchnorm, args.dropout, epochs=epochs,
        batch_size=args.batch_size, seed=args.seed, learning_rate=args.learning_rate,
        verbose=verbose, loss=args.loss)
    print(f"test_accuracy={test_accuracy:.4f} test_loss={test_loss:.4f}")
    return {"test_accuracy": test_accuracy, "test_loss": test_loss}


if __name__ == "__main__":
    main()
