"""Activation functions with tf.keras 2's names, signatures and defaults.

Each function is a thin wrapper over the differentiable op of the same name
in `kerasette.ops`, so it works on every backend and under a
`GradientTape`. Layers take an activation by name (`"relu"`), by function,
or as `None` (linear); `get` turns any of these into a function, and
`serialize` turns a function back into the string tf.keras 2 writes into
model files.

Example:
    >>> import kerasette as keras
    >>> x = keras.ops.convert_to_tensor([-1.0, 0.5, 3.0])
    >>> keras.activations.relu(x).numpy().tolist()
    [0.0, 0.5, 3.0]
    >>> keras.activations.get("relu") is keras.activations.relu
    True
    >>> keras.activations.serialize(keras.activations.tanh)
    'tanh'
"""

from __future__ import annotations

from typing import Callable

from kerasette import ops
from kerasette.utils.registry import NameTable

__all__ = [
    "deserialize",
    "elu",
    "exponential",
    "gelu",
    "get",
    "hard_sigmoid",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "serialize",
    "sigmoid",
    "silu",
    "softmax",
    "softplus",
    "softsign",
    "swish",
    "tanh",
]


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit, with tf.keras 2's leak, cap and threshold.

    With the defaults this is `max(x, 0)`. Otherwise
    `f(x) = max_value` for `x >= max_value`, `x` for
    `threshold < x < max_value`, and `alpha * (x - threshold)` for
    `x <= threshold`.

    Args:
        x: input tensor.
        alpha: slope of the part below the threshold.
        max_value: the largest value returned, or `None` for no cap.
        threshold: the value below which the unit is off (or leaks).

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:
        >>> from kerasette import ops
        >>> x = ops.convert_to_tensor([-10.0, -5.0, 0.0, 5.0, 10.0])
        >>> relu(x).numpy().tolist()
        [0.0, 0.0, 0.0, 5.0, 10.0]
        >>> relu(x, alpha=0.5, max_value=5.0).numpy().tolist()
        [-5.0, -2.5, 0.0, 5.0, 5.0]
    """
    # Python floats keep float32 inputs float32 (a np.float64 would promote).
    return ops.relu(x, alpha=float(alpha),
                    max_value=None if max_value is None else float(max_value),
                    threshold=float(threshold))


def relu6(x):
    """ReLU capped at 6: `min(max(x, 0), 6)`.

    Args:
        x: input tensor.

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:
        >>> from kerasette import ops
        >>> relu6(ops.convert_to_tensor([-1.0, 3.0, 8.0])).numpy().tolist()
        [0.0, 3.0, 6.0]
    """
    return ops.relu6(x)


def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU: `x` for `x >= 0`, `negative_slope * x` below.

    Keras 3's function (tf.keras 2 had only the `LeakyReLU` layer, whose
    default slope was 0.3).

    Args:
        x: input tensor.
        negative_slope: slope of the negative part.

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:
        >>> from kerasette import ops
        >>> leaky_relu(ops.convert_to_tensor([-1.0, 2.0])).numpy().tolist()
        [-0.20000000298023224, 2.0]
    """
    return ops.leaky_relu(x, negative_slope=float(negative_slope))


def sigmoid(x):
    """Logistic sigmoid `1 / (1 + exp(-x))`, saturating without overflow.

    Args:
        x: input tensor.

    Returns:
        A tensor of values in `[0, 1]`.

    Example:
        >>> from kerasette import ops
        >>> sigmoid(ops.convert_to_tensor([0.0])).numpy().tolist()
        [0.5]
    """
    return ops.sigmoid(x)


def hard_sigmoid(x):
    """tf.keras 2's piecewise-linear sigmoid: `clip(0.2 * x + 0.5, 0, 1)`.

    (Keras 3 changed this to `relu6(x + 3) / 6`; kerasette keeps tf.keras 2's
    slope so trained models give the same outputs.)

    Args:
        x: input tensor.

    Returns:
        A tensor of values in `[0, 1]`.

    Example:
        >>> from kerasette import ops
        >>> hard_sigmoid(ops.convert_to_tensor([-3.0, 0.0, 1.0])).numpy().tolist()
        [0.0, 0.5, 0.699999988079071]
    """
    return ops.hard_sigmoid(x)


def tanh(x):
    """Hyperbolic tangent.

    Args:
        x: input tensor.

    Returns:
        A tensor of values in `[-1, 1]`.

    Example:
        >>> from kerasette import ops
        >>> tanh(ops.convert_to_tensor([0.0])).numpy().tolist()
        [0.0]
    """
    return ops.tanh(x)


def softmax(x, axis=-1):
    """Softmax: `exp(x) / sum(exp(x))` along `axis`, computed stably.

    Args:
        x: input tensor.
        axis: the axis that sums to one.

    Returns:
        A tensor of probabilities of the shape and dtype of `x`.

    Example:
        >>> from kerasette import ops
        >>> p = softmax(ops.convert_to_tensor([[1.0, 1.0]]))
        >>> p.numpy().tolist()
        [[0.5, 0.5]]
    """
    return ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """`log(softmax(x))` along `axis`, computed without forming the softmax.

    Args:
        x: input tensor.
        axis: the normalised axis.

    Returns:
        A tensor of log-probabilities of the shape and dtype of `x`.

    Example:
        >>> from kerasette import ops
        >>> round(float(log_softmax(ops.convert_to_tensor([0.0, 0.0]))[0]), 4)
        -0.6931
    """
    return ops.log_softmax(x, axis=axis)


def linear(x):
    """The identity (what `activation=None` means).

    Args:
        x: input tensor.

    Returns:
        `x` unchanged.

    Example:
        >>> from kerasette import ops
        >>> linear(ops.convert_to_tensor([-2.0])).numpy().tolist()
        [-2.0]
    """
    return ops.linear(x)


def exponential(x):
    """Elementwise `exp(x)`.

    Args:
        x: input tensor.

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:
        >>> from kerasette import ops
        >>> exponential(ops.convert_to_tensor([0.0])).numpy().tolist()
        [1.0]
    """
    return ops.exponential(x)


def elu(x, alpha=1.0):
    """Exponential linear unit: `x` for `x > 0`, `alpha * (exp(x) - 1)` below.

    Args:
        x: input tensor.
        alpha: the value the negative part saturates to (as `-alpha`).

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:
        >>> from kerasette import ops
        >>> elu(ops.convert_to_tensor([0.0, 2.0])).numpy().tolist()
        [0.0, 2.0]
    """
    return ops.elu(x, alpha=float(alpha))


def selu(x):
    """Scaled ELU: `scale * elu(x, alpha)` with the self-normalising constants
    `alpha ~ 1.6733`, `scale ~ 1.0507` (Klambauer et al., 2017).

    Use it with the `lecun_normal` initializer.

    Args:
        x: input tensor.

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:
        >>> from kerasette import ops
        >>> round(float(selu(ops.convert_to_tensor([1.0]))[0]), 4)
        1.0507
    """
    return ops.selu(x)


def softplus(x):
    """Softplus `log(1 + exp(x))`, computed without overflow.

    Args:
        x: input tensor.

    Returns:
        A tensor of positive values of the shape and dtype of `x`.

    Example:
        >>> from kerasette import ops
        >>> round(float(softplus(ops.convert_to_tensor([0.0]))[0]), 4)
        0.6931
    """
    return ops.softplus(x)


def softsign(x):
    """Softsign `x / (1 + |x|)`.

    Args:
        x: input tensor.

    Returns:
        A tensor of values in `(-1, 1)`.

    Example:
        >>> from kerasette import ops
        >>> softsign(ops.convert_to_tensor([1.0])).numpy().tolist()
        [0.5]
    """
    return ops.softsign(x)


def swish(x):
    """Swish `x * sigmoid(x)` (Ramachandran et al., 2017); the same as `silu`.

    Args:
        x: input tensor.

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:
        >>> from kerasette import ops
        >>> swish(ops.convert_to_tensor([0.0])).numpy().tolist()
        [0.0]
    """
    return ops.silu(x)


def silu(x):
    """SiLU `x * sigmoid(x)`; Keras 3's name for `swish`.

    Args:
        x: input tensor.

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:
        >>> from kerasette import ops
        >>> silu(ops.convert_to_tensor([0.0])).numpy().tolist()
        [0.0]
    """
    return ops.silu(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit `x * P(X <= x)`, `X ~ N(0, 1)`.

    Exact (`0.5 x (1 + erf(x / sqrt(2)))`) by default, as in tf.keras 2;
    with `approximate=True` the tanh form
    `0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))`.

    Args:
        x: input tensor.
        approximate: use the tanh approximation.

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:
        >>> from kerasette import ops
        >>> round(float(gelu(ops.convert_to_tensor([1.0]))[0]), 4)
        0.8413
    """
    return ops.gelu(x, approximate=bool(approximate))


def mish(x):
    """Mish `x * tanh(softplus(x))` (Misra, 2019).

    Args:
        x: input tensor.

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:
        >>> from kerasette import ops
        >>> mish(ops.convert_to_tensor([0.0])).numpy().tolist()
        [0.0]
    """
    return ops.mish(x)


# -- names ------------------------------------------------------------------------
_TABLE = NameTable("activation", "keras.activations")

# Every function is registered under its own name, which is what `serialize`
# writes; `swish` and `silu` are distinct functions so that each serializes
# to the name the user picked (tf.keras 2 knows only "swish").
_BUILTINS: tuple[Callable, ...] = (
    elu, exponential, gelu, hard_sigmoid, leaky_relu, linear, log_softmax, mish,
    relu, relu6, selu, sigmoid, silu, softmax, softplus, softsign, swish, tanh,
)
for _fn in _BUILTINS:
    _TABLE.register(_fn, _fn.__name__)
# TF's op name for softmax appears in some tf.keras 2 configs.
_TABLE.register(softmax, "softmax_v2")
_NAMES = {_fn: _fn.__name__ for _fn in _BUILTINS}


def serialize(activation) -> str:
    """Returns the name tf.keras 2 writes for an activation in a model config.

    Args:
        activation: a function of this module, a function registered with
            `kerasette.saving.register_serializable`, another named function,
            or a known activation name.

    Returns:
        The string name: `"relu"` for `relu`; `"Package>name"` for a
        registered custom function; a plain function's `__name__` (loading
        it back then needs `custom_objects`).

    Raises:
        ValueError: for an unknown name or an anonymous function.

    Example:
        >>> serialize(relu)
        'relu'
    """
    if isinstance(activation, str):
        # A known name serializes to its canonical spelling; an unknown one
        # raises with the valid names and the closest match.
        activation = _TABLE.lookup(activation)
    try:
        return _NAMES[activation]
    except (KeyError, TypeError):  # TypeError: an unhashable callable object
        pass
    registered = getattr(activation, "_registered_name", None)
    if registered:
        return registered
    name = getattr(activation, "__name__", None)
    if callable(activation) and name and name != "<lambda>":
        return name
    raise ValueError(
        f"Activation {activation!r} cannot be serialized: it has no name. Use a "
        "named function registered with kerasette.saving.register_serializable. "
        f"Received: activation={activation!r}"
    )


def deserialize(name, custom_objects=None) -> Callable:
    """Returns the activation function for a name (or a serialized config).

    Args:
        name: an activation name such as `"relu"` (case and underscores are
            ignored), a registered name such as `"Custom>my_act"`, or the dict
            Keras 2.13+ and Keras 3 write for functions:
            `{"class_name": "function", "config": "relu", ...}`.
        custom_objects: optional dict of extra `name -> function`.

    Returns:
        The activation function.

    Raises:
        ValueError: for an unknown name; the message lists the valid names
            and suggests the closest one.

    Example:
        >>> deserialize("relu") is relu
        True
    """
    if isinstance(name, dict) and name.get("class_name") == "function":
        inner = name.get("config")
        if not isinstance(inner, str):
            raise ValueError(f"Could not interpret activation config: {name!r}")
        registered = name.get("registered_name")
        if registered and registered != "function" and registered != inner:
            try:
                return _TABLE.lookup(registered, custom_objects)
            except ValueError:
                pass
        return _TABLE.lookup(inner, custom_objects)
    if isinstance(name, (str, dict)):
        return _TABLE.deserialize(name, custom_objects)
    raise TypeError(
        "activations.deserialize expects a name or a config dict. "
        f"Received: {name!r} of type {type(name).__name__}"
    )


def get(identifier) -> Callable:
    """Turns what a layer's `activation=` accepts into a function.

    Args:
        identifier: `None` (linear), a name such as `"relu"`, a config dict,
            or a callable (returned as is).

    Returns:
        A function of one tensor.

    Raises:
        ValueError: for an unknown name.
        TypeError: for anything else.

    Example:
        >>> get(None) is linear
        True
        >>> get("softmax") is softmax
        True
    """
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(
        "Could not interpret activation function identifier: expected None, a "
        f"name, a config dict or a callable. Received: {identifier!r}"
    )
