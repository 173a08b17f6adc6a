"""examples/transfer_learning.py runs (a short run) and freezes what it says."""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

import kerasette as keras

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "transfer_learning.py"


@pytest.fixture(autouse=True)
def backend():
    """Overrides conftest's per-backend fixture: one run, on numpy."""
    keras.backend.set_backend("numpy")
    yield None


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("example_transfer_learning", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_transfer_learning_example_runs(example, capsys):
    accuracy = example.main(["--pretrain-epochs", "1", "--pretrain-per-class", "16",
                             "--per-class", "12", "--epochs", "2", "--fine-tune-epochs", "1",
                             "--size", "32"])
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert re.fullmatch(r"val_accuracy=\d\.\d{4}", lines[-1]), lines[-1]
    assert float(lines[-1].split("=")[1]) == pytest.approx(accuracy, abs=5e-5)
    assert 'weights="imagenet"' in lines[-2] and "$KERASETTE_HOME/models/" in lines[-2]
    assert "stand-in pretraining: 64 images of 4 classes" in out
    assert "trainable weights: 2" in out and "trainable weights: 14" in out
    assert "Epoch 3/3" in out  # fine-tuning resumed at initial_epoch=2


def test_frozen_base_then_top_block(example, tmp_path):
    keras.utils.set_random_seed(0)
    path = str(tmp_path / "stand_in.h5")
    example.pretrain_stand_in(path, 32, 0.35, per_class=8, epochs=1, seed=0)
    model, base = example.build_model(32, 0.35, None, stand_in=path)
    source = keras.applications.MobileNetV2(weights=None, input_shape=(32, 32, 3), alpha=0.35,
                                            classes=4)
    source.load_weights(path)
    np.testing.assert_array_equal(base.get_layer("Conv_1").get_weights()[0],
                                  source.get_layer("Conv_1").get_weights()[0])
    x, y = example.make_data(example.CLASSES, 6, 32, 0)
    example.compile_model(model, 1e-3)
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in base.layers}
    model.fit(x, y, epochs=1, batch_size=6, verbose=0)
    for layer in base.layers:  # frozen, batch-norm statistics included
        for a, b in zip(layer.get_weights(), before[layer.name]):
            np.testing.assert_array_equal(a, b)

    example.unfreeze_top_block(base)
    example.compile_model(model, 1e-4)
    model.fit(x, y, epochs=1, batch_size=6, verbose=0)
    names = [layer.name for layer in base.layers]
    first = names.index(example.TOP_BLOCK)
    changed = {layer.name for layer in base.layers
               if any(not np.array_equal(a, b)
                      for a, b in zip(layer.get_weights(), before[layer.name]))}
    assert changed and changed <= set(names[first:])
    assert "Conv_1" in changed and "block_16_expand" in changed
    # Called with training=False: the top block's batch norms keep their statistics.
    bn = base.get_layer("Conv_1_bn")
    np.testing.assert_array_equal(bn.get_weights()[2], before["Conv_1_bn"][2])
