"""The course notes' recipes, timed whole: `fit` as the notes call it.

    python benchmarks/run.py --only recipes

Rows (one fresh process per system, recipe and round, so thread pools never
meet; the systems alternate round by round and the table gives medians):

* Iris: 4-20-20-3 tanh, `l2(0.001)` on every kernel, Dropout(0.5) after
  each hidden layer, Adam, batch 20, 2,000 epochs with `validation_data`
  (`examples/iris.py --epochs 2000`): seconds for the whole `fit`.
* XOR: 2-2-1 sigmoid, SGD(0.5), mse, 10,000 epochs of one batch of 4:
  seconds for `fit(x, y, epochs=10000, batch_size=4, verbose=0)`.
* MNIST MLP with BatchNormalization and sigmoid (the notes' BN row,
  `examples/mnist_mlp.py --batchnorm --activation sigmoid`): seconds per
  epoch at batch 128.

PyTorch runs each as a plain loop (forward, loss, backward, step; the
validation forward under `no_grad`); tf.keras runs when `tf_keras` imports
here, or through the interpreter named by `KERASETTE_TF_PYTHON` (say
`/tmp/tfenv/bin/python`). `python benchmarks/recipes.py SYSTEM RECIPE`
prints one timing as JSON (what the section runs in a fresh process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

import numpy as np

RECIPES = ("iris", "xor", "bn_mlp")
HERE = Path(__file__).resolve().parent


def _iris_data():
    import kerasette

    (x, y), _ = kerasette.datasets.iris.load_data()
    x, y = np.asarray(x, np.float32), np.asarray(y, np.int64)
    order = np.random.default_rng(0).permutation(len(x))
    x, y = x[order], y[order]
    mean, std = x[:120].mean(0), x[:120].std(0)
    x = (x - mean) / std
    return x[:120], y[:120], x[120:], y[120:]


XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
XOR_T = np.array([[0], [1], [1], [0]], np.float32)


def keras_recipe(module_name, recipe, epochs=None):
    """Seconds of the recipe's `fit` in kerasette or tf.keras."""
    import importlib

    keras = importlib.import_module(module_name)
    keras.utils.set_random_seed(0)
    L = keras.layers
    if recipe == "iris":
        xt, yt, xv, yv = _iris_data()
        l2 = keras.regularizers.l2
        model = keras.Sequential([
            L.Dense(20, activation="tanh", input_shape=(4,), kernel_regularizer=l2(0.001)),
            L.Dropout(0.5), L.Dense(20, activation="tanh", kernel_regularizer=l2(0.001)),
            L.Dropout(0.5), L.Dense(3, activation="softmax", kernel_regularizer=l2(0.001))])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        start = time.perf_counter()
        model.fit(xt, yt, batch_size=20, epochs=epochs or 2000, validation_data=(xv, yv),
                  verbose=0)
        return time.perf_counter() - start
    if recipe == "xor":
        model = keras.Sequential([L.Dense(2, activation="sigmoid", input_shape=(2,)),
                                  L.Dense(1, activation="sigmoid")])
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
        start = time.perf_counter()
        model.fit(XOR_X, XOR_T, epochs=epochs or 10000, batch_size=4, verbose=0)
        return time.perf_counter() - start
    x, y = _mnist()
    model = keras.Sequential([L.Dense(512, input_shape=(784,)), L.BatchNormalization(),
                              L.Activation("sigmoid"), L.Dense(128), L.BatchNormalization(),
                              L.Activation("sigmoid"), L.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x[:1280], y[:1280], batch_size=128, epochs=1, verbose=0)  # warm up
    times = []
    for _ in range(epochs or 2):
        start = time.perf_counter()
        model.fit(x, y, batch_size=128, epochs=1, verbose=0)
        times.append(time.perf_counter() - start)
    return median(times)


def _mnist():
    import kerasette

    (x, y), _ = kerasette.datasets.mnist.load_data()
    return (x.reshape(-1, 784).astype(np.float32) / 255.0), y.astype(np.int64)


def torch_recipe(recipe, epochs=None):
    """Seconds of the recipe as a plain PyTorch loop."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    if recipe == "iris":
        xt, yt, xv, yv = (torch.from_numpy(a) for a in _iris_data())
        model = nn.Sequential(nn.Linear(4, 20), nn.Tanh(), nn.Dropout(0.5), nn.Linear(20, 20),
                              nn.Tanh(), nn.Dropout(0.5), nn.Linear(20, 3))
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
        kernels = [m.weight for m in model if isinstance(m, nn.Linear)]
        ce = nn.CrossEntropyLoss()
        start = time.perf_counter()
        for _ in range(epochs or 2000):
            model.train()
            for idx in torch.randperm(120).split(20):
                opt.zero_grad()
                loss = ce(model(xt[idx]), yt[idx]) + 0.001 * sum((w * w).sum() for w in kernels)
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                ce(model(xv), yv)
        return time.perf_counter() - start
    if recipe == "xor":
        x, t = torch.from_numpy(XOR_X), torch.from_numpy(XOR_T)
        model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())
        opt = torch.optim.SGD(model.parameters(), lr=0.5)
        mse = nn.MSELoss()
        start = time.perf_counter()
        for _ in range(epochs or 10000):
            opt.zero_grad()
            loss = mse(model(x), t)
            loss.backward()
            opt.step()
        return time.perf_counter() - start
    x, y = (torch.from_numpy(a) for a in _mnist())
    model = nn.Sequential(nn.Linear(784, 512), nn.BatchNorm1d(512, eps=1e-3, momentum=0.01),
                          nn.Sigmoid(), nn.Linear(512, 128),
                          nn.BatchNorm1d(128, eps=1e-3, momentum=0.01), nn.Sigmoid(),
                          nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    ce = nn.CrossEntropyLoss()
    times = []
    for _ in range(epochs or 2):
        start = time.perf_counter()
        for idx in torch.randperm(len(x)).split(128):
            opt.zero_grad()
            loss = ce(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - start)
    return median(times)


def step_ratios(rounds=5, epochs=20):
    """Per-step time ratios of the Iris network, side by side in this process.

    Returns `{"recipe_over_plain": ..., "tape_over_plain": ...}`: the notes'
    recipe (L2 on every kernel, two Dropouts) on the direct step, and the
    same recipe forced onto the general tape path, each over the plain
    4-20-20-3 network's direct step; medians of `rounds` alternating
    `fit`s of `epochs` epochs (120 rows, batch 20). A ratio within one
    process: the machine's speed cancels (the regression guard's figure).
    """
    import kerasette as keras
    from kerasette.training.fast_step import FastStep

    xt, yt, _, _ = _iris_data()
    L = keras.layers

    def make(recipe):
        reg = keras.regularizers.l2(0.001) if recipe else None

        def drop():
            return [L.Dropout(0.5)] if recipe else []

        model = keras.Sequential(
            [L.Dense(20, activation="tanh", input_shape=(4,), kernel_regularizer=reg)] + drop()
            + [L.Dense(20, activation="tanh", kernel_regularizer=reg)] + drop()
            + [L.Dense(3, activation="softmax", kernel_regularizer=reg)])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(xt, yt, batch_size=20, epochs=1, verbose=0)
        return model

    original = FastStep.build
    models = {"plain": make(False), "recipe": make(True), "tape": make(True)}
    times = {name: [] for name in models}
    try:
        for _ in range(rounds):
            for name, model in models.items():
                FastStep.build = (classmethod(lambda cls, m: None) if name == "tape"
                                  else original)
                start = time.perf_counter()
                model.fit(xt, yt, batch_size=20, epochs=epochs, verbose=0)
                times[name].append(time.perf_counter() - start)
    finally:
        FastStep.build = original
    plain = median(times["plain"])
    return {"recipe_over_plain": median(times["recipe"]) / plain,
            "tape_over_plain": median(times["tape"]) / plain}


def _fresh(system, recipe, python=None):
    """One timing in a fresh process (None when that system is missing)."""
    run = subprocess.run([python or sys.executable, str(HERE / "recipes.py"), system, recipe],
                         capture_output=True, text=True, env=dict(os.environ), timeout=1200)
    if run.returncode != 0:
        return None
    return json.loads(run.stdout.strip().splitlines()[-1])


def recipes(threads, skip, repeats=3, **_):
    """The recipes' table: seconds per system (the median of `repeats`
    fresh processes each, the systems alternating) and ratios to kerasette."""
    import systems
    from common import markdown_table

    tf_python = os.environ.get("KERASETTE_TF_PYTHON")
    raw = {}
    for recipe in RECIPES:
        runs = {"kerasette": ("kerasette", None)}
        if "torch" not in skip and systems.available("torch"):
            runs["PyTorch"] = ("torch", None)
        if "tf_keras" not in skip and recipe != "bn_mlp" and (
                systems.available("tf_keras") or tf_python):
            runs["tf.keras"] = ("tf_keras", tf_python)
        times = {name: [] for name in runs}
        for _ in range(max(1, repeats)):
            for name, (system, python) in runs.items():
                times[name].append(_fresh(system, recipe, python))
        raw[recipe] = {name: (None if None in ts else median(ts)) for name, ts in times.items()}
        raw[recipe]["rounds"] = times
    titles = {"iris": "Iris recipe, `fit` of 2,000 epochs with validation (s)",
              "xor": "XOR, `fit` of 10,000 epochs of one batch (s)",
              "bn_mlp": "MNIST MLP, BatchNormalization + sigmoid, one epoch at batch 128 (s)"}
    rows = []
    for recipe, timings in raw.items():
        ours = timings["kerasette"]
        cells = [titles[recipe], f"{ours:.2f}" if ours else "—"]
        for name in ("PyTorch", "tf.keras"):
            t = timings.get(name)
            cells.append("—" if not t else f"{t:.2f} ({ours / t:.2f}x)" if ours else f"{t:.2f}")
        rows.append(cells)
    table = markdown_table(["recipe", "kerasette", "PyTorch (kerasette/PyTorch)",
                            "tf.keras (kerasette/tf.keras)"], rows)
    return (f"## The course notes' recipes, {threads} threads, medians of {max(1, repeats)} "
            f"fresh processes each\n\n{table}"), raw


GUARD_KEYS = {"recipe_over_plain": "iris_recipe_step_over_plain_step",
              "tape_over_plain": "iris_tape_step_over_plain_step"}


def guard(record=False):
    """The step guard: `step_ratios()` against `baseline.json`; exit status 1
    when a ratio is more than 25% above its recorded figure (a slower
    direct step for regularizers or Dropout, or a slower general tape
    path), 3 when the baseline comes from another processor."""
    # Run as a script, with `python -P` / PYTHONSAFEPATH=1 too (CI), this
    # folder is not on the path by itself.
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import common

    path = HERE / "baseline.json"
    ratios = step_ratios(rounds=7)
    recorded = json.loads(path.read_text()) if path.exists() else {}
    cpu = common.cpu_name()
    if record:
        if recorded.get("cpu", cpu) == cpu:
            recorded.update({GUARD_KEYS[k]: round(v, 3) for k, v in ratios.items()})
            path.write_text(json.dumps(recorded, indent=1) + "\n")
    if recorded.get("cpu", cpu) != cpu:
        print(f"Iris step ratios {ratios}; the baseline is from {recorded['cpu']!r}, this is "
              f"{cpu!r}: not comparable.")
        return 3
    status = 0
    for name, value in ratios.items():
        limit = recorded.get(GUARD_KEYS[name])
        print(f"{name}: {value:.3f}" + (f"; recorded {limit:.3f}, limit {1.25 * limit:.3f}"
                                        if limit else "; nothing recorded"))
        if limit and value > 1.25 * limit:
            print(f"REGRESSION: {name} is more than 25% above benchmarks/baseline.json.")
            status = 1
    return status


if __name__ == "__main__":
    if sys.argv[1] == "--guard":
        sys.exit(guard(record="--record" in sys.argv))
    system, recipe = sys.argv[1], sys.argv[2]
    if system == "torch":
        print(json.dumps(torch_recipe(recipe)))
    else:
        print(json.dumps(keras_recipe(system, recipe)))
