"""``--time-budget`` and ``--target``: end a search early, cleanly.

:class:`SearchBudget` is a stop condition of tunekit's oracles
(:mod:`tunekit.tuners._oracles`), handed to the tuner at construction
(``stop_condition=``) and asked each time KerasTuner asks the oracle for the
next trial. Once the time is spent or the best score reaches the target, the
oracle answers with a ``STOPPED`` trial, KerasTuner's own signal for "the
search is over": the search loop ends normally, the trial in progress has
finished and been saved, and nothing is killed. The project on disk is a
normal, unfinished project: running the same command again (without
``--overwrite``) resumes it where it stopped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["SearchBudget", "check_target", "minutes"]


def minutes(text: str) -> float:
    """``argparse`` type for ``--time-budget``: a number of minutes > 0.

    Examples
    --------
    >>> minutes("1.5")
    1.5
    >>> minutes("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a number of minutes > 0, got 0.0
    """
    import argparse

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a number of minutes, got {text!r}"
        ) from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(
            f"expected a number of minutes > 0, got {value}"
        )
    return value


def check_target(target: float | None, objective: str = "val_accuracy") -> None:
    """Refuse a ``--target`` the objective can never reach (or always reaches).

    An accuracy-like objective lies in [0, 1], an error or a named loss is
    ``>= 0``; a value outside the objective's range would make the search
    stop after its first trial or never stop early.

    Raises
    ------
    InvalidParameterError
        Naming ``--target``, the objective and its range.

    Examples
    --------
    >>> check_target(0.9)
    >>> check_target(90)
    Traceback (most recent call last):
    ...
    tunekit._errors.InvalidParameterError: --target must be within [0, 1] ...
    """
    if target is None:
        return
    import math

    from tunekit._errors import InvalidParameterError
    from tunekit.tuners._objective import metric_bounds

    bounds = metric_bounds(objective) or (-math.inf, math.inf)
    if math.isnan(target) or not bounds[0] <= target <= bounds[1]:
        low, high = bounds
        hint = ""
        if high == math.inf:
            allowed = f">= {low:g}"
        elif low == -math.inf:
            allowed = f"<= {high:g}"
        else:
            allowed = f"within [{low:g}, {high:g}]"
        if (low, high) == (0.0, 1.0):
            hint = " (a fraction, e.g. 0.9 for 90%)"
        raise InvalidParameterError(
            f"--target must be {allowed} for the objective {objective}{hint}: "
            "a search stops early once its best score reaches the target. "
            f"Received: --target={target:g}"
        )


@dataclass
class SearchBudget:
    """Stop a search once ``seconds`` have passed or the best score hits ``target``.

    Parameters
    ----------
    seconds : float or None
        Wall-clock budget, counted from the budget's creation. A trial that is
        running when it runs out is finished, not cut, and every run trains
        at least one trial (so a resumed search always makes progress).
    target : float or None
        Stop as soon as the best completed trial's score is at least
        ``target`` (at most, for an objective to minimise).

    Examples
    --------
    >>> budget = SearchBudget(seconds=None, target=0.9)
    >>> budget.reason_to_stop(best=0.95, direction="max")
    'the best val_accuracy 0.9500 reached --target 0.9'
    >>> budget.reason_to_stop(best=0.5, direction="max") is None
    True
    >>> budget = SearchBudget(seconds=0.0)
    >>> budget.reason_to_stop(best=None, direction="max") is None  # 1 trial first
    True
    >>> budget.trials_started = 1
    >>> budget.reason_to_stop(best=None, direction="max")[:19]
    '--time-budget 0 min'

    """

    seconds: float | None = None
    target: float | None = None
    objective: str = "val_accuracy"
    stopped_because: str | None = field(default=None, init=False)
    trials_started: int = field(default=0, init=False)
    _start: float = field(default_factory=time.monotonic, init=False)

    @property
    def active(self) -> bool:
        """Whether either limit is set."""
        return self.seconds is not None or self.target is not None

    def reason_to_stop(self, *, best: float | None, direction: str) -> str | None:
        """Why the search should stop now, or ``None`` to go on."""
        if self.target is not None and best is not None:
            reached = best >= self.target if direction == "max" else best <= self.target
            if reached:
                return (
                    f"the best {self.objective} {best:.4f} reached "
                    f"--target {self.target:g}"
                )
        if self.seconds is not None and self.trials_started:
            elapsed = time.monotonic() - self._start
            if elapsed >= self.seconds:
                return (
                    f"--time-budget {self.seconds / 60:g} min spent "
                    f"({elapsed / 60:.1f} min)"
                )
        return None

    def trial_started(self) -> None:
        """The oracle handed out a new trial."""
        self.trials_started += 1

    def search_stopped(self, reason: str) -> None:
        """The oracle ended the search for ``reason``."""
        self.stopped_because = reason
