"""`compile`, `fit`, `evaluate`, `predict` and the `*_on_batch` methods.

The training step is: forward under a tape, the compiled loss (the fused
from-logits path when the output is softmax or sigmoid), one backward
sweep, one optimizer update in place, and metric updates on the device.
Host floats are read only for display and at epoch end.
"""

from __future__ import annotations

import _thread
import functools
import numbers
import warnings

import numpy as np

from kerasette import backend as _backend
from kerasette import callbacks as callbacks_module
from kerasette import optimizers as optimizers_module
from kerasette.autodiff.tape import GradientTape
from kerasette.callbacks.logs import LazyLogs
from kerasette.autodiff.tensor import Tensor
from kerasette.training import data as data_module
from kerasette.training import validation
from kerasette.training.compile_utils import (CompiledLoss, CompiledMetrics, MultiCompiledLoss,
                                              MultiCompiledMetrics)
from kerasette.backend import threads as _threads
from kerasette.backend.host_allocator import tune_host_allocator
from kerasette.training.fast_step import FastStep
from kerasette.utils import interrupts, tree
from kerasette.utils.string_data import is_string_dtype


class _CallLock(_thread.RLock):
    """A model's lock for `fit`, `evaluate`, `predict` and the `*_on_batch`
    methods. Re-entrant, so a callback or a custom step may call `predict`
    inside `fit`; copied and pickled as a new, free lock (a lock belongs to
    one process), so models stay deep-copyable and picklable."""

    def __reduce__(self):
        return (_CallLock, ())


def _one_call_at_a_time(method):
    """Runs `method` holding the model's lock, so that calls from several
    threads on one model run one after another: they share the model's
    metric state, weights and scratch buffers, and two `evaluate` calls
    interleaving batches reported each other's results. The lock costs
    well under a microsecond per call and nothing per step."""

    @functools.wraps(method)
    def one_at_a_time(self, *args, **kwargs):
        lock = self.__dict__.get("_call_lock")
        if lock is None:  # made on first use; setdefault is atomic, so one per model
            lock = self.__dict__.setdefault("_call_lock", _CallLock())
        with lock:
            return method(self, *args, **kwargs)

    return one_at_a_time


class Trainer:
    """The training API of `Model` (mixed in).

    Threads: `fit`, `evaluate`, `predict` and the `*_on_batch` methods may
    be called on one model from several threads; each call holds the
    model's lock, so they run one after another (a `predict` sent while
    another thread runs `fit` waits for `fit` to end). Different models run
    in parallel. Calling the model itself (`model(x)`) takes no lock.
    """

    _compiled = False
    stop_training = False
    history = None
    optimizer = None

    # -- compile -----------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=None, steps_per_execution=None,
                jit_compile=None, **kwargs):
        """Configures the model for training.

        Args:
            optimizer: name (`"adam"`, `"sgd"`, `"rmsprop"`, ...) or instance.
            loss: name (`"mse"`, `"categorical_crossentropy"`, ...), a
                `kerasette.losses.Loss`, or a function `fn(y_true, y_pred)`.
                For a model with several outputs: one loss for all, a list
                in output order, or a dict by output name (the name of the
                layer making the output).
            metrics: list of names (`"accuracy"`, `"acc"`, `"mae"`, ...),
                `Metric` objects or functions; reported under the name given.
                For several outputs: a flat list (every output), a list of
                lists, or a dict by output name; reported as
                `OUTPUTNAME_METRICNAME`, after `OUTPUTNAME_loss` per output.
            loss_weights: a finite, non-negative number multiplying the loss
                (or a list or dict holding one, for the one output); for
                several outputs, a list or dict of them (missing names weigh 1).
            weighted_metrics: metrics that take `sample_weight`/`class_weight`.
            run_eagerly, steps_per_execution, jit_compile: accepted for
                compatibility; kerasette always runs eagerly.

        Example:
            >>> import kerasette as keras
            >>> m = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
            >>> m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
            >>> m.metrics_names
            ['loss', 'mae']
        """
        given_loss = loss
        ends = self._graph_ends()
        if ends is not None and len(ends[1]) == 1:
            # tf.keras 2 takes per-output forms for one output too.
            loss, metrics, weighted_metrics = (
                _for_one_output(value, self.output_names, what) for value, what in
                ((loss, "loss"), (metrics, "metrics"), (weighted_metrics, "weighted_metrics")))
        validation.check_compile(self.compile, optimizer, loss, metrics, weighted_metrics, kwargs,
                                 loss_weights=loss_weights)
        self.optimizer = optimizers_module.get(optimizer)
        self.loss = given_loss
        if ends is not None and len(ends[1]) > 1:
            # One loss, weight and metric list per output (tf.keras 2's names).
            self.compiled_loss = MultiCompiledLoss(loss, loss_weights, self.output_names)
            self.compiled_metrics = MultiCompiledMetrics(metrics, weighted_metrics,
                                                         self.compiled_loss)
        else:
            self.compiled_loss = CompiledLoss(loss, loss_weights)
            self.compiled_metrics = CompiledMetrics(metrics, weighted_metrics,
                                                    self.compiled_loss.loss)
        self._compiled = True
        self.stop_training = False

    def _require_compiled(self):
        if not self._compiled:
            raise RuntimeError("You must compile your model before training/testing. Use "
                               "`model.compile(optimizer, loss)`.")

    @property
    def metrics_names(self) -> list:
        """`["loss", *metric names]` as given to `compile`."""
        if not self._compiled:
            return []
        return ["loss"] + list(self.compiled_metrics.names)

    @property
    def metrics(self) -> list:
        """The metric objects (the loss tracker first), once built."""
        return self.compiled_metrics.all() if self._compiled else []

    def _x_dtype(self):
        """The dtype inputs are cast to, batch by batch: the model's float
        dtype, or the integer dtype of a graph model's one integer input
        (token ids stay integers)."""
        ends = self._graph_ends()
        if ends is not None and len(ends[0]) == 1 and (
                is_string_dtype(ends[0][0].dtype) or np.dtype(ends[0][0].dtype).kind in "iu"):
            return ends[0][0].dtype  # "string": text stays on the host (utils/string_data.py)
        return self.dtype

    def _input_dtypes(self):
        """Per input of a graph model with several inputs, its dtype where
        it is an integer one and None (the model's float dtype) otherwise;
        None for other models."""
        ends = self._graph_ends()
        if ends is None:
            return None
        return [t.dtype if is_string_dtype(t.dtype) or np.dtype(t.dtype).kind in "iub" else None
                for t in ends[0]]

    def _graph_ends(self):
        """`(input tensors, output tensors)` of a model built as a graph of
        layers (whose data may come as lists or dicts of arrays, by input
        and output name), or None."""
        return None

    # -- what the input checks and the direct step learn from the model -------------------
    # `validation` and `fast_step` ask the model through these rather than
    # import the model classes (which import the trainer, which imports
    # them); a model kind that knows more (Sequential) overrides them.
    def _uses_default_step(self, step: str) -> bool:
        """Whether `step` ("train_step", "test_step") is the trainer's own,
        not one a subclass overrides (which may not use `y`, say)."""
        return getattr(type(self), step) is getattr(Trainer, step)

    def _declared_input_shape(self):
        """The batch-first input shape inputs are checked against, or None
        when the model declares none (a subclassed model takes any)."""
        return None

    def _checked_output_shape(self, x=None):
        """The batch-first output shape targets are checked against, or
        None when unknown. A model that `fit` would build from `x` may
        build itself from it first."""
        return None

    def _layer_chain(self):
        """The layers in call order when the model is one chain of them,
        each feeding the next (what the direct step can replace); None
        otherwise."""
        return None

    # -- steps ---------------------------------------------------------------------------
    def train_step(self, batch):
        """One optimisation step on a device batch; updates the metrics."""
        _require_targets(batch, "fit")
        with GradientTape() as tape:
            y_pred = self(batch.x, training=True)
            loss = self.compiled_loss(batch.y, y_pred, batch.sample_weight, self.losses)
        variables = self.trainable_variables
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        self.compiled_metrics.update(batch.y, y_pred, batch.sample_weight, loss, batch.size)

    def test_step(self, batch):
        """Loss and metrics on a device batch, without a tape."""
        _require_targets(batch, "evaluate")
        y_pred = self(batch.x, training=False)
        loss = self.compiled_loss(batch.y, y_pred, batch.sample_weight, self.losses)
        self.compiled_metrics.update(batch.y, y_pred, batch.sample_weight, loss, batch.size)

    def _lazy_logs(self):
        return LazyLogs(self.compiled_metrics.results)

    # -- fit -----------------------------------------------------------------------------------
    @_one_call_at_a_time
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, **kwargs):
        """Trains the model for a number of epochs.

        Args:
            x: inputs: a NumPy array (any numeric dtype; cast per batch), a
                list, an h5py dataset (read batch by batch), a generator of
                `(x, y[, sample_weight])`, or a `kerasette.utils.Sequence`.
                For a model with several inputs: a list of arrays in input
                order, or a dict by input name.
            y: targets (None when `x` yields them); for several outputs, a
                list in output order or a dict by output name.
            batch_size: samples per step (default 32).
            epochs: index of the last epoch (training runs from
                `initial_epoch` to `epochs`).
            verbose: `"auto"`, 0 (silent), 1 (progress bar) or 2 (one line
                per epoch). `"auto"` is 1 in a terminal, 2 otherwise.
            callbacks: list of `kerasette.callbacks.Callback`.
            validation_split: fraction of the samples, taken from the end
                before shuffling, held out for validation.
            validation_data: `(x_val, y_val[, sample_weight])`, a generator
                or a Sequence, evaluated after each epoch.
            shuffle: shuffle the sample order each epoch (by index).
            class_weight: `{class index: weight}` applied to the loss.
            sample_weight: per-sample loss weights; for several outputs, one
                array for all, or a list or dict of arrays per output.
            initial_epoch: epoch to start from (for resuming).
            steps_per_epoch: batches per epoch (for generators; for arrays,
                a cap).
            validation_steps: batches per validation run.
            validation_batch_size: batch size for validation arrays.
            validation_freq: validate every n epochs, or at the listed epochs.

        Returns:
            A `History` whose `.history` maps `loss`, the metrics and their
            `val_` versions to per-epoch lists.
        """
        x, y, sample_weight, validation_data = validation.check_fit(
            self, x, y, sample_weight, validation_data, kwargs, batch_size=batch_size,
            epochs=epochs, validation_split=validation_split, class_weight=class_weight,
            initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch,
            validation_steps=validation_steps, validation_batch_size=validation_batch_size,
            validation_freq=validation_freq)
        batch_size = 32 if batch_size is None else int(batch_size)
        _tune_allocator()
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = data_module.split_validation(
                x, y, sample_weight, validation_split)
        train = data_module.make_data(x, y, sample_weight, batch_size, shuffle=bool(shuffle),
                                      class_weight=class_weight, steps=steps_per_epoch,
                                      x_dtypes=self._input_dtypes())
        val = self._validation_data(validation_data, validation_batch_size or batch_size,
                                    validation_steps)
        steps = steps_per_epoch or train.steps()
        verbose = callbacks_module.resolve_verbose(verbose)
        cb = callbacks_module.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                           model=self, verbose=verbose, epochs=epochs, steps=steps)
        self.history = cb.history
        self.stop_training = False
        self._ensure_built(train)
        try:
            # Ctrl-C lands between two steps, never inside one (interrupts.py).
            # BLAS threads fitted to the machine's free cores (backend/threads.py).
            with _threads.blas_threads_for(self, batch_size), interrupts.StepGuard() as guard:
                self._fit_epochs(cb, guard, train, val, steps_per_epoch, initial_epoch,
                                 epochs, validation_freq)
        except BaseException as exc:
            self._abort_fit(cb, exc)
            raise
        return self.history

    def _abort_fit(self, cb, exception):
        """After `fit` stopped on `exception`: leave the model ready to fit again.

        The weights are those after the last completed step; `model.history`
        holds the finished epochs. Callbacks get `on_train_abort` to close
        their files and the progress bar; `fit` then re-raises.
        """
        self.stop_training = False
        cb.on_train_abort(exception)  # first: files are closed whatever fails next
        self.compiled_metrics.reset()  # a partial epoch must not leak into the next fit

    def _fit_epochs(self, cb, guard, train, val, steps_per_epoch, initial_epoch, epochs,
                    validation_freq):
        """`fit`'s loop over epochs, from `on_train_begin` to `on_train_end`."""
        cb.on_train_begin()
        # BackupAndRestore may have put back an interrupted run: go on from there.
        initial_epoch, skip_steps = _resume_point(cb, initial_epoch)
        stream = _BatchStream(train, steps_per_epoch, self._x_dtype())
        logs = {}
        listening = cb._should_call_train_batch_hooks
        # The direct step for chains of built-in layers (bit-identical; fast_step.py).
        fast = FastStep.build(self)
        x_dtype = stream.x_dtype  # the same for the validation batches
        for epoch in range(initial_epoch, epochs):
            self.compiled_metrics.reset()
            cb.on_epoch_begin(epoch)
            # Re-reads the load now and then (backend/threads.py).
            for step, batch in enumerate(guard.steps(_threads.rechecking(stream.epoch()))):
                if skip_steps:  # the steps the interrupted run had done in this epoch
                    skip_steps -= 1
                    continue
                if listening:
                    cb.on_train_batch_begin(step)
                if fast is None or not fast(batch):
                    self.train_step(batch)
                if listening:
                    cb.on_train_batch_end(step, self._lazy_logs())
                if self.stop_training:
                    break
            guard.end_step()  # after a break: a Ctrl-C deferred in the last step
            if stream.ran_out and not stream.took_any:
                warnings.warn("Your input ran out of data; interrupting training. Make sure "
                              "the generator can yield `steps_per_epoch * epochs` batches.",
                              UserWarning, stacklevel=3)
                break
            logs = self.compiled_metrics.results()
            if val is not None and _should_validate(epoch, validation_freq):
                val_logs = self._run_evaluation(val, cb=cb, fast=fast, x_dtype=x_dtype)
                logs.update({"val_" + k: v for k, v in val_logs.items()})
            cb.on_epoch_end(epoch, logs)
            train.on_epoch_end()
            if self.stop_training:
                break
        cb.on_train_end(logs)

    def _validation_data(self, validation_data, batch_size, steps):
        if validation_data is None:
            return None
        if data_module.is_batch_source(validation_data):
            return data_module.make_data(validation_data, steps=steps)
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("`validation_data` must be (x_val, y_val) or (x_val, y_val, "
                             f"sample_weight), a generator or a Sequence. Received: "
                             f"{type(validation_data).__name__}")
        xv, yv, swv = (tuple(validation_data) + (None,))[:3]
        return data_module.make_data(xv, yv, swv, batch_size, x_dtypes=self._input_dtypes())

    def _ensure_built(self, data):
        if not self.built and isinstance(data, data_module.ArrayData):
            # _maybe_build records the shape too (`model.input_shape`).
            self._maybe_build((None,) + tuple(data.x.shape[1:]))

    def _run_evaluation(self, data, cb, fast=None, x_dtype=None):
        self.compiled_metrics.reset()
        if cb is not None:
            cb.on_test_begin()
        # Batch logs are made only for callbacks that look at test batches.
        listening = cb is not None and getattr(cb, "_should_call_test_batch_hooks", True)
        if x_dtype is None:
            x_dtype = self._x_dtype()
        for step, batch in enumerate(_threads.rechecking(data.epoch(x_dtype))):
            if listening:
                cb.on_test_batch_begin(step)
            if fast is None or not fast.evaluate(batch):
                self.test_step(batch)
            if listening:
                cb.on_test_batch_end(step, self._lazy_logs())
        logs = self.compiled_metrics.results()
        if cb is not None:
            cb.on_test_end(logs)
        return logs

    # -- evaluate / predict ----------------------------------------------------------------------
    @_one_call_at_a_time
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, **kwargs):
        """Loss and metrics of the model on data, in inference mode.

        Returns:
            The loss (a float) when there are no metrics, else
            `[loss, *metrics]`; with `return_dict=True`, a dict by name.
        """
        x, y, sample_weight = validation.check_evaluate(self, x, y, sample_weight, kwargs,
                                                        batch_size=batch_size, steps=steps)
        batch_size = 32 if batch_size is None else int(batch_size)
        _tune_allocator()
        data = data_module.make_data(x, y, sample_weight, batch_size, steps=steps,
                                     x_dtypes=self._input_dtypes())
        self._ensure_built(data)
        verbose = callbacks_module.resolve_verbose(verbose)
        cb = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                           verbose=verbose, epochs=1, steps=data.steps())
        with _threads.blas_threads_for(self, batch_size):
            logs = self._run_evaluation(data, cb)
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values

    @_one_call_at_a_time
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None, **kwargs):
        """The model's outputs for `x`, as one NumPy array (float32); for a
        model with several outputs, a list (or dict) of arrays shaped like
        the model's outputs, as tf.keras 2 returns them.

        Runs in inference mode (dropout off, batch norm on its moving
        statistics) and builds no autodiff graph.
        """
        x = validation.check_predict(self, x, kwargs, batch_size=batch_size, steps=steps)
        batch_size = 32 if batch_size is None else int(batch_size)
        verbose = callbacks_module.resolve_verbose(verbose)
        if (verbose == 0 and not callbacks and steps is None and isinstance(x, np.ndarray)
                and 0 < len(x) <= batch_size and self.built):
            # One silent batch (a single row, say): no callbacks to call, no
            # batching to do; the answer a predict loop would give, sooner.
            batch = data_module.to_device(x, x_dtype=self._x_dtype())
            return self(batch.x, training=False).numpy()
        _tune_allocator()
        data = data_module.make_data(x, None, None, batch_size, steps=steps,
                                     x_dtypes=self._input_dtypes())
        self._ensure_built(data)
        cb = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                           verbose=verbose, epochs=1, steps=data.steps())
        cb.on_predict_begin()
        outputs = []
        structure = None  # the outputs' list or dict, for a model with several
        with _threads.blas_threads_for(self, batch_size):
            for step, batch in enumerate(_threads.rechecking(data.epoch(self._x_dtype()))):
                cb.on_predict_batch_begin(step)
                out = self(batch.x, training=False)
                if isinstance(out, (list, tuple, dict)):
                    structure = out
                    outputs.append(tree.map_structure(lambda t: t.numpy(), out))
                else:
                    outputs.append(out.numpy())
                cb.on_predict_batch_end(step, {"outputs": outputs[-1]})
        cb.on_predict_end()
        if not outputs:
            raise ValueError("predict() received no batches.")
        if structure is not None:
            # tf.keras 2 returns the structure the model returns (a list for
            # a list of outputs, a dict for a dict), each output concatenated.
            columns = zip(*(tree.flatten(batch) for batch in outputs))
            return tree.pack_like(structure, [np.concatenate(c, axis=0) for c in columns])
        return np.concatenate(outputs, axis=0)

    # -- single batches -----------------------------------------------------------------------
    @_one_call_at_a_time
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       reset_metrics=True, return_dict=False):
        """One optimisation step on one batch; returns its loss (and metrics)."""
        x, y, sample_weight = validation.check_on_batch(self, "train_on_batch", x, y,
                                                        sample_weight, class_weight)
        data = data_module.make_data(x, y, sample_weight, data_module.num_samples(x),
                                     class_weight=class_weight, x_dtypes=self._input_dtypes())
        self._ensure_built(data)
        if reset_metrics:
            self.compiled_metrics.reset()
        for batch in data.epoch(self._x_dtype()):
            self.train_step(batch)
        return self._batch_result(return_dict)

    @_one_call_at_a_time
    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        """Loss (and metrics) of one batch in inference mode."""
        x, y, sample_weight = validation.check_on_batch(self, "test_on_batch", x, y,
                                                        sample_weight)
        data = data_module.make_data(x, y, sample_weight, data_module.num_samples(x),
                                     x_dtypes=self._input_dtypes())
        self._ensure_built(data)
        if reset_metrics:
            self.compiled_metrics.reset()
        for batch in data.epoch(self._x_dtype()):
            self.test_step(batch)
        return self._batch_result(return_dict)

    @_one_call_at_a_time
    def predict_on_batch(self, x):
        """The outputs for one batch, as a NumPy array."""
        if validation.nested_io(self) is not None:
            x = validation.check_predict(self, x, {}, batch_size=None, steps=None)
            data = data_module.make_data(x, batch_size=data_module.num_samples(x),
                                         x_dtypes=self._input_dtypes())
            batch = next(iter(data.epoch(self._x_dtype())))
            return tree.map_structure(lambda t: t.numpy(), self(batch.x, training=False))
        if not isinstance(x, Tensor):
            x = data_module.as_samples(x, "x")
            validation.check_predict_on_batch(self, x)
        batch = data_module.to_device(x, x_dtype=self._x_dtype())
        return self(batch.x, training=False).numpy()

    def _batch_result(self, return_dict):
        logs = self.compiled_metrics.results()
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names]
        return values[0] if len(values) == 1 else values


def _require_targets(batch, method):
    """A `ValueError` for a batch without targets reaching the default steps
    (a generator or Sequence yielding x alone, which `predict` takes)."""
    if batch.y is None:
        raise ValueError(
            f"{method}() received batches with no targets: the generator or Sequence yields x "
            "alone (no (x, y) tuples). Only predict() takes such batches; yield (x, y) or "
            "(x, y, sample_weight) to train or evaluate, or override train_step/test_step.")


def _resume_point(cb, initial_epoch):
    """`(epoch, steps to skip in it)` where `fit` goes on: where a callback
    that restored a backup says (`_resume_at`, set in its
    `on_train_begin`: BackupAndRestore), else `(initial_epoch, 0)`."""
    for callback in cb:
        resume = getattr(callback, "_resume_at", None)
        if resume is not None:
            return resume
    return initial_epoch, 0


def _for_one_output(value, names, what):
    """A per-output `loss` or metrics list for a model with one output (a
    dict by its name, a list of one loss or of one metric list) as the value
    itself; anything else as given."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in names:
        return value[names[0]]
    if isinstance(value, (list, tuple)) and len(value) == 1 and (
            what == "loss" or isinstance(value[0], (list, tuple))):
        return value[0]
    return value


class _BatchStream:
    """An epoch's batches; with `steps_per_epoch` the epochs draw that many
    batches from one continuing stream (cycling through array data)."""

    def __init__(self, data, steps_per_epoch, x_dtype):
        self.data = data
        self.steps = steps_per_epoch
        self.x_dtype = x_dtype
        self._it = None
        self.ran_out = False
        self.took_any = True

    def epoch(self):
        """The batches of the next epoch (an iterator)."""
        if isinstance(self.data, data_module.GeneratorData):
            return self._generator_epoch()
        if self.steps is None:
            return self.data.epoch(self.x_dtype)  # arrays and Sequences never run out
        return self._cycling_epoch()

    def _generator_epoch(self):
        self.took_any = False
        for batch in self.data.epoch(self.x_dtype):
            self.took_any = True
            yield batch
        self.ran_out = self.data.exhausted

    def _cycling_epoch(self):
        for _ in range(self.steps):
            if self._it is None:
                self._it = self.data.epoch(self.x_dtype)
            try:
                yield next(self._it)
            except StopIteration:
                self._it = self.data.epoch(self.x_dtype)
                yield next(self._it)


def _should_validate(epoch, freq):
    if isinstance(freq, numbers.Integral):
        return (epoch + 1) % int(freq) == 0
    return (epoch + 1) in freq


def _tune_allocator():
    """Host-memory reuse for the training loop (see backend/host_allocator.py)."""
    if _backend.get_backend().name != "cupy":
        tune_host_allocator()
