"""IMDB movie reviews for sentiment classification, as `keras.datasets.imdb`."""

from __future__ import annotations

import json

from kerasette.datasets import _cache, _ragged

__all__ = ["get_word_index", "load_data"]

ORIGIN = _cache.KERAS_ORIGIN + "imdb.npz"
# The sha256 that Keras's loader states for imdb.npz. The file holds pickled
# object arrays, so no other file is ever read (see `_ragged`).
FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_ORIGIN = _cache.KERAS_ORIGIN + "imdb_word_index.json"
# Keras states an md5 for the word index (plain JSON: nothing runs when read).
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, cache_dir=None, **kwargs):
    """Loads the IMDB data set: 25,000 training and 25,000 test reviews.

    Each review is a list of word indexes; words are ranked by how often
    they occur, so index `3 + k` (with the defaults) is the `k`-th most
    frequent word (`get_word_index()` gives the ranks). Labels are 1 for a
    positive review and 0 for a negative one. The result is tf.keras 2's
    for the same arguments: the same shuffle (`np.random.RandomState(seed)`,
    training set first), the same coding, the same cuts.

    The file `imdb.npz` is looked for in `$KERASETTE_HOME/datasets/`
    (default `~/.kerasette/datasets/`, or `<cache_dir>/datasets/`) and
    downloaded there from Keras's public copy when missing, with a progress
    bar. It holds pickled object arrays, and unpickling a file can run code,
    so kerasette reads only the file whose sha256 is the one Keras states
    (a copy from `~/.keras/datasets/` works), and even then lets its pickles
    build nothing but NumPy arrays.

    Args:
        path: the file's name in the cache folder (an absolute path is used
            as it is).
        num_words: None or an int: keep words with an index below
            `num_words` (after `index_from` is added); others become
            `oov_char`. None keeps all but the largest index (as Keras).
        skip_top: indexes below it become `oov_char` too (the start
            character included, when `skip_top > start_char`, as Keras).
        maxlen: None or an int: drop every review whose length (with its
            start character) is `maxlen` or more. Keras drops them rather
            than truncating; use `pad_sequences(..., maxlen=...)` to cut.
        seed: the seed of the shuffle.
        start_char: put at the start of every review (None: nothing).
        oov_char: stands for the words cut by `num_words` or `skip_top`;
            None drops them.
        index_from: added to every word index (indexes below it are left
            for padding, start and out-of-vocabulary).
        cache_dir: a folder used instead of `$KERASETTE_HOME` (the file is
            then `<cache_dir>/datasets/<path>`).
        **kwargs: `nb_words`, Keras 1's name for `num_words` (logs a
            warning); any other name is a `TypeError`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x_*` are 1-D object arrays
        of Python lists of ints; `y_*` are int NumPy arrays of 0 and 1.

    Raises:
        DatasetUnavailableError: (an `OSError`) no good copy is cached and
            none could be downloaded; the message says where to put the file.
        ValueError: a bad argument (before any download), or `maxlen` so
            small that no review is left.

    Example:
        ```python
        (x_train, y_train), (x_test, y_test) = keras.datasets.imdb.load_data(num_words=10000)
        x_train = keras.utils.pad_sequences(x_train, maxlen=200)
        ```

    The data come from Andrew Maas et al., "Learning Word Vectors for
    Sentiment Analysis" (ACL 2011), https://ai.stanford.edu/~amaas/data/sentiment/.
    """
    num_words, rng = _ragged.check_load_args(kwargs, num_words, skip_top, maxlen, seed,
                                             start_char, oov_char, index_from)
    f = _ragged.fetch_arrays("IMDB", path, ORIGIN, FILE_HASH,
                             ("x_train", "y_train", "x_test", "y_test"), cache_dir=cache_dir)
    parts = []
    for split in ("train", "test"):
        xs, ys = f[f"x_{split}"], f[f"y_{split}"]
        if len(xs) != len(ys):
            raise ValueError(f"IMDB: x_{split} has {len(xs)} reviews but y_{split} "
                             f"{len(ys)} labels")
        # One generator for both shuffles, training set first (as Keras).
        indices = _ragged.shuffled_indices(rng, len(xs))
        parts.append((xs[indices], ys[indices]))
    (x_train, y_train), (x_test, y_test) = _ragged.encode(
        parts, title="IMDB", num_words=num_words, skip_top=skip_top, maxlen=maxlen,
        start_char=start_char, oov_char=oov_char, index_from=index_from,
        empty_message=(f"After filtering for sequences shorter than maxlen={maxlen}, "
                       "no sequence was kept. Increase maxlen."))
    return ((_ragged.to_object_array(x_train), y_train),
            (_ragged.to_object_array(x_test), y_test))


def get_word_index(path="imdb_word_index.json"):
    """The IMDB word index: a dict from each word to its frequency rank (from 1).

    The rank in the data is `rank + index_from` (3 by default); to decode a
    review, invert the dict and shift it (see the example). Downloaded once
    from Keras's public copy into `$KERASETTE_HOME/datasets/` and checked
    by the md5 that Keras states.

    Args:
        path: the file's name in the cache folder.

    Returns:
        A dict `{word: rank}`.

    Example:
        ```python
        word_index = keras.datasets.imdb.get_word_index()
        words = {rank + 3: word for word, rank in word_index.items()}
        words.update({0: "[PAD]", 1: "[START]", 2: "[OOV]"})
        (x_train, _), _ = keras.datasets.imdb.load_data()
        print(" ".join(words.get(i, "?") for i in x_train[0]))
        ```
    """
    fpath = _cache.fetch("The IMDB word index", path, WORD_INDEX_ORIGIN, WORD_INDEX_HASH,
                         hash_algorithm="md5")
    with open(fpath, encoding="utf-8") as f:
        return json.load(f)
