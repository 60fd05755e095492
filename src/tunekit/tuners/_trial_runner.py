"""One tunekit trial: folds, executions, tuned fit arguments, pruning, records.

:func:`run_trial` does what KerasTuner's ``Tuner.run_trial`` (and
``Hyperband.run_trial``) do, one best-epoch checkpoint per trial, deep-copied
callbacks per execution, the ``TunerCallback``, then for every fold of a
cross-validated search and every execution: applies the trial's tuned fit
arguments, asks the pruning strategy after each epoch, and records each
model's objective per epoch in the trial's record. It returns one result per
model trained, so KerasTuner averages them exactly as it averages
``executions_per_trial``.

:func:`prepare_tuner` and :func:`finish_tuner` are the construction half:
they pop and check ``pruning=`` and ``fit_hyperparameters=`` and add the
latter to the search space. The search-time checks (``cv=``/``groups=``, tuned
fit arguments) live in :mod:`tunekit.tuners._preflight`; the plan they leave
on the tuner is read through :mod:`tunekit.tuners._fit_args`. This module
imports only such leaves, never the tuner classes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from tunekit._validation import invalid_parameter
from tunekit.tuners._distributed import known_trials
from tunekit.tuners._fit_args import (
    SearchPlan,
    current_plan,
    samples,
    split_xy,
    validation_samples,
)
from tunekit.tuners._fit_hyperparameters import (
    check_fit_hyperparameters,
    check_hyperband_epochs,
    register_fit_hyperparameters,
    trial_fit_arguments,
)
from tunekit.tuners._initial_trials import check_initial_trials
from tunekit.tuners._pruning import (
    Pruning,
    PruningHistory,
    is_pruned,
    pruned_message,
    pruning_callback,
    resolve_pruning,
)
from tunekit.tuners._state import tuner_state
from tunekit.tuners._trial_records import (
    RunRecord,
    TrialRecord,
    clean_value,
    load_record,
    save_record,
)

__all__ = [
    "KEYWORD_DEFAULTS",
    "SearchPlan",
    "finish_tuner",
    "prepare_tuner",
    "run_trial",
]

# --------------------------------------------------------------------------
# construction
# --------------------------------------------------------------------------


#: tunekit's constructor keywords that KerasTuner's signatures lack, with the
#: classes' defaults (the factories differ for ``initial_trials``: see
#: ``docs/tuners.md``, "Classes and factories").
KEYWORD_DEFAULTS: dict[str, Any] = {
    "initial_trials": None,
    "stop_condition": None,
    "pruning": None,
    "fit_hyperparameters": None,
}


def prepare_tuner(tuner: Any, kwargs: dict[str, Any]) -> None:
    """Pop ``pruning``, ``fit_hyperparameters``, ``initial_trials``, ``stop_condition``.

    ``initial_trials`` and ``stop_condition`` go to tunekit's oracle
    (:mod:`tunekit.tuners._oracles`) when the tuner creates it.
    """
    state = tuner._tunekit
    given = {name: kwargs.pop(name, d) for name, d in KEYWORD_DEFAULTS.items()}
    state.initial_trials = check_initial_trials(given["initial_trials"])
    state.stop_condition = check_stop_condition(given["stop_condition"])
    state.pruning = resolve_pruning(given["pruning"], state.kind)
    state.fit_hyperparameters = check_fit_hyperparameters(
        given["fit_hyperparameters"], state.kind
    )


def finish_tuner(tuner: Any) -> None:
    """After KerasTuner's constructor, before the fingerprint: the search space."""
    space = tuner.oracle.hyperparameters
    state = tuner._tunekit
    register_fit_hyperparameters(space, state.fit_hyperparameters or {})
    names = [hp.name for hp in space.space]
    check_hyperband_epochs(names, state.kind, source="the search space")


def check_stop_condition(condition: Any) -> Any:
    """``stop_condition``: None or an object the oracle can ask before each trial."""
    methods = ("reason_to_stop", "trial_started", "search_stopped")
    if condition is None or all(callable(getattr(condition, m, None)) for m in methods):
        return condition
    raise invalid_parameter(
        "stop_condition",
        condition,
        "None or an object with reason_to_stop(*, best, direction), "
        "trial_started() and search_stopped(reason) (e.g. the CLI's SearchBudget)",
    )


# --------------------------------------------------------------------------
# one trial
# --------------------------------------------------------------------------


def _earlier_history(
    tuner: Any, trial_id: str, fold: int | None
) -> dict[str, dict[int, float]]:
    """Objectives per epoch of the completed, unpruned trials (for pruning)."""
    found = {}
    for other in known_trials(tuner.oracle):
        if other.trial_id == trial_id or other.status != "COMPLETED":
            continue
        if is_pruned(other):
            continue
        record = load_record(tuner, other.trial_id)
        if record is None:
            continue
        curve = record.fold_curves(fold)
        if curve:
            found[other.trial_id] = curve
    return found


def _recorder(objective: Any, run: RunRecord) -> Any:
    import keras

    class _TrialRecorder(keras.callbacks.Callback):
        started = False

        def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
            logs = logs or {}
            if not self.started:
                run.initial_epoch, self.started = int(epoch), True
            value = objective.get_value(logs) if objective.has_value(logs) else None
            run.values.append(clean_value(value))

    return _TrialRecorder()


@dataclass
class _PruneState:
    pruned: dict[str, Any] | None = None


def _objective_of(tuner: Any) -> Any:
    return tuner.oracle.objective


def run_trial(
    tuner: Any, trial: Any, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
) -> list[Any]:
    """Train every model of ``trial``; return one result per model trained."""
    from tunekit._seeding import derived_seed
    from tunekit.tuners._trial_callbacks import BestEpochCheckpoint, tuner_callback

    plan = current_plan(tuner)
    hp = trial.hyperparameters
    kwargs = dict(fit_kwargs)
    if "tuner/epochs" in hp.values:  # Hyperband's bracket and round
        kwargs["epochs"] = hp.values["tuner/epochs"]
        kwargs["initial_epoch"] = hp.values["tuner/initial_epoch"]
    objective = _objective_of(tuner)
    direction = getattr(objective, "direction", "min")
    checkpoint = BestEpochCheckpoint(
        objective=objective, filepath=tuner._get_checkpoint_fname(trial.trial_id)
    )
    original_callbacks = kwargs.pop("callbacks", None) or []
    state = tuner_state(tuner)
    pruning: Pruning | None = None if state is None else state.pruning
    seed = None if state is None else state.seed
    record = TrialRecord(
        trial_id=str(trial.trial_id),
        objective=str(getattr(objective, "name", "")),
        direction=direction,
        cv=None if plan.cv is None else plan.cv.describe(),
    )
    state = _PruneState()
    folds: list[int | None] = (
        [None] if plan.cv is None else list(range(len(plan.cv.folds)))
    )
    results: list[Any] = []
    index = 0
    for fold in folds:
        if fold is None:
            run_args, run_kwargs = fit_args, kwargs
        else:
            run_args, run_kwargs = (), plan.cv.fold_kwargs(fold, kwargs)  # type: ignore[union-attr]
        x, y = split_xy(run_args, run_kwargs)
        tuned, recorded = trial_fit_arguments(hp, plan.fit_names, x, y)
        run_kwargs = {**run_kwargs, **tuned}
        history = (
            None
            if pruning is None
            else _earlier_history(tuner, str(trial.trial_id), fold)
        )
        for execution in range(tuner.executions_per_trial):
            callbacks = tuner._deepcopy_callbacks(original_callbacks)
            tuner._configure_tensorboard_dir(callbacks, trial, index)
            callbacks.append(tuner_callback(tuner, trial))
            callbacks.append(checkpoint)
            train_samples = samples(x)
            run = RunRecord(
                fold=fold,
                execution=execution,
                seed=None
                if seed is None
                else derived_seed(seed, trial.trial_id, index),
                initial_epoch=int(run_kwargs.get("initial_epoch", 0) or 0),
                fit_arguments=recorded,
                train_samples=train_samples,
                validation_samples=validation_samples(run_kwargs, train_samples),
            )
            record.runs.append(run)
            callbacks.append(_recorder(objective, run))
            if pruning is not None and history is not None:
                callbacks.append(
                    _pruning_for(
                        pruning, trial, objective, history, direction, fold, state
                    )
                )
            results.append(
                tuner._build_and_fit_model(
                    trial, *run_args, **{**run_kwargs, "callbacks": callbacks}
                )
            )
            index += 1
            if state.pruned is not None:
                break
        if state.pruned is not None:
            break
    record.pruned = state.pruned
    save_record(tuner, record)
    if state.pruned is not None:
        trial.message = pruned_message(state.pruned["reason"])
    return results


def _pruning_for(
    pruning: Pruning,
    trial: Any,
    objective: Any,
    earlier: dict[str, dict[int, float]],
    direction: str,
    fold: int | None,
    state: _PruneState,
) -> Any:
    history = PruningHistory(copy.deepcopy(earlier), direction=direction, fold=fold)

    def on_prune(epoch: int, value: float, reason: str) -> None:
        if fold is not None:
            reason = f"{reason} (fold {fold})"
        state.pruned = {
            "epoch": int(epoch),
            "fold": fold,
            "value": clean_value(value),
            "reason": reason,
        }

    return pruning_callback(
        pruning,
        trial_id=str(trial.trial_id),
        objective=objective,
        history=history,
        on_prune=on_prune,
    )
