"""Reuters newswires labelled over 46 topics, as `keras.datasets.reuters`."""

from __future__ import annotations

import json

from kerasette.datasets import _cache, _ragged

__all__ = ["get_label_names", "get_word_index", "load_data"]

ORIGIN = _cache.KERAS_ORIGIN + "reuters.npz"
# The sha256 that Keras's loader states for reuters.npz (pickled object
# arrays: no other file is ever read, see `_ragged`).
FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_ORIGIN = _cache.KERAS_ORIGIN + "reuters_word_index.json"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"  # md5, as Keras states it

LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3, cache_dir=None, **kwargs):
    """Loads the Reuters newswire data set: 11,228 newswires over 46 topics.

    Each newswire is a list of word indexes, words ranked by frequency as in
    `imdb.load_data`; labels are topic numbers 0..45 (`get_label_names()`).
    The newswires are shuffled with `np.random.RandomState(seed)` and the
    last `test_split` of them are the test set; the result is tf.keras 2's
    for the same arguments.

    The file `reuters.npz` is looked for in `$KERASETTE_HOME/datasets/`
    (default `~/.kerasette/datasets/`, or `<cache_dir>/datasets/`) and
    downloaded from Keras's public copy when missing. As with IMDB it holds
    pickled object arrays, so only the file with Keras's sha256 is read, and
    its pickles may build nothing but NumPy arrays.

    Args:
        path: the file's name in the cache folder (an absolute path is used
            as it is).
        num_words: None or an int: keep words with an index below it; others
            become `oov_char`. None keeps all but the largest index (as Keras).
        skip_top: indexes below it become `oov_char` too.
        maxlen: None or an int: drop every newswire whose length (with its
            start character) is `maxlen` or more.
        test_split: the fraction in [0, 1] of newswires in the test set.
        seed: the seed of the shuffle.
        start_char: put at the start of every newswire (None: nothing).
        oov_char: stands for the words cut by `num_words` or `skip_top`;
            None drops them.
        index_from: added to every word index.
        cache_dir: a folder used instead of `$KERASETTE_HOME`.
        **kwargs: `nb_words`, Keras 1's name for `num_words` (logs a
            warning); any other name is a `TypeError`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: `x_*` are 1-D object arrays
        of Python lists of ints; `y_*` are int NumPy arrays of topic numbers.

    Raises:
        DatasetUnavailableError: (an `OSError`) no good copy is cached and
            none could be downloaded; the message says where to put the file.
        ValueError: a bad argument (before any download), or `maxlen` so
            small that no newswire is left.

    Example:
        ```python
        (x_train, y_train), (x_test, y_test) = keras.datasets.reuters.load_data(
            num_words=10000, test_split=0.2)
        len(x_train), len(x_test)  # (8982, 2246)
        ```
    """
    num_words, rng = _ragged.check_load_args(kwargs, num_words, skip_top, maxlen, seed,
                                             start_char, oov_char, index_from)
    if isinstance(test_split, bool) or not isinstance(test_split, (int, float)) \
            or not 0 <= test_split <= 1:
        raise ValueError("Argument `test_split` must be a float in [0, 1]. "
                         f"Received: test_split={test_split!r}")
    f = _ragged.fetch_arrays("Reuters", path, ORIGIN, FILE_HASH, ("x", "y"),
                             cache_dir=cache_dir)
    xs, labels = f["x"], f["y"]
    if len(xs) != len(labels):
        raise ValueError(f"Reuters: x has {len(xs)} newswires but y {len(labels)} labels")
    indices = _ragged.shuffled_indices(rng, len(xs))
    [(xs, labels)] = _ragged.encode(
        [(xs[indices], labels[indices])], title="Reuters", num_words=num_words,
        skip_top=skip_top, maxlen=maxlen, start_char=start_char, oov_char=oov_char,
        index_from=index_from)
    idx = int(len(xs) * (1 - test_split))
    return ((_ragged.to_object_array(xs[:idx]), labels[:idx]),
            (_ragged.to_object_array(xs[idx:]), labels[idx:]))


def get_word_index(path="reuters_word_index.json"):
    """The Reuters word index: a dict from each word to its frequency rank (from 1).

    In the data a word's index is `rank + index_from` (3 by default: 0 is
    padding, 1 the start, 2 out of vocabulary). Downloaded once from Keras's
    public copy into `$KERASETTE_HOME/datasets/`, checked by the md5 that
    Keras states.

    Args:
        path: the file's name in the cache folder.

    Returns:
        A dict `{word: rank}`.

    Example:
        ```python
        word_index = keras.datasets.reuters.get_word_index()
        words = {rank + 3: word for word, rank in word_index.items()}
        ```
    """
    fpath = _cache.fetch("The Reuters word index", path, WORD_INDEX_ORIGIN, WORD_INDEX_HASH,
                         hash_algorithm="md5")
    with open(fpath, encoding="utf-8") as f:
        return json.load(f)


def get_label_names():
    """The 46 topic names, in label order (a tuple, as Keras).

    Example:
        >>> names = get_label_names()
        >>> len(names), names[3], names[4]
        (46, 'earn', 'acq')
    """
    return LABEL_NAMES
