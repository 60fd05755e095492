"""One process of a tunekit search on scikit-learn digits (run by the tests).

Not a test module: tests/tuners/test_distributed.py starts it as a chief, a
worker or a single process (``KERASTUNER_*`` variables come from the
environment), tests/tuners/test_optuna_search.py as one of several
``--tuner optuna`` processes sharing a study. Each trial trains a tiny dense
model on 300 digits; with
``--epoch-marker DIR`` every epoch start writes ``DIR/<tuner id>-<trial>-<epoch>``
and ``--epoch-sleep`` slows each epoch down so that a test can kill the
process in the middle of a trial.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--directory", required=True)
    parser.add_argument("--project-name", default="search")
    parser.add_argument(
        "--tuner",
        choices=("random", "bayesian", "hyperband", "optuna"),
        default="random",
    )
    parser.add_argument("--storage", default=None)
    parser.add_argument("--pruning", default=None)
    parser.add_argument("--heartbeat-interval", type=int, default=5)
    parser.add_argument("--max-trials", type=int, default=4)
    parser.add_argument("--max-epochs", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--objective", default="val_accuracy")
    parser.add_argument("--units", type=int, nargs="+", default=[4, 8, 16, 32])
    parser.add_argument("--epoch-sleep", type=float, default=0.0)
    parser.add_argument("--epoch-marker", default=None)
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--barrier", type=int, default=0)
    parser.add_argument("--fail-trials", action="store_true")
    parser.add_argument("--distribution-strategy", action="store_true")
    return parser.parse_args(argv)


def _make_callback(marker_dir: str | None, sleep: float, fail: bool = False):
    import keras

    class Marker(keras.callbacks.Callback):
        """Writes one file per epoch start, then sleeps (copyable: plain fields)."""

        def __init__(self, marker_dir, sleep, fail):
            super().__init__()
            self.marker_dir = marker_dir
            self.sleep = sleep
            self.fail = fail
            self.trial = "?"

        def _mark(self, kind):
            if self.marker_dir:
                tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "tuner0")
                name = f"{kind}-{tuner_id}-{os.getpid()}-{time.time_ns()}"
                with open(os.path.join(self.marker_dir, name), "w"):
                    pass

        def on_train_begin(self, logs=None):
            self._mark("run")
            if self.fail:
                raise RuntimeError("this trial fails on purpose (--fail-trials)")

        def on_epoch_begin(self, epoch, logs=None):
            self._mark("epoch")
            if self.sleep:
                time.sleep(self.sleep)

    return Marker(marker_dir, sleep, fail)


def _wait_for_peers(marker_dir: str, count: int) -> None:
    """Start searching once ``count`` workers are ready (so that all run trials)."""
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "tuner0")
    if tuner_id == "chief":
        return
    with open(os.path.join(marker_dir, f"ready-{tuner_id}-{os.getpid()}"), "w"):
        pass
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        ready = [n for n in os.listdir(marker_dir) if n.startswith("ready-")]
        if len(ready) >= count:
            return
        time.sleep(0.2)


def main(argv: list[str]) -> int:
    args = _arguments(argv)
    import keras
    from sklearn.datasets import load_digits

    import tunekit

    data = load_digits()
    x = (data.data / 16.0).astype("float32")[:300]
    y = data.target.astype("int64")[:300]
    units = args.units

    def build(hp):
        model = keras.Sequential(
            [
                keras.Input((64,)),
                keras.layers.Dense(hp.Choice("units", units), activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(
            keras.optimizers.Adam(hp.Choice("lr", [1e-2, 3e-3])),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    common = {
        "directory": args.directory,
        "project_name": args.project_name,
        "overwrite": args.overwrite,
        "seed": 1,
        "verbose": True,
    }
    if args.distribution_strategy:
        import tensorflow as tf

        common["distribution_strategy"] = tf.distribute.OneDeviceStrategy("/cpu:0")
    if args.tuner == "hyperband":
        tuner = tunekit.Hyperband(
            build, args.objective, max_epochs=args.max_epochs, factor=3, **common
        )
        fit = {}
    elif args.tuner == "optuna":
        tuner = tunekit.OptunaSearch(
            build,
            args.objective,
            max_trials=args.max_trials,
            storage=args.storage,
            pruning=args.pruning,
            heartbeat_interval=args.heartbeat_interval,
            **common,
        )
        fit = {"epochs": args.epochs}
    elif args.tuner == "bayesian":
        tuner = tunekit.BayesianOptimization(
            build,
            args.objective,
            max_trials=args.max_trials,
            num_initial_points=2,
            **common,
        )
        fit = {"epochs": args.epochs}
    else:
        tuner = tunekit.RandomSearch(
            build, args.objective, max_trials=args.max_trials, **common
        )
        fit = {"epochs": args.epochs}
    callbacks = [_make_callback(args.epoch_marker, args.epoch_sleep, args.fail_trials)]
    if args.barrier and args.epoch_marker:
        _wait_for_peers(args.epoch_marker, args.barrier)
    tuner.search(x, y, validation_split=0.3, batch_size=64, callbacks=callbacks, **fit)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
