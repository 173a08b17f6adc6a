"""Thread limits for the fits a parallel search runs in worker processes.

A search with `n_jobs=-1` (joblib's loky process pool) or under
`joblib.parallel_backend("dask")` runs one fit per worker process at a
time, side by side. Each BLAS library (and kerasette's optimizer update,
`KERASETTE_NUM_THREADS`) would otherwise start as many threads as the
machine has cores in every worker: on 2 cores, 2 workers x 2 BLAS threads
fight over the cores and every product waits for a descheduled thread.

So `KerasClassifier`/`KerasRegressor` call `limit_worker_threads()` before
they fit, predict or score. Outside a worker it does nothing. In a worker
it limits every BLAS and OpenMP pool of the process (through
`threadpoolctl`, for the rest of the process: it is a worker) and lowers
`KERASETTE_NUM_THREADS` to the worker's share of the cores:

* a loky worker (`n_jobs`): the count joblib gave the worker's thread
  variables (`OMP_NUM_THREADS`, ...): `cpu_count() // n_jobs` unless set
  with `joblib.parallel_config(inner_max_num_threads=k)` or already set in
  the parent's environment;
* a `dask.distributed` worker: the cores this process may use divided by
  the threads of all workers on its host (`dask worker --nworkers N
  --nthreads T` on a 16-core machine: `16 // (N * T)`, at least 1), asked
  of the scheduler at the first fit in each worker. Workers that are
  threads of your own process (`LocalCluster(processes=False)`) are left
  alone: that process is not only a worker;
* either way, `KERASETTE_WORKER_THREADS=k` in the workers' environment
  sets the share instead (for dask: `KERASETTE_WORKER_THREADS=4 dask worker
  ...`, or `LocalCluster(env={"KERASETTE_WORKER_THREADS": "4"})`).

Inside `fit`, kerasette's automatic BLAS count (`backend/threads.py`) then
never goes above the share. A count fixed with `KERASETTE_BLAS_THREADS` or
`keras.backend.set_blas_threads` is used as given, in workers too.

Dask's own bookkeeping costs a search of small fits more than their data
does: each worker samples its running task's stack every 10 ms for the
dashboard's profile, and every process reads the machine's disk counters
twice a second. `LEAN_DASK_CONFIG` switches those off (and samples the
other counters every 2 s); set it before the cluster starts, with
`dask.config.set(LEAN_DASK_CONFIG)` around `LocalCluster(...)`, or in the
environment of `dask scheduler` and `dask worker` (`DASK_DISTRIBUTED__WORKER__
PROFILE__ENABLED=False`, and so on). On the 2-core machine it took a
36-fit search on a 2-worker `LocalCluster` from 1.57-1.65x to 1.67-1.74x
the speed of `n_jobs=1` (benchmarks/bench_search.py, two runs). The
dashboard's profile then stays empty; nothing else changes.

Example:
    >>> from kerasette.wrappers import workers
    >>> workers.worker_threads() is None  # the main process is no worker
    True
    >>> workers.LEAN_DASK_CONFIG["distributed.worker.profile.enabled"]
    False
"""

from __future__ import annotations

import os
import sys
import threading

from kerasette.backend import blas_library, cpu_load

ENV_VARIABLE = "KERASETTE_WORKER_THREADS"
# dask settings for clusters that run many small fits (see the module's docstring).
LEAN_DASK_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.system-monitor.disk": False,
    "distributed.admin.system-monitor.interval": "2s",
}
# The variables joblib sets in each loky worker (joblib's MAX_NUM_THREADS_VARS).
_LOKY_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_lock = threading.Lock()
_applied: list = []  # [share] once the pools of this process were limited
_dask_shares: dict = {}  # worker address -> share, asked of the scheduler once


def worker_kind() -> str | None:
    """`"loky"` or `"dask"` in a worker of those pools, else None."""
    executor = sys.modules.get("joblib.externals.loky.process_executor")
    if executor is not None and getattr(executor, "_CURRENT_DEPTH", 0) > 0:
        return "loky"
    if _dask_worker() is not None:
        return "dask"
    return None


def _dask_worker():
    """The dask worker running this task in a process of its own, or None."""
    distributed = sys.modules.get("distributed")
    if distributed is None:  # never imported: not a dask worker
        return None
    try:
        worker = distributed.get_worker()
    except (ValueError, AttributeError):  # "No worker found"
        return None
    scheduler = sys.modules.get("distributed.scheduler")
    if scheduler is not None and len(getattr(scheduler.Scheduler, "_instances", ())):
        # LocalCluster(processes=False): the workers are threads of the
        # user's own process, whose thread pools are not ours to limit.
        return None
    return worker


def _positive_int(text, source):
    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit() and int(text) > 0:
        return int(text)
    raise ValueError(f"{source} expects a positive integer (the threads of each parallel "
                     f"worker). Received: {text!r}")


def worker_threads() -> int | None:
    """This worker process's share of the cores, or None outside a worker.

    Returns:
        `KERASETTE_WORKER_THREADS` when set, else the share joblib (loky)
        or the dask cluster's layout gives (see the module's docstring);
        None in a process that is neither a loky nor a dask worker.

    Raises:
        ValueError: when `KERASETTE_WORKER_THREADS` is not a positive integer.
    """
    kind = worker_kind()
    if kind is None:
        return None
    explicit = _positive_int(os.environ.get(ENV_VARIABLE), ENV_VARIABLE)
    if explicit is not None:
        return explicit
    if kind == "loky":
        return _loky_share()
    return _dask_share()


def _loky_share() -> int:
    counts = []
    for name in _LOKY_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            counts.append(int(value))
    return min(counts) if counts else cpu_load.usable_cores()


def _dask_share() -> int:
    worker = _dask_worker()
    address = getattr(worker, "address", None)
    share = _dask_shares.get(address)
    if share is None:
        share = max(1, cpu_load.usable_cores() // _threads_on_host(worker))
        _dask_shares[address] = share
    return share


def _threads_on_host(worker) -> int:
    """The threads of every worker on this worker's host (its own when the
    scheduler cannot be asked)."""
    own = int(getattr(getattr(worker, "state", worker), "nthreads", 1) or 1)
    try:
        from distributed import get_client
        from distributed.comm import get_address_host

        host = get_address_host(worker.address)
        workers = get_client().scheduler_info(n_workers=-1)["workers"].values()
        total = sum(int(w.get("nthreads") or 0) for w in workers if w.get("host") == host)
    except Exception:  # noqa: BLE001 - an older or unreachable scheduler: its own threads
        return own
    return max(total, own)


def limit_worker_threads() -> int | None:
    """In a worker, limits this process's thread pools to `worker_threads()`.

    Sets every BLAS and OpenMP pool to the share with `threadpoolctl` (when
    it is installed: scikit-learn depends on it) and lowers
    `KERASETTE_NUM_THREADS` to it. Cheap after the first call: the pools
    are limited again only when the share or the BLAS count changed.

    Returns:
        The share, or None outside a worker (where nothing changes).
    """
    share = worker_threads()
    if share is None:
        return None
    update = os.environ.get("KERASETTE_NUM_THREADS", "").strip()
    if update.isdigit() and int(update) > share:
        os.environ["KERASETTE_NUM_THREADS"] = str(share)
    library = blas_library.find()
    with _lock:
        if _applied == [share] and (library is None or library.get() <= share):
            return share
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            threadpool_limits = None
        if threadpool_limits is not None:
            threadpool_limits(limits=share)  # not restored: the whole process is a worker
        elif library is not None:
            library.set(share)
        _applied[:] = [share]
    return share
