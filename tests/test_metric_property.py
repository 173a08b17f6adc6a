"""`evaluate` and `fit`'s epoch figures against NumPy over `predict`'s output.

The property: for every metric a course compiles, every batch size (ones
that divide the row count and ones that leave a partial last batch), 1-D
and 2-D labels, with and without `sample_weight`/`class_weight`, the number
`evaluate` reports equals the same metric computed here with plain NumPy
from `predict`'s output over all rows. `fit`'s training figures are checked
the same way on a model whose optimizer does not move the weights
(`SGD(learning_rate=0.0)`: no Dropout or BatchNormalization, so training
and inference outputs agree), and its `val_` figures against `predict` on
the validation rows.

The references below share no code with kerasette: thresholds, confusion
counts and per-sample values are written out from tf.keras 2's definitions.
Metrics in `metrics=` ignore sample weights (tf.keras 2); the same specs in
`weighted_metrics=` take them and are reported as `weighted_<name>`.
"""

from __future__ import annotations

import numpy as np
import pytest

import kerasette as keras

ROWS = 45
VAL_ROWS = 23
BATCH_SIZES = (1, 7, 32, ROWS - 1, ROWS, ROWS + 5)
CLASSES = 10
EPS = 1e-7


# -- references (NumPy, float64 accumulation over float32 predictions) -----------------------

def _weighted_mean(values, w):
    values = np.asarray(values, np.float64)
    if w is None:
        return values.mean()
    w = np.broadcast_to(np.asarray(w, np.float64).reshape(-1, *([1] * (values.ndim - 1))),
                        values.shape)
    return (values * w).sum() / w.sum()


def _as_column(y):
    return y.reshape(-1, 1) if y.ndim == 1 else y


def binary_accuracy(y, p, w):
    return _weighted_mean(((p > 0.5) == (_as_column(y) > 0.5)).mean(-1), w)


def sparse_accuracy(y, p, w):
    return _weighted_mean(p.argmax(-1) == y.reshape(-1), w)


def categorical_accuracy(y, p, w):
    return _weighted_mean(p.argmax(-1) == y.argmax(-1), w)


def _in_top_5(label, p):
    # Rank of the label's score among the row's scores (no ties in these outputs).
    own = p[np.arange(len(p)), label]
    return (p > own[:, None]).sum(-1) < 5


def sparse_top_k(y, p, w):
    return _weighted_mean(_in_top_5(y.reshape(-1), p), w)


def top_k(y, p, w):
    return _weighted_mean(_in_top_5(y.argmax(-1), p), w)


def mae(y, p, w):
    return _weighted_mean(np.abs(p - _as_column(y)).mean(-1), w)


def mse(y, p, w):
    return _weighted_mean(((p - _as_column(y)) ** 2).mean(-1), w)


def _confusion(y, p, w, thresholds):
    """Weighted tp, fp, fn, tn per threshold over every label element."""
    y = _as_column(y).astype(bool)
    wt = np.ones(y.shape) if w is None else np.broadcast_to(np.asarray(w, np.float64)[:, None],
                                                            y.shape)
    above = p[None] > np.asarray(thresholds, np.float32).reshape(-1, 1, 1)
    tp = (above & y) * wt
    fp = (above & ~y) * wt
    fn = (~above & y) * wt
    tn = (~above & ~y) * wt
    return [a.reshape(len(thresholds), -1).sum(-1) for a in (tp, fp, fn, tn)]


def precision(y, p, w):
    tp, fp, _, _ = _confusion(y, p, w, [0.5])
    return (tp / (tp + fp))[0] if (tp + fp)[0] else 0.0


def recall(y, p, w):
    tp, _, fn, _ = _confusion(y, p, w, [0.5])
    return (tp / (tp + fn))[0] if (tp + fn)[0] else 0.0


def roc_auc(y, p, w, num_thresholds=200):
    """tf.keras 2's AUC(): 200 thresholds, ROC, trapezoids between them."""
    inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    tp, fp, fn, tn = _confusion(y, p, w, [-EPS] + inner + [1 + EPS])
    tpr = np.divide(tp, tp + fn, out=np.zeros_like(tp), where=(tp + fn) > 0)
    fpr = np.divide(fp, fp + tn, out=np.zeros_like(fp), where=(fp + tn) > 0)
    return np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2)


def binary_crossentropy(y, p, w):
    p = np.clip(p.astype(np.float64), EPS, 1 - EPS)
    y = _as_column(y)
    per_row = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)
    return _loss_mean(per_row, w)


def sparse_crossentropy(y, p, w):
    p = np.clip(p.astype(np.float64), EPS, 1 - EPS)
    return _loss_mean(-np.log(p[np.arange(len(p)), y.reshape(-1)]), w)


def categorical_crossentropy(y, p, w):
    p = np.clip(p.astype(np.float64), EPS, 1 - EPS)
    p = p / p.sum(-1, keepdims=True)
    return _loss_mean(-(y * np.log(p)).sum(-1), w)


def mse_loss(y, p, w):
    return _loss_mean(((p - _as_column(y)) ** 2).mean(-1), w)


def _loss_mean(per_row, w):
    # tf.keras 2: each batch's loss is sum(w * l) / batch rows; batches are
    # averaged weighted by their rows, so the epoch figure is sum(w * l) / rows.
    w = np.ones(len(per_row)) if w is None else np.asarray(w, np.float64)
    return (per_row * w).sum() / len(per_row)


# -- the cases ----------------------------------------------------------------------------------

def _binary_labels(rng, n, rank):
    y = (rng.random(n) > 0.45).astype(np.float32)
    return y if rank == 1 else y[:, None]


def _sparse_labels(rng, n, rank):
    y = rng.integers(0, CLASSES, n)
    return y if rank == 1 else y[:, None]


def _one_hot_labels(rng, n, rank):
    return np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, n)]


def _multi_hot_labels(rng, n, rank):
    return (rng.random((n, 3)) > 0.5).astype(np.float32)


def _real_labels(rng, n, rank):
    y = rng.normal(size=n).astype(np.float32)
    return y if rank == 1 else y[:, None]


def _class_of(y):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(-1)
    return y.reshape(-1).astype(int)


def _string(name):
    """A metric given by name: the weighted copy is named by `compile`."""
    return lambda weighted: name


def _named(cls, name):
    """A metric object; the weighted copy is named as tf.keras 2 would name
    the string form, so both forms are checked against the same keys."""
    return lambda weighted: cls(name=("weighted_" + name) if weighted else name)


# kind: (units, activation, loss, its reference, label maker, label ranks,
#        class_weight usable, [(metric spec factory, its name, reference)])
CASES = {
    "binary": (1, "sigmoid", "binary_crossentropy", binary_crossentropy, _binary_labels, (1, 2),
               True, [
                   (_string("accuracy"), "accuracy", binary_accuracy),
                   (_string("binary_accuracy"), "binary_accuracy", binary_accuracy),
                   (_string("mae"), "mae", mae),
                   (_string("mse"), "mse", mse),
                   (_named(keras.metrics.AUC, "auc"), "auc", roc_auc),
                   (_named(keras.metrics.Precision, "precision"), "precision", precision),
                   (_named(keras.metrics.Recall, "recall"), "recall", recall),
               ]),
    "multi_label": (3, "sigmoid", "binary_crossentropy", binary_crossentropy, _multi_hot_labels,
                    (2,), False, [
                        (_string("binary_accuracy"), "binary_accuracy", binary_accuracy),
                        (_named(keras.metrics.AUC, "auc"), "auc", roc_auc),
                        (_named(keras.metrics.Precision, "precision"), "precision", precision),
                        (_named(keras.metrics.Recall, "recall"), "recall", recall),
                    ]),
    "sparse": (CLASSES, "softmax", "sparse_categorical_crossentropy", sparse_crossentropy,
               _sparse_labels, (1, 2), True, [
                   (_string("accuracy"), "accuracy", sparse_accuracy),
                   (_string("sparse_categorical_accuracy"), "sparse_categorical_accuracy",
                    sparse_accuracy),
                   (_string("sparse_top_k_categorical_accuracy"),
                    "sparse_top_k_categorical_accuracy", sparse_top_k),
               ]),
    "categorical": (CLASSES, "softmax", "categorical_crossentropy", categorical_crossentropy,
                    _one_hot_labels, (2,), True, [
                        (_string("accuracy"), "accuracy", categorical_accuracy),
                        (_string("categorical_accuracy"), "categorical_accuracy",
                         categorical_accuracy),
                        (_string("top_k_categorical_accuracy"), "top_k_categorical_accuracy", top_k),
                        (_string("mse"), "mse", mse),
                        (_named(keras.metrics.AUC, "auc"), "auc", roc_auc),
                        (_named(keras.metrics.Precision, "precision"), "precision", precision),
                        (_named(keras.metrics.Recall, "recall"), "recall", recall),
                    ]),
    "regression": (1, None, "mse", mse_loss, _real_labels, (1, 2), False, [
        (_string("mae"), "mae", mae),
        (_string("mse"), "mse", mse),
    ]),
}

PARAMS = [(kind, rank, weighting)
          for kind, case in CASES.items()
          for rank in case[5]
          for weighting in (("none", "sample_weight", "class_weight") if case[6]
                            else ("none", "sample_weight"))]


def _class_weight(kind):
    return {c: 0.5 + c / 4 for c in range(2 if kind == "binary" else CLASSES)}


def _model_and_data(kind, rank, seed=7):
    units, activation, loss, _, labels, _, _, specs = CASES[kind]
    rng = np.random.default_rng(seed)
    # Wide inputs spread the outputs, so every threshold and class is used.
    x = (3 * rng.normal(size=(ROWS, 4))).astype(np.float32)
    xv = (3 * rng.normal(size=(VAL_ROWS, 4))).astype(np.float32)
    y, yv = labels(rng, ROWS, rank), labels(rng, VAL_ROWS, rank)
    model = keras.Sequential([keras.layers.Dense(16, activation="tanh", input_shape=(4,)),
                              keras.layers.Dense(units, activation=activation)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss=loss,
                  metrics=[make(weighted=False) for make, _, _ in specs],
                  weighted_metrics=[make(weighted=True) for make, _, _ in specs])
    weights = (0.25 + 2 * rng.random(ROWS)).astype(np.float32)
    val_weights = (0.25 + 2 * rng.random(VAL_ROWS)).astype(np.float32)
    return model, (x, y, weights), (xv, yv, val_weights)


def _expected(kind, y, p, w):
    """Every figure a run reports, from NumPy: `{name: value}`."""
    _, _, _, loss_ref, _, _, _, specs = CASES[kind]
    out = {"loss": loss_ref(y, p, w)}
    for _, name, ref in specs:
        out[name] = ref(y, p, None)
        out["weighted_" + name] = ref(y, p, w)
    return out


def _assert_figures(reported, expected, where):
    assert set(reported) == set(expected), (where, sorted(reported), sorted(expected))
    for name, value in expected.items():
        # float32 running sums: 1e-6 of the figure (absolute below 1); the
        # loss goes through float32 logs and exps, so 1e-5.
        tol = (1e-5 if name.endswith("loss") else 1e-6) * max(1.0, abs(value))
        assert abs(reported[name] - value) <= tol, (where, name, reported[name], value)


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("kind,rank,weighting", PARAMS)
def test_evaluate_equals_numpy_over_predict(kind, rank, weighting, batch_size):
    model, (x, y, weights), _ = _model_and_data(kind, rank)
    if weighting == "class_weight":
        # evaluate takes no class_weight; the same per-row weights as sample_weight.
        table = _class_weight(kind)
        weights = np.array([table[c] for c in _class_of(y)], np.float32)
    sw = None if weighting == "none" else weights
    reported = model.evaluate(x, y, batch_size=batch_size, sample_weight=sw, verbose=0,
                              return_dict=True)
    p = model.predict(x, batch_size=batch_size, verbose=0)
    _assert_figures(reported, _expected(kind, y, p, sw), f"evaluate batch_size={batch_size}")


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("kind,rank,weighting", PARAMS)
def test_fit_epoch_figures_equal_numpy_over_predict(kind, rank, weighting, batch_size):
    model, (x, y, weights), (xv, yv, val_weights) = _model_and_data(kind, rank)
    fit_args = {}
    train_w, val_w = None, None
    if weighting == "sample_weight":
        fit_args["sample_weight"] = train_w = weights
        fit_args["validation_data"] = (xv, yv, val_weights)
        val_w = val_weights
    else:
        fit_args["validation_data"] = (xv, yv)
        if weighting == "class_weight":
            table = _class_weight(kind)
            fit_args["class_weight"] = table
            train_w = np.array([table[c] for c in _class_of(y)], np.float32)
    history = model.fit(x, y, batch_size=batch_size, epochs=2, verbose=0, **fit_args)
    p = model.predict(x, batch_size=batch_size, verbose=0)
    pv = model.predict(xv, batch_size=batch_size, verbose=0)
    train = _expected(kind, y, p, train_w)
    val = _expected(kind, yv, pv, val_w)
    for epoch in range(2):
        logs = {k: v[epoch] for k, v in history.history.items()}
        _assert_figures({k: v for k, v in logs.items() if not k.startswith("val_")}, train,
                        f"fit epoch {epoch} batch_size={batch_size}")
        _assert_figures({k[4:]: v for k, v in logs.items() if k.startswith("val_")}, val,
                        f"fit val epoch {epoch} batch_size={batch_size}")


def test_weighted_metric_of_the_same_name_is_prefixed():
    """tf.keras 2 names a weighted metric `weighted_<name>` when an
    unweighted one already has that name, instead of refusing the pair."""
    model = keras.Sequential([keras.layers.Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"],
                  weighted_metrics=["accuracy", "mae"])
    assert model.metrics_names == ["loss", "accuracy", "weighted_accuracy", "mae"]
