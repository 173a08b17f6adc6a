"""Small callbacks: `TerminateOnNaN` and `LambdaCallback`."""

from __future__ import annotations

import math

from kerasette.callbacks._checks import as_float
from kerasette.callbacks.base import Callback

__all__ = ["LambdaCallback", "TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's `loss` is NaN or infinite.

    It reads the loss after every training batch, so each batch waits for
    the device to finish before the next one starts.

    Example:
        >>> import kerasette as keras
        >>> model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
        >>> guard = keras.callbacks.TerminateOnNaN()
        >>> guard.set_model(model)
        >>> guard.on_train_batch_end(7, {"loss": float("nan")})
        Batch 7: Invalid loss, terminating training
        >>> model.stop_training
        True
    """

    def on_batch_end(self, batch, logs=None):
        loss = as_float((logs or {}).get("loss"))
        if loss is not None and (math.isnan(loss) or math.isinf(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback made of plain functions, for one-off needs.

    Args:
        on_epoch_begin, on_epoch_end: called as `f(epoch, logs)`.
        on_batch_begin, on_batch_end: called as `f(batch, logs)` for
            training batches.
        on_train_begin, on_train_end: called as `f(logs)`.
        **kwargs: any other hook by name, e.g. `on_test_end=f` or
            `on_train_batch_end=f`.

    Example:
        >>> from kerasette.callbacks import LambdaCallback
        >>> losses = []
        >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: losses.append(logs["loss"]))
        >>> cb.on_epoch_end(0, {"loss": 0.5})
        >>> losses
        [0.5]
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_batch_begin=None,
                 on_batch_end=None, on_train_begin=None, on_train_end=None, **kwargs):
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_batch_begin": on_batch_begin, "on_batch_end": on_batch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end}
        for name, value in kwargs.items():
            if not name.startswith("on_") or not callable(getattr(Callback, name, None)):
                raise TypeError(f"LambdaCallback: unknown hook `{name}`. Hooks are "
                                f"{', '.join(_HOOKS)}.")
            hooks[name] = value
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not callable(fn):
                raise TypeError(f"LambdaCallback: `{name}` must be a function. "
                                f"Received: {name}={fn!r}")
            setattr(self, name, fn)


_HOOKS = sorted(name for name in vars(Callback) if name.startswith("on_"))
