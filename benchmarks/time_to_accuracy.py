"""Time to accuracy: how soon each tuner holds a model as good as KerasTuner's.

Per task and per variant, the time until the variant's best-so-far model
(chosen by validation accuracy; its test accuracy is evaluated afterwards,
off the clock) first reaches the task's target, with medians over seeds.

Tasks
-----
``seed``
    The seed protocol (``adabyt/cnn-keras-tuning-fashion-mnist``) on the real
    MNIST PNG tree: ``build_cnn_hypermodel(preset="dense_head",
    padding="valid")`` (Conv32-Pool-Conv64-Pool, tuned dense units 64-512,
    dropout 0.1-0.5, learning rate 1e-4..1e-2 log, Adam/RMSprop), batch 128,
    10 trials of at most 30 epochs (``--quick``: 200 training and 200 test
    images per class and 6 epochs).
``search_matters``
    A task where the search matters: the ``default`` preset's whole space
    (1-3 conv blocks at 14x14, filters, kernel size, batch norm, pooling, dense
    units, dropout, Adam/RMSprop/SGD, learning rate) unchanged, on MNIST
    down-sampled to 14x14 with 100 training images per class, batch 32 and
    3 epochs per trial: many configurations barely learn in that budget, so a
    plain random search's best trial beats its median trial by far (the JSON
    records the gap as ``kerastuner_random_trial_gap``).

Each task's target is the median final test accuracy of ``kerastuner_random``
over the seeds.

Variants (the same hypermodel, space, data, epochs per trial, early stopping
and number of trials)
-----------------------------------------------------------------------
``kerastuner_random``, ``kerastuner_hyperband``, ``kerastuner_bayesian``:
plain ``keras_tuner``. ``tunekit_random``: ``tunekit.random_search`` with its
defaults (a first trial at the space's defaults); ``tunekit_random_no_defaults``:
the same with ``initial_trials=None``; ``tunekit_optuna_asha``:
``tunekit.optuna_search`` (TPE) with ``pruning="asha"``;
``tunekit_optuna_asha_2workers``: the same search run by two processes sharing
one study (SQLite in the project folder, no chief), each limited to half the
CPU threads. Hyperband has no ``max_trials``: it gets ``max_epochs`` = the
epochs per trial, ``factor=3``, as many iterations as it takes to reach the
trial count, and its oracle is capped at that count.

Every run is a fresh process; the data are decoded once by the parent (off
the clock) into arrays every variant reads, so that the variants differ only
in the search (``benchmarks/loaders.py`` measures the loaders). The clock
starts before the tuner is created. Round r runs every variant once with
seed r, in an order rotated per round.

Prints one JSON object (``tasks.<task>.variants.<variant>``: see
``docs/benchmarks.md``) and writes ``time_to_accuracy_<task>.png`` and the
per-run traces ``time_to_accuracy_runs.json`` into ``--out``.

Usage::

    python benchmarks/time_to_accuracy.py --quick --out /tmp/tta   # 2-core CPU
    python benchmarks/time_to_accuracy.py --smoke --out /tmp/tta   # the machinery
    python benchmarks/time_to_accuracy.py --tasks search_matters \\
        --variants kerastuner_random,tunekit_optuna_asha --quick
    KERAS_BACKEND=jax python benchmarks/time_to_accuracy.py --data /path/mnist_png
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "datasets" / "mnist_png.tar.gz"
SEED = 1337

TASKS = ("seed", "search_matters")
VARIANTS = (
    "kerastuner_random",
    "kerastuner_hyperband",
    "kerastuner_bayesian",
    "tunekit_random",
    "tunekit_random_no_defaults",
    "tunekit_optuna_asha",
    "tunekit_optuna_asha_2workers",
)
#: The variant whose median final test accuracy is each task's target.
TARGET_VARIANT = "kerastuner_random"
#: Processes per variant (the others run one).
PROCESSES = {"tunekit_optuna_asha_2workers": 2}

_SEED_TASK = {
    "preset": "dense_head",
    "padding": "valid",
    "image_size": 28,
    "batch_size": 128,
    "trials": 10,
}
_SEARCH_TASK = {
    "preset": "default",
    "padding": "same",
    "batch_size": 32,
    "epochs": 3,
}
#: Per mode, per task: data (images per class; None = all) and search budget.
CONFIGS = {
    "full": {
        "seed": {**_SEED_TASK, "train_per_class": None, "test_per_class": None,
                 "epochs": 30},
        "search_matters": {**_SEARCH_TASK, "image_size": 28, "trials": 20,
                           "train_per_class": 200, "test_per_class": None},
    },
    "quick": {
        "seed": {**_SEED_TASK, "train_per_class": 200, "test_per_class": 200,
                 "epochs": 6},
        "search_matters": {**_SEARCH_TASK, "image_size": 14, "trials": 12,
                           "train_per_class": 100, "test_per_class": 100},
    },
    "smoke": {
        "seed": {**_SEED_TASK, "train_per_class": 10, "test_per_class": 5,
                 "epochs": 1, "trials": 2},
        "search_matters": {**_SEARCH_TASK, "image_size": 14, "trials": 2,
                           "epochs": 1, "train_per_class": 10,
                           "test_per_class": 5},
    },
}  # fmt: skip


# --------------------------------------------------------------------------
# aggregation (pure: per-process trial rows in, the JSON's figures out)
# --------------------------------------------------------------------------


def merge_processes(results: list[dict]) -> dict:
    """One run from the results of its processes (one, or several workers).

    Every process reports ``start`` and ``end`` (seconds on a clock shared by
    the machine's processes) and ``rows``: its trials with ``started``,
    ``ended``, ``val_accuracy`` and, for the trials that were its own best so
    far, ``test_accuracy``. The run spans the first start to the last end;
    its trials are all processes' trials in finishing order, their times
    relative to the run's start.
    """
    start = min(r["start"] for r in results)
    end = max(r["end"] for r in results)
    rows = []
    for index, result in enumerate(results):
        for row in result["rows"]:
            rows.append(
                {
                    **row,
                    "process": index,
                    "started": row["started"] - start,
                    "ended": row["ended"] - start,
                }
            )
    rows.sort(key=lambda row: row["ended"])
    return {"wall_s": end - start, "processes": len(results), "rows": rows}


def best_so_far(rows: list[dict]) -> list[tuple[float, float | None]]:
    """``(seconds, test accuracy of the best-by-validation model so far)``.

    ``rows`` in finishing order. A trial replaces the best so far when its
    validation accuracy is strictly higher. A trial that was the best of
    all processes so far was also the best of its own process so far, so
    its test accuracy is known (each process evaluates its own best-so-far
    trials).
    """
    trace, best_val, best_test = [], None, None
    for row in rows:
        val = row.get("val_accuracy")
        if val is not None and (best_val is None or val > best_val):
            best_val, best_test = val, row.get("test_accuracy")
        trace.append((row["ended"], best_test))
    return trace


def time_to_target(trace: list[tuple[float, float | None]], target) -> float | None:
    """The first time the best-so-far test accuracy is >= ``target`` (or None)."""
    if target is None:
        return None
    for seconds, accuracy in trace:
        if accuracy is not None and accuracy >= target - 1e-9:
            return seconds
    return None


def final_test_accuracy(trace: list[tuple[float, float | None]]) -> float | None:
    """The test accuracy of the run's final best-by-validation model."""
    return trace[-1][1] if trace else None


def busy_fraction(run: dict) -> float | None:
    """Time inside trials over wall time x processes."""
    capacity = run["wall_s"] * run["processes"]
    if capacity <= 0:
        return None
    return sum(r["ended"] - r["started"] for r in run["rows"]) / capacity


def median_time(times: list[float | None]) -> float | None:
    """Median over seeds counting a miss (None) as +inf; None if that is a miss."""
    if not times:
        return None
    value = statistics.median(math.inf if t is None else t for t in times)
    return None if math.isinf(value) else value


def median_of(values: list) -> float | None:
    """The median of the values that are not None (None if there are none)."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def trial_gap(rows: list[dict]) -> float | None:
    """Best minus median validation accuracy of a run's scored trials."""
    scores = [r["val_accuracy"] for r in rows if r.get("val_accuracy") is not None]
    return max(scores) - statistics.median(scores) if scores else None


def _round(value, digits: int = 4):
    return None if value is None else round(value, digits)


def summarize_task(runs: dict[str, list[dict]]) -> dict:
    """The JSON of one task from its merged runs (per variant, one per seed).

    The target is the median final test accuracy of ``kerastuner_random``
    (None, and every time_to_target None, when it was not run).
    """
    traces = {v: [best_so_far(run["rows"]) for run in rs] for v, rs in runs.items()}
    target = None
    if runs.get(TARGET_VARIANT):
        target = median_of([final_test_accuracy(t) for t in traces[TARGET_VARIANT]])
    variants = {}
    for variant, variant_runs in runs.items():
        times = [time_to_target(trace, target) for trace in traces[variant]]
        tests = [final_test_accuracy(trace) for trace in traces[variant]]
        walls = [run["wall_s"] for run in variant_runs]
        busy = [busy_fraction(run) for run in variant_runs]
        variants[variant] = {
            "time_to_target_s": [_round(t, 2) for t in times],
            "median_time_to_target_s": _round(median_time(times), 2),
            "median_wall_s": _round(median_of(walls), 2),
            "median_test_accuracy": _round(median_of(tests)),
            "busy_fraction": _round(median_of(busy), 3),
            "wall_s": [_round(w, 2) for w in walls],
            "test_accuracy": [_round(t) for t in tests],
            "trials": [len(run["rows"]) for run in variant_runs],
            "processes": variant_runs[0]["processes"] if variant_runs else None,
        }
    summary = {"target_test_accuracy": _round(target), "variants": variants}
    if runs.get(TARGET_VARIANT):
        gaps = [trial_gap(run["rows"]) for run in runs[TARGET_VARIANT]]
        summary["kerastuner_random_trial_gap"] = _round(median_of(gaps))
    return summary


def rotated(variants: list[str], round_index: int) -> list[str]:
    """Round ``round_index``'s order: ``variants`` rotated by the round."""
    shift = round_index % len(variants) if variants else 0
    return variants[shift:] + variants[:shift]


# --------------------------------------------------------------------------
# data (the parent, off the clock)
# --------------------------------------------------------------------------


def _pick(files: list, per_class: int | None) -> list:
    """``per_class`` files of one class, drawn with a fixed seed (all if None)."""
    files = sorted(files)
    if per_class is None:
        return files
    random.Random(SEED).shuffle(files)
    return files[:per_class]


def _most(configs: list[dict], key: str) -> int | None:
    values = [c[key] for c in configs]
    return None if None in values else max(values)


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


def prepare_folders(data: Path, workdir: Path, configs: list[dict]):
    """The training and testing folders (a subset big enough for ``configs``)."""
    if data.is_dir():
        return data / "training", data / "testing"
    needed = {k: _most(configs, k) for k in ("train_per_class", "test_per_class")}
    return _from_tarball(data, workdir, needed)


def _decode(folder: Path, per_class: int | None, size: int):
    """Images (N, size, size, 1) uint8 and int labels of ``per_class`` per class."""
    import numpy as np
    from PIL import Image

    images, labels = [], []
    classes = sorted(p for p in folder.iterdir() if p.is_dir())
    for label, class_dir in enumerate(classes):
        for file in _pick(list(class_dir.iterdir()), per_class):
            with Image.open(file) as image:
                image = image.convert("L")
                if image.size != (size, size):
                    image = image.resize((size, size), Image.BILINEAR)
                images.append(np.asarray(image, dtype="uint8"))
            labels.append(label)
    return np.stack(images)[..., None], np.asarray(labels, dtype="int32")


def prepare_arrays(train_dir: Path, test_dir: Path, config: dict, path: Path):
    """Write the task's train/validation (80/20, seeded) and test arrays to ``path``."""
    import numpy as np

    size = config["image_size"]
    x, y = _decode(train_dir, config["train_per_class"], size)
    order = np.random.default_rng(SEED).permutation(len(x))
    cut = round(0.8 * len(x))
    x_test, y_test = _decode(test_dir, config["test_per_class"], size)
    np.savez(
        path,
        x_train=x[order[:cut]],
        y_train=y[order[:cut]],
        x_val=x[order[cut:]],
        y_val=y[order[cut:]],
        x_test=x_test,
        y_test=y_test,
    )
    return {"train": cut, "validation": len(x) - cut, "test": len(x_test)}


# --------------------------------------------------------------------------
# one process of one run (a child)
# --------------------------------------------------------------------------


def _limit_threads(threads: int | None) -> None:
    if threads is None:
        return
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


def _timed(tuner_class):
    """``tuner_class`` that stamps each trial's start, end and epochs."""

    class Timed(tuner_class):
        def on_trial_begin(self, trial):
            self.stamps = getattr(self, "stamps", {})
            self.stamps[trial.trial_id] = {"started": time.perf_counter(), "epochs": 0}
            super().on_trial_begin(trial)

        def on_epoch_end(self, trial, model, epoch, logs=None):
            super().on_epoch_end(trial, model, epoch, logs=logs)
            stamp = self.stamps[trial.trial_id]
            stamp["epochs"] += 1
            value = (logs or {}).get("val_accuracy")
            if value is not None:
                stamp["best"] = max(stamp.get("best", -1.0), float(value))

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            self.stamps[trial.trial_id]["ended"] = time.perf_counter()

    return Timed


def _plain_kerastuner():
    sys.path.insert(0, str(HERE))
    from _random_search import plain_kerastuner

    return plain_kerastuner()


def _hyperband_iterations(oracle_class, trials: int, epochs: int) -> tuple[int, int]:
    """Hyperband iterations that reach ``trials``, and its trials per iteration."""
    oracle = oracle_class(objective="val_accuracy", max_epochs=epochs, factor=3)
    per_iteration = sum(
        oracle._get_size(bracket, round_)
        for bracket in range(oracle._get_num_brackets())
        for round_ in range(bracket + 1)
    )
    return max(1, math.ceil(trials / per_iteration)), per_iteration


def _make_tuner(variant: str, hypermodel, config: dict, seed: int, directory: str):
    """The variant's tuner on ``val_accuracy`` with ``config["trials"]`` trials."""
    trials = config["trials"]
    common = {"directory": directory, "project_name": variant, "seed": seed}
    if variant.startswith("kerastuner_"):
        keras_tuner = _plain_kerastuner()
        if variant == "kerastuner_hyperband":
            iterations, _ = _hyperband_iterations(
                keras_tuner.oracles.HyperbandOracle, trials, config["epochs"]
            )
            tuner = _timed(keras_tuner.Hyperband)(
                hypermodel,
                objective="val_accuracy",
                max_epochs=config["epochs"],
                factor=3,
                hyperband_iterations=iterations,
                **common,
            )
            tuner.oracle.max_trials = trials  # the same number of trials
            return tuner
        tuner_class = {
            "kerastuner_random": keras_tuner.RandomSearch,
            "kerastuner_bayesian": keras_tuner.BayesianOptimization,
        }[variant]
        return _timed(tuner_class)(
            hypermodel, objective="val_accuracy", max_trials=trials, **common
        )
    import tunekit

    if variant in ("tunekit_random", "tunekit_random_no_defaults"):
        extra = {"initial_trials": None} if variant.endswith("no_defaults") else {}
        factory = _timed(tunekit.RandomSearch)
        # tunekit.random_search's defaults (initial_trials="defaults"), on the
        # class so that the trial hooks can be added
        return factory(
            hypermodel,
            "val_accuracy",
            max_trials=trials,
            verbose=False,
            **{"initial_trials": "defaults", **extra},
            **common,
        )
    # optuna_search's defaults (TPE, initial_trials="defaults") + ASHA; the
    # two workers share the project folder's SQLite study
    return _timed(tunekit.OptunaSearch)(
        hypermodel,
        "val_accuracy",
        max_trials=trials,
        pruning="asha",
        initial_trials="defaults",
        verbose=False,
        **{**common, "project_name": "tunekit_optuna_asha"},
    )


def _hypermodel(config: dict):
    import tunekit

    size = config["image_size"]
    return tunekit.build_cnn_hypermodel(
        (size, size, 1),
        10,
        preset=config["preset"],
        padding=config["padding"],
        rescale=1 / 255,
        dtype_policy=config.get("dtype_policy"),
    )


def _test_accuracy(model, x, y) -> float:
    result = model.evaluate(x, y, batch_size=512, verbose=0, return_dict=True)
    key = "accuracy" if "accuracy" in result else next(k for k in result if k != "loss")
    return float(result[key])


def _rows(tuner, data) -> list[dict]:
    """This process's trials in finishing order; its best-so-far ones tested."""
    stamps = {t: s for t, s in getattr(tuner, "stamps", {}).items() if "ended" in s}
    rows, best = [], None
    for trial_id in sorted(stamps, key=lambda t: stamps[t]["ended"]):
        stamp = stamps[trial_id]
        trial = tuner.oracle.trials.get(trial_id)
        score = None if trial is None else trial.score
        score = stamp.get("best") if score is None else float(score)
        row = {
            "trial": trial_id,
            "started": stamp["started"],
            "ended": stamp["ended"],
            "epochs": stamp["epochs"],
            "val_accuracy": score,
            "test_accuracy": None,
        }
        if score is not None and (best is None or score > best):
            best = score
            row["test_accuracy"] = _test_accuracy(
                tuner.load_model(trial), data["x_test"], data["y_test"]
            )
        rows.append(row)
    return rows


def run_child(variant: str, arrays: Path, workdir: Path, config: dict, seed: int):
    """Run one process of one search; its trial rows (times on perf_counter)."""
    import keras  # imports are outside the clock
    import keras_tuner  # noqa: F401
    import numpy as np

    import tunekit  # noqa: F401

    if "optuna" in variant:
        import optuna  # noqa: F401  (an import, like the others)

    _limit_threads(config.get("threads"))
    data = dict(np.load(arrays))
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    tuner = _make_tuner(variant, _hypermodel(config), config, seed, str(workdir))
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3)
    tuner.search(
        data["x_train"],
        data["y_train"],
        validation_data=(data["x_val"], data["y_val"]),
        epochs=config["epochs"],
        batch_size=config["batch_size"],
        callbacks=[stop],
        verbose=0,
    )
    end = time.perf_counter()
    return {
        "variant": variant,
        "backend": keras.backend.backend(),
        "start": start,
        "end": end,
        "rows": _rows(tuner, data),  # off the clock
    }


# --------------------------------------------------------------------------
# the parent: rounds, summary, plot
# --------------------------------------------------------------------------


def _thread_env(threads: int) -> dict[str, str]:
    """Environment that limits a worker to ``threads`` CPU threads."""
    flags = os.environ.get("XLA_FLAGS", "")
    flags += (
        f" --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={threads}"
    )
    return {
        "OMP_NUM_THREADS": str(threads),
        "TF_NUM_INTRAOP_THREADS": str(threads),
        "TF_NUM_INTEROP_THREADS": str(threads),
        "XLA_FLAGS": flags.strip(),
    }


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _spawn(variant: str, task: str, seed: int, args, arrays: Path, config: dict):
    """Run one variant once (its processes at once); the merged run."""
    workdir = Path(tempfile.mkdtemp(prefix=f"tta_{variant}_", dir=args.workdir))
    processes = PROCESSES.get(variant, 1)
    config = dict(config)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if processes > 1:
        config["threads"] = max(1, _cpus() // processes)
        env.update(_thread_env(config["threads"]))
    command = [sys.executable, __file__, "--child", variant, "--seed", str(seed)]
    command += ["--arrays", str(arrays), "--workdir", str(workdir)]
    command += ["--config", json.dumps(config)]
    children = [
        subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(processes)
    ]
    try:
        outputs = [(child, *child.communicate()) for child in children]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results = []
    for child, stdout, stderr in outputs:
        lines = [line for line in stdout.splitlines() if line.startswith("{")]
        if child.returncode != 0 or not lines:
            tail = stderr.strip().splitlines()[-8:] or ["no output"]
            raise RuntimeError(
                f"{task}/{variant} seed {seed} failed: " + " | ".join(tail)
            )
        results.append(json.loads(lines[-1]))
    run = merge_processes(results)
    run["backend"] = results[0]["backend"]
    return run


_STYLE = {
    "kerastuner_random": ("tab:gray", "-"),
    "kerastuner_hyperband": ("tab:brown", "-"),
    "kerastuner_bayesian": ("tab:olive", "-"),
    "tunekit_random": ("tab:blue", "--"),
    "tunekit_random_no_defaults": ("tab:cyan", "--"),
    "tunekit_optuna_asha": ("tab:red", "-."),
    "tunekit_optuna_asha_2workers": ("tab:purple", "-."),
}


def plot_task(runs: dict[str, list[dict]], target, path: Path, title: str) -> None:
    """Best-so-far test accuracy against time: every variant, every seed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 4.5))
    for variant, variant_runs in runs.items():
        color, line = _STYLE.get(variant, ("black", ":"))
        for index, run in enumerate(variant_runs):
            trace = [(s, a) for s, a in best_so_far(run["rows"]) if a is not None]
            if not trace:
                continue
            times = [s for s, _ in trace] + [run["wall_s"]]
            accuracy = [a for _, a in trace] + [trace[-1][1]]
            axis.step(
                times,
                accuracy,
                where="post",
                color=color,
                linestyle=line,
                alpha=0.8,
                label=variant if index == 0 else None,
            )
    if target is not None:
        axis.axhline(target, color="black", linewidth=0.8, label="target")
    axis.set_xlabel("wall time (s)")
    axis.set_ylabel("best-so-far model's test accuracy")
    axis.set_title(title)
    axis.grid(alpha=0.3)
    axis.legend(loc="best", fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _names(parser, text: str, valid: tuple[str, ...], flag: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names or any(n not in valid for n in names):
        parser.error(  # exits with code 2
            f"{flag} takes a comma-separated list of {', '.join(valid)}. "
            f"Received: {flag}={text!r}"
        )
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=DEFAULT_DATA,
        help="mnist_png.tar.gz, or a folder with training/ and testing/ class folders",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="sized for a 2-core CPU")
    mode.add_argument(
        "--smoke", action="store_true", help="tiny: tests the machinery only"
    )
    parser.add_argument("--seeds", type=int, help="rounds (seeds); default 3, smoke 1")
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--trials", type=int, help="override every task's trials")
    parser.add_argument("--epochs", type=int, help="override every task's epochs")
    parser.add_argument(
        "--dtype-policy",
        choices=("mixed_bfloat16", "mixed_float16"),
        help="mixed precision for every variant (compare with a run without it)",
    )
    parser.add_argument("--out", type=Path, default=Path("."), help="plots, traces")
    parser.add_argument("--workdir", help="scratch folder (default: a temporary one)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--arrays", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    return parser


def _machine() -> dict:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": _cpus(),
        "python": platform.python_version(),
    }


def main() -> None:
    parser = _parser()
    args = parser.parse_args()
    if args.child:
        result = run_child(
            args.child,
            args.arrays,
            Path(args.workdir),
            json.loads(args.config),
            args.seed,
        )
        print(json.dumps(result))
        return
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    tasks = _names(parser, args.tasks, TASKS, "--tasks")
    variants = _names(parser, args.variants, VARIANTS, "--variants")
    seeds = args.seeds if args.seeds is not None else (1 if args.smoke else 3)
    configs = {task: dict(CONFIGS[mode][task]) for task in tasks}
    for config in configs.values():
        for name in ("trials", "epochs", "dtype_policy"):
            if getattr(args, name) is not None:
                config[name] = getattr(args, name)
    started = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix="tta_", dir=args.workdir))
    args.workdir = str(scratch)
    runs = {task: {v: [] for v in variants} for task in tasks}
    try:
        train_dir, test_dir = prepare_folders(
            args.data, scratch, list(configs.values())
        )
        arrays = {}
        for task in tasks:
            arrays[task] = scratch / f"{task}.npz"
            sizes = prepare_arrays(train_dir, test_dir, configs[task], arrays[task])
            configs[task]["images"] = sizes
        for seed in range(seeds):
            for task in tasks:
                for variant in rotated(variants, seed):
                    run = _spawn(variant, task, seed, args, arrays[task], configs[task])
                    runs[task][variant].append(run)
                    print(
                        f"seed {seed} {task} {variant}: {run['wall_s']:.1f} s",
                        file=sys.stderr,
                    )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    backend = next(r["backend"] for t in runs.values() for rs in t.values() for r in rs)
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {}
    for task in tasks:
        summary[task] = summarize_task(runs[task])
        plot = args.out / f"time_to_accuracy_{task}.png"
        plot_task(
            runs[task],
            summary[task]["target_test_accuracy"],
            plot,
            f"{task}, {mode} ({backend}, {seeds} seed(s))",
        )
        summary[task]["plot"] = str(plot)
    (args.out / "time_to_accuracy_runs.json").write_text(json.dumps(runs))
    import keras
    import keras_tuner

    print(
        json.dumps(
            {
                "benchmark": "time_to_accuracy",
                "command": " ".join(["python", *sys.argv]),
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "machine": _machine(),
                "backend": backend,
                "versions": {
                    "keras": keras.__version__,
                    "keras_tuner": keras_tuner.__version__,
                },
                "config": {
                    "mode": mode,
                    "seeds": seeds,
                    "target_variant": TARGET_VARIANT,
                    "early_stopping": "EarlyStopping(monitor='val_loss', patience=3)",
                    "tasks": configs,
                },
                "tasks": summary,
                "total_s": round(time.perf_counter() - started, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
