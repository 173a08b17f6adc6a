"""IMDB sentiment: an Embedding and an LSTM over movie reviews.

The courses' text classifier: the 25,000 training reviews of
`keras.datasets.imdb`, each a list of word ranks, keeping the 20,000 most
frequent words and padding or cutting every review to its last 200 words
(`keras.utils.pad_sequences`), then

    Embedding(20000, 128) -> LSTM(128) -> Dense(1, sigmoid)

trained with Adam(0.001) on binary cross-entropy, batches of 64, with 20%
of the training reviews held out for validation.

The data set is downloaded once (17 MB) into kerasette's cache
(`$KERASETTE_HOME/datasets/imdb.npz`; a copy from `~/.keras/datasets/`
works too). Without it and without a network the script says so in one line
and stops. The benchmark's speed rows (`benchmarks/bench_rnn.py`) use
synthetic ids of the same shape, since the test machines have no network.

The last line printed is `test_accuracy=... test_loss=...`.

Run:
    python examples/imdb_lstm.py [--epochs 2] [--batch-size 64] [--maxlen 200]
        [--num-words 20000] [--seed 1] [--limit N] [--verbose auto|0|1|2]
"""

from __future__ import annotations

import argparse
import sys

import kerasette as keras


def load_data(num_words=20000, maxlen=200, limit=None):
    """Padded `(n, maxlen)` int32 ids and 0/1 labels, training and test."""
    (x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=num_words)
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
        x_test, y_test = x_test[:limit], y_test[:limit]
    pad = keras.utils.pad_sequences
    return (pad(x_train, maxlen=maxlen), y_train), (pad(x_test, maxlen=maxlen), y_test)


def build_model(num_words=20000, units=128):
    """Embedding, LSTM, one sigmoid unit."""
    return keras.Sequential([
        keras.layers.Embedding(num_words, 128),
        keras.layers.LSTM(units),
        keras.layers.Dense(1, activation="sigmoid"),
    ])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--maxlen", type=int, default=200)
    parser.add_argument("--num-words", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--limit", type=int, default=None, help="use the first N reviews only")
    parser.add_argument("--verbose", default="auto", help="fit's verbosity: auto, 0, 1 or 2")
    args = parser.parse_args(argv)
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)

    try:
        (x_train, y_train), (x_test, y_test) = load_data(args.num_words, args.maxlen, args.limit)
    except OSError as err:  # DatasetUnavailableError: no cached copy and no network
        print(f"imdb_lstm: the IMDB data set is not available here ({err})", file=sys.stderr)
        return None
    keras.utils.set_random_seed(args.seed)
    model = build_model(args.num_words)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001),
                  loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              validation_split=0.2, verbose=verbose)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    print(f"test_accuracy={test_accuracy:.4f} test_loss={test_loss:.4f}")
    return {"test_accuracy": float(test_accuracy), "test_loss": float(test_loss)}


if __name__ == "__main__":
    main()
