#!/usr/bin/env python
"""Writes `keras3_IrisModel/`, a model folder written by REAL Keras 3.

Run once, in an environment with keras 3.15 and one of its backends (not
kerasette's test environment), from any folder:

    KERAS_BACKEND=jax python tests/data/make_keras3_dir.py

The model is the course notes' Iris network (4-20-20-3 tanh, L2(0.001) on
the first layer, Dropout(0.5), softmax, Adam), trained for 3 steps on
random data and saved with `keras.saving.save_model(model, path,
zipped=False)`: the folder holds `config.json`, `metadata.json` and
`model.weights.h5`, and an empty `assets/` folder, which Keras 3.15 leaves
when the path is absolute (its `DiskIOStore` joins the path to a temporary
folder it deletes: a relative path lands there, an absolute one does not).
git keeps no empty folder, so this script removes it; the tests add it back
where they need it.
`keras3_IrisModel_ref.npz` holds `x` (7 probe rows), `y`
(`model.predict(x)`), `w0..wN` (`get_weights()`), `n_weights`, `opt0..optM`
(the optimizer's variables in Keras 3's order), `n_opt` and `iterations`.
The versions used go to `keras3_dir_versions.json`.
"""

import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    import keras
    import numpy as np

    keras.utils.set_random_seed(11)
    L = keras.layers
    model = keras.Sequential([
        keras.Input((4,)),
        L.Dense(20, activation="tanh", kernel_regularizer=keras.regularizers.l2(0.001)),
        L.Dropout(0.5),
        L.Dense(20, activation="tanh"),
        L.Dropout(0.5),
        L.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.RandomState(3)
    x_train = rng.rand(60, 4).astype("float32")
    y_train = rng.randint(0, 3, size=(60,))
    model.fit(x_train, y_train, epochs=1, batch_size=20, verbose=0)
    path = os.path.join(HERE, "keras3_IrisModel")
    shutil.rmtree(path, ignore_errors=True)
    keras.saving.save_model(model, path, zipped=False)
    assets = os.path.join(path, "assets")
    if os.path.isdir(assets) and not os.listdir(assets):
        os.rmdir(assets)
    x = rng.rand(7, 4).astype("float32")
    weights = model.get_weights()
    opt = [np.asarray(v) for v in model.optimizer.variables]
    np.savez(os.path.join(HERE, "keras3_IrisModel_ref.npz"), x=x,
             y=model.predict(x, verbose=0), n_weights=np.array(len(weights)),
             n_opt=np.array(len(opt)), iterations=np.array(int(model.optimizer.iterations)),
             **{f"w{i}": w for i, w in enumerate(weights)},
             **{f"opt{i}": v for i, v in enumerate(opt)})
    versions = {"keras": keras.__version__, "backend": keras.backend.backend()}
    with open(os.path.join(HERE, "keras3_dir_versions.json"), "w") as f:
        json.dump(versions, f)
    print(sorted(os.listdir(path)), versions)


if __name__ == "__main__":
    main()
