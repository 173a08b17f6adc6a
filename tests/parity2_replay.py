"""Replaying a training run recorded in tf.keras 2.21 (`tests/data/parity2/`).

Each run's index entry (`parity2_index.json`) holds the model config, the
optimizer, loss, metrics and loss weights, the history and `evaluate`'s
logs; its `.npz` holds the initial and final weights, the data and the
predictions. `check_fit` trains as the recording script did and compares:
the tests then check the predictions, whose shape depends on the model.

Example:
    case, arrays = recorded("lstm_adam")
    model.set_weights([arrays[f"init_{i}"] for i in range(case["n_weights"])])
    model.compile(...)
    check_fit(model, case, arrays, arrays["x"], arrays["y"])
"""

from __future__ import annotations

import json

import numpy as np
from fixture_paths import PARITY2


def recorded(case_name):
    """`(case, arrays)`: the run's index entry and its arrays."""
    case = json.loads((PARITY2 / "parity2_index.json").read_text())[case_name]
    with np.load(PARITY2 / f"parity2_{case_name}.npz") as f:
        return case, dict(f)


def check_fit(model, case, arrays, x, y, validation_data=None):
    """`fit` for 3 epochs (batch 16, no shuffle, validation on the first 32
    rows unless `validation_data` is given), then the history (names and
    values), the final weights and `evaluate`'s logs against tf.keras's."""
    if validation_data is None:
        validation_data = (x[:32], y[:32])
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
                        validation_data=validation_data).history
    assert list(history) == list(case["history"])
    # The tolerances of test_training_parity.py: float32 rounding over 18
    # Adam steps moves weights near zero by ~1e-6, hence the absolute floor.
    for name, values in case["history"].items():
        np.testing.assert_allclose(history[name], values, rtol=1e-4, atol=1e-6, err_msg=name)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, arrays[f"final_{i}"], rtol=1e-4, atol=1e-5,
                                   err_msg=str(i))
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    for name, value in case["evaluate"].items():
        np.testing.assert_allclose(logs[name], value, rtol=1e-4, err_msg=name)
