"""The direct training step and the flat optimizer update change nothing but speed.

`fit` runs plain Dense stacks through `training/fast_step.py` and every
built-in optimizer through flat buffers (`optimizers/flat.py`). Both must
give bit-identical weights, optimizer state and history to the general
path (the tape and the per-variable update), which the tests below force
by switching the shortcuts off.
"""

import numpy as np
import pytest

import kerasette as keras
from kerasette.optimizers import flat
from kerasette.training.fast_step import FastStep
from kerasette.training.trainer import Trainer

L = keras.layers


def _data(n=96, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = rng.integers(0, classes, n)
    return x, y


def _iris_like():
    return [L.Dense(20, activation="tanh", input_shape=(6,)),
            L.Dense(20, activation="tanh"), L.Dense(3, activation="softmax")]


def _mlp_with_dropout():
    return [L.Flatten(input_shape=(2, 3)), L.Dense(16, activation="relu"), L.Dropout(0.3),
            L.Dense(8, activation="sigmoid"), L.Dense(3, activation="softmax")]


def _logits_output():
    return [L.Dense(12, activation="relu", input_shape=(6,)), L.Dense(3)]


CASES = {
    "iris_adam_sparse": (_iris_like, "adam", "sparse_categorical_crossentropy", False),
    "dropout_flatten_rmsprop_onehot": (
        _mlp_with_dropout, lambda: keras.optimizers.RMSprop(momentum=0.5, centered=True),
        "categorical_crossentropy", True),
    "logits_sgd_nesterov": (
        _logits_output, lambda: keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True), False),
    "nadam_sparse": (_iris_like, "nadam", "sparse_categorical_crossentropy", False),
}


def _train(case, monkeypatch, direct, flat_update, epochs=3):
    layers, optimizer, loss, onehot = CASES[case]
    keras.utils.set_random_seed(11)
    model = keras.Sequential(layers())
    opt = optimizer() if callable(optimizer) else optimizer
    # A cross-entropy metric too: it sees the softmax output in both paths.
    ce = "categorical_crossentropy" if onehot else "sparse_categorical_crossentropy"
    model.compile(optimizer=opt, loss=loss, metrics=["accuracy", ce])
    if not flat_update:
        monkeypatch.setattr(type(model.optimizer), "_elementwise_update", False)
    if not direct:
        monkeypatch.setattr(FastStep, "build", classmethod(lambda cls, m: None))
    x, y = _data()
    if case.startswith("dropout"):
        x = x.reshape(-1, 2, 3)
    if onehot:
        y = keras.utils.to_categorical(y, 3)
    history = model.fit(x, y, batch_size=16, epochs=epochs, verbose=0, validation_split=0.25)
    monkeypatch.undo()
    return model, history.history


@pytest.mark.parametrize("case", sorted(CASES))
def test_direct_step_and_flat_update_are_bit_identical(case, monkeypatch):
    ref_model, ref_history = _train(case, monkeypatch, direct=False, flat_update=False)
    model, history = _train(case, monkeypatch, direct=True, flat_update=True)
    assert FastStep.build(model) is not None
    _assert_same((model, history), (ref_model, ref_history))


@pytest.fixture
def general_steps(monkeypatch):
    """A list that grows by one for every step taken by the general path."""
    calls = []
    original = Trainer.train_step
    monkeypatch.setattr(Trainer, "train_step",
                        lambda self, batch: calls.append(1) or original(self, batch))
    return calls


def test_direct_step_takes_all_but_the_first_step(general_steps):
    calls = general_steps
    keras.utils.set_random_seed(1)
    model = keras.Sequential(_iris_like())
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)  # 12 steps
    assert len(calls) == 1, "the first step builds the optimizer; the rest go direct"


def test_threaded_chunks_match_one_chunk(monkeypatch, backend):
    """Chunks on several threads compute the same elementwise values (host
    arrays only: on a GPU the update is one pass, whatever the setting)."""
    def run(threads):
        monkeypatch.setenv("KERASETTE_NUM_THREADS", str(threads))
        # Inside fit the update never uses more threads than the machine's
        # free cores; lift that cap, or a busy or small machine would decide
        # the chunks.
        monkeypatch.setattr(flat.blas_threads, "load_cap", lambda: None)
        monkeypatch.setattr(flat, "PARALLEL_MIN_SIZE", 1)
        monkeypatch.setattr(flat, "_CHUNK_ALIGN", 7)
        keras.utils.set_random_seed(3)
        model = keras.Sequential(_iris_like())
        model.compile("adam", "sparse_categorical_crossentropy")
        x, y = _data()
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        chunks = len(model.optimizer._pack.chunks)
        monkeypatch.undo()
        return model.get_weights(), chunks

    one, one_chunks = run(1)
    three, three_chunks = run(3)
    assert (one_chunks, three_chunks) == (1, 1 if backend.name == "cupy" else 3)
    for a, b in zip(one, three):
        np.testing.assert_array_equal(a, b)


def test_set_weights_and_rebinding_after_packing():
    """The pack keeps variables as views: set_weights writes into them; code
    that rebinds a variable's array makes the optimizer pack again, with no
    change to the values."""
    def trained(rebind):
        keras.utils.set_random_seed(5)
        model = keras.Sequential(_iris_like())
        model.compile("adam", "sparse_categorical_crossentropy")
        x, y = _data()
        first = model.get_weights()
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
        model.set_weights(model.get_weights())
        assert model.optimizer._pack.intact()
        if rebind:
            kernel = model.layers[0].kernel
            kernel.data = kernel.data.copy()
            assert not model.optimizer._pack.intact()
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
        assert model.optimizer._pack.intact()
        return first, model.get_weights()

    first, plain = trained(rebind=False)
    _, rebound = trained(rebind=True)
    for a, b, w0 in zip(plain, rebound, first):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, w0)


class _Doubling(L.Layer):
    """A custom layer: it has no array kernels, so its model takes the tape."""

    def call(self, inputs):
        return inputs * 2.0


@pytest.mark.parametrize("make", [
    lambda: keras.Sequential([L.Dense(4, input_shape=(6,)), _Doubling(),
                              L.Dense(3, activation="softmax")]),
    lambda: keras.Sequential([L.Dense(4, input_shape=(6,), activity_regularizer="l2"),
                              L.Dense(3, activation="softmax")]),
    lambda: keras.Sequential([L.Dense(4, input_shape=(6,),
                                      kernel_regularizer=lambda w: keras.ops.sum(w)),
                              L.Dense(3, activation="softmax")]),
    lambda: keras.Sequential([L.Dense(4, input_shape=(6,), activation="relu6"),
                              L.Dense(3, activation="softmax")]),
    lambda: keras.Sequential([L.Dense(4, input_shape=(6,)), L.GaussianNoise(0.1),
                              L.Dense(3, activation="softmax")]),
], ids=["custom_layer", "activity_regularizer", "custom_regularizer", "relu6", "noise"])
def test_other_models_take_the_general_path(make):
    model = make()
    model.compile("adam", "sparse_categorical_crossentropy")
    assert FastStep.build(model) is None


@pytest.mark.parametrize("compile_args", [
    {"optimizer": keras.optimizers.Adam(clipnorm=1.0), "loss": "sparse_categorical_crossentropy"},
    {"optimizer": "adam", "loss": "huber"},
    {"optimizer": "adam", "loss": keras.losses.CategoricalCrossentropy(label_smoothing=0.1)},
    {"optimizer": "adam", "loss": "sparse_categorical_crossentropy", "loss_weights": [2.0]},
    {"optimizer": "adam", "loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True)},
    {"optimizer": "adam", "loss": keras.losses.MeanSquaredError(reduction="sum")},
], ids=["clipnorm", "huber", "label_smoothing", "loss_weight", "probabilities_as_logits",
        "sum_reduction"])
def test_other_compile_settings_take_the_general_path(compile_args):
    model = keras.Sequential(_iris_like())
    model.compile(**compile_args)
    assert FastStep.build(model) is None


def test_custom_train_step_is_respected():
    class Custom(keras.Sequential):
        def train_step(self, batch):
            return super().train_step(batch)

    model = Custom(_iris_like())
    model.compile("adam", "sparse_categorical_crossentropy")
    assert FastStep.build(model) is None


def test_sample_weights_take_the_general_path(general_steps):
    calls = general_steps
    keras.utils.set_random_seed(2)
    model = keras.Sequential(_iris_like())
    model.compile("adam", "sparse_categorical_crossentropy")
    x, y = _data()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, sample_weight=np.full(len(x), 2.0))
    assert len(calls) == 6, "every weighted batch goes through the general step"


def test_declined_batches_leave_the_dropout_stream_alone(monkeypatch):
    """Labels of shape (n, 1) go the general way; the direct step must turn
    them down before drawing a Dropout mask, or the runs would diverge."""
    def run(direct):
        if not direct:
            monkeypatch.setattr(FastStep, "build", classmethod(lambda cls, m: None))
        keras.utils.set_random_seed(8)
        model = keras.Sequential([L.Dense(12, activation="relu", input_shape=(6,)),
                                  L.Dropout(0.4), L.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        x, y = _data()
        history = model.fit(x, y.reshape(-1, 1), batch_size=16, epochs=2, verbose=0)
        monkeypatch.undo()
        return model.get_weights(), history.history

    (direct_w, direct_h), (general_w, general_h) = run(True), run(False)
    for a, b in zip(direct_w, general_w):
        np.testing.assert_array_equal(a, b)
    assert direct_h == general_h


# -- the direct metric update, the workspace and the batching ------------------------------
def _fit_both(monkeypatch, make, compile_kwargs, x, y, fresh_metrics=None, **fit_kwargs):
    """Trains the same model through the direct step and through the
    general one; returns both (model, history) pairs."""
    runs = []
    for direct in (True, False):
        if not direct:
            monkeypatch.setattr(FastStep, "build", classmethod(lambda cls, m: None))
        keras.utils.set_random_seed(21)
        model = keras.Sequential(make())
        if fresh_metrics is not None:
            compile_kwargs = dict(compile_kwargs, metrics=fresh_metrics())
        model.compile(**compile_kwargs)
        history = model.fit(x, y, verbose=0, **fit_kwargs)
        runs.append((model, history.history))
        monkeypatch.undo()
    return runs


def _assert_same(direct, general):
    (model, history), (ref_model, ref_history) = direct, general
    for got, want in zip(model.get_weights(), ref_model.get_weights()):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(model.optimizer.variables, ref_model.optimizer.variables):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got),
                                      keras.ops.convert_to_numpy(want))
    assert history == ref_history


METRIC_CASES = {
    "accuracy": (["accuracy"], False, ("accuracy",)),
    "acc_weighted_onehot": ([], True, ("accuracy",)),
    # A factory: a metric object keeps its state from one fit to the next.
    "sparse_accuracy_object": (lambda: [keras.metrics.SparseCategoricalAccuracy()], False,
                               ("accuracy",)),
    "categorical_accuracy_by_name": (["categorical_accuracy", "acc"], True,
                                     ("accuracy", "accuracy")),
    "loss_only": ([], False, ()),
    "accuracy_and_mae": (["acc", "mae"], True, ("accuracy", None)),
}


@pytest.mark.parametrize("case", sorted(METRIC_CASES))
def test_direct_metric_update_matches_the_metrics(case, monkeypatch):
    """The loss tracker and accuracies updated in place give the history
    (and leave the weights) the generic metric update gives."""
    metrics, onehot, kinds = METRIC_CASES[case]
    x, y = _data(n=90)
    loss = "sparse_categorical_crossentropy"
    if onehot:
        y, loss = keras.utils.to_categorical(y, 3), "categorical_crossentropy"
    compile_kwargs = {"optimizer": "adam", "loss": loss,
                      "metrics": metrics() if callable(metrics) else metrics}
    if case == "acc_weighted_onehot":
        compile_kwargs["weighted_metrics"] = ["acc"]
    direct, general = _fit_both(monkeypatch, _iris_like, compile_kwargs, x, y, batch_size=16,
                                epochs=3, validation_split=0.2,
                                fresh_metrics=metrics if callable(metrics) else None)
    _assert_same(direct, general)
    assert FastStep.build(direct[0]) is not None


@pytest.mark.parametrize("variant", ["relu_sigmoid_linear", "logits_accuracy", "float_labels",
                                     "single_row_batch", "strided_input"])
def test_direct_step_variants_are_bit_identical(variant, monkeypatch):
    """Hidden activations with and without workspace buffers, logits scored
    by the accuracy, float class ids, a last batch of one row (matmul's
    vector path) and an input BLAS cannot take as it is (matmul's own loop)."""
    x, y = _data(n=97)
    loss = "sparse_categorical_crossentropy"

    def make():
        return _iris_like()

    if variant == "relu_sigmoid_linear":
        def make():
            return [L.Dense(9, activation="relu", input_shape=(6,)),
                    L.Dense(7, activation="sigmoid"), L.Dense(5, activation="linear"),
                    L.Dense(3, activation="softmax")]
    elif variant == "logits_accuracy":
        make = _logits_output
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    elif variant == "float_labels":
        y = y.astype("float32")
    elif variant == "strided_input":
        x = np.repeat(x, 2, axis=1)[:, ::2]
        assert not x.flags.c_contiguous
    batch_size = 32 if variant == "single_row_batch" else 16  # 97 = 3 * 32 + 1
    compile_kwargs = {"optimizer": "adam", "loss": loss, "metrics": ["accuracy"]}
    # Unshuffled, batches are slices: views of a strided input stay strided.
    direct, general = _fit_both(monkeypatch, make, compile_kwargs, x, y, batch_size=batch_size,
                                epochs=2, shuffle=variant != "strided_input")
    _assert_same(direct, general)


def test_direct_step_declines_nothing_it_should_take(general_steps):
    """Accuracy metrics, a one-row last batch and float labels all stay on
    the direct step (the first step of a fit builds the optimizer)."""
    keras.utils.set_random_seed(4)
    model = keras.Sequential(_iris_like())
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy", "acc"])
    x, y = _data(n=97)
    model.fit(x, y.astype("float32"), batch_size=32, epochs=2, verbose=0)
    assert len(general_steps) == 1


@pytest.mark.parametrize("shuffle", [True, False])
def test_array_batches_are_the_sorted_slices_of_the_permutation(shuffle):
    """The batching gives, batch for batch, what slicing each batch's sorted
    indices and `to_device` give (the order a mean gradient is summed in)."""
    from kerasette.training import data as data_module

    x, y = _data(n=53)
    x = x.astype("float64")  # cast per batch, as to_device does
    data = data_module.ArrayData(x, y, batch_size=8, shuffle=shuffle)
    state = keras.backend.host_rng().bit_generator.state
    batches = list(data.epoch("float32"))
    keras.backend.host_rng().bit_generator.state = state
    order = (keras.backend.host_rng().permutation(53) if shuffle else np.arange(53))
    assert len(batches) == 7
    for k, batch in enumerate(batches):
        index = np.sort(order[8 * k:8 * k + 8])
        want = data_module.to_device(x[index], y[index], None, "float32")
        for got_t, want_t in ((batch.x, want.x), (batch.y, want.y)):
            got_a, want_a = keras.ops.convert_to_numpy(got_t), keras.ops.convert_to_numpy(want_t)
            assert got_a.dtype == want_a.dtype
            np.testing.assert_array_equal(got_a, want_a)
        assert batch.size == len(index) and batch.sample_weight is None


# -- every layer, loss, regularizer and metric the direct step takes --------------------------
def _regression_data(n=61, features=6, outputs=2, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = rng.random(size=(n, outputs)).astype("float32")
    return x, y


ACTIVATIONS = ["relu", "tanh", "sigmoid", "elu", "selu", "softplus", "softsign", "swish", "silu",
               "gelu", "hard_sigmoid", "mish", "leaky_relu", "linear"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_builtin_activation_is_bit_identical(activation, monkeypatch):
    """Dense with each built-in activation (fused or not) and the same as
    an Activation layer, under mse with an mae metric."""
    def make():
        return [L.Dense(7, activation=activation, input_shape=(6,)),
                L.Dense(5), L.Activation(activation), L.Dense(2)]

    x, y = _regression_data()
    direct, general = _fit_both(monkeypatch, make, {"optimizer": "adam", "loss": "mse",
                                                    "metrics": ["mae", "mse"]},
                                x, y, batch_size=16, epochs=2, validation_split=0.2)
    _assert_same(direct, general)
    assert FastStep.build(direct[0]) is not None


LAYER_STACKS = {
    "batchnorm_sigmoid": lambda: [L.Dense(12, activation="sigmoid", input_shape=(6,)),
                                  L.BatchNormalization(), L.Dense(8, activation="relu"),
                                  L.BatchNormalization(center=False, momentum=0.5),
                                  L.Dense(3, activation="softmax")],
    "reshape_flatten_dropout": lambda: [L.Reshape((2, 3), input_shape=(6,)), L.Flatten(),
                                        L.Dense(10, activation="relu"), L.Dropout(0.3),
                                        L.Dense(3), L.Activation("softmax")],
    "regularizers": lambda: [
        L.Dense(9, activation="tanh", input_shape=(6,), kernel_regularizer="l2",
                bias_regularizer=keras.regularizers.l1(0.01)),
        L.Dropout(0.5),
        L.Dense(9, activation="elu", kernel_regularizer=keras.regularizers.l1_l2(0.01, 0.02)),
        L.BatchNormalization(gamma_regularizer="l2", beta_regularizer="l1"),
        L.Dense(3, activation="softmax", kernel_regularizer=keras.regularizers.L1L2())],
}


@pytest.mark.parametrize("stack", sorted(LAYER_STACKS))
@pytest.mark.parametrize("onehot", [False, True], ids=["sparse", "onehot"])
def test_layer_stacks_are_bit_identical(stack, onehot, monkeypatch):
    """BatchNormalization (moving statistics too), Reshape, Flatten,
    Dropout, Activation and L1/L2 penalties on kernels, biases and BN
    weights, under both cross-entropies, with accuracy and a cross-entropy
    metric, validated each epoch (the direct evaluation)."""
    x, y = _data(n=70)
    loss = "sparse_categorical_crossentropy"
    if onehot:
        y, loss = keras.utils.to_categorical(y, 3), "categorical_crossentropy"
    compile_kwargs = {"optimizer": "rmsprop", "loss": loss, "metrics": ["accuracy", loss]}
    direct, general = _fit_both(monkeypatch, LAYER_STACKS[stack], compile_kwargs, x, y,
                                batch_size=16, epochs=3, validation_split=0.2)
    _assert_same(direct, general)
    for got, want in zip(direct[0].non_trainable_weights, general[0].non_trainable_weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(got),
                                      keras.ops.convert_to_numpy(want))
    assert FastStep.build(direct[0]) is not None


BINARY_CASES = {
    "sigmoid_bce": ("sigmoid", "binary_crossentropy"),
    "logits_bce": (None, keras.losses.BinaryCrossentropy(from_logits=True)),
    "logits_cce": (None, keras.losses.CategoricalCrossentropy(from_logits=True)),
    "sigmoid_mse": ("sigmoid", "mse"),
    "linear_mae": (None, "mae"),
}


@pytest.mark.parametrize("case", sorted(BINARY_CASES))
def test_losses_are_bit_identical(case, monkeypatch):
    """Binary cross-entropy after a sigmoid and from logits, categorical
    from logits, mse and mae, with labels of shape (batch,) for one output."""
    activation, loss = BINARY_CASES[case]
    units = 3 if case == "logits_cce" else 1
    x, y = _data(n=64, classes=2 if units == 1 else 3)
    y = keras.utils.to_categorical(y, 3) if units == 3 else y.astype("float32")

    def make():
        return [L.Dense(8, activation="relu", input_shape=(6,)),
                L.Dense(units, activation=activation)]

    metrics = ["accuracy", "mae"] if units == 1 else ["accuracy"]
    direct, general = _fit_both(monkeypatch, make, {"optimizer": keras.optimizers.SGD(0.1),
                                                    "loss": loss, "metrics": metrics},
                                x, y, batch_size=16, epochs=3, validation_split=0.25)
    _assert_same(direct, general)
    assert FastStep.build(direct[0]) is not None


def test_xor_recipe_runs_direct(general_steps):
    """The notes' XOR: 2-2-1 sigmoid, SGD(0.5), mse, one batch of 4."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    t = np.array([[0], [1], [1], [0]], dtype="float32")
    keras.utils.set_random_seed(1)
    model = keras.Sequential([L.Dense(2, activation="sigmoid", input_shape=(2,)),
                              L.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    model.fit(x, t, epochs=20, batch_size=4, verbose=0)
    assert len(general_steps) == 1


@pytest.mark.parametrize("stack", sorted(LAYER_STACKS))
def test_layer_stacks_take_the_direct_step(stack, general_steps):
    """Only the first step of a fit (it builds the optimizer) is general."""
    keras.utils.set_random_seed(6)
    model = keras.Sequential(LAYER_STACKS[stack]())
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = _data(n=64)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, validation_split=0.25)
    assert len(general_steps) == 1
