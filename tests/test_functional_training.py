"""Training models with several inputs and outputs: `fit`, `evaluate`,
`predict` and the `*_on_batch` methods on lists and dicts of arrays, and
`compile` with a loss, metrics and loss weight per output.

The figures are checked against NumPy over `predict`'s outputs (as in
test_metric_property.py), over batch sizes that divide the row count and
ones that leave a partial last batch; the names against tf.keras 2's
(`loss`, `OUTPUTNAME_loss`, `OUTPUTNAME_METRICNAME`, `val_` forms); and one
run against a recording made in tf.keras 2.21
(tests/data/parity2/, `func_two_outputs_adam`).
"""

from __future__ import annotations


import numpy as np
import pytest
from parity2_replay import check_fit, recorded

import kerasette as keras

L = keras.layers
ROWS = 45
BATCH_SIZES = (1, 7, 16, ROWS, ROWS + 5)


def _two_inputs():
    a = keras.Input(shape=(4,), name="a")
    b = keras.Input(shape=(3,), name="b")
    joined = L.Concatenate()([L.Dense(5, activation="relu")(a), L.Dense(5, activation="tanh")(b)])
    return keras.Model([a, b], L.Dense(1, name="out")(joined))


def _two_outputs():
    """One regression head (mse) and one classification head (softmax)."""
    x = keras.Input(shape=(6,), name="x")
    trunk = L.Dense(8, activation="relu", name="trunk")(x)
    reg = L.Dense(1, name="reg")(trunk)
    cls = L.Dense(3, activation="softmax", name="cls")(trunk)
    return keras.Model(x, [reg, cls])


def _data(seed=0, rows=ROWS):
    r = np.random.RandomState(seed)
    return {
        "a": r.randn(rows, 4).astype("float32"),
        "b": r.randn(rows, 3).astype("float32"),
        "x": r.randn(rows, 6).astype("float32"),
        "reg": r.randn(rows, 1).astype("float32"),
        "cls": r.randint(0, 3, size=rows),
        "w_reg": r.uniform(0.0, 2.0, size=rows).astype("float32"),
        "w_cls": r.uniform(0.0, 2.0, size=rows).astype("float32"),
    }


def _compile_two_outputs(model, loss_weights=None, optimizer="adam"):
    model.compile(optimizer=optimizer,
                  loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
                  metrics={"cls": ["accuracy"]}, loss_weights=loss_weights)


def _mse(y, p, w=None):
    values = ((p.astype(np.float64) - y) ** 2).mean(axis=-1)
    return values.mean() if w is None else (values * w).sum() / len(values)


def _sparse_ce(y, p, w=None):
    p = np.clip(p.astype(np.float64), 1e-7, 1 - 1e-7)
    values = -np.log(p[np.arange(len(y)), y])
    return values.mean() if w is None else (values * w).sum() / len(values)


def _accuracy(y, p):
    return float((p.argmax(axis=-1) == y).mean())


# -- two inputs ------------------------------------------------------------------------------

def test_two_inputs_fit_on_lists_and_dicts_alike(backend):
    d = _data()
    histories, weights = [], []
    for form in ("list", "dict"):
        keras.utils.set_random_seed(7)
        model = _two_inputs()
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        x = [d["a"], d["b"]] if form == "list" else {"b": d["b"], "a": d["a"]}
        history = model.fit(x, d["reg"], batch_size=8, epochs=2, verbose=0, shuffle=True)
        histories.append(history.history)
        weights.append(model.get_weights())
    assert list(histories[0]) == ["loss", "mae"]  # one output: today's names
    np.testing.assert_allclose(histories[0]["loss"], histories[1]["loss"], rtol=1e-6)
    for w0, w1 in zip(*weights):
        np.testing.assert_allclose(w0, w1, rtol=1e-6)


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
def test_two_inputs_evaluate_equals_numpy_over_predict(backend, batch_size):
    d = _data(1)
    model = _two_inputs()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x = {"a": d["a"], "b": d["b"]}
    pred = model.predict(x, batch_size=batch_size, verbose=0)
    assert isinstance(pred, np.ndarray) and pred.shape == (ROWS, 1)
    loss, mae = model.evaluate(x, d["reg"], batch_size=batch_size, verbose=0)
    np.testing.assert_allclose(loss, _mse(d["reg"], pred), rtol=1e-5)
    np.testing.assert_allclose(mae, np.abs(pred - d["reg"]).mean(), rtol=1e-5)


# -- two outputs -----------------------------------------------------------------------------

@pytest.mark.parametrize("form", ["list", "dict"])
def test_two_outputs_history_has_tf_keras_names(backend, form):
    d = _data()
    model = _two_outputs()
    _compile_two_outputs(model)
    y = [d["reg"], d["cls"]] if form == "list" else {"cls": d["cls"], "reg": d["reg"]}
    history = model.fit(d["x"], y, batch_size=16, epochs=2, verbose=0, validation_split=0.2)
    names = ["loss", "reg_loss", "cls_loss", "cls_accuracy"]
    assert model.metrics_names == names
    assert list(history.history) == names + ["val_" + n for n in names]
    assert all(len(v) == 2 and np.all(np.isfinite(v)) for v in history.history.values())
    assert set(model.evaluate(d["x"], y, verbose=0, return_dict=True)) == set(names)


def test_a_loss_and_flat_metrics_apply_to_every_output(backend):
    model = _two_outputs()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    assert model.metrics_names == ["loss", "reg_loss", "cls_loss", "reg_mae", "cls_mae"]
    model.compile(optimizer="sgd", loss=["mse", "sparse_categorical_crossentropy"],
                  metrics=[["mae"], ["accuracy", "acc"]])
    assert model.metrics_names == ["loss", "reg_loss", "cls_loss", "reg_mae", "cls_accuracy",
                                   "cls_acc"]


@pytest.mark.parametrize("batch_size", BATCH_SIZES)
@pytest.mark.parametrize("weighted", [False, True])
def test_total_loss_is_the_weighted_sum_of_output_losses(backend, batch_size, weighted):
    d = _data(2)
    model = _two_outputs()
    _compile_two_outputs(model, loss_weights={"reg": 0.25, "cls": 2.0})
    sw = {"reg": d["w_reg"], "cls": d["w_cls"]} if weighted else None
    y = {"reg": d["reg"], "cls": d["cls"]}
    reg, cls = model.predict(d["x"], batch_size=batch_size, verbose=0)
    logs = model.evaluate(d["x"], y, sample_weight=sw, batch_size=batch_size, verbose=0,
                          return_dict=True)
    reg_loss = _mse(d["reg"], reg, d["w_reg"] if weighted else None)
    cls_loss = _sparse_ce(d["cls"], cls, d["w_cls"] if weighted else None)
    np.testing.assert_allclose(logs["reg_loss"], reg_loss, rtol=1e-5)
    np.testing.assert_allclose(logs["cls_loss"], cls_loss, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], 0.25 * reg_loss + 2.0 * cls_loss, rtol=1e-5)
    np.testing.assert_allclose(logs["cls_accuracy"], _accuracy(d["cls"], cls), rtol=1e-6)


@pytest.mark.parametrize("batch_size", (7, 16))
def test_fit_figures_equal_numpy_when_the_weights_stay(backend, batch_size):
    """`fit`'s epoch figures and `val_` figures against NumPy over `predict`
    (SGD with learning rate 0 leaves the weights as they are)."""
    d = _data(3)
    model = _two_outputs()
    _compile_two_outputs(model, loss_weights=[0.5, 1.0],
                         optimizer=keras.optimizers.SGD(learning_rate=0.0))
    y = [d["reg"], d["cls"]]
    val = ([d["x"][:20]], [d["reg"][:20], d["cls"][:20]])
    history = model.fit([d["x"]], y, batch_size=batch_size, epochs=1, verbose=0,
                        validation_data=val).history
    reg, cls = model.predict(d["x"], verbose=0)
    np.testing.assert_allclose(history["reg_loss"][0], _mse(d["reg"], reg), rtol=1e-5)
    np.testing.assert_allclose(history["cls_loss"][0], _sparse_ce(d["cls"], cls), rtol=1e-5)
    np.testing.assert_allclose(history["loss"][0], 0.5 * _mse(d["reg"], reg)
                               + _sparse_ce(d["cls"], cls), rtol=1e-5)
    np.testing.assert_allclose(history["val_cls_loss"][0],
                               _sparse_ce(d["cls"][:20], cls[:20]), rtol=1e-5)
    np.testing.assert_allclose(history["val_cls_accuracy"][0],
                               _accuracy(d["cls"][:20], cls[:20]), rtol=1e-6)


def test_loss_weights_zero_leaves_the_head_untrained(backend):
    d = _data(4)
    model = _two_outputs()
    _compile_two_outputs(model, loss_weights={"reg": 0.0})
    before = model.get_layer("reg").get_weights()
    model.fit(d["x"], {"reg": d["reg"], "cls": d["cls"]}, batch_size=16, epochs=1, verbose=0)
    for w0, w1 in zip(before, model.get_layer("reg").get_weights()):
        np.testing.assert_array_equal(w0, w1)
    assert not np.allclose(model.get_layer("cls").get_weights()[0], 0)


def test_one_sample_weight_array_weighs_every_output(backend):
    d = _data(5)
    model = _two_outputs()
    _compile_two_outputs(model)
    y = [d["reg"], d["cls"]]
    one = model.evaluate(d["x"], y, sample_weight=d["w_reg"], verbose=0, return_dict=True)
    each = model.evaluate(d["x"], y, sample_weight=[d["w_reg"], d["w_reg"]], verbose=0,
                          return_dict=True)
    assert one == each
    plain = model.evaluate(d["x"], y, verbose=0, return_dict=True)
    assert one["reg_loss"] != plain["reg_loss"]


def test_on_batch_methods_follow_metrics_names(backend):
    d = _data(6)
    model = _two_outputs()
    _compile_two_outputs(model)
    x, y = d["x"][:10], {"reg": d["reg"][:10], "cls": d["cls"][:10]}
    logs = model.test_on_batch(x, y, return_dict=True)
    values = model.test_on_batch(x, y)
    assert list(logs) == model.metrics_names
    np.testing.assert_allclose(values, [logs[n] for n in model.metrics_names], rtol=1e-6)
    trained = model.train_on_batch(x, y)
    assert len(trained) == 4 and np.allclose(trained, values, rtol=1e-6)  # before the step
    reg, cls = model.predict_on_batch(x)
    np.testing.assert_allclose(reg, model.predict(x, verbose=0)[0], rtol=1e-6)
    assert cls.shape == (10, 3)


def test_predict_returns_the_structure_of_the_outputs(backend):
    x = keras.Input(shape=(2,), name="x")
    model = keras.Model(x, {"p": L.Dense(1, name="p")(x), "q": L.Dense(2, name="q")(x)})
    out = model.predict(np.ones((5, 2), "float32"), batch_size=2, verbose=0)
    assert isinstance(out, dict) and out["p"].shape == (5, 1) and out["q"].shape == (5, 2)


def test_int32_input_reaches_the_model_as_int32(backend):
    """Ids reach the layers as int32, not cast to float32 on the way (a
    layer of an integer dtype, as an Embedding is, sees them as they are)."""
    seen = []

    class Spy(L.Layer):
        def call(self, inputs):
            seen.append(str(inputs.dtype))
            return keras.ops.cast(inputs, "float32")

        def compute_output_shape(self, shape):
            return shape

    ids = keras.Input(shape=(3,), dtype="int32", name="ids")
    extra = keras.Input(shape=(2,), name="extra")
    joined = L.Concatenate()([Spy(dtype="int32")(ids), extra])
    model = keras.Model([ids, extra], L.Dense(1)(joined))
    model.compile(optimizer="sgd", loss="mse")
    r = np.random.RandomState(0)
    x = {"ids": r.randint(0, 9, size=(12, 3)).astype("int32"),
         "extra": r.randn(12, 2)}  # float64: cast per batch to float32
    model.fit(x, r.randn(12, 1), batch_size=4, epochs=1, verbose=0)
    model.predict(x, verbose=0)
    assert seen and set(seen) == {"int32"}

    seen.clear()
    one = keras.Input(shape=(3,), dtype="int32")
    single = keras.Model(one, L.Dense(1)(Spy(dtype="int32")(one)))
    single.compile(optimizer="sgd", loss="mse")
    single.fit(x["ids"], r.randn(12, 1), batch_size=4, epochs=1, verbose=0)
    assert set(seen) == {"int32"}


# -- mistakes --------------------------------------------------------------------------------

def test_mismatched_rows_name_the_argument_and_the_name(backend):
    d = _data()
    model = _two_outputs()
    _compile_two_outputs(model)
    with pytest.raises(ValueError, match=r"cardinality.*y\['cls'\] has 44"):
        model.fit(d["x"], {"reg": d["reg"], "cls": d["cls"][:-1]}, verbose=0)
    with pytest.raises(ValueError, match=r"y\[1\] \(output 'cls'\) has 44"):
        model.fit(d["x"], [d["reg"], d["cls"][:-1]], verbose=0)
    two = _two_inputs()
    two.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"x\[1\] \(input 'b'\) has 44"):
        two.fit([d["a"], d["b"][:-1]], d["reg"], verbose=0)


def test_missing_dict_key_and_wrong_number_of_arrays(backend):
    d = _data()
    model = _two_inputs()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"`x` has no entry for input 'b'.*'a', 'b'"):
        model.fit({"a": d["a"]}, d["reg"], verbose=0)
    with pytest.raises(ValueError, match=r"`x` has key 'c', which is not an input name"):
        model.fit({"a": d["a"], "b": d["b"], "c": d["b"]}, d["reg"], verbose=0)
    with pytest.raises(ValueError, match=r"`x` is a list of 3 arrays, but the model has 2"):
        model.predict([d["a"], d["b"], d["b"]], verbose=0)
    with pytest.raises(ValueError, match=r"`x` is one array, but the model has 2 inputs"):
        model.evaluate(d["a"], d["reg"], verbose=0)
    with pytest.raises(ValueError, match=r"`x\['b'\]` has the wrong shape for input 'b'"):
        model.fit({"a": d["a"], "b": d["a"]}, d["reg"], verbose=0)
    heads = _two_outputs()
    _compile_two_outputs(heads)
    with pytest.raises(ValueError, match=r"`y` has no entry for output 'cls'"):
        heads.fit(d["x"], {"reg": d["reg"]}, verbose=0)
    with pytest.raises(ValueError, match=r"`y` is one array, but the model has 2 outputs"):
        heads.fit(d["x"], d["reg"], verbose=0)


def test_compile_mistakes_name_the_outputs(backend):
    model = _two_outputs()
    with pytest.raises(ValueError, match=r"`loss` has key\(s\) \['clz'\].*\['reg', 'cls'\]"):
        model.compile(loss={"reg": "mse", "clz": "mse"})
    with pytest.raises(ValueError, match=r"`loss` is a list of 3 entries.*2 outputs"):
        model.compile(loss=["mse"] * 3)
    with pytest.raises(ValueError, match=r"`loss_weights` must be a list"):
        model.compile(loss="mse", loss_weights=0.5)
    with pytest.raises(ValueError, match=r"finite, non-negative"):
        model.compile(loss="mse", loss_weights=[1.0, -1.0])


def test_class_labels_are_checked_per_output(backend):
    d = _data()
    model = _two_outputs()
    _compile_two_outputs(model)
    with pytest.raises(ValueError, match=r"`y\['cls'\]` holds class index 3"):
        model.fit(d["x"], {"reg": d["reg"], "cls": d["cls"] + 1}, verbose=0)


# -- parity with tf.keras 2.21 -----------------------------------------------------------------

def test_two_outputs_adam_matches_tf_keras(backend):
    """`func_two_outputs_adam`: Dense trunk, softmax and linear heads, Adam,
    dict losses, metrics and loss weights, fit on a dict `y` with
    validation_data; weights, history, evaluate and predictions within 1e-4
    relative of tf.keras 2.21's."""
    case, d = recorded("func_two_outputs_adam")
    inp = keras.Input(shape=(6,), name="x")
    h = L.Dense(16, activation="relu", name="trunk")(inp)
    model = keras.Model(inp, [L.Dense(3, activation="softmax", name="cls")(h),
                              L.Dense(1, name="reg")(h)], name="two_outputs")
    model.set_weights([d[f"init_{i}"] for i in range(case["n_weights"])])
    model.compile(optimizer=keras.optimizers.Adam(**case["optimizer"]["config"]),
                  loss=case["loss"], metrics=case["metrics"], loss_weights=case["loss_weights"])
    x, y = d["x"], {"cls": d["y0"], "reg": d["y1"]}
    check_fit(model, case, d, x, y, (x[:32], {k: v[:32] for k, v in y.items()}))
    for got, want in zip(model.predict(x[:10], verbose=0), (d["pred0"], d["pred1"])):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_per_output_forms_work_for_one_output(backend):
    """tf.keras 2 takes `{name: loss}`, `[loss]` and `{name: metrics}` for
    a model with one output, and dicts of data by input and output name."""
    d = _data(8)
    x = keras.Input(shape=(6,), name="x")
    model = keras.Model(x, L.Dense(1, name="out")(x))
    model.compile(optimizer="sgd", loss={"out": "mse"}, metrics={"out": ["mae"]})
    assert model.metrics_names == ["loss", "mae"]
    model.compile(optimizer="sgd", loss=["mse"], metrics=[["mae"]])
    assert model.metrics_names == ["loss", "mae"]
    history = model.fit({"x": d["x"]}, {"out": d["reg"]}, epochs=1, verbose=0)
    assert list(history.history) == ["loss", "mae"]
    pred = model.predict({"x": d["x"]}, verbose=0)
    np.testing.assert_allclose(model.evaluate({"x": d["x"]}, {"out": d["reg"]}, verbose=0)[0],
                               _mse(d["reg"], pred), rtol=1e-5)


def test_one_element_lists_are_one_input_and_one_output(backend):
    """tf.keras 2 unwraps `Model([x], [y])`: predict gives an array, fit one `y`."""
    inputs = keras.Input(shape=(3,))
    outputs = keras.layers.Dense(2)(inputs)
    model = keras.Model([inputs], [outputs])
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).random((8, 3), dtype=np.float32)
    history = model.fit(x, np.ones((8, 2), np.float32), epochs=2, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    prediction = model.predict(x, verbose=0)
    assert isinstance(prediction, np.ndarray) and prediction.shape == (8, 2)


def test_dict_targets_are_matched_to_outputs_by_name(backend):
    """A custom step may pass targets as a dict: each goes to the output of
    its name, in the model's output order (not the keys' sorted order)."""
    inputs = keras.Input(shape=(2,))
    b = keras.layers.Dense(1, name="b")(inputs)
    a = keras.layers.Dense(1, name="a")(inputs)
    model = keras.Model(inputs, [b, a])
    model.compile("sgd", loss="mse", loss_weights={"b": 1.0, "a": 0.0})
    x = keras.ops.convert_to_tensor(np.ones((4, 2), np.float32))
    yb = keras.ops.convert_to_tensor(np.zeros((4, 1), np.float32))
    ya = keras.ops.convert_to_tensor(np.full((4, 1), 5.0, np.float32))
    predictions = model(x)
    as_list = float(model.compiled_loss([yb, ya], predictions, None, []))
    as_dict = float(model.compiled_loss({"a": ya, "b": yb}, predictions, None, []))
    expected = float(np.mean(np.asarray(predictions[0]) ** 2))  # output "b" against zeros
    assert as_dict == as_list == pytest.approx(expected, rel=1e-6)


def _two_input_classifier():
    a, b = keras.Input(shape=(3,), name="a"), keras.Input(shape=(2,), name="b")
    joined = keras.layers.Concatenate()([a, b])
    return keras.Model([a, b], keras.layers.Dense(3, activation="softmax")(joined))


def test_class_weight_with_several_inputs_equals_the_same_sample_weights(backend):
    # tf.keras 2 takes class_weight for any model with one output.
    rng = np.random.default_rng(11)
    x = [rng.standard_normal((20, 3)).astype("float32"),
         rng.standard_normal((20, 2)).astype("float32")]
    y = rng.integers(0, 3, 20)
    weights = {0: 1.0, 1: 3.0, 2: 0.5}
    first, second = _two_input_classifier(), _two_input_classifier()
    second.set_weights(first.get_weights())
    for model in (first, second):
        model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    first.fit(x, y, class_weight=weights, batch_size=8, shuffle=False, verbose=0)
    second.fit(x, y, sample_weight=np.array([weights[int(c)] for c in y]), batch_size=8,
               shuffle=False, verbose=0)
    for got, want in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert not np.allclose(first.get_weights()[0], _two_input_classifier().get_weights()[0])


def test_class_weight_is_refused_for_several_outputs_as_in_tf_keras(backend):
    x = keras.Input(shape=(4,))
    model = keras.Model(x, [keras.layers.Dense(2, activation="softmax", name="p")(x),
                            keras.layers.Dense(1, name="r")(x)])
    model.compile("sgd", ["sparse_categorical_crossentropy", "mse"])
    with pytest.raises(ValueError, match=r"only supported for models with a single output "
                                         r".*has 2: p, r"):
        model.fit(np.ones((4, 4)), [np.zeros(4), np.zeros(4)], class_weight={0: 1.0},
                  verbose=0)
