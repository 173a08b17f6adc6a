"""`PyMetric`, a metric with Python state whose code runs on the host, and
the `experimental` namespace that holds it (tf.keras 2's
`keras.metrics.experimental`)."""

from __future__ import annotations

import functools
import types

from kerasette import backend as _backend
from kerasette.autodiff.tensor import Tensor
from kerasette.metrics.base import Metric


# -- host metrics (tf.keras 2's `metrics.experimental.PyMetric`) -------------------------
def _host(value):
    """A tensor or backend array as a NumPy array (one transfer); anything
    else as it is."""
    if isinstance(value, Tensor):
        return value.numpy()
    b = _backend.get_backend()
    return b.to_numpy(value) if b.is_array(value) else value


class PyMetric(Metric):
    """A metric whose state is plain Python and whose code runs on the host.

    For metrics that are easiest to write with NumPy or another library
    (scikit-learn's scores, say): `update_state` receives NumPy arrays
    (tensors are copied to the host first, as tf.keras 2 hands eager
    tensors to its `PyMetric`), and `result` returns a Python number.
    `reset_state` sets up the state; it also runs at construction.
    Subclasses implement `update_state`, `result` and `reset_state`
    (and `merge_state` to support merging). tf.keras 2's
    `keras.metrics.experimental.PyMetric`.

    Args:
        name: the metric's name.
        dtype: the metric's dtype (kept for the config).

    Example:
        >>> import numpy as np
        >>> class MedianAbsoluteError(PyMetric):
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         self.errors.extend(np.abs(y_true - y_pred).ravel().tolist())
        ...     def reset_state(self):
        ...         self.errors = []
        ...     def result(self):
        ...         return float(np.median(self.errors)) if self.errors else 0.0
        >>> m = MedianAbsoluteError()
        >>> m.update_state(np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 5.0]))
        >>> m.result()
        0.5
    """

    def __init__(self, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        update = cls.__dict__.get("update_state")
        if update is None or getattr(update, "_keras_host_inputs", False):
            return

        @functools.wraps(update)
        def update_state(self, *args, **kw):
            return update(self, *(_host(a) for a in args),
                          **{k: _host(v) for k, v in kw.items()})

        update_state._keras_host_inputs = True
        cls.update_state = update_state

    def reset_state(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement reset_state(), which "
                                  "sets up its Python state.")

    def merge_state(self, metrics) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement merge_state() to "
                                  "merge the state of other metrics into its own.")


# tf.keras 2's `keras.metrics.experimental` namespace.
experimental = types.ModuleType("kerasette.metrics.experimental",
                                "tf.keras 2's `keras.metrics.experimental`: `PyMetric`.")
experimental.PyMetric = PyMetric
