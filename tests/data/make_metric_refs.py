"""Reference values from real tf.keras 2.21 (and Keras 3.15 for configs).

Writes three JSON tables next to this file, read by the tests of issue 20
(tests/test_metrics_more.py, tests/test_losses_focal.py,
tests/test_constraints.py); the normal test run has no TensorFlow:

* `tfkeras2_metric_refs.json`: metric results (value and dtype, or the
  error tf.keras raises) for fixed inputs, and the OrthogonalRegularizer
  penalties;
* `tfkeras2_focal_refs.json`: focal cross-entropy values (functions and
  classes, with reductions and sample weights);
* `tfkeras2_constraint_refs.json`: constraint outputs and the configs
  tf.keras 2 and Keras 3 write for them (the Keras 3 part is made in a
  child process: Keras 3 and tf_keras never share a process).

Inputs are written into the tables too, so the tests never regenerate them.

Run (from anywhere) with the TensorFlow environment:

    /tmp/tfenv/bin/python tests/data/make_metric_refs.py
"""

import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def _rng(seed):
    return np.random.default_rng(seed)


def _plain(x):
    if x is None:
        return None
    return np.asarray(x).tolist()


def _value(t):
    a = np.asarray(t.numpy() if hasattr(t, "numpy") else t)
    return {"value": a.tolist(), "dtype": a.dtype.name}


# -- metrics --------------------------------------------------------------------------
def _binary_batches(seed, n=12, cols=None, weights=False):
    r = _rng(seed)
    shape = (n,) if cols is None else (n, cols)
    batches = []
    for _ in range(2):
        y = (r.random(shape) > 0.5).astype("float32")
        p = np.round(r.random(shape), 3).astype("float32")
        w = np.round(r.random(n) * 2, 2).astype("float32") if weights else None
        batches.append([y.tolist(), p.tolist(), _plain(w)])
    return batches


def _regression_batches(seed, shape=(6, 3), weights=None, positive=False):
    r = _rng(seed)
    batches = []
    for _ in range(2):
        y = np.round(r.normal(size=shape), 3)
        p = np.round(r.normal(size=shape), 3)
        if positive:
            y, p = np.abs(y), np.abs(p) + 0.1
        w = None
        if weights == "rank1":
            w = np.round(r.random(shape[0]) * 2, 2)
        elif weights == "column":
            w = np.round(r.random((shape[0], 1)) * 2, 2)
        batches.append([y.tolist(), p.tolist(), _plain(w)])
    return batches


def _prob_batches(seed, shape=(5, 4), weights=False):
    r = _rng(seed)
    batches = []
    for _ in range(2):
        y = r.random(shape)
        y = np.round(y / y.sum(-1, keepdims=True), 3)
        p = r.random(shape)
        p = np.round(p / p.sum(-1, keepdims=True), 3)
        w = np.round(r.random(shape[0]) * 2, 2) if weights else None
        batches.append([y.tolist(), p.tolist(), _plain(w)])
    return batches


def _hinge_batches(seed, shape=(5, 3), weights=False, labels="01"):
    r = _rng(seed)
    batches = []
    for _ in range(2):
        y = (r.random(shape) > 0.5).astype("float64")
        if labels == "pm1":
            y = 2 * y - 1
        p = np.round(r.normal(size=shape), 3)
        w = np.round(r.random(shape[0]) * 2, 2) if weights else None
        batches.append([y.tolist(), p.tolist(), _plain(w)])
    return batches


def _onehot_batches(seed, n=5, k=4, weights=False):
    r = _rng(seed)
    batches = []
    for _ in range(2):
        y = np.eye(k)[r.integers(0, k, n)]
        p = np.round(r.normal(size=(n, k)), 3)
        w = np.round(r.random(n) * 2, 2) if weights else None
        batches.append([y.tolist(), p.tolist(), _plain(w)])
    return batches


def _fscore_batches(seed, n=8, k=3, weights=False):
    r = _rng(seed)
    batches = []
    for _ in range(2):
        y = (r.random((n, k)) > 0.5).astype("float64")
        p = np.round(r.random((n, k)), 3)
        w = np.round(r.random(n) * 2, 2) if weights else None
        batches.append([y.tolist(), p.tolist(), _plain(w)])
    return batches


def _iou_batches(seed, k=3, shape=(10,), weights=False, dense_true=False, dense_pred=False):
    r = _rng(seed)
    batches = []
    for _ in range(2):
        y = r.integers(0, k, shape)
        p = r.integers(0, k, shape)
        w = np.round(r.random(shape) * 2, 2) if weights else None
        y = np.eye(k)[y] if dense_true else y
        p = np.round(r.random(shape + (k,)), 3) if dense_pred else p
        batches.append([y.tolist(), p.tolist(), _plain(w)])
    return batches


METRIC_CASES = [
    # id, class, kwargs, batches
    ("sens_at_spec", "SensitivityAtSpecificity", {"specificity": 0.5}, _binary_batches(1)),
    ("sens_at_spec_w", "SensitivityAtSpecificity", {"specificity": 0.8, "num_thresholds": 7},
     _binary_batches(2, weights=True)),
    ("sens_at_spec_class", "SensitivityAtSpecificity", {"specificity": 0.4, "class_id": 1},
     _binary_batches(3, cols=3)),
    ("sens_at_spec_one_threshold", "SensitivityAtSpecificity",
     {"specificity": 0.3, "num_thresholds": 1}, _binary_batches(4)),
    ("spec_at_sens", "SpecificityAtSensitivity", {"sensitivity": 0.5}, _binary_batches(5)),
    ("spec_at_sens_w", "SpecificityAtSensitivity", {"sensitivity": 0.7, "num_thresholds": 11},
     _binary_batches(6, weights=True)),
    ("spec_at_sens_class", "SpecificityAtSensitivity", {"sensitivity": 0.6, "class_id": 2},
     _binary_batches(7, cols=3, weights=True)),
    ("prec_at_rec", "PrecisionAtRecall", {"recall": 0.7}, _binary_batches(8)),
    ("prec_at_rec_w", "PrecisionAtRecall", {"recall": 0.4, "num_thresholds": 5},
     _binary_batches(9, weights=True)),
    ("prec_at_rec_class", "PrecisionAtRecall", {"recall": 0.5, "class_id": 0},
     _binary_batches(10, cols=2)),
    ("rec_at_prec", "RecallAtPrecision", {"precision": 0.6}, _binary_batches(11)),
    ("rec_at_prec_w", "RecallAtPrecision", {"precision": 0.8, "num_thresholds": 9},
     _binary_batches(12, weights=True)),
    ("rec_at_prec_class", "RecallAtPrecision", {"precision": 0.5, "class_id": 1},
     _binary_batches(13, cols=3)),
    ("rec_at_prec_unreachable", "RecallAtPrecision", {"precision": 1.0},
     [[[1, 0, 0, 0], [0.2, 0.9, 0.8, 0.7], None]]),
    ("r2", "R2Score", {}, _regression_batches(20)),
    ("r2_variance_weighted", "R2Score", {"class_aggregation": "variance_weighted_average"},
     _regression_batches(21, weights="rank1")),
    ("r2_none", "R2Score", {"class_aggregation": None}, _regression_batches(22,
                                                                            weights="column")),
    ("r2_adjusted", "R2Score", {"num_regressors": 2}, _regression_batches(23, shape=(8, 1))),
    ("r2_adjusted_fallback", "R2Score", {"num_regressors": 30},
     _regression_batches(24, shape=(4, 2))),
    ("cosine", "CosineSimilarity", {}, _regression_batches(30)),
    ("cosine_w_axis0", "CosineSimilarity", {"axis": 0}, _regression_batches(31)),
    ("cosine_w", "CosineSimilarity", {}, _regression_batches(32, weights="rank1")),
    ("logcosh", "LogCoshError", {}, _regression_batches(33)),
    ("logcosh_w", "LogCoshError", {}, _regression_batches(34, weights="rank1")),
    ("hinge", "Hinge", {}, _hinge_batches(40)),
    ("hinge_pm1_w", "Hinge", {}, _hinge_batches(41, weights=True, labels="pm1")),
    ("squared_hinge", "SquaredHinge", {}, _hinge_batches(42)),
    ("squared_hinge_w", "SquaredHinge", {}, _hinge_batches(43, weights=True, labels="pm1")),
    ("categorical_hinge", "CategoricalHinge", {}, _onehot_batches(44)),
    ("categorical_hinge_w", "CategoricalHinge", {}, _onehot_batches(45, weights=True)),
    ("kld", "KLDivergence", {}, _prob_batches(50)),
    ("kld_w", "KLDivergence", {}, _prob_batches(51, weights=True)),
    ("poisson", "Poisson", {}, _regression_batches(52, positive=True)),
    ("poisson_w", "Poisson", {}, _regression_batches(53, positive=True, weights="rank1")),
    ("auc_pr_interpolation", "AUC", {"curve": "PR", "num_thresholds": 20},
     _binary_batches(60, n=30)),
    ("auc_pr_minoring", "AUC", {"curve": "PR", "summation_method": "minoring",
                                "num_thresholds": 20}, _binary_batches(60, n=30)),
    ("auc_pr_majoring", "AUC", {"curve": "PR", "summation_method": "majoring",
                                "num_thresholds": 20}, _binary_batches(60, n=30)),
    ("auc_pr_weighted", "AUC", {"curve": "PR"}, _binary_batches(61, n=30, weights=True)),
    ("auc_roc_minoring", "AUC", {"summation_method": "minoring", "num_thresholds": 13},
     _binary_batches(62, n=30)),
    ("auc_roc_majoring", "AUC", {"summation_method": "majoring", "num_thresholds": 13},
     _binary_batches(62, n=30)),
    ("auc_pr_multilabel", "AUC", {"curve": "PR", "multi_label": True, "num_thresholds": 15},
     _binary_batches(63, n=20, cols=3)),
    # F-scores, IoUs, MeanRelativeError, MeanTensor
    ("f1_none", "F1Score", {}, _fscore_batches(100)),
    ("f1_micro_threshold", "F1Score", {"average": "micro", "threshold": 0.5},
     _fscore_batches(101)),
    ("f1_macro_w", "F1Score", {"average": "macro"}, _fscore_batches(102, weights=True)),
    ("f1_weighted_w", "F1Score", {"average": "weighted", "threshold": 0.4},
     _fscore_batches(103, weights=True)),
    ("fbeta_2", "FBetaScore", {"beta": 2.0, "threshold": 0.5}, _fscore_batches(104)),
    ("fbeta_half_micro_w", "FBetaScore", {"beta": 0.5, "average": "micro"},
     _fscore_batches(105, weights=True)),
    ("iou", "IoU", {"num_classes": 3, "target_class_ids": [0, 2]}, _iou_batches(110)),
    ("iou_w_ignore", "IoU", {"num_classes": 3, "target_class_ids": [1], "ignore_class": 2},
     _iou_batches(111, weights=True)),
    ("iou_dense_pred", "IoU", {"num_classes": 3, "target_class_ids": [0, 1, 2],
                               "sparse_y_pred": False}, _iou_batches(112, dense_pred=True)),
    ("mean_iou", "MeanIoU", {"num_classes": 3}, _iou_batches(113)),
    ("mean_iou_segmentation_w", "MeanIoU", {"num_classes": 3},
     _iou_batches(114, weights=True, shape=(2, 3, 3))),
    ("mean_iou_absent_class", "MeanIoU", {"num_classes": 4}, _iou_batches(115)),
    ("binary_iou", "BinaryIoU", {}, _binary_batches(116)),
    ("binary_iou_one_class_w", "BinaryIoU", {"target_class_ids": [1], "threshold": 0.3},
     _binary_batches(117, weights=True)),
    ("one_hot_iou", "OneHotIoU", {"num_classes": 3, "target_class_ids": [0, 2]},
     _iou_batches(118, dense_true=True, dense_pred=True)),
    ("one_hot_mean_iou_w", "OneHotMeanIoU", {"num_classes": 3},
     _iou_batches(119, dense_true=True, dense_pred=True, weights=True)),
    ("mean_relative_error", "MeanRelativeError", {"normalizer": [1.0, 2.0, 4.0]},
     _regression_batches(120)),
    ("mean_relative_error_w", "MeanRelativeError", {"normalizer": [[0.5], [1.0], [2.0],
                                                                   [0.0], [3.0], [1.0]]},
     _regression_batches(121, weights="rank1")),
    ("mean_tensor", "MeanTensor", {}, [[[[1, 2, 3], [4, 5, 6]], None, None],
                                       [[[3, 2, 1], [0, 5, 2]], None, None]]),
    ("mean_tensor_w", "MeanTensor", {"shape": [2, 3]},
     [[[[1, 2, 3], [4, 5, 6]], None, [[1, 0, 2], [1, 1, 1]]],
      [[[3, 2, 1], [0, 5, 2]], None, [[1, 0, 1], [0, 2, 1]]]]),
    # sample_weight forms on the mean metrics
    ("acc_rank1_w", "Accuracy", {},
     [[[[1, 2, 3], [4, 5, 6], [1, 1, 1], [0, 2, 3]], [[1, 2, 0], [4, 0, 6], [1, 1, 1],
                                                      [0, 0, 0]], [1, 2, 3, 4]]]),
    ("acc_elementwise_w", "Accuracy", {},
     [[[[1, 2, 3], [4, 5, 6], [1, 1, 1], [0, 2, 3]], [[1, 2, 0], [4, 0, 6], [1, 1, 1],
                                                      [0, 0, 0]],
       [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]]]),
    ("acc_row_w", "Accuracy", {},
     [[[[1, 2, 3], [4, 5, 6], [1, 1, 1], [0, 2, 3]], [[1, 2, 0], [4, 0, 6], [1, 1, 1],
                                                      [0, 0, 0]], [[1, 0, 1]]]]),
    ("acc_vector_labels_w", "Accuracy", {}, [[[1, 2, 3, 4], [1, 0, 3, 4], [0.5, 1, 1, 2]]]),
    ("binacc_elementwise_w", "BinaryAccuracy", {},
     [[[[1, 0, 1], [0, 0, 1]], [[0.9, 0.2, 0.4], [0.6, 0.1, 0.8]],
       [[1, 2, 3], [4, 5, 6]]]]),
    ("mse_elementwise_w", "MeanSquaredError", {},
     [[[[1, 2, 3], [4, 5, 6]], [[1, 0, 3], [4, 5, 0]], [[1, 2, 3], [4, 5, 6]]]]),
    ("mse_rank1_w", "MeanSquaredError", {},
     [[[[1, 2, 3], [4, 5, 6]], [[1, 0, 3], [4, 5, 0]], [2, 0.5]]]),
    ("mae_row_w", "MeanAbsoluteError", {},
     [[[[1, 2, 3], [4, 5, 6]], [[1, 0, 3], [4, 5, 0]], [[1, 0, 2]]]]),
    ("catacc_elementwise_w", "CategoricalAccuracy", {},
     [[[[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]],
       [[1, 1, 1], [2, 2, 2]]]]),
    ("mean_elementwise_w", "Mean", {},
     [[[[1, 2, 3], [4, 5, 6]], None, [[1, 0, 1], [0, 1, 1]]]]),
    ("mean_rank1_w_on_matrix", "Mean", {}, [[[[1, 2, 3], [4, 5, 6]], None, [1, 3]]]),
    ("mean_3d_values_2d_w", "Mean", {},
     [[np.arange(12).reshape(2, 3, 2).tolist(), None, [[1, 0, 2], [1, 1, 0]]]]),
    ("sum_3d_values_2d_w", "Sum", {},
     [[np.arange(12).reshape(2, 3, 2).tolist(), None, [[1, 0, 2], [1, 1, 0]]]]),
    ("mse_3d_w_2d", "MeanSquaredError", {},
     [[np.arange(12).reshape(2, 3, 2).tolist(), np.ones((2, 3, 2)).tolist(),
       [[1, 0, 2], [1, 1, 0]]]]),
    # the SparseCategoricalCrossentropy metric with ignore_class
    ("scce_ignore_weighted", "SparseCategoricalCrossentropy", {"ignore_class": 0},
     [[[0, 1, 2], [[0.8, 0.1, 0.1], [0.05, 0.95, 0], [0.1, 0.8, 0.1]], [0.5, 1.5, 2.0]]]),
    ("scce_ignore_unweighted", "SparseCategoricalCrossentropy", {"ignore_class": 0},
     [[[0, 1, 2], [[0.8, 0.1, 0.1], [0.05, 0.95, 0], [0.1, 0.8, 0.1]], None]]),
    ("scce_ignore_two_batches", "SparseCategoricalCrossentropy", {"ignore_class": 0},
     [[[0, 1, 2], [[0.8, 0.1, 0.1], [0.05, 0.95, 0], [0.1, 0.8, 0.1]], [0.5, 1.5, 2.0]],
      [[2, 0, 0, 1], [[0.2, 0.3, 0.5], [0.3, 0.3, 0.4], [0.6, 0.2, 0.2], [0.1, 0.7, 0.2]],
       None]]),
    ("scce_ignore_column_labels", "SparseCategoricalCrossentropy", {"ignore_class": 2},
     [[[[0], [1], [2]], [[0.8, 0.1, 0.1], [0.05, 0.95, 0], [0.1, 0.8, 0.1]], [1.0, 2.0, 3.0]]]),
    ("scce_ignore_all", "SparseCategoricalCrossentropy", {"ignore_class": 1},
     [[[1, 1], [[0.3, 0.7], [0.6, 0.4]], None]]),
]

# Metric dtypes: the result's value and dtype for the same update, or the error.
DTYPE_BATCH = [[[[1], [0], [1], [1]], [[0.9], [0.2], [0.4], [0.8]], [1, 2, 1, 1]]]
DTYPE_CASES = [
    (cls, dtype)
    for dtype in ("int32", "int64", "float16", "float64", "bfloat16")
    for cls in ("Mean", "Sum", "Accuracy", "BinaryAccuracy", "MeanSquaredError",
                "MeanAbsoluteError", "RootMeanSquaredError", "AUC", "Precision",
                "TruePositives", "Recall", "SensitivityAtSpecificity", "R2Score",
                "CosineSimilarity", "Hinge", "Poisson")
]
_DTYPE_KWARGS = {"SensitivityAtSpecificity": {"specificity": 0.5}}


def _metric_update(m, cls, batch):
    y, p, w = batch
    if cls in ("Mean", "Sum", "MeanTensor"):
        m.update_state(np.asarray(y, dtype="float32"),
                       sample_weight=None if w is None else np.asarray(w, "float32"))
    elif cls == "R2Score":
        y2 = np.asarray(y, dtype="float32")
        p2 = np.asarray(p, dtype="float32")
        if y2.ndim == 1:
            y2, p2 = y2[:, None], p2[:, None]
        m.update_state(y2, p2, sample_weight=None if w is None else np.asarray(w, "float32"))
    else:
        m.update_state(np.asarray(y, dtype="float32"), np.asarray(p, dtype="float32"),
                       sample_weight=None if w is None else np.asarray(w, "float32"))


def make_metrics(tf_keras):
    import warnings

    out = {"cases": [], "dtypes": [], "orthogonal": []}
    for case_id, cls, kwargs, batches in METRIC_CASES:
        m = getattr(tf_keras.metrics, cls)(**kwargs)
        entry = {"id": case_id, "class": cls, "kwargs": kwargs, "batches": batches}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for b in batches:
                    _metric_update(m, cls, b)
                entry.update(_value(m.result()))
            entry["config"] = {k: v for k, v in m.get_config().items()}
        except Exception as err:  # noqa: BLE001 - recorded as the reference
            entry["error"] = type(err).__name__
        out["cases"].append(entry)
    for cls, dtype in DTYPE_CASES:
        entry = {"class": cls, "dtype_arg": dtype, "batches": DTYPE_BATCH}
        try:
            m = getattr(tf_keras.metrics, cls)(dtype=dtype, **_DTYPE_KWARGS.get(cls, {}))
            batch = DTYPE_BATCH
            for b in batch:
                _metric_update(m, cls, b)
            entry.update(_value(m.result()))
            entry["state_dtypes"] = [v.dtype.name for v in m.variables]
            entry["metric_dtype"] = m.dtype
        except Exception as err:  # noqa: BLE001
            entry["error"] = type(err).__name__
        out["dtypes"].append(entry)
    r = _rng(70)
    for mode in ("rows", "columns"):
        for factor in (0.01, 0.5):
            x = np.round(r.normal(size=(4, 3)), 3).astype("float32")
            reg = tf_keras.regularizers.OrthogonalRegularizer(factor=factor, mode=mode)
            out["orthogonal"].append({"factor": factor, "mode": mode, "x": x.tolist(),
                                      **_value(reg(tf_keras.backend.constant(x))),
                                      "config": reg.get_config(),
                                      "serialized": tf_keras.regularizers.serialize(reg)})
    return out


# -- focal losses ------------------------------------------------------------------------
def make_focal(tf_keras):
    import tensorflow as tf

    r = _rng(80)
    yb = (r.random((4, 3)) > 0.5).astype("float32")
    pb = np.round(r.uniform(0.02, 0.98, (4, 3)), 3).astype("float32")
    zb = np.round(r.normal(size=(4, 3)) * 2, 3).astype("float32")
    yc = np.eye(3, dtype="float32")[r.integers(0, 3, 4)]
    pc = r.random((4, 3)).astype("float32") + 0.05
    pc = np.round(pc / pc.sum(-1, keepdims=True), 3).astype("float32")
    zc = np.round(r.normal(size=(4, 3)) * 2, 3).astype("float32")
    w = np.array([0.5, 1.0, 2.0, 0.0], dtype="float32")
    y3 = (r.random((2, 3, 4)) > 0.5).astype("float32")
    p3 = np.round(r.uniform(0.02, 0.98, (2, 3, 4)), 3).astype("float32")
    yc3 = np.eye(4, dtype="float32")[r.integers(0, 4, (2, 3))]
    pc3 = r.random((2, 3, 4)).astype("float32") + 0.05
    pc3 = np.round(pc3 / pc3.sum(-1, keepdims=True), 3).astype("float32")
    inputs = {"yb": yb, "pb": pb, "zb": zb, "yc": yc, "pc": pc, "zc": zc, "w": w,
              "y3": y3, "p3": p3, "yc3": yc3, "pc3": pc3}
    binary_kwargs = [
        {},
        {"gamma": 0.0},
        {"apply_class_balancing": True},
        {"apply_class_balancing": True, "alpha": 0.6, "gamma": 1.5},
        {"label_smoothing": 0.1},
        {"from_logits": True},
        {"from_logits": True, "apply_class_balancing": True, "label_smoothing": 0.2,
         "gamma": 3.0},
        {"axis": 0},
    ]
    cat_kwargs = [
        {},
        {"gamma": 0.0, "alpha": 1.0},
        {"alpha": [0.2, 0.5, 0.3]},
        {"gamma": 1.0, "label_smoothing": 0.1},
        {"from_logits": True},
        {"from_logits": True, "alpha": 0.5, "gamma": 3.0, "label_smoothing": 0.3},
        {"axis": 0},
    ]
    out = {"inputs": {k: v.tolist() for k, v in inputs.items()}, "cases": []}

    def record(kind, fn_name, cls_name, kwargs, y, p, y_key, p_key):
        fn = getattr(tf_keras.losses, fn_name)
        entry = {"kind": kind, "function": fn_name, "class": cls_name, "kwargs": kwargs,
                 "y": y_key, "p": p_key}
        entry["function_value"] = fn(tf.constant(y), tf.constant(p), **kwargs).numpy().tolist()
        reductions = {}
        cls = getattr(tf_keras.losses, cls_name)
        for red in ("sum_over_batch_size", "sum", "none"):
            obj = cls(reduction=red, **kwargs)
            reductions[red] = obj(y, p).numpy().tolist()
            if y.ndim == 2 and kwargs.get("axis", -1) == -1:
                reductions[red + "_weighted"] = obj(y, p, sample_weight=w).numpy().tolist()
        entry["class_values"] = reductions
        entry["config"] = cls(**kwargs).get_config()
        out["cases"].append(entry)

    for kw in binary_kwargs:
        p_key = "zb" if kw.get("from_logits") else "pb"
        record("binary", "binary_focal_crossentropy", "BinaryFocalCrossentropy", kw, yb,
               inputs[p_key], "yb", p_key)
    record("binary", "binary_focal_crossentropy", "BinaryFocalCrossentropy", {"gamma": 1.0},
           y3, p3, "y3", "p3")
    for kw in cat_kwargs:
        p_key = "zc" if kw.get("from_logits") else "pc"
        record("categorical", "categorical_focal_crossentropy", "CategoricalFocalCrossentropy",
               kw, yc, inputs[p_key], "yc", p_key)
    record("categorical", "categorical_focal_crossentropy", "CategoricalFocalCrossentropy",
           {"alpha": 0.4}, yc3, pc3, "yc3", "pc3")
    # The loss config tf.keras 2 writes, and the serialized form.
    out["serialized"] = {
        "binary": tf_keras.losses.serialize(
            tf_keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=3.0)),
        "categorical": tf_keras.losses.serialize(
            tf_keras.losses.CategoricalFocalCrossentropy(alpha=[0.1, 0.9])),
    }
    return out


# -- constraints -------------------------------------------------------------------------
CONSTRAINT_CASES = [
    ("MaxNorm", {}, (4, 3)),
    ("MaxNorm", {"max_value": 1.5, "axis": 1}, (4, 3)),
    ("MaxNorm", {"max_value": 0.7, "axis": [0, 1, 2]}, (3, 3, 2, 2)),
    ("MinMaxNorm", {}, (4, 3)),
    ("MinMaxNorm", {"min_value": 1.0, "max_value": 2.0, "rate": 0.5, "axis": 1}, (4, 3)),
    ("NonNeg", {}, (4, 3)),
    ("UnitNorm", {}, (4, 3)),
    ("UnitNorm", {"axis": [0, 1, 2]}, (2, 2, 3, 2)),
    ("RadialConstraint", {}, (4, 4, 2, 3)),
    ("RadialConstraint", {}, (5, 5, 1, 2)),
    ("RadialConstraint", {}, (3, 3, 2, 1)),
    ("RadialConstraint", {}, (2, 2, 1, 1)),
    ("RadialConstraint", {}, (6, 6, 1, 1)),
]


def make_constraints(tf_keras):
    r = _rng(90)
    out = {"cases": [], "layers": {}}
    for cls, kwargs, shape in CONSTRAINT_CASES:
        w = np.round(r.normal(size=shape) * 1.5, 3).astype("float32")
        c = getattr(tf_keras.constraints, cls)(**kwargs)
        out["cases"].append({"class": cls, "kwargs": kwargs, "w": w.tolist(),
                             **_value(c(tf_keras.backend.constant(w))), "config": c.get_config(),
                             "serialized": tf_keras.constraints.serialize(c)})
    layers = tf_keras.layers
    out["layers"]["Dense"] = layers.Dense(
        2, kernel_constraint=tf_keras.constraints.MaxNorm(2, axis=0),
        bias_constraint="non_neg").get_config()
    out["layers"]["Conv2D"] = layers.Conv2D(
        2, 3, kernel_constraint=tf_keras.constraints.UnitNorm(axis=[0, 1, 2])).get_config()
    out["layers"]["Embedding"] = layers.Embedding(
        5, 2, embeddings_constraint="unit_norm").get_config()
    out["layers"]["LSTM"] = layers.LSTM(
        2, kernel_constraint="max_norm", recurrent_constraint="unit_norm",
        bias_constraint="non_neg").get_config()
    out["layers"]["BatchNormalization"] = layers.BatchNormalization(
        beta_constraint="non_neg", gamma_constraint=tf_keras.constraints.MinMaxNorm(
            0.5, 1.5)).get_config()
    out["layers"]["LayerNormalization"] = layers.LayerNormalization(
        gamma_constraint="non_neg").get_config()
    # One training step of SGD with a MaxNorm kernel: the constraint is
    # applied after the update.
    import tensorflow as tf

    tf_keras.utils.set_random_seed(0)
    x = np.round(r.normal(size=(8, 3)), 3).astype("float32")
    y = np.round(r.normal(size=(8, 2)), 3).astype("float32")
    k0 = np.round(r.normal(size=(3, 2)), 3).astype("float32")
    model = tf_keras.Sequential([tf_keras.Input((3,)), layers.Dense(
        2, kernel_constraint=tf_keras.constraints.MaxNorm(0.5), bias_constraint="non_neg")])
    model.layers[0].set_weights([k0, np.array([0.1, -0.1], "float32")])
    model.compile(optimizer=tf_keras.optimizers.SGD(0.5), loss="mse")
    model.train_on_batch(x, y)
    del tf
    out["training"] = {"x": x.tolist(), "y": y.tolist(), "kernel0": k0.tolist(),
                       "bias0": [0.1, -0.1],
                       "kernel1": model.layers[0].kernel.numpy().tolist(),
                       "bias1": model.layers[0].bias.numpy().tolist()}
    return out


def make_keras3_constraint_configs():
    """In a child process: Keras 3's serialized constraints and layer configs."""
    import keras

    out = {"serialized": {}, "layers": {}}
    for cls, kwargs, _ in CONSTRAINT_CASES:
        c = getattr(keras.constraints, cls, None)
        if c is None:
            out["serialized"][cls] = None
            continue
        out["serialized"][cls + json.dumps(kwargs, sort_keys=True)] = \
            keras.constraints.serialize(c(**kwargs))
    out["layers"]["Dense"] = keras.layers.Dense(
        2, kernel_constraint=keras.constraints.MaxNorm(2, axis=0),
        bias_constraint="non_neg").get_config()
    out["layers"]["Embedding"] = keras.layers.Embedding(
        5, 2, embeddings_constraint="unit_norm").get_config()
    out["layers"]["OrthogonalRegularizer"] = keras.regularizers.serialize(
        keras.regularizers.OrthogonalRegularizer(0.5, "columns"))
    print(json.dumps(out))


def main():
    if "--keras3" in sys.argv:
        make_keras3_constraint_configs()
        return
    import tf_keras

    def dump(name, data):
        with open(os.path.join(HERE, name), "w") as f:
            # tf.keras 2 puts NumPy values in some configs (MeanRelativeError's
            # normalizer): written as lists and numbers.
            json.dump(data, f, indent=1, sort_keys=True,
                      default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o))
            f.write("\n")

    dump("tfkeras2_metric_refs.json", make_metrics(tf_keras))
    dump("tfkeras2_focal_refs.json", make_focal(tf_keras))
    constraints = make_constraints(tf_keras)
    child = subprocess.run([sys.executable, os.path.abspath(__file__), "--keras3"],
                           capture_output=True, text=True, check=True)
    constraints["keras3"] = json.loads(child.stdout.strip().splitlines()[-1])
    dump("tfkeras2_constraint_refs.json", constraints)


if __name__ == "__main__":
    main()
