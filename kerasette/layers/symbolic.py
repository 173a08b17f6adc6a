"""Calling a layer on symbolic tensors: build from shapes, record a node.

`Layer.__call__` hands its inputs here when they are `KerasTensor`s
(`keras.Input(...)` or another layer's symbolic output). No array of the
data's size is made: the layer is built from the input shapes, its output
shapes come from `compute_output_shape` (or, for a layer that keeps the
default, from one call on a batch of one zero sample), and a `Node`
records the call.
"""

from __future__ import annotations

from kerasette import ops
from kerasette.layers.base import Layer, _build_shape
from kerasette.layers.node import KerasTensor, Node, flatten, pack_like
from kerasette.utils import weight_budget

# What a layer's own build or shape code raises for inputs it cannot take;
# re-raised as a ValueError naming the layer and the shapes it was given.
_SHAPE_ERRORS = (ValueError, TypeError, IndexError, KeyError)


def call_symbolic(layer, inputs, training=None, kwargs=None):
    """Calls `layer` on KerasTensors: builds it, records a `Node`, and
    returns KerasTensors of its output shapes.

    Args:
        layer: the layer called.
        inputs: a KerasTensor, or a list, tuple or dict of them.
        training: recorded with the node when not None (the graph then
            always runs the layer in that mode, as in Keras).
        kwargs: other keyword arguments of the call, recorded likewise.

    Returns:
        A KerasTensor, or a list of them for a layer with several outputs.

    Raises:
        TypeError: when symbolic and real tensors are mixed in one call.
        ValueError: when the layer cannot take these shapes, naming the
            layer, its class and the shapes.
    """
    flat = flatten(inputs)
    for t in flat:
        if not isinstance(t, KerasTensor):
            raise TypeError(
                f"Layer {layer.name!r} was called on symbolic tensors (keras.Input and "
                f"layer outputs) mixed with a {type(t).__name__}. Call a layer either on "
                "symbolic tensors only, to build a model, or on arrays only."
            )
    shapes = pack_like(inputs, [t.shape for t in flat])
    was_built = layer.built
    try:
        if not was_built:
            layer._maybe_build(_build_shape(shapes))
        out_shapes = output_shape(layer, shapes)
    except _SHAPE_ERRORS as err:
        shown = _format_shapes(shapes)
        raise ValueError(
            f"Layer {layer.name!r} ({type(layer).__name__}) cannot be called on an input of "
            f"shape {shown}: {err}"
        ) from err
    recorded = dict(kwargs or {})
    if training is not None:
        recorded["training"] = training
    return record_call(layer, inputs, out_shapes, recorded)


def record_call(layer, inputs, out_shapes, kwargs=None):
    """Records a call of the built `layer` on the KerasTensor(s) `inputs`
    whose output shapes are known: makes the output KerasTensors and the
    `Node`, and returns the outputs (one, or a list)."""
    outputs = _keras_tensors(layer, out_shapes, _output_dtype(layer, flatten(inputs)))
    Node(layer, inputs, outputs, kwargs)
    if layer._build_output_shape is None:
        layer._build_output_shape = _batchless(out_shapes)
    return outputs


def output_shape(layer, shape):
    """A layer's output shape for input `shape` (batch first; a list of
    shapes for several inputs).

    Layers that override `compute_output_shape` answer from shapes alone.
    Others are called once on a batch of one zero sample (bounded when a
    model is rebuilt from a file); with an unknown size beyond the batch
    axis, the shape is assumed to pass through unchanged.
    """
    if type(layer).compute_output_shape is not Layer.compute_output_shape:
        return _as_shapes(layer.compute_output_shape(shape))
    shapes = flatten_shapes(shape)
    if any(d is None for s in shapes for d in s[1:]):
        return tuple(shapes[0])
    probes = []
    for s in shapes:
        weight_budget.check_probe(layer.name, (1,) + tuple(s[1:]))  # loading a file: bounded
        probes.append(ops.zeros((1,) + tuple(s[1:]), dtype=layer.dtype))
    out = layer(probes[0] if _is_one_shape(shape) else probes, training=False)
    batch = shapes[0][0]
    if isinstance(out, (list, tuple)):
        return [(batch,) + tuple(t.shape[1:]) for t in out]
    return (batch,) + tuple(out.shape[1:])


def flatten_shapes(shape) -> list:
    """A shape, or a (nested) list of shapes, as a flat list of tuples."""
    if _is_one_shape(shape):
        return [tuple(shape)]
    if isinstance(shape, dict):
        shape = [shape[k] for k in sorted(shape)]
    return [s for item in shape for s in flatten_shapes(item)]


def _is_one_shape(shape) -> bool:
    return isinstance(shape, (list, tuple)) and all(
        d is None or isinstance(d, int) for d in shape)


def _as_shapes(shape):
    """`compute_output_shape`'s answer as a tuple, or a list of tuples."""
    if _is_one_shape(shape):
        return tuple(shape)
    return [tuple(s) for s in flatten_shapes(shape)]


def _keras_tensors(layer, shapes, dtype):
    if isinstance(shapes, tuple):
        return KerasTensor(shapes, dtype, name=layer.name)
    return [KerasTensor(s, dtype, name=layer.name if i == 0 else f"{layer.name}_{i}")
            for i, s in enumerate(shapes)]


def _output_dtype(layer, flat_inputs):
    # A float layer computes in its dtype; an InputLayer-like layer that does
    # not compute (integer ids passed through) keeps its input's dtype. A
    # layer that knows better says so (text layers: strings in, int64 out).
    declared = getattr(layer, "_symbolic_output_dtype", None)
    if declared is not None:
        return declared
    if flat_inputs and not layer.dtype.startswith("float"):
        return flat_inputs[0].dtype
    return layer.dtype


def _batchless(shapes):
    if isinstance(shapes, tuple):
        return (None,) + shapes[1:] if shapes else ()
    return [_batchless(s) for s in shapes]


def _format_shapes(shapes) -> str:
    if _is_one_shape(shapes):
        return "(" + ", ".join("None" if d is None else str(d) for d in shapes) + \
            ("," if len(shapes) == 1 else "") + ")"
    if isinstance(shapes, dict):
        return "{" + ", ".join(f"{k!r}: {_format_shapes(v)}" for k, v in shapes.items()) + "}"
    return "[" + ", ".join(_format_shapes(s) for s in shapes) + "]"


__all__ = ["call_symbolic", "flatten_shapes", "output_shape", "record_call"]
