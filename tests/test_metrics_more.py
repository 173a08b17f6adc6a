"""The metrics of issue 20 against tf.keras 2.21's own numbers.

`tests/data/tfkeras2_metric_refs.json` (made by `tests/data/make_metric_refs.py`
with real tf.keras 2.21) holds, for fixed inputs, what tf.keras 2 gives:
the new metrics (`SensitivityAtSpecificity` and its three siblings,
`R2Score`, `CosineSimilarity`, `LogCoshError`, the hinges, `KLDivergence`,
`Poisson`), `AUC` with the PR curve and every summation method, the
`sample_weight` forms of the mean metrics (rank 1, per element, or refused),
the `SparseCategoricalCrossentropy(ignore_class=...)` metric, and the
result of each metric for each `dtype` (value and dtype, or an error).
"""

import json
import pickle
import warnings

import numpy as np
import pytest
from fixture_paths import DATA

import kerasette as keras
from kerasette import metrics as M
from kerasette import ops

REFS = json.loads((DATA / "tfkeras2_metric_refs.json").read_text())
CASES = {c["id"]: c for c in REFS["cases"]}
NEW_CLASSES = ("SensitivityAtSpecificity", "SpecificityAtSensitivity", "PrecisionAtRecall",
               "RecallAtPrecision", "R2Score", "CosineSimilarity", "LogCoshError", "Hinge",
               "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson", "F1Score",
               "FBetaScore", "IoU", "MeanIoU", "BinaryIoU", "OneHotIoU", "OneHotMeanIoU",
               "MeanRelativeError", "MeanTensor")
REQUIRED_ARGS = ("AtSpecificity", "AtSensitivity", "AtRecall", "AtPrecision", "IoU",
                 "MeanRelativeError")


def _dev(x, dtype="float32"):
    return None if x is None else ops.convert_to_tensor(np.asarray(x, dtype=dtype))


def _update(metric, cls, batch):
    y, p, w = batch
    if cls in ("Mean", "Sum", "MeanTensor"):
        metric.update_state(_dev(y), sample_weight=_dev(w))
        return
    y, p = np.asarray(y, "float32"), np.asarray(p, "float32")
    if cls == "R2Score" and y.ndim == 1:
        y, p = y[:, None], p[:, None]
    metric.update_state(_dev(y), _dev(p), sample_weight=_dev(w))


def _run(cls, kwargs, batches):
    metric = getattr(M, cls)(**kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # R2Score's fallback warning
        for batch in batches:
            _update(metric, cls, batch)
        return metric, metric.result()


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_metric_matches_tf_keras(case_id):
    case = CASES[case_id]
    if "error" in case:
        # tf.keras 2 refuses these weights (they do not fit the per-sample
        # values); kerasette says so before touching the state.
        with pytest.raises(ValueError, match="cannot be broadcast"):
            _run(case["class"], case["kwargs"], case["batches"])
        return
    metric, result = _run(case["class"], case["kwargs"], case["batches"])
    assert keras.backend.get_backend().is_array(result.data)
    got = result.numpy()
    assert got.dtype.name == case["dtype"]
    np.testing.assert_allclose(got, np.asarray(case["value"], dtype="float64"), rtol=2e-6,
                               atol=2e-6)
    config, expected = metric.get_config(), dict(case["config"])
    # Default names are numbered per process (auc, auc_1, ...): the generator
    # made several AUCs, this test makes one.
    assert config.pop("name").split("_")[0] == expected.pop("name").split("_")[0]
    assert config == expected


def test_the_issue_numbers_for_ignore_class():
    y_true, y_pred = [0, 1, 2], [[0.8, 0.1, 0.1], [0.05, 0.95, 0], [0.1, 0.8, 0.1]]
    m = M.SparseCategoricalCrossentropy(ignore_class=0)
    m.update_state(_dev(y_true), _dev(y_pred), sample_weight=_dev([0.5, 1.5, 2.0]))
    assert abs(float(m.result()) - 1.3377) < 1e-4  # not 1.1705: the ignored weight is out
    m.reset_state()
    m.update_state(_dev(y_true), _dev(y_pred))
    # tf.keras 2 divides by the 2 rows that count (Keras 3 by all 3).
    assert abs(float(m.result()) - (-np.log(0.95) - np.log(0.1)) / 2) < 1e-5


DTYPE_CASES = REFS["dtypes"]


@pytest.mark.parametrize("case", DTYPE_CASES,
                         ids=[f"{c['class']}-{c['dtype_arg']}" for c in DTYPE_CASES])
def test_metric_dtypes_as_tf_keras(case):
    cls, dtype = case["class"], case["dtype_arg"]
    kwargs = {"dtype": dtype}
    if cls == "SensitivityAtSpecificity":
        kwargs["specificity"] = 0.5
    if dtype == "bfloat16":
        with pytest.raises(ValueError, match="bfloat16 has no NumPy or CuPy dtype"):
            getattr(M, cls)(**kwargs)
        return
    if "error" in case:
        # Refused in the constructor, before any state exists.
        with pytest.raises(ValueError, match="floating dtype"):
            getattr(M, cls)(**kwargs)
        return
    metric, result = _run(cls, kwargs, case["batches"])
    got = result.numpy()
    assert got.dtype.name == case["dtype"], (got.dtype, case["dtype"])
    assert [v.dtype.name for v in metric.variables] == case["state_dtypes"]
    assert metric.dtype == case["metric_dtype"]
    tol = 2e-3 if dtype == "float16" else 1e-6
    np.testing.assert_allclose(got.astype("float64"), case["value"], rtol=tol, atol=tol,
                               equal_nan=True)


@pytest.mark.parametrize("cls", NEW_CLASSES)
def test_new_metrics_round_trip_and_copy(cls):
    case = next(c for c in REFS["cases"] if c["class"] == cls)
    metric, result = _run(cls, case["kwargs"], case["batches"])
    config = json.loads(json.dumps(M.serialize(metric)))
    assert config["class_name"] == cls and config["module"] == "keras.metrics"
    again = M.deserialize(config)
    assert type(again) is type(metric) and again.get_config() == metric.get_config()
    if not cls.endswith(REQUIRED_ARGS) or cls == "BinaryIoU":
        assert type(M.get(cls)) is type(metric)  # the name gives a default instance
    for batch in case["batches"]:
        _update(again, cls, batch)
    np.testing.assert_allclose(again.result().numpy(), result.numpy(), rtol=1e-6)
    copy = pickle.loads(pickle.dumps(metric))
    np.testing.assert_allclose(copy.result().numpy(), result.numpy(), rtol=1e-6)
    metric.reset_state()
    assert all(float(np.abs(v.numpy()).sum()) == 0 for v in metric.variables)


def test_new_functions_and_aliases():
    y = _dev([[0.0, 1.0], [1.0, 0.0]])
    p = _dev([[0.3, 0.7], [0.6, 0.4]])
    assert M.kld is M.KLD is M.kullback_leibler_divergence is M.kl_divergence
    assert M.logcosh is M.log_cosh
    for name in ("hinge", "squared_hinge", "kl_divergence", "kld", "poisson", "log_cosh",
                 "logcosh", "binary_focal_crossentropy", "categorical_focal_crossentropy"):
        fn = M.get(name)
        assert callable(fn) and fn(y, p).shape == (2,)
        assert M.serialize(fn) == fn.__name__
    np.testing.assert_allclose(M.hinge(y, p).numpy(), keras.losses.hinge(y, p).numpy())
    np.testing.assert_allclose(
        M.binary_focal_crossentropy(y, p, gamma=1.0).numpy(),
        keras.losses.binary_focal_crossentropy(y, p, gamma=1.0).numpy())


def test_sensitivity_result_is_the_best_feasible_rate_by_hand():
    # Thresholds 0, 0.5, 1: predictions > t are positive.
    m = M.PrecisionAtRecall(0.5, num_thresholds=3)
    m.update_state(_dev([1, 1, 0, 0]), _dev([0.9, 0.2, 0.7, 0.1]))
    # t=0: recall 1, precision 0.5; t=0.5: recall 0.5, precision 0.5; t=1: recall 0.
    assert float(m.result()) == 0.5
    m = M.RecallAtPrecision(0.9, num_thresholds=3)
    m.update_state(_dev([1, 1, 0, 0]), _dev([0.9, 0.2, 0.7, 0.1]))
    assert float(m.result()) == 0.0  # no threshold reaches precision 0.9


def test_r2_score_by_hand_and_errors():
    y = np.array([[1.0, 2.0], [3.0, 5.0], [4.0, 1.0]], "float32")
    p = np.array([[1.5, 2.0], [2.0, 4.0], [4.5, 2.0]], "float32")
    m = M.R2Score(class_aggregation=None)
    m.update_state(_dev(y), _dev(p))
    expected = 1 - ((y - p) ** 2).sum(0) / ((y - y.mean(0)) ** 2).sum(0)
    np.testing.assert_allclose(m.result().numpy(), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="2D inputs"):
        M.R2Score().update_state(_dev([1.0, 2.0]), _dev([1.0, 2.0]))
    with pytest.raises(ValueError, match="class_aggregation"):
        M.R2Score(class_aggregation="mean")
    with pytest.raises(ValueError, match="num_regressors"):
        M.R2Score(num_regressors=-1)
    with pytest.warns(UserWarning, match="Falling back"):
        m = M.R2Score(num_regressors=10)
        m.update_state(_dev(y), _dev(p))
        m.result()


def test_argument_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"`specificity` must be in the range \[0, 1\]"):
        M.SensitivityAtSpecificity(1.5)
    with pytest.raises(ValueError, match="num_thresholds"):
        M.RecallAtPrecision(0.5, num_thresholds=0)
    with pytest.raises(ValueError, match="class_id"):
        M.PrecisionAtRecall(0.5, class_id=-1)
    with pytest.raises(ValueError, match="class_id=3 is out of range"):
        M.SpecificityAtSensitivity(0.5, class_id=3).update_state(
            _dev(np.zeros((2, 3))), _dev(np.zeros((2, 3))))
    with pytest.raises(ValueError, match="axis"):
        M.CosineSimilarity(axis="last")


def test_fscore_iou_and_tensor_errors():
    with pytest.raises(ValueError, match="`average`"):
        M.F1Score(average="mean")
    with pytest.raises(ValueError, match="`beta`"):
        M.FBetaScore(beta=0.0)
    with pytest.raises(ValueError, match="`threshold`"):
        M.F1Score(threshold=1.5)
    with pytest.raises(ValueError, match="2D inputs"):
        M.F1Score().update_state(_dev([1.0, 0.0]), _dev([0.3, 0.2]))
    with pytest.raises(ValueError, match=r"Target class id 3 is out of range, which is \[0, 3\)"):
        M.IoU(num_classes=3, target_class_ids=[0, 3])
    with pytest.raises(ValueError, match="num_classes"):
        M.MeanIoU(num_classes=0)
    with pytest.raises(ValueError, match="does not have any value yet"):
        M.MeanTensor().result()
    m = M.MeanTensor()
    m.update_state(_dev([1.0, 2.0]))
    with pytest.raises(ValueError, match="same shape"):
        m.update_state(_dev([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="normalizer"):
        M.MeanRelativeError(normalizer="one")


def test_mean_iou_by_hand_on_a_segmentation_batch():
    # (batch, height, width) maps; class 2 never occurs and is not averaged.
    y = np.array([[[0, 0], [1, 1]], [[0, 1], [1, 1]]])
    p = np.array([[[0, 1], [1, 1]], [[0, 0], [1, 0]]])
    m = M.MeanIoU(num_classes=3)
    m.update_state(_dev(y), _dev(p))
    cm = np.zeros((3, 3))
    np.add.at(cm, (y.ravel(), p.ravel()), 1)
    with np.errstate(invalid="ignore"):  # class 2: 0 / 0, left out by nanmean
        iou = np.diag(cm) / (cm.sum(0) + cm.sum(1) - np.diag(cm))
    np.testing.assert_allclose(float(m.result()), np.nanmean(iou), rtol=1e-6)
    np.testing.assert_allclose(m.total_cm.numpy(), cm)


def test_integer_mean_state_truncates_as_tf_keras():
    m = M.Mean(dtype="int32")
    m.update_state(_dev([1.7, 2.2, 3.9]), sample_weight=2.6)  # values 1, 2, 3; weight 2
    assert float(m.result()) == 2.0 and m.result().numpy().dtype == np.float64
    s = M.Sum(dtype="int64")
    s.update_state(_dev([1.7, 2.2]))
    assert s.result().numpy().dtype == np.int64 and int(s.result()) == 3
    empty = M.Mean(dtype="int32")
    assert empty.result().numpy().dtype == np.float64 and float(empty.result()) == 0.0


def test_accuracy_takes_per_element_weights_in_fit():
    x = np.arange(12, dtype="float32").reshape(6, 2)
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0], [0, 1]], "float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy", metrics=[M.BinaryAccuracy(), M.Accuracy()])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(logs) >= {"binary_accuracy", "accuracy", "loss"}
    m = M.Accuracy()
    m.update_state(_dev(y), _dev(np.round(model.predict(x, verbose=0))),
                   sample_weight=_dev(np.ones((6, 2))))
    assert 0.0 <= float(m.result()) <= 1.0


class _MedianAbsoluteError(M.experimental.PyMetric):
    def __init__(self, name="median_absolute_error", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        # Host arrays, whatever the backend (the strict one refuses NumPy
        # on its device arrays, so a device array here would fail).
        assert type(y_true) is np.ndarray and type(y_pred) is np.ndarray
        self.errors.extend(np.abs(y_true - y_pred).ravel().tolist())

    def reset_state(self):
        self.errors = []

    def result(self):
        return float(np.median(self.errors)) if self.errors else 0.0


def test_py_metric_runs_on_the_host_standalone_and_in_fit():
    m = _MedianAbsoluteError()
    m.update_state(_dev([[1.0], [2.0], [3.0]]), _dev([[1.5], [2.0], [5.0]]))
    assert m.result() == 0.5
    m.reset_state()
    assert m.result() == 0.0
    with pytest.raises(NotImplementedError, match="merge_state"):
        m.merge_state([m])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = x.sum(1, keepdims=True)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=[_MedianAbsoluteError()])
    logs = model.evaluate(x, y, batch_size=32, verbose=0, return_dict=True)
    expected = np.median(np.abs(y - model.predict(x, verbose=0)))
    np.testing.assert_allclose(logs["median_absolute_error"], expected, rtol=1e-5)
