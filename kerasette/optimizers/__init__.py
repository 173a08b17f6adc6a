"""Optimizers: `SGD`, `Adam`, `AdamW`, `Adamax`, `Nadam`, `RMSprop`,
`Adagrad`, `Adadelta`, `get` by name, and learning rate `schedules`.

They follow tf.keras 2.11+ (the optimizers of `tf.keras.optimizers` since
TF 2.11): the same arguments, defaults, update formulas and config keys.

Example:
    >>> from kerasette import optimizers
    >>> optimizers.get("adam").get_config()["learning_rate"]
    0.001
    >>> optimizers.serialize(optimizers.SGD(0.1))["class_name"]
    'SGD'
"""

from __future__ import annotations

from kerasette.optimizers import schedules
from kerasette.optimizers import legacy  # tf.keras 2.11+'s keras.optimizers.legacy
from kerasette.optimizers.adadelta import Adadelta
from kerasette.optimizers.adagrad import Adagrad
from kerasette.optimizers.adam import Adam
from kerasette.optimizers.adamax import Adamax
from kerasette.optimizers.adamw import AdamW
from kerasette.optimizers.base import Optimizer
from kerasette.optimizers.nadam import Nadam
from kerasette.optimizers.rmsprop import RMSprop
from kerasette.optimizers.sgd import SGD
from kerasette.utils.registry import NameTable

_TABLE = NameTable("optimizer", "keras.optimizers")
for _cls in (SGD, Adam, RMSprop, Adagrad, Adadelta, Adamax, Nadam, AdamW):
    # Lookups ignore case, so "Adam", "adam" and "ADAM" all resolve.
    _TABLE.register(_cls, _cls.__name__.lower())


def serialize(optimizer: Optimizer | None) -> dict | None:
    """An optimizer's nested config:
    `{"module": "keras.optimizers", "class_name": ..., "config": ..., "registered_name": ...}`.
    """
    if optimizer is None:
        return None
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            "optimizers.serialize expects a kerasette optimizer. "
            f"Received: {type(optimizer).__name__}"
        )
    return _TABLE.serialize(optimizer)


def deserialize(config, custom_objects=None) -> Optimizer:
    """Rebuilds an optimizer from a name or a config dict (inverse of `serialize`).

    Also reads tf.keras's legacy HDF5 form, whose class names carry the
    registration prefix (`"Custom>Adam"`). A learning rate schedule in the
    config is rebuilt with `custom_objects` too.
    """
    config = _with_schedule(config, custom_objects)
    try:
        return _TABLE.deserialize(config, custom_objects)
    except ValueError:
        name = config.get("class_name") if isinstance(config, dict) else None
        if not (isinstance(name, str) and ">" in name):
            raise
        plain = {**config, "class_name": name.rsplit(">", 1)[1], "registered_name": None}
        return _TABLE.deserialize(plain, custom_objects)


def _with_schedule(config, custom_objects):
    # The name table passes only the inner config to `from_config`; rebuild a
    # nested schedule here so that it sees `custom_objects`.
    if not custom_objects or not isinstance(config, dict):
        return config
    inner = config.get("config")
    if not isinstance(inner, dict) or not isinstance(inner.get("learning_rate"), dict):
        return config
    lr = schedules.deserialize(inner["learning_rate"], custom_objects=custom_objects)
    return {**config, "config": {**inner, "learning_rate": lr}}


def get(identifier) -> Optimizer:
    """An optimizer from an instance (returned as is), a name or a config dict.

    Args:
        identifier: an `Optimizer`, a name (`"adam"`, case-insensitive) or a
            config dict as `serialize` writes it.

    Returns:
        An `Optimizer`; names give one with the default arguments.

    Raises:
        ValueError: for an unknown name (the message lists the valid ones)
            or anything else that is not an optimizer identifier.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    raise ValueError(
        f"Could not interpret optimizer identifier: {identifier!r}. Expected an "
        f"optimizer, one of the names {', '.join(_TABLE.names())}, or a config dict."
    )


__all__ = [
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]
