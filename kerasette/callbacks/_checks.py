"""Argument checks and the "is this an improvement?" rule shared by callbacks."""

from __future__ import annotations

import logging
import math
import numbers
from collections.abc import Callable

logger = logging.getLogger("kerasette")

MODES = ("auto", "min", "max")


def check_mode(mode, callback: str) -> str:
    """`mode` if it is "auto", "min" or "max", else a `ValueError`.

    tf.keras 2 only warns and falls back to "auto"; a typo such as
    `mode="maximum"` would then silently monitor in the wrong direction.
    """
    if mode not in MODES:
        raise ValueError(
            f"{callback}: argument `mode` must be one of 'auto', 'min' or 'max'. "
            f"Received: mode={mode!r}"
        )
    return mode


def check_monitor(monitor, callback: str) -> str:
    if not isinstance(monitor, str) or not monitor:
        raise ValueError(
            f"{callback}: argument `monitor` must be the name of a logged quantity, "
            f"such as 'val_loss' or 'val_accuracy'. Received: monitor={monitor!r}"
        )
    return monitor


def check_int(value, arg: str, callback: str, minimum: int = 0) -> int:
    """`value` as an int `>= minimum`, else a `ValueError` naming `arg`."""
    ok = (isinstance(value, numbers.Integral) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )
    if not ok or value < minimum:
        expect = "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}"
        raise ValueError(f"{callback}: argument `{arg}` must be {expect}. "
                         f"Received: {arg}={value!r}")
    return int(value)


def check_float(value, arg: str, callback: str, expect: str,
                ok: Callable[[float], bool] = lambda x: True) -> float:
    """`value` as a Python float satisfying `ok`, else a `ValueError` naming `arg`."""
    number = None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value)
    if number is None or math.isnan(number) or not ok(number):
        raise ValueError(f"{callback}: argument `{arg}` must be {expect}. "
                         f"Received: {arg}={value!r}")
    return number


def maximizes(monitor: str) -> bool:
    """Whether "auto" mode maximizes `monitor`.

    Accuracies, AUCs and F-measures go up; everything else (losses, errors)
    goes down. This is the union of tf.keras 2's rules, which differ between
    callbacks ("acc" in the name for ModelCheckpoint and ReduceLROnPlateau,
    a name ending in "acc", "accuracy" or "auc" for EarlyStopping): with it,
    `monitor="val_auc"` means the same thing to all three.
    """
    name = monitor.removeprefix("val_")
    return "acc" in name or "auc" in name or name.startswith("fmeasure")


def resolve_direction(mode: str, monitor: str) -> bool:
    """True when `mode` (after "auto") means larger values are better."""
    if mode == "auto":
        return maximizes(monitor)
    return mode == "max"


def as_float(value):
    """A logged value as a Python float, or None when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
