"""`ProgbarLogger`: Keras's progress bar and epoch lines; `resolve_verbose`.

What it prints, as tf.keras 2 does:

* `verbose=1`: `Epoch 3/10` (when `epochs > 1`), then a bar redrawn in
  place (`132/469 [=======>......................] - ETA: 1s - loss: ...`),
  and when the epoch ends its final line with every epoch metric, the
  `val_` ones included::

      Epoch 3/10
      469/469 [==============================] - 2s 4ms/step - loss: 0.0742 - val_loss: 0.0811

* `verbose=2`: the `Epoch` line and one line per epoch, no bar::

      Epoch 3/10
      469/469 - 2s - loss: 0.0742 - val_loss: 0.0811 - 2s/epoch - 4ms/step

* `verbose=0`: nothing.

Numbers print with 4 decimals, or in `.4e` notation when their magnitude is
at most 1e-3. The running bar is drawn by tqdm (imported on first use) at
most every `refresh_interval` seconds, and the batch logs are read only for
those redraws, so the bar costs a clock read per batch and no host sync.
"""

from __future__ import annotations

import numbers
import sys
import time

from kerasette.callbacks._checks import as_float
from kerasette.callbacks.base import Callback

__all__ = ["ProgbarLogger", "resolve_verbose"]

_BAR_WIDTH = 30


def _in_notebook() -> bool:
    if "google.colab" in sys.modules:
        return True
    ipython = sys.modules.get("IPython")  # never import it: only ask if it runs
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if get_ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def _stdout_is_terminal() -> bool:
    try:
        return bool(sys.stdout.isatty())
    except (AttributeError, ValueError):  # None, or closed
        return False


def resolve_verbose(verbose) -> int:
    """The verbosity `fit`, `evaluate` and `predict` use, as 0, 1 or 2.

    `"auto"` is 1 (a progress bar) when standard output is a terminal or in
    a notebook, and 2 (one line per epoch) otherwise, so that logs written to
    files or pipes hold no bar redraws.

    Args:
        verbose: `"auto"`, 0, 1, 2, or a bool (`True` is 1).

    Returns:
        0, 1 or 2.

    Raises:
        ValueError: for any other value.

    Example:
        >>> from kerasette.callbacks import resolve_verbose
        >>> resolve_verbose(2), resolve_verbose(True)
        (2, 1)
    """
    if isinstance(verbose, str):
        if verbose == "auto":
            return 1 if _stdout_is_terminal() or _in_notebook() else 2
    elif isinstance(verbose, (bool, numbers.Integral)) and int(verbose) in (0, 1, 2):
        return int(verbose)
    raise ValueError(
        "Argument `verbose` must be 'auto', 0 (silent), 1 (progress bar) or 2 "
        f"(one line per epoch). Received: verbose={verbose!r}"
    )


# -- Keras's number and time formats --------------------------------------------------
def format_value(value) -> str:
    """A logged value as Keras shows it: `0.1234`, or `1.2340e-04` when small."""
    number = as_float(value)
    if number is None:
        return str(value)
    return f"{number:.4f}" if abs(number) > 1e-3 else f"{number:.4e}"


def format_logs(logs) -> str:
    """`" - loss: 0.1234 - accuracy: 0.9500"` for the given logs."""
    return "".join(f" - {key}: {format_value(value)}" for key, value in logs.items())


def format_time(seconds: float, unit: str) -> str:
    """`" 2s/epoch"`, `" 4ms/step"` or `" 950us/step"`, as Keras's Progbar."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit}"
    return f" {seconds * 1e6:.0f}us/{unit}"


def _format_eta(seconds: float) -> str:
    seconds = int(seconds)
    if seconds > 3600:
        return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if seconds > 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return f"{seconds}s"


def _format_bar(seen: int, target: int) -> str:
    """Keras's `[=====>........]`, 30 characters between the brackets."""
    filled = int(_BAR_WIDTH * min(seen / target, 1.0)) if target > 0 else _BAR_WIDTH
    bar = ""
    if filled > 0:
        bar = "=" * (filled - 1) + (">" if seen < target else "=")
    return "[" + bar + "." * (_BAR_WIDTH - filled) + "]"


def _format_count(seen: int, target: int | None) -> str:
    if target:
        return f"{seen:{len(str(target))}d}/{target}"
    return f"{seen:7d}/Unknown"


_BAR_CLASS = None


def _bar_class():
    """A tqdm bar showing Keras's line, `count [====>....] - ETA: 1s - loss: ...`.

    tqdm redraws the line in place, trims it to the terminal's width and
    clears it when closed; the text is Keras's, set before each redraw.
    """
    global _BAR_CLASS
    if _BAR_CLASS is None:
        from tqdm import tqdm  # imported on first use: `import kerasette` stays light

        class KerasBar(tqdm):
            # ProgbarLogger decides when to redraw, so tqdm's monitor thread
            # (which adjusts its own redraw rate) is not needed.
            monitor_interval = 0

            def __init__(self, *args, keras_line="", **kwargs):
                self.keras_line = keras_line
                super().__init__(*args, **kwargs)

            @property
            def format_dict(self):
                d = super().format_dict
                d["keras_line"] = self.keras_line
                return d

        _BAR_CLASS = KerasBar
    return _BAR_CLASS


class ProgbarLogger(Callback):
    """Prints the progress bar (`verbose=1`) or one line per epoch (`verbose=2`).

    `fit`, `evaluate` and `predict` add one when `verbose` is not 0; the
    verbosity comes from `params["verbose"]`. Inside `fit`, the validation
    pass prints nothing of its own: its metrics end the epoch's line.

    Args:
        count_mode: `"steps"` or `"samples"`, accepted for tf.keras
            compatibility; kerasette always counts steps (batches).
        stateful_metrics: accepted for compatibility. The logs kerasette's
            loop reports are already running averages, shown as they are.

    Attributes:
        refresh_interval: the least time in seconds between two redraws of
            the bar (0.1).

    Example:
        >>> from kerasette.callbacks import ProgbarLogger
        >>> bar = ProgbarLogger()
        >>> bar.set_params({"verbose": 2, "epochs": 1, "steps": 3})
        >>> bar.on_train_begin()
        >>> bar.on_epoch_begin(0)
        >>> bar.on_epoch_end(0, {"loss": 0.25, "accuracy": 0.0001})  # doctest: +ELLIPSIS
        3/3 - 0s - loss: 0.2500 - accuracy: 1.0000e-04 - ...s/epoch - ...s/step
    """

    refresh_interval = 0.1

    def __init__(self, count_mode: str = "samples", stateful_metrics=None):
        super().__init__()
        if count_mode not in ("samples", "steps"):
            raise ValueError("ProgbarLogger: argument `count_mode` must be 'steps' or "
                             f"'samples'. Received: count_mode={count_mode!r}")
        self.count_mode = count_mode
        self.stateful_metrics = set(stateful_metrics or ())
        self.verbose = 1
        self.epochs = 1
        self.target = None
        self._called_in_fit = False
        self._bar = None
        self._begin()

    def set_params(self, params):
        super().set_params(params)
        self.verbose = resolve_verbose(params.get("verbose", 1))
        self.epochs = params.get("epochs") or 1
        self.target = params.get("steps")

    def _implements_hook(self, hook: str) -> bool:
        if "batch" in hook:
            # The bar needs the batches; the epoch line only needs to count
            # them when the number of steps is unknown.
            return self.verbose == 1 or (self.verbose == 2 and not self.target)
        return super()._implements_hook(hook)

    # -- hooks ---------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._called_in_fit = True  # validation inside fit is silent

    def on_train_end(self, logs=None):
        self._called_in_fit = False
        self._close_bar()

    def on_train_abort(self, exception):
        # Clear the running bar, so the traceback (or the next fit) starts on
        # a clean line, and let a later evaluate() draw its own.
        self._called_in_fit = False
        self._close_bar()

    def on_epoch_begin(self, epoch, logs=None):
        self._begin()
        if self.verbose and self.epochs > 1:
            self._write(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        # The hot path: a clock read per batch; logs are read only to redraw.
        self._seen = batch + 1
        if self.verbose == 1:
            now = time.perf_counter()
            if now >= self._next_draw:
                self._draw(now, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._begin()

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self.on_train_batch_end(batch, logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finish(logs)

    def on_predict_begin(self, logs=None):
        self._begin()

    def on_predict_batch_end(self, batch, logs=None):
        self.on_train_batch_end(batch, None)  # never show the predictions

    def on_predict_end(self, logs=None):
        self._finish(logs)

    # -- drawing -------------------------------------------------------------------------
    def _begin(self) -> None:
        """Starts a bar: an epoch, an evaluation or a prediction."""
        self._close_bar()
        self._seen = 0
        self._start = time.perf_counter()
        self._first = None  # (time, steps) at the first redraw
        self._next_draw = float("-inf")

    def _step_time(self, now: float) -> float:
        # As Keras: leave the first step (compilation, warm-up) out when possible.
        if self._first is not None and self._seen > self._first[1]:
            return (now - self._first[0]) / (self._seen - self._first[1])
        return (now - self._start) / max(self._seen, 1)

    def _draw(self, now: float, logs) -> None:
        self._next_draw = now + self.refresh_interval
        if self._first is None:
            self._first = (now, self._seen)
        if self.target:
            eta = self._step_time(now) * (self.target - self._seen)
            info = f" - ETA: {_format_eta(eta)}"
        else:
            info = f" - {now - self._start:.0f}s{format_time(self._step_time(now), 'step')}"
        if logs:
            info += format_logs(logs)
        line = _format_count(self._seen, self.target)
        if self.target:
            line += " " + _format_bar(self._seen, self.target)
        line += info
        if self._bar is None:
            stream = sys.stdout
            if stream is None:
                return
            self._bar = _bar_class()(
                total=self.target, initial=self._seen, file=stream, bar_format="{keras_line}",
                dynamic_ncols=True, leave=False, mininterval=0, smoothing=0, keras_line=line)
        else:
            self._bar.n = self._seen
            self._bar.keras_line = line
            self._bar.refresh()

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()  # leave=False: clears the running line
            self._bar = None

    def _finish(self, logs) -> None:
        """The final line of an epoch, an evaluation or a prediction."""
        now = time.perf_counter()
        self._close_bar()
        target = self.target or self._seen
        elapsed = now - self._start
        metrics = format_logs(logs) if logs else ""
        count = _format_count(target, target)
        if self.verbose == 1:
            self._seen = target
            line = (f"{count} {_format_bar(target, target)} - {elapsed:.0f}s"
                    f"{format_time(self._step_time(now), 'step')}{metrics}")
        elif self.verbose == 2:
            line = (f"{count} - {elapsed:.0f}s{metrics} -{format_time(elapsed, 'epoch')}"
                    f" -{format_time(elapsed / max(target, 1), 'step')}")
        else:
            return
        self._write(line)

    @staticmethod
    def _write(line: str) -> None:
        stream = sys.stdout
        if stream is not None:
            stream.write(line + "\n")
            stream.flush()
