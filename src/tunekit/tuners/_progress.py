"""tunekit's search display: one line per trial, in a terminal and in a notebook.

KerasTuner's own display prints a hyperparameter table per trial, clears the
notebook cell at every trial (only the last trial survives) and lets Keras
print hundreds of progress-bar lines in a terminal. :class:`SearchProgress`
prints one line per finished trial instead, and never clears anything::

    [ 2/10] trial 01  epochs 3  val_accuracy 0.9312  best 0.9312  4.1s  lr=0.001

with a flag when a trial collapsed (its accuracy sits at chance, ``1/k``, or
at the majority-class rate) or its loss became NaN. Inactive conditional
hyperparameters are shown as ``-`` (see :func:`display_values`).
:func:`space_combinations` counts the distinct combinations of a search space
so that a search asking for more trials than exist says so before it starts.
"""

from __future__ import annotations

import math
import shutil
import sys
import textwrap
import time
from typing import Any, TextIO

import numpy as np

from tunekit.tuners._state import tuner_state
from tunekit.tuners._trial_health import (
    ACCURACY_METRICS,
    base_name,
    classes_from_y,
    collapsed,
    metric_history,
    nan_loss,
)

__all__ = [
    "INACTIVE",
    "SearchProgress",
    "display_values",
    "fewer_combinations_note",
    "format_value",
    "interrupted_line",
    "space_combinations",
]

INACTIVE = "-"
_STATUS_DONE = ("COMPLETED", "FAILED", "INVALID")


# --------------------------------------------------------------------------
# Hyperparameter values for display
# --------------------------------------------------------------------------


def _is_active(hyperparameters: Any, hp: Any) -> bool:
    try:
        return bool(hyperparameters.is_active(hp))
    except Exception:
        return hp.name in hyperparameters.values


def display_values(hyperparameters: Any) -> dict[str, Any]:
    """A trial's tuned values for display, inactive ones as ``"-"``.

    Every hyperparameter of the trial's space is listed in space order;
    KerasTuner's bookkeeping values (``tuner/epochs``...) are left out. A
    hyperparameter of a conditional scope whose condition does not hold (or
    that the trial never used) is :data:`INACTIVE`, ``"-"``.

    Parameters
    ----------
    hyperparameters : keras_tuner.HyperParameters
        ``trial.hyperparameters``.

    Returns
    -------
    dict

    Examples
    --------
    >>> import keras_tuner
    >>> from tunekit.tuners._progress import display_values
    >>> hp = keras_tuner.HyperParameters()
    >>> kind = hp.Choice("kind", ["dense", "conv"])
    >>> with hp.conditional_scope("kind", ["conv"]):
    ...     filters = hp.Int("filters", 8, 32, step=8)
    >>> display_values(hp)
    {'kind': 'dense', 'filters': '-'}
    """
    values = dict(hyperparameters.values)
    shown: dict[str, Any] = {}
    for hp in getattr(hyperparameters, "space", []):
        if hp.name.startswith("tuner/") or hp.name in shown:
            continue
        active = _is_active(hyperparameters, hp)
        shown[hp.name] = values.get(hp.name, INACTIVE) if active else INACTIVE
    for name, value in values.items():
        if not name.startswith("tuner/") and name not in shown:
            shown[name] = value
    return shown


def format_value(value: Any, digits: int = 4) -> str:
    """A hyperparameter value for display: floats to ``digits`` significant digits.

    ``0.1 + 0.2`` is shown ``0.3``, not ``0.30000000000000004``; other values
    as ``str``. JSON output keeps the exact numbers.

    Examples
    --------
    >>> from tunekit.tuners._progress import format_value
    >>> format_value(0.1 + 0.2), format_value(0.00012345), format_value(32)
    ('0.3', '0.0001234', '32')
    """
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.{digits}g}"
    return str(value)


def _format_value(value: Any) -> str:
    return format_value(value, 3)


# --------------------------------------------------------------------------
# Size of a search space
# --------------------------------------------------------------------------


def _finite_values(hp: Any) -> list[Any] | None:
    """The values ``hp`` can take, or ``None`` when there are infinitely many."""
    kind = type(hp).__name__
    if kind == "Fixed":
        return [hp.value]
    if kind == "Boolean":
        return [False, True]
    if kind == "Choice":
        return list(hp.values)
    if kind in ("Int", "Float"):
        if getattr(hp, "step", None) is None:
            return None  # a continuous Float
        count = hp._get_n_values()
        if count > 1_000_000:
            return None
        return [hp._get_value_by_index(i) for i in range(count)]
    return None


def space_combinations(hyperparameters: Any, *, at_most: int = 100_000) -> int | None:
    """Count the distinct hyperparameter combinations of a search space.

    Conditional scopes are followed: a hyperparameter only multiplies the
    combinations in which its parent has a matching value.

    Parameters
    ----------
    hyperparameters : keras_tuner.HyperParameters
        The search space (``tuner.oracle.hyperparameters``).
    at_most : int, default=100_000
        Stop counting above this number.

    Returns
    -------
    int or None
        The number of combinations; ``None`` when it is infinite (a ``Float``
        without ``step``) or larger than ``at_most``.

    Examples
    --------
    >>> import keras_tuner
    >>> from tunekit.tuners._progress import space_combinations
    >>> hp = keras_tuner.HyperParameters()
    >>> kind = hp.Choice("kind", ["dense", "conv"])
    >>> with hp.conditional_scope("kind", ["conv"]):
    ...     filters = hp.Int("filters", 8, 32, step=8)  # 4 values
    >>> space_combinations(hp)  # dense, or conv with one of 4 filter counts
    5
    """
    combinations: list[dict[str, Any]] = [{}]
    for hp in hyperparameters.space:
        if hp.name.startswith("tuner/"):
            continue
        values = _finite_values(hp)
        if values is None:
            return None
        grown: list[dict[str, Any]] = []
        for combination in combinations:
            conditions = getattr(hp, "conditions", None) or []
            if not all(c.is_active(combination) for c in conditions):
                grown.append(combination)  # inactive here: does not branch
                continue
            grown.extend({**combination, hp.name: value} for value in values)
            if len(grown) > at_most:
                return None
        combinations = grown
    return len(combinations)


def fewer_combinations_note(hyperparameters: Any, trials: int | None) -> str | None:
    """A note when the space has fewer combinations than ``trials``, else ``None``.

    Examples
    --------
    >>> import keras_tuner
    >>> from tunekit.tuners._progress import fewer_combinations_note
    >>> hp = keras_tuner.HyperParameters()
    >>> _ = hp.Choice("units", [8, 16])
    >>> print(fewer_combinations_note(hp, 10))  # doctest: +ELLIPSIS
    note: the search space has only 2 combinations of hyperparameter values, ...
    >>> fewer_combinations_note(hp, 2) is None
    True
    """
    if not trials:
        return None
    count = space_combinations(hyperparameters, at_most=max(trials, 1))
    if count is None or count >= trials:
        return None
    return (
        f"note: the search space has only {count} combination"
        f"{'s' if count != 1 else ''} of hyperparameter values, fewer than the "
        f"{trials} trials asked for; KerasTuner stops when it cannot draw a new "
        f"combination, so at most {count} new trial{'s' if count != 1 else ''} "
        "will run."
    )


# --------------------------------------------------------------------------
# Counting trials
# --------------------------------------------------------------------------


def _trials(tuner: Any) -> dict[str, Any] | None:
    trials = getattr(tuner.oracle, "trials", None)
    return trials if isinstance(trials, dict) else None


def planned_trials(tuner: Any) -> int | None:
    """How many trials the whole search runs (Hyperband: its schedule), if known."""
    state = tuner_state(tuner)
    schedule = None if state is None else state.schedule
    max_trials = getattr(tuner.oracle, "max_trials", None)
    if schedule is not None:
        total = schedule.total_trials
        return min(total, max_trials) if max_trials else total
    return max_trials or None


def new_configurations_asked(tuner: Any) -> int | None:
    """How many distinct hyperparameter combinations the search will draw."""
    state = tuner_state(tuner)
    schedule = None if state is None else state.schedule
    if schedule is not None:
        return schedule.new_configurations
    return getattr(tuner.oracle, "max_trials", None) or None


def interrupted_line(tuner: Any) -> str:
    """The one line printed when Ctrl-C stops a search.

    It counts the trials that really completed: the trial that was running
    is not complete, and KerasTuner runs it again when the search resumes.
    """
    trials = _trials(tuner)
    resume = "Rerun the same call (or command) to resume the search."
    if trials is None:  # a distributed worker: the chief keeps the trials
        return f"tunekit: search interrupted. {resume}"
    completed = sum(t.status == "COMPLETED" for t in trials.values())
    failed = sum(t.status in ("FAILED", "INVALID") for t in trials.values())
    unfinished = sorted(
        str(t.trial_id) for t in trials.values() if t.status not in _STATUS_DONE
    )
    total = planned_trials(tuner)
    of_total = f" of {total}" if total else ""
    plural = "s" if (total or completed) != 1 else ""
    parts = [f"{completed}{of_total} trial{plural} complete"]
    if failed:
        parts.append(f"{failed} failed")
    if unfinished:
        ids = ", ".join(unfinished)
        parts.append(f"trial {ids} did not finish and will run again")
    return f"tunekit: search interrupted: {'; '.join(parts)}. {resume}"


# --------------------------------------------------------------------------
# The display
# --------------------------------------------------------------------------


def _seconds_text(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


def _labels_of_objective(objective_names: list[str], arguments: dict) -> Any:
    """The labels the objective is computed on (validation labels for val_*)."""
    y = arguments.get("y")
    validation = arguments.get("validation_data")
    if any(name.startswith("val_") for name in objective_names):
        if isinstance(validation, (tuple, list)) and len(validation) >= 2:
            return validation[1]
        return None if validation is not None else y
    return y


def _chance_from_labels(y: Any) -> tuple[int | None, float | None]:
    if y is None or not hasattr(y, "shape"):
        return None, None
    try:
        return classes_from_y(y)
    except Exception:
        return None, None


class SearchProgress:
    """tunekit's default search display: one line per trial, never cleared.

    tunekit's tuners install one for every ``search()`` called without
    ``verbose=`` (pass ``verbose=1`` to get KerasTuner's display and Keras'
    progress bars back). It can also be driven by hand from a tuner's
    ``on_trial_begin`` / ``on_epoch_end`` / ``on_trial_end`` hooks.

    Parameters
    ----------
    stream : file-like, optional
        Where to write; ``sys.stdout`` at the time of writing by default (so
        notebook cells and ``contextlib.redirect_stdout`` receive it).
    width : int, optional
        Lines longer than this are cut (ending in ``...``). By default the
        terminal's width when writing to a terminal, and no limit otherwise
        (a notebook, a log file): a cell or a log never wraps a line into two.
    tol : float, default=0.02
        How close to ``1/k`` or the majority rate an accuracy must be for the
        trial to be flagged as collapsed (as :func:`tunekit.summarize`).

    Examples
    --------
    >>> import io
    >>> from tunekit.tuners._progress import SearchProgress
    >>> progress = SearchProgress(stream=io.StringIO(), width=100)
    >>> progress.width
    100
    >>> SearchProgress(stream=io.StringIO()).width is None  # not a terminal
    True
    """

    def __init__(
        self, *, stream: TextIO | None = None, width: int | None = None, tol=0.02
    ) -> None:
        self.stream = stream
        self.width = width if width is not None else _terminal_width(stream)
        self.tol = tol
        self.total: int | None = None
        self.levels: dict[str, float] = {}
        self.majority: float | None = None
        self.classes_from_labels: int | None = None
        self._search_start = time.perf_counter()
        self._trial_start: dict[str, float] = {}
        self._epochs: dict[str, int] = {}
        self._nan: set[str] = set()
        self._done = 0
        self._best: float | None = None
        self._seen: list[Any] = []  # finished trials, for the collapse advice
        self._advised: set[bool] = set()  # kinds of collapse advice given
        self.lines: list[str] = []

    # -- output ------------------------------------------------------------

    def write(self, text: str) -> None:
        """Write one line (kept in :attr:`lines` too)."""
        self.lines.append(text)
        stream = self.stream if self.stream is not None else sys.stdout
        print(text, file=stream, flush=True)

    # -- hooks -------------------------------------------------------------

    def on_search_begin(
        self, tuner: Any, arguments: dict[str, Any] | None = None
    ) -> None:
        """Print the header (and the fewer-combinations note, if any)."""
        self._search_start = time.perf_counter()
        self.total = planned_trials(tuner)
        names = [name for name, _ in _objectives(tuner)]
        y = _labels_of_objective(names, arguments or {})
        self.classes_from_labels, self.majority = _chance_from_labels(y)
        self._update_levels(None)
        trials = _trials(tuner) or {}
        self._done = sum(t.status in _STATUS_DONE for t in trials.values())
        try:
            best = tuner.oracle.get_best_trials(1)
            self._best = best[0].score if best else None
        except Exception:
            self._best = None
        state = tuner_state(tuner)
        # Optuna's samplers may draw a combination again: no cap to announce.
        samples_again = state is not None and state.kind == "optuna"
        note = (
            None
            if samples_again
            else fewer_combinations_note(
                tuner.oracle.hyperparameters, new_configurations_asked(tuner)
            )
        )
        if note:
            self.write(note)
        objective = ", ".join(f"{n} ({d})" for n, d in _objectives(tuner))
        total = f"{self.total} trials" if self.total else "trials"
        resumed = f", {self._done} already done" if self._done else ""
        self.write(
            f"Search: {total}{resumed}, objective {objective}; one line per trial"
        )

    def on_trial_begin(self, tuner: Any, trial: Any) -> None:
        """Start the trial's clock."""
        self._trial_start[trial.trial_id] = time.perf_counter()
        self._epochs[trial.trial_id] = 0

    def on_epoch_end(
        self, tuner: Any, trial: Any, model: Any, epoch: int, logs: dict | None
    ) -> None:
        """Count epochs, watch the losses for NaN, learn the number of classes."""
        self._epochs[trial.trial_id] = self._epochs.get(trial.trial_id, 0) + 1
        for name, value in (logs or {}).items():
            if name.endswith("loss") and _is_nan(value):
                self._nan.add(trial.trial_id)
        if "1/k" not in self.levels and model is not None:
            self._update_levels(model)

    def on_trial_end(self, tuner: Any, trial: Any) -> None:
        """Print the trial's line (and, for a collapse, what to check)."""
        flags = self.flags(trial)
        self.write(self.format_trial(tuner, trial, flags=flags))
        advice = self._collapse_note(tuner, trial, flags)
        if advice:
            self.write(advice)

    # -- formatting --------------------------------------------------------

    def _update_levels(self, model: Any) -> None:
        k = self.classes_from_labels
        if k is None and model is not None:
            k = _classes_from_model(model)
        levels = {}
        if k:
            levels["1/k"] = 1.0 / k
        if self.majority is not None:
            levels["majority"] = self.majority
        self.levels = levels

    def flags(self, trial: Any) -> list[str]:
        """``["collapsed(1/k)", "NaN-loss"]``: the flags that apply to ``trial``."""
        found = []
        try:
            if self.levels and collapsed(trial, self.levels, self.tol):
                found.append(f"collapsed({self._nearest_level(trial)})")
            if trial.trial_id in self._nan or nan_loss(trial):
                found.append("NaN-loss")
        except Exception:
            pass
        return found

    def _nearest_level(self, trial: Any) -> str:
        """``"1/k"`` or ``"majority"``: the chance level the trial sits at."""
        best = [
            max(metric_history(trial, name), default=math.nan)
            for name in trial.metrics.metrics
            if base_name(name) in ACCURACY_METRICS
        ]
        value = max((b for b in best if not math.isnan(b)), default=math.nan)
        return min(self.levels, key=lambda name: abs(self.levels[name] - value))

    def _collapse_note(self, tuner: Any, trial: Any, flags: list[str]) -> str | None:
        """Advice for a collapsed trial, once per kind of advice in a search.

        Also remembers the trial, so that a later collapse knows whether
        another trial learned on the same labels.
        """
        from types import SimpleNamespace

        from tunekit.labels._diagnostics import collapse_advice, healthy_trial
        from tunekit.tuners._pruning import is_pruned

        status = str(trial.status)
        if status == "COMPLETED" and is_pruned(trial):
            status = "PRUNED"
        row = SimpleNamespace(
            trial_id=str(trial.trial_id),
            status=status,
            score=trial.score,
            flags=tuple(flags),
        )
        self._seen.append(row)
        if not any(f.startswith("collapsed") for f in flags):
            return None
        direction = getattr(tuner.oracle.objective, "direction", "max")
        healthy = healthy_trial(self._seen, direction)
        if (healthy is None) in self._advised:
            return None
        self._advised.add(healthy is None)
        text = collapse_advice(self.levels, healthy, objective=_objective_name(tuner))
        lines = textwrap.wrap(
            f"trial {row.trial_id}: {text}",
            self.width or 100,
            initial_indent="    ",
            subsequent_indent="      ",
        )
        return "\n".join(lines)

    def format_trial(
        self, tuner: Any, trial: Any, *, flags: list[str] | None = None
    ) -> str:
        """The one line of a finished trial."""
        trial_id = str(trial.trial_id)
        status = str(trial.status)
        if status in _STATUS_DONE:
            self._done += 1
        score = trial.score
        if status == "COMPLETED" and score is not None and not _is_nan(score):
            self._best = _best_score(tuner, self._best, float(score))
        width = len(str(self.total or self._done))
        total = f"/{self.total}" if self.total else ""
        parts = [f"[{self._done:>{width}}{total}] trial {trial_id}"]
        epochs = _epochs_text(trial, self._epochs.get(trial.trial_id, 0))
        if epochs:
            parts.append(epochs)
        name = _objective_name(tuner)
        if status == "COMPLETED" and score is not None:
            result = f"{name} {float(score):.4f}"
        else:
            result = status.lower()
        if flags is None:
            flags = self.flags(trial)
        parts.append(" ".join([result, *(f"!{f}" for f in flags)]))
        if self._best is not None:
            parts.append(f"best {self._best:.4f}")
        started = self._trial_start.get(trial.trial_id)
        elapsed = _seconds_text(time.perf_counter() - self._search_start)
        if started is not None:
            parts.append(f"{time.perf_counter() - started:.1f}s ({elapsed})")
        else:
            parts.append(f"({elapsed})")
        values = " ".join(
            f"{k}={_format_value(v)}"
            for k, v in display_values(trial.hyperparameters).items()
        )
        line = "  " + "  ".join(parts)
        if values:
            line += "  " + values
        if self.width is not None and len(line) > self.width:
            line = line[: self.width - 3] + "..."
        return line


def _terminal_width(stream: TextIO | None) -> int | None:
    stream = stream if stream is not None else sys.stdout
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return max(shutil.get_terminal_size((100, 24)).columns, 60)


def _objectives(tuner: Any) -> list[tuple[str, str]]:
    from tunekit.tuners._objective import objective_list

    try:
        return [(o.name, o.direction) for o in objective_list(tuner.oracle.objective)]
    except Exception:
        return [("score", "min")]


def _objective_name(tuner: Any) -> str:
    names = [name for name, _ in _objectives(tuner)]
    return names[0] if len(names) == 1 else "score"


def _best_score(tuner: Any, best: float | None, score: float) -> float:
    direction = getattr(tuner.oracle.objective, "direction", "max")
    if best is None:
        return score
    return max(best, score) if direction == "max" else min(best, score)


def _epochs_text(trial: Any, counted: int) -> str:
    values = trial.hyperparameters.values
    if "tuner/epochs" in values:
        start = values.get("tuner/initial_epoch", 0)
        return f"epochs {start}->{values['tuner/epochs']}"
    return f"epochs {counted}" if counted else ""


def _is_nan(value: Any) -> bool:
    try:
        return math.isnan(float(np.mean(value)))
    except (TypeError, ValueError):
        return False


def _classes_from_model(model: Any) -> int | None:
    try:
        outputs = model.outputs
        if not outputs or len(outputs) != 1:
            return None
        units = outputs[0].shape[-1]
    except Exception:
        return None
    if units is None:
        return None
    return 2 if units == 1 else int(units)
