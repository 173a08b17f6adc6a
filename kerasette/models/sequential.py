"""`Sequential`: a plain stack of layers, each feeding the next."""

from __future__ import annotations

import json

import numpy as np

from kerasette import layers as layers_module
from kerasette.layers.base import Layer
from kerasette.layers.core import InputLayer, KerasInput
from kerasette.layers.symbolic import output_shape as _output_shape
from kerasette.layers.symbolic import record_call
from kerasette.models.model import Model
from kerasette.utils.dialects import KERAS2_VERSION
from kerasette.utils.registry import model_class, register_model_class


# Registered by name: the loaders find the class here without importing it.
@register_model_class("Sequential")
class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: optional list of layers (the first may be `kerasette.Input`).
        name: model name.

    Example:
        >>> import kerasette as keras
        >>> model = keras.Sequential([
        ...     keras.layers.Dense(512, activation="relu", input_shape=(784,)),
        ...     keras.layers.Dense(128, activation="relu"),
        ...     keras.layers.Dense(10, activation="softmax"),
        ... ])
        >>> model.count_params()
        468874
    """

    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._layers: list[Layer] = []
        self.__dict__["_sublayers"] = self._layers
        self._input_layer: InputLayer | None = None
        self._output_shapes: list = []
        # The graph, once the input shape is known: the input tensor, and
        # each layer's symbolic output in this model (see `_connect`).
        self._graph_input = None
        self._graph_outputs: list = []
        self._names: dict = {}  # layer name -> layer, for add's O(1) uniqueness check
        if layers is not None and not isinstance(layers, (list, tuple)):
            layers = [layers]  # one layer, as tf.keras 2 accepts
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self) -> list:
        """The layers, without the InputLayer (as in Keras)."""
        return list(self._layers)

    def add(self, layer) -> None:
        """Appends a layer (or a `kerasette.Input`) to the stack.

        Costs O(1) whatever the model's depth: a model whose input shape is
        known builds only the new layer, from the last layer's output shape
        (rebuilding the stack on every add made a loop of n adds O(n^2)).
        If the new layer cannot be built for that shape, it is not added
        and the model stays as it was.
        """
        if isinstance(layer, KerasInput):
            layer = layer._input_layer
        if not isinstance(layer, Layer):
            raise TypeError(
                "The added layer must be an instance of class Layer. "
                f"Received: layer={layer!r} of type {type(layer).__name__}."
            )
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError("An InputLayer can only be the first layer of a Sequential model.")
            self._input_layer = layer
            self.built = False
            self.build()
            return
        if self._has_layer_named(layer.name):
            raise ValueError(
                "All layers added to a Sequential model should have unique names. "
                f"Name {layer.name!r} is already the name of a layer in this model."
            )
        was_built, input_layer = self.built, self._input_layer
        shape = _declared_input_shape(layer) if not self._layers else None
        if shape is not None and self._input_layer is None:
            # A text layer's input takes strings, as tf.keras 2 gives it the layer's dtype.
            text = "string" if getattr(layer, "dtype", None) == "string" else None
            self._input_layer = InputLayer(batch_input_shape=shape, name=f"{layer.name}_input",
                                           dtype=text)
        self._layers.append(layer)
        self._names[layer.name] = layer
        try:
            if was_built and self._input_layer is not None:
                last = self._output_shapes[-1] if self._output_shapes else self._build_input_shape
                self._build_layer(layer, last)
            else:
                self.built = False
                if self._input_layer is not None:
                    self.build()
        except BaseException:
            self._layers.pop()
            self._names.pop(layer.name, None)
            self._input_layer = input_layer
            if was_built:
                self.built = True
            raise

    def _has_layer_named(self, name) -> bool:
        """Whether a layer of the stack is named `name`, in O(1): `_names`
        holds each layer under the name it had when added. A layer renamed
        since makes its entry stale; the index is then rebuilt once."""
        layer = self._names.get(name)
        if layer is not None and layer.name != name:
            self._names = {kept.name: kept for kept in self._layers}
            layer = self._names.get(name)
        return layer is not None

    def pop(self) -> Layer:
        """Removes and returns the last layer."""
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self._names = {kept.name: kept for kept in self._layers}
        if self.built and len(self._output_shapes) > len(self._layers):
            # The rest of the stack and its graph stay as they were.
            self._output_shapes.pop()
            if len(self._graph_outputs) > len(self._layers):
                self._graph_outputs.pop()
            if not self._layers and self._input_layer is None:
                self.built = False
        else:
            self.built = False
            if self._layers and self._input_layer is not None:
                self.build()
        return layer

    def build(self, input_shape=None) -> None:
        """Builds every layer for `input_shape` (batch first, `None` allowed)."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("You must provide an `input_shape` argument to build "
                                 "a Sequential model without an input.")
            input_shape = self._input_layer._batch_input_shape
        shape = (None,) + tuple(input_shape)[1:]
        self._graph_input = self._graph_input_for(tuple(input_shape))
        self._output_shapes, self._graph_outputs = [], []
        for layer in self._layers:
            shape = self._build_layer(layer, shape)
        self.built = True
        self._build_input_shape = (None,) + tuple(input_shape)[1:]

    def _graph_input_for(self, input_shape):
        """The symbolic tensor the graph starts from: the InputLayer's, or,
        for a model built from a shape alone, a new InputLayer's that stays
        out of the config (tf.keras 2 keeps such a model's config free of
        an InputLayer, and records `build_input_shape` instead)."""
        if self._input_layer is not None:
            return self._input_layer._inbound_nodes[0].outputs
        first = self._layers[0].name if self._layers else self.name
        inferred = InputLayer(batch_input_shape=input_shape, name=f"{first}_input")
        return inferred._inbound_nodes[0].outputs

    def _build_layer(self, layer, shape):
        """Builds one layer of the stack for input `shape`, connects it to
        the graph, and records its output shape, which it returns."""
        layer._maybe_build(shape)
        shape = _output_shape(layer, shape)
        source = self._graph_outputs[-1] if self._graph_outputs else self._graph_input
        if source is not None and len(self._graph_outputs) == len(self._output_shapes):
            self._connect(layer, source, shape)
        self._output_shapes.append(shape)
        if layer._build_output_shape is None:
            layer._build_output_shape = shape
        return shape

    def _connect(self, layer, source, shape):
        """Records the built `layer`'s call on the symbolic `source` (its
        output of `shape`), as Keras builds a Sequential's graph, so
        `layer.output` and `model.outputs` exist.

        A layer this model connected before (a rebuild: `build` again,
        `pop` then `add`) gets its new node in its old node's place: its
        other nodes keep their indices, and `layer.output` stays defined.
        """
        nodes = layer.__dict__.get("_inbound_nodes") or []
        mine = [i for i, node in enumerate(nodes) if getattr(node, "_sequential", None) is self]
        out = record_call(layer, source, (source.shape[0],) + tuple(shape)[1:])
        node = layer._inbound_nodes[-1]
        node._sequential = self
        if mine:
            slot = mine[0]
            layer._inbound_nodes.pop()
            layer._inbound_nodes[slot] = node
            for i, tensor in enumerate(node.output_tensors):
                tensor._keras_history = (layer, slot, i)
        self._graph_outputs.append(out)
        return out

    # -- the graph's ends: a Sequential with a known input is a functional model -------------
    @property
    def inputs(self) -> list:
        """`[input tensor]` once the input shape is known, as in Keras;
        None before (tf.keras 2)."""
        return [self._graph_input] if self.built and self._graph_input is not None else None

    @property
    def outputs(self) -> list:
        """`[output tensor]` once the input shape is known, else None."""
        if not self.built or self._graph_input is None:
            return None
        return [self._graph_outputs[-1] if self._graph_outputs else self._graph_input]

    @property
    def input(self):
        """The model's symbolic input (a `KerasTensor`), to build a new
        model from part of this one, as in
        `keras.Model(model.input, model.layers[-2].output)`.

        Raises:
            AttributeError: if the input shape is not known yet.

        Example:
            >>> import kerasette as keras
            >>> model = keras.Sequential([keras.layers.Dense(8, input_shape=(4,)),
            ...                           keras.layers.Dense(1)])
            >>> features = keras.Model(model.input, model.layers[0].output)
            >>> features.output_shape
            (None, 8)
        """
        if self.inputs is None:
            raise AttributeError(self._not_connected("input"))
        return self.inputs[0]

    @property
    def output(self):
        """The model's symbolic output (see `input`)."""
        if self.outputs is None:
            raise AttributeError(self._not_connected("output"))
        return self.outputs[0]

    def _not_connected(self, what) -> str:
        return (f'Sequential model "{self.name}" has no {what} yet: its input shape is not '
                "known. Give the first layer an `input_shape` (or start with keras.Input), "
                "or build the model with model.build(input_shape) or by calling it on data.")

    @property
    def input_shape(self) -> tuple:
        """The model's input shape, batch first (`None` unless a batch size
        was declared), as tf.keras 2's `model.input_shape`.

        Raises:
            AttributeError: if the input shape is not known yet (no
                `input_shape` given and the model never built).

        Example:
            >>> import kerasette as keras
            >>> model = keras.Sequential([keras.layers.Dense(8, input_shape=(4,)),
            ...                           keras.layers.Dense(1)])
            >>> model.input_shape, model.output_shape
            ((None, 4), (None, 1))
        """
        if self._input_layer is not None:
            return self._input_layer.input_shape
        if self.built and self._build_input_shape is not None:
            return (None,) + tuple(self._build_input_shape)[1:]
        raise AttributeError(
            f'The layer "{self.name}" has never been called and thus has no defined input '
            "shape. Give the first layer an `input_shape` (or start with keras.Input), "
            "or build the model with model.build(input_shape) or by calling it on data."
        )

    @property
    def output_shape(self) -> tuple:
        """The model's output shape, batch first, as tf.keras 2's
        `model.output_shape`.

        Raises:
            AttributeError: if the input shape is not known yet.
        """
        if not self.built:
            raise AttributeError(
                f'The layer "{self.name}" has never been called and thus has no defined '
                "output shape. Give the first layer an `input_shape` (or start with "
                "keras.Input), or build the model first."
            )
        batch = self.input_shape[0]
        last = self._output_shapes[-1] if self._output_shapes else self._build_input_shape
        return (batch,) + tuple(last)[1:]

    def call(self, inputs, training=None):
        expected = self._build_input_shape
        if expected is not None and len(expected) == inputs.ndim and any(
                e is not None and e != r for e, r in zip(expected[1:], inputs.shape[1:])):
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: "
                f"expected shape={expected}, found shape={inputs.shape}."
            )
        x = inputs
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = _output_shape(layer, shape)
        return shape

    def _summary_rows(self):
        return [(layer.name, type(layer).__name__, shape, layer.count_params())
                for layer, shape in zip(self._layers, self._output_shapes)]

    # -- what the trainer's input checks and direct step read (see Trainer) ------------
    def _declared_input_shape(self):
        return tuple(self._build_input_shape) if self.built else None

    def _checked_output_shape(self, x=None):
        if not self.built:
            if x is None:
                return None
            features = tuple(x.shape[1:]) or (1,)  # 1-D x becomes one feature per sample
            self.build((None,) + features)  # as fit would
        return tuple(self._output_shapes[-1]) if self._output_shapes else None

    def _layer_chain(self):
        return self.layers

    def _x_dtype(self):
        """Integer ids stay integers for a stack that starts with an
        Embedding (or an integer Input); other stacks take the model's
        float dtype, batch by batch."""
        first = self._layers[0] if self._layers else None
        if (self._input_layer is not None and self._input_layer.dtype == "string") or (
                first._x_dtype() == "string" if isinstance(first, Model)
                else getattr(first, "_string_input", False)):
            return "string"  # text stays on the host (utils/string_data.py)
        if self._input_layer is not None and np.dtype(self._input_layer.dtype).kind in "iu":
            return self._input_layer.dtype
        if self._layers and getattr(self._layers[0], "_integer_input", False):
            return "int32"
        return self.dtype

    # -- config ----------------------------------------------------------------------
    def get_config(self) -> dict:
        """`{"name": ..., "layers": [...]}` in tf.keras 2's dialect, InputLayer first."""
        entries = []
        if self._input_layer is not None:
            entries.append(layers_module.serialize(self._input_layer))
        entries += [layers_module.serialize(layer) for layer in self._layers]
        return {"name": self.name, "layers": entries}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds a Sequential from `get_config()` (tf.keras 2 or Keras 3 form)."""
        if isinstance(config, list):  # pre-2.2.5 Keras: the bare list of layers
            name, entries = None, config
        elif isinstance(config, dict) and "layers" in config:
            name, entries = config.get("name"), config["layers"]
        else:
            raise ValueError("A Sequential config must be a dict with 'name' and 'layers' "
                             f"keys. Received: {str(config)[:200]}")
        model = cls(name=name)
        for entry in entries:
            model.add(layers_module.deserialize(entry, custom_objects=custom_objects))
        if not model.built and isinstance(config, dict) and config.get("build_input_shape"):
            model.build(tuple(config["build_input_shape"]))
        return model

    def to_json(self, **kwargs) -> str:
        """The model's config as a JSON string (`json.dumps` kwargs pass through)."""
        return json.dumps({
            "class_name": "Sequential",
            "config": self.get_config(),
            "keras_version": KERAS2_VERSION,
            "backend": "tensorflow",
        }, **kwargs)


def _declared_input_shape(layer):
    """The batch input shape a first layer brings to a Sequential model: its
    own `input_shape`, or, for a nested model, its known input shape (so
    that `Sequential([base_model, Dense(1)])` is built at once, as tf.keras
    2 builds it from the nested model's input). None when unknown."""
    if layer._batch_input_shape:
        return layer._batch_input_shape
    if isinstance(layer, Model) and layer.built:
        try:
            return layer.input_shape
        except AttributeError:  # a subclassed model built without an input shape
            return None
    return None


def model_from_json(json_string, custom_objects=None):
    """Rebuilds a model (without weights) from `model.to_json()`.

    Example:
        >>> import kerasette as keras
        >>> m = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])
        >>> keras.models.model_from_json(m.to_json()).count_params()
        8
    """
    try:
        spec = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as err:
        raise ValueError(f"model_from_json expects a JSON string from to_json(): {err}") from err
    name = spec.get("class_name") if isinstance(spec, dict) else type(spec).__name__
    cls = model_class(name) if isinstance(name, str) else None  # Sequential, Functional
    if cls is None:
        raise ValueError("model_from_json can rebuild Sequential and functional models. "
                         f"Received class_name={name!r}")
    return cls.from_config(spec["config"], custom_objects=custom_objects)


__all__ = ["Sequential", "model_from_json"]
