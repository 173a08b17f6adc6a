"""Numerics: finite losses and gradients at the extremes; diverged training is reported.

* Every loss in `kerasette.losses` stays finite, and so does its gradient,
  for logits of +-1e4 and for probabilities of exactly 0 and 1, with
  `from_logits` True and False and through the softmax/sigmoid outputs of a
  model (which carry their logits).
* `TerminateOnNaN` stops at the first batch whose loss is not finite and
  says so as Keras does.
* Without it, `fit` warns (`RuntimeWarning`) once when an epoch's mean loss
  is not finite; the check reads the epoch logs, not every step.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import kerasette as keras
from step_callbacks import AtStep
from kerasette import losses as L
from kerasette import ops

BIG = 1e4


def T(x, dtype="float32"):
    return ops.convert_to_tensor(np.asarray(x), dtype=dtype)


def _value_and_gradient(loss_fn, y_true, y_pred, wrap=None):
    """The mean loss and its gradient with respect to `y_pred` (before `wrap`)."""
    source = T(y_pred)
    with keras.GradientTape() as tape:
        tape.watch(source)
        prediction = wrap(source) if wrap is not None else source
        loss = ops.mean(loss_fn(y_true, prediction))
    grad = tape.gradient(loss, source)
    return float(loss), (None if grad is None else grad.numpy())


def _assert_finite(loss_fn, y_true, y_pred, wrap=None):
    value, grad = _value_and_gradient(loss_fn, y_true, y_pred, wrap)
    assert np.isfinite(value), value
    assert grad is not None and np.isfinite(grad).all(), grad
    return value


# -- the cross-entropies ------------------------------------------------------------------
LOGITS = [[BIG, -BIG, 0.0], [-BIG, BIG, -BIG], [0.0, 0.0, 0.0]]
ONE_HOT_RIGHT = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
ONE_HOT_WRONG = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
PROBS_0_1 = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]


def _sparse(one_hot):
    return T(np.argmax(one_hot, axis=-1), dtype="int64")


CROSS_ENTROPIES = {
    "categorical": (L.categorical_crossentropy, lambda y: T(y), ops.softmax),
    "sparse": (L.sparse_categorical_crossentropy, _sparse, ops.softmax),
    "binary": (L.binary_crossentropy, lambda y: T(y), ops.sigmoid),
}


@pytest.mark.parametrize("kind", sorted(CROSS_ENTROPIES))
@pytest.mark.parametrize("labels", [ONE_HOT_RIGHT, ONE_HOT_WRONG], ids=["right", "wrong"])
def test_cross_entropies_at_the_extremes(kind, labels):
    fn, make_labels, activation = CROSS_ENTROPIES[kind]
    y = make_labels(labels)

    def with_logits(a, b):
        return fn(a, b, from_logits=True)

    # Logits of +-1e4, scored as logits.
    from_logits = _assert_finite(with_logits, y, LOGITS)
    # The same logits through softmax/sigmoid: probabilities that round to 0
    # and 1, scored from the logits they remember (the stable path).
    through = _assert_finite(fn, y, LOGITS, wrap=activation)
    assert through == pytest.approx(from_logits, rel=1e-6)
    # Probabilities of exactly 0 and 1 with no logits behind them: clipped.
    clipped = _assert_finite(fn, y, PROBS_0_1)
    assert clipped <= -np.log(1e-7) + 1e-3  # bounded by the clip, as tf.keras 2
    if labels is ONE_HOT_WRONG:
        assert from_logits > 1e3  # finite, yet still a large penalty


@pytest.mark.parametrize("cls, y", [
    (L.CategoricalCrossentropy, ONE_HOT_WRONG),
    (L.SparseCategoricalCrossentropy, [1, 0, 2]),
    (L.BinaryCrossentropy, ONE_HOT_WRONG),
])
def test_loss_classes_with_from_logits(cls, y):
    labels = T(y, dtype="int64" if cls is L.SparseCategoricalCrossentropy else "float32")
    for from_logits, y_pred in ((True, LOGITS), (False, PROBS_0_1)):
        loss = cls(from_logits=from_logits)
        _assert_finite(loss, labels, y_pred)


# -- every loss function ----------------------------------------------------------------
def _loss_functions():
    """The loss functions of `kerasette.losses`, once each (aliases dropped)."""
    seen, out = set(), []
    for name in sorted(L.__all__):
        fn = getattr(L, name)
        if (inspect.isfunction(fn) and name not in ("get", "serialize", "deserialize")
                and fn not in seen):
            seen.add(fn)
            out.append(pytest.param(fn, id=fn.__name__))
    return out


# Losses defined on non-negative predictions only (rates, probabilities): for
# them "extreme" means 0 and 1e4, as Keras (log of a negative rate is NaN there too).
NON_NEGATIVE = {"poisson", "kl_divergence"}


@pytest.mark.parametrize("fn", _loss_functions())
def test_every_loss_is_finite_at_the_extremes(fn):
    low = 0.0 if fn.__name__ in NON_NEGATIVE else -BIG
    extreme = [[BIG, low, 0.0], [low, BIG, low], [0.0, 0.0, 0.0]]
    cases = [
        (PROBS_0_1, PROBS_0_1),          # exactly right
        (ONE_HOT_WRONG, PROBS_0_1),      # exactly wrong
        (np.zeros((3, 3)), np.zeros((3, 3))),  # all zeros (norms, ratios, logs of 0)
        (ONE_HOT_WRONG, extreme),        # logit-sized predictions
        (extreme, extreme),              # logit-sized labels too
    ]
    for y_true, y_pred in cases:
        if fn is L.sparse_categorical_crossentropy:
            y_true = T([1, 0, 2], dtype="int64")  # class ids, not distributions
        else:
            y_true = T(y_true)
        _assert_finite(fn, y_true, y_pred)


# -- through a model ---------------------------------------------------------------------
@pytest.mark.parametrize("loss, activation, units", [
    ("categorical_crossentropy", "softmax", 3),
    ("sparse_categorical_crossentropy", "softmax", 3),
    ("binary_crossentropy", "sigmoid", 3),
    (L.CategoricalCrossentropy(from_logits=True), "linear", 3),
    (L.SparseCategoricalCrossentropy(from_logits=True), "linear", 3),
    (L.BinaryCrossentropy(from_logits=True), "linear", 3),
])
def test_saturated_model_outputs_train_with_finite_numbers(loss, activation, units):
    x = np.eye(3, dtype="float32")
    wrong = np.array([1, 2, 0])  # every label is where the logit is -1e4
    name = getattr(loss, "name", loss)
    y = wrong if "sparse" in name else np.eye(3, dtype="float32")[wrong]
    model = keras.Sequential([keras.layers.Dense(units, activation=activation,
                                                 input_shape=(3,))])
    model.compile(optimizer=keras.optimizers.SGD(1e-6), loss=loss)
    kernel = np.array(LOGITS, dtype="float32")  # logits of sample i: row i
    model.set_weights([kernel, np.zeros(units, "float32")])
    history = model.fit(x, y, batch_size=3, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert history.history["loss"][0] > 1e3  # saturated and wrong: large, finite
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert np.isfinite(model.evaluate(x, y, verbose=0))


# -- non-finite losses during fit ----------------------------------------------------------
ROWS, BATCH = 64, 16
STEPS = ROWS // BATCH


def _model_and_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, 4)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32")
    model = keras.Sequential([keras.layers.Dense(8, activation="relu", input_shape=(4,)),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model, x, y


class PoisonAt(AtStep):
    """Makes the first kernel NaN before (epoch, batch): the loss is NaN from there."""

    def on_train_batch_begin(self, batch, logs=None):
        if self.reached(batch):
            kernel = self.model.layers[0].kernel
            kernel.assign(np.full(kernel.shape, np.nan, dtype="float32"))


def test_terminate_on_nan_stops_at_the_first_bad_batch(capsys):
    model, x, y = _model_and_data()
    history = model.fit(x, y, batch_size=BATCH, epochs=5, verbose=0, shuffle=False,
                        callbacks=[PoisonAt(1, 2), keras.callbacks.TerminateOnNaN()])
    assert capsys.readouterr().out == "Batch 2: Invalid loss, terminating training\n"
    assert int(model.optimizer.iterations) == STEPS + 3  # stopped right after that batch
    assert len(history.history["loss"]) == 2
    assert np.isfinite(history.history["loss"][0]) and np.isnan(history.history["loss"][1])
    # No RuntimeWarning on top: TerminateOnNaN has said it (filterwarnings=error).


def test_a_diverged_epoch_warns_once_per_fit():
    model, x, y = _model_and_data()
    poison = PoisonAt(1, 2)
    seen_in_epoch = []

    class CountWarnings(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen_in_epoch.append(len(record))

    with pytest.warns(RuntimeWarning, match="Epoch 2: the training loss is nan") as record:
        history = model.fit(x, y, batch_size=BATCH, epochs=4, verbose=0,
                            callbacks=[poison, CountWarnings()])
    assert np.isnan(history.history["loss"][1:]).all()  # three bad epochs...
    assert len([w for w in record if w.category is RuntimeWarning]) == 1  # ...one warning
    assert [w.filename for w in record if w.category is RuntimeWarning] == [__file__]
    # Checked at epoch end (from the epoch's mean loss), not at the bad batch.
    assert seen_in_epoch[STEPS + 2] == 0 and seen_in_epoch[STEPS * 2] == 1

    with pytest.warns(RuntimeWarning, match="Epoch 1: the training loss is nan"):
        model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0)  # each fit says it again


def test_finite_training_does_not_warn():
    model, x, y = _model_and_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0)
