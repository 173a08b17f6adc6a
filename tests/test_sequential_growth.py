"""`Sequential.add` costs O(1): deep models build, and deep configs load, in
linear time.

`add` used to rebuild every earlier layer, so n adds cost O(n^2): a config
of 20,000 `Dense(1)` layers (a file under 1 MB) took over 20 s to load, and
building models in a loop slowed down with depth. The builds are counted
here, not only timed, so the test says what grew.
"""

import io
import json
import time
import zipfile

import h5py
import numpy as np
import pytest

import kerasette as keras
from kerasette.layers.base import Layer
from kerasette.saving import ModelFileError

DEEP = 20_000
WALL_LIMIT_S = 10.0  # the work takes about 1 s; the margin is for a loaded machine


@pytest.fixture
def numpy_only(backend):
    if backend.name != "numpy":
        pytest.skip("model building is backend-independent; runs once, on the numpy backend")


@pytest.fixture
def count_builds(monkeypatch):
    """Counts `Layer._maybe_build` calls (each layer's build check)."""
    calls = []
    real = Layer._maybe_build

    def counted(self, input_shape):
        calls.append(self)
        return real(self, input_shape)

    monkeypatch.setattr(Layer, "_maybe_build", counted)
    return calls


@pytest.mark.parametrize("depth", [50, 400])
def test_each_add_builds_only_the_new_layer(numpy_only, count_builds, depth):
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(3,))])
    for _ in range(depth - 1):
        model.add(keras.layers.Dense(1))
    assert len(count_builds) == depth  # was depth * (depth + 1) / 2
    assert [id(layer) for layer in count_builds] == [id(layer) for layer in model.layers]
    assert model.built and model.output_shape == (None, 1)
    assert model.predict(np.ones((2, 3), "float32"), verbose=0).shape == (2, 1)


def test_list_constructor_and_deferred_build_build_each_layer_once(numpy_only, count_builds):
    keras.Sequential([keras.layers.Dense(2, input_shape=(3,))]
                     + [keras.layers.Dense(2) for _ in range(99)])
    assert len(count_builds) == 100
    count_builds.clear()
    deferred = keras.Sequential([keras.layers.Dense(2) for _ in range(100)])
    assert count_builds == [] and not deferred.built
    deferred.build((None, 3))
    assert len(count_builds) == 100 and deferred.output_shape == (None, 2)


def test_adds_after_an_input_and_shapes_that_change(numpy_only):
    model = keras.Sequential([keras.Input(shape=(4, 4, 1))])
    model.add(keras.layers.Conv2D(2, 3))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(3))
    assert [layer.output_shape for layer in model.layers] == [(None, 2, 2, 2), (None, 8),
                                                              (None, 3)]
    assert model.output_shape == (None, 3)
    lines = []
    model.summary(print_fn=lines.append)
    assert "(None, 2, 2, 2)" in "\n".join(lines)
    popped = model.pop()
    assert popped.name == "dense" and model.output_shape == (None, 8)
    model.add(keras.layers.Dense(5))
    assert model.output_shape == (None, 5)


def test_a_layer_that_cannot_be_built_is_not_added(numpy_only):
    class Broken(keras.layers.Layer):
        def build(self, input_shape):
            raise ValueError(f"Broken cannot take {input_shape}")

    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="Broken cannot take"):
        model.add(Broken(name="broken"))
    assert [layer.name for layer in model.layers] == ["dense"] and model.built
    model.add(keras.layers.Dense(1, name="broken"))  # the name was not taken
    assert model.output_shape == (None, 1)
    with pytest.raises(ValueError, match="Broken cannot take"):
        keras.Sequential([Broken(input_shape=(3,))])


def test_duplicate_names_are_still_refused(numpy_only):
    model = keras.Sequential([keras.layers.Dense(2, input_shape=(3,), name="a"),
                              keras.layers.Dense(2, name="b")])
    with pytest.raises(ValueError, match="unique names.*'b'"):
        model.add(keras.layers.Dense(2, name="b"))
    model.layers[1].name = "c"  # renamed after it was added: "b" is free again
    model.add(keras.layers.Dense(2, name="b"))
    with pytest.raises(ValueError, match="unique names.*'b'"):
        model.add(keras.layers.Dense(2, name="b"))
    model.pop()
    model.add(keras.layers.Dense(2, name="b"))
    assert [layer.name for layer in model.layers] == ["a", "c", "b"]


def _deep_config():
    layers = [{"class_name": "Dense", "config": {"units": 1, "batch_input_shape": [None, 1]}}]
    layers += [{"class_name": "Dense", "config": {"units": 1}}] * (DEEP - 1)
    return {"class_name": "Sequential", "config": {"name": "deep", "layers": layers}}


def _deep_files(folder):
    """A `.h5` (config attribute, no weights) and a `.keras` (deflated
    config, an empty weights file): both under 1 MB, both refused for their
    missing weights once the 20,000-layer model is built."""
    config = json.dumps(_deep_config())
    h5_path = folder / "deep.h5"
    with h5py.File(h5_path, "w") as f:
        f.attrs["keras_version"] = "2.21.0"
        f.attrs["model_config"] = config.encode()
        f.create_group("model_weights").attrs["layer_names"] = np.asarray([])
    weights = io.BytesIO()
    with h5py.File(weights, "w") as f:
        f.create_group("layers")
    keras_path = folder / "deep.keras"
    with zipfile.ZipFile(keras_path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", config)
        zf.writestr("model.weights.h5", weights.getvalue())
    return [h5_path, keras_path]


def test_a_config_of_20000_layers_is_refused_in_seconds(numpy_only, tmp_path):
    for path in _deep_files(tmp_path):
        assert path.stat().st_size < 1_000_000
        start = time.perf_counter()
        with pytest.raises(ModelFileError) as info:
            keras.models.load_model(path)
        took = time.perf_counter() - start
        assert info.value.path == str(path)  # refused for its missing weights
        assert took < WALL_LIMIT_S, (path.name, took)  # about 1 s here; was over 20 s
