"""`CallbackList`, which drives callbacks (`Callback`, in `base`).

The training loop calls the hooks of a `CallbackList` in tf.keras 2's order:

    fit:      on_train_begin
              for each epoch:
                  on_epoch_begin(epoch)
                  for each batch: on_train_batch_begin(batch)
                                  on_train_batch_end(batch, logs)
                  when validating: on_test_begin, on_test_batch_begin/end,
                                   on_test_end(val logs without prefix)
                  on_epoch_end(epoch, logs)       # training, then val_ metrics
              on_train_end(logs of the last epoch)
    evaluate: on_test_begin, on_test_batch_begin/end..., on_test_end(logs)
    predict:  on_predict_begin, on_predict_batch_begin/end..., on_predict_end

When `fit` ends with an exception instead (Ctrl-C, or an error raised by a
callback), it calls `on_train_abort(exception)` on every callback, in place
of `on_train_end`, then re-raises: callbacks close their files there
(`CSVLogger`) and the progress bar its line. tf.keras calls nothing then.

Epochs and batches are counted from 0. Batch logs may be a `LazyLogs`
(values read from the device only when looked at); epoch logs are a dict of
Python floats.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kerasette.callbacks.base import _BATCH_HOOKS, Callback
from kerasette.callbacks.history import History
from kerasette.callbacks.misc import TerminateOnNaN, warn_if_loss_not_finite
from kerasette.callbacks.progbar import ProgbarLogger

__all__ = ["CallbackList"]

logger = logging.getLogger("kerasette")

# Per-epoch hooks called only on the callbacks that override them.
_EPOCH_HOOKS = ("on_epoch_begin", "on_test_begin", "on_test_end")


def _flatten(callbacks) -> list:
    if callbacks is None:
        return []
    if isinstance(callbacks, CallbackList):
        return list(callbacks.callbacks)
    if isinstance(callbacks, (Callback, type)) or not isinstance(callbacks, Iterable):
        callbacks = [callbacks]
    out = []
    for cb in callbacks:
        if isinstance(cb, (list, tuple)):
            out.extend(_flatten(cb))
        elif isinstance(cb, Callback):
            out.append(cb)
        elif isinstance(cb, type) and issubclass(cb, Callback):
            raise TypeError(
                f"`callbacks` must hold callback instances, but received the class "
                f"{cb.__name__}. Did you mean {cb.__name__}(...)?"
            )
        else:
            raise TypeError(
                "`callbacks` must be a list of `kerasette.callbacks.Callback` "
                f"instances. Received: {cb!r} of type {type(cb).__name__}"
            )
    return out


class CallbackList:
    """Calls each hook on a list of callbacks, in order.

    Args:
        callbacks: a list of `Callback` instances (or one callback).
        add_history: append a `History` callback unless the list has one.
            Such a list (the one `fit` makes) also warns, once, with a
            `RuntimeWarning` when an epoch's mean `loss` is NaN or infinite,
            unless it holds a `TerminateOnNaN`.
        add_progbar: append a `ProgbarLogger` unless the list has one.
        model: the model the callbacks act on (`set_model`); it also gets
            `model.history`, the `History` callback.
        **params: passed to every callback with `set_params`, e.g.
            `verbose=1, epochs=10, steps=469`.

    `History` and `ProgbarLogger` come last, as in tf.keras 2: the epoch logs
    they see include what earlier callbacks added (`lr`).

    Batch hooks are only called on the callbacks that implement them; the
    attributes `_should_call_train_batch_hooks` (and `_test_`, `_predict_`)
    tell the loop whether any does, so it can skip preparing batch logs.

    Example:
        >>> import kerasette as keras
        >>> seen = []
        >>> log_epochs = keras.callbacks.LambdaCallback(
        ...     on_epoch_end=lambda epoch, logs: seen.append((epoch, logs["loss"])))
        >>> callbacks = keras.callbacks.CallbackList(
        ...     [log_epochs], add_history=True, verbose=0, epochs=2, steps=1)
        >>> callbacks.on_train_begin()
        >>> for epoch in range(2):
        ...     callbacks.on_epoch_begin(epoch)
        ...     callbacks.on_train_batch_begin(0)
        ...     callbacks.on_train_batch_end(0, {"loss": 1.0 / (epoch + 1)})
        ...     callbacks.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
        >>> callbacks.on_train_end({"loss": 0.5})
        >>> seen
        [(0, 1.0), (1, 0.5)]
        >>> callbacks.history.history
        {'loss': [1.0, 0.5]}
    """

    def __init__(self, callbacks=None, add_history: bool = False, add_progbar: bool = False,
                 model=None, **params):
        self.callbacks = _flatten(callbacks)
        self.model = None
        self.params = {}
        # A list made for `fit` (with a History) warns once if the loss diverges.
        self._watch_loss = bool(add_history)
        self._add_default_callbacks(add_history, add_progbar)
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)
        self._sort_batch_hooks()

    def _add_default_callbacks(self, add_history: bool, add_progbar: bool) -> None:
        self._history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        self._progbar = next((cb for cb in self.callbacks if isinstance(cb, ProgbarLogger)),
                             None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger(count_mode="steps")
            self.callbacks.append(self._progbar)

    def _sort_batch_hooks(self) -> None:
        # Bound methods of the callbacks that act on each batch hook: a batch
        # hook nobody implements costs one call and an empty loop.
        for hook in _BATCH_HOOKS:
            methods = [getattr(cb, hook) for cb in self.callbacks if cb._implements_hook(hook)]
            setattr(self, "_" + hook, methods)
        self._should_call_train_batch_hooks = bool(
            self._on_train_batch_begin or self._on_train_batch_end)
        self._should_call_test_batch_hooks = bool(
            self._on_test_batch_begin or self._on_test_batch_end)
        self._should_call_predict_batch_hooks = bool(
            self._on_predict_batch_begin or self._on_predict_batch_end)
        # The hooks `fit` calls every epoch that most callbacks leave empty
        # (History, the progress bar at verbose=0): a many-epoch run of a
        # tiny model should not pay for calls that do nothing.
        for hook in _EPOCH_HOOKS:
            setattr(self, "_" + hook, [cb for cb in self.callbacks if cb._implements_hook(hook)])

    def append(self, callback: Callback) -> None:
        self.callbacks.extend(_flatten([callback]))
        self._sort_batch_hooks()

    def set_params(self, params: dict) -> None:
        self.params = params
        for callback in self.callbacks:
            callback.set_params(params)
        self._sort_batch_hooks()  # e.g. the progress bar's batch hooks depend on verbose

    def set_model(self, model) -> None:
        self.model = model
        if self._history is not None:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    @property
    def history(self):
        """The `History` callback in the list, or None."""
        return self._history

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self) -> int:
        return len(self.callbacks)

    # -- hooks called once per fit / evaluate / predict / epoch ----------------------------
    def _call(self, hook: str, logs) -> None:
        logs = {} if logs is None else logs
        for callback in self.callbacks:
            getattr(callback, hook)(logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs)

    def on_train_abort(self, exception: BaseException) -> None:
        """Calls every callback's `on_train_abort(exception)`.

        A hook that fails is logged and skipped, so that the others still
        run and `fit` re-raises the exception that stopped training, not one
        from the clean-up.
        """
        for callback in self.callbacks:
            try:
                callback.on_train_abort(exception)
            except Exception:  # noqa: BLE001 - reported, and the original wins
                logger.exception("%s.on_train_abort failed while fit was stopping on %s",
                                 type(callback).__name__, type(exception).__name__)

    def on_test_begin(self, logs=None):
        logs = {} if logs is None else logs
        for callback in self._on_test_begin:
            callback.on_test_begin(logs)

    def on_test_end(self, logs=None):
        logs = {} if logs is None else logs
        for callback in self._on_test_end:
            callback.on_test_end(logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        logs = {} if logs is None else logs
        for callback in self._on_epoch_begin:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        logs = {} if logs is None else logs
        if self._watch_loss:
            self._check_epoch_loss(epoch, logs)
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def _check_epoch_loss(self, epoch: int, logs) -> None:
        # Once per fit, from the epoch's mean loss (already a host float), so
        # that a diverged run says so without a device read per step.
        if any(isinstance(cb, TerminateOnNaN) for cb in self.callbacks):
            self._watch_loss = False  # it has spoken at the bad batch already
            return
        if warn_if_loss_not_finite(epoch, logs):
            self._watch_loss = False

    # -- batch hooks: only the callbacks that implement them ---------------------------
    def on_train_batch_begin(self, batch, logs=None):
        for hook in self._on_train_batch_begin:
            hook(batch, {} if logs is None else logs)

    def on_train_batch_end(self, batch, logs=None):
        for hook in self._on_train_batch_end:
            hook(batch, {} if logs is None else logs)

    # tf.keras 2 keeps these names on CallbackList too.
    on_batch_begin = on_train_batch_begin
    on_batch_end = on_train_batch_end

    def on_test_batch_begin(self, batch, logs=None):
        for hook in self._on_test_batch_begin:
            hook(batch, {} if logs is None else logs)

    def on_test_batch_end(self, batch, logs=None):
        for hook in self._on_test_batch_end:
            hook(batch, {} if logs is None else logs)

    def on_predict_batch_begin(self, batch, logs=None):
        for hook in self._on_predict_batch_begin:
            hook(batch, {} if logs is None else logs)

    def on_predict_batch_end(self, batch, logs=None):
        for hook in self._on_predict_batch_end:
            hook(batch, {} if logs is None else logs)
