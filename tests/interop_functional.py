"""The fixtures' functional models, written once for every Keras.

`build(keras, name)` takes the Keras module to build with (kerasette,
tf_keras or Keras 3) and writes the architecture of
`shared/fixtures/keras2/README.md` in the public API that all three share,
so the model kerasette saves and the model real Keras builds to receive
`load_weights` come from the same lines. No kerasette import here: the
interop subprocesses (`interop_functional_loader.py`) import this module
next to real Keras only.
"""

from __future__ import annotations

import numpy as np

MODELS = ("func_mlp", "func_skip", "func_two_inputs", "func_two_outputs",
          "func_shared_layer", "func_nested")


def build(keras, name):
    """The fixture model `name`, built with the module `keras`."""
    L = keras.layers
    if name == "func_mlp":
        x = keras.Input(shape=(8,))
        return keras.Model(x, L.Dense(3, activation="softmax")(L.Dense(16, activation="relu")(x)))
    if name == "func_skip":
        x = keras.Input(shape=(8,))
        h = L.Add()([L.Dense(8, activation="relu")(x), x])
        joined = L.Concatenate()([L.Dense(4, activation="relu")(h),
                                  L.Dense(4, activation="tanh")(h)])
        return keras.Model(x, L.Dense(1)(joined))
    if name == "func_two_inputs":
        a, b = keras.Input(shape=(5,), name="in_a"), keras.Input(shape=(3,), name="in_b")
        joined = L.Concatenate(name="concat")([L.Dense(4, activation="relu", name="dense_a")(a),
                                               L.Dense(4, activation="relu", name="dense_b")(b)])
        return keras.Model([a, b], L.Dense(2, activation="softmax", name="out")(joined),
                           name="two_inputs")
    if name == "func_two_outputs":
        x = keras.Input(shape=(6,), name="x")
        trunk = L.Dense(16, activation="relu", name="trunk")(x)
        return keras.Model(x, [L.Dense(3, activation="softmax", name="cls")(trunk),
                               L.Dense(1, name="reg")(trunk)])
    if name == "func_shared_layer":
        left, right = keras.Input(shape=(4,), name="left"), keras.Input(shape=(4,), name="right")
        shared = L.Dense(6, activation="relu", name="shared")
        diff = L.Subtract(name="diff")([shared(left), shared(right)])
        return keras.Model([left, right], L.Dense(1, activation="sigmoid", name="out")(diff),
                           name="siamese")
    if name == "func_nested":
        sub = keras.Sequential([keras.Input(shape=(6,)), L.Dense(8, activation="relu"),
                                L.Dense(4, activation="relu")], name="sub")
        x = keras.Input(shape=(6,))
        return keras.Model(x, L.Dense(3, activation="softmax")(sub(x)), name="outer")
    raise ValueError(f"unknown functional fixture {name!r}; expected one of {MODELS}")


def compile_kwargs(keras, name) -> dict:
    """The fixtures' compile arguments (Adam(1e-2); loss as users write it)."""
    kwargs = {"optimizer": keras.optimizers.Adam(1e-2)}
    if name in ("func_mlp", "func_two_inputs", "func_nested"):
        kwargs.update(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    elif name == "func_skip":
        kwargs.update(loss="mse")
    elif name == "func_two_outputs":
        kwargs.update(loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                      loss_weights={"cls": 1.0, "reg": 0.5},
                      metrics={"cls": ["accuracy"], "reg": ["mae"]})
    else:
        kwargs.update(loss="binary_crossentropy", metrics=["accuracy"])
    return kwargs


_INPUTS = {"func_mlp": [(8,)], "func_skip": [(8,)], "func_two_inputs": [(5,), (3,)],
           "func_two_outputs": [(6,)], "func_shared_layer": [(4,), (4,)],
           "func_nested": [(6,)]}


def data(name, n, seed):
    """`(x, y)`: a list of input arrays and a list of target arrays (one per
    input and output, in `model.inputs` / `model.outputs` order)."""
    rng = np.random.RandomState(seed)
    xs = [rng.rand(n, *shape).astype("float32") for shape in _INPUTS[name]]
    if name == "func_skip":
        ys = [rng.rand(n, 1).astype("float32")]
    elif name == "func_two_outputs":
        ys = [rng.randint(0, 3, size=(n,)), rng.rand(n, 1).astype("float32")]
    elif name == "func_shared_layer":
        ys = [rng.randint(0, 2, size=(n, 1)).astype("float32")]
    else:
        ys = [rng.randint(0, 2 if name == "func_two_inputs" else 3, size=(n,))]
    return xs, ys


def unpack(arrays):
    """What `fit`/`predict` take: the array itself when there is one."""
    return arrays[0] if len(arrays) == 1 else list(arrays)


def save_arrays(path, xs, ys, train_xs, train_ys, weights, **extra):
    """One `.npz` holding what a loader checks against."""
    arrays = {f"x{i}": x for i, x in enumerate(xs)}
    arrays.update({f"y{i}": y for i, y in enumerate(ys)})
    arrays.update({f"train_x{i}": x for i, x in enumerate(train_xs)})
    arrays.update({f"train_y{i}": y for i, y in enumerate(train_ys)})
    arrays.update({f"w{i}": w for i, w in enumerate(weights)})
    np.savez(path, n_weights=np.array(len(weights)), **arrays, **extra)


def load_arrays(path):
    """`(xs, ys, train_xs, train_ys, weights)` of a `save_arrays` file."""
    ref = np.load(path)

    def series(prefix):
        out, i = [], 0
        while f"{prefix}{i}" in ref:
            out.append(ref[f"{prefix}{i}"])
            i += 1
        return out

    weights = [ref[f"w{i}"] for i in range(int(ref["n_weights"]))]
    return series("x"), series("y"), series("train_x"), series("train_y"), weights
