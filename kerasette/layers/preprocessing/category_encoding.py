"""`CategoryEncoding`: integer categories as one-hot, multi-hot or counts."""

from __future__ import annotations

import numbers

from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.base import Layer
from kerasette.layers.preprocessing import encoding


class CategoryEncoding(Layer):
    """Encodes integer features whose number of values is known in advance.

    Args:
        num_tokens: the number of categories; every input must be an
            integer in `[0, num_tokens)` (anything else is an error naming
            the layer and the value).
        output_mode: `"multi_hot"` (default: a 1 for each value present in
            a sample, the last axis being the sample), `"one_hot"` (each
            element encoded; a last axis of size 1 is replaced) or
            `"count"` (how often each value occurs in a sample).
            `"binary"` is accepted as tf.keras 2's old name of
            `"multi_hot"`.
        sparse: must be False (kerasette has no sparse tensors).

    Call arguments:
        inputs: integer array.
        count_weights: optional array shaped like `inputs`, summed per
            value instead of counting 1 (`"count"` mode only).

    Input shape:
        `(batch,)` or `(batch, k)` integers (or higher rank).

    Output shape:
        `(batch, num_tokens)` for 1-D `"one_hot"` input and 2-D
        `"multi_hot"`/`"count"` input; see `compute_output_shape`.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")
        >>> layer([3, 2, 0, 1]).numpy().tolist()[0]
        [0.0, 0.0, 0.0, 1.0]
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        if "max_tokens" in kwargs:  # tf.keras 2's deprecated name
            num_tokens = kwargs.pop("max_tokens")
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = encoding.MULTI_HOT
        encoding.check_output_mode(output_mode, (encoding.COUNT, encoding.ONE_HOT,
                                                 encoding.MULTI_HOT), "CategoryEncoding")
        if num_tokens is None:
            raise ValueError("CategoryEncoding: `num_tokens` must be set to use this layer. "
                             "If the number of tokens is not known beforehand, use "
                             "IntegerLookup instead. Received: num_tokens=None")
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, numbers.Integral) or \
                num_tokens < 1:
            raise ValueError("CategoryEncoding: `num_tokens` must be an integer >= 1. "
                             f"Received: num_tokens={num_tokens!r}")
        if sparse:
            raise NotImplementedError("CategoryEncoding: sparse outputs are not supported "
                                      "(kerasette has no sparse tensors). Received: "
                                      "sparse=True")
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = False

    def _convert_input(self, inputs):
        # Indices stay integers (the base class would cast them to float32).
        ids = inputs if isinstance(inputs, Tensor) else ops.convert_to_tensor(inputs)
        if ids.dtype.kind == "f":
            if not bool((ids.data == ids.data.astype("int64")).all()):
                raise ValueError(f"Layer {self.name!r} (CategoryEncoding) expects integer "
                                 f"inputs. Received non-integer values of dtype {ids.dtype}.")
            ids = ops.cast(ids, "int64")
        elif ids.dtype.kind not in "iub":
            raise ValueError(f"Layer {self.name!r} (CategoryEncoding) expects integer inputs. "
                             f"Received dtype {ids.dtype}.")
        return ids

    def call(self, inputs, count_weights=None):
        if count_weights is not None:
            if self.output_mode != encoding.COUNT:
                raise ValueError(f"Layer {self.name!r} (CategoryEncoding): `count_weights` "
                                 "is only used when output_mode='count'. Received "
                                 f"output_mode={self.output_mode!r}.")
            count_weights = ops.convert_to_tensor(count_weights)
            if tuple(count_weights.shape) != tuple(inputs.shape):
                raise ValueError(f"Layer {self.name!r} (CategoryEncoding): `count_weights` "
                                 f"must have the inputs' shape {tuple(inputs.shape)}. "
                                 f"Received shape {tuple(count_weights.shape)}.")
        encoding.check_range(inputs.data, self.num_tokens, self)
        return encoding.encode(inputs, self.output_mode, self.num_tokens, self.dtype,
                               count_weights)

    def compute_output_shape(self, input_shape):
        return encoding.output_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self):
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config
