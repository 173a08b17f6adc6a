"""`TensorBoard`: write the training curves as TensorBoard event files.

The files are the ones tf.keras 2 writes (`log_dir/train/events.out.tfevents.*`
and `log_dir/validation/...`) with the same tags and steps, so
`tensorboard --logdir logs` shows a kerasette run exactly as a tf.keras one.
They are written with the `tensorboard` package's own event writer and
summary protobufs (`pip install kerasette[tensorboard]`), imported only when
the callback is created.
"""

from __future__ import annotations

import json
import numbers
import os
import time
import warnings

import numpy as np

from kerasette.callbacks._checks import check_int
from kerasette.callbacks.base import Callback

__all__ = ["TensorBoard"]

_NAME = "TensorBoard"
_HISTOGRAM_BUCKETS = 30  # tf.summary.histogram's default
# Arguments of the TF1 callback that tf.keras 2 still accepts, ignoring them.
_LEGACY_KWARGS = ("write_grads", "embeddings_layer_names", "embeddings_data", "batch_size")


def _tensorboard_modules():
    """The parts of the `tensorboard` package used here, or an ImportError that says
    what to install."""
    try:
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.plugins.histogram import metadata as histogram_metadata
        from tensorboard.plugins.scalar import metadata as scalar_metadata
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
        from tensorboard.util import tensor_util
    except ImportError as exc:
        raise ImportError(
            "keras.callbacks.TensorBoard writes its event files with the `tensorboard` "
            "package, which is not installed (or failed to import: "
            f"{exc}). Install it with `pip install kerasette[tensorboard]` "
            "(or `pip install tensorboard`)."
        ) from exc
    return {
        "Event": event_pb2.Event, "Summary": summary_pb2.Summary,
        "SummaryMetadata": summary_pb2.SummaryMetadata,
        "histogram_metadata": histogram_metadata.create_summary_metadata,
        "scalar_metadata": scalar_metadata.create_summary_metadata,
        "EventFileWriter": EventFileWriter, "make_tensor_proto": tensor_util.make_tensor_proto,
    }


def histogram_buckets(values, bucket_count: int = _HISTOGRAM_BUCKETS) -> np.ndarray:
    """`tf.summary.histogram`'s buckets of `values`: a float64 `(k, 3)` array of
    `[left edge, right edge, count]` rows.

    The same rule as TensorBoard's: `bucket_count` equal-width buckets from the
    minimum to the maximum (the maximum falls in the last one); all values equal
    gives buckets of zero width with everything in the last; no values, zeros.
    Counted with `bincount`, not one-hot rows, so a large kernel costs no more
    memory than a copy of it.
    """
    data = np.asarray(values, dtype=np.float64).ravel()
    if data.size == 0:
        return np.zeros((bucket_count, 3))
    low, high = float(data.min()), float(data.max())
    if high == low:
        counts = np.zeros(bucket_count)
        counts[-1] = data.size
        edges = np.full(bucket_count, low)
        return np.stack([edges, edges, counts], axis=1)
    width = (high - low) / bucket_count
    index = np.minimum(np.floor((data - low) / width).astype(np.int64), bucket_count - 1)
    counts = np.bincount(index, minlength=bucket_count).astype(np.float64)
    edges = np.linspace(low, high, bucket_count + 1)
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


class _Writer:
    """One event file (one TensorBoard run), written with tensorboard's writer."""

    def __init__(self, tb, directory: str):
        self._tb = tb
        # ".v2": the suffix of the files TF 2's summary writer makes.
        self._file = tb["EventFileWriter"](directory, filename_suffix=".v2")

    def _add(self, step: int, value) -> None:
        summary = self._tb["Summary"](value=[value])
        self._file.add_event(self._tb["Event"](wall_time=time.time(), step=int(step),
                                               summary=summary))

    def scalar(self, tag: str, value: float, step: int) -> None:
        # float32, as tf.summary.scalar stores it.
        tensor = self._tb["make_tensor_proto"](np.asarray(value, dtype=np.float32))
        metadata = self._tb["scalar_metadata"](display_name=None, description=None)
        self._add(step, self._tb["Summary"].Value(tag=tag, tensor=tensor, metadata=metadata))

    def histogram(self, tag: str, values, step: int) -> None:
        tensor = self._tb["make_tensor_proto"](histogram_buckets(values), dtype=np.float64)
        metadata = self._tb["histogram_metadata"](display_name=None, description=None)
        self._add(step, self._tb["Summary"].Value(tag=tag, tensor=tensor, metadata=metadata))

    def keras_model(self, tag: str, model_json: str, step: int) -> None:
        # What tf.keras's `keras_model_summary` writes: the model's JSON config
        # under the "graph_keras_model" plugin, which TensorBoard's Graphs tab
        # draws as the conceptual graph of the layers.
        metadata = self._tb["SummaryMetadata"]()
        metadata.plugin_data.plugin_name = "graph_keras_model"
        metadata.plugin_data.content = b"1"
        tensor = self._tb["make_tensor_proto"](np.array(model_json.encode("utf-8"),
                                                        dtype=object))
        self._add(step, self._tb["Summary"].Value(tag=tag, tensor=tensor, metadata=metadata))

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _check_update_freq(update_freq):
    if update_freq in ("batch", "epoch"):
        return 1 if update_freq == "batch" else "epoch"
    if isinstance(update_freq, numbers.Integral) and not isinstance(update_freq, bool) \
            and update_freq >= 1:
        return int(update_freq)
    raise ValueError(f"{_NAME}: argument `update_freq` must be 'epoch', 'batch' or an integer "
                     f">= 1 (write every that many batches). Received: update_freq={update_freq!r}")


def _check_profile_batch(profile_batch) -> tuple[int, int]:
    """tf.keras's rule: a non-negative int, a pair `(start, stop)` of positive ints, or
    the same as a string `"start,stop"`."""
    message = (f"{_NAME}: argument `profile_batch` must be a non-negative integer or a pair "
               "of positive integers (start, stop) with start <= stop. "
               f"Received: profile_batch={profile_batch!r}")
    value = profile_batch
    try:
        if isinstance(value, str):
            value = [int(part) for part in value.split(",")]
            value = value[0] if len(value) == 1 else value
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            start = stop = int(value)
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            start, stop = (check_int(v, "profile_batch", _NAME) for v in value)
        else:
            raise ValueError(message)
    except ValueError:
        raise ValueError(message) from None
    if start < 0 or stop < start:
        raise ValueError(message)
    return start, stop


def _as_float(value):
    """A log value as a float, or None for what is not a number (skipped)."""
    try:
        array = np.asarray(value)
    except Exception:  # noqa: BLE001 - a value of a kind no scalar can hold
        return None
    if array.shape != () or array.dtype.kind not in "biuf":
        return None
    return float(array)


class TensorBoard(Callback):
    """Writes the training curves (and weight histograms) for TensorBoard.

    Writes, as tf.keras 2.21 does:

    * at the end of each epoch, `epoch_<name>` scalars at step `epoch` (from
      0): the training logs (`epoch_loss`, `epoch_accuracy`, ...) to the
      `log_dir/train` run, the `val_` ones without the prefix to
      `log_dir/validation`. `epoch_learning_rate` joins the training ones
      when the optimizer's learning rate is a `LearningRateSchedule` (its
      value for the next step); `epoch_lr` when a callback such as
      `ReduceLROnPlateau` logs `lr`.
    * after each validation (and each `evaluate` the callback is passed to),
      `evaluation_<name>_vs_iterations` scalars in `validation` at step
      `optimizer.iterations` (the training steps done so far).
    * with `update_freq="batch"` or `N`, `batch_<name>` scalars (the running
      epoch averages, as the progress bar shows) in `train` every `N`
      batches, at step = the number of batches trained so far in this `fit`.
    * every `histogram_freq` epochs, the histogram of each weight in `train`
      as `<weight name with ':' as '_'>/histogram` (e.g.
      `dense/kernel_0/histogram`), at step `epoch`, in 30 buckets.
    * with `write_graph=True`, the model's config (tag `keras`, step 0), which
      TensorBoard's Graphs tab draws as the layer graph ("conceptual graph").
    * with `write_steps_per_second=True`, `epoch_steps_per_second` and, with
      batch logging, `batch_steps_per_second`.

    Then run `tensorboard --logdir logs` and open http://localhost:6006.

    Not written, as there is no TensorFlow underneath: the op-level graph of
    the training step (`write_graph` writes only the layer graph), profiles
    (`profile_batch` other than 0 warns and profiles nothing), weight images
    (`write_images=True` warns) and the embedding projector
    (`embeddings_freq` > 0 warns). Unlike tf.keras 2, which writes batch
    scalars only when another callback (the progress bar of `verbose=1`)
    makes `fit` call batch hooks, kerasette writes them at any `verbose`.
    Values are read from the device only at the end of each epoch, and at the
    batches that are logged.

    Args:
        log_dir: the folder of the logs, e.g. `"logs/run1"`; `train/` and
            `validation/` are made inside. Use a folder per run.
        histogram_freq: write weight histograms every that many epochs (0:
            never).
        write_graph: write the model's layer graph.
        write_images: accepted for tf.keras's signature; not written.
        write_steps_per_second: also log the training steps per second.
        update_freq: `"epoch"`, `"batch"` (every batch) or an integer `N`
            (every `N` batches) for the batch-level scalars.
        profile_batch: accepted for tf.keras's signature, checked as there (a
            non-negative int, or a pair `(start, stop)`); nothing is profiled.
        embeddings_freq: accepted for tf.keras's signature; not written.
        embeddings_metadata: accepted for tf.keras's signature; not used.
        **kwargs: tf.keras's legacy `write_grads`, `batch_size`,
            `embeddings_layer_names`, `embeddings_data` are ignored with a
            warning, as there.

    Raises:
        ImportError: if the `tensorboard` package is not installed.
        ValueError: on an argument outside the ones above.

    Example:
        >>> import os, tempfile
        >>> import numpy as np
        >>> import kerasette as keras
        >>> logs = tempfile.mkdtemp()
        >>> model = keras.Sequential([keras.layers.Dense(1, input_shape=(3,))])
        >>> model.compile("sgd", "mse")
        >>> tensorboard = keras.callbacks.TensorBoard(log_dir=logs)
        >>> history = model.fit(np.ones((8, 3)), np.ones((8, 1)), epochs=2, verbose=0,
        ...                     callbacks=[tensorboard])
        >>> sorted(os.listdir(logs))
        ['train']
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None, **kwargs):
        super().__init__()
        unknown = sorted(set(kwargs) - set(_LEGACY_KWARGS))
        if unknown:
            raise ValueError(f"{_NAME}: unrecognized arguments {unknown}. Its arguments are "
                             "log_dir, histogram_freq, write_graph, write_images, "
                             "write_steps_per_second, update_freq, profile_batch, "
                             "embeddings_freq and embeddings_metadata.")
        for name in _LEGACY_KWARGS:
            if kwargs.get(name):
                warnings.warn(f"{_NAME}: `{name}` (a TensorFlow 1 argument) is ignored, as in "
                              "tf.keras 2.", UserWarning, stacklevel=2)
        if not isinstance(log_dir, (str, os.PathLike)):
            raise ValueError(f"{_NAME}: argument `log_dir` must be a folder path. "
                             f"Received: log_dir={log_dir!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = check_int(histogram_freq, "histogram_freq", _NAME)
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = _check_update_freq(update_freq)
        self._start_batch, self._stop_batch = _check_profile_batch(profile_batch)
        self._profile_batch = profile_batch
        self.embeddings_freq = check_int(embeddings_freq, "embeddings_freq", _NAME)
        self.embeddings_metadata = embeddings_metadata
        self._tb = _tensorboard_modules()  # before training: say what to install now
        self._warn_unsupported()
        self._writers: dict[str, _Writer] = {}
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        self._train_step = 0
        self._batch_start_time = 0.0
        self._epoch_start_time = 0.0
        self._epoch_start_step = 0

    def _warn_unsupported(self) -> None:
        ignored = []
        if self._stop_batch > 0:
            ignored.append(f"profile_batch={self._profile_batch!r} (there is no TensorFlow "
                           "profiler; nothing is profiled)")
        if self.write_images:
            ignored.append("write_images=True (weights are not written as images)")
        if self.embeddings_freq:
            ignored.append(f"embeddings_freq={self.embeddings_freq} (there is no embedding "
                           "projector checkpoint)")
        if ignored:
            warnings.warn(f"{_NAME}: ignoring {'; '.join(ignored)}. The scalars and "
                          "histograms are written as in tf.keras.", UserWarning, stacklevel=3)

    # -- writers -------------------------------------------------------------------------
    def _writer(self, run: str) -> _Writer:
        # Made when first needed, as tf.keras: no empty validation run.
        if run not in self._writers:
            self._writers[run] = _Writer(self._tb, self._train_dir if run == "train"
                                         else self._val_dir)
        return self._writers[run]

    def _close_writers(self) -> None:
        writers, self._writers = self._writers, {}
        for writer in writers.values():
            writer.close()

    def _flush_writers(self) -> None:
        for writer in self._writers.values():
            writer.flush()

    def set_model(self, model) -> None:
        super().set_model(model)
        self._close_writers()  # each fit (or evaluate) writes new event files, as tf.keras
        if self.write_graph:
            self._write_model_config()

    def _write_model_config(self) -> None:
        is_graph = type(self.model).__name__ in ("Sequential", "Functional") or \
            getattr(self.model, "_is_graph_network", False)
        if not is_graph:
            return  # tf.keras writes no config for a subclassed model
        try:
            model_json = self.model.to_json()
            json.loads(model_json)
        except Exception as exc:  # noqa: BLE001 - a model that cannot say its config
            warnings.warn(f"{_NAME}: the model's graph is not written, as its config could "
                          f"not be made: {exc}", UserWarning, stacklevel=3)
            return
        self._writer("train").keras_model("keras", model_json, step=0)

    # -- which batch hooks are needed ----------------------------------------------------
    def _implements_hook(self, hook: str) -> bool:
        # Batch hooks cost a call per batch: ask for them only when batch
        # scalars are written.
        batch_logging = self.update_freq != "epoch"
        if hook == "on_train_batch_end":
            return batch_logging
        if hook == "on_train_batch_begin":
            return batch_logging and self.write_steps_per_second
        return super()._implements_hook(hook)

    # -- hooks -----------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._train_step = 0  # tf.keras resets `model._train_counter` at each fit

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_train_abort(self, exception):
        self._close_writers()  # keeps the epochs written so far

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start_step = self._iterations()
            self._epoch_start_time = time.time()

    def on_train_batch_begin(self, batch, logs=None):
        self._batch_start_time = time.time()

    def on_train_batch_end(self, batch, logs=None):
        self._train_step += 1
        if self._train_step % self.update_freq:
            return
        writer = self._writer("train")
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._batch_start_time, 1e-9)
            writer.scalar("batch_steps_per_second", 1.0 / elapsed, self._train_step)
        # Reading the logs is the host sync; only at the batches written.
        for name, value in dict(logs or {}).items():
            number = _as_float(value)
            if number is not None:
                writer.scalar("batch_" + name, number, self._train_step)

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None or not hasattr(optimizer, "iterations") or not logs:
            return
        writer = self._writer("validation")
        step = self._iterations()
        for name, value in logs.items():
            number = _as_float(value)
            if number is not None:
                writer.scalar(f"evaluation_{name}_vs_iterations", number, step)
        writer.flush()

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        self._flush_writers()  # so TensorBoard shows each epoch as it ends

    # -- what is written at the end of an epoch --------------------------------------------
    def _iterations(self) -> int:
        return int(np.asarray(self.model.optimizer.iterations.numpy()))

    def _learning_rate(self):
        """The learning rate for the next step when it comes from a schedule, as tf.keras
        logs it (`schedule(optimizer.iterations)`); None for a constant rate."""
        optimizer = getattr(self.model, "optimizer", None)
        schedule = getattr(optimizer, "_schedule", None)
        # A LearningRateSchedule (which has get_config), as tf.keras checks;
        # a plain function as learning rate is not logged there either.
        if schedule is None or not hasattr(schedule, "get_config"):
            return None
        return _as_float(schedule(self._iterations()))

    def _log_epoch_metrics(self, epoch: int, logs) -> None:
        if not logs:
            return
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        learning_rate = self._learning_rate()
        if learning_rate is not None:
            train["learning_rate"] = learning_rate
        if self.write_steps_per_second:
            elapsed = max(time.time() - self._epoch_start_time, 1e-9)
            train["steps_per_second"] = (self._iterations() - self._epoch_start_step) / elapsed
        for run, values in (("train", train), ("validation", val)):
            numbers_ = {k: _as_float(v) for k, v in values.items()}
            numbers_ = {k: v for k, v in numbers_.items() if v is not None}
            if numbers_:
                writer = self._writer(run)
                for name, value in numbers_.items():
                    writer.scalar("epoch_" + name, value, epoch)

    def _log_weights(self, epoch: int) -> None:
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                # One host copy per weight, every `histogram_freq` epochs.
                writer.histogram(weight.name.replace(":", "_") + "/histogram",
                                 weight.numpy(), epoch)
