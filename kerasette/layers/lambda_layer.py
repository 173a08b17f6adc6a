"""`Lambda`: a function of the inputs as a layer, for code in scripts.

A `Lambda`'s function is code, and kerasette never stores or runs code from
a file: its config names a named function (rebuilt only from
`custom_objects`, `register_serializable` or `kerasette.ops`), and the model
loaders refuse any file that holds a `Lambda` layer.
"""

from __future__ import annotations

import inspect

import numpy as np

from kerasette import ops
from kerasette.autodiff.tensor import Tensor
from kerasette.layers.merging import _ListInputLayer
from kerasette.utils.registry import NameTable

# kerasette.ops' functions by name; others come from `custom_objects` or
# the user's `register_serializable`, never from a module named in a config.
_FUNCTIONS = NameTable("Lambda function", "kerasette.ops")
for _name in ops.__all__:
    if inspect.isfunction(getattr(ops, _name)):
        _FUNCTIONS.register(getattr(ops, _name), _name)


def _accepts(fn, name) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _function_config(fn):
    """tf.keras 2's `(value, type, module)` triple for a function; a lambda
    is written with no value, since its only form would be bytecode."""
    name = getattr(fn, "__name__", None)
    if name is None or name == "<lambda>":
        return None, "lambda", None
    return getattr(fn, "_registered_name", name), "function", getattr(fn, "__module__", None)


def _function_from_config(value, kind, what, layer_name, custom_objects):
    if isinstance(value, dict):  # Keras 3: {"class_name": "function", "config": name, ...}
        kind = "lambda" if value.get("class_name") == "__lambda__" else "function"
        value = value.get("registered_name") or value.get("config")
    if kind == "lambda":
        raise ValueError(
            f"Lambda layer {layer_name!r}: its {what} was a Python lambda, which could only be "
            "rebuilt by running code stored in the config; kerasette never does. Build the "
            "layer in code (Lambda(your_function)), or use a named function passed in "
            "custom_objects or registered with kerasette.saving.register_serializable."
        )
    if not isinstance(value, str):
        raise ValueError(f"Lambda layer {layer_name!r}: `{what}` must name a function. "
                         f"Received: {what}={value!r}")
    return _FUNCTIONS.lookup(value, custom_objects)


class Lambda(_ListInputLayer):
    """Wraps a function of the inputs as a layer (no weights).

    Args:
        function: `function(inputs, **arguments)`, written with
            `kerasette.ops` (or tensor operators) so it is differentiated.
            It also receives `training` if its signature accepts it.
        output_shape: the output shape without the batch axis (a tuple), or
            a function of the input shape returning the full shape; `None`
            infers it by running `function` on zeros (unknown sizes as 1).
        mask: not supported; must be `None`.
        arguments: optional dict of keyword arguments for `function`.
        **kwargs: standard layer arguments.

    Saving: the config stores a named function by name and a lambda not at
    all; kerasette's loaders refuse files holding a `Lambda` layer.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> double = keras.layers.Lambda(lambda x: x * 2.0)
        >>> double(np.array([[1.0, 2.0]], "float32")).numpy().tolist()
        [[2.0, 4.0]]
        >>> double.compute_output_shape((None, 2))
        (None, 2)
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: `function` must be callable. Received: "
                            f"function={function!r}")
        if mask is not None:
            raise NotImplementedError(f"Lambda: masks are not supported yet. "
                                      f"Received: mask={mask!r}")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"Lambda: `arguments` must be a dict. Received: "
                            f"arguments={arguments!r}")
        if not (output_shape is None or callable(output_shape)
                or isinstance(output_shape, (list, tuple))):
            raise TypeError("Lambda: `output_shape` must be a tuple, a function or None. "
                            f"Received: output_shape={output_shape!r}")
        self.function = function
        self._output_shape = (tuple(output_shape) if isinstance(output_shape, list)
                              else output_shape)
        self.mask = None
        self.arguments = dict(arguments or {})

    def call(self, inputs, training=None):
        kwargs = dict(self.arguments)
        if _accepts(self.function, "training"):
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_output_shape(self, input_shape):
        """From `output_shape` when given, else by running `function` on
        zeros of `input_shape` (a list of shapes for a list of inputs)."""
        many = isinstance(input_shape, (list, tuple)) and bool(input_shape) and all(
            isinstance(s, (list, tuple)) for s in input_shape)
        first = tuple(input_shape[0]) if many else tuple(input_shape)
        batch = first[0] if first else None
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        if self._output_shape is not None:
            return (batch,) + tuple(self._output_shape)

        def zeros(shape):
            return ops.zeros(tuple(1 if d is None else d for d in shape), dtype=self.dtype)

        probe = [zeros(s) for s in input_shape] if many else zeros(input_shape)
        out = self.call(probe)

        def shape_of(t):
            return (batch,) + tuple(t.shape[1:]) if isinstance(t, Tensor) else None

        if isinstance(out, (list, tuple)):
            return [shape_of(t) for t in out]
        return shape_of(out)

    def get_config(self):
        config = super().get_config()
        fn, fn_type, module = _function_config(self.function)
        if callable(self._output_shape):
            shape, shape_type, shape_module = _function_config(self._output_shape)
        else:
            shape, shape_type, shape_module = (
                None if self._output_shape is None else list(self._output_shape), "raw", None)
        config.update({
            "function": fn, "function_type": fn_type, "module": module,
            "output_shape": shape, "output_shape_type": shape_type,
            "output_shape_module": shape_module,
            "arguments": {k: v.tolist() if isinstance(v, np.ndarray) else v
                          for k, v in self.arguments.items()},
        })
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the layer, finding named functions only in
        `custom_objects`, `register_serializable`'s table and `kerasette.ops`.

        Raises:
            ValueError: for a function stored as a lambda (never rebuilt) or
                a name found in neither place.
        """
        config = dict(config)
        name = config.get("name")
        function = _function_from_config(config.pop("function", None),
                                         config.pop("function_type", "function"), "function",
                                         name, custom_objects)
        config.pop("module", None)
        shape = config.pop("output_shape", None)
        shape_type = config.pop("output_shape_type", "raw")
        config.pop("output_shape_module", None)
        if isinstance(shape, dict) or shape_type != "raw":
            shape = _function_from_config(shape, shape_type, "output_shape", name,
                                          custom_objects)
        for key in ("mask_type", "mask_module"):
            config.pop(key, None)
        return cls(function, output_shape=shape, **config)
