"""Writes `keras3_act_noise.keras` and `keras3_act_noise_ref.npz` beside this file.

Run with real Keras 3 (the `keras` package; not tf_keras in the same
process), e.g. the one TensorFlow 2.21 installs:

    /tmp/tfenv/bin/python tests/data/tf2_layers/make_keras3_layer_refs.py

The model holds the activation and noise layers Keras 3 still has (it
dropped ThresholdedReLU), with Keras 3's config spellings
(`LeakyReLU(negative_slope=...)`, SpatialDropout without `trainable`,
`AlphaDropout` with `noise_shape`). The `.npz` holds probe inputs `x` and
Keras 3's `predict` `y`, for `tests/test_activation_layers.py`.
"""

import os

import keras
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input(shape=(3, 4, 2)),
        keras.layers.Permute((3, 1, 2)),
        keras.layers.SpatialDropout2D(0.3, data_format="channels_first"),
        keras.layers.GaussianNoise(0.1),
        keras.layers.Flatten(),
        keras.layers.Dense(8),
        keras.layers.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.1, 0.4)),
        keras.layers.LeakyReLU(negative_slope=0.2),
        keras.layers.ReLU(max_value=3.0, negative_slope=0.05, threshold=0.1),
        keras.layers.ELU(alpha=0.7),
        keras.layers.GaussianDropout(0.3),
        keras.layers.AlphaDropout(0.2, noise_shape=(None, 8)),
        keras.layers.Dense(6),
        keras.layers.ActivityRegularization(l1=0.01),
        keras.layers.Reshape((2, 3)),
        keras.layers.SpatialDropout1D(0.5),
        keras.layers.Softmax(axis=1),
    ])
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(1).standard_normal((5, 3, 4, 2)).astype("float32")
    y = model.predict(x, verbose=0)
    model.save(os.path.join(HERE, "keras3_act_noise.keras"))
    np.savez(os.path.join(HERE, "keras3_act_noise_ref.npz"), x=x, y=y,
             keras_version=np.array(keras.__version__))


if __name__ == "__main__":
    main()
