"""One hyper-parameter search, three ways: n_jobs=1, joblib's process pool, a dask cluster.

    python benchmarks/bench_search.py                  # 5 rounds, ~2 minutes on 2 cores
    python benchmarks/bench_search.py --repeats 5 --epochs 60
    python benchmarks/bench_search.py --quick          # 1 round, small fits: a smoke test

The search is `GridSearchCV` over a `KerasClassifier` (Dense(hidden, relu),
Dropout, Dense(3, softmax), Adam): hidden units 16/32/64 x learning rate
0.003/0.01 x dropout 0.0/0.2 = 12 candidates, 3 stratified folds, so 36
fits, on 2,400 synthetic rows of 20 features (`make_classification`, seed
0), each fit seeded with `random_state=0`. It runs

* `n_jobs=1`: one fit after another in this process;
* `n_jobs=N` (default: the core count): joblib's loky process pool;
* a `dask.distributed` LocalCluster of N single-threaded worker processes,
  under `joblib.parallel_backend("dask")` (skipped when dask is absent),
  once with dask's defaults and once started under
  `kerasette.wrappers.workers.LEAN_DASK_CONFIG` (no stack sampling in the
  workers, no disk counters), as `examples/iris_grid_search.py --dask`
  starts its local cluster. Each dask search gets a cluster of its own,
  started and warmed up before its clock starts and closed after it: a
  LocalCluster's scheduler runs in this process, and an idle one beside
  the `n_jobs=1` search slowed it by several per cent.

The pool and each cluster are started, and each of their workers (and this
process) has imported kerasette and scikit-learn and run one small fit,
before any timing: what is timed is the search itself, as in a session that
runs several. The start-up is reported on its
own line. The systems alternate round by round (A B C D A B C D ...) so drift in
the machine's speed hits them all; the table gives the median of the
rounds and the speed-up of each median over `n_jobs=1`, and the same for
the fastest round of each (the least disturbed on a shared machine). For
each round it also gives the CPU that other processes used meanwhile
(/proc/stat's busy time less this benchmark's processes', in cores): a
parallel run competes with them for the cores, so a round beside one busy
neighbour cannot reach a 2x speed-up on 2 cores. Before each round it also
measures the machine's ceiling: how much faster the same loky pool does
pure Python work (no BLAS, nothing to send) than one process, at that
moment. The rounds where other processes used under 0.3 cores are also
summarised on their own (when each system has one). Every round checks
that the three searches found the same scores, split by split, and the same
best parameters, and the run fails (exit 1) if they did not. The load
average before and after is printed: on a shared machine other processes
take cores from the parallel runs first.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import logging
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402

GRID = {"hidden": [16, 32, 64], "learning_rate": [0.003, 0.01], "dropout": [0.0, 0.2]}
# A round counts as quiet when other processes used less CPU than this (cores).
QUIET = 0.3


def build(hidden=32, learning_rate=0.01, dropout=0.0, n_features_in_=20, n_classes_=3):
    import kerasette as keras

    model = keras.Sequential([
        keras.layers.Dense(hidden, activation="relu", input_shape=(n_features_in_,)),
        keras.layers.Dropout(dropout),
        keras.layers.Dense(n_classes_, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy")
    return model


def data(rows):
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=rows, n_features=20, n_informative=10,
                               n_classes=3, random_state=0)
    return x.astype("float32"), y


def make_search(epochs, batch_size, n_jobs=None):
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from kerasette.wrappers import KerasClassifier

    return GridSearchCV(KerasClassifier(build, epochs=epochs, batch_size=batch_size,
                                        random_state=0),
                        GRID, cv=StratifiedKFold(3, shuffle=True, random_state=0),
                        n_jobs=n_jobs)


def warm_up():
    """Run in each worker: what a search's first fit there would pay for
    (imports, first calls), so that the rounds time the fits alone."""
    import sklearn.model_selection  # noqa: F401

    from kerasette.wrappers import KerasClassifier

    x, y = data(300)
    KerasClassifier(build, epochs=2, random_state=0).fit(x, y).score(x, y)
    time.sleep(0.2)  # so that the pool hands the next warm-up to another worker
    return os.getpid()


def spin(n=2_000_000):
    """Pure Python work (no BLAS, no I/O): the ceiling probe."""
    total = 0
    for i in range(n):
        total += i * i
    return total


def ceiling(workers):
    """How much faster `workers` loky processes do 2 x `workers` pieces of
    pure Python work than this process alone, now: the most any parallel
    run can gain on this machine at this moment (other processes take the
    rest)."""
    import joblib

    start = time.perf_counter()
    for _ in range(2 * workers):
        spin()
    alone = time.perf_counter() - start
    start = time.perf_counter()
    joblib.Parallel(n_jobs=workers)(joblib.delayed(spin)() for _ in range(2 * workers))
    return alone / (time.perf_counter() - start)


@contextlib.contextmanager
def dask_cluster(workers, config):
    """A client of a new LocalCluster of `workers` single-threaded worker
    processes started under the dask `config`, each worker warmed up; the
    cluster is closed on leaving. Its nannies set OMP/MKL/OPENBLAS_NUM_THREADS=1
    in this process's environment too: they are put back for what runs next."""
    import dask
    import distributed

    saved = {k: os.environ.get(k) for k in common.THREAD_VARIABLES}
    try:
        with dask.config.set(config):  # read as the cluster starts
            cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                               processes=True, dashboard_address=None,
                                               silence_logs=logging.ERROR)
        with cluster, distributed.Client(cluster, set_as_default=False) as client:
            client.run(warm_up)
            yield client
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def outcome(search):
    results = search.cv_results_
    splits = [results[f"split{i}_test_score"].tolist() for i in range(3)]
    return splits, sorted(search.best_params_.items())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rows", type=int, default=2400)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--quick", action="store_true",
                        help="one round of small fits (checks that it runs, times nothing useful)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.epochs, args.rows = 1, 3, 300

    import joblib

    x, y = data(args.rows)
    load_before = os.getloadavg()
    systems = {"n_jobs=1": None, f"n_jobs={args.workers} (loky)": args.workers}
    start = time.perf_counter()
    pids = joblib.Parallel(n_jobs=args.workers)(
        joblib.delayed(warm_up)() for _ in range(2 * args.workers))
    startup = {"loky": time.perf_counter() - start}
    warm_up()  # this process runs n_jobs=1
    if len(set(pids)) < args.workers:
        print(f"note: only {len(set(pids))} of the {args.workers} loky workers were warmed up")

    if importlib.util.find_spec("distributed") is None:
        print("dask: skipped (pip install '.[dask]')")
    else:
        from kerasette.wrappers.workers import LEAN_DASK_CONFIG

        systems[f"dask, {args.workers} workers"] = {}
        systems[f"dask, {args.workers} workers, lean"] = LEAN_DASK_CONFIG
    startup.update({name: [] for name, how in systems.items() if isinstance(how, dict)})

    times = {name: [] for name in systems}
    others = {name: [] for name in systems}
    ceilings = []
    reference = None
    identical = True
    for _ in range(args.repeats):
        ceilings.append(ceiling(args.workers))
        for name, how in systems.items():
            dask_config = how if isinstance(how, dict) else None
            search = make_search(args.epochs, args.batch_size,
                                 None if dask_config is not None else how)
            with contextlib.ExitStack() as stack:
                if dask_config is not None:
                    # A cluster of its own for this search, started (and its
                    # workers warmed up) before the clock: its scheduler runs
                    # in this process, and must not slow the other searches.
                    start = time.perf_counter()
                    client = stack.enter_context(dask_cluster(args.workers, dask_config))
                    startup[name].append(time.perf_counter() - start)
                    stack.enter_context(joblib.parallel_backend("dask", client=client))
                busy, own = _busy_cpu_seconds(), _own_cpu_seconds()
                start = time.perf_counter()
                search.fit(x, y)
                wall = time.perf_counter() - start
                # Before the cluster closes: its workers' CPU is this run's own.
                others[name].append(_others(busy, own, wall))
            times[name].append(wall)
            result = outcome(search)
            reference = reference or result
            if result != reference:
                identical = False
                print(f"{name}: DIFFERENT results: {result[1]} vs {reference[1]}")

    load_after = os.getloadavg()
    serial = times["n_jobs=1"]
    print(f"machine: {common.machine_description()}")
    print(f"search: {len(reference[0][0])} candidates x 3 folds, {args.rows} rows, "
          f"{args.epochs} epochs, batch {args.batch_size}; {args.repeats} rounds")
    print(f"load average (1, 5, 15 min): before {_load(load_before)}, after {_load(load_after)}")
    print("start-up, not timed below: " + ", ".join(
        f"{k} {common.median(v) if isinstance(v, list) else v:.1f} s" for k, v in startup.items()))
    print()
    print("| system | median s | fastest s | speed-up, medians | speed-up, fastest | "
          "each round: s (other processes' CPU, cores) |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for name, values in times.items():
        rounds = ", ".join(f"{v:.2f}" + ("" if o is None else f" ({o:.1f})")
                           for v, o in zip(values, others[name]))
        print(f"| {name} | {common.median(values):.2f} | {min(values):.2f} | "
              f"{common.median(serial) / common.median(values):.2f}x | "
              f"{min(serial) / min(values):.2f}x | {rounds} |")
    quiet = {name: [t for t, o in zip(times[name], others[name]) if o is not None and o < QUIET]
             for name in systems}
    if all(quiet.values()):
        alone = common.median(quiet["n_jobs=1"])
        print()
        print(f"rounds where other processes used under {QUIET} cores: "
              + "; ".join(f"{name}: median {common.median(v):.2f} s of {len(v)} "
                          f"({alone / common.median(v):.2f}x)" for name, v in quiet.items()))
    print()
    print(f"the machine's ceiling ({args.workers} loky processes against 1 on pure Python "
          f"work, before each round): median {common.median(ceilings):.2f}x; rounds "
          + ", ".join(f"{c:.2f}x" for c in ceilings))
    print(f"best parameters: {dict(reference[1])}; results identical in every round: "
          f"{'yes' if identical else 'NO'}")
    return 0 if identical else 1


def _load(values):
    return ", ".join(f"{v:.2f}" for v in values)


def _busy_cpu_seconds():
    """CPU seconds all processes have run on this machine (/proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds():
    """CPU seconds of this process and its children (the pool's and the
    cluster's workers), or None without psutil (a dependency of distributed)."""
    try:
        import psutil
    except ImportError:
        return None
    me = psutil.Process()
    total = 0.0
    for process in [me] + me.children(recursive=True):
        try:
            times = process.cpu_times()
        except psutil.Error:  # ended meanwhile
            continue
        total += times.user + times.system
    return total


def _others(busy, own, wall):
    """Cores' worth of CPU that processes other than this benchmark's used
    since `busy` and `own` were read: what the parallel runs competed with."""
    busy_now, own_now = _busy_cpu_seconds(), _own_cpu_seconds()
    if None in (busy, own, busy_now, own_now):
        return None
    return max(0.0, (busy_now - busy) - (own_now - own)) / wall


if __name__ == "__main__":
    sys.exit(main())
