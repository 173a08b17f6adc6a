"""`Discretization`: bucket indices of continuous values, from given or
adapted bin boundaries.

`adapt` reproduces tf.keras 2's quantile summary step for step (its
`summarize`, `merge_summaries` and `compress`, in the same float32 and
float64 precisions, over batches of 32 rows for arrays), so the learned
boundaries are tf.keras's, not merely close to them. The summary keeps
about `1/epsilon` weighted points; for data of fewer than `1/epsilon`
values per batch it holds every value and the boundaries are the exact
`num_bins`-quantiles by linear interpolation of the cumulative counts.
"""

from __future__ import annotations

import numbers

import numpy as np

from kerasette import backend as _backend
from kerasette.layers.preprocessing import encoding
from kerasette.layers.preprocessing.base import PreprocessingLayer
from kerasette.ops.core import xp


def summarize(values, epsilon):
    """About `1/epsilon` evenly spaced order statistics of `values`, each
    weighted by the number of values it stands for (a 2 x n float32 array)."""
    values = np.sort(np.asarray(values, dtype="float32").reshape(-1))
    elements = np.float32(values.size)
    increment = int((elements / np.float32(1.0 / epsilon)).astype("int32"))
    step = max(increment, 1)
    boundaries = values[increment::step]
    weights = np.full_like(boundaries, np.float32(step))
    return np.stack([boundaries, weights])


def compress(summary, epsilon):
    """Re-samples a summary at cumulative-weight fractions spaced `epsilon` apart."""
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_weight_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_weight_percents, summary[0])
    cum_weights = np.interp(percents, cum_weight_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype(np.float32)


def merge_summaries(prev_summary, next_summary, epsilon):
    """Both summaries sorted together by value, then compressed."""
    merged = np.concatenate((prev_summary, next_summary), axis=1)
    merged = merged[:, np.argsort(merged[0], kind="stable")]
    return compress(merged, epsilon)


def bin_boundaries_from(summary, num_bins):
    """The `num_bins - 1` inner boundaries a summary gives."""
    return compress(summary, 1.0 / num_bins)[0, :-1]


class Discretization(PreprocessingLayer):
    """Buckets continuous values by ranges.

    `bin_boundaries=[0., 1., 2.]` makes the bins `(-inf, 0)`, `[0, 1)`,
    `[1, 2)` and `[2, inf)`, numbered 0 to 3. With `num_bins` instead,
    `adapt(data)` learns boundaries at the data's quantiles.

    Args:
        bin_boundaries: sorted list of boundaries; then do not `adapt`.
        num_bins: number of bins to learn with `adapt`.
        epsilon: error tolerance of the quantile summary (default 0.01).
        output_mode: `"int"` (default: bin indices, int64), `"one_hot"`,
            `"multi_hot"` or `"count"` (float32 encodings over the bins,
            as `CategoryEncoding`).
        sparse: must be False (kerasette has no sparse tensors).

    Input shape:
        Any numeric array.

    Output shape:
        The input's for `"int"`; see `CategoryEncoding` for the others.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> layer = keras.layers.Discretization(bin_boundaries=[0., 1., 2.])
        >>> layer(np.array([[-1.5, 1.0, 3.4, .5]])).numpy().tolist()
        [[0, 2, 3, 1]]
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, **kwargs):
        if kwargs.get("dtype") is None:  # as tf.keras: int64 indices, float encodings
            kwargs["dtype"] = "int64" if output_mode == encoding.INT else _backend.floatx()
        elif output_mode == encoding.INT and np.dtype(kwargs["dtype"]).kind != "i":
            kwargs["dtype"] = "int64"  # tf.keras's compatibility rule
        super().__init__(**kwargs)
        encoding.check_output_mode(output_mode, (encoding.INT, encoding.ONE_HOT,
                                                 encoding.MULTI_HOT, encoding.COUNT),
                                   "Discretization")
        if sparse:
            raise NotImplementedError("Discretization: sparse outputs are not supported "
                                      "(kerasette has no sparse tensors). Received: "
                                      "sparse=True")
        if num_bins is not None and (isinstance(num_bins, bool) or not isinstance(
                num_bins, numbers.Integral) or num_bins < 0):
            raise ValueError("Discretization: `num_bins` must be an integer >= 0. "
                             f"Received: num_bins={num_bins!r}")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Discretization: both `num_bins` and `bin_boundaries` should not "
                             f"be set. Received: num_bins={num_bins} and "
                             f"bin_boundaries={bin_boundaries!r}")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("Discretization: set either `num_bins` (then call `adapt`) or "
                             "`bin_boundaries`. Received neither.")
        if not isinstance(epsilon, numbers.Real) or not 0 < epsilon < 1:
            raise ValueError("Discretization: `epsilon` must be a number in (0, 1). "
                             f"Received: epsilon={epsilon!r}")
        if bin_boundaries is not None:
            bounds = np.asarray(bin_boundaries, dtype="float64").reshape(-1)
            if np.any(np.diff(bounds) < 0):
                raise ValueError("Discretization: `bin_boundaries` must be sorted in "
                                 f"increasing order. Received: bin_boundaries={bin_boundaries!r}")
            bin_boundaries = bounds.tolist()
        self.input_bin_boundaries = bin_boundaries
        self.bin_boundaries = bin_boundaries
        self.num_bins = None if num_bins is None else int(num_bins)
        self.epsilon = float(epsilon)
        self.output_mode = output_mode
        self.sparse = False
        self._summary = None
        self._device_bounds = None  # (backend, boundaries on the device)

    # -- adapt -------------------------------------------------------------------
    def _check_adaptable(self):
        if self.input_bin_boundaries is not None:
            raise ValueError(f"Layer {self.name!r} (Discretization): cannot adapt a layer "
                             "initialized with `bin_boundaries`; use `num_bins` instead. "
                             f"Received bin_boundaries={self.input_bin_boundaries!r}")

    def reset_state(self):
        self._summary = np.zeros((2, 0), dtype="float32")

    def update_state(self, data):
        data = np.asarray(data)
        if not (np.issubdtype(data.dtype, np.number) or data.dtype == np.bool_):
            raise ValueError(f"Layer {self.name!r} (Discretization): `adapt` expects numbers. "
                             f"Received data of dtype {data.dtype}.")
        summary = summarize(data, self.epsilon)
        self._summary = merge_summaries(summary, self._summary, self.epsilon)

    def finalize_state(self):
        if self._summary is None or self._summary.shape[1] == 0:
            return
        self.bin_boundaries = bin_boundaries_from(self._summary, self.num_bins).tolist()
        self._device_bounds = None

    # -- computing ---------------------------------------------------------------
    def _bounds(self):
        b = _backend.get_backend()
        if self._device_bounds is None or self._device_bounds[0] is not b:
            # Rounded to float32, as tf.keras's Bucketize holds them; kept in
            # float64 (exactly) so that inputs of any dtype compare in one dtype.
            bounds = np.asarray(self.bin_boundaries, "float32").astype("float64")
            self._device_bounds = (b, b.asarray(bounds))
        return self._device_bounds[1]

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(f"Layer {self.name!r} (Discretization) has no bin boundaries "
                             "yet: call `adapt(data)` first, or pass `bin_boundaries`.")
        # tf.keras's Bucketize: the number of boundaries <= x.
        values = inputs.data.astype("float64")
        indices = xp().searchsorted(self._bounds(), values, side="right").astype("int64")
        depth = len(self.bin_boundaries) + 1
        return encoding.encode(indices, self.output_mode, depth, self.dtype)

    def compute_output_shape(self, input_shape):
        if self.output_mode == encoding.INT:
            return tuple(input_shape)
        depth = (len(self.bin_boundaries) if self.bin_boundaries is not None
                 else self.num_bins - 1) + 1
        return encoding.output_shape(input_shape, self.output_mode, depth)

    def get_config(self):
        config = super().get_config()
        # After `adapt`, the learned boundaries are written with num_bins=None:
        # the form both tf.keras 2 and Keras 3 rebuild with the same bins
        # (tf.keras 2 writes neither and loses them; Keras 3 writes both,
        # which tf.keras 2 refuses).
        learned = self.input_bin_boundaries is None and self.bin_boundaries is not None
        config.update({"bin_boundaries": self.bin_boundaries,
                       "num_bins": None if learned else self.num_bins,
                       "epsilon": self.epsilon, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            # Keras 3 writes both after adapt: the boundaries are the state.
            bounds = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = list(bounds)
            return layer
        return cls(**config)

