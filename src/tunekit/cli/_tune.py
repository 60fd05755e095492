"""``tunekit tune DIR``: tune a CNN on your own folder of images.

``DIR`` holds one subfolder per class. The command checks the folders (class
subfolders, empty classes, the same classes in ``--validation-dir`` and
``--test-dir``) before importing Keras, loads the images with
:func:`tunekit.flow_from_directory` (decoded once into the on-disk cache, so
no trial after the first decodes an image), builds
:func:`tunekit.build_cnn_hypermodel` and searches with tunekit's tuner
factories. It prints the best hyperparameters, the best validation accuracy,
with ``--test-dir`` the test accuracy of the best model, and the project
folder (``tunekit report`` reads it; the number of classes is recorded there).

Keras and KerasTuner are imported inside :func:`run` only.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import time
from typing import Any

from tunekit._errors import TunekitError
from tunekit.cli._args import (
    PRESETS,
    add_tuner_argument,
    factor,
    fraction,
    make_tuner,
    non_negative_int,
    positive_int,
    report_error,
)
from tunekit.cli._budget import SearchBudget, check_target, minutes
from tunekit.cli._image_probe import MAX_SIDE, probe_images
from tunekit.cli._quiet import result_stream

__all__ = ["add_arguments", "run"]

DEFAULT_DIRECTORY = os.path.join("tunekit_runs", "tune")
DEFAULT_MAX_TRIALS = 10
OBJECTIVE = "val_accuracy"


class _ImageSizeAction(argparse.Action):
    """``--image-size auto`` or ``--image-size H W`` (two integers >= 1)."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        if list(values) == ["auto"]:
            setattr(namespace, self.dest, "auto")
            return
        if len(values) != 2:
            parser.error(
                f"argument {option_string}: expected 'auto' or two integers H W, "
                f"got {' '.join(values)!r}"
            )
        try:
            size = tuple(positive_int(value) for value in values)
        except argparse.ArgumentTypeError as error:
            parser.error(f"argument {option_string}: {error}")
        setattr(namespace, self.dest, size)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``tunekit tune`` options to ``parser``."""
    from tunekit.cli._help import HelpFormatter

    parser.formatter_class = HelpFormatter
    parser.epilog = (
        "Example: tunekit tune data/train --test-dir data/test --image-size 64 64 "
        "--tuner hyperband --max-epochs 9 --class-weight balanced"
    )
    parser.add_argument(
        "dir", metavar="DIR", help="training images, one subfolder per class"
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "--validation-dir",
        default=None,
        help="validation images (default: --validation-split of DIR, per class)",
    )
    data.add_argument(
        "--validation-split",
        type=fraction,
        default=0.2,
        help="fraction of each class of DIR used for validation (the first files "
        "in sorted order, as Keras 2) when --validation-dir is not given",
    )
    data.add_argument("--test-dir", default=None, help="test images, evaluated once")
    data.add_argument(
        "--image-size",
        nargs="+",
        action=_ImageSizeAction,
        metavar="H W|auto",
        default="auto",
        help="height and width every image is resized to; 'auto' (the default) "
        "reads the first images of each class and takes their median size, "
        f"the longer side capped to {MAX_SIDE} pixels",
    )
    data.add_argument(
        "--color-mode",
        choices=("auto", "rgb", "grayscale", "rgba"),
        default="auto",
        help="channels of the model's input; 'auto' (the default) reads the "
        "first images: grayscale when they all are, rgba when any has "
        "transparency, rgb otherwise",
    )
    data.add_argument(
        "--interpolation",
        choices=("nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"),
        default="bilinear",
        help="resampling filter used when resizing",
    )
    data.add_argument(
        "--batch-size", type=positive_int, default=32, help="training batch size"
    )
    data.add_argument(
        "--cache-dir",
        default=None,
        help="where decoded images are cached (default: $TUNEKIT_CACHE_DIR, "
        "$XDG_CACHE_HOME/tunekit or ~/.cache/tunekit)",
    )
    data.add_argument(
        "--no-cache",
        action="store_true",
        help="decode the images in every epoch instead of once",
    )
    search = parser.add_argument_group("search")
    add_tuner_argument(search)
    search.add_argument(
        "--pruning",
        choices=("asha", "hyperband", "median"),
        default=None,
        help="--tuner optuna: stop weak trials early (asha: asynchronous "
        "successive halving)",
    )
    search.add_argument(
        "--storage",
        default=None,
        help="--tuner optuna: database URL every worker shares (default: a "
        "SQLite file in the project folder)",
    )
    search.add_argument(
        "--max-epochs",
        type=positive_int,
        default=10,
        help="longest training (hyperband) or epochs of every trial (others)",
    )
    search.add_argument(
        "--max-trials",
        type=positive_int,
        default=None,
        help="number of trials of --tuner bayesian, random or optuna (default: 10); "
        "refused with hyperband, whose trials follow from --max-epochs and "
        "--factor",
    )
    search.add_argument(
        "--factor", type=factor, default=3, help="Hyperband reduction factor"
    )
    search.add_argument(
        "--preset",
        choices=PRESETS,
        default="default",
        help="search space of tunekit.build_cnn_hypermodel",
    )
    search.add_argument(
        "--class-weight",
        choices=("none", "balanced"),
        default="none",
        help="weight the loss by inverse class frequency (imbalanced folders)",
    )
    search.add_argument(
        "--dtype-policy",
        choices=("mixed_bfloat16", "mixed_float16", "float32"),
        default=None,
        help="mixed precision for every layer but the output one (recent GPUs: "
        "mixed_bfloat16; default: Keras' policy, float32)",
    )
    search.add_argument(
        "--random-start",
        action="store_true",
        help="draw the first trial at random too, as KerasTuner does (default: "
        "the first trial trains the preset's defaults, a known-good model)",
    )
    search.add_argument(
        "--seed",
        type=non_negative_int,
        default=0,
        help="seed of the data split, the tuner and the weights",
    )
    search.add_argument(
        "--time-budget",
        type=minutes,
        default=None,
        metavar="MINUTES",
        help="start no new trial after this many minutes; the trial running "
        "then finishes, the results are kept and rerunning resumes",
    )
    search.add_argument(
        "--target",
        type=float,
        default=None,
        metavar="VALUE",
        help="end the search as soon as a trial reaches this val_accuracy, "
        "a fraction in [0, 1] (results kept, resumable)",
    )
    project = parser.add_argument_group("project")
    project.add_argument(
        "--directory",
        default=DEFAULT_DIRECTORY,
        help="folder that holds the tuner projects",
    )
    project.add_argument(
        "--project-name", default=None, help="default: <DIR name>_<tuner>"
    )
    project.add_argument(
        "--overwrite", action="store_true", help="delete an existing project first"
    )
    project.add_argument(
        "--save-model",
        default=None,
        help="save the best model to this .keras file, with the class names "
        "inside (read them with tunekit.load_class_names)",
    )
    project.add_argument(
        "--refit",
        action="store_true",
        help="after the search, retrain the best hyperparameters on the training "
        "and validation images together for the best trial's epoch count; the "
        "refit model is the one tested and saved",
    )
    project.add_argument(
        "--json",
        action="store_true",
        help="write the result as one JSON object to stdout; everything else "
        "goes to stderr",
    )
    verbosity = project.add_mutually_exclusive_group()
    verbosity.add_argument(
        "--quiet",
        action="store_true",
        help="less output: no per-trial lines, only the result",
    )
    verbosity.add_argument(
        "--verbose",
        action="store_true",
        help="show KerasTuner's own display and Keras' per-epoch step bars instead "
        "of tunekit's one line per trial",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``tunekit tune``; return the process exit code."""
    try:
        return _run(args)
    except TunekitError as exc:
        return report_error("tune", exc)


def _check_options(args: argparse.Namespace) -> None:
    """Refuse values and combinations no search can honour, before any work."""
    from tunekit._errors import InvalidParameterError
    from tunekit.tuners._schedule import hyperband_schedule

    check_target(args.target, OBJECTIVE)
    _optuna_options(args)  # --pruning / --storage without --tuner optuna
    if args.tuner == "hyperband" and args.max_trials is not None:
        total = hyperband_schedule(args.max_epochs, args.factor).total_trials
        raise InvalidParameterError(
            "--max-trials applies to --tuner random, bayesian and optuna only: "
            "Hyperband's trials follow from --max-epochs and --factor (here "
            f"{total} trials, see tunekit.hyperband_schedule). Shorten a Hyperband "
            "search with a smaller --max-epochs, a larger --factor or "
            "--time-budget MINUTES, "
            "or pick --tuner random, bayesian or optuna. Received: "
            f"--max-trials={args.max_trials}, --tuner=hyperband"
        )


def _check_folders(args: argparse.Namespace) -> list[str]:
    """Check every folder before anything heavy is imported."""
    from tunekit._errors import ImageDirectoryError, LabelMismatchError
    from tunekit.data._directory import list_image_directory

    train = list_image_directory(args.dir, argname="DIR")
    names = list(train.class_names)
    if len(names) < 2:
        raise ImageDirectoryError(
            f"DIR needs at least 2 class subfolders to train a classifier, but "
            f"{args.dir!r} has {names}. Received: DIR={args.dir!r}"
        )
    for flag, folder in (("--validation-dir", args.validation_dir),
                         ("--test-dir", args.test_dir)):  # fmt: skip
        if folder is None:
            continue
        other = list(
            list_image_directory(folder, argname=flag, allow_empty_classes=True)
            .class_names
        )  # fmt: skip
        if other != names:
            only_train = sorted(set(names) - set(other))
            only_other = sorted(set(other) - set(names))
            raise LabelMismatchError(
                f"{flag} must have the same class subfolders as DIR, otherwise "
                f"label i means a different class in each (only in DIR: "
                f"{only_train}; only in {flag}: {only_other}). Received: "
                f"DIR classes={names}, {flag} classes={other}"
            )
    return names


def _check_save_model(path: str | None) -> None:
    """``--save-model``: a .keras file in a folder that exists and can be written.

    Checked before any training, so a typo does not cost the whole search.
    """
    if path is None:
        return
    from tunekit._atomic import check_writable_folder, unwritable
    from tunekit._errors import InvalidParameterError

    if os.path.isdir(path):
        raise InvalidParameterError(
            "--save-model names a folder; pass a file name such as "
            f"{os.path.join(path, 'best.keras')!r}. Received: --save-model={path!r}"
        )
    if not path.endswith(".keras"):
        raise InvalidParameterError(
            "--save-model must name a .keras file (Keras 3's format; the class "
            f"names are stored inside). Received: --save-model={path!r}"
        )
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise InvalidParameterError(
            f"--save-model goes into the folder {folder!r}, which does not exist "
            "(or is not a folder). Create it first, or pass a path in an existing "
            f"folder. Received: --save-model={path!r}"
        )
    error = check_writable_folder(folder)
    if error is not None:
        raise unwritable(
            folder,
            error,
            way_out="--save-model must go into a folder you can write to.",
            source=f"--save-model={path!r}",
        )


def _resolve_auto(args: argparse.Namespace) -> argparse.Namespace:
    """``--image-size auto`` / ``--color-mode auto`` from the first images of DIR."""
    if args.image_size != "auto" and args.color_mode != "auto":
        return args
    from tunekit.data._directory import list_image_directory

    listing = list_image_directory(args.dir, argname="DIR")
    probe = probe_images(listing.filepaths, listing.labels)
    resolved = argparse.Namespace(**vars(args))
    chosen = []
    if args.image_size == "auto":
        resolved.image_size = probe.size
        chosen.append(f"--image-size {probe.size[0]} {probe.size[1]}")
    if args.color_mode == "auto":
        resolved.color_mode = probe.color_mode
        chosen.append(f"--color-mode {probe.color_mode}")
    if not args.quiet:
        print(f"auto: {', '.join(chosen)} ({probe.describe()})")
    return resolved


def _loaders(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    # flow_from_directory on every backend. In this setting (decode cache on,
    # shuffled, no augmentation) it trains 1.2-2.4x as fast as the tf.data
    # loader on JAX and level with it on TensorFlow within the noise of a
    # loaded machine (0.70-1.10x over five runs; `benchmarks/loaders.py
    # --only train`, docs/benchmarks.md), and it needs no TensorFlow.
    from tunekit._errors import ImageDirectoryError
    from tunekit.data._generator import flow_from_directory

    cache: Any = False if args.no_cache else (args.cache_dir or True)
    common = dict(
        target_size=tuple(args.image_size),
        color_mode=args.color_mode,
        class_mode="sparse",
        batch_size=args.batch_size,
        interpolation=args.interpolation,
        cache=cache,
        verbose=not args.quiet,
    )
    if args.validation_dir:
        train = flow_from_directory(args.dir, seed=args.seed, **common)
        val = flow_from_directory(args.validation_dir, shuffle=False, **common)
    else:
        split = dict(validation_split=args.validation_split)
        train = flow_from_directory(
            args.dir, seed=args.seed, subset="training", **split, **common
        )
        try:
            val = flow_from_directory(
                args.dir, shuffle=False, subset="validation", **split, **common
            )
        except ImageDirectoryError:
            val = None
        if val is None or val.samples == 0:
            raise ImageDirectoryError(
                f"--validation-split {args.validation_split} leaves no validation "
                "image (each class keeps int(split * n) files). Add images, raise "
                "--validation-split or pass --validation-dir. Received: "
                f"--validation-split={args.validation_split}"
            )
    test = None
    if args.test_dir:
        test = flow_from_directory(args.test_dir, shuffle=False, **common)
    return train, val, test


def _make_tuner(
    args: argparse.Namespace, hypermodel: Any, budget: SearchBudget | None = None
) -> Any:
    project = args.project_name or (
        f"{os.path.basename(os.path.normpath(args.dir))}_{args.tuner}"
    )
    trials = DEFAULT_MAX_TRIALS if args.max_trials is None else args.max_trials
    return make_tuner(
        args.tuner, hypermodel, OBJECTIVE, max_epochs=args.max_epochs,
        factor=args.factor, max_trials=trials,
        directory=args.directory, project_name=project,
        overwrite=args.overwrite, seed=args.seed, verbose=not args.quiet,
        initial_trials=None if args.random_start else "defaults",
        stop_condition=budget if budget is not None and budget.active else None,
        **_optuna_options(args),
    )  # fmt: skip


def _optuna_options(args: argparse.Namespace) -> dict[str, Any]:
    """``--pruning`` and ``--storage``: only --tuner optuna takes them."""
    from tunekit._errors import InvalidParameterError

    given = {"pruning": args.pruning, "storage": args.storage}
    if args.tuner == "optuna":
        return given
    for name, value in given.items():
        if value is not None:
            raise InvalidParameterError(
                f"--{name} applies to --tuner optuna only. Pick --tuner optuna "
                f"or leave --{name} out. Received: --{name}={value}, "
                f"--tuner={args.tuner}"
            )
    return {}


def _run(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    _check_options(args)
    _check_save_model(args.save_model)
    class_names = _check_folders(args)
    args = _resolve_auto(args)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from tunekit.hypermodels._cnn import build_cnn_hypermodel

    keras.utils.set_random_seed(args.seed)
    say = (lambda *a: None) if args.quiet or args.json else print
    train, val, test = _loaders(args)
    channels = train.image_shape[-1]
    hypermodel = build_cnn_hypermodel(
        (*args.image_size, channels), len(class_names), label_mode="int",
        preset=args.preset, rescale=1 / 255, dtype_policy=args.dtype_policy,
    )  # fmt: skip
    class_weight = None
    if args.class_weight == "balanced":
        from tunekit.labels._class_weights import class_weights

        weights: Any = class_weights(train, strategy="balanced")
        class_weight = dict(weights)
        say("class weights:", {class_names[k]: round(v, 3) for k, v in
                               class_weight.items()})  # fmt: skip
    budget = SearchBudget(
        seconds=None if args.time_budget is None else args.time_budget * 60,
        target=args.target,
    )
    tuner = _make_tuner(args, hypermodel, budget)
    # No `verbose` in search(): tunekit's one-line-per-trial display. `--verbose`
    # restores KerasTuner's display and Keras' step bars; quiet runs show neither.
    fit_kwargs: dict[str, Any] = {}
    if args.verbose:
        fit_kwargs["verbose"] = 1
    elif args.quiet or args.json:
        fit_kwargs["verbose"] = 0
    if args.tuner != "hyperband":
        fit_kwargs["epochs"] = args.max_epochs
    if class_weight is not None:
        fit_kwargs["class_weight"] = class_weight
    tuner.search(train, validation_data=val, **fit_kwargs)
    if budget.stopped_because:
        say(
            f"search ended early: {budget.stopped_because}; the results are kept "
            "and the same command (without --overwrite) resumes it"
        )
    if _is_distributed_worker():
        return _worker_done(args, start)
    best_trial = tuner.oracle.get_best_trials(1)[0]
    best_model = tuner.get_best_models(1)[0]
    refit: dict[str, int] = {}
    if args.refit:
        say("refitting the best hyperparameters on training + validation images")
        best_model = tuner.refit_best(
            train, validation_data=val, verbose=1 if args.verbose else 0
        )
        refit = {
            "refit_images": int(train.samples) + int(val.samples),
            "refit_epochs": len(best_model.history.history["loss"]),
        }
    result: dict[str, Any] = {
        "project_dir": str(tuner.project_dir),
        "classes": class_names,
        "train_images": int(train.samples),
        "validation_images": int(val.samples),
        "trials": len(tuner.oracle.trials),
        "best_trial": best_trial.trial_id,
        "best_val_accuracy": float(best_trial.score),
        "best_hyperparameters": _public(best_trial.hyperparameters.values),
        **refit,
    }
    if test is not None:
        _, accuracy = best_model.evaluate(test, verbose=0)[:2]
        result["test_images"] = int(test.samples)
        result["test_accuracy"] = float(accuracy)
    if args.save_model:
        from tunekit.tuners._refit import save_model_file

        save_model_file(
            best_model, args.save_model, class_names, argument="--save-model"
        )
        result["saved_model"] = args.save_model
    result["stopped_early"] = budget.stopped_because
    result["seconds"] = round(time.perf_counter() - start, 1)
    _print_result(result, args)
    return 0


def _is_distributed_worker() -> bool:
    from tunekit.tuners._distributed import distributed_role

    return distributed_role() == "worker"


def _worker_done(args: argparse.Namespace, start: float) -> int:
    """A distributed worker's end: the chief holds the results and reports them.

    The chief stops serving once the search is over, so a worker must not ask
    it for the best trial or model (the call would wait for the chief).
    """
    tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "")
    seconds = round(time.perf_counter() - start, 1)
    if args.json:
        result = {"role": "worker", "tuner_id": tuner_id, "seconds": seconds}
        print(json.dumps(result, indent=2), file=result_stream())
    elif not args.quiet:
        print(
            f"\nworker {tuner_id!r} done after {seconds} s; the chief reports the "
            "best trial (and evaluates, refits and saves it)"
        )
    return 0


def _public(values: dict[str, Any]) -> dict[str, Any]:
    """Hyperparameters without KerasTuner's bookkeeping (``tuner/epochs``...)."""
    return {k: v for k, v in values.items() if not k.startswith("tuner/")}


def _print_result(result: dict[str, Any], args: argparse.Namespace) -> None:
    if args.json:
        print(json.dumps(result, indent=2), file=result_stream())
        return
    print(f"\nbest trial {result['best_trial']} of {result['trials']}: "
          f"val_accuracy={result['best_val_accuracy']:.4f}")  # fmt: skip
    from tunekit.tuners._progress import format_value

    for name, value in result["best_hyperparameters"].items():
        print(f"  {name} = {format_value(value)}")  # --json keeps exact values
    if "refit_epochs" in result:
        print(f"refit on {result['refit_images']} images for "
              f"{result['refit_epochs']} epoch(s)")  # fmt: skip
    if "test_accuracy" in result:
        print(f"test accuracy of the best model on {result['test_images']} images: "
              f"{result['test_accuracy']:.4f}")  # fmt: skip
    if "saved_model" in result:
        print(f"best model saved to {result['saved_model']}")
    project = result["project_dir"]
    print(f"project: {project} (see it with: tunekit report {shlex.quote(project)})")
