"""The direct step's metric updates (`CompiledMetrics.update_direct`, which
`update` also takes for unweighted, unmasked batches) leave the same state,
bit for bit, as the general path (the loss tracker's `update_state`, then
`update_metrics`).

On the host the loss tracker and the 0/1 accuracies take short ways
(`_Reduce._host_weighted_adder`, `MeanMetricWrapper._host_hits_updater`);
elsewhere, and for every other metric, `update_direct` goes through
`update`'s own path.
"""

from __future__ import annotations

import numpy as np
import pytest

import kerasette as keras
from kerasette import metrics as metrics_module
from kerasette.autodiff.tensor import Tensor
from kerasette.training.compile_utils import CompiledMetrics, match_rank


def _states(cm):
    return [v.data.copy() for m in cm.all() for v in m.variables]


def _build(cm, y, pred):
    yd, pd = (keras.ops.convert_to_tensor(a) for a in (y, pred))
    cm.build(match_rank(yd, pd, None)[0], pd)


def _pair(specs, y, pred, loss="sparse_categorical_crossentropy"):
    """Two built `CompiledMetrics` of `specs` for batches like `(y, pred)`."""
    out = []
    for _ in range(2):
        cm = CompiledMetrics(specs, None, keras.losses.get(loss))
        _build(cm, y, pred)
        out.append(cm)
    return out


def _batches(kind, rng, n, k, label_dtype):
    """Host `(y, pred)` pairs with ties, exact hits and misses."""
    pred = rng.integers(0, 3, size=(n, k)).astype(np.float32) / 2  # ties on purpose
    if kind == "sparse":
        y = rng.integers(0, k, size=(n,)).astype(label_dtype)
    elif kind == "categorical":
        y = np.eye(k, dtype=label_dtype)[rng.integers(0, k, size=n)]
    else:
        y = rng.integers(0, 2, size=(n, k)).astype(label_dtype)
        pred[0, 0] = 0.5  # on the threshold: not above it
    return y, pred


CASES = [
    ("sparse", ["accuracy"], 3, np.int64),
    ("sparse", ["accuracy", "sparse_categorical_crossentropy"], 4, np.int32),
    ("sparse", [metrics_module.SparseCategoricalAccuracy()], 5, np.float32),
    ("sparse", ["accuracy"], 3, np.float64),  # not exact when cast: the general path
    ("categorical", ["accuracy", "categorical_accuracy"], 4, np.float32),
    ("categorical", ["accuracy"], 4, np.int64),  # arg-max of a rounding cast: general
    ("binary", ["accuracy"], 1, np.float32),
    ("binary", [metrics_module.BinaryAccuracy(threshold=0.4)], 3, np.float32),
    ("binary", ["binary_accuracy", "mae"], 1, np.int64),
]


@pytest.mark.parametrize("kind, specs, k, label_dtype", CASES)
def test_update_direct_is_update_bit_for_bit(backend, kind, specs, k, label_dtype):
    rng = np.random.default_rng(7)
    y0, p0 = _batches(kind, rng, 20, k, label_dtype)

    def fresh():  # metric objects made on this backend, one set per container
        return [type(s).from_config(s.get_config()) if isinstance(s, metrics_module.Metric)
                else s for s in specs]

    direct, general = _pair(fresh(), y0, p0)
    if any(isinstance(s, metrics_module.Metric) for s in specs):
        general = CompiledMetrics(fresh(), None, direct._loss)
        _build(general, y0, p0)
    for n in (20, 20, 7, 20, 1):  # a partial batch changes the plan's key
        y, pred = _batches(kind, rng, n, k, label_dtype)
        loss = np.asarray(rng.random(), np.float32)
        yd, pd, ld = (keras.ops.convert_to_tensor(a).data for a in (y, pred, loss))
        if ld is loss:
            ld = loss[()]  # on the host the step's loss is a NumPy scalar
        ym, _ = match_rank(Tensor(yd), Tensor(pd), None)
        direct.update_direct(ym.data, pd, ld, n)
        # `update`'s general path, spelled out (`update` itself now takes
        # `update_direct` for such batches).
        general.loss_tracker.update_state(Tensor(ld), sample_weight=float(n))
        general.update_metrics(Tensor(yd), Tensor(pd), None)
        for a, b in zip(_states(direct), _states(general)):
            a, b = keras.ops.convert_to_tensor(a).numpy(), keras.ops.convert_to_tensor(b).numpy()
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    assert direct.results() == general.results()


def test_host_paths_are_taken_only_where_exact(backend):
    acc = metrics_module.get_accuracy_metric("accuracy", (None,), (None, 3))
    y = np.zeros((4, 1), np.int64)
    pred = np.zeros((4, 3), np.float32)
    on_host = keras.backend.get_backend().xp is np
    assert (acc._host_hits_updater(y, pred) is not None) == on_host
    assert (metrics_module.Mean()._host_weighted_adder() is not None) == on_host
    # Not exact, or not a 0/1 accuracy: the general path.
    assert acc._host_hits_updater(y.astype(np.float64), pred) is None
    assert acc._host_hits_updater(y, pred.astype(np.float64)) is None
    assert acc._host_hits_updater(y.reshape(-1), pred) is None  # not rank-matched
    assert metrics_module.MeanMetricWrapper(
        metrics_module.mean_absolute_error)._host_hits_updater(y, pred) is None
    assert metrics_module.Sum()._host_weighted_adder() is None


def test_fit_with_accuracy_keeps_the_general_path_results(backend):
    """The recipe's shape end to end: the direct step's epoch logs equal the
    tape path's, bit for bit."""
    from kerasette.training.fast_step import FastStep

    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=50)
    logs = []
    for direct in (True, False):
        keras.utils.set_random_seed(3)
        model = keras.Sequential([
            keras.layers.Dense(8, activation="tanh", input_shape=(4,),
                               kernel_regularizer=keras.regularizers.l2(0.001)),
            keras.layers.Dropout(0.5), keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        original = FastStep.build
        if not direct:
            FastStep.build = classmethod(lambda cls, m: None)
        try:
            history = model.fit(x, y, batch_size=16, epochs=3, verbose=0,
                                validation_data=(x[:10], y[:10]))
        finally:
            FastStep.build = original
        logs.append(history.history)
    assert logs[0] == logs[1]


def test_copies_update_their_own_metrics(backend):
    """The cached plans are bound to one container's metric objects: a deep
    copy or a pickle of a container that has used them updates its own."""
    import copy
    import pickle

    y = np.array([[0], [1], [2], [1]], np.int64)
    pred = np.eye(3, dtype=np.float32)[[0, 1, 1, 1]]
    yd, pd = (keras.ops.convert_to_tensor(a).data for a in (y, pred))
    loss = keras.ops.convert_to_tensor(np.asarray(0.5, np.float32)).data
    original, _ = _pair(["accuracy"], y, pred)
    original.update_direct(yd, pd, loss, 4)
    before = _states(original)
    for twin in (copy.deepcopy(original), pickle.loads(pickle.dumps(original))):
        twin.update_direct(yd, pd, loss, 4)
        assert [a.tobytes() for a in _states(original)] == [a.tobytes() for a in before]
        assert twin.results() == {"loss": 0.5, "accuracy": 0.75}
