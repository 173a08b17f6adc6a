"""Ctrl-C during `fit`: the running training step finishes, then training stops.

Python runs a signal handler in the main thread between two bytecodes, so
the default SIGINT handler can raise `KeyboardInterrupt` anywhere inside a
training step: between the updates of two variables, between an Adam slot
update and the weight update that reads it, between the forward pass (which
moves BatchNormalization's moving statistics) and the optimizer update, or
between `iterations.data += 1` and its Python mirror. Each of those leaves a
model that no longer corresponds to any number of completed steps.

`StepGuard` closes that gap for `fit`. While it is active it replaces the
SIGINT handler with one that, inside a step, only records the signal; the
step (forward, backward, optimizer update, metric updates and the batch
callbacks) runs to its end, and `KeyboardInterrupt` is raised at the next
step boundary. Outside a step (data loading, validation, epoch callbacks)
the signal raises at once, as usual. A second Ctrl-C during the same step
raises at once too, so a step that hangs (a callback waiting on a socket)
can still be stopped; that one may cut the step short.

The guard installs its handler only in the main thread and only over
Python's default handler (or over another `StepGuard`'s, for a `fit`
called inside a callback); a handler of the user's own is left alone.

`CriticalSection` is the same deferral for one block of code outside `fit`
(a custom training loop, `train_on_batch`, an optimizer's update): inside a
guarded step of `fit` it does nothing, since the step is deferred already.

Example:
    >>> guard = StepGuard()
    >>> with guard:
    ...     done = [batch for batch in guard.steps(range(3))]
    ...     guard.end_step()
    >>> done
    [0, 1, 2]
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterable, Iterator

__all__ = ["CriticalSection", "StepGuard"]


def _is_step_guard_handler(handler) -> bool:
    return isinstance(getattr(handler, "__self__", None), StepGuard)


# The StepGuard whose handler is installed (main thread only), so that a
# CriticalSection inside one of its steps knows, for a global read, that
# it has nothing to do.
_installed_guard: StepGuard | None = None


def _in_guarded_step() -> bool:
    guard = _installed_guard
    return guard is not None and guard._in_step


def _can_install() -> bool:
    """Whether the guard may take over SIGINT here and now."""
    if threading.current_thread() is not threading.main_thread():
        return False  # signal.signal works only there, and signals arrive only there
    current = signal.getsignal(signal.SIGINT)
    return current is signal.default_int_handler or _is_step_guard_handler(current)


class StepGuard:
    """Defers SIGINT (Ctrl-C) until the running training step has finished.

    Use it as a context manager around the training loop, and iterate the
    batches through `steps()`: the code between two batches drawn from it
    is one step, which a single Ctrl-C does not cut.

    Attributes:
        installed: whether the guard's SIGINT handler is active (False in
            other threads, or when the user installed a handler of their own).
    """

    def __init__(self):
        self.installed = False
        self._previous = None
        self._outer = None
        self._in_step = False
        self._pending = False

    def __enter__(self) -> StepGuard:
        global _installed_guard
        if _can_install():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._outer, _installed_guard = _installed_guard, self
            self.installed = True
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        global _installed_guard
        if self.installed:
            signal.signal(signal.SIGINT, self._previous)
            _installed_guard, self._outer = self._outer, None
            self.installed = False
            self._previous = None
        self._in_step = False
        pending, self._pending = self._pending, False
        if pending and exc_type is None:
            # A loop that broke out after a step that received Ctrl-C and
            # never called end_step(): raise it now rather than lose it.
            raise KeyboardInterrupt
        return False

    def _handle(self, signum, frame) -> None:
        if self._in_step and not self._pending:
            self._pending = True  # raised by `end_step`, once the step is complete
            return
        raise KeyboardInterrupt  # between steps, or a second Ctrl-C

    def end_step(self) -> None:
        """Marks the end of a step: raises a Ctrl-C deferred during it.

        `steps()` calls it before drawing each batch; call it after a loop
        over `steps()` that may `break` (a closed generator cannot raise).

        Raises:
            KeyboardInterrupt: if SIGINT arrived during the step.
        """
        self._in_step = False
        if self._pending:
            self._pending = False
            raise KeyboardInterrupt

    def steps(self, batches: Iterable) -> Iterator:
        """Yields the items of `batches`; between two of them, Ctrl-C is deferred.

        A deferred Ctrl-C is raised as `KeyboardInterrupt` when the loop asks
        for the next batch, i.e. after the step's last statement. A loop that
        breaks out (stop_training) should call `end_step()` right after it;
        the guard's exit raises what is still pending.

        Args:
            batches: an iterable of batches (one epoch).

        Yields:
            The batches, one per step.
        """
        iterator = iter(batches)
        try:
            while True:
                self.end_step()
                try:
                    batch = next(iterator)  # not deferred: no step is running
                except StopIteration:
                    return
                self._in_step = True
                yield batch
        finally:
            # Also when the loop breaks out (stop_training) and closes us.
            self._in_step = False


class CriticalSection:
    """A block that one Ctrl-C does not cut: SIGINT is raised when it ends.

    For code outside `fit` that must run whole, such as the in-place update
    of an optimizer step: `with CriticalSection(): ...`. Installing and
    restoring the handler costs a few microseconds; inside a step of `fit`
    (already deferred by its `StepGuard`), in other threads, or under a
    handler of the user's own, it installs nothing. A second Ctrl-C during
    the block raises at once.

    Example:
        >>> done = []
        >>> with CriticalSection():
        ...     done.append("all of it")
        >>> done
        ['all of it']
    """

    __slots__ = ("_installed", "_pending", "_previous")

    def __enter__(self) -> CriticalSection:
        self._pending = False
        self._previous = None
        # The cheap test first: inside fit's steps this is all it costs.
        self._installed = not _in_guarded_step() and _can_install()
        if self._installed:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self._pending:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now
        self._pending = True

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
        if self._pending and exc_type is None:
            self._pending = False
            raise KeyboardInterrupt
        return False
