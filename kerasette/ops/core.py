"""Differentiable primitives: arithmetic, reductions, shapes and indexing.

Every op takes tensors (or Python numbers), computes with the active
backend's `xp`, and records a backward function only while a tape is
recording and some input needs a gradient. Backward functions receive the
upstream gradient `g` and a `needs` tuple saying which parents want one, so
no work is spent on gradients nobody asked for.
"""

from __future__ import annotations

import numbers

import numpy as np

from kerasette import backend as _backend
from kerasette.autodiff import state as _state
from kerasette.autodiff.tensor import Tensor


def xp():
    """The array module of the active backend."""
    return _backend.get_backend().xp


def xp_of(array):
    """The array module that computes on `array`: NumPy for a plain NumPy
    array (without looking up the backend: a tiny model's step makes dozens
    of these calls), else the active backend's.

    Example:
        >>> import numpy as np
        >>> xp_of(np.zeros(2)) is np
        True
    """
    return np if type(array) is np.ndarray else _backend.get_backend().xp


# -- conversion ----------------------------------------------------------------
def _default_dtype(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, numbers.Integral):
        return "int32"
    if isinstance(value, numbers.Real):
        return _backend.floatx()
    return None


def convert_to_tensor(x, dtype=None) -> Tensor:
    """Converts host data (NumPy arrays, lists, numbers) to a `Tensor`.

    This is the explicit host-to-device boundary. Python floats and lists of
    floats become `floatx()` (float32); NumPy arrays keep their dtype unless
    `dtype` is given.

    Args:
        x: a tensor, a backend array, a NumPy array, a list or a number.
        dtype: optional dtype of the result.

    Returns:
        A `Tensor` on the active backend.

    Example:
        >>> convert_to_tensor([1.0, 2.0]).dtype
        dtype('float32')
    """
    b = _backend.get_backend()
    if isinstance(x, Tensor):
        if dtype is None or x.dtype == np.dtype(dtype):
            return x
        return cast(x, dtype)
    if b.is_array(x):
        return Tensor(x if dtype is None or x.dtype == np.dtype(dtype) else x.astype(dtype))
    if dtype is None and not isinstance(x, np.ndarray):
        if isinstance(x, (list, tuple)):
            probe = np.asarray(x)
            if probe.dtype.kind == "f":
                dtype = _backend.floatx()
            elif probe.dtype.kind in "iu":
                dtype = "int32"
        else:
            dtype = _default_dtype(x)
    return Tensor(b.asarray(x, dtype=dtype))


def convert_to_numpy(x) -> np.ndarray:
    """Copies a tensor (or backend array) to a NumPy array on the host."""
    if isinstance(x, Tensor):
        return x.numpy()
    return _backend.get_backend().to_numpy(x)


def _numpy_refused(op_name, value):
    b = _backend.get_backend()
    raise TypeError(
        f"kerasette.ops.{op_name} received a NumPy array of shape {value.shape} "
        f"while the {b.name!r} backend is active, where device code refuses "
        "host arrays (as CuPy does). Convert it once with "
        "kerasette.ops.convert_to_tensor(x) before the computation."
    )


def _tensor(x, op_name, like=None) -> Tensor:
    """An op's tensor operand; host arrays are allowed only on NumPy."""
    if isinstance(x, Tensor):
        return x
    b = _backend.get_backend()
    if b.is_array(x):
        return Tensor(x)
    if isinstance(x, np.ndarray) and b.name != "numpy":
        _numpy_refused(op_name, x)
    dtype = None
    if like is not None and like.dtype.kind == "f":
        dtype = like.dtype  # keep float32 float32: no silent float64
    return convert_to_tensor(x, dtype=dtype)


def _operand(x, op_name, like=None):
    """A binary op's operand: a Tensor, or a Python scalar kept as such.

    Python scalars stay scalars so that float32 stays float32 (NumPy 2's
    weak scalar rules) and no scalar is copied to the device.
    """
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, np.ndarray):
        if isinstance(x, (bool, np.bool_)):
            return bool(x)
        if isinstance(x, numbers.Integral):
            return int(x)
        return float(x)
    return _tensor(x, op_name, like)


def _pair(x, y, op_name):
    x = _operand(x, op_name, like=y if isinstance(y, Tensor) else None)
    y = _operand(y, op_name, like=x if isinstance(x, Tensor) else None)
    return x, y


def _d(x):
    return x.data if isinstance(x, Tensor) else x


# -- recording -------------------------------------------------------------------
def record(out, parents, backward) -> Tensor:
    """Wraps `out` in a Tensor, linking it to `parents` when a tape records.

    Args:
        out: the op's result (a backend array).
        parents: the op's tensor inputs.
        backward: `backward(g, needs) -> tuple` of gradients for `parents`
            (`None` where `needs` is False).
    """
    if _state._recording and any(p._rg for p in parents):
        return Tensor(out, tuple(parents), backward)
    return Tensor(out)


def _record_binary(out, x, y, grad_x, grad_y):
    parents, fns = [], []
    if isinstance(x, Tensor):
        parents.append(x)
        fns.append(grad_x)
    if isinstance(y, Tensor):
        parents.append(y)
        fns.append(grad_y)

    def backward(g, needs):
        return tuple(f(g) if n else None for f, n in zip(fns, needs))

    return record(out, parents, backward)


def unbroadcast(g, shape):
    """Sums `g` over the axes that broadcasting added or stretched to reach it."""
    shape = tuple(shape)
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def _shape(v):
    return v.shape if isinstance(v, Tensor) else ()


# -- arithmetic ------------------------------------------------------------------
def add(x, y):
    """Elementwise `x + y` with broadcasting."""
    x, y = _pair(x, y, "add")
    sx, sy = _shape(x), _shape(y)
    return _record_binary(_d(x) + _d(y), x, y,
                          lambda g: unbroadcast(g, sx), lambda g: unbroadcast(g, sy))


def subtract(x, y):
    """Elementwise `x - y` with broadcasting."""
    x, y = _pair(x, y, "subtract")
    sx, sy = _shape(x), _shape(y)
    return _record_binary(_d(x) - _d(y), x, y,
                          lambda g: unbroadcast(g, sx), lambda g: unbroadcast(-g, sy))


def multiply(x, y):
    """Elementwise `x * y` with broadcasting."""
    x, y = _pair(x, y, "multiply")
    xd, yd = _d(x), _d(y)
    return _record_binary(xd * yd, x, y,
                          lambda g: unbroadcast(g * yd, _shape(x)),
                          lambda g: unbroadcast(g * xd, _shape(y)))


def divide(x, y):
    """Elementwise `x / y` with broadcasting."""
    x, y = _pair(x, y, "divide")
    xd, yd = _d(x), _d(y)
    out = xd / yd
    return _record_binary(out, x, y,
                          lambda g: unbroadcast(g / yd, _shape(x)),
                          lambda g: unbroadcast(-g * out / yd, _shape(y)))


true_divide = divide


def negative(x):
    """Elementwise `-x`."""
    x = _tensor(x, "negative")
    return record(-x.data, (x,), lambda g, needs: (-g,))


def power(x, y):
    """Elementwise `x ** y`; `y` may be a number or a tensor."""
    x, y = _pair(x, y, "power")
    xd, yd = _d(x), _d(y)
    out = xd ** yd

    def grad_x(g):
        if isinstance(y, Tensor):
            return unbroadcast(g * yd * xd ** (yd - 1), _shape(x))
        if yd == 2:
            return g * (2 * xd)
        return g * (yd * xd ** (yd - 1))

    def grad_y(g):
        return unbroadcast(g * out * xp().log(xd), _shape(y))

    return _record_binary(out, x, y, grad_x, grad_y)


def square(x):
    """Elementwise `x ** 2`."""
    x = _tensor(x, "square")
    xd = x.data
    return record(xd * xd, (x,), lambda g, needs: (g * (2 * xd),))


def sqrt(x):
    """Elementwise square root."""
    x = _tensor(x, "sqrt")
    out = xp().sqrt(x.data)
    return record(out, (x,), lambda g, needs: (g / (2 * out),))


def exp(x):
    """Elementwise `e ** x`."""
    x = _tensor(x, "exp")
    out = xp().exp(x.data)
    return record(out, (x,), lambda g, needs: (g * out,))


def log(x):
    """Elementwise natural logarithm."""
    x = _tensor(x, "log")
    xd = x.data
    return record(xp().log(xd), (x,), lambda g, needs: (g / xd,))


def abs(x):  # noqa: A001 - Keras's name
    """Elementwise absolute value (gradient `sign(x)`, 0 at 0)."""
    x = _tensor(x, "abs")
    xd = x.data
    return record(xp().abs(xd), (x,), lambda g, needs: (g * xp().sign(xd),))


absolute = abs


def sign(x):
    """Elementwise sign; no gradient."""
    x = _tensor(x, "sign")
    return Tensor(xp().sign(x.data))


def matmul(x, y):
    """Matrix product with NumPy's `matmul` rules (batched, 1-D promoted)."""
    x = _tensor(x, "matmul", like=y if isinstance(y, Tensor) else None)
    y = _tensor(y, "matmul", like=x)
    xd, yd = x.data, y.data
    out = xd @ yd

    def backward(g, needs):
        m = xp()
        x2 = xd[None, :] if xd.ndim == 1 else xd
        y2 = yd[:, None] if yd.ndim == 1 else yd
        g2 = g  # restore the axes that 1-D operands dropped: y's first, then x's
        if yd.ndim == 1:
            g2 = m.expand_dims(g2, -1)
        if xd.ndim == 1:
            g2 = m.expand_dims(g2, -2)
        gx = gy = None
        if needs[0]:
            gx = unbroadcast(g2 @ m.swapaxes(y2, -1, -2), x2.shape).reshape(xd.shape)
        if needs[1]:
            gy = unbroadcast(m.swapaxes(x2, -1, -2) @ g2, y2.shape).reshape(yd.shape)
        return gx, gy

    return record(out, (x, y), backward)


dot = matmul


# -- reductions ------------------------------------------------------------------
def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(a % ndim for a in axis)


def _expand_to(g, shape, axes, keepdims):
    """Broadcasts a reduced gradient back to the input's shape."""
    if not keepdims:
        for a in sorted(axes):
            g = xp().expand_dims(g, a)
    return xp().broadcast_to(g, shape)


def sum(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name
    """Sum over `axis` (all axes when `None`)."""
    x = _tensor(x, "sum")
    axes = _axes(axis, x.ndim)
    shape = x.shape
    out = xp().sum(x.data, axis=axes, keepdims=keepdims)
    return record(out, (x,), lambda g, needs: (_expand_to(g, shape, axes, keepdims),))


def mean(x, axis=None, keepdims=False):
    """Mean over `axis` (all axes when `None`)."""
    x = _tensor(x, "mean")
    axes = _axes(axis, x.ndim)
    shape = x.shape
    count = int(np.prod([shape[a] for a in axes])) if axes else 1
    out = xp().mean(x.data, axis=axes, keepdims=keepdims)
    return record(out, (x,),
                  lambda g, needs: (_expand_to(g / count, shape, axes, keepdims),))


def _extreme(x, axis, keepdims, fn, name):
    x = _tensor(x, name)
    axes = _axes(axis, x.ndim)
    xd = x.data
    out = fn(xd, axis=axes, keepdims=True)

    def backward(g, needs):
        # Ties share the gradient equally, as in TensorFlow.
        hit = (xd == out).astype(xd.dtype)
        hit /= hit.sum(axis=axes, keepdims=True)
        return (_expand_to(g, xd.shape, axes, keepdims) * hit,)

    result = out if keepdims else out.reshape([s for i, s in enumerate(xd.shape) if i not in axes])
    return record(result, (x,), backward)


def max(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name
    """Maximum over `axis`; the gradient goes to the maximal entries."""
    return _extreme(x, axis, keepdims, xp().max, "max")


def min(x, axis=None, keepdims=False):  # noqa: A001 - Keras's name
    """Minimum over `axis`; the gradient goes to the minimal entries."""
    return _extreme(x, axis, keepdims, xp().min, "min")


def argmax(x, axis=-1):
    """Index of the maximum along `axis` (int64); no gradient."""
    x = _tensor(x, "argmax")
    return Tensor(xp().argmax(x.data, axis=axis))


def argmin(x, axis=-1):
    """Index of the minimum along `axis` (int64); no gradient."""
    x = _tensor(x, "argmin")
    return Tensor(xp().argmin(x.data, axis=axis))


# -- shapes ----------------------------------------------------------------------
def reshape(x, new_shape):
    """Reshapes `x`; one dimension may be -1."""
    x = _tensor(x, "reshape")
    shape = x.shape
    return record(x.data.reshape(new_shape), (x,), lambda g, needs: (g.reshape(shape),))


def transpose(x, axes=None):
    """Permutes the axes (reverses them when `axes` is `None`)."""
    x = _tensor(x, "transpose")
    perm = tuple(range(x.ndim))[::-1] if axes is None else tuple(a % x.ndim for a in axes)
    inverse = tuple(int(i) for i in np.argsort(perm))
    return record(xp().transpose(x.data, perm), (x,),
                  lambda g, needs: (xp().transpose(g, inverse),))


def expand_dims(x, axis):
    """Inserts a length-1 axis at `axis`."""
    x = _tensor(x, "expand_dims")
    shape = x.shape
    return record(xp().expand_dims(x.data, axis), (x,), lambda g, needs: (g.reshape(shape),))


def squeeze(x, axis=None):
    """Removes length-1 axes (only `axis` when given)."""
    x = _tensor(x, "squeeze")
    shape = x.shape
    return record(xp().squeeze(x.data, axis=axis), (x,), lambda g, needs: (g.reshape(shape),))


def concatenate(xs, axis=0):
    """Joins tensors along an existing axis."""
    if not isinstance(xs, (list, tuple)) or not xs:
        raise ValueError(f"concatenate expects a non-empty list of tensors. Received: {xs!r}")
    first = next((t for t in xs if isinstance(t, Tensor)), None)
    ts = [_tensor(t, "concatenate", like=first) for t in xs]
    ax = axis % ts[0].ndim
    sizes = [t.shape[ax] for t in ts]
    bounds = np.cumsum(sizes)[:-1].tolist()

    def backward(g, needs):
        parts = xp().split(g, bounds, axis=ax)
        return tuple(p if n else None for p, n in zip(parts, needs))

    return record(xp().concatenate([t.data for t in ts], axis=ax), ts, backward)


def stack(xs, axis=0):
    """Joins tensors along a new axis."""
    if not isinstance(xs, (list, tuple)) or not xs:
        raise ValueError(f"stack expects a non-empty list of tensors. Received: {xs!r}")
    return concatenate([expand_dims(t, axis) for t in xs], axis=axis)


def getitem(x, key):
    """`x[key]` with NumPy indexing; the gradient scatters back (adding repeats)."""
    x = _tensor(x, "getitem")
    if isinstance(key, Tensor):
        key = key.data
    elif isinstance(key, tuple):
        key = tuple(k.data if isinstance(k, Tensor) else k for k in key)
    xd = x.data
    basic = _is_basic_index(key)

    def backward(g, needs):
        gx = xp().zeros(xd.shape, dtype=g.dtype)
        if basic:
            gx[key] = g  # a basic index names each element once: no repeats to add
        else:
            xp().add.at(gx, key, g)
        return (gx,)

    return record(xd[key], (x,), backward)


def _is_basic_index(key) -> bool:
    """Whether `key` is NumPy basic indexing (ints, slices, `...`, None),
    which selects each element at most once."""
    parts = key if isinstance(key, tuple) else (key,)
    return all(k is None or k is Ellipsis or isinstance(k, slice)
               or (isinstance(k, numbers.Integral) and not isinstance(k, bool)) for k in parts)


def take(x, indices, axis=None):
    """Gathers entries of `x` at `indices` along `axis` (flattened if `None`)."""
    x = _tensor(x, "take")
    idx = indices.data if isinstance(indices, Tensor) else indices
    if not _backend.get_backend().is_array(idx):
        idx = _tensor(idx, "take").data
    xd = x.data

    def backward(g, needs):
        m = xp()
        if axis is None:
            gx = m.zeros(xd.size, dtype=g.dtype)
            m.add.at(gx, idx.reshape(-1), g.reshape(-1))
            return (gx.reshape(xd.shape),)
        ax = axis % xd.ndim
        moved = m.moveaxis(m.zeros(xd.shape, dtype=g.dtype), ax, 0)
        gm = m.moveaxis(g, list(range(ax, ax + idx.ndim)), list(range(idx.ndim)))
        m.add.at(moved, idx.reshape(-1), gm.reshape((-1,) + moved.shape[1:]))
        return (m.moveaxis(moved, 0, ax),)

    return record(xp().take(xd, idx, axis=axis), (x,), backward)


# -- selection -------------------------------------------------------------------
def maximum(x, y):
    """Elementwise maximum; ties send the gradient to `x`."""
    x, y = _pair(x, y, "maximum")
    xd, yd = _d(x), _d(y)
    out = xp().maximum(xd, yd)
    return _record_binary(out, x, y,
                          lambda g: unbroadcast(g * (xd >= yd), _shape(x)),
                          lambda g: unbroadcast(g * (xd < yd), _shape(y)))


def minimum(x, y):
    """Elementwise minimum; ties send the gradient to `x`."""
    x, y = _pair(x, y, "minimum")
    xd, yd = _d(x), _d(y)
    out = xp().minimum(xd, yd)
    return _record_binary(out, x, y,
                          lambda g: unbroadcast(g * (xd <= yd), _shape(x)),
                          lambda g: unbroadcast(g * (xd > yd), _shape(y)))


def where(condition, x, y):
    """Picks `x` where `condition` holds, else `y`; no gradient to `condition`."""
    cond = _tensor(condition, "where").data
    x, y = _pair(x, y, "where")
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        x = convert_to_tensor(x)  # two Python numbers: floatx, not float64
    out = xp().where(cond, _d(x), _d(y))
    zero = 0.0
    return _record_binary(out, x, y,
                          lambda g: unbroadcast(xp().where(cond, g, zero), _shape(x)),
                          lambda g: unbroadcast(xp().where(cond, zero, g), _shape(y)))


def clip(x, x_min, x_max):
    """Clips values to `[x_min, x_max]`; the gradient passes inside the range."""
    x = _tensor(x, "clip")
    xd = x.data
    out = xp().clip(xd, x_min, x_max)
    return record(out, (x,),
                  lambda g, needs: (g * ((xd >= x_min) & (xd <= x_max)),))


def stop_gradient(x):
    """Returns `x` as a constant: no gradient flows through it."""
    return Tensor(_tensor(x, "stop_gradient").data)


# -- types and constants ----------------------------------------------------------
def cast(x, dtype):
    """Converts to `dtype`; the gradient flows between float dtypes only."""
    x = _tensor(x, "cast")
    dt = np.dtype(dtype)
    src = x.dtype
    out = x.data.astype(dt)
    if dt.kind != "f" or src.kind != "f":
        return Tensor(out)
    return record(out, (x,), lambda g, needs: (g.astype(src),))


def one_hot(indices, num_classes, dtype=None):
    """One-hot rows for integer `indices` (float32 by default); no gradient."""
    idx = _tensor(indices, "one_hot").data
    m = xp()
    eye = m.eye(int(num_classes), dtype=dtype or _backend.floatx())
    return Tensor(eye[idx.astype("int64")])


def zeros(shape, dtype=None):
    """A tensor of zeros (float32 by default)."""
    return Tensor(xp().zeros(shape, dtype=dtype or _backend.floatx()))


def ones(shape, dtype=None):
    """A tensor of ones (float32 by default)."""
    return Tensor(xp().ones(shape, dtype=dtype or _backend.floatx()))


def zeros_like(x, dtype=None):
    x = _tensor(x, "zeros_like")
    return Tensor(xp().zeros(x.shape, dtype=dtype or x.dtype))


def ones_like(x, dtype=None):
    x = _tensor(x, "ones_like")
    return Tensor(xp().ones(x.shape, dtype=dtype or x.dtype))


# -- comparisons (no gradient) ------------------------------------------------------
def _compare(x, y, fn, name):
    x, y = _pair(x, y, name)
    return Tensor(fn(_d(x), _d(y)))


def equal(x, y):
    return _compare(x, y, lambda a, b: xp().equal(a, b), "equal")


def not_equal(x, y):
    return _compare(x, y, lambda a, b: xp().not_equal(a, b), "not_equal")


def less(x, y):
    return _compare(x, y, lambda a, b: xp().less(a, b), "less")


def less_equal(x, y):
    return _compare(x, y, lambda a, b: xp().less_equal(a, b), "less_equal")


def greater(x, y):
    return _compare(x, y, lambda a, b: xp().greater(a, b), "greater")


def greater_equal(x, y):
    return _compare(x, y, lambda a, b: xp().greater_equal(a, b), "greater_equal")
