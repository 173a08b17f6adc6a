#!/usr/bin/env python
"""Writes the convolution reference files in this folder with REAL Keras.

Run once, in an environment with tensorflow-cpu 2.21, tf_keras 2.21 and
keras 3.15 (NOT kerasette's test environment, which has no TensorFlow):

    python tests/data/keras21/make_keras21.py

Each Keras runs in its own subprocess (tf_keras and Keras 3 must never share
one), with one TF thread. For each model NAME below it writes:

- `tfkeras2_NAME.h5`: the model saved by tf_keras 2.21 (`model.save`, legacy
  HDF5, uncompiled);
- `keras3_NAME.keras`: the same architecture with the same weights saved by
  Keras 3.15 (`model.save`, the zip format);
- `NAME_ref.npz`: `x` (3 probe rows, `RandomState(42)`), `y` (tf_keras's
  `model.predict(x)`), `y3` (Keras 3's prediction), and `w0..wN`
  (`get_weights()` order, equal in both).

The weights are random normal draws scaled by 0.3 (`RandomState(1)`), set
with `set_weights`, so biases are non-zero and every weight counts.

Models (`->` chains a Sequential):

- `conv2d_transpose`: Input((5, 5, 3)) -> Conv2DTranspose(4, 3, strides=2,
  padding='same') -> Conv2DTranspose(3, (2, 3), strides=(2, 1),
  output_padding=(1, 0)) -> Conv2DTranspose(2, 3, padding='same',
  dilation_rate=2, activation='tanh') -> Conv2DTranspose(2, 4, strides=2,
  padding='same', output_padding=1, use_bias=False)
- `conv1d_transpose`: Input((6, 3)) -> Conv1DTranspose(4, 3, strides=2,
  padding='same') -> Conv1DTranspose(3, 4, strides=3, output_padding=2) ->
  Conv1DTranspose(2, 3, dilation_rate=2, activation='tanh')
- `separable`: Input((9, 9, 3)) -> DepthwiseConv2D(3, depth_multiplier=2,
  strides=2, padding='same') -> SeparableConv2D(5, 3, depth_multiplier=2,
  activation='relu') -> DepthwiseConv2D((2, 3), dilation_rate=(1, 2),
  padding='same', use_bias=False) -> SeparableConv2D(4, 2, padding='same',
  dilation_rate=2) -> SeparableConv2D(3, 2, strides=2, use_bias=False)
- `conv3d`: Input((6, 9, 5, 2)) -> Conv3D(3, 3, padding='same',
  activation='relu') -> MaxPooling3D(2, padding='same') -> Conv3D(4,
  (2, 3, 1), strides=(1, 2, 1)) -> AveragePooling3D((1, 2, 2), strides=1,
  padding='same') -> UpSampling3D((2, 1, 2)) -> ZeroPadding3D(((1, 0),
  (2, 1), (0, 1))) -> Cropping3D(((0, 1), (1, 1), (2, 0))) -> Conv3D(2, 2,
  dilation_rate=(2, 1, 1)) -> AveragePooling3D(2) -> GlobalAveragePooling3D
- `pool3d`: Input((5, 4, 6, 2)) -> MaxPooling3D((2, 2, 3), strides=(1, 2, 2))
  -> GlobalMaxPooling3D
- `upsample_crop`: Input((4, 5, 2)) -> UpSampling2D((2, 3),
  interpolation='bilinear') -> Cropping2D(((1, 2), (0, 3))) ->
  UpSampling2D(2) -> Conv2D(2, 3) -> Cropping2D(1) -> UpSampling2D(3,
  interpolation='bilinear')
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = ("conv2d_transpose", "conv1d_transpose", "separable", "conv3d", "pool3d",
         "upsample_crop")


def build(keras, name):
    """The model `name` (see the table above) built with `keras`."""
    L = keras.layers
    layers = {
        "conv2d_transpose": [
            keras.Input((5, 5, 3)),
            L.Conv2DTranspose(4, 3, strides=2, padding="same"),
            L.Conv2DTranspose(3, (2, 3), strides=(2, 1), output_padding=(1, 0)),
            L.Conv2DTranspose(2, 3, padding="same", dilation_rate=2, activation="tanh"),
            L.Conv2DTranspose(2, 4, strides=2, padding="same", output_padding=1,
                              use_bias=False),
        ],
        "conv1d_transpose": [
            keras.Input((6, 3)),
            L.Conv1DTranspose(4, 3, strides=2, padding="same"),
            L.Conv1DTranspose(3, 4, strides=3, output_padding=2),
            L.Conv1DTranspose(2, 3, dilation_rate=2, activation="tanh"),
        ],
        "separable": [
            keras.Input((9, 9, 3)),
            L.DepthwiseConv2D(3, depth_multiplier=2, strides=2, padding="same"),
            L.SeparableConv2D(5, 3, depth_multiplier=2, activation="relu"),
            L.DepthwiseConv2D((2, 3), dilation_rate=(1, 2), padding="same", use_bias=False),
            L.SeparableConv2D(4, 2, padding="same", dilation_rate=2),
            L.SeparableConv2D(3, 2, strides=2, use_bias=False),
        ],
        "conv3d": [
            keras.Input((6, 9, 5, 2)),
            L.Conv3D(3, 3, padding="same", activation="relu"),
            L.MaxPooling3D(2, padding="same"),
            L.Conv3D(4, (2, 3, 1), strides=(1, 2, 1)),
            L.AveragePooling3D((1, 2, 2), strides=1, padding="same"),
            L.UpSampling3D((2, 1, 2)),
            L.ZeroPadding3D(((1, 0), (2, 1), (0, 1))),
            L.Cropping3D(((0, 1), (1, 1), (2, 0))),
            L.Conv3D(2, 2, dilation_rate=(2, 1, 1)),
            L.AveragePooling3D(2),
            L.GlobalAveragePooling3D(),
        ],
        "pool3d": [
            keras.Input((5, 4, 6, 2)),
            L.MaxPooling3D((2, 2, 3), strides=(1, 2, 2)),
            L.GlobalMaxPooling3D(),
        ],
        "upsample_crop": [
            keras.Input((4, 5, 2)),
            L.UpSampling2D((2, 3), interpolation="bilinear"),
            L.Cropping2D(((1, 2), (0, 3))),
            L.UpSampling2D(2),
            L.Conv2D(2, 3),
            L.Cropping2D(1),
            L.UpSampling2D(3, interpolation="bilinear"),
        ],
    }[name]
    return keras.Sequential(layers, name=name)


def child(impl):
    """Runs in a subprocess: writes `impl`'s files (and, for tf_keras, the refs)."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    import numpy as np
    if impl == "tfkeras2":
        import tf_keras as keras
    else:
        os.environ["KERAS_BACKEND"] = "tensorflow"
        import keras
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    for name in NAMES:
        keras.backend.clear_session()
        model = build(keras, name)
        ref_path = os.path.join(HERE, f"{name}_ref.npz")
        if impl == "tfkeras2":
            rng = np.random.RandomState(1)
            weights = [(0.3 * rng.standard_normal(w.shape)).astype("float32")
                       for w in model.get_weights()]
            x = np.random.RandomState(42).standard_normal(
                (3,) + tuple(model.input_shape[1:])).astype("float32")
            ref = {"x": x}
        else:
            with np.load(ref_path) as f:
                ref = dict(f)
            weights = [ref[f"w{i}"] for i in range(int(ref["n_weights"]))]
            x = ref["x"]
        model.set_weights(weights)
        y = model.predict(x, verbose=0)
        if impl == "tfkeras2":
            ref.update({"y": y, "n_weights": len(weights)})
            ref.update({f"w{i}": w for i, w in enumerate(weights)})
            ref["weight_names"] = np.array([w.name for w in model.weights])
            model.save(os.path.join(HERE, f"tfkeras2_{name}.h5"))
        else:
            ref["y3"] = y
            ref["weight_paths3"] = np.array([w.path for w in model.weights])
            model.save(os.path.join(HERE, f"keras3_{name}.keras"))
        np.savez(ref_path, **ref)
        print(impl, name, [tuple(w.shape) for w in weights], y.shape)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    for impl in ("tfkeras2", "keras3"):  # tf_keras first: it writes x, the weights and y
        subprocess.run([sys.executable, __file__, "--child", impl], check=True)


if __name__ == "__main__":
    main()
