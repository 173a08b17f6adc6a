"""Grid search over a Keras model's hyper-parameters with scikit-learn.

A small network classifies Iris. `KerasClassifier` makes it a scikit-learn
estimator, a `Pipeline` puts a `StandardScaler` in front of it (so each
cross-validation fold is scaled with its own training part only), and
`GridSearchCV` tries every combination of hidden units, activation and
dropout rate by stratified k-fold cross-validation. The species names are
the labels: the wrapper encodes them and `predict` gives names back.

Needs scikit-learn: `pip install kerasette[sklearn]`.

Run:
    python examples/iris_grid_search.py [--folds 3] [--epochs 40] [--seed 0]
        [--units 4 8 16] [--activations relu tanh] [--dropouts 0.0 0.2]
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import kerasette as keras
from kerasette.wrappers import KerasClassifier


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
    search = GridSearchCV(pipeline, grid, cv=folds)
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


if __name__ == "__main__":
    main()
