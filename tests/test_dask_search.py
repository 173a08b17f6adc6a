"""Parallel hyper-parameter searches: joblib's process pool (`n_jobs=-1`),
a real `dask.distributed` LocalCluster (2 worker processes) and threads.

Each search must find what `n_jobs=1` finds, score for score (every fit is
seeded from `random_state`, whatever runs it); fitted estimators must come
back usable (predict, save, load); and each worker must limit its thread
pools to its share of the cores (kerasette/wrappers/workers.py). The dask
tests skip when the `dask` extra (`pip install ".[dask]"`) is absent. They
run on the numpy backend only: the workers start on their default backend.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the wrappers need scikit-learn: pip install '.[sklearn]'")

import joblib  # noqa: E402  (scikit-learn's dependency)
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate  # noqa: E402

import kerasette as keras  # noqa: E402
from kerasette.backend import cpu_load  # noqa: E402
from kerasette.wrappers import KerasClassifier, workers  # noqa: E402

GRID = {"hidden": [4, 8], "learning_rate": [0.03, 0.1]}
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# The thread variables joblib sets in each loky worker, and dask's nannies too.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def build(hidden=8, learning_rate=0.05, n_features_in_=4, n_classes_=3):
    model = keras.Sequential([
        keras.layers.Dense(hidden, activation="relu", input_shape=(n_features_in_,)),
        keras.layers.Dropout(0.1),
        keras.layers.Dense(n_classes_, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy")
    return model


def iris():
    x, y = load_iris(return_X_y=True)
    return ((x - x.mean(axis=0)) / x.std(axis=0)).astype("float32"), y


def search(n_jobs=None):
    return GridSearchCV(KerasClassifier(build, epochs=6, batch_size=16, random_state=0), GRID,
                        cv=StratifiedKFold(3, shuffle=True, random_state=0), n_jobs=n_jobs)


def scores(fitted):
    results = fitted.cv_results_
    return [results[f"split{i}_test_score"].tolist() for i in range(3)]


@pytest.fixture(scope="module")
def serial():
    """The reference: the same search with n_jobs=1, in this process."""
    return search().fit(*iris())


@pytest.fixture
def numpy_only(backend):
    if backend.name != "numpy":
        pytest.skip("parallel workers start on the numpy backend")


def _restorer(names):
    """A function that puts the environment variables `names` back as they are now."""
    saved = {name: os.environ.get(name) for name in names}

    def restore():
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    return restore


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of 2 worker processes with one thread each, closed at
    the end; every wait on it is bounded (dask's own 30 s connect timeout,
    60 s for the client and the workers, 120 s for a task's result).

    Starting its nannies sets OMP/MKL/OPENBLAS_NUM_THREADS=1 in this
    process's environment too (dask's `pre-spawn-environ`); they are put
    back, so that processes later tests start are not limited by it.
    """
    distributed = pytest.importorskip(
        "distributed", reason="dask is an optional extra: pip install '.[dask]'")
    import dask

    restore_environ = _restorer(THREAD_VARIABLES)
    with dask.config.set(workers.LEAN_DASK_CONFIG):  # as examples/iris_grid_search.py
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=logging.ERROR)
    try:
        client = distributed.Client(cluster, timeout="60s")
        try:
            client.wait_for_workers(2, timeout=60)
            yield client
        finally:
            client.close(timeout=30)
    finally:
        cluster.close(timeout=30)
        restore_environ()


def report_threads(update_threads="4", worker_threads=None):
    """Run in a worker: fit once and report its thread limits.

    `update_threads` stands for a `KERASETTE_NUM_THREADS` the worker
    inherited; `worker_threads`, when given, is set as
    `KERASETTE_WORKER_THREADS` for this call only.
    """
    from threadpoolctl import threadpool_info

    from kerasette.optimizers import flat

    os.environ["KERASETTE_NUM_THREADS"] = update_threads
    if worker_threads is not None:
        os.environ[workers.ENV_VARIABLE] = worker_threads
    try:
        KerasClassifier(build, epochs=1, random_state=0).fit(*iris())
        return {"kind": workers.worker_kind(), "share": workers.worker_threads(),
                "pools": sorted({p["num_threads"] for p in threadpool_info()}),
                "update": flat.elementwise_threads()}
    finally:
        os.environ.pop(workers.ENV_VARIABLE, None)
        os.environ.pop("KERASETTE_NUM_THREADS", None)
        workers.limit_worker_threads()  # back to the worker's default share


def test_loky_search_with_all_cores_matches_serial(numpy_only, serial):
    parallel = search(n_jobs=-1).fit(*iris())
    assert scores(parallel) == scores(serial)
    assert parallel.best_params_ == serial.best_params_
    assert parallel.best_score_ == serial.best_score_
    # joblib's rule for its workers' thread variables: the parent's, else cores // n_jobs.
    default = max(1, joblib.cpu_count() // joblib.effective_n_jobs(-1))
    share = min(int(os.environ.get(name, default)) for name in THREAD_VARIABLES)
    for seen in joblib.Parallel(n_jobs=-1)(joblib.delayed(report_threads)() for _ in range(2)):
        assert seen == {"kind": "loky", "share": share, "pools": [share], "update": share}


def test_dask_search_matches_serial_and_returns_a_usable_model(numpy_only, serial, client,
                                                               tmp_path):
    parallel = search()
    with joblib.parallel_backend("dask"):
        parallel.fit(*iris())
    assert scores(parallel) == scores(serial)
    assert parallel.best_params_ == serial.best_params_
    x, _ = iris()
    best = parallel.best_estimator_
    np.testing.assert_array_equal(best.predict_proba(x), serial.best_estimator_.predict_proba(x))
    best.model_.save(tmp_path / "best.keras")
    loaded = keras.models.load_model(tmp_path / "best.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), best.model_.predict(x, verbose=0))


def test_estimators_fitted_on_workers_come_back_whole(numpy_only, client, tmp_path):
    x, y = iris()
    clf = KerasClassifier(build, epochs=4, random_state=1)
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    here = cross_validate(clf, x, y, cv=cv, return_estimator=True)
    with joblib.parallel_backend("dask"):
        there = cross_validate(clf, x, y, cv=cv, return_estimator=True)
    assert there["test_score"].tolist() == here["test_score"].tolist()
    for remote, local in zip(there["estimator"], here["estimator"]):
        np.testing.assert_array_equal(remote.predict_proba(x), local.predict_proba(x))
        # The optimizer state travels too: training goes on as it would have.
        assert int(remote.model_.optimizer.iterations) == int(local.model_.optimizer.iterations)
        assert remote.history_ == local.history_
    remote.model_.save(tmp_path / "fold.h5")
    loaded = keras.models.load_model(tmp_path / "fold.h5")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), remote.model_.predict(x, verbose=0))


def _bookkeeping(dask_worker):
    """Run in a worker: its stack sampling and its disk counters."""
    return {"profile": "profile" in dask_worker.periodic_callbacks,
            "disk": dask_worker.monitor.monitor_disk_io}


def test_lean_dask_config_reaches_the_worker_processes(numpy_only, client):
    # Set in this process around LocalCluster(...); the nannies hand it to
    # the worker processes they start.
    seen = client.run(_bookkeeping)
    assert len(seen) == 2
    assert all(value == {"profile": False, "disk": False} for value in seen.values())
    assert client.run_on_scheduler(
        lambda dask_scheduler: dask_scheduler.monitor.monitor_disk_io) is False


def test_dask_workers_limit_their_threads_to_their_share(numpy_only, client):
    share = max(1, cpu_load.usable_cores() // 2)  # 2 workers x 1 thread on this host
    addresses = sorted(client.scheduler_info(n_workers=-1)["workers"])
    for address in addresses:
        seen = client.submit(report_threads, workers=[address], pure=False).result(timeout=120)
        assert seen == {"kind": "dask", "share": share, "pools": [share], "update": share}
    # KERASETTE_WORKER_THREADS sets the share instead (here above dask's default of 1).
    seen = client.submit(report_threads, "8", "3", workers=addresses[:1],
                         pure=False).result(timeout=120)
    assert seen == {"kind": "dask", "share": 3, "pools": [3], "update": 3}


def test_seeded_fits_in_threads_take_turns(numpy_only, serial):
    """Two seeded fits in two threads of one process draw from kerasette's
    generators one after the other, so the threading backend repeats too."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads would interleave their draws in every run
    try:
        with joblib.parallel_backend("threading", n_jobs=2):
            threaded = search().fit(*iris())
    finally:
        sys.setswitchinterval(before)
    assert scores(threaded) == scores(serial)


def test_iris_example_on_an_existing_scheduler(numpy_only, client, capsys):
    spec = importlib.util.spec_from_file_location("example_iris_grid_search_dask",
                                                  EXAMPLES / "iris_grid_search.py")
    module = importlib.util.module_from_spec(spec)  # not importable there: sent by value
    spec.loader.exec_module(module)
    args = ["--units", "4", "8", "--activations", "tanh", "--dropouts", "0.0", "--epochs", "10"]
    here = module.main(args)
    alone = capsys.readouterr().out.splitlines()
    there = module.main(args + ["--dask", client.scheduler.address])
    remote = capsys.readouterr().out.splitlines()
    assert remote[0].startswith("dask: 2 workers, 2 threads, scheduler tcp://")
    assert remote[1:] == alone and there == here


def test_a_pickled_estimator_carries_its_whole_model(backend):
    """What a worker sends back: weights, optimizer slots and step count, so
    the copy goes on training exactly as the original."""
    x, y = iris()
    clf = KerasClassifier(build, epochs=3, random_state=0).fit(x, y)
    copy = pickle.loads(pickle.dumps(clf))
    assert int(copy.model_.optimizer.iterations) == int(clf.model_.optimizer.iterations) > 0
    for model in (clf.model_, copy.model_):
        keras.utils.set_random_seed(5)
        model.fit(x, y, epochs=1, verbose=0)
    for got, want in zip(copy.model_.get_weights(), clf.model_.get_weights()):
        np.testing.assert_array_equal(got, want)


def test_worker_share_and_its_override(monkeypatch):
    assert workers.worker_kind() is None and workers.worker_threads() is None
    assert workers.limit_worker_threads() is None  # the main process is left alone
    monkeypatch.setattr(workers, "worker_kind", lambda: "loky")
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "3")  # as joblib sets them in each loky worker
    monkeypatch.delenv(workers.ENV_VARIABLE, raising=False)
    assert workers.worker_threads() == 3
    monkeypatch.setenv(workers.ENV_VARIABLE, "5")
    assert workers.worker_threads() == 5
    monkeypatch.setenv(workers.ENV_VARIABLE, "half")
    with pytest.raises(ValueError, match="KERASETTE_WORKER_THREADS.*positive integer.*'half'"):
        workers.worker_threads()
