"""Text utilities, as `keras.preprocessing.text`: `Tokenizer` and friends.

The same algorithms as tf.keras 2 (`tf_keras/preprocessing/text.py`), so
word indexes, sequences and matrices equal Keras's for the same texts:

- words are numbered from 1 by count, most frequent first; equal counts
  keep the order in which the words first appeared. `0` is never a word.
- `oov_token`, when given, is index 1 and every word moves up by one.
- `num_words` does not shorten `word_index`; it applies when texts are
  turned into sequences or matrices: only indexes below `num_words` are
  kept (the `num_words - 1` most frequent words, the OOV token included).
- tf-idf: `(1 + log(count)) * log(1 + documents / (1 + documents_with_word))`.

Example:
    >>> tokenizer = Tokenizer(num_words=3, oov_token="<OOV>")
    >>> tokenizer.fit_on_texts(["the cat sat", "the cat ran", "the dog"])
    >>> tokenizer.word_index
    {'<OOV>': 1, 'the': 2, 'cat': 3, 'sat': 4, 'ran': 5, 'dog': 6}
    >>> tokenizer.texts_to_sequences(["the dog sat on the mat"])
    [[2, 1, 1, 1, 2, 1]]
"""

from __future__ import annotations

import collections
import hashlib
import json
import warnings

import numpy as np

from kerasette.preprocessing._checks import check_int

__all__ = ["Tokenizer", "hashing_trick", "one_hot", "text_to_word_sequence",
           "tokenizer_from_json"]

FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
MODES = ("binary", "count", "tfidf", "freq")


def text_to_word_sequence(input_text, filters=FILTERS, lower=True, split=" "):
    r"""Converts a text to a list of words.

    Every character of `filters` becomes a separator; the text is then split
    on `split` and empty pieces are dropped.

    Args:
        input_text: the text (a string).
        filters: the characters to remove, as a string (or a list of
            characters). Default: ASCII punctuation except `'`, plus tab
            and newline.
        lower: whether to lowercase the text first.
        split: the separator between words.

    Returns:
        A list of words (strings).

    Example:
        >>> text_to_word_sequence("This is a sample sentence.")
        ['this', 'is', 'a', 'sample', 'sentence']
    """
    if lower:
        input_text = input_text.lower()
    input_text = input_text.translate(str.maketrans({c: split for c in filters}))
    return [word for word in input_text.split(split) if word]


def _md5(word: str) -> int:
    return int(hashlib.md5(word.encode()).hexdigest(), 16)


def hashing_trick(text, n, hash_function=None, filters=FILTERS, lower=True, split=" ",
                  analyzer=None):
    """Converts a text to a list of word indexes in `[1, n - 1]` by hashing.

    Each word `w` becomes `hash_function(w) % (n - 1) + 1`; different words
    may share an index (a hash collision), and `0` is never used.

    Args:
        text: the text (a string).
        n: the size of the hashing space, an int >= 2.
        hash_function: `None` for Python's `hash` (randomized per process
            for strings unless `PYTHONHASHSEED` is set, so indexes change
            between runs), `"md5"` for a stable hash (the integer value of
            the word's UTF-8 MD5 digest), or any function from a string to
            an int.
        filters: characters to remove (see `text_to_word_sequence`).
        lower: whether to lowercase the text first.
        split: the separator between words.
        analyzer: a function from the text to its list of words, used
            instead of `text_to_word_sequence`.

    Returns:
        A list of ints in `[1, n - 1]`, one per word.

    Example:
        >>> hashing_trick("The cat, the hat", 10, hash_function="md5")
        [6, 3, 6, 6]
    """
    n = check_int(n, "n", minimum=2)
    if hash_function is None:
        hash_function = hash
    elif isinstance(hash_function, str):
        if hash_function != "md5":
            raise ValueError('Argument `hash_function` must be None, "md5" or a function from '
                             f"a string to an int. Received: hash_function={hash_function!r}")
        hash_function = _md5
    elif not callable(hash_function):
        raise ValueError('Argument `hash_function` must be None, "md5" or a function from a '
                         f"string to an int. Received: hash_function={hash_function!r}")
    if analyzer is None:
        words = text_to_word_sequence(text, filters=filters, lower=lower, split=split)
    else:
        words = analyzer(text)
    return [hash_function(w) % (n - 1) + 1 for w in words]


def one_hot(input_text, n, filters=FILTERS, lower=True, split=" ", analyzer=None):
    """Encodes a text as a list of word indexes in `[1, n - 1]` (a hashing trick).

    Despite the name, no one-hot vectors: this is `hashing_trick` with
    Python's `hash`, as in Keras. Python randomizes string hashes per
    process, so the indexes differ between runs (and from Keras's) unless
    `PYTHONHASHSEED` is fixed before Python starts; within one process they
    are consistent. For stable indexes use
    `hashing_trick(text, n, hash_function="md5")`.

    Args:
        input_text: the text (a string).
        n: the size of the hashing space, an int >= 2.
        filters: characters to remove (see `text_to_word_sequence`).
        lower: whether to lowercase the text first.
        split: the separator between words.
        analyzer: a function from the text to its list of words.

    Returns:
        A list of ints in `[1, n - 1]`, one per word.

    Example:
        >>> codes = one_hot("the cat and the hat", 50)
        >>> len(codes), codes[0] == codes[3], all(1 <= c < 50 for c in codes)
        (5, True, True)
    """
    return hashing_trick(input_text, n, hash_function=hash, filters=filters, lower=lower,
                         split=split, analyzer=analyzer)


class Tokenizer:
    """Turns texts into sequences of word indexes, or into matrices.

    Fit it on texts (`fit_on_texts`) to build the vocabulary, then turn
    texts into lists of word indexes (`texts_to_sequences`) or into one row
    per text (`texts_to_matrix`: binary, count, tf-idf or frequency).
    Words are numbered by frequency from 1 (see the module's notes); `0` is
    reserved for padding.

    Args:
        num_words: None or an int: when turning texts into sequences or
            matrices, keep only the words with an index below `num_words`
            (the `num_words - 1` most frequent). `word_index` keeps them all.
        filters: characters removed from the texts. Default: ASCII
            punctuation except `'`, plus tab and newline.
        lower: whether to lowercase the texts.
        split: the separator between words.
        char_level: if True, every character is a token (filters are not
            applied).
        oov_token: if given, it is index 1 in `word_index` and stands for
            every unknown (or cut off) word in `texts_to_sequences`; else
            such words are dropped.
        analyzer: a function from a text to its list of words, used instead
            of `text_to_word_sequence` (not saved by `to_json`).

    Attributes:
        word_counts: `OrderedDict` word -> count, in order of first appearance.
        word_docs: dict word -> number of texts it appears in.
        word_index: dict word -> index; `index_word` is its inverse.
        index_docs: dict index -> number of texts it appears in.
        document_count: the number of texts (or sequences) fitted.

    Example:
        >>> tokenizer = Tokenizer()
        >>> tokenizer.fit_on_texts(["I love my dog", "I love my cat", "You love my dog!"])
        >>> tokenizer.word_index
        {'love': 1, 'my': 2, 'i': 3, 'dog': 4, 'cat': 5, 'you': 6}
        >>> tokenizer.texts_to_sequences(["I really love my dog"])
        [[3, 1, 2, 4]]
        >>> tokenizer.texts_to_matrix(["my dog, my dog"], mode="count")
        array([[0., 0., 2., 0., 2., 0., 0.]])
    """

    def __init__(self, num_words=None, filters=FILTERS, lower=True, split=" ",
                 char_level=False, oov_token=None, analyzer=None, **kwargs):
        if "nb_words" in kwargs:  # Keras 1's name
            warnings.warn("The `nb_words` argument in `Tokenizer` has been renamed `num_words`.",
                          stacklevel=2)
            num_words = kwargs.pop("nb_words")
        document_count = kwargs.pop("document_count", 0)
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments: {kwargs}")
        if analyzer is not None and not callable(analyzer):
            raise ValueError("Argument `analyzer` must be None or a function from a text to its "
                             f"list of words. Received: analyzer={analyzer!r}")
        self.num_words = check_int(num_words, "num_words", allow_none=True)
        self.document_count = check_int(document_count, "document_count")
        self.filters = filters
        self.split = split
        self.lower = lower
        self.char_level = char_level
        self.oov_token = oov_token
        self.analyzer = analyzer
        self.word_counts = collections.OrderedDict()
        self.word_docs = collections.defaultdict(int)
        self.index_docs = collections.defaultdict(int)
        self.word_index = {}
        self.index_word = {}

    def _tokens(self, text):
        """The tokens of one text (a list given as a text is its tokens)."""
        if self.char_level or isinstance(text, list):
            if self.lower:
                text = [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return text
        if self.analyzer is not None:
            return self.analyzer(text)
        return text_to_word_sequence(text, filters=self.filters, lower=self.lower,
                                     split=self.split)

    def fit_on_texts(self, texts):
        """Updates the vocabulary from texts (and renumbers every word).

        Args:
            texts: a list (or any iterable, such as a generator) of strings,
                or of lists of tokens.
        """
        _check_texts(texts)
        for text in texts:
            self.document_count += 1
            seq = self._tokens(text)
            for w in seq:
                self.word_counts[w] = self.word_counts.get(w, 0) + 1
            # Keras iterates over set(seq), whose order changes from process to
            # process; first appearance gives the same counts in a fixed order.
            for w in dict.fromkeys(seq):
                self.word_docs[w] += 1

        # A stable sort: equal counts keep their order of first appearance.
        ranked = sorted(self.word_counts.items(), key=lambda wc: wc[1], reverse=True)
        vocabulary = [] if self.oov_token is None else [self.oov_token]
        vocabulary.extend(w for w, _ in ranked)
        self.word_index = dict(zip(vocabulary, range(1, len(vocabulary) + 1)))
        self.index_word = {i: w for w, i in self.word_index.items()}
        for w, c in list(self.word_docs.items()):
            self.index_docs[self.word_index[w]] = c

    def fit_on_sequences(self, sequences):
        """Counts documents per index from sequences of indexes (for tf-idf).

        Needed before `sequences_to_matrix(mode="tfidf")` when
        `fit_on_texts` was never called.

        Args:
            sequences: a list of sequences (lists of word indexes).
        """
        self.document_count += len(sequences)
        for seq in sequences:
            for i in set(seq):
                self.index_docs[i] += 1

    def texts_to_sequences(self, texts):
        """Turns each text into a list of word indexes.

        Unknown words (and, with `num_words`, indexes `>= num_words`) become
        the OOV index when `oov_token` is set, else they are dropped.

        Args:
            texts: a list of strings (or of lists of tokens).

        Returns:
            A list of lists of ints.
        """
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        """Like `texts_to_sequences`, one sequence at a time.

        Args:
            texts: an iterable of strings (or of lists of tokens).

        Yields:
            One list of ints per text.
        """
        _check_texts(texts)
        num_words = self.num_words
        oov_index = self.word_index.get(self.oov_token)
        for text in texts:
            vect = []
            for w in self._tokens(text):
                i = self.word_index.get(w)
                if i is not None:
                    if num_words and i >= num_words:
                        if oov_index is not None:
                            vect.append(oov_index)
                    else:
                        vect.append(i)
                elif self.oov_token is not None:
                    vect.append(oov_index)
            yield vect

    def sequences_to_texts(self, sequences):
        """Turns each sequence of word indexes back into a text.

        Indexes `>= num_words` and unknown indexes become the OOV token
        when `oov_token` is set, else they are dropped.

        Args:
            sequences: a list of lists of ints.

        Returns:
            A list of strings, words joined by single spaces.
        """
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences):
        """Like `sequences_to_texts`, one text at a time.

        Args:
            sequences: an iterable of lists of ints.

        Yields:
            One string per sequence.
        """
        num_words = self.num_words
        oov_index = self.word_index.get(self.oov_token)
        for seq in sequences:
            vect = []
            for num in seq:
                word = self.index_word.get(num)
                if word is not None:
                    if num_words and num >= num_words:
                        if oov_index is not None:
                            vect.append(self.index_word[oov_index])
                    else:
                        vect.append(word)
                elif self.oov_token is not None:
                    vect.append(self.index_word[oov_index])
            yield " ".join(vect)

    def texts_to_matrix(self, texts, mode="binary"):
        """Turns texts into a matrix with one row per text, one column per index.

        Args:
            texts: a list of strings.
            mode: "binary", "count", "tfidf" or "freq" (see
                `sequences_to_matrix`).

        Returns:
            A float64 NumPy array of shape `(len(texts), num_words)` (as Keras).
        """
        _check_mode(mode)
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """Turns sequences of word indexes into a matrix, one row per sequence.

        Columns are indexes `0 .. num_words - 1` (or `len(word_index)` when
        `num_words` is None); larger indexes are left out. Each cell is, for
        an index occurring `c` times in a sequence of length `n`: "binary"
        `1`, "count" `c`, "freq" `c / n`, "tfidf"
        `(1 + log c) * log(1 + document_count / (1 + index_docs[index]))`.

        Args:
            sequences: a list of lists of ints.
            mode: "binary", "count", "tfidf" or "freq".

        Returns:
            A float64 NumPy array of shape `(len(sequences), columns)`: Keras's
            dtype, so the values equal Keras's exactly.

        Raises:
            ValueError: an unknown `mode`; neither `num_words` nor a fitted
                vocabulary; "tfidf" before anything was fitted.
        """
        _check_mode(mode)
        if self.num_words:
            num_words = self.num_words
        elif self.word_index:
            num_words = len(self.word_index) + 1
        else:
            raise ValueError("Specify a dimension (`num_words` argument), "
                             "or fit on some text data first.")
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")

        x = np.zeros((len(sequences), num_words))
        for i, seq in enumerate(sequences):
            if not seq:
                continue
            counts = collections.defaultdict(int)
            for j in seq:
                if j < num_words:
                    counts[j] += 1
            for j, c in counts.items():
                if mode == "count":
                    x[i][j] = c
                elif mode == "freq":
                    x[i][j] = c / len(seq)
                elif mode == "binary":
                    x[i][j] = 1
                else:  # tfidf: weighting scheme 2 of Wikipedia's tf-idf page, as Keras
                    tf = 1 + np.log(c)
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(j, 0)))
                    x[i][j] = tf * idf
        return x

    def get_config(self):
        """The configuration and vocabulary, the dictionaries as JSON strings (as Keras).

        Returns:
            A dict with `num_words`, `filters`, `lower`, `split`,
            `char_level`, `oov_token`, `document_count` and, each a JSON
            string, `word_counts`, `word_docs`, `index_docs`, `index_word`,
            `word_index`. The `analyzer` is not saved.
        """
        return {
            "num_words": self.num_words,
            "filters": self.filters,
            "lower": self.lower,
            "split": self.split,
            "char_level": self.char_level,
            "oov_token": self.oov_token,
            "document_count": self.document_count,
            "word_counts": json.dumps(self.word_counts),
            "word_docs": json.dumps(self.word_docs),
            "index_docs": json.dumps(self.index_docs),
            "index_word": json.dumps(self.index_word),
            "word_index": json.dumps(self.word_index),
        }

    def to_json(self, **kwargs):
        """The tokenizer as a JSON string, for `tokenizer_from_json`.

        The format is Keras's: `{"class_name": "Tokenizer", "config": ...}`,
        so the file loads in tf.keras 2 too.

        Args:
            **kwargs: passed to `json.dumps` (such as `indent`).

        Returns:
            A string.
        """
        return json.dumps({"class_name": self.__class__.__name__, "config": self.get_config()},
                          **kwargs)


def _check_texts(texts) -> None:
    # Keras reads one string as one text per character: a silent mistake.
    if isinstance(texts, str):
        shown = texts if len(texts) <= 60 else texts[:57] + "..."
        raise ValueError("Argument `texts` must be a list of texts, not one string (which would "
                         f"be read as one text per character); wrap it: [text]. Received: "
                         f"texts={shown!r}")


def _check_mode(mode) -> None:
    if mode not in MODES:
        raise ValueError(f'Unknown vectorization mode: argument `mode` must be one of "binary", '
                         f'"count", "tfidf" or "freq". Received: mode={mode!r}')


def tokenizer_from_json(json_string):
    """Rebuilds a `Tokenizer` from `Tokenizer.to_json()` (kerasette's or tf.keras 2's).

    Args:
        json_string: the JSON string.

    Returns:
        A `Tokenizer` with the same configuration and vocabulary.

    Example:
        >>> tokenizer = Tokenizer(oov_token="?")
        >>> tokenizer.fit_on_texts(["a b b"])
        >>> tokenizer_from_json(tokenizer.to_json()).texts_to_sequences(["b c a"])
        [[2, 1, 3]]
    """
    tokenizer_config = json.loads(json_string)
    if not isinstance(tokenizer_config, dict) or not isinstance(
            tokenizer_config.get("config"), dict):
        raise ValueError("Argument `json_string` must be the JSON of Tokenizer.to_json(), an "
                         'object with a "config" object. Received: '
                         f"{json_string[:80]!r}{'...' if len(json_string) > 80 else ''}")
    config = dict(tokenizer_config["config"])
    word_counts = json.loads(config.pop("word_counts"))
    word_docs = json.loads(config.pop("word_docs"))
    # JSON turned the integer keys into strings.
    index_docs = {int(k): v for k, v in json.loads(config.pop("index_docs")).items()}
    index_word = {int(k): v for k, v in json.loads(config.pop("index_word")).items()}
    word_index = json.loads(config.pop("word_index"))

    tokenizer = Tokenizer(**config)
    # Keras keeps plain dicts here, which a later fit_on_texts cannot update
    # (a KeyError on a new word); the original types keep fitting possible.
    tokenizer.word_counts = collections.OrderedDict(word_counts)
    tokenizer.word_docs = collections.defaultdict(int, word_docs)
    tokenizer.index_docs = collections.defaultdict(int, index_docs)
    tokenizer.word_index = word_index
    tokenizer.index_word = index_word
    return tokenizer
