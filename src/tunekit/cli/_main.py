"""The ``tunekit`` command line.

Each subcommand lives in its own private module that provides
``add_arguments(parser)`` and ``run(args) -> int``; this module only wires
them together, so ``tunekit --help`` stays fast (no Keras import).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from contextlib import nullcontext

__all__ = ["main"]

# subcommand -> (module, one-line help)
_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "tunekit.cli._demo",
        "run a real hyperparameter search on scikit-learn's digits images",
    ),
    "tune": (
        "tunekit.cli._tune",
        "tune a CNN on your own folder of images (one subfolder per class)",
    ),
    "report": (
        "tunekit.cli._report",
        "write one self-contained HTML page about a finished or running search",
    ),
}


def _build_parser() -> argparse.ArgumentParser:
    from tunekit import __version__
    from tunekit.cli._help import HelpFormatter

    parser = argparse.ArgumentParser(
        prog="tunekit",
        description="Hyperparameter tuning for Keras 3, KerasTuner and scikit-learn.",
    )
    parser.add_argument("--version", action="version", version=f"tunekit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in _SUBCOMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(_module=module_name)
        module = importlib.import_module(module_name)
        module.add_arguments(sub)
        sub.formatter_class = HelpFormatter  # no "(default: None)"
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tunekit`` console script."""
    # A command-line program (not the library) may quiet TensorFlow's C++ logs.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(args._module)
    from tunekit.cli._quiet import cli_warnings, json_stdout, quiet_startup

    scripted = json_stdout() if getattr(args, "json", False) else nullcontext()
    try:
        # Before anything imports TensorFlow: its C++ start-up lines are dropped.
        with quiet_startup(), scripted, cli_warnings(args.command):
            return int(module.run(args) or 0)
    except KeyboardInterrupt as interrupt:
        if not getattr(interrupt, "tunekit_reported", False):
            print(f"tunekit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
