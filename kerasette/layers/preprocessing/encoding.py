"""One-hot, multi-hot and count encodings of integer indices, on the device.

Shared by `CategoryEncoding`, `Discretization` and `Hashing` (their
`output_mode`), with tf.keras 2's shape rules: a scalar is one sample;
`"one_hot"` encodes every element (replacing a last axis of size 1);
`"multi_hot"` and `"count"` treat the last axis as the sample's values.
tf.keras stops at output rank 2; higher ranks are encoded here the same
way (Keras 3 does too). Comparing against `arange(depth)` instead of
scattering keeps the code the same on NumPy and CuPy.
"""

from __future__ import annotations

from kerasette.autodiff.tensor import Tensor
from kerasette.ops.core import xp

INT, ONE_HOT, MULTI_HOT, COUNT = "int", "one_hot", "multi_hot", "count"


def check_output_mode(output_mode, allowed, who):
    if output_mode not in allowed:
        raise ValueError(f"{who}: unknown `output_mode`; expected one of "
                         f"{', '.join(repr(a) for a in allowed)}. "
                         f"Received: output_mode={output_mode!r}")


def output_shape(input_shape, output_mode, depth):
    """The encoded shape for indices of `input_shape` (tf.keras's rules)."""
    shape = tuple(input_shape)
    if output_mode == INT:
        return shape
    if not shape:
        return (depth,)
    if output_mode == ONE_HOT and shape[-1] != 1:
        return shape + (depth,)
    return shape[:-1] + (depth,)


def encode(indices, output_mode, depth, dtype, count_weights=None):
    """Encodes the integer tensor `indices` (values in `[0, depth)`).

    Args:
        indices: a Tensor of integers, already checked to lie in range.
        output_mode: `"int"`, `"one_hot"`, `"multi_hot"` or `"count"`.
        depth: the number of categories.
        dtype: the output dtype.
        count_weights: optional Tensor shaped like `indices`, summed
            instead of counting 1 per value in `"count"` mode.

    Returns:
        A Tensor of `output_shape(indices.shape, output_mode, depth)`.
    """
    data = indices.data if isinstance(indices, Tensor) else indices
    if output_mode == INT:
        return Tensor(data.astype(dtype))
    weights = None if count_weights is None else count_weights.data
    if data.ndim == 0:
        data = data.reshape(1)
        weights = None if weights is None else weights.reshape(1)
    if output_mode == ONE_HOT and data.shape[-1] != 1:
        data = data[..., None]
    hits = data[..., None] == xp().arange(depth, dtype=data.dtype)  # (..., k, depth)
    if output_mode in (ONE_HOT, MULTI_HOT):
        return Tensor(hits.any(axis=-2).astype(dtype))
    counts = hits.astype(dtype)
    if weights is not None:
        counts = counts * weights.astype(dtype)[..., None]
    return Tensor(counts.sum(axis=-2))


def check_range(data, depth, layer, what="value"):
    """Raises if an index in the device array `data` is outside `[0, depth)`,
    naming the layer and the value (one small read-back per call)."""
    if data.size == 0:
        return
    low, high = int(data.min()), int(data.max())
    if low < 0 or high >= depth:
        bad = low if low < 0 else high
        raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}) received {what} "
                         f"{bad}, outside the range 0 <= {what} < {depth}. Input values must "
                         f"be integers in [0, {depth}).")

