"""Dropout."""

from __future__ import annotations

import numbers

from kerasette import ops
from kerasette.layers.base import Layer


class Dropout(Layer):
    """Randomly zeroes a fraction `rate` of the inputs during training.

    Inverted dropout: the kept inputs are scaled by `1 / (1 - rate)` so the
    expected value is unchanged, and inference (`training=False`, the
    default for direct calls, `predict` and `evaluate`) is the identity.
    Masks come from the backend's seeded generator
    (`kerasette.utils.set_random_seed`).

    Args:
        rate: fraction of inputs to drop, `0 <= rate < 1`.
        noise_shape: optional mask shape broadcast over the input (`None`
            entries take the input's size), e.g. `(None, 1, features)`.
        seed: accepted for Keras compatibility and kept in the config;
            reproducibility comes from `set_random_seed`.

    Example:
        >>> import kerasette as keras
        >>> layer = keras.layers.Dropout(0.5)
        >>> float(keras.ops.sum(layer(keras.ops.ones((4, 4)), training=False)))
        16.0
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0 <= rate < 1:
            raise ValueError(
                "Dropout: argument `rate` must be a number in [0, 1) (the fraction of inputs "
                f"to drop). Received: rate={rate!r}"
            )
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed

    def call(self, inputs, training=None):
        if training and self.rate > 0:
            return ops.dropout(inputs, self.rate, self.noise_shape)
        return inputs

    def compute_output_shape(self, input_shape):
        # Elementwise: the shape passes through, known without running a
        # probe batch (which a file's huge input shape would make huge).
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "rate": self.rate,
            "noise_shape": None if self.noise_shape is None else list(self.noise_shape),
            "seed": self.seed,
        })
        return config
