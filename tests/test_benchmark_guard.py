"""The speed regression guard: `benchmarks/run.py --quick` in CI.

It fails when an MLP step's time, as a multiple of the time of its matrix
products alone, grows more than 25% above the ratio recorded in
`benchmarks/baseline.json` (see benchmarks/README.md). A ratio of two
timings taken side by side in one process, so the machine's speed cancels.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def backend():
    """Overrides the per-backend fixture: the guard measures the NumPy backend once."""
    return "numpy"


def test_mlp_step_over_gemm_floor_has_not_regressed(mnist_npz):
    recorded = json.loads((BENCHMARKS / "baseline.json").read_text())
    assert "mlp128_over_floor_1_threads" in recorded
    env = dict(os.environ, KERASETTE_BACKEND="numpy")
    run = subprocess.run([sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--threads", "1"],
                         capture_output=True, text=True, env=env, timeout=300)
    if run.returncode == 3:  # sections.NOT_COMPARABLE
        pytest.skip(run.stdout.strip().splitlines()[-1])
    assert run.returncode == 0, run.stdout + run.stderr
    assert "kerasette/floor for the MLP step" in run.stdout


def test_iris_steps_have_not_regressed():
    """The notes' Iris recipe (L2 and Dropout) on the direct step, and the
    same recipe on the general tape path, each as a multiple of the plain
    network's direct step (`benchmarks/recipes.py --guard`): a slower kernel
    or a slower tape fails here."""
    recorded = json.loads((BENCHMARKS / "baseline.json").read_text())
    assert "iris_recipe_step_over_plain_step" in recorded
    env = dict(os.environ, KERASETTE_BACKEND="numpy", OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    run = subprocess.run([sys.executable, str(BENCHMARKS / "recipes.py"), "--guard"],
                         capture_output=True, text=True, env=env, timeout=300,
                         cwd=str(BENCHMARKS))
    if run.returncode == 3:
        pytest.skip(run.stdout.strip().splitlines()[-1])
    assert run.returncode == 0, run.stdout + run.stderr
    assert "tape_over_plain" in run.stdout
