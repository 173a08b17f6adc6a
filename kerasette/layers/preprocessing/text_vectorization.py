"""`TextVectorization`: text to token ids or counts (tf.keras 2's layer).

Each string is standardised, split into tokens, optionally joined into
ngrams, and looked up in a `StringLookup` whose mask token is `""` (index
0, the padding) and whose OOV token is `"[UNK]"` (index 1). All of it runs
on the host with Python's `re` and NumPy; the ids (or counts) go to the
device once per call.

Matching tf.keras 2 exactly: `"lower"` lowercases ASCII letters only (it
calls `tf.strings.lower` without an encoding), punctuation is
`DEFAULT_STRIP_REGEX`, `"whitespace"` splits on ASCII whitespace (space,
\\t, \\n, \\v, \\f, \\r) dropping empty tokens, `"character"` on Unicode code
points, and ngrams of several widths come width by width, joined by a space.
"""

from __future__ import annotations

import itertools
import re
import string

import numpy as np

from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.preprocessing.base import PreprocessingLayer
from kerasette.layers.preprocessing.index_lookup import COUNT, INT, MULTI_HOT, TF_IDF
from kerasette.layers.preprocessing.string_lookup import StringLookup
from kerasette.utils import registry
from kerasette.utils.string_data import as_string_array

LOWER_AND_STRIP_PUNCTUATION = "lower_and_strip_punctuation"
STRIP_PUNCTUATION = "strip_punctuation"
LOWER = "lower"
WHITESPACE = "whitespace"
CHARACTER = "character"

# tf.keras 2's punctuation, stripped by "lower_and_strip_punctuation".
DEFAULT_STRIP_REGEX = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'
_STRIP = re.compile(DEFAULT_STRIP_REGEX)
# The regex matches single ASCII characters, so deleting them with
# `str.translate` is the same as `re.sub`, in one pass with the lowercasing.
_STRIP_TABLE = {ord(c): None for c in map(chr, range(128)) if _STRIP.fullmatch(c)}
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_TABLES = {LOWER: _ASCII_LOWER, STRIP_PUNCTUATION: _STRIP_TABLE,
           LOWER_AND_STRIP_PUNCTUATION: {**_ASCII_LOWER, **_STRIP_TABLE}}
# `tf.strings.split` without a separator: runs of ASCII whitespace.
_TOKEN = re.compile(r"[^ \t\n\v\f\r]+")


class TextVectorization(PreprocessingLayer):
    """Maps strings to sequences of token ids, or to per-text token counts.

    Args:
        max_tokens: the largest vocabulary, padding and OOV indices included.
        standardize: None, "lower_and_strip_punctuation" (default), "lower",
            "strip_punctuation", or a callable taking and returning a NumPy
            array of str (of the same shape).
        split: None, "whitespace" (default), "character", or a callable
            taking a 1-D NumPy array of str and returning one list of tokens
            per string.
        ngrams: None, an int n (ngrams of widths 1 to n) or a tuple of widths.
        output_mode: "int" (default), "multi_hot", "count" or "tf_idf".
        output_sequence_length: "int" mode: pad or cut each sequence to
            this length (default: the longest sequence of the batch).
        pad_to_max_tokens: pad the counts to `max_tokens` columns.
        vocabulary: a list of strings or a text file path (no `adapt` needed).
        idf_weights: with `vocabulary` in "tf_idf" mode: one weight per term.
        sparse: must be False.
        ragged: must be False (kerasette has no ragged tensors; use
            `output_sequence_length`, or the padding to the longest text).
        encoding: the encoding of bytes inputs (default "utf-8").

    Input shape:
        `(batch,)` or `(batch, 1)` strings.

    Output shape:
        "int": `(batch, output_sequence_length)` int64; otherwise
        `(batch, vocabulary size or max_tokens)` float32.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.TextVectorization(max_tokens=5000, output_sequence_length=4)
        >>> layer.adapt(["foo", "bar", "baz"])
        >>> layer([["foo qux bar"], ["qux baz"]]).numpy()
        array([[2, 1, 4, 0],
               [1, 3, 0, 0]])
    """

    _string_input = True

    def __init__(self, max_tokens=None, standardize=LOWER_AND_STRIP_PUNCTUATION,
                 split=WHITESPACE, ngrams=None, output_mode=INT, output_sequence_length=None,
                 pad_to_max_tokens=False, vocabulary=None, idf_weights=None, sparse=False,
                 ragged=False, encoding="utf-8", **kwargs):
        dtype = kwargs.get("dtype")
        if dtype is not None and dtype != "string" and not (
                isinstance(dtype, dict) and (dtype.get("config") or {}).get("name") == "string"):
            raise ValueError("`TextVectorization` may only have a dtype of string. "
                             f"Received dtype: {dtype}.")
        kwargs["dtype"] = "string"
        _check_choice(standardize, "standardize",
                      (LOWER_AND_STRIP_PUNCTUATION, LOWER, STRIP_PUNCTUATION))
        _check_choice(split, "split", (WHITESPACE, CHARACTER))
        output_mode = {"binary": MULTI_HOT, "tf-idf": TF_IDF}.get(output_mode, output_mode)
        if output_mode not in (INT, COUNT, MULTI_HOT, TF_IDF, None):
            raise ValueError("TextVectorization: `output_mode` must be one of 'int', 'count', "
                             f"'multi_hot', 'tf_idf' or None. Received: "
                             f"output_mode={output_mode!r}")
        if isinstance(ngrams, list):
            ngrams = tuple(ngrams)  # a config read back from JSON
        if not (ngrams is None or _is_int(ngrams) or (
                isinstance(ngrams, tuple) and all(_is_int(n) for n in ngrams))):
            raise ValueError("`ngrams` must be None, an integer, or a tuple of integers. "
                             f"Received: ngrams={ngrams!r}")
        if output_sequence_length is not None and (
                not _is_int(output_sequence_length) or output_sequence_length < 0):
            raise ValueError("`output_sequence_length` must be either None or a non-negative "
                             "integer when `output_mode` is 'int'. Received: "
                             f"output_sequence_length={output_sequence_length!r}")
        if output_mode != INT and output_sequence_length is not None:
            raise ValueError("`output_sequence_length` must not be set if `output_mode` is not "
                             f"'int'. Received output_sequence_length={output_sequence_length}.")
        if ragged:
            raise ValueError("TextVectorization: `ragged=True` is not supported (kerasette has "
                             "no ragged tensors). Leave ragged=False: sequences are padded "
                             "with 0 to `output_sequence_length`, or to the longest text of "
                             "the batch.")
        if sparse:
            raise ValueError("TextVectorization: `sparse=True` is not supported (kerasette "
                             "has no sparse tensors); leave sparse=False.")
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(**kwargs)
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if _is_int(ngrams) else ngrams
        self._ragged = False
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="",
            output_mode=output_mode if output_mode is not None else INT,
            has_input_vocabulary=has_input_vocabulary, encoding=encoding,
            vocabulary_size=vocabulary_size)
        self._lookup_layer._owner_name = self.name  # errors name this layer

    # -- vocabulary ------------------------------------------------------------------------
    # `PreprocessingLayer.adapt(data, batch_size=None, steps=None)` reads the
    # batches (arrays or lists of strings, generators, Sequences, datasets
    # mapped to their texts) and calls these.
    def _check_adaptable(self):
        self._lookup_layer._check_adaptable()

    def update_state(self, data) -> None:
        self._lookup_layer.count_tokens(self._preprocess(self._strings(data)))

    def finalize_state(self) -> None:
        self._lookup_layer.finalize_state()

    def reset_state(self) -> None:
        self._lookup_layer.reset_state()

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary; with `include_special_tokens`, it starts with the
        padding `""` and the OOV token `"[UNK]"`, so a token's position is its id."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        """The vocabulary size, padding and OOV indices included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Sets the vocabulary (and "tf_idf" weights) directly; see `StringLookup`."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    @property
    def idf_weights(self):
        """The "tf_idf" weights per index (a host float32 array), or None."""
        return self._lookup_layer.idf_weights

    # -- preprocessing ----------------------------------------------------------------------
    def _strings(self, data) -> np.ndarray:
        if isinstance(data, Tensor):
            raise TypeError(f"Layer {self.name!r} (TextVectorization) takes strings, which "
                            f"stay on the host. Received: a tensor of dtype {data.dtype}.")
        try:
            return as_string_array(data, self._encoding)
        except TypeError as err:
            raise TypeError(f"Layer {self.name!r} (TextVectorization) takes strings. "
                            f"{err}") from None

    def _preprocess(self, inputs: np.ndarray):
        """Standardise, split and make ngrams: a str array (no split) or a
        list of token lists, one per text."""
        table = _TABLES.get(self._standardize) if isinstance(self._standardize, str) else None
        if callable(self._standardize):
            inputs = self._strings(self._standardize(inputs))
        if self._split is None:
            if table is not None:
                inputs = _map_strings(inputs, lambda s: s.translate(table))
            if self._ngrams is None:
                return inputs
            rows = [list(r) for r in (inputs.reshape(len(inputs), -1) if inputs.ndim > 1
                                      else [inputs.tolist()])]
            grams = [_ngrams(r, self._ngrams) for r in rows]
            return grams if inputs.ndim > 1 else np.array(grams[0], dtype=str)
        if inputs.ndim > 1:
            if inputs.shape[-1] != 1:
                raise ValueError("When using `TextVectorization` to tokenize strings, the "
                                 "input rank must be 1 or the last shape dimension must be 1. "
                                 f"Received: inputs.shape={inputs.shape} with "
                                 f"rank={inputs.ndim}")
            inputs = inputs[..., 0]
        if inputs.ndim != 1:
            raise ValueError("TextVectorization splits a batch of texts: `(batch,)` or "
                             f"`(batch, 1)` strings. Received: shape {inputs.shape}.")
        if callable(self._split):
            if table is not None:
                inputs = _map_strings(inputs, lambda s: s.translate(table))
            rows = [[str(t) for t in _values(row)] for row in self._split(inputs)]
        else:  # one pass over Python strings: standardise and split each
            texts = inputs.tolist()
            if table is not None:
                texts = [s.translate(table) for s in texts]
            if self._split == WHITESPACE:
                rows = [_TOKEN.findall(s) for s in texts]
            else:
                rows = [list(s) for s in texts]
        if self._ngrams is not None:
            rows = [_ngrams(r, self._ngrams) for r in rows]
        return rows

    # -- calling ------------------------------------------------------------------------------
    def _convert_input(self, inputs):
        return self._strings(inputs)  # the host array: `call` sends the ids, once

    def call(self, inputs):
        scalar = inputs.ndim == 0
        if scalar:
            inputs = inputs.reshape(1)
        out = self._vectorize(self._preprocess(inputs))
        if scalar:
            out = out[0]
        if self._output_mode is None:
            return out
        return ops.convert_to_tensor(out, dtype="int64" if self._output_mode == INT
                                     else self._lookup_layer.dtype)

    def _vectorize(self, data):
        lookup = self._lookup_layer
        if self._output_mode is None:
            return data
        lookup._ensure_known_vocab_size()
        if isinstance(data, np.ndarray):  # no split: one token per string
            ids = lookup.lookup(data)
            if self._output_mode != INT:
                return lookup.encode(ids)
            length = self._output_sequence_length
            if length is None:
                return ids
            ids = ids[..., :length]
            pad = [(0, 0)] * (ids.ndim - 1) + [(0, length - ids.shape[-1])]
            return np.pad(ids, pad)
        lengths = np.array([len(r) for r in data], dtype=np.int64)
        flat = list(itertools.chain.from_iterable(data))
        ids = lookup.lookup_list(flat)
        if self._output_mode != INT:
            return lookup.encode_rows(ids, lengths)
        width = self._output_sequence_length
        if width is None:
            width = int(lengths.max()) if len(lengths) else 0
        out = np.zeros((len(data), width), dtype=np.int64)
        starts = np.cumsum(lengths) - lengths
        rows = np.repeat(np.arange(len(data)), lengths)
        cols = np.arange(len(flat)) - np.repeat(starts, lengths)
        keep = cols < width
        out[rows[keep], cols[keep]] = ids[keep]
        return out

    @property
    def _symbolic_output_dtype(self):
        """The dtype of the output, for symbolic calls (layers/symbolic.py)."""
        if self._output_mode is None:
            return "string"
        return "int64" if self._output_mode == INT else self._lookup_layer.dtype

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self._output_mode == INT:
            return (input_shape[0] if input_shape else None, self._output_sequence_length)
        if self._split is None:
            if len(input_shape) <= 1:
                input_shape = input_shape + (1,)
        else:
            input_shape = input_shape + (None,)
        return self._lookup_layer.compute_output_shape(input_shape)

    # -- config -------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """tf.keras 2's keys; `vocabulary` (and `idf_weights`) as in
        `StringLookup.get_config`: the learned ones for an adapted layer."""
        lookup_config = self._lookup_layer.get_config()
        config = super().get_config()
        config.update({
            "max_tokens": self._lookup_layer.max_tokens,
            "standardize": _callable_name(self._standardize),
            "split": _callable_name(self._split),
            "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": self._lookup_layer.pad_to_max_tokens,
            "sparse": False,
            "ragged": False,
            "vocabulary": lookup_config["vocabulary"],
            "idf_weights": lookup_config["idf_weights"],
            "encoding": self._encoding,
            "vocabulary_size": self.vocabulary_size(),
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key, builtins in (("standardize", (LOWER_AND_STRIP_PUNCTUATION, LOWER,
                                               STRIP_PUNCTUATION)),
                              ("split", (WHITESPACE, CHARACTER))):
            value = config.get(key)
            if value is not None and value not in builtins:
                config[key] = _registered_function(value, key)
        return cls(**config)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_choice(value, name, allowed):
    if value is None or callable(value) or value in allowed:
        return
    raise ValueError(f"TextVectorization: `{name}` must be None, a callable or one of "
                     f"{list(allowed)}. Received: {name}={value!r}")


def _map_strings(arr: np.ndarray, fn) -> np.ndarray:
    out = [fn(s) for s in arr.reshape(-1).tolist()]
    return np.array(out, dtype=str).reshape(arr.shape) if out else arr


def _values(row):
    if isinstance(row, np.ndarray):
        return row.tolist()
    return row


def _ngrams(tokens, widths):
    """tf.strings.ngrams(tokens, widths, separator=" "), widths one after another."""
    out = []
    for width in widths:
        out.extend(" ".join(tokens[i:i + width]) for i in range(len(tokens) - width + 1))
    return out


def _callable_name(value):
    """A callable as the name it is registered under (Keras configs name
    functions); strings and None as they are."""
    if value is None or isinstance(value, str):
        return value
    return getattr(value, "_registered_name", None) or getattr(value, "__name__", repr(value))


def _registered_function(value, key):
    if isinstance(value, dict):  # Keras 3: {"class_name": "function", "config": name, ...}
        value = value.get("registered_name") or value.get("config")
    fn = registry._CUSTOM_OBJECTS.get(value) if isinstance(value, str) else None
    if fn is None:
        raise ValueError(f"TextVectorization: the `{key}` function {value!r} of this config is "
                         "not registered. Decorate it with "
                         "@keras.utils.register_keras_serializable() before loading.")
    return fn


__all__ = ["DEFAULT_STRIP_REGEX", "TextVectorization"]
