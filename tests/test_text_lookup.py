"""StringLookup, IntegerLookup and TextVectorization against tf.keras 2.

Expected values are the outputs printed in tf_keras's own docstrings
(tf_keras/layers/preprocessing/{string,integer}_lookup.py and
text_vectorization.py), or worked out by hand from its algorithm
(index_lookup.py: vocabulary by descending count then descending token;
IDF = log(1 + documents / (1 + document frequency)), OOV = their mean).
There are no text fixtures made by real Keras in the shared fixtures.
Every test runs on each backend (conftest's autouse `backend` fixture):
the ids reach the device through the strict backend's boundary too.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers as L
from kerasette.autodiff.tensor import Tensor

VOCAB = ["a", "b", "c", "d"]
DATA = np.array([["a", "c", "d"], ["d", "z", "b"]])
DATA4 = np.array([["a", "c", "d", "d"], ["d", "z", "b", "z"]])
INT_VOCAB = [12, 36, 1138, 42]


def out(tensor):
    assert isinstance(tensor, Tensor)
    return tensor.numpy()


# -- StringLookup: tf_keras's docstring examples ----------------------------------------------
def test_string_lookup_known_vocabulary():
    result = out(L.StringLookup(vocabulary=VOCAB)(DATA))
    np.testing.assert_array_equal(result, [[1, 3, 4], [4, 0, 2]])
    assert result.dtype == np.int64


def test_string_lookup_adapt_orders_by_count_then_descending_token():
    layer = L.StringLookup()
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["[UNK]", "d", "z", "c", "b", "a"]
    assert layer.get_vocabulary(include_special_tokens=False) == ["d", "z", "c", "b", "a"]
    assert layer.vocabulary_size() == 6
    np.testing.assert_array_equal(out(layer(DATA)), [[5, 3, 1], [1, 2, 4]])
    assert layer.is_adapted


def test_string_lookup_multiple_oov_indices_hash_like_tensorflow():
    layer = L.StringLookup(vocabulary=VOCAB, num_oov_indices=2)
    result = out(layer(np.array([["a", "c", "d"], ["m", "z", "b"]])))
    np.testing.assert_array_equal(result, [[2, 4, 5], [0, 1, 3]])


def test_string_lookup_one_hot_multi_hot_count():
    one_hot = out(L.StringLookup(vocabulary=VOCAB, output_mode="one_hot")(
        np.array(["a", "b", "c", "d", "z"])))
    np.testing.assert_array_equal(one_hot, np.eye(5)[[1, 2, 3, 4, 0]])
    assert one_hot.dtype == np.float32
    multi = out(L.StringLookup(vocabulary=VOCAB, output_mode="multi_hot")(DATA4))
    np.testing.assert_array_equal(multi, [[0, 1, 0, 1, 1], [1, 0, 1, 0, 1]])
    count = out(L.StringLookup(vocabulary=VOCAB, output_mode="count")(DATA4))
    np.testing.assert_array_equal(count, [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])


def test_string_lookup_tf_idf_with_and_without_the_oov_weight():
    layer = L.StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(VOCAB, idf_weights=[0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(out(layer(DATA4)), [[0, 0.25, 0, 0.6, 0.8],
                                                   [1.0, 0, 0.75, 0, 0.4]], rtol=1e-6)
    layer = L.StringLookup(output_mode="tf_idf")
    layer.set_vocabulary(["[UNK]"] + VOCAB, idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(out(layer(DATA4)), [[0, 0.25, 0, 0.6, 0.8],
                                                   [1.8, 0, 0.75, 0, 0.4]], rtol=1e-6)


def test_string_lookup_invert_and_forward_inverse_pair():
    inverse = L.StringLookup(vocabulary=VOCAB, invert=True)
    expected = [["a", "c", "d"], ["d", "[UNK]", "b"]]
    assert inverse(np.array([[1, 3, 4], [4, 0, 2]])).tolist() == expected
    forward = L.StringLookup(vocabulary=VOCAB)
    assert inverse(forward(DATA)).tolist() == expected


def test_string_lookup_mask_token_and_bytes_and_lists():
    layer = L.StringLookup(vocabulary=VOCAB, mask_token="")
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b", "c", "d"]
    np.testing.assert_array_equal(out(layer([b"a", b"", "q"])), [2, 0, 1])
    objects = np.array(["d", "a"], dtype=object)
    np.testing.assert_array_equal(out(layer(objects)), [5, 2])
    # bytes beside str (NumPy alone would decode them as ASCII), and bytes
    # that are not UTF-8 (kept apart, as TensorFlow keeps raw bytes)
    np.testing.assert_array_equal(out(layer([b"c", "b", "caf\u00e9".encode(), b"\xff"])),
                                  [4, 3, 1, 1])
    # Outside "int" mode the mask token has no index and is dropped.
    multi = L.StringLookup(vocabulary=VOCAB, mask_token="", output_mode="multi_hot")
    np.testing.assert_array_equal(out(multi(np.array([["a", ""]]))), [[0, 1, 0, 0, 0]])


def test_string_lookup_adapt_max_tokens_and_tf_idf_weights():
    texts = np.array([["x", "x", "y"], ["x", "z", "w"], ["y", "q", "x"]])
    layer = L.StringLookup(max_tokens=4, output_mode="tf_idf")
    layer.adapt(texts)
    # counts: x 4, y 2, then w q z once each (descending: z, w, q): 3 learned + 1 OOV.
    assert layer.get_vocabulary() == ["[UNK]", "x", "y", "z"]
    idf = np.log(1 + 3 / (1 + np.array([3.0, 2.0, 1.0]))).astype(np.float32)
    expected = np.concatenate([[np.mean(idf, dtype=np.float32)], idf])
    np.testing.assert_allclose(layer.idf_weights, expected, rtol=1e-6)
    got = out(layer(np.array([["x", "x", "w"]])))
    np.testing.assert_allclose(got, [[expected[0], 2 * expected[1], 0, 0]], rtol=1e-6)


def test_string_lookup_errors():
    with pytest.raises(ValueError, match="repeated"):
        L.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="max_tokens"):
        L.StringLookup(max_tokens=1)
    with pytest.raises(ValueError, match="mask_token"):
        L.StringLookup(vocabulary=["a", ""], mask_token="")
    with pytest.raises(ValueError, match="Cannot adapt"):
        L.StringLookup(vocabulary=VOCAB).adapt(DATA)
    with pytest.raises(ValueError, match="found OOV values"):
        L.StringLookup(vocabulary=VOCAB, num_oov_indices=0)(np.array(["a", "zz"]))
    with pytest.raises(RuntimeError, match="must set the layer's vocabulary"):
        L.StringLookup(output_mode="count")(DATA)
    with pytest.raises(TypeError, match="takes strings"):
        L.StringLookup(vocabulary=VOCAB)(np.array([1.5, 2.0]))


def test_string_lookup_vocabulary_file(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("a\nb\nc\nd\n", encoding="utf-8")
    layer = L.StringLookup(vocabulary=str(path))
    np.testing.assert_array_equal(out(layer(DATA)), [[1, 3, 4], [4, 0, 2]])
    assert layer.get_config()["vocabulary"] == str(path)


# -- IntegerLookup ----------------------------------------------------------------------------
def test_integer_lookup_docstring_examples():
    data = np.array([[12, 1138, 42], [42, 1000, 36]])
    np.testing.assert_array_equal(out(L.IntegerLookup(vocabulary=INT_VOCAB)(data)),
                                  [[1, 3, 4], [4, 0, 2]])
    layer = L.IntegerLookup()
    layer.adapt(data)
    assert layer.get_vocabulary() == [-1, 42, 1138, 1000, 36, 12]
    np.testing.assert_array_equal(out(layer(data)), [[5, 2, 1], [1, 3, 4]])
    two_oov = L.IntegerLookup(vocabulary=INT_VOCAB, num_oov_indices=2)
    np.testing.assert_array_equal(out(two_oov(np.array([[12, 1138, 42], [37, 1000, 36]]))),
                                  [[2, 4, 5], [1, 0, 3]])
    counts = np.array([[12, 1138, 42, 42], [42, 7, 36, 7]])
    np.testing.assert_array_equal(
        out(L.IntegerLookup(vocabulary=INT_VOCAB, output_mode="count")(counts)),
        [[0, 1, 0, 1, 2], [2, 0, 1, 0, 1]])
    tf_idf = L.IntegerLookup(output_mode="tf_idf", vocabulary=[-1] + INT_VOCAB,
                             idf_weights=[0.9, 0.25, 0.75, 0.6, 0.4])
    np.testing.assert_allclose(out(tf_idf(counts)), [[0, 0.25, 0, 0.6, 0.8],
                                                     [1.8, 0, 0.75, 0, 0.4]], rtol=1e-6)
    forward = L.IntegerLookup(vocabulary=INT_VOCAB)
    inverse = L.IntegerLookup(vocabulary=forward.get_vocabulary(), invert=True)
    np.testing.assert_array_equal(out(inverse(forward(data))), [[12, 1138, 42], [42, -1, 36]])


def test_integer_lookup_takes_ids_from_the_device(to_device):
    layer = L.IntegerLookup(vocabulary=INT_VOCAB)
    ids = to_device(np.array([[12, 7]]), dtype="int32")
    np.testing.assert_array_equal(out(layer(ids)), [[1, 0]])


# -- TextVectorization ---------------------------------------------------------------------------
def test_text_vectorization_docstring_examples():
    layer = L.TextVectorization(max_tokens=5000, output_mode="int", output_sequence_length=4)
    layer.adapt(np.array(["foo", "bar", "baz"]))
    assert layer.get_vocabulary() == ["", "[UNK]", "foo", "baz", "bar"]
    model = keras.Sequential([keras.Input(shape=(1,), dtype="string"), layer])
    np.testing.assert_array_equal(model.predict([["foo qux bar"], ["qux baz"]], verbose=0),
                                  [[2, 1, 4, 0], [1, 3, 0, 0]])
    given = L.TextVectorization(max_tokens=5000, output_sequence_length=4,
                                vocabulary=["earth", "wind", "and", "fire"])
    assert given.get_vocabulary() == ["", "[UNK]", "earth", "wind", "and", "fire"]


def test_text_vectorization_standardize_and_split_as_tensorflow():
    layer = L.TextVectorization(vocabulary=["hello", "world", "élan", "a-b"],
                                standardize="lower_and_strip_punctuation")
    # ASCII lowercasing only ("É" stays: tf.strings.lower without an encoding),
    # the punctuation of DEFAULT_STRIP_REGEX, and runs of ASCII whitespace.
    ids = out(layer(np.array(["Hello,  WORLD!\t\n(hello)", "Élan élan", "a-b"])))
    np.testing.assert_array_equal(ids, [[2, 3, 2], [1, 4, 0], [1, 0, 0]])
    keep = L.TextVectorization(vocabulary=["a-b", "x\u00a0y"], standardize=None)
    # A no-break space is not whitespace to tf.strings.split.
    np.testing.assert_array_equal(out(keep(np.array(["a-b x\u00a0y"]))), [[2, 3]])
    chars = L.TextVectorization(split="character", standardize="lower",
                                vocabulary=["a", "b", "é"])
    np.testing.assert_array_equal(out(chars(np.array([["Abé"], ["b"]]))), [[2, 3, 4], [3, 0, 0]])


def test_text_vectorization_ngrams_come_width_by_width():
    layer = L.TextVectorization(ngrams=2, split="whitespace")
    layer.adapt(np.array(["a b c"]))
    # all counts 1: descending order of the tokens
    assert layer.get_vocabulary() == ["", "[UNK]", "c", "b c", "b", "a b", "a"]
    np.testing.assert_array_equal(out(layer(np.array(["a b c", "c"]))),
                                  [[6, 4, 2, 5, 3], [2, 0, 0, 0, 0]])


def test_text_vectorization_sequence_length_pads_and_truncates():
    layer = L.TextVectorization(vocabulary=["a", "b"], output_sequence_length=3)
    np.testing.assert_array_equal(out(layer(np.array(["a b a b", "b", ""]))),
                                  [[2, 3, 2], [3, 0, 0], [0, 0, 0]])
    assert layer.compute_output_shape((None, 1)) == (None, 3)


def test_text_vectorization_multi_hot_count_tf_idf():
    texts = np.array(["a b", "a c", "a"])
    counts = L.TextVectorization(output_mode="count")
    counts.adapt(texts)
    assert counts.get_vocabulary() == ["[UNK]", "a", "c", "b"]
    np.testing.assert_array_equal(out(counts(np.array(["a a b z"]))), [[1, 2, 0, 1]])
    tf_idf = L.TextVectorization(output_mode="tf_idf")
    tf_idf.adapt(texts)
    idf = np.log(1 + 3 / (1 + np.array([3.0, 1.0, 1.0]))).astype(np.float32)
    oov = np.mean(idf, dtype=np.float32)
    np.testing.assert_allclose(out(tf_idf(np.array(["a b b z"]))),
                               [[oov, idf[0], 0, 2 * idf[2]]], rtol=1e-6)
    padded = L.TextVectorization(output_mode="multi_hot", max_tokens=6, pad_to_max_tokens=True)
    padded.adapt(texts)
    np.testing.assert_array_equal(out(padded(np.array(["c"]))), [[0, 0, 1, 0, 0, 0]])


def test_text_vectorization_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="ragged"):
        L.TextVectorization(ragged=True)
    with pytest.raises(ValueError, match="standardize"):
        L.TextVectorization(standardize="upper")
    with pytest.raises(ValueError, match="last shape dimension must be 1"):
        L.TextVectorization(vocabulary=["a"])(np.array([["a", "b"]]))
    with pytest.raises(TypeError, match="TextVectorization"):
        L.TextVectorization(vocabulary=["a"])(np.array([1.0]))


def test_text_vectorization_callables_and_adapt_sources():
    def upper(x):
        return np.char.upper(x)

    def on_commas(x):
        return [s.split(",") for s in x]

    layer = L.TextVectorization(standardize=upper, split=on_commas)
    layer.adapt((batch for batch in [np.array(["a,b"]), np.array(["b"])]))
    assert layer.get_vocabulary() == ["", "[UNK]", "B", "A"]
    np.testing.assert_array_equal(out(layer(["b,a,c"])), [[2, 3, 1]])


def test_configs_round_trip_through_json_with_the_learned_vocabulary():
    texts = np.array(["the cat sat", "the dog", "a cat"])
    for layer in (L.TextVectorization(max_tokens=10, output_sequence_length=4),
                  L.TextVectorization(output_mode="tf_idf"),
                  L.StringLookup(mask_token="", num_oov_indices=2)):
        layer.adapt(texts if isinstance(layer, L.TextVectorization) else texts[:, None])
        config = json.loads(json.dumps(layer.get_config()))
        clone = type(layer).from_config(config)
        assert clone.get_vocabulary() == layer.get_vocabulary()
        probe = np.array(["the bird sat", "cat cat a"])
        if not isinstance(layer, L.TextVectorization):
            probe = probe[:, None]
        np.testing.assert_array_equal(out(clone(probe)), out(layer(probe)))
    config = L.StringLookup(vocabulary=VOCAB).get_config()
    assert config["vocabulary"] == VOCAB and config["encoding"] == "utf-8"
    assert "vocabulary_dtype" not in config and config["dtype"] == "int64"
    assert L.IntegerLookup().get_config()["vocabulary_dtype"] == "int64"


def test_a_keras_config_without_its_vocabulary_refuses_to_run():
    # Keras saves an adapted vocabulary in the .keras assets, not the config:
    # rebuilt from the config alone, the layer must not map everything to OOV.
    layer = L.TextVectorization.from_config({"name": "tv", "vocabulary": None,
                                             "vocabulary_size": 7})
    with pytest.raises(RuntimeError, match="'tv' was rebuilt from a config without its "
                                           "vocabulary of 7 entries"):
        layer(np.array(["a b"]))
    layer.set_vocabulary(["a", "b", "c", "d", "e"])
    np.testing.assert_array_equal(out(layer(np.array(["a b"]))), [[2, 3]])


def test_keras3_oov_method_farmhash_and_salt():
    # Keras 3's integer_lookup.py docstring: floormod piles these OOV ids into
    # one bucket; farmhash (of the decimal string) spreads them.
    oov = np.array([100, 300, 700, 1100, 1700, 2000])
    floormod = L.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4)
    np.testing.assert_array_equal(out(floormod(oov)), [0, 0, 0, 0, 0, 0])
    farmhash = L.IntegerLookup(vocabulary=[10, 20, 30], num_oov_indices=4,
                               oov_method="farmhash")
    np.testing.assert_array_equal(out(farmhash(oov)), [3, 3, 2, 2, 0, 1])
    config = json.loads(json.dumps(farmhash.get_config()))
    assert config["oov_method"] == "farmhash"
    np.testing.assert_array_equal(out(L.IntegerLookup.from_config(config)(oov)), [3, 3, 2, 2, 0, 1])
    assert "oov_method" not in floormod.get_config()  # tf.keras 2's keys by default
    salted = L.StringLookup(vocabulary=["a"], num_oov_indices=3, salt=7)
    assert salted.get_config()["salt"] == [7, 7]
    with pytest.raises(ValueError, match="salt"):
        L.IntegerLookup(vocabulary=[1], num_oov_indices=2, salt=3)
