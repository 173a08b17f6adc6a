"""The one backend fixture: every test runs on each available backend.

Backends: `numpy`, `strict` (CPU, refuses implicit NumPy conversions like
CuPy) and `cupy` when CuPy and a GPU are present. `KERASETTE_TEST_BACKENDS`
(comma-separated) narrows the list.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from fixture_paths import find_mnist

import kerasette
from kerasette import backend as K
from kerasette.utils import file_utils


def _available_backends():
    wanted = os.environ.get("KERASETTE_TEST_BACKENDS")
    if wanted:
        return [b.strip() for b in wanted.split(",") if b.strip()]
    names = ["numpy", "strict"]
    try:
        K.set_backend("cupy")
        names.append("cupy")
    except RuntimeError:
        pass
    finally:
        K.set_backend("numpy")
    return names


BACKENDS = _available_backends()


@pytest.fixture(params=BACKENDS, autouse=True)
def backend(request):
    """Activates one backend, with fresh layer names and a fixed seed."""
    b = K.set_backend(request.param)
    K.clear_session()
    kerasette.utils.set_random_seed(1234)
    yield b
    K.set_backend("numpy")


@pytest.fixture
def to_device(backend):
    """Moves host arrays to the active backend (the explicit boundary)."""

    def move(x, dtype=None):
        return kerasette.ops.convert_to_tensor(np.asarray(x), dtype=dtype)

    return move


@pytest.fixture(scope="session")
def mnist_npz():
    """The cached `mnist.npz` for tests that read or train on MNIST, or skip.

    See `fixture_paths.find_mnist`: cache first, a download only when
    `KERASETTE_TEST_DOWNLOAD=1`, else a one-line skip saying what to do.
    """
    return find_mnist()


@pytest.fixture
def fixed_blas_threads(monkeypatch):
    """Fixes the BLAS thread count at the library's own for a real-data run.

    `fit` picks its BLAS threads from the machine's load, and OpenBLAS's
    float32 products differ in the last bits between thread counts, so an
    accuracy check on a busy machine (a parallel test run, another job)
    would train a different run than on a quiet one. Fixed at the library's
    count, the run is the one a quiet machine trains.
    """
    from kerasette.backend import blas_library

    library = blas_library.find()
    if library is not None:
        monkeypatch.setenv("KERASETTE_BLAS_THREADS", str(library.get()))


# -- download tests (get_file, data-set loaders, pre-trained weights) ---------------
@pytest.fixture
def quick_retries(monkeypatch):
    """Downloads fail fast: no waits between retries and a 10 s timeout
    (the test servers answer at once or never). Modules that download
    use it with `pytestmark = pytest.mark.usefixtures("quick_retries")`."""
    monkeypatch.setattr(file_utils, "_RETRY_DELAYS", (0.0, 0.0))
    monkeypatch.setattr(file_utils, "_TIMEOUT_S", 10.0)


@pytest.fixture
def datasets_home(tmp_path, monkeypatch):
    """An empty KERASETTE_HOME; returns its datasets folder (created)."""
    root = tmp_path / "home"
    (root / "datasets").mkdir(parents=True)
    monkeypatch.setenv("KERASETTE_HOME", str(root))
    return root / "datasets"
