"""Weight initializers with tf.keras 2's names, arguments and formulas.

An initializer is called with a shape (and optionally a dtype) and returns a
`kerasette.Tensor` on the active backend. Random initializers draw on the
host with NumPy in float64, cast once to the requested dtype and move the
result to the device once, so the same seed gives the same weights on every
backend:

* unseeded (`seed=None`), draws come from the process-wide host generator
  (`kerasette.backend.host_rng()`), which
  `kerasette.utils.set_random_seed(n)` re-seeds; each call gives new values;
* seeded, each call starts a fresh `np.random.default_rng(seed)`, so a
  seeded initializer gives the same values every time (as in tf.keras 2).

Fans follow Keras's `_compute_fans`: a 2-D kernel `(in, out)` has
`fan_in = in`, `fan_out = out`; a convolution kernel `(*spatial, in, out)`
multiplies both by the receptive field size `prod(spatial)`.

Example:
    >>> import kerasette as keras
    >>> init = keras.initializers.GlorotUniform(seed=0)
    >>> w = init((3, 2))
    >>> w.shape, str(w.dtype)
    ((3, 2), 'float32')
    >>> keras.initializers.serialize(init)["class_name"]
    'GlorotUniform'
    >>> type(keras.initializers.get("he_normal")).__name__
    'HeNormal'
"""

from __future__ import annotations

import inspect
import math
import numbers

import numpy as np

from kerasette import backend as K
from kerasette.autodiff import Tensor
from kerasette.utils.registry import NameTable

__all__ = [
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform",
    "Identity", "Initializer", "LecunNormal", "LecunUniform", "Ones",
    "Orthogonal", "RandomNormal", "RandomUniform", "TruncatedNormal",
    "VarianceScaling", "Zeros",
    "constant", "glorot_normal", "glorot_uniform", "he_normal", "he_uniform",
    "identity", "lecun_normal", "lecun_uniform", "ones", "orthogonal",
    "random_normal", "random_uniform", "truncated_normal", "variance_scaling",
    "zeros",
    "deserialize", "get", "serialize",
]

# Standard deviation of a standard normal truncated to [-2, 2]
# (scipy.stats.truncnorm.std(a=-2, b=2)); VarianceScaling divides by it so the
# truncated draw ends with the nominal standard deviation, as Keras does.
_TRUNCATED_STD = 0.87962566103423978


# -- helpers ------------------------------------------------------------------------
def _number(value, name, owner, *, positive=False, non_negative=False):
    """A finite real argument as a Python float, or a ValueError naming it."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and positive:
        ok = value > 0
    if ok and non_negative:
        ok = value >= 0
    if not ok:
        kind = ("a positive" if positive else "a non-negative" if non_negative else "a finite")
        raise ValueError(
            f"{owner} expects `{name}` to be {kind} number. Received: {name}={value!r}"
        )
    return float(value)


def _seed(seed, owner):
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(
            f"{owner} expects `seed` to be an integer or None. Received: seed={seed!r}"
        )
    return int(seed)


def _shape(shape, owner) -> tuple:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        dims = None
    if dims is None or not all(
        isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0 for d in dims
    ):
        raise ValueError(
            f"{owner} expects a shape of non-negative integers. Received: shape={shape!r}"
        )
    return tuple(int(d) for d in dims)


def _dtype(dtype, owner, kinds="f"):
    dt = np.dtype(dtype or K.floatx())
    if dt.kind not in kinds:
        expected = {"f": "a floating dtype", "fiu": "a floating or integer dtype"}.get(
            kinds, "a numeric or boolean dtype")
        raise ValueError(f"{owner} expects {expected}. Received: dtype={dt.name!r}")
    return dt


def _to_device(values: np.ndarray, dtype) -> Tensor:
    """Casts host values once and moves them to the active backend once."""
    # C order copies broadcast views, so the tensor owns a writable buffer.
    host = np.asarray(values, dtype=dtype, order="C")
    return Tensor(K.get_backend().asarray(host))


def _truncated_standard_normal(rng: np.random.Generator, shape) -> np.ndarray:
    """Standard normal draws, re-drawing those beyond two standard deviations."""
    z = rng.standard_normal(shape)
    bad = np.abs(z) > 2.0
    while bad.any():  # about 4.6% per round, so a handful of rounds at most
        z[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(z) > 2.0
    return z


def _compute_fans(shape) -> tuple[int, int]:
    """`(fan_in, fan_out)` of a weight shape, as Keras computes them.

    Example:
        >>> _compute_fans((3, 3, 16, 32))
        (144, 288)
    """
    if len(shape) < 1:  # scalars: avoid dividing by zero
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive_field = 1
    for dim in shape[:-2]:
        receptive_field *= dim
    return int(shape[-2] * receptive_field), int(shape[-1] * receptive_field)


# -- base ------------------------------------------------------------------------------
class Initializer:
    """Base class of initializers: `__call__(shape, dtype)` plus a config.

    Subclasses implement `__call__` and, when they take arguments,
    `get_config` (JSON-ready values) so that `from_config(get_config())`
    rebuilds them.

    Example:
        >>> import numpy as np
        >>> class Twos(Initializer):
        ...     def __call__(self, shape, dtype=None):
        ...         return _to_device(np.full(shape, 2.0), dtype or "float32")
        >>> Twos()((2,)).numpy().tolist()
        [2.0, 2.0]
    """

    def __call__(self, shape, dtype=None) -> Tensor:
        """Returns a tensor of `shape` and `dtype` (default `floatx()`)."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement __call__(shape, dtype=None)."
        )

    def get_config(self) -> dict:
        """The constructor arguments, as JSON-ready values."""
        return {}

    @classmethod
    def from_config(cls, config: dict):
        """Rebuilds an initializer from `get_config()`'s dict.

        A `"dtype"` key (written into initializer configs by tf.keras 1) is
        ignored, as tf.keras 2 ignores it. Other unknown keys raise a
        `ValueError` naming them.
        """
        config = dict(config)
        config.pop("dtype", None)
        params = inspect.signature(cls.__init__).parameters
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            unknown = sorted(set(config) - set(params) - {"self"})
            if unknown:
                raise ValueError(
                    f"Unrecognized keys in the config of {cls.__name__}: {unknown}. "
                    f"Expected some of: {sorted(set(params) - {'self'})}. "
                    f"Received: config={config!r}"
                )
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _RandomInitializer(Initializer):
    """Holds the seed and hands out the generator to draw from."""

    def __init__(self, seed=None):
        self.seed = _seed(seed, type(self).__name__)

    def _rng(self) -> np.random.Generator:
        if self.seed is None:
            # Looked up on every call: set_random_seed replaces the generator.
            return K.host_rng()
        # A fresh generator per call: a seeded initializer always gives the
        # same values. NumPy takes non-negative seeds; TF's are int64.
        return np.random.default_rng(self.seed % 2**64)

    def get_config(self) -> dict:
        return {"seed": self.seed}


# -- constants --------------------------------------------------------------------------
class Zeros(Initializer):
    """Initializer that generates tensors of zeros (any numeric or bool dtype).

    Example:
        >>> Zeros()((2,)).numpy().tolist()
        [0.0, 0.0]
    """

    def __call__(self, shape, dtype=None) -> Tensor:
        shape = _shape(shape, "Zeros")
        dt = _dtype(dtype, "Zeros", kinds="fiub")
        return _to_device(np.zeros(shape, dtype=dt), dt)


class Ones(Initializer):
    """Initializer that generates tensors of ones (any numeric or bool dtype).

    Example:
        >>> Ones()((2,)).numpy().tolist()
        [1.0, 1.0]
    """

    def __call__(self, shape, dtype=None) -> Tensor:
        shape = _shape(shape, "Ones")
        dt = _dtype(dtype, "Ones", kinds="fiub")
        return _to_device(np.ones(shape, dtype=dt), dt)


class Constant(Initializer):
    """Initializer that fills tensors with a constant value.

    Args:
        value: a number, or an array-like that is reshaped (same number of
            elements) or broadcast to the requested shape.

    Example:
        >>> Constant(3.0)((2,)).numpy().tolist()
        [3.0, 3.0]
    """

    def __init__(self, value=0):
        if isinstance(value, Tensor):
            value = value.numpy()
        arr = np.asarray(value) if not isinstance(value, dict) else None
        if arr is None or arr.dtype.kind not in "biuf" or not np.all(np.isfinite(arr)):
            raise ValueError(
                "Constant expects `value` to be a finite number or an array-like of "
                f"numbers. Received: value={value!r}"
            )
        # Arrays are kept as (JSON-ready) nested lists; numbers as Python numbers.
        self.value = arr.tolist() if arr.ndim else arr.item()

    def __call__(self, shape, dtype=None) -> Tensor:
        shape = _shape(shape, "Constant")
        dt = _dtype(dtype, "Constant", kinds="fiub")
        arr = np.asarray(self.value, dtype=np.float64 if dt.kind == "f" else None)
        if arr.shape != shape:
            if arr.size == math.prod(shape) and arr.ndim:
                arr = arr.reshape(shape)  # as tf.constant(value, shape=shape)
            else:
                try:
                    arr = np.broadcast_to(arr, shape)
                except ValueError:
                    raise ValueError(
                        f"Constant value of shape {arr.shape} cannot fill shape {shape}."
                    ) from None
        return _to_device(arr, dt)

    def get_config(self) -> dict:
        return {"value": self.value}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        value = config.get("value")
        # Keras 3 serializes array values as {"class_name": "__numpy__", ...}.
        if isinstance(value, dict) and value.get("class_name") == "__numpy__":
            config["value"] = value.get("config", {}).get("value")
        return super().from_config(config)


# -- random -------------------------------------------------------------------------------
class RandomNormal(_RandomInitializer):
    """Draws from a normal distribution `N(mean, stddev**2)`.

    Args:
        mean: mean of the distribution.
        stddev: standard deviation (non-negative).
        seed: an integer for repeatable draws, or `None`.

    Example:
        >>> w = RandomNormal(stddev=1.0, seed=1)((2, 2))
        >>> w.shape
        (2, 2)
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = _number(mean, "mean", "RandomNormal")
        self.stddev = _number(stddev, "stddev", "RandomNormal", non_negative=True)

    def __call__(self, shape, dtype=None) -> Tensor:
        shape = _shape(shape, "RandomNormal")
        dt = _dtype(dtype, "RandomNormal")
        return _to_device(self.mean + self.stddev * self._rng().standard_normal(shape), dt)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_RandomInitializer):
    """Draws uniformly from `[minval, maxval)`.

    Integer dtypes draw integers in `[minval, maxval)`, as TensorFlow does.

    Args:
        minval: lower bound.
        maxval: upper bound (at least `minval`).
        seed: an integer for repeatable draws, or `None`.

    Example:
        >>> w = RandomUniform(-1.0, 1.0, seed=1)((100,)).numpy()
        >>> bool((w >= -1).all() and (w < 1).all())
        True
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval = _number(minval, "minval", "RandomUniform")
        self.maxval = _number(maxval, "maxval", "RandomUniform")
        if self.minval > self.maxval:
            raise ValueError(
                "RandomUniform expects `minval <= maxval`. "
                f"Received: minval={minval!r}, maxval={maxval!r}"
            )

    def __call__(self, shape, dtype=None) -> Tensor:
        shape = _shape(shape, "RandomUniform")
        dt = _dtype(dtype, "RandomUniform", kinds="fiu")
        if dt.kind in "iu":
            low, high = math.ceil(self.minval), math.ceil(self.maxval)
            if low >= high:
                raise ValueError(
                    "RandomUniform with an integer dtype needs an integer in "
                    f"[minval, maxval). Received: minval={self.minval}, maxval={self.maxval}"
                )
            return _to_device(self._rng().integers(low, high, size=shape), dt)
        return _to_device(self._rng().uniform(self.minval, self.maxval, size=shape), dt)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(_RandomInitializer):
    """Normal draws `N(mean, stddev**2)`; values more than two standard
    deviations from the mean are re-drawn.

    The result's standard deviation is therefore about `0.88 * stddev`
    (only `VarianceScaling` compensates for the truncation).

    Args:
        mean: mean of the distribution.
        stddev: standard deviation before truncation (non-negative).
        seed: an integer for repeatable draws, or `None`.

    Example:
        >>> w = TruncatedNormal(stddev=1.0, seed=1)((1000,)).numpy()
        >>> bool(abs(w).max() <= 2.0)
        True
    """

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = _number(mean, "mean", "TruncatedNormal")
        self.stddev = _number(stddev, "stddev", "TruncatedNormal", non_negative=True)

    def __call__(self, shape, dtype=None) -> Tensor:
        shape = _shape(shape, "TruncatedNormal")
        dt = _dtype(dtype, "TruncatedNormal")
        z = _truncated_standard_normal(self._rng(), shape)
        return _to_device(self.mean + self.stddev * z, dt)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(_RandomInitializer):
    """Scales its draws to the shape of the weight (Keras's general initializer).

    With `n` the fan chosen by `mode` (`fan_in`, `fan_out`, or their mean
    for `fan_avg`, at least 1):

    * `"truncated_normal"`: a normal truncated at two standard deviations,
      with `stddev = sqrt(scale / n) / 0.8796...` so that the final standard
      deviation is `sqrt(scale / n)`;
    * `"untruncated_normal"`: a normal with `stddev = sqrt(scale / n)`;
    * `"uniform"`: uniform in `[-limit, limit]`, `limit = sqrt(3 * scale / n)`.

    Args:
        scale: scaling factor (positive).
        mode: `"fan_in"`, `"fan_out"` or `"fan_avg"`.
        distribution: `"truncated_normal"`, `"untruncated_normal"` or
            `"uniform"` (`"normal"` is read as `"truncated_normal"`, as in Keras).
        seed: an integer for repeatable draws, or `None`.

    Example:
        >>> init = VarianceScaling(scale=2.0, mode="fan_in", distribution="uniform", seed=0)
        >>> bool(abs(init((50, 10)).numpy()).max() <= (3 * 2.0 / 50) ** 0.5)
        True
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        owner = type(self).__name__
        super().__init__(seed)
        self.scale = _number(scale, "scale", owner, positive=True)
        if mode not in _MODES:
            raise ValueError(
                f"{owner} expects `mode` to be one of {_MODES}. Received: mode={mode!r}"
            )
        dist = distribution.lower() if isinstance(distribution, str) else distribution
        if dist == "normal":  # Keras's compatibility alias
            dist = "truncated_normal"
        if dist not in _DISTRIBUTIONS:
            raise ValueError(
                f"{owner} expects `distribution` to be one of {_DISTRIBUTIONS}. "
                f"Received: distribution={distribution!r}"
            )
        self.mode = mode
        self.distribution = dist

    def __call__(self, shape, dtype=None) -> Tensor:
        owner = type(self).__name__
        shape = _shape(shape, owner)
        dt = _dtype(dtype, owner)
        fan_in, fan_out = _compute_fans(shape)
        fans = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        fan = fans[self.mode]
        scale = self.scale / max(1.0, fan)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / _TRUNCATED_STD
            values = stddev * _truncated_standard_normal(rng, shape)
        elif self.distribution == "untruncated_normal":
            values = math.sqrt(scale) * rng.standard_normal(shape)
        else:
            limit = math.sqrt(3.0 * scale)
            values = rng.uniform(-limit, limit, size=shape)
        return _to_device(values, dt)

    def get_config(self) -> dict:
        return {"scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "seed": self.seed}

    @classmethod
    def from_config(cls, config: dict):
        """Rebuilds from a config; also reads Keras 3.15's configs, whose
        `input_axes`/`output_axes` keys are accepted when `None` (their
        default: fans computed as above) and refused otherwise."""
        config = dict(config)
        for key in ("input_axes", "output_axes"):
            if key in config:
                if config[key] is not None:
                    raise ValueError(
                        f"{cls.__name__}: kerasette computes fans from the shape only and "
                        f"cannot honour Keras 3's `{key}`. Received: {key}={config[key]!r}"
                    )
                del config[key]
        return super().from_config(config)


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling preset whose only argument is the seed."""

    _preset: tuple = ()

    def __init__(self, seed=None):
        scale, mode, distribution = self._preset
        super().__init__(scale=scale, mode=mode, distribution=distribution, seed=seed)

    def get_config(self) -> dict:
        return {"seed": self.seed}


class GlorotUniform(_FixedVarianceScaling):
    """Glorot (Xavier) uniform: `U(-limit, limit)`, `limit = sqrt(6 / (fan_in + fan_out))`.

    The default kernel initializer of `Dense` and the convolutions.

    Args:
        seed: an integer for repeatable draws, or `None`.

    Example:
        >>> GlorotUniform(seed=0)((4, 3)).shape
        (4, 3)
    """

    _preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Glorot (Xavier) normal: truncated normal with final
    `stddev = sqrt(2 / (fan_in + fan_out))`.

    Args:
        seed: an integer for repeatable draws, or `None`.

    Example:
        >>> GlorotNormal(seed=0)((4, 3)).shape
        (4, 3)
    """

    _preset = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """He uniform: `U(-limit, limit)`, `limit = sqrt(6 / fan_in)`.

    Args:
        seed: an integer for repeatable draws, or `None`.

    Example:
        >>> HeUniform(seed=0)((4, 3)).shape
        (4, 3)
    """

    _preset = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    """He normal: truncated normal with final `stddev = sqrt(2 / fan_in)`.

    Args:
        seed: an integer for repeatable draws, or `None`.

    Example:
        >>> HeNormal(seed=0)((4, 3)).shape
        (4, 3)
    """

    _preset = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """LeCun uniform: `U(-limit, limit)`, `limit = sqrt(3 / fan_in)`.

    Args:
        seed: an integer for repeatable draws, or `None`.

    Example:
        >>> LecunUniform(seed=0)((4, 3)).shape
        (4, 3)
    """

    _preset = (1.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """LeCun normal: truncated normal with final `stddev = sqrt(1 / fan_in)`
    (the initializer to pair with `selu`).

    Args:
        seed: an integer for repeatable draws, or `None`.

    Example:
        >>> LecunNormal(seed=0)((4, 3)).shape
        (4, 3)
    """

    _preset = (1.0, "fan_in", "truncated_normal")


class Orthogonal(_RandomInitializer):
    """An orthogonal matrix (from the QR decomposition of a normal draw) times `gain`.

    Shapes of rank above 2 are initialized as the matrix
    `(prod(shape[:-1]), shape[-1])`; its rows or its columns (whichever are
    fewer) are orthonormal.

    Args:
        gain: multiplicative factor.
        seed: an integer for repeatable draws, or `None`.

    Example:
        >>> import numpy as np
        >>> q = Orthogonal(seed=0)((4, 4)).numpy()
        >>> bool(np.allclose(q.T @ q, np.eye(4), atol=1e-5))
        True
    """

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = _number(gain, "gain", "Orthogonal")

    def __call__(self, shape, dtype=None) -> Tensor:
        shape = _shape(shape, "Orthogonal")
        dt = _dtype(dtype, "Orthogonal")
        if len(shape) < 2:
            raise ValueError(
                "Orthogonal expects a shape of at least two dimensions. "
                f"Received: shape={shape}"
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = self._rng().standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        # Fixing the signs of R's diagonal makes Q uniformly distributed
        # (Mezzadri, 2007), as Keras does.
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return _to_device(self.gain * q.reshape(shape), dt)

    def get_config(self) -> dict:
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """The identity matrix times `gain` (2-D shapes only; rectangular allowed).

    Args:
        gain: multiplicative factor.

    Example:
        >>> Identity(gain=2.0)((2, 3)).numpy().tolist()
        [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    """

    def __init__(self, gain=1.0):
        self.gain = _number(gain, "gain", "Identity")

    def __call__(self, shape, dtype=None) -> Tensor:
        shape = _shape(shape, "Identity")
        dt = _dtype(dtype, "Identity")
        if len(shape) != 2:
            raise ValueError(
                f"Identity expects a 2-D shape. Received: shape={shape}"
            )
        return _to_device(self.gain * np.eye(*shape), dt)

    def get_config(self) -> dict:
        return {"gain": self.gain}


# -- tf.keras 2's snake_case aliases (the classes themselves) ---------------------------------
zeros = Zeros
ones = Ones
constant = Constant
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_uniform = HeUniform
he_normal = HeNormal
lecun_uniform = LecunUniform
lecun_normal = LecunNormal
orthogonal = Orthogonal
identity = Identity

# -- names ------------------------------------------------------------------------------------
_TABLE = NameTable("initializer", "keras.initializers")
for _cls, _alias in (
    (Zeros, "zeros"), (Ones, "ones"), (Constant, "constant"),
    (RandomNormal, "random_normal"), (RandomUniform, "random_uniform"),
    (TruncatedNormal, "truncated_normal"), (VarianceScaling, "variance_scaling"),
    (GlorotUniform, "glorot_uniform"), (GlorotNormal, "glorot_normal"),
    (HeUniform, "he_uniform"), (HeNormal, "he_normal"),
    (LecunUniform, "lecun_uniform"), (LecunNormal, "lecun_normal"),
    (Orthogonal, "orthogonal"), (Identity, "identity"),
):
    _TABLE.register(_cls, _cls.__name__, _alias)
# Short aliases Keras 3 accepts, and the class names Keras 3 writes for two of them.
_TABLE.register(Zeros, "zero")
_TABLE.register(Ones, "one")
_TABLE.register(RandomNormal, "normal")
_TABLE.register(RandomUniform, "uniform")
_TABLE.register(Orthogonal, "OrthogonalInitializer")
_TABLE.register(Identity, "IdentityInitializer")


def serialize(initializer) -> dict | None:
    """The nested config Keras writes for an initializer.

    Args:
        initializer: an `Initializer` instance, or `None`.

    Returns:
        `{"module": "keras.initializers", "class_name": ..., "config": ...,
        "registered_name": ...}`, or `None`.

    Example:
        >>> config = serialize(GlorotUniform())
        >>> config["module"], config["class_name"], config["config"]
        ('keras.initializers', 'GlorotUniform', {'seed': None})
    """
    if initializer is not None and not hasattr(initializer, "get_config"):
        raise ValueError(
            "initializers.serialize expects an Initializer (with get_config). "
            f"Received: {initializer!r}"
        )
    return _TABLE.serialize(initializer)


def deserialize(config, custom_objects=None) -> Initializer | None:
    """Builds an initializer from a name or a config dict.

    Args:
        config: a name (`"glorot_uniform"`, `"GlorotUniform"`, case and
            underscores ignored), or a dict with `class_name` and `config`
            as tf.keras 2 or Keras 3 write it.
        custom_objects: optional dict of extra `name -> class`.

    Returns:
        An `Initializer` instance (a name gives the default arguments).

    Raises:
        ValueError: for an unknown name (with the closest valid one) or a
            config key the class does not take.

    Example:
        >>> deserialize({"class_name": "RandomNormal", "config": {"stddev": 1.0}}).stddev
        1.0
    """
    return _TABLE.deserialize(config, custom_objects)


def get(identifier) -> Initializer | None:
    """Turns what a layer's `*_initializer=` accepts into an initializer.

    Args:
        identifier: `None`, a name, a config dict, an `Initializer` class
            (instantiated with defaults) or a callable (returned as is).

    Returns:
        An initializer, or `None` for `None`.

    Raises:
        ValueError: for an unknown name or an identifier of another kind.

    Example:
        >>> type(get("zeros")).__name__
        'Zeros'
        >>> get(None) is None
        True
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if isinstance(identifier, type):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(
        "Could not interpret initializer identifier: expected None, a name, a "
        f"config dict or a callable. Received: {identifier!r}"
    )
