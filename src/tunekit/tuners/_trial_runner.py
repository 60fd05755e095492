"""One tunekit trial: folds, executions, tuned fit arguments, pruning, records.

:func:`run_trial` does what KerasTuner's ``Tuner.run_trial`` (and
``Hyperband.run_trial``) do, one best-epoch checkpoint per trial, deep-copied
callbacks per execution, the ``TunerCallback``, then for every fold of a
cross-validated search and every execution: applies the trial's tuned fit
arguments, asks the pruning strategy after each epoch, and records each
model's objective per epoch in the trial's record. It returns one result per
model trained, so KerasTuner averages them exactly as it averages
``executions_per_trial``.

:func:`prepare_tuner`, :func:`finish_tuner`, :func:`split_search_arguments` and
:func:`check_search` are the
construction and search-time halves: they pop and check ``pruning=`` and
``fit_hyperparameters=``, add the latter to the search space, and check
``cv=``/``groups=`` and tuned fit arguments before any epoch is trained.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from tunekit._validation import invalid_parameter
from tunekit.tuners._cross_validation import CrossValidationPlan, plan_cross_validation
from tunekit.tuners._distributed import local_trials
from tunekit.tuners._fit_hyperparameters import (
    check_fit_hyperparameters,
    check_hyperband_epochs,
    check_search_conflicts,
    fit_hyperparameter_names,
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
from tunekit.tuners._trial_records import (
    RunRecord,
    TrialRecord,
    clean_value,
    load_record,
    save_record,
)

__all__ = [
    "SearchPlan",
    "check_search",
    "finish_tuner",
    "prepare_tuner",
    "run_trial",
    "split_search_arguments",
]

# search() arguments that stay with a refit (the data-dependent ones do not).
_REFIT_KWARGS = ("batch_size", "shuffle", "class_weight", "verbose")


@dataclass
class SearchPlan:
    """What one ``search()`` decided before its first trial."""

    cv: CrossValidationPlan | None = None
    fit_names: list[str] = field(default_factory=list)
    callbacks: list[Any] = field(default_factory=list)
    refit_kwargs: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------
# construction
# --------------------------------------------------------------------------


def prepare_tuner(tuner: Any, kwargs: dict[str, Any]) -> None:
    """Pop ``pruning``, ``fit_hyperparameters``, ``initial_trials``, ``stop_condition``.

    ``initial_trials`` and ``stop_condition`` go to tunekit's oracle
    (:mod:`tunekit.tuners._oracles`) when the tuner creates it.
    """
    kind = tuner._tunekit_kind
    tuner._tunekit_initial_trials = check_initial_trials(
        kwargs.pop("initial_trials", None)
    )
    tuner._tunekit_stop_condition = check_stop_condition(
        kwargs.pop("stop_condition", None)
    )
    tuner._tunekit_pruning = resolve_pruning(kwargs.pop("pruning", None), kind)
    tuner._tunekit_fit_hyperparameters = check_fit_hyperparameters(
        kwargs.pop("fit_hyperparameters", None), kind
    )


def finish_tuner(tuner: Any) -> None:
    """After KerasTuner's constructor, before the fingerprint: the search space."""
    space = tuner.oracle.hyperparameters
    declared = getattr(tuner, "_tunekit_fit_hyperparameters", {}) or {}
    register_fit_hyperparameters(space, declared)
    names = [hp.name for hp in space.space]
    check_hyperband_epochs(names, tuner._tunekit_kind, source="the search space")


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
# search
# --------------------------------------------------------------------------


def split_search_arguments(
    fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any], tuple[Any, Any] | None]:
    """Pop ``cv`` and ``groups`` from ``search()``'s arguments.

    Returns the arguments for KerasTuner's ``search`` and ``(cv, groups)``,
    or None without ``cv``. With ``cv`` the data arguments are passed by name
    (each fold replaces them).
    """
    if "cv" not in fit_kwargs and "groups" not in fit_kwargs:
        return fit_args, fit_kwargs, None
    from tunekit.tuners._tuners import _fit_arguments

    fit_kwargs = dict(fit_kwargs)
    cv = fit_kwargs.pop("cv", None)
    groups = fit_kwargs.pop("groups", None)
    if cv is None:
        if groups is not None:
            raise _groups_without_cv(groups)
        return fit_args, fit_kwargs, None
    return (), _fit_arguments(fit_args, fit_kwargs), (cv, groups)


def check_search(
    tuner: Any,
    fit_args: tuple[Any, ...],
    fit_kwargs: dict[str, Any],
    request: tuple[Any, Any] | None,
) -> None:
    """tunekit's search checks, plus ``cv`` and tuned fit arguments.

    Runs before any training and stores the :class:`SearchPlan` on the tuner.
    """
    from tunekit.tuners._tuners import _check_search, _fit_arguments, _uses_default_fit

    arguments = _fit_arguments(fit_args, fit_kwargs)
    kind = tuner._tunekit_kind
    declared = getattr(tuner, "_tunekit_fit_hyperparameters", {}) or {}
    space = tuner.oracle.hyperparameters
    names = fit_hyperparameter_names(
        space, declared, default_fit=_uses_default_fit(tuner)
    )
    check_search_conflicts(names, arguments, kind, space)
    plan = SearchPlan(
        fit_names=names,
        callbacks=list(arguments.get("callbacks") or []),
        refit_kwargs={k: arguments[k] for k in _REFIT_KWARGS if k in arguments},
    )
    if request is None:
        _check_search(tuner, fit_args, fit_kwargs)
    else:
        cv, groups = request
        seed = getattr(getattr(tuner, "_tunekit", None), "seed", None)
        plan.cv = plan_cross_validation(cv, groups, arguments, kind=kind, seed=seed)
        # Check as the trials will train: on the first fold.
        _check_search(tuner, (), plan.cv.fold_kwargs(0, arguments))
    _check_same_validation(tuner, plan)
    tuner._tunekit_plan = plan


def _check_same_validation(tuner: Any, plan: SearchPlan) -> None:
    """A resumed project keeps its folds: never mix cv and non-cv scores."""
    from tunekit._errors import StaleProjectError

    wanted = None if plan.cv is None else plan.cv.describe()
    for trial in _known_trials(tuner.oracle):
        record = load_record(tuner, str(trial.trial_id))
        if record is None or record.cv == wanted:
            continue
        before = "no cv" if record.cv is None else record.cv["splitter"]
        now = "no cv" if wanted is None else wanted["splitter"]
        raise StaleProjectError(
            f"The project at {tuner.project_dir!r} scored trial {trial.trial_id} "
            f"with {before}, but this search uses {now}: the scores would not be "
            "comparable. Search with the same `cv` (and data) as before, pass "
            "`overwrite=True` to start afresh, or choose a new `project_name`."
        )


def _groups_without_cv(groups: Any) -> Exception:
    from tunekit._validation import invalid_parameter

    return invalid_parameter(
        "groups",
        f"<{type(groups).__name__}>",
        "given together with `cv=`",
        "Groups only decide how cross-validation folds are split; pass `cv=5` "
        "(GroupKFold) or a group splitter.",
    )


def current_plan(tuner: Any) -> SearchPlan:
    """The plan of the running search (a plain one outside ``search()``)."""
    plan = getattr(tuner, "_tunekit_plan", None)
    if plan is None:
        from tunekit.tuners._tuners import _uses_default_fit

        declared = getattr(tuner, "_tunekit_fit_hyperparameters", {}) or {}
        plan = SearchPlan(
            fit_names=fit_hyperparameter_names(
                tuner.oracle.hyperparameters,
                declared,
                default_fit=_uses_default_fit(tuner),
            )
        )
    return plan


# --------------------------------------------------------------------------
# one trial
# --------------------------------------------------------------------------


def _samples(data: Any) -> int | None:
    if data is None:
        return None
    for attribute in ("samples", "n"):
        value = getattr(data, attribute, None)
        if isinstance(value, int):
            return value
    if isinstance(data, dict):
        data = next(iter(data.values()), None)
    elif isinstance(data, (list, tuple)) and data and hasattr(data[0], "shape"):
        data = data[0]
    shape = getattr(data, "shape", None)
    if shape:
        return int(shape[0])
    return None


def _validation_samples(kwargs: dict[str, Any], x_samples: int | None) -> int | None:
    data = kwargs.get("validation_data")
    if data is not None:
        return _samples(data[0] if isinstance(data, tuple) else data)
    split = kwargs.get("validation_split")
    if split and x_samples:
        return int(x_samples * float(split))
    return None


def _split_xy(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
    x = args[0] if args else kwargs.get("x")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    return x, y


def _known_trials(oracle: Any) -> list[Any]:
    """The oracle's trials; a distributed worker asks the chief for completed ones."""
    trials = local_trials(oracle)
    if trials is not None:
        return list(trials.values())
    return list(oracle.get_best_trials(num_trials=1_000_000))


def _earlier_history(
    tuner: Any, trial_id: str, fold: int | None
) -> dict[str, dict[int, float]]:
    """Objectives per epoch of the completed, unpruned trials (for pruning)."""
    found = {}
    for other in _known_trials(tuner.oracle):
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
    pruning: Pruning | None = getattr(tuner, "_tunekit_pruning", None)
    seed = getattr(getattr(tuner, "_tunekit", None), "seed", None)
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
        x, y = _split_xy(run_args, run_kwargs)
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
            train_samples = _samples(x)
            run = RunRecord(
                fold=fold,
                execution=execution,
                seed=None
                if seed is None
                else derived_seed(seed, trial.trial_id, index),
                initial_epoch=int(run_kwargs.get("initial_epoch", 0) or 0),
                fit_arguments=recorded,
                train_samples=train_samples,
                validation_samples=_validation_samples(run_kwargs, train_samples),
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
