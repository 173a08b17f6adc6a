"""The examples run and reach what they promise."""

import importlib.util
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load_example(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xor_gradient_tape_loop_learns_xor(capsys):
    xor = load_example("xor")
    accuracy = xor.main(["--steps", "4000", "--seed", "1"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert accuracy == 1.0 and last == "accuracy=1.0"
    _, outputs = xor.train(steps=4000, seed=1, verbose=False)
    np.testing.assert_allclose(outputs.ravel(), [0, 1, 1, 0], atol=0.1)
