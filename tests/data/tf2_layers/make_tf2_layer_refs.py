"""Writes `tf2_layer_refs.json` and `tfkeras2_act_noise.h5` beside this file.

Run with real tf.keras 2.21 (tensorflow-cpu 2.21 and tf-keras 2.21; not
Keras 3 in the same process):

    /tmp/tfenv/bin/python tests/data/tf2_layers/make_tf2_layer_refs.py

What it records, for `tests/test_activation_layers.py`,
`tests/test_noise_layers.py` and `tests/test_timeseries_dataset.py`:

- `layers`: for each case, the class name, the constructor arguments, the
  float32 input (and mask), tf.keras's output `layer(x)` (inference), and
  `get_config()` as tf.keras writes it into a file's JSON (NumPy scalars as
  Python numbers, the way the `.h5` writer turns them).
- `activity_regularization`: `layer.losses` after one call.
- `timeseries`: `tf_keras.utils.timeseries_dataset_from_array` batches
  (inputs and targets as nested lists) for unshuffled cases, and the error
  messages of a few refused arguments.
- `tfkeras2_act_noise.h5`: a Sequential model with every new layer
  (activation, noise, Permute, Flatten(channels_first)), saved by tf.keras
  with `model.save(...h5)`, and its `predict` on `x_probe` (in the JSON).
"""

import json
import os

import numpy as np
import tensorflow as tf  # noqa: F401 - tf_keras needs it loaded
import tf_keras as keras

HERE = os.path.dirname(os.path.abspath(__file__))


def plain(obj):
    """NumPy scalars and arrays as JSON numbers and lists."""
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return obj


def layer_cases():
    rng = np.random.default_rng(0)
    x234 = rng.standard_normal((2, 3, 4)).astype("float32") * 2
    x2345 = rng.standard_normal((2, 3, 4, 5)).astype("float32")
    cases = [
        ("ReLU", {}, x234, None),
        ("ReLU", {"max_value": 1.5, "negative_slope": 0.1, "threshold": 0.5}, x234, None),
        ("ReLU", {"max_value": 6.0}, x234 * 4, None),
        ("LeakyReLU", {}, x234, None),
        ("LeakyReLU", {"alpha": 0.1}, x234, None),
        ("PReLU", {"alpha_initializer": {"class_name": "Constant", "config": {"value": 0.25}}},
         x234, None),
        ("PReLU", {"shared_axes": [1]}, x234, None),
        ("ELU", {}, x234, None),
        ("ELU", {"alpha": 0.5}, x234, None),
        ("ThresholdedReLU", {}, x234, None),
        ("ThresholdedReLU", {"theta": 0.3}, x234, None),
        ("Softmax", {}, x234, None),
        ("Softmax", {"axis": 1}, x234, None),
        ("Softmax", {"axis": [1, 2]}, x234, None),
        ("Softmax", {}, x234, (rng.random((2, 3, 4)) > 0.4)),
        ("Softmax", {"axis": 1}, x234, (rng.random((2, 3, 4)) > 0.4)),
        ("GaussianNoise", {"stddev": 0.3, "seed": 5}, x234, None),
        ("GaussianDropout", {"rate": 0.2}, x234, None),
        ("AlphaDropout", {"rate": 0.1, "noise_shape": [2, 1, 4], "seed": 3}, x234, None),
        ("SpatialDropout1D", {"rate": 0.4}, x234, None),
        ("SpatialDropout2D", {"rate": 0.4}, x2345, None),
        ("SpatialDropout2D", {"rate": 0.4, "data_format": "channels_first"}, x2345, None),
        ("SpatialDropout3D", {"rate": 0.4}, x2345[..., None], None),
        ("ActivityRegularization", {"l1": 0.01, "l2": 0.02}, x234, None),
        ("Permute", {"dims": [2, 1]}, x234, None),
        ("Permute", {"dims": [3, 1, 2]}, x2345, None),
        ("Flatten", {}, x2345, None),
        ("Flatten", {"data_format": "channels_first"}, x2345, None),
    ]
    out = []
    for cls_name, kwargs, x, mask in cases:
        args = dict(kwargs)
        if cls_name == "PReLU" and "alpha_initializer" in args:
            args["alpha_initializer"] = keras.initializers.deserialize(args["alpha_initializer"])
        layer = getattr(keras.layers, cls_name)(**args)
        if mask is None:
            y = layer(x)
        else:
            y = layer(x, mask=mask)
        case = {
            "class_name": cls_name,
            "kwargs": kwargs,
            "x": x.tolist(),
            "mask": None if mask is None else mask.tolist(),
            "y": np.asarray(y).tolist(),
            "config": plain(json.loads(json.dumps(plain(layer.get_config())))),
        }
        if cls_name == "ActivityRegularization":
            case["losses"] = [float(v) for v in layer.losses]
        out.append(case)
    return out


def timeseries_cases():
    data = np.arange(40, dtype="float32").reshape(20, 2)
    targets = np.arange(100, 120)
    specs = [
        {"sequence_length": 5},
        {"sequence_length": 5, "batch_size": 4},
        {"sequence_length": 4, "sequence_stride": 3, "sampling_rate": 2, "batch_size": 3},
        {"sequence_length": 3, "start_index": 2, "end_index": 15, "batch_size": 5},
        {"sequence_length": 6, "sequence_stride": 2, "batch_size": None},
        {"sequence_length": 5, "batch_size": 4, "no_targets": True},
        {"sequence_length": 5, "batch_size": 4, "short_targets": 7},
    ]
    out = []
    for spec in specs:
        kw = {k: v for k, v in spec.items() if k not in ("no_targets", "short_targets")}
        t = None if spec.get("no_targets") else targets[:spec.get("short_targets", len(targets))]
        ds = keras.utils.timeseries_dataset_from_array(data, t, **kw)
        batches = []
        for item in ds:
            if isinstance(item, tuple):
                batches.append([np.asarray(item[0]).tolist(), np.asarray(item[1]).tolist()])
            else:
                batches.append([np.asarray(item).tolist(), None])
        out.append({"spec": spec, "batches": batches})
    # The start positions tf.keras permutes with NumPy before its tf.data
    # shuffle: `np.random.RandomState(seed).shuffle(np.arange(...))`.
    perm = np.arange(0, 16, 1, dtype="int32")
    np.random.RandomState(7).shuffle(perm)
    errors = {}
    for name, kw in {
        "stride_zero": {"sequence_length": 5, "sequence_stride": 0},
        "rate_zero": {"sequence_length": 5, "sampling_rate": 0},
        "end_le_start": {"sequence_length": 2, "start_index": 5, "end_index": 5},
        "end_too_big": {"sequence_length": 2, "end_index": 20},
        "start_too_big": {"sequence_length": 2, "start_index": 20},
    }.items():
        try:
            keras.utils.timeseries_dataset_from_array(data, targets, **kw)
            errors[name] = None
        except ValueError as err:
            errors[name] = str(err)
    return {"cases": out, "seed7_start_positions": perm.tolist(), "errors": errors}


def crossload_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.layers.InputLayer(input_shape=(3, 4, 2)),
        keras.layers.Permute((3, 1, 2)),            # (2, 3, 4)
        keras.layers.GaussianNoise(0.1),
        keras.layers.Flatten(data_format="channels_first"),  # 24
        keras.layers.Dense(8),
        keras.layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.1, 0.4)),
        keras.layers.LeakyReLU(alpha=0.2),
        keras.layers.ReLU(max_value=3.0, negative_slope=0.05, threshold=0.1),
        keras.layers.ELU(alpha=0.7),
        keras.layers.GaussianDropout(0.3),
        keras.layers.ThresholdedReLU(theta=0.05),
        keras.layers.AlphaDropout(0.2),
        keras.layers.Dense(6),
        keras.layers.ActivityRegularization(l1=0.01),
        keras.layers.Reshape((2, 3)),
        keras.layers.SpatialDropout1D(0.5),
        keras.layers.Softmax(axis=1),
    ])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(1).standard_normal((5, 3, 4, 2)).astype("float32")
    y = model.predict(x, verbose=0)
    model.save(os.path.join(HERE, "tfkeras2_act_noise.h5"))
    return {"x_probe": x.tolist(), "y_probe": y.tolist()}


def main():
    refs = {
        "versions": {"tensorflow": tf.__version__, "tf_keras": keras.__version__},
        "layers": layer_cases(),
        "timeseries": timeseries_cases(),
        "crossload": crossload_model(),
    }
    with open(os.path.join(HERE, "tf2_layer_refs.json"), "w") as f:
        json.dump(refs, f)


if __name__ == "__main__":
    main()
