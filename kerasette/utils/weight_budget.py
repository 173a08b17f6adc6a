"""A cap on what building a model may allocate, while it is rebuilt from a file.

A model file's config declares each layer's size; its datasets hold the
weights. A damaged or crafted config (`Dense(units=40_000_000)` in a 26 KiB
file) would otherwise allocate gigabytes of initial weights before the
shapes are compared with the datasets. So the loaders rebuild the model
inside `weight_budget(limit)`, with `limit` the number of values the
file's datasets hold (checked to lie in the file: `H5Reader.stored_elements`)
plus `SLACK`, and every weight a layer creates is charged against it
before it is allocated (`Layer.add_weight` calls `charge`). A model that
loads has a dataset for each of its weights, so a good file never comes
near the limit; what a file can make kerasette allocate is a small multiple
of its own size (the weights, their initial values, the optimizer's slots).

The budget lives in a context variable: it applies to the thread (and task)
that set it and to nothing else, and outside a load `charge` does nothing.

Example:
    >>> import kerasette as keras
    >>> try:
    ...     with weight_budget(100):
    ...         keras.layers.Dense(1_000_000).build((None, 8))
    ... except WeightBudgetError as err:
    ...     print(err.what, err.shape)
    kernel (8, 1000000)
"""

from __future__ import annotations

import contextlib
import contextvars
import math

# Values granted above what the file holds: room for a layer's variable
# that a file need not store, never enough to matter for memory (256 KiB of
# float32).
SLACK = 1 << 16
# A layer without its own `compute_output_shape` is run once on one zero
# sample to learn its output shape (`Sequential`); that sample may be this
# large whatever the file holds (16 MiB of float32).
PROBE_FLOOR = 1 << 22

_BUDGET = contextvars.ContextVar("kerasette_weight_budget", default=None)


class WeightBudgetError(Exception):
    """A layer asked for more values than the file being loaded holds.

    Attributes:
        layer: the layer's name.
        what: the weight's name, or `"probe"` for the one-sample input run
            to learn a layer's output shape.
        shape: the shape asked for.
    """

    def __init__(self, layer, what, shape, size, limit, used):
        self.layer, self.what, self.shape = layer, what, tuple(shape)
        asked = (f"a weight {what!r}" if what != "probe" else "an input sample") + \
            f" of shape {self.shape} ({size} values)"
        # The weights before it are named only when they tipped the balance.
        total = f", which would bring the model to {used + size} values" \
            if used and size <= limit else ""
        super().__init__(f"layer {layer!r} declares {asked}{total}, but the file's datasets "
                         f"hold {limit - SLACK} values in all (a model built from it may "
                         f"have at most {limit})")


class _Budget:
    def __init__(self, limit):
        self.limit = limit
        self.used = 0


@contextlib.contextmanager
def weight_budget(values):
    """Caps the weight values the layers built inside may create together.

    Args:
        values: what the file holds; `SLACK` more are granted.
    """
    token = _BUDGET.set(_Budget(int(values) + SLACK))
    try:
        yield
    finally:
        _BUDGET.reset(token)


def charge(layer, what, shape):
    """Claims `shape`'s values for a new weight, before it is allocated.

    Args:
        layer: the layer's name, for the error.
        what: the weight's name.
        shape: its shape (ints).

    Raises:
        WeightBudgetError: inside `weight_budget`, when the values would
            exceed it. Outside, nothing is checked.
    """
    budget = _BUDGET.get()
    if budget is None:
        return
    size = math.prod(shape)  # Python ints: no overflow, however large the shape
    if budget.used + size > budget.limit:
        raise WeightBudgetError(layer, what, shape, size, budget.limit, budget.used)
    budget.used += size


def check_probe(layer, shape):
    """Checks a one-sample probe of `shape` before it is allocated (it is
    freed at once, so it is compared with the whole budget, not charged)."""
    budget = _BUDGET.get()
    if budget is None:
        return
    size = math.prod(shape)
    if size > max(budget.limit, PROBE_FLOOR):
        raise WeightBudgetError(layer, "probe", shape, size, budget.limit, 0)
