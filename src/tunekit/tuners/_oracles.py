"""tunekit's oracles: KerasTuner's own, extended through their subclass hooks.

KerasTuner's tuners take an ``Oracle`` at construction (its ``RandomSearch``
is ``RandomSearchOracle(...)`` handed to ``Tuner.__init__``); tunekit's tuner
classes do the same with the oracles here. Each adds, through methods
KerasTuner's oracles define for subclasses:

- ``get_best_trials``: trials stopped by tunekit's pruning rank after the
  fully trained ones, so KerasTuner's ``get_best_hyperparameters``,
  ``get_best_models``, ``results_summary`` and display never call a pruned
  trial "the best".
- ``_random_values``: the configurations queued by ``initial_trials=`` come
  first, each once (one some trial of the project already has is skipped).
- ``create_trial``: a *stop condition* (the CLI's ``--time-budget`` and
  ``--target``) ends the search between trials with a ``STOPPED`` trial,
  KerasTuner's own end-of-search signal.
- Hyperband's ``max_trials`` cap (``trial_cap=``), which KerasTuner's
  ``HyperbandOracle`` does not take.

A stop condition is any object with ``reason_to_stop(*, best, direction)``
(why to stop now, or ``None``), ``trial_started()`` and
``search_stopped(reason)``, e.g. :class:`tunekit.cli._budget.SearchBudget`.
"""

from __future__ import annotations

from typing import Any, Protocol

import keras_tuner

from tunekit._validation import invalid_parameter
from tunekit.tuners._initial_trials import queued_values
from tunekit.tuners._pruning import is_pruned

__all__ = [
    "BayesianOptimizationOracle",
    "HyperbandOracle",
    "RandomSearchOracle",
    "StopCondition",
    "TunekitOracle",
    "create_trial_or_stop",
]


class StopCondition(Protocol):
    """When a search should end between two trials."""

    def reason_to_stop(self, *, best: float | None, direction: str) -> str | None:
        """Why the search should stop now, or ``None`` to go on."""

    def trial_started(self) -> None:
        """A new trial was handed out."""

    def search_stopped(self, reason: str) -> None:
        """The oracle ended the search for ``reason``."""


class TunekitOracle:
    """Mixin for a KerasTuner oracle: pruned trials last, queued trials, stop.

    Parameters
    ----------
    initial_trials : list
        ``"defaults"`` or dicts (see :mod:`tunekit.tuners._initial_trials`),
        checked against the space by :meth:`queue_initial_trials` once the
        tuner has filled it.
    stop_condition : StopCondition, optional
        Asked before every new trial.
    """

    def __init__(
        self,
        *args: Any,
        initial_trials: list[Any] | None = None,
        stop_condition: StopCondition | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._tunekit_initial_entries = list(initial_trials or [])
        self._tunekit_queue: list[dict[str, Any]] = []
        self._tunekit_stop = stop_condition

    # ---- initial trials ------------------------------------------------------

    def queue_initial_trials(self) -> None:
        """Check the queued trials against the (now filled) space; queue them."""
        entries = self._tunekit_initial_entries
        if not entries:
            return
        queue = queued_values(self.hyperparameters, entries)  # type: ignore[attr-defined]
        self._check_queue(entries, queue)
        self._tunekit_queue = queue

    def _check_queue(self, entries: list[Any], queue: list[dict[str, Any]]) -> None:
        """Refuse a queue this oracle cannot honour (subclasses)."""

    def _tried(self, values: dict[str, Any]) -> bool:
        for trial in self.trials.values():  # type: ignore[attr-defined]
            have = trial.hyperparameters.values
            if all(have.get(name) == value for name, value in values.items()):
                return True
        return False

    def _random_values(self) -> Any:
        for values in self._tunekit_queue:
            if not self._tried(values):
                return dict(values)
        return super()._random_values()  # type: ignore[misc]

    # ---- ranking ---------------------------------------------------------------

    def get_best_trials(self, num_trials: int = 1) -> list[Any]:
        """The best trials, the fully trained ones before the pruned ones."""
        trials = self.trials  # type: ignore[attr-defined]
        ranked = super().get_best_trials(max(len(trials), num_trials))  # type: ignore[misc]
        full = [t for t in ranked if t.status == "COMPLETED" and not is_pruned(t)]
        pruned = [t for t in ranked if t.status == "COMPLETED" and is_pruned(t)]
        others = [t for t in ranked if t.status != "COMPLETED"]
        return (full + pruned + others)[:num_trials]

    # ---- stopping --------------------------------------------------------------

    @property
    def stop_condition(self) -> StopCondition | None:
        """The condition asked before each new trial (``None``: never stop early)."""
        return self._tunekit_stop

    @keras_tuner.synchronized
    def create_trial(self, tuner_id: str) -> Any:
        """KerasTuner's next trial, or a ``STOPPED`` one once the condition says so."""
        create = super().create_trial  # type: ignore[misc]
        return create_trial_or_stop(self, self._tunekit_stop, create, tuner_id)


def create_trial_or_stop(
    oracle: Any, condition: StopCondition | None, create: Any, tuner_id: str
) -> Any:
    """``create(tuner_id)``, or a ``STOPPED`` trial once ``condition`` says so.

    ``oracle`` is a tunekit oracle, or a distributed worker's client of the
    chief's (its best trials come from the chief).
    """
    if condition is None:
        return create(tuner_id)
    from tunekit.tuners._kerastuner import trial_module

    direction = oracle.objective.direction
    reason = condition.reason_to_stop(best=_best_score(oracle), direction=direction)
    if reason is None:
        trial = create(tuner_id)
        if trial.status == trial_module.TrialStatus.RUNNING:
            condition.trial_started()
        return trial
    condition.search_stopped(reason)
    # KerasTuner's own end-of-search signal; nothing is recorded. The local
    # space (get_space() would be a call to the chief on a worker).
    return trial_module.Trial(
        oracle.hyperparameters.copy(), status=trial_module.TrialStatus.STOPPED
    )


def _best_score(oracle: Any) -> float | None:
    try:
        best = oracle.get_best_trials(1)
    except Exception:  # no completed trial yet
        return None
    if not best or best[0].score is None:
        return None
    return float(best[0].score)


class RandomSearchOracle(TunekitOracle, keras_tuner.oracles.RandomSearchOracle):
    """KerasTuner's ``RandomSearchOracle`` with :class:`TunekitOracle`'s additions."""


class BayesianOptimizationOracle(
    TunekitOracle, keras_tuner.oracles.BayesianOptimizationOracle
):
    """KerasTuner's ``BayesianOptimizationOracle`` with :class:`TunekitOracle`'s.

    The queued trials take the place of random initial points, so there may
    be at most ``num_initial_points`` of them.
    """

    def _check_queue(self, entries: list[Any], queue: list[dict[str, Any]]) -> None:
        initial_points = getattr(self, "num_initial_points", None)
        if initial_points and initial_points < len(queue):
            raise invalid_parameter(
                "initial_trials",
                entries,
                f"at most num_initial_points={initial_points} configurations "
                "(BayesianOptimization tries queued trials in place of its "
                "random initial points)",
                "Raise `num_initial_points` or queue fewer trials.",
            )


class HyperbandOracle(TunekitOracle, keras_tuner.oracles.HyperbandOracle):
    """KerasTuner's ``HyperbandOracle`` with :class:`TunekitOracle`'s additions.

    Parameters
    ----------
    trial_cap : int, optional
        At most this many trials (KerasTuner's ``Oracle.max_trials``, which
        its ``HyperbandOracle`` does not take); the search ends there.

    A reloaded project keeps the ``hyperband_iterations`` given now:
    KerasTuner's ``set_state`` restores the saved one (kt#234), so a budget
    raised on resume would otherwise be ignored.
    """

    def __init__(self, *args: Any, trial_cap: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if trial_cap is not None:
            self.max_trials = trial_cap

    def set_state(self, state: dict[str, Any]) -> None:
        """KerasTuner's ``set_state``; ``hyperband_iterations`` stays as given."""
        iterations = self.hyperband_iterations
        super().set_state(state)
        self.hyperband_iterations = iterations
