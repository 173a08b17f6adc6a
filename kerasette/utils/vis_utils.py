"""`plot_model` and `model_to_dot`: a model's layer graph through pydot and Graphviz.

An optional extra (`pip install "kerasette[plot_model]"` for pydot, plus
Graphviz's `dot` program to render images), as in tf.keras 2: pydot is
imported on the first call, never by `import kerasette`.

This module sits in the low `utils` package, so it imports no model class:
it reads the graph that a functional model records (`_nodes_by_depth`,
each layer's `_inbound_nodes`) and the chain of a Sequential model
(`_layer_chain()`, `_input_layer`, `_output_shapes`).
"""

from __future__ import annotations

import os
import sys

INSTALL_MESSAGE = (
    "You must install pydot (`pip install pydot`) and install graphviz (see instructions at "
    "https://graphviz.gitlab.io/download/) for `plot_model` to work."
)
GRAPHVIZ_MESSAGE = (
    "pydot is installed, but Graphviz's `dot` program was not found on PATH, and "
    "`plot_model` needs it to render {fmt!r} files. Install Graphviz (see instructions at "
    "https://graphviz.gitlab.io/download/: e.g. `apt install graphviz`, `brew install "
    "graphviz` or `conda install graphviz`), or write the graph's source with "
    "to_file='model.dot', which needs no Graphviz."
)


def _import_pydot():
    try:
        import pydot
    except ImportError as error:
        raise ImportError(INSTALL_MESSAGE) from error
    return pydot


def _has_graphviz(pydot) -> bool:
    """Whether pydot can run Graphviz (rendering an empty graph, as tf.keras 2)."""
    try:
        pydot.Dot().create(format="png")
    except (OSError, getattr(pydot, "PydotException", OSError),
            getattr(pydot, "InvocationException", OSError)):
        return False
    return True


# -- the graph, read from the model ------------------------------------------------------
def _is_functional(layer) -> bool:
    return hasattr(layer, "_nodes_by_depth")


def _is_sequential(layer) -> bool:
    return hasattr(layer, "_layer_chain") and hasattr(layer, "_output_shapes")


def _shapes(tensors) -> list:
    return [tuple(t.shape) for t in tensors]


def _model_graph(model):
    """The boxes and wires of `model`, one level deep.

    Returns:
        `(boxes, edges, entries, exits)`: `boxes` is a list of
        `(layer, input_shapes, output_shapes)` (each a list of shapes, or
        `"multiple"` for a shared layer called on different shapes);
        `edges` is a list of `(source layer, output index, target layer,
        input position)`; `entries` are the layers that take the model's
        inputs and `exits` the `(layer, output index)` that give its
        outputs, in order.
    """
    if _is_functional(model):
        graph_nodes = {node for nodes in model._nodes_by_depth.values() for node in nodes}
        boxes, edges = [], []
        for layer in model.layers:
            calls = [node for node in layer._inbound_nodes if node in graph_nodes]
            ins = [_shapes(n.output_tensors if n.is_input else n.input_tensors) for n in calls]
            outs = [_shapes(n.output_tensors) for n in calls]
            same = all(i == ins[0] for i in ins) and all(o == outs[0] for o in outs)
            boxes.append((layer, ins[0] if same and calls else "multiple",
                          outs[0] if same and calls else "multiple"))
            for node in calls:
                for position, tensor in enumerate(node.input_tensors):
                    source, _, index = tensor._keras_history
                    edges.append((source, index, layer, position))
        entries = [t._keras_history[0] for t in model.inputs]
        exits = [t._keras_history[::2] for t in model.outputs]
        return boxes, edges, entries, exits

    if _is_sequential(model):
        chain = list(model._layer_chain())
        shapes = [tuple(s) for s in model._output_shapes]
        first_in = tuple(model._build_input_shape) if model._build_input_shape else None
        boxes = [(layer, [shape], [out])
                 for layer, shape, out in zip(chain, [first_in] + shapes, shapes)]
        if model._input_layer is not None:
            shape = tuple(model._input_layer._batch_input_shape)
            boxes.insert(0, (model._input_layer, [shape], [shape]))
            chain.insert(0, model._input_layer)
        edges = [(a, 0, b, 0) for a, b in zip(chain, chain[1:])]
        return boxes, edges, chain[:1], [(chain[-1], 0)] if chain else []

    # A subclassed model: no graph to read, one box (as tf.keras 2).
    return [(model, "multiple", "multiple")], [], [model], [(model, 0)]


# -- labels ---------------------------------------------------------------------------------
def _format_shapes(shapes) -> str:
    if shapes == "multiple":
        return "multiple"
    text = ", ".join(str(s) for s in shapes) if len(shapes) == 1 else str(shapes)
    # Braces, bars and angle brackets are markup in a Graphviz record label.
    for char in "{}|<>":
        text = text.replace(char, "\\" + char)
    return text


def _activation_name(activation) -> str:
    return getattr(activation, "name", None) or getattr(activation, "__name__", str(activation))


def _label(layer, ins, outs, show_shapes, show_dtype, show_layer_names,
           show_layer_activations, show_trainable) -> str:
    """tf.keras 2's record label: `name|Class`, then dtype, then shapes."""
    label = type(layer).__name__
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None:
        label = f"{{{label}|{_activation_name(activation)}}}"
    if show_layer_names:
        label = f"{layer.name}|{label}"
    if show_dtype:
        label = f"{label}|{getattr(layer, 'dtype', None) or '?'}"
    if show_shapes:
        ins, outs = _format_shapes(ins), _format_shapes(outs)
        label = f"{{{label}}}|{{input:|output:}}|{{{{{ins}}}|{{{outs}}}}}"
    if show_trainable:
        label = f"{'T' if layer.trainable else 'NT'}|{label}"
    return label


# -- public ---------------------------------------------------------------------------------
def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True, rankdir="TB",
                 expand_nested=False, dpi=96, subgraph=False, layer_range=None,
                 show_layer_activations=False, show_trainable=False):
    """Converts a model to a `pydot.Dot` graph: one box per layer, one
    arrow per connection.

    Needs pydot (`pip install pydot`), not Graphviz.

    Args:
        model: a built `Sequential` or functional `Model`.
        show_shapes: whether to show each layer's input and output shapes.
        show_dtype: whether to show each layer's dtype.
        show_layer_names: whether to show each layer's name.
        rankdir: Graphviz's `rankdir`: `"TB"` plots top to bottom, `"LR"`
            left to right.
        expand_nested: whether to draw the layers of a model used as a layer
            (in a dashed cluster) instead of one box for it.
        dpi: dots per inch.
        subgraph: whether to return a `pydot.Cluster` (for nested models).
        layer_range: tf.keras 2's slice of the layers to draw; only `None`
            (all of them) is supported, so that arguments passed by position
            keep tf.keras 2's order.
        show_layer_activations: whether to show the activation of layers
            that have one.
        show_trainable: whether to mark each layer `T` (trainable) or `NT`.

    Returns:
        A `pydot.Dot` (or, with `subgraph=True`, a `pydot.Cluster`). Each
        node is named `str(id(layer))`.

    Raises:
        ValueError: if the model is not built.
        ImportError: if pydot is not installed.
        NotImplementedError: for a `layer_range`.

    Example:
        >>> import kerasette as keras
        >>> x = keras.Input(shape=(4,), name="x")
        >>> model = keras.Model(x, keras.layers.Dense(1, name="out")(x))
        >>> dot = keras.utils.model_to_dot(model, show_shapes=True)  # doctest: +SKIP
        >>> [node.get("label") for node in dot.get_nodes()[1:]]  # doctest: +SKIP
        ['{x|InputLayer}|{input:|output:}|{{(None, 4)}|{(None, 4)}}',
         '{out|Dense}|{input:|output:}|{{(None, 4)}|{(None, 1)}}']
    """
    if layer_range is not None:
        raise NotImplementedError(f"model_to_dot draws every layer: layer_range is not supported "
                                  f"yet. Received: layer_range={layer_range!r}")
    return _to_dot(model, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi,
                   subgraph, show_layer_activations, show_trainable)[0]


def _to_dot(model, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested, dpi,
            subgraph, show_layer_activations, show_trainable):
    """`model_to_dot`'s graph, with the ids of the nodes that take the
    model's inputs and give its outputs (where an enclosing graph wires a
    nested model's cluster in)."""
    if not model.built:
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` "
            f"or by calling the model on a batch of data. Received: model {model.name!r} "
            "with no input shape."
        )
    pydot = _import_pydot()
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set_node_defaults(shape="record")

    boxes, edges, entries, exits = _model_graph(model)
    options = dict(show_shapes=show_shapes, show_dtype=show_dtype,
                   show_layer_names=show_layer_names,
                   show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    expanded: dict = {}  # nested model drawn as a cluster -> (entry ids, exit ids)
    for layer, ins, outs in boxes:
        if expand_nested and (_is_functional(layer) or _is_sequential(layer)) and layer.built:
            cluster, entry_ids, exit_ids = _to_dot(layer, rankdir=rankdir, expand_nested=True,
                                                   dpi=dpi, subgraph=True, **options)
            dot.add_subgraph(cluster)
            expanded[layer] = entry_ids, exit_ids
        else:
            dot.add_node(pydot.Node(str(id(layer)), label=_label(layer, ins, outs, **options)))

    def sources(layer, index):
        if layer not in expanded:
            return [str(id(layer))]
        exit_ids = expanded[layer][1]
        return [exit_ids[index]] if index < len(exit_ids) else exit_ids

    def targets(layer, position):
        if layer not in expanded:
            return [str(id(layer))]
        entry_ids = expanded[layer][0]
        return [entry_ids[position]] if position < len(entry_ids) else entry_ids

    for source, index, target, position in edges:
        for src in sources(source, index):
            for dst in targets(target, position):
                if not dot.get_edge(src, dst):
                    dot.add_edge(pydot.Edge(src, dst))
    entry_ids = [i for layer in entries for i in targets(layer, 0)]
    exit_ids = [i for layer, index in exits for i in sources(layer, index)]
    return dot, entry_ids, exit_ids


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=True, rankdir="TB", expand_nested=False, dpi=96,
               layer_range=None, show_layer_activations=False, show_trainable=False):
    """Draws a model's layer graph to a file, through pydot and Graphviz.

    Args:
        model: a built `Sequential` or functional `Model`.
        to_file: the file to write; its extension picks the format (`.png`,
            `.svg`, `.pdf`, `.jpg`, ...; `.dot` writes the graph's source,
            which needs pydot but not Graphviz). No extension means PNG.
        show_shapes, show_dtype, show_layer_names, rankdir, expand_nested,
            dpi, layer_range, show_layer_activations, show_trainable: as
            `model_to_dot` (`layer_range` must be None).

    Returns:
        An `IPython.display.Image` of the file when running under IPython
        (so a notebook shows the plot), else None.

    Raises:
        ImportError: if pydot is not installed, or Graphviz's `dot` program
            is not found (for any format but `.dot`), saying what to install.
        ValueError: if the model is not built.

    Example:
        >>> import kerasette as keras
        >>> a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(2,), name="b")
        >>> joined = keras.layers.Concatenate()([a, keras.layers.Dense(3)(b)])
        >>> model = keras.Model([a, b], keras.layers.Dense(1)(joined))
        >>> keras.utils.plot_model(model, "model.png", show_shapes=True)  # doctest: +SKIP
    """
    if layer_range is not None:
        raise NotImplementedError(f"plot_model draws every layer: layer_range is not supported "
                                  f"yet. Received: layer_range={layer_range!r}")
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    # pydot's "raw" writes the dot source itself, without running Graphviz.
    fmt = "raw" if extension in ("dot", "gv") else extension
    pydot = _import_pydot()
    if fmt != "raw" and not _has_graphviz(pydot):
        raise ImportError(GRAPHVIZ_MESSAGE.format(fmt=extension))
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable)
    dot.write(to_file, format=fmt)
    # Only inside IPython (already imported there): importing it is slow.
    if extension in ("png", "jpg", "jpeg", "gif") and "IPython" in sys.modules:
        from IPython import display

        return display.Image(filename=to_file)
    return None


__all__ = ["model_to_dot", "plot_model"]
