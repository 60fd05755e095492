"""Per-trial cost of a tuner's machinery against a hand-written loop.

Three variants train exactly the same models on scikit-learn's digits
(8x8x1 images, 1,437 training and 360 validation samples): ``--trials``
random configurations of a small CNN (filters, dense units, dropout,
learning rate), ``--epochs`` epochs each, batch 32, validation every epoch.

* ``hand``: what a careful user writes without a tuner: for each
  configuration, ``keras.backend.clear_session()``, build, ``fit``.
* ``kerastuner``: plain ``keras_tuner.RandomSearch`` (its missing-tensorboard
  import in every trial patched out, as in the tests).
* ``tunekit``: ``tunekit.RandomSearch`` with its defaults (checks, per-trial
  record, project lock, display, memory release).

Both tuners use the same oracle seed, so they try the same configurations;
the hand loop draws them with KerasTuner's own sampler from the same seed. The
JSON says whether the three saw identical configurations.

Each run is a fresh subprocess that imports everything and loads the data
before its clock starts; the clock covers the search only (for the tuners,
``search`` plus reading the best model back, which KerasTuner promises).
Rounds rotate the variants' order; the JSON gives every run's time, the
per-trial medians and the ratios of medians to the hand loop.

Usage::

    python benchmarks/trial_overhead.py --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from _random_search import random_search

VARIANTS = ("hand", "kerastuner", "tunekit")
SEED = 7


def _digits():
    import numpy as np
    from sklearn.datasets import load_digits

    data = load_digits()
    x = (data.images / 16.0).astype("float32")[..., None]
    y = data.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(y))
    x, y = x[order], y[order]
    return (x[:1437], y[:1437]), (x[1437:], y[1437:])


def build(hp):
    """The small CNN every variant trains."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(
                hp.Int("filters", 8, 32, step=8), 3, padding="same", activation="relu"
            ),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(hp.Int("units", 16, 64, step=16), activation="relu"),
            keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5, step=0.1)),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-2, sampling="log")),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _sampled_configurations(trials: int) -> list[dict]:
    """The configurations RandomSearch(seed=SEED) tries, drawn with its sampler."""
    import keras_tuner

    oracle = keras_tuner.oracles.RandomSearchOracle(
        objective="val_accuracy", max_trials=trials, seed=SEED
    )
    hp = keras_tuner.HyperParameters()
    build(hp)
    oracle.hyperparameters = hp
    return [oracle._random_values() for _ in range(trials)]


def _run_hand(trials: int, epochs: int, train, val) -> tuple[float, list, float]:
    import keras
    import keras_tuner

    configurations = _sampled_configurations(trials)
    start = time.perf_counter()
    best = 0.0
    for values in configurations:
        keras.backend.clear_session()
        hp = keras_tuner.HyperParameters()
        hp.values.update(values)
        model = build(hp)
        history = model.fit(
            *train, epochs=epochs, batch_size=32, validation_data=val, verbose=0
        )
        best = max(best, max(history.history["val_accuracy"]))
    return time.perf_counter() - start, configurations, best


def _run_tuner(variant: str, trials: int, epochs: int, train, val):
    with tempfile.TemporaryDirectory() as directory:
        start = time.perf_counter()
        tuner = random_search(variant, build, directory, trials, seed=SEED)
        tuner.search(
            *train, epochs=epochs, batch_size=32, validation_data=val, verbose=0
        )
        tuner.get_best_models(1)
        seconds = time.perf_counter() - start
        done = [t for t in tuner.oracle.trials.values() if t.score is not None]
        configurations = [
            {k: v for k, v in t.hyperparameters.values.items()}
            for t in sorted(done, key=lambda t: int(t.trial_id))
        ]
        best = max(t.score for t in done)
    return seconds, configurations, float(best)


def run_child(variant: str, trials: int, epochs: int) -> dict:
    """One timed search of ``variant`` in this (fresh) process."""
    import keras  # noqa: F401  (imports are outside the clock)
    import keras_tuner  # noqa: F401

    import tunekit  # noqa: F401

    train, val = _digits()
    if variant == "hand":
        seconds, configurations, best = _run_hand(trials, epochs, train, val)
    else:
        seconds, configurations, best = _run_tuner(variant, trials, epochs, train, val)
    return {
        "variant": variant,
        "seconds": round(seconds, 3),
        "best_val_accuracy": round(best, 4),
        "configurations": configurations,
    }


def _spawn(variant: str, trials: int, epochs: int, baseline: str | None) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if variant == "tunekit_baseline":  # the same tunekit run from older sources
        env["PYTHONPATH"] = os.pathsep.join(
            [baseline or "", env.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep)
    child = "tunekit" if variant == "tunekit_baseline" else variant
    command = [sys.executable, __file__, "--child", child, "--expect-src", ""]
    if variant == "tunekit_baseline":
        command[-1] = str(baseline)
    command += ["--trials", str(trials), "--epochs", str(epochs)]
    completed = subprocess.run(
        command, capture_output=True, text=True, env=env, check=False
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not lines:
        tail = completed.stderr.strip().splitlines()[-3:] or ["no output"]
        raise RuntimeError(f"{variant} failed: {' | '.join(tail)}")
    return json.loads(lines[-1])


def _rounded(configurations: list[dict]) -> list[dict]:
    return [
        {k: round(v, 8) if isinstance(v, float) else v for k, v in c.items()}
        for c in configurations
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument(
        "--baseline-src",
        help="a `src` folder of an older tunekit: adds the variant "
        "`tunekit_baseline` (that code, same run) to compare before and after",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--expect-src", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_src and "tunekit_baseline" not in args.variants:
        args.variants.append("tunekit_baseline")
    if args.child:
        import tunekit

        where = os.path.abspath(tunekit.__file__)
        if args.expect_src and not where.startswith(os.path.abspath(args.expect_src)):
            raise SystemExit(f"tunekit came from {where}, not {args.expect_src}")
        print(json.dumps(run_child(args.child, args.trials, args.epochs)))
        return
    runs: dict[str, list[dict]] = {v: [] for v in args.variants}
    for round_index in range(args.rounds):
        shift = round_index % len(args.variants)
        for variant in args.variants[shift:] + args.variants[:shift]:
            runs[variant].append(
                _spawn(variant, args.trials, args.epochs, args.baseline_src)
            )
            print(
                f"round {round_index + 1}: {variant} "
                f"{runs[variant][-1]['seconds']:.2f} s",
                file=sys.stderr,
            )
    per_trial = {
        v: statistics.median(r["seconds"] for r in rs) / args.trials
        for v, rs in runs.items()
    }
    reference = per_trial.get("hand")
    configurations = {
        v: _rounded(rs[0]["configurations"]) for v, rs in runs.items() if rs
    }
    first = next(iter(configurations.values()))
    import keras
    import keras_tuner

    print(
        json.dumps(
            {
                "benchmark": "trial_overhead",
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "command": " ".join(["python", *sys.argv]),
                "keras": keras.__version__,
                "keras_tuner": keras_tuner.__version__,
                "backend": keras.backend.backend(),
                "cpu_count": os.cpu_count(),
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "trials": args.trials,
                "epochs": args.epochs,
                "same_configurations": all(c == first for c in configurations.values()),
                "round_seconds": {
                    v: [r["seconds"] for r in rs] for v, rs in runs.items()
                },
                "best_val_accuracy": {
                    v: [r["best_val_accuracy"] for r in rs] for v, rs in runs.items()
                },
                "median_seconds_per_trial": {
                    v: round(s, 3) for v, s in per_trial.items()
                },
                "ratio_to_hand": None
                if reference is None
                else {v: round(s / reference, 3) for v, s in per_trial.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
