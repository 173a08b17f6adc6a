"""BackupAndRestore: an interrupted `fit` resumes bit-identically to a run
never interrupted (weights, optimizer state, shuffling and dropout draws,
and the epoch logs of the resumed part, as tf.keras 2 reports them)."""

import json
import os

import numpy as np
import pytest

import kerasette as keras
from kerasette import layers

EPOCHS = 5


class Stop(Exception):
    """The interruption."""


class StopAt(keras.callbacks.Callback):
    """Raises at the start of `epoch` (and, with `batch`, of that batch)."""

    def __init__(self, epoch, batch=None):
        super().__init__()
        self.epoch, self.batch, self.current = epoch, batch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
        if epoch == self.epoch and self.batch is None:
            raise Stop(f"at epoch {epoch}")

    def on_train_batch_begin(self, batch, logs=None):
        if self.batch is not None and (self.current, batch) == (self.epoch, self.batch):
            raise Stop(f"at epoch {self.current}, batch {batch}")


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 5)).astype("float32")
    y = (x[:, :1] * 2 - x[:, 1:2] > 0).astype("float32")
    return x, y


def _model(seed=1):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input(shape=(5,)), layers.Dense(16, activation="relu"), layers.Dropout(0.3),
        layers.GaussianNoise(0.1), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def _fit(model, callbacks, epochs=EPOCHS):
    x, y = _data()
    return model.fit(x, y, batch_size=16, epochs=epochs, shuffle=True, validation_split=0.2,
                     verbose=0, callbacks=callbacks)


def _same_weights(a, b):
    assert len(a.get_weights()) == len(b.get_weights())
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)
    for u, v in zip(a.optimizer.variables, b.optimizer.variables):
        np.testing.assert_array_equal(u.numpy(), v.numpy())


@pytest.fixture
def reference():
    model = _model()
    history = _fit(model, [])
    return model, history.history


@pytest.mark.parametrize("fresh_model", [False, True])
def test_resume_after_an_interrupted_epoch_is_bit_identical(tmp_path, reference, fresh_model):
    ref_model, ref_history = reference
    backup_dir = tmp_path / "backup"
    backup = keras.callbacks.BackupAndRestore(backup_dir)
    model = _model()
    with pytest.raises(Stop):
        _fit(model, [backup, StopAt(2)])
    pointer = json.loads((backup_dir / "checkpoint.json").read_text())
    assert pointer["epoch"] == 1 and pointer["batch"] is None
    assert model.history.epoch == [0, 1]
    if fresh_model:  # another process, say: other initial weights and seed
        model = _model(seed=99)
        keras.utils.set_random_seed(12345)
    history = _fit(model, [backup])
    assert history.epoch == [2, 3, 4]
    for key, values in ref_history.items():
        assert history.history[key] == values[2:], key
    _same_weights(model, ref_model)
    assert model.optimizer.iterations.numpy() == ref_model.optimizer.iterations.numpy()
    assert not backup_dir.exists()  # deleted after a fit that finished


def test_resume_from_a_batch_backup_is_bit_identical(tmp_path, reference):
    ref_model, ref_history = reference
    backup = keras.callbacks.BackupAndRestore(tmp_path / "b", save_freq=4)
    model = _model()
    with pytest.raises(Stop):
        _fit(model, [backup, StopAt(2, batch=2)])  # 3 steps per epoch: 8 steps ran
    pointer = json.loads((tmp_path / "b" / "checkpoint.json").read_text())
    assert (pointer["epoch"], pointer["batch"]) == (2, 1)  # after the 8th step
    history = _fit(model, [backup])
    assert history.epoch == [2, 3, 4]
    assert history.history["loss"][1:] == ref_history["loss"][3:]
    _same_weights(model, ref_model)


def test_backup_at_the_last_batch_resumes_at_the_next_epoch(tmp_path, reference):
    ref_model, _ = reference
    backup = keras.callbacks.BackupAndRestore(tmp_path / "b", save_freq=3)
    model = _model()
    with pytest.raises(Stop):
        _fit(model, [backup, StopAt(3)])  # the 9th step, last of epoch 2, was backed up
    assert json.loads((tmp_path / "b" / "checkpoint.json").read_text())["batch"] == 2
    assert _fit(model, [backup]).epoch == [3, 4]
    _same_weights(model, ref_model)


def test_keep_checkpoint_and_a_finished_run(tmp_path):
    backup_dir = tmp_path / "keep"
    backup = keras.callbacks.BackupAndRestore(backup_dir, delete_checkpoint=False)
    model = _model()
    _fit(model, [backup], epochs=2)
    assert sorted(os.listdir(backup_dir)) == ["checkpoint.json", "ckpt-1"]
    before = model.get_weights()
    assert _fit(model, [backup], epochs=2).epoch == []  # as tf.keras: nothing left to do
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_crash_while_backing_up_keeps_the_previous_backup(tmp_path, monkeypatch):
    backup_dir = tmp_path / "b"
    backup = keras.callbacks.BackupAndRestore(backup_dir)
    model = _model()
    with pytest.raises(Stop):
        _fit(model, [backup, StopAt(1)])

    def failing(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", failing)
    with pytest.raises(OSError, match="disk full"):
        _fit(model, [backup])  # resumes at epoch 1, fails writing its backup
    monkeypatch.undo()
    assert json.loads((backup_dir / "checkpoint.json").read_text())["dir"] == "ckpt-0"
    assert _fit(model, [backup], epochs=2).epoch == [1]


def test_learning_rate_changes_are_restored(tmp_path):
    backup = keras.callbacks.BackupAndRestore(tmp_path / "b")

    class Halve(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            keras.backend.set_value(self.model.optimizer.learning_rate,
                                    keras.backend.get_value(self.model.optimizer.lr) / 2)

    model = _model()
    with pytest.raises(Stop):
        _fit(model, [Halve(), backup, StopAt(2)])
    model.optimizer.learning_rate = 1.0
    backup.on_train_begin()  # what fit runs first
    assert model.optimizer.get_config()["learning_rate"] == pytest.approx(0.0025)


@pytest.mark.parametrize("kwargs, match", [
    ({"backup_dir": None}, "backup_dir"),
    ({"backup_dir": "b", "save_freq": 0}, "save_freq"),
    ({"backup_dir": "b", "save_freq": "batch"}, "save_freq"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras.callbacks.BackupAndRestore(**kwargs)


def test_a_foreign_pointer_is_refused(tmp_path):
    (tmp_path / "checkpoint.json").write_text('{"dir": "../../etc"}')
    backup = keras.callbacks.BackupAndRestore(tmp_path)
    with pytest.raises(ValueError, match="not written by kerasette"):
        _fit(_model(), [backup], epochs=1)


def test_a_generator_without_readable_state_warns_and_still_resumes(tmp_path, monkeypatch,
                                                                     caplog, backend):
    def unreadable(self):
        raise NotImplementedError("cuRAND")

    monkeypatch.setattr(type(backend), "get_rng_state", unreadable)
    backup = keras.callbacks.BackupAndRestore(tmp_path / "b")
    model = _model()
    with caplog.at_level("WARNING", logger="kerasette"), pytest.raises(Stop):
        _fit(model, [backup, StopAt(1)])
    assert "cannot report its state" in caplog.text
    assert _fit(model, [backup], epochs=3).epoch == [1, 2]
