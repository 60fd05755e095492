"""RSS growth over many consecutive fits in one process, per scikit-learn wrapper.

Each variant runs in a fresh subprocess: ``--fits`` times, clone the estimator
(as GridSearchCV does), fit it for one epoch on scikit-learn's digits, predict,
drop it, and record the process RSS. Variants:

* ``tunekit``: ``tunekit.KerasClassifier``
* ``scikeras``: ``scikeras.wrappers.KerasClassifier`` (if installed)
* ``keras_wrapper``: ``keras.wrappers.SKLearnClassifier``
* ``hand_loop``: build + fit + predict by hand, ``keras.backend.clear_session()``
  before every build.

Prints one JSON object: per variant the RSS after the first fit, after the last,
the growth between them and the per-fit slope (least squares over the fits after
the first five, which include one-off warm-up allocations).

Usage::

    python benchmarks/estimator_memory.py --fits 50
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

VARIANTS = ("tunekit", "scikeras", "keras_wrapper", "hand_loop")


def _digits():
    import numpy as np
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype("float32"), y.astype(np.int64)


def _make_model(n_features: int = 64, n_classes: int = 10, units: int = 64):
    import keras

    model = keras.Sequential(
        [
            keras.Input((n_features,)),
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dense(n_classes, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _tunekit_step():
    from sklearn.base import clone

    from tunekit import KerasClassifier

    def create_model(units=64, n_features_in_=None, n_classes_=None):
        return _make_model(n_features_in_, n_classes_, units)

    template = KerasClassifier(create_model, epochs=1, random_state=0)

    def step(X, y):
        est = clone(template).fit(X, y)
        est.predict(X)

    return step


def _scikeras_step():
    from scikeras.wrappers import KerasClassifier
    from sklearn.base import clone

    template = KerasClassifier(
        model=_make_model, epochs=1, verbose=0, loss="sparse_categorical_crossentropy"
    )

    def step(X, y):
        est = clone(template).fit(X, y)
        est.predict(X)

    return step


def _keras_wrapper_step():
    from keras.wrappers import SKLearnClassifier
    from sklearn.base import clone

    def build(X, y):
        model = _make_model()
        model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
        return model

    template = SKLearnClassifier(model=build, fit_kwargs={"epochs": 1, "verbose": 0})

    def step(X, y):
        est = clone(template)
        est.fit_kwargs = {"epochs": 1, "verbose": 0}  # clone drops fit_kwargs
        est.fit(X, y)
        est.predict(X)

    return step


def _hand_loop_step():
    import keras

    def step(X, y):
        keras.backend.clear_session()
        model = _make_model()
        model.fit(X, y, epochs=1, batch_size=32, verbose=0)
        model.predict(X, verbose=0)

    return step


def _slope(values: list[float]) -> float:
    import numpy as np

    tail = np.asarray(values[5:], dtype=float)
    if tail.size < 2:
        return float("nan")
    return float(np.polyfit(np.arange(tail.size), tail, 1)[0])


def run_variant(variant: str, fits: int) -> dict:
    """Run ``fits`` fits of ``variant`` in this process; return RSS figures."""
    import psutil

    steps = {
        "tunekit": _tunekit_step,
        "scikeras": _scikeras_step,
        "keras_wrapper": _keras_wrapper_step,
        "hand_loop": _hand_loop_step,
    }
    X, y = _digits()
    step = steps[variant]()
    process = psutil.Process()
    rss = []
    start = time.perf_counter()
    for _ in range(fits):
        step(X, y)
        rss.append(process.memory_info().rss / 2**20)
    return {
        "variant": variant,
        "fits": fits,
        "rss_after_first_fit_mb": round(rss[0], 1),
        "rss_after_last_fit_mb": round(rss[-1], 1),
        "growth_mb": round(rss[-1] - rss[0], 1),
        "growth_mb_per_fit": round(_slope(rss), 3),
        "seconds": round(time.perf_counter() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fits", type=int, default=50)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_variant(args.child, args.fits)))
        return
    results = []
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for variant in args.variants:
        completed = subprocess.run(
            [sys.executable, __file__, "--child", variant, "--fits", str(args.fits)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
        if completed.returncode != 0 or not lines:
            tail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
            results.append({"variant": variant, "error": tail[0][:300]})
        else:
            results.append(json.loads(lines[-1]))
    import keras
    import sklearn

    print(
        json.dumps(
            {
                "benchmark": "estimator_memory",
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "keras": keras.__version__,
                "backend": keras.backend.backend(),
                "sklearn": sklearn.__version__,
                "cpu_count": os.cpu_count(),
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
