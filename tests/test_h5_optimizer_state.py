"""The optimizer state in kerasette's `.h5`, laid out for tf.keras 2.21 (issue 24).

tf.keras 2.21 rebuilds the plain optimizer name of an `.h5` as its legacy
optimizer_v2 class and fills that by position. Legacy SGD without momentum
has no slot, so the file must hold the step count alone for tf.keras to
restore it; kerasette reads that back as SGD's exact state (its `m` slot is
overwritten by every step before it is read). Real tf.keras's side is in
tests/test_interop_keras.py; these check the written structure without it.
"""

from __future__ import annotations

import logging

import h5py
import numpy as np
import pytest

import kerasette as keras
from kerasette.saving import h5_model


def _model(optimizer):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.layers.Dense(5, activation="tanh", input_shape=(4,)),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((48, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5)


def _weight_names(path):
    with h5py.File(path, "r") as f:
        group = f["optimizer_weights"]
        names = [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]]
        return names, {n: np.asarray(group[n]) for n in names}


def test_plain_sgd_writes_the_step_count_alone(tmp_path, backend):
    model = _model(keras.optimizers.SGD(0.1))
    model.fit(*_data(), batch_size=16, epochs=2, shuffle=False, verbose=0)
    model.save(tmp_path / "m.h5")
    names, values = _weight_names(tmp_path / "m.h5")
    assert names == ["iteration:0"]
    assert int(values["iteration:0"]) == 6


@pytest.mark.parametrize("optimizer,slots", [
    (lambda: keras.optimizers.SGD(0.1, momentum=0.9), ["m"] * 4),
    (lambda: keras.optimizers.Adam(0.01), ["m"] * 4 + ["v"] * 4),
], ids=["sgd_momentum", "adam"])
def test_slotted_optimizers_write_every_slot_in_legacy_order(tmp_path, optimizer, slots,
                                                             backend):
    model = _model(optimizer())
    model.fit(*_data(), batch_size=16, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m.h5")
    names, _ = _weight_names(tmp_path / "m.h5")
    assert names[0] == "iteration:0"
    assert [n.split("/")[1] for n in names[1:]] == slots


def test_plain_sgd_resumes_exactly_from_the_step_count(tmp_path, backend, caplog):
    x, y = _data()
    straight = _model(keras.optimizers.SGD(0.1))
    straight.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0)
    half = _model(keras.optimizers.SGD(0.1))
    half.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    half.save(tmp_path / "half.h5")
    with caplog.at_level(logging.WARNING, logger="kerasette"):
        loaded = keras.models.load_model(tmp_path / "half.h5")
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    assert int(loaded.optimizer.iterations.numpy()) == 6
    loaded.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(straight.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(straight.optimizer.variables, loaded.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_plain_sgd_files_with_m_slots_still_load_exactly(tmp_path, backend, monkeypatch,
                                                         caplog):
    """Files kerasette wrote before (step count and `m` slots) stay readable."""
    model = _model(keras.optimizers.SGD(0.1))
    model.fit(*_data(), batch_size=16, epochs=1, shuffle=False, verbose=0)
    monkeypatch.setattr(h5_model, "_slot_free_in_legacy", lambda config: False)
    model.save(tmp_path / "old.h5")
    monkeypatch.undo()
    names, _ = _weight_names(tmp_path / "old.h5")
    assert len(names) == 1 + len(model.trainable_variables)
    with caplog.at_level(logging.WARNING, logger="kerasette"):
        loaded = keras.models.load_model(tmp_path / "old.h5")
    assert not caplog.records
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_a_step_count_alone_is_not_the_state_of_a_slotted_optimizer(tmp_path, backend,
                                                                    caplog):
    """SGD with momentum keeps its velocity: a file without it restores the
    step count only, and says so."""
    model = _model(keras.optimizers.SGD(0.1))
    model.fit(*_data(), batch_size=16, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "plain.h5")
    with h5py.File(tmp_path / "plain.h5", "r+") as f:  # now naming SGD with momentum
        config = f.attrs["training_config"]
        config = config.decode() if isinstance(config, bytes) else config
        f.attrs["training_config"] = config.replace('"momentum": 0.0', '"momentum": 0.9')
    with caplog.at_level(logging.WARNING, logger="kerasette"):
        loaded = keras.models.load_model(tmp_path / "plain.h5")
    assert loaded.optimizer.momentum == 0.9
    assert int(loaded.optimizer.iterations.numpy()) == 3
    assert "the step count only" in caplog.text
