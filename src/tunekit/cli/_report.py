"""``tunekit report PROJECT_DIR``: one self-contained HTML page about a search.

``PROJECT_DIR`` is the tuner project (``--directory``/``--project-name`` of
``tunekit tune``, or any KerasTuner ``directory/project_name``), finished,
interrupted or still running. The page (leaderboard, best-so-far by trial
and by time, each hyperparameter against the objective, flagged trials, the
Hyperband schedule) is written to ``PROJECT_DIR/report.html`` unless
``--output`` says otherwise. Nothing is imported from Keras.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from tunekit._errors import TunekitError
from tunekit.cli._args import positive_int, report_error
from tunekit.cli._quiet import result_stream
from tunekit.tuners._project_files import ORACLE_FILE, REPORT_FILE

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``tunekit report`` options to ``parser``."""
    parser.epilog = (
        "Example: tunekit report tunekit_runs/tune/train_hyperband --output report.html"
    )
    parser.add_argument(
        "project_dir",
        metavar="PROJECT_DIR",
        help="the tuner project: the folder holding oracle.json and trial_*",
    )
    parser.add_argument(
        "--output",
        "-o",
        default=None,
        help="HTML file to write (default: PROJECT_DIR/report.html)",
    )
    parser.add_argument(
        "--n-classes",
        type=positive_int,
        default=None,
        help="number of classes, to flag trials whose accuracy is 1/k "
        "(default: the number `tunekit tune` recorded in the project, else "
        "not checked)",
    )
    parser.add_argument(
        "--title", default=None, help="page title (default: the project's name)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="write {path, trials, running, best_trial, best_score, n_classes, "
        "flagged, statuses, interrupted, unreadable} as one JSON object to stdout",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``tunekit report``; return the process exit code."""
    try:
        return _run(args)
    except TunekitError as exc:
        return report_error("report", exc)


def _run(args: argparse.Namespace) -> int:
    from tunekit._errors import InvalidParameterError
    from tunekit.tuners._report_data import INTERRUPTED, report_from_project
    from tunekit.tuners._report_html import write_report

    project = args.project_dir
    if not os.path.isfile(os.path.join(project, ORACLE_FILE)) and not any(
        name.startswith("trial_") for name in _listing(project)
    ):
        raise InvalidParameterError(
            "PROJECT_DIR must be a tuner project: the folder with oracle.json "
            "and the trial_* folders (for `tunekit tune`: --directory/"
            f"--project-name). Received: PROJECT_DIR={project!r}"
        )
    if args.n_classes is not None and args.n_classes < 2:
        raise InvalidParameterError(
            f"--n-classes must be at least 2. Received: --n-classes={args.n_classes}"
        )
    data = report_from_project(project, n_classes=args.n_classes, title=args.title)
    if args.output:
        path = write_report(data, args.output, argument="--output")
    else:
        path = write_report(
            data,
            os.path.join(project, REPORT_FILE),
            argument="PROJECT_DIR",
            source=f"PROJECT_DIR={project!r}",
            way_out=(
                "The report goes into PROJECT_DIR unless --output says "
                "otherwise; for a read-only project pass --output FILE.html "
                "in a folder you can write to."
            ),
        )
    best = data.best_trial
    if args.json:
        print(
            json.dumps(
                {
                    "path": str(path),
                    "trials": len(data.trials),
                    "running": data.running,
                    "best_trial": None if best is None else best.trial_id,
                    "best_score": None if best is None else best.score,
                    "objective": list(data.objective),
                    "n_classes": data.n_classes,
                    "flagged": data.flagged,
                    "statuses": {t.trial_id: t.status for t in data.trials},
                    "interrupted": [
                        t.trial_id for t in data.trials if t.status == INTERRUPTED
                    ],
                    "unreadable": [
                        {"path": path, "error": why} for path, why in data.unreadable
                    ],
                }
            ),
            file=result_stream(),
        )
        return 0
    best_text = (
        "no finished trial yet"
        if best is None
        else f"best trial {best.trial_id}: {data.objective[0]}={best.score:.4f}"
    )
    collapsed = len(data.flagged.get("collapsed", []))
    if collapsed:
        best_text += f", {collapsed} collapsed to chance accuracy"
    print(f"report written to {path} ({len(data.trials)} trials, {best_text})")
    interrupted = [t.trial_id for t in data.trials if t.status == INTERRUPTED]
    if interrupted:
        print(
            f"not running: trial {', '.join(interrupted)} was interrupted (its "
            "search process died); resuming the search runs it again"
        )
    for unreadable, why in data.unreadable:
        print(f"could not read {unreadable}: {why}", file=sys.stderr)
    return 0


def _listing(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []
