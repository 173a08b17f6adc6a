"""The layer graph: symbolic tensors and the nodes that record layer calls.

`keras.Input(shape=(4,))` returns a `KerasTensor`: a shape (batch first,
`None` where unknown) and a dtype, holding no array. Calling a layer on
KerasTensors builds the layer from their shapes and records a `Node`: the
layer, the tensors it was called on and the KerasTensors it returned. Each
KerasTensor knows the node that made it (`_keras_history`), so the graph is
nothing but these links, walked back from a model's outputs
(`kerasette.models.functional`), as in Keras 3's `keras/src/ops/node.py`.

This module imports only the nested-structure helpers (`kerasette.utils.tree`,
which import nothing), so that every layer module may import it.
"""

from __future__ import annotations

from kerasette.utils.tree import flatten, pack_like


class KerasTensor:
    """A symbolic tensor: the shape and dtype of a value a graph will carry.

    Made by `keras.Input` and by calling a layer on KerasTensors; it holds
    no data. Build a `keras.Model(inputs, outputs)` from them, then call the
    model on arrays.

    Attributes:
        shape: batch first, `None` for sizes unknown until data arrives.
        dtype: dtype name, e.g. `"float32"`.
        name: the name of the layer that made it (with `_1`, `_2`, ...
            for a layer's second and later outputs).

    Example:
        >>> import kerasette as keras
        >>> x = keras.Input(shape=(4,), name="features")
        >>> y = keras.layers.Dense(8)(x)
        >>> y.shape, y.dtype
        ((None, 8), 'float32')
    """

    # (layer, node_index, tensor_index): `layer._inbound_nodes[node_index]`
    # made this tensor, as its output number `tensor_index`.
    _keras_history = None

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def node(self):
        """The node that made this tensor (None for a tensor made by hand)."""
        if self._keras_history is None:
            return None
        layer, node_index, _ = self._keras_history
        return layer._inbound_nodes[node_index]

    @property
    def _input_layer(self):
        # `Sequential([keras.Input(shape=(4,)), ...])` takes the InputLayer.
        node = self.node
        if node is None or not node.is_input:
            maker = f"the output of layer {node.layer.name!r}" if node else "a KerasTensor"
            raise TypeError(
                "A Sequential model takes layers and keras.Input(...) tensors. Received "
                f"{maker}, shape={self.shape}. To connect layers into a graph, use "
                "keras.Model(inputs, outputs)."
            )
        return node.layer

    def _refuse(self, *args, **kwargs):
        raise TypeError(
            f"{self!r} is symbolic: it describes a value's shape and holds no data, so it "
            "cannot be converted to an array or used in arithmetic. Build a "
            "keras.Model(inputs, outputs) and call it on arrays, or do the arithmetic "
            "inside a layer's `call`."
        )

    __array__ = numpy = __bool__ = __float__ = __int__ = __len__ = __iter__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse
    __truediv__ = __rtruediv__ = __matmul__ = __rmatmul__ = __neg__ = __pow__ = _refuse

    def __repr__(self):
        made_by = ""
        if self._keras_history is not None:
            made_by = f", created by layer '{self._keras_history[0].name}'"
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}{made_by}>"


class Node:
    """One call of a layer on symbolic tensors.

    Registers itself in `layer._inbound_nodes` and stamps each output with
    `_keras_history = (layer, node_index, tensor_index)`.

    Args:
        layer: the layer called.
        inputs: what it was called on, as passed (a KerasTensor, or a list,
            tuple or dict of them); None for an `InputLayer`'s own node.
        outputs: the KerasTensor(s) it returned, as returned.
        kwargs: keyword arguments given with the call that are not
            tensors (`training=True` fixed at build time), replayed each time
            the graph runs.
    """

    def __init__(self, layer, inputs=None, outputs=None, kwargs=None):
        self.layer = layer
        self.inputs = inputs
        self.input_tensors = flatten(inputs)
        self.outputs = outputs
        self.output_tensors = flatten(outputs)
        self.kwargs = dict(kwargs or {})
        nodes = layer.__dict__.setdefault("_inbound_nodes", [])
        nodes.append(self)
        for i, tensor in enumerate(self.output_tensors):
            tensor._keras_history = (layer, len(nodes) - 1, i)

    @property
    def is_input(self) -> bool:
        """Whether this is an `InputLayer`'s node (a graph entry point)."""
        return not self.input_tensors

    @property
    def parent_nodes(self) -> list:
        """The nodes that made this node's input tensors."""
        return [t.node for t in self.input_tensors if t.node is not None]

    def inbound(self) -> list:
        """`(layer, node_index, tensor_index)` of each input tensor: the
        entries of tf.keras 2's `inbound_nodes` and its summary's
        "Connected to" column (`dense[0][0]`)."""
        return [t._keras_history for t in self.input_tensors if t._keras_history is not None]

    def __repr__(self):
        return f"<Node layer={self.layer.name}, inputs={len(self.input_tensors)}>"


# -- nested structures: a tensor, or lists, tuples and dicts of them -------------------
def is_symbolic(inputs) -> bool:
    """Whether `inputs` is a KerasTensor or a list, tuple or dict holding one."""
    if isinstance(inputs, KerasTensor):
        return True
    if isinstance(inputs, (list, tuple, dict)):
        return any(isinstance(t, KerasTensor) for t in flatten(inputs))
    return False


__all__ = ["KerasTensor", "Node", "flatten", "is_symbolic", "pack_like"]
