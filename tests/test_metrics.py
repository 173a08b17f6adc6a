"""kerasette.metrics: running values vs NumPy, tf.keras 2's documented
examples, AUC against brute force, accuracy resolution, device state,
configs and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fixture_paths import KERAS as FIXTURES

import kerasette
from kerasette import backend as K
from kerasette import metrics as M
from kerasette import ops


def dev(x, dtype=None):
    return ops.convert_to_tensor(np.asarray(x), dtype=dtype)


def value(metric):
    out = metric.result()
    assert isinstance(out, kerasette.Tensor)
    return out.numpy()


def rng(seed=0):
    return np.random.default_rng(seed)


# -- NumPy references ---------------------------------------------------------------
def np_binary(y, p, threshold=0.5):
    return ((p > threshold).astype(np.float64) == y).mean(axis=-1)


def np_categorical(y, p):
    return (np.argmax(y, -1) == np.argmax(p, -1)).astype(np.float64)


def np_sparse(y, p):
    return (np.asarray(y).reshape(-1) == np.argmax(p, -1)).astype(np.float64)


def np_top_k(y, p, k):
    labels = np.asarray(y).reshape(-1)
    target = p[np.arange(len(p)), labels]
    return ((p > target[:, None]).sum(-1) < k).astype(np.float64)


def np_mse(y, p):
    return ((p.astype(np.float64) - y) ** 2).mean(-1)


def np_mae(y, p):
    return np.abs(p.astype(np.float64) - y).mean(-1)


def np_mape(y, p):
    return 100 * (np.abs(y - p.astype(np.float64)) / np.maximum(np.abs(y), 1e-7)).mean(-1)


def np_msle(y, p):
    a = np.log(np.maximum(p.astype(np.float64), 1e-7) + 1)
    b = np.log(np.maximum(y.astype(np.float64), 1e-7) + 1)
    return ((a - b) ** 2).mean(-1)


def _binary_data(r, n, d=1):
    return (r.integers(0, 2, (n, d)).astype(np.float32),
            r.random((n, d)).astype(np.float32))


def _onehot_data(r, n, c=4):
    y = np.eye(c, dtype=np.float32)[r.integers(0, c, n)]
    return y, r.random((n, c)).astype(np.float32)


def _sparse_data(r, n, c=4, shape="flat"):
    labels = r.integers(0, c, n)
    y = labels if shape == "flat" else labels.reshape(n, 1).astype(np.float32)
    return y, r.random((n, c)).astype(np.float32)


def _regression_data(r, n, d=3):
    return (r.normal(size=(n, d)).astype(np.float32),
            r.normal(size=(n, d)).astype(np.float32))


def _positive_data(r, n, d=3):
    return (r.uniform(0.5, 3, (n, d)).astype(np.float32),
            r.uniform(0.1, 3, (n, d)).astype(np.float32))


WRAPPED = {
    "binary_accuracy": (lambda: M.BinaryAccuracy(), _binary_data, np_binary),
    "binary_accuracy_3d": (lambda: M.BinaryAccuracy(threshold=0.7),
                           lambda r, n: _binary_data(r, n, 3),
                           lambda y, p: np_binary(y, p, 0.7)),
    "categorical_accuracy": (lambda: M.CategoricalAccuracy(), _onehot_data, np_categorical),
    "sparse_flat": (lambda: M.SparseCategoricalAccuracy(), _sparse_data, np_sparse),
    "sparse_column": (lambda: M.SparseCategoricalAccuracy(),
                      lambda r, n: _sparse_data(r, n, shape="column"), np_sparse),
    "top_k": (lambda: M.TopKCategoricalAccuracy(k=2), lambda r, n: _onehot_data(r, n, 5),
              lambda y, p: np_top_k(np.argmax(y, -1), p, 2)),
    "sparse_top_k": (lambda: M.SparseTopKCategoricalAccuracy(k=2),
                     lambda r, n: _sparse_data(r, n, 5), lambda y, p: np_top_k(y, p, 2)),
    "mse": (lambda: M.MeanSquaredError(), _regression_data, np_mse),
    "mae": (lambda: M.MeanAbsoluteError(), _regression_data, np_mae),
    "mape": (lambda: M.MeanAbsolutePercentageError(), _positive_data, np_mape),
    "msle": (lambda: M.MeanSquaredLogarithmicError(), _positive_data, np_msle),
    "wrapper": (lambda: M.MeanMetricWrapper(M.mean_absolute_error, name="mae"),
                _regression_data, np_mae),
    "accuracy_exact": (lambda: M.Accuracy(),
                       lambda r, n: (r.integers(0, 3, (n, 1)), r.integers(0, 3, (n, 1))),
                       lambda y, p: (y == p).astype(np.float64).mean(-1)),
}


@pytest.mark.parametrize("weights", [None, "flat", "column", "scalar"])
@pytest.mark.parametrize("case", sorted(WRAPPED))
def test_running_weighted_mean_matches_numpy(case, weights):
    make, data, ref = WRAPPED[case]
    metric = make()
    r = rng(sorted(WRAPPED).index(case))
    seen_values, seen_weights = [], []
    for n in (7, 16, 5):
        y, p = data(r, n)
        w = r.uniform(0.0, 2.0, n).astype(np.float32)
        if weights is None:
            sw, w = None, np.ones(n)
        elif weights == "flat":
            sw = dev(w)
        elif weights == "column":
            sw = dev(w.reshape(n, 1))
        else:
            sw, w = 0.5, np.full(n, 0.5)
        metric.update_state(dev(y), dev(p), sample_weight=sw)
        seen_values.append(ref(y, p).reshape(-1))
        seen_weights.append(w)
        values, ws = np.concatenate(seen_values), np.concatenate(seen_weights)
        expected = (values * ws).sum() / ws.sum()
        got = value(metric)
        assert got.dtype == np.float32 and got.shape == ()
        np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-6)
    metric.reset_state()
    assert float(value(metric)) == 0.0
    y, p = data(r, 4)
    metric.update_state(dev(y), dev(p))
    np.testing.assert_allclose(value(metric), ref(y, p).mean(), rtol=2e-5, atol=1e-6)


def test_mean_and_sum_weighted_running_values():
    r = rng(1)
    mean, total = M.Mean(), M.Sum()
    values, weights = [], []
    for n in (3, 8, 1):
        v = r.normal(size=n).astype(np.float32)
        w = r.uniform(0, 3, n).astype(np.float32)
        mean.update_state(dev(v), sample_weight=dev(w))
        total.update_state(dev(v), sample_weight=dev(w))
        values.append(v)
        weights.append(w)
        vv, ww = np.concatenate(values).astype(np.float64), np.concatenate(weights)
        np.testing.assert_allclose(value(mean), (vv * ww).sum() / ww.sum(), rtol=1e-5)
        np.testing.assert_allclose(value(total), (vv * ww).sum(), rtol=1e-5, atol=1e-6)
    # A scalar value with a host-number weight: fit's loss tracker.
    tracker = M.Mean(name="loss")
    tracker.update_state(dev(np.float32(2.0)), sample_weight=32.0)
    tracker.update_state(dev(np.float32(5.0)), sample_weight=8.0)
    np.testing.assert_allclose(value(tracker), (2 * 32 + 5 * 8) / 40, rtol=1e-6)
    # Per-element values with per-sample weights: count is the broadcast weight.
    m = M.Mean()
    v = np.array([[1.0, 3.0], [5.0, 7.0]], np.float32)
    m.update_state(dev(v), sample_weight=dev(np.array([1.0, 0.0], np.float32)))
    np.testing.assert_allclose(value(m), 2.0)
    # Weights of lower rank than the values: the values are averaged down (tf.keras 2).
    m = M.Mean()
    v3 = r.normal(size=(4, 3, 2)).astype(np.float32)
    w = np.array([1.0, 2.0, 0.0, 1.0], np.float32)
    m.update_state(dev(v3), sample_weight=dev(w))
    np.testing.assert_allclose(value(m), (v3.mean(axis=(1, 2)) * w).sum() / w.sum(), rtol=1e-5)


def test_root_mean_squared_error_matches_numpy():
    r = rng(2)
    m = M.RootMeanSquaredError()
    sq, ws = [], []
    for n in (6, 9):
        y, p = _regression_data(r, n)
        w = r.uniform(0.1, 2, n).astype(np.float32)
        m.update_state(dev(y), dev(p), sample_weight=dev(w))
        sq.append((p.astype(np.float64) - y) ** 2)
        ws.append(np.repeat(w[:, None], 3, axis=1))
        e, ww = np.concatenate(sq), np.concatenate(ws)
        np.testing.assert_allclose(value(m), np.sqrt((e * ww).sum() / ww.sum()), rtol=1e-5)
    assert m.name == "root_mean_squared_error"


# -- tf.keras 2's documented examples ---------------------------------------------------
# The "Standalone usage" sections of the tf.keras 2 docstrings
# (keras/metrics/{base_metric,accuracy_metrics,regression_metrics,
# probabilistic_metrics,confusion_metrics}.py, TF 2.11-2.15).
DOC_EXAMPLES = [
    (lambda: M.Mean(), [[1, 3, 5, 7]], None, 4.0),
    (lambda: M.Mean(), [[1, 3, 5, 7]], [1, 1, 0, 0], 2.0),
    (lambda: M.Sum(), [[1, 3, 5, 7]], None, 16.0),
    (lambda: M.Accuracy(), [[[1], [2], [3], [4]], [[0], [2], [3], [4]]], None, 0.75),
    (lambda: M.Accuracy(), [[[1], [2], [3], [4]], [[0], [2], [3], [4]]], [1, 1, 0, 0], 0.5),
    (lambda: M.BinaryAccuracy(), [[[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]], None, 0.75),
    (lambda: M.BinaryAccuracy(), [[[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]],
     [1, 0, 0, 1], 0.5),
    (lambda: M.CategoricalAccuracy(), [[[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]],
     None, 0.5),
    (lambda: M.CategoricalAccuracy(), [[[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]],
     [0.7, 0.3], 0.3),
    (lambda: M.SparseCategoricalAccuracy(), [[[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]],
     None, 0.5),
    (lambda: M.SparseCategoricalAccuracy(), [[[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]],
     [0.7, 0.3], 0.3),
    (lambda: M.TopKCategoricalAccuracy(k=1),
     [[[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]], None, 0.5),
    (lambda: M.TopKCategoricalAccuracy(k=1),
     [[[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]], [0.7, 0.3], 0.3),
    (lambda: M.SparseTopKCategoricalAccuracy(k=1), [[2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]],
     None, 0.5),
    (lambda: M.SparseTopKCategoricalAccuracy(k=1), [[2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]],
     [0.7, 0.3], 0.3),
    (lambda: M.MeanSquaredError(), [[[0, 1], [0, 0]], [[1, 1], [0, 0]]], None, 0.25),
    (lambda: M.MeanSquaredError(), [[[0, 1], [0, 0]], [[1, 1], [0, 0]]], [1, 0], 0.5),
    (lambda: M.MeanAbsoluteError(), [[[0, 1], [0, 0]], [[1, 1], [0, 0]]], None, 0.25),
    (lambda: M.MeanAbsoluteError(), [[[0, 1], [0, 0]], [[1, 1], [0, 0]]], [1, 0], 0.5),
    (lambda: M.MeanAbsolutePercentageError(), [[[0, 1], [0, 0]], [[1, 1], [0, 0]]], None,
     250000000.0),
    (lambda: M.MeanAbsolutePercentageError(), [[[0, 1], [0, 0]], [[1, 1], [0, 0]]], [1, 0],
     500000000.0),
    (lambda: M.MeanSquaredLogarithmicError(), [[[0, 1], [0, 0]], [[1, 1], [0, 0]]], None,
     0.12011322),
    (lambda: M.MeanSquaredLogarithmicError(), [[[0, 1], [0, 0]], [[1, 1], [0, 0]]], [1, 0],
     0.24022643),
    (lambda: M.RootMeanSquaredError(), [[[0, 1], [0, 0]], [[1, 1], [0, 0]]], None, 0.5),
    (lambda: M.RootMeanSquaredError(), [[[0, 1], [0, 0]], [[1, 1], [0, 0]]], [1, 0], 0.70710677),
    (lambda: M.TruePositives(), [[0, 1, 1, 1], [1, 0, 1, 1]], None, 2.0),
    (lambda: M.TruePositives(), [[0, 1, 1, 1], [1, 0, 1, 1]], [0, 0, 1, 0], 1.0),
    (lambda: M.FalsePositives(), [[0, 1, 0, 0], [0, 0, 1, 1]], None, 2.0),
    (lambda: M.FalsePositives(), [[0, 1, 0, 0], [0, 0, 1, 1]], [0, 0, 1, 0], 1.0),
    (lambda: M.TrueNegatives(), [[0, 1, 0, 0], [1, 1, 0, 0]], None, 2.0),
    (lambda: M.TrueNegatives(), [[0, 1, 0, 0], [1, 1, 0, 0]], [0, 0, 1, 0], 1.0),
    (lambda: M.FalseNegatives(), [[0, 1, 1, 1], [0, 1, 0, 0]], None, 2.0),
    (lambda: M.FalseNegatives(), [[0, 1, 1, 1], [0, 1, 0, 0]], [0, 0, 1, 0], 1.0),
    (lambda: M.Precision(), [[0, 1, 1, 1], [1, 0, 1, 1]], None, 0.6666667),
    (lambda: M.Precision(), [[0, 1, 1, 1], [1, 0, 1, 1]], [0, 0, 1, 0], 1.0),
    # "With top_k=2, it will calculate precision over y_true[:2] and y_pred[:2]"
    (lambda: M.Precision(top_k=2), [[0, 0, 1, 1], [1, 1, 1, 1]], None, 0.0),
    (lambda: M.Precision(top_k=4), [[0, 0, 1, 1], [1, 1, 1, 1]], None, 0.5),
    (lambda: M.Recall(), [[0, 1, 1, 1], [1, 0, 1, 1]], None, 0.6666667),
    (lambda: M.Recall(), [[0, 1, 1, 1], [1, 0, 1, 1]], [0, 0, 1, 0], 1.0),
    # "threshold values are [0 - 1e-7, 0.5, 1 + 1e-7]; tp = [2, 1, 0], fp = [2, 0, 0],
    # fn = [0, 1, 2], tn = [0, 2, 2]; auc = ((1 + 0.5) / 2) * (1 - 0) + ... = 0.75"
    (lambda: M.AUC(num_thresholds=3), [[0, 0, 1, 1], [0, 0.5, 0.3, 0.9]], None, 0.75),
    (lambda: M.AUC(num_thresholds=3), [[0, 0, 1, 1], [0, 0.5, 0.3, 0.9]], [1, 0, 0, 1], 1.0),
]


@pytest.mark.parametrize("make,args,weights,expected", DOC_EXAMPLES,
                         ids=[f"doc{i}" for i in range(len(DOC_EXAMPLES))])
def test_keras_documented_examples(make, args, weights, expected):
    metric = make()
    metric.update_state(*args, sample_weight=weights)
    np.testing.assert_allclose(value(metric), expected, rtol=1e-6)
    # The same numbers from device tensors, through __call__.
    again = make()
    out = again(*[dev(np.asarray(a, dtype=np.float32)) for a in args],
                sample_weight=None if weights is None else dev(np.asarray(weights, np.float32)))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_pr_auc_interpolation_worked_example():
    # tp = [2, 1, 0], fp = [2, 0, 0], fn = [0, 1, 2]; P = tp + fp = [4, 1, 0];
    # slope = dTP / dP = [1/3, 1]; intercept = TP_B - slope * P_B = [2/3, 0];
    # terms = slope * (dTP + intercept * log(P_A / P_B)) / (tp + fn)_B
    #       = [(1/3) * (1 + (2/3) log 4) / 2, 1 * (1 + 0) / 2]
    m = M.AUC(num_thresholds=3, curve="PR")
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    expected = (1 / 3) * (1 + (2 / 3) * np.log(4)) / 2 + 0.5
    np.testing.assert_allclose(value(m), expected, rtol=1e-6)


# -- per-sample functions -----------------------------------------------------------------
def test_functions_return_per_sample_values_like_tf_keras_2():
    y, p = _binary_data(rng(3), 6, 2)
    out = M.binary_accuracy(dev(y), dev(p))
    assert out.shape == (6,) and out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), np_binary(y, p))
    y, p = _onehot_data(rng(4), 5)
    np.testing.assert_allclose(M.categorical_accuracy(dev(y), dev(p)).numpy(), np_categorical(y, p))
    labels, p = _sparse_data(rng(5), 5)
    out = M.sparse_categorical_accuracy(dev(labels), dev(p))
    assert out.shape == (5,)
    np.testing.assert_allclose(out.numpy(), np_sparse(labels, p))
    # tf.keras 2 keeps the (batch, 1) shape of the labels.
    out = M.sparse_categorical_accuracy(dev(labels.reshape(5, 1)), dev(p))
    assert out.shape == (5, 1)
    np.testing.assert_allclose(out.numpy()[:, 0], np_sparse(labels, p))
    for k in (1, 2, 4):
        np.testing.assert_allclose(
            M.sparse_top_k_categorical_accuracy(dev(labels), dev(p), k=k).numpy(),
            np_top_k(labels, p, k))
    y, p = _regression_data(rng(6), 4)
    for fn, ref in [(M.mse, np_mse), (M.mae, np_mae), (M.mean_squared_error, np_mse)]:
        out = fn(dev(y), dev(p))
        assert out.shape == (4,) and out.dtype == np.float32
        np.testing.assert_allclose(out.numpy(), ref(y, p), rtol=1e-5)


def test_top_k_ties_follow_in_top_k():
    # tf.math.in_top_k: classes tied with the target at the boundary count as in.
    p = np.array([[0.5, 0.5, 0.5, 0.1], [0.9, 0.5, 0.5, 0.1]], np.float32)
    got = M.sparse_top_k_categorical_accuracy(dev(np.array([2, 2])), dev(p), k=1).numpy()
    np.testing.assert_array_equal(got, [1.0, 0.0])
    # Out-of-range labels and non-finite scores give False.
    p = np.array([[0.2, 0.8], [np.nan, 0.1]], np.float32)
    got = M.sparse_top_k_categorical_accuracy(dev(np.array([5, 1])), dev(p), k=1).numpy()
    np.testing.assert_array_equal(got, [0.0, 0.0])


# -- confusion-matrix metrics vs brute force --------------------------------------------
def np_counts(y, p, thresholds, w=None):
    p = np.asarray(p, np.float32)
    w = np.ones(p.size) if w is None else \
        np.broadcast_to(w, p.shape).astype(np.float64).reshape(-1)
    y = np.asarray(y).reshape(-1) != 0
    p = p.reshape(-1)
    thr = np.asarray(thresholds, np.float32)
    above = p[None, :] > thr[:, None]
    return {"tp": (above & y) @ w, "fp": (above & ~y) @ w,
            "fn": (~above & y) @ w, "tn": (~above & ~y) @ w}


def np_filter_top_k(p, k):
    order = np.argsort(-p, axis=-1, kind="stable")
    ranks = np.argsort(order, axis=-1, kind="stable")
    return np.where(ranks < k, p, np.float32(-1e10))


def np_ratio(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1, b))


@pytest.mark.parametrize("thresholds", [None, 0.3, [0.3, 0.5, 0.8], [0.0, 0.25, 0.5, 0.75, 1.0]],
                         ids=["default", "one", "uneven", "even"])
@pytest.mark.parametrize("weighted", [False, True])
def test_precision_recall_counts_match_brute_force(thresholds, weighted):
    r = rng(7)
    metrics = [M.Precision(thresholds=thresholds), M.Recall(thresholds=thresholds),
               M.TruePositives(thresholds=thresholds), M.FalseNegatives(thresholds=thresholds),
               M.TrueNegatives(thresholds=thresholds), M.FalsePositives(thresholds=thresholds)]
    thr = [0.5] if thresholds is None else np.atleast_1d(thresholds).tolist()
    total = {k: np.zeros(len(thr)) for k in ("tp", "fp", "fn", "tn")}
    for n in (10, 25, 3):
        y = r.integers(0, 2, (n, 3)).astype(np.float32)
        p = r.random((n, 3)).astype(np.float32)
        w = r.uniform(0, 2, (n, 1)).astype(np.float32) if weighted else None
        for m in metrics:
            m.update_state(dev(y), dev(p), sample_weight=None if w is None else dev(w))
        for key, v in np_counts(y, p, thr, w).items():
            total[key] += v
    expected = {
        "precision": np_ratio(total["tp"], total["tp"] + total["fp"]),
        "recall": np_ratio(total["tp"], total["tp"] + total["fn"]),
    }
    for m, exp in zip(metrics, [expected["precision"], expected["recall"], total["tp"],
                                total["fn"], total["tn"], total["fp"]]):
        got = value(m)
        exp = exp[0] if len(thr) == 1 else exp
        assert got.shape == np.shape(exp) and got.dtype == np.float32
        np.testing.assert_allclose(got, exp, rtol=1e-5)


@pytest.mark.parametrize("top_k,class_id", [(1, None), (2, None), (None, 2), (2, 1), (1, 3)])
def test_precision_recall_top_k_and_class_id(top_k, class_id):
    r = rng(8)
    prec = M.Precision(top_k=top_k, class_id=class_id)
    rec = M.Recall(top_k=top_k, class_id=class_id)
    tp = fp = fn = 0.0
    for n in (12, 7):
        y = r.integers(0, 2, (n, 5)).astype(np.float32)
        p = r.random((n, 5)).astype(np.float32)
        w = r.uniform(0, 2, n).astype(np.float32)
        prec.update_state(dev(y), dev(p), sample_weight=dev(w))
        rec.update_state(dev(y), dev(p), sample_weight=dev(w))
        pp = np_filter_top_k(p, top_k) if top_k else p
        ww = np.broadcast_to(w[:, None], y.shape)
        if class_id is not None:
            y, pp, ww = y[:, class_id], pp[:, class_id], ww[:, class_id]
        thr = [-1e10] if top_k else [0.5]
        c = np_counts(y, pp, thr, ww)
        tp, fp, fn = tp + c["tp"][0], fp + c["fp"][0], fn + c["fn"][0]
    np.testing.assert_allclose(value(prec), tp / (tp + fp), rtol=1e-5)
    np.testing.assert_allclose(value(rec), tp / (tp + fn), rtol=1e-5)


def np_auc_thresholds(num_thresholds):
    inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0 - 1e-7] + inner + [1.0 + 1e-7]


def np_pr_interpolation(tp, fp, fn):
    """Davis & Goadrich interpolation, one interval at a time (tf.keras 2's rule)."""
    total = 0.0
    for a in range(len(tp) - 1):
        b = a + 1
        dtp, pa, pb = tp[a] - tp[b], tp[a] + fp[a], tp[b] + fp[b]
        dp = pa - pb
        slope = dtp / max(dp, 0) if max(dp, 0) > 0 else 0.0
        intercept = tp[b] - slope * pb
        ratio = pa / pb if pa > 0 and pb > 0 else 1.0
        denom = max(tp[b] + fn[b], 0)
        if denom > 0:
            total += slope * (dtp + intercept * np.log(ratio)) / denom
    return total


def np_auc(counts, curve="ROC", summation="interpolation"):
    tp, fp, tn, fn = (counts[k] for k in ("tp", "fp", "tn", "fn"))
    if curve == "PR" and summation == "interpolation":
        return np_pr_interpolation(tp, fp, fn)
    recall = np_ratio(tp, tp + fn)
    if curve == "ROC":
        x, y = np_ratio(fp, fp + tn), recall
    else:
        x, y = recall, np_ratio(tp, tp + fp)
    if summation == "interpolation":
        h = (y[:-1] + y[1:]) / 2
    elif summation == "minoring":
        h = np.minimum(y[:-1], y[1:])
    else:
        h = np.maximum(y[:-1], y[1:])
    return float(np.sum((x[:-1] - x[1:]) * h))


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("summation", ["interpolation", "minoring", "majoring"])
@pytest.mark.parametrize("num_thresholds", [3, 10, 200])
@pytest.mark.parametrize("weighted", [False, True])
def test_auc_matches_brute_force(curve, summation, num_thresholds, weighted):
    r = rng(num_thresholds)
    m = M.AUC(num_thresholds=num_thresholds, curve=curve, summation_method=summation)
    thr = np_auc_thresholds(num_thresholds)
    counts = {k: np.zeros(num_thresholds) for k in ("tp", "fp", "tn", "fn")}
    for n in (40, 13, 60):
        y = r.integers(0, 2, (n, 1)).astype(np.float32)
        # Informative scores, so the curves are not trivial.
        p = np.clip(0.35 * y + 0.65 * r.random((n, 1)), 0, 1).astype(np.float32)
        w = r.uniform(0, 2, n).astype(np.float32) if weighted else None
        m.update_state(dev(y), dev(p), sample_weight=None if w is None else dev(w))
        for key, v in np_counts(y, p, thr, None if w is None else w[:, None]).items():
            counts[key] += v
        np.testing.assert_allclose(value(m), np_auc(counts, curve, summation),
                                   rtol=1e-5, atol=1e-6)
    for var, key in zip(m.variables, ("tp", "tn", "fp", "fn")):
        np.testing.assert_allclose(var.numpy(), counts[key], rtol=1e-5, atol=1e-5)


def test_large_batches_are_counted_in_chunks(monkeypatch):
    r = rng(15)
    y = r.integers(0, 2, (300, 2)).astype(np.float32)
    p = r.random((300, 2)).astype(np.float32)
    w = r.uniform(0, 2, 300).astype(np.float32)

    def run():
        ms = [M.AUC(num_thresholds=50), M.AUC(thresholds=[0.3, 0.5]), M.Precision(),
              M.AUC(num_thresholds=20, multi_label=True), M.Recall(thresholds=[0.0, 0.5, 1.0])]
        for m in ms:
            m.update_state(dev(y), dev(p), sample_weight=dev(w))
            m.update_state(dev(y[:0]), dev(p[:0]), sample_weight=dev(w[:0]))  # empty batch
        return [value(m) for m in ms]

    whole = run()
    # The setting lives in `kerasette.metrics._utils`, where the threshold
    # and IoU metrics read it at run time.
    monkeypatch.setattr(M._utils, "_CHUNK", 64)
    for a, b in zip(run(), whole):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_auc_roc_approaches_the_rank_statistic():
    # Independent check of the semantics: with many thresholds, ROC AUC is
    # the probability that a positive outscores a negative.
    r = rng(11)
    y = r.integers(0, 2, 600)
    p = np.clip(0.2 * y + 0.8 * r.random(600), 0, 1).astype(np.float32)
    pos, neg = p[y == 1], p[y == 0]
    exact = (pos[:, None] > neg[None, :]).mean()
    m = M.AUC(num_thresholds=2000)
    m.update_state(dev(y), dev(p))
    assert abs(float(value(m)) - exact) < 2e-3


def test_auc_explicit_thresholds_logits_multi_label_and_label_weights():
    r = rng(12)
    y = r.integers(0, 2, (50, 3)).astype(np.float32)
    logits = r.normal(size=(50, 3)).astype(np.float32) + y
    p = (1 / (1 + np.exp(-logits.astype(np.float64)))).astype(np.float32)

    # Uneven explicit thresholds take the comparison path.
    m = M.AUC(thresholds=[0.7, 0.2, 0.45])
    assert m.num_thresholds == 5
    m.update_state(dev(y), dev(p))
    thr = [-1e-7, 0.2, 0.45, 0.7, 1 + 1e-7]
    np.testing.assert_allclose(value(m), np_auc(np_counts(y, p, thr)), rtol=1e-5)
    assert m.get_config()["thresholds"] == [0.2, 0.45, 0.7]

    # from_logits applies the sigmoid.
    m = M.AUC(num_thresholds=50, from_logits=True)
    m.update_state(dev(y), dev(logits))
    np.testing.assert_allclose(value(m), np_auc(np_counts(y, p, np_auc_thresholds(50))),
                               rtol=1e-5)

    # multi_label: one AUC per column, then their (weighted) mean.
    per_label = [np_auc(np_counts(y[:, j], p[:, j], np_auc_thresholds(30))) for j in range(3)]
    m = M.AUC(num_thresholds=30, multi_label=True)
    assert m.variables == []  # built on the first batch
    m.update_state(dev(y), dev(p))
    assert m.true_positives.shape == (30, 3)
    np.testing.assert_allclose(value(m), np.mean(per_label), rtol=1e-5)
    lw = [0.5, 2.0, 1.0]
    m = M.AUC(num_thresholds=30, multi_label=True, num_labels=3, label_weights=lw,
              curve="PR")
    m.update_state(dev(y), dev(p))
    per_label_pr = [np_auc(np_counts(y[:, j], p[:, j], np_auc_thresholds(30)), "PR")
                    for j in range(3)]
    np.testing.assert_allclose(value(m), np.dot(per_label_pr, lw) / sum(lw), rtol=1e-5)

    # Without multi_label, label_weights weight the pooled values.
    m = M.AUC(num_thresholds=30, label_weights=lw)
    m.update_state(dev(y), dev(p))
    w = np.broadcast_to(np.asarray(lw, np.float32), y.shape)
    np.testing.assert_allclose(value(m), np_auc(np_counts(y, p, np_auc_thresholds(30), w)),
                               rtol=1e-5)


def test_results_before_any_update_are_zero():
    for m in (M.Mean(), M.AUC(), M.AUC(multi_label=True), M.Precision(), M.Recall(),
              M.RootMeanSquaredError(), M.BinaryAccuracy()):
        out = value(m)
        assert out.dtype == np.float32 and float(out) == 0.0


# -- accuracy resolution ------------------------------------------------------------------
@pytest.mark.parametrize("t_shape,p_shape,fn", [
    ((None, 1), (None, 1), "binary_accuracy"),
    ((None,), (None, 1), "binary_accuracy"),
    ((None,), (None, 3), "sparse_categorical_accuracy"),
    ((None, 1), (None, 3), "sparse_categorical_accuracy"),
    ((None, 3), (None, 3), "categorical_accuracy"),
    ((32, 10), (32, 10), "categorical_accuracy"),
    ((None, 5, 1), (None, 5, 4), "sparse_categorical_accuracy"),
])
@pytest.mark.parametrize("name", ["accuracy", "acc", "Accuracy"])
def test_accuracy_resolution_from_shapes(t_shape, p_shape, fn, name):
    m = M.get_accuracy_metric(name, t_shape, p_shape)
    assert isinstance(m, M.MeanMetricWrapper)
    assert m.name == name
    assert m.get_config() == {"name": name, "dtype": "float32", "fn": fn}


def test_accuracy_resolution_ignores_the_loss_like_tf_keras_2():
    # Multi-label sigmoid outputs with binary cross-entropy still resolve to
    # categorical accuracy in tf.keras 2's eager compile.
    m = M.get_accuracy_metric("accuracy", (None, 3), (None, 3), loss="binary_crossentropy")
    assert m.get_config()["fn"] == "categorical_accuracy"


def test_resolved_accuracy_computes_the_right_formula():
    r = rng(13)
    y, p = _binary_data(r, 20)
    m = M.get_accuracy_metric("accuracy", y.shape, p.shape)
    m.update_state(dev(y), dev(p))
    np.testing.assert_allclose(value(m), np_binary(y, p).mean(), rtol=1e-6)
    labels, p = _sparse_data(r, 20)
    m = M.get_accuracy_metric("acc", labels.shape, p.shape)
    m.update_state(dev(labels), dev(p))
    np.testing.assert_allclose(value(m), np_sparse(labels, p).mean(), rtol=1e-6)
    y, p = _onehot_data(r, 20)
    m = M.get_accuracy_metric("accuracy", dev(y), dev(p))  # tensors give their shapes
    m.update_state(dev(y), dev(p))
    np.testing.assert_allclose(value(m), np_categorical(y, p).mean(), rtol=1e-6)


@pytest.mark.parametrize("name,t_shape,p_shape,fn", [
    ("crossentropy", (None, 1), (None, 1), "binary_crossentropy"),
    ("ce", (None,), (None, 4), "sparse_categorical_crossentropy"),
    ("crossentropy", (None, 4), (None, 4), "categorical_crossentropy"),
])
def test_crossentropy_resolution(name, t_shape, p_shape, fn):
    m = M.get_accuracy_metric(name, t_shape, p_shape)
    assert m.name == name and m.get_config()["fn"] == fn


@pytest.mark.parametrize("model", ["iris_like", "mnist_like"])
def test_resolved_accuracy_serializes_as_tf_keras_2_files_do(model):
    h5py = pytest.importorskip("h5py")
    with h5py.File(FIXTURES / f"tfkeras2_{model}.h5", "r") as f:
        written = json.loads(f.attrs["training_config"])["metrics"][0][0]
    ref = np.load(FIXTURES / f"tfkeras2_{model}_ref.npz")
    m = M.get_accuracy_metric("accuracy", ref["train_y"].shape, ref["y"].shape)
    ours = M.serialize(m)
    assert {"class_name": ours["class_name"], "config": ours["config"]} == written
    back = M.deserialize(written)
    assert isinstance(back, M.MeanMetricWrapper) and back.get_config() == written["config"]


def test_get_metric_object_follows_compile():
    assert M.get_metric_object(None) is None
    m = M.get_metric_object("mae")
    assert isinstance(m, M.MeanMetricWrapper) and m.name == "mae"
    assert m.get_config()["fn"] == "mean_absolute_error"
    assert M.get_metric_object("acc", (None,), (None, 3)).get_config()["fn"] == \
        "sparse_categorical_accuracy"
    auc = M.AUC(name="my_auc")
    assert M.get_metric_object(auc) is auc
    assert isinstance(M.get_metric_object(M.Precision), M.Precision)
    assert M.get_metric_object(M.mean_squared_error).name == "mean_squared_error"

    def my_metric(y_true, y_pred):
        return ops.mean(ops.abs(y_true - y_pred), axis=-1)

    m = M.get_metric_object(my_metric)
    assert m.name == "my_metric"
    m.update_state(dev(np.zeros((2, 2), np.float32)), dev(np.ones((2, 2), np.float32)))
    assert float(value(m)) == 1.0
    with pytest.raises(ValueError, match="shapes"):
        M.get_metric_object("accuracy")


# -- device state ---------------------------------------------------------------------------
def _all_metrics():
    return [M.Mean(), M.Sum(), M.BinaryAccuracy(), M.CategoricalAccuracy(),
            M.SparseCategoricalAccuracy(), M.TopKCategoricalAccuracy(k=2),
            M.SparseTopKCategoricalAccuracy(k=2), M.MeanSquaredError(), M.MeanAbsoluteError(),
            M.RootMeanSquaredError(), M.MeanAbsolutePercentageError(),
            M.MeanSquaredLogarithmicError(), M.Accuracy(), M.AUC(), M.AUC(curve="PR"),
            M.AUC(multi_label=True), M.AUC(thresholds=[0.3, 0.6], from_logits=True),
            M.Precision(), M.Recall(thresholds=[0.2, 0.7]), M.Precision(top_k=2),
            M.Recall(class_id=1), M.TruePositives(), M.FalseNegatives(thresholds=[0.0, 0.5, 1.0]),
            M.get_accuracy_metric("accuracy", (None,), (None, 3))]


def _inputs_for(metric, r, n=8):
    name = type(metric).__name__
    if isinstance(metric, (M.Mean, M.Sum)) and type(metric) in (M.Mean, M.Sum):
        return (dev(r.random(n).astype(np.float32)),)
    if name == "Accuracy":
        y, p = r.integers(0, 2, (n, 3)), r.integers(0, 2, (n, 3))
    elif name in ("CategoricalAccuracy", "TopKCategoricalAccuracy"):
        y, p = _onehot_data(r, n, 3)
    elif name in ("SparseCategoricalAccuracy", "SparseTopKCategoricalAccuracy") or \
            metric.name == "accuracy":
        y, p = _sparse_data(r, n, 3)
    else:
        y, p = _binary_data(r, n, 3)
    return dev(y), dev(p)


def test_state_and_results_stay_on_the_device(backend, monkeypatch):
    r = rng(14)
    metrics = _all_metrics()
    batches = [[_inputs_for(m, r) for m in metrics] for _ in range(2)]
    weights = dev(r.uniform(0, 1, 8).astype(np.float32))
    if backend.name == "strict":
        # Any host read during update_state/result would call one of these.
        from kerasette.backend.strict_backend import StrictArray, StrictBackend

        def refuse(*args, **kwargs):
            raise AssertionError("a metric read device data back to the host")

        for attr in ("__float__", "__int__", "__bool__", "get"):
            monkeypatch.setattr(StrictArray, attr, refuse)
        monkeypatch.setattr(StrictBackend, "to_numpy", refuse)
    results = []
    for batch in batches:
        for m, args in zip(metrics, batch):
            m.update_state(*args, sample_weight=weights)
    for m in metrics:
        out = m.result()
        assert isinstance(out, kerasette.Tensor)
        assert backend.is_array(out.data), type(out.data)
        assert out.dtype == np.float32
        for v in m.variables:
            assert backend.is_array(v.data) and v.dtype == np.float32 and not v.trainable
        results.append(out)
    monkeypatch.undo()
    for out in results:
        assert np.isfinite(out.numpy()).all()


def test_variables_names_reset_and_aliases():
    m = M.Mean()
    assert [v.name for v in m.variables] == ["total:0", "count:0"]
    assert m.weights == m.variables
    out = m(dev(np.array([1.0, 2.0], np.float32)))
    assert float(out.numpy()) == 1.5
    m.reset_states()
    assert [float(v.numpy()) for v in m.variables] == [0.0, 0.0]
    a, b = M.Mean(), M.Mean()
    a.update_state([1.0, 3.0])
    b.update_state([5.0])
    b.merge_state([a])
    assert float(value(b)) == 3.0
    with pytest.raises(ValueError, match="not compatible"):
        b.merge_state([M.AUC()])
    p = M.Precision()
    assert [v.name for v in p.variables] == ["true_positives:0", "false_positives:0"]
    assert len(M.AUC().variables) == 4


def test_default_names_are_made_unique_like_tf_keras_2():
    K.clear_session()
    assert [M.AUC().name, M.AUC().name, M.Precision().name, M.Recall().name] == \
        ["auc", "auc_1", "precision", "recall"]
    assert M.TruePositives().name == "true_positives"
    # Explicit default names are not numbered.
    assert [M.Mean().name, M.Mean().name] == ["mean", "mean"]
    assert M.BinaryAccuracy().name == "binary_accuracy"
    assert M.MeanSquaredError().name == "mean_squared_error"
    assert M.SparseCategoricalAccuracy().name == "sparse_categorical_accuracy"
    K.clear_session()
    assert M.AUC().name == "auc"


def test_float64_dtype_keeps_float64_state():
    m = M.Mean(dtype="float64")
    m.update_state(dev(np.array([1.0, 2.0], np.float32)))
    assert m.dtype == "float64" and value(m).dtype == np.float64


def test_custom_metric_subclass_from_the_tf_keras_2_docs():
    class BinaryTruePositives(M.Metric):
        def __init__(self, name="binary_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_weight(name="tp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            values = ops.cast(ops.equal(y_true, 1.0), "float32") * \
                ops.cast(ops.equal(y_pred, 1.0), "float32")
            self.true_positives.assign_add(ops.sum(values))

        def result(self):
            return self.true_positives

    m = BinaryTruePositives()
    m.update_state(dev(np.array([0, 1, 1, 1], np.float32)), dev(np.array([1, 0, 1, 1], np.float32)))
    assert float(m.result().numpy()) == 2.0
    m.reset_state()
    assert float(m.result().numpy()) == 0.0


def test_crossentropy_metrics_use_the_losses_module():
    pytest.importorskip("kerasette.losses")
    # tf.keras 2's documented values (probabilistic_metrics.py).
    m = M.BinaryCrossentropy()
    m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])
    np.testing.assert_allclose(value(m), 0.81492424, rtol=1e-5)
    m.reset_state()
    m.update_state([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]], sample_weight=[1, 0])
    np.testing.assert_allclose(value(m), 0.9162905, rtol=1e-5)
    m = M.CategoricalCrossentropy()
    m.update_state([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    np.testing.assert_allclose(value(m), 1.1769392, rtol=1e-5)
    m.reset_state()
    m.update_state([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]],
                   sample_weight=[0.3, 0.7])
    np.testing.assert_allclose(value(m), 1.6271976, rtol=1e-5)
    m = M.SparseCategoricalCrossentropy()
    m.update_state([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    np.testing.assert_allclose(value(m), 1.1769392, rtol=1e-5)
    m = M.get_accuracy_metric("crossentropy", (None, 1), (None, 1))
    m.update_state([[0], [1]], [[0.25], [0.5]])
    np.testing.assert_allclose(value(m), -(np.log(0.75) + np.log(0.5)) / 2, rtol=1e-5)


# -- names and configs ---------------------------------------------------------------------
CONFIGURED = [
    M.Mean(name="loss"), M.Sum(), M.Accuracy(), M.BinaryAccuracy(threshold=0.3),
    M.CategoricalAccuracy(name="accuracy"), M.SparseCategoricalAccuracy(),
    M.TopKCategoricalAccuracy(k=3), M.SparseTopKCategoricalAccuracy(k=2, name="top2"),
    M.MeanSquaredError(), M.MeanAbsoluteError(), M.MeanAbsolutePercentageError(),
    M.MeanSquaredLogarithmicError(), M.RootMeanSquaredError(),
    M.AUC(num_thresholds=50, curve="PR", summation_method="majoring"),
    M.AUC(thresholds=[0.1, 0.5], multi_label=True, num_labels=2, label_weights=[1.0, 2.0]),
    M.Precision(thresholds=[0.2, 0.6], class_id=1), M.Recall(top_k=3),
    M.TruePositives(thresholds=0.7), M.FalsePositives(), M.TrueNegatives(), M.FalseNegatives(),
    M.BinaryCrossentropy(from_logits=True), M.CategoricalCrossentropy(label_smoothing=0.1),
    M.SparseCategoricalCrossentropy(ignore_class=0),
    M.MeanMetricWrapper(M.binary_accuracy, name="accuracy", threshold=0.4),
]


@pytest.mark.parametrize("metric", CONFIGURED, ids=lambda m: type(m).__name__)
def test_config_round_trip_through_json(metric):
    blob = json.dumps(M.serialize(metric))
    config = json.loads(blob)
    assert config["module"] == "keras.metrics"
    assert config["class_name"] == type(metric).__name__
    assert config["registered_name"] is None
    back = M.deserialize(config)
    assert type(back) is type(metric)
    assert back.get_config() == metric.get_config()
    assert back.name == metric.name and back.dtype == "float32"


def test_keras_config_values():
    assert M.BinaryAccuracy().get_config() == {"name": "binary_accuracy", "dtype": "float32",
                                               "threshold": 0.5}
    assert M.TopKCategoricalAccuracy().get_config()["k"] == 5
    assert M.Precision(name="p").get_config() == {"name": "p", "dtype": "float32",
                                                  "thresholds": None, "top_k": None,
                                                  "class_id": None}
    config = M.AUC(name="auc").get_config()
    assert config == {"name": "auc", "dtype": "float32", "num_thresholds": 200, "curve": "ROC",
                      "summation_method": "interpolation", "multi_label": False,
                      "num_labels": None, "label_weights": None, "from_logits": False}
    thresholds = M.AUC(num_thresholds=4).thresholds
    np.testing.assert_allclose(thresholds, [-1e-7, 1 / 3, 2 / 3, 1 + 1e-7])


def test_get_and_deserialize_names():
    assert M.get("mse") is M.mean_squared_error is M.mse
    assert M.get("MSE") is M.mean_squared_error
    assert M.get("mae") is M.mean_absolute_error
    assert M.get("mean_squared_error") is M.mean_squared_error
    # tf.keras 2: "accuracy" alone is the exact-match function; compile
    # resolves it by shape (get_accuracy_metric).
    assert M.get("accuracy") is M.accuracy and M.get("acc") is M.accuracy
    assert isinstance(M.get("MeanSquaredError"), M.MeanSquaredError)
    assert isinstance(M.get("AUC"), M.AUC) and isinstance(M.get("auc"), M.AUC)
    assert isinstance(M.get({"class_name": "Recall", "config": {"name": "r"}}), M.Recall)
    assert M.get({"class_name": "function", "config": "mae"}) is M.mean_absolute_error
    fn = M.binary_accuracy
    assert M.get(fn) is fn
    assert M.serialize(M.mse) == "mean_squared_error"
    assert M.serialize("mae") == "mean_absolute_error"

    def my_metric(y_true, y_pred):
        return y_pred

    wrapped = M.MeanMetricWrapper(my_metric, name="mine")
    config = json.loads(json.dumps(M.serialize(wrapped)))
    back = M.deserialize(config, custom_objects={"my_metric": my_metric})
    assert back._fn is my_metric and back.name == "mine"


def test_errors_are_clear():
    with pytest.raises(ValueError, match="Did you mean 'binary_accuracy'"):
        M.get("binary_acuracy")
    with pytest.raises(ValueError, match="Unknown metric"):
        M.get("no_such_metric_at_all")
    with pytest.raises(ValueError, match="Could not interpret metric identifier"):
        M.get(3)
    with pytest.raises(ValueError, match="Could not interpret metric identifier"):
        M.get(None)
    with pytest.raises(ValueError, match="num_thresholds"):
        M.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="curve"):
        M.AUC(curve="DET")
    with pytest.raises(ValueError, match="summation_method"):
        M.AUC(summation_method="trapezoid")
    with pytest.raises(ValueError, match="num_labels"):
        M.AUC(num_labels=3)
    with pytest.raises(ValueError, match="non-negative"):
        M.AUC(label_weights=[1.0, -1.0])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        M.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match="top_k"):
        M.Recall(top_k=0)
    with pytest.raises(ValueError, match="k"):
        M.TopKCategoricalAccuracy(k=0)
    with pytest.raises(ValueError, match="threshold"):
        M.BinaryAccuracy(threshold="high")
    with pytest.raises(ValueError, match="floating dtype"):
        M.AUC(dtype="int32")  # Mean takes int32, as in tf.keras 2 (test_metrics_more.py)
    with pytest.raises(ValueError, match="class_id=4 is out of range"):
        M.Precision(class_id=4).update_state(dev(np.zeros((2, 3))), dev(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="same shape"):
        M.Recall().update_state(dev(np.zeros((2, 3))), dev(np.zeros((2, 4))))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        M.Mean().update_state(dev(np.zeros(4)), sample_weight=dev(np.ones(3)))
    with pytest.raises(ValueError, match="cannot be broadcast"):
        M.AUC().update_state(dev(np.zeros(4)), dev(np.zeros(4)), sample_weight=dev(np.ones(3)))
    with pytest.raises(ValueError, match="one-hot labels use categorical"):
        M.SparseCategoricalAccuracy().update_state(dev(np.eye(3)), dev(np.eye(3)))
    with pytest.raises(ValueError, match="rank 2"):
        M.AUC(multi_label=True).update_state(dev(np.zeros(4)), dev(np.zeros(4)))
    with pytest.raises(ValueError, match="rank >= 1"):
        M.get_accuracy_metric("accuracy", (), (None, 1))
    with pytest.raises(ValueError, match="resolves"):
        M.get_accuracy_metric("precision", (None, 1), (None, 1))
    with pytest.raises(TypeError, match="callable"):
        M.MeanMetricWrapper("not a function")
    with pytest.raises(ValueError, match="cannot be serialized"):
        M.serialize(M.MeanMetricWrapper(lambda y, p: p))
