"""Backend selection: which array library runs the numbers.

One backend is active per process. It is chosen, in order, by
`set_backend(name)`, or by the `KERASETTE_BACKEND` environment variable
(`numpy`, `cupy`, or `strict` for tests), or defaults to `numpy`. Select the
backend before building models: arrays made under one backend are not
converted when another is selected.

Example:
    >>> import kerasette
    >>> kerasette.backend.set_backend("numpy")
    <kerasette backend 'numpy'>
    >>> kerasette.backend.backend()
    'numpy'
"""

from __future__ import annotations

import copy
import os

import numpy as np

from kerasette.backend.base import Backend
from kerasette.backend.keras_functions import (
    batch_get_value,
    batch_set_value,
    cast_to_floatx,
    count_params,
    epsilon,
    get_value,
    image_data_format,
    int_shape,
    set_epsilon,
    set_image_data_format,
    set_value,
)
from kerasette.backend.threads import get_blas_threads, set_blas_threads

_BACKEND_NAMES = ("numpy", "cupy", "strict")
_active: Backend | None = None
_seed: int | None = None
_floatx = "float32"
# Host-side draws (initial weights, shuffling) come from one NumPy generator,
# so a seed gives the same initial weights on every backend.
_host_rng = np.random.default_rng()


def _make(name: str) -> Backend:
    if name == "numpy":
        from kerasette.backend.numpy_backend import NumpyBackend

        return NumpyBackend(_seed)
    if name == "strict":
        from kerasette.backend.strict_backend import StrictBackend

        return StrictBackend(_seed)
    if name == "cupy":
        from kerasette.backend.cupy_backend import CupyBackend

        return CupyBackend(_seed)
    raise ValueError(
        f"Unknown backend {name!r}. Expected one of {', '.join(_BACKEND_NAMES)}."
    )


def set_backend(name: str) -> Backend:
    """Selects the array backend for this process.

    Args:
        name: `"numpy"` (CPU), `"cupy"` (NVIDIA GPU, needs the `cuda12`
            extra) or `"strict"` (CPU, refuses implicit NumPy conversions
            like CuPy does; for tests).

    Returns:
        The new active `Backend`.

    Raises:
        ValueError: for an unknown name.
        RuntimeError: for `"cupy"` where CuPy or a GPU is missing.
    """
    global _active
    if not isinstance(name, str):
        raise TypeError(f"set_backend expects a name (str). Received: {name!r}")
    _active = _make(name.lower())
    return _active


def get_backend() -> Backend:
    """Returns the active `Backend`, creating it on first use."""
    global _active
    if _active is None:
        name = os.environ.get("KERASETTE_BACKEND", "numpy").strip() or "numpy"
        _active = _make(name.lower())
    return _active


def backend() -> str:
    """The name of the active backend (`"numpy"`, `"cupy"` or `"strict"`)."""
    return get_backend().name


def set_seed(seed: int | None) -> None:
    """Seeds the host generator and the active backend's device generator."""
    global _seed, _host_rng
    _seed = seed
    _host_rng = np.random.default_rng(seed)
    if _active is not None:
        _active.seed(seed)


def host_rng() -> np.random.Generator:
    """The seeded host generator used for initial weights and shuffling."""
    return _host_rng


def get_rng_state() -> dict:
    """The state of kerasette's generators: the host one (initial weights,
    shuffling) and the active backend's device one (dropout masks, noise).

    `BackupAndRestore` saves it with a backup so that a resumed `fit`
    draws what the uninterrupted run would have drawn. The device entry is
    None where the generator cannot report its state (CuPy's cuRAND).

    Returns:
        `{"host": ..., "device": ...}`, JSON-serialisable dicts.
    """
    try:
        device = get_backend().get_rng_state()
    except NotImplementedError:
        device = None
    return {"host": copy.deepcopy(_host_rng.bit_generator.state), "device": device}


def set_rng_state(state: dict) -> None:
    """Restores generators from `get_rng_state()` (a None device entry
    leaves the device generator as it is)."""
    _host_rng.bit_generator.state = copy.deepcopy(state["host"])
    if state.get("device") is not None:
        get_backend().set_rng_state(state["device"])


def floatx() -> str:
    """The default float dtype, `"float32"` as in Keras."""
    return _floatx


def set_floatx(value: str) -> None:
    """Sets the default float dtype (`"float16"`, `"float32"` or `"float64"`)."""
    global _floatx
    if value not in ("float16", "float32", "float64"):
        raise ValueError(
            "set_floatx expects 'float16', 'float32' or 'float64'. "
            f"Received: {value!r}"
        )
    _floatx = value


def clear_session() -> None:
    """Resets the automatic layer names (`dense`, `dense_1`, ...), as in Keras."""
    from kerasette.utils.naming import reset_names

    reset_names()


__all__ = [
    "Backend",
    "backend",
    "batch_get_value",
    "batch_set_value",
    "cast_to_floatx",
    "clear_session",
    "count_params",
    "epsilon",
    "floatx",
    "get_backend",
    "get_blas_threads",
    "get_rng_state",
    "get_value",
    "host_rng",
    "image_data_format",
    "int_shape",
    "set_backend",
    "set_blas_threads",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "set_rng_state",
    "set_seed",
    "set_value",
]
