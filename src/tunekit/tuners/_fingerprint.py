"""The project fingerprint and the stale-project guard.

A tuner writes ``tunekit.json`` (its configuration and search space) into its
project folder; a later tuner on the same folder compares its own fingerprint
with it before anything is reloaded, and refuses to mix differently
configured searches.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from tunekit._atomic import write_text
from tunekit._errors import StaleProjectError
from tunekit._warnings import warn
from tunekit.tuners._objective import objective_list
from tunekit.tuners._project_files import (
    FINGERPRINT_FILE,
    ORACLE_FILE,
    check_project_files,
    trial_files,
    unwritable_project,
)

if TYPE_CHECKING:
    from tunekit.tuners._state import TunerState

__all__ = [
    "check_existing_project",
    "fingerprint_differences",
    "listing",
    "project_fingerprint",
    "report_resume",
    "warn_budget",
    "write_fingerprint",
]


_FINGERPRINT_VERSION = 1

_DEFAULT_FAILURE_LIMIT = 3  # keras_tuner's max_consecutive_failed_trials default


def _space_signature(hyperparameters: Any) -> dict[str, Any]:
    signature = {}
    for hp in hyperparameters.space:
        config = dict(hp.get_config())
        config.pop("name", None)
        config.pop("default", None)
        config["class_name"] = type(hp).__name__
        signature[hp.name] = json.loads(json.dumps(config, default=str))
    return signature


def _objective_signature(objective: Any) -> list[list[str]]:
    if objective is None:
        return []
    return sorted([o.name, o.direction] for o in objective_list(objective))


def project_fingerprint(tuner: Any, config: TunerState) -> dict[str, Any]:
    """The tuner's configuration and search space, as written to ``tunekit.json``."""
    fingerprint = {
        "version": _FINGERPRINT_VERSION,
        "tuner": config.kind,
        "objective": _objective_signature(config.objective),
        "settings": config.settings,
        "budget": config.budget,
        "search_space": _space_signature(tuner.oracle.hyperparameters),
    }
    # Not compared on resume: read by `tunekit report` to flag collapsed trials.
    n_classes = getattr(getattr(tuner, "hypermodel", None), "num_classes", None)
    if isinstance(n_classes, int) and not isinstance(n_classes, bool):
        fingerprint["n_classes"] = n_classes
    return fingerprint


def _read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _best_values(metrics: dict[str, Any]) -> dict[tuple[str, str], float]:
    best = {}
    for name, record in metrics.items():
        direction = record.get("direction") if isinstance(record, dict) else None
        values = (
            [
                float(np.mean(o["value"]))
                for o in (record.get("observations") or [])
                if isinstance(o, dict) and "value" in o
            ]
            if direction in ("min", "max")
            else []
        )
        if values:
            key = (str(name), str(direction))
            best[key] = max(values) if direction == "max" else min(values)
    return best


def _stored_objective(project_dir: str) -> list[list[str]] | None:
    """The objective(s) a plain KerasTuner project may have scored with.

    KerasTuner does not store the objective, but each completed trial.json
    keeps its ``score``: the metrics whose best value equals it in every
    completed trial are the candidates.
    """
    candidates: set[tuple[str, str]] | None = None
    for path in trial_files(project_dir):
        try:
            trial = _read_json(path)
            score = trial.get("score")
            metrics = trial["metrics"]["metrics"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if trial.get("status") != "COMPLETED" or score is None:
            continue
        matching = {
            key
            for key, value in _best_values(metrics).items()
            if np.isclose(value, float(score), rtol=1e-6, atol=1e-9)
        }
        candidates = matching if candidates is None else candidates & matching
    if not candidates:
        return None
    return sorted([name, direction] for name, direction in candidates)


def _plain_kerastuner_fingerprint(project_dir: str) -> dict[str, Any]:
    """Rebuild what can be known of a project written without tunekit."""
    import keras_tuner

    state = _read_json(os.path.join(project_dir, ORACLE_FILE))
    if "brackets" in state:
        kind = "hyperband"
        settings = {k: state.get(k) for k in ("max_epochs", "factor")}
        budget = {"hyperband_iterations": state.get("hyperband_iterations")}
    elif "num_initial_points" in state:
        kind = "bayesian_optimization"
        settings = {k: state.get(k) for k in ("num_initial_points", "alpha", "beta")}
        budget = {}
    else:
        kind = "random_search"
        settings, budget = {}, {}
    space = keras_tuner.HyperParameters.from_config(state["hyperparameters"])
    return {
        "tuner": kind,
        "objective_candidates": _stored_objective(project_dir),
        "settings": settings,
        "budget": budget,
        "search_space": _space_signature(space),
    }


def _change(name: str, old: Any, new: Any, sides: tuple[str, str]) -> str:
    """``name: old -> new``, each value after its side's label when there is one."""
    before, after = (
        f"{side} {value!r}" if side else repr(value)
        for side, value in zip(sides, (old, new), strict=True)
    )
    return f"{name}: {before} -> {after}"


def _objective_differences(
    old: Mapping[str, Any], new: Mapping[str, Any], exact: bool, sides: tuple[str, str]
) -> list[str]:
    found = []
    was, now = old.get("objective"), new.get("objective")
    if (exact or was is not None) and was != now:
        found.append(_change("objective", was, now, sides))
    candidates = old.get("objective_candidates")
    if candidates and not all(o in candidates for o in new["objective"]):
        shown = candidates[0] if len(candidates) == 1 else f"one of {candidates}"
        found.append(
            f"objective: the stored scores are those of {shown} -> {new['objective']}"
        )
    return found


def _entry_differences(
    old: Mapping[str, Any], new: Mapping[str, Any], exact: bool, sides: tuple[str, str]
) -> list[str]:
    """Settings and budget entries (the same tuner on both sides)."""
    found = []
    for group in ("settings", "budget"):
        before, after = old.get(group) or {}, new.get(group) or {}
        names = sorted(set(before) | set(after)) if exact else list(after)
        for name in names:
            if exact or (group == "settings" and name in before):
                if before.get(name) != after.get(name):
                    found.append(
                        _change(name, before.get(name), after.get(name), sides)
                    )
    if not exact:  # resuming: the budget may grow, Hyperband's iterations only so
        was = (old.get("budget") or {}).get("hyperband_iterations")
        now = (new.get("budget") or {}).get("hyperband_iterations")
        if was and now and now < was:
            found.append(
                _change("hyperband_iterations", was, now, sides) + " (it may only grow)"
            )
    return found


def _space_differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    found = []
    for name in sorted(set(old) | set(new)):
        if name not in new:
            found.append(f"search space: {name!r} was removed")
        elif name not in old:
            found.append(f"search space: {name!r} is new")
        elif old[name] != new[name]:
            changed = sorted(
                key
                for key in set(old[name]) | set(new[name])
                if old[name].get(key) != new[name].get(key)
            )
            detail = ", ".join(
                f"{key} {old[name].get(key)!r} -> {new[name].get(key)!r}"
                for key in changed
            )
            found.append(f"search space: {name!r} changed ({detail})")
    return found


def fingerprint_differences(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    exact: bool = False,
    sides: tuple[str, str] = ("", ""),
) -> list[str]:
    """What differs between two fingerprints, one ``name: old -> new`` line each.

    Parameters
    ----------
    old, new : Mapping
        The recorded fingerprint (a project's, or the chief's) and this
        tuner's (:func:`project_fingerprint`).
    exact : bool
        ``False``, the rule for resuming a project: an objective the old
        project did not record, a setting it did not record and a larger
        budget are fine, but ``hyperband_iterations`` may only grow.
        ``True``, the rule for a worker against its chief: the tuner, the
        objective, every setting, every budget entry and the search space
        must be equal.
    sides : tuple of str
        Labels of the old and the new value in each line, e.g.
        ``("chief", "this worker")``; none by default.

    Examples
    --------
    >>> from tunekit.tuners._fingerprint import fingerprint_differences
    >>> old = {"tuner": "hyperband", "objective": [["val_loss", "min"]],
    ...        "settings": {"factor": 3}, "budget": {"hyperband_iterations": 2},
    ...        "search_space": {}}
    >>> new = {**old, "budget": {"hyperband_iterations": 3}}
    >>> fingerprint_differences(old, new)
    []
    >>> fingerprint_differences(old, new, exact=True, sides=("chief", "this worker"))
    ['hyperband_iterations: chief 2 -> this worker 3']
    """
    found = []
    if old.get("tuner") != new.get("tuner"):
        found.append(_change("tuner", old.get("tuner"), new.get("tuner"), sides))
    found += _objective_differences(old, new, exact, sides)
    if old.get("tuner") == new.get("tuner"):
        found += _entry_differences(old, new, exact, sides)
    found += _space_differences(
        old.get("search_space", {}), new.get("search_space", {})
    )
    return found


def listing(differences: list[str]) -> str:
    """The differences as an indented list, one ``\\n  - `` item each."""
    return "".join(f"\n  - {line}" for line in differences)


def check_existing_project(tuner: Any, config: TunerState) -> None:
    """Refuse a stale project before KerasTuner reloads it. Deletes nothing."""
    project_dir = tuner.project_dir
    check_project_files(project_dir)  # a truncated file: say which, not JSONDecodeError
    new = config.fingerprint
    path = os.path.join(project_dir, FINGERPRINT_FILE)
    if os.path.exists(path):
        old, origin = _read_json(path), "tunekit"
    else:
        try:
            old, origin = _plain_kerastuner_fingerprint(project_dir), "KerasTuner"
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise StaleProjectError(
                f"Found an existing project at {project_dir!r} whose state cannot "
                f"be read ({error!r}). To start afresh, pass `overwrite=True` "
                "(this deletes it), or choose a new `project_name`."
            ) from error
    differences = fingerprint_differences(old, new)
    if differences:
        raise StaleProjectError(
            f"The project at {project_dir!r} (written by {origin}) was created "
            "with a different configuration, so resuming it would reuse old "
            f"trials, scores and search space:{listing(differences)}\nTo start "
            "afresh, pass `overwrite=True` (this deletes it), or choose a new "
            "`project_name`."
        )


def _remaining(tuner: Any, config: TunerState) -> tuple[int, int | None]:
    done = len(tuner.oracle.trials)
    if config.schedule is not None:
        return done, max(config.schedule.total_trials - done, 0)
    remaining = tuner.oracle.remaining_trials()
    return done, None if remaining is None else max(remaining, 0)


def report_resume(tuner: Any, config: TunerState) -> None:
    """Say how many trials a resumed project has run and how many remain."""
    started, remaining = _remaining(tuner, config)
    statuses = [t.status for t in tuner.oracle.trials.values()]
    completed = statuses.count("COMPLETED")
    # A trial interrupted by Ctrl-C or a kill is not done: KerasTuner reruns it.
    interrupted = sum(s not in ("COMPLETED", "FAILED", "INVALID") for s in statuses)
    rerun = f", {interrupted} interrupted to run again" if interrupted else ""
    _say(
        config,
        f"tunekit: resuming project {tuner.project_dir!r}: "
        f"{started - interrupted} trial(s) done ({completed} completed){rerun}, "
        f"{remaining} remaining.",
    )
    if remaining == 0 and not interrupted:
        knob = (
            "a larger `hyperband_iterations`"
            if config.kind == "hyperband"
            else "a larger `max_trials`"
        )
        warn(
            f"The project at {tuner.project_dir!r} has no trials left to run: "
            f"`search()` will train nothing and return the old results. Pass "
            f"{knob} to continue it, `overwrite=True` to start afresh, or a new "
            "`project_name`.",
            UserWarning,
        )


def write_fingerprint(tuner: Any, config: TunerState, *, required: bool) -> None:
    """Write ``tunekit.json`` when its content changes (atomically).

    A finished project on a read-only share opens for reading, so at
    construction (``required=False``) a failed write is only remembered;
    ``search()`` writes again (``required=True``) and raises
    :class:`~tunekit.UnwritablePathError` if it still cannot.
    """
    if tuner._is_worker():
        return
    path = os.path.join(tuner.project_dir, FINGERPRINT_FILE)
    text = json.dumps(config.fingerprint, indent=2, sort_keys=True)
    try:
        with open(path, encoding="utf-8") as handle:
            unchanged = handle.read() == text
    except (OSError, UnicodeDecodeError):
        unchanged = False
    if unchanged:
        config.fingerprint_unwritten = False
        return
    try:
        os.makedirs(tuner.project_dir, exist_ok=True)
        write_text(path, text)
    except OSError as error:
        if required:
            raise unwritable_project(tuner.project_dir, error) from error
        config.fingerprint_unwritten = True
        return
    config.fingerprint_unwritten = False


def _say(config: TunerState, message: str) -> None:
    if config.verbose:
        print(message)


def warn_budget(tuner: Any, config: TunerState, kwargs: dict[str, Any]) -> None:
    """Warn about a budget that defeats itself (too few trials for its checks)."""
    limit = kwargs.get("max_consecutive_failed_trials", _DEFAULT_FAILURE_LIMIT)
    trials = config.budget.get("max_trials")
    if config.schedule is not None:
        trials = config.schedule.total_trials
    if trials is not None and limit and trials < limit:
        warn(
            f"The search runs {trials} trial(s), fewer than KerasTuner's "
            f"consecutive-failure limit (max_consecutive_failed_trials={limit}): "
            "if every trial fails, KerasTuner returns normally with no result. "
            "tunekit raises SearchFailedError in that case; look at "
            "`tunekit.summarize(tuner)` for the failures.",
            UserWarning,
        )
    if config.kind == "bayesian_optimization":
        dims = len(tuner.oracle.hyperparameters.space)
        initial = config.settings.get("num_initial_points") or max(3 * dims, 3)
        if config.budget["max_trials"] <= initial:
            warn(
                f"max_trials={config.budget['max_trials']} is not larger than "
                f"the {initial} random initial points (num_initial_points="
                f"{config.settings.get('num_initial_points')}, KerasTuner's "
                f"default is max(3 * {dims} hyperparameters, 3)): the Gaussian "
                "process would never run and this is a random search. Raise "
                "`max_trials` or lower `num_initial_points`.",
                UserWarning,
            )
