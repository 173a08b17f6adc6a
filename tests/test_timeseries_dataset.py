"""`keras.utils.timeseries_dataset_from_array`: tf.keras 2.21's windows,
targets, batches and errors (`data/tf2_layers/make_tf2_layer_refs.py`),
shuffling, and training on the result."""

import json

import numpy as np
import pytest
from fixture_paths import DATA

import kerasette as keras
from kerasette.utils import timeseries_dataset_from_array

REFS = json.loads((DATA / "tf2_layers" / "tf2_layer_refs.json").read_text())["timeseries"]
DATA_ARRAY = np.arange(40, dtype="float32").reshape(20, 2)
TARGETS = np.arange(100, 120)


def _make(spec, **extra):
    kwargs = {k: v for k, v in spec.items() if k not in ("no_targets", "short_targets")}
    targets = None if spec.get("no_targets") else TARGETS[:spec.get("short_targets", 20)]
    return timeseries_dataset_from_array(DATA_ARRAY, targets, **kwargs, **extra)


@pytest.mark.parametrize("case", REFS["cases"], ids=lambda c: str(c["spec"]))
def test_batches_match_tf_keras(case):
    ds = _make(case["spec"])
    got = list(ds)
    assert len(got) == len(case["batches"]) == len(ds)
    for batch, (want_x, want_y) in zip(got, case["batches"]):
        x, y = batch if want_y is not None else (batch, None)
        np.testing.assert_array_equal(x, np.array(want_x, dtype="float32"))
        assert x.dtype == np.float32
        if want_y is not None:
            np.testing.assert_array_equal(y, np.array(want_y))


@pytest.mark.parametrize("name", sorted(REFS["errors"]))
def test_errors_match_tf_keras(name):
    kwargs = {
        "stride_zero": {"sequence_length": 5, "sequence_stride": 0},
        "rate_zero": {"sequence_length": 5, "sampling_rate": 0},
        "end_le_start": {"sequence_length": 2, "start_index": 5, "end_index": 5},
        "end_too_big": {"sequence_length": 2, "end_index": 20},
        "start_too_big": {"sequence_length": 2, "start_index": 20},
    }[name]
    with pytest.raises(ValueError) as info:
        timeseries_dataset_from_array(DATA_ARRAY, TARGETS, **kwargs)
    assert str(info.value) == REFS["errors"][name]


def test_bad_sequence_length_and_batch_size():
    with pytest.raises(ValueError, match="sequence_length"):
        timeseries_dataset_from_array(DATA_ARRAY, None, sequence_length=0)
    with pytest.raises(ValueError, match="batch_size"):
        timeseries_dataset_from_array(DATA_ARRAY, None, sequence_length=2, batch_size=2.5)


def _windows(ds):
    """Every window's first value with its target, in the order served."""
    return [(float(x[0, 0]), int(t)) for xb, yb in ds for x, t in zip(xb, yb)]


def test_shuffle_keeps_the_windows_and_pairs_and_is_seeded():
    spec = {"sequence_length": 5, "batch_size": 4}
    plain = _windows(_make(spec))
    shuffled = _make(spec, shuffle=True, seed=7)
    first, second = _windows(shuffled), _windows(shuffled)
    assert sorted(first) == sorted(plain) and first != plain
    assert first != second  # a new order each pass (each epoch), as tf.data reshuffles
    assert _windows(_make(spec, shuffle=True, seed=7)) == first
    for value, target in first:  # each window keeps its own target
        assert target - 100 == int(value) // 2


def test_shuffle_without_seed_follows_set_random_seed():
    spec = {"sequence_length": 5, "batch_size": 4}
    keras.utils.set_random_seed(3)
    a = _windows(_make(spec, shuffle=True))
    keras.utils.set_random_seed(3)
    assert _windows(_make(spec, shuffle=True)) == a


def test_fit_evaluate_and_predict_take_it():
    series = np.sin(np.arange(200, dtype="float32") / 5)[:, None]
    ds = timeseries_dataset_from_array(series[:-6], series[6:, 0], sequence_length=6,
                                       batch_size=32, shuffle=True, seed=1)
    model = keras.Sequential([keras.Input(shape=(6, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(ds, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert np.isfinite(model.evaluate(ds, verbose=0))
    inputs = timeseries_dataset_from_array(series[:-6], None, sequence_length=6, batch_size=32)
    predictions = model.predict(inputs, verbose=0)  # batches of x alone
    assert predictions.shape == (194 - 6 + 1, 1)  # every window of series[:-6]
    windows = np.stack([series[i:i + 6] for i in range(189)])
    np.testing.assert_allclose(predictions, model.predict(windows, verbose=0), rtol=1e-5,
                               atol=1e-6)
