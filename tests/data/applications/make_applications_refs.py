"""Writes the keras.applications reference files, with real tf.keras 2.21.

Run it in an environment with tensorflow-cpu 2.21 and tf-keras 2.21 (the
normal test run has no TensorFlow):

    python tests/data/applications/make_applications_refs.py

It writes, next to itself:

- `architectures.json`: for VGG16, VGG19, ResNet50, MobileNet, MobileNetV2
  and EfficientNetB0 built with `weights=None` and their defaults: the
  model's name, its trainable and non-trainable parameter counts, and every
  layer in order as `[name, class, output_shape, [[weight, shape], ...]]`,
  the weights in the order tf.keras's legacy `.h5` files store them
  (trainable, then non-trainable). Also, per model, a few variants
  (`include_top=False` with pooling, other `classes`, `alpha`) as
  `[kwargs, output_shape, trainable, non_trainable, n_layers]`, and the
  messages of tf.keras's input-shape errors.
- `mobilenetv2_small.h5` and `efficientnet_small.h5`: `save_weights` files
  (tf.keras's legacy HDF5 layout, the layout of Keras's published
  ImageNet files) of two small models: `MobileNetV2(alpha=0.35,
  input_shape=(32, 32, 3), classes=10, classifier_activation=None)` and the
  family's `EfficientNet(0.25, 0.25, 32, ...)` (`classes=10`). Their
  weights are random (seed 0), with batch-norm moving statistics and
  normalization statistics perturbed so inference exercises them.
- `small_predictions.npz`: the input batch (`x`, 2 images of 32x32x3 in
  [0, 255]) and each model's `predict` on it (`mobilenetv2`, `efficientnet`).
"""

from __future__ import annotations

import json
import os

import numpy as np
import tf_keras as keras
from tf_keras.src.applications import efficientnet  # the family builder is not public

HERE = os.path.dirname(os.path.abspath(__file__))

MODELS = {
    "VGG16": (keras.applications.VGG16, [
        {"include_top": False, "input_shape": [64, 48, 3]},
        {"include_top": False, "input_shape": [64, 64, 3], "pooling": "max"},
        {"include_top": True, "classes": 10},
    ]),
    "VGG19": (keras.applications.VGG19, [
        {"include_top": False, "input_shape": [32, 32, 3], "pooling": "avg"},
    ]),
    "ResNet50": (keras.applications.ResNet50, [
        {"include_top": False, "input_shape": [64, 64, 3]},
        {"include_top": False, "input_shape": [32, 40, 3], "pooling": "avg"},
        {"include_top": False, "pooling": "max"},
    ]),
    "MobileNet": (keras.applications.MobileNet, [
        {"include_top": False, "input_shape": [64, 64, 3], "pooling": "avg"},
        {"include_top": True, "input_shape": [128, 128, 3], "alpha": 0.5, "classes": 7},
        {"include_top": False, "input_shape": [96, 96, 3], "depth_multiplier": 2},
    ]),
    "MobileNetV2": (keras.applications.MobileNetV2, [
        {"include_top": False, "input_shape": [96, 96, 3]},
        {"include_top": False, "input_shape": [96, 96, 3], "pooling": "avg", "alpha": 0.35},
        {"include_top": True, "input_shape": [128, 128, 3], "alpha": 1.4, "classes": 5},
        {"include_top": False, "input_shape": [33, 45, 3], "alpha": 0.75, "pooling": "max"},
    ]),
    "EfficientNetB0": (keras.applications.EfficientNetB0, [
        {"include_top": False, "input_shape": [64, 64, 3]},
        {"include_top": False, "input_shape": [33, 47, 3], "pooling": "avg"},
        {"include_top": True, "classes": 3, "classifier_activation": None},
    ]),
}

ERROR_CASES = [
    ("VGG16", {"weights": None, "include_top": False, "input_shape": [31, 64, 3]}),
    ("ResNet50", {"weights": None, "include_top": True, "input_shape": [None, None, 3]}),
    ("MobileNetV2", {"weights": None, "include_top": False, "input_shape": [64, 64]}),
    ("EfficientNetB0", {"weights": "imagenet", "include_top": True,
                        "input_shape": [100, 100, 3]}),
    ("MobileNet", {"weights": "imagenet", "include_top": True, "classes": 10}),
    ("VGG19", {"weights": "imagenet", "include_top": False, "input_shape": [64, 64, 1]}),
    ("VGG16", {"weights": "nonexistent_file.h5"}),
]


def _shape(shape):
    return [None if d is None else int(d) for d in shape]


def _counts(model):
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    non_trainable = int(sum(np.prod(w.shape) for w in model.non_trainable_weights))
    return trainable, non_trainable


def describe(model):
    layers = []
    for layer in model.layers:
        weights = layer.trainable_weights + layer.non_trainable_weights
        layers.append([layer.name, type(layer).__name__, _shape(layer.output.shape),
                       [[w.name.split("/")[-1].split(":")[0], _shape(w.shape)]
                        for w in weights]])
    trainable, non_trainable = _counts(model)
    return {"name": model.name, "trainable": trainable, "non_trainable": non_trainable,
            "layers": layers}


def architectures():
    out = {"models": {}, "variants": {}, "errors": []}
    for name, (fn, variants) in MODELS.items():
        keras.backend.clear_session()
        out["models"][name] = describe(fn(weights=None))
        rows = []
        for kwargs in variants:
            keras.backend.clear_session()
            call = dict(kwargs)
            if "input_shape" in call:
                call["input_shape"] = tuple(call["input_shape"])
            model = fn(weights=None, **call)
            rows.append([kwargs, _shape(model.output.shape), *_counts(model),
                         len(model.layers), model.name])
        out["variants"][name] = rows
    for name, kwargs in ERROR_CASES:
        call = dict(kwargs)
        if "input_shape" in call:
            call["input_shape"] = tuple(call["input_shape"])
        try:
            MODELS[name][0](**call)
        except ValueError as err:
            out["errors"].append([name, kwargs, str(err)])
        else:
            raise AssertionError(f"{name}({kwargs}) did not raise")
    return out


def perturb(model, rng):
    """Random weights (glorot from the seed) with batch-norm and
    normalization statistics moved away from 0 and 1."""
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "BatchNormalization":
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 1.5, n), rng.normal(0, 0.1, n),
                               rng.normal(0, 0.1, n), rng.uniform(0.5, 2.0, n)])
        elif kind == "Normalization":
            layer.set_weights([np.array([0.485, 0.456, 0.406]),
                               np.array([0.229, 0.224, 0.225]), np.array(0, "int64")])


def small_models(rng):
    keras.utils.set_random_seed(0)
    x = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    preds = {"x": x}
    keras.backend.clear_session()
    m = keras.applications.MobileNetV2(alpha=0.35, input_shape=(32, 32, 3), classes=10,
                                       classifier_activation=None, weights=None)
    perturb(m, rng)
    m.save_weights(os.path.join(HERE, "mobilenetv2_small.h5"))
    preds["mobilenetv2"] = m.predict(
        keras.applications.mobilenet_v2.preprocess_input(x.copy()), verbose=0)
    keras.backend.clear_session()
    e = efficientnet.EfficientNet(0.25, 0.25, 32, 0.2, model_name="efficientnet_small",
                                  weights=None, input_shape=(32, 32, 3), classes=10)
    perturb(e, rng)
    e.save_weights(os.path.join(HERE, "efficientnet_small.h5"))
    preds["efficientnet"] = e.predict(x, verbose=0)
    np.savez(os.path.join(HERE, "small_predictions.npz"), **preds)
    return {"mobilenetv2_small": describe(m), "efficientnet_small": describe(e)}


def main():
    rng = np.random.default_rng(0)
    out = architectures()
    out["small"] = small_models(rng)
    with open(os.path.join(HERE, "architectures.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
