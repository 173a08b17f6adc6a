"""Automatic layer names: `dense`, `dense_1`, `dense_2`, ... as in Keras."""

from __future__ import annotations

import collections
import re

_name_counts: collections.Counter = collections.Counter()


def unique_name(base: str) -> str:
    """`base` the first time, then `base_1`, `base_2`, ..."""
    n = _name_counts[base]
    _name_counts[base] += 1
    return base if n == 0 else f"{base}_{n}"


def reset_names() -> None:
    """Starts the counters afresh (`kerasette.backend.clear_session`)."""
    _name_counts.clear()


def to_snake_case(name: str) -> str:
    """`BatchNormalization` -> `batch_normalization`, `Conv2D` -> `conv2d` (Keras's rule)."""
    s = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()
