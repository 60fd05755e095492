"""Pieces shared by the ``tunekit demo`` and ``tunekit tune`` commands.

Argument types for ``argparse``, the tuner and preset choices, the tuner
built from ``--tuner`` and the error-to-exit-code mapping. Imports no Keras
at module level, so ``tunekit --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tunekit._errors import SearchFailedError, TunekitError

__all__ = [
    "PRESETS",
    "TUNERS",
    "add_tuner_argument",
    "factor",
    "fraction",
    "make_tuner",
    "non_negative_int",
    "positive_int",
    "report_error",
]

TUNERS = ("hyperband", "bayesian", "random", "optuna")
#: Same as ``tunekit.hypermodels._cnn.PRESETS`` (that module imports Keras).
PRESETS = ("default", "dense_head", "two_conv")


def _int_at_least(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(
            f"expected an integer >= {minimum}, got {value}"
        )
    return value


def positive_int(text: str) -> int:
    """``argparse`` type: an integer >= 1.

    Examples
    --------
    >>> positive_int("3")
    3
    >>> positive_int("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an integer >= 1, got 0
    """
    return _int_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """``argparse`` type: an integer >= 0.

    Examples
    --------
    >>> non_negative_int("0")
    0
    """
    return _int_at_least(text, 0)


def factor(text: str) -> int:
    """``argparse`` type: a Hyperband reduction factor, an integer >= 2.

    Examples
    --------
    >>> factor("1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected an integer >= 2, got 1
    """
    value = positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"expected an integer >= 2, got {value}")
    return value


def fraction(text: str) -> float:
    """``argparse`` type: a number strictly between 0 and 1.

    Examples
    --------
    >>> fraction("0.2")
    0.2
    >>> fraction("1")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a fraction in (0, 1), got 1.0
    """
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1), got {value}")
    return value


def report_error(command: str, exc: TunekitError) -> int:
    """Print ``exc`` as ``tunekit COMMAND: error: ...``; return the exit code.

    1 when the search itself failed, 2 for bad input (as ``argparse``).

    Examples
    --------
    >>> import contextlib, io
    >>> from tunekit._errors import StaleProjectError
    >>> with contextlib.redirect_stderr(io.StringIO()) as err:
    ...     report_error("demo", StaleProjectError("stale"))
    2
    >>> err.getvalue()
    'tunekit demo: error: stale\\n'
    """
    print(f"tunekit {command}: error: {exc}", file=sys.stderr)
    return 1 if isinstance(exc, SearchFailedError) else 2


def add_tuner_argument(group: Any) -> None:
    """``--tuner``, as ``tunekit tune`` and ``tunekit demo`` both take it."""
    group.add_argument(
        "--tuner",
        choices=TUNERS,
        default="hyperband",
        help="search algorithm: KerasTuner's hyperband, bayesian or random, or "
        "optuna (TPE on an Optuna study; needs keras-tunekit[optuna])",
    )


def make_tuner(
    tuner: str,
    hypermodel: Any,
    objective: str,
    *,
    max_epochs: int,
    factor: int,
    max_trials: Any,  # checked by the factory; may be None for Hyperband
    num_initial_points: int | None = None,
    **common: Any,
) -> Any:
    """Create the ``--tuner`` tuner with tunekit's factories.

    Hyperband trains up to ``max_epochs`` and ignores ``max_trials`` and
    ``num_initial_points``; the others run ``max_trials`` trials.
    ``"optuna"`` is :func:`tunekit.optuna_search` (``common`` may then hold
    ``pruning`` and ``storage``). ``common`` (directory, project name,
    seed...) goes to every factory.

    Examples
    --------
    >>> import tempfile, keras
    >>> def build(hp):
    ...     model = keras.Sequential([keras.Input((4,)),
    ...                               keras.layers.Dense(hp.Int("units", 2, 8)),
    ...                               keras.layers.Dense(1)])
    ...     model.compile("adam", "mse")
    ...     return model
    >>> tuner = make_tuner("random", build, "val_loss", max_epochs=1, factor=3,
    ...                    max_trials=3, directory=tempfile.mkdtemp(),
    ...                    verbose=False)
    >>> type(tuner.oracle).__name__
    'RandomSearchOracle'
    """
    from tunekit.tuners._factories import (
        bayesian_optimization,
        hyperband,
        random_search,
    )

    if tuner == "optuna":
        from tunekit.tuners._optuna_search import optuna_search

        return optuna_search(hypermodel, objective, max_trials=max_trials, **common)
    if tuner == "hyperband":
        return hyperband(
            hypermodel, objective, max_epochs=max_epochs, factor=factor, **common
        )
    if tuner == "bayesian":
        return bayesian_optimization(
            hypermodel,
            objective,
            max_trials=max_trials,
            num_initial_points=num_initial_points,
            **common,
        )
    return random_search(hypermodel, objective, max_trials=max_trials, **common)
