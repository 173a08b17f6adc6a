"""examples/text_classification.py runs offline and learns its corpus."""

import importlib.util
import re
from pathlib import Path

import numpy as np

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "text_classification.py"
LAST_LINE = re.compile(r"test_accuracy=(\d\.\d{4}) test_loss=(\d+\.\d{4})")


def load_example():
    spec = importlib.util.spec_from_file_location("example_text_classification", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_text_classification_learns_the_generated_reviews(capsys):
    example = load_example()
    result = example.main(["--reviews", "1000", "--epochs", "15", "--seed", "1", "--verbose", "0"])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    match = LAST_LINE.fullmatch(last)
    assert match, last
    assert match.group(1) == f"{result['test_accuracy']:.4f}"
    assert result["test_accuracy"] >= 0.8
    # The model takes raw strings: a clearly positive review scores higher.
    probs = result["model"].predict(np.array(["great and wonderful", "awful and boring"]),
                                    verbose=0).ravel()
    assert probs[0] > probs[1]
