"""Checks of plain arguments that several packages share.

Low on purpose: the optimizers and their learning rate schedules both
check hyper-parameters, and took this check from each other (the schedules
imported the optimizers' base module, which imports the schedules).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["check_float"]


def check_float(value, arg: str, expect: str, ok: Callable[[float], bool]) -> float:
    """A hyper-parameter as a Python float, or a `ValueError` naming it.

    Python floats (not NumPy scalars) keep float32 arithmetic in float32:
    under NumPy 2, `float32_array * np.float64(0.9)` is float64.

    Args:
        value: the value received.
        arg: the argument's name, for the message.
        expect: what was expected, for the message ("a float in [0, 1)").
        ok: predicate on the float value.

    Returns:
        `float(value)`.

    Raises:
        ValueError: `value` is not a number (bools and strings are not), or
            `ok` rejects it.

    Example:
        >>> check_float("0.5", "rate", "a float in [0, 1)", lambda x: 0 <= x < 1)
        Traceback (most recent call last):
        ...
        ValueError: Argument `rate` must be a float in [0, 1). Received: rate='0.5'
    """
    number = None
    if not isinstance(value, (bool, np.bool_, str, bytes)):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
    # `not ok(...)` rather than a negated comparison so NaN is rejected too.
    if number is None or not ok(number):
        raise ValueError(f"Argument `{arg}` must be {expect}. Received: {arg}={value!r}")
    return number
