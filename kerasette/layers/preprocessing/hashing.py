"""`Hashing`: strings or integers to bin indices, with TensorFlow's hashes."""

from __future__ import annotations

import numbers

import numpy as np

from kerasette import backend as _backend
from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.base import Layer
from kerasette.layers.preprocessing import encoding
from kerasette.layers.preprocessing.hash_functions import fingerprint64, siphash64


def _salt_pair(salt):
    if salt is None:
        return None
    if isinstance(salt, (tuple, list)) and len(salt) == 2 and all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in salt):
        return [int(s) for s in salt]
    if isinstance(salt, numbers.Integral) and not isinstance(salt, bool):
        return [int(salt), int(salt)]
    raise ValueError("Hashing: the `salt` argument can only be a tuple of size 2 integers, "
                     f"or a single integer. Received: salt={salt!r}")


def _as_bytes(value):
    """A value as TensorFlow hashes it: strings as UTF-8, integers as their
    decimal text (`tf.as_string`)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        return str(int(value)).encode()
    return str(value).encode("utf-8")


class Hashing(Layer):
    """Hashes strings or integers into `num_bins` bins, as tf.keras 2 does.

    Without `salt`, the bin is FarmHash `Fingerprint64(value) % bins`
    (`tf.strings.to_hash_bucket_fast`); with `salt`, SipHash-2-4 keyed by
    the salt (`tf.strings.to_hash_bucket_strong`). Integers are hashed as
    their decimal text. The same value gets the same bin in TensorFlow and
    here, on every platform. Hashing runs on the host (each distinct value
    of a batch once); the indices then cross to the device.

    Args:
        num_bins: number of bins, including the `mask_value` bin if set.
        mask_value: inputs equal to it map to 0 and the others to
            `1 + hash % (num_bins - 1)`; None (default) for no mask.
        salt: None (FarmHash), an integer `k` (SipHash keyed `[k, k]`) or
            a pair of integers.
        output_mode: `"int"` (default: int64 indices), `"one_hot"`,
            `"multi_hot"` or `"count"` (float32 encodings over the bins).
        sparse: must be False (kerasette has no sparse tensors).

    Input shape:
        A string or integer array (or nested lists) of any shape.

    Output shape:
        The input's for `"int"`; see `CategoryEncoding` for the others.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.Hashing(num_bins=3)
        >>> layer([["A"], ["B"], ["C"], ["D"], ["E"]]).numpy().ravel().tolist()
        [1, 0, 1, 1, 2]
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        if isinstance(num_bins, bool) or not isinstance(num_bins, numbers.Integral) or \
                num_bins <= 0:
            raise ValueError("Hashing: `num_bins` cannot be None or a non-positive value. "
                             f"Received: num_bins={num_bins!r}")
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == encoding.INT else _backend.floatx()
        elif output_mode == encoding.INT and np.dtype(kwargs["dtype"]).kind != "i":
            kwargs["dtype"] = "int64"  # tf.keras's compatibility rule
        super().__init__(**kwargs)
        encoding.check_output_mode(output_mode, (encoding.INT, encoding.ONE_HOT,
                                                 encoding.MULTI_HOT, encoding.COUNT), "Hashing")
        if sparse:
            raise NotImplementedError("Hashing: sparse outputs are not supported (kerasette "
                                      "has no sparse tensors). Received: sparse=True")
        self.num_bins = int(num_bins)
        self.mask_value = mask_value
        self.salt = _salt_pair(salt)
        self.strong_hash = self.salt is not None
        self.output_mode = output_mode
        self.sparse = False

    def _convert_input(self, inputs):
        # Strings cannot live on the device: hashing reads host values.
        b = _backend.get_backend()
        if isinstance(inputs, Tensor):
            array = inputs.numpy()
        elif b.is_array(inputs) and not isinstance(inputs, np.ndarray):
            array = b.to_numpy(inputs)
        else:
            array = np.asarray(inputs)
        if array.dtype.kind not in "USOiub":
            raise ValueError(f"Layer {self.name!r} (Hashing) expects strings or integers. "
                             f"Received values of dtype {array.dtype}.")
        return array

    def _hash(self, value, bins):
        data = _as_bytes(value)
        h = siphash64(self.salt, data) if self.strong_hash else fingerprint64(data)
        return h % bins

    def hash_values(self, values):
        """The int64 bin of each value of the host array `values`."""
        values = np.asarray(values)
        bins = self.num_bins
        masked = self.mask_value is not None and bins > 1
        if masked:
            bins -= 1
        flat = values.reshape(-1)
        uniques, inverse = np.unique(flat, return_inverse=True) if flat.size else (flat, flat)
        table = np.asarray([self._hash(v.item() if hasattr(v, "item") else v, bins)
                            for v in uniques], dtype="int64")
        out = table[inverse.reshape(-1)] if flat.size else np.zeros(0, "int64")
        if masked:
            out = np.where(flat == self.mask_value, 0, out + 1)
        return out.reshape(values.shape).astype("int64")

    def call(self, inputs):
        indices = ops.convert_to_tensor(self.hash_values(inputs), dtype="int64")
        return encoding.encode(indices, self.output_mode, self.num_bins, self.dtype)

    def compute_output_shape(self, input_shape):
        return encoding.output_shape(input_shape, self.output_mode, self.num_bins)

    def get_config(self):
        config = super().get_config()
        config.update({"num_bins": self.num_bins, "salt": self.salt,
                       "mask_value": self.mask_value, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config
