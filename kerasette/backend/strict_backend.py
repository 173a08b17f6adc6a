"""A CPU backend that is as strict as CuPy about implicit conversions.

CuPy refuses to turn its arrays into NumPy arrays implicitly and refuses
NumPy arrays as operands. Code that mixes the two works on a laptop and
breaks (or silently runs on the CPU) on a GPU. This backend wraps every
device array in `StrictArray`, which:

* raises `TypeError` from `__array__`, so `np.asarray(x)` fails as it does
  for a CuPy array (read-out must go through `Backend.to_numpy`, like
  `cupy.ndarray.get`);
* raises `TypeError` when a raw `numpy.ndarray` is an operand of an
  operator, a ufunc, or a function of the strict `xp` namespace.

Running the whole test suite on it proves that no code path falls back to
NumPy, without a GPU.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

from kerasette.backend.base import Backend

_HINT = (
    "Device code received a NumPy array while the {backend!r} backend is "
    "active (as CuPy would refuse it). Move host data to the device once "
    "with kerasette.ops.convert_to_tensor(x) or "
    "kerasette.backend.get_backend().asarray(x)."
)


def _reject_numpy(value, where):
    raise TypeError(
        _HINT.format(backend="strict")
        + f" Received a numpy.ndarray of shape {value.shape} in {where}."
    )


def _unwrap(value, where):
    """Turns StrictArrays (also inside lists/tuples) into plain ndarrays."""
    if isinstance(value, StrictArray):
        return value._a
    if isinstance(value, np.ndarray):
        _reject_numpy(value, where)
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, where) for v in value)
    return value


def _wrap(value):
    """Wraps ndarray results (and NumPy scalars, as CuPy returns 0-d arrays)."""
    if isinstance(value, np.ndarray):
        return StrictArray(value)
    if isinstance(value, np.generic) and not isinstance(value, np.dtype):
        return StrictArray(np.asarray(value))
    if isinstance(value, tuple):
        return tuple(_wrap(v) for v in value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


class StrictArray(NDArrayOperatorsMixin):
    """An ndarray stand-in that refuses implicit conversion to and from NumPy."""

    __slots__ = ("_a",)

    def __init__(self, array: np.ndarray):
        self._a = array

    # -- refusals -------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "Implicit conversion of a strict-backend array to a NumPy array "
            "is not allowed (CuPy refuses it too). Use "
            "kerasette.backend.get_backend().to_numpy(x) or Tensor.numpy()."
        )

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        where = f"numpy ufunc {ufunc.__name__!r}"
        args = _unwrap(inputs, where)
        out = kwargs.get("out")
        if out is not None:
            kwargs["out"] = _unwrap(out, where)
        result = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        where = f"numpy.{func.__name__}"
        result = func(*_unwrap(args, where), **_unwrap_kwargs(kwargs, where))
        return _wrap(result)

    # -- the ndarray surface ------------------------------------------------------
    @property
    def shape(self):
        return self._a.shape

    @property
    def dtype(self):
        return self._a.dtype

    @property
    def ndim(self):
        return self._a.ndim

    @property
    def size(self):
        return self._a.size

    @property
    def nbytes(self):
        return self._a.nbytes

    @property
    def itemsize(self):
        return self._a.itemsize

    @property
    def T(self):
        return StrictArray(self._a.T)

    def get(self) -> np.ndarray:
        """Explicit read-out, named like `cupy.ndarray.get`."""
        return self._a.copy()

    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key, "indexing")])

    def __setitem__(self, key, value):
        self._a[_unwrap(key, "indexing")] = _unwrap(value, "item assignment")

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (_wrap(v) for v in self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return self._a.__index__()

    def __bool__(self):
        return bool(self._a)

    def __repr__(self):
        return "strict_" + repr(self._a)

    def __getattr__(self, name):
        # No dunder delegation: __array_interface__ / __array_struct__ would
        # let NumPy read the buffer behind our back.
        if name.startswith("__"):
            raise AttributeError(name)
        attr = getattr(self._a, name)
        if callable(attr):
            return _StrictFunction(attr, f"ndarray.{name}")
        return _wrap(attr)

    def __reduce__(self):
        raise TypeError("strict-backend arrays cannot be pickled; use to_numpy")


def _unwrap_kwargs(kwargs, where):
    return {k: _unwrap(v, where) for k, v in kwargs.items()}


class _StrictFunction:
    """A NumPy callable (function, ufunc, bound method) behind the strict rules."""

    __slots__ = ("_f", "_where")

    def __init__(self, f, where):
        self._f = f
        self._where = where

    def __call__(self, *args, **kwargs):
        out = kwargs.get("out")
        result = self._f(*_unwrap(args, self._where), **_unwrap_kwargs(kwargs, self._where))
        if isinstance(out, StrictArray):
            return out
        return _wrap(result)

    def __getattr__(self, name):  # ufunc methods: np.add.at, np.maximum.reduce
        return _StrictFunction(getattr(self._f, name), f"{self._where}.{name}")


class _StrictNumpy:
    """The `xp` of the strict backend: NumPy's namespace behind the strict rules."""

    def __getattr__(self, name):
        attr = getattr(np, name)
        # dtypes, classes (np.float32, np.errstate, np.finfo) and constants pass.
        if isinstance(attr, type) or not callable(attr):
            return attr
        wrapped = _StrictFunction(attr, f"xp.{name}")
        setattr(self, name, wrapped)  # cache: attribute lookup is on hot paths
        return wrapped

    def __repr__(self):
        return "<strict numpy namespace>"


class StrictBackend(Backend):
    """NumPy on the CPU, with CuPy's refusals. For tests.

    Example:
        >>> b = StrictBackend(seed=0)
        >>> x = b.asarray([1.0, 2.0], dtype="float32")
        >>> b.to_numpy(x * 2.0)
        array([2., 4.], dtype=float32)
    """

    name = "strict"
    xp = _StrictNumpy()
    array_type = StrictArray

    def asarray(self, x, dtype=None):
        if isinstance(x, StrictArray):
            return x if dtype is None or x.dtype == dtype else StrictArray(x._a.astype(dtype))
        return StrictArray(np.array(x, dtype=dtype))

    def to_numpy(self, x) -> np.ndarray:
        if isinstance(x, StrictArray):
            return x.get()
        return np.asarray(x)

    def seed(self, seed):
        self._rng = np.random.default_rng(seed)

    def random_uniform(self, shape, dtype="float32"):
        return StrictArray(self._rng.random(shape, dtype=np.dtype(dtype)))
