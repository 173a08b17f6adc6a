"""`PreprocessingLayer`: a layer whose state comes from `adapt(data)`.

As tf.keras 2's: `adapt` resets the state, builds the layer from the
first batch if needed, calls `update_state(batch)` on every batch and
`finalize_state()` once at the end. Here `update_state` gathers
statistics on the host (NumPy, float64 where it matters) and only
`finalize_state` writes to the layer's weights, so a batch that is
refused half way leaves the layer as it was, and the state crosses to the
device once.
"""

from __future__ import annotations

from kerasette.layers.base import Layer
from kerasette.layers.preprocessing.adapt_data import iter_batches


class PreprocessingLayer(Layer):
    """Base class of the layers that learn their state with `adapt`.

    Subclasses implement `reset_state()` (clear the host accumulators),
    `update_state(batch)` (one host NumPy batch) and `finalize_state()`
    (write the result to the layer), and may override
    `_check_adaptable()` to refuse `adapt` before any data is read.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._is_adapted = False

    @property
    def is_adapted(self) -> bool:
        """Whether `adapt` has run (tf.keras 2's property)."""
        return self._is_adapted

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Computes the layer's state from `data`.

        Args:
            data: a NumPy array, a list, a kerasette tensor, a
                `keras.utils.Sequence` (or any object with `__len__` and
                `__getitem__` returning batches), or a generator/iterator
                of batches. A `(x, y)` tuple batch contributes `x`.
            batch_size: rows per state update for array data (default 32,
                as tf.keras); leave it None for batched data.
            steps: the most batches to read (None: all of them).

        Raises:
            ValueError: for data this layer cannot adapt to (wrong rank,
                wrong feature size), naming the layer; the layer keeps its
                previous state then.
        """
        self._check_adaptable()
        started = False
        for batch in iter_batches(data, batch_size, steps, f"Layer {self.name!r}"):
            if not started:
                if not self.built:
                    self._build_for_adapt(tuple(batch.shape))
                self.reset_state()
                started = True
            self.update_state(batch)
        if not started:
            raise ValueError(f"Layer {self.name!r}: `adapt` received no batches.")
        self.finalize_state()
        self._is_adapted = True

    def _build_for_adapt(self, shape):
        # tf.keras 2 records the data's rank as the layer's input shape, so
        # `Sequential([adapted_layer, ...])` knows its input.
        self._check_adapt_shape(shape)
        if self._batch_input_shape is None:
            self._batch_input_shape = self._adapted_batch_input_shape(shape)
        self._maybe_build(shape)

    def _adapted_batch_input_shape(self, shape):
        return (None,) * len(shape)

    def _check_adapt_shape(self, shape):
        """Raises if a batch of `shape` cannot be adapted to (before building)."""

    def _check_adaptable(self):
        """Raises if this layer cannot be adapted at all."""

    def reset_state(self) -> None:
        """Clears the statistics gathered so far."""
        raise NotImplementedError

    def update_state(self, data) -> None:
        """Adds one host batch to the statistics."""
        raise NotImplementedError

    def finalize_state(self) -> None:
        """Writes the statistics to the layer."""
