"""Loss names: the aliases, the name tables, and `get`, `serialize` and
`deserialize`, which turn names and configs into losses and back."""

from __future__ import annotations

import difflib
from collections.abc import Callable

from kerasette.losses.base import Loss
from kerasette.losses.classes import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from kerasette.losses.hinge import categorical_hinge, hinge, squared_hinge
from kerasette.losses.probabilistic import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    kl_divergence,
    sparse_categorical_crossentropy,
)
from kerasette.losses.regression import (
    cosine_similarity,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
)
from kerasette.utils.registry import _CUSTOM_OBJECTS, NameTable


# -- names -------------------------------------------------------------------------------
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
logcosh = log_cosh

_FUNCTIONS: tuple = (
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, binary_crossentropy, categorical_crossentropy,
    binary_focal_crossentropy, categorical_focal_crossentropy,
    sparse_categorical_crossentropy, hinge, squared_hinge, categorical_hinge, kl_divergence,
    poisson, log_cosh, huber, cosine_similarity,
)
# tf.keras 2's module-level aliases (each is the same function object).
_ALIASES = {
    "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
    "kld": kl_divergence, "KLD": kl_divergence, "kullback_leibler_divergence": kl_divergence,
    "logcosh": log_cosh, "huber_loss": huber,
}
_CLASSES: tuple = (
    LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, BinaryCrossentropy, CategoricalCrossentropy,
    BinaryFocalCrossentropy, CategoricalFocalCrossentropy, SparseCategoricalCrossentropy, Hinge,
    SquaredHinge, CategoricalHinge, KLDivergence, Poisson, LogCosh, Huber, CosineSimilarity,
)

# Exact names first, as tf.keras 2 looks them up: "mean_squared_error" is the
# function and "MeanSquaredError" the class, which a case- and
# underscore-blind table could not tell apart.
_EXACT: dict = {fn.__name__: fn for fn in _FUNCTIONS}
_EXACT.update(_ALIASES)
_EXACT.update({cls.__name__: cls for cls in _CLASSES})
# Other spellings ("Mean_Squared_Error", "MSE ") fall back to the functions.
_FUNCTION_TABLE = NameTable("loss function", "keras.losses")
for _name, _obj in _EXACT.items():
    if not isinstance(_obj, type):
        _FUNCTION_TABLE.register(_obj, _name)
_CLASS_TABLE = NameTable("loss", "keras.losses")
for _cls in _CLASSES:
    _CLASS_TABLE.register(_cls, _cls.__name__)
_FUNCTION_NAMES = {fn: fn.__name__ for fn in _FUNCTIONS}


def _lookup(name: str, custom_objects=None):
    for table in (custom_objects or {}, _CUSTOM_OBJECTS):
        if name in table:
            return table[name]
    if name in _EXACT:
        return _EXACT[name]
    try:
        return _FUNCTION_TABLE.lookup(name.strip())
    except ValueError:
        pass
    valid = sorted(_EXACT)
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]!r}?" if close else ""
    raise ValueError(
        f"Unknown loss function: {name!r}.{hint} Valid losses: {', '.join(valid)}. Custom "
        "ones can be passed in custom_objects or registered with "
        "kerasette.saving.register_serializable."
    )


def serialize(loss) -> dict | str | None:
    """What tf.keras 2 writes for a loss in a config.

    Args:
        loss: a `Loss` instance, a loss function, a loss name, or `None`.

    Returns:
        For a `Loss` instance, the nested config
        `{"module": "keras.losses", "class_name": ..., "config": ...,
        "registered_name": None}`; for a function, its full name
        (`"mean_squared_error"` for `mse`, which every Keras loads back); for a
        function registered with `register_serializable`, `"Package>name"`;
        `None` for `None`.

    Raises:
        ValueError: for an unknown name or an anonymous function.

    Example:
        >>> serialize(mse)
        'mean_squared_error'
        >>> serialize(Huber(delta=2.0))["config"]["delta"]
        2.0
    """
    if loss is None:
        return None
    if isinstance(loss, str):
        loss = _lookup(loss)
        if isinstance(loss, type):
            return loss.__name__
    if isinstance(loss, type) and issubclass(loss, Loss):
        loss = loss()
    if isinstance(loss, Loss):
        return _CLASS_TABLE.serialize(loss)
    try:
        return _FUNCTION_NAMES[loss]
    except (KeyError, TypeError):  # TypeError: an unhashable callable object
        pass
    registered = getattr(loss, "_registered_name", None)
    if registered:
        return registered
    name = getattr(loss, "__name__", None)
    if callable(loss) and name and name != "<lambda>":
        return name
    raise ValueError(
        "Cannot serialize this loss: it is neither a Loss object nor a named function. "
        "Use a named function registered with kerasette.saving.register_serializable. "
        f"Received: loss={loss!r}"
    )


def deserialize(config, custom_objects=None):
    """Builds a loss from what `serialize` (or Keras) wrote.

    Args:
        config: a name (`"mse"`, `"mean_squared_error"`, `"Huber"`, a
            registered `"Package>name"`), a nested class config
            `{"class_name": "Huber", "config": {...}}`, or the function form
            Keras 2.13+ and Keras 3 write,
            `{"class_name": "function", "config": "mean_squared_error"}`.
        custom_objects: optional dict of extra `name -> function or class`.

    Returns:
        A loss function, or a `Loss` instance for a class name or config.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones and
            suggests the closest) or a config of another shape.

    Example:
        >>> deserialize("mse") is mean_squared_error
        True
        >>> deserialize({"class_name": "Huber", "config": {"delta": 2.0}}).delta
        2.0
    """
    if config is None:
        return None
    if isinstance(config, str):
        obj = _lookup(config, custom_objects)
        return obj() if isinstance(obj, type) else obj
    if isinstance(config, dict) and "class_name" in config:
        class_name = config["class_name"]
        if class_name == "function":
            inner = config.get("config")
            if not isinstance(inner, str):
                raise ValueError(f"Could not interpret loss function config: {config!r}")
            return _lookup(inner, custom_objects)
        obj = None
        registered = config.get("registered_name")
        if registered and registered != class_name:
            try:
                obj = _lookup(registered, custom_objects)
            except ValueError:
                obj = None
        if obj is None:
            obj = _lookup(class_name, custom_objects)
        inner = config.get("config") or {}
        if isinstance(obj, type):
            if hasattr(obj, "from_config"):
                return obj.from_config(inner)
            return obj(**inner)
        return obj
    raise ValueError(
        "Could not interpret loss config: expected a name or a dict with 'class_name' and "
        f"'config'. Received: {config!r}"
    )


def get(identifier) -> Callable | Loss | None:
    """Turns what `compile(loss=...)` accepts into a loss function or object.

    Args:
        identifier: `None`; a name such as `"mse"` or
            `"sparse_categorical_crossentropy"` (a function) or
            `"CategoricalCrossentropy"` (a class, instantiated with its
            defaults); a config dict; a `Loss` instance or class; or any
            callable `fn(y_true, y_pred)` (returned as is).

    Returns:
        A loss function, a `Loss` instance, or `None`.

    Raises:
        ValueError: for an unknown name or an identifier of another kind.

    Example:
        >>> get("categorical_crossentropy") is categorical_crossentropy
        True
        >>> type(get("CategoricalCrossentropy")).__name__
        'CategoricalCrossentropy'
        >>> get({"class_name": "CategoricalCrossentropy",
        ...      "config": {"from_logits": True}}).from_logits
        True
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss function identifier: {identifier!r}")
