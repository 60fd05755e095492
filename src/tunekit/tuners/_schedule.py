"""Hyperband's schedule, computed exactly as KerasTuner 1.4 runs it.

KerasTuner's ``HyperbandOracle`` (``keras_tuner/tuners/hyperband.py``) hard-codes
``min_epochs = 1`` and uses these formulas:

* number of brackets: divide ``max_epochs`` by ``factor`` while it stays >= 1;
* bracket ``b`` has ``b + 1`` rounds, run from the most aggressive bracket down
  to bracket 0, once per Hyperband iteration;
* round ``r`` of bracket ``b`` runs
  ``ceil(ceil(1 + log_f(max_epochs)) / (b + 1) * f ** (b - r))`` trials, each
  trained up to ``ceil(max_epochs / f ** (b - r))`` epochs; rounds after the
  first continue the best trials of the previous round from
  ``initial_epoch = epochs of round r - 1``.

:func:`hyperband_schedule` reproduces that arithmetic without importing Keras.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any

from tunekit._constraints import (
    POSITIVE_INT,
    Interval,
    Rule,
    declare_constraints,
    validate_params,
)

__all__ = ["HyperbandRound", "HyperbandSchedule", "hyperband_schedule"]


@dataclass(frozen=True)
class HyperbandRound:
    """One round of one Hyperband bracket.

    Attributes
    ----------
    iteration : int
        Hyperband iteration (0-based).
    bracket : int
        Bracket number as KerasTuner numbers it (the highest is run first).
    round : int
        Round number inside the bracket (0 = fresh random configurations).
    trials : int
        Number of trials the round runs.
    initial_epoch : int
        Epoch each trial of the round starts from (0 in the first round).
    epochs : int
        Epoch each trial of the round trains up to.
    """

    iteration: int
    bracket: int
    round: int
    trials: int
    initial_epoch: int
    epochs: int

    @property
    def epochs_per_trial(self) -> int:
        """Epochs one trial of this round really trains (``epochs - initial_epoch``)."""
        return self.epochs - self.initial_epoch

    @property
    def total_epochs(self) -> int:
        """Epochs trained by the whole round."""
        return self.trials * self.epochs_per_trial


@dataclass(frozen=True)
class HyperbandSchedule:
    """The trials and epochs a KerasTuner ``Hyperband`` search will run.

    Attributes
    ----------
    max_epochs, factor, hyperband_iterations : int
        The settings the schedule was computed for.
    rounds : list of HyperbandRound
        Every round in the order KerasTuner runs them.

    Examples
    --------
    >>> from tunekit import hyperband_schedule
    >>> schedule = hyperband_schedule(10, factor=3)
    >>> schedule.num_brackets, schedule.total_trials, schedule.total_epochs
    (3, 30, 120)
    >>> schedule.new_configurations, schedule.first_round_epochs
    (22, 2)
    """

    max_epochs: int
    factor: int
    hyperband_iterations: int
    rounds: list[HyperbandRound] = field(default_factory=list)

    @property
    def num_brackets(self) -> int:
        """Brackets per Hyperband iteration."""
        return len({r.bracket for r in self.rounds})

    @property
    def total_trials(self) -> int:
        """Trials KerasTuner creates, continuation trials included."""
        return sum(r.trials for r in self.rounds)

    @property
    def new_configurations(self) -> int:
        """Trials that start a fresh random configuration (first rounds only)."""
        return sum(r.trials for r in self.rounds if r.round == 0)

    @property
    def total_epochs(self) -> int:
        """Epochs trained over the whole search (``epochs - initial_epoch`` summed)."""
        return sum(r.total_epochs for r in self.rounds)

    @property
    def first_round_epochs(self) -> int:
        """Epochs of the shortest (first) round of the most aggressive bracket."""
        return self.rounds[0].epochs

    def __str__(self) -> str:
        header = (
            f"Hyperband schedule: max_epochs={self.max_epochs}, "
            f"factor={self.factor}, hyperband_iterations="
            f"{self.hyperband_iterations}"
        )
        lines = [
            header,
            f"{'iter':>4} {'bracket':>7} {'round':>5} {'trials':>6} "
            f"{'epochs':>11} {'trained':>7}",
        ]
        for r in self.rounds:
            span = f"{r.initial_epoch}->{r.epochs}"
            lines.append(
                f"{r.iteration:>4} {r.bracket:>7} {r.round:>5} {r.trials:>6} "
                f"{span:>11} {r.total_epochs:>7}"
            )
        lines.append(
            f"Total: {self.total_trials} trials ({self.new_configurations} new "
            f"configurations), {self.total_epochs} epochs; the first round "
            f"trains {self.first_round_epochs} epoch(s) per trial."
        )
        return "\n".join(lines)


def _num_brackets(max_epochs: int, factor: int) -> int:
    # Mirrors HyperbandOracle._get_num_brackets (min_epochs is 1).
    epochs: float = max_epochs
    brackets = 0
    while epochs >= 1:
        epochs = epochs / factor
        brackets += 1
    return brackets


def _round_size(max_epochs: int, factor: int, bracket: int, round_num: int) -> int:
    # Mirrors HyperbandOracle._get_size.
    bracket0_end_size = math.ceil(1 + math.log(max_epochs, factor))
    bracket_end_size = bracket0_end_size / (bracket + 1)
    return math.ceil(bracket_end_size * factor ** (bracket - round_num))


def _round_epochs(max_epochs: int, factor: int, bracket: int, round_num: int) -> int:
    # Mirrors HyperbandOracle._get_epochs.
    return math.ceil(max_epochs / factor ** (bracket - round_num))


#: ``hyperband_schedule``'s parameters (the Hyperband tuners share them).
SCHEDULE_CONSTRAINTS: dict[str, Any] = {
    "max_epochs": POSITIVE_INT,
    "factor": Rule(
        [Interval(numbers.Integral, 2, None, closed="left")],
        "an integer >= 2",
        hint="KerasTuner divides the epochs by `factor` between rounds.",
    ),
    "hyperband_iterations": POSITIVE_INT,
}


@declare_constraints(SCHEDULE_CONSTRAINTS)
def hyperband_schedule(
    max_epochs: int, factor: int = 3, hyperband_iterations: int = 1
) -> HyperbandSchedule:
    """Compute the brackets, rounds, trials and epochs of a Hyperband search.

    The result matches what ``keras_tuner.Hyperband`` will run when every
    trial completes: the same trials (continuations included) in the same
    order, each trained from the same ``initial_epoch`` to the same
    ``epochs``.

    Parameters
    ----------
    max_epochs : int
        Hyperband's ``max_epochs`` (the longest any model is trained).
    factor : int, default=3
        Hyperband's reduction factor, at least 2.
    hyperband_iterations : int, default=1
        How many times the whole set of brackets is run.

    Returns
    -------
    HyperbandSchedule
        Printable; ``total_trials``, ``total_epochs``, ``first_round_epochs``
        and the per-round ``rounds`` list.

    Raises
    ------
    InvalidParameterError
        If an argument is not an integer in range.

    Examples
    --------
    >>> from tunekit import hyperband_schedule
    >>> schedule = hyperband_schedule(max_epochs=4, factor=3)
    >>> [(r.bracket, r.round, r.trials, r.initial_epoch, r.epochs)
    ...  for r in schedule.rounds]
    [(1, 0, 5, 0, 2), (1, 1, 2, 2, 4), (0, 0, 3, 0, 4)]
    >>> schedule.total_trials, schedule.total_epochs
    (10, 26)
    """
    validate_params(
        SCHEDULE_CONSTRAINTS,
        {
            "max_epochs": max_epochs,
            "factor": factor,
            "hyperband_iterations": hyperband_iterations,
        },
    )
    max_epochs, factor = int(max_epochs), int(factor)
    iterations = int(hyperband_iterations)
    rounds: list[HyperbandRound] = []
    top = _num_brackets(max_epochs, factor) - 1
    for iteration in range(iterations):
        for bracket in range(top, -1, -1):
            for round_num in range(bracket + 1):
                initial = (
                    0
                    if round_num == 0
                    else _round_epochs(max_epochs, factor, bracket, round_num - 1)
                )
                rounds.append(
                    HyperbandRound(
                        iteration=iteration,
                        bracket=bracket,
                        round=round_num,
                        trials=_round_size(max_epochs, factor, bracket, round_num),
                        initial_epoch=initial,
                        epochs=_round_epochs(max_epochs, factor, bracket, round_num),
                    )
                )
    return HyperbandSchedule(max_epochs, factor, iterations, rounds)
