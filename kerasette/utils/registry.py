"""One name table per family (activations, initializers, ...) and the
`get` / `serialize` / `deserialize` trio built on it; and the model classes
that files name, which saving rebuilds without importing them.

It sits low (it imports nothing of kerasette) so that every family, the
models and the loaders can import it without importing one another.

Configs use tf.keras 2's nested form so files interchange with Keras:
`{"module": "keras.initializers", "class_name": "GlorotUniform",
"config": {"seed": None}, "registered_name": None}`.
"""

from __future__ import annotations

import difflib

# User classes and functions registered with `register_serializable`,
# keyed by "Package>Name" and by plain name.
_CUSTOM_OBJECTS: dict[str, object] = {}


def register_serializable(package: str = "Custom", name: str | None = None):
    """Decorator that makes a user class or function loadable by name.

    Example:
        >>> @register_serializable(package="demo")
        ... def my_activation(x):
        ...     return x
    """

    def decorator(obj):
        key = name or obj.__name__
        _CUSTOM_OBJECTS[f"{package}>{key}"] = obj
        _CUSTOM_OBJECTS[key] = obj
        obj._registered_name = f"{package}>{key}"
        return obj

    return decorator


def _norm(name: str) -> str:
    return name.replace("_", "").lower()


class NameTable:
    """Names (and aliases) of one family, looked up case- and underscore-blind.

    Args:
        family: the family's singular name, for messages ("activation").
        module: the Keras module path written into configs.
    """

    def __init__(self, family: str, module: str):
        self.family = family
        self.module = module
        self._by_name: dict[str, object] = {}
        self._display: list[str] = []

    def register(self, obj, *names):
        for n in names or (obj.__name__,):
            self._by_name[_norm(n)] = obj
            self._display.append(n)
        return obj

    def names(self) -> list[str]:
        return sorted(set(self._display))

    def lookup(self, name: str, custom_objects=None):
        """The object registered under `name`; a clear `ValueError` if none."""
        for table in (custom_objects or {}, _CUSTOM_OBJECTS):
            if name in table:
                return table[name]
        obj = self._by_name.get(_norm(name))
        if obj is None:
            close = difflib.get_close_matches(name, self.names(), n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ValueError(
                f"Unknown {self.family}: {name!r}.{hint} Valid {self.family}s: "
                f"{', '.join(self.names())}. Custom ones can be passed in "
                "custom_objects or registered with "
                "kerasette.saving.register_serializable."
            )
        return obj

    def serialize(self, obj) -> dict | str | None:
        """A class instance becomes its nested config dict; None stays None."""
        if obj is None:
            return None
        return {
            "module": self.module,
            "class_name": type(obj).__name__,
            "config": obj.get_config(),
            # The class's own registration only: a subclass must not inherit
            # its parent's name (it would load back as the parent).
            "registered_name": vars(type(obj)).get("_registered_name"),
        }

    def deserialize(self, config, custom_objects=None):
        """Rebuilds an object from a name or a nested config dict."""
        if config is None:
            return None
        if isinstance(config, str):
            obj = self.lookup(config, custom_objects)
            return obj() if isinstance(obj, type) else obj
        if isinstance(config, dict) and "class_name" in config:
            name = config.get("registered_name") or config["class_name"]
            try:
                cls = self.lookup(name, custom_objects)
            except ValueError:
                cls = self.lookup(config["class_name"], custom_objects)
            inner = config.get("config") or {}
            if isinstance(cls, type):
                return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)
            return cls
        raise ValueError(
            f"Could not interpret {self.family} config: {config!r}. Expected a "
            "name or a dict with 'class_name' and 'config'."
        )


# Model classes by the `class_name` files write for them ("Sequential"),
# filled in by the classes themselves (`register_model_class`): the loaders
# look a model class up here rather than import the models package, which
# imports the trainer, the layers and, through them, almost everything.
_MODEL_CLASSES: dict[str, type] = {}


def register_model_class(*names: str):
    """Class decorator: files naming the class as one of `names` (by
    default, the class's own name) rebuild as it, with `from_config`.

    Built-in model classes register themselves this way
    (`@register_model_class("Sequential")`); a user's subclass is not
    registered unless it says so.
    """

    def decorator(cls):
        for name in names or (cls.__name__,):
            _MODEL_CLASSES[name] = cls
        return cls

    return decorator


def model_class(name: str):
    """The model class registered under exactly `name`, or None.

    Example:
        >>> import kerasette as keras
        >>> model_class("Sequential") is keras.Sequential
        True
    """
    return _MODEL_CLASSES.get(name)


def is_model(layer) -> bool:
    """Whether `layer` is a `Sequential` or functional model, by the
    registered classes (so that saving imports no model class)."""
    return any(cls is not None and isinstance(layer, cls)
               for cls in (model_class("Sequential"), model_class("Functional")))

