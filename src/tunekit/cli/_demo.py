"""``tunekit demo``: a real hyperparameter search on scikit-learn's digits.

The demo tunes :func:`tunekit.build_cnn_hypermodel` with KerasTuner on the
8x8 digits images bundled with scikit-learn (nothing is downloaded). It
prints the search plan, one line per trial, a leaderboard of the best trials
and the test accuracy of the best model on images no trial has seen.

Keras, KerasTuner and scikit-learn are imported inside :func:`run` only, so
``tunekit --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any

from tunekit._atomic import write_text
from tunekit._errors import (
    CorruptProjectError,
    SearchFailedError,
    StaleProjectError,
    TunekitError,
)
from tunekit.cli._args import (
    PRESETS,
    add_tuner_argument,
    factor,
    make_tuner,
    non_negative_int,
    positive_int,
    report_error,
)
from tunekit.tuners._progress import display_values, format_value
from tunekit.tuners._schedule import hyperband_schedule

__all__ = ["add_arguments", "run"]

DEFAULT_DIRECTORY = os.path.join("tunekit_runs", "demo")
FINGERPRINT_FILE = "tunekit_demo.json"
OBJECTIVE = "val_accuracy"


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``tunekit demo`` options to ``parser``."""
    parser.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    parser.epilog = (
        "Results are kept in DIRECTORY/PROJECT_NAME. Running the same command "
        "again resumes that project; a different configuration is refused "
        "unless you pass --overwrite (which deletes the old project) or pick "
        "another --project-name."
    )
    search = parser.add_argument_group("search")
    add_tuner_argument(search)
    search.add_argument(
        "--max-epochs",
        type=positive_int,
        default=10,
        help="epochs of the longest training (Hyperband) or of every trial "
        "(bayesian, random)",
    )
    search.add_argument(
        "--max-trials",
        type=positive_int,
        default=None,
        help="number of trials (bayesian, random: default 10); for Hyperband an "
        "optional cap on its schedule",
    )
    search.add_argument(
        "--factor",
        type=factor,
        default=3,
        help="Hyperband reduction factor",
    )
    search.add_argument(
        "--preset",
        choices=PRESETS,
        default="default",
        help="search space of build_cnn_hypermodel",
    )
    search.add_argument(
        "--batch-size", type=positive_int, default=32, help="training batch size"
    )
    search.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="seed of the data split, the tuner and the weights",
    )
    project = parser.add_argument_group("project")
    project.add_argument(
        "--directory",
        default=DEFAULT_DIRECTORY,
        help="folder that holds the tuner projects",
    )
    project.add_argument(
        "--project-name",
        default=None,
        help="project folder inside --directory (default: digits_<tuner>_<preset>)",
    )
    project.add_argument(
        "--overwrite",
        action="store_true",
        help="delete an existing project of the same name and start afresh",
    )
    output = parser.add_argument_group("output")
    output.add_argument(
        "--top", type=positive_int, default=5, help="trials shown in the leaderboard"
    )
    verbosity = output.add_mutually_exclusive_group()
    verbosity.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        help="print only the leaderboard and the test accuracy",
    )
    verbosity.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="also show KerasTuner's and Keras' own progress output",
    )


def run(args: argparse.Namespace) -> int:
    """Run the demo described by ``args``; return the process exit code."""
    try:
        return _Demo(args).run()
    except TunekitError as exc:
        return report_error("demo", exc)


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _load_digits(seed: int) -> dict[str, Any]:
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    x = data.images.astype("float32")[..., None]  # 0..16, rescaled in the model
    y = data.target.astype("int64")
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=seed
    )
    x_train, x_val, y_train, y_val = train_test_split(
        x_rest, y_rest, test_size=0.25, stratify=y_rest, random_state=seed
    )
    return {
        "train": (x_train, y_train),
        "val": (x_val, y_val),
        "test": (x_test, y_test),
        "classes": int(np.unique(y).size),
        "total": len(y),
    }


def _make_tuner(args: argparse.Namespace, hypermodel: Any) -> Any:
    """Create the tuner for ``args`` with tunekit's factories (the one place).

    A Hyperband demo with ``--max-trials`` is capped by its oracle
    (``trial_cap=``), which the project's fingerprint records.
    """
    capped = args.tuner == "hyperband" and args.max_trials is not None
    cap = {"trial_cap": args.max_trials} if capped else {}
    return make_tuner(
        args.tuner,
        hypermodel,
        OBJECTIVE,
        max_epochs=args.max_epochs,
        factor=args.factor,
        max_trials=args.max_trials,
        num_initial_points=min(3, args.max_trials or 3),
        directory=args.directory,
        project_name=args.project_name,
        overwrite=args.overwrite,
        seed=args.seed,
        verbose=args.verbose,
        **cap,
    )


def _format_value(value: Any) -> str:
    return format_value(value, 3)


def _format_seconds(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes}:{seconds:02d}"


def _fingerprint(args: argparse.Namespace) -> dict[str, Any]:
    keys = ["tuner", "preset", "max_epochs", "max_trials", "batch_size", "seed"]
    if args.tuner == "hyperband":
        keys.append("factor")
    return {key: getattr(args, key) for key in keys}


def _check_project(args: argparse.Namespace, project_dir: Path) -> str:
    """Return "new", "overwrite" or "resume"; refuse an incompatible project."""
    if not project_dir.exists():
        return "new"
    if args.overwrite:
        return "overwrite"
    fix = (
        " Pass --overwrite to delete it and start again, or choose another "
        "--project-name or --directory."
    )
    path = project_dir / FINGERPRINT_FILE
    try:
        saved = json.loads(path.read_text())
    except ValueError:  # truncated by a kill, for instance
        raise CorruptProjectError(
            f"The demo's settings file {str(path)!r} is truncated or not valid "
            f"JSON, so the project cannot be resumed; nothing was deleted.{fix}"
        ) from None
    except OSError:
        raise StaleProjectError(
            f"The folder {str(project_dir)!r} exists but was not written by "
            f"`tunekit demo`, so it cannot be resumed.{fix}"
        ) from None
    wanted = _fingerprint(args)
    changed = [
        f"{key}={saved.get(key)!r} (now {value!r})"
        for key, value in wanted.items()
        if saved.get(key) != value
    ]
    if changed:
        raise StaleProjectError(
            f"The existing project {str(project_dir)!r} was run with "
            f"{', '.join(changed)}; KerasTuner would silently reuse its old "
            f"settings and results.{fix}"
        )
    return "resume"


def _resume_status(tuner: Any) -> str:
    """How far an existing project got; an interrupted trial is not counted."""
    trials = tuner.oracle.trials.values()
    finished = sum(t.status in ("COMPLETED", "FAILED", "INVALID") for t in trials)
    unfinished = len(trials) - finished
    rerun = f", {unfinished} interrupted will run again" if unfinished else ""
    return f"resuming: {finished} trials already run{rerun}; --overwrite starts afresh"


def _unused(name: str, values: dict[str, Any]) -> bool:
    """True for tuner bookkeeping and for filters of blocks the model lacks."""
    if name.startswith("tuner/"):
        return True
    if name.startswith("filters_") and "conv_blocks" in values:
        return int(name.split("_")[1]) > values["conv_blocks"]
    return False


@contextlib.contextmanager
def _silenced(enabled: bool):
    """Swallow KerasTuner's own prints (e.g. 'Reloading Tuner') when enabled."""
    if not enabled:
        yield
        return
    with contextlib.redirect_stdout(io.StringIO()):
        yield


# --------------------------------------------------------------------------
# The demo
# --------------------------------------------------------------------------


class _Demo:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        if args.max_trials is None and args.tuner != "hyperband":
            args.max_trials = 10
        if args.project_name is None:
            args.project_name = f"digits_{args.tuner}_{args.preset}"
        self.project_dir = Path(args.directory) / args.project_name
        self.started = time.perf_counter()
        self.notes: list[str] = []

    def say(self, text: str = "") -> None:
        if not self.args.quiet:
            print(text, flush=True)

    def run(self) -> int:
        args = self.args
        state = _check_project(args, self.project_dir)  # before any heavy import
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        import keras

        from tunekit.hypermodels._cnn import build_cnn_hypermodel

        keras.utils.set_random_seed(args.seed)
        data = _load_digits(args.seed)
        hypermodel = build_cnn_hypermodel(
            (8, 8, 1), data["classes"], preset=args.preset, rescale=1 / 16
        )
        with (
            _silenced(not args.verbose),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always", UserWarning)
            tuner = _make_tuner(args, hypermodel)
        self.notes = [str(w.message) for w in caught if w.category is UserWarning]
        for w in caught:  # anything else is passed on untouched
            if w.category is not UserWarning:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        self.project_dir.mkdir(parents=True, exist_ok=True)
        write_text(
            self.project_dir / FINGERPRINT_FILE,
            json.dumps(_fingerprint(args), indent=2) + "\n",
        )
        self._print_plan(data, hypermodel, state, tuner)
        self._search(tuner, data)
        return self._report(tuner, data)

    # -- plan --------------------------------------------------------------

    def _print_plan(self, data: dict, hypermodel: Any, state: str, tuner: Any) -> None:
        args = self.args
        (x_train, _), (x_val, _), (x_test, _) = data["train"], data["val"], data["test"]
        self.say(
            f"tunekit demo: tuning a CNN on scikit-learn's digits "
            f"(8x8 grayscale, {data['classes']} classes)"
        )
        self.say(
            f"  data       {data['total']} images -> train {len(x_train)} / "
            f"validation {len(x_val)} / test {len(x_test)} "
            f"(stratified, seed {args.seed})"
        )
        self.say(
            f"  model      build_cnn_hypermodel((8, 8, 1), {data['classes']}, "
            f"preset={args.preset!r}, rescale=1/16)"
        )
        self.say(f"  objective  {OBJECTIVE} (higher is better)")
        if args.tuner == "hyperband":
            plan = hyperband_schedule(args.max_epochs, args.factor)
            detail = (
                f"Hyperband, max_epochs={args.max_epochs}, factor={args.factor}: "
                f"{plan.num_brackets} brackets, {plan.total_trials} trials, "
                f"{plan.total_epochs} epochs in all"
            )
            if args.max_trials:
                detail += f" (capped at {args.max_trials} trials)"
        else:
            name = "Bayesian optimization" if args.tuner == "bayesian" else "Random"
            detail = (
                f"{name} search, {args.max_trials} trials of "
                f"{args.max_epochs} epochs (batch size {args.batch_size})"
            )
        self.say(f"  tuner      {detail}")
        status = {
            "new": "new",
            "overwrite": "old project deleted (--overwrite)",
            "resume": _resume_status(tuner),
        }[state]
        self.say(f"  project    {self.project_dir} ({status})")
        for note in self.notes:
            self.say(f"  note       {note}")
        space = hypermodel.search_space
        self.say(f"  search space ({len(space)} hyperparameters):")
        width = max(len(name) for name in space)
        for name, text in space.items():
            self.say(f"    {name:<{width}}  {text}")
        self.say()

    # -- search ------------------------------------------------------------

    def _search(self, tuner: Any, data: dict) -> None:
        """Search with tunekit's one-line-per-trial display (the tuners' default).

        ``--verbose`` passes ``verbose=1`` to ``search()``, which restores
        KerasTuner's display and Keras' progress bars; ``--quiet`` turns the
        display off.
        """
        args = self.args
        tuner._tunekit.display = not args.quiet and not args.verbose
        x_train, y_train = data["train"]
        fit_kwargs: dict[str, Any] = {
            "validation_data": data["val"],
            "batch_size": args.batch_size,
        }
        if args.verbose:
            fit_kwargs["verbose"] = 1
        if args.tuner != "hyperband":  # Hyperband sets the epochs itself
            fit_kwargs["epochs"] = args.max_epochs
        tuner.search(x_train, y_train, **fit_kwargs)

    # -- report ------------------------------------------------------------

    def _report(self, tuner: Any, data: dict) -> int:
        args = self.args
        trials = [
            t
            for t in tuner.oracle.get_best_trials(len(tuner.oracle.trials))
            if t.status == "COMPLETED" and t.score is not None
        ]
        if not trials:
            raise SearchFailedError(
                f"No trial of the search in {str(self.project_dir)!r} completed, "
                "so there is no best model. Run with --verbose to see the errors."
            )
        print()
        print(
            f"Leaderboard: best {min(args.top, len(trials))} of "
            f"{len(trials)} completed trials by {OBJECTIVE}"
        )
        print(self._leaderboard(trials[: args.top]))
        best_trial = trials[0]
        with _silenced(not args.verbose), warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Skipping variable loading")
            model = tuner.load_model(best_trial)
        x_test, y_test = data["test"]
        scores = model.evaluate(
            x_test, y_test, batch_size=256, verbose=0, return_dict=True
        )
        print()
        print(
            f"Best trial {best_trial.trial_id}: {OBJECTIVE} {best_trial.score:.4f}, "
            f"test accuracy {scores['accuracy']:.4f} on {len(y_test)} held-out "
            f"images (test loss {scores['loss']:.3f})"
        )
        best_values = {
            name: value
            for name, value in display_values(best_trial.hyperparameters).items()
            if not _unused(name, best_trial.hyperparameters.values)
        }
        shown = ", ".join(f"{k}={format_value(v)}" for k, v in best_values.items())
        print(f"Best hyperparameters: {shown}")
        print(
            f"Wall time {_format_seconds(time.perf_counter() - self.started)}; "
            f"results in {self.project_dir}"
        )
        return 0

    def _leaderboard(self, trials: list[Any]) -> str:
        header = ["rank"] + [f"#{i}" for i in range(1, len(trials) + 1)]
        rows = [
            ["trial"] + [t.trial_id for t in trials],
            [OBJECTIVE] + [f"{t.score:.4f}" for t in trials],
        ]
        values = [t.hyperparameters.values for t in trials]
        if any("tuner/epochs" in v for v in values):
            rows.append(["epochs"] + [str(v.get("tuner/epochs", "")) for v in values])
        shown = [display_values(t.hyperparameters) for t in trials]
        names = list(dict.fromkeys(n for s in shown for n in s))
        for name in names:
            row = [name]
            for v, s in zip(values, shown):
                unused = _unused(name, v)
                row.append("-" if unused else _format_value(s.get(name, "-")))
            rows.append(row)
        table = [header, *rows]
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        lines = []
        for r in table:
            cells = [r[0].ljust(widths[0])]
            cells += [c.rjust(w) for c, w in zip(r[1:], widths[1:])]
            lines.append("  " + "  ".join(cells))
        return "\n".join(lines)
