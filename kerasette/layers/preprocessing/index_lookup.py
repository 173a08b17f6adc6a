"""`IndexLookup`: the vocabulary table behind `StringLookup` and `IntegerLookup`.

tf.keras 2's algorithm (`tf_keras/layers/preprocessing/index_lookup.py`),
run on the host with NumPy: the table is a sorted copy of the vocabulary
searched with `np.searchsorted`, so a batch is looked up in one vectorised
pass, and only the ids (or the encoded counts) go to the device, once.

Index layout (as tf.keras 2): with `output_mode="int"`, index 0 is the mask
token (when `mask_token` is set), then `num_oov_indices` OOV indices, then
the vocabulary; in the other modes there is no mask index and masked
inputs are dropped. `adapt` orders the vocabulary by descending count, ties
broken by descending token (`np.lexsort((tokens, counts))[::-1]`).

Saving. tf.keras 2 keeps a vocabulary in the config only when it was given
as a list; an adapted one is a non-variable "weight" that its `.h5` writer
refuses ("use save_format='tf'"), and Keras 3 writes it to the `.keras`
file's assets (`vocabulary.txt`), with "tf_idf" weights as a variable.
kerasette's `get_config` holds the adapted vocabulary too (special tokens
first, as `get_vocabulary()` returns it, and the "tf_idf" weights), so a
model with an adapted layer saves to `.h5`, `.keras` and JSON and loads
back exactly, and tf.keras 2 and Keras 3 read those configs as layers
built with that vocabulary. The layer rebuilt from such a config has a
fixed vocabulary (as a layer given `vocabulary=`: `adapt` is refused). A
Keras config without its vocabulary (Keras's assets are not read) makes a
layer that refuses to run, rather than mapping every token to OOV.
"""

from __future__ import annotations

import collections
import itertools
import os

import numpy as np

from kerasette import backend as _backend
from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.preprocessing.base import PreprocessingLayer
from kerasette.layers.preprocessing.hash_functions import fingerprint64, siphash64

INT = "int"
ONE_HOT = "one_hot"
MULTI_HOT = "multi_hot"
COUNT = "count"
TF_IDF = "tf_idf"
OUTPUT_MODES = (INT, ONE_HOT, MULTI_HOT, COUNT, TF_IDF)

# The id a masked input gets outside "int" mode: below 0, so the counts drop it.
_DROPPED = -2


class IndexLookup(PreprocessingLayer):
    """Maps tokens (strings or integers) to indices, or back with `invert`.

    Not exported: `StringLookup` and `IntegerLookup` fix the token type.
    The arguments are tf.keras 2's (see `StringLookup`); `sparse=True` is
    refused (kerasette has no sparse tensors).
    """

    # Subclasses: whether tokens are strings, and how to convert them.
    _string_tokens = False

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype,
                 vocabulary=None, idf_weights=None, invert=False, output_mode=INT,
                 sparse=False, pad_to_max_tokens=False, **kwargs):
        cls = type(self).__name__
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(
                max_tokens, (int, np.integer)) or max_tokens <= 1):
            raise ValueError(f"{cls}: if set, `max_tokens` must be an integer greater than 1. "
                             f"Received: max_tokens={max_tokens!r}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{cls}: if pad_to_max_tokens is True, must set `max_tokens`. "
                             f"Received: max_tokens={max_tokens}")
        if isinstance(num_oov_indices, bool) or not isinstance(
                num_oov_indices, (int, np.integer)) or num_oov_indices < 0:
            raise ValueError(f"{cls}: `num_oov_indices` must be an integer greater than or "
                             f"equal to 0. Received: num_oov_indices={num_oov_indices!r}")
        output_mode = {"binary": MULTI_HOT, "tf-idf": TF_IDF}.get(output_mode, output_mode)
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"{cls}: unknown `output_mode`. Expected one of "
                             f"{list(OUTPUT_MODES)}. Received: output_mode={output_mode!r}")
        if invert and output_mode != INT:
            raise ValueError(f"{cls}: `output_mode` must be 'int' when `invert` is true. "
                             f"Received: output_mode={output_mode!r}")
        if sparse:
            raise ValueError(f"{cls}: `sparse=True` is not supported (kerasette has no sparse "
                             "tensors); leave sparse=False for dense outputs.")
        if idf_weights is not None and output_mode != TF_IDF:
            raise ValueError(f"{cls}: `idf_weights` should only be set if `output_mode` is "
                             f"'tf_idf'. Received: output_mode={output_mode!r}")
        self.invert = bool(invert)
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method, self.salt = _oov_hashing(kwargs.pop("oov_method", "floormod"),
                                                  kwargs.pop("salt", None), cls,
                                                  self._string_tokens)
        self._frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        self._has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("has_static_table", None)
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == INT else _backend.floatx()
        super().__init__(**kwargs)
        if output_mode == INT and np.dtype(self.dtype).kind not in "iu":
            raise ValueError(f"{cls}: when `output_mode='int'`, `dtype` should be an integer "
                             f"type. Received: dtype={kwargs['dtype']!r}")
        self.input_vocabulary = vocabulary
        self.input_idf_weights = idf_weights
        self._tokens = None  # the learned or given tokens, in index order
        self.idf_weights = None  # host float array, `output_mode="tf_idf"` only
        self.reset_state()
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif (self._frozen_vocab_size or 0) > self._token_start_index():
            # A config of an adapted Keras layer: its vocabulary went to the
            # file's assets (Keras 3's vocabulary.txt), which kerasette does
            # not read; refuse to run rather than map every token to OOV.
            self._vocabulary_elsewhere = self._frozen_vocab_size

    # -- token conversion (subclasses) ------------------------------------------------------
    def _as_tokens(self, values) -> np.ndarray:
        """`values` as a host array of this layer's token type."""
        raise NotImplementedError

    def _as_indices(self, values) -> np.ndarray:
        """Host int64 indices (the input of an inverted layer)."""
        if isinstance(values, Tensor):
            values = values.numpy()
        arr = np.asarray(values)
        if arr.dtype.kind not in "iuf":
            raise TypeError(f"Layer {self.name!r} ({type(self).__name__}) with invert=True "
                            f"takes integer indices. Received: dtype {arr.dtype}.")
        return arr.astype(np.int64)

    def _token_list(self, tokens) -> list:
        """Python values (str or int) of a token array, as `get_vocabulary` returns."""
        return tokens.tolist()

    # -- vocabulary --------------------------------------------------------------------------
    def _oov_start_index(self) -> int:
        return 1 if self.mask_token is not None and self.output_mode == INT else 0

    def _token_start_index(self) -> int:
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self) -> int:
        """The size of the vocabulary, mask and OOV indices included."""
        learned = 0 if self._tokens is None else len(self._tokens)
        return learned + self._token_start_index()

    def vocab_size(self) -> int:
        """Deprecated alias of `vocabulary_size` (as tf.keras 2)."""
        return self.vocabulary_size()

    def get_vocabulary(self, include_special_tokens=True) -> list:
        """The vocabulary: a token's index in it is the index the layer gives it.

        Args:
            include_special_tokens: with True, the mask token (index 0, in
                "int" mode) and the OOV token (once per OOV index) lead the
                list; with False, only the learned or given tokens.
        """
        tokens = [] if self._tokens is None else self._token_list(self._tokens)
        if not include_special_tokens:
            return tokens
        special = [self.mask_token] * self._oov_start_index() + \
            [self.oov_token] * self.num_oov_indices
        return special + tokens

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Sets the vocabulary (and, for "tf_idf", the IDF weights) directly.

        Args:
            vocabulary: a list, tuple or 1-D array of tokens, or the path of
                a text file with one token per line. It may start with the
                special tokens in the layer's order (as `get_vocabulary`
                returns them); they are then not learned twice.
            idf_weights: for "tf_idf" only: one weight per vocabulary entry.
                Without the special tokens, the OOV weight is their average.

        Raises:
            ValueError: for an empty vocabulary, a repeated token, a mask
                or OOV token out of place, one larger than `max_tokens`, a
                missing file, or IDF weights given or missing wrongly.
        """
        cls = type(self).__name__
        if self.output_mode == TF_IDF:
            if idf_weights is None:
                raise ValueError(f"{cls}: `idf_weights` must be set if output_mode is "
                                 "'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(f"{cls}: `idf_weights` should only be set if output_mode is "
                             f"'tf_idf'. Received: output_mode={self.output_mode!r}")
        if isinstance(vocabulary, (str, os.PathLike)):
            path = os.fspath(vocabulary)
            if not os.path.isfile(path):
                raise ValueError(f"Vocabulary file {path} does not exist.")
            if self.output_mode == TF_IDF:
                raise ValueError("output_mode 'tf_idf' does not support loading a vocabulary "
                                 "from file.")
            with open(path, encoding="utf-8") as f:
                lines = f.read().split("\n")
            if lines and lines[-1] == "":
                lines.pop()  # the newline ending the last line
            tokens = self._as_tokens([line[:-1] if line.endswith("\r") else line
                                      for line in lines])
            self._check_size(self._token_start_index() + len(tokens))
            self._set_tokens(tokens)
            self._record_vocabulary_size()
            return
        vocab = self._as_tokens(vocabulary.numpy() if isinstance(vocabulary, Tensor)
                                else vocabulary)
        if vocab.ndim != 1 or vocab.size == 0:
            raise ValueError(f"Cannot set an empty vocabulary, you passed {vocabulary!r}."
                             if vocab.size == 0 else
                             f"{cls}: `vocabulary` must be 1-D. Received shape {vocab.shape}.")
        token_start = self._token_start_index()
        special = [self.mask_token] * self._oov_start_index() + \
            [self.oov_token] * self.num_oov_indices
        found_special = len(vocab) >= token_start and all(
            self._same(a, b) for a, b in zip(vocab[:token_start].tolist(), special))
        tokens = vocab[token_start:] if found_special else vocab
        repeated = [t for t, n in collections.Counter(tokens.tolist()).items() if n > 1]
        if repeated:
            raise ValueError("The passed vocabulary has at least one repeated term. Please "
                             f"uniquify your dataset. The repeated terms are {repeated}")
        for token, what, applies in ((self.mask_token, "mask_token", True),
                                     (self.oov_token, "oov_token", self.invert)):
            if token is not None and applies and any(self._same(t, token)
                                                     for t in tokens.tolist()):
                raise ValueError(
                    f"Found reserved {what} {token!r} at an unexpected location in "
                    "`vocabulary`. The passed `vocabulary` does not need to include the OOV "
                    "and mask tokens. Either remove all mask and OOV tokens, or include them "
                    f"only at the start of the vocabulary in precisely this order: {special}.")
        self._check_size(token_start + len(tokens))
        self._set_tokens(tokens)
        self._record_vocabulary_size()
        if self.output_mode == TF_IDF and idf_weights is not False:
            weights = np.asarray(idf_weights.numpy() if isinstance(idf_weights, Tensor)
                                 else idf_weights)
            if weights.ndim != 1:
                raise ValueError(f"TF-IDF data must be a 1-index array, but received an "
                                 f"array of shape {weights.shape}.")
            if len(weights) != len(vocab):
                raise ValueError("`idf_weights` must be the same length as vocabulary. "
                                 f"len(idf_weights) is {len(weights)}, len(vocabulary) is "
                                 f"{len(vocab)}")
            # Without special tokens, the OOV indices get the average weight.
            front = 0 if found_special else token_start
            front_value = 0.0 if found_special else float(np.average(weights))
            back = (self.max_tokens - front - len(weights)
                    if self.pad_to_max_tokens else 0)
            padded = np.pad(weights.astype(np.float64), (front, back), "constant",
                            constant_values=(front_value, 0.0))
            self.idf_weights = padded.astype(self.dtype)

    @staticmethod
    def _same(a, b) -> bool:
        return a == b

    def _check_size(self, size):
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError("Attempted to set a vocabulary larger than the maximum vocab size. "
                             f"Passed vocab size is {size}, max vocab size is "
                             f"{self.max_tokens}.")

    _vocabulary_elsewhere = None

    def _set_tokens(self, tokens):
        self._vocabulary_elsewhere = None
        self._tokens = tokens
        start = self._token_start_index()
        self._index = _Index(zip(tokens.tolist(), range(start, start + len(tokens))))
        order = np.argsort(tokens, kind="stable")
        self._sorted = tokens[order]
        self._order = order.astype(np.int64)

    def _record_vocabulary_size(self):
        new_size = self.vocabulary_size()
        if (self.output_mode != INT and not self.pad_to_max_tokens
                and self._frozen_vocab_size is not None
                and new_size != self._frozen_vocab_size):
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                "the vocabulary size cannot be changed after it is set (the output width "
                f"depends on it). Old vocab size is {self._frozen_vocab_size}, new vocab size "
                f"is {new_size}")
        self._frozen_vocab_size = new_size

    # -- adapt (`PreprocessingLayer.adapt` reads the batches) ---------------------------------
    def _check_adaptable(self):
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt {type(self).__name__} layer after setting a static "
                             "vocabulary via init argument or `set_vocabulary`.")

    def update_state(self, data) -> None:
        """Counts the tokens of one batch (its rows are documents for
        "tf_idf"; a 1-D batch is one document, as in tf.keras 2)."""
        self.count_tokens(self._as_tokens(data))

    def count_tokens(self, data) -> None:
        """Counts tokens: a token array, or a list of token lists (one per
        document, what `TextVectorization` makes of its texts)."""
        if isinstance(data, np.ndarray):
            if data.ndim <= 1:
                documents = [data.reshape(-1)]
            else:
                documents = list(data.reshape(len(data), -1))
            values, counts = np.unique(data.reshape(-1), return_counts=True)
            self._counts.update(dict(zip(values.tolist(), counts.tolist())))
        else:
            documents = data
            self._counts.update(itertools.chain.from_iterable(documents))
        if self.output_mode == TF_IDF:
            for document in documents:
                self._doc_counts.update(set(_values(document)))
            self._num_documents += len(documents)

    def finalize_state(self) -> None:
        """Turns the counts into the vocabulary (and IDF weights)."""
        if self._has_input_vocabulary or not self._counts:
            self._record_vocabulary_size()
            return
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                self._counts.pop(special, None)
        keys = list(self._counts.keys())  # none left when only special tokens were seen
        tokens = self._as_tokens(keys if keys else np.array([], dtype=str))
        counts = np.fromiter(self._counts.values(), dtype=np.int64, count=len(self._counts))
        # tf.keras 2's order: by count, then by token, both descending.
        order = np.lexsort((tokens, counts))[::-1]
        if self.max_tokens:
            order = order[:self.max_tokens - self._token_start_index()]
        tokens = tokens[order]
        self._set_tokens(tokens)
        if self.output_mode == TF_IDF:
            df = np.array([self._doc_counts.get(t, 0) for t in tokens.tolist()], np.float64)
            idf = np.log(1.0 + self._num_documents / (1.0 + df)).astype(self.dtype)
            # The OOV indices get the average weight: their real one is unknown.
            mean = np.mean(idf, dtype=self.dtype) if idf.size else np.float32(0)
            idf = np.concatenate([np.full(self._token_start_index(), mean, self.dtype), idf])
            if self.pad_to_max_tokens and self.max_tokens is not None:
                idf = np.pad(idf, (0, self.max_tokens - len(idf)))
            self.idf_weights = idf.astype(self.dtype)
        self.reset_state()
        self._record_vocabulary_size()

    def reset_state(self) -> None:
        """Forgets the counts of an `adapt` in progress."""
        self._counts = collections.Counter()
        self._doc_counts = collections.Counter()
        self._num_documents = 0

    # -- calling -------------------------------------------------------------------------------
    def _convert_input(self, inputs):
        # Tokens are looked up on the host: strings cannot go to a device,
        # and the table is a host array. `call` moves the result, once.
        if self.invert:
            return self._as_indices(inputs)
        return self._as_tokens(inputs.numpy() if isinstance(inputs, Tensor) else inputs)

    def call(self, inputs):
        self._ensure_known_vocab_size()
        if self.invert:
            return self._invert(inputs)
        ids = self.lookup(inputs)
        if self.output_mode == INT:
            return ops.convert_to_tensor(ids, dtype=self.dtype)
        return ops.convert_to_tensor(self.encode(ids), dtype=self.dtype)

    def lookup(self, tokens: np.ndarray) -> np.ndarray:
        """The int64 index of each token (a host array of any shape), with
        tf.keras 2's mask and OOV rules; outside "int" mode a masked token
        gets a negative index, which `encode` drops."""
        flat = tokens.reshape(-1)
        ids = np.full(flat.shape, self._oov_start_index(), dtype=np.int64)
        found = np.zeros(flat.shape, dtype=bool)
        if self._tokens is not None and len(self._tokens) and flat.size:
            pos = np.minimum(np.searchsorted(self._sorted, flat), len(self._sorted) - 1)
            found = self._sorted[pos] == flat
            ids[found] = self._order[pos[found]] + self._token_start_index()
        oov = ~found
        if self.mask_token is not None:
            masked = flat == self.mask_token
            ids[masked] = 0 if self.output_mode == INT else _DROPPED
            oov &= ~masked
        if self.num_oov_indices == 0 and oov.any():
            raise ValueError(
                f"Layer {self.name!r}: when `num_oov_indices=0` all inputs should be in "
                f"vocabulary, found OOV values {flat[oov][:10].tolist()}, consider setting "
                "`num_oov_indices=1`.")
        if self.num_oov_indices > 1 and oov.any():
            ids[oov] = self._oov_buckets(flat[oov]) + self._oov_start_index()
        return ids.reshape(tokens.shape)

    def lookup_list(self, tokens: list) -> np.ndarray:
        """`lookup` of a flat list of tokens: one dict lookup each (for text,
        faster than making a str array), then `lookup` of the misses (mask
        and OOV tokens) alone."""
        index = self._index if self._tokens is not None else _Index()
        ids = np.array(list(map(index.__getitem__, tokens)), dtype=np.int64)
        missed = np.flatnonzero(ids < 0)
        if missed.size:
            ids[missed] = self.lookup(self._as_tokens([tokens[i] for i in missed.tolist()]))
        return ids

    def _oov_buckets(self, tokens) -> np.ndarray:
        """OOV bucket per token (0 to num_oov_indices - 1)."""
        raise NotImplementedError

    def _invert(self, indices):
        vocab = np.asarray(self.get_vocabulary(), dtype=object)
        flat = indices.reshape(-1)
        inside = (flat >= 0) & (flat < len(vocab))
        out = np.full(flat.shape, self.oov_token, dtype=object)
        out[inside] = vocab[flat[inside]]
        return self._inverted(out.reshape(indices.shape))

    def _inverted(self, tokens):
        """The result of an inverted lookup (object array of tokens)."""
        raise NotImplementedError

    def encode(self, ids: np.ndarray) -> np.ndarray:
        """tf.keras 2's `encode_categorical_inputs` of host ids, on the host."""
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        return encode_categorical(ids, self.output_mode, depth, self.dtype, self.idf_weights)

    def encode_rows(self, ids, row_lengths) -> np.ndarray:
        """`encode` of ragged rows: `ids` of all rows end to end."""
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        rows = np.repeat(np.arange(len(row_lengths)), row_lengths)
        return _bincount_rows(ids, rows, len(row_lengths), depth, self.output_mode,
                              self.dtype, self.idf_weights)

    def _ensure_known_vocab_size(self):
        if self._vocabulary_elsewhere is not None:
            raise RuntimeError(
                f"Layer {getattr(self, '_owner_name', self.name)!r} was rebuilt from a config "
                f"without its vocabulary of "
                f"{self._vocabulary_elsewhere} entries: Keras saves an adapted vocabulary in "
                "the .keras file's assets, which kerasette does not read. Set it with "
                "`layer.set_vocabulary(...)` (kerasette's own files keep it in the config).")
        if self.output_mode == INT or self.pad_to_max_tokens:
            return
        if self._frozen_vocab_size is None or self._tokens is None:
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                "you must set the layer's vocabulary before calling it. Either pass a "
                "`vocabulary` argument to the layer, or call `adapt` with some sample data.")

    @property
    def _symbolic_output_dtype(self):
        """The dtype of the output, for symbolic calls (layers/symbolic.py)."""
        return self.vocabulary_dtype if self.invert else self.dtype

    def compute_output_shape(self, input_shape):
        if self.output_mode == INT:
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        return (tuple(input_shape)[0] if len(input_shape) else None, depth)

    # -- config --------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """tf.keras 2's keys. `vocabulary` holds the given vocabulary (a list,
        or a file path), or, for an adapted layer, the learned one with its
        special tokens (and `idf_weights` the learned weights), so that the
        layer rebuilds from its config alone (see this module's docstring)."""
        vocabulary = _listify(self.input_vocabulary)
        idf_weights = _listify(self.input_idf_weights)
        if vocabulary is None and self._tokens is not None:
            vocabulary = self.get_vocabulary()
            if self.output_mode == TF_IDF and self.idf_weights is not None:
                idf_weights = self.idf_weights[:len(vocabulary)].tolist()
        config = super().get_config()
        config.update({
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": False,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.vocabulary_dtype,
            "idf_weights": idf_weights,
            "vocabulary": vocabulary,
            "vocabulary_size": self._frozen_vocab_size,
        })
        if self.oov_method != "floormod" or self.salt is not None:
            # Keras 3's keys, written only when used (tf.keras 2 does not know them).
            config.update({"oov_method": self.oov_method, "salt": self.salt})
        return config


def _oov_hashing(oov_method, salt, cls, string_tokens):
    """Keras 3's `oov_method` and `salt` (how OOV tokens pick one of several
    OOV indices), checked; `salt` as `[k0, k1]` or None."""
    if oov_method not in ("floormod", "farmhash"):
        raise ValueError(f"{cls}: `oov_method` must be 'floormod' or 'farmhash'. "
                         f"Received: oov_method={oov_method!r}")
    if salt is None:
        return oov_method, None
    if not string_tokens and oov_method != "farmhash":
        raise ValueError("`salt` can only be used when `oov_method='farmhash'`. "
                         f"Received: oov_method={oov_method}")
    if isinstance(salt, (tuple, list)) and len(salt) == 2 and all(
            isinstance(k, (int, np.integer)) for k in salt):
        return oov_method, [int(k) for k in salt]
    if isinstance(salt, (int, np.integer)) and not isinstance(salt, bool):
        return oov_method, [int(salt), int(salt)]
    raise ValueError(f"The `salt` argument for `{cls}` can only be a tuple of 2 integers, or a "
                     f"single integer. Received: salt={salt!r}.")


def hash_buckets(texts, num_buckets, salt=None) -> np.ndarray:
    """`tf.strings.to_hash_bucket_fast` (FarmHash `Fingerprint64`), or with
    a `salt`, `to_hash_bucket_strong` (SipHash-2-4), of each str, modulo
    `num_buckets`."""
    raw = [t.encode("utf-8", errors="surrogateescape") for t in texts]  # the input's bytes
    if salt is None:
        values = [fingerprint64(b) % num_buckets for b in raw]
    else:
        values = [siphash64(salt, b) % num_buckets for b in raw]
    return np.array(values, dtype=np.int64)


class _Index(dict):
    """Token -> index, and -1 for a token not in it (`map` of `__getitem__`
    then runs in C but for the misses)."""

    def __missing__(self, key):
        return -1


def _values(document):
    return document.tolist() if isinstance(document, np.ndarray) else document


def _listify(value):
    if isinstance(value, Tensor):
        value = value.numpy()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return value


def encode_categorical(ids, output_mode, depth, dtype="float32", idf_weights=None):
    """Counts per sample of host int ids, as tf.keras 2's `encode_categorical_inputs`.

    A scalar counts as one sample; "one_hot" encodes each element (a last
    axis of size 1 is replaced by the encoding); other modes count along
    the last axis. Ids outside `[0, depth)` are dropped.

    Returns:
        A host array of `dtype`: `(depth,)` for 1-D ids, else `(batch, depth)`.
    """
    ids = np.asarray(ids, dtype=np.int64)
    original = ids.shape
    if ids.ndim == 0:
        ids = ids.reshape(1)
    if output_mode == ONE_HOT and ids.shape[-1] != 1:
        ids = ids[..., None]
    if ids.ndim > 2:
        raise ValueError("When output_mode is not 'int', maximum supported output rank is 2. "
                         f"Received output_mode {output_mode} and input shape {original}, "
                         f"which would result in output rank {ids.ndim}.")
    if ids.ndim == 1:
        rows = np.zeros(ids.shape, dtype=np.int64)
        out = _bincount_rows(ids, rows, 1, depth, output_mode, dtype, idf_weights)
        return out[0]
    rows = np.repeat(np.arange(ids.shape[0]), ids.shape[1])
    return _bincount_rows(ids.reshape(-1), rows, ids.shape[0], depth, output_mode, dtype,
                          idf_weights)


def _bincount_rows(ids, rows, n_rows, depth, output_mode, dtype, idf_weights):
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    keep = (ids >= 0) & (ids < depth)
    counts = np.bincount(rows[keep] * depth + ids[keep], minlength=n_rows * depth)
    out = counts.reshape(n_rows, depth).astype(dtype)
    if output_mode in (ONE_HOT, MULTI_HOT):
        out = (counts.reshape(n_rows, depth) > 0).astype(dtype)
    elif output_mode == TF_IDF:
        if idf_weights is None:
            raise ValueError("When output mode is 'tf_idf', idf_weights must be provided.")
        out = out * np.asarray(idf_weights, dtype=dtype)[:depth]
    return out


__all__ = ["IndexLookup", "encode_categorical"]
