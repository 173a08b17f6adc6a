"""Argument checks shared by the text and sequence utilities (and the
IMDB/Reuters loaders): the message names the argument, the expectation and
the value received, as every kerasette error does.

Kept here rather than in `kerasette.utils`: `kerasette.utils` re-exports
`pad_sequences` from this package, so this package imports nothing from it.
"""

from __future__ import annotations

import operator

import numpy as np

__all__ = ["check_int"]


def check_int(value, arg: str, minimum: int = 0, allow_none: bool = False):
    """`value` as a Python int `>= minimum` (or None when allowed), else a `ValueError`.

    Example:
        >>> check_int(3, "maxlen")
        3
        >>> check_int(-1, "maxlen", allow_none=True)
        Traceback (most recent call last):
        ...
        ValueError: Argument `maxlen` must be None or an integer >= 0. Received: maxlen=-1
    """
    if value is None and allow_none:
        return None
    number = None
    if not isinstance(value, (bool, np.bool_)):
        try:
            number = operator.index(value)
        except TypeError:
            number = None
    if number is None or number < minimum:
        expect = f"an integer >= {minimum}"
        if allow_none:
            expect = "None or " + expect
        raise ValueError(f"Argument `{arg}` must be {expect}. Received: {arg}={value!r}")
    return number
