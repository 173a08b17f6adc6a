"""Weight regularizers with tf.keras 2's names, defaults and formulas.

A regularizer maps a weight tensor to a scalar penalty that the model adds
to its loss: `L1` gives `l1 * sum(|w|)`, `L2` gives `l2 * sum(w**2)` (no
one half, as in Keras), `L1L2` both. The penalty is built from
`kerasette.ops`, so it is differentiable and runs on the active backend.

Example:
    >>> import kerasette as keras
    >>> w = keras.ops.convert_to_tensor([[1.0, -2.0]])
    >>> round(float(keras.regularizers.l2(0.01)(w)), 6)
    0.05
    >>> keras.regularizers.serialize(keras.regularizers.L2(0.001))["config"]
    {'l2': 0.001}
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from kerasette import ops
from kerasette.autodiff import Tensor
from kerasette.ops import nn as _nn
from kerasette.utils.registry import NameTable

__all__ = ["L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "deserialize", "get",
           "l1", "l1_l2", "l2", "orthogonal_regularizer", "serialize"]


def _penalty(value, name, owner) -> float:
    """A penalty factor as a Python float, or a ValueError naming it."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value < 0):
        raise ValueError(
            f"{owner} expects `{name}` to be a non-negative finite number. "
            f"Received: {name}={value!r}"
        )
    # tf.keras 2 writes float32-rounded factors (0.0010000000474974513); they
    # are read back as the Python floats they are.
    return float(value)


class Regularizer:
    """Base class of regularizers: `__call__(x)` returns a scalar penalty.

    Subclasses implement `__call__` with `kerasette.ops` (so the penalty has
    a gradient) and `get_config` (JSON-ready values).

    Example:
        >>> from kerasette import ops
        >>> class SumOfWeights(Regularizer):
        ...     def __call__(self, x):
        ...         return ops.sum(x)
        >>> float(SumOfWeights()(ops.convert_to_tensor([1.0, 2.0])))
        3.0
    """

    def __call__(self, x) -> Tensor:
        """The penalty for the weight tensor `x`, as a 0-d tensor."""
        return ops.zeros((), dtype=_tensor(x).dtype)

    def get_config(self) -> dict:
        """The constructor arguments, as JSON-ready values."""
        return {}

    @classmethod
    def from_config(cls, config: dict):
        """Rebuilds a regularizer from `get_config()`'s dict."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _tensor(x) -> Tensor:
    return ops.convert_to_tensor(x) if not isinstance(x, Tensor) else x


def _penalty_kernel_factors(regularizer):
    """`(l1, l2)` of a built-in L1, L2 or L1L2 whose `__call__` is the fused
    `weight_penalty` op (so the direct training step may run its array
    kernels, `ops.nn.penalty_forward`/`penalty_backward`), else None."""
    cls = type(regularizer)
    if cls not in (L1, L2, L1L2) or cls.__call__ is not _FUSED_CALLS[cls]:
        return None
    return getattr(regularizer, "l1", 0.0), getattr(regularizer, "l2", 0.0)


class L1L2(Regularizer):
    """Penalty `l1 * sum(|x|) + l2 * sum(x**2)`.

    Both factors default to 0 here; the `l1_l2` function defaults both to
    0.01, as in tf.keras 2.

    Args:
        l1: the L1 factor (non-negative).
        l2: the L2 factor (non-negative).

    Example:
        >>> from kerasette import ops
        >>> float(L1L2(l1=1.0, l2=1.0)(ops.convert_to_tensor([-1.0, 2.0])))
        8.0
    """

    def __init__(self, l1=0.0, l2=0.0):
        # None is read as 0, as tf.keras 2 does.
        self.l1 = _penalty(0.0 if l1 is None else l1, "l1", "L1L2")
        self.l2 = _penalty(0.0 if l2 is None else l2, "l2", "L1L2")

    def __call__(self, x) -> Tensor:
        # One op with one backward (ops.nn's penalty kernels), which the
        # direct training step runs too.
        return _nn.weight_penalty(_tensor(x), self.l1, self.l2)

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """Penalty `l1 * sum(|x|)`.

    Args:
        l1: the factor (non-negative).

    Example:
        >>> from kerasette import ops
        >>> float(L1(0.5)(ops.convert_to_tensor([-1.0, 2.0])))
        1.5
    """

    def __init__(self, l1=0.01):
        self.l1 = _penalty(0.01 if l1 is None else l1, "l1", "L1")

    def __call__(self, x) -> Tensor:
        return _nn.weight_penalty(_tensor(x), l1=self.l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(Regularizer):
    """Penalty `l2 * sum(x**2)` (no one half, unlike weight decay's `l2_loss`).

    Args:
        l2: the factor (non-negative).

    Example:
        >>> from kerasette import ops
        >>> float(L2(0.5)(ops.convert_to_tensor([-1.0, 2.0])))
        2.5
    """

    def __init__(self, l2=0.01):
        self.l2 = _penalty(0.01 if l2 is None else l2, "l2", "L2")

    def __call__(self, x) -> Tensor:
        return _nn.weight_penalty(_tensor(x), l2=self.l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


_FUSED_CALLS = {cls: cls.__call__ for cls in (L1, L2, L1L2)}


class OrthogonalRegularizer(Regularizer):
    """Penalty that pushes the rows (or columns) of a 2-D weight to be orthogonal.

    The rows (`mode="rows"`) or columns (`mode="columns"`) are L2-normalised
    (norms floored at 1e-6, as TensorFlow's `l2_normalize`); the penalty is
    `factor * 0.5 * sum(|dot products of distinct pairs|) / pairs`, with
    `pairs = n * (n - 1) / 2` (tf.keras 2's formula: each pair counts twice
    in the sum, hence the 0.5).

    Args:
        factor: the regularization factor (non-negative).
        mode: `"rows"` or `"columns"`.

    Example:
        >>> from kerasette import ops
        >>> reg = OrthogonalRegularizer(factor=1.0)
        >>> float(reg(ops.convert_to_tensor([[1.0, 0.0], [1.0, 0.0]])))
        1.0
        >>> float(reg(ops.convert_to_tensor([[1.0, 0.0], [0.0, 3.0]])))
        0.0
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _penalty(factor, "factor", "OrthogonalRegularizer")
        if mode not in ("rows", "columns"):
            raise ValueError('Invalid value for argument `mode`. Expected one of {"rows", '
                             f'"columns"}}. Received: mode={mode!r}')
        self.mode = mode

    def __call__(self, x) -> Tensor:
        x = _tensor(x)
        if x.ndim != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape == {x.shape}")
        axis = 1 if self.mode == "rows" else 0
        # TensorFlow's l2_normalize: x / sqrt(max(sum(x**2), 1e-12)).
        norms = ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=axis, keepdims=True), 1e-12))
        unit = ops.divide(x, norms)
        if self.mode == "rows":
            product = ops.matmul(unit, ops.transpose(unit))
        else:
            product = ops.matmul(ops.transpose(unit), unit)
        size = product.shape[0]
        if size < 2:
            return ops.zeros((), dtype=x.dtype)  # no pairs (tf.keras 2 divides 0 by 0)
        off_diagonal = ops.convert_to_tensor(1.0 - np.eye(size), dtype=x.dtype)
        pairs = size * (size - 1.0) / 2.0
        total = ops.sum(ops.abs(ops.multiply(product, off_diagonal)))
        return ops.multiply(self.factor * 0.5 / pairs, total)

    def get_config(self) -> dict:
        return {"factor": self.factor, "mode": self.mode}


def l1_l2(l1=0.01, l2=0.01) -> L1L2:
    """An `L1L2` regularizer with tf.keras 2's function defaults (both 0.01).

    Args:
        l1: the L1 factor.
        l2: the L2 factor.

    Returns:
        An `L1L2` instance.

    Example:
        >>> l1_l2().get_config()
        {'l1': 0.01, 'l2': 0.01}
    """
    return L1L2(l1=l1, l2=l2)


# tf.keras 2's lowercase names are the classes themselves.
l1 = L1
l2 = L2
orthogonal_regularizer = OrthogonalRegularizer

_TABLE = NameTable("regularizer", "keras.regularizers")
_TABLE.register(L1, "L1", "l1")
_TABLE.register(L2, "L2", "l2")
_TABLE.register(L1L2, "L1L2")  # "l1_l2" is the same key once underscores go
_TABLE.register(OrthogonalRegularizer, "OrthogonalRegularizer", "orthogonal_regularizer")


def serialize(regularizer) -> dict | None:
    """The nested config Keras writes for a regularizer.

    Args:
        regularizer: a `Regularizer` instance, or `None`.

    Returns:
        `{"module": "keras.regularizers", "class_name": "L2",
        "config": {"l2": 0.01}, "registered_name": None}`, or `None`.

    Example:
        >>> serialize(L1(0.1))["class_name"]
        'L1'
    """
    if regularizer is not None and not hasattr(regularizer, "get_config"):
        raise ValueError(
            "regularizers.serialize expects a Regularizer (with get_config). "
            f"Received: {regularizer!r}"
        )
    return _TABLE.serialize(regularizer)


def deserialize(config, custom_objects=None) -> Regularizer | None:
    """Builds a regularizer from a name or a config dict.

    The string `"l1_l2"` gives `L1L2(l1=0.01, l2=0.01)` (the function's
    defaults) while `"L1L2"` gives the class's (both 0), as in tf.keras 2.

    Args:
        config: `"l1"`, `"l2"`, `"l1_l2"`, a class name, or a dict with
            `class_name` and `config`.
        custom_objects: optional dict of extra `name -> class`.

    Returns:
        A `Regularizer`, or `None` for `None`.

    Raises:
        ValueError: for an unknown name (with the closest valid one).

    Example:
        >>> deserialize("l2").get_config()
        {'l2': 0.01}
    """
    if config == "l1_l2":
        return l1_l2()
    return _TABLE.deserialize(config, custom_objects)


def get(identifier) -> Regularizer | None:
    """Turns what a layer's `*_regularizer=` accepts into a regularizer.

    Args:
        identifier: `None`, a name, a config dict, a `Regularizer` class
            (instantiated with its defaults, as Keras 3 does), or a callable
            (returned as is).

    Returns:
        A regularizer (or the callable), or `None`.

    Raises:
        ValueError: for an unknown name or an identifier of another kind.

    Example:
        >>> type(get("l1")).__name__
        'L1'
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()  # `keras.regularizers.L2` for `L2()`, as Keras 3 does
    if callable(identifier):
        return identifier
    raise ValueError(
        "Could not interpret regularizer identifier: expected None, a name, a "
        f"config dict or a callable. Received: {identifier!r}"
    )
