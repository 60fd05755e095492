"""Run one search as N processes on this machine: KerasTuner's chief and workers,
or peers that share an Optuna study.

Usage::

    python -m tunekit.distributed --workers 2 -- python my_search.py --epochs 5
    python -m tunekit.distributed --workers 2 -- tunekit tune data/train
    python -m tunekit.distributed --workers 3 -- tunekit tune data/train --tuner optuna
    python -m tunekit.distributed --workers 3 --no-chief -- python optuna_search.py

With ``--no-chief`` (automatic for ``tunekit tune ... --tuner optuna``) the
command runs ``--workers`` times with no chief and no ``KERASTUNER_*``
variables: :class:`tunekit.OptunaSearch` processes meet in the study's
storage. The exit code is then the first non-zero one.

The command after ``--`` (the same script every process runs, as KerasTuner's
distributed mode expects) is started once as the chief and ``--workers``
times as a worker, over 127.0.0.1 on a free port (``--port`` to choose), with
``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP`` and
``KERASTUNER_ORACLE_PORT`` set. With several GPUs each worker is pinned to
its own (``CUDA_VISIBLE_DEVICES``). Every line of output is prefixed with
its process' id; the exit code is the chief's. For several machines, see
docs/distributed.md. This is tunekit's one documented module besides
``tunekit`` itself.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tunekit.distributed",
        description="Run COMMAND as a KerasTuner chief and N workers on this "
        "machine, over 127.0.0.1.",
        epilog="Example: python -m tunekit.distributed --workers 2 -- python search.py",
    )
    parser.add_argument(
        "--workers", type=int, required=True, help="number of workers (>= 1)"
    )
    parser.add_argument(
        "--port", type=int, default=None, help="the chief's port (default: free)"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="stop everything after that many seconds (exit code 124)",
    )
    parser.add_argument(
        "--gpus",
        default=None,
        help="comma-separated GPU ids to pin the workers to (default: "
        "CUDA_VISIBLE_DEVICES, else nvidia-smi -L; 'none' disables pinning)",
    )
    parser.add_argument(
        "--no-chief",
        action="store_true",
        help="run COMMAND --workers times as peers of one Optuna study "
        "(tunekit.OptunaSearch); automatic for tunekit tune --tuner optuna",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND ...")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m tunekit.distributed``; returns the chief's code."""
    from tunekit._errors import TunekitError
    from tunekit.tuners._launcher import launch, runs_optuna

    parser = _parser()
    args = parser.parse_args(argv)
    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        parser.error("give the command to run after --, e.g. -- python search.py")
    if args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    gpus = None
    if args.gpus is not None:
        gpus = [] if args.gpus == "none" else [g for g in args.gpus.split(",") if g]
    try:
        return launch(
            command,
            args.workers,
            port=args.port,
            gpus=gpus,
            timeout=args.timeout,
            chief=not (args.no_chief or runs_optuna(command)),
        )
    except (TunekitError, OSError) as error:
        print(f"tunekit.distributed: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
