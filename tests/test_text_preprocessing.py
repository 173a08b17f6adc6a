"""keras.preprocessing.sequence / .text: pad_sequences, Tokenizer and friends.

Expected values are worked out by hand from tf.keras 2's documented
algorithm (tf_keras/preprocessing/text.py, tf_keras/utils/data_utils.py):
words ranked by count, ties by first appearance; OOV at index 1; the
`num_words` cut applied when converting, not to `word_index`; tf-idf
`(1 + ln c) * ln(1 + docs / (1 + docs_with_word))`. `pad_sequences` is also
checked against a plain loop over random inputs.
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest

import kerasette as keras
from kerasette.preprocessing import sequence, text
from kerasette.preprocessing.sequence import pad_sequences
from kerasette.preprocessing.text import Tokenizer, tokenizer_from_json


@pytest.fixture(autouse=True)
def backend():
    """Overrides conftest's per-backend fixture: host-only code, run once."""
    yield None


# --- pad_sequences ----------------------------------------------------------------------------


def padded_by_loop(seqs, maxlen, padding, truncating, value, dtype="int32"):
    """The reference: one row at a time, element by element."""
    if maxlen is None:
        maxlen = max((len(s) for s in seqs), default=0)
    out = np.full((len(seqs), maxlen), value, dtype=dtype)
    for i, s in enumerate(seqs):
        s = list(s)
        if len(s) > maxlen:
            s = s[len(s) - maxlen:] if truncating == "pre" else s[:maxlen]
        start = maxlen - len(s) if padding == "pre" else 0
        for k, v in enumerate(s):
            out[i, start + k] = v
    return out


def test_pad_sequences_keras_docstring_examples():
    seqs = [[1], [2, 3], [4, 5, 6]]
    out = pad_sequences(seqs)
    assert out.dtype == np.int32
    np.testing.assert_array_equal(out, [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, value=-1),
                                  [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, padding="post"),
                                  [[1, 0, 0], [2, 3, 0], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2), [[0, 1], [2, 3], [5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2, truncating="post"),
                                  [[0, 1], [2, 3], [4, 5]])


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 1, 4, 9])
def test_pad_sequences_matches_a_plain_loop(padding, truncating, maxlen):
    rng = np.random.default_rng(7)
    seqs = [rng.integers(1, 100, rng.integers(0, 8)).tolist() for _ in range(30)]
    seqs[3] = []  # an empty sequence is all padding
    out = pad_sequences(seqs, maxlen=maxlen, padding=padding, truncating=truncating, value=-7)
    expected = padded_by_loop(seqs, maxlen, padding, truncating, -7)
    assert out.dtype == np.int32 and out.shape == expected.shape
    np.testing.assert_array_equal(out, expected)


def test_pad_sequences_dtypes_and_inputs():
    out = pad_sequences([[0.5, 1.5], [2.5]], dtype="float32", value=-1.0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.array([[0.5, 1.5], [-1.0, 2.5]], np.float32))
    # Floats into the int32 default are cut toward zero (NumPy's cast, as Keras).
    np.testing.assert_array_equal(pad_sequences([[1.9, -2.7]]), [[1, -2]])
    # Tuples, arrays and a 2-D array of sequences.
    np.testing.assert_array_equal(pad_sequences([(1, 2), np.array([3])]), [[1, 2], [0, 3]])
    np.testing.assert_array_equal(pad_sequences(np.arange(6).reshape(2, 3), maxlen=2),
                                  [[1, 2], [4, 5]])


def test_pad_sequences_of_vectors_keeps_the_item_shape():
    seqs = [np.ones((2, 3)), np.full((1, 3), 2.0)]
    out = pad_sequences(seqs, dtype="float32", padding="post")
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out[1], [[2, 2, 2], [0, 0, 0]])
    with pytest.raises(ValueError, match=r"Shape of sample \(4,\) of sequence at position 1"):
        pad_sequences([np.ones((2, 3)), np.ones((1, 4))])


def test_pad_sequences_strings():
    out = pad_sequences([["a", "bb"], ["ccc"]], dtype=object, value="<pad>")
    assert out.dtype == object
    assert out.tolist() == [["a", "bb"], ["<pad>", "ccc"]]
    # `str` alone is sized to the longest string (Keras would cut all to 1 char).
    out = pad_sequences([["hello", "world"], ["hi"]], dtype=str, value="-", padding="post")
    assert out.tolist() == [["hello", "world"], ["hi", "-"]]
    with pytest.raises(ValueError, match=r"`dtype` int32 is not compatible with `value`"):
        pad_sequences([["a"]], value="x")


def test_pad_sequences_empty_inputs():
    out = pad_sequences([])
    assert out.shape == (0, 0) and out.dtype == np.int32
    assert pad_sequences([], maxlen=3).shape == (0, 3)
    out = pad_sequences([[], []])
    assert out.shape == (2, 0) and out.dtype == np.int32
    np.testing.assert_array_equal(pad_sequences([[], [5]], maxlen=2), [[0, 0], [0, 5]])
    assert pad_sequences([[1, 2], [3]], maxlen=0).shape == (2, 0)


@pytest.mark.parametrize("kwargs, match", [
    ({"padding": "mid"}, r'Padding type "mid" not understood.*`padding`.*"pre" or "post".*'
                         r"Received: padding='mid'"),
    ({"truncating": "end"}, r'Truncating type "end" not understood.*`truncating`.*'
                            r"Received: truncating='end'"),
    ({"maxlen": -1}, r"`maxlen` must be None or an integer >= 0. Received: maxlen=-1"),
    ({"maxlen": 2.5}, r"Received: maxlen=2.5"),
    ({"dtype": "no-such-type"}, r"`dtype` must be a NumPy dtype.*Received: dtype='no-such-type'"),
])
def test_pad_sequences_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pad_sequences([[1, 2]], **kwargs)
    with pytest.raises(ValueError, match=match):  # checked before any work, even with no data
        pad_sequences([[]], **kwargs)


def test_pad_sequences_bad_sequences():
    with pytest.raises(ValueError, match="must be a list of iterables. Found non-iterable: 3"):
        pad_sequences([[1], 3])
    with pytest.raises(ValueError, match="`sequences` must be iterable"):
        pad_sequences(iter([[1], [2]]))


def test_pad_sequences_is_reachable_as_in_keras():
    assert keras.preprocessing.sequence.pad_sequences is pad_sequences
    assert keras.utils.pad_sequences is pad_sequences
    assert "pad_sequences" in keras.utils.__all__ and "preprocessing" in keras.__all__
    assert keras.preprocessing.text.Tokenizer is Tokenizer
    assert set(text.__all__) == {"Tokenizer", "hashing_trick", "one_hot",
                                 "text_to_word_sequence", "tokenizer_from_json"}
    assert sequence.__all__ == ["pad_sequences"]


# --- text_to_word_sequence, hashing_trick, one_hot -----------------------------------------------


def test_text_to_word_sequence():
    assert text.text_to_word_sequence("This is a sample sentence.") == [
        "this", "is", "a", "sample", "sentence"]
    # The apostrophe is not a filter; tabs and newlines are.
    assert text.text_to_word_sequence("Don't\tstop,me\nnow!!") == ["don't", "stop", "me", "now"]
    assert text.text_to_word_sequence("A-B c", lower=False) == ["A", "B", "c"]
    assert text.text_to_word_sequence("a,b;c d", filters=";", split=",") == ["a", "b", "c d"]
    assert text.text_to_word_sequence("x.y", filters=["."]) == ["x", "y"]


def md5_index(word, n):
    return int(hashlib.md5(word.encode("utf-8")).hexdigest(), 16) % (n - 1) + 1


def test_hashing_trick_md5_is_the_stable_digest():
    words = ["the", "quick", "brown", "fox", "the"]
    assert text.hashing_trick("The quick, brown fox; the", 7, hash_function="md5") == [
        md5_index(w, 7) for w in words]
    assert md5_index("the", 10) == 6  # pinned: the same in every process and in Keras
    assert text.hashing_trick("a b", 5, hash_function=len) == [2, 2]  # 1 % 4 + 1
    assert text.hashing_trick("x", 3, hash_function="md5", analyzer=lambda t: ["q", "r"]) == [
        md5_index("q", 3), md5_index("r", 3)]


def test_one_hot_is_python_hash_within_one_process():
    codes = text.one_hot("the cat and the hat", 11)
    assert codes == [hash(w) % 10 + 1 for w in ["the", "cat", "and", "the", "hat"]]
    assert all(1 <= c <= 10 for c in codes) and codes[0] == codes[3]


@pytest.mark.parametrize("kwargs, match", [
    ({"n": 1}, r"`n` must be an integer >= 2. Received: n=1"),
    ({"n": 5, "hash_function": "sha1"}, r'`hash_function` must be None, "md5".*'
                                        r"Received: hash_function='sha1'"),
    ({"n": 5, "hash_function": 3}, r"Received: hash_function=3"),
])
def test_hashing_trick_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        text.hashing_trick("a b", **kwargs)


# --- Tokenizer ------------------------------------------------------------------------------


TEXTS = ["The cat sat on the mat.", "The dog sat.", "A dog, a cat!"]
# By hand: counts the 3, cat 2, sat 2, on 1, mat 1, dog 2, a 2 (first appearance in
# this order). Ranked by count, ties by first appearance:
#   the(3) cat(2) sat(2) dog(2) a(2) on(1) mat(1)
WORD_INDEX = {"the": 1, "cat": 2, "sat": 3, "dog": 4, "a": 5, "on": 6, "mat": 7}


def fitted(**kwargs) -> Tokenizer:
    tokenizer = Tokenizer(**kwargs)
    tokenizer.fit_on_texts(TEXTS)
    return tokenizer


def test_tokenizer_vocabulary_by_count_then_first_appearance():
    tokenizer = fitted()
    assert tokenizer.word_index == WORD_INDEX
    assert list(tokenizer.word_index) == list(WORD_INDEX)
    assert tokenizer.index_word == {i: w for w, i in WORD_INDEX.items()}
    assert list(tokenizer.word_counts.items()) == [
        ("the", 3), ("cat", 2), ("sat", 2), ("on", 1), ("mat", 1), ("dog", 2), ("a", 2)]
    assert dict(tokenizer.word_docs) == {"the": 2, "cat": 2, "sat": 2, "on": 1, "mat": 1,
                                         "dog": 2, "a": 1}
    assert dict(tokenizer.index_docs) == {1: 2, 2: 2, 3: 2, 6: 1, 7: 1, 4: 2, 5: 1}
    assert tokenizer.document_count == 3
    assert tokenizer.texts_to_sequences(TEXTS) == [
        [1, 2, 3, 6, 1, 7], [1, 4, 3], [5, 4, 5, 2]]
    assert tokenizer.texts_to_sequences(["the zebra sat"]) == [[1, 3]]  # unknown: dropped


def test_tokenizer_oov_token_is_index_one():
    tokenizer = fitted(oov_token="<OOV>")
    assert tokenizer.word_index == {"<OOV>": 1, **{w: i + 1 for w, i in WORD_INDEX.items()}}
    assert tokenizer.texts_to_sequences(["the zebra sat"]) == [[2, 1, 4]]
    assert tokenizer.sequences_to_texts([[2, 1, 4, 99]]) == ["the <OOV> sat <OOV>"]


def test_num_words_cuts_sequences_not_the_word_index():
    tokenizer = fitted(num_words=4)
    assert tokenizer.word_index == WORD_INDEX  # all 7 words stay
    # Only indexes < 4 (the, cat, sat) survive; the rest are dropped.
    assert tokenizer.texts_to_sequences(TEXTS) == [[1, 2, 3, 1], [1, 3], [2]]
    assert tokenizer.sequences_to_texts([[1, 4, 2, 7]]) == ["the cat"]
    # With an OOV token, index 1 counts towards num_words: the, cat (2, 3) only.
    tokenizer = fitted(num_words=4, oov_token="<OOV>")
    assert tokenizer.texts_to_sequences(["the dog sat on a cat"]) == [[2, 1, 1, 1, 1, 3]]
    assert tokenizer.sequences_to_texts([[2, 5, 3]]) == ["the <OOV> cat"]


def test_texts_to_matrix_modes_by_hand():
    tokenizer = fitted()
    docs = ["the cat the", "dog mat unknown"]
    binary = np.zeros((2, 8))
    binary[0, [1, 2]] = 1
    binary[1, [4, 7]] = 1
    count = binary.copy()
    count[0, 1] = 2
    freq = np.zeros((2, 8))
    freq[0, 1], freq[0, 2] = 2 / 3, 1 / 3
    freq[1, 4], freq[1, 7] = 1 / 2, 1 / 2  # the unknown word is not in the sequence
    tfidf = np.zeros((2, 8))
    # documents: 3; docs with: the 2, cat 2, dog 2, mat 1
    tfidf[0, 1] = (1 + math.log(2)) * math.log(1 + 3 / 3)
    tfidf[0, 2] = 1 * math.log(1 + 3 / 3)
    tfidf[1, 4] = 1 * math.log(1 + 3 / 3)
    tfidf[1, 7] = 1 * math.log(1 + 3 / 2)
    for mode, expected in (("binary", binary), ("count", count), ("freq", freq),
                           ("tfidf", tfidf)):
        out = tokenizer.texts_to_matrix(docs, mode=mode)
        assert out.dtype == np.float64 and out.shape == (2, 8)  # Keras's dtype
        np.testing.assert_allclose(out, expected, rtol=1e-15, atol=0)


def test_sequences_to_matrix_with_num_words_and_fit_on_sequences():
    tokenizer = Tokenizer(num_words=4)
    out = tokenizer.sequences_to_matrix([[1, 1, 3, 9], []], mode="count")
    np.testing.assert_array_equal(out, [[0, 2, 0, 1], [0, 0, 0, 0]])  # 9 >= 4: left out
    with pytest.raises(ValueError, match="Fit the Tokenizer on some data before using tfidf"):
        tokenizer.sequences_to_matrix([[1]], mode="tfidf")
    tokenizer.fit_on_sequences([[1, 1, 2], [2, 3]])
    assert tokenizer.document_count == 2
    assert dict(tokenizer.index_docs) == {1: 1, 2: 2, 3: 1}
    out = tokenizer.sequences_to_matrix([[1, 1, 2]], mode="tfidf")
    np.testing.assert_allclose(out, [[0, (1 + math.log(2)) * math.log(1 + 2 / 2),
                                      math.log(1 + 2 / 3), 0]], rtol=1e-15)


def test_sequences_to_matrix_errors_before_any_work():
    with pytest.raises(ValueError, match=r"Specify a dimension \(`num_words` argument\)"):
        Tokenizer().sequences_to_matrix([[1]])
    tokenizer = fitted()
    with pytest.raises(ValueError, match=r"`mode` must be one of.*Received: mode='tf-idf'"):
        tokenizer.texts_to_matrix([], mode="tf-idf")  # Keras raises only on a non-empty text
    with pytest.raises(ValueError, match=r"Received: mode='counts'"):
        tokenizer.sequences_to_matrix([[1]], mode="counts")


def test_tokenizer_char_level_token_lists_and_analyzer():
    tokenizer = Tokenizer(char_level=True)
    tokenizer.fit_on_texts(["aab", "B!"])  # filters do not apply at char level
    assert tokenizer.word_index == {"a": 1, "b": 2, "!": 3}
    assert tokenizer.texts_to_sequences(["ba!"]) == [[2, 1, 3]]

    tokenizer = Tokenizer()
    tokenizer.fit_on_texts([["Hello", "World"], ["hello"]])  # lists are token lists
    assert tokenizer.word_index == {"hello": 1, "world": 2}
    assert tokenizer.texts_to_sequences([["WORLD", "x", "Hello"]]) == [[2, 1]]

    tokenizer = Tokenizer(analyzer=lambda t: t.split("|"))
    tokenizer.fit_on_texts(["x|Y|x"])
    assert tokenizer.word_index == {"x": 1, "Y": 2}  # the analyzer decides, no lowercasing

    tokenizer = Tokenizer(lower=False, split="/")
    tokenizer.fit_on_texts(["Up/up/UP/up"])
    assert tokenizer.word_index == {"up": 1, "Up": 2, "UP": 3}


def test_tokenizer_generator_input_and_refit():
    tokenizer = Tokenizer()
    tokenizer.fit_on_texts(t for t in ["b a", "a"])  # a generator of texts is fine
    assert tokenizer.word_index == {"a": 1, "b": 2}
    gen = tokenizer.texts_to_sequences_generator(["a b", "b"])
    assert next(gen) == [1, 2] and next(gen) == [2]
    tokenizer.fit_on_texts(["b b c"])  # counts add up and words are renumbered
    assert tokenizer.word_index == {"b": 1, "a": 2, "c": 3}
    assert tokenizer.document_count == 3
    assert dict(tokenizer.word_docs) == {"b": 2, "a": 2, "c": 1}


def test_tokenizer_config_and_json_round_trip():
    tokenizer = fitted(num_words=6, oov_token="<OOV>")
    config = tokenizer.get_config()
    assert list(config) == ["num_words", "filters", "lower", "split", "char_level", "oov_token",
                            "document_count", "word_counts", "word_docs", "index_docs",
                            "index_word", "word_index"]
    assert json.loads(config["word_index"]) == tokenizer.word_index
    assert json.loads(config["index_word"])["1"] == "<OOV>"  # JSON keys are strings
    payload = json.loads(tokenizer.to_json())
    assert payload["class_name"] == "Tokenizer" and payload["config"] == config
    assert "\n" in tokenizer.to_json(indent=2)

    restored = tokenizer_from_json(tokenizer.to_json())
    assert restored.get_config() == config
    assert restored.index_word == tokenizer.index_word and 1 in restored.index_word
    docs = ["the mat sat", "zebra dog"]
    assert restored.texts_to_sequences(docs) == tokenizer.texts_to_sequences(docs)
    np.testing.assert_array_equal(restored.texts_to_matrix(docs, mode="tfidf"),
                                  tokenizer.texts_to_matrix(docs, mode="tfidf"))
    restored.fit_on_texts(["zebra"])  # Keras's restored tokenizer cannot do this
    assert restored.word_index["zebra"] == 9 and restored.document_count == 4


def test_tokenizer_from_json_reads_keras_format():
    # The layout tf.keras 2's Tokenizer.to_json() writes: dictionaries as JSON strings.
    config = {
        "num_words": None, "filters": "!", "lower": True, "split": " ", "char_level": False,
        "oov_token": None, "document_count": 2,
        "word_counts": '{"b": 1, "a": 2}', "word_docs": '{"b": 1, "a": 2}',
        "index_docs": '{"2": 1, "1": 2}', "index_word": '{"1": "a", "2": "b"}',
        "word_index": '{"a": 1, "b": 2}',
    }
    tokenizer = tokenizer_from_json(json.dumps({"class_name": "Tokenizer", "config": config}))
    assert tokenizer.texts_to_sequences(["b! a c"]) == [[2, 1]]
    assert tokenizer.index_docs == {1: 2, 2: 1}
    with pytest.raises(ValueError, match="`json_string` must be the JSON of Tokenizer.to_json"):
        tokenizer_from_json("[1, 2]")


def test_tokenizer_arguments():
    with pytest.warns(UserWarning, match="renamed `num_words`"):
        assert Tokenizer(nb_words=5).num_words == 5
    with pytest.raises(TypeError, match="Unrecognized keyword arguments"):
        Tokenizer(num_word=5)
    with pytest.raises(ValueError, match=r"`num_words` must be None or an integer >= 0. "
                                         r"Received: num_words=-2"):
        Tokenizer(num_words=-2)
    with pytest.raises(ValueError, match=r"`analyzer` must be None or a function"):
        Tokenizer(analyzer="split")
    with pytest.raises(ValueError, match=r"not one string.*wrap it: \[text\]"):
        Tokenizer().fit_on_texts("a whole text")
    with pytest.raises(ValueError, match=r"not one string"):
        fitted().texts_to_sequences("the cat")
