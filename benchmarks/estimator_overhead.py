"""Wall time of GridSearchCV over tunekit.KerasClassifier vs a hand-written loop.

Both sides train the same models on scikit-learn's digits: 4 parameter
combinations (``units`` x ``dropout_rate``) x 3 stratified folds, ``--epochs``
epochs each, then score accuracy on the held-out fold. The hand-written loop
does what a careful user would write: for every fold, clear the Keras session,
seed, build, fit, predict. GridSearchCV runs with ``refit=False`` and
``n_jobs=1`` so that both do the same work. The two alternate for ``--repeats``
rounds; the JSON gives per-round times, medians and the ratio of medians.

Usage::

    python benchmarks/estimator_overhead.py --repeats 5 --epochs 5
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import time

PARAM_GRID = {"units": [32, 64], "dropout_rate": [0.2, 0.5]}


def create_model(units=32, dropout_rate=0.2):
    import keras

    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dropout(dropout_rate),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype("float32"), y


def run_grid_search(X, y, epochs: int) -> float:
    from sklearn.model_selection import GridSearchCV

    from tunekit import KerasClassifier

    estimator = KerasClassifier(create_model, epochs=epochs, random_state=0)
    search = GridSearchCV(estimator, PARAM_GRID, cv=3, refit=False, n_jobs=1)
    search.fit(X, y)
    return float(search.best_score_)


def run_hand_loop(X, y, epochs: int) -> float:
    import keras
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    best = -1.0
    names = list(PARAM_GRID)
    for values in itertools.product(*PARAM_GRID.values()):
        params = dict(zip(names, values))
        scores = []
        for train, test in StratifiedKFold(3).split(X, y):
            keras.backend.clear_session()
            keras.utils.set_random_seed(0)
            model = create_model(**params)
            model.fit(X[train], y[train], epochs=epochs, batch_size=32, verbose=0)
            predicted = np.argmax(model.predict(X[test], verbose=0), axis=1)
            scores.append(float(np.mean(predicted == y[test])))
        best = max(best, float(np.mean(scores)))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    X, y = _digits()
    run_hand_loop(X[:200], y[:200], 1)  # warm-up: imports, first traces
    run_grid_search(X[:200], y[:200], 1)
    times: dict[str, list[float]] = {"grid_search": [], "hand_loop": []}
    scores: dict[str, float] = {}
    for round_index in range(args.repeats):
        order = ["grid_search", "hand_loop"]
        if round_index % 2:
            order.reverse()
        for name in order:
            runner = run_grid_search if name == "grid_search" else run_hand_loop
            start = time.perf_counter()
            scores[name] = runner(X, y, args.epochs)
            times[name].append(round(time.perf_counter() - start, 2))
    medians = {name: statistics.median(values) for name, values in times.items()}
    import keras
    import sklearn

    print(
        json.dumps(
            {
                "benchmark": "estimator_overhead",
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "keras": keras.__version__,
                "backend": keras.backend.backend(),
                "sklearn": sklearn.__version__,
                "cpu_count": os.cpu_count(),
                "fits_per_round": 12,
                "epochs": args.epochs,
                "seconds": times,
                "median_seconds": medians,
                "ratio_grid_search_over_hand_loop": round(
                    medians["grid_search"] / medians["hand_loop"], 3
                ),
                "best_mean_accuracy": scores,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
