"""Wall time until a good model: the seed protocol with plain KerasTuner vs tunekit.

The seed (``adabyt/cnn-keras-tuning-fashion-mnist``) tunes a CNN
(Conv32-Pool-Conv64-Pool, then a tuned dense layer and dropout) with
KerasTuner's RandomSearch: dense units 64-512, dropout 0.1-0.5, learning rate
1e-4..1e-2 (log), Adam or RMSprop, up to 30 epochs, batch 128, early
stopping. Here it runs on the real MNIST PNG tree (``training/`` split 80/20
into train and validation, ``testing/`` as the test set), in two variants that
tune exactly the same space and model:

* ``A``: the seed as users write it today: ``keras.utils.
  image_dataset_from_directory`` for the folders, a hand-written build
  function, ``keras_tuner.RandomSearch``.
* ``B``: tunekit's recommended path: its loaders with the decode cache (a
  cold cache: the first decode is timed; ``tunekit.image_dataset_from_directory``
  on TensorFlow, :func:`tunekit.flow_from_directory` on other backends),
  ``build_cnn_hypermodel(..., preset="dense_head", padding="valid")`` (the same
  model and space), :func:`tunekit.random_search` with its defaults (the first
  trial at the space's default values) and median pruning.

Both use the same ``EarlyStopping`` and the same number of trials. Each run is
a fresh subprocess; its clock starts before the data loaders are created and
stops when the search ends. Afterwards (off the clock) every trial that was
the best so far is evaluated on the test set, which gives the time at which
each variant first held a model within ``--tolerance`` of A's final test
accuracy. Rounds alternate the variants' order.

Prints one JSON object and writes ``time_to_accuracy.png`` (best-so-far
validation accuracy against wall time) into ``--out``.

Usage::

    python benchmarks/time_to_accuracy.py --quick            # 2-core CPU, < 10 min
    python benchmarks/time_to_accuracy.py                    # the full protocol
    KERAS_BACKEND=jax python benchmarks/time_to_accuracy.py --data /path/mnist_png
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from _random_search import plain_kerastuner

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "datasets" / "mnist_png.tar.gz"
SEED = 1337

#: The 80/20 train/validation split of training/, as both variants load it.
SPLIT = dict(
    validation_split=0.2,
    subset="both",
    seed=SEED,
    color_mode="grayscale",
    image_size=(28, 28),
    batch_size=128,
    verbose=False,
)
QUICK = {"train_per_class": 500, "test_per_class": None, "trials": 10, "epochs": 8}
FULL = {"train_per_class": None, "test_per_class": None, "trials": 10, "epochs": 30}


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------


def _pick(files: list, per_class: int | None) -> list:
    """``per_class`` files of one class, drawn with a fixed seed (all if None)."""
    files = sorted(files)
    if per_class is None:
        return files
    random.Random(SEED).shuffle(files)
    return files[:per_class]


def _from_folder(root: Path, workdir: Path, config: dict) -> tuple[Path, Path]:
    if config["train_per_class"] is None and config["test_per_class"] is None:
        return root / "training", root / "testing"
    for split in ("training", "testing"):
        per_class = config[
            "train_per_class" if split == "training" else "test_per_class"
        ]
        for class_dir in sorted(p for p in (root / split).iterdir() if p.is_dir()):
            out = workdir / split / class_dir.name
            out.mkdir(parents=True, exist_ok=True)
            for file in _pick(list(class_dir.iterdir()), per_class):
                shutil.copyfile(file, out / file.name)
    return workdir / "training", workdir / "testing"


def _from_tarball(data: Path, workdir: Path, config: dict) -> tuple[Path, Path]:
    """Extract the (sub)set of ``mnist_png/{training,testing}/<class>/`` needed.

    Two streaming passes over the gzip file (list, then extract the chosen
    members as they come): seeking back in a gzip stream re-reads it.
    """
    groups: dict[tuple[str, str], list[str]] = {}
    with tarfile.open(data, "r|gz") as archive:
        for member in archive:
            parts = Path(member.name).parts
            if member.isfile() and len(parts) == 4 and parts[0] == "mnist_png":
                groups.setdefault((parts[1], parts[2]), []).append(member.name)
    chosen: set[str] = set()
    for (split, _), names in groups.items():
        key = "train_per_class" if split == "training" else "test_per_class"
        chosen.update(_pick(names, config[key]))
    with tarfile.open(data, "r|gz") as archive:
        for member in archive:
            if member.name in chosen:
                archive.extract(member, workdir, filter="data")
    root = workdir / "mnist_png"
    return root / "training", root / "testing"


def prepare_data(data: Path, workdir: Path, config: dict) -> tuple[Path, Path]:
    """The training and testing folders of the MNIST PNG tree (or a subset)."""
    if data.is_dir():
        return _from_folder(data, workdir, config)
    return _from_tarball(data, workdir, config)


# --------------------------------------------------------------------------
# the two variants (each in its own process)
# --------------------------------------------------------------------------


def _search(tuner, train, val, config: dict, start: float):
    """The search both variants run: same epochs, same early stopping."""
    import keras

    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)
    tuner.search(
        train, validation_data=val, epochs=config["epochs"], callbacks=[stop], verbose=0
    )
    return tuner, start, time.perf_counter()


def _seed_build(hp):
    """The seed's model, written by hand as its users do."""
    import keras

    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(
                hp.Int("dense_units", 64, 512, step=32), activation="relu"
            ),
            keras.layers.Dropout(hp.Float("dropout", 0.1, 0.5, step=0.1)),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    rate = hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")
    optimizer = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}[
        hp.Choice("optimizer", ["adam", "rmsprop"])
    ](rate)
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _timed(tuner_class):
    """``tuner_class`` that stamps each trial's end (the benchmark's only hook)."""

    class Timed(tuner_class):
        def on_epoch_end(self, trial, model, epoch, logs=None):
            super().on_epoch_end(trial, model, epoch, logs=logs)
            self.epochs = getattr(self, "epochs", {})
            self.epochs[trial.trial_id] = self.epochs.get(trial.trial_id, 0) + 1

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            self.ended = getattr(self, "ended", {})
            self.ended[trial.trial_id] = time.perf_counter()

    return Timed


def _run_a(train_dir: Path, workdir: Path, config: dict):
    import keras

    keras_tuner = plain_kerastuner()
    start = time.perf_counter()
    train, val = keras.utils.image_dataset_from_directory(train_dir, **SPLIT)
    tuner = _timed(keras_tuner.RandomSearch)(
        _seed_build,
        objective="val_accuracy",
        max_trials=config["trials"],
        seed=SEED,
        directory=str(workdir / "projects"),
        project_name="A",
    )
    return _search(tuner, train, val, config, start)


def _tunekit_loaders(train_dir: Path, workdir: Path):
    """tunekit's fastest loader on this backend, decoded once into a cold cache."""
    import keras

    import tunekit

    cache = str(workdir / "cache")
    if keras.backend.backend() == "tensorflow":  # tf.data from the decoded array
        # the same arguments as A's Keras loader, plus the cache
        return tunekit.image_dataset_from_directory(train_dir, **SPLIT, cache=cache)
    common = dict(
        target_size=(28, 28),
        color_mode="grayscale",
        class_mode="sparse",
        batch_size=128,
        validation_split=0.2,
        cache=cache,
        verbose=False,
    )
    train = tunekit.flow_from_directory(
        train_dir, subset="training", seed=SEED, **common
    )
    val = tunekit.flow_from_directory(
        train_dir, subset="validation", shuffle=False, **common
    )
    return train, val


def _run_b(train_dir: Path, workdir: Path, config: dict):
    import tunekit

    start = time.perf_counter()
    train, val = _tunekit_loaders(train_dir, workdir)
    hypermodel = tunekit.build_cnn_hypermodel(
        (28, 28, 1),
        10,
        preset="dense_head",
        padding="valid",
        rescale=1 / 255,
        dtype_policy=config.get("dtype_policy"),
    )
    tuner = _timed(tunekit.RandomSearch)(
        hypermodel,
        "val_accuracy",
        max_trials=config["trials"],
        seed=SEED,
        directory=str(workdir / "projects"),
        project_name="B",
        verbose=False,
        initial_trials="defaults",
        pruning=tunekit.MedianPruning(min_trials=2),
    )
    return _search(tuner, train, val, config, start)


def _test_set(test_dir: Path, variant: str):
    import keras

    if variant == "A":
        return keras.utils.image_dataset_from_directory(
            test_dir,
            color_mode="grayscale",
            image_size=(28, 28),
            batch_size=512,
            shuffle=False,
            verbose=False,
        )
    import tunekit

    return tunekit.flow_from_directory(
        test_dir,
        target_size=(28, 28),
        color_mode="grayscale",
        class_mode="sparse",
        batch_size=512,
        shuffle=False,
        verbose=False,
    )


def _timeline(tuner, start: float, test) -> list[dict]:
    """Per trial in finishing order: time, score, epochs, and best-so-far test acc."""
    trials = [t for t in tuner.oracle.trials.values() if t.trial_id in tuner.ended]
    trials.sort(key=lambda t: tuner.ended[t.trial_id])
    rows, best, best_test = [], None, None
    for trial in trials:
        score = trial.score
        improved = score is not None and (best is None or score > best)
        if improved:
            best = score
            model = tuner.load_model(trial)
            best_test = float(model.evaluate(test, verbose=0)[1])
        rows.append(
            {
                "trial": trial.trial_id,
                "seconds": round(tuner.ended[trial.trial_id] - start, 2),
                "val_accuracy": None if score is None else round(float(score), 4),
                "epochs": tuner.epochs.get(trial.trial_id, 0),
                "pruned": "pruned" in str(getattr(trial, "message", "") or ""),
                "best_val_accuracy": None if best is None else round(float(best), 4),
                "best_test_accuracy": None
                if best_test is None
                else round(best_test, 4),
                "hyperparameters": {
                    k: v
                    for k, v in trial.hyperparameters.values.items()
                    if not k.startswith("tuner/")
                },
            }
        )
    return rows


def run_child(variant: str, train_dir: Path, test_dir: Path, workdir: Path, config):
    import keras  # imports are outside the clock
    import keras_tuner  # noqa: F401

    import tunekit  # noqa: F401

    run = {"A": _run_a, "B": _run_b}[variant]
    tuner, start, end = run(train_dir, workdir, config)
    rows = _timeline(tuner, start, _test_set(test_dir, variant))
    best = max(rows, key=lambda r: r["val_accuracy"] or -1)
    return {
        "variant": variant,
        "backend": keras.backend.backend(),
        "wall_seconds": round(end - start, 2),
        "seconds_to_best": best["seconds"],
        "best_val_accuracy": best["val_accuracy"],
        "test_accuracy": rows[-1]["best_test_accuracy"],
        "epochs_trained": sum(r["epochs"] for r in rows),
        "trials": rows,
    }


# --------------------------------------------------------------------------
# the parent: rounds, summary, plot
# --------------------------------------------------------------------------


def _spawn(variant: str, args, train: Path, test: Path, config: dict) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"tta_{variant}_", dir=args.workdir))
    command = [sys.executable, __file__, "--child", variant]
    command += ["--train-dir", str(train), "--test-dir", str(test)]
    command += ["--workdir", str(workdir), "--config", json.dumps(config)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, env=env, check=False
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not lines:
        tail = completed.stderr.strip().splitlines()[-5:] or ["no output"]
        raise RuntimeError(f"variant {variant} failed: {' | '.join(tail)}")
    return json.loads(lines[-1])


def _reached(run: dict, target: float) -> float | None:
    for row in run["trials"]:
        accuracy = row["best_test_accuracy"]
        if accuracy is not None and accuracy >= target:
            return row["seconds"]
    return None


def _plot(runs: dict[str, list[dict]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = {"A": "A: seed protocol, plain KerasTuner", "B": "B: tunekit"}
    figure, axis = plt.subplots(figsize=(7, 4))
    for variant, variant_runs in runs.items():
        run = variant_runs[0]
        times = [0.0] + [r["seconds"] / 60 for r in run["trials"]]
        best = [None] + [r["best_val_accuracy"] for r in run["trials"]]
        times.append(run["wall_seconds"] / 60)
        best.append(best[-1])
        axis.step(times, best, where="post", label=labels[variant], marker="o")
    axis.set_xlabel("wall time (minutes)")
    axis.set_ylabel("best validation accuracy so far")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(loc="center right")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="mnist_png.tar.gz or an extracted mnist_png folder",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a subset and fewer trials: < 10 minutes on 2 CPU cores",
    )
    parser.add_argument("--trials", type=int, help="trials per variant")
    parser.add_argument("--epochs", type=int, help="most epochs per trial")
    parser.add_argument("--train-per-class", type=int)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--dtype-policy",
        choices=("mixed_bfloat16", "mixed_float16"),
        help="B only: mixed precision (opt-in; compare with a run without it)",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=0.002,
        help="B must reach A's test accuracy minus this",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("."), help="folder for time_to_accuracy.png"
    )
    parser.add_argument("--workdir", help="scratch folder (default: a temporary one)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--train-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--test-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    args = parser.parse_args()  # fmt: skip
    if args.child:
        config = json.loads(args.config)
        result = run_child(
            args.child, args.train_dir, args.test_dir, Path(args.workdir), config
        )
        print(json.dumps(result))
        return
    config = dict(QUICK if args.quick else FULL)
    for name in ("trials", "epochs", "train_per_class", "dtype_policy"):
        if getattr(args, name) is not None:
            config[name] = getattr(args, name)
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="tta_", dir=args.workdir))
    args.workdir = str(scratch)
    try:
        train, test = prepare_data(args.data, scratch, config)
        runs: dict[str, list[dict]] = {"A": [], "B": []}
        for index in range(args.rounds):
            order = ["A", "B"] if index % 2 == 0 else ["B", "A"]
            for variant in order:
                runs[variant].append(_spawn(variant, args, train, test, config))
                seconds = runs[variant][-1]["wall_seconds"]
                print(f"round {index + 1}: {variant} {seconds:.0f} s", file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    def median(variant: str, key: str):
        values = [r[key] for r in runs[variant] if r[key] is not None]
        return statistics.median(values) if values else None

    target = median("A", "test_accuracy") - args.tolerance
    reached_b = [_reached(r, target) for r in runs["B"]]
    reached_b = [s for s in reached_b if s is not None]
    wall_a = median("A", "wall_seconds")
    summary = {
        variant: {
            key: median(variant, key)
            for key in ("wall_seconds", "seconds_to_best", "best_val_accuracy",
                        "test_accuracy", "epochs_trained")
        }
        for variant in runs
    }  # fmt: skip
    b_to_target = statistics.median(reached_b) if reached_b else None
    args.out.mkdir(parents=True, exist_ok=True)
    plot = args.out / "time_to_accuracy.png"
    mode = "quick" if args.quick else "full"
    _plot(runs, plot, f"MNIST PNGs, {mode} ({runs['A'][0]['backend']})")
    import keras
    import keras_tuner

    print(
        json.dumps(
            {
                "benchmark": "time_to_accuracy",
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "command": " ".join(["python", *sys.argv]),
                "mode": mode,
                "config": config,
                "keras": keras.__version__,
                "keras_tuner": keras_tuner.__version__,
                "backend": runs["A"][0]["backend"],
                "cpu_count": os.cpu_count(),
                "rounds": args.rounds,
                "summary": summary,
                "target_test_accuracy": round(target, 4),
                "b_seconds_to_target": b_to_target,
                "ratio_b_wall_to_a_wall": round(
                    summary["B"]["wall_seconds"] / wall_a, 3
                ),
                "ratio_b_to_target_to_a_wall": None
                if b_to_target is None
                else round(b_to_target / wall_a, 3),
                "plot": str(plot),
                "total_seconds": round(time.perf_counter() - started, 1),
                "runs": runs,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
