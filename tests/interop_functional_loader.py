"""Real Keras loads kerasette's functional-model files (one Keras per process).

    python interop_functional_loader.py FLAVOR WORK [MODULE]

FLAVOR is `tf_keras` (tf.keras 2) or `keras3`; WORK holds `manifest.json`
and the files `test_interop_keras.py` wrote with kerasette. MODULE is the
module next to this file that builds the models (`interop_functional`, the
default, or `interop_sequence`). For each model
and file kind this loads the file (`load_model`, or a model built by
`MODULE.build` plus `load_weights` for `.weights.h5`), records
whether it compiled, its weights, its predictions against kerasette's, one
more epoch of training, and saves the loaded model again in the loader's
own format for kerasette to read back. Results go to
WORK/FLAVOR_functional.json (for either MODULE); the last stdout line says `{"ok": true}` or
`{"unavailable": ...}`. Never imports kerasette.
"""

import json
import os
import sys
import traceback
import warnings

import numpy as np

# The kinds each loader tries. tf_keras's `.keras` reader is tried too, to
# record what it says about Keras 3's dialect (kerasette's `.keras`).
KINDS = {"tf_keras": ("h5", "keras", "weights.h5"), "keras3": ("h5", "keras", "weights.h5")}
RESAVE = {"tf_keras": "h5", "keras3": "keras"}


def _import(flavor):
    import tensorflow as tf
    if flavor == "tf_keras":
        import tf_keras as keras
    else:
        import keras
        if int(keras.__version__.split(".")[0]) < 3:
            raise ImportError(f"keras {keras.__version__} is not Keras 3")
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return tf, keras


def _compiled(model):
    flag = getattr(model, "compiled", None)
    if flag is None:
        flag = getattr(model, "_is_compiled", False)
    return bool(flag) and getattr(model, "optimizer", None) is not None


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _difference(got, want):
    """Largest |got - want|, where NaN in both places (a masked mean over
    nothing, in every Keras) counts as equal and NaN in one as infinite."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return float("inf")
    both = np.isnan(got) & np.isnan(want)
    diff = np.where(both, 0.0, np.abs(got - want))
    return float(np.nan_to_num(diff, nan=np.inf).max())


def _load(keras, name, kind, path, r):
    if kind == "weights.h5":
        keras.backend.clear_session()
        model = shared.build(keras, name)
        model.load_weights(path)
        return model
    try:
        return keras.models.load_model(path)
    except Exception as err:  # noqa: BLE001 - recorded, then retried without compiling
        r["compile_error"] = f"{type(err).__name__}: {err}"[:800]
        return keras.models.load_model(path, compile=False)


def _check(keras, flavor, work, case, kind, r):
    xs, ys, train_xs, train_ys, weights = shared.load_arrays(case["npz"])
    name = case["name"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = _load(keras, name, kind, case["files"][kind], r)
    r["loaded"] = True
    r["warnings"] = sorted({str(w.message)[:300] for w in caught})
    r["compiled"] = _compiled(model)
    got = model.get_weights()
    r["n_weights"] = len(got)
    r["weights_equal"] = len(got) == len(weights) and all(
        np.array_equal(a, b) for a, b in zip(got, weights))
    preds = _as_list(model.predict(shared.unpack(xs), verbose=0))
    r["n_outputs"] = len(preds)
    r["pred_diff"] = (max(_difference(p, y) for p, y in zip(preds, ys))
                      if len(preds) == len(ys) else None)
    if kind != "weights.h5" and kind == RESAVE[flavor]:
        path = os.path.join(work, f"{name}.{flavor}.{kind}")
        model.save(path)
        r["resaved"] = path
    if r["compiled"]:
        opt = model.optimizer
        r["optimizer"] = type(opt).__name__
        r["learning_rate"] = float(np.asarray(opt.learning_rate))
        r["iterations"] = int(np.asarray(opt.iterations))
        try:
            hist = model.fit(shared.unpack(train_xs), shared.unpack(train_ys), epochs=1,
                             batch_size=16, shuffle=False, verbose=0)
        except Exception as err:  # noqa: BLE001 - recorded for the test to judge
            r["fit_error"] = f"{type(err).__name__}: {err}"[:800]
        else:
            r["history_keys"] = sorted(hist.history)
            r["resumed_loss"] = float(hist.history["loss"][-1])
            r["iterations_after"] = int(np.asarray(model.optimizer.iterations))
            np.savez(os.path.join(work, f"{flavor}_{name}.{kind}_resumed.npz"),
                     **{f"w{i}": w for i, w in enumerate(model.get_weights())})


def main(flavor, work, module="interop_functional"):
    global shared
    try:
        _, keras = _import(flavor)
    except Exception as err:  # noqa: BLE001 - no such Keras here: the tests skip
        print(json.dumps({"unavailable": f"{type(err).__name__}: {err}"}))
        return
    import importlib  # noqa: PLC0415

    shared = importlib.import_module(module)  # next to this file

    manifest = json.load(open(os.path.join(work, "manifest.json")))
    out = {"version": keras.__version__, "results": {}}
    for case in manifest:
        for kind in KINDS[flavor]:
            r = out["results"][f"{case['name']}.{kind}"] = {"loaded": False}
            try:
                _check(keras, flavor, work, case, kind, r)
            except Exception as err:  # noqa: BLE001 - recorded for the test to judge
                r["error"] = (f"{type(err).__name__}: {err}"[:1000] + "\n"
                              + traceback.format_exc()[-1500:])
    with open(os.path.join(work, f"{flavor}_functional.json"), "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps({"ok": True}))


shared = None

if __name__ == "__main__":
    main(*sys.argv[1:4])
