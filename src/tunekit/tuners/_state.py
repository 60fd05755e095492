"""The one object in which a tunekit tuner keeps tunekit's state.

A tunekit tuner (:class:`tunekit.Hyperband`, :class:`tunekit.BayesianOptimization`,
:class:`tunekit.RandomSearch` and their subclasses) holds a single
:class:`TunerState` as ``tuner._tunekit``; every tunekit module reads and
writes it through :func:`tuner_state`, which returns None for a plain
KerasTuner tuner. This module is a leaf: it imports nothing from tunekit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["TunerState", "tuner_state"]


@dataclass
class TunerState:
    """Everything tunekit keeps on a tuner, in one place.

    Attributes
    ----------
    kind : str
        ``"hyperband"``, ``"bayesian_optimization"``, ``"random_search"`` or
        ``"optuna"``.
    objective : keras_tuner.Objective, list or None
        The checked objective (None: ``run_trial`` returns the score).
    verbose : bool
        Print tunekit's messages (the constructor's ``verbose``).
    budget, settings : dict
        The budget (``max_trials``, ``hyperband_iterations``, ``trial_cap``)
        and the search settings that make up the project's fingerprint.
    schedule : HyperbandSchedule or None
        Hyperband's schedule; None for the other tuners.
    fingerprint : dict
        The project's fingerprint (``tunekit_config.json``).
    seed : int or None
        The search seed.
    initial_trials, stop_condition, pruning, fit_hyperparameters
        tunekit's constructor keywords, checked.
    deferring_reload, pending_reload : bool
        At construction: KerasTuner's reload is deferred until the
        stale-project guard ran, and whether it was asked for.
    fingerprint_unwritten : bool
        The fingerprint could not be written at construction (read-only
        project); ``search()`` must write it.
    trial_seed : int or None
        The running execution's seed.
    built : list or None
        The models built by the running execution (their graphs are released
        after it).
    execution : int
        The number of the next execution of the running trial.
    plan : SearchPlan or None
        The running search's plan (cross-validation, tuned fit arguments).
    records : dict
        The trial records already read or written, by trial id.
    session : SearchSession or None
        The running search's session (display, lock, Ctrl-C).
    display : bool or None
        Forces tunekit's display on or off (set by the CLI); None follows
        ``verbose``.
    shared_project : bool
        Several processes search this project at once (OptunaSearch: the
        study coordinates them), so no process takes the project lock.
    """

    kind: str = ""
    objective: Any = None
    verbose: bool = True
    budget: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    schedule: Any = None
    fingerprint: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    initial_trials: Any = None
    stop_condition: Any = None
    pruning: Any = None
    fit_hyperparameters: dict[str, Any] = field(default_factory=dict)
    deferring_reload: bool = False
    pending_reload: bool = False
    fingerprint_unwritten: bool = False
    trial_seed: int | None = None
    built: list[Any] | None = None
    execution: int = 0
    plan: Any = None
    records: dict[str, Any] = field(default_factory=dict)
    session: Any = None
    display: bool | None = None
    shared_project: bool = False


def tuner_state(tuner: Any) -> TunerState | None:
    """``tuner``'s :class:`TunerState`; None for a tuner that is not tunekit's."""
    state = getattr(tuner, "_tunekit", None)
    return state if isinstance(state, TunerState) else None
