"""kerasette.wrappers: KerasClassifier and KerasRegressor as scikit-learn
estimators (tf.keras 2's `keras.wrappers.scikit_learn`).

scikit-learn is an optional extra; without it these tests are skipped. The
slow scikit-learn estimator checks and the subprocess checks run on the
numpy backend only; the rest run on every backend.
"""

from __future__ import annotations

import importlib.util
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError
from sklearn.metrics import r2_score
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    StratifiedKFold,
    cross_val_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import kerasette as keras
from kerasette.wrappers import KerasClassifier, KerasRegressor

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
KERASETTE_PARENT = Path(keras.__file__).resolve().parent.parent


def numpy_only(backend):
    if backend.name != "numpy":
        pytest.skip("backend-independent (or slow); runs on the numpy backend")


# -- build functions -------------------------------------------------------------------------
def build_classifier(hidden=8, activation="relu", dropout=0.0, learning_rate=0.05,
                     output="auto", loss=None, from_logits=False,
                     n_features_in_=4, n_classes_=3):
    """Softmax (or one sigmoid unit for two classes); sparse labels."""
    binary = n_classes_ == 2 if output == "auto" else output == "sigmoid"
    units = 1 if binary else n_classes_
    final = None if from_logits else ("sigmoid" if binary else "softmax")
    if loss is None:
        loss = "binary_crossentropy" if binary else "sparse_categorical_crossentropy"
    if from_logits:
        loss = (keras.losses.BinaryCrossentropy(from_logits=True) if binary else
                keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model = keras.Sequential([
        keras.layers.Dense(hidden, activation=activation, input_shape=(n_features_in_,)),
        keras.layers.Dropout(dropout),
        keras.layers.Dense(units, activation=final),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss,
                  metrics=["accuracy"])
    return model


def build_regressor(hidden=16, learning_rate=0.05, n_features_in_=3, n_outputs_=1):
    model = keras.Sequential([
        keras.layers.Dense(hidden, activation="relu", input_shape=(n_features_in_,)),
        keras.layers.Dense(n_outputs_),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model


class BuildClassifier:
    """A build_fn that is an object with `__call__` (and a stable repr, so
    the estimator-check test ids stay the same from run to run)."""

    def __call__(self, hidden=16, n_features_in_=2, n_classes_=2):
        return build_classifier(hidden=hidden, n_features_in_=n_features_in_,
                                n_classes_=n_classes_)

    def __repr__(self):
        return "BuildClassifier()"


class BuildRegressor:
    def __call__(self, hidden=16, n_features_in_=1, n_outputs_=1):
        return build_regressor(hidden=hidden, n_features_in_=n_features_in_,
                               n_outputs_=n_outputs_)

    def __repr__(self):
        return "BuildRegressor()"


def iris():
    data = load_iris()
    return data.data.astype("float32"), data.target, np.asarray(data.target_names)


def scaled_iris():
    x, y, names = iris()
    return StandardScaler().fit_transform(x).astype("float32"), y, names


def linear_data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x @ np.array([1.5, -2.0, 0.5]) + 0.3 + 0.05 * rng.normal(size=n)).astype("float32")
    return x, y


# -- parameters --------------------------------------------------------------------------------
def test_get_params_and_set_params():
    clf = KerasClassifier(build_classifier, hidden=16, epochs=3, batch_size=8)
    assert clf.get_params() == {"build_fn": build_classifier, "hidden": 16, "epochs": 3,
                                "batch_size": 8}
    assert clf.get_params(deep=False) == clf.get_params()
    assert clf.set_params(hidden=4, activation="tanh") is clf
    assert clf.get_params()["hidden"] == 4 and clf.sk_params["activation"] == "tanh"
    other = BuildClassifier()
    clf.set_params(build_fn=other)
    assert clf.build_fn is other
    assert is_classifier(clf) and is_regressor(KerasRegressor(build_regressor))


def test_illegal_parameters_are_rejected():
    with pytest.raises(ValueError, match="'hiden' is not a legal parameter"):
        KerasClassifier(build_classifier, hiden=8)
    clf = KerasClassifier(build_classifier)
    with pytest.raises(ValueError, match="'epoch' is not a legal parameter"):
        clf.set_params(epoch=3)
    assert "epoch" not in clf.get_params()
    # fit/predict/evaluate arguments and random_state are legal for any build_fn
    KerasRegressor(build_regressor, epochs=2, steps=1, validation_split=0.1, random_state=1)


def test_clone_keeps_parameters_and_objects():
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=2)
    clf = KerasClassifier(BuildClassifier(), hidden=8, epochs=2, callbacks=[stop],
                          random_state=3)
    copy = clone(clf)
    assert type(copy) is KerasClassifier
    assert set(copy.get_params()) == set(clf.get_params())
    assert copy.get_params()["hidden"] == 8 and copy.get_params()["random_state"] == 3
    assert isinstance(copy.get_params()["callbacks"][0], keras.callbacks.EarlyStopping)
    assert copy.sk_params is not clf.sk_params
    copy.set_params(hidden=2)
    assert clf.get_params()["hidden"] == 8


def test_fit_returns_self_with_history_and_model():
    x, y, _ = scaled_iris()
    clf = KerasClassifier(build_classifier, epochs=2, batch_size=32, random_state=0)
    with pytest.raises(NotFittedError):
        clf.predict(x)
    assert clf.fit(x, y) is clf
    assert len(clf.history_["loss"]) == 2 and set(clf.history_) == {"loss", "accuracy"}
    assert clf.fit(x, y, epochs=3).history["loss"] == clf.history_["loss"]  # tf.keras idiom
    assert len(clf.history_["loss"]) == 3  # fit's own arguments win over sk_params
    assert clf.model is clf.model_ and clf.n_features_in_ == 4


def test_fit_is_silent_by_default(capsys):
    x, y, _ = scaled_iris()
    KerasClassifier(build_classifier, epochs=2).fit(x, y).score(x, y)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_random_state_repeats_a_fit():
    x, y, _ = scaled_iris()
    clf = KerasClassifier(build_classifier, epochs=3, dropout=0.2, random_state=7)
    first = clf.fit(x, y).predict_proba(x)
    second = clf.fit(x, y).predict_proba(x)
    np.testing.assert_array_equal(first, second)


# -- classification ---------------------------------------------------------------------------
def test_string_labels_round_trip():
    x, y, names = scaled_iris()
    labels = names[y]
    clf = KerasClassifier(build_classifier, epochs=30, batch_size=16, random_state=0)
    clf.fit(x, labels)
    np.testing.assert_array_equal(clf.classes_, ["setosa", "versicolor", "virginica"])
    assert clf.n_classes_ == 3
    predicted = clf.predict(x)
    assert predicted.shape == (150,) and set(predicted) <= set(names)
    assert clf.score(x, labels) >= 0.9
    assert clf.score(x, labels) == pytest.approx(np.mean(predicted == labels))


def test_integer_labels_that_are_not_0_to_n():
    x, y, _ = scaled_iris()
    labels = np.array([10, 20, 30])[y]
    clf = KerasClassifier(build_classifier, epochs=20, batch_size=16, random_state=0)
    clf.fit(x, labels)
    np.testing.assert_array_equal(clf.classes_, [10, 20, 30])
    assert set(clf.predict(x)) <= {10, 20, 30} and clf.score(x, labels) >= 0.9


@pytest.mark.parametrize("output,loss", [("sigmoid", "binary_crossentropy"),
                                         ("softmax", "sparse_categorical_crossentropy"),
                                         ("softmax", "categorical_crossentropy")])
def test_binary_with_one_sigmoid_or_two_softmax_units(output, loss):
    x, y, _ = scaled_iris()
    keep = y > 0  # versicolor against virginica: not linearly separable
    x, labels = x[keep], np.where(y[keep] == 1, "versicolor", "virginica")
    clf = KerasClassifier(build_classifier, output=output, loss=loss, epochs=30,
                          batch_size=16, random_state=0)
    clf.fit(x, labels)
    proba = clf.predict_proba(x)
    assert proba.shape == (100, 2) and proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(clf.predict(x), clf.classes_[proba.argmax(axis=1)])
    assert clf.score(x, labels) >= 0.85


def test_multiclass_categorical_crossentropy_gets_one_hot_rows():
    x, y, names = scaled_iris()
    clf = KerasClassifier(build_classifier, loss="categorical_crossentropy", epochs=20,
                          batch_size=16, random_state=0)
    clf.fit(x, names[y])
    assert clf.score(x, names[y]) >= 0.9
    # one-hot rows given directly: classes are the column indices
    one_hot = np.eye(3, dtype="float32")[y]
    clf.fit(x, one_hot)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert set(clf.predict(x)) <= {0, 1, 2}
    assert clf.score(x, one_hot) == pytest.approx(clf.score(x, y))


@pytest.mark.parametrize("from_logits", [False, True])
def test_predict_proba_rows_sum_to_one(from_logits):
    x, y, _ = scaled_iris()
    clf = KerasClassifier(build_classifier, from_logits=from_logits, epochs=5,
                          random_state=0).fit(x, y)
    proba = clf.predict_proba(x, batch_size=64)
    assert proba.shape == (150, 3) and np.all(proba >= 0) and np.all(proba <= 1)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)


def test_classifier_errors():
    x, y, _ = scaled_iris()
    with pytest.raises(ValueError, match="at least 2 classes"):
        KerasClassifier(build_classifier, epochs=1).fit(x, np.zeros(150))
    with pytest.raises(ValueError, match="Unknown label type"):
        KerasClassifier(build_classifier, epochs=1).fit(x, np.linspace(0, 1, 150))
    with pytest.raises(ValueError, match="does not fit 3 classes"):
        KerasClassifier(build_classifier, output="sigmoid", epochs=1).fit(x, y)
    with pytest.raises(ValueError, match="requires y to be passed"):
        KerasClassifier(build_classifier, epochs=1).fit(x, None)

    def uncompiled(n_features_in_=4):
        return keras.Sequential([keras.layers.Dense(3, input_shape=(n_features_in_,))])

    with pytest.raises(ValueError, match="compiled kerasette model"):
        KerasClassifier(uncompiled).fit(x, y)
    with pytest.raises(ValueError, match="no `__call__` method"):
        KerasClassifier(epochs=1).fit(x, y)


def test_subclass_with_call_as_build_fn():
    class IrisNet(KerasClassifier):
        def __call__(self, hidden=8, n_features_in_=4, n_classes_=3):
            return build_classifier(hidden=hidden, n_features_in_=n_features_in_,
                                    n_classes_=n_classes_)

    x, y, _ = scaled_iris()
    net = IrisNet(hidden=6, epochs=20, batch_size=16, random_state=0)
    assert net.fit(x, y).score(x, y) >= 0.9
    assert clone(net).get_params() == {"build_fn": None, "hidden": 6, "epochs": 20,
                                       "batch_size": 16, "random_state": 0}
    with pytest.raises(ValueError, match="not a legal parameter"):
        IrisNet(units=3)


def test_fitted_estimator_pickles():
    x, y, names = scaled_iris()
    clf = KerasClassifier(build_classifier, epochs=3, random_state=0).fit(x, names[y])
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(x), clf.predict_proba(x))
    np.testing.assert_array_equal(copy.classes_, clf.classes_)
    assert copy.history_ == clf.history_ and copy.model_ is not clf.model_


# -- scikit-learn tools ----------------------------------------------------------------------------
def test_grid_search_over_a_pipeline_on_iris():
    x, y, _ = iris()
    pipe = Pipeline([("scale", StandardScaler()),
                     ("net", KerasClassifier(build_classifier, epochs=30, batch_size=16,
                                             random_state=0))])
    grid = {"net__hidden": [8], "net__activation": ["relu", "tanh"]}
    search = GridSearchCV(pipe, grid, cv=StratifiedKFold(3, shuffle=True, random_state=0))
    search.fit(x, y)
    assert search.best_score_ >= 0.93
    assert set(search.best_params_) == {"net__hidden", "net__activation"}
    assert search.best_estimator_.named_steps["net"].get_params()["hidden"] == 8
    assert search.score(x, y) >= 0.93


def test_randomized_search_over_fit_and_build_parameters():
    x, y, _ = scaled_iris()
    search = RandomizedSearchCV(
        KerasClassifier(build_classifier, random_state=0),
        {"epochs": [10, 20], "batch_size": [16, 32], "learning_rate": [0.03, 0.05]},
        n_iter=2, cv=2, random_state=0)
    search.fit(x, y)
    assert len(search.cv_results_["params"]) == 2 and search.best_score_ > 0.6


def test_cross_val_score_classifier():
    x, y, _ = iris()
    pipe = Pipeline([("scale", StandardScaler()),
                     ("net", KerasClassifier(build_classifier, epochs=20, batch_size=16,
                                             random_state=0))])
    scores = cross_val_score(pipe, x, y, cv=StratifiedKFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,) and scores.mean() >= 0.9


def test_cross_val_score_regressor_is_negative_loss():
    x, y = linear_data()
    reg = KerasRegressor(build_regressor, epochs=30, batch_size=16, random_state=0)
    scores = cross_val_score(reg, x, y, cv=KFold(3, shuffle=True, random_state=0))
    assert scores.shape == (3,) and np.all(scores <= 0) and scores.mean() > -0.1
    r2 = cross_val_score(reg, x, y, cv=KFold(3, shuffle=True, random_state=0), scoring="r2")
    assert r2.mean() > 0.95


# -- regression ---------------------------------------------------------------------------------
def test_regressor_on_a_synthetic_problem():
    x, y = linear_data()
    reg = KerasRegressor(build_regressor, epochs=40, batch_size=16, random_state=0)
    reg.fit(x, y)
    assert reg.n_outputs_ == 1 and reg.n_features_in_ == 3
    pred = reg.predict(x)
    assert pred.shape == (120,) and pred.dtype == np.float32
    assert r2_score(y, pred) > 0.98
    mse = reg.model_.evaluate(x, y, verbose=0)
    assert reg.score(x, y) == pytest.approx(-mse)


def test_regressor_with_two_outputs():
    x, y = linear_data()
    targets = np.stack([y, -y], axis=1)
    reg = KerasRegressor(build_regressor, epochs=20, batch_size=16, random_state=0)
    reg.fit(x, targets)
    assert reg.n_outputs_ == 2 and reg.predict(x).shape == (120, 2)
    assert r2_score(targets, reg.predict(x)) > 0.9


def test_regressor_checks_feature_count():
    x, y = linear_data()
    reg = KerasRegressor(build_regressor, epochs=1).fit(x, y)
    with pytest.raises(ValueError, match="X has 2 features"):
        reg.predict(x[:, :2])


# -- scikit-learn's own estimator checks ----------------------------------------------------------
# Checks that a neural network trained by mini-batch gradient descent cannot
# pass, with the reason; they are marked xfail(strict=True), so one that
# starts passing is noticed.
EXPECTED_FAILED_CHECKS = {
    "check_sample_weight_equivalence_on_dense_data": (
        "A weight of 2 is not the same as a repeated sample for mini-batch SGD: batches, "
        "shuffles and optimizer steps all change with the number of rows."),
    # scikit-learn < 1.6 (its successor is the check above)
    "check_sample_weights_invariance(kind=zeros)": (
        "Zero-weighted rows still take places in the mini-batches and count in the "
        "batch-mean loss (as in Keras), so they are not the same as removed rows."),
    "check_regressor_multioutput": (
        "Predictions are float32, kerasette's dtype (as in tf.keras); the check wants float64."),
}


def _check_name(check):
    name = getattr(check, "func", check).__name__
    kind = getattr(check, "keywords", {}).get("kind")
    return f"{name}(kind={kind})" if kind else name


def _estimator_checks(estimators):
    """`parametrize_with_checks`, with its checks in a list (older
    scikit-learn hands pytest a generator, which pytest 9 deprecates)."""
    mark = parametrize_with_checks(estimators)
    argnames, argvalues = mark.args[:2]
    return pytest.mark.parametrize(argnames, list(argvalues), *mark.args[2:], **mark.kwargs)


@_estimator_checks([
    KerasClassifier(BuildClassifier(), epochs=10, random_state=0),
    KerasRegressor(BuildRegressor(), epochs=10, random_state=0),
])
def test_scikit_learn_estimator_checks(estimator, check, backend, request):
    numpy_only(backend)
    name = _check_name(check)
    if name in EXPECTED_FAILED_CHECKS:
        request.applymarker(pytest.mark.xfail(reason=EXPECTED_FAILED_CHECKS[name], strict=True))
    check(estimator)


# -- packaging -------------------------------------------------------------------------------------
def _python(code):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(KERASETTE_PARENT),
                                                     env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120, check=False)


def test_import_kerasette_does_not_import_sklearn(backend):
    numpy_only(backend)
    proc = _python("import sys, kerasette\n"
                   "print(sorted(m for m in sys.modules\n"
                   "             if m.split('.')[0] == 'sklearn' or m == 'kerasette.wrappers'))")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_missing_sklearn_gives_a_clear_import_error(backend):
    numpy_only(backend)
    proc = _python("import sys\n"
                   "sys.modules['sklearn'] = None  # as if not installed\n"
                   "try:\n"
                   "    from kerasette.wrappers import KerasClassifier\n"
                   "except ImportError as e:\n"
                   "    print(e)\n")
    assert proc.returncode == 0, proc.stderr
    assert "pip install kerasette[sklearn]" in proc.stdout


def test_tf_keras_import_path():
    from kerasette.wrappers.scikit_learn import KerasClassifier as Classifier

    assert Classifier is KerasClassifier


# -- the example -----------------------------------------------------------------------------------
def test_iris_grid_search_example_runs(backend, capsys):
    numpy_only(backend)
    datasets = getattr(keras, "datasets", None)
    if datasets is None or not hasattr(datasets, "iris"):
        pytest.skip("kerasette.datasets.iris is not available yet")
    spec = importlib.util.spec_from_file_location("example_iris_grid_search",
                                                  EXAMPLES / "iris_grid_search.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    score = module.main(["--units", "8", "--activations", "tanh", "--dropouts", "0.0",
                         "--epochs", "30"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == f"best_score={score:.4f}" and score >= 0.93
