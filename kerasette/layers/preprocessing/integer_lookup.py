"""`IntegerLookup`: integer tokens to contiguous indices (tf.keras 2's layer)."""

from __future__ import annotations

import numpy as np

from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.preprocessing.index_lookup import INT, IndexLookup, hash_buckets


class IntegerLookup(IndexLookup):
    """Maps arbitrary integers to contiguous indices through a vocabulary.

    As `StringLookup`, for integer tokens: the vocabulary is given or
    learned with `adapt` (by descending count, ties by descending value).
    With several OOV indices, an unknown token `t` gets
    `t mod num_oov_indices` (as tf.keras 2). The lookup runs on the host;
    a batch on the device is read back once and its ids sent once.

    Args:
        max_tokens: the largest vocabulary (mask and OOV indices included).
        num_oov_indices: indices for unknown tokens (default 1; 0: an error).
        mask_token: the integer that marks padding (index 0 in "int" mode).
        oov_token: what `invert=True` returns for OOV indices (default -1).
        vocabulary: a list or 1-D array of integers, or a text file path.
        vocabulary_dtype: the token dtype (default "int64").
        idf_weights: for "tf_idf" with a given vocabulary.
        invert: map indices back to tokens.
        output_mode: "int" (default), "one_hot", "multi_hot", "count" or "tf_idf".
        sparse: must be False.
        pad_to_max_tokens: pad the encoded axis to `max_tokens`.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
        >>> layer([[12, 1138, 42], [42, 1000, 36]]).numpy()
        array([[1, 3, 4],
               [4, 0, 2]])
    """

    # A Sequential model starting with it keeps its integer inputs integer.
    _integer_input = True

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False, **kwargs):
        try:
            integer = np.dtype(vocabulary_dtype).kind in "iu"
        except TypeError:
            integer = False
        if not integer:
            raise ValueError("`vocabulary_dtype` must be an integer dtype. "
                             f"Received: {vocabulary_dtype}")
        # Older tf.keras configs gave the layer the dtype of its input.
        if output_mode != INT and kwargs.get("dtype") == "int64":
            del kwargs["dtype"]
        for old, new in (("max_values", "max_tokens"), ("mask_value", "mask_token"),
                         ("oov_value", "oov_token")):
            if old in kwargs:  # tf.keras 2's deprecated spellings
                value = kwargs.pop(old)
                if new == "max_tokens":
                    max_tokens = value
                elif new == "mask_token":
                    mask_token = value
                else:
                    oov_token = value
        mask_token = None if mask_token is None else int(mask_token)
        oov_token = None if oov_token is None else int(oov_token)
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token,
                         vocabulary_dtype=np.dtype(vocabulary_dtype).name,
                         vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, **kwargs)

    def _as_tokens(self, values) -> np.ndarray:
        if isinstance(values, Tensor):
            values = values.numpy()
        arr = np.asarray(values)
        if arr.dtype.kind not in "iuf" and not (arr.dtype.kind == "O" and arr.size == 0):
            if arr.dtype.kind == "U" and arr.ndim == 1:
                try:  # a vocabulary file's lines
                    return arr.astype(np.int64)
                except ValueError:
                    pass
            raise TypeError(f"Layer {self.name!r} (IntegerLookup) takes integers. Received: "
                            f"an array of dtype {arr.dtype}.")
        return arr.astype(self.vocabulary_dtype)

    def _oov_buckets(self, tokens) -> np.ndarray:
        if self.oov_method == "farmhash":  # Keras 3: the hash of the decimal string
            return hash_buckets([str(t) for t in tokens.tolist()], self.num_oov_indices,
                                self.salt)
        return np.mod(tokens.astype(np.int64), self.num_oov_indices)

    def _inverted(self, tokens):
        return ops.convert_to_tensor(tokens.astype(np.int64), dtype=self.dtype)


__all__ = ["IntegerLookup"]
