"""Determinism: `set_random_seed(n)` makes a run repeat bit for bit (NumPy backend).

Initial weights, Dropout masks, the shuffle order and the validation split
all follow the seed, so two runs with the same seed, in one process or in
two, give identical weights, histories and predictions. The run itself is
`determinism_run.run`.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import kerasette
from determinism_run import run

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "determinism_run.py")
PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(kerasette.__file__)))


def _assert_bitwise_equal(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for key in a:
        u, v = np.asarray(a[key]), np.asarray(b[key])
        assert (u.dtype, u.shape) == (v.dtype, v.shape), key
        assert u.tobytes() == v.tobytes(), f"{key} differs"


def test_same_seed_same_results_in_one_process():
    first, second = run(5), run(5)
    _assert_bitwise_equal(first, second)
    assert len(first["h_loss"]) == 3 and "h_val_loss" in first
    other = run(6)  # and the seed matters: weights, masks and order all change
    assert first["w0"].tobytes() != other["w0"].tobytes()
    assert first["h_loss"][0] != other["h_loss"][0]


def _run_in_child(seed, path):
    env = {k: v for k, v in os.environ.items() if k != "KERASETTE_BACKEND"}
    # Same BLAS threading in both children (and 1 thread: no reduction-order drift).
    env.update(KERASETTE_BACKEND="numpy", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
    proc = subprocess.run([sys.executable, SCRIPT, str(seed), str(path)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with np.load(path) as f:
        return {key: f[key] for key in f.files}


def test_same_seed_same_results_in_two_processes(backend, tmp_path):
    if backend.name != "numpy":
        pytest.skip("runs the children once, on the numpy backend")
    first = _run_in_child(11, tmp_path / "a.npz")
    second = _run_in_child(11, tmp_path / "b.npz")
    _assert_bitwise_equal(first, second)
    assert np.isfinite(first["h_val_loss"]).all()
