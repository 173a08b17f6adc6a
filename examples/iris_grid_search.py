"""Grid search over a Keras model's hyper-parameters with scikit-learn.

A small network classifies Iris. `KerasClassifier` makes it a scikit-learn
estimator, a `Pipeline` puts a `StandardScaler` in front of it (so each
cross-validation fold is scaled with its own training part only), and
`GridSearchCV` tries every combination of hidden units, activation and
dropout rate by stratified k-fold cross-validation. The species names are
the labels: the wrapper encodes them and `predict` gives names back.

The 12 settings x 3 folds are 36 independent fits. `--n-jobs -1` trains
them in one process per core (joblib's process pool); `--dask` on a
`dask.distributed` cluster: a local one (one worker process per core) when
no address is given, else the scheduler at SCHEDULER_ADDRESS
(`tcp://host:8786`), whose workers need kerasette, scikit-learn and dask
installed (the build function travels with the search). Every fit is seeded
from `random_state`, so the scores and the best parameters are those of the
one-process run.

Needs scikit-learn: `pip install kerasette[sklearn]`; `--dask` also needs
`pip install kerasette[dask]`.

Run:
    python examples/iris_grid_search.py [--folds 3] [--epochs 40] [--seed 0]
        [--units 4 8 16] [--activations relu tanh] [--dropouts 0.0 0.2]
        [--n-jobs N | --dask [SCHEDULER_ADDRESS]]
"""

from __future__ import annotations

import argparse
import contextlib
import os

import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import kerasette as keras
from kerasette.wrappers import KerasClassifier, workers


def build_model(units=8, activation="relu", dropout=0.0, learning_rate=0.03,
                n_features_in_=4, n_classes_=3):
    """One hidden layer, dropout, softmax; the wrapper fills the sizes in."""
    model = keras.Sequential([
        keras.layers.Dense(units, activation=activation, input_shape=(n_features_in_,)),
        keras.layers.Dropout(dropout),
        keras.layers.Dense(n_classes_, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--units", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--activations", nargs="+", default=["relu", "tanh"])
    parser.add_argument("--dropouts", type=float, nargs="+", default=[0.0, 0.2])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--n-jobs", type=int, default=None,
                       help="fits at once in joblib processes (-1: one per core)")
    where.add_argument("--dask", nargs="?", const="local", default=None,
                       metavar="SCHEDULER_ADDRESS",
                       help="run the fits on a dask cluster: a local one, or this scheduler's")
    args = parser.parse_args(argv)

    (x, y), class_names = keras.datasets.iris.load_data()
    species = np.asarray(class_names)[y]  # string labels, e.g. "setosa"

    pipeline = Pipeline([
        ("scale", StandardScaler()),
        ("net", KerasClassifier(build_model, epochs=args.epochs, batch_size=args.batch_size,
                                random_state=args.seed)),
    ])
    grid = {
        "net__units": args.units,
        "net__activation": args.activations,
        "net__dropout": args.dropouts,
    }
    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    search = GridSearchCV(pipeline, grid, cv=folds, n_jobs=args.n_jobs)
    if args.dask is None:
        search.fit(x, species)
    else:
        import joblib

        with dask_client(args.dask) as client:
            workers = client.scheduler_info(n_workers=-1)["workers"].values()
            print(f"dask: {len(workers)} workers, {sum(w['nthreads'] for w in workers)} "
                  f"threads, scheduler {client.scheduler.address}")
            with joblib.parallel_backend("dask"):
                search.fit(x, species)

    results = search.cv_results_
    print(f"{len(results['params'])} settings x {args.folds} folds, {args.epochs} epochs each")
    print("mean accuracy (std)  settings")
    for mean, std, params in zip(results["mean_test_score"], results["std_test_score"],
                                 results["params"]):
        settings = ", ".join(f"{k.split('__')[1]}={v}" for k, v in sorted(params.items()))
        print(f"{mean:.4f} ({std:.4f})     {settings}")
    best = {k.split("__")[1]: v for k, v in sorted(search.best_params_.items())}
    print("best parameters:", best)
    refit = search.best_estimator_
    print("refit on all rows; predictions for rows 0, 50, 100:",
          refit.predict(x[[0, 50, 100]]).tolist())
    print(f"best_score={search.best_score_:.4f}")
    return search.best_score_


@contextlib.contextmanager
def dask_client(address):
    """A client of the scheduler at `address`, or of a new local cluster
    (one single-threaded worker process per core) for `"local"`."""
    import dask
    from dask.distributed import Client, LocalCluster

    if address != "local":
        with Client(address, timeout="30s") as client:
            yield client
        return
    # One thread per worker: a fit is mostly Python, so threads of one
    # process would wait for each other's GIL (and seeded fits take turns).
    # Without dask's stack sampling and disk counters (LEAN_DASK_CONFIG),
    # which small fits feel.
    with dask.config.set(workers.LEAN_DASK_CONFIG):
        cluster = LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1,
                               dashboard_address=None)
    with cluster, Client(cluster) as client:
        yield client


if __name__ == "__main__":
    main()
