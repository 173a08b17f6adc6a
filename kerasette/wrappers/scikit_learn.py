"""scikit-learn estimators around kerasette models: tf.keras 2's
`keras.wrappers.scikit_learn`, so that `GridSearchCV`, `RandomizedSearchCV`,
`Pipeline` and `cross_val_score` can tune and score Keras models.

`build_fn` makes and compiles a fresh model; `sk_params` hold both its
arguments and those of `fit`, `predict` and `evaluate` (`epochs`,
`batch_size`, `verbose`, ...), told apart by the functions' signatures.
Every parameter can be searched over:

    >>> import numpy as np
    >>> import kerasette as keras
    >>> from kerasette.wrappers import KerasClassifier
    >>> def build(hidden=4, n_features_in_=2):
    ...     model = keras.Sequential([
    ...         keras.layers.Dense(hidden, activation="relu", input_shape=(n_features_in_,)),
    ...         keras.layers.Dense(1, activation="sigmoid")])
    ...     model.compile(optimizer="adam", loss="binary_crossentropy")
    ...     return model
    >>> clf = KerasClassifier(build, hidden=8, epochs=2, batch_size=4, random_state=0)
    >>> clf.get_params()["hidden"], clf.set_params(hidden=3).get_params()["hidden"]
    (8, 3)
    >>> x = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]])
    >>> clf.fit(x, ["no", "yes", "no", "yes"]).classes_
    array(['no', 'yes'], dtype='<U3')
    >>> clf.predict(x).shape, clf.predict_proba(x).shape
    ((4,), (4, 2))

Differences from tf.keras 2, each following scikit-learn's conventions:

- `fit` returns the estimator (scikit-learn's rule) rather than the
  `History`; the per-epoch logs are in `history_`, and `history` gives
  the same dict, so tf.keras 2's `clf.fit(x, y).history["loss"]` still
  works. The model is `model_` (also readable as `model`).
- `verbose` defaults to 0 in `fit`, `predict` and `score`: a grid search
  fits many models and would otherwise print a progress bar for each.
  Pass `verbose=1` in `sk_params` (or to `fit`) to see them.
- `KerasClassifier.score` is the accuracy of `predict` (what tf.keras 2
  read from the `"accuracy"` metric), so the model needs no
  `metrics=["accuracy"]`. `KerasRegressor.score` is the negative loss of
  `evaluate`, as in tf.keras 2 (larger is better, as scikit-learn
  expects); pass `scoring="r2"` to a search for scikit-learn's R^2.
- Class labels may be strings or integers; they are encoded with the
  sorted unique labels (`classes_`) and `predict` decodes them. Integer
  labels become one-hot rows when the model has several output units and
  a non-sparse loss (`categorical_crossentropy`, `mse`, ...).
- `random_state` (an int) seeds kerasette's generators before the model
  is built, so a fit repeats bit for bit (`backend.set_seed`: initial
  weights, shuffling and dropout masks).
- `build_fn` may declare `n_features_in_`, `n_classes_` (classifier) or
  `n_outputs_` (regressor); when `sk_params` leave them unset, `fit`
  passes the values it finds in the data.
- Fitted estimators pickle (and deep-copy) with their model whole
  (weights, optimizer state, compile settings), so one that comes back
  from another process predicts, saves and trains on as the original.

Parallel searches (`n_jobs=-1`, or `joblib.parallel_backend("dask")` on a
`dask.distributed` cluster) find the same best parameters and scores as
`n_jobs=1`:

- Seeds: with `random_state` set, every fit seeds kerasette's generators
  from it before the model is built, so a fit is a function of its
  parameters and its fold's data only, never of the process or thread
  that runs it or of the fits that ran there before. Every candidate and
  fold gets the same seed (as a script calling `set_random_seed` before
  building would): candidates of one shape start from the same initial
  weights and shuffling, so they differ by their parameters, not by luck.
  Seeded fits in threads of one process (a dask worker with several
  threads, joblib's threading backend) take turns, so that their random
  draws cannot interleave. Without `random_state` nothing is seeded and
  results vary from run to run, in parallel or not.
- Threads: in a loky or dask worker, fitting, predicting and scoring first
  limit the process's BLAS and OpenMP threads and kerasette's update
  threads to the worker's share of the cores
  (`kerasette.wrappers.workers`; `KERASETTE_WORKER_THREADS` changes it).
- Bit-identical scores also need the same BLAS thread count in every
  process: it is 1 for products too small to share (such as these search
  models); for larger models fix it everywhere with
  `KERASETTE_BLAS_THREADS=1` (float32 sums may differ in the last bits
  between counts, backend/threads.py).
"""

from __future__ import annotations

import contextlib
import inspect
import numbers
import threading
import warnings

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import DataConversionWarning
    from sklearn.metrics import accuracy_score
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import (
        check_array,
        check_consistent_length,
        check_is_fitted,
    )
except ImportError as exc:
    raise ImportError(
        "kerasette.wrappers needs scikit-learn (>= 1.1), which could not be imported. "
        "Install it with `pip install kerasette[sklearn]` (or `pip install scikit-learn`)."
    ) from exc

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # scikit-learn 1.1 to 1.5

    def _validate_data(estimator, x, **kwargs):
        return estimator._validate_data(x, **kwargs)


from kerasette import backend as _backend
from kerasette import losses as _losses
from kerasette.models import Sequential
from kerasette.wrappers.workers import limit_worker_threads

__all__ = ["BaseWrapper", "KerasClassifier", "KerasRegressor"]

_FLOAT_DTYPES = [np.float32, np.float64]
# Arguments of fit/predict/evaluate that the wrapper passes itself.
_OWN_ARGS = frozenset({"self", "x", "y", "sample_weight", "return_dict"})


def _arg_names(fn):
    """Named parameters of `fn`, and whether it also takes `**kwargs`."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature
        return (), True
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = tuple(p.name for p in params if p.kind in kinds)
    return names, any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params)


def _run_args(fn):
    return frozenset(_arg_names(fn)[0]) - _OWN_ARGS


_FIT_ARGS = _run_args(Sequential.fit)
_PREDICT_ARGS = _run_args(Sequential.predict)
_EVALUATE_ARGS = _run_args(Sequential.evaluate)
_WRAPPER_ARGS = _FIT_ARGS | _PREDICT_ARGS | _EVALUATE_ARGS | {"random_state"}
# Held by a seeded fit from seeding to the end of training: kerasette's
# generators are global to the process, so two seeded fits in two threads
# would otherwise draw from them in turns and neither would repeat.
_SEEDED_FIT = threading.RLock()


class BaseWrapper(BaseEstimator):
    """The scikit-learn estimator API over a model that `build_fn` makes.

    Use `KerasClassifier` or `KerasRegressor`; this base class holds what
    they share.

    Args:
        build_fn: a function, or an object with `__call__` (a class works
            too), that builds, compiles and returns a kerasette model. Its
            arguments need defaults, like every scikit-learn parameter.
            `None` means the subclass's own `__call__` builds the model.
        **sk_params: arguments of `build_fn` and of the model's `fit`,
            `predict` and `evaluate` (`epochs`, `batch_size`, `verbose`,
            `callbacks`, `validation_split`, ...), plus `random_state`.
            Values given to `fit`, `predict` or `score` themselves win over
            these, which win over Keras's defaults (but `verbose` is 0
            unless set).

    Raises:
        ValueError: for a name in `sk_params` that is none of those
            functions' arguments (a typo would otherwise be ignored).
    """

    def __init__(self, build_fn=None, **sk_params):
        self.build_fn = build_fn
        self._sk_params = dict(sk_params)
        self._check_params(self._sk_params, build_fn)

    @property
    def sk_params(self) -> dict:
        """The parameters other than `build_fn` (tf.keras 2's attribute)."""
        return self._sk_params

    # -- parameters ------------------------------------------------------------------
    def _build_callable(self, build_fn):
        """What builds the model, or None when there is nothing to call."""
        if build_fn is None:
            return self.__call__ if callable(self) else None
        return build_fn if callable(build_fn) else None

    def _check_params(self, params, build_fn):
        build = self._build_callable(build_fn)
        if build is None:
            return  # fit explains what is missing
        names, takes_any = _arg_names(build)
        if takes_any:
            return
        legal = _WRAPPER_ARGS | set(names)
        for name in params:
            if name not in legal:
                raise ValueError(
                    f"{name!r} is not a legal parameter of {type(self).__name__}: it is not an "
                    f"argument of the build function ({getattr(build, '__name__', build)!r}: "
                    f"{sorted(names)}) nor of fit/predict/evaluate "
                    f"({sorted(_WRAPPER_ARGS)}).")

    def check_params(self, params) -> None:
        """Checks that every name in `params` is a legal parameter.

        Raises:
            ValueError: naming the first one that is not.
        """
        self._check_params(params, self.build_fn)

    def get_params(self, deep=True) -> dict:
        """`build_fn` and the `sk_params`, by name.

        Args:
            deep: accepted for scikit-learn; the parameters hold no nested
                estimators, so it changes nothing.
        """
        return {"build_fn": self.build_fn, **self._sk_params}

    def set_params(self, **params):
        """Sets `build_fn` and/or `sk_params`; returns the estimator.

        Raises:
            ValueError: for a name that is not a legal parameter.
        """
        build_fn = params.pop("build_fn", self.build_fn)
        self._check_params(params, build_fn)
        self.build_fn = build_fn
        self._sk_params.update(params)
        return self

    def filter_sk_params(self, fn, override=None) -> dict:
        """The `sk_params` that are arguments of `fn`, updated by `override`."""
        names = set(_arg_names(fn)[0])
        res = {k: v for k, v in self._sk_params.items() if k in names}
        res.update(override or {})
        return res

    def _run_kwargs(self, fn, kwargs):
        """Arguments for the model's fit/predict/evaluate: silent unless asked."""
        return {"verbose": 0, **self.filter_sk_params(fn, kwargs)}

    # -- building and fitting --------------------------------------------------------------
    def _build_model(self, meta):
        build = self._build_callable(self.build_fn)
        if build is None:
            if self.build_fn is None:
                raise ValueError(
                    f"{type(self).__name__} has build_fn=None and no `__call__` method: pass a "
                    "function that builds and compiles a model, or subclass it and define "
                    "`__call__`.")
            raise TypeError(f"build_fn must be callable. Received: build_fn={self.build_fn!r}")
        names, takes_any = _arg_names(build)
        kwargs = {k: v for k, v in self._sk_params.items()
                  if k in names or (takes_any and k not in _WRAPPER_ARGS)}
        for name, value in meta.items():
            if name in names and name not in kwargs:
                kwargs[name] = value
        model = build(**kwargs)
        if getattr(model, "compiled_loss", None) is None:
            raise ValueError(
                "build_fn must return a compiled kerasette model (call `model.compile(...)` "
                f"before returning it). Received: {type(model).__name__}")
        return model

    def _seed(self):
        """The seed of this fit, from `random_state`, or None (unseeded)."""
        random_state = self._sk_params.get("random_state")
        if random_state is None:
            return None
        if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
            seed = int(random_state)
            if seed < 0:
                raise ValueError("random_state must be a non-negative integer, a "
                                 f"RandomState or None. Received: random_state={random_state}")
            return seed
        return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))

    @contextlib.contextmanager
    def _seeded_fit(self):
        """Around building and training: the worker's thread limits, then
        kerasette's generators seeded from `random_state`, with the seeded
        fits of other threads kept out until training ends."""
        limit_worker_threads()
        seed = self._seed()
        if seed is None:
            yield
            return
        with _SEEDED_FIT:
            _backend.set_seed(seed)
            yield

    def _check_x(self, x, reset):
        return _validate_data(self, x, reset=reset, allow_nd=True, dtype=_FLOAT_DTYPES)

    def _check_y_given(self, y):
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             "is None.")

    def _fit_model(self, model, x, y, sample_weight, kwargs):
        fit_args = self._run_kwargs(Sequential.fit, kwargs)
        if sample_weight is not None:
            fit_args["sample_weight"] = _check_sample_weight(sample_weight, len(x))
        history = model.fit(x, y, **fit_args)
        self.model_ = model
        self.history_ = {k: list(v) for k, v in history.history.items()}

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    @property
    def model(self):
        """The fitted kerasette model (tf.keras 2's name for `model_`)."""
        check_is_fitted(self)
        return self.model_

    @property
    def history(self) -> dict:
        """The last fit's per-epoch logs, as `History.history` holds them."""
        check_is_fitted(self)
        return self.history_


class KerasClassifier(ClassifierMixin, BaseWrapper):
    """A scikit-learn classifier over a kerasette model (tf.keras 2's
    `keras.wrappers.scikit_learn.KerasClassifier`).

    The model ends in one sigmoid unit (binary problems) or one unit per
    class (softmax). Labels of any kind (strings, integers) are encoded
    with the sorted unique labels in `classes_`; 2-D `y` with several
    columns is taken as one-hot rows, with `classes_ = arange(columns)`.
    Integer labels become one-hot rows for a model with several output
    units and a non-sparse loss such as `categorical_crossentropy`.

    Args:
        build_fn: builds and compiles the model; see `BaseWrapper`. It may
            declare `n_features_in_` and `n_classes_` to be told them.
        **sk_params: its arguments, those of `fit`/`predict`/`evaluate`,
            and `random_state`.

    Attributes:
        classes_: the class labels, sorted.
        n_classes_: their number.
        n_features_in_: the number of input features (columns).
        model_: the fitted model; `history_`: its per-epoch logs.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> from kerasette.wrappers import KerasClassifier
        >>> def build(n_features_in_, n_classes_):
        ...     model = keras.Sequential([
        ...         keras.layers.Dense(n_classes_, activation="softmax",
        ...                            input_shape=(n_features_in_,))])
        ...     model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        ...     return model
        >>> clf = KerasClassifier(build, epochs=1, random_state=0)
        >>> x = np.eye(3).repeat(2, axis=0)
        >>> clf.fit(x, ["a", "a", "b", "b", "c", "c"]).n_classes_
        3
        >>> np.allclose(clf.predict_proba(x).sum(axis=1), 1.0)
        True
    """

    def fit(self, x, y, sample_weight=None, **kwargs):
        """Builds a new model with `build_fn` and trains it on `(x, y)`.

        Args:
            x: array-like, `(n_samples, n_features)` (or more dimensions,
                for models that take them).
            y: class labels `(n_samples,)`, or one-hot rows
                `(n_samples, n_classes)`.
            sample_weight: optional per-sample weights of the loss.
            **kwargs: arguments of the model's `fit`, winning over
                `sk_params`.

        Returns:
            The estimator.

        Raises:
            ValueError: for continuous targets, a single class, or a model
                whose output units do not fit the number of classes.
        """
        self._check_y_given(y)
        x = self._check_x(x, reset=True)
        y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
        check_consistent_length(x, y)
        one_hot = y.ndim == 2 and y.shape[1] > 1
        if one_hot:
            self.classes_ = np.arange(y.shape[1])
            indices = None
        elif y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
            if y.ndim == 2:
                warnings.warn("A column-vector y was passed when a 1d array was expected. "
                              "Please change the shape of y to (n_samples, ), for example "
                              "using ravel().", DataConversionWarning, stacklevel=2)
                y = y.ravel()
            check_classification_targets(y)
            self.classes_, indices = np.unique(y, return_inverse=True)
        else:
            raise ValueError("y must hold class labels (n_samples,) or one-hot rows "
                             f"(n_samples, n_classes). Received: y with shape {y.shape}")
        self.n_classes_ = len(self.classes_)
        if self.n_classes_ < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes in y; "
                             f"it got only one class: {self.classes_[0]!r}.")
        self._meta = {"n_features_in_": self.n_features_in_, "n_classes_": self.n_classes_}
        with self._seeded_fit():
            model = self._build_model(self._meta)
            target = self._encode(model, x, y if one_hot else indices)
            self._fit_model(model, x, target, sample_weight, kwargs)
        return self

    def _encode(self, model, x, y):
        """Targets in the form the model's output and loss expect."""
        out = model.predict(x[:1], verbose=0)
        units = out.shape[-1]
        n = self.n_classes_
        if out.ndim != 2 or units not in ((1, n) if n == 2 else (n,)):
            raise ValueError(
                f"The model's output has shape {out.shape[1:]}, which does not fit {n} classes: "
                "a classifier's model ends in 1 sigmoid unit (2 classes) or one unit per class "
                f"({n}). Classes: {self.classes_.tolist()}")
        if y.ndim == 2:  # one-hot rows given
            return y.astype(np.float32)
        if units > 1 and not _is_sparse_loss(model):
            return np.eye(self.n_classes_, dtype=np.float32)[y]
        return y.astype(np.float32) if units == 1 else y

    def predict_proba(self, x, **kwargs):
        """Class probabilities, one column per class in `classes_`.

        A one-unit (sigmoid) model gives `[1 - p, p]`, as scikit-learn
        expects; a model trained `from_logits=True` has its outputs turned
        into probabilities here.

        Args:
            x: array-like, `(n_samples, n_features)`.
            **kwargs: arguments of the model's `predict` (`batch_size`, ...).

        Returns:
            A float32 array `(n_samples, n_classes)`.
        """
        check_is_fitted(self)
        x = self._check_x(x, reset=False)
        limit_worker_threads()
        probs = self.model_.predict(x, **self._run_kwargs(Sequential.predict, kwargs))
        if _from_logits(self.model_):
            if probs.shape[-1] == 1:
                probs = 1.0 / (1.0 + np.exp(-probs))
            else:
                e = np.exp(probs - probs.max(axis=-1, keepdims=True))
                probs = e / e.sum(axis=-1, keepdims=True)
        if probs.shape[-1] == 1:
            probs = np.hstack([1.0 - probs, probs])
        return probs.astype(np.float32, copy=False)

    def predict(self, x, **kwargs):
        """The most probable class of each sample, as a label from `classes_`.

        Args:
            x: array-like, `(n_samples, n_features)`.
            **kwargs: arguments of the model's `predict`.
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(x, **kwargs), axis=1)]

    def score(self, x, y, sample_weight=None, **kwargs) -> float:
        """The (weighted) accuracy of `predict(x)` against the labels `y`.

        Args:
            x: array-like, `(n_samples, n_features)`.
            y: labels, or one-hot rows.
            sample_weight: optional per-sample weights.
            **kwargs: arguments of the model's `predict`.
        """
        check_is_fitted(self)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] > 1:
            y = self.classes_[np.argmax(y, axis=1)]
        elif y.ndim == 2:
            y = y.ravel()
        return float(accuracy_score(y, self.predict(x, **kwargs), sample_weight=sample_weight))


class KerasRegressor(RegressorMixin, BaseWrapper):
    """A scikit-learn regressor over a kerasette model (tf.keras 2's
    `keras.wrappers.scikit_learn.KerasRegressor`).

    `score` is the negative of the model's loss (`evaluate`), as in
    tf.keras 2, not scikit-learn's R^2: the mean squared error of a model
    compiled with `loss="mse"`, negated so that larger is better. Ask a
    search for `scoring="r2"` (or any other scorer) to rank by R^2.

    Args:
        build_fn: builds and compiles the model; see `BaseWrapper`. It may
            declare `n_features_in_` and `n_outputs_` to be told them.
        **sk_params: its arguments, those of `fit`/`predict`/`evaluate`,
            and `random_state`.

    Attributes:
        n_features_in_: the number of input features.
        n_outputs_: the number of target columns (1 for 1-D `y`).
        model_: the fitted model; `history_`: its per-epoch logs.

    Example:
        >>> import numpy as np
        >>> import kerasette as keras
        >>> from kerasette.wrappers import KerasRegressor
        >>> def build(n_features_in_, n_outputs_):
        ...     model = keras.Sequential([keras.layers.Dense(n_outputs_,
        ...                                                  input_shape=(n_features_in_,))])
        ...     model.compile(optimizer="sgd", loss="mse")
        ...     return model
        >>> reg = KerasRegressor(build, epochs=2, random_state=0)
        >>> x = np.arange(8.0).reshape(4, 2)
        >>> reg.fit(x, x.sum(axis=1)).predict(x).shape
        (4,)
        >>> reg.score(x, x.sum(axis=1)) <= 0
        True
    """

    def fit(self, x, y, sample_weight=None, **kwargs):
        """Builds a new model with `build_fn` and trains it on `(x, y)`.

        Args:
            x: array-like, `(n_samples, n_features)`.
            y: targets, `(n_samples,)` or `(n_samples, n_outputs)`.
            sample_weight: optional per-sample weights of the loss.
            **kwargs: arguments of the model's `fit`, winning over
                `sk_params`.

        Returns:
            The estimator.
        """
        self._check_y_given(y)
        x = self._check_x(x, reset=True)
        y = check_array(y, ensure_2d=False, dtype=_FLOAT_DTYPES, input_name="y")
        check_consistent_length(x, y)
        if y.ndim > 2:
            raise ValueError(f"y must be (n_samples,) or (n_samples, n_outputs). Received: y "
                             f"with shape {y.shape}")
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self._meta = {"n_features_in_": self.n_features_in_, "n_outputs_": self.n_outputs_}
        with self._seeded_fit():
            model = self._build_model(self._meta)
            self._fit_model(model, x, y, sample_weight, kwargs)
        return self

    def predict(self, x, **kwargs):
        """The model's predictions: `(n_samples,)` for one output unit,
        else `(n_samples, n_outputs)`.

        Args:
            x: array-like, `(n_samples, n_features)`.
            **kwargs: arguments of the model's `predict`.
        """
        check_is_fitted(self)
        x = self._check_x(x, reset=False)
        limit_worker_threads()
        preds = self.model_.predict(x, **self._run_kwargs(Sequential.predict, kwargs))
        return preds[:, 0] if preds.ndim == 2 and preds.shape[1] == 1 else preds

    def score(self, x, y, sample_weight=None, **kwargs) -> float:
        """The negative loss of the model on `(x, y)` (larger is better).

        Args:
            x: array-like, `(n_samples, n_features)`.
            y: targets.
            sample_weight: optional per-sample weights.
            **kwargs: arguments of the model's `evaluate`.
        """
        check_is_fitted(self)
        x = self._check_x(x, reset=False)
        y = check_array(y, ensure_2d=False, dtype=_FLOAT_DTYPES, input_name="y")
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, len(x))
        limit_worker_threads()
        logs = self.model_.evaluate(x, y, sample_weight=sample_weight, return_dict=True,
                                    **self._run_kwargs(Sequential.evaluate, kwargs))
        return -float(logs["loss"])

    if hasattr(BaseEstimator, "__sklearn_tags__"):  # scikit-learn >= 1.6

        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.target_tags.multi_output = True
            tags.regressor_tags.poor_score = True  # score is -loss, not R^2
            return tags

    else:

        def _more_tags(self):
            return {"multioutput": True, "poor_score": True}


def _check_sample_weight(sample_weight, n_samples):
    """Per-sample weights as float32, one per sample (a scalar is spread)."""
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 0:
        w = np.full(n_samples, float(w))
    if w.shape != (n_samples,):
        raise ValueError(f"sample_weight must hold one weight per sample, shape ({n_samples},). "
                         f"Received: shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if not np.any(w):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return w.astype(np.float32)


def _loss_object(model):
    return getattr(getattr(model, "compiled_loss", None), "loss", None)


def _is_sparse_loss(model) -> bool:
    loss = _loss_object(model)
    if getattr(loss, "fn", None) is _losses.sparse_categorical_crossentropy:
        return True
    if isinstance(loss, _losses.SparseCategoricalCrossentropy):
        return True
    name = getattr(loss, "name", None) or getattr(model, "loss", None)
    return isinstance(name, str) and name.startswith("sparse")


def _from_logits(model) -> bool:
    loss = _loss_object(model)
    try:
        return bool(loss.get_config().get("from_logits", False))
    except (AttributeError, NotImplementedError, TypeError):
        return False
