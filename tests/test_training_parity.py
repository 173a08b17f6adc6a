"""fit/evaluate/predict against training runs recorded in tf.keras.

For every case of `tests/data/parity/` (a copy of the shared
`fixtures/parity/`, see fixture_paths.py): build the same model, set
the recorded initial weights, compile and fit as recorded (batch 16, three
epochs, no shuffling, the first 32 rows as validation data), then compare
the final weights, the history, `evaluate` and `predict` with tf.keras.
"""

import json

import numpy as np
import pytest
from fixture_paths import PARITY

import kerasette as keras

INDEX = json.loads((PARITY / "parity_index.json").read_text())
RTOL = 1e-3  # the bound; float32 in another order gives about 1e-5


def build(case, n_features):
    layers = []
    for i, spec in enumerate(case["layers"]):
        cls = getattr(keras.layers, spec["class_name"])
        kwargs = dict(spec["config"])
        if i == 0:
            kwargs["input_shape"] = (n_features,)
            l2 = case.get("kernel_regularizer_l2_on_first_dense")
            if l2:
                kwargs["kernel_regularizer"] = keras.regularizers.l2(l2)
        layers.append(cls(**kwargs))
    return keras.Sequential(layers)


@pytest.mark.parametrize("name", sorted(INDEX))
def test_fit_matches_tf_keras(name):
    case = INDEX[name]
    ref = np.load(PARITY / f"parity_{name}.npz", allow_pickle=False)
    x, y = ref["x"], ref["y"]
    model = build(case, x.shape[1])
    model.set_weights([ref[f"init_{i}"] for i in range(case["n_weights"])])
    optimizer = keras.optimizers.deserialize(case["optimizer"])
    model.compile(optimizer=optimizer, loss=case["loss"], metrics=case["metrics"])
    fit = case["fit"]
    history = model.fit(x, y, batch_size=fit["batch_size"], epochs=fit["epochs"],
                        shuffle=fit["shuffle"], validation_data=(x[:32], y[:32]), verbose=0)

    assert list(history.history) == list(case["history"])
    for key, values in case["history"].items():
        np.testing.assert_allclose(history.history[key], values, rtol=RTOL, atol=1e-6,
                                   err_msg=f"history[{key!r}]")
    for i in range(case["n_weights"]):
        np.testing.assert_allclose(model.get_weights()[i], ref[f"final_{i}"], rtol=RTOL,
                                   atol=1e-5, err_msg=f"final weight {i}")
    scores = model.evaluate(x, y, verbose=0, return_dict=True)
    for key, value in case["evaluate"].items():
        np.testing.assert_allclose(scores[key], value, rtol=RTOL, err_msg=f"evaluate {key}")
    pred = model.predict(x[:10], verbose=0)
    assert pred.dtype == np.float32
    np.testing.assert_allclose(pred, ref["pred"], rtol=RTOL, atol=1e-6)


def test_parity_fixtures_present():
    assert set(INDEX) >= {"sgd", "sgd_momentum_bn", "adam_bn", "rmsprop_mse"}, PARITY
