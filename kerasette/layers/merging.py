"""Merge layers: `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`,
`Minimum`, `Concatenate`, `Dot`, and the functions `add`, `concatenate`, ...

Each layer takes a list of tensors. `build` and `compute_output_shape`
take a list of shapes (batch first, `None` where unknown) and check them
with Keras's rules and messages, so a symbolic call can infer the output
shape without data. The computation uses `kerasette.ops` primitives, so
the tape differentiates every merge.
"""

from __future__ import annotations

import math
import numbers


from kerasette import ops
from kerasette.layers.base import Layer
from kerasette.ops.core import xp

# tf.keras 2's `tf.linalg.l2_normalize` floor on the squared norm (Keras 3
# uses epsilon**2 = 1e-14); it only matters for vectors of norm < 1e-6.
_L2_EPSILON = 1e-12


def _is_shape_list(input_shape) -> bool:
    return (isinstance(input_shape, (list, tuple)) and len(input_shape) > 0
            and all(s is None or isinstance(s, (list, tuple)) for s in input_shape))


def _as_shapes(input_shape):
    return [None if s is None else tuple(s) for s in input_shape]


def _fmt(shapes) -> str:
    return str([s if s is None else tuple(s) for s in shapes]) if _is_shape_list(shapes) \
        else str(shapes)


class _ListInputLayer(Layer):
    """A layer whose input is a list of tensors (built, as any layer called
    on a list, from the list of their shapes)."""

    def _check_list_input(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"Layer {self.name!r} ({type(self).__name__}) should be called on a list of "
                f"inputs. Received: inputs of shape {getattr(inputs, 'shape', inputs)} "
                "(not a list of tensors)"
            )


class Merge(_ListInputLayer):
    """Base of the elementwise merge layers (`Add`, `Multiply`, ...).

    Inputs must share the batch size; the other axes broadcast as Keras's
    `_compute_elemwise_op_output_shape` allows: aligned from the right,
    equal sizes or 1. An input of lower rank is expanded after the batch
    axis, so `(batch, 3)` merges with `(batch, 4, 3)`.

    Args:
        **kwargs: standard layer arguments (`name`, `dtype`, ...).
    """

    min_inputs = 1
    max_inputs = None
    supports_masking = True

    def compute_mask(self, inputs, mask=None):
        """A step is kept where every input that has a mask keeps it
        (tf.keras 2's merge rule); None when no input has a mask."""
        masks = [m for m in (mask or []) if m is not None]
        if not masks:
            return None
        out = masks[0]
        for m in masks[1:]:
            out = out & m
        return out

    def _merge_function(self, inputs):
        raise NotImplementedError

    def _check_count(self, count, received):
        if count < self.min_inputs or (self.max_inputs is not None and count > self.max_inputs):
            if self.max_inputs == self.min_inputs:
                what = f"exactly {self.min_inputs} inputs"
            else:
                what = f"at least {self.min_inputs} input" + ("s" if self.min_inputs > 1 else "")
            raise ValueError(
                f"A `{type(self).__name__}` layer should be called on {what}. "
                f"Received: {received} ({count} inputs; layer {self.name!r})"
            )

    def _elementwise_shape(self, shape1, shape2):
        """Broadcast shape of two batchless shapes (`None`: unknown shape)."""
        if shape1 is None or shape2 is None:
            return None
        if len(shape1) < len(shape2):
            shape1, shape2 = shape2, shape1
        if not shape2:
            return tuple(shape1)
        out = list(shape1[:len(shape1) - len(shape2)])
        for i, j in zip(shape1[len(shape1) - len(shape2):], shape2):
            if i is None or j is None:
                out.append(None)
            elif i == 1 or j == 1:
                out.append(j if i == 1 else i)
            elif i != j:
                raise ValueError(
                    f"Inputs have incompatible shapes. Received shapes {tuple(shape1)} and "
                    f"{tuple(shape2)} (layer {self.name!r}, {type(self).__name__})"
                )
            else:
                out.append(i)
        return tuple(out)

    def compute_output_shape(self, input_shape):
        """The broadcast shape of the inputs, batch first.

        Args:
            input_shape: a list of shapes, batch first.

        Raises:
            ValueError: with Keras's message, for something that is not a
                list of shapes, the wrong number of inputs, different batch
                sizes or shapes that do not broadcast.
        """
        if not _is_shape_list(input_shape):
            if isinstance(input_shape, (list, tuple)) and not input_shape:
                self._check_count(0, "[]")
            raise ValueError(
                "A merge layer should be called on a list of inputs. "
                f"Received: input_shape={_fmt(input_shape)} (not a list of shapes) "
                f"(layer {self.name!r}, {type(self).__name__})"
            )
        shapes = _as_shapes(input_shape)
        self._check_count(len(shapes), f"input_shape={_fmt(shapes)}")
        batch_sizes = {s[0] for s in shapes if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(
                f"Cannot merge tensors with different batch sizes. Received tensors with "
                f"shapes {_fmt(shapes)} (layer {self.name!r}, {type(self).__name__})"
            )
        out = None if shapes[0] is None else shapes[0][1:]
        for s in shapes[1:]:
            out = self._elementwise_shape(out, None if s is None else s[1:])
        if out is None:
            return None
        return (batch_sizes.pop() if batch_sizes else None,) + out

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # checks only: no weights
        self.built = True

    def call(self, inputs):
        self._check_list_input(inputs)
        self.compute_output_shape([tuple(x.shape) for x in inputs])
        ranks = [x.ndim for x in inputs]
        top = max(ranks)
        if min(ranks) < top:
            # Keras expands lower-rank inputs after the batch axis; NumPy would
            # align the batch axis with a feature axis instead.
            inputs = [x if x.ndim == top else
                      ops.reshape(x, x.shape[:1] + (1,) * (top - x.ndim) + x.shape[1:])
                      for x in inputs]
        return self._merge_function(list(inputs))


def _fold(op, inputs):
    out = inputs[0]
    for x in inputs[1:]:
        out = op(out, x)
    return out


class Add(Merge):
    """Adds a list of inputs elementwise.

    Takes a list of tensors of the same shape (or shapes that broadcast,
    see `Merge`) and returns their sum.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> a, b = np.ones((2, 3), "float32"), np.full((2, 3), 2.0, "float32")
        >>> keras.layers.Add()([a, b]).numpy().tolist()
        [[3.0, 3.0, 3.0], [3.0, 3.0, 3.0]]
    """

    def _merge_function(self, inputs):
        return _fold(ops.add, inputs)


class Subtract(Merge):
    """Subtracts the second of exactly two inputs from the first.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> a, b = np.ones((1, 2), "float32"), np.full((1, 2), 3.0, "float32")
        >>> keras.layers.Subtract()([a, b]).numpy().tolist()
        [[-2.0, -2.0]]
    """

    min_inputs = max_inputs = 2

    def _merge_function(self, inputs):
        return ops.subtract(inputs[0], inputs[1])


class Multiply(Merge):
    """Multiplies a list of inputs elementwise.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> a = np.array([[1.0, 2.0]], "float32")
        >>> keras.layers.Multiply()([a, a, a]).numpy().tolist()
        [[1.0, 8.0]]
    """

    def _merge_function(self, inputs):
        return _fold(ops.multiply, inputs)


class Average(Merge):
    """Averages a list of inputs elementwise.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> a, b = np.zeros((1, 2), "float32"), np.ones((1, 2), "float32")
        >>> keras.layers.Average()([a, b]).numpy().tolist()
        [[0.5, 0.5]]
    """

    def _merge_function(self, inputs):
        # A Python float keeps float32 inputs float32.
        return ops.divide(_fold(ops.add, inputs), float(len(inputs)))


class Maximum(Merge):
    """Elementwise maximum of a list of inputs (ties send the gradient to
    the earlier input).

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> a, b = np.array([[1.0, 5.0]], "float32"), np.array([[3.0, 2.0]], "float32")
        >>> keras.layers.Maximum()([a, b]).numpy().tolist()
        [[3.0, 5.0]]
    """

    def _merge_function(self, inputs):
        return _fold(ops.maximum, inputs)


class Minimum(Merge):
    """Elementwise minimum of a list of inputs (ties send the gradient to
    the earlier input).

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> a, b = np.array([[1.0, 5.0]], "float32"), np.array([[3.0, 2.0]], "float32")
        >>> keras.layers.Minimum()([a, b]).numpy().tolist()
        [[1.0, 2.0]]
    """

    def _merge_function(self, inputs):
        return _fold(ops.minimum, inputs)


class Concatenate(_ListInputLayer):
    """Concatenates a list of inputs along one axis.

    The inputs must have the same rank and the same sizes on every other
    axis (`None`, unknown, matches anything).

    Args:
        axis: the axis to join along (default -1, the last).
        **kwargs: standard layer arguments.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> x = np.arange(20, dtype="float32").reshape(2, 2, 5)
        >>> y = np.arange(20, 30, dtype="float32").reshape(2, 1, 5)
        >>> keras.layers.Concatenate(axis=1)([x, y]).shape
        (2, 3, 5)
        >>> keras.layers.Concatenate().compute_output_shape([(None, 3), (None, 4)])
        (None, 7)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"Concatenate: `axis` must be an integer. Received: axis={axis!r}")
        self.axis = int(axis)

    def _checked_shapes(self, input_shape):
        if not _is_shape_list(input_shape):
            raise ValueError(
                "A `Concatenate` layer should be called on a list of at least 1 input. "
                f"Received: input_shape={_fmt(input_shape)} (layer {self.name!r})"
            )
        shapes = _as_shapes(input_shape)
        known = [s for s in shapes if s is not None]
        mismatch = ValueError(
            "A `Concatenate` layer requires inputs with matching shapes except for the "
            f"concatenation axis. Received: input_shape={_fmt(shapes)} "
            f"(layer {self.name!r}, axis={self.axis})"
        )
        if len({len(s) for s in known}) > 1:
            raise mismatch
        if known:
            rank = len(known[0])
            if not -rank <= self.axis < rank:
                raise ValueError(
                    f"Concatenate: `axis` {self.axis} is out of range for inputs of rank "
                    f"{rank}. Received: input_shape={_fmt(shapes)} (layer {self.name!r})"
                )
            ax = self.axis % rank
            for i in range(rank):
                sizes = {s[i] for s in known} - {None}
                if i != ax and len(sizes) > 1:
                    raise mismatch
        return shapes

    def build(self, input_shape):
        self._checked_shapes(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        """The inputs' shape with the sizes on `axis` summed (`None` if
        any is unknown), batch first."""
        shapes = self._checked_shapes(input_shape)
        known = [s for s in shapes if s is not None]
        if len(known) < len(shapes):
            return None
        out = list(shapes[0])
        ax = self.axis % len(out)
        sizes = [s[ax] for s in shapes]
        out[ax] = None if None in sizes else sum(sizes)
        # The other axes: a size any input knows.
        for i in range(len(out)):
            if i != ax and out[i] is None:
                out[i] = next((s[i] for s in shapes if s[i] is not None), None)
        return tuple(out)

    def call(self, inputs):
        self._check_list_input(inputs)
        self._checked_shapes([tuple(x.shape) for x in inputs])
        return ops.concatenate(list(inputs), axis=self.axis)

    supports_masking = True

    def compute_mask(self, inputs, mask=None):
        """tf.keras 2's rule: the inputs' masks (all-True for an input
        without one) joined along `axis`, then kept where all of the last
        axis is kept."""
        if mask is None or all(m is None for m in mask):
            return None
        m = xp()
        parts = []
        for x, mask_i in zip(inputs, mask):
            if mask_i is None:
                parts.append(m.ones(x.shape, dtype=bool))
            elif mask_i.ndim < x.ndim:
                parts.append(m.broadcast_to(mask_i[..., None], mask_i.shape + (1,)))
            else:
                parts.append(mask_i)
        return m.all(m.concatenate(parts, axis=self.axis), axis=-1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def _l2_normalize(x, axis):
    """`x / sqrt(max(sum(x**2, axis), 1e-12))`, tf.keras 2's `l2_normalize`."""
    norm_sq = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return ops.divide(x, ops.sqrt(ops.maximum(norm_sq, _L2_EPSILON)))


class Dot(_ListInputLayer):
    """Dot product of the samples of two tensors along given axes.

    For inputs of shapes `(batch, *a)` and `(batch, *b)`, the result has
    the first input's shape without its `axes[0]` axis, followed by the
    second's without its batch and `axes[1]` axes; a result of rank 1 is
    reshaped to `(batch, 1)` (Keras's `batch_dot`).

    Args:
        axes: an int (the same axis of both inputs) or a pair
            `(axis_of_first, axis_of_second)`; the two sizes must match, and
            the batch axis 0 cannot be one of them.
        normalize: whether to L2-normalize both inputs along the product
            axes first, which makes the result the cosine similarity.
        **kwargs: standard layer arguments.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> x = np.arange(10, dtype="float32").reshape(1, 5, 2)
        >>> y = np.arange(10, 20, dtype="float32").reshape(1, 2, 5)
        >>> keras.layers.Dot(axes=(1, 2))([x, y]).numpy().tolist()
        [[[260.0, 360.0], [320.0, 445.0]]]
        >>> keras.layers.Dot(axes=1).compute_output_shape([(None, 4), (None, 4)])
        (None, 1)
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)

        def is_int(v):
            return isinstance(v, numbers.Integral) and not isinstance(v, bool)

        if not is_int(axes):
            if not isinstance(axes, (list, tuple)):
                raise TypeError("Invalid type for argument `axes`: it should be a list or an "
                                f"int. Received: axes={axes!r}")
            if len(axes) != 2:
                raise ValueError("Invalid format for argument `axes`: it should contain two "
                                 f"elements. Received: axes={axes!r}")
            if not all(is_int(a) for a in axes):
                raise ValueError("Invalid format for argument `axes`: list elements should be "
                                 f"integers. Received: axes={axes!r}")
        pair = [axes, axes] if is_int(axes) else list(axes)
        if 0 in pair:
            raise ValueError("Dot: cannot take the dot product over axis 0, the batch axis. If "
                             "your inputs are not batched, add a batch axis with "
                             f"keras.ops.expand_dims(x, 0). Received: axes={axes!r}")
        self.axes = int(axes) if is_int(axes) else [int(a) for a in axes]
        self.normalize = bool(normalize)

    def _resolved_axes(self, shape1, shape2):
        pair = [self.axes, self.axes] if isinstance(self.axes, int) else self.axes
        return [a % len(s) if -len(s) <= a < len(s) else None
                for a, s in zip(pair, (shape1, shape2))]

    def _checked(self, input_shape):
        """`(shape1, shape2, (axis1, axis2))`, or Keras's errors."""
        if not _is_shape_list(input_shape) or len(input_shape) != 2:
            raise ValueError("A `Dot` layer should be called on a list of 2 inputs. "
                             f"Received: input_shape={_fmt(input_shape)} (layer {self.name!r})")
        shape1, shape2 = _as_shapes(input_shape)
        if shape1 is None or shape2 is None:
            return shape1, shape2, None
        if len(shape1) < 2 or len(shape2) < 2:
            raise ValueError("Cannot do batch_dot on inputs with rank < 2. Received inputs "
                             f"with shapes {shape1} and {shape2} (layer {self.name!r})")
        axes = self._resolved_axes(shape1, shape2)
        if None in axes or 0 in axes:
            raise ValueError(f"Dot: `axes` {self.axes} does not name a non-batch axis of "
                             f"inputs with shapes {shape1} and {shape2} (layer {self.name!r})")
        if None not in (shape1[0], shape2[0]) and shape1[0] != shape2[0]:
            raise ValueError("Cannot do batch_dot on inputs with different batch sizes. "
                             f"Received inputs with shapes {shape1} and {shape2} "
                             f"(layer {self.name!r})")
        d1, d2 = shape1[axes[0]], shape2[axes[1]]
        if None not in (d1, d2) and d1 != d2:
            raise ValueError(f"Incompatible input shapes: axis values {d1} (at axis {axes[0]}) "
                             f"!= {d2} (at axis {axes[1]}). Full input shapes: {shape1}, "
                             f"{shape2} (layer {self.name!r})")
        return shape1, shape2, axes

    def build(self, input_shape):
        self._checked(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        """The first shape less `axes[0]`, then the second less its batch
        axis and `axes[1]`; `(batch, 1)` when nothing else is left."""
        shape1, shape2, axes = self._checked(input_shape)
        if axes is None:
            return None
        batch = shape1[0] if shape1[0] is not None else shape2[0]
        out = [batch] + [d for i, d in enumerate(shape1[1:], 1) if i != axes[0]]
        out += [d for i, d in enumerate(shape2[1:], 1) if i != axes[1]]
        return tuple(out) if len(out) > 1 else (batch, 1)

    def call(self, inputs):
        self._check_list_input(inputs)
        x, y = inputs
        out_shape = self.compute_output_shape([tuple(x.shape), tuple(y.shape)])
        a1, a2 = self._resolved_axes(x.shape, y.shape)
        if self.normalize:
            x, y = _l2_normalize(x, a1), _l2_normalize(y, a2)
        # One batched matrix product: x as (batch, rest, n), y as (batch, n, rest).
        if a1 != x.ndim - 1:
            x = ops.transpose(x, [i for i in range(x.ndim) if i != a1] + [a1])
        if a2 != 1:
            y = ops.transpose(y, [0, a2] + [i for i in range(1, y.ndim) if i != a2])
        batch, n = x.shape[0], x.shape[-1]
        rows = math.prod(x.shape[1:-1])
        cols = math.prod(y.shape[2:])
        out = ops.matmul(ops.reshape(x, (batch, rows, n)), ops.reshape(y, (batch, n, cols)))
        return ops.reshape(out, (batch,) + out_shape[1:])

    def get_config(self):
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def add(inputs, **kwargs):
    """Functional form of `Add`: `Add(**kwargs)(inputs)`.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> keras.layers.add([np.ones((1, 2), "float32")] * 3).numpy().tolist()
        [[3.0, 3.0]]
    """
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of `Subtract`: `inputs[0] - inputs[1]`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of `Multiply`: the elementwise product of `inputs`."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of `Average`: the elementwise mean of `inputs`."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of `Maximum`: the elementwise maximum of `inputs`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of `Minimum`: the elementwise minimum of `inputs`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of `Concatenate`: joins `inputs` along `axis`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Functional form of `Dot`; `axes` defaults to -1 as in Keras 3
    (tf.keras 2 requires it).

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> a = np.array([[3.0, 4.0]], "float32")
        >>> keras.layers.dot([a, a], axes=1, normalize=True).numpy().tolist()
        [[1.0]]
    """
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
