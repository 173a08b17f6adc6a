"""Learning rate schedules (`keras.optimizers.schedules` of tf.keras 2).

A schedule maps the optimizer's step (the number of completed steps, a
Python int) to a learning rate. Pass one as an optimizer's `learning_rate`;
the optimizer calls it once per step, on the host, before the update: the
rate is a Python float and no device value is read.

The formulas are tf.keras 2's (tf_keras/optimizers/schedules/
learning_rate_schedule.py), computed in Python floats (double precision)
where tf.keras computes in the dtype of `initial_learning_rate` (float32).

Example:
    >>> from kerasette import optimizers
    >>> schedule = optimizers.schedules.ExponentialDecay(
    ...     0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    >>> [schedule(step) for step in (0, 9, 10, 25)]
    [0.1, 0.1, 0.05, 0.025]
    >>> opt = optimizers.SGD(learning_rate=schedule)
    >>> optimizers.schedules.serialize(schedule)["class_name"]
    'ExponentialDecay'
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from kerasette.utils.arg_checks import check_float
from kerasette.utils.registry import NameTable

_TABLE = NameTable("learning rate schedule", "keras.optimizers.schedules")


# -- argument checks ----------------------------------------------------------------
def _number(value, arg: str, expect: str, ok=lambda x: True):
    """A finite number satisfying `ok`, kept an int if it was one (so configs
    read as tf.keras writes them), else a Python float; a `ValueError` naming
    the argument otherwise."""
    number = check_float(value, arg, expect, lambda x: math.isfinite(x) and ok(x))
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    return number


def _rate(value, arg: str):
    return _number(value, arg, "a non-negative float", lambda x: x >= 0)


def _positive(value, arg: str):
    return _number(value, arg, "a positive number", lambda x: x > 0)


def _flag(value, arg: str) -> bool:
    if isinstance(value, (bool, np.bool_)) or (
            isinstance(value, numbers.Integral) and value in (0, 1)):
        return bool(value)
    raise ValueError(f"Argument `{arg}` must be a boolean. Received: {arg}={value!r}")


def _name(value):
    if value is not None and not isinstance(value, str):
        raise ValueError(f"Argument `name` must be a string or None. Received: name={value!r}")
    return value


def _step(step) -> float:
    """The step as a Python number: an int (what optimizers pass), another
    number, or a tensor such as `optimizer.iterations` (read once)."""
    if isinstance(step, numbers.Real) and not isinstance(step, (bool, np.bool_)):
        return step
    if isinstance(step, (bool, np.bool_, str, bytes)):
        raise TypeError(f"A schedule's step must be a number. Received: {step!r}")
    try:
        return float(step)  # a tensor: one read, a user action, not a training step
    except (TypeError, ValueError):
        raise TypeError(
            f"A schedule's step must be a number. Received: {type(step).__name__}"
        ) from None


# -- schedules ------------------------------------------------------------------------
class LearningRateSchedule:
    """Base class of the learning rate schedules.

    Subclasses implement `__call__(step)`, returning the learning rate (a
    Python float) for `step`, the number of steps completed; and, to be
    saved with the model, `get_config()` (the arguments of `__init__`).

    Example:
        >>> class Inverse(LearningRateSchedule):
        ...     def __init__(self, initial_learning_rate):
        ...         self.initial_learning_rate = initial_learning_rate
        ...     def __call__(self, step):
        ...         return self.initial_learning_rate / (step + 1)
        ...     def get_config(self):
        ...         return {"initial_learning_rate": self.initial_learning_rate}
        >>> Inverse(0.1)(4)
        0.02
    """

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override "
            "`__call__(self, step)`."
        )

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override "
            "`get_config()` in order to be serializable."
        )

    @classmethod
    def from_config(cls, config: dict):
        """Creates a schedule from `get_config()`'s output."""
        return cls(**config)

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class ExponentialDecay(LearningRateSchedule):
    """`initial_learning_rate * decay_rate ** (step / decay_steps)`.

    With `staircase=True`, `step / decay_steps` is floored, so the rate drops
    every `decay_steps` steps.

    Args:
        initial_learning_rate: a non-negative float.
        decay_steps: a positive number.
        decay_rate: a non-negative float (below 1 to decay).
        staircase: decay in discrete intervals. Defaults to False.
        name: accepted and kept in the config, as tf.keras does.

    Example:
        >>> s = ExponentialDecay(1.0, decay_steps=2, decay_rate=0.25)
        >>> s(0), s(1), s(2)
        (1.0, 0.5, 0.25)
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        self.initial_learning_rate = _rate(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _positive(decay_steps, "decay_steps")
        self.decay_rate = _rate(decay_rate, "decay_rate")
        self.staircase = _flag(staircase, "staircase")
        self.name = _name(name)

    def __call__(self, step):
        p = _step(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return float(self.initial_learning_rate) * float(self.decay_rate) ** p

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """`values[0]` while `step <= boundaries[0]`, `values[1]` while
    `boundaries[0] < step <= boundaries[1]`, ..., `values[-1]` after
    `boundaries[-1]`.

    Args:
        boundaries: strictly increasing numbers (steps).
        values: the rates, one more than `boundaries`.
        name: accepted and kept in the config, as tf.keras does.

    Example:
        >>> s = PiecewiseConstantDecay([2, 4], [1.0, 0.5, 0.1])
        >>> [s(step) for step in range(6)]
        [1.0, 1.0, 1.0, 0.5, 0.5, 0.1]
    """

    def __init__(self, boundaries, values, name=None):
        boundaries = _sequence(boundaries, "boundaries")
        values = _sequence(values, "values")
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of `boundaries` must be 1 less than the length of `values`. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}."
            )
        self.boundaries = [_number(b, "boundaries", "a list of numbers") for b in boundaries]
        if any(b >= c for b, c in zip(self.boundaries, self.boundaries[1:])):
            raise ValueError(
                "Argument `boundaries` must be strictly increasing. "
                f"Received: boundaries={boundaries}"
            )
        self.values = [_number(v, "values", "a list of non-negative floats", lambda x: x >= 0)
                       for v in values]
        self.name = _name(name)

    def __call__(self, step):
        step = _step(step)
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self):
        return {
            "boundaries": list(self.boundaries),
            "values": list(self.values),
            "name": self.name,
        }


class InverseTimeDecay(LearningRateSchedule):
    """`initial_learning_rate / (1 + decay_rate * step / decay_steps)`.

    With `staircase=True`, `step / decay_steps` is floored.

    Args:
        initial_learning_rate: a non-negative float.
        decay_steps: a positive number.
        decay_rate: a non-negative float.
        staircase: decay in discrete intervals. Defaults to False.
        name: accepted and kept in the config, as tf.keras does.

    Example:
        >>> s = InverseTimeDecay(1.0, decay_steps=1, decay_rate=0.5)
        >>> s(0), s(2)
        (1.0, 0.5)
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        self.initial_learning_rate = _rate(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _positive(decay_steps, "decay_steps")
        self.decay_rate = _rate(decay_rate, "decay_rate")
        self.staircase = _flag(staircase, "staircase")
        self.name = _name(name)

    def __call__(self, step):
        p = _step(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return float(self.initial_learning_rate) / (1.0 + self.decay_rate * p)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PolynomialDecay(LearningRateSchedule):
    """From `initial_learning_rate` to `end_learning_rate` in `decay_steps`.

    ```python
    step = min(step, decay_steps)                                # cycle=False
    decay_steps = decay_steps * max(1, ceil(step / decay_steps))  # cycle=True
    rate = (initial - end) * (1 - step / decay_steps) ** power + end
    ```

    With `cycle=True` the decay restarts from `initial_learning_rate` after
    each multiple of `decay_steps` (over a span that grows each time).

    Args:
        initial_learning_rate: a non-negative float.
        decay_steps: a positive number.
        end_learning_rate: a non-negative float. Defaults to 0.0001.
        power: a non-negative float. Defaults to 1.0 (linear).
        cycle: whether to restart after `decay_steps`. Defaults to False.
        name: accepted and kept in the config, as tf.keras does.

    Example:
        >>> s = PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0)
        >>> [s(step) for step in (0, 1, 4, 10)]
        [1.0, 0.75, 0.0, 0.0]
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name=None):
        self.initial_learning_rate = _rate(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _positive(decay_steps, "decay_steps")
        self.end_learning_rate = _rate(end_learning_rate, "end_learning_rate")
        self.power = _number(power, "power", "a non-negative float", lambda x: x >= 0)
        self.cycle = _flag(cycle, "cycle")
        self.name = _name(name)

    def __call__(self, step):
        step = float(_step(step))
        decay_steps = float(self.decay_steps)
        if self.cycle:
            # The first multiple of decay_steps not below step (1 at step 0).
            multiplier = 1.0 if step == 0 else math.ceil(step / decay_steps)
            decay_steps = decay_steps * multiplier
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        initial, end = float(self.initial_learning_rate), float(self.end_learning_rate)
        return (initial - end) * (1.0 - p) ** self.power + end

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class CosineDecay(LearningRateSchedule):
    """A cosine decay, after an optional linear warmup.

    Without `warmup_target`, from `initial_learning_rate` to
    `alpha * initial_learning_rate` over `decay_steps`:

    ```python
    step = min(step, decay_steps)
    decayed = (1 - alpha) * 0.5 * (1 + cos(pi * step / decay_steps)) + alpha
    rate = initial_learning_rate * decayed
    ```

    With `warmup_target`, first a line from `initial_learning_rate` to
    `warmup_target` over `warmup_steps`, then the decay above from
    `warmup_target` (with `step - warmup_steps`); `warmup_steps` is ignored
    when `warmup_target` is None.

    Args:
        initial_learning_rate: a non-negative float.
        decay_steps: a positive number.
        alpha: the final rate as a fraction of the decay's start, in [0, 1].
            Defaults to 0.0.
        name: accepted and kept in the config, as tf.keras does (it comes
            before `warmup_target` among tf.keras's positional arguments).
        warmup_target: None, or the non-negative rate reached after the
            warmup. Defaults to None (no warmup).
        warmup_steps: a non-negative number. Defaults to 0.

    Example:
        >>> s = CosineDecay(0.0, decay_steps=2, warmup_target=1.0, warmup_steps=2)
        >>> [round(s(step), 6) for step in range(6)]
        [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name=None,
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = _rate(initial_learning_rate, "initial_learning_rate")
        self.decay_steps = _positive(decay_steps, "decay_steps")
        self.alpha = _number(alpha, "alpha", "a float in [0, 1]", lambda x: 0 <= x <= 1)
        self.name = _name(name)
        self.warmup_target = (None if warmup_target is None
                              else _rate(warmup_target, "warmup_target"))
        self.warmup_steps = _number(warmup_steps, "warmup_steps", "a non-negative number",
                                    lambda x: x >= 0)

    def _decay(self, step, start):
        fraction = step / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        return float(start) * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        step = float(_step(step))
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            initial = float(self.initial_learning_rate)
            return (self.warmup_target - initial) * (step / self.warmup_steps) + initial
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


def _sequence(value, arg: str) -> list:
    if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__iter__"):
        raise ValueError(f"Argument `{arg}` must be a list of numbers. Received: {arg}={value!r}")
    return list(value.tolist() if isinstance(value, np.ndarray) else value)


for _cls in (ExponentialDecay, PiecewiseConstantDecay, InverseTimeDecay, PolynomialDecay,
             CosineDecay):
    _TABLE.register(_cls)


# -- serialization --------------------------------------------------------------------
def serialize(learning_rate_schedule) -> dict | None:
    """A schedule's nested config: `{"module": "keras.optimizers.schedules",
    "class_name": ..., "config": ..., "registered_name": ...}` (None stays None).

    Raises:
        TypeError: for an object without `get_config` (a plain function
            cannot be written down).
    """
    if learning_rate_schedule is None:
        return None
    if isinstance(learning_rate_schedule, type) or not hasattr(learning_rate_schedule,
                                                               "get_config"):
        raise TypeError(
            "schedules.serialize expects a learning rate schedule with a `get_config` "
            f"method. Received: {learning_rate_schedule!r}"
        )
    return _TABLE.serialize(learning_rate_schedule)


def deserialize(config, custom_objects=None) -> LearningRateSchedule:
    """Rebuilds a schedule from `serialize`'s output (also tf.keras's older
    `{"class_name": ..., "config": ...}` form, and `"Package>Name"` classes
    registered with `kerasette.saving.register_serializable`).

    Args:
        config: the nested config dict.
        custom_objects: a dict mapping class names to user schedule classes.

    Raises:
        ValueError: for an unknown class (the message lists the built-in
            ones) or anything that is not a config dict.
    """
    if isinstance(config, str):
        raise ValueError(
            f"Could not deserialize learning rate schedule {config!r}: schedules take "
            "arguments, so pass a config dict ({'class_name': ..., 'config': {...}}) "
            "or a schedule instance."
        )
    if not isinstance(config, dict):
        raise ValueError(
            f"Could not deserialize learning rate schedule: {config!r}. Expected a "
            "dict with 'class_name' and 'config'."
        )
    return _TABLE.deserialize(config, custom_objects)


def get(identifier):
    """A schedule from an instance (returned as is) or a config dict.

    Any other callable taking the step (a plain function) is returned as is
    too: optimizers accept those as well.

    Raises:
        ValueError: for anything else.
    """
    if isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, (dict, str)):
        return deserialize(identifier)  # a name gets an error that says what to pass
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    raise ValueError(
        f"Could not interpret learning rate schedule identifier: {identifier!r}. "
        "Expected a schedule, a callable taking the step, or a config dict."
    )


__all__ = [
    "CosineDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "get",
    "serialize",
]
