"""`StringLookup`: strings to vocabulary indices (tf.keras 2's layer)."""

from __future__ import annotations

import numpy as np

from kerasette.autodiff.tensor import Tensor
from kerasette.layers.preprocessing.index_lookup import IndexLookup, hash_buckets
from kerasette.utils.string_data import as_string_array


class StringLookup(IndexLookup):
    """Maps strings to integer indices through a vocabulary.

    The vocabulary is given (`vocabulary=`, `set_vocabulary`) or learned
    with `adapt` (by descending frequency, ties by descending string). The
    lookup runs on the host; the indices (or encodings) go to the device
    once per call. Strings arrive as NumPy str, bytes or object arrays, or
    lists; a model with `keras.Input(shape=(1,), dtype="string")` feeds them.

    Args:
        max_tokens: the largest vocabulary (mask and OOV indices included),
            or None for no limit.
        num_oov_indices: indices for out-of-vocabulary strings (default 1);
            with more than one, a string's index is FarmHash
            `Fingerprint64(string) % num_oov_indices` (as TensorFlow); with
            0, an unknown string is an error.
        mask_token: the string that marks padding: index 0 in "int" mode,
            dropped in the other modes. Default None (no mask).
        oov_token: what `invert=True` returns for OOV indices (default "[UNK]").
        vocabulary: a list or 1-D array of strings, or a text file path.
        idf_weights: for "tf_idf" with a given vocabulary: one weight per term.
        encoding: the encoding of bytes inputs (default "utf-8").
        invert: map indices back to strings (output_mode "int" only).
        output_mode: "int" (default), "one_hot", "multi_hot", "count" or "tf_idf".
        sparse: must be False (kerasette has no sparse tensors).
        pad_to_max_tokens: pad the encoded axis to `max_tokens`.

    Input shape:
        Strings of any shape ("int"); one or two axes for the other modes.

    Output shape:
        "int": the input's shape, int64. Others: `(batch, depth)` float32.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.StringLookup(vocabulary=["a", "b", "c", "d"])
        >>> layer([["a", "c", "d"], ["d", "z", "b"]]).numpy()
        array([[1, 3, 4],
               [4, 0, 2]])
        >>> layer = keras.layers.StringLookup()
        >>> layer.adapt([["a", "c", "d"], ["d", "z", "b"]])
        >>> layer.get_vocabulary()
        ['[UNK]', 'd', 'z', 'c', 'b', 'a']
    """

    _string_input = True
    _string_tokens = True

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, encoding="utf-8", invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False, **kwargs):
        # Older tf.keras configs gave the layer the dtype of its input.
        if kwargs.get("dtype") == "string":
            del kwargs["dtype"]
        kwargs.pop("vocabulary_dtype", None)
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary_dtype="string",
                         vocabulary=vocabulary, idf_weights=idf_weights, invert=invert,
                         output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, **kwargs)

    def _as_tokens(self, values) -> np.ndarray:
        if isinstance(values, Tensor):
            raise TypeError(f"Layer {self.name!r} (StringLookup) takes strings, which stay on "
                            f"the host. Received: a tensor of dtype {values.dtype}.")
        try:
            return as_string_array(values, self.encoding)
        except TypeError as err:
            raise TypeError(f"Layer {self.name!r} (StringLookup) takes strings. {err}") from None

    def _oov_buckets(self, tokens) -> np.ndarray:
        return hash_buckets(tokens.tolist(), self.num_oov_indices, self.salt)

    def _inverted(self, tokens):
        # Strings cannot go to a device: the host array is the result.
        return tokens.astype(str)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["vocabulary_dtype"]  # one valid value, so tf.keras 2 leaves it out
        config["encoding"] = self.encoding
        return config



__all__ = ["StringLookup"]
