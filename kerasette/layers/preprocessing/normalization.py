"""`Normalization`: `(x - mean) / sqrt(variance)` per feature, from `adapt`
or from given values."""

from __future__ import annotations

import numbers

import numpy as np

from kerasette import ops
from kerasette.layers.preprocessing.base import PreprocessingLayer

# tf.keras's backend.epsilon(): the floor of the standard deviation.
_EPSILON = 1e-7


def _axis_tuple(axis):
    if axis is None:
        return ()
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return (int(axis),)
    if isinstance(axis, (list, tuple)) and all(
            isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis):
        return tuple(int(a) for a in axis)
    raise ValueError("Normalization: `axis` must be an integer, a tuple of integers or None. "
                     f"Received: axis={axis!r}")


def _listify(value):
    """A config value: NumPy arrays and scalars as lists and floats (tf.keras's
    `listify_tensors`)."""
    if value is None or isinstance(value, (numbers.Number, list)):
        return value
    array = np.asarray(value)
    return array.tolist()


class Normalization(PreprocessingLayer):
    """Shifts and scales inputs to mean 0 and standard deviation 1 per feature.

    The mean and variance either come from `adapt(data)` (then they are the
    layer's non-trainable weights `mean`, `variance` and `count`, saved
    with the model as tf.keras 2 saves them) or are given here. The output
    is `(x - mean) / max(sqrt(variance), 1e-7)` in the layer's dtype, or,
    with `invert=True`, `mean + x * max(sqrt(variance), 1e-7)`. Gradients
    flow to the input.

    Args:
        axis: the axis or axes that keep a separate mean and variance (their
            sizes must be known); the others are reduced. `-1` (default):
            one per feature of the last axis; `None`: one scalar mean and
            variance for everything.
        mean: optional value(s), broadcast to the kept axes' shape.
        variance: optional value(s), likewise; give both or neither.
        invert: whether to undo the normalization instead.

    Input shape:
        Arbitrary, with known sizes on the kept axes.

    Output shape:
        Same as the input.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> layer = keras.layers.Normalization(axis=-1)
        >>> layer.adapt(np.array([[0., 7., 4.], [2., 9., 6.]]))
        >>> layer(np.array([[0., 7., 4.]])).numpy().tolist()
        [[-1.0, -1.0, -1.0]]
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_tuple(axis)
        if (mean is None) != (variance is None):
            raise ValueError("Normalization: when setting values directly, both `mean` and "
                             f"`variance` must be set. Received: mean={mean!r} and "
                             f"variance={variance!r}")
        for what, value in (("mean", mean), ("variance", variance)):
            if value is not None and not np.issubdtype(np.asarray(value).dtype, np.number):
                raise ValueError(f"Normalization: `{what}` must be a number or an array of "
                                 f"numbers. Received: {what}={value!r}")
        self.input_mean = _listify(mean)
        self.input_variance = _listify(variance)
        self.invert = bool(invert)
        self._host_state = None  # (count, mean, variance) in float64 while adapting
        self._state_ok = False  # mean/variance known to be set (given, adapted or loaded)

    # -- building ----------------------------------------------------------------
    def _kept_axes(self, ndim):
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"Layer {self.name!r} (Normalization): all `axis` values must be "
                             f"in the range [-ndim, ndim) for inputs of rank {ndim}. "
                             f"Received: axis={list(self.axis)}")
        return sorted(a % ndim for a in self.axis)

    def build(self, input_shape):
        shape = tuple(input_shape)
        keep = self._kept_axes(len(shape))
        unknown = [d for d in keep if shape[d] is None]
        if unknown:
            raise ValueError(f"Layer {self.name!r} (Normalization): the sizes of the kept axes "
                             f"must be known. Received input shape {shape} with axis="
                             f"{list(self.axis)}: axis {unknown[0]} is unknown.")
        self._keep_axis = keep
        self._reduce_axis = tuple(d for d in range(len(shape)) if d not in keep)
        self._broadcast_shape = tuple(shape[d] if d in keep else 1 for d in range(len(shape)))
        state_shape = tuple(shape[d] for d in keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight("mean", state_shape, initializer="zeros",
                                              trainable=False)
            self.adapt_variance = self.add_weight("variance", state_shape, initializer="ones",
                                                  trainable=False)
            self.count = self.add_weight("count", (), dtype="int64", initializer="zeros",
                                         trainable=False)
        else:
            try:
                mean = np.broadcast_to(np.asarray(self.input_mean, "float64"), state_shape)
                variance = np.broadcast_to(np.asarray(self.input_variance, "float64"),
                                           state_shape)
            except ValueError as err:
                raise ValueError(f"Layer {self.name!r} (Normalization): `mean` and `variance` "
                                 f"must broadcast to the kept axes' shape {state_shape}. "
                                 f"Received: mean={self.input_mean!r}, "
                                 f"variance={self.input_variance!r}") from err
            self._given = (ops.convert_to_tensor(mean.reshape(self._broadcast_shape),
                                                 dtype=self.dtype),
                           ops.convert_to_tensor(variance.reshape(self._broadcast_shape),
                                                 dtype=self.dtype))
            self._state_ok = True
        self.built = True

    def _adapted_batch_input_shape(self, shape):
        # tf.keras 2 writes [None, None]; keeping the kept axes' sizes lets a
        # saved `Sequential([adapted_normalization, ...])` rebuild its weights.
        keep = self._kept_axes(len(shape))
        return tuple(shape[d] if d in keep and d > 0 else None for d in range(len(shape)))

    # -- the state ---------------------------------------------------------------
    @property
    def mean(self):
        """The mean in the inputs' broadcast shape (tf.keras's `layer.mean`)."""
        if not self.built:
            raise AttributeError(f"Layer {self.name!r} (Normalization) has no mean before it "
                                 "is built or adapted.")
        if self.input_mean is not None:
            return self._given[0]
        return ops.reshape(self.adapt_mean, self._broadcast_shape)

    @property
    def variance(self):
        """The variance in the inputs' broadcast shape (tf.keras's `layer.variance`)."""
        if not self.built:
            raise AttributeError(f"Layer {self.name!r} (Normalization) has no variance before "
                                 "it is built or adapted.")
        if self.input_mean is not None:
            return self._given[1]
        return ops.reshape(self.adapt_variance, self._broadcast_shape)

    def _check_adaptable(self):
        if self.input_mean is not None:
            raise ValueError(f"Layer {self.name!r} (Normalization): cannot `adapt` a layer "
                             f"initialized with static `mean` and `variance`. Received "
                             f"mean={self.input_mean!r} and variance={self.input_variance!r}.")

    def _check_adapt_shape(self, shape):
        if len(shape) == 1 and self.axis and self._kept_axes(1) == [0]:
            raise ValueError(f"Layer {self.name!r} (Normalization): `adapt` received 1-D data "
                             f"of shape {shape}, whose only axis is the batch axis, while "
                             f"axis={list(self.axis)} keeps it. Pass axis=None for one "
                             "mean over all values, or reshape the data to (samples, 1).")

    def reset_state(self):
        self._host_state = None
        if self.input_mean is None and self.built:
            self._state_ok = False

    def update_state(self, data):
        data = np.asarray(data)
        expected = len(self._broadcast_shape)
        if self._keep_axis and data.ndim != expected:
            raise ValueError(f"Layer {self.name!r} (Normalization): `adapt` expects data of "
                             f"rank {expected} (built for input shape "
                             f"{self._build_input_shape}). Received data of shape "
                             f"{data.shape}.")
        for d in self._keep_axis:
            if data.shape[d] != self._broadcast_shape[d]:
                raise ValueError(f"Layer {self.name!r} (Normalization): `adapt` data must "
                                 f"have size {self._broadcast_shape[d]} on axis {d}. "
                                 f"Received data of shape {data.shape}.")
        if not np.issubdtype(data.dtype, np.number) and data.dtype != np.bool_:
            raise ValueError(f"Layer {self.name!r} (Normalization): `adapt` expects numbers. "
                             f"Received data of dtype {data.dtype}.")
        # float64 on the host: the result is then the exact mean and variance
        # rounded once to float32 (tf.keras accumulates in float32).
        data = data.astype("float64")
        # axis=None reduces every axis, whatever the batch's rank.
        reduce = self._reduce_axis if self._keep_axis else tuple(range(data.ndim))
        batch_count = int(np.prod([data.shape[d] for d in reduce], dtype=np.int64))
        if batch_count == 0:
            return
        batch_mean = data.mean(axis=reduce)
        batch_var = data.var(axis=reduce)
        if self._host_state is None:
            self._host_state = (batch_count, batch_mean, batch_var)
            return
        # Merging two batches' moments (Chan et al.), in tf.keras's weighted form.
        count, mean, var = self._host_state
        total = count + batch_count
        w = batch_count / total
        total_mean = mean * (1.0 - w) + batch_mean * w
        total_var = ((var + (mean - total_mean) ** 2) * (1.0 - w)
                     + (batch_var + (batch_mean - total_mean) ** 2) * w)
        self._host_state = (total, total_mean, total_var)

    def finalize_state(self):
        if self._host_state is None or self.input_mean is not None:
            return
        count, mean, var = self._host_state
        self.adapt_mean.assign(mean.astype(self.dtype))
        self.adapt_variance.assign(var.astype(self.dtype))
        self.count.assign(np.asarray(count, dtype="int64"))
        self._host_state = None
        self._state_ok = True

    def _check_state(self):
        """Refuses to normalize with the initial mean 0 and variance 1 of a
        layer that was neither adapted nor given values nor loaded. Reads
        the state back once; after that the answer is remembered."""
        if self._state_ok:
            return
        mean, var = self.adapt_mean.numpy(), self.adapt_variance.numpy()
        if int(self.count.numpy()) == 0 and not mean.any() and (var == 1).all():
            raise ValueError(f"Layer {self.name!r} (Normalization) has no mean and variance "
                             "yet: call `adapt(data)` before using it, pass `mean` and "
                             "`variance` to the constructor, or load its weights.")
        self._state_ok = True

    def set_weights(self, weights):
        super().set_weights(weights)
        self._state_ok = False  # whatever was set is checked at the next call

    # -- computing ---------------------------------------------------------------
    def call(self, inputs):
        if self.input_mean is None:
            self._check_state()
        if self._keep_axis and inputs.ndim != len(self._broadcast_shape):
            raise ValueError(f"Layer {self.name!r} (Normalization) expects inputs of rank "
                             f"{len(self._broadcast_shape)} (input shape "
                             f"{self._build_input_shape}). Received shape {inputs.shape}.")
        std = ops.maximum(ops.sqrt(self.variance), _EPSILON)
        if self.invert:
            return ops.add(self.mean, ops.multiply(inputs, std))
        return ops.divide(ops.subtract(inputs, self.mean), std)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        if self.built and len(shape) == len(self._broadcast_shape):
            # A kept axis of unknown size takes the state's size, as
            # tf.keras's broadcasting gives it.
            for d in self._keep_axis:
                if shape[d] is None:
                    shape[d] = self._broadcast_shape[d]
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": list(self.axis), "invert": self.invert,
                       "mean": self.input_mean, "variance": self.input_variance})
        return config
