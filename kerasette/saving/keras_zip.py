"""Keras 3's native format: three members, in a `.keras` zip archive or,
unzipped, in a folder (`keras.saving.save_model(model, path, zipped=False)`,
`kerasette.saving.keras_dir`). This module writes and reads the members;
the archive and the folder only store them.

* `metadata.json`: `{"keras_version": "3.15.1", "date_saved": "2025-01-31@12:00:00"}`.
* `config.json`: the model as Keras 3 serializes it,
  `{"module": "keras", "class_name": "Sequential", "config": {"name",
  "trainable", "dtype": <DTypePolicy dict>, "layers": [...],
  "build_input_shape"}, "registered_name": null, "build_config":
  {"input_shape": [...]}, "compile_config": {...}}`. Each layer entry carries
  `module`, `class_name`, `config` (Keras 3 keys: DTypePolicy dicts,
  `batch_shape` on the InputLayer, BatchNormalization `axis` as an int,
  `input_axes`/`output_axes` on variance-scaling initializers) and
  `registered_name`, plus `build_config` for layers that build weights or
  shapes (Keras 3 omits it for InputLayer, Activation, Dropout and Reshape).
* `model.weights.h5`: the `.weights.h5` layout (`layers/<snake class
  name>/vars/<i>`, `vars/`), plus `optimizer/vars/<i>` holding the
  optimizer's variables in Keras 3's order: `iteration`, `learning_rate`
  (absent when the rate is a schedule), then the slots.

The archive members are stored uncompressed, as Keras writes them. Saving
goes through a temporary file in the same folder and `os.replace`; loading
opens only a regular file (`sources.open_regular`), reads each member in
bounded memory, within the sizes it declares (`zip_member`), never runs
code from the file (no pickle, no marshalled lambdas), and every problem
with a file is a `ModelFileError` naming it.

Optimizer slots: kerasette's slot order equals Keras 3's for Adam, AdamW,
Adamax, Adagrad, Adadelta, Nadam and RMSprop (per variable interleaved
where Keras 3 interleaves, blocks where it uses blocks; `use_ema` averages
first). Differences handled here: Keras 3 has a `learning_rate` variable
after `iteration`; Keras 3's SGD has no slots when `momentum == 0` (kerasette
always keeps `m`, which is not read then); Keras 3's Nadam keeps its running
product `u_product` as a last scalar variable.
"""

from __future__ import annotations

import datetime
import io
import json
import math
import os
import warnings
import zipfile

import numpy as np

from kerasette.saving import atomic, zip_member
from kerasette.saving.errors import (CONFIG_ERRORS, ModelFileError, rebuilding, refuse_code,
                                      too_large)
from kerasette.saving.h5_guard import H5_ERRORS, MAX_ATTRIBUTE_BYTES, H5Reader
from kerasette.saving.sources import open_regular
from kerasette.training.compile_utils import metrics_per_output, per_output
from kerasette.utils.dialects import KERAS3_VERSION
from kerasette.utils.registry import is_model, model_class

METADATA = "metadata.json"
CONFIG = "config.json"
WEIGHTS = "model.weights.h5"
WEIGHTS_NPZ = "model.weights.npz"

_VARIANCE_SCALING = {"GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform",
                     "LecunNormal", "LecunUniform", "VarianceScaling"}
# Keras 3 layers without a `build` of their own carry no build_config.
_NO_BUILD_CONFIG = {"InputLayer", "Activation", "Dropout", "Reshape", "MaxPooling2D",
                    "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D"}
_NO_BUILD_CONFIG |= {"MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D",
                     "GlobalMaxPooling1D", "UpSampling1D", "Cropping1D", "ZeroPadding1D",
                     "RepeatVector"}
_NO_BUILD_CONFIG |= {"MaxPooling3D", "AveragePooling3D", "GlobalAveragePooling3D",
                     "GlobalMaxPooling3D"}

_POLICY = "DTypePolicy"


def _policy(name):
    return {"module": "keras", "class_name": _POLICY, "config": {"name": name},
            "registered_name": None}


# ----------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------
def save_model_keras(model, path, include_optimizer=True, overwrite=True):
    """Writes `model` as a Keras 3 `.keras` archive that Keras 3 loads.

    Args:
        model: a built kerasette `Sequential` or functional model.
        path: destination; must end in `.keras` (as in Keras 3).
        include_optimizer: with `False`, or for an uncompiled model, the
            archive's `compile_config` is empty (as Keras 3 writes it for
            an uncompiled model) and it holds no optimizer variables, so it
            loads back uncompiled.
        overwrite: with `False`, an existing file is an error.

    Raises:
        ValueError: for a name without `.keras` or an unbuilt model.
        TypeError: for a model that is neither a `Sequential` nor functional.
        FileExistsError: if the file exists and `overwrite` is False.
    """
    path = os.fspath(path)
    if not str(path).endswith(".keras"):
        raise ValueError(f"Invalid filepath: a .keras file name must end in '.keras'. "
                         f"Received: {path}")
    check_savable(model)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False.")
    members = model_members(model, include_optimizer)

    def write(zf):
        for name, data in members:
            zf.writestr(_member(name), data)

    _atomic_zip(path, write)


def check_savable(model):
    """Raises unless `model` is a built `Sequential` or functional model,
    which the Keras 3 format's writer saves."""
    if not is_model(model):
        raise TypeError("The Keras 3 format's writer saves Sequential and functional models. "
                        f"Received a {type(model).__name__}.")
    if not model.built:
        raise ValueError("Saving needs a built model: give the first layer an input_shape, "
                         "or call the model on data or build() it first.")


def model_members(model, include_optimizer=True):
    """The members of Keras 3's format for `model`, as `(name, bytes)` in
    the order Keras 3 writes them: `metadata.json`, `config.json`,
    `model.weights.h5`. The `.keras` archive and the model folder store
    exactly these bytes.

    Args:
        model: a built kerasette `Sequential` or functional model.
        include_optimizer: with `False`, or for an uncompiled model, the
            config's `compile_config` is empty and the weights hold no
            optimizer variables (the model loads back uncompiled).

    Example:
        >>> import kerasette as keras
        >>> m = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
        >>> [name for name, _ in model_members(m)]
        ['metadata.json', 'config.json', 'model.weights.h5']
    """
    check_savable(model)
    compiled = include_optimizer and getattr(model, "_compiled", False)
    optimizer = model.optimizer if compiled else None
    config = model_to_keras3_config(model, include_compile=compiled)
    metadata = {"keras_version": KERAS3_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    return [(METADATA, json.dumps(metadata).encode()),
            (CONFIG, json.dumps(config).encode()),
            (WEIGHTS, _weights_bytes(model, optimizer, config))]


def _member(name):
    info = zipfile.ZipInfo(name, date_time=datetime.datetime.now().timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    return info


def _atomic_zip(path, write):
    """Calls `write(zf)` with a zip open on a temporary file, then renames
    it over `path` (`kerasette.saving.atomic`)."""

    def write_file(fh):
        with zipfile.ZipFile(fh, "w", zipfile.ZIP_STORED) as zf:
            write(zf)

    atomic.write_atomically(path, write_file)


def _weights_bytes(model, optimizer, config):
    import h5py

    from kerasette.saving.weights_h5 import write_v3_file

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        write_v3_file(f, model)
        if optimizer is not None:
            opt_config = config["compile_config"]["optimizer"]["config"]
            values = _keras3_optimizer_values(optimizer, model, opt_config)
            if values is not None:
                group = f.create_group("optimizer").create_group("vars")
                group.attrs["name"] = opt_config["name"]
                for i, value in enumerate(values):
                    group.create_dataset(str(i), data=value)
    return buf.getvalue()


def model_to_keras3_config(model, include_compile=True):
    """The dict Keras 3 writes to `config.json` for this Sequential or
    functional model."""
    graph_config = getattr(model, "keras3_graph_config", None)
    if graph_config is not None:  # functional: the model writes its graph
        config = {"module": "keras.src.models.functional", "class_name": "Functional",
                  "config": graph_config(keras3_entry), "registered_name": "Functional",
                  "build_config": {"input_shape": None}}
        compiled = include_compile and getattr(model, "_compiled", False)
        config["compile_config"] = _compile_config(model) if compiled else {}
        return config
    entries = []
    if model._input_layer is not None:
        entries.append(_input_entry(model._input_layer))
    for layer in model.layers:
        entries.append(_layer_entry(layer))
    build_shape = _none_batch(model._build_input_shape)
    inner = {"name": model.name, "trainable": model.trainable,
             "dtype": _policy(model.dtype), "layers": entries}
    if build_shape is not None:
        inner["build_input_shape"] = build_shape
    config = {"module": "keras", "class_name": "Sequential", "config": inner,
              "registered_name": None}
    if build_shape is not None:
        config["build_config"] = {"input_shape": build_shape}
    # Keras 3 writes an empty compile_config for an uncompiled model.
    compiled = include_compile and getattr(model, "_compiled", False)
    config["compile_config"] = _compile_config(model) if compiled else {}
    return config


def _none_batch(shape):
    if shape is None:
        return None
    shape = list(shape)
    if shape and all(isinstance(s, (list, tuple)) for s in shape):
        return [_none_batch(s) for s in shape]  # a merge layer's list of shapes
    return [None] + [None if d is None else int(d) for d in shape[1:]]


def keras3_entry(layer):
    """A layer's entry in Keras 3's config: a nested model's whole config,
    an InputLayer's, or any other layer's."""
    if is_model(layer):
        return model_to_keras3_config(layer, include_compile=False)
    if type(layer).__name__ == "InputLayer":
        return _input_entry(layer)
    return _layer_entry(layer)


def _input_entry(layer):
    config = {"batch_shape": list(layer._batch_input_shape), "dtype": layer.dtype,
              "sparse": False, "ragged": False, "name": layer.name, "optional": False}
    return {"module": "keras.layers", "class_name": "InputLayer", "config": config,
            "registered_name": None}


def _layer_entry(layer):
    from kerasette import layers as layers_module

    cls = type(layer)
    class_name = cls.__name__
    registered = getattr(cls, "_registered_name", None)
    builtin = getattr(layers_module, class_name, None) is cls
    config = _keras3_layer_config(class_name, layer)
    entry = {"module": "keras.layers" if builtin else cls.__module__,
             "class_name": class_name, "config": config,
             "registered_name": None if builtin else registered or class_name}
    shape = _none_batch(layer._build_input_shape)
    if class_name not in _NO_BUILD_CONFIG and shape is not None and layer.built:
        entry["build_config"] = {"input_shape": shape}
    return entry


def _keras3_layer_config(class_name, layer):
    config = dict(layer.get_config())
    config.pop("batch_input_shape", None)
    config.pop("input_shape", None)
    if isinstance(config.get("dtype"), str):
        config["dtype"] = _policy(config["dtype"])
    if config.get("activity_regularizer", 0) is None and "Conv" not in class_name:
        del config["activity_regularizer"]  # Keras 3 writes it only when set (but Conv*)
    for key, value in list(config.items()):
        if key.endswith("_initializer") and isinstance(value, dict):
            config[key] = _keras3_initializer(value)
    if class_name == "Dense":
        config.setdefault("quantization_config", None)
    elif class_name == "BatchNormalization":
        axis = config.get("axis")
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        shape = layer._build_input_shape
        if isinstance(axis, int) and axis >= 0 and shape is not None:
            axis -= len(shape)  # Keras 3 keeps the user's -1
        config["axis"] = axis
        config.update({"synchronized": False, "renorm": False, "renorm_clipping": None,
                       "renorm_momentum": 0.99})
    elif class_name == "LayerNormalization":
        axis = config.get("axis")
        shape = layer._build_input_shape
        axes = axis if isinstance(axis, (list, tuple)) else [axis]
        if shape is not None and all(isinstance(a, int) for a in axes):
            axes = [a - len(shape) if a >= 0 else a for a in axes]
        config["axis"] = list(axes)
        config.setdefault("rms_scaling", False)
    elif class_name == "Dropout":
        config = {k: config[k] for k in ("name", "trainable", "dtype", "rate", "seed",
                                         "noise_shape") if k in config}
    # Layers whose Keras 3 config differs in more than the above say how
    # (recurrent layers: no `time_major`; Bidirectional: nested entries).
    keras3_config = getattr(layer, "keras3_config", None)
    if keras3_config is not None:
        config = keras3_config(config, _layer_entry)
    return config


def _keras3_initializer(config):
    if config.get("class_name") in _VARIANCE_SCALING:
        inner = dict(config.get("config") or {})
        inner.setdefault("input_axes", None)
        inner.setdefault("output_axes", None)
        config = {**config, "config": inner}
    return config


# -- compile config -------------------------------------------------------------------
def _compile_config(model):
    from kerasette import losses as losses_module

    compiled = model.compiled_loss
    if hasattr(compiled, "output_names"):
        # Several outputs: dicts by output name, which Keras 3's compile takes.
        names = compiled.output_names
        specs = per_output(compiled.given[0], names, "loss")
        loss = {name: _loss_entry(spec if isinstance(spec, str) else obj, losses_module)
                for name, spec, obj in zip(names, specs, compiled.losses) if obj is not None}
        weights = dict(zip(names, compiled.weights)) if any(
            w != 1.0 for w in compiled.weights) else None
        given, given_weighted = model.compiled_metrics.given
        metrics = _per_output_metric_entries(given, names)
        weighted = _per_output_metric_entries(given_weighted, names)
    else:
        specs = model.compiled_metrics._specs
        metrics = [_metric_entry(m) for m, weighted in specs if not weighted] or None
        weighted = [_metric_entry(m) for m, weighted in specs if weighted] or None
        loss = _loss_entry(model.loss, losses_module)
        weights = None if compiled.weight == 1.0 else compiled.weight
    return {
        "optimizer": keras3_optimizer_config(model.optimizer),
        "loss": loss,
        "loss_weights": weights,
        "metrics": metrics,
        "weighted_metrics": weighted,
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }


def _loss_entry(loss, losses_module):
    if loss is None or isinstance(loss, str):
        return loss  # as the user wrote it; Keras 3's compile takes the same names
    entry = losses_module.serialize(loss)
    if isinstance(entry, dict):
        inner = dict(entry.get("config") or {})
        if inner.get("reduction") == "auto":
            inner["reduction"] = "sum_over_batch_size"  # Keras 3 has no "auto"
        entry = {**entry, "config": inner}
    return entry


def _per_output_metric_entries(given, names):
    """`{output name: [metric entry]}` from what the user passed to `compile`."""
    if not given:
        return None
    out = {name: [_metric_entry(m) for m in specs]
           for name, specs in zip(names, metrics_per_output(given, names, "metrics")) if specs}
    return out or None


def _metric_entry(metric):
    from kerasette import metrics as metrics_module

    if isinstance(metric, str):
        return metric
    return metrics_module.serialize(metric)


def keras3_optimizer_config(optimizer):
    """`{"module": "keras.optimizers", "class_name", "config", "registered_name"}`
    with Keras 3's keys (no `jit_compile`/`is_legacy_optimizer`; with
    `loss_scale_factor` and `gradient_accumulation_steps`)."""
    from kerasette.utils.naming import to_snake_case

    cls_name = type(optimizer).__name__
    config = dict(optimizer.get_config())
    config.pop("jit_compile", None)
    config.pop("is_legacy_optimizer", None)
    name = config.get("name")
    if name == cls_name:  # tf.keras's default name -> Keras 3's default name
        name = to_snake_case(cls_name)
    if cls_name == "RMSprop" and not config.get("use_ema") \
            and config.get("ema_overwrite_frequency") == 100:
        config["ema_overwrite_frequency"] = None  # tf.keras's RMSprop default; unused
    head = {"name": name, "learning_rate": config.pop("learning_rate", 0.001)}
    for key in ("weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema",
                "ema_momentum", "ema_overwrite_frequency"):
        if key in config:
            head[key] = config.pop(key)
    head["loss_scale_factor"] = None
    head["gradient_accumulation_steps"] = None
    config.pop("name", None)
    head.update(config)
    return {"module": "keras.optimizers", "class_name": cls_name, "config": head,
            "registered_name": None}


def _keras3_optimizer_values(optimizer, model, opt_config):
    """Keras 3's `optimizer.variables` values, or None when the optimizer has
    no state yet (Keras 3 then writes `iteration` and `learning_rate` only)."""
    cls_name = type(optimizer).__name__
    values = [np.asarray(int(optimizer.iterations.numpy()), dtype=np.int64)]
    if not isinstance(opt_config.get("learning_rate"), dict):
        values.append(np.asarray(optimizer._lr, dtype=np.float32))
    if not optimizer.built:
        return values
    tracked, trainable = optimizer._tracked, model.trainable_variables
    if len(tracked) != len(trainable) or any(a is not b for a, b in zip(tracked, trainable)):
        # Keras 3 builds the optimizer with exactly the model's trainable variables.
        warnings.warn(f"The optimizer state of {optimizer.name!r} does not match the model's "
                      "trainable variables; only its step count is saved.", stacklevel=3)
        return values
    slots = [v.numpy() for v in optimizer.variables[1:]]
    if cls_name == "SGD" and optimizer.momentum == 0:
        # Keras 3's SGD has no momentum slots then (kerasette's `m` is not read):
        # keep only the `use_ema` averages, which come first.
        slots = slots[:len(tracked)] if optimizer.use_ema else []
    values += slots
    if cls_name == "Nadam":
        values.append(np.asarray(optimizer._u_product_at(optimizer._step), dtype=np.float32))
    return values


# ----------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------
def load_model_keras(path, custom_objects=None, compile=True, safe_mode=True):
    """Reads a `.keras` archive written by Keras 3 or kerasette.

    Args:
        path: the archive.
        custom_objects: optional dict of names to custom classes/functions.
        compile: with `True` (default) and a `compile_config` in the file,
            the model comes back compiled, with the optimizer's state.
        safe_mode: accepted for Keras's signature. kerasette never runs code
            from a file, so `Lambda` layers and serialized lambdas are refused
            whatever its value.

    Returns:
        A kerasette `Sequential` or functional model with the saved weights.

    Raises:
        kerasette.saving.ModelFileError: for a missing, damaged or foreign
            file, one that does not fit its own config, or one that holds code.
    """
    path = os.fspath(path)
    with open_regular(path) as fh:  # a FIFO or a device is refused, never read
        size = os.fstat(fh.fileno()).st_size
        try:
            zf = zipfile.ZipFile(fh, "r")
        except Exception as err:  # zipfile raises many types (struct.error, EOFError...) on damage
            raise ModelFileError(path, f"not a .keras zip archive ({err})") from err
        with zf:
            return load_members(_ZipMembers(zf, path, size), path, custom_objects, compile)


class _ZipMembers:
    """The members of an open `.keras` archive (see `load_members`)."""

    container, noun = "archive", "member"

    def __init__(self, zf, path, size):
        self._zf, self._path, self._size = zf, path, size
        self._names = set(zf.namelist())

    def has(self, name):
        return name in self._names

    def read(self, name, max_bytes=None):
        # JSON members inflate to at most the archive's size (a config
        # that builds a model costs far more than its bytes).
        ratio = zip_member.JSON_RATIO if name.endswith(".json") else zip_member.WEIGHTS_RATIO
        return zip_member.read_member(self._zf, self._path, name, self._size, max_bytes, ratio)


def load_members(members, path, custom_objects=None, compile=True):
    """Rebuilds a model from the members of Keras 3's format.

    The one reader behind the `.keras` archive and the model folder: the
    container only finds and reads bytes, with its own size checks; the
    checks on what the bytes hold (JSON, code in the config, the weights'
    shapes against the config, the optimizer state) are all here.

    Args:
        members: the container, with `has(name)`, `read(name, max_bytes)`
            (bytes, or `ModelFileError`) and the words `container` and
            `noun` for messages ("archive"/"member", "folder"/"file").
        path: the archive or folder, named in errors.
        custom_objects: optional dict of names to custom classes/functions.
        compile: restore the compiled state when the config has one.

    Returns:
        A kerasette `Sequential` or functional model with the saved weights (and, with `compile`,
        its optimizer state).

    Raises:
        kerasette.saving.ModelFileError: naming `path` and the problem.
    """
    config = _read_json(members, path, CONFIG)
    if members.has(METADATA):
        metadata = _read_json(members, path, METADATA)
        if not isinstance(metadata, dict):
            raise ModelFileError(path, f"{METADATA} is not a JSON object.")
    refuse_code(config, path, CONFIG)
    if not members.has(WEIGHTS):
        extra = (" (it holds npz weights, which kerasette does not read)"
                 if members.has(WEIGHTS_NPZ) else "")
        raise ModelFileError(path, f"the {members.container} has no {WEIGHTS} "
                                   f"{members.noun}{extra}.")
    raw = members.read(WEIGHTS)
    with H5Reader(raw, path, member=WEIGHTS) as reader:
        # Built once the weights are checked, no larger than what they hold.
        with rebuilding(path, reader.stored_elements):
            model = _model_from_config(config, path, custom_objects)
        f = reader.file
        try:
            plan = _weights_plan(reader, f, model)
            compile_config = config.get("compile_config") if compile else None
            opt_arrays = None
            if compile_config:
                _compile_from_keras3_config(model, compile_config, path, custom_objects)
                opt_arrays = _read_optimizer_arrays(reader, f, model)
        except ModelFileError:
            raise
        except H5_ERRORS as err:
            raise ModelFileError(path, f"damaged or inconsistent {WEIGHTS} ({err})") from err
    for variable, value in plan:  # everything checked: now assign
        variable.assign(value)
    if opt_arrays is not None:
        _restore_optimizer(model, opt_arrays, path)
    return model


def _read_json(members, path, name):
    raw = members.read(name, max_bytes=MAX_ATTRIBUTE_BYTES)
    try:
        return json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError) as err:  # RecursionError: absurdly deep nesting
        raise ModelFileError(path, f"{name} is not valid JSON ({err})") from err


def _model_from_config(config, path, custom_objects):
    if not isinstance(config, dict) or "class_name" not in config:
        raise ModelFileError(path, f"{CONFIG} does not describe a Keras model "
                                   "(no 'class_name').")
    class_name = config.get("registered_name") or config["class_name"]
    # By registered name (Keras 3 registers its own classes as "keras>Name").
    cls = model_class(class_name.removeprefix("keras>")) if isinstance(class_name, str) else None
    if cls is None:
        raise ModelFileError(path, f"{CONFIG} describes a {config['class_name']!r} model; "
                                   "kerasette reads Sequential and functional models.")
    inner = config.get("config")
    if not isinstance(inner, dict) or not isinstance(inner.get("layers"), list):
        raise ModelFileError(path, f"{CONFIG}: the {config['class_name']} config has no "
                                   "'layers' list.")
    try:
        model = cls.from_config(inner, custom_objects=custom_objects)
        if not model.built:
            shape = (config.get("build_config") or {}).get("input_shape")
            if shape:
                model.build(tuple(shape))
    except ModelFileError:
        raise
    except MemoryError as err:
        raise too_large(path, err) from err
    except CONFIG_ERRORS as err:
        raise ModelFileError(path, f"{CONFIG}: cannot rebuild the model ({err})") from err
    if "trainable" in inner and inner["trainable"] is False:
        model.trainable = False
    return model


def _weights_plan(reader, f, model):
    from kerasette.saving.weights_h5 import plan_v3

    if "layers" not in f:
        if any(layer.weights for layer in model.layers):
            raise ModelFileError(reader.path, f"{WEIGHTS} has no 'layers' group.")
        return []
    plan = plan_v3(reader, f, model, skip_mismatch=False)
    # Shapes matched the model; only now read the data (while the file is open).
    return [(v, np.asarray(a)) for v, a in plan]


def _read_optimizer_arrays(reader, f, model):
    if "optimizer" not in f or "vars" not in f["optimizer"]:
        return None
    group = f["optimizer"]["vars"]
    keys = sorted(group, key=int)
    if keys != [str(i) for i in range(len(keys))]:
        raise ValueError(f"optimizer/vars holds {keys}, not 0..{len(keys) - 1}")
    # Step count, rate and slots shaped like model weights: nothing larger
    # is read (a damaged shape would otherwise allocate its size).
    limit = max([1] + [int(np.prod(w.shape)) for w in model.weights])
    return [np.asarray(reader.dataset(group, k, limit)) for k in keys]


# -- compile ---------------------------------------------------------------------------
def _compile_from_keras3_config(model, compile_config, path, custom_objects):
    from kerasette import losses as losses_module
    from kerasette import metrics as metrics_module
    from kerasette import optimizers as optimizers_module

    if not isinstance(compile_config, dict):
        raise ModelFileError(path, f"{CONFIG}: compile_config is not an object.")
    try:
        opt_entry = compile_config.get("optimizer", "rmsprop")
        if isinstance(opt_entry, dict):
            optimizer = optimizers_module.deserialize(optimizer_config_from_keras3(opt_entry),
                                                      custom_objects=custom_objects)
        else:
            optimizer = optimizers_module.get(opt_entry or "rmsprop")
        # Several outputs: losses and metrics one for all, a list in output
        # order or a dict by output name, as Keras 3's compile takes them.
        several = len(getattr(model, "output_names", None) or []) > 1

        def one_loss(entry):
            return (losses_module.deserialize(entry, custom_objects=custom_objects)
                    if isinstance(entry, dict) else entry)

        loss = compile_config.get("loss")
        if isinstance(loss, dict) and "class_name" not in loss:
            loss = {name: one_loss(entry) for name, entry in loss.items()}
        elif isinstance(loss, list) and (several or len(loss) != 1):
            loss = [one_loss(entry) for entry in loss]
        elif isinstance(loss, list):
            loss = one_loss(loss[0])
        else:
            loss = one_loss(loss)

        def flat_metrics(value):
            if not isinstance(value, list):
                value = [value]
            return [metrics_module.deserialize(m, custom_objects=custom_objects)
                    if isinstance(m, dict) else m for m in value]

        def metric_list(value):
            if value is None:
                return None
            if several and isinstance(value, dict) and "class_name" not in value:
                return {name: flat_metrics(entry) for name, entry in value.items()}
            if several and isinstance(value, list) and value and all(
                    isinstance(v, list) for v in value):
                return [flat_metrics(entry) for entry in value]
            if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
                value = value[0]  # nested per output
            return flat_metrics(value)

        model.compile(optimizer=optimizer, loss=loss,
                      metrics=metric_list(compile_config.get("metrics")),
                      weighted_metrics=metric_list(compile_config.get("weighted_metrics")),
                      loss_weights=compile_config.get("loss_weights"))
    except ModelFileError:
        raise
    except CONFIG_ERRORS as err:
        raise ModelFileError(path, f"{CONFIG}: cannot restore the compile configuration "
                                   f"({err})") from err


def optimizer_config_from_keras3(entry):
    """A Keras 3 optimizer dict turned into one kerasette's optimizers read."""
    from kerasette.utils.naming import to_snake_case

    class_name = entry.get("class_name")
    inner = dict(entry.get("config") or {})
    if inner.pop("loss_scale_factor", None) is not None:
        raise ValueError("loss_scale_factor (mixed-precision loss scaling) is not supported.")
    if inner.pop("gradient_accumulation_steps", None) is not None:
        raise ValueError("gradient_accumulation_steps is not supported.")
    plain = class_name.rsplit(">", 1)[-1] if isinstance(class_name, str) else class_name
    if isinstance(plain, str) and inner.get("name") == to_snake_case(plain):
        inner["name"] = plain  # Keras 3's default name -> kerasette's (tf.keras's)
    if plain == "RMSprop" and inner.get("ema_overwrite_frequency") is None \
            and not inner.get("use_ema"):
        inner.pop("ema_overwrite_frequency", None)
    return {**entry, "config": inner}


def _restore_optimizer(model, arrays, path):
    """Maps Keras 3's optimizer variables onto kerasette's; on any mismatch,
    warns (as Keras 3 does) and keeps the fresh optimizer."""
    optimizer = model.optimizer
    cls_name = type(optimizer).__name__
    schedule = optimizer._schedule
    head = 1 if schedule is not None and hasattr(schedule, "get_config") else 2
    variables = model.trainable_variables
    try:
        if len(arrays) < head:
            raise ValueError(f"{len(arrays)} saved variables, fewer than {head}")
        iteration = arrays[0]
        if iteration.shape != () or iteration.dtype.kind not in "iu":
            raise ValueError("the first saved variable is not an integer step counter")
        if not 0 <= int(iteration) < 2 ** 62:
            raise ValueError(f"the step counter {int(iteration)} is out of range")
        rest = list(arrays[head:])
        if not rest:  # saved before the first step: only the counter (and rate)
            optimizer.iterations.assign(int(iteration))
            return
        if not optimizer.built and variables:
            optimizer.build(variables)
        slots = list(optimizer.variables)[1:]
        u_product = rest.pop() if cls_name == "Nadam" else None
        if cls_name == "SGD" and optimizer.momentum == 0 and \
                len(rest) == len(slots) - len(variables):
            # Keras 3's SGD keeps no momentum slots at momentum 0; kerasette's
            # `m` is not read then.
            rest = rest + [np.zeros(v.shape, v.dtype) for v in slots[len(rest):]]
        if len(rest) != len(slots):
            raise ValueError(f"{len(arrays)} saved variables for an optimizer with "
                             f"{len(slots) + head + (u_product is not None)} in "
                             "Keras 3's layout")
        for v, a in zip(slots, rest):
            if tuple(a.shape) != v.shape:
                raise ValueError(f"variable {v.name!r} has shape {v.shape}, the file "
                                 f"holds {tuple(a.shape)}")
        if u_product is not None and u_product.shape != ():
            raise ValueError("Nadam's u_product is not a scalar")
    except ValueError as err:
        warnings.warn(f"{path}: the optimizer state was not restored ({err}); training "
                      "continues with a fresh optimizer state.", stacklevel=3)
        return
    optimizer.iterations.assign(int(iteration))
    for v, a in zip(slots, rest):
        v.assign(np.asarray(a, dtype=v.dtype))
    if u_product is not None and math.isfinite(float(u_product)):
        optimizer._u_product = float(u_product)
        optimizer._u_product_step = int(iteration)


__all__ = ["check_savable", "keras3_optimizer_config", "load_members", "load_model_keras",
           "model_members", "model_to_keras3_config", "optimizer_config_from_keras3",
           "save_model_keras"]
