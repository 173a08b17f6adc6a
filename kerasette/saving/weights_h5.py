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

import os
import tempfile

import numpy as np

from kerasette.saving.errors import ModelFileError

# The tf.keras version whose dialect kerasette writes (model_config, to_json,
# file attributes); tf.keras 2.21 and Keras 3 both read it.
KERAS_DIALECT_VERSION = "2.21.0"


def _h5py():
    import h5py  # a runtime dependency, imported when files are touched

    return h5py


def _names_attr(values):
    # Keras writes name lists as byte strings, and an empty list as a
    # float64 (0,) array; both loaders expect exactly that.
    return [v.encode("utf8") for v in values] if values else np.asarray([])


def read_names(attrs, key):
    """A name list attribute, chunked (`key0`, `key1`, ...) or not."""
    if key in attrs:
        raw = attrs[key]
    else:
        raw, i = [], 0
        while f"{key}{i}" in attrs:
            raw.extend(attrs[f"{key}{i}"])
            i += 1
    return [n.decode("utf8") if hasattr(n, "decode") else str(n) for n in np.asarray(raw).ravel()
            if not isinstance(n, (float, np.floating))]


def layer_weights(layer):
    """tf.keras's legacy order: trainable then non-trainable weights."""
    return layer.trainable_weights + layer.non_trainable_weights


def write_legacy_group(group, model):
    """Writes `model`'s weights into an open h5py group in the legacy layout."""
    group.attrs["layer_names"] = _names_attr([layer.name for layer in model.layers])
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = KERAS_DIALECT_VERSION.encode()
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
    layers = f.create_group("layers")
    for layer, key in v3_paths(model):
        vars_group = layers.create_group(key).create_group("vars")
        vars_group.attrs["name"] = layer.name
        for i, w in enumerate(layer.weights):
            vars_group.create_dataset(str(i), data=w.numpy())
    f.create_group("vars").attrs["name"] = model.name


def atomic_write(path, write):
    """Writes through a temporary file in the same folder, then renames it,
    so a crash never leaves a half-written file where a good one was."""
    h5py = _h5py()
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".kerasette-", suffix=".h5.tmp", dir=folder)
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            write(f)
        # mkstemp makes the file private (0600); give it a normal file's mode.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


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
    h5py = _h5py()
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ModelFileError(path, "no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        raise ModelFileError(path, f"not a readable HDF5 file ({err})") from err
    with f:
        try:
            if "layers" in f and "layer_names" not in f.attrs:
                plan = _plan_v3(f, model, path, skip_mismatch)
            else:
                group = f["model_weights"] if "model_weights" in f else f
                if "layer_names" not in group.attrs:
                    raise ModelFileError(path, "holds no Keras weights (no 'layer_names').")
                plan = _plan_legacy(group, model, path, by_name, skip_mismatch)
            # Declared shapes matched the model; only now read the data.
            plan = [(v, np.asarray(a)) for v, a in plan]
        except ModelFileError:
            raise
        except (KeyError, OSError, ValueError, TypeError) as err:
            raise ModelFileError(path, f"damaged or inconsistent weights ({err})") from err
    for variable, value in plan:  # everything checked: now assign
        variable.assign(value)


def _fit(path, layer, variables, arrays, skip_mismatch):
    if len(variables) != len(arrays):
        if skip_mismatch:
            return []
        raise ModelFileError(path, f"layer {layer.name!r} has {len(variables)} weights but the "
                                   f"file holds {len(arrays)} for it (weight count mismatch).")
    out = []
    for v, a in zip(variables, arrays):
        if tuple(a.shape) != v.shape:
            if skip_mismatch:
                return []
            raise ModelFileError(path, f"layer {layer.name!r}: weight {v.name!r} has shape "
                                       f"{v.shape} but the file holds shape {tuple(a.shape)}.")
        if not np.issubdtype(a.dtype, np.number):
            raise ModelFileError(path, f"layer {layer.name!r}: weight {v.name!r} is stored "
                                       f"as {a.dtype}, not as numbers.")
        out.append((v, a))
    return out


def read_plan_legacy(group, model, path):
    """The (variable, array) pairs of a legacy weights group, checked."""
    return [(v, np.asarray(a)) for v, a in _plan_legacy(group, model, path, False, False)]


def _plan_legacy(group, model, path, by_name, skip_mismatch):
    names = read_names(group.attrs, "layer_names")
    stored = {}
    for name in names:
        if name not in group:
            raise ModelFileError(path, f"'layer_names' lists {name!r} but there is no such group.")
        weight_names = read_names(group[name].attrs, "weight_names")
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


def _plan_v3(f, model, path, skip_mismatch):
    layers = f["layers"]
    plan = []
    for layer, key in v3_paths(model):
        if not layer.weights:
            continue
        if key not in layers or "vars" not in layers[key]:
            raise ModelFileError(path, f"has no weights for layer {layer.name!r} at "
                                       f"layers/{key} (it holds: {sorted(layers)}).")
        vars_group = layers[key]["vars"]
        arrays = [vars_group[k] for k in sorted(vars_group, key=int)]
        plan += _fit(path, layer, layer.weights, arrays, skip_mismatch)
    return plan
