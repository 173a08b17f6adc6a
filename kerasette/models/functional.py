"""`Functional`: a model made of the layer graph between inputs and outputs.

`keras.Model(inputs, outputs)` walks back from the symbolic `outputs` along
the nodes that calling layers on symbolic tensors recorded
(`kerasette.layers.node`), down to the `keras.Input` tensors, and orders the
nodes once. Calling the model runs each node's layer in that order on real
tensors, through the same eager `Layer.__call__` as any layer, so the tape,
`fit`, `evaluate` and `predict` work as for any model. The ordering follows
Keras (`keras/src/ops/function.py`, `map_graph`), so `model.layers` lists
the layers in the order Keras lists them.
"""

from __future__ import annotations

import json

import numpy as np

from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.base import Layer
from kerasette.layers.node import KerasTensor, flatten, is_symbolic, pack_like
from kerasette.layers.symbolic import call_symbolic, flatten_shapes
from kerasette.models import functional_config, inference_fusion
from kerasette.models.model import Model
from kerasette.models.summary import format_shape, print_summary
from kerasette.utils.dialects import KERAS2_VERSION
from kerasette.utils.naming import unique_name
from kerasette.utils.registry import register_model_class
from kerasette.utils.string_data import STRING, is_string_data


# Registered by name: the loaders find the class here without importing it
# (tf.keras 2 and Keras 3 write "Functional"; older files "Model").
@register_model_class("Functional", "Model")
class Functional(Model):
    """A model defined by the graph of layer calls from `inputs` to `outputs`.

    Made by `keras.Model(inputs, outputs)`; rarely named directly.

    Args:
        inputs: the model's inputs, tensors made by `keras.Input`: one, or a
            list or dict of them.
        outputs: symbolic tensors computed from `inputs` by calling layers:
            one, or a list or dict of them.
        name: the model's name (default `model`, `model_1`, ...).
        trainable: whether the model's weights are trained.

    Example:
        >>> import kerasette as keras
        >>> a = keras.Input(shape=(3,), name="a")
        >>> b = keras.Input(shape=(2,), name="b")
        >>> shared = keras.layers.Dense(4, activation="relu")
        >>> class Join(keras.layers.Layer):
        ...     def call(self, inputs):
        ...         return keras.ops.concatenate(inputs, axis=-1)
        ...     def compute_output_shape(self, shapes):
        ...         return shapes[0][:-1] + (sum(s[-1] for s in shapes),)
        >>> joined = Join()([shared(a), keras.layers.Dense(4)(b)])
        >>> model = keras.Model([a, b], keras.layers.Dense(1)(joined))
        >>> [layer.name for layer in model.layers][:2]
        ['a', 'b']
        >>> model.output_shape
        (None, 1)
        >>> model([keras.ops.ones((5, 3)), keras.ops.ones((5, 2))]).shape
        (5, 1)
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Layer.__init__(self, name=name or unique_name("model"), trainable=trainable, **kwargs)
        # As tf.keras 2: a list holding one tensor is that tensor, so
        # `Model(x, [y])` predicts an array and trains on one `y`.
        if isinstance(inputs, list) and len(inputs) == 1:
            inputs = inputs[0]
        if isinstance(outputs, list) and len(outputs) == 1:
            outputs = outputs[0]
        flat_inputs, flat_outputs = flatten(inputs), flatten(outputs)
        _check_graph_ends(flat_inputs, flat_outputs, inputs, outputs)
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self._inputs = flat_inputs
        self._outputs = flat_outputs
        nodes_by_depth, layers = _map_graph(flat_inputs, flat_outputs)
        self._nodes_by_depth = nodes_by_depth
        # The nodes to run, parents before children; InputLayers' nodes
        # hold no computation.
        self._run_order = [node for depth in sorted(nodes_by_depth, reverse=True)
                           for node in nodes_by_depth[depth] if not node.is_input]
        self.__dict__["_sublayers"] = layers  # weights, trainable and losses follow it
        self.built = True
        self._build_input_shape = flat_inputs[0].shape
        shapes = [(None,) + t.shape[1:] for t in flat_outputs]
        self._build_output_shape = shapes[0] if len(shapes) == 1 else shapes

    # -- the graph's ends --------------------------------------------------------------------
    @property
    def inputs(self) -> list:
        """The input tensors (made by `keras.Input`), as a flat list."""
        return list(self._inputs)

    @property
    def outputs(self) -> list:
        """The output tensors, as a flat list."""
        return list(self._outputs)

    @property
    def input(self):
        """The inputs as given to the model: a tensor, list or dict."""
        return self._inputs_struct

    @property
    def output(self):
        """The outputs as given to the model: a tensor, list or dict."""
        return self._outputs_struct

    def _graph_ends(self):
        """`(inputs, outputs)`, flat: what the trainer reads to take data
        and compile losses per input and output."""
        return self._inputs, self._outputs

    # -- what the input checks and the direct step read (see Trainer) -------------------
    def _declared_input_shape(self):
        """The one input's shape, so that `fit` checks `x` before the first
        step (as for a Sequential model); None with several inputs (checked
        per input)."""
        return tuple(self._inputs[0].shape) if len(self._inputs) == 1 else None

    def _checked_output_shape(self, x=None):
        """The one output's shape, for the checks of `y`; None with several."""
        return tuple(self._build_output_shape) if len(self._outputs) == 1 else None

    def _layer_chain(self):
        """The layers in call order, without the InputLayer, when the graph
        is one chain (`Input -> a -> b -> ... -> output`: one input, one
        output, each layer called once in this graph, on exactly the
        previous layer's one output, with no fixed call arguments); None
        for any other graph, which takes the general step."""
        if len(self._inputs) != 1 or len(self._outputs) != 1:
            return None
        source = self._inputs[0]
        if source.dtype == STRING or np.dtype(source.dtype) != np.dtype(self._x_dtype()):
            return None  # the general path casts to the Input's own dtype
        chain, seen = [], set()
        for node in self._run_order:
            if (type(node.inputs) is not KerasTensor or node.inputs is not source
                    or type(node.outputs) is not KerasTensor or node.kwargs
                    or id(node.layer) in seen):
                return None
            seen.add(id(node.layer))
            chain.append(node.layer)
            source = node.outputs
        if source is not self._outputs[0] or not chain:
            return None
        return chain

    @property
    def input_names(self) -> list:
        return [t._keras_history[0].name for t in self._inputs]

    @property
    def output_names(self) -> list:
        return [t._keras_history[0].name for t in self._outputs]

    @property
    def input_shape(self):
        """`(None, 4)` for one input, a list of shapes for several."""
        shapes = [t.shape for t in self._inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        """`(None, 1)` for one output, a list of shapes for several."""
        return self._build_output_shape

    # -- calling -------------------------------------------------------------------------------
    def __call__(self, inputs, training=None, **kwargs):
        if not isinstance(inputs, Tensor) and is_symbolic(inputs):
            return call_symbolic(self, inputs, training, kwargs)  # a model nested in a graph
        if self._call_losses:
            self._call_losses = []
        return self.call(inputs, training=training, **kwargs)

    def call(self, inputs, training=None, mask=None):
        """Runs the graph on real inputs (arrays or tensors, matching the
        model's inputs: one, a list in order, or a dict by input name)."""
        values = {}
        for tensor, value in zip(self._inputs, self._standardize_inputs(inputs)):
            values[id(tensor)] = value
        chains, skipped = inference_fusion.chains_for(self, training), set()
        for node in self._run_order:
            if chains is not None:  # inference: conv -> batch norm -> ReLU in one step
                if id(node) in skipped:
                    continue
                chain = chains.get(id(node))
                if chain is not None and chain.run(values):
                    skipped |= chain.skipped
                    continue
            if type(node.inputs) is KerasTensor:  # the common case, without packing
                args = values[id(node.inputs)]
            else:
                args = pack_like(node.inputs, [values[id(t)] for t in node.input_tensors])
            if node.kwargs:  # fixed at build time (`layer(x, training=True)`)
                call_kwargs = dict(node.kwargs)
                call_kwargs.setdefault("training", training)
                out = node.layer(args, **call_kwargs)
            else:
                out = node.layer(args, training=training)
            if type(node.outputs) is KerasTensor:
                values[id(node.outputs)] = out
            else:
                for tensor, value in zip(node.output_tensors, flatten(out)):
                    values[id(tensor)] = value
        if type(self._outputs_struct) is KerasTensor:
            return values[id(self._outputs_struct)]
        return pack_like(self._outputs_struct, [values[id(t)] for t in self._outputs])

    def _standardize_inputs(self, inputs) -> list:
        """`inputs` as a list of tensors in the order of `self.inputs`,
        each converted and cast to its input's dtype and shape-checked."""
        expected = self._inputs
        if len(expected) == 1:
            if isinstance(inputs, dict):
                flat = self._by_name(inputs)
            elif (isinstance(inputs, (list, tuple)) and len(inputs) == 1
                  and hasattr(inputs[0], "shape")):
                flat = [inputs[0]]
            else:
                flat = [inputs]
        elif isinstance(inputs, dict) and not isinstance(self._inputs_struct, dict):
            flat = self._by_name(inputs)
        else:
            flat = flatten(inputs) if isinstance(inputs, (list, tuple, dict)) else [inputs]
            if len(flat) != len(expected):
                raise ValueError(
                    f"Model {self.name!r} expects {len(expected)} inputs "
                    f"({', '.join(self.input_names)}), but it received {len(flat)} "
                    f"input(s). Pass a list of {len(expected)} arrays, in that order, or a "
                    "dict by input name."
                )
        return [_convert(self, i, ref, x) for i, (ref, x) in enumerate(zip(expected, flat))]

    def _by_name(self, inputs) -> list:
        missing = [name for name in self.input_names if name not in inputs]
        if missing:
            raise ValueError(
                f"Model {self.name!r} was called on a dict without the input(s) {missing}. "
                f"Its inputs are named {self.input_names}; received keys {sorted(inputs)}."
            )
        return [inputs[name] for name in self.input_names]

    def compute_output_shape(self, input_shape):
        """The output shape(s) for `input_shape`, which must fit the model's
        input shapes (the batch size passes through)."""
        received = flatten_shapes(input_shape)
        if len(received) != len(self._inputs):
            raise ValueError(
                f"Model {self.name!r} expects {len(self._inputs)} input(s), but was given "
                f"{len(received)} input shape(s): {input_shape}."
            )
        for i, (ref, shape) in enumerate(zip(self._inputs, received)):
            _check_shape(self, i, ref, shape)
        batch = received[0][0]
        shapes = [(batch,) + t.shape[1:] for t in self._outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    # -- summary -------------------------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None, **kwargs):
        """Prints tf.keras 2's table: each layer's output shape, parameter
        count and, unless the graph is a plain chain, the layers it is
        "Connected to" (`dense[0][0]`: layer, call, output); then total,
        trainable and non-trainable counts.

        Example:
            >>> import kerasette as keras
            >>> a, b = keras.Input(shape=(2,), name="a"), keras.Input(shape=(2,), name="b")
            >>> shared = keras.layers.Dense(1, name="shared")
            >>> model = keras.Model([a, b], [shared(a), shared(b)], name="twins")
            >>> model.summary(line_length=80, positions=[0.3, 0.55, 0.7, 1.0])
            Model: "twins"
            ________________________________________________________________________________
             Layer (type)           Output Shape        Param #     Connected to
            ================================================================================
             a (InputLayer)         [(None, 2)]         0           []
            <BLANKLINE>
             b (InputLayer)         [(None, 2)]         0           []
            <BLANKLINE>
             shared (Dense)         (None, 1)           3           ['a[0][0]',
                                                                     'b[0][0]']
            <BLANKLINE>
            ================================================================================
            Total params: 3 (12.00 Byte)
            Trainable params: 3 (12.00 Byte)
            Non-trainable params: 0 (0.00 Byte)
            ________________________________________________________________________________
        """
        graph_nodes = {node for nodes in self._nodes_by_depth.values() for node in nodes}
        chain = _is_chain(self, graph_nodes)
        rows = []
        for layer in self.layers:
            rows.append((layer.name, type(layer).__name__, _summary_shape(layer, graph_nodes),
                         layer.count_params(), _connections(layer, graph_nodes)))
        print_summary(self, rows, line_length, positions, print_fn, connected=not chain)

    # -- files ------------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The graph in tf.keras 2's dialect: `{"name", "trainable", "layers":
        [{"class_name", "config", "name", "inbound_nodes"}], "input_layers",
        "output_layers"}` (`kerasette.models.functional_config`).

        Example:
            >>> import kerasette as keras
            >>> x = keras.Input(shape=(2,), name="x")
            >>> model = keras.Model(x, keras.layers.Dense(1, name="out")(x), name="m")
            >>> config = model.get_config()
            >>> config["layers"][1]["inbound_nodes"], config["output_layers"]
            ([[['x', 0, 0, {}]]], [['out', 0, 0]])
            >>> keras.Model.from_config(config).count_params()
            3
        """
        return functional_config.graph_config(self, functional_config.KERAS2)

    def keras3_graph_config(self, layer_entry) -> dict:
        """The graph in Keras 3's dialect, each layer's entry made by
        `layer_entry(layer)` (Keras 3's writer passes its own)."""
        return functional_config.graph_config(self, functional_config.KERAS3, layer_entry)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the model from `get_config()`, tf.keras 2's or Keras 3's
        dialect (fresh weights)."""
        return functional_config.from_graph_config(cls, config, custom_objects)

    def to_json(self, **kwargs) -> str:
        """The model's config as a JSON string (`json.dumps` kwargs pass through)."""
        return json.dumps({"class_name": "Functional", "config": self.get_config(),
                           "keras_version": KERAS2_VERSION, "backend": "tensorflow"}, **kwargs)


# -- building the graph ----------------------------------------------------------------------
def _check_graph_ends(flat_inputs, flat_outputs, inputs, outputs):
    if not flat_inputs:
        raise ValueError(f"`inputs` argument cannot be empty. Received: inputs={inputs!r}")
    if not flat_outputs:
        raise ValueError(f"`outputs` argument cannot be empty. Received: outputs={outputs!r}")
    for what, given, flat in (("inputs", inputs, flat_inputs), ("outputs", outputs, flat_outputs)):
        for x in flat:
            if not isinstance(x, KerasTensor):
                hint = ""
                if isinstance(x, Layer):
                    hint = (f" {x.name!r} is a layer: pass the tensor it returns when called "
                            "on the previous tensor, e.g. outputs = layer(x).")
                raise ValueError(
                    f"All `{what}` values must be symbolic tensors (keras.Input or a layer "
                    f"called on one). Received: {what}={given!r}, including a value of type "
                    f"{type(x).__name__}.{hint}"
                )
    for x in flat_inputs:
        node = x.node
        if node is None or not node.is_input:
            made_by = f"the output of layer {node.layer.name!r}" if node else "a bare KerasTensor"
            raise ValueError(
                "Model inputs must be tensors made by keras.Input(...). Received "
                f"{made_by}: {x!r}. (Models whose inputs are intermediate tensors are not "
                "supported yet.)"
            )


def _map_graph(inputs, outputs):
    """Orders the graph from `outputs` back to `inputs` as Keras does.

    A node's depth is its distance from the outputs (outputs' nodes 0);
    layers are listed by decreasing depth, ties in the order a depth-first
    walk from the outputs first meets them; InputLayers of inputs that no
    output needs are kept, at depth 0 (as Keras: they may feed losses).

    Returns:
        `(nodes_by_depth, layers)`.

    Raises:
        ValueError: for an output that needs a tensor the inputs cannot
            give ("Graph disconnected"), or two layers with one name.
    """
    ordered, first_seen = _nodes_from_outputs(outputs)
    node_depth, layer_depth = {}, {}
    for node in reversed(ordered):  # each node before the nodes that made its inputs
        depth = max(node_depth.setdefault(node, 0), layer_depth.get(node.layer, 0))
        # A shared layer sits at its deepest node's depth, so that it is
        # listed once, before every layer it feeds.
        layer_depth[node.layer] = depth
        node_depth[node] = depth
        for parent in node.parent_nodes:
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for tensor in inputs:
        layer = tensor._keras_history[0]
        if layer not in layer_depth:  # an input no output uses
            layer_depth[layer] = 0
            first_seen[layer] = -1
            node_depth[tensor.node] = 0

    nodes_by_depth: dict = {}
    for node, depth in node_depth.items():
        nodes_by_depth.setdefault(depth, []).append(node)
    layers_by_depth: dict = {}
    for layer, depth in layer_depth.items():
        layers_by_depth.setdefault(depth, []).append(layer)
    layers = []
    for depth in sorted(layers_by_depth, reverse=True):
        layers += sorted(layers_by_depth[depth], key=lambda layer: first_seen[layer])

    _check_connected(inputs, nodes_by_depth)
    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f'The name "{name}" is used {names.count(name)} times in the '
                             "model. All layer names should be unique.")
    return nodes_by_depth, layers


def _nodes_from_outputs(outputs):
    """The nodes the outputs depend on, each after the nodes that made its
    inputs (a depth-first walk back from the outputs, without recursion so
    that deep models do not reach Python's recursion limit), and the order in
    which the walk first met each layer."""
    ordered, finished, first_seen = [], set(), {}
    for output in outputs:
        first_seen.setdefault(output.node.layer, len(first_seen))
        if output.node in finished:
            continue
        stack = [(output.node, iter(output.node.input_tensors))]
        in_progress = {output.node}
        while stack:
            node, pending = stack[-1]
            for tensor in pending:
                parent = tensor.node
                if parent is None or parent in finished:
                    continue
                if parent in in_progress:
                    raise ValueError(f"Tensor {tensor!r} of layer {parent.layer.name!r} is "
                                     "part of a cycle.")
                first_seen.setdefault(parent.layer, len(first_seen))
                in_progress.add(parent)
                stack.append((parent, iter(parent.input_tensors)))
                break
            else:
                stack.pop()
                in_progress.discard(node)
                finished.add(node)
                ordered.append(node)
    return ordered, first_seen


def _check_connected(inputs, nodes_by_depth):
    computable = set(inputs)
    accessed = []
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            if node.is_input and node.output_tensors[0] not in computable:
                continue  # an Input the model was not given: its consumers fail below
            for tensor in node.input_tensors:
                if tensor not in computable:
                    raise ValueError(
                        f"Graph disconnected: cannot obtain value for tensor {tensor!r} at "
                        f'layer "{node.layer.name}". The following previous layers were '
                        f"accessed without issue: {accessed}"
                    )
            computable.update(node.output_tensors)
            accessed.append(node.layer.name)


# -- calling ---------------------------------------------------------------------------------
def _convert(model, index, ref, x):
    """Input number `index` as a tensor of its `keras.Input`'s dtype, checked
    against its shape."""
    if ref.dtype == STRING:
        return _text_input(model, index, ref, x)
    if not isinstance(x, Tensor):
        if is_string_data(x):
            raise TypeError(
                f"Input {index} of model {model.name!r} ({ref.name!r}, dtype {ref.dtype}) "
                "received strings. Declare a text input with keras.Input(..., dtype='string').")
        x = ops.convert_to_tensor(x)
    if (x.dtype != ref.dtype and x.dtype.kind in "fiub"
            and np.dtype(ref.dtype).kind == "f"):
        x = ops.cast(x, ref.dtype)
    _check_shape(model, index, ref, x.shape)
    return x


def _text_input(model, index, ref, x):
    """A text input: a host array of strings, never sent to the device (its
    first layer makes ids); `(batch,)` becomes `(batch, 1)` for an input of
    shape `(None, 1)`, as tf.keras 2 expands it."""
    if not is_string_data(x):
        got = x.dtype if hasattr(x, "dtype") else type(x).__name__
        raise TypeError(f"Input {index} of model {model.name!r} ({ref.name!r}) takes strings "
                        f"(dtype 'string'). Received: {got}.")
    x = np.asarray(x)
    if x.ndim == len(ref.shape) - 1 and ref.shape[-1] == 1:
        x = x[..., None]
    _check_shape(model, index, ref, x.shape)
    return x


def _check_shape(model, index, ref, shape):
    if len(shape) != len(ref.shape) or any(
            e is not None and r is not None and e != r
            for e, r in zip(ref.shape[1:], tuple(shape)[1:])):
        raise ValueError(
            f"Input {index} of model {model.name!r} is incompatible with the model: "
            f"expected shape={format_shape(ref.shape)} (input {ref.name!r}), found "
            f"shape={format_shape(tuple(shape))}."
        )


# -- summary ---------------------------------------------------------------------------------
def _is_chain(model, graph_nodes) -> bool:
    """tf.keras 2's "sequential-like" test: one node per depth, each with
    one input, and no layer called twice; such a graph gets the table
    without "Connected to"."""
    for nodes in model._nodes_by_depth.values():
        if len(nodes) > 1 or len(nodes[0].input_tensors) > 1:
            return False
    return all(sum(node in graph_nodes for node in layer._inbound_nodes) <= 1
               for layer in model.layers)


def _summary_shape(layer, graph_nodes):
    """The output shape(s) of the layer's calls in this graph; "multiple"
    when its calls give different shapes."""
    shapes = []
    for node in layer._inbound_nodes:
        if node in graph_nodes:
            out = [(None,) + t.shape[1:] for t in node.output_tensors]
            shapes.append(out[0] if len(out) == 1 and not node.is_input else out)
    if not shapes or any(s != shapes[0] for s in shapes):
        return "multiple"
    if isinstance(shapes[0], list):  # tf.keras 2 shows an InputLayer's as a list
        return "[" + ", ".join(format_shape(s) for s in shapes[0]) + "]"
    return shapes[0]


def _connections(layer, graph_nodes) -> list:
    return [f"{inbound.name}[{node_index}][{tensor_index}]"
            for node in layer._inbound_nodes if node in graph_nodes
            for inbound, node_index, tensor_index in node.inbound()]


__all__ = ["Functional"]
