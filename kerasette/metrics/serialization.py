"""Metric names: the name table, `get`, `serialize`, `deserialize`, and
`compile`'s resolution of `"accuracy"` and the other identifiers
(`get_accuracy_metric`, `get_metric_object`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from kerasette.metrics.accuracy_metrics import (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, _binary_matches_fn, accuracy,
    binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy, top_k_categorical_accuracy,
)
from kerasette.metrics.auc import AUC
from kerasette.metrics.base import Mean, MeanMetricWrapper, MeanTensor, Metric, Sum
from kerasette.metrics.confusion import (
    FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall, RecallAtPrecision,
    SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives, TruePositives,
)
from kerasette.metrics.f_score import F1Score, FBetaScore
from kerasette.metrics.iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from kerasette.metrics.probabilistic import (
    BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge, Hinge, KLDivergence, Poisson,
    SparseCategoricalCrossentropy, SquaredHinge, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, categorical_focal_crossentropy, hinge, kl_divergence, kld, poisson,
    sparse_categorical_crossentropy, squared_hinge,
)
from kerasette.metrics.regression import (
    CosineSimilarity, LogCoshError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanRelativeError, MeanSquaredError, MeanSquaredLogarithmicError, R2Score,
    RootMeanSquaredError, log_cosh, logcosh, mae, mape, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error, mse, msle,
)
from kerasette.utils.registry import NameTable


Shape = Sequence  # a tuple of ints (None for an unknown batch size)


# -- "accuracy" and friends, resolved from shapes --------------------------------------
_RESOLVED_NAMES = ("accuracy", "acc", "crossentropy", "ce")


def _shape_of(value, what) -> tuple:
    shape = getattr(value, "shape", value)
    try:
        shape = tuple(shape)
    except TypeError:
        raise ValueError(f"get_accuracy_metric needs the shape of {what} (a tuple such as "
                         f"(None, 1)). Received: {value!r}") from None
    if not shape:
        raise ValueError(f"get_accuracy_metric needs {what} of rank >= 1. "
                         f"Received shape {shape}.")
    return shape


def get_accuracy_metric(name: str, y_true_shape: Shape, y_pred_shape: Shape,
                        loss=None) -> MeanMetricWrapper:
    """Resolves `"accuracy"`/`"acc"` (or `"crossentropy"`/`"ce"`) from shapes.

    tf.keras 2's `compile_utils.MetricsContainer._get_metric_object`:
    `is_binary = y_pred_last_dim == 1`; `is_sparse = y_true_rank <
    y_pred_rank or (y_true_last_dim == 1 and y_pred_last_dim > 1)`; binary
    wins, then sparse, else categorical. The result is a `MeanMetricWrapper`
    over `binary_accuracy`, `sparse_categorical_accuracy` or
    `categorical_accuracy` (or the matching cross-entropy) named exactly as
    the user wrote it, which is what tf.keras 2 writes into model files:
    `{"class_name": "MeanMetricWrapper", "config": {"name": "accuracy",
    "dtype": "float32", "fn": "sparse_categorical_accuracy"}}`.

    Args:
        name: `"accuracy"`, `"acc"`, `"crossentropy"` or `"ce"` (any case);
            the metric keeps this spelling as its name.
        y_true_shape: shape of the labels (a tuple, `None` for unknown
            sizes; an array or tensor also works).
        y_pred_shape: shape of the model's output.
        loss: the compiled loss. Accepted and ignored, as in tf.keras 2's
            eager `compile`: with `loss="binary_crossentropy"` and a last
            dimension above 1 (multi-label sigmoid outputs) "accuracy" is
            categorical accuracy there too; only tf.keras 1's graph mode
            looked at the loss. Ask for `BinaryAccuracy()` explicitly.

    Returns:
        A `MeanMetricWrapper` named `name`.

    Raises:
        ValueError: for another name or a shape of rank 0.

    Example:
        >>> m = get_accuracy_metric("accuracy", (None,), (None, 3))
        >>> m.name, m.get_config()["fn"]
        ('accuracy', 'sparse_categorical_accuracy')
    """
    if not isinstance(name, str) or name.lower() not in _RESOLVED_NAMES:
        raise ValueError(f"get_accuracy_metric resolves {', '.join(map(repr, _RESOLVED_NAMES))}. "
                         f"Received: name={name!r}")
    del loss  # tf.keras 2 (eager compile) does not look at it.
    t_shape = _shape_of(y_true_shape, "y_true")
    p_shape = _shape_of(y_pred_shape, "y_pred")
    t_last, p_last = t_shape[-1], p_shape[-1]
    is_binary = p_last == 1
    is_sparse = len(t_shape) < len(p_shape) or (
        t_last == 1 and p_last is not None and p_last > 1)
    if name.lower() in ("accuracy", "acc"):
        fn = (binary_accuracy if is_binary else
              sparse_categorical_accuracy if is_sparse else categorical_accuracy)
    else:
        fn = (binary_crossentropy if is_binary else
              sparse_categorical_crossentropy if is_sparse else categorical_crossentropy)
    return MeanMetricWrapper(fn, name=name)


def get_metric_object(identifier, y_true_shape: Shape | None = None,
                      y_pred_shape: Shape | None = None, loss=None) -> Metric | None:
    """Turns one entry of `compile(metrics=[...])` into a `Metric`, as tf.keras 2.

    Args:
        identifier: `None`, `"accuracy"`/`"acc"`/`"crossentropy"`/`"ce"`
            (resolved from the shapes), another name (`"mae"`, `"AUC"`), a
            config dict, a function (wrapped in a `MeanMetricWrapper` named
            after it), a `Metric` (returned as is) or a `Metric` class
            (instantiated).
        y_true_shape: shape of the labels (needed for the resolved names).
        y_pred_shape: shape of the model's output.
        loss: passed on to `get_accuracy_metric` (which ignores it).

    Returns:
        A `Metric` (its name is the string the user gave, for names), or
        `None` for `None`.

    Example:
        >>> get_metric_object("mae").name
        'mae'
        >>> type(get_metric_object("AUC")).__name__
        'AUC'
    """
    if identifier is None:
        return None
    if isinstance(identifier, str) and identifier.lower() in _RESOLVED_NAMES:
        if y_true_shape is None or y_pred_shape is None:
            raise ValueError(f"The metric {identifier!r} is resolved from the shapes of y_true "
                             "and y_pred; pass y_true_shape and y_pred_shape.")
        return get_accuracy_metric(identifier, y_true_shape, y_pred_shape, loss=loss)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    obj = get(identifier)
    if isinstance(obj, Metric):
        return obj
    name = identifier if isinstance(identifier, str) else _fn_name(obj)
    return MeanMetricWrapper(obj, name=name)


# -- names -------------------------------------------------------------------------------
_TABLE = NameTable("metric", "keras.metrics")
_EXACT: dict[str, object] = {}

_FUNCTIONS: tuple[Callable, ...] = (
    accuracy, binary_accuracy, binary_crossentropy, binary_focal_crossentropy,
    categorical_accuracy, categorical_crossentropy, categorical_focal_crossentropy, hinge,
    kl_divergence, log_cosh, poisson, squared_hinge, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error,
    sparse_categorical_accuracy, sparse_categorical_crossentropy,
    sparse_top_k_categorical_accuracy, top_k_categorical_accuracy,
)
_FUNCTION_NAMES = {fn: fn.__name__ for fn in _FUNCTIONS}
# The 0/1 accuracies whose host update counts hits (`_host_hits_updater`).
_HOST_HITS = {sparse_categorical_accuracy: "sparse", categorical_accuracy: "categorical",
              binary_accuracy: "binary_mean", _binary_matches_fn: "binary"}
_ALIASES = {"acc": accuracy, "ACC": accuracy, "mse": mse, "MSE": mse, "mae": mae, "MAE": mae,
            "mape": mape, "MAPE": mape, "msle": msle, "MSLE": msle, "kld": kld, "KLD": kld,
            "kullback_leibler_divergence": kld, "logcosh": logcosh}
_CLASSES: tuple[type, ...] = (
    AUC, Accuracy, BinaryAccuracy, BinaryCrossentropy, BinaryIoU, CategoricalAccuracy,
    CategoricalCrossentropy, CategoricalHinge, CosineSimilarity, F1Score, FBetaScore,
    FalseNegatives, FalsePositives, Hinge, IoU, KLDivergence, LogCoshError, Mean,
    MeanAbsoluteError, MeanAbsolutePercentageError, MeanIoU, MeanMetricWrapper,
    MeanRelativeError, MeanSquaredError, MeanSquaredLogarithmicError, MeanTensor, OneHotIoU,
    OneHotMeanIoU, Poisson, Precision, PrecisionAtRecall, R2Score, Recall,
    RecallAtPrecision, RootMeanSquaredError, SensitivityAtSpecificity,
    SparseCategoricalAccuracy, SparseCategoricalCrossentropy, SparseTopKCategoricalAccuracy,
    SpecificityAtSensitivity, SquaredHinge, Sum, TopKCategoricalAccuracy, TrueNegatives,
    TruePositives,
)
# Exact spellings first: "mean_squared_error" is the function and
# "MeanSquaredError" the class, as in tf.keras 2. The case- and
# underscore-blind table (for other spellings and suggestions) lets the
# class win where the two normalise alike.
for _fn in _FUNCTIONS:
    _EXACT[_fn.__name__] = _fn
    _TABLE.register(_fn, _fn.__name__)
for _alias, _fn in _ALIASES.items():
    _EXACT[_alias] = _fn
    _TABLE.register(_fn, _alias)
for _cls in _CLASSES:
    _EXACT[_cls.__name__] = _cls
    _TABLE.register(_cls, _cls.__name__)


def _lookup(name: str, custom_objects=None):
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _EXACT:
        return _EXACT[name]
    return _TABLE.lookup(name, custom_objects)


def _fn_name(fn) -> str:
    """The name a metric function is serialized under."""
    try:
        return _FUNCTION_NAMES[fn]
    except (KeyError, TypeError):  # TypeError: an unhashable callable object
        pass
    registered = getattr(fn, "_registered_name", None)
    if registered:
        return registered
    name = getattr(fn, "__name__", None)
    if not name or name == "<lambda>":
        raise ValueError(f"Metric function {fn!r} cannot be serialized: it has no name. Use a "
                         "named function registered with kerasette.saving.register_serializable.")
    return name


def serialize(metric):
    """What tf.keras 2 writes for a metric.

    Args:
        metric: a `Metric` instance, or a metric function.

    Returns:
        For a `Metric`, the nested dict `{"module": "keras.metrics",
        "class_name": "AUC", "config": {...}, "registered_name": None}`; for a
        function, its name (`"mean_squared_error"`).

    Raises:
        ValueError: for anything else.

    Example:
        >>> serialize(CategoricalAccuracy(name="accuracy"))["config"]
        {'name': 'accuracy', 'dtype': 'float32'}
        >>> serialize(mse)
        'mean_squared_error'
    """
    if isinstance(metric, Metric):
        return _TABLE.serialize(metric)
    if isinstance(metric, str):
        obj = _lookup(metric)
        return obj.__name__ if isinstance(obj, type) else _fn_name(obj)
    if callable(metric):
        return _fn_name(metric)
    raise ValueError(f"metrics.serialize expects a Metric or a metric function. "
                     f"Received: {metric!r}")


def deserialize(config, custom_objects=None):
    """Builds a metric (or returns a metric function) from a name or config.

    Args:
        config: a function or class name (`"mse"`, `"binary_accuracy"`,
            `"AUC"`; case and underscores are forgiven for other spellings),
            or a config dict with `class_name` and `config` (the nested
            form, or the legacy `{"class_name": "MeanMetricWrapper",
            "config": {..., "fn": "sparse_categorical_accuracy"}}` of
            tf.keras 2 model files).
        custom_objects: optional dict of extra `name -> class or function`.

    Returns:
        A `Metric` instance for a class, the function for a function name.

    Raises:
        ValueError: for an unknown name (with the closest valid one).

    Example:
        >>> deserialize("mse") is mean_squared_error
        True
        >>> deserialize({"class_name": "AUC", "config": {"name": "auc_roc"}}).name
        'auc_roc'
    """
    if isinstance(config, str):
        obj = _lookup(config, custom_objects)
        return obj() if isinstance(obj, type) else obj
    if isinstance(config, dict) and "class_name" in config:
        inner = config.get("config")
        if config["class_name"] == "function":
            if not isinstance(inner, str):
                raise ValueError(f"Could not interpret metric function config: {config!r}")
            return _lookup(config.get("registered_name") or inner, custom_objects)
        name = config.get("registered_name") or config["class_name"]
        try:
            cls = _lookup(name, custom_objects)
        except ValueError:
            cls = _lookup(config["class_name"], custom_objects)
        if not isinstance(cls, type):
            return cls
        inner = dict(inner or {})
        if issubclass(cls, MeanMetricWrapper) and isinstance(inner.get("fn"), str):
            inner["fn"] = _lookup(inner["fn"], custom_objects)
        return cls.from_config(inner)
    raise ValueError(f"Could not interpret metric config: {config!r}. Expected a name or a "
                     "dict with 'class_name' and 'config'.")


def get(identifier):
    """Turns what `compile(metrics=...)` accepts into a metric or a function.

    As in tf.keras 2: a function name gives the function (`"mse"`,
    `"accuracy"` - the exact-match one; `compile` resolves `"accuracy"` by
    shape with `get_accuracy_metric`), a class name gives a new instance
    (`"AUC"`), a config dict is deserialized, a callable is returned as is.

    Args:
        identifier: a name, a config dict, or a callable.

    Returns:
        A `Metric` instance or a metric function.

    Raises:
        ValueError: for an unknown name or an identifier of another kind.

    Example:
        >>> get("mae") is mean_absolute_error
        True
        >>> type(get("Precision")).__name__
        'Precision'
    """
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
