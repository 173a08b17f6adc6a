"""Weights in HDF5: Keras's legacy layout and Keras 3's `.weights.h5` layout.

Legacy (`save_weights("w.h5")` in tf.keras 2; also the `model_weights`
group of a full `.h5` model file): root attributes `layer_names`,
`backend`, `keras_version`; a group per layer with a `weight_names`
attribute and one dataset per weight at `<layer>/<weight name>`, e.g.
`dense/dense/kernel:0`. Order comes only from those attributes.

Keras 3 (`save_weights("w.weights.h5")` in both versions):
`layers/<layer>/vars/<i>` in `layer.weights` order.

Reading checks every count and shape against the model before any weight
is assigned, so a file that does not fit leaves the model untouched.
"""

from __future__ import annotations

import io
import os

import numpy as np

from kerasette.saving import atomic
from kerasette.saving.errors import ModelFileError
from kerasette.saving.h5_guard import H5_ERRORS, H5Reader
from kerasette.utils.dialects import KERAS2_VERSION
from kerasette.utils.registry import is_model


def _h5py():
    import h5py  # a runtime dependency, imported when files are touched

    return h5py


def _names_attr(values):
    # Keras writes name lists as byte strings, and an empty list as a
    # float64 (0,) array; both loaders expect exactly that.
    return [v.encode("utf8") for v in values] if values else np.asarray([])


def layer_weights(layer):
    """tf.keras's legacy order: trainable then non-trainable weights."""
    return layer.trainable_weights + layer.non_trainable_weights


def write_legacy_group(group, model):
    """Writes `model`'s weights into an open h5py group in the legacy layout."""
    group.attrs["layer_names"] = _names_attr([layer.name for layer in model.layers])
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = KERAS2_VERSION.encode()
    for layer in model.layers:
        g = group.create_group(layer.name)
        weights = layer_weights(layer)
        g.attrs["weight_names"] = _names_attr([w.name for w in weights])
        for w in weights:
            g.create_dataset(w.name, data=w.numpy())
    top = group.create_group("top_level_model_weights")
    top.attrs["weight_names"] = np.asarray([])


def v3_paths(model):
    """Keras 3's names for the layers of a model in `.weights.h5`: the
    snake-case class name with a counter per model (`dense`, `dense_1`),
    not `layer.name`, which differs between two instances of one model."""
    from kerasette.utils.naming import to_snake_case

    used, out = {}, []
    for layer in model.layers:
        base = to_snake_case(type(layer).__name__)
        count = used.get(base, -1) + 1
        used[base] = count
        out.append((layer, base if count == 0 else f"{base}_{count}"))
    return out


def write_v3_file(f, model):
    """Writes Keras 3's `.weights.h5` layout into an open file."""
    _write_v3_layers(f, model, nested=_is_functional(model))
    f.create_group("vars").attrs["name"] = model.name


def _is_functional(model) -> bool:
    # A Sequential at the top (or nested in a Sequential) keeps kerasette's
    # earlier layout, so its files stay as they were; a functional model
    # nests every model it holds, as Keras 3 does.
    return hasattr(model, "keras3_graph_config")


def _write_v3_layers(f, model, nested):
    layers = f.create_group("layers")
    for layer, key in v3_paths(model):
        group = layers.create_group(key)
        if nested and is_model(layer):
            _write_v3_layers(group, layer, nested)
            group.create_group("vars").attrs["name"] = layer.name
            continue
        for path, name, weights in _v3_groups(layer):
            vars_group = group
            for key in path + ("vars",):
                vars_group = vars_group.require_group(key)
            vars_group.attrs["name"] = name
            for i, w in enumerate(weights):
                vars_group.create_dataset(str(i), data=w.numpy())


def _v3_groups(layer):
    """`(path, name, weights)` of each `vars` group a layer has in Keras 3's
    layout: one (`()`, the layer's name, its weights) for most layers; a
    recurrent layer keeps its weights in its cell's group (`cell/vars`), a
    Bidirectional in its two layers' (`forward_layer/cell/vars`), as Keras
    3 nests them (`_v3_weight_groups`)."""
    groups = getattr(layer, "_v3_weight_groups", None)
    if groups is not None:
        return groups()
    return [((), layer.name, layer.weights)]


def atomic_write(path, write):
    """Calls `write(f)` with an h5py file open in memory, then writes its
    bytes to a temporary file in the same folder and renames it over
    `path`: a crash never leaves a half-written file where a good one was
    (`kerasette.saving.atomic`).

    HDF5 writes to memory, never to the disk: on a full disk or at a
    file-size limit it reported "Can't decrement id ref count", kept the
    failed file open, and could crash the process. The plain write that
    follows fails with an `OSError` that `atomic` turns into a `SaveError`
    naming `path`. The cost is the file's size in memory while saving.
    """
    h5py = _h5py()
    image = io.BytesIO()
    with h5py.File(image, "w") as f:
        write(f)
    atomic.write_atomically(path, lambda fh: fh.write(image.getbuffer()))


def save_weights(model, path, overwrite=True):
    """`model.save_weights`: `.weights.h5` gets Keras 3's layout, any other
    name (`.h5`, `.hdf5`) the legacy layout tf.keras 2 writes."""
    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists and overwrite=False.")
    if not model.built:
        raise ValueError("save_weights needs a built model: call it on data or build() it first.")
    if path.endswith(".weights.h5"):
        atomic_write(path, lambda f: write_v3_file(f, model))
    else:
        atomic_write(path, lambda f: write_legacy_group(f, model))


def load_weights(model, path, by_name=False, skip_mismatch=False):
    """`model.load_weights` for the legacy layout (weights-only or inside a
    full model file) and Keras 3's `.weights.h5` layout."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ModelFileError(path, "no such file")
    with H5Reader(path, path) as reader:
        f = reader.file
        try:
            if "layers" in f and "layer_names" not in f.attrs:
                plan = plan_v3(reader, f, model, skip_mismatch)
            else:
                group = f["model_weights"] if "model_weights" in f else f
                if "layer_names" not in group.attrs:
                    raise ModelFileError(path, "holds no Keras weights (no 'layer_names').")
                plan = _plan_legacy(reader, group, model, by_name, skip_mismatch)
            # Declared shapes matched the model; only now read the data.
            plan = [(v, np.asarray(a)) for v, a in plan]
        except ModelFileError:
            raise
        except H5_ERRORS as err:
            raise ModelFileError(path, f"damaged or inconsistent weights ({err})") from err
    for variable, value in plan:  # everything checked: now assign
        variable.assign(value)


def _fit(path, layer, variables, arrays, skip_mismatch):
    h5py = _h5py()
    if len(variables) != len(arrays):
        if skip_mismatch:
            return []
        raise ModelFileError(path, f"layer {layer.name!r} has {len(variables)} weights but the "
                                   f"file holds {len(arrays)} for it (weight count mismatch).")
    out = []
    for v, a in zip(variables, arrays):
        if not isinstance(a, h5py.Dataset):
            raise ModelFileError(path, f"layer {layer.name!r}: weight {v.name!r} is stored "
                                       f"at {a.name!r}, which is not a dataset.")
        if tuple(a.shape or ()) != v.shape:
            if skip_mismatch:
                return []
            raise ModelFileError(path, f"layer {layer.name!r}: weight {v.name!r} has shape "
                                       f"{v.shape} but the file holds shape {a.shape}.")
        if not np.issubdtype(a.dtype, np.number):
            raise ModelFileError(path, f"layer {layer.name!r}: weight {v.name!r} is stored "
                                       f"as {a.dtype}, not as numbers.")
        out.append((v, a))
    return out


def read_plan_legacy(reader, group, model):
    """The (variable, array) pairs of a legacy weights group, checked, then read.

    Args:
        reader: the `H5Reader` of the open file.
        group: the group holding `layer_names` (`model_weights` in a model file).
        model: the model whose variables receive the arrays.
    """
    return [(v, np.asarray(a)) for v, a in _plan_legacy(reader, group, model, False, False)]


def _plan_legacy(reader, group, model, by_name, skip_mismatch):
    path = reader.path
    names = reader.names(group, "layer_names")
    stored = {}
    for name in names:
        if name not in group:
            raise ModelFileError(path, f"'layer_names' lists {name!r} but there is no such group.")
        weight_names = reader.names(group[name], "weight_names")
        stored[name] = [group[name][w] for w in weight_names]  # datasets, not yet read
    plan = []
    if by_name:
        for layer in model.layers:
            if layer.name in stored:
                plan += _fit(path, layer, layer_weights(layer), stored[layer.name], skip_mismatch)
        return plan
    file_layers = [n for n in names if stored[n]]
    model_layers = [layer for layer in model.layers if layer.weights]
    if len(file_layers) != len(model_layers):
        raise ModelFileError(path, f"the file has weights for {len(file_layers)} layers but the "
                                   f"model has {len(model_layers)} layers with weights "
                                   "(layer count mismatch).")
    for layer, name in zip(model_layers, file_layers):
        plan += _fit(path, layer, layer_weights(layer), stored[name], skip_mismatch)
    return plan


def plan_v3(reader, f, model, skip_mismatch):
    """The checked (variable, dataset) pairs of Keras 3's `.weights.h5`
    layout in the open file `f` (datasets not yet read)."""
    return _plan_v3_layers(reader, f["layers"], model, skip_mismatch, "layers")


def _plan_v3_layers(reader, layers, model, skip_mismatch, where):
    path = reader.path
    plan = []
    for layer, key in v3_paths(model):
        if not layer.weights:
            continue
        if key not in layers:
            raise ModelFileError(path, f"has no weights for layer {layer.name!r} at "
                                       f"{where}/{key} (it holds: {sorted(layers)}).")
        group = layers[key]
        if is_model(layer) and "layers" in group:
            # A nested model (Keras 3's layout): one group per layer, at any depth
            # the file holds (each level is a group the file really has).
            plan += _plan_v3_layers(reader, group["layers"], layer, skip_mismatch,
                                    f"{where}/{key}/layers")
            continue
        for sub, _, weights in _v3_groups(layer):
            if not weights:
                continue
            vars_group, at = group, f"{where}/{key}"
            for name in sub + ("vars",):
                at = f"{at}/{name}"
                if name not in vars_group:
                    raise ModelFileError(path, f"has no weights for layer {layer.name!r} at "
                                               f"{at}.")
                vars_group = vars_group[name]
            arrays = [vars_group[k] for k in sorted(vars_group, key=int)]
            plan += _fit(path, layer, weights, arrays, skip_mismatch)
    return plan
