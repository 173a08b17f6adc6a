"""The compiled state in a file: `training_config` JSON both Kerases read.

Written in the portable form of the fixtures' H5_FORMAT.md (section 13):
full loss names, metric class configs, a plain optimizer class name with
the arguments both tf.keras 2 and Keras 3 accept. Read back from that form,
from tf.keras 2's own (`Custom>Adam`, nested MeanMetricWrapper lists) and
from Keras 3's.
"""

from __future__ import annotations

from kerasette import losses, metrics, optimizers
from kerasette.training.compile_utils import metrics_per_output, per_output

# Optimizer arguments that only the tf.keras 2.11+ classes understand; the
# legacy classes tf.keras builds from a plain name (and Keras 3) reject
# them, so they are written only when they differ from the defaults.
_OPTIONAL_OPTIMIZER_KEYS = {
    "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
    "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
}
_NEVER_WRITTEN = ("jit_compile", "is_legacy_optimizer")

_ACCURACY_CLASSES = {
    "sparse_categorical_accuracy": "SparseCategoricalAccuracy",
    "categorical_accuracy": "CategoricalAccuracy",
    "binary_accuracy": "BinaryAccuracy",
}


def optimizer_config(optimizer) -> dict:
    config = dict(optimizer.get_config())
    for key in _NEVER_WRITTEN:
        config.pop(key, None)
    for key, default in _OPTIONAL_OPTIMIZER_KEYS.items():
        if key in config and (config[key] == default or (key == "ema_overwrite_frequency"
                                                         and not config.get("use_ema"))):
            del config[key]
    return {"class_name": type(optimizer).__name__, "config": config}


def _loss_config(model):
    return _one_loss_config(model.loss, model.compiled_loss.loss)


def _one_loss_config(spec, loss):
    """One output's loss as both Kerases read it: the full function name for
    a name or a function (`"mse"` -> `"mean_squared_error"`), a class config
    for a loss object. `spec` is what the user passed, `loss` its object."""
    if isinstance(spec, str):
        return losses.serialize(losses.get(spec))
    if type(loss).__name__ == "LossFunctionWrapper":
        return losses.serialize(loss.fn) if hasattr(loss, "fn") else loss.name
    config = _plain(losses.serialize(loss))
    inner = config.get("config") if isinstance(config, dict) else None
    if isinstance(inner, dict) and inner.get("reduction") == "auto":
        # tf.keras 2 reads "sum_over_batch_size" too (what "auto" means in
        # `fit`); Keras 3 refuses "auto", also in tf.keras 2's own files.
        config = {**config, "config": {**inner, "reduction": "sum_over_batch_size"}}
    return config


def _plain(config):
    """`{"class_name", "config"}` only: the form both loaders accept."""
    if isinstance(config, dict) and "class_name" in config:
        return {"class_name": config["class_name"], "config": config.get("config", {})}
    return config


def _metric_configs(model, weighted):
    container = model.compiled_metrics
    out = []
    for (spec, is_weighted), name in zip(container._specs, container.names):
        if is_weighted != weighted:
            continue
        out.append(_metric_config(spec, name, model))
    return out or None


def _metric_config(spec, name, model):
    if isinstance(spec, str) and spec in ("accuracy", "acc"):
        fn = _accuracy_kind(model)
        return {"class_name": _ACCURACY_CLASSES[fn], "config": {"name": name, "dtype": "float32"}}
    if isinstance(spec, str):
        obj = metrics.get(spec)
        if isinstance(obj, metrics.Metric):
            return _plain(metrics.serialize(obj))
        cls = _class_for_function(obj)
        if cls is not None:
            return {"class_name": cls, "config": {"name": name, "dtype": "float32"}}
        return spec
    if isinstance(spec, metrics.Metric):
        return _plain(metrics.serialize(spec))
    return getattr(spec, "__name__", name)


def _class_for_function(fn):
    """`mean_absolute_error` -> `"MeanAbsoluteError"` when that class exists."""
    camel = "".join(part.capitalize() for part in getattr(fn, "__name__", "").split("_"))
    return camel if isinstance(getattr(metrics, camel, None), type) else None


def _accuracy_kind(model):
    """What "accuracy" resolved to, or would resolve to, for this model."""
    built = model.compiled_metrics.metrics
    if built:
        for (spec, _), (metric, _) in zip(model.compiled_metrics._specs, built):
            if isinstance(spec, str) and spec in ("accuracy", "acc"):
                fn = getattr(metric, "_fn", None) or getattr(metric, "fn", None)
                fn_name = getattr(fn, "__name__", fn)
                if fn_name in _ACCURACY_CLASSES:
                    return fn_name
    loss_name = getattr(model.compiled_loss.loss, "name", "")
    if "sparse" in str(loss_name) or (isinstance(model.loss, str) and "sparse" in model.loss):
        return "sparse_categorical_accuracy"
    units = model.compute_output_shape(model._build_input_shape)[-1] if model.built else None
    return "binary_accuracy" if units == 1 else "categorical_accuracy"


def training_config(model) -> dict:
    """The `training_config` of a compiled model, in the portable form."""
    if hasattr(model.compiled_loss, "output_names"):
        return _multi_output_training_config(model)
    return {
        "loss": _loss_config(model),
        "metrics": _metric_configs(model, weighted=False),
        "weighted_metrics": _metric_configs(model, weighted=True),
        "loss_weights": None if model.compiled_loss.weight == 1.0 else model.compiled_loss.weight,
        "optimizer_config": optimizer_config(model.optimizer),
    }


def _multi_output_training_config(model) -> dict:
    """A model with several outputs: losses, metrics and loss weights as
    dicts by output name, the form tf.keras 2 and Keras 3 both read.
    Outputs without a loss are left out of `loss`."""
    compiled = model.compiled_loss
    names = compiled.output_names
    specs = per_output(compiled.given[0], names, "loss")
    loss = {name: _one_loss_config(spec, obj)
            for name, spec, obj in zip(names, specs, compiled.losses) if obj is not None}
    weights = None
    if any(w != 1.0 for w in compiled.weights):
        weights = dict(zip(names, compiled.weights))
    given, given_weighted = model.compiled_metrics.given
    return {
        "loss": loss,
        "metrics": _per_output_metric_configs(given, names),
        "weighted_metrics": _per_output_metric_configs(given_weighted, names),
        "loss_weights": weights,
        "optimizer_config": optimizer_config(model.optimizer),
    }


def _per_output_metric_configs(given, names):
    """`{output name: [metric]}` from what the user passed to `compile`:
    names stay names ("accuracy" resolves again on load from the shapes),
    metric objects become class configs, functions their names."""
    if not given:
        return None
    out = {}
    for name, specs in zip(names, metrics_per_output(given, names, "metrics")):
        entries = []
        for spec in specs:
            if isinstance(spec, str):
                entries.append(spec)
            elif isinstance(spec, metrics.Metric):
                entries.append(_plain(metrics.serialize(spec)))
            else:
                entries.append(getattr(spec, "__name__", str(spec)))
        if entries:
            out[name] = entries
    return out or None


def _flatten(value):
    if value is None:
        return []
    if isinstance(value, dict) and "class_name" not in value:
        value = list(value.values())
    if not isinstance(value, (list, tuple)):
        return [value]
    out = []
    for v in value:
        out.extend(_flatten(v))
    return out


def _metric_from_config(config, custom_objects):
    if isinstance(config, str):
        # A user function named in custom_objects; compile() cannot see those.
        if custom_objects and config in custom_objects:
            return metrics.deserialize(config, custom_objects=custom_objects)
        metrics.get(config)  # fails now, naming the file, rather than in fit()
        return config
    return metrics.deserialize(config, custom_objects=custom_objects)


def compile_from_config(model, config, custom_objects=None):
    """Compiles `model` as `training_config` says (tf.keras 2, Keras 3 or ours)."""
    optimizer = optimizers.deserialize(config["optimizer_config"], custom_objects=custom_objects)
    names = list(getattr(model, "output_names", None) or [])
    if len(names) > 1:
        return _compile_several_outputs(model, config, optimizer, names, custom_objects)
    loss = config.get("loss")
    if isinstance(loss, dict):
        loss = losses.deserialize(loss, custom_objects=custom_objects)
    elif isinstance(loss, str):
        if custom_objects and loss in custom_objects:  # compile() cannot see those
            loss = losses.deserialize(loss, custom_objects=custom_objects)
        else:
            losses.get(loss)  # fails early, with the list of names, if unknown
    model.compile(
        optimizer=optimizer,
        loss=loss,
        metrics=[_metric_from_config(m, custom_objects) for m in _flatten(config.get("metrics"))],
        weighted_metrics=[_metric_from_config(m, custom_objects)
                          for m in _flatten(config.get("weighted_metrics"))],
        loss_weights=config.get("loss_weights"),
    )


def _compile_several_outputs(model, config, optimizer, names, custom_objects):
    """`compile_from_config` for a model with several outputs: `loss`,
    `metrics`, `weighted_metrics` and `loss_weights` one for all, a list in
    output order, or a dict by output name (tf.keras 2 and Keras 3 write
    either form), each entry rebuilt as for one output."""
    def one_loss(entry):
        if entry is None:
            return None
        if isinstance(entry, dict):
            return losses.deserialize(entry, custom_objects=custom_objects)
        if custom_objects and entry in custom_objects:
            return losses.deserialize(entry, custom_objects=custom_objects)
        losses.get(entry)  # fails early, with the list of names, if unknown
        return entry

    loss = config.get("loss")
    if isinstance(loss, dict) and "class_name" not in loss:
        loss = {name: one_loss(entry) for name, entry in loss.items()}
    elif isinstance(loss, (list, tuple)):
        loss = [one_loss(entry) for entry in loss]
    else:
        loss = one_loss(loss)

    def for_output(name, entry):
        out = []
        for config in _flatten(entry):
            metric = _metric_from_config(config, custom_objects)
            # tf.keras 2 writes the reported name ("cls_accuracy"); compile
            # puts the output's name in front again, so it comes off here.
            if isinstance(metric, metrics.Metric) and metric.name.startswith(f"{name}_"):
                metric.name = metric.name[len(name) + 1:]
            out.append(metric)
        return out

    def metric_lists(value):
        if value is None:
            return None
        if isinstance(value, dict) and "class_name" not in value:
            return {name: for_output(name, entry) for name, entry in value.items()}
        if isinstance(value, (list, tuple)) and value and all(
                isinstance(v, (list, tuple)) or v is None for v in value):
            return [for_output(name, entry) for name, entry in zip(names, value)]
        return [_metric_from_config(m, custom_objects) for m in _flatten(value)]

    model.compile(optimizer=optimizer, loss=loss,
                  metrics=metric_lists(config.get("metrics")),
                  weighted_metrics=metric_lists(config.get("weighted_metrics")),
                  loss_weights=config.get("loss_weights"))
