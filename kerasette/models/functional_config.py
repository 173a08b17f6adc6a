"""A functional model's config, in tf.keras 2's dialect and Keras 3's.

Both dialects list the layers (InputLayers included) with each layer's
`name` and `inbound_nodes`, then `input_layers` and `output_layers` as
`[layer_name, node_index, tensor_index]` triples. They differ in three
places, each written and read side by side below:

* A node record. tf.keras 2: a list of the input tensors,
  `[["dense", 0, 0, {}], ...]` (call kwargs in each fourth item). Keras 3:
  `{"args": [...], "kwargs": {...}}`, each tensor a `__keras_tensor__`
  record with its `keras_history`; a merge layer has one list argument.
* A nested model's node index. tf.keras 2 counts the nested model's own
  construction as its node 0, so its first call in the outer graph is
  node 1; Keras 3 (and kerasette) count from that call.
* The ends. tf.keras 2 writes a list of triples even for one tensor (and
  unwraps a list of one when loading); Keras 3 writes the structure as
  given: a bare triple for one tensor.

Rebuilding never runs code from the config: layers come from the name
tables and the registered model classes, and every reference is checked
(an unknown layer, a node that never comes, a tensor index out of range
are `ValueError`s that the loaders turn into `ModelFileError`s).
"""

from __future__ import annotations

from kerasette import layers as layers_module
from kerasette.layers.core import InputLayer
from kerasette.layers.node import KerasTensor, flatten
from kerasette.utils.registry import is_model, model_class

KERAS2 = "keras2"
KERAS3 = "keras3"
_TENSOR = "__keras_tensor__"


# -- writing -----------------------------------------------------------------------------
def graph_config(model, dialect=KERAS2, layer_entry=None) -> dict:
    """`{"name", "trainable", "layers", "input_layers", "output_layers"}`.

    Args:
        model: a `Functional` model.
        dialect: `KERAS2` (tf.keras 2's node lists) or `KERAS3` (Keras 3's
            call records).
        layer_entry: `fn(layer) -> dict`, the layer's entry without `name`
            and `inbound_nodes` (default: `{"class_name", "config"}`, tf.keras
            2's form); Keras 3's writer passes its own.
    """
    layer_entry = layer_entry or layers_module.serialize
    graph_nodes = {node for nodes in model._nodes_by_depth.values() for node in nodes}
    index = _node_indices(model, graph_nodes, dialect)

    def history(tensor):
        layer, node_index, tensor_index = tensor._keras_history
        return [layer.name, index[layer._inbound_nodes[node_index]], tensor_index]

    entries = []
    for layer in model.layers:
        entry = dict(layer_entry(layer))
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            _node_record(node, history, dialect) for node in layer._inbound_nodes
            if node in graph_nodes and not node.is_input]
        entries.append(entry)
    return {"name": model.name, "trainable": model.trainable, "layers": entries,
            "input_layers": _ends(model._inputs_struct, history, dialect),
            "output_layers": _ends(model._outputs_struct, history, dialect)}


def _node_indices(model, graph_nodes, dialect) -> dict:
    """Each graph node's index as the file numbers it: among its layer's
    nodes in this graph (a layer shared with another model has nodes there
    too), after the construction node tf.keras 2 counts for a nested model."""
    index = {}
    for layer in model.layers:
        offset = 1 if dialect == KERAS2 and is_model(layer) else 0
        kept = [node for node in layer._inbound_nodes if node in graph_nodes]
        for i, node in enumerate(kept):
            index[node] = i + offset
    return index


def _node_record(node, history, dialect):
    if dialect == KERAS2:
        return [history(t) + [dict(node.kwargs)] for t in node.input_tensors]

    def record(item):
        if isinstance(item, KerasTensor):
            return {"class_name": _TENSOR,
                    "config": {"shape": list(item.shape), "dtype": item.dtype,
                               "keras_history": history(item)}}
        if isinstance(item, (list, tuple)):
            return [record(x) for x in item]
        if isinstance(item, dict):
            return {key: record(value) for key, value in item.items()}
        return item

    args, kwargs = [node.inputs], dict(node.kwargs)
    # A layer whose Keras 3 call takes some inputs as keyword arguments
    # (a recurrent layer's `initial_state`) says how to split them.
    split = getattr(node.layer, "keras3_call_arguments", None)
    if split is not None:
        args, kwargs = split(node.inputs, kwargs)
    return {"args": [record(a) for a in args], "kwargs": record(kwargs)}


def _ends(structure, history, dialect):
    if isinstance(structure, KerasTensor):
        return [history(structure)] if dialect == KERAS2 else history(structure)
    if isinstance(structure, dict):
        return {key: _ends(value, history, KERAS3) for key, value in structure.items()}
    return [_ends(item, history, KERAS3) for item in structure]


# -- reading -----------------------------------------------------------------------------
def from_graph_config(cls, config, custom_objects=None):
    """Rebuilds a functional model of class `cls` from either dialect.

    Raises:
        ValueError: for a config that is not a functional graph, names an
            unknown layer, or refers to a node or tensor that never exists.
    """
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError("A functional model's config must be a dict with a 'layers' list. "
                         f"Received: {str(config)[:200]}")
    for key in ("input_layers", "output_layers"):
        if config.get(key) is None:  # checked before any layer is made
            raise ValueError(f"The {cls.__name__} config has no {key!r}: it does not "
                             "describe a functional graph.")
    entries = config["layers"]
    dialect = _dialect(entries)
    layers, made, pending = {}, {}, []
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValueError(f"A layer entry must be a dict. Received: {str(entry)[:200]}")
        layer = _layer_from_entry(entry, custom_objects)
        name = entry.get("name", layer.name)
        if name in layers:
            raise ValueError(f"The layer name {name!r} is used twice in the config.")
        layers[name] = layer
        if isinstance(layer, InputLayer):
            made[name] = [layer._inbound_nodes[0].output_tensors]
        else:
            # tf.keras 2's node 0 of a nested model is its own construction.
            made[name] = [None] if dialect == KERAS2 and is_model(layer) else []
        nodes = entry.get("inbound_nodes") or []
        if not isinstance(nodes, list):
            raise ValueError(f"Layer {name!r}: 'inbound_nodes' is not a list.")
        if nodes and not isinstance(layer, InputLayer):
            pending.append((name, list(nodes)))

    def tensor(ref):
        name, node_index, tensor_index = _triple(ref)
        if name not in made:
            raise ValueError(f"A node refers to layer {name!r}, which the config does not "
                             f"define (layers: {sorted(made)[:20]}).")
        calls = made[name]
        if node_index >= len(calls):
            return None  # not made yet: its layer comes later in the config
        outputs = calls[node_index]
        if outputs is None:
            raise ValueError(f"Node {node_index} of the nested model {name!r} is its own "
                             "construction; kerasette cannot connect to it.")
        if tensor_index >= len(outputs):
            raise ValueError(f"Layer {name!r} node {node_index} has {len(outputs)} "
                             f"output(s); the config asks for output {tensor_index}.")
        return outputs[tensor_index]

    # Keras's order: each pass calls, layer by layer, the nodes whose inputs
    # exist; a pass that calls none means the config is inconsistent.
    while pending:
        progressed, still = False, []
        for name, nodes in pending:
            while nodes:
                args = _node_inputs(nodes[0], dialect, tensor)
                if args is None:
                    break
                inputs, kwargs = args
                made[name].append(flatten(layers[name](inputs, **kwargs)))
                nodes.pop(0)
                progressed = True
            if nodes:
                still.append((name, nodes))
        if not progressed:
            name, nodes = still[0]
            raise ValueError(f"Cannot connect layer {name!r}: its node {nodes[0]!r} refers "
                             "to a tensor no layer in the config makes.")
        pending = still

    inputs = _read_ends(config.get("input_layers"), dialect, tensor, "input_layers")
    outputs = _read_ends(config.get("output_layers"), dialect, tensor, "output_layers")
    model = cls(inputs, outputs, name=config.get("name"))
    if config.get("trainable") is False:
        model.trainable = False
    return model


def _dialect(entries) -> str:
    for entry in entries:
        nodes = entry.get("inbound_nodes") if isinstance(entry, dict) else None
        if isinstance(nodes, list) and nodes:
            return KERAS3 if isinstance(nodes[0], dict) else KERAS2
    return KERAS2


def _layer_from_entry(entry, custom_objects):
    """A layer, or a nested model (by its registered class), from its entry."""
    name = entry.get("registered_name") or entry.get("class_name")
    cls = model_class(name.removeprefix("keras>")) if isinstance(name, str) else None
    if cls is None and isinstance(entry.get("class_name"), str):
        cls = model_class(entry["class_name"])
    if cls is not None:
        return cls.from_config(entry.get("config"), custom_objects=custom_objects)
    return layers_module.deserialize(
        {k: v for k, v in entry.items() if k not in ("name", "inbound_nodes")},
        custom_objects=custom_objects)


def _triple(ref):
    if (not isinstance(ref, (list, tuple)) or len(ref) < 3 or not isinstance(ref[0], str)
            or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                       for i in ref[1:3])):
        raise ValueError(f"Expected [layer_name, node_index, tensor_index], received "
                         f"{str(ref)[:200]}.")
    return ref[0], ref[1], ref[2]


def _is_triple(ref) -> bool:
    return (isinstance(ref, (list, tuple)) and len(ref) in (3, 4) and isinstance(ref[0], str)
            and all(isinstance(i, int) for i in ref[1:3]))


def _node_inputs(record, dialect, tensor):
    """`(inputs, kwargs)` for one node record, or None while a tensor it
    needs is not made yet."""
    if dialect == KERAS2:
        if not isinstance(record, list) or not record:
            raise ValueError(f"A tf.keras 2 node must be a list of inbound tensors. "
                             f"Received: {str(record)[:200]}")
        tensors, kwargs = [], {}
        for ref in record:
            t = tensor(ref)
            if t is None:
                return None
            tensors.append(t)
            if len(ref) > 3 and isinstance(ref[3], dict):
                kwargs = ref[3]
        return (tensors[0] if len(tensors) == 1 else tensors), _call_kwargs(kwargs)
    if not isinstance(record, dict) or not isinstance(record.get("args"), list):
        raise ValueError(f"A Keras 3 node must be a dict with an 'args' list. "
                         f"Received: {str(record)[:200]}")
    missing = []

    def value(item):
        if isinstance(item, dict) and item.get("class_name") == _TENSOR:
            inner = item.get("config")
            t = tensor(inner.get("keras_history") if isinstance(inner, dict) else None)
            if t is None:
                missing.append(item)
            return t
        if isinstance(item, list):
            return [value(x) for x in item]
        if isinstance(item, dict):
            return {key: value(v) for key, v in item.items()}
        return item

    args = value(record["args"])
    kwargs = record.get("kwargs") or {}
    if not isinstance(kwargs, dict):
        raise ValueError(f"A Keras 3 node's 'kwargs' must be a dict. Received: {kwargs!r}")
    kwargs = value(kwargs)  # tensors given by keyword (`initial_state=[h, c]`)
    if missing:
        return None
    if len(args) != 1:
        raise ValueError(f"A node with {len(args)} positional arguments is not supported "
                         "(kerasette layers take their inputs as one argument).")
    return args[0], _call_kwargs(kwargs)


def _call_kwargs(kwargs) -> dict:
    # `mask=None` is what Keras 3 records for a layer that supports masks
    # and was given none: the same call as without it.
    return {key: value for key, value in kwargs.items()
            if not (key == "mask" and value is None)}


def _read_ends(spec, dialect, tensor, what):
    def read(item):
        if _is_triple(item):
            t = tensor(item)
            if t is None:
                raise ValueError(f"{what}: layer {item[0]!r} has no node {item[1]}.")
            return t
        if isinstance(item, dict):
            return {key: read(value) for key, value in item.items()}
        if isinstance(item, list) and item:
            return [read(x) for x in item]
        raise ValueError(f"{what}: cannot read {str(item)[:200]}.")

    ends = read(spec)
    if dialect == KERAS2 and isinstance(ends, list) and len(ends) == 1:
        ends = ends[0]  # tf.keras 2 writes one tensor as a list of one
    return ends


__all__ = ["KERAS2", "KERAS3", "from_graph_config", "graph_config"]
