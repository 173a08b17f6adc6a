"""`fit` stopped by Ctrl-C or by an exception in a callback.

What must hold afterwards: the exception is re-raised; the weights are those
after exactly the completed steps (never half an optimizer update); the
history holds the finished epochs; CSVLogger's file is closed and holds one
row per finished epoch; the progress bar is closed; and the model fits
again. The last test sends a real SIGINT to a training child process at
random moments and checks, each time, that the model equals a replay of
exactly `optimizer.iterations` steps.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

import kerasette as keras
from step_callbacks import AtStep
from kerasette.training.interrupts import CriticalSection, StepGuard

ROWS, BATCH = 96, 16  # 6 steps per epoch
STEPS = ROWS // BATCH
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(keras.__file__)))


@pytest.fixture
def once(backend):
    """Backend-independent tests (signals, subprocesses) run once."""
    if backend.name != "numpy":
        pytest.skip("backend-independent; runs under the numpy parameter")


@pytest.fixture
def default_sigint():
    """Python's own SIGINT handler, whatever the test runner installed."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(ROWS, 5)).astype("float32")
    y = rng.integers(0, 3, size=ROWS)
    return x, y


def _model(seed=7):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.layers.Dense(16, activation="relu", input_shape=(5,)),
        keras.layers.Dropout(0.2),
        keras.layers.BatchNormalization(),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _state(model):
    """Weights (moving statistics included) and optimizer variables, on the host."""
    return ([np.array(w) for w in model.get_weights()]
            + [v.numpy() for v in model.optimizer.variables])


def _assert_same(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        assert u.dtype == v.dtype and u.shape == v.shape
        assert u.tobytes() == v.tobytes()  # bit for bit


class RaiseAt(keras.callbacks.Callback):
    """Raises `error` in `hook` at (epoch, batch); `batch=None` for epoch hooks."""

    def __init__(self, error, epoch, batch=None, hook="on_train_batch_end"):
        super().__init__()
        self.error, self.at, self.batch, self.hook = error, epoch, batch, hook
        self.epoch = None
        setattr(self, hook, self._maybe_raise)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def _maybe_raise(self, index, logs=None):
        if self.batch is None and index == self.at:
            raise self.error
        if self.batch is not None and self.epoch == self.at and index == self.batch:
            raise self.error


class StopAt(AtStep):
    """Sets `stop_training` after (epoch, batch): the same steps, stopped cleanly."""

    def on_train_batch_end(self, batch, logs=None):
        if self.reached(batch):
            self.model.stop_training = True


class RecordSteps(keras.callbacks.Callback):
    """Keeps the model's state after each completed step."""

    def __init__(self):
        super().__init__()
        self.states = []

    def on_train_batch_end(self, batch, logs=None):
        self.states.append(_state(self.model))


class Hooks(keras.callbacks.Callback):
    """Records which of the train-level hooks ran."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append("on_train_begin")

    def on_train_end(self, logs=None):
        self.calls.append("on_train_end")

    def on_train_abort(self, exception):
        self.calls.append(("on_train_abort", type(exception).__name__))


def _csv_rows(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines[0].startswith("epoch,")
    return lines[1:]


def _open_paths():
    """Files this process holds open (Linux), or None where /proc is missing."""
    fd_dir = "/proc/self/fd"
    if not os.path.isdir(fd_dir):
        return None
    paths = set()
    for fd in os.listdir(fd_dir):
        try:
            paths.add(os.readlink(os.path.join(fd_dir, fd)))
        except OSError:
            pass
    return paths


@pytest.mark.parametrize("hook, completed", [
    ("on_train_batch_end", 2 * STEPS + 4),   # raised after step 3 of epoch 2 ran
    ("on_train_batch_begin", 2 * STEPS + 3),  # raised before it ran
])
def test_keyboard_interrupt_in_a_batch_callback(tmp_path, capsys, hook, completed):
    x, y = _data()
    epoch, batch = 2, 3
    reference = _model()
    reference.fit(x, y, batch_size=BATCH, epochs=5, verbose=0,
                  callbacks=[StopAt(epoch, batch - (hook == "on_train_batch_begin"))])
    assert int(reference.optimizer.iterations) == completed

    model = _model()
    steps, hooks = RecordSteps(), Hooks()
    csv_path = tmp_path / "log.csv"
    log = keras.callbacks.CSVLogger(csv_path)
    ckpt = keras.callbacks.ModelCheckpoint(str(tmp_path / "ckpt-{epoch:02d}.weights.h5"),
                                           save_weights_only=True)
    bar = keras.callbacks.ProgbarLogger()
    bar.refresh_interval = 0.0  # draw at every batch: the bar is open when it stops
    callbacks = [hooks, steps, log, ckpt, RaiseAt(KeyboardInterrupt(), epoch, batch, hook), bar]
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=BATCH, epochs=5, verbose=1, callbacks=callbacks)

    # Weights: exactly the completed steps, as a clean stop after them gives.
    assert int(model.optimizer.iterations) == completed == len(steps.states)
    _assert_same(_state(model), steps.states[-1])
    _assert_same(_state(model), _state(reference))
    # History, CSV rows and checkpoints: the finished epochs.
    assert model.history.epoch == list(range(epoch))
    assert len(model.history.history["loss"]) == epoch
    assert log.csv_file is None
    open_now = _open_paths()
    assert open_now is None or str(csv_path) not in open_now
    assert [row.split(",")[0] for row in _csv_rows(csv_path)] == ["0", "1"]
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01.weights.h5", "ckpt-02.weights.h5",
                                            "log.csv"]  # no temporary files left
    # Callbacks: abort instead of end; the bar is closed; the model is reset.
    assert hooks.calls == ["on_train_begin", ("on_train_abort", "KeyboardInterrupt")]
    assert bar._bar is None
    assert model.stop_training is False
    assert float(model.metrics[0].result()) == 0.0
    capsys.readouterr()

    # And it trains again, from where it stopped.
    history = model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0, callbacks=[log])
    assert len(history.history["loss"]) == 2
    assert np.isfinite(history.history["loss"]).all()
    assert int(model.optimizer.iterations) == completed + 2 * STEPS
    assert len(_csv_rows(csv_path)) == 2 and log.csv_file is None


def test_error_in_on_epoch_end(tmp_path):
    x, y = _data()
    model = _model()
    hooks = Hooks()
    log = keras.callbacks.CSVLogger(tmp_path / "log.csv")
    # The failing callback comes first: the epoch it fails in is not finished,
    # so the callbacks after it (CSVLogger, History) never see it.
    failing = RaiseAt(ValueError("disk full"), epoch=1, hook="on_epoch_end")
    with pytest.raises(ValueError, match="disk full"):
        model.fit(x, y, batch_size=BATCH, epochs=4, verbose=0,
                  callbacks=[failing, hooks, log])
    assert model.history.epoch == [0] and len(model.history.history["loss"]) == 1
    assert len(_csv_rows(tmp_path / "log.csv")) == 1 and log.csv_file is None
    assert hooks.calls == ["on_train_begin", ("on_train_abort", "ValueError")]
    assert int(model.optimizer.iterations) == 2 * STEPS  # the epoch's steps did run
    assert len(model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0).history["loss"]) == 1


def test_error_in_on_train_begin_closes_files_opened_before(tmp_path):
    x, y = _data()
    model = _model()
    log = keras.callbacks.CSVLogger(tmp_path / "log.csv")

    class NeedsGPU(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            raise RuntimeError("no GPU")

    with pytest.raises(RuntimeError, match="no GPU"):
        model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0, callbacks=[log, NeedsGPU()])
    assert log.csv_file is None
    assert model.history.history == {} and int(model.optimizer.iterations) == 0


def test_a_failing_abort_hook_is_logged_and_the_original_error_wins(caplog):
    x, y = _data()
    model = _model()

    class BadCleanup(keras.callbacks.Callback):
        def on_train_abort(self, exception):
            raise OSError("cannot close")

    hooks = Hooks()
    with caplog.at_level(logging.ERROR, logger="kerasette"):
        with pytest.raises(KeyboardInterrupt):
            model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0,
                      callbacks=[BadCleanup(), hooks,
                                 RaiseAt(KeyboardInterrupt(), epoch=0, batch=1)])
    assert hooks.calls[-1] == ("on_train_abort", "KeyboardInterrupt")  # still ran
    assert "BadCleanup.on_train_abort failed" in caplog.text


def test_lambda_callback_takes_the_abort_hook():
    x, y = _data()
    model = _model()
    seen = []
    cb = keras.callbacks.LambdaCallback(on_train_abort=lambda exc: seen.append(repr(exc)))
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0,
                  callbacks=[cb, RaiseAt(KeyboardInterrupt(), epoch=0, batch=0)])
    assert seen == ["KeyboardInterrupt()"]


# -- the SIGINT guard ------------------------------------------------------------------
def test_sigint_inside_a_step_waits_for_its_end(once, default_sigint):
    done = []
    with pytest.raises(KeyboardInterrupt):
        with StepGuard() as guard:
            assert guard.installed
            for i in guard.steps(range(5)):
                if i == 1:
                    signal.raise_signal(signal.SIGINT)
                done.append(i)  # the rest of the step still runs
    assert done == [0, 1]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_sigint_in_the_same_step_raises_at_once(once, default_sigint):
    done = []
    with pytest.raises(KeyboardInterrupt):
        with StepGuard() as guard:
            for i in guard.steps(range(5)):
                signal.raise_signal(signal.SIGINT)
                done.append(i)
                signal.raise_signal(signal.SIGINT)
                done.append("not reached")
    assert done == [0]


def test_sigint_in_a_step_that_breaks_out_is_raised_after_the_loop(once, default_sigint):
    after = []
    with pytest.raises(KeyboardInterrupt):
        with StepGuard() as guard:
            for i in guard.steps(range(5)):
                if i == 2:
                    signal.raise_signal(signal.SIGINT)
                    break
            guard.end_step()
            after.append("not reached")
    assert after == []


def test_sigint_between_steps_raises_at_once(once, default_sigint):
    with StepGuard() as guard:
        list(guard.steps(range(2)))
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)


def test_guard_leaves_a_users_handler_and_other_threads_alone(once):
    seen = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        with StepGuard() as guard:
            assert not guard.installed
            assert list(guard.steps(range(3))) == [0, 1, 2]
            signal.raise_signal(signal.SIGINT)
        assert seen == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGINT, previous)

    result = []

    def in_thread():
        with StepGuard() as guard:
            result.append((guard.installed, list(guard.steps(range(2)))))

    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    assert result == [(False, [0, 1])]


def test_critical_section_defers_sigint_to_its_end(once, default_sigint):
    done = []
    with pytest.raises(KeyboardInterrupt):
        with CriticalSection():
            signal.raise_signal(signal.SIGINT)
            done.append("the rest of the block")
    assert done == ["the rest of the block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):  # a second Ctrl-C does not wait
        with CriticalSection():
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)
            done.append("not reached")
    assert done == ["the rest of the block"]


def test_critical_section_inside_a_guarded_step_installs_nothing(once, default_sigint):
    with StepGuard() as guard:
        for _ in guard.steps(range(1)):
            handler = signal.getsignal(signal.SIGINT)
            with CriticalSection():
                assert signal.getsignal(signal.SIGINT) == handler  # the guard's, still


# -- a real Ctrl-C, at random moments, in a child process --------------------------------
# The child trains until it receives SIGINT, then checks that the model equals
# a replay of exactly `optimizer.iterations` steps (same seed, stopped cleanly
# by a callback): any half-applied step (some variables or Adam slots updated
# and not others, moving statistics moved without the update, the step
# counter behind the weights) makes the two differ. Trials alternate between
# a model on the general step and one on the direct step.
CHILD = r"""
import signal, sys
import numpy as np
import kerasette as keras

# A test run started in the background by a non-interactive shell (`cmd &`)
# passes SIGINT on as ignored, and Python then keeps it ignored: restore
# the handler a terminal's Ctrl-C would meet.
signal.signal(signal.SIGINT, signal.default_int_handler)

def build(trial):
    keras.utils.set_random_seed(3)
    if trial % 2:  # Dense/Dropout/softmax: fit's direct step (fast_step.py)
        middle, head, loss = keras.layers.Dropout(0.2), 3, "sparse_categorical_crossentropy"
    else:  # the general step: tape, BatchNormalization's moving statistics
        middle, head, loss = keras.layers.BatchNormalization(), 1, "mse"
    model = keras.Sequential([
        keras.layers.Dense(64, activation="relu", input_shape=(16,)),
        middle,
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(head, activation="softmax" if head > 1 else None),
    ])
    model.compile(optimizer="adam", loss=loss)
    model.build((None, 16))
    model.optimizer.build(model.trainable_variables)  # comparable states even at 0 steps
    return model

def state(model):
    return ([np.array(w) for w in model.get_weights()]
            + [v.numpy() for v in model.optimizer.variables])

class Ready(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.said = False
    def on_train_batch_end(self, batch, logs=None):
        if not self.said:
            self.said = True
            print("training", flush=True)

class StopAfter(keras.callbacks.Callback):
    def __init__(self, n):
        super().__init__()
        self.n = n
    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations) >= self.n:
            self.model.stop_training = True

rng = np.random.default_rng(0)
x = rng.normal(size=(512, 16)).astype("float32")
targets = {0: x[:, :1] * 2.0 + 0.1, 1: (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1)}
for trial in range(int(sys.argv[1])):
    y = targets[trial % 2]
    model = build(trial)
    try:
        model.fit(x, y, batch_size=32, epochs=10**6, verbose=0, callbacks=[Ready()])
        raise SystemExit("fit ended without KeyboardInterrupt")
    except KeyboardInterrupt:
        pass
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    n = int(model.optimizer.iterations)
    assert n == model.optimizer._step, (n, model.optimizer._step)  # the counter's mirror
    replay = build(trial)
    if n:
        replay.fit(x, y, batch_size=32, epochs=10**6, verbose=0, callbacks=[StopAfter(n)])
    same = all(a.tobytes() == b.tobytes() for a, b in zip(state(model), state(replay)))
    print(("same" if same else "DIFFERENT"), n, flush=True)
"""


def test_real_sigint_leaves_a_consistent_model(once):
    trials = 6
    env = dict(os.environ, KERASETTE_BACKEND="numpy", OPENBLAS_NUM_THREADS="1",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(trials)], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    watchdog = threading.Timer(60, proc.kill)  # never hang the suite
    watchdog.start()
    delays = random.Random(20240607)
    results = []
    try:
        for _ in range(trials):
            line = proc.stdout.readline()
            assert line == "training\n", line + proc.stderr.read()
            threading.Event().wait(delays.uniform(0.0, 0.15))  # mid-fit, anywhere
            os.kill(proc.pid, signal.SIGINT)
            results.append(proc.stdout.readline().split())
        _, err = proc.communicate(timeout=30)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert [r[0] for r in results] == ["same"] * trials, results
    assert len({int(r[1]) for r in results}) > 1  # interrupted at different points
