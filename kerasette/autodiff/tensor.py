"""`Tensor` and `Variable`: device arrays that remember how they were made.

A `Tensor` wraps one array of the active backend (`.data`). When it is the
result of an op recorded by an active `GradientTape`, it also holds its
parents and a backward function; `GradientTape.gradient` walks those links.
Outside a tape no links are kept, so inference builds no graph.
"""

from __future__ import annotations

import copy

import numpy as np

from kerasette import backend as _backend
from kerasette.autodiff import state as _state

# Filled in by kerasette.ops once it is imported, to give tensors operators
# (x @ W + b) without a circular import.
_ops = None


class Tensor:
    """An immutable array on the active backend, usable with `kerasette.ops`.

    Users rarely build one by hand: `kerasette.ops.convert_to_tensor(x)` and
    every op return tensors, and `model(x)` returns one.

    Example:
        >>> import kerasette as keras
        >>> t = keras.ops.convert_to_tensor([[1.0, 2.0]])
        >>> (t * 2.0 + 1.0).numpy()
        array([[3., 5.]], dtype=float32)
    """

    # `_keras_logits`: set on softmax/sigmoid outputs to their input, so a
    # cross-entropy on those probabilities can use the stable from-logits
    # path, as tf.keras 2 does.
    # `_keras_mask`: a (batch, time) boolean array set by a masking layer
    # (Embedding(mask_zero=True), Masking) on its output and carried from
    # layer to layer as tf.keras 2 carries it (see `Layer.__call__`).
    __slots__ = ("data", "_parents", "_backward", "_rg", "_keras_logits", "_keras_mask",
                 "__weakref__")
    # NumPy must defer to our reflected operators (np_array * tensor) instead
    # of converting the tensor to a NumPy array behind the user's back.
    __array_ufunc__ = None

    def __init__(self, data, parents=(), backward=None):
        if isinstance(data, np.generic):
            # NumPy's full reductions return scalars; keep 0-d arrays, as CuPy does.
            data = np.asarray(data)
        self.data = data
        self._parents = parents
        self._backward = backward
        self._rg = backward is not None
        self._keras_logits = None
        self._keras_mask = None

    # -- array attributes -----------------------------------------------------
    @property
    def shape(self) -> tuple:
        return tuple(self.data.shape)

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return int(self.data.size)

    @property
    def T(self):
        return _ops.transpose(self)

    def numpy(self) -> np.ndarray:
        """Copies the value to a NumPy array on the host."""
        return _backend.get_backend().to_numpy(self.data)

    def __array__(self, dtype=None, copy=None):
        # The explicit read-out users expect from np.asarray(model(x)).
        out = self.numpy()
        return out if dtype is None else out.astype(dtype, copy=False)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    # Python numbers from a tensor (`float(loss)`, `f"{acc:.4f}"`): explicit
    # read-outs, the host syncs a user asks for by writing them.
    def __float__(self):
        return float(self.data)

    def __int__(self):
        return int(self.data)

    def __format__(self, format_spec):
        """Formats the value as NumPy formats it, as TensorFlow's tensors do:
        a 0-d tensor takes number formats (`f"{loss:.4f}"`); for other
        shapes only the empty spec works, giving the array's text.

        Raises:
            TypeError: for a format spec on a tensor that is not 0-d.
        """
        value = self.numpy()
        if format_spec and value.ndim:
            raise TypeError(
                f"unsupported format string {format_spec!r} passed to Tensor.__format__: "
                f"the tensor has shape {self.shape}, and only a 0-d tensor (one number, "
                "such as metric.result()) takes a number format, as in NumPy. Format "
                "its elements one by one, or reduce it to one number first."
            )
        return format(value, format_spec)

    def __round__(self, ndigits=None):
        """`round(t)` is an int and `round(t, n)` a Python number, as for
        Python floats (TensorFlow's tensors have no `__round__`; NumPy's
        0-d arrays neither).

        Raises:
            TypeError: if the tensor is not 0-d.
        """
        if self.ndim:
            raise TypeError(
                f"round() needs a 0-d tensor (one number); received a tensor of shape "
                f"{self.shape}. Round its elements with numpy.round(t.numpy(), n), or "
                "reduce the tensor to one number first."
            )
        value = self.numpy().item()
        return round(value) if ndigits is None else round(value, ndigits)

    def __bool__(self):
        return bool(self.data)

    def __repr__(self):
        kind = type(self).__name__
        return f"<{kind} shape={self.shape} dtype={self.dtype} numpy=\n{self.numpy()!r}>"

    def __hash__(self):
        return id(self)

    # -- copying and pickling ---------------------------------------------------
    # A tensor travels as its value: one explicit read-out to a NumPy array,
    # put back on the backend that is active where it is loaded (as
    # `load_model` does), so a model pickled on a GPU loads on a CPU-only
    # worker. The autodiff links stay behind: a copy is a leaf, like a
    # loaded weight. Variables keep their name and trainability, and the
    # optimizer's own variables their owner.
    def __reduce_ex__(self, protocol):
        return (_restore_tensor, (type(self), self.numpy()), self._copied_state())

    def __deepcopy__(self, memo):
        # In one process the value is copied where it lives (no host trip).
        clone = _restore_tensor(type(self), None, data=self.data.copy())
        memo[id(self)] = clone
        clone.__setstate__(copy.deepcopy(self._copied_state(), memo))
        return clone

    def _copied_state(self) -> dict:
        state = {}
        for cls in type(self).__mro__:
            for name in cls.__dict__.get("__slots__", ()):
                if name not in _NOT_COPIED and hasattr(self, name):
                    state[name] = getattr(self, name)
        state.update(getattr(self, "__dict__", {}))  # a user subclass without __slots__
        return state

    def __setstate__(self, state):
        for name, value in state.items():
            object.__setattr__(self, name, value)

    # -- operators (differentiable, through kerasette.ops) ----------------------
    def __add__(self, other):
        return _ops.add(self, other)

    def __radd__(self, other):
        return _ops.add(other, self)

    def __sub__(self, other):
        return _ops.subtract(self, other)

    def __rsub__(self, other):
        return _ops.subtract(other, self)

    def __mul__(self, other):
        return _ops.multiply(self, other)

    def __rmul__(self, other):
        return _ops.multiply(other, self)

    def __truediv__(self, other):
        return _ops.divide(self, other)

    def __rtruediv__(self, other):
        return _ops.divide(other, self)

    def __matmul__(self, other):
        return _ops.matmul(self, other)

    def __rmatmul__(self, other):
        return _ops.matmul(other, self)

    def __pow__(self, other):
        return _ops.power(self, other)

    def __rpow__(self, other):
        return _ops.power(other, self)

    def __neg__(self):
        return _ops.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.abs(self)

    def __getitem__(self, key):
        return _ops.getitem(self, key)

    # Comparisons give boolean tensors and carry no gradient. `==` compares
    # values like TF 2 does; `hash` stays identity so tensors work as keys.
    def __eq__(self, other):
        return _ops.equal(self, other)

    def __ne__(self, other):
        return _ops.not_equal(self, other)

    def __lt__(self, other):
        return _ops.less(self, other)

    def __le__(self, other):
        return _ops.less_equal(self, other)

    def __gt__(self, other):
        return _ops.greater(self, other)

    def __ge__(self, other):
        return _ops.greater_equal(self, other)


class Variable(Tensor):
    """A mutable tensor: the weights of layers and the state of optimizers.

    Trainable variables are watched automatically by an active
    `GradientTape`, as in TensorFlow.

    Args:
        initial_value: array-like value (host data is moved to the device).
        trainable: whether tapes watch it and optimizers update it.
        name: the variable's name, such as `"dense/kernel:0"`.
        dtype: dtype of the value; defaults to the input's for arrays and
            to `floatx()` for Python numbers and lists.

    Example:
        >>> import kerasette as keras
        >>> v = keras.Variable(3.0)
        >>> with keras.GradientTape() as tape:
        ...     y = v * v
        >>> float(tape.gradient(y, v))
        6.0
    """

    # `constraint`: a projection the optimizer applies after each update
    # (`Layer.add_weight(constraint=...)`), None for most variables.
    __slots__ = ("name", "trainable", "_watched", "constraint")

    def __init__(self, initial_value, trainable=True, name=None, dtype=None):
        if isinstance(initial_value, Tensor):
            initial_value = initial_value.data
        b = _backend.get_backend()
        if dtype is None and not (b.is_array(initial_value) or isinstance(initial_value, np.ndarray)):
            dtype = _backend.floatx()
        data = b.asarray(initial_value, dtype=dtype)
        if data is initial_value:
            data = data.copy()  # a variable owns its buffer: updates are in place
        super().__init__(data)
        self.name = name or "Variable:0"
        self.trainable = bool(trainable)
        self._watched = False
        self.constraint = None

    @property
    def _rg(self):
        return (self.trainable and _state.auto_watch()) or self._watched

    @_rg.setter
    def _rg(self, value):  # Tensor.__init__ sets it; a variable derives it
        pass

    @property
    def value(self):
        return self.data

    @property
    def path(self) -> str:
        """Keras 3's spelling of the name: `"dense/kernel"`."""
        return self.name.split(":")[0]

    def assign(self, value):
        """Writes `value` into the variable's own buffer (shape and dtype kept)."""
        self.data[...] = _ops.convert_to_tensor(value, dtype=self.dtype).data
        return self

    def assign_add(self, delta):
        self.data += _ops.convert_to_tensor(delta, dtype=self.dtype).data
        return self

    def assign_sub(self, delta):
        self.data -= _ops.convert_to_tensor(delta, dtype=self.dtype).data
        return self

    def __repr__(self):
        return (f"<Variable '{self.name}' shape={self.shape} dtype={self.dtype} "
                f"numpy=\n{self.numpy()!r}>")


# What a copy of a tensor does not take over (see Tensor.__reduce_ex__): the
# value travels separately, the autodiff links and a tape's watch not at all.
_NOT_COPIED = frozenset({"data", "_parents", "_backward", "_rg", "_keras_logits", "_keras_mask",
                         "_watched", "__weakref__"})


def _restore_tensor(cls, value, data=None):
    """A tensor of class `cls` holding `value` (a host array) moved to the
    active backend, or `data` (a backend array) as it is; its other state
    comes from `__setstate__`."""
    tensor = cls.__new__(cls)
    Tensor.__init__(tensor, _backend.get_backend().asarray(value) if data is None else data)
    if isinstance(tensor, Variable):
        tensor._watched = False
    return tensor
