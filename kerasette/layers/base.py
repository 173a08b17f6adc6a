"""`Layer`: the base class of every layer and model.

A layer stores its configuration in `__init__`, creates its weights in
`build(input_shape)` with `add_weight`, and computes in `call(inputs,
training=None)` with `kerasette.ops`. `__call__` moves host inputs to the
device once, casts them to the layer's dtype, builds on first use and calls.
Called on symbolic tensors (`keras.Input` and what layers return for them),
it builds from their shapes and records a node of the layer graph instead
(`kerasette.layers.symbolic`), touching no data.
"""

from __future__ import annotations

import functools
import inspect
import numbers

import numpy as np

from kerasette import backend as _backend
from kerasette import ops
from kerasette.autodiff.tensor import Tensor, Variable
from kerasette.layers.node import is_symbolic
from kerasette.utils import weight_budget
from kerasette.utils.naming import to_snake_case, unique_name
from kerasette.utils.string_data import STRING, is_string_data

def standardize_dtype(dtype) -> str:
    """Accepts a dtype name, a NumPy dtype, or Keras 3's DTypePolicy dict."""
    if dtype is None:
        return _backend.floatx()
    if isinstance(dtype, dict):  # Keras 3: {"class_name": "DTypePolicy", "config": {"name": ...}}
        dtype = (dtype.get("config") or {}).get("name", _backend.floatx())
    if isinstance(dtype, str) and dtype == STRING or dtype in (str, np.str_, np.bytes_):
        return STRING  # text inputs (tf.string), kept on the host (utils/string_data.py)
    try:
        return np.dtype(dtype).name
    except TypeError as err:
        raise ValueError(f"Invalid dtype: {dtype!r}. Expected e.g. 'float32'.") from err


def _shape_tuple(shape, what, positive=False):
    """`shape` as a tuple of ints and Nones (an int `n` means `(n,)`).

    Args:
        shape: what the user passed, or None.
        what: the argument's name, for messages.
        positive: whether sizes must be at least 1 (input shapes), rather
            than at least 0 (weight shapes).

    Raises:
        ValueError: for entries that are not integers (`2.5`, `"3"`) or
            are too small, naming the argument.
    """
    if shape is None:
        return None
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    dims = None if isinstance(shape, str) or not hasattr(shape, "__iter__") else tuple(shape)
    if dims is None or any(d is not None and (isinstance(d, bool) or not isinstance(
            d, numbers.Integral)) for d in dims):
        raise ValueError(f"Argument `{what}` must be a tuple of integers (or None), e.g. "
                         f"(784,). Received: {what}={shape!r}")
    smallest = 1 if positive else 0
    if any(d is not None and d < smallest for d in dims):
        sizes = "positive" if positive else "non-negative"
        raise ValueError(f"Argument `{what}` must hold {sizes} sizes (or None). "
                         f"Received: {what}={shape!r}")
    return tuple(None if d is None else int(d) for d in dims)


class Layer:
    """Base class of layers (and models), with Keras's contract.

    Subclasses override `build(input_shape)` to create weights with
    `add_weight`, and `call(inputs, training=None)` to compute with
    `kerasette.ops`.

    Args:
        trainable: whether the layer's weights are trained.
        name: unique name; defaults to the snake-case class name with a
            counter (`dense`, `dense_1`, ...).
        dtype: dtype of weights and computations (default `floatx()`).
        input_shape: shape of one sample (without the batch), for the first
            layer of a model.
        batch_input_shape / batch_shape: the full input shape, batch first.
        batch_size: fixed batch size, with `input_shape`.

    Example:
        >>> import kerasette as keras
        >>> class Scale(keras.layers.Layer):
        ...     def build(self, input_shape):
        ...         self.w = self.add_weight(name="w", shape=(input_shape[-1],),
        ...                                  initializer="ones")
        ...     def call(self, inputs):
        ...         return inputs * self.w
        >>> Scale()(keras.ops.ones((2, 3))).shape
        (2, 3)
    """

    def __init_subclass__(cls, **kwargs):
        # Whoever calls `build` (the first call, a model, or the user before
        # `set_weights`), the layer is built after it, once: as Keras 3 wraps
        # `build`. Without this, a subclass's `build` that does not call
        # `super().build` left `built` False, and the first call built a
        # second set of weights over the ones the user had set.
        super().__init_subclass__(**kwargs)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_marks_built", False):
            cls.build = _marking_built(build)

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None,
                 batch_input_shape=None, batch_shape=None, batch_size=None,
                 input_dim=None, **kwargs):
        # Keras 3 configs carry keys we accept and ignore.
        for key in ("build_config", "module", "registered_name", "autocast"):
            kwargs.pop(key, None)
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}: keyword argument(s) not understood: "
                f"{sorted(kwargs)}"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Layer name must be a string. Received: name={name!r}")
        self.__dict__.setdefault("_sublayers", [])
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        self.dtype = standardize_dtype(dtype)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if input_shape is not None:
            shape = _shape_tuple(input_shape, "input_shape", positive=True)
            batch_input_shape = (batch_size,) + shape
        batch_input_shape = batch_input_shape if batch_input_shape is not None else batch_shape
        self._batch_input_shape = _shape_tuple(batch_input_shape, "batch_input_shape",
                                               positive=True)
        self._trainable_weights: list[Variable] = []
        self._non_trainable_weights: list[Variable] = []
        self._regularized: list = []  # (regularizer, variable)
        self._call_losses: list = []
        self.built = False
        self._build_input_shape = None

    # -- sub-layer tracking (custom layers and subclassed models) ----------------
    def __setattr__(self, name, value):
        if isinstance(value, Layer) and not name.startswith("_") and value is not self:
            subs = self.__dict__.setdefault("_sublayers", [])
            if all(value is not s for s in subs):
                subs.append(value)
        object.__setattr__(self, name, value)

    # -- weights ---------------------------------------------------------------------
    def add_weight(self, name=None, shape=None, dtype=None, initializer=None,
                   regularizer=None, trainable=True, constraint=None):
        """Creates a variable owned by this layer.

        Args:
            name: the weight's name (`kernel`, `bias`, ...).
            shape: its shape.
            dtype: defaults to the layer's dtype.
            initializer: name, instance or callable; defaults to
                `glorot_uniform` for floats, `zeros` otherwise (as tf.keras 2).
            regularizer: optional; its value joins `layer.losses`.
            trainable: whether optimizers update it.
            constraint: optional; a name, config or callable
                (`kerasette.constraints.get`), stored on the variable as
                `variable.constraint` and applied by the optimizer after
                each update, as in tf.keras 2.

        Returns:
            The new `Variable`.
        """
        from kerasette import constraints, initializers, regularizers

        constraint = constraints.get(constraint)
        dtype = standardize_dtype(dtype or self.dtype)
        shape = _shape_tuple(shape if shape is not None else (), "shape")
        # While a model is rebuilt from a file: claimed before it is allocated.
        weight_budget.charge(self.name, name, shape)
        if initializer is None:
            initializer = "glorot_uniform" if np.dtype(dtype).kind == "f" else "zeros"
        init = initializers.get(initializer)
        value = init(shape, dtype=dtype)
        var = Variable(value, trainable=trainable, name=f"{self.name}/{name}:0", dtype=dtype)
        var.constraint = constraint
        (self._trainable_weights if trainable else self._non_trainable_weights).append(var)
        if regularizer is not None:
            self._regularized.append((regularizers.get(regularizer), var))
        return var

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in self._sublayers:
            layer.trainable = value

    @property
    def trainable_weights(self) -> list:
        if not self.trainable:
            return []
        own = list(self._trainable_weights)
        for layer in self._sublayers:
            own += layer.trainable_weights
        return own

    @property
    def non_trainable_weights(self) -> list:
        if not self.trainable:
            return self.weights
        own = list(self._non_trainable_weights)
        for layer in self._sublayers:
            own += layer.non_trainable_weights
        return own

    @property
    def weights(self) -> list:
        """All weights: this layer's trainable then non-trainable ones, then
        each sub-layer's, in tf.keras 2's `get_weights` order."""
        out = self._trainable_weights + self._non_trainable_weights
        for layer in self._sublayers:
            out = out + layer.weights
        return out

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights

    def get_weights(self) -> list:
        """The weights as NumPy arrays."""
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights) -> None:
        """Sets the weights from NumPy arrays, in `get_weights` order.

        Raises:
            ValueError: if the number of arrays or a shape does not match;
                nothing is changed in that case.
        """
        params = self.weights
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(
                f"Layer {self.name!r} expects {len(params)} weight arrays "
                f"({', '.join(v.name for v in params) or 'none'}), but set_weights "
                f"received {len(weights)}."
            )
        arrays = []
        for v, w in zip(params, weights):
            w = w.numpy() if isinstance(w, Tensor) else np.asarray(w)
            if tuple(w.shape) != v.shape:
                raise ValueError(
                    f"Layer {self.name!r}: weight {v.name!r} has shape {v.shape}, "
                    f"but set_weights received an array of shape {tuple(w.shape)}."
                )
            if w.dtype.kind not in "biuf":
                w = _numeric_weight(self, v, w)
            arrays.append(w)
        for v, w in zip(params, arrays):  # all checked first: no half-applied update
            v.assign(w)

    def count_params(self) -> int:
        """Total number of scalars in the weights.

        Raises:
            ValueError: if the layer is not built yet.
        """
        if not self.built:
            raise ValueError(
                f"You tried to call count_params on layer {self.name!r}, but the "
                "layer isn't built. Build it first by calling it on data or with "
                "build(input_shape)."
            )
        return int(sum(int(np.prod(v.shape)) for v in self.weights))

    @property
    def losses(self) -> list:
        """Regularization losses of the weights (and of the last call), as tensors."""
        out = [reg(v) for reg, v in self._regularized]
        out += self._call_losses
        for layer in self._sublayers:
            out += layer.losses
        return out

    def add_loss(self, loss) -> None:
        """Adds a loss tensor computed in `call` (cleared at the next call)."""
        self._call_losses.append(loss)

    # -- building and calling ------------------------------------------------------------
    def build(self, input_shape) -> None:
        """Creates the weights. The default creates none."""
        self.built = True

    def _maybe_build(self, input_shape) -> None:
        if not self.built:
            if not isinstance(input_shape, dict) and not (
                    input_shape and isinstance(input_shape[0], (list, tuple))):
                input_shape = tuple(input_shape)  # one shape (lists of shapes stay lists)
            self.build(input_shape)
            self.built = True
            self._build_input_shape = input_shape

    def call(self, inputs, training=None):
        """The computation; the default is the identity."""
        return inputs

    def compute_output_shape(self, input_shape):
        """Output shape for `input_shape` (batch first; `None` unknown)."""
        return tuple(input_shape)

    # Whether the layer takes host arrays of strings (the text layers, and
    # models, which pass them on to their first layer).
    _string_input = False

    def _convert_input(self, inputs):
        # A list of tensors or arrays is several inputs, each converted on
        # its own (converting the list would stack them into one tensor); a
        # nested list of numbers is one input.
        if isinstance(inputs, (list, tuple)) and inputs and all(
                isinstance(t, Tensor) or hasattr(t, "shape") for t in inputs):
            return [self._convert_input(t) for t in inputs]
        if not isinstance(inputs, Tensor) and is_string_data(inputs):
            if self._string_input:
                return np.asarray(inputs)  # stays on the host (utils/string_data.py)
            raise TypeError(
                f"Layer {self.name!r} ({type(self).__name__}) cannot take strings. Received: "
                f"an array of dtype {np.asarray(inputs).dtype}. Turn text into numbers first, "
                "e.g. with a TextVectorization or StringLookup layer before this one.")
        x = inputs if isinstance(inputs, Tensor) else ops.convert_to_tensor(inputs)
        if x.dtype != self.dtype and x.dtype.kind in "fiub" and np.dtype(self.dtype).kind == "f":
            x = ops.cast(x, self.dtype)
        return x

    def __call__(self, inputs, training=None, **kwargs):
        # One isinstance check on the hot path: real tensors go straight on.
        if not isinstance(inputs, Tensor) and is_symbolic(inputs):
            from kerasette.layers.symbolic import call_symbolic  # imports this module

            return call_symbolic(self, inputs, training, kwargs)
        mask = None
        expects_mask = _accepts(type(self), "mask")
        if self.supports_masking or expects_mask:
            mask = kwargs["mask"] if "mask" in kwargs else _input_mask(inputs)
            if expects_mask and mask is not None:
                kwargs["mask"] = mask
        x = self._convert_input(inputs)
        if not self.built:
            self._maybe_build(_build_shape([t.shape for t in x] if isinstance(x, list)
                                           else x.shape))
        if self._call_losses:  # skip Layer.__setattr__'s tracking when already empty
            self._call_losses = []
        if _accepts(type(self), "training"):
            # Not given (a direct call): the default of the layer's own `call`,
            # as tf.keras 2 resolves it, so `RandomFlip(...)(images)` augments.
            kwargs["training"] = _training_default(type(self)) if training is None \
                else bool(training)
        outputs = self.call(x, **kwargs)
        if self._build_output_shape is None:  # the first call: `output_shape` from now on
            self._build_output_shape = _batchless_shape(outputs)
        # As tf.keras 2: a layer that supports masking passes the mask on
        # (or computes its own); any other layer drops it.
        if self.supports_masking and (
                mask is not None or type(self).compute_mask is not Layer.compute_mask):
            _set_mask(outputs, self.compute_mask(x, mask))
        return outputs

    # Whether the layer passes an input mask on (`compute_mask`), as tf.keras
    # 2's `supports_masking`; a layer that does not drops the mask.
    supports_masking = False

    def compute_mask(self, inputs, mask=None):
        """The output mask for `inputs` and their `mask` (tf.keras 2's rule).

        A layer that supports masking passes the input mask on; one that
        does not returns None, so the mask stops there.

        Args:
            inputs: the layer's input tensor(s).
            mask: a boolean `(batch, time)` array, or None (a list for
                several inputs).

        Returns:
            The output mask, or None.
        """
        return mask if self.supports_masking else None

    # -- config --------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments as a JSON-able dict (tf.keras 2 keys)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        """Rebuilds a layer from `get_config()` output."""
        return cls(**config)

    # Set by the first call, or by the Sequential model that builds the layer.
    _build_output_shape = None
    # The nodes recording this layer's calls on symbolic tensors (a list
    # once there is one: `kerasette.layers.node.Node`).
    _inbound_nodes = ()

    @property
    def input(self):
        """The symbolic tensor(s) the layer was called on, for a layer
        called once on symbolic tensors (an `InputLayer`: its own tensor).

        Raises:
            AttributeError: if the layer was never called on symbolic
                tensors, or was called on them more than once (then use
                `get_input_at(node_index)`).

        Example:
            >>> import kerasette as keras
            >>> x = keras.Input(shape=(4,), name="x")
            >>> dense = keras.layers.Dense(2)
            >>> y = dense(x)
            >>> dense.input is x, dense.output is y
            (True, True)
        """
        node = self._only_node("input")
        return node.outputs if node.is_input else node.inputs

    @property
    def output(self):
        """The symbolic tensor(s) of the layer's one call on symbolic
        tensors (see `input`)."""
        return self._only_node("output").outputs

    def get_input_at(self, node_index):
        """The symbolic input(s) of the layer's call number `node_index`."""
        node = self._node_at(node_index, "input")
        return node.outputs if node.is_input else node.inputs

    def get_output_at(self, node_index):
        """The symbolic output(s) of the layer's call number `node_index`."""
        return self._node_at(node_index, "output").outputs

    def _only_node(self, what):
        nodes = self._inbound_nodes
        if not nodes:
            raise AttributeError(
                f'Layer "{self.name}" is not connected, no {what} to return: it was never '
                "called on symbolic tensors (keras.Input or another layer's output)."
            )
        if len(nodes) > 1:
            raise AttributeError(
                f'Layer "{self.name}" has multiple inbound nodes ({len(nodes)} calls), hence '
                f'the notion of "layer {what}" is ill-defined. Use `get_{what}_at(node_index)` '
                "instead."
            )
        return nodes[0]

    def _node_at(self, node_index, what):
        nodes = self._inbound_nodes
        if not isinstance(node_index, int) or not -len(nodes) <= node_index < len(nodes):
            raise ValueError(
                f"Asked to get the {what} at node {node_index!r} of layer {self.name!r}, but "
                f"the layer has {len(nodes)} inbound node(s)."
            )
        return nodes[node_index]

    @property
    def input_shape(self) -> tuple:
        """The input's shape, batch first with `None` for the batch size, as
        tf.keras 2's `layer.input_shape`: `(None, 4)`.

        Known once the layer is built from an input: as part of a
        `Sequential` model with a known input shape, or by a first call.

        Raises:
            AttributeError: if the layer was never built from an input.

        Example:
            >>> import kerasette as keras
            >>> model = keras.Sequential([keras.layers.Dense(8, input_shape=(4,))])
            >>> model.layers[0].input_shape, model.layers[0].output_shape
            ((None, 4), (None, 8))
        """
        if self._build_input_shape is None:
            raise AttributeError(
                f'The layer "{self.name}" has never been called and thus has no defined '
                "input shape. Give the model's first layer an `input_shape`, or call the "
                "layer (or the model) on data first."
            )
        shape = self._build_input_shape
        if shape and all(isinstance(s, (list, tuple)) for s in shape):
            return [(None,) + tuple(s)[1:] for s in shape]  # several inputs (a merge layer)
        return (None,) + tuple(shape)[1:]

    @property
    def output_shape(self) -> tuple:
        """The output's shape, batch first with `None` for the batch size, as
        tf.keras 2's `layer.output_shape`: `(None, 8)` (a list of shapes for
        a layer with several outputs).

        Raises:
            AttributeError: if the layer was never built from an input.
        """
        if self._build_output_shape is None:
            raise AttributeError(
                f'The layer "{self.name}" has never been called and thus has no defined '
                "output shape. Give the model's first layer an `input_shape`, or call the "
                "layer (or the model) on data first."
            )
        return self._build_output_shape

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _numeric_weight(layer, variable, array):
    """`array` (an object array of numbers) as `variable`'s dtype, or a
    `ValueError` naming the weight: strings, bytes, dates and objects that
    are not numbers (before, NumPy's "could not convert string to float"
    came from inside the assignment)."""
    if array.dtype.kind == "O":
        try:
            return array.astype(variable.dtype)
        except (TypeError, ValueError):
            pass
    example = array.reshape(-1)[:1].tolist()
    such_as = f" (values such as {example[0]!r})" if example else ""
    raise ValueError(
        f"Layer {layer.name!r}: weight {variable.name!r} takes numbers ({variable.dtype}), but "
        f"set_weights received an array of dtype {array.dtype}{such_as}."
    )


def _batchless_shape(outputs):
    """The shape of `outputs` with `None` for the batch size (a list for
    several outputs); None for outputs that are not tensors."""
    if isinstance(outputs, Tensor):
        return (None,) + outputs.shape[1:] if outputs.ndim else ()
    if isinstance(outputs, (list, tuple)) and outputs and all(
            isinstance(t, Tensor) for t in outputs):
        return [_batchless_shape(t) for t in outputs]
    return None


def _build_shape(shapes):
    """What `build` receives for inputs of `shapes`, as in Keras: the shape
    of a single input, a list of shapes for a list of inputs, a dict of
    shapes for a dict. Eager and symbolic calls both come here, so a layer
    is built alike either way."""
    if isinstance(shapes, (list, tuple)) and shapes and isinstance(shapes[0], (list, tuple)):
        return [tuple(s) for s in shapes]
    if isinstance(shapes, dict) and shapes:
        return {key: tuple(s) for key, s in shapes.items()}
    return tuple(shapes)


def _marking_built(build):
    """`build`, followed by marking the layer built and, for an explicit
    call, remembering the shape it was built for."""
    @functools.wraps(build)
    def marked(self, *args, **kwargs):
        build(self, *args, **kwargs)
        self.built = True
        if self._build_input_shape is None:
            shape = args[0] if args else kwargs.get("input_shape")
            if shape is not None and not isinstance(shape, dict) and not (
                    shape and isinstance(shape[0], (list, tuple))):
                shape = tuple(shape)
            self._build_input_shape = shape

    marked._marks_built = True
    return marked


_TRAINING_DEFAULT: dict = {}


def _training_default(cls) -> bool:
    """`True` when `cls.call` declares `training=True` (layers that act
    unless told otherwise, such as augmentation), else False."""
    known = _TRAINING_DEFAULT.get(cls)
    if known is None:
        param = inspect.signature(cls.call).parameters.get("training")
        known = param is not None and param.default is True
        _TRAINING_DEFAULT[cls] = known
    return known


def _input_mask(inputs):
    """The mask riding on `inputs` (a list of masks for a list of inputs),
    or None when there is none."""
    if isinstance(inputs, Tensor):
        return inputs._keras_mask
    if isinstance(inputs, (list, tuple)):
        masks = [getattr(t, "_keras_mask", None) for t in inputs]
        return None if all(m is None for m in masks) else masks
    return None


def _set_mask(outputs, mask):
    """Puts `mask` (one, or one per output) on the output tensor(s)."""
    if mask is None:
        return
    if isinstance(outputs, Tensor):
        outputs._keras_mask = mask[0] if isinstance(mask, (list, tuple)) else mask
        return
    if isinstance(outputs, (list, tuple)):
        masks = mask if isinstance(mask, (list, tuple)) else [mask] * len(outputs)
        for tensor, m in zip(outputs, masks):
            if isinstance(tensor, Tensor):
                tensor._keras_mask = m


_ACCEPTS: dict = {}


def _accepts(cls, argument) -> bool:
    """Whether `cls.call` takes the keyword `argument` (or `**kwargs`)."""
    key = (cls, argument)
    known = _ACCEPTS.get(key)
    if known is None:
        params = inspect.signature(cls.call).parameters
        known = argument in params or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        _ACCEPTS[key] = known
    return known
