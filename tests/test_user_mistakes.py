"""Common mistakes, made as a new user would: each gets one clear error.

Every row of `MISTAKES` is one mistake. Its test checks the exception type
(Keras's where Keras has one), that the message holds the key words (the
argument, what was expected, what was received), and, where a model was
involved, that the failed call changed no weight and took no optimizer
step: the check came before any work.

The rows also feed the "What is validated" table of docs/reliability.md:
`python tests/test_user_mistakes.py` prints each mistake with its message.
"""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import kerasette as keras
from kerasette.training import validation

L = keras.layers
FEATURES, CLASSES, N = 8, 3, 40


def _frozen(array):
    """Read-only, so a check that wrote into the user's data would fail."""
    array.flags.writeable = False
    return array


_rng = np.random.default_rng(0)
X = _frozen(_rng.normal(size=(N, FEATURES)).astype("float32"))
Y = _frozen(np.arange(N) % CLASSES)                      # 0, 1, 2, 0, ...
Y_ONE_HOT = _frozen(np.eye(CLASSES, dtype="float32")[Y])
X_WIDE = _frozen(_rng.normal(size=(N, FEATURES + 1)).astype("float32"))
X_NAN = _frozen(np.where(np.arange(N)[:, None] == 7, np.nan, X).astype("float32"))
Y_INF = _frozen(np.where(np.arange(N) == 3, np.inf, 1.0).astype("float32"))
IMAGES = _frozen(_rng.random(size=(N, 4, 4)).astype("float32"))
# float64 data holding a number float32 cannot: the cast each batch makes
# turned it into infinity, and training every weight into NaN.
X_HUGE = _frozen(np.where((np.arange(N)[:, None] == 5) & (np.arange(FEATURES) == 2), 1e300,
                          X.astype("float64")))
Y_HUGE = _frozen(np.where(np.arange(N) == 4, 1e39, np.ones(N)))


def classifier(units=CLASSES, activation="softmax", loss="sparse_categorical_crossentropy",
               compile=True):
    """8 features -> 6 relu -> `units`, compiled with Adam unless told not to."""
    model = keras.Sequential([L.Dense(6, activation="relu", input_shape=(FEATURES,)),
                              L.Dense(units, activation=activation)])
    if compile:
        model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])
    return model


def regressor():
    return classifier(units=1, activation=None, loss="mse")


def flat_16():
    """A model for 16 features, fed 4x4 images by mistake."""
    model = keras.Sequential([L.Dense(3, activation="softmax", input_shape=(16,))])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def conv():
    model = keras.Sequential([L.Conv2D(2, 3, input_shape=(4, 4, 1)), L.Flatten(),
                              L.Dense(CLASSES, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model


def fit(model, x=X, y=Y, **kwargs):
    return model.fit(x, y, verbose=0, **kwargs)


# (id, model builder or None, the mistake, exception type, words the message must hold)
MISTAKES = [
    # -- x does not fit the model -------------------------------------------------------------
    ("fit_x_one_column_too_many", classifier, lambda m: fit(m, X_WIDE),
     ValueError, ["`x`", "expected shape (None, 8)", "received (40, 9)", "label or ID column"]),
    ("fit_images_not_flattened", flat_16, lambda m: fit(m, IMAGES),
     ValueError, ["`x`", "expected shape (None, 16)", "received (40, 4, 4)", "Flatten"]),
    ("fit_images_without_channel_axis", conv, lambda m: fit(m, IMAGES),
     ValueError, ["`x`", "expected shape (None, 4, 4, 1)", "received (40, 4, 4)", "[..., None]"]),
    ("predict_wrong_width", classifier, lambda m: m.predict(X_WIDE[:5], verbose=0),
     ValueError, ["`x`", "expected shape (None, 8)", "received (5, 9)"]),
    ("evaluate_wrong_width", classifier, lambda m: m.evaluate(X_WIDE, Y, verbose=0),
     ValueError, ["`x`", "expected shape (None, 8)", "received (40, 9)"]),
    ("call_model_wrong_width", classifier, lambda m: m(X_WIDE[:5]),
     ValueError, ["expected shape=(None, 8)", "found shape=(5, 9)"]),
    ("train_on_batch_wrong_width", classifier, lambda m: m.train_on_batch(X_WIDE, Y),
     ValueError, ["`x`", "expected shape (None, 8)", "received (40, 9)"]),
    ("predict_one_sample_without_batch_axis", classifier, lambda m: m.predict(X[0], verbose=0),
     ValueError, ["`x`", "expected shape (None, 8)", "received (8,)", "np.expand_dims"]),
    ("validation_data_wrong_width", classifier,
     lambda m: fit(m, validation_data=(X_WIDE, Y)),
     ValueError, ["`validation_data[0]`", "expected shape (None, 8)", "received (40, 9)"]),
    # -- x is not an array of numbers -----------------------------------------------------------
    ("x_strings", classifier, lambda m: fit(m, np.full((N, FEATURES), "a")),
     TypeError, ["`x`", "must hold numbers", "<U1"]),
    ("x_mixed_types_object_array", classifier, lambda m: fit(m, X.astype(object)),
     TypeError, ["`x`", "must hold numbers", "dtype object", "np.asarray(x, dtype='float32')"]),
    ("x_ragged_list_of_rows", classifier,
     lambda m: fit(m, [[0.0] * FEATURES, [0.0] * (FEATURES - 1)], [0, 1]),
     ValueError, ["`x`", "row 0 has 8 values", "row 1 has 7 values"]),
    ("x_empty", classifier, lambda m: fit(m, X[:0], Y[:0]),
     ValueError, ["`x`", "empty", "x.shape=(0, 8)"]),
    ("x_dict", classifier, lambda m: fit(m, {"features": X}),
     TypeError, ["`x`", "NumPy array", "Received: dict"]),
    ("x_with_nan", classifier, lambda m: fit(m, X_NAN),
     ValueError, ["`x`", "NaN", "sample 7", "finite"]),
    ("x_missing", classifier, lambda m: m.fit(y=Y, verbose=0),
     ValueError, ["`x`", "missing"]),
    # -- y does not fit x or the loss ----------------------------------------------------------
    ("y_shorter_than_x", classifier, lambda m: fit(m, X, Y[:30]),
     ValueError, ["cardinality", "x has 40 samples", "y has 30"]),
    ("sample_weight_wrong_length", classifier, lambda m: fit(m, sample_weight=np.ones(5)),
     ValueError, ["cardinality", "x has 40 samples", "sample_weight has 5"]),
    ("y_missing", classifier, lambda m: fit(m, X, None),
     ValueError, ["`y`", "missing", "fit(x, y)"]),
    ("evaluate_without_y", classifier, lambda m: m.evaluate(X, verbose=0),
     ValueError, ["`y`", "missing", "evaluate(x, y)"]),
    ("y_list_of_strings", classifier, lambda m: fit(m, X, ["cat", "dog"] * (N // 2)),
     TypeError, ["`y`", "must hold numbers", "'cat'", "np.unique"]),
    ("y_with_infinity", regressor, lambda m: fit(m, X, Y_INF),
     ValueError, ["`y`", "infinity", "sample 3"]),
    ("sparse_loss_one_hot_labels", classifier, lambda m: fit(m, X, Y_ONE_HOT),
     ValueError, ["`y`", "(40, 3)", "one-hot", "loss='categorical_crossentropy'"]),
    ("categorical_loss_integer_labels", lambda: classifier(loss="categorical_crossentropy"),
     lambda m: fit(m, X, Y),
     ValueError, ["`y`", "(40,)", "one-hot labels of shape (None, 3)",
                  "sparse_categorical_crossentropy", "to_categorical"]),
    ("one_hot_labels_wrong_width", lambda: classifier(loss="categorical_crossentropy"),
     lambda m: fit(m, X, np.eye(5, dtype="float32")[np.arange(N) % 5]),
     ValueError, ["`y`", "expected shape (None, 3)", "received (40, 5)", "Dense(5)"]),
    ("label_equal_to_units", classifier, lambda m: fit(m, X, Y + 1),
     ValueError, ["`y`", "class index 3", "3 units", "from 0 to 2", "1-based"]),
    ("label_too_large", classifier, lambda m: fit(m, X, np.where(Y == 2, 7, Y)),
     ValueError, ["`y`", "class index 7", "sample 2", "from 0 to 2", "Dense(8)"]),
    ("label_negative", classifier, lambda m: fit(m, X, Y - 1),
     ValueError, ["`y`", "class index -1", "from 0 to 2", "ignore_class"]),
    ("label_not_integer", classifier, lambda m: fit(m, X, Y + 0.5),
     ValueError, ["`y`", "integer class indices", "0.5"]),
    ("two_classes_one_unit_sparse_loss", lambda: classifier(units=1, activation="sigmoid"),
     lambda m: fit(m, X, Y % 2),
     ValueError, ["`y`", "class index 1", "1 unit", "binary_crossentropy"]),
    ("binary_loss_labels_beyond_one",
     lambda: classifier(units=1, activation="sigmoid", loss="binary_crossentropy"),
     lambda m: fit(m, X, Y),
     ValueError, ["`y`", "binary_crossentropy", "between 0 and 1", "from 0 to 2",
                  "Dense(3, activation='softmax')"]),
    ("regression_targets_wrong_width", regressor, lambda m: fit(m, X, np.ones((N, 3))),
     ValueError, ["`y`", "mean_squared_error", "expected shape (None, 1)", "received (40, 3)"]),
    ("validation_data_one_tuple", classifier, lambda m: fit(m, validation_data=(X,)),
     ValueError, ["`validation_data`", "(x_val, y_val)", "tuple of length 1"]),
    ("validation_data_bare_array", classifier, lambda m: fit(m, validation_data=X),
     ValueError, ["`validation_data`", "(x_val, y_val)", "Received: ndarray"]),
    ("validation_data_lengths_differ", classifier,
     lambda m: fit(m, validation_data=(X, Y[:20])),
     ValueError, ["cardinality", "validation_data[0] has 40", "validation_data[1] has 20"]),
    # -- fit's other arguments ------------------------------------------------------------------
    ("batch_size_zero", classifier, lambda m: fit(m, batch_size=0),
     ValueError, ["`batch_size`", "positive integer", "batch_size=0"]),
    ("epochs_fraction", classifier, lambda m: fit(m, epochs=0.5),
     ValueError, ["`epochs`", "non-negative integer", "epochs=0.5"]),
    ("validation_split_percent", classifier, lambda m: fit(m, validation_split=20),
     ValueError, ["`validation_split`", "[0, 1)", "validation_split=20", "pass 0.2"]),
    ("validation_freq_zero", classifier, lambda m: fit(m, validation_split=0.2,
                                                       validation_freq=0),
     ValueError, ["`validation_freq`", "positive integer", "validation_freq=0"]),
    ("steps_per_epoch_zero", classifier, lambda m: fit(m, steps_per_epoch=0),
     ValueError, ["`steps_per_epoch`", "positive integer", "steps_per_epoch=0"]),
    ("class_weight_key_not_a_class", classifier, lambda m: fit(m, class_weight={0: 1, 5: 2}),
     ValueError, ["`class_weight`", "key 5", "3 units", "from 0 to 2"]),
    ("class_weight_as_list", classifier, lambda m: fit(m, class_weight=[1.0, 2.0, 1.0]),
     ValueError, ["`class_weight`", "dict {class index: weight}", "[1.0, 2.0, 1.0]"]),
    ("class_weight_names_as_keys", classifier, lambda m: fit(m, class_weight={"cat": 2.0}),
     ValueError, ["`class_weight`", "integer class indices", "'cat'"]),
    ("callback_class_not_instance", classifier,
     lambda m: fit(m, callbacks=[keras.callbacks.EarlyStopping]),
     TypeError, ["`callbacks`", "class EarlyStopping", "EarlyStopping(...)"]),
    ("fit_keyword_typo", classifier, lambda m: fit(m, epoch=3),
     TypeError, ["'epoch'", "Did you mean `epochs`?"]),
    ("predict_batch_size_negative", classifier, lambda m: m.predict(X, batch_size=-1),
     ValueError, ["`batch_size`", "positive integer", "batch_size=-1"]),
    # -- compile --------------------------------------------------------------------------------
    ("fit_before_compile", lambda: classifier(compile=False), lambda m: fit(m),
     RuntimeError, ["compile your model", "model.compile(optimizer, loss)"]),
    ("evaluate_before_compile", lambda: classifier(compile=False),
     lambda m: m.evaluate(X, Y, verbose=0),
     RuntimeError, ["compile your model"]),
    ("compile_keyword_typo", lambda: classifier(compile=False),
     lambda m: m.compile(optimiser="adam", loss="mse"),
     TypeError, ["compile()", "'optimiser'", "Did you mean `optimizer`?"]),
    ("compile_without_loss", lambda: classifier(compile=False),
     lambda m: m.compile(optimizer="adam"),
     ValueError, ["`loss`", "missing", "loss='mse'"]),
    ("optimizer_class_not_instance", lambda: classifier(compile=False),
     lambda m: m.compile(optimizer=keras.optimizers.Adam, loss="mse"),
     ValueError, ["`optimizer`", "class Adam", "keras.optimizers.Adam()"]),
    ("metric_class_not_instance", lambda: classifier(compile=False),
     lambda m: m.compile(optimizer="adam", loss="mse", metrics=[keras.metrics.AUC]),
     ValueError, ["`metrics`", "class AUC", "keras.metrics.AUC()"]),
    ("unknown_optimizer", lambda: classifier(compile=False),
     lambda m: m.compile(optimizer="adamm", loss="mse"),
     ValueError, ["Unknown optimizer", "'adamm'", "Did you mean 'adam'?", "rmsprop, sgd"]),
    ("unknown_loss", lambda: classifier(compile=False),
     lambda m: m.compile(optimizer="adam", loss="sparse_categorial_crossentropy"),
     ValueError, ["Unknown loss", "'sparse_categorial_crossentropy'",
                  "Did you mean 'sparse_categorical_crossentropy'?"]),
    ("unknown_metric_caught_in_compile", lambda: classifier(compile=False),
     lambda m: m.compile(optimizer="adam", loss="mse", metrics=["acuracy"]),
     ValueError, ["Unknown metric", "'acuracy'", "Did you mean 'accuracy'?"]),
    # -- layers ---------------------------------------------------------------------------------
    ("unknown_activation", None, lambda m: L.Dense(3, activation="rleu"),
     ValueError, ["Unknown activation", "'rleu'", "Did you mean 'relu'?", "sigmoid"]),
    ("unknown_initializer", None, lambda m: L.Dense(3, kernel_initializer="glorot_unifrom"),
     ValueError, ["Unknown initializer", "'glorot_unifrom'", "Did you mean 'glorot_uniform'?"]),
    ("unknown_regularizer", None, lambda m: L.Dense(3, kernel_regularizer="l3"),
     ValueError, ["Unknown regularizer", "'l3'", "Did you mean", "L1, L1L2, L2"]),
    ("dense_zero_units", None, lambda m: L.Dense(0),
     ValueError, ["Dense", "`units`", "positive integer", "units=0"]),
    ("dense_negative_units", None, lambda m: L.Dense(units=-3),
     ValueError, ["Dense", "`units`", "positive integer", "units=-3"]),
    ("dense_fractional_units", None, lambda m: L.Dense(units=2.5),
     ValueError, ["Dense", "`units`", "positive integer", "units=2.5"]),
    ("dense_units_as_string", None, lambda m: L.Dense("10"),
     ValueError, ["Dense", "`units`", "units='10'", "pass the number 10"]),
    ("dropout_rate_above_one", None, lambda m: L.Dropout(rate=1.5),
     ValueError, ["Dropout", "`rate`", "[0, 1)", "rate=1.5"]),
    ("batchnorm_momentum_above_one", None, lambda m: L.BatchNormalization(momentum=2),
     ValueError, ["BatchNormalization", "`momentum`", "[0, 1]", "momentum=2"]),
    ("batchnorm_negative_epsilon", None, lambda m: L.BatchNormalization(epsilon=-1),
     ValueError, ["BatchNormalization", "`epsilon`", "positive", "epsilon=-1"]),
    ("input_shape_zero", None, lambda m: L.Dense(3, input_shape=(0,)),
     ValueError, ["`input_shape`", "positive sizes", "input_shape=(0,)"]),
    ("input_shape_as_string", None, lambda m: L.Dense(3, input_shape="784"),
     ValueError, ["`input_shape`", "tuple of integers", "input_shape='784'"]),
    ("keras_input_negative_shape", None, lambda m: keras.Input(shape=(-5,)),
     ValueError, ["`shape`", "positive sizes", "shape=(-5,)"]),
    ("reshape_zero_size", None, lambda m: L.Reshape((0, 3)),
     ValueError, ["Reshape", "`target_shape`", "target_shape=(0, 3)"]),
    ("conv_zero_filters", None, lambda m: L.Conv2D(0, 3),
     ValueError, ["Conv2D", "`filters`", "positive integer", "filters=0"]),
    ("conv_zero_kernel", None, lambda m: L.Conv2D(4, kernel_size=0),
     ValueError, ["Conv2D", "`kernel_size`", "positive", "kernel_size=(0, 0)"]),
    # -- models, weights, files ------------------------------------------------------------
    ("summary_before_build", lambda: keras.Sequential([L.Dense(3)]), lambda m: m.summary(),
     ValueError, ["not yet been built", "input_shape"]),
    ("set_weights_wrong_count", classifier, lambda m: m.set_weights([np.zeros((FEATURES, 6))]),
     ValueError, ["Layer '", "expects 4 weight arrays", "received 1"]),
    ("set_weights_wrong_shape", classifier,
     lambda m: m.layers[0].set_weights([np.zeros((FEATURES, 5)), np.zeros(6)]),
     ValueError, ["Layer '", "has shape (8, 6)", "array of shape (8, 5)"]),
    ("to_categorical_too_few_classes", None,
     lambda m: keras.utils.to_categorical([0, 5, 9], num_classes=5),
     ValueError, ["num_classes", "label 5"]),
    ("load_model_missing_file", None,
     lambda m: keras.models.load_model("no_such_dir/missing_model.h5"),
     keras.saving.ModelFileError, ["missing_model.h5", "no such file"]),
    # -- inputs that silently turned every weight into NaN, or confused messages -------------
    ("fit_x_beyond_float32", classifier, lambda m: fit(m, X_HUGE),
     ValueError, ["`x`", "1e+300", "sample 5", "x[5, 2]", "float32, the model's dtype",
                  "infinity"]),
    ("predict_x_beyond_float32", classifier, lambda m: m.predict(X_HUGE, verbose=0),
     ValueError, ["`x`", "1e+300", "x[5, 2]", "float32, the model's dtype"]),
    ("y_beyond_float32", regressor, lambda m: fit(m, X, Y_HUGE),
     ValueError, ["`y`", "1e+39", "sample 4", "float32"]),
    ("class_weight_nan", classifier,
     lambda m: fit(m, class_weight={0: float("nan"), 1: 1.0, 2: 1.0}),
     ValueError, ["`class_weight`", "finite, non-negative", "nan for class 0"]),
    ("class_weight_infinite", classifier,
     lambda m: fit(m, class_weight={0: 1.0, 1: float("inf")}),
     ValueError, ["`class_weight`", "finite, non-negative", "inf for class 1"]),
    ("class_weight_negative", classifier, lambda m: fit(m, class_weight={0: 1.0, 2: -2.0}),
     ValueError, ["`class_weight`", "finite, non-negative", "-2.0 for class 2"]),
    ("sample_weight_negative", classifier,
     lambda m: fit(m, sample_weight=np.where(np.arange(N) == 3, -1.0, 1.0)),
     ValueError, ["`sample_weight`", "-1.0", "sample 3", "non-negative"]),
    ("reshape_impossible_target", None,
     lambda m: keras.Sequential([L.Reshape((3, 3), input_shape=(8,))]),
     ValueError, ["Reshape 'reshape", "input of shape (None, 8)", "8 values per sample",
                  "to (3, 3) (9 values)"]),
    ("reshape_minus_one_does_not_divide", None,
     lambda m: keras.Sequential([L.Reshape((3, -1), input_shape=(8,))]),
     ValueError, ["Reshape 'reshape", "(None, 8)", "to (3, -1) (a multiple of 3 values)"]),
    ("x_set", classifier, lambda m: fit(m, {1, 2, 3}),
     TypeError, ["`x`", "Received: set", "no order", "a list or an array"]),
    ("x_file_name", classifier, lambda m: fit(m, "train.csv"),
     TypeError, ["`x`", "Received: str", "'train.csv'", "into an array"]),
    ("x_tuple_of_arrays", classifier, lambda m: fit(m, (X, X)),
     ValueError, ["`x`", "tuple of 2 arrays", "(40, 8)", "one input array",
                  "functional API", "np.concatenate(x, axis=-1)"]),
    ("predict_list_of_arrays", classifier, lambda m: m.predict([X, X], verbose=0),
     ValueError, ["`x`", "list of 2 arrays", "one input array", "functional API"]),
    ("y_tuple_of_arrays", classifier, lambda m: fit(m, X, (Y, Y)),
     ValueError, ["`y`", "tuple of 2 arrays", "one output", "functional API"]),
    ("loss_weights_string", classifier,
     lambda m: m.compile(optimizer="adam", loss="mse", loss_weights="a"),
     ValueError, ["`loss_weights`", "a number", "loss_weights='a'"]),
    ("loss_weights_nan", classifier,
     lambda m: m.compile(optimizer="adam", loss="mse", loss_weights=[float("nan")]),
     ValueError, ["`loss_weights`", "finite, non-negative", "loss_weights=[nan]"]),
    ("set_weights_strings", classifier,
     lambda m: m.set_weights([np.zeros((8, 6)), np.zeros(6), np.full((6, 3), "a"),
                              np.zeros(3)]),
     ValueError, ["Layer '", "weight 'dense", "takes numbers (float32)", "dtype <U1", "'a'"]),
]


def _optimizer_steps(model):
    optimizer = getattr(model, "optimizer", None)
    iterations = getattr(optimizer, "iterations", None)
    return None if iterations is None else int(iterations.numpy())


@pytest.mark.parametrize("case", MISTAKES, ids=[case[0] for case in MISTAKES])
def test_each_mistake_gets_one_clear_error(case):
    _, make, mistake, error, words = case
    model = make() if make else None
    weights = model.get_weights() if model is not None and model.built else []
    steps = _optimizer_steps(model)
    with pytest.raises(error) as info:
        mistake(model)
    message = str(info.value)
    missing = [word for word in words if word not in message]
    assert not missing, f"{missing} not in: {message}"
    assert "could not be broadcast" not in message
    if model is not None:
        after = model.get_weights() if model.built else []
        assert len(after) == len(weights)
        for before, now in zip(weights, after):
            np.testing.assert_array_equal(before, now)
        assert _optimizer_steps(model) == steps


def test_there_are_at_least_35_distinct_mistakes():
    ids = [case[0] for case in MISTAKES]
    assert len(set(ids)) == len(ids) >= 35


def test_no_callback_runs_before_the_checks():
    seen = []
    spy = keras.callbacks.LambdaCallback(on_train_begin=lambda logs: seen.append("begin"))
    with pytest.raises(ValueError, match="class index"):
        fit(classifier(), X, Y + 1, callbacks=[spy])
    assert seen == []


# -- what is accepted (tf.keras 2 accepts it, or a documented decision) --------------------------
def test_a_vector_of_numbers_is_one_feature_per_sample():
    # The course's "hello world": tf.keras 2 turns 1-D x into (n, 1).
    xs = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0])
    ys = 2 * xs - 1
    model = keras.Sequential([L.Dense(units=1, input_shape=[1])])
    model.compile(optimizer="sgd", loss="mean_squared_error")
    model.fit(xs, ys, epochs=5, verbose=0)
    assert model.predict([10.0], verbose=0).shape == (1, 1)
    assert np.isfinite(model.evaluate(xs, ys, verbose=0))


def test_keras_2_spellings_are_accepted():
    model = classifier(compile=False)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics="accuracy")
    history = fit(model, callbacks=keras.callbacks.EarlyStopping(monitor="loss"),
                  workers=2, use_multiprocessing=False, max_queue_size=4)
    assert "accuracy" in history.history
    assert keras.Sequential([L.Dense(2, input_shape=4)]).count_params() == 10
    assert isinstance(L.Dense(2, kernel_regularizer=keras.regularizers.L2).kernel_regularizer,
                      keras.regularizers.L2)


def test_nan_in_predict_inputs_gives_nan_outputs():
    out = classifier().predict(X_NAN, verbose=0)
    assert np.isnan(out[7]).all() and np.isfinite(np.delete(out, 7, axis=0)).all()


def test_array_likes_such_as_dataframes_are_arrays():
    class Frame:  # what fit needs of a pandas DataFrame: __array__, shape, columns by key
        shape = X.shape

        def __array__(self, dtype=None, copy=None):
            return np.asarray(X, dtype=dtype)

        def __len__(self):
            return len(X)

        def __getitem__(self, column):
            raise KeyError(column)

    model = classifier()
    fit(model, Frame(), Y)
    assert model.predict(Frame(), verbose=0).shape == (N, CLASSES)


def test_sparse_labels_may_skip_the_ignored_class():
    model = classifier(compile=False)
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(ignore_class=-1))
    fit(model, X, np.where(np.arange(N) % 5 == 0, -1, Y))


def test_the_nan_scan_makes_no_full_size_temporary():
    x = np.ones((4096, 1024), dtype="float32")      # 16 MiB
    x[4000, 3] = np.nan
    tracemalloc.start()
    try:
        row = validation.first_nonfinite_row(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert row == 4000
    assert peak < 2 * 1024 * 1024, peak
    assert validation.first_nonfinite_row(np.zeros((4, 3), dtype="uint8")) is None


# -- inputs that silently wrecked the weights ----------------------------------------------------
def _refused(model, call, error=ValueError):
    """The message of the `error` `call` raises; checks no weight or step changed."""
    weights = model.get_weights() if model.built else []
    steps = _optimizer_steps(model)
    with pytest.raises(error) as info:
        call()
    for before, now in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, now)
    assert _optimizer_steps(model) == steps
    return str(info.value)


@pytest.mark.parametrize("method", ["fit", "evaluate", "predict", "train_on_batch",
                                    "test_on_batch", "predict_on_batch", "validation_data"])
def test_values_beyond_float32_are_refused_by_every_method(method):
    model = classifier()
    call = {
        "fit": lambda: fit(model, X_HUGE),
        "evaluate": lambda: model.evaluate(X_HUGE, Y, verbose=0),
        "predict": lambda: model.predict(X_HUGE, verbose=0),
        "train_on_batch": lambda: model.train_on_batch(X_HUGE, Y),
        "test_on_batch": lambda: model.test_on_batch(X_HUGE, Y),
        "predict_on_batch": lambda: model.predict_on_batch(X_HUGE),
        "validation_data": lambda: fit(model, validation_data=(X_HUGE, Y)),
    }[method]
    name = "validation_data[0]" if method == "validation_data" else "x"
    message = _refused(model, call)
    assert f"holds 1e+300 in sample 5 ({name}[5, 2]), beyond the range of float32" in message


def test_float64_data_that_fits_float32_is_accepted():
    model = classifier()
    fit(model, X.astype("float64"), Y.astype("float64"),
        sample_weight=np.linspace(0, 2, N))  # zero weights are allowed
    fit(model, class_weight={0: 0.0, 1: 2.0})
    x = X.astype("float64")
    x[3, 0], x[4, 1] = np.inf, np.nan
    with np.errstate(invalid="ignore"):  # inf - inf inside the model
        out = model.predict(x, verbose=0)  # predict lets NaN and infinity through
    assert np.isfinite(np.delete(out, [3, 4], axis=0)).all()
    x[6, 7] = -1e39  # ... but not a finite number float32 cannot hold, after an infinity
    with pytest.raises(ValueError, match=r"holds -1e\+39 in sample 6 \(x\[6, 7\]\)"):
        model.predict(x, verbose=0)


def test_a_list_of_huge_numbers_is_named_as_given():
    # Lists become float32 arrays at once; one that float32 cannot hold stays
    # float64, so the message shows the user's number, not an infinity.
    model = classifier()
    message = _refused(model, lambda: fit(model, X_HUGE.tolist(), Y))
    assert "holds 1e+300 in sample 5 (x[5, 2])" in message


@pytest.mark.parametrize("weights, words", [
    (np.where(np.arange(N) == 9, 1e300, 1.0), ["1e+300", "sample 9", "float32"]),
    (np.where(np.arange(N) == 2, np.nan, 1.0), ["NaN", "sample 2"]),
    (np.where(np.arange(N) == 1, -3, 1), ["-3", "sample 1", "non-negative"]),  # integers too
])
def test_sample_weights_are_finite_and_non_negative_everywhere(weights, words):
    for call in (lambda m: fit(m, sample_weight=weights),
                 lambda m: m.evaluate(X, Y, sample_weight=weights, verbose=0),
                 lambda m: m.train_on_batch(X, Y, sample_weight=weights),
                 lambda m: fit(m, validation_data=(X, Y, weights))):
        model = classifier()
        message = _refused(model, lambda: call(model))
        assert all(word in message for word in words), message


def test_float_labels_beyond_float32_are_refused_integer_labels_are_not_cast():
    model = regressor()
    assert "`validation_data[1]` holds 1e+39 in sample 4" in _refused(
        model, lambda: fit(model, validation_data=(X, Y_HUGE)))
    fit(classifier(), X, Y.astype("int64"))


def test_the_range_scan_makes_no_full_size_temporary():
    x = np.ones((2048, 1024), dtype="float64")      # 16 MiB
    x[2000, 3] = 1e300
    tracemalloc.start()
    try:
        clean = validation.first_invalid_row(x[:1990], "float32")
        row = validation.first_invalid_row(x, "float32")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert clean is None and row == 2000
    assert peak < 2 * 1024 * 1024, peak
    # Arrays with no value to refuse are not read: integers for float32, and
    # float32 in predict, where NaN and infinity pass.
    assert validation._bounds(np.dtype("int64"), "float32", False, False) is None
    assert validation._bounds(np.dtype("float32"), "float32", False, True) is None
    assert validation._bounds(np.dtype("uint8"), "float32", True, False) is None


def test_reshape_checks_sizes_as_tf_keras_does():
    assert keras.Sequential([L.Reshape((2, -1), input_shape=(8,))]).output_shape == (None, 2, 4)
    assert keras.Sequential([L.Reshape((-1,), input_shape=(2, 4))]).output_shape == (None, 8)
    assert L.Reshape((3, -1)).compute_output_shape((None, None, 3)) == (None, 3, None)
    model = keras.Sequential([L.Reshape((3, 3)), L.Flatten(), L.Dense(CLASSES)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"Reshape 'reshape.*\(None, 8\) \(8 values per sample\)"):
        fit(model)  # built from x by fit's checks, before any step
    with pytest.raises(ValueError, match="cannot reshape an input of shape"):
        L.Reshape((3, 3))(keras.ops.ones((2, 8)))


def test_lists_of_arrays_that_are_samples_still_work():
    model = flat_16()
    fit(model, [image.reshape(16) for image in IMAGES], Y)  # a list of rows
    assert model.predict(list(IMAGES.reshape(N, 16)[:2]), verbose=0).shape == (2, 3)
    model = keras.Sequential([L.Flatten(input_shape=(4, 4)), L.Dense(CLASSES)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    fit(model, list(IMAGES), Y)  # a list of images
    with pytest.raises(ValueError, match=r"`validation_data\[0\]` is a tuple of 2 arrays"):
        fit(classifier(), validation_data=((X, X), Y))


def test_y_as_a_set_and_validation_data_as_a_set_are_named():
    with pytest.raises(TypeError, match=r"Argument `y` .* Received: set"):
        fit(classifier(), X, set(range(N)))
    with pytest.raises(ValueError, match=r"`validation_data` must be .* Received: set"):
        fit(classifier(), validation_data={1, 2})


@pytest.mark.parametrize("loss_weights", [0.5, [0.5], (2,), {"dense_1": 0.5}, np.float32(2),
                                          np.array(0.5), 0])
def test_loss_weights_of_one_number_are_accepted(loss_weights):
    model = classifier(compile=False)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  loss_weights=loss_weights)
    fit(model)


@pytest.mark.parametrize("loss_weights, words", [
    ("a", ["a number", "loss_weights='a'"]),
    ([1.0, 2.0], ["one weight", "2 entries"]),
    (-1, ["finite, non-negative", "loss_weights=-1"]),
    (float("inf"), ["finite, non-negative", "loss_weights=inf"]),
    ([None], ["a number", "loss_weights=[None]"]),
])
def test_a_failed_compile_leaves_the_model_as_it_was(loss_weights, words):
    model = classifier()
    optimizer, compiled_loss = model.optimizer, model.compiled_loss
    message = _refused(model, lambda: model.compile(optimizer="sgd", loss="mse",
                                                    loss_weights=loss_weights))
    assert all(word in message for word in words), message
    assert model.optimizer is optimizer and model.compiled_loss is compiled_loss


def test_set_weights_takes_object_arrays_of_numbers():
    model = classifier()
    model.set_weights([np.asarray(w, dtype=object) + 1 for w in model.get_weights()])
    assert all(w.dtype == np.float32 for w in model.get_weights())


def test_the_documented_table_is_what_users_see():
    """docs/reliability.md's table of mistakes holds these messages word for
    word (regenerate it with `python tests/test_user_mistakes.py`)."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "reliability.md").read_text()
    stale = [row for row in _table().splitlines()[2:] if row not in doc]
    assert not stale, "\n".join(stale)


def _table():
    """`| # | mistake | exception | message |` rows, from real runs."""
    rows = ["| # | mistake | exception | message the user sees |", "| --- | --- | --- | --- |"]
    for number, (name, make, mistake, error, _) in enumerate(MISTAKES, 1):
        keras.backend.clear_session()
        try:
            mistake(make() if make else None)
            message, kind = "(no error)", "-"
        except Exception as err:  # noqa: BLE001 - recording whatever was raised
            message, kind = str(err).replace("|", "\\|"), type(err).__name__
        rows.append(f"| {number} | {name.replace('_', ' ')} | `{kind}` | {message} |")
    return "\n".join(rows)


if __name__ == "__main__":
    sys.stdout.write(_table() + "\n")
