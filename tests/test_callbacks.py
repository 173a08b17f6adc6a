"""Callbacks, driven by a hand-written loop that calls the hooks as `fit` does.

`fake_fit` below follows the contract between the training loop and
`kerasette.callbacks` (tf.keras 2's order): on_train_begin; per epoch
on_epoch_begin, per batch on_train_batch_begin/end with `LazyLogs`, then the
validation pass (on_test_begin, on_test_batch_begin/end, on_test_end), then
on_epoch_end with a dict of floats (training metrics, then `val_` ones);
on_train_end with the last epoch's logs.
"""

from __future__ import annotations

import io
import logging
import math
import os
import re
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import kerasette
from kerasette import callbacks as cbks
from kerasette.callbacks import (
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LazyLogs,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgbarLogger,
    ReduceLROnPlateau,
    TerminateOnNaN,
    resolve_verbose,
)


# -- helpers -----------------------------------------------------------------------------
def make_model(cls=kerasette.Sequential, optimizer=None):
    model = cls([kerasette.layers.Dense(2, input_shape=(3,))])
    if optimizer is not None:
        model.optimizer = optimizer
    return model


def fill_weights(model, value):
    model.set_weights([np.full(w.shape, value, dtype=np.float32) for w in model.get_weights()])


class ReadCounter:
    """Batch-log computations: counts how often a `LazyLogs` was read."""

    def __init__(self, values):
        self.values = values
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return dict(self.values)


def fake_fit(callbacks, epoch_logs, model=None, steps=3, verbose=0, batch_logs=None,
             on_batch=None, val_steps=2):
    """Runs the hooks as `fit` does, with the given epoch logs.

    Args:
        epoch_logs: one dict per epoch: the logs passed to `on_epoch_end`
            (keys starting with `val_` also make a validation pass).
        batch_logs: optional function `(epoch, batch) -> dict` for the
            training batch logs (default: the epoch's non-`val_` logs).
        on_batch: optional function `(epoch, batch)` called in each batch,
            where the train step would run.

    Returns:
        `(history, callback_list, reads)`: the `History`, the list, and the
        `ReadCounter` of every batch's logs.
    """
    model = model if model is not None else make_model()
    model.stop_training = False
    callback_list = CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                 model=model, verbose=verbose, epochs=len(epoch_logs),
                                 steps=steps)
    reads = []
    callback_list.on_train_begin()
    logs = None
    for epoch, wanted in enumerate(epoch_logs):
        callback_list.on_epoch_begin(epoch)
        train = {k: v for k, v in wanted.items() if not k.startswith("val_")}
        for batch in range(steps):
            callback_list.on_train_batch_begin(batch)
            if on_batch is not None:
                on_batch(epoch, batch)
            counter = ReadCounter(batch_logs(epoch, batch) if batch_logs else train)
            reads.append(counter)
            callback_list.on_train_batch_end(batch, LazyLogs(counter))
            if model.stop_training:
                break
        val = {k[4:]: v for k, v in wanted.items() if k.startswith("val_")}
        if val:
            callback_list.on_test_begin()
            for batch in range(val_steps):
                callback_list.on_test_batch_begin(batch)
                counter = ReadCounter(val)
                reads.append(counter)
                callback_list.on_test_batch_end(batch, LazyLogs(counter))
            callback_list.on_test_end(dict(val))
        logs = dict(wanted)
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return model.history, callback_list, reads


def total_reads(reads):
    return sum(r.calls for r in reads)


class Recorder(kerasette.callbacks.Callback):
    """Records every hook call with a copy of its logs."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def _record(self, name, *args):
        *index, logs = args
        self.calls.append((name, *index, dict(logs) if logs is not None else None))


def _recording(name):
    def hook(self, *args):
        self._record(name, *args)
    return hook


for _hook in [n for n in vars(kerasette.callbacks.Callback) if n.startswith("on_")
              and n not in ("on_batch_begin", "on_batch_end")]:
    setattr(Recorder, _hook, _recording(_hook))


# -- LazyLogs -----------------------------------------------------------------------------
def test_lazy_logs_compute_once_and_only_when_read():
    counter = ReadCounter({"loss": 0.5, "accuracy": 0.25})
    logs = LazyLogs(counter)
    assert counter.calls == 0 and not logs.computed
    assert bool(logs) and (logs or {}) is logs  # truth testing reads nothing
    assert counter.calls == 0
    assert logs["loss"] == 0.5 and logs.get("accuracy") == 0.25 and logs.get("x", 3) == 3
    assert "loss" in logs and "val_loss" not in logs
    assert dict(logs) == {"loss": 0.5, "accuracy": 0.25}
    assert list(logs.keys()) == ["loss", "accuracy"] and len(logs) == 2
    assert list(logs.items()) == [("loss", 0.5), ("accuracy", 0.25)]
    assert logs == {"loss": 0.5, "accuracy": 0.25}
    assert counter.calls == 1 and logs.computed


def test_lazy_logs_refresh_and_read_only():
    counter = ReadCounter({"loss": 1.0})
    logs = LazyLogs(counter)
    assert repr(logs) == "LazyLogs(<not read yet>)"
    assert logs["loss"] == 1.0
    assert repr(logs) == "LazyLogs({'loss': 1.0})"
    logs.refresh()
    assert not logs.computed
    assert logs["loss"] == 1.0 and counter.calls == 2
    logs.refresh(lambda: {"loss": 2.0})
    assert logs["loss"] == 2.0
    with pytest.raises(TypeError):
        logs["loss"] = 3.0
    with pytest.raises(KeyError):
        logs["val_loss"]
    with pytest.raises(TypeError, match="function"):
        LazyLogs({"loss": 1.0})
    empty = LazyLogs(dict)
    assert len(empty) == 0 and not empty  # once read, truth follows the contents


# -- Callback and CallbackList -------------------------------------------------------------
def test_hooks_are_called_in_fit_order_with_the_right_logs():
    rec = Recorder()
    _, callback_list, _ = fake_fit(
        [rec], [{"loss": 0.5, "val_loss": 0.75}, {"loss": 0.25, "val_loss": 0.5}],
        steps=2, val_steps=1)
    names = [c[0] for c in rec.calls]
    epoch = ["on_epoch_begin",
             "on_train_batch_begin", "on_train_batch_end",
             "on_train_batch_begin", "on_train_batch_end",
             "on_test_begin", "on_test_batch_begin", "on_test_batch_end", "on_test_end",
             "on_epoch_end"]
    assert names == ["on_train_begin"] + epoch + epoch + ["on_train_end"]
    assert rec.calls[0] == ("on_train_begin", {})
    assert rec.calls[1] == ("on_epoch_begin", 0, {})
    assert rec.calls[3] == ("on_train_batch_end", 0, {"loss": 0.5})
    assert rec.calls[8] == ("on_test_batch_end", 0, {"loss": 0.75})
    assert rec.calls[9] == ("on_test_end", {"loss": 0.75})
    assert rec.calls[10] == ("on_epoch_end", 0, {"loss": 0.5, "val_loss": 0.75})
    assert rec.calls[-1] == ("on_train_end", {"loss": 0.25, "val_loss": 0.5})
    assert rec.params == {"verbose": 0, "epochs": 2, "steps": 2}
    assert rec.model is callback_list.model


def test_callback_list_adds_history_and_progbar_last_and_sets_model_history():
    model = make_model()
    user = EarlyStopping()
    cl = CallbackList([user], add_history=True, add_progbar=True, model=model,
                      verbose=2, epochs=3, steps=5)
    assert [type(c) for c in cl.callbacks] == [EarlyStopping, History, ProgbarLogger]
    assert model.history is cl.callbacks[1] is cl.history
    assert all(c.model is model for c in cl) and len(cl) == 3
    assert cl.callbacks[2].params == {"verbose": 2, "epochs": 3, "steps": 5}
    # Given ones are used, not duplicated.
    mine = History()
    cl = CallbackList([mine, ProgbarLogger()], add_history=True, add_progbar=True,
                      model=model)
    assert len(cl.callbacks) == 2 and model.history is mine
    assert len(CallbackList(add_history=False, add_progbar=False).callbacks) == 0
    assert CallbackList(TerminateOnNaN()).callbacks[0].__class__ is TerminateOnNaN


def test_callback_list_rejects_non_callbacks():
    with pytest.raises(TypeError, match=r"class EarlyStopping. Did you mean EarlyStopping"):
        CallbackList([EarlyStopping])
    with pytest.raises(TypeError, match="Callback"):
        CallbackList(["not a callback"])


def test_batch_hooks_reach_only_the_callbacks_that_implement_them():
    class OldStyle(kerasette.callbacks.Callback):  # tf.keras 1 names
        def __init__(self):
            super().__init__()
            self.batches = []

        def on_batch_end(self, batch, logs=None):
            self.batches.append((batch, logs["loss"]))

    quiet = [History(), EarlyStopping(), CSVLogger(os.devnull), ReduceLROnPlateau(),
             LambdaCallback(on_epoch_end=lambda e, logs: None), ModelCheckpoint("x.h5")]
    cl = CallbackList(quiet, add_progbar=True, verbose=2, epochs=1, steps=10)
    assert not cl._should_call_train_batch_hooks
    assert not cl._should_call_test_batch_hooks
    assert not cl._should_call_predict_batch_hooks

    old = OldStyle()
    cl = CallbackList([old], add_progbar=True, verbose=2, epochs=1, steps=10)
    assert cl._should_call_train_batch_hooks and not cl._should_call_test_batch_hooks
    cl.on_train_batch_end(0, {"loss": 1.5})
    cl.on_batch_end(1, {"loss": 2.5})  # the legacy name on the list too
    cl.on_test_batch_end(0, {"loss": 9.0})  # on_batch_end is for training only
    assert old.batches == [(0, 1.5), (1, 2.5)]

    # The bar needs batches at verbose=1; so do batch-level checkpoints.
    assert CallbackList([], add_progbar=True, verbose=1, epochs=1,
                        steps=10)._should_call_train_batch_hooks
    assert CallbackList([ModelCheckpoint("x.h5", save_freq=5)])._should_call_train_batch_hooks
    assert CallbackList([LambdaCallback(on_predict_batch_end=print)]
                        )._should_call_predict_batch_hooks


def test_callback_defaults():
    cb = kerasette.callbacks.Callback()
    assert cb.model is None and cb.params == {}
    for name in [n for n in vars(kerasette.callbacks.Callback) if n.startswith("on_")]:
        args = (0, {}) if ("batch" in name or "epoch" in name) else ({},)
        assert getattr(cb, name)(*args) is None


# -- History --------------------------------------------------------------------------------
def test_history_records_epochs_in_first_seen_order():
    logs = [{"loss": 0.5, "accuracy": 0.75, "val_loss": 0.625, "val_accuracy": 0.5},
            {"loss": 0.25, "accuracy": 0.875, "val_loss": 0.5, "val_accuracy": 0.625}]
    history, _, _ = fake_fit([], logs, steps=1)
    assert isinstance(history, History)
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert history.history["loss"] == [0.5, 0.25]
    assert history.history["val_accuracy"] == [0.5, 0.625]
    assert history.epoch == [0, 1]
    assert history.params == {"verbose": 0, "epochs": 2, "steps": 1}


def test_history_points_the_model_at_itself():
    model, history = make_model(), History()
    history.set_model(model)
    model.history = None
    history.on_train_begin()
    history.on_epoch_end(0, {"loss": 1.0})
    assert model.history is history


def test_each_fit_gets_a_new_history_but_a_given_one_keeps_appending():
    model = make_model()
    first, _, _ = fake_fit([], [{"loss": 1.0}], model=model)
    second, _, _ = fake_fit([], [{"loss": 0.5}, {"loss": 0.25}], model=model)
    assert first is not second and model.history is second
    assert first.history == {"loss": [1.0]} and second.history == {"loss": [0.5, 0.25]}
    mine = History()
    fake_fit([mine], [{"loss": 1.0}], model=model)
    fake_fit([mine], [{"loss": 0.5}], model=model)
    assert mine.history == {"loss": [1.0, 0.5]} and mine.epoch == [0]  # as tf.keras 2


# -- EarlyStopping ------------------------------------------------------------------------------
def run_early_stopping(values, monitor="val_loss", **kwargs):
    stop = EarlyStopping(monitor=monitor, **kwargs)
    history, _, _ = fake_fit([stop], [{"loss": 1.0, monitor: v} for v in values], steps=1)
    return stop, len(history.epoch)


def test_early_stopping_patience():
    stop, epochs = run_early_stopping([1.0, 0.9, 0.95, 0.96, 0.5, 0.4], patience=2)
    assert (stop.stopped_epoch, epochs, stop.best, stop.best_epoch) == (3, 4, 0.9, 1)
    stop, epochs = run_early_stopping([1.0, 0.9, 0.95, 0.96, 0.5, 0.4], patience=3)
    assert (stop.stopped_epoch, epochs) == (0, 6)
    stop, epochs = run_early_stopping([1.0, 1.1], patience=0)
    assert (stop.stopped_epoch, epochs) == (1, 2)


def test_early_stopping_min_delta():
    values = [1.0, 0.95, 0.91, 0.88, 0.86]
    assert run_early_stopping(values, patience=1)[1] == 5
    stop, epochs = run_early_stopping(values, patience=1, min_delta=0.1)
    assert (stop.stopped_epoch, epochs) == (1, 2)
    # The sign of min_delta does not matter.
    assert run_early_stopping(values, patience=1, min_delta=-0.1)[1] == 2


def test_early_stopping_mode():
    rising = [0.5, 0.6, 0.7, 0.8]
    assert run_early_stopping(rising, monitor="val_accuracy")[1] == 4  # auto: max
    assert run_early_stopping(rising, monitor="val_auc")[1] == 4
    assert run_early_stopping(rising, monitor="val_loss")[1] == 2  # auto: min
    assert run_early_stopping(rising, monitor="val_loss", mode="max")[1] == 4
    assert run_early_stopping(rising, monitor="val_accuracy", mode="min")[1] == 2


def test_early_stopping_baseline():
    values = [0.8, 0.7, 0.6, 0.65, 0.62]
    assert run_early_stopping(values, patience=2)[1] == 5
    # Improving but never under the baseline: patience is never reset.
    stop, epochs = run_early_stopping(values, patience=2, baseline=0.5)
    assert (stop.stopped_epoch, epochs) == (3, 4)
    assert run_early_stopping(values, patience=2, baseline=0.75)[1] == 5


def test_early_stopping_start_from_epoch():
    values = [0.5, 0.6, 0.7, 0.8]
    stop, epochs = run_early_stopping(values, patience=0)
    assert (stop.stopped_epoch, epochs) == (1, 2)
    stop, epochs = run_early_stopping(values, patience=0, start_from_epoch=2)
    assert (stop.stopped_epoch, epochs, stop.best, stop.best_epoch) == (3, 4, 0.7, 2)


@pytest.mark.parametrize("restore", [True, False])
def test_early_stopping_restores_the_best_weights(restore):
    model = make_model()
    # Stands for the training step: after epoch e the weights are all e.
    mark = LambdaCallback(on_epoch_end=lambda epoch, logs: fill_weights(model, epoch))
    stop = EarlyStopping(patience=2, restore_best_weights=restore)
    history, _, _ = fake_fit([mark, stop], [{"val_loss": v} for v in [0.5, 0.3, 0.4, 0.45, 0.1]],
                             model=model)
    assert history.epoch == [0, 1, 2, 3]
    expected = 1.0 if restore else 3.0
    for w in model.get_weights():
        np.testing.assert_array_equal(w, np.full(w.shape, expected, dtype=np.float32))


def test_early_stopping_restores_the_first_epoch_when_nothing_improves_the_baseline():
    model = make_model()
    mark = LambdaCallback(on_epoch_end=lambda epoch, logs: fill_weights(model, epoch + 10))
    stop = EarlyStopping(patience=1, baseline=0.1, restore_best_weights=True)
    fake_fit([mark, stop], [{"val_loss": v} for v in [0.5, 0.6, 0.7]], model=model)
    assert stop.stopped_epoch == 1
    np.testing.assert_array_equal(model.get_weights()[0], np.full((3, 2), 10, np.float32))


def test_early_stopping_messages_and_reuse(capsys):
    stop = EarlyStopping(patience=1, verbose=1, restore_best_weights=True)
    fake_fit([stop], [{"val_loss": v} for v in [0.5, 0.3, 0.4, 0.45]])
    out = capsys.readouterr().out
    assert "Epoch 3: early stopping" in out
    assert "Restoring model weights from the end of the best epoch: 2." in out
    # A second fit starts afresh.
    fake_fit([stop], [{"val_loss": v} for v in [0.9, 0.8]])
    assert (stop.stopped_epoch, stop.best, stop.wait) == (0, 0.8, 0)


def test_early_stopping_warns_when_the_monitor_is_missing(caplog):
    stop = EarlyStopping(patience=0)
    with caplog.at_level(logging.WARNING, logger="kerasette"):
        history, _, _ = fake_fit([stop], [{"loss": 1.0}, {"loss": 2.0}])
    assert len(history.epoch) == 2
    assert "Early stopping conditioned on metric `val_loss` which is not available" in caplog.text
    assert "Available metrics are: loss" in caplog.text


@pytest.mark.parametrize("kwargs, arg", [
    (dict(mode="maximum"), "mode"),
    (dict(patience=-1), "patience"),
    (dict(patience=1.5), "patience"),
    (dict(start_from_epoch=-2), "start_from_epoch"),
    (dict(min_delta="0.1"), "min_delta"),
    (dict(baseline="low"), "baseline"),
    (dict(monitor=""), "monitor"),
])
def test_early_stopping_rejects_bad_arguments(kwargs, arg):
    with pytest.raises(ValueError, match=f"`{arg}`"):
        EarlyStopping(**kwargs)


# -- ModelCheckpoint --------------------------------------------------------------------------
class RecordingSequential(kerasette.Sequential):
    """Test double for the file writer only: `save`/`save_weights` record their
    calls and write the weights with `np.savez`, so ModelCheckpoint's naming and
    decisions can be tested before (and independently of) the HDF5 writer."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.saved = []

    def _write(self, kind, filepath, overwrite):
        self.saved.append((kind, os.path.basename(filepath)))
        with open(filepath, "wb") as f:
            np.savez(f, *self.get_weights())

    def save(self, filepath, overwrite=True, **kwargs):
        self._write("model", filepath, overwrite)

    def save_weights(self, filepath, overwrite=True, **kwargs):
        self._write("weights", filepath, overwrite)


def run_checkpoint(tmp_path, values, filename="w.{epoch:02d}-{val_loss:.2f}.h5",
                   monitor="val_loss", **kwargs):
    model = make_model(RecordingSequential)
    mark = LambdaCallback(on_epoch_end=lambda epoch, logs: fill_weights(model, epoch))
    ckpt = ModelCheckpoint(str(tmp_path / filename), monitor=monitor, **kwargs)
    fake_fit([mark, ckpt], [{"loss": 1.0, monitor: v} for v in values], model=model)
    return model, ckpt


def test_checkpoint_names_files_from_the_logs_with_epochs_from_one(tmp_path):
    model, _ = run_checkpoint(tmp_path, [0.5, 0.4, 0.456])
    assert model.saved == [("model", "w.01-0.50.h5"), ("model", "w.02-0.40.h5"),
                           ("model", "w.03-0.46.h5")]
    assert sorted(os.listdir(tmp_path)) == ["w.01-0.50.h5", "w.02-0.40.h5", "w.03-0.46.h5"]
    with np.load(tmp_path / "w.02-0.40.h5") as saved:
        np.testing.assert_array_equal(saved["arr_0"], np.full((3, 2), 1.0, np.float32))


def test_checkpoint_save_best_only(tmp_path, capsys):
    model, ckpt = run_checkpoint(tmp_path, [0.5, 0.6, 0.4, 0.45], filename="best.h5",
                                 save_best_only=True, save_weights_only=True, verbose=1)
    assert model.saved == [("weights", "best.h5"), ("weights", "best.h5")]
    assert ckpt.best == 0.4
    with np.load(tmp_path / "best.h5") as saved:  # epoch 2 (from 0) was the best
        np.testing.assert_array_equal(saved["arr_0"], np.full((3, 2), 2.0, np.float32))
    out = capsys.readouterr().out
    assert "Epoch 1: val_loss improved from inf to 0.50000, saving model to " in out
    assert "Epoch 2: val_loss did not improve from 0.50000" in out
    assert "Epoch 3: val_loss improved from 0.50000 to 0.40000" in out


def test_checkpoint_mode_and_initial_value_threshold(tmp_path):
    model, _ = run_checkpoint(tmp_path, [0.5, 0.7, 0.6], filename="{epoch}.h5",
                              monitor="val_accuracy", save_best_only=True)
    assert [name for _, name in model.saved] == ["1.h5", "2.h5"]  # auto: max
    model, _ = run_checkpoint(tmp_path, [0.5, 0.7, 0.6], filename="{epoch}.h5",
                              monitor="val_accuracy", save_best_only=True, mode="min")
    assert [name for _, name in model.saved] == ["1.h5"]
    model, _ = run_checkpoint(tmp_path, [0.5, 0.6, 0.4], filename="{epoch}.h5",
                              save_best_only=True, initial_value_threshold=0.45)
    assert [name for _, name in model.saved] == ["3.h5"]


def test_checkpoint_every_n_batches_reads_logs_only_when_saving(tmp_path):
    model = make_model(RecordingSequential)
    ckpt = ModelCheckpoint(str(tmp_path / "{epoch}-{batch}-{loss:.1f}.h5"), save_freq=2)
    _, _, reads = fake_fit([ckpt], [{"loss": 0.5}, {"loss": 0.25}], model=model, steps=5)
    assert [name for _, name in model.saved] == [
        "1-2-0.5.h5", "1-4-0.5.h5", "2-1-0.2.h5", "2-3-0.2.h5", "2-5-0.2.h5"]
    assert total_reads(reads) == 5  # one read per save, none for the other batches


def test_checkpoint_period_and_missing_folders(tmp_path):
    model, _ = run_checkpoint(tmp_path, [0.5, 0.4, 0.3, 0.2, 0.1],
                              filename="sub/dir/{epoch}.h5", period=2)
    assert [name for _, name in model.saved] == ["2.h5", "4.h5"]
    assert sorted(os.listdir(tmp_path / "sub" / "dir")) == ["2.h5", "4.h5"]


def test_checkpoint_names_the_missing_template_key(tmp_path):
    model = make_model(RecordingSequential)
    ckpt = ModelCheckpoint(str(tmp_path / "w.{epoch:02d}-{val_loss:.2f}.h5"), monitor="loss")
    with pytest.raises(ValueError, match=r"\{val_loss\}.*'val_loss' is not in the logs.*"
                                         r"Available: accuracy, epoch, loss"):
        fake_fit([ckpt], [{"loss": 0.5, "accuracy": 0.5}], model=model)
    assert model.saved == []


def test_checkpoint_skips_when_the_monitor_is_missing(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="kerasette"):
        model, _ = run_checkpoint(tmp_path, [0.5], filename="m.h5", monitor="val_loss",
                                  save_best_only=True)
        ckpt = ModelCheckpoint(str(tmp_path / "m.h5"), monitor="val_acc", save_best_only=True)
        fake_fit([ckpt], [{"loss": 1.0}], model=model)
    assert len(model.saved) == 1
    assert "Can save best model only with val_acc available, skipping." in caplog.text


@pytest.mark.parametrize("kwargs, arg", [
    (dict(save_freq="batch"), "save_freq"),
    (dict(save_freq=0), "save_freq"),
    (dict(mode="best"), "mode"),
    (dict(period=0), "period"),
    (dict(filepath="w.{}.h5"), "filepath"),
    (dict(filepath="w.{epoch.h5"), "filepath"),
])
def test_checkpoint_rejects_bad_arguments(kwargs, arg):
    kwargs = {"filepath": "w.h5", **kwargs}
    with pytest.raises(ValueError, match=f"`{arg}`"):
        ModelCheckpoint(**kwargs)


# -- CSVLogger ------------------------------------------------------------------------------------
def test_csv_logger_writes_sorted_columns(tmp_path):
    path = tmp_path / "log.csv"
    logs = [{"loss": 0.5, "accuracy": 0.75, "val_loss": 0.625, "val_accuracy": 0.5},
            {"loss": 0.25, "accuracy": 0.875, "val_loss": 0.5, "val_accuracy": 0.625}]
    logger = CSVLogger(path)
    fake_fit([logger], logs, steps=1)
    assert path.read_bytes() == (b"epoch,accuracy,loss,val_accuracy,val_loss\r\n"
                                 b"0,0.75,0.5,0.5,0.625\r\n"
                                 b"1,0.875,0.25,0.625,0.5\r\n")
    assert logger.csv_file is None  # closed at the end of training


def test_csv_logger_separator_append_and_missing_validation(tmp_path):
    path = tmp_path / "log.csv"
    fake_fit([CSVLogger(path, separator=";", append=True)], [{"loss": 0.5}], steps=1)
    fake_fit([CSVLogger(path, separator=";", append=True)], [{"loss": 0.25}], steps=1)
    # Without validation, tf.keras 2 still adds val_ columns, holding NA.
    assert path.read_text().splitlines() == ["epoch;loss;val_loss", "0;0.5;NA", "0;0.25;NA"]
    fake_fit([CSVLogger(path)], [{"loss": 1.0, "lr": 0.01, "val_loss": 2.0}], steps=1)
    assert path.read_text().splitlines() == ["epoch,loss,lr,val_loss", "0,1.0,0.01,2.0"]


def test_csv_logger_flushes_each_epoch(tmp_path):
    path = tmp_path / "log.csv"
    seen = []
    peek = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(path.read_text()))
    fake_fit([CSVLogger(path), peek], [{"loss": 0.5}, {"loss": 0.25}], steps=1)
    assert seen[0].splitlines() == ["epoch,loss,val_loss", "0,0.5,NA"]


def test_csv_logger_rejects_a_long_separator():
    with pytest.raises(ValueError, match="`separator`"):
        CSVLogger("log.csv", separator=", ")


# -- ReduceLROnPlateau -------------------------------------------------------------------------
def lr_of(model):
    return float(model.optimizer.learning_rate)


def test_reduce_lr_on_plateau_changes_a_real_optimizer():
    model = make_model(optimizer=kerasette.optimizers.Adam(learning_rate=0.01))
    reduce = ReduceLROnPlateau(factor=0.5, patience=2)
    history, _, _ = fake_fit([reduce], [{"val_loss": v} for v in
                                        [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5]], model=model)
    # Reduced at the ends of epochs 2, 5 and 7 (from 0); `lr` logs the rate
    # used during each epoch.
    np.testing.assert_allclose(history.history["lr"],
                               [0.01] * 3 + [0.005] * 3 + [0.0025] * 2, rtol=1e-6)
    assert lr_of(model) == pytest.approx(0.00125, rel=1e-6)


def test_reduce_lr_on_plateau_min_delta_cooldown_min_lr_and_mode():
    model = make_model(optimizer=kerasette.optimizers.Adam(learning_rate=1.0))
    reduce = ReduceLROnPlateau(monitor="val_accuracy", factor=0.1, patience=1, cooldown=2,
                               min_lr=0.005, min_delta=0.01)
    values = [0.5, 0.505, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    history, _, _ = fake_fit([reduce], [{"val_accuracy": v} for v in values], model=model)
    # epoch 1: +0.005 < min_delta: reduce (cooldown 2); 2: improves, cooldown
    # 1; 3: cooldown over, no improvement: reduce; 4: cooldown; 5: reduce, to
    # min_lr rather than 0.001; then never below min_lr.
    np.testing.assert_allclose(history.history["lr"],
                               [1, 1, 0.1, 0.1, 0.01, 0.01] + [0.005] * 6, rtol=1e-6)


def test_reduce_lr_on_plateau_rate_is_used_by_the_next_step():
    w = kerasette.Variable([1.0, 2.0])
    model = make_model(optimizer=kerasette.optimizers.SGD(learning_rate=0.1))
    reduce = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0)
    fake_fit([reduce], [{"loss": 1.0}, {"loss": 1.0}], model=model)
    model.optimizer.minimize(lambda: kerasette.ops.sum(w * w), [w])  # grad 2w, lr 0.05
    np.testing.assert_allclose(w.numpy(), [0.9, 1.8], rtol=1e-6)


def test_reduce_lr_on_plateau_message(capsys):
    model = make_model(optimizer=kerasette.optimizers.Adam(learning_rate=0.001))
    fake_fit([ReduceLROnPlateau(patience=0, verbose=1)], [{"val_loss": 1.0}] * 2, model=model)
    # The float32 rate times the factor, printed as tf.keras 2 prints it.
    assert ("Epoch 2: ReduceLROnPlateau reducing learning rate to 0.00010000000474974513."
            in capsys.readouterr().out)


@pytest.mark.parametrize("kwargs, arg", [
    (dict(factor=1.0), "factor"),
    (dict(factor=2), "factor"),
    (dict(factor=-0.5), "factor"),
    (dict(patience=-1), "patience"),
    (dict(cooldown=-1), "cooldown"),
    (dict(min_lr=-1e-3), "min_lr"),
    (dict(mode="down"), "mode"),
])
def test_reduce_lr_on_plateau_rejects_bad_arguments(kwargs, arg):
    with pytest.raises(ValueError, match=f"factor >= 1.0|`{arg}`") as info:
        ReduceLROnPlateau(**kwargs)
    assert arg in str(info.value)


def test_reduce_lr_on_plateau_needs_an_optimizer():
    with pytest.raises(ValueError, match="model.optimizer"):
        fake_fit([ReduceLROnPlateau()], [{"val_loss": 1.0}])


# -- LearningRateScheduler ------------------------------------------------------------------------
def test_learning_rate_scheduler_with_epoch_and_lr():
    model = make_model(optimizer=kerasette.optimizers.Adam(learning_rate=0.01))
    seen = []
    probe = LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(lr_of(model)))
    schedule = LearningRateScheduler(lambda epoch, lr: lr if epoch < 2 else lr * 0.5)
    history, _, _ = fake_fit([schedule, probe], [{"loss": 1.0}] * 4, model=model)
    np.testing.assert_allclose(seen, [0.01, 0.01, 0.005, 0.0025], rtol=1e-6)
    np.testing.assert_allclose(history.history["lr"], seen, rtol=1e-6)


def test_learning_rate_scheduler_with_epoch_only(capsys):
    model = make_model(optimizer=kerasette.optimizers.SGD())

    def schedule(epoch):
        return 0.1 / (epoch + 1)

    fake_fit([LearningRateScheduler(schedule, verbose=1)], [{"loss": 1.0}] * 3, model=model)
    assert lr_of(model) == pytest.approx(0.1 / 3, rel=1e-6)
    out = capsys.readouterr().out
    assert "Epoch 1: LearningRateScheduler setting learning rate to 0.1." in out
    assert "Epoch 3: LearningRateScheduler setting learning rate to 0.0333" in out


def test_learning_rate_scheduler_errors():
    model = make_model(optimizer=kerasette.optimizers.SGD())
    with pytest.raises(ValueError, match='"schedule" function should be a float'):
        fake_fit([LearningRateScheduler(lambda epoch, lr: "fast")], [{"loss": 1.0}],
                 model=model)

    def broken(epoch, lr):
        raise TypeError("a bug in the schedule")

    with pytest.raises(TypeError, match="a bug in the schedule"):  # not masked
        fake_fit([LearningRateScheduler(broken)], [{"loss": 1.0}], model=model)
    with pytest.raises(TypeError, match="`schedule`"):
        LearningRateScheduler(0.1)


# -- TerminateOnNaN and LambdaCallback -------------------------------------------------------------
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_terminate_on_nan(bad, capsys):
    def batch_logs(epoch, batch):
        return {"loss": bad if (epoch, batch) == (1, 2) else 0.5}

    history, _, reads = fake_fit([TerminateOnNaN()], [{"loss": 0.5}] * 4, steps=4,
                                 batch_logs=batch_logs)
    assert history.epoch == [0, 1]
    assert len(reads) == 4 + 3  # the loop stops at the bad batch
    assert "Batch 2: Invalid loss, terminating training" in capsys.readouterr().out


def test_terminate_on_nan_leaves_finite_losses_alone():
    history, _, reads = fake_fit([TerminateOnNaN()], [{"loss": 0.5}] * 3, steps=2)
    assert history.epoch == [0, 1, 2]
    assert all(r.calls == 1 for r in reads)  # it reads every batch's loss


def test_lambda_callback_calls_the_given_functions():
    calls = []
    cb = LambdaCallback(
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, logs["loss"])),
        on_batch_begin=lambda batch, logs: calls.append(("batch_begin", batch)),
        on_batch_end=lambda batch, logs: calls.append(("batch_end", batch, logs["loss"])),
        on_train_begin=lambda logs: calls.append(("train_begin",)),
        on_train_end=lambda logs: calls.append(("train_end", logs["loss"])),
        on_test_end=lambda logs: calls.append(("test_end", logs["loss"])),
    )
    fake_fit([cb], [{"loss": 0.5, "val_loss": 0.75}], steps=2)
    assert calls == [("train_begin",), ("epoch_begin", 0), ("batch_begin", 0),
                     ("batch_end", 0, 0.5), ("batch_begin", 1), ("batch_end", 1, 0.5),
                     ("test_end", 0.75), ("epoch_end", 0, 0.5), ("train_end", 0.5)]


def test_lambda_callback_rejects_unknown_hooks():
    with pytest.raises(TypeError, match="unknown hook `on_epoch_finish`"):
        LambdaCallback(on_epoch_finish=print)
    with pytest.raises(TypeError, match="`on_epoch_end` must be a function"):
        LambdaCallback(on_epoch_end=3)


# -- progress output -----------------------------------------------------------------------------
EPOCH_LOGS = [{"loss": 0.5, "accuracy": 0.0001, "val_loss": 0.25, "val_accuracy": 0.0},
              {"loss": 0.25, "accuracy": 0.75, "val_loss": 0.125, "val_accuracy": -0.5}]


def test_verbose_2_prints_one_line_per_epoch(capsys):
    _, _, reads = fake_fit([], EPOCH_LOGS, steps=7, verbose=2)
    out = capsys.readouterr().out
    assert "\r" not in out and "[" not in out
    lines = out.splitlines()
    assert len(lines) == 4 and lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    time_ = r"\d+(s|ms|us)"
    assert re.fullmatch(r"7/7 - \d+s - loss: 0\.5000 - accuracy: 1\.0000e-04 - "
                        r"val_loss: 0\.2500 - val_accuracy: 0\.0000e\+00 - "
                        + time_ + "/epoch - " + time_ + "/step", lines[1]), lines[1]
    assert re.fullmatch(r"7/7 - \d+s - loss: 0\.2500 - accuracy: 0\.7500 - "
                        r"val_loss: 0\.1250 - val_accuracy: -0\.5000 - "
                        + time_ + "/epoch - " + time_ + "/step", lines[3]), lines[3]
    assert total_reads(reads) == 0  # neither training nor validation logs were read


def test_verbose_2_single_epoch_and_unknown_steps(capsys):
    fake_fit([], [{"loss": 0.5}], steps=12, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("12/12 - ")  # no "Epoch 1/1"
    # The number of steps unknown: counted from the batches.
    model = make_model()
    cl = CallbackList([], add_progbar=True, model=model, verbose=2, epochs=1, steps=None)
    cl.on_train_begin()
    cl.on_epoch_begin(0)
    for batch in range(9):
        cl.on_train_batch_end(batch, LazyLogs(lambda: {"loss": 1.0}))
    cl.on_epoch_end(0, {"loss": 1.0})
    assert capsys.readouterr().out.startswith("9/9 - ")


def test_an_epoch_without_batches(capsys):
    for verbose in (1, 2):
        fake_fit([], [{"loss": 0.5}], steps=0, verbose=verbose)
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("      0/Unknown [==") and out[1].startswith("      0/Unknown - ")


def test_verbose_0_prints_nothing(capsys):
    fake_fit([], EPOCH_LOGS, steps=3, verbose=0)
    bar = ProgbarLogger()
    fake_fit([bar], EPOCH_LOGS, steps=3, verbose=0)  # a given bar obeys params too
    assert capsys.readouterr().out == ""


def test_evaluate_and_predict_lines(capsys):
    for verbose in (1, 2):
        cl = CallbackList([], add_progbar=True, model=make_model(), verbose=verbose,
                          epochs=1, steps=4)
        cl.on_test_begin()
        for batch in range(4):
            cl.on_test_batch_begin(batch)
            cl.on_test_batch_end(batch, LazyLogs(lambda: {"loss": 0.25}))
        cl.on_test_end({"loss": 0.25, "accuracy": 0.5})
        cl.on_predict_begin()
        for batch in range(4):
            cl.on_predict_batch_begin(batch)
            cl.on_predict_batch_end(batch, {"outputs": np.zeros((2, 2))})
        cl.on_predict_end()
    out = capsys.readouterr().out
    final = [line.split("\r")[-1] for line in out.split("\n") if line]
    step = r" \d+(s|ms|us)/step"
    assert re.fullmatch(r"4/4 \[=+\] - \d+s" + step + r" - loss: 0\.2500 - accuracy: 0\.5000",
                        final[0]), final
    assert re.fullmatch(r"4/4 \[=+\] - \d+s" + step, final[1]), final
    assert re.fullmatch(r"4/4 - \d+s - loss: 0\.2500 - accuracy: 0\.5000 - \d+(s|ms|us)/epoch "
                        "-" + step, final[2]), final
    assert re.fullmatch(r"4/4 - \d+s - \d+(s|ms|us)/epoch -" + step, final[3]), final
    assert "outputs" not in out


def open_pty(columns):
    """A pseudo-terminal of the given width: (master fd, slave text file)."""
    pty = pytest.importorskip("pty")
    fcntl = pytest.importorskip("fcntl")
    termios = pytest.importorskip("termios")
    import struct

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    return master, os.fdopen(slave, "w", encoding="utf-8", buffering=1)


def drain(master, chunks):
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the slave side is closed
            return
        if not data:
            return
        chunks.append(data)


@pytest.mark.parametrize("columns", [200, 50])
def test_verbose_1_draws_a_bar_on_a_terminal(columns, monkeypatch):
    master, slave = open_pty(columns)
    chunks = []
    reader = threading.Thread(target=drain, args=(master, chunks), daemon=True)
    reader.start()
    try:
        monkeypatch.setattr(sys, "stdout", slave)
        assert resolve_verbose("auto") == 1
        monkeypatch.setattr(ProgbarLogger, "refresh_interval", 0.02)
        fake_fit([], EPOCH_LOGS, steps=6, verbose=1,
                 on_batch=lambda epoch, batch: time.sleep(0.01))
    finally:
        monkeypatch.undo()
        slave.close()
        reader.join(5)
        os.close(master)
    out = b"".join(chunks).decode()
    lines = out.replace("\r\n", "\n").split("\n")
    assert "Epoch 1/2" in lines and "Epoch 2/2" in lines
    # The running bar: redrawn in place, with the batch metrics and an ETA.
    running = [part for line in lines for part in line.split("\r")[:-1] if part.strip()]
    assert any(re.match(r"[1-5]/6 \[=*>?\.*\] - ETA: \d+s - loss: 0\.5000", part)
               or re.match(r"[1-5]/6 \[=*>?\.*\] - ETA", part) for part in running), out
    assert all(len(part.rstrip()) <= columns for part in running)
    # The final line of each epoch is whole, even on a narrow terminal.
    finals = [line.split("\r")[-1] for line in lines if line.split("\r")[-1].startswith("6/6")]
    assert len(finals) == 2, out
    assert re.fullmatch(r"6/6 \[={30}\] - \d+s \d+(s|ms|us)/step - loss: 0\.5000 - "
                        r"accuracy: 1\.0000e-04 - val_loss: 0\.2500 - "
                        r"val_accuracy: 0\.0000e\+00", finals[0]), finals[0]
    assert "val_accuracy: -0.5000" in finals[1]
    # Validation inside fit draws no bar of its own.
    assert not re.search(r"\b\d/2 \[", out)


def test_the_bar_reads_batch_logs_only_when_it_redraws(tmp_path):
    """10,000 fast batches: reads are bounded by the redraw rate, not the steps."""
    model = make_model(RecordingSequential, kerasette.optimizers.Adam())
    everything = [EarlyStopping(monitor="loss", patience=5), ModelCheckpoint(
        str(tmp_path / "m.h5")), CSVLogger(tmp_path / "log.csv"),
        ReduceLROnPlateau(monitor="loss"), LearningRateScheduler(lambda epoch, lr: lr),
        LambdaCallback(on_epoch_end=lambda epoch, logs: None)]
    steps = 10_000
    out = io.StringIO()
    old = sys.stdout
    sys.stdout = out
    try:
        start = time.perf_counter()
        _, _, reads = fake_fit(everything, [{"loss": 0.5, "val_loss": 0.5}], model=model,
                               steps=steps, verbose=1, val_steps=1000)
        elapsed = time.perf_counter() - start
    finally:
        sys.stdout = old
    assert total_reads(reads) <= elapsed / ProgbarLogger.refresh_interval + 2
    assert total_reads(reads[steps:]) == 0  # validation inside fit: silent, unread
    assert "10000/10000 [" in out.getvalue()
    # Without a bar, nothing is read at all.
    _, _, reads = fake_fit(everything, [{"loss": 0.5}], model=model, steps=steps, verbose=2)
    assert total_reads(reads) == 0


def test_validation_inside_fit_is_silent_and_unread(capsys, monkeypatch):
    monkeypatch.setattr(ProgbarLogger, "refresh_interval", 0.0)  # redraw at every batch
    _, _, reads = fake_fit([], [{"loss": 0.5, "val_loss": 0.25}], steps=4, verbose=1,
                           val_steps=3)
    assert [r.calls for r in reads] == [1, 1, 1, 1, 0, 0, 0]
    out = capsys.readouterr().out
    assert "/3" not in out and out.count("4/4 [") == 2  # the last redraw, the final line


def test_callback_overhead_per_batch_is_small():
    """The loop's cost per batch for History and the bar: well under 1% of a
    fast step (~100 us for a small MLP). Generous bound: 10 us per batch."""
    model = make_model()
    steps = 20_000
    cl = CallbackList([], add_history=True, add_progbar=True, model=model, verbose=1,
                      epochs=1, steps=steps)
    logs = LazyLogs(lambda: {"loss": 0.5})
    out, old = io.StringIO(), sys.stdout
    sys.stdout = out
    try:
        cl.on_train_begin()
        cl.on_epoch_begin(0)
        start = time.perf_counter()
        for batch in range(steps):
            cl.on_train_batch_begin(batch)
            logs.refresh()
            cl.on_train_batch_end(batch, logs)
        per_batch = (time.perf_counter() - start) / steps
        cl.on_epoch_end(0, {"loss": 0.5})
        cl.on_train_end()
    finally:
        sys.stdout = old
    assert per_batch < 10e-6, f"{per_batch * 1e6:.2f} us per batch"


def test_resolve_verbose(monkeypatch):
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert resolve_verbose("auto") == 2  # a pipe or a file: one line per epoch
    assert [resolve_verbose(v) for v in (0, 1, 2, True, False, np.int64(1))] == [0, 1, 2, 1, 0, 1]
    for bad in (3, -1, "yes", 1.5, None):
        with pytest.raises(ValueError, match="`verbose`"):
            resolve_verbose(bad)


def test_progbar_number_format():
    from kerasette.callbacks.progbar import format_logs, format_time

    assert format_logs({"loss": 0.12345, "a": 0.001, "b": 0.0011, "c": 0.0, "d": -2e-5,
                        "e": 12.0, "f": math.nan}) == (
        " - loss: 0.1235 - a: 1.0000e-03 - b: 0.0011 - c: 0.0000e+00 - d: -2.0000e-05"
        " - e: 12.0000 - f: nan")
    assert [format_time(t, "step") for t in (2.4, 0.0042, 4.2e-5, 0)] == [
        " 2s/step", " 4ms/step", " 42us/step", " 0s/step"]
    with pytest.raises(ValueError, match="`count_mode`"):
        ProgbarLogger(count_mode="batches")


def test_import_stays_light():
    code = ("import sys, kerasette.callbacks\n"
            "assert 'tqdm' not in sys.modules, 'tqdm imported eagerly'\n")
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                          text=True,
                          env={**os.environ, "PYTHONPATH": os.path.dirname(
                              os.path.dirname(kerasette.__file__))}, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_public_names():
    assert set(cbks.__all__) == {
        "BackupAndRestore",
        "Callback", "CallbackList", "CSVLogger", "EarlyStopping", "History", "LambdaCallback",
        "LazyLogs", "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger",
        "ReduceLROnPlateau", "TensorBoard", "TerminateOnNaN", "resolve_verbose"}
    assert all(hasattr(cbks, name) for name in cbks.__all__)
