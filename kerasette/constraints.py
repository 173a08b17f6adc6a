"""Weight constraints with tf.keras 2's names, defaults and formulas.

A constraint maps a weight to a projected weight (clipped norms,
non-negative values, ...). A layer stores it on the variable it made
(`add_weight(constraint=...)`), and the optimizer applies it in place after
every update, as tf.keras 2 does: the weights never leave the constrained
set between steps. Constraints are computed with `kerasette.ops`, on the
active backend; they carry no gradient (they run after the update).

Example:
    >>> import kerasette as keras
    >>> w = keras.ops.convert_to_tensor([[3.0, 0.0], [4.0, 1.0]])
    >>> keras.constraints.MaxNorm(2.0)(w).numpy().astype("float64").round(4).tolist()
    [[1.2, 0.0], [1.6, 1.0]]
    >>> keras.constraints.serialize(keras.constraints.NonNeg())["class_name"]
    'NonNeg'
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from kerasette import backend as _backend
from kerasette import ops
from kerasette.autodiff import Tensor
from kerasette.utils.registry import NameTable

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "RadialConstraint", "UnitNorm",
           "deserialize", "get", "max_norm", "min_max_norm", "non_neg", "radial_constraint",
           "serialize", "unit_norm"]

# tf.keras 2's `backend.epsilon()`: keeps the rescaling finite for a zero norm.
_EPSILON = 1e-7


def _tensor(w) -> Tensor:
    return w if isinstance(w, Tensor) else ops.convert_to_tensor(w)


def _number(value, name, owner, minimum=None):
    """`value` unchanged (so the config keeps what the user wrote), or a
    ValueError naming it."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or (minimum is not None and value < minimum)):
        bound = f" >= {minimum}" if minimum is not None else ""
        raise ValueError(f"{owner} expects `{name}` to be a finite number{bound}. "
                         f"Received: {name}={value!r}")
    return value


def _axis(axis, owner):
    """An int or a list of ints (a tuple becomes a list, as JSON writes it)."""
    if isinstance(axis, (list, tuple)):
        if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis) \
                and axis:
            return [int(a) for a in axis]
    elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return int(axis)
    raise ValueError(f"{owner} expects `axis` to be an int or a list of ints. "
                     f"Received: axis={axis!r}")


def _norms(w: Tensor, axis) -> Tensor:
    return ops.sqrt(ops.sum(ops.square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class of weight constraints: `__call__(w)` returns the projected `w`.

    Subclasses implement `__call__` with `kerasette.ops` and `get_config`
    (JSON-ready values). The base class leaves the weight unchanged.

    Example:
        >>> from kerasette import ops
        >>> class NonNegative(Constraint):
        ...     def __call__(self, w):
        ...         return ops.maximum(w, 0.0)
        >>> NonNegative()(ops.convert_to_tensor([-1.0, 1.0])).numpy().tolist()
        [0.0, 1.0]
    """

    def __call__(self, w) -> Tensor:
        """The projected weight (by default, `w` unchanged)."""
        return _tensor(w)

    def get_config(self) -> dict:
        """The constructor arguments, as JSON-ready values."""
        return {}

    @classmethod
    def from_config(cls, config: dict):
        """Rebuilds a constraint from `get_config()`'s dict."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Rescales the weight vectors along `axis` whose norm exceeds `max_value`.

    `w * clip(norm, 0, max_value) / (1e-7 + norm)`, the norms taken over
    `axis` (tf.keras 2's formula: vectors inside the ball shrink by the
    epsilon only).

    Args:
        max_value: the largest norm allowed (non-negative).
        axis: the axis (or list of axes) of the norms: 0 for the incoming
            weights of each unit of a `Dense` kernel `(input_dim, units)`,
            `[0, 1, 2]` for each filter of a `Conv2D` kernel.

    Example:
        >>> from kerasette import ops
        >>> w = ops.convert_to_tensor([[3.0], [4.0]])
        >>> MaxNorm(1.0)(w).numpy().astype("float64").round(4).tolist()
        [[0.6], [0.8]]
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = _number(max_value, "max_value", "MaxNorm", minimum=0)
        self.axis = _axis(axis, "MaxNorm")

    def __call__(self, w) -> Tensor:
        w = _tensor(w)
        norms = _norms(w, self.axis)
        desired = ops.clip(norms, 0.0, float(self.max_value))
        return ops.multiply(w, ops.divide(desired, ops.add(norms, _EPSILON)))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves the norms along `axis` into `[min_value, max_value]`.

    The new norm is `rate * clip(norm, min_value, max_value) + (1 - rate) *
    norm`: `rate=1` enforces the bounds at once, a smaller rate moves the
    weights towards them step by step.

    Args:
        min_value: the smallest norm (non-negative).
        max_value: the largest norm.
        rate: how strongly to enforce the bounds, in [0, 1].
        axis: the axis (or list of axes) of the norms.

    Example:
        >>> from kerasette import ops
        >>> w = ops.convert_to_tensor([[0.3], [0.4]])
        >>> MinMaxNorm(1.0, 2.0)(w).numpy().astype("float64").round(4).tolist()
        [[0.6], [0.8]]
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = _number(min_value, "min_value", "MinMaxNorm", minimum=0)
        self.max_value = _number(max_value, "max_value", "MinMaxNorm", minimum=min_value)
        self.rate = _number(rate, "rate", "MinMaxNorm", minimum=0)
        self.axis = _axis(axis, "MinMaxNorm")

    def __call__(self, w) -> Tensor:
        w = _tensor(w)
        norms = _norms(w, self.axis)
        clipped = ops.clip(norms, float(self.min_value), float(self.max_value))
        desired = ops.add(ops.multiply(float(self.rate), clipped),
                          ops.multiply(1.0 - float(self.rate), norms))
        return ops.multiply(w, ops.divide(desired, ops.add(norms, _EPSILON)))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


class NonNeg(Constraint):
    """Sets the negative weights to zero (`w * (w >= 0)`, as tf.keras 2).

    Example:
        >>> from kerasette import ops
        >>> NonNeg()(ops.convert_to_tensor([-1.0, 2.0])).numpy().tolist()
        [-0.0, 2.0]
    """

    def __call__(self, w) -> Tensor:
        w = _tensor(w)
        return ops.multiply(w, ops.cast(ops.greater_equal(w, 0.0), w.dtype))


class UnitNorm(Constraint):
    """Rescales the weight vectors along `axis` to norm 1 (`w / (1e-7 + norm)`).

    Args:
        axis: the axis (or list of axes) of the norms.

    Example:
        >>> from kerasette import ops
        >>> w = ops.convert_to_tensor([[3.0], [4.0]])
        >>> UnitNorm()(w).numpy().astype("float64").round(4).tolist()
        [[0.6], [0.8]]
    """

    def __init__(self, axis=0):
        self.axis = _axis(axis, "UnitNorm")

    def __call__(self, w) -> Tensor:
        w = _tensor(w)
        return ops.divide(w, ops.add(_norms(w, self.axis), _EPSILON))

    def get_config(self) -> dict:
        return {"axis": self.axis}


def _radial_sources(size: int) -> np.ndarray:
    """For a `size`-wide kernel, the `(size, size)` grid of diagonal indices
    `t` whose entry `kernel[t, t]` each position takes, as tf.keras 2 builds it.

    tf.keras 2 starts from the centre, `kernel[s-1, s-1]` (s = size // 2;
    one entry for odd sizes, a 2x2 block for even ones), and pads one ring
    at a time with `kernel[s+i, s+i]`, `i` counting from 0 (odd sizes) or 1
    (even sizes). A position's ring is the larger of its two distances from
    the centre, so ring `r >= 1` copies `kernel[t, t]` with `t = s + r - 1`
    (odd) or `t = s + r` (even).
    """
    s = size // 2
    idx = np.arange(size)
    if size % 2:
        ring, shift = np.abs(idx - s), -1
    else:
        ring, shift = np.where(idx >= s, idx - s, s - 1 - idx), 0
    rings = np.maximum.outer(ring, ring)
    return np.where(rings == 0, s - 1, s + rings + shift).astype(np.int64)


class RadialConstraint(Constraint):
    """Makes each `Conv2D` kernel slice constant on square rings around its centre.

    Each `(height, width)` slice of a `(height, width, in, out)` kernel
    takes, on each ring, the value of one diagonal entry, as tf.keras 2's
    `RadialConstraint` does (its construction, including which diagonal
    entry each ring copies, is followed exactly). Square kernels of size 2
    or more only. Keras 3 has no `RadialConstraint`.

    Example:
        >>> import numpy as np
        >>> from kerasette import ops
        >>> w = ops.convert_to_tensor(np.arange(16.0).reshape(4, 4, 1, 1))
        >>> RadialConstraint()(w).numpy()[:2, :, 0, 0].tolist()
        [[15.0, 15.0, 15.0, 15.0], [15.0, 5.0, 5.0, 15.0]]
    """

    def __call__(self, w) -> Tensor:
        w = _tensor(w)
        if w.ndim != 4 or w.shape[0] != w.shape[1] or w.shape[0] < 2:
            raise ValueError("RadialConstraint expects a square Conv2D kernel of rank 4, "
                             "(size, size, input_depth, output_depth) with size >= 2. "
                             f"Received weight tensor with shape: {w.shape}")
        src = _backend.get_backend().asarray(_radial_sources(w.shape[0]))
        # Gathering diagonal entries: rows src[i, j] and columns src[i, j].
        return Tensor(w.data[src, src])


# tf.keras 2's lowercase names are the classes themselves.
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
radial_constraint = RadialConstraint

_TABLE = NameTable("constraint", "keras.constraints")
_TABLE.register(MaxNorm, "MaxNorm", "max_norm")
_TABLE.register(MinMaxNorm, "MinMaxNorm", "min_max_norm")
_TABLE.register(NonNeg, "NonNeg", "non_neg")
_TABLE.register(UnitNorm, "UnitNorm", "unit_norm")
_TABLE.register(RadialConstraint, "RadialConstraint", "radial_constraint")


def serialize(constraint) -> dict | None:
    """The nested config Keras writes for a constraint (both file dialects).

    Args:
        constraint: a `Constraint` instance, or `None`.

    Returns:
        `{"module": "keras.constraints", "class_name": "MaxNorm",
        "config": {"max_value": 2, "axis": 0}, "registered_name": None}`, or
        `None`.

    Example:
        >>> serialize(MaxNorm())["config"]
        {'max_value': 2, 'axis': 0}
    """
    if constraint is not None and not hasattr(constraint, "get_config"):
        raise ValueError("constraints.serialize expects a Constraint (with get_config). "
                         f"Received: {constraint!r}")
    return _TABLE.serialize(constraint)


def deserialize(config, custom_objects=None) -> Constraint | None:
    """Builds a constraint from a name (`"max_norm"`, `"NonNeg"`) or a config dict.

    Args:
        config: a name or a dict with `class_name` and `config`.
        custom_objects: optional dict of extra `name -> class`.

    Returns:
        A `Constraint`, or `None` for `None`.

    Raises:
        ValueError: for an unknown name (with the closest valid one).

    Example:
        >>> deserialize({"class_name": "MaxNorm", "config": {"max_value": 3}}).max_value
        3
    """
    return _TABLE.deserialize(config, custom_objects)


def get(identifier) -> Constraint | None:
    """Turns what a layer's `*_constraint=` accepts into a constraint.

    Args:
        identifier: `None`, a name, a config dict, a `Constraint` class
            (instantiated with its defaults), a `Constraint`, or any callable
            `fn(w) -> w` (returned as is).

    Returns:
        A constraint (or the callable), or `None`.

    Raises:
        ValueError: for an unknown name or an identifier of another kind.

    Example:
        >>> type(get("non_neg")).__name__
        'NonNeg'
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Constraint):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError("Could not interpret constraint identifier: expected None, a name, a "
                     f"config dict or a callable. Received: {identifier!r}")
