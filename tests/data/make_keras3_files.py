#!/usr/bin/env python
"""Writes the `.keras` reference files in this folder with REAL Keras 3.

Run once, in an environment with tensorflow-cpu 2.21 and keras 3.15 (not
kerasette's test environment):

    KERAS_BACKEND=tensorflow python tests/data/make_keras3_files.py

For each model NAME it writes `keras3_NAME.keras` (`model.save`) and
`keras3_NAME_ref.npz` with `x` (7 probe rows), `y` (`model.predict(x)`),
`w0..wN` (`get_weights()`), `n_weights`, `opt0..optM` (the optimizer's
variables in Keras 3's order, `n_opt`) and `iterations`. `keras3_lambda.keras`
holds a `Lambda` layer (for the refusal test; it is never executed).
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    os.environ["KERAS_BACKEND"] = "tensorflow"
    import keras
    import numpy as np

    L = keras.layers
    rng = np.random.RandomState(7)

    def models():
        yield "xor", keras.Sequential([
            L.Dense(2, activation="sigmoid", input_shape=(2,)),
            L.Dense(1, activation="sigmoid"),
        ]), {"optimizer": keras.optimizers.SGD(learning_rate=0.5), "loss": "mse"}, (2,), "reg1"
        yield "iris_like", keras.Sequential([
            L.Dense(20, activation="tanh", input_shape=(4,),
                    kernel_regularizer=keras.regularizers.l2(0.001)),
            L.Dropout(0.5),
            L.Dense(20, activation="tanh"),
            L.Dropout(0.5),
            L.Dense(3, activation="softmax"),
        ]), {"optimizer": keras.optimizers.Adam(), "loss": "sparse_categorical_crossentropy",
                 "metrics": ["accuracy"]}, (4,), "sparse3"
        yield "activation_layer", keras.Sequential([
            L.Dense(5, input_shape=(3,)),
            L.Activation("relu"),
            L.Dense(2),
        ]), {"optimizer": keras.optimizers.RMSprop(), "loss": "mse"}, (3,), "reg2"
        yield "bn_small", keras.Sequential([
            L.Flatten(input_shape=(4, 3)),
            L.Dense(8, activation="relu", kernel_regularizer=keras.regularizers.l2(0.01)),
            L.BatchNormalization(),
            L.Dropout(0.2),
            L.Dense(3, activation="softmax"),
        ]), {"optimizer": keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
                 "loss": keras.losses.CategoricalCrossentropy(),
                 "metrics": [keras.metrics.CategoricalAccuracy(name="acc")]}, (4, 3), "onehot3"
        yield "cnn_small", keras.Sequential([
            L.Conv2D(3, 3, activation="relu", input_shape=(6, 6, 1)),
            L.ZeroPadding2D(1),
            L.MaxPooling2D(2),
            L.AveragePooling2D(1),
            L.LayerNormalization(),
            L.GlobalAveragePooling2D(),
            L.Dense(3, activation="softmax"),
        ]), {"optimizer": keras.optimizers.RMSprop(learning_rate=0.01, momentum=0.5,
                                                    centered=True),
                 "loss": "categorical_crossentropy", "metrics": ["accuracy"]}, (6, 6, 1), "onehot3"
        yield "uncompiled", keras.Sequential([
            keras.Input((3,)),
            L.Dense(4, activation="tanh"),
            L.Dense(1),
        ]), None, (3,), None

    for name, model, compile_kw, shape, target in models():
        keras.utils.set_random_seed(1234)
        x_train = rng.rand(48, *shape).astype("float32")
        if compile_kw is not None:
            model.compile(**compile_kw)
            if target == "sparse3":
                y_train = rng.randint(0, 3, size=(48,))
            elif target == "onehot3":
                y_train = np.eye(3, dtype="float32")[rng.randint(0, 3, size=(48,))]
            else:
                y_train = rng.rand(48, int(target[-1])).astype("float32")
            model.fit(x_train, y_train, epochs=2, batch_size=16, verbose=0, shuffle=False)
        x = rng.rand(7, *shape).astype("float32")
        y = model.predict(x, verbose=0)
        model.save(os.path.join(HERE, f"keras3_{name}.keras"))
        ref = {"x": x, "y": y}
        weights = model.get_weights()
        ref["n_weights"] = np.array(len(weights))
        for i, w in enumerate(weights):
            ref[f"w{i}"] = np.asarray(w)
        opt_vars = model.optimizer.variables if compile_kw is not None else []
        ref["n_opt"] = np.array(len(opt_vars))
        for i, v in enumerate(opt_vars):
            ref[f"opt{i}"] = np.asarray(v.numpy())
        ref["iterations"] = np.array(int(model.optimizer.iterations.numpy())
                                     if compile_kw is not None else 0)
        np.savez(os.path.join(HERE, f"keras3_{name}_ref.npz"), **ref)
        print(name, "saved", len(weights), "weights,", len(opt_vars), "optimizer variables")

    lam = keras.Sequential([keras.Input((2,)), L.Lambda(lambda t: t * 2.0), L.Dense(1)])
    lam.save(os.path.join(HERE, "keras3_lambda.keras"))
    with open(os.path.join(HERE, "keras3_versions.json"), "w") as fh:
        import tensorflow as tf

        json.dump({"keras": keras.__version__, "tensorflow": tf.__version__}, fh)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
