"""`Embedding`: integer ids in, one learned vector per id out."""

from __future__ import annotations

import numbers

from kerasette import constraints, initializers, ops, regularizers
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.base import Layer
from kerasette.ops.embedding import embedding_lookup


class Embedding(Layer):
    """Turns integer ids into dense vectors: row `id` of a learned table.

    The ids are used as they are: an integer input is never cast to float,
    and float ids (a float `keras.Input`, data cast by `fit`) are cast to
    int32, as tf.keras 2 casts them. An id outside `[0, input_dim)` raises
    an error naming the layer and the id on every backend (tf.keras 2
    raises on the CPU but returns zeros on a GPU).

    Args:
        input_dim: the vocabulary size: ids run from 0 to `input_dim - 1`.
        output_dim: the length of each vector.
        embeddings_initializer: default `"uniform"` (uniform in
            [-0.05, 0.05], as tf.keras 2).
        embeddings_regularizer: optional regularizer of the table.
        activity_regularizer: optional regularizer of the output.
        embeddings_constraint: optional constraint of the table
            (`kerasette.constraints`), applied after each update.
        mask_zero: id 0 is padding: the layer outputs a mask (`ids != 0`)
            that recurrent layers, `GlobalAveragePooling1D` and the losses
            honour, and `input_dim` must leave room for it (vocabulary + 1).
        input_length: the length of the sequences, when fixed (needed by a
            `Flatten` after it). Without it the input shape is
            `(batch, None)`, as in tf.keras 2, so a Sequential model starting
            with an Embedding is built at once.

    Input shape:
        `(batch, sequence_length)` integers (any rank).

    Output shape:
        `(batch, sequence_length, output_dim)`.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> layer = keras.layers.Embedding(1000, 64, mask_zero=True)
        >>> out = layer(np.array([[4, 20, 0, 0]]))
        >>> out.shape, out._keras_mask.tolist()
        ((1, 4, 64), [[True, True, False, False]])
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, activity_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None, **kwargs):
        kwargs.pop("quantization_config", None)  # Keras 3 key, always null for us
        kwargs.pop("sparse", None)  # Keras 3: a sparse gradient; ours is dense
        kwargs.pop("lora_rank", None)
        kwargs.pop("lora_alpha", None)
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs \
                and "batch_shape" not in kwargs:
            kwargs["batch_input_shape"] = (None, _length(input_length))
        super().__init__(**kwargs)
        self.input_dim = _count(input_dim, "input_dim")
        self.output_dim = _count(output_dim, "output_dim")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero  # as tf.keras 2
        self.input_length = _length(input_length)

    # Sequential and the trainer pass a model's ids through as integers when
    # its first layer is an Embedding.
    _integer_input = True

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            "embeddings", (self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer, regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint)

    def _convert_input(self, inputs):
        ids = inputs if isinstance(inputs, Tensor) else ops.convert_to_tensor(inputs)
        if ids.dtype.kind not in "iu":
            ids = ops.cast(ids, "int32")
        return ids

    def call(self, inputs):
        self._check_ids(inputs)
        out = embedding_lookup(inputs, self.embeddings)
        if self.activity_regularizer is not None:
            self.add_loss(self.activity_regularizer(out) / float(out.shape[0]))
        return out

    def _check_ids(self, ids):
        # One reduction per batch (on a GPU, one small read-back): an id
        # outside the table would otherwise index another row silently
        # (negative ids count from the end) or fail deep inside NumPy.
        data = ids.data
        if data.size == 0:
            return
        low, high = int(data.min()), int(data.max())
        if low < 0 or high >= self.input_dim:
            bad = low if low < 0 else high
            raise ValueError(
                f"Layer {self.name!r} (Embedding) received id {bad}, outside its table of "
                f"input_dim={self.input_dim} rows (ids 0 to {self.input_dim - 1}). Set "
                f"input_dim to the vocabulary size (+1 when 0 is padding), or check the "
                "data."
            )

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return inputs.data != 0

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.input_length is not None and len(shape) == 2 and shape[1] is None:
            shape = (shape[0], self.input_length)
        return shape + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "input_length": self.input_length,
        })
        return config


def _count(value, what):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"Embedding: `{what}` must be a positive integer. "
                         f"Received: {what}={value!r}")
    return int(value)


def _length(value):
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]  # tf.keras 2 accepts input_length=[10]
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError("Embedding: `input_length` must be a positive integer or None. "
                         f"Received: input_length={value!r}")
    return int(value)
