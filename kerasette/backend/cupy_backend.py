"""The CuPy (NVIDIA GPU) backend.

CuPy is imported only when this backend is selected, so `import kerasette`
stays light on machines without it.
"""

from __future__ import annotations

import numpy as np

from kerasette.backend.base import Backend


def _import_cupy():
    try:
        import cupy
    except ImportError as err:  # the optional extra is missing
        raise RuntimeError(
            "The 'cupy' backend needs CuPy, which is not installed. Install it "
            "with `pip install kerasette[cuda12]` (CuPy for CUDA 12), or use "
            "set_backend('numpy')."
        ) from err
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDA driver or runtime missing
        raise RuntimeError(
            "The 'cupy' backend needs an NVIDIA GPU, but CUDA reported an "
            f"error: {err}. Use set_backend('numpy') on this machine."
        ) from err
    if count < 1:
        raise RuntimeError(
            "The 'cupy' backend needs an NVIDIA GPU, and none was found. "
            "Use set_backend('numpy') on this machine."
        )
    return cupy


class CupyBackend(Backend):
    """Runs everything with CuPy on the current GPU.

    A NumPy array reaching device code raises `TypeError` (CuPy's own rule);
    `kerasette.ops` catches raw NumPy operands first and says how to move
    them with `convert_to_tensor`.
    """

    name = "cupy"

    def __init__(self, seed=None):
        cupy = _import_cupy()
        self.xp = cupy
        self.array_type = cupy.ndarray
        super().__init__(seed)

    def asarray(self, x, dtype=None):
        return self.xp.asarray(x, dtype=dtype)

    def to_numpy(self, x) -> np.ndarray:
        if isinstance(x, self.array_type):
            return x.get()
        return np.asarray(x)

    def seed(self, seed):
        self._rng = self.xp.random.RandomState(seed)

    def random_uniform(self, shape, dtype="float32"):
        return self._rng.random_sample(shape, dtype=np.dtype(dtype))
