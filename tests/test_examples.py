"""The examples run and reach what they promise.

Each example is loaded from `examples/` with importlib and run through its
`main([...])`, as `python examples/NAME.py ...` would run it. The Iris-sized
ones run on every backend; the MNIST ones are marked `slow` and run once, on
the numpy backend, with `mnist.npz` from the data-set cache (the `mnist_npz`
fixture, which skips without it).
"""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

import kerasette as keras

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
LAST_LINE = re.compile(r"test_accuracy=(\d\.\d{4}) test_loss=(\d+\.\d{4})")


def load_example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_last_line(out, result):
    """The last line is `test_accuracy=0.9667 test_loss=0.1058`, matching `result`."""
    last = out.strip().splitlines()[-1]
    match = LAST_LINE.fullmatch(last)
    assert match, last
    assert match.group(1) == f"{result['test_accuracy']:.4f}"
    assert match.group(2) == f"{result['test_loss']:.4f}"


def numpy_only(backend):
    if backend.name != "numpy":
        pytest.skip("real-data training runs once, on the numpy backend")


def test_xor_gradient_tape_loop_learns_xor(capsys):
    xor = load_example("xor")
    accuracy = xor.main(["--steps", "4000", "--seed", "1"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert accuracy == 1.0 and last == "accuracy=1.0"
    _, outputs = xor.train(steps=4000, seed=1, verbose=False)
    np.testing.assert_allclose(outputs.ravel(), [0, 1, 1, 0], atol=0.1)


def test_iris_default_run_reaches_093(capsys, tmp_path):
    iris = load_example("iris")
    argv = []
    try:
        import matplotlib  # noqa: F401
        argv = ["--plot", str(tmp_path / "iris_loss.png")]
    except ImportError:
        pass
    result = iris.main(argv)
    check_last_line(capsys.readouterr().out, result)
    assert result["test_accuracy"] >= 0.93, result
    if argv:
        assert (tmp_path / "iris_loss.png").stat().st_size > 0


def test_iris_functional_two_inputs_and_a_skip_connection(backend, capsys):
    """The functional example: two inputs, a residual add, a .keras round trip."""
    if backend.name != "numpy":
        pytest.skip("the example runs once, on the numpy backend")
    example = load_example("iris_functional")
    result = example.main([])
    out = capsys.readouterr().out
    check_last_line(out, result)
    assert "Connected to" in out  # the functional summary
    assert result["reloaded_identical"]
    assert result["test_accuracy"] >= 0.93, result


def test_iris_split_is_fixed_and_standardised_on_the_training_rows():
    iris = load_example("iris")
    (x_train, y_train), (x_test, y_test), names = iris.load_split()
    assert x_train.shape == (120, 4) and x_test.shape == (30, 4) and len(names) == 3
    np.testing.assert_allclose(x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(x_train.std(axis=0), 1, atol=1e-5)
    (x_again, _), _, _ = iris.load_split()
    np.testing.assert_array_equal(x_train, x_again)
    assert sorted(np.bincount(np.concatenate([y_train, y_test]))) == [50, 50, 50]


def test_custom_training_loop_on_iris(capsys):
    loop = load_example("custom_training_loop")
    result = loop.main(["--dataset", "iris"])
    out = capsys.readouterr().out
    check_last_line(out, result)
    assert result["test_accuracy"] >= 0.93, result
    assert "epoch 300/300" in out and "val_accuracy" in out


def test_custom_training_loop_reports_what_evaluate_reports():
    loop = load_example("custom_training_loop")
    keras.utils.set_random_seed(3)
    train, val, test = loop.iris_data()
    model = loop.iris_model()
    history = loop.train(model, train, val, epochs=5, batch_size=20, seed=3, report_every=10)
    assert list(history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(v) == 5 for v in history.values())
    loss, accuracy = loop.test(model, test, batch_size=7)  # a ragged last batch
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    expected_loss, expected_accuracy = model.evaluate(*test, verbose=0)
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert accuracy == pytest.approx(expected_accuracy, abs=1e-6)


def test_save_and_load_restores_predictions_and_resumes_exactly(capsys, tmp_path):
    example = load_example("save_and_load")
    path = tmp_path / "sub" / "iris_model.h5"
    result = example.main(["--out", str(path)])
    check_last_line(capsys.readouterr().out, result)
    assert path.is_file() and result["path"] == str(path)
    assert result["identical_predictions"] and result["identical_resume"]
    assert result["test_accuracy"] >= 0.93, result
    loaded = keras.models.load_model(path)
    assert loaded.count_params() == 583


def test_mnist_mlp_variants_have_the_notes_layers():
    mlp = load_example("mnist_mlp")
    L = keras.layers
    bn = mlp.build_model("sigmoid", batchnorm=True)
    assert [type(layer) for layer in bn.layers] == [
        L.Flatten, L.Dense, L.BatchNormalization, L.Activation,
        L.Dense, L.BatchNormalization, L.Activation, L.Dense]
    drop = mlp.build_model("relu", dropout=0.5)
    assert [type(layer) for layer in drop.layers] == [
        L.Flatten, L.Dense, L.Dropout, L.Dense, L.Dropout, L.Dense]
    assert drop.count_params() == 784 * 512 + 512 + 512 * 128 + 128 + 128 * 10 + 10
    assert len(mlp.SEEDS_TABLE) == 8
    assert mlp.variant_name("relu", "sgd", False, 0.5) == "Relu + dropout(0.5) + SGD"


def test_mnist_mlp_notes_cost_is_softmax_cross_entropy_of_the_probabilities(backend):
    """The notes' cost puts the softmax output through a second softmax."""
    mlp = load_example("mnist_mlp")
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 10)).astype("float32")
    probs = keras.activations.softmax(keras.ops.convert_to_tensor(logits))
    labels = np.array([0, 3, 9, 1, 1, 5])
    y_true = keras.ops.convert_to_tensor(labels)
    cost = keras.ops.convert_to_numpy(mlp.notes_cost(y_true, probs))
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    q = np.exp(p) / np.exp(p).sum(1, keepdims=True)
    np.testing.assert_allclose(cost, -np.log(q[np.arange(6), labels]), rtol=1e-5)
    assert cost.dtype == np.float32
    # Never below log(e + 9) - 1, the notes' 1.46-1.48 floor ...
    assert cost.min() >= np.log(np.e + 9) - 1 - 1e-6
    # ... unlike Keras's cross-entropy with from_logits=True, which scores
    # the logits a softmax output carries (as tf.keras does).
    with pytest.warns(UserWarning, match="from_logits=True"):
        keras_ce = keras.losses.sparse_categorical_crossentropy(y_true, probs, from_logits=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(keras_ce),
                               -np.log(p[np.arange(6), labels]), rtol=1e-5)
    with pytest.raises(ValueError, match="loss must be"):
        mlp.make_loss("hinge")


def test_mnist_mlp_table_trains_on_keras_cross_entropy_unless_asked(monkeypatch):
    mlp = load_example("mnist_mlp")
    seen = []
    monkeypatch.setattr(mlp, "load_data", lambda: None)
    monkeypatch.setattr(mlp, "run_table", lambda data, *args, **kw: seen.append(kw["loss"]))
    mlp.main(["--table"])
    mlp.main(["--table", "--loss", "notes"])
    assert seen == ["crossentropy", "notes"]


@pytest.mark.slow
def test_mnist_mlp_relu_adam_two_epochs_reaches_0975(backend, mnist_npz, fixed_blas_threads,
                                                     capsys):
    numpy_only(backend)
    mlp = load_example("mnist_mlp")
    result = mlp.main(["--activation", "relu", "--optimizer", "adam", "--epochs", "2",
                       "--verbose", "0"])
    check_last_line(capsys.readouterr().out, result)
    assert result["test_accuracy"] >= 0.975, result


@pytest.mark.slow
def test_mnist_softmax_one_epoch(backend, mnist_npz, fixed_blas_threads, capsys):
    numpy_only(backend)
    softmax = load_example("mnist_softmax")
    result = softmax.main(["--epochs", "1", "--verbose", "0"])
    check_last_line(capsys.readouterr().out, result)
    assert result["test_accuracy"] >= 0.88, result
