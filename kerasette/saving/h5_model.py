"""Full models in Keras's legacy HDF5 file (`model.save("m.h5")`).

Written in tf.keras 2's dialect, which tf.keras 2.21 and Keras 3 both load
(the fixtures' H5_FORMAT.md, section 13): root attributes `keras_version`,
`backend`, `model_config`, `training_config`; the `model_weights` group;
and `optimizer_weights` with the iteration count and slots in tf.keras's
naming, so kerasette resumes training exactly. Read: both Keras dialects.
"""

from __future__ import annotations

import json
import logging
import os

import numpy as np

from kerasette.saving import training_config as tc
from kerasette.saving import weights_h5
from kerasette.saving.errors import (CONFIG_ERRORS, ModelFileError, rebuilding, refuse_code,
                                      too_large)
from kerasette.saving.h5_guard import H5_ERRORS, H5Reader
from kerasette.utils.dialects import KERAS2_VERSION
from kerasette.utils.registry import model_class

_log = logging.getLogger("kerasette")



def save_model_h5(model, path, include_optimizer=True):
    """Writes `model` (config, weights, compile state, optimizer state)."""
    if not model.built:
        raise ValueError("save() needs a built model: give the first layer an input_shape, "
                         "call the model on data, or build() it.")
    model_config = {"class_name": type(model).__name__, "config": model.get_config()}
    _drop_default_time_major(model_config)
    train_config = None
    if include_optimizer and getattr(model, "_compiled", False):
        train_config = tc.training_config(model)

    def write(f):
        f.attrs["keras_version"] = KERAS2_VERSION
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps(model_config).encode("utf8")
        if train_config is not None:
            f.attrs["training_config"] = json.dumps(train_config).encode("utf8")
        weights_h5.write_legacy_group(f.create_group("model_weights"), model)
        optimizer = getattr(model, "optimizer", None)
        if train_config is not None and optimizer is not None and optimizer.built:
            _write_optimizer(f.create_group("optimizer_weights"), optimizer)

    weights_h5.atomic_write(path, write)


_RECURRENT = ("SimpleRNN", "LSTM", "GRU")


def _drop_default_time_major(entry):
    """Leaves `time_major: false` out of recurrent layers' configs, nested
    ones included (Bidirectional, TimeDistributed, models). tf.keras 2
    writes the key, and Keras 3 refuses it ("Unrecognized keyword arguments
    ... time_major"), even in tf.keras's own files; without it tf.keras 2
    takes its default, False, so both Kerases read the file."""
    if isinstance(entry, list):
        for item in entry:
            _drop_default_time_major(item)
    elif isinstance(entry, dict):
        config = entry.get("config")
        if entry.get("class_name") in _RECURRENT and isinstance(config, dict) \
                and config.get("time_major") is False:
            del config["time_major"]
        for value in entry.values():
            if isinstance(value, (dict, list)):
                _drop_default_time_major(value)


def _write_optimizer(group, optimizer):
    variables = _legacy_slot_order(list(optimizer.variables))
    if _slot_free_in_legacy(tc.optimizer_config(optimizer)):  # what training_config names
        variables = variables[:1]
    group.attrs["weight_names"] = [v.name.encode("utf8") for v in variables]
    for v in variables:
        group.create_dataset(v.name, data=v.numpy())


def _slot_free_in_legacy(written_config):
    """Whether the file names an optimizer whose legacy tf.keras 2 class has
    no slots: SGD without momentum. tf.keras 2.21 rebuilds that class from
    the plain name and fills it by position, so the step count must be the
    only array; kerasette's `m` slot (tf.keras 2.11+'s layout) is then
    write-only (overwritten by every step, never read), so leaving it out
    loses nothing (`_fills_slot_free_sgd`)."""
    config = written_config.get("config", {})
    return (written_config.get("class_name") == "SGD" and not config.get("momentum")
            and not config.get("use_ema"))


def _legacy_slot_order(variables):
    """The step count, then each kind of slot over all the weights (every
    `m`, then every `v`): the order of tf.keras 2's legacy optimizer_v2
    classes. tf.keras 2.21 builds one of those from the plain optimizer name
    written here (the fixtures' H5_FORMAT.md, section 13) and fills it by
    position, so Adam's per-weight `m, v` pairs (tf.keras 2.11+'s order)
    made it drop the whole state. The names stay tf.keras 2.11+'s; kerasette
    reads either order by name (`restore_optimizer`)."""
    def kind(v):  # "Adam/m/dense/kernel:0" -> "m"
        parts = v.name.split("/")
        return parts[1] if len(parts) > 2 else ""

    first_seen = {}
    for v in variables[1:]:
        first_seen.setdefault(kind(v), len(first_seen))
    return variables[:1] + sorted(variables[1:], key=lambda v: first_seen[kind(v)])


def _attr_json(reader, f, key, required):
    path = reader.path
    if key not in f.attrs:
        if required:
            raise ModelFileError(path, f"holds no {key!r}: it is not a Keras model file "
                                       "(for a weights-only file use model.load_weights).")
        return None
    raw = reader.attr(f, key)  # size-checked before it is read
    if isinstance(raw, np.ndarray) and raw.shape == ():
        raw = raw[()]
    try:
        return json.loads(raw.decode("utf8") if isinstance(raw, bytes) else raw)
    except (TypeError, ValueError, RecursionError) as err:  # RecursionError: deep nesting
        raise ModelFileError(path, f"{key!r} is not valid JSON ({err}).") from err


def check_safe(config, path, safe_mode):
    """Refuses layers that would need code from the file to run, at any
    depth (a Lambda inside a nested model too), with or without
    `safe_mode`."""
    del safe_mode  # refused either way: kerasette never runs code from a file
    refuse_code(config, path, "model_config",
                hint=" Or rebuild the model in code and load the weights with "
                     "model.load_weights(path).")


def build_model(model_config, path, custom_objects, safe_mode):
    """A model from a `model_config` dict, with file-named errors.

    The class is the one registered under the config's `class_name`
    (`kerasette.utils.registry.register_model_class`): this module imports
    no model class.
    """
    if not isinstance(model_config, dict) or "class_name" not in model_config:
        raise ModelFileError(path, "'model_config' has no 'class_name'.")
    name = model_config["class_name"]
    cls = model_class(name) if isinstance(name, str) else None
    if cls is None:
        raise ModelFileError(path, f"holds a {name!r} model; kerasette loads Sequential and "
                                   "functional models.")
    config = model_config.get("config")
    check_safe(config, path, safe_mode)
    try:
        return cls.from_config(config, custom_objects=custom_objects)
    except ModelFileError:
        raise
    except MemoryError as err:
        raise too_large(path, err) from err
    except CONFIG_ERRORS as err:
        raise ModelFileError(path, f"cannot rebuild the model from its config: {err}") from err


def load_model_h5(path, custom_objects=None, compile=True, safe_mode=True):
    """Reads a full-model `.h5` file written by kerasette, tf.keras 2 or Keras 3."""
    path = os.fspath(path)
    with H5Reader(path, path) as reader:
        f = reader.file
        try:
            model_config = _attr_json(reader, f, "model_config", required=True)
            # Read only when used: compile=False loads past a damaged one.
            train_config = (_attr_json(reader, f, "training_config", required=False)
                            if compile else None)
            with rebuilding(path, reader.stored_elements):  # no larger than the weights
                model = build_model(model_config, path, custom_objects, safe_mode)
            if not model.built:
                raise ModelFileError(path, "the model config declares no input shape.")
            if "model_weights" not in f:
                raise ModelFileError(path, "has no 'model_weights' group.")
            plan = weights_h5.read_plan_legacy(reader, f["model_weights"], model)
            opt_values = None
            if compile and train_config is not None:
                _compile(model, train_config, path, custom_objects)
                if "optimizer_weights" in f:
                    opt_values = _read_optimizer(reader, f["optimizer_weights"], model)
        except ModelFileError:
            raise
        except H5_ERRORS as err:
            raise ModelFileError(path, f"damaged or inconsistent model file ({err}).") from err
    for variable, value in plan:
        variable.assign(value)
    if opt_values is not None:
        restore_optimizer(model, opt_values, path)
    return model


def _compile(model, train_config, path, custom_objects):
    try:
        tc.compile_from_config(model, train_config, custom_objects)
    except CONFIG_ERRORS as err:
        raise ModelFileError(path, f"cannot restore the compiled state: {err}. Load with "
                                   "compile=False and compile the model yourself.") from err


def _read_optimizer(reader, group, model):
    names = reader.names(group, "weight_names")
    # Every optimizer array is a step count, a rate or a slot shaped like a
    # model weight: anything larger is damage, refused before it is read.
    limit = max([1] + [int(np.prod(w.shape)) for w in model.weights])
    values = []
    for name in names:
        if name not in group:
            raise ModelFileError(reader.path, f"optimizer weight {name!r} is listed but missing.")
        values.append((name, np.asarray(reader.dataset(group, name, limit))))
    return values


def _step_count(value):
    """`value` as a step count, or None if it cannot be one (damaged)."""
    if np.ndim(value) != 0 or not np.issubdtype(np.asarray(value).dtype, np.number):
        return None
    step = np.asarray(value).item()
    if isinstance(step, float) and not (np.isfinite(step) and step.is_integer()):
        return None
    return int(step) if 0 <= step < 2 ** 62 else None


def _fills_slot_free_sgd(optimizer):
    """Whether the step count alone is the exact state of `optimizer`: SGD
    without momentum, whose `m` slot each step overwrites before any read."""
    return (type(optimizer).__name__ == "SGD" and not getattr(optimizer, "momentum", 0)
            and not getattr(optimizer, "use_ema", False))


def restore_optimizer(model, named_values, path):
    """Puts saved optimizer state back: exactly when it fits, else (a file
    from another optimizer layout, such as Keras 3's) the step count only."""
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)
    named_values = [(name, v) for name, v in named_values
                    if not name.split("/")[-1].startswith("learning_rate")]  # Keras 3 stores it
    expected = list(optimizer.variables)
    by_name = dict(named_values)
    names = [w.name for w in expected]
    if len(by_name) == len(named_values) == len(set(names)) == len(names) and set(
            by_name) == set(names):
        # tf.keras 2.11+ names, in its order or in the legacy one kerasette writes.
        named_values = [(name, by_name[name]) for name in names]
    values = [v for _, v in named_values]
    step = _step_count(values[0]) if values else None
    if step is not None and len(values) == 1 and _fills_slot_free_sgd(optimizer):
        optimizer.iterations.assign(step)  # the whole state (_slot_free_in_legacy)
        return
    if step is not None and len(values) == len(expected) and all(
            tuple(v.shape) == w.shape for v, w in zip(values, expected)):
        optimizer.set_weights([np.asarray(step, dtype=np.int64)] + values[1:])
        return
    if step is not None:
        optimizer.iterations.assign(step)
    _log.warning("%s: the saved optimizer state (%d arrays) does not match %s's %d variables; "
                 "restored %s.", path, len(values), optimizer.name, len(expected),
                 "the step count only" if step is not None else "nothing (no valid step count)")
