"""The one error type for unreadable or inconsistent model files."""

import contextlib


class ModelFileError(ValueError):
    """A model or weights file is missing, foreign, damaged or does not fit
    the model. The message names the file and the problem."""

    def __init__(self, path, problem):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


# What rebuilding a model from a damaged config raises: wrong types and
# values (ValueError, TypeError, ...), absurd nesting (RecursionError).
CONFIG_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError,
                 NotImplementedError, OverflowError, RecursionError)


def too_large(path, err):
    """The error for a config whose model does not fit in memory (a damaged
    `units` or `filters`, say): raised when the allocation fails."""
    return ModelFileError(path, f"the config declares a model too large to build ({err}).")


@contextlib.contextmanager
def rebuilding(path, stored_values):
    """Rebuilding a model from the config of the file at `path`, whose
    datasets hold `stored_values` values (`H5Reader.stored_elements`): the
    layers may create about that many weight values, and a layer that
    declares more is refused before its weight is allocated
    (`kerasette.utils.weight_budget`), with an error naming it."""
    from kerasette.utils.weight_budget import WeightBudgetError, weight_budget

    with weight_budget(stored_values):
        try:
            yield
        except WeightBudgetError as err:
            raise ModelFileError(path, f"{err}. The config does not match the weights "
                                       "stored, so the model is not built (nothing was "
                                       "allocated for it).") from err


# Classes whose rebuilding would run code stored in the file (a Lambda's
# marshalled bytecode, Keras 3's serialized lambdas, TF op wrappers).
CODE_CLASSES = frozenset({"Lambda", "__lambda__", "TFOpLambda", "SlicingOpLambda"})


def code_object_in(config):
    """The first `(class_name, name)` anywhere in a config tree (nested
    models included) whose rebuilding would run code from the file, or None.

    Example:
        >>> code_object_in({"layers": [{"class_name": "Sequential", "config": {"layers": [
        ...     {"class_name": "Lambda", "config": {"name": "f"}}]}}]})
        ('Lambda', 'f')
    """
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            cls = node.get("class_name")
            if isinstance(cls, str) and cls in CODE_CLASSES:
                inner = node.get("config")
                return cls, inner.get("name") if isinstance(inner, dict) else None
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def refuse_code(config, path, where, hint=""):
    """Raises `ModelFileError` when `code_object_in(config)` finds an object
    whose rebuilding would run code from the file; `where` names the part of
    the file (`"config.json"`, `"model_config"`), `hint` adds a way out."""
    found = code_object_in(config)
    if found is None:
        return
    cls, name = found
    what = (f"a {cls} layer{f' ({name!r})' if name else ''}" if cls != "__lambda__"
            else "a serialized Python lambda")
    raise ModelFileError(path, f"{where} holds {what}. Rebuilding it would run code stored in "
                               "the file, which kerasette never does (also with "
                               "safe_mode=False). Rewrite it as a custom layer class and pass "
                               f"it in custom_objects.{hint}")
