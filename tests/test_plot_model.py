"""`keras.utils.plot_model` / `model_to_dot`: the layer graph as pydot builds it.

The graphs are checked without rendering (pydot alone); rendering an image
runs only where Graphviz's `dot` program is on PATH, which CI does not install.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import kerasette as keras
from kerasette.utils import vis_utils

needs_pydot = pytest.mark.skipif(importlib.util.find_spec("pydot") is None,
                                 reason="pydot (the plot_model extra) is not installed")
needs_graphviz = pytest.mark.skipif(shutil.which("dot") is None,
                                    reason="Graphviz's `dot` program is not on PATH")


def _graph(dot):
    """`({node id: label}, {(source id, target id)})`, without pydot's
    default-attribute pseudo nodes, from the graph and its clusters."""
    nodes, edges = {}, set()
    for graph in [dot, *dot.get_subgraphs()]:
        for node in graph.get_nodes():
            if node.get_name() not in ("node", "edge", "graph"):
                nodes[node.get_name()] = (node.get("label") or "").strip('"')
        edges |= {(e.get_source(), e.get_destination()) for e in graph.get_edges()}
    return nodes, edges


def _id(layer) -> str:
    return str(id(layer))


def _two_input_skip_model():
    a = keras.Input(shape=(3,), name="a")
    b = keras.Input(shape=(2,), name="b")
    hidden = keras.layers.Dense(3, activation="relu", name="hidden")(b)
    joined = keras.layers.Concatenate(name="joined")([a, hidden])
    skip = keras.layers.Add(name="skip")([joined, keras.layers.Dense(6, name="inner")(joined)])
    out = keras.layers.Dense(1, name="out")(skip)
    return keras.Model([a, b], out, name="two_inputs")


@needs_pydot
def test_functional_nodes_are_layers_and_edges_are_connections():
    model = _two_input_skip_model()
    nodes, edges = _graph(keras.utils.model_to_dot(model))
    by_name = {layer.name: _id(layer) for layer in model.layers}
    assert set(nodes) == set(by_name.values())
    assert nodes[by_name["hidden"]] == "hidden|Dense"
    expected = {("a", "joined"), ("b", "hidden"), ("hidden", "joined"), ("joined", "inner"),
                ("joined", "skip"), ("inner", "skip"), ("skip", "out")}
    assert edges == {(by_name[s], by_name[t]) for s, t in expected}


@needs_pydot
def test_functional_labels_show_shapes_dtype_and_activations():
    model = _two_input_skip_model()
    dot = keras.utils.model_to_dot(model, show_shapes=True, show_dtype=True,
                                   show_layer_activations=True)
    nodes, _ = _graph(dot)
    label = nodes[_id(model.get_layer("hidden"))]
    assert label == "{hidden|{Dense|relu}|float32}|{input:|output:}|{{(None, 2)}|{(None, 3)}}"
    joined = nodes[_id(model.get_layer("joined"))]
    assert "{[(None, 3), (None, 3)]}|{(None, 6)}" in joined
    bare = _graph(keras.utils.model_to_dot(model, show_layer_names=False))[0]
    assert bare[_id(model.get_layer("out"))] == "Dense"


@needs_pydot
def test_shared_layer_is_one_node_with_an_edge_per_call():
    a, b = keras.Input(shape=(2,), name="a"), keras.Input(shape=(2,), name="b")
    shared = keras.layers.Dense(1, name="shared")
    model = keras.Model([a, b], keras.layers.Add(name="sum")([shared(a), shared(b)]))
    nodes, edges = _graph(keras.utils.model_to_dot(model, show_shapes=True))
    assert len(nodes) == 4
    ids = {layer.name: _id(layer) for layer in model.layers}
    assert edges == {(ids["a"], ids["shared"]), (ids["b"], ids["shared"]),
                     (ids["shared"], ids["sum"])}
    assert "{{(None, 2)}|{(None, 1)}}" in nodes[ids["shared"]]


@needs_pydot
def test_shared_layer_on_different_shapes_shows_multiple():
    a, b = keras.Input(shape=(2, 4), name="a"), keras.Input(shape=(3, 4), name="b")
    shared = keras.layers.Dense(1, name="shared")
    model = keras.Model([a, b], [shared(a), shared(b)])
    nodes, _ = _graph(keras.utils.model_to_dot(model, show_shapes=True))
    assert nodes[_id(shared)].endswith("{{multiple}|{multiple}}")


@needs_pydot
def test_sequential_is_a_chain_from_its_input_layer():
    model = keras.Sequential([keras.layers.Dense(4, input_shape=(3,), name="first"),
                              keras.layers.Dense(1, name="last")])
    nodes, edges = _graph(keras.utils.model_to_dot(model, show_shapes=True))
    chain = [model._input_layer, *model.layers]
    assert set(nodes) == {_id(layer) for layer in chain}
    assert edges == {(_id(x), _id(y)) for x, y in zip(chain, chain[1:])}
    assert nodes[_id(model.layers[0])] == (
        "{first|Dense}|{input:|output:}|{{(None, 3)}|{(None, 4)}}")


@needs_pydot
def test_unbuilt_model_is_refused():
    model = keras.Sequential([keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="not yet been built"):
        keras.utils.model_to_dot(model)


def _nested():
    inner = keras.Sequential([keras.layers.Dense(4, input_shape=(3,), name="in1"),
                              keras.layers.Dense(2, name="in2")], name="inner")
    x = keras.Input(shape=(3,), name="x")
    return keras.Model(x, keras.layers.Dense(1, name="head")(inner(x))), inner


@needs_pydot
def test_nested_model_is_one_box_unless_expanded():
    model, inner = _nested()
    x, head = model.get_layer("x"), model.get_layer("head")
    nodes, edges = _graph(keras.utils.model_to_dot(model))
    assert set(nodes) == {_id(x), _id(inner), _id(head)}
    assert nodes[_id(inner)] == "inner|Sequential"
    assert edges == {(_id(x), _id(inner)), (_id(inner), _id(head))}

    dot = keras.utils.model_to_dot(model, expand_nested=True)
    nodes, edges = _graph(dot)
    inner_chain = [inner._input_layer, *inner.layers]
    assert set(nodes) == {_id(x), _id(head)} | {_id(layer) for layer in inner_chain}
    assert [g.get_name() for g in dot.get_subgraphs()] == ["cluster_inner"]
    assert edges == {(_id(x), _id(inner_chain[0])), (_id(inner_chain[0]), _id(inner_chain[1])),
                     (_id(inner_chain[1]), _id(inner_chain[2])), (_id(inner_chain[2]), _id(head))}


@needs_pydot
def test_plot_model_writes_dot_source_without_graphviz(tmp_path):
    model = _two_input_skip_model()
    path = tmp_path / "model.dot"
    assert keras.utils.plot_model(model, to_file=path, show_shapes=True) is None
    text = path.read_text()
    assert text.startswith("digraph") and "joined|Concatenate" in text


def test_missing_pydot_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pydot", None)  # `import pydot` raises ImportError
    model = _two_input_skip_model()
    message = ("You must install pydot (`pip install pydot`) and install graphviz (see "
               "instructions at https://graphviz.gitlab.io/download/) for `plot_model` to work.")
    with pytest.raises(ImportError) as info:
        keras.utils.plot_model(model, to_file=tmp_path / "model.png")
    assert str(info.value) == message
    with pytest.raises(ImportError, match="pip install pydot"):
        keras.utils.model_to_dot(model)


@needs_pydot
def test_missing_graphviz_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(vis_utils, "_has_graphviz", lambda pydot: False)
    with pytest.raises(ImportError, match=r"Graphviz's `dot` program was not found.*graphviz"):
        keras.utils.plot_model(_two_input_skip_model(), to_file=tmp_path / "model.svg")
    assert not (tmp_path / "model.svg").exists()


@needs_graphviz
@pytest.mark.parametrize("extension, magic", [("png", b"\x89PNG"), ("svg", b"<?xml"),
                                              ("pdf", b"%PDF")])
@needs_pydot
def test_plot_model_renders_the_format_of_the_extension(tmp_path, extension, magic):
    path = tmp_path / f"model.{extension}"
    keras.utils.plot_model(_two_input_skip_model(), to_file=str(path), show_shapes=True)
    assert path.read_bytes().startswith(magic)


def test_import_kerasette_does_not_import_pydot(tmp_path):
    package_root = Path(keras.__file__).resolve().parent.parent
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(package_root), os.environ.get("PYTHONPATH")) if p))
    code = ("import sys, kerasette\n"
            "assert callable(kerasette.utils.plot_model)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydot', 'pyparsing')))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_layer_range_keeps_tf_keras_2s_position_and_is_refused():
    """tf.keras 2's `layer_range` sits before `show_layer_activations`; it is
    not supported, and says so before anything is drawn or written."""
    import inspect

    for fn in (keras.utils.model_to_dot, keras.utils.plot_model):
        names = list(inspect.signature(fn).parameters)
        assert names.index("layer_range") + 1 == names.index("show_layer_activations")
    x = keras.Input(shape=(2,))
    model = keras.Model(x, keras.layers.Dense(1)(x))
    with pytest.raises(NotImplementedError, match="layer_range"):
        keras.utils.plot_model(model, "never_written.png", layer_range=["dense", "dense"])
