"""The search report's data, read from a project on disk or from a summary.

:func:`report_from_project` reads a project directory (finished, interrupted
or still running; no Keras, no hypermodel needed): each trial's status, score,
best epoch and hyperparameters, the collapsed / NaN-loss / pruned flags, a
trial whose search process died as ``INTERRUPTED`` (the project lock tells
whether its owner is alive), the Hyperband schedule's settings, and every
trial file that could not be read, by name. :func:`report_from_summary` takes
:func:`tunekit.summarize`'s result. Both return a :class:`ReportData`, which
:mod:`tunekit.tuners._report_html` renders; this module never imports it.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tunekit._errors import InvalidParameterError
from tunekit._validation import received
from tunekit.tuners._project_files import FINGERPRINT_FILE, ORACLE_FILE, TRIAL_FILE
from tunekit.tuners._project_lock import LockOwner, lock_state
from tunekit.tuners._trial_health import (
    chance_levels,
    collapsed_history,
    nan_history,
)

__all__ = [
    "INTERRUPTED",
    "ReportData",
    "ReportTrial",
    "numeric_key",
    "report_from_project",
    "report_from_summary",
]

_LOG_SAMPLING = ("log", "reverse_log")
#: Status of a trial whose search process died while it ran (never KerasTuner's).
INTERRUPTED = "INTERRUPTED"
_HYPERBAND_KEYS = (
    "tuner/epochs",
    "tuner/initial_epoch",
    "tuner/bracket",
    "tuner/round",
)


@dataclass(frozen=True)
class ReportTrial:
    """One trial as the report shows it.

    Examples
    --------
    >>> trial = ReportTrial("3", "COMPLETED", 0.91, 4, {"units": 32})
    >>> trial.finished
    True
    """

    trial_id: str
    status: str
    score: float | None
    best_epoch: int | None
    hyperparameters: dict[str, Any]
    flags: tuple[str, ...] = ()
    message: str | None = None
    finished_seconds: float | None = None
    hyperband: dict[str, int] = field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """Completed with a finite score."""
        return (
            self.status == "COMPLETED"
            and self.score is not None
            and not math.isnan(self.score)
        )


@dataclass
class ReportData:
    """Everything the page shows.

    ``unreadable`` lists ``(path, error)`` of the trial files that could not
    be read; ``log_scale`` names the hyperparameters sampled on a log scale
    (plotted on log axes).

    Examples
    --------
    >>> data = ReportData("demo", ("val_loss", "min"), [
    ...     ReportTrial("0", "COMPLETED", 0.5, 1, {"u": 2}),
    ...     ReportTrial("1", "COMPLETED", 0.3, 1, {"u": 4})])
    >>> data.best_trial.trial_id, data.best_so_far
    ('1', [0.5, 0.3])
    """

    title: str
    objective: tuple[str, str]
    trials: list[ReportTrial]
    hyperband: dict[str, int] | None = None
    running: bool = False
    source: str = ""
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    log_scale: frozenset[str] = frozenset()
    n_classes: int | None = None

    @property
    def flagged(self) -> dict[str, list[str]]:
        """Trial ids by flag (``collapsed``, ``nan_loss``, ``pruned``), in order."""
        found: dict[str, list[str]] = {}
        for trial in self.trials:
            for flag in trial.flags:
                found.setdefault(flag, []).append(trial.trial_id)
        return found

    @property
    def direction(self) -> str:
        """``"max"`` or ``"min"``."""
        return self.objective[1]

    def _better(self, a: float, b: float) -> bool:
        return a > b if self.direction == "max" else a < b

    @property
    def best_so_far(self) -> list[float | None]:
        """Best finished score after each trial (``None`` before the first)."""
        best: float | None = None
        curve = []
        for trial in self.trials:
            if trial.finished and (best is None or self._better(trial.score, best)):
                best = trial.score
            curve.append(best)
        return curve

    @property
    def best_trial(self) -> ReportTrial | None:
        """The best finished trial (the first of equal scores)."""
        best = None
        for trial in self.trials:
            if trial.finished and (
                best is None or self._better(trial.score, best.score)
            ):
                best = trial
        return best


# ---- reading a project directory -------------------------------------------


def _read_json(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _read_trial_json(path: str) -> tuple[Any, str | None]:
    """``(data, None)``, or ``(None, why)`` when the file cannot be read.

    A file being rewritten by a running search can be caught half written:
    it is read a second time before it counts as unreadable.
    """
    why = None
    for attempt in range(2):
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as error:
            why = f"{type(error).__name__}: {error}"
        else:
            if isinstance(data, dict):
                return data, None
            why = f"not a JSON object but {type(data).__name__}"
        if attempt == 0:
            time.sleep(0.05)
    return None, why


def _history(metrics: dict[str, Any], name: str) -> list[float]:
    entry = (metrics.get("metrics") or {}).get(name) or {}
    values = []
    for observation in entry.get("observations") or []:
        value = observation.get("value")
        if isinstance(value, list):
            value = sum(value) / len(value) if value else None
        if value is not None:
            values.append(float(value))
    return values


def _disk_flags(
    metrics: dict[str, Any], record: dict[str, Any] | None, n_classes: int | None
) -> list[str]:
    flags = []
    names = list((metrics.get("metrics") or {}).keys())
    histories = {name: _history(metrics, name) for name in names}
    if collapsed_history(histories, chance_levels(n_classes)):
        flags.append("collapsed")
    if nan_history(histories):
        flags.append("nan_loss")
    if record and record.get("pruned"):
        flags.append("pruned")
    return flags


def _last_line(message: Any) -> str | None:
    if not message:
        return None
    lines = [line.strip() for line in str(message).splitlines() if line.strip()]
    return lines[-1] if lines else None


def _trial_order(project_dir: str, oracle: dict[str, Any] | None) -> list[str]:
    found = sorted(
        name[len("trial_") :]
        for name in os.listdir(project_dir)
        if name.startswith("trial_")
        and os.path.isfile(os.path.join(project_dir, name, TRIAL_FILE))
    )
    order = [str(i) for i in (oracle or {}).get("start_order") or []]
    order = [i for i in order if i in found]
    rest = sorted((i for i in found if i not in order), key=numeric_key)
    return order + rest


def numeric_key(trial_id: str) -> tuple[int, str]:
    digits = "".join(ch for ch in trial_id if ch.isdigit())
    return (int(digits) if digits else 0, trial_id)


def _hyperband_settings(
    fingerprint: dict[str, Any] | None, oracle: dict[str, Any] | None
) -> dict[str, int] | None:
    for source in (
        (fingerprint or {}).get("settings") or {},
        (fingerprint or {}).get("budget") or {},
        oracle or {},
    ):
        if "max_epochs" in source and "factor" in source:
            return {
                "max_epochs": int(source["max_epochs"]),
                "factor": int(source["factor"]),
                "hyperband_iterations": int(source.get("hyperband_iterations", 1)),
            }
    return None


def report_from_project(
    project_dir: str | os.PathLike[str],
    *,
    n_classes: int | None = None,
    title: str | None = None,
) -> ReportData:
    """Read a KerasTuner project directory (tunekit's or plain KerasTuner's).

    Parameters
    ----------
    project_dir : str or path-like
        ``directory/project_name`` of the search: the folder holding
        ``oracle.json`` and the ``trial_*`` folders. It may belong to a
        search that is still running or was interrupted.
    n_classes : int, optional
        Number of classes; with it, a trial whose best accuracy is ``1/k``
        is flagged ``collapsed``. Default: the number the project recorded
        in ``tunekit.json`` (``tunekit tune`` and any search of
        :func:`tunekit.build_cnn_hypermodel` do), else no check.
    title : str, optional
        Page title (default: the project's folder name).

    Returns
    -------
    ReportData

    Examples
    --------
    >>> import tempfile
    >>> report_from_project(tempfile.mkdtemp()).trials
    []
    """
    root = os.fspath(project_dir)
    if not os.path.isdir(root):
        raise InvalidParameterError(
            "`project_dir` must be the folder of a tuner project (the one "
            "holding oracle.json and the trial_* folders), but it does not "
            f"exist. {received('project_dir', root)}"
        )
    if n_classes is not None and (
        isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2
    ):
        raise InvalidParameterError(
            f"`n_classes` must be an integer >= 2 or None. "
            f"{received('n_classes', n_classes)}"
        )
    oracle = _read_json(os.path.join(root, ORACLE_FILE))
    fingerprint = _read_json(os.path.join(root, FINGERPRINT_FILE))
    if n_classes is None:
        n_classes = _recorded_classes(fingerprint)
    objective = _objective(fingerprint)
    state, owner = lock_state(root)
    # A tunekit search holds the lock while it runs: without a live holder,
    # a trial still marked RUNNING was interrupted (its process died).
    alive = state == "held" or (state == "none" and fingerprint is None)
    trials: list[ReportTrial] = []
    unreadable: list[tuple[str, str]] = []
    log_scale: set[str] = set()
    ends: list[float] = []
    for trial_id in _trial_order(root, oracle):
        folder = os.path.join(root, f"trial_{trial_id}")
        path = os.path.join(folder, TRIAL_FILE)
        data, why = _read_trial_json(path)
        if data is None:
            unreadable.append((os.path.abspath(path), str(why)))
            continue
        record = _read_json(os.path.join(folder, "tunekit_trial.json"))
        metrics = data.get("metrics") or {}
        if objective is None:
            objective = _objective_from_trial(data)
        log_scale |= _log_sampled(data)
        values = (data.get("hyperparameters") or {}).get("values") or {}
        status = str(data.get("status") or "UNKNOWN")
        message = None if status == "COMPLETED" else _last_line(data.get("message"))
        if status == "RUNNING" and not alive:
            status, message = INTERRUPTED, _interrupted_message(owner)
        score = data.get("score")
        end = os.path.getmtime(path)
        if status != "RUNNING":
            ends.append(end)
        trials.append(
            ReportTrial(
                trial_id=str(data.get("trial_id", trial_id)),
                status=status,
                score=None if score is None else float(score),
                best_epoch=data.get("best_step") if status == "COMPLETED" else None,
                hyperparameters={
                    k: v for k, v in values.items() if not k.startswith("tuner/")
                },
                flags=tuple(_disk_flags(metrics, record, n_classes)),
                message=message,
                finished_seconds=None if status == "RUNNING" else end,
                hyperband={
                    k[6:]: int(values[k]) for k in _HYPERBAND_KEYS if k in values
                },
            )
        )
    start = _search_start(root, ends)
    trials = [
        t
        if t.finished_seconds is None
        else _replace(t, finished_seconds=max(0.0, t.finished_seconds - start))
        for t in trials
    ]
    running = alive and (
        state == "held"
        or any(t.status == "RUNNING" for t in trials)
        or bool((oracle or {}).get("ongoing_trials"))
    )
    return ReportData(
        title=title or os.path.basename(os.path.normpath(root)),
        objective=objective or ("score", "max"),
        trials=_with_collapse_advice(
            trials,
            objective or ("score", "max"),
            {"1/k": 1 / n_classes} if n_classes else {},
        ),
        hyperband=_hyperband_settings(fingerprint, oracle),
        running=running,
        source=os.path.abspath(root),
        unreadable=unreadable,
        log_scale=frozenset(log_scale),
        n_classes=n_classes,
    )


def _with_collapse_advice(
    trials: list[ReportTrial], objective: tuple[str, str], levels: dict[str, float]
) -> list[ReportTrial]:
    """Give each collapsed trial the advice :func:`collapse_advice` words."""
    from tunekit.labels._diagnostics import collapse_advice, healthy_trial

    healthy = healthy_trial(trials, objective[1])
    return [
        _replace(
            t,
            message=collapse_advice(levels, healthy, objective=objective[0])
            if t.message is None
            else t.message,
        )
        if "collapsed" in t.flags
        else t
        for t in trials
    ]


def _interrupted_message(owner: LockOwner | None) -> str:
    who = "its search process" if owner is None else f"pid {owner.pid}"
    return (
        f"interrupted: {who} stopped during this trial (killed or crashed); "
        "resuming the search runs the trial again"
    )


def _log_sampled(data: dict[str, Any]) -> set[str]:
    """Names of the hyperparameters the trial's space samples on a log scale."""
    space = (data.get("hyperparameters") or {}).get("space") or []
    names = set()
    for entry in space:
        config = entry.get("config") if isinstance(entry, dict) else None
        if isinstance(config, dict) and config.get("sampling") in _LOG_SAMPLING:
            names.add(str(config.get("name")))
    return names


def _recorded_classes(fingerprint: Any) -> int | None:
    """The ``n_classes`` a tuner recorded in ``tunekit.json``, if valid."""
    value = fingerprint.get("n_classes") if isinstance(fingerprint, dict) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 2:
        return value
    return None


def _replace(trial: ReportTrial, **changes: Any) -> ReportTrial:
    import dataclasses

    return dataclasses.replace(trial, **changes)


def _search_start(root: str, ends: Sequence[float]) -> float:
    if not ends:
        return 0.0
    first = min(ends)
    fingerprint = os.path.join(root, FINGERPRINT_FILE)
    if os.path.exists(fingerprint) and os.path.getmtime(fingerprint) < first:
        return os.path.getmtime(fingerprint)
    return first


def _objective(fingerprint: Any) -> tuple[str, str] | None:
    try:
        name, direction = fingerprint["objective"][0]
        return str(name), str(direction)
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _objective_from_trial(data: dict[str, Any]) -> tuple[str, str] | None:
    metrics = (data.get("metrics") or {}).get("metrics") or {}
    score = data.get("score")
    for name, entry in metrics.items():
        values = _history(data.get("metrics") or {}, name)
        if (
            score is not None
            and values
            and any(math.isclose(v, score, rel_tol=1e-6) for v in values)
        ):
            if name.startswith("val_"):
                return name, str(entry.get("direction") or "max")
    return None


# ---- from a SearchSummary ---------------------------------------------------


def report_from_summary(summary: Any, *, title: str | None = None) -> ReportData:
    """Build the report from :func:`tunekit.summarize`'s ``SearchSummary``.

    Examples
    --------
    >>> from tunekit.tuners._summary import SearchSummary
    >>> report_from_summary(SearchSummary([("val_loss", "min")])).objective
    ('val_loss', 'min')
    """
    objective = tuple(summary.objective[0]) if summary.objective else ("score", "max")
    trials = [
        ReportTrial(
            trial_id=row.trial_id,
            status=row.status,
            score=row.score,
            best_epoch=row.best_epoch,
            hyperparameters=dict(row.hyperparameters),
            flags=tuple(row.flags),
            message=row.message,
            finished_seconds=getattr(row, "finished_seconds", None),
        )
        for row in summary.rows
    ]
    objective = (str(objective[0]), str(objective[1]))
    return ReportData(
        title=title or "search report",
        objective=objective,
        trials=_with_collapse_advice(trials, objective, summary.chance_levels),
        hyperband=getattr(summary, "hyperband", None),
        running=any(t.status == "RUNNING" for t in trials),
        source="tunekit.summarize",
        log_scale=frozenset(getattr(summary, "log_scale", ())),
    )
