"""Small callbacks: `TerminateOnNaN` and `LambdaCallback`."""

from __future__ import annotations

import math
import os
import sys
import warnings

from kerasette.callbacks._checks import as_float
from kerasette.callbacks.base import Callback

__all__ = ["LambdaCallback", "TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's `loss` is NaN or infinite.

    It prints `Batch N: Invalid loss, terminating training` (as tf.keras)
    and sets `model.stop_training`: the epoch ends there (its logs, with the
    NaN loss, reach the other callbacks) and `fit` returns. It reads the
    loss after every training batch, so each batch waits for the device to
    finish before the next one starts. Without it, `fit` only warns
    (`RuntimeWarning`, once) at the end of the first epoch whose mean loss
    is not finite, and trains on.

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


def _package_dir() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _stacklevel_outside_package() -> int:
    """The `stacklevel` that points a warning issued by our caller at user code.

    The first frame outside the kerasette package: the line calling `fit`,
    however many internal calls lie in between.
    """
    package = _package_dir() + os.sep
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def warn_if_loss_not_finite(epoch: int, logs) -> bool:
    """Warns (`RuntimeWarning`) if the epoch's mean `loss` is NaN or infinite.

    `fit` calls this (through its `CallbackList`) at the end of each epoch
    until it has warned once, when no `TerminateOnNaN` watches the batches.
    The epoch logs are host floats already, so the check costs no device read.

    Args:
        epoch: the epoch's index (from 0).
        logs: the epoch logs.

    Returns:
        Whether it warned.

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn_if_loss_not_finite(2, {"loss": float("nan")})
        True
        >>> print(caught[0].category.__name__, caught[0].message)  # doctest: +ELLIPSIS
        RuntimeWarning Epoch 3: the training loss is nan...
    """
    loss = as_float((logs or {}).get("loss"))
    if loss is None or math.isfinite(loss):
        return False
    warnings.warn(
        f"Epoch {epoch + 1}: the training loss is {loss} (not finite): training has "
        "diverged, and the weights are likely NaN or infinite now. Lower the learning "
        "rate, look for NaN or infinite values in the data, or pass "
        "callbacks=[keras.callbacks.TerminateOnNaN()] to stop at the first bad batch. "
        "(Said once per fit.)",
        RuntimeWarning, stacklevel=_stacklevel_outside_package())
    return True


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
