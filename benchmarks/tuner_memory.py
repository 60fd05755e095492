"""RSS growth over many back-to-back tuner searches in one process.

Each variant runs in a fresh subprocess: ``--searches`` times, create a
RandomSearch tuner in a new temporary project, search ``--trials`` trials of
one epoch each on scikit-learn's digits (graph mode, as users run it), read
the best model, drop the tuner, and record the process RSS. Variants:

* ``tunekit``: ``tunekit.RandomSearch`` (each trial's traced graphs and custom
  gradients are released when it ends);
* ``kerastuner``: plain ``keras_tuner.RandomSearch`` (its missing-tensorboard
  import in every trial is patched out, as in the tests).

Prints one JSON object: per variant the RSS after the first search, after the
last, the growth between them and the per-search slope (least squares over the
searches after the first five, which include one-off warm-up allocations).

Usage::

    python benchmarks/tuner_memory.py --searches 30
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from _random_search import random_search

VARIANTS = ("tunekit", "kerastuner")


def _digits():
    import numpy as np
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype("float32"), y.astype(np.int64)


def _build(hp):
    import keras

    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Int("units", 16, 64, step=16), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(hp.Choice("lr", [1e-2, 1e-3])),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _slope(values: list[float]) -> float:
    import numpy as np

    tail = np.asarray(values[5:], dtype=float)
    if tail.size < 2:
        return float("nan")
    return float(np.polyfit(np.arange(tail.size), tail, 1)[0])


def run_variant(variant: str, searches: int, trials: int) -> dict:
    """Run ``searches`` searches of ``variant`` in this process; return RSS figures."""
    import gc

    import psutil

    X, y = _digits()
    x_train, y_train, x_val, y_val = X[:1200], y[:1200], X[1200:], y[1200:]
    process = psutil.Process()
    rss = []
    start = time.perf_counter()
    for _ in range(searches):
        with tempfile.TemporaryDirectory() as directory:
            tuner = random_search(variant, _build, directory, trials)
            tuner.search(
                x_train, y_train, epochs=1, validation_data=(x_val, y_val), verbose=0
            )
            tuner.get_best_hyperparameters(1)
            del tuner
        gc.collect()
        rss.append(process.memory_info().rss / 2**20)
    return {
        "variant": variant,
        "searches": searches,
        "trials_per_search": trials,
        "rss_after_first_search_mb": round(rss[0], 1),
        "rss_after_last_search_mb": round(rss[-1], 1),
        "growth_mb": round(rss[-1] - rss[0], 1),
        "growth_mb_per_search": round(_slope(rss), 3),
        "seconds": round(time.perf_counter() - start, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=30)
    parser.add_argument("--trials", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_variant(args.child, args.searches, args.trials)))
        return
    results = []
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for variant in args.variants:
        completed = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                variant,
                "--searches",
                str(args.searches),
                "--trials",
                str(args.trials),
            ],
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
    import keras_tuner

    print(
        json.dumps(
            {
                "benchmark": "tuner_memory",
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "keras": keras.__version__,
                "keras_tuner": keras_tuner.__version__,
                "backend": keras.backend.backend(),
                "cpu_count": os.cpu_count(),
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
