"""What tunekit records about each trial, beside KerasTuner's ``trial.json``.

KerasTuner keeps one score and one ``best_step`` per trial. tunekit's tuners
also write ``trial_<id>/tunekit_trial.json`` with, for every model the trial
trained (one per fold and execution): the objective at each epoch, the epoch
it started from, its seed, the fit arguments tuned for it and the number of
training and validation samples; and for the trial: the cross-validation
splitter, and where it was pruned. The file survives a reload of the project
and feeds :func:`tunekit.summarize`, pruning and :func:`tunekit.refit_best`.

Epochs are 0-based, as in Keras callbacks and KerasTuner's ``best_step``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from tunekit._atomic import write_json
from tunekit.tuners._state import tuner_state

__all__ = ["RECORD_FILE", "RunRecord", "TrialRecord", "load_record", "save_record"]

RECORD_FILE = "tunekit_trial.json"
_VERSION = 1


def _clean(value: Any) -> float | None:
    if value is None:
        return None
    value = float(np.mean(value))
    return None if math.isnan(value) else value


def _best_index(values: list[float | None], direction: str) -> int | None:
    best = None
    for index, value in enumerate(values):
        if value is None:
            continue
        if best is None or (
            value > values[best] if direction == "max" else value < values[best]
        ):
            best = index
    return best


@dataclass
class RunRecord:
    """One model trained by a trial (one fold, one execution).

    Attributes
    ----------
    fold : int or None
        The cross-validation fold, or None without ``cv``.
    execution : int
        The execution within the fold (``executions_per_trial``).
    seed : int or None
        The seed the model was built and trained with (tuner ``seed``).
    initial_epoch : int
        The first epoch trained (Hyperband's continuation rounds start later).
    values : list of float or None
        The objective after each epoch trained (None where it was not logged
        or was NaN).
    fit_arguments : dict
        The fit arguments tuned for this trial (``batch_size``...).
    train_samples, validation_samples : int or None
        How many samples it was trained and validated on, when known.
    """

    fold: int | None = None
    execution: int = 0
    seed: int | None = None
    initial_epoch: int = 0
    values: list[float | None] = field(default_factory=list)
    fit_arguments: dict[str, Any] = field(default_factory=dict)
    train_samples: int | None = None
    validation_samples: int | None = None

    @property
    def epochs_trained(self) -> int:
        """Number of epochs this model trained."""
        return len(self.values)

    def best_epoch(self, direction: str) -> int | None:
        """The (0-based, absolute) epoch with the best objective, or None."""
        index = _best_index(self.values, direction)
        return None if index is None else self.initial_epoch + index

    def best_value(self, direction: str) -> float | None:
        """The best objective value of this model, or None."""
        index = _best_index(self.values, direction)
        return None if index is None else self.values[index]

    def curve(self) -> dict[int, float]:
        """``{epoch: objective}`` for the epochs whose objective was logged."""
        return {
            self.initial_epoch + i: v
            for i, v in enumerate(self.values)
            if v is not None
        }


@dataclass
class TrialRecord:
    """Everything tunekit recorded about one trial (see the module docstring).

    Attributes
    ----------
    trial_id : str
    objective : str
        The objective's name.
    direction : str
        ``"min"`` or ``"max"``.
    runs : list of RunRecord
        One per model trained, in training order.
    cv : dict or None
        ``{"splitter": repr, "n_splits": k}`` for a cross-validated trial.
    pruned : dict or None
        ``{"epoch", "fold", "value", "reason"}`` when the trial was pruned.
    """

    trial_id: str
    objective: str
    direction: str
    runs: list[RunRecord] = field(default_factory=list)
    cv: dict[str, Any] | None = None
    pruned: dict[str, Any] | None = None

    # ---- derived values ----------------------------------------------------

    @property
    def epochs_trained(self) -> int:
        """The most epochs any model of the trial trained (0 without runs)."""
        return max((run.epochs_trained for run in self.runs), default=0)

    @property
    def best_epochs(self) -> list[int]:
        """Each model's best epoch (0-based), models without a value left out."""
        found = (run.best_epoch(self.direction) for run in self.runs)
        return [epoch for epoch in found if epoch is not None]

    @property
    def best_epoch(self) -> int | None:
        """The trial's best epoch: KerasTuner's rule, the mean over models, floored."""
        epochs = self.best_epochs
        return int(np.mean(epochs)) if epochs else None

    @property
    def refit_epochs(self) -> int | None:
        """Epochs to train a refit for: the mean best epoch count, rounded."""
        epochs = self.best_epochs
        if not epochs:
            return None
        return max(1, round(float(np.mean([e + 1 for e in epochs]))))

    @property
    def fold_scores(self) -> list[float] | None:
        """Best objective of each fold (mean over executions), or None without cv."""
        if self.cv is None:
            return None
        by_fold: dict[int, list[float]] = {}
        for run in self.runs:
            value = run.best_value(self.direction)
            if run.fold is not None and value is not None:
                by_fold.setdefault(run.fold, []).append(value)
        return [float(np.mean(by_fold[k])) for k in sorted(by_fold)]

    @property
    def fold_std(self) -> float | None:
        """Standard deviation (``ddof=0``, as ``numpy.std``) of the fold scores."""
        scores = self.fold_scores
        return float(np.std(scores)) if scores else None

    @property
    def fit_arguments(self) -> dict[str, Any]:
        """The tuned fit arguments of the trial (those of its first model)."""
        return dict(self.runs[0].fit_arguments) if self.runs else {}

    @property
    def train_samples(self) -> float | None:
        """Mean number of training samples per model, when known."""
        found = [r.train_samples for r in self.runs if r.train_samples is not None]
        return float(np.mean(found)) if found else None

    def fold_curves(self, fold: int | None) -> dict[int, float]:
        """``{epoch: objective}`` of ``fold``, averaged over its executions."""
        sums: dict[int, list[float]] = {}
        for run in self.runs:
            if run.fold != fold:
                continue
            for epoch, value in run.curve().items():
                sums.setdefault(epoch, []).append(value)
        return {epoch: float(np.mean(v)) for epoch, v in sorted(sums.items())}

    # ---- storage -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (with derived values, for people reading the file)."""
        data = asdict(self)
        data["version"] = _VERSION
        data["best_epoch"] = self.best_epoch
        data["epochs_trained"] = self.epochs_trained
        data["fold_scores"] = self.fold_scores
        data["fold_std"] = self.fold_std
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialRecord:
        """Rebuild a record written by :meth:`to_dict`."""
        runs = [
            RunRecord(**{k: v for k, v in run.items() if k in _RUN_FIELDS})
            for run in data.get("runs", [])
        ]
        return cls(
            trial_id=str(data["trial_id"]),
            objective=str(data.get("objective", "")),
            direction=str(data.get("direction", "min")),
            runs=runs,
            cv=data.get("cv"),
            pruned=data.get("pruned"),
        )


_RUN_FIELDS = frozenset(RunRecord.__dataclass_fields__)


def record_path(project_dir: str, trial_id: str) -> str:
    """Where the record of ``trial_id`` lives in ``project_dir``."""
    return os.path.join(str(project_dir), f"trial_{trial_id}", RECORD_FILE)


def _cache(tuner: Any) -> dict[str, TrialRecord]:
    state = tuner_state(tuner)
    return {} if state is None else state.records  # a plain tuner: no cache


def save_record(tuner: Any, record: TrialRecord) -> None:
    """Write ``record`` into its trial directory (atomically) and cache it."""
    _cache(tuner)[record.trial_id] = record
    path = record_path(tuner.project_dir, record.trial_id)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json(path, record.to_dict(), indent=2, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def load_record(tuner: Any, trial_id: str) -> TrialRecord | None:
    """The record of ``trial_id`` (memory first, then the project), or None."""
    cache = _cache(tuner)
    if trial_id in cache:
        return cache[trial_id]
    project_dir = getattr(tuner, "project_dir", None)
    if project_dir is None:
        return None
    path = record_path(project_dir, trial_id)
    try:
        with open(path, encoding="utf-8") as handle:
            record = TrialRecord.from_dict(json.load(handle))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    cache[trial_id] = record
    return record


def clean_value(value: Any) -> float | None:
    """A logged objective as a float, NaN and missing as None."""
    try:
        return _clean(value)
    except (TypeError, ValueError):
        return None
