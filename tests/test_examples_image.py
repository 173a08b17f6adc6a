"""examples/image_folder_augmentation.py runs and learns (a short run)."""

import importlib.util
import re
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "image_folder_augmentation.py"


@pytest.fixture(autouse=True)
def backend():
    """Overrides conftest's per-backend fixture: one run, on numpy."""
    yield None


def test_image_folder_example_learns(tmp_path, capsys):
    pytest.importorskip("PIL")
    spec = importlib.util.spec_from_file_location("example_image_folder", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    accuracy = module.main(["--epochs", "8", "--per-class", "60", "--data-dir",
                            str(tmp_path / "shapes")])
    out = capsys.readouterr().out
    last = out.strip().splitlines()[-1]
    assert re.fullmatch(r"val_accuracy=\d\.\d{4}", last), last
    assert float(last.split("=")[1]) == pytest.approx(accuracy, abs=5e-5)
    assert "Using 144 files for training." in out and "Using 36 files for validation." in out
    assert sorted(p.name for p in (tmp_path / "shapes").iterdir()) == ["cross", "ring", "square"]
    assert accuracy > 0.5  # chance is 1/3
