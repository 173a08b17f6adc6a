"""`keras.callbacks.TensorBoard`: the event files, read back with TensorBoard's reader.

The tags, steps and runs are tf.keras 2.21's (tf_keras/callbacks.py,
`TensorBoard`): `epoch_<name>` at step epoch in `train` and (without `val_`)
in `validation`, `evaluation_<name>_vs_iterations` at step
`optimizer.iterations` in `validation`, `batch_<name>` every `update_freq`
batches at the global batch count, `<weight>/histogram` every
`histogram_freq` epochs, and the model config as `keras`.
"""

from __future__ import annotations

import glob
import json
import os
import sys

import numpy as np
import pytest

import kerasette as keras
from kerasette.callbacks.tensorboard import TensorBoard, histogram_buckets

try:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.histogram.summary_v2 import histogram_pb
    from tensorboard.util import tensor_util
    HAVE_TB = True
except ImportError:
    HAVE_TB = False

needs_tb = pytest.mark.skipif(
    not HAVE_TB, reason="the `tensorboard` package is not installed "
                        "(pip install kerasette[tensorboard])")


def _read(run_dir) -> dict:
    """{tag: [(step, value)]} of every event file in `run_dir`, in order."""
    acc = EventAccumulator(str(run_dir), size_guidance={"tensors": 0})
    acc.Reload()
    return {tag: [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
            for tag in acc.Tags()["tensors"]}


def _scalars(events) -> list:
    return [(step, float(value)) for step, value in events]


def _data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = (x.sum(axis=1) > 0).astype("float32").reshape(-1, 1)
    return x, y


def _model(optimizer="sgd"):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.layers.Dense(4, activation="relu", input_shape=(3,)),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer, "binary_crossentropy", metrics=["accuracy"])
    return model


@needs_tb
def test_epoch_scalars_are_history_with_tf_keras_tags(tmp_path):
    x, y = _data()
    model = _model()
    history = model.fit(x[:16], y[:16], epochs=3, batch_size=4, verbose=0,
                        validation_data=(x[16:], y[16:]),
                        callbacks=[TensorBoard(log_dir=tmp_path)])
    assert sorted(os.listdir(tmp_path)) == ["train", "validation"]
    assert len(glob.glob(str(tmp_path / "train" / "events.out.tfevents.*"))) == 1
    train, val = _read(tmp_path / "train"), _read(tmp_path / "validation")
    assert sorted(train) == ["epoch_accuracy", "epoch_loss", "keras"]  # constant lr: none
    assert sorted(val) == ["epoch_accuracy", "epoch_loss", "evaluation_accuracy_vs_iterations",
                           "evaluation_loss_vs_iterations"]
    h = history.history
    for name in ("loss", "accuracy"):
        assert _scalars(train["epoch_" + name]) == [
            (epoch, float(np.float32(v))) for epoch, v in enumerate(h[name])]
        assert _scalars(val["epoch_" + name]) == [
            (epoch, float(np.float32(v))) for epoch, v in enumerate(h["val_" + name])]
        # After each validation, at the training steps done so far (4 a epoch).
        assert _scalars(val[f"evaluation_{name}_vs_iterations"]) == [
            (4 * (epoch + 1), float(np.float32(v))) for epoch, v in enumerate(h["val_" + name])]


@needs_tb
@pytest.mark.parametrize("update_freq, steps", [("batch", [1, 2, 3, 4, 5, 6]), (4, [4])])
def test_batch_scalars_are_what_a_batch_callback_sees(tmp_path, update_freq, steps):
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(dict(logs)))
    x, y = _data(12)
    _model().fit(x, y, epochs=2, batch_size=4, verbose=0,
                 callbacks=[TensorBoard(tmp_path, update_freq=update_freq), record])
    train = _read(tmp_path / "train")
    assert sorted(train) == ["batch_accuracy", "batch_loss", "epoch_accuracy", "epoch_loss",
                             "keras"]
    for name in ("loss", "accuracy"):
        # Step k is the k-th batch of the fit (counted across epochs from 1).
        assert _scalars(train["batch_" + name]) == [
            (k, float(np.float32(seen[k - 1][name]))) for k in steps]


@needs_tb
def test_batch_logs_are_read_only_at_the_batches_written(tmp_path):
    # A spy after the callback sees whether it forced the (lazy) batch logs,
    # that is, whether it waited for the device.
    read = []
    spy = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: read.append(logs.computed))
    x, y = _data(24)
    _model().fit(x, y, epochs=1, batch_size=4, verbose=0,
                 callbacks=[TensorBoard(tmp_path, update_freq=3, write_graph=False), spy])
    assert read == [False, False, True, False, False, True]


@needs_tb
def test_epoch_logging_asks_for_no_batch_hooks():
    # No batch hook, so no per-batch host read of the logs.
    assert not TensorBoard(update_freq="epoch")._implements_hook("on_train_batch_end")
    assert TensorBoard(update_freq=10)._implements_hook("on_train_batch_end")
    assert not TensorBoard(update_freq=10)._implements_hook("on_train_batch_begin")
    assert TensorBoard(update_freq=10, write_steps_per_second=True)._implements_hook(
        "on_train_batch_begin")


@needs_tb
def test_weight_histograms_every_histogram_freq_epochs(tmp_path):
    x, y = _data(8)
    model = keras.Sequential([keras.layers.Dense(4, input_shape=(3,)),
                              keras.layers.BatchNormalization(), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    model.fit(x, y, epochs=3, batch_size=4, verbose=0,
              callbacks=[TensorBoard(tmp_path, histogram_freq=2, write_graph=False)])
    train = _read(tmp_path / "train")
    weights = {w.name.replace(":", "_") + "/histogram": w for w in model.weights}
    assert "dense/kernel_0/histogram" in weights
    assert "batch_normalization/moving_variance_0/histogram" in weights  # non-trainable too
    assert sorted(t for t in train if t.endswith("/histogram")) == sorted(weights)
    for tag, weight in weights.items():
        assert [step for step, _ in train[tag]] == [0, 2]
        for _, buckets in train[tag]:
            assert buckets.shape == (30, 3) and buckets.dtype == np.float64
            assert buckets[:, 2].sum() == np.prod(weight.shape)
        # The last epoch's histogram is that of the final weights.
        np.testing.assert_array_equal(train[tag][-1][1], histogram_buckets(weight.numpy()))


@needs_tb
@pytest.mark.parametrize("values", [
    np.random.default_rng(3).normal(size=(7, 5)).astype("float32"),
    np.zeros(6, "float32"),  # a fresh bias: all equal
    np.arange(31, dtype="float32"),  # the maximum falls in the last bucket
    np.zeros(0, "float32"),
])
def test_histogram_buckets_are_tensorboards(values):
    expected = tensor_util.make_ndarray(histogram_pb("t", values).value[0].tensor)
    np.testing.assert_allclose(histogram_buckets(values), expected, rtol=0, atol=1e-12)


@needs_tb
def test_learning_rate_of_a_schedule_is_logged_as_tf_keras(tmp_path):
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)
    x, y = _data(8)
    _model(keras.optimizers.SGD(schedule)).fit(x, y, epochs=2, batch_size=4, verbose=0,
                                                callbacks=[TensorBoard(tmp_path)])
    train = _read(tmp_path / "train")
    # The rate for the next step: schedule(iterations) after 2 and 4 steps.
    assert _scalars(train["epoch_learning_rate"]) == [
        (0, float(np.float32(schedule(2)))), (1, float(np.float32(schedule(4))))]
    assert float(np.float32(schedule(4))) == pytest.approx(0.025)


@needs_tb
def test_evaluate_writes_evaluation_scalars(tmp_path):
    x, y = _data(8)
    model = _model()
    model.fit(x, y, epochs=1, batch_size=4, verbose=0)  # 2 steps
    result = model.evaluate(x, y, verbose=0, return_dict=True,
                            callbacks=[TensorBoard(tmp_path, write_graph=False)])
    assert sorted(os.listdir(tmp_path)) == ["validation"]
    val = _read(tmp_path / "validation")
    assert sorted(val) == ["evaluation_accuracy_vs_iterations", "evaluation_loss_vs_iterations"]
    assert _scalars(val["evaluation_loss_vs_iterations"]) == [
        (2, float(np.float32(result["loss"])))]


@needs_tb
def test_graph_is_the_model_config_for_tensorboards_graph_tab(tmp_path):
    from tensorboard.plugins.graph import keras_util

    x, y = _data(8)
    model = _model()
    model.fit(x, y, epochs=1, verbose=0, callbacks=[TensorBoard(tmp_path)])
    (step, value), = _read(tmp_path / "train")["keras"]
    config = json.loads(value.item().decode("utf-8"))
    assert step == 0 and config == json.loads(model.to_json())
    graph = keras_util.keras_model_to_graph_def(config)  # what the Graphs tab draws
    assert [node.name for node in graph.node][-2:] == [
        f"{model.name}/{layer.name}" for layer in model.layers]


@needs_tb
def test_files_keep_the_finished_epochs_when_fit_stops(tmp_path):
    x, y = _data(8)

    def stop(epoch, logs):
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _model().fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=[
            TensorBoard(tmp_path), keras.callbacks.LambdaCallback(on_epoch_end=stop)])
    assert [s for s, _ in _read(tmp_path / "train")["epoch_loss"]] == [0, 1]


@pytest.mark.parametrize("kwargs, match", [
    ({"update_freq": "often"}, "update_freq"),
    ({"update_freq": 0}, "update_freq"),
    ({"histogram_freq": -1}, "histogram_freq"),
    ({"profile_batch": (5, 2)}, "profile_batch"),
    ({"profile_batch": "a,b"}, "profile_batch"),
    ({"write_summaries": True}, "write_summaries"),
])
def test_bad_arguments_are_refused_before_training(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TensorBoard(**kwargs)


@needs_tb
@pytest.mark.parametrize("kwargs, match", [
    ({"profile_batch": "500,520"}, "profile_batch"),
    ({"profile_batch": 3}, "profile_batch"),
    ({"write_images": True}, "write_images"),
    ({"embeddings_freq": 1}, "embeddings_freq"),
    ({"write_grads": True}, "write_grads"),
])
def test_what_is_not_written_is_said(kwargs, match):
    with pytest.warns(UserWarning, match=match):
        TensorBoard(**kwargs)


def test_missing_tensorboard_says_what_to_install(monkeypatch):
    # A None entry in sys.modules makes the import fail as if not installed.
    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.event_file_writer", None)
    with pytest.raises(ImportError, match=r"pip install kerasette\[tensorboard\]"):
        TensorBoard(log_dir="logs")
