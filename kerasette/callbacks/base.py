"""`Callback`, the base class of callbacks.

`CallbackList` (`kerasette.callbacks.callback_list`), which drives them,
says in which order the training loop calls the hooks. This module imports
no other callback module: each callback imports it, and the list imports
the callbacks it adds for `fit`.
"""

from __future__ import annotations

__all__ = ["Callback"]

# The hooks called once per batch, and the legacy names that alias them.
_BATCH_HOOKS = {
    "on_train_batch_begin": ("on_train_batch_begin", "on_batch_begin"),
    "on_train_batch_end": ("on_train_batch_end", "on_batch_end"),
    "on_test_batch_begin": ("on_test_batch_begin",),
    "on_test_batch_end": ("on_test_batch_end",),
    "on_predict_batch_begin": ("on_predict_batch_begin",),
    "on_predict_batch_end": ("on_predict_batch_end",),
}


class Callback:
    """Base class of callbacks: subclass it and override the hooks you need.

    Hooks receive `logs`, a mapping of metric names to values:

    * `on_epoch_end(epoch, logs)`: the epoch's training metrics, then the
      validation ones prefixed with `val_` (`{"loss": 0.3, "accuracy": 0.9,
      "val_loss": 0.35, "val_accuracy": 0.88}`), as Python floats.
    * `on_train_batch_end(batch, logs)`, `on_test_batch_end`: the running
      averages over the epoch so far. Reading them waits for the device, so
      read them only when you need them.
    * `on_test_end(logs)`: the evaluation's metrics.
    * the `*_begin` hooks: an empty dict (tf.keras 2 passes nothing there).

    `on_batch_begin`/`on_batch_end` are the old names of
    `on_train_batch_begin`/`on_train_batch_end`: overriding either works.

    Attributes:
        model: the model being trained (set by `set_model`).
        params: `{"verbose": ..., "epochs": ..., "steps": ...}` (set by
            `set_params`).

    Example:
        >>> import kerasette as keras
        >>> class StopAtLoss(keras.callbacks.Callback):
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         if logs["loss"] < 0.1:
        ...             self.model.stop_training = True
        >>> stopper = StopAtLoss()
        >>> model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
        >>> stopper.set_model(model)
        >>> stopper.on_epoch_end(0, {"loss": 0.05})
        >>> model.stop_training
        True
    """

    def __init__(self):
        self.validation_data = None
        self.model = None
        self.params = {}

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model) -> None:
        self.model = model

    # -- legacy aliases of the training batch hooks ------------------------------------
    def on_batch_begin(self, batch, logs=None):
        """A backwards compatible alias of `on_train_batch_begin`."""

    def on_batch_end(self, batch, logs=None):
        """A backwards compatible alias of `on_train_batch_end`."""

    # -- fit -----------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        """Called at the beginning of `fit`."""

    def on_train_end(self, logs=None):
        """Called at the end of `fit`, with the logs of the last epoch."""

    def on_train_abort(self, exception):
        """Called instead of `on_train_end` when `fit` stops on an exception.

        `fit` re-raises `exception` (a `KeyboardInterrupt`, or the error a
        callback or the data raised) after every callback has run this hook.
        Release what `on_train_begin` acquired here (open files), without
        assuming that `on_train_begin` ran: it may be what raised. This is a
        kerasette addition; tf.keras calls no hook in that case.

        Args:
            exception: the exception that stopped training.
        """

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of each epoch of `fit` (`epoch` counts from 0)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of each epoch of `fit`, after validation, with the
        epoch's training metrics and the `val_` ones."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called before each training batch (`batch` counts from 0 each epoch)."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after each training batch with the running epoch metrics."""
        self.on_batch_end(batch, logs=logs)

    # -- evaluate, and validation inside fit ------------------------------------------
    def on_test_begin(self, logs=None):
        """Called at the beginning of `evaluate` and of each validation pass."""

    def on_test_end(self, logs=None):
        """Called at the end of `evaluate` and of each validation pass, with
        the metrics (without the `val_` prefix)."""

    def on_test_batch_begin(self, batch, logs=None):
        """Called before each batch of `evaluate` or of validation."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after each batch of `evaluate` or of validation."""

    # -- predict -------------------------------------------------------------------------
    def on_predict_begin(self, logs=None):
        """Called at the beginning of `predict`."""

    def on_predict_end(self, logs=None):
        """Called at the end of `predict`."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before each batch of `predict`."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after each batch of `predict`."""

    # -- which batch hooks are worth calling -----------------------------------------
    def _implements_hook(self, hook: str) -> bool:
        """Whether this callback does something in the batch hook `hook`.

        Batch hooks run thousands of times per epoch, so `CallbackList` calls
        them only on callbacks that override them (or one of their legacy
        aliases), in the class or as instance attributes (`LambdaCallback`).
        """
        own = getattr(self, "__dict__", {})
        for name in _BATCH_HOOKS.get(hook, (hook,)):
            if name in own or getattr(type(self), name, None) is not getattr(Callback, name):
                return True
        return False
