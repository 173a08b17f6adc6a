"""save_weights / load_weights against files written by real Keras."""

from pathlib import Path

import h5py
import numpy as np
import pytest

import kerasette as keras
from test_keras_fixtures import FIXTURES, build

CASES = [(impl, name, kind) for impl in ("tfkeras2", "keras3")
         for name in ("xor", "iris_like", "mnist_like", "cnn_small", "activation_layer")
         for kind in ("legacy_weights.h5", "weights.h5", "h5")]


@pytest.mark.parametrize("impl,name,kind", CASES)
def test_keras_weight_files_load_and_predict_like_keras(impl, name, kind):
    ref = np.load(FIXTURES / f"{impl}_{name}_ref.npz", allow_pickle=False)
    model = build(name)
    model.load_weights(FIXTURES / f"{impl}_{name}.{kind}")
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_array_equal(w, ref[f"w{i}"])
    np.testing.assert_allclose(model(ref["x"]).numpy(), ref["y"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("suffix", [".h5", ".weights.h5"])
def test_round_trip_and_layout(tmp_path, suffix):
    model = build("mnist_like")
    path = tmp_path / f"m{suffix}"
    model.save_weights(path)
    clone = build("mnist_like")
    clone.load_weights(path)
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)
    with h5py.File(path) as f:
        if suffix == ".h5":
            assert [n for n in f.attrs["layer_names"]] == [layer.name for layer in model.layers]
            assert f["dense"].attrs["weight_names"][0] == model.layers[1].kernel.name
        else:
            assert sorted(f["layers"]["batch_normalization"]["vars"], key=int) == ["0", "1", "2", "3"]
    assert not [p for p in Path(tmp_path).iterdir() if p.name.startswith(".kerasette-")]


def test_mismatched_file_is_refused_without_damage(tmp_path):
    small = keras.Sequential([keras.layers.Dense(3, input_shape=(4,))])
    path = tmp_path / "small.h5"
    small.save_weights(path)
    model = build("xor")
    before = model.get_weights()
    with pytest.raises(keras.saving.ModelFileError, match="small.h5"):
        model.load_weights(path)
    with pytest.raises(keras.saving.ModelFileError, match="no such file"):
        model.load_weights(tmp_path / "missing.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(keras.saving.ModelFileError, match="junk.h5"):
        model.load_weights(tmp_path / "junk.h5")
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_writes_loadable_weights(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2)).astype("float32")
    y = (x.sum(1, keepdims=True) > 0).astype("float32")
    model = build("xor")
    model.compile("adam", "binary_crossentropy")
    pattern = str(tmp_path / "w-{epoch:02d}.h5")
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[keras.callbacks.ModelCheckpoint(pattern, save_weights_only=True,
                                                         monitor="loss")])
    assert (tmp_path / "w-01.h5").exists() and (tmp_path / "w-02.h5").exists()
    clone = build("xor")
    clone.load_weights(tmp_path / "w-02.h5")
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)
