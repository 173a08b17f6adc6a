"""The glibc allocator settings `fit` applies (backend/host_allocator.py)."""

import os
import subprocess
import sys

import pytest

PROBE = """
import numpy as np
import kerasette as keras
from kerasette.backend import host_allocator
before = host_allocator._state["done"]
model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])
model.compile("sgd", "mse")
model.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), verbose=0)
print(before, host_allocator._state["done"], host_allocator._state["applied"])
"""


@pytest.fixture
def backend():
    """Overrides the per-backend fixture: these run child processes once."""
    return "numpy"


def _probe(**env):
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         env=dict(os.environ, KERASETTE_BACKEND="numpy", **env), check=True)
    return out.stdout.split()


def _glibc():
    import ctypes

    try:
        ctypes.CDLL(None).gnu_get_libc_version  # noqa: B018
    except (OSError, AttributeError):
        return False
    return sys.platform.startswith("linux")


def test_import_changes_nothing_and_fit_tunes_once():
    before, done, applied = _probe()
    assert before == "False", "importing kerasette must not touch the allocator"
    assert done == "True"
    assert applied == str(_glibc())


def test_can_be_turned_off():
    assert _probe(KERASETTE_MALLOC_TUNING="0") == ["False", "True", "False"]
