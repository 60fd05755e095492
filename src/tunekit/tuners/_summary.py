"""A report of a KerasTuner search: every trial, the best-so-far curve, red flags.

KerasTuner's ``results_summary`` lists only the best trials and pads them with
failed ones whose score is ``None``. :func:`summarize` lists every trial with
its status, hyperparameters, score and best epoch, the best-so-far curve, and
flags trials that look broken: a NaN loss, or an accuracy equal to chance
(``1/k``) or to the majority-class rate, the signature of a model that
predicts one class for everything.
"""

from __future__ import annotations

import dataclasses
import html
import math
import numbers
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tunekit._constraints import Interval, declare_constraints, validate_params
from tunekit._validation import invalid_parameter
from tunekit.labels._diagnostics import collapse_advice, healthy_trial
from tunekit.tuners._objective import objective_list
from tunekit.tuners._progress import INACTIVE as _INACTIVE
from tunekit.tuners._progress import display_values, format_value
from tunekit.tuners._pruning import PRUNED_MARK, is_pruned
from tunekit.tuners._trial_health import (
    ACCURACY_METRICS,
    DEFAULT_TOL,
    base_name,
    chance_levels,
    classes_from_y,
    collapsed,
    nan_loss,
)
from tunekit.tuners._trial_records import load_record

__all__ = ["SearchSummary", "TrialRow", "summarize"]

TABLE_WIDTH = 100  # the printed table fits this many columns
_CELL_WIDTH = 12  # longest value or header shown in a column of the table
_BASE_COLUMNS = ("trial", "status", "score", "best", "epoch", "flags")


@dataclass(frozen=True)
class TrialRow:
    """One trial of a search.

    Attributes
    ----------
    trial_id : str
    status : str
        ``"COMPLETED"``, ``"FAILED"``, ``"INVALID"``, ``"RUNNING"``...
    hyperparameters : dict
        Tuned values (KerasTuner's internal ``tuner/*`` values left out);
        ``"-"`` for a conditional hyperparameter that is inactive in the
        trial.
    score : float or None
        The objective's best value for the trial.
    best_epoch : int or None
        The epoch (step) where that value was reached.
    best_so_far : float or None
        The best score among this and earlier trials.
    flags : tuple of str
        ``"nan_loss"``, ``"collapsed"`` (accuracy at chance or majority rate).
    message : str or None
        The last line of the failure message, for failed trials; why it was
        stopped, for pruned ones (status ``"PRUNED"``: KerasTuner's
        ``COMPLETED`` with tunekit's pruned mark, never the best).
    epochs_trained : int or None
        The most epochs a model of the trial trained (tunekit's tuners).
    fold_scores : tuple of float or None
        Each fold's best objective, for a cross-validated trial.
    fold_std : float or None
        Their standard deviation (``numpy.std``, ``ddof=0``).
    """

    trial_id: str
    status: str
    hyperparameters: dict[str, Any]
    score: float | None
    best_epoch: int | None
    best_so_far: float | None
    flags: tuple[str, ...] = ()
    message: str | None = None
    epochs_trained: int | None = None
    fold_scores: tuple[float, ...] | None = None
    fold_std: float | None = None


@dataclass
class SearchSummary:
    """What :func:`summarize` returns. Print it for a table.

    Attributes
    ----------
    objective : list of (str, str)
        ``(name, direction)`` pairs.
    rows : list of TrialRow
        Every trial, in the order they started.
    chance_levels : dict
        The accuracies treated as "collapsed" (``"1/k"``, ``"majority"``).
    log_scale : tuple of str
        Hyperparameters sampled on a log scale (``sampling="log"`` or
        ``"reverse_log"``); the HTML report plots them on log axes.

    Examples
    --------
    >>> import tempfile, keras, numpy as np, tunekit
    >>> def build(hp):
    ...     model = keras.Sequential([keras.Input((4,)),
    ...                               keras.layers.Dense(hp.Choice("u", [2, 4])),
    ...                               keras.layers.Dense(1)])
    ...     model.compile("adam", "mse")
    ...     return model
    >>> x, y = np.ones((16, 4), "float32"), np.zeros(16, "float32")
    >>> tuner = tunekit.random_search(build, "val_loss", max_trials=2,
    ...                               directory=tempfile.mkdtemp(), verbose=False)
    >>> tuner.search(x, y, epochs=1, validation_split=0.25, verbose=0)
    >>> summary = tunekit.summarize(tuner)
    >>> len(summary.rows), summary.best_trial.score == summary.best_objective
    (2, True)
    >>> summary.objective
    [('val_loss', 'min')]
    """

    objective: list[tuple[str, str]]
    rows: list[TrialRow] = field(default_factory=list)
    chance_levels: dict[str, float] = field(default_factory=dict)
    log_scale: tuple[str, ...] = ()

    @property
    def best_so_far(self) -> list[float | None]:
        """Best score after each trial (``None`` until one completes)."""
        return [row.best_so_far for row in self.rows]

    @property
    def completed(self) -> list[TrialRow]:
        """Trials whose status is ``COMPLETED``."""
        return [row for row in self.rows if row.status == "COMPLETED"]

    @property
    def flagged(self) -> list[TrialRow]:
        """Trials with at least one flag."""
        return [row for row in self.rows if row.flags]

    @property
    def pruned(self) -> list[TrialRow]:
        """Trials stopped early by the tuner's ``pruning`` (status ``PRUNED``)."""
        return [row for row in self.rows if row.status == "PRUNED"]

    @property
    def best_trial(self) -> TrialRow | None:
        """The best completed trial, or ``None``."""
        final = self.best_so_far[-1] if self.rows else None
        if final is None:
            return None
        return next(r for r in self.completed if r.score == final)

    @property
    def best_objective(self) -> float | None:
        """The best score, or ``None`` when no trial completed."""
        best = self.best_trial
        return None if best is None else best.score

    def __repr__(self) -> str:
        best = self.best_trial
        best_text = (
            "none" if best is None else f"{best.score:.4g} (trial {best.trial_id})"
        )
        return (
            f"SearchSummary(objective={self._objective_text()}, "
            f"trials={len(self.rows)}, completed={len(self.completed)}, "
            f"best={best_text}, flagged={len(self.flagged)}"
            + (f", pruned={len(self.pruned)})" if self.pruned else ")")
        )

    def explain(self, row: TrialRow) -> str:
        """Why ``row`` is flagged and what to check ("" when it is not).

        A collapsed trial of a search where another trial learned is an
        undertrained or broken configuration, not a label problem.
        """
        name, direction = self.objective[0] if self.objective else ("score", "max")
        healthy = healthy_trial(self.rows, direction)
        return _explain(row.flags, self.chance_levels, healthy, name)

    def _objective_text(self) -> str:
        return ", ".join(f"{name} ({direction})" for name, direction in self.objective)

    def hyperparameter_names(self) -> list[str]:
        """Every hyperparameter of any trial, in the order they first appear."""
        names: dict[str, None] = {}
        for row in self.rows:
            names.update(dict.fromkeys(row.hyperparameters))
        return list(names)

    def _cells(self, row: TrialRow, hp_names: Sequence[str]) -> list[str]:
        return [
            row.trial_id,
            row.status,
            _fmt(row.score),
            _fmt(row.best_so_far),
            _fmt(row.best_epoch),
            ",".join(row.flags) or "-",
        ] + [_fmt(row.hyperparameters.get(name, _INACTIVE)) for name in hp_names]

    def table(self, width: int = TABLE_WIDTH) -> str:
        """The trials as a text table no wider than ``width`` characters.

        Long values and hyperparameter names are shortened with ``…``; the
        hyperparameter columns that do not fit are named below the table
        (``to_pandas()`` has them all). ``score`` is the trial's objective,
        ``best`` the best score so far, ``epoch`` the epoch of the score.
        """
        hp_names = self.hyperparameter_names()
        header = [*_BASE_COLUMNS, *hp_names]
        base = len(_BASE_COLUMNS)  # never shortened
        table = [header[:base] + [_short(h) for h in hp_names]]
        for row in self.rows:
            cells = self._cells(row, hp_names)
            table.append(cells[:base] + [_short(c) for c in cells[base:]])
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        shown, used = 0, -2
        for i, column_width in enumerate(widths):
            if used + 2 + column_width > width and i >= len(_BASE_COLUMNS):
                break
            used += 2 + column_width
            shown = i + 1
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(line[:shown], widths)).rstrip()
            for line in table
        ]
        hidden = header[shown:]
        if hidden:
            lines += textwrap.wrap(
                f"(not shown: {', '.join(hidden)}; see .to_pandas())", width
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        lines = [f"Search summary, objective: {self._objective_text()}"]
        lines.append(self.table())
        notes = [f"trial {row.trial_id}: {self.explain(row)}" for row in self.flagged]
        notes += [
            f"trial {row.trial_id} {row.status}: {row.message}"
            for row in self.rows
            if row.message
        ]
        notes += [_fold_note(row) for row in self.rows if row.fold_scores]
        for note in notes:
            lines += textwrap.wrap(note, TABLE_WIDTH, subsequent_indent="  ")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """An HTML table for notebooks (every hyperparameter, flags explained)."""
        hp_names = self.hyperparameter_names()
        header = [*_BASE_COLUMNS, *hp_names]
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = []
        best = self.best_trial
        for row in self.rows:
            style = ' style="font-weight: bold"' if row is best else ""
            cells = "".join(
                f"<td>{html.escape(c)}</td>" for c in self._cells(row, hp_names)
            )
            body.append(f"<tr{style}>{cells}</tr>")
        notes = "".join(
            f"<li>trial {html.escape(row.trial_id)}: "
            f"{html.escape(self.explain(row))}</li>"
            for row in self.flagged
        )
        notes += "".join(
            f"<li>trial {html.escape(row.trial_id)} {html.escape(row.status)}: "
            f"{html.escape(row.message)}</li>"
            for row in self.rows
            if row.message
        )
        return (
            f"<div><p>Search summary, objective: "
            f"{html.escape(self._objective_text())}</p>"
            f"<table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>"
            + (f"<ul>{notes}</ul>" if notes else "")
            + "</div>"
        )

    def to_pandas(self) -> Any:
        """Return the rows as a ``pandas.DataFrame`` (one column per hyperparameter)."""
        try:
            import pandas as pd
        except ImportError as error:  # pragma: no cover - pandas is installed in CI
            raise ImportError(
                "`SearchSummary.to_pandas()` requires pandas. Run "
                "`pip install pandas` to install it."
            ) from error
        records = []
        for row in self.rows:
            record = {
                "trial_id": row.trial_id,
                "status": row.status,
                "score": row.score,
                "best_epoch": row.best_epoch,
                "best_so_far": row.best_so_far,
                "flags": ",".join(row.flags),
                "epochs_trained": row.epochs_trained,
                "fold_scores": row.fold_scores,
                "fold_std": row.fold_std,
            }
            record.update(row.hyperparameters)
            records.append(record)
        hp_names = self.hyperparameter_names()
        for record in records:  # a trial without the hyperparameter: inactive
            for name in hp_names:
                record.setdefault(name, _INACTIVE)
        return pd.DataFrame.from_records(records)

    def to_html(self, path: Any, *, title: str | None = None) -> Any:
        """Write a self-contained HTML report of the search; return its path.

        One file, no external resource: the leaderboard, best-so-far by
        trial, each hyperparameter against the objective, flagged and failed
        trials marked. ``tunekit report PROJECT_DIR`` writes the same page
        from a project directory on disk (also by time, and with the
        Hyperband schedule).

        Examples
        --------
        >>> import os, tempfile, tunekit
        >>> from tunekit.tuners._summary import SearchSummary
        >>> path = SearchSummary([("val_loss", "min")]).to_html(
        ...     os.path.join(tempfile.mkdtemp(), "search.html"))
        >>> path.name
        'search.html'
        """
        from tunekit.tuners._report_data import report_from_summary
        from tunekit.tuners._report_html import write_report

        return write_report(report_from_summary(self, title=title), path)

    def plot(self, ax: Any = None) -> Any:
        """Plot each trial's score and the best-so-far curve; return the Axes.

        The x-axis shows the trial ids (as in the table and KerasTuner's
        ``trial_<id>`` folders), in the order the trials started.
        """
        try:
            import matplotlib.pyplot as plt
        except ImportError as error:  # pragma: no cover
            raise ImportError(
                "`SearchSummary.plot()` requires matplotlib. Run "
                "`pip install matplotlib` to install it."
            ) from error
        if ax is None:
            _, ax = plt.subplots()
        index = list(range(len(self.rows)))
        scores = [np.nan if r.score is None else r.score for r in self.rows]
        best = [np.nan if b is None else b for b in self.best_so_far]
        ax.scatter(index, scores, label="trial score", color="tab:blue")
        ax.step(index, best, where="post", label="best so far", color="tab:orange")
        ax.set_xticks(*_trial_ticks(index, [r.trial_id for r in self.rows]))
        ax.set_xlabel("trial")
        ax.set_ylabel(self._objective_text())
        ax.legend()
        return ax


def _with_every_hyperparameter(rows: list[TrialRow]) -> list[TrialRow]:
    """Give each row every hyperparameter of the search, ``"-"`` where unused.

    A search space can grow during a search (a conditional branch first
    drawn in a later trial): earlier trials did not use those values.
    """
    names = list(dict.fromkeys(name for row in rows for name in row.hyperparameters))
    return [
        dataclasses.replace(
            row,
            hyperparameters={
                name: row.hyperparameters.get(name, _INACTIVE) for name in names
            },
        )
        for row in rows
    ]


def _trial_ticks(
    index: list[int], ids: list[str], most: int = 20
) -> tuple[list[int], list[str]]:
    """Tick positions and trial-id labels, thinned to at most ``most`` ticks."""
    step = max(1, math.ceil(len(index) / most))
    chosen = index[::step]
    return chosen, [ids[i] for i in chosen]


def _short(text: str, width: int = _CELL_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _fold_note(row: TrialRow) -> str:
    scores = row.fold_scores or ()
    listed = ", ".join(_fmt(v) for v in scores)
    mean = float(np.mean(scores)) if scores else None
    return (
        f"trial {row.trial_id} folds: {listed} (mean {_fmt(mean)}, "
        f"std {_fmt(row.fold_std)})"
    )


def _fmt(value: Any) -> str:
    return "-" if value is None else format_value(value)


def _explain(
    flags: Sequence[str],
    levels: dict[str, float],
    healthy: tuple[str, float] | None = None,
    objective: str = "score",
) -> str:
    parts = []
    if "collapsed" in flags:
        parts.append(collapse_advice(levels, healthy, objective=objective))
    if "nan_loss" in flags:
        parts.append("the loss became NaN (learning rate too high or bad inputs)")
    return "; ".join(parts)


def _classes_from_model(tuner: Any) -> int | None:
    try:
        model = tuner.hypermodel.build(tuner.oracle.get_space())
        outputs = model.outputs
    except Exception:
        return None
    if not outputs or len(outputs) != 1:
        return None
    units = outputs[0].shape[-1]
    if units is None:
        return None
    return 2 if units == 1 else int(units)


def _has_accuracy(trials: Sequence[Any]) -> bool:
    return any(
        base_name(n) in ACCURACY_METRICS for t in trials for n in t.metrics.metrics
    )


def _chance_levels(
    tuner: Any, trials: Sequence[Any], y: Any, n_classes: int | None
) -> dict[str, float]:
    if not _has_accuracy(trials):
        return {}
    majority = None
    if y is not None:
        k_from_y, majority = classes_from_y(y)
        n_classes = n_classes or k_from_y
    if n_classes is None:
        n_classes = _classes_from_model(tuner)
    return chance_levels(n_classes, majority)


def _ordered_trials(oracle: Any) -> list[Any]:
    trials = dict(oracle.trials)
    order = [i for i in getattr(oracle, "start_order", []) if i in trials]
    order += sorted(i for i in trials if i not in order)
    return [trials[i] for i in order]


def _pruned_reason(trial: Any) -> str:
    return str(trial.message)[len(PRUNED_MARK) :].lstrip(": ").strip()


def _last_line(message: str | None) -> str | None:
    if not message:
        return None
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[-1] if lines else None


def _better(a: float, b: float, direction: str) -> bool:
    return a > b if direction == "max" else a < b


#: ``summarize``'s simple parameters; ``tuner`` and ``y`` have their own checks.
SUMMARIZE_CONSTRAINTS: dict[str, Any] = {
    "n_classes": [Interval(numbers.Integral, 2, None, closed="left"), None],
    "tol": [Interval(numbers.Real, 0, None, closed="left")],
}


@declare_constraints(SUMMARIZE_CONSTRAINTS)
def summarize(
    tuner: Any,
    *,
    y: Any = None,
    n_classes: int | None = None,
    tol: float = DEFAULT_TOL,
) -> SearchSummary:
    """Report every trial of a KerasTuner search and flag broken ones.

    Parameters
    ----------
    tuner : keras_tuner.Tuner
        Any KerasTuner tuner (tunekit's factories or plain KerasTuner), during
        or after ``search()``, or reloaded from its project directory.
    y : array-like, optional
        Labels of the data the objective is computed on (e.g. validation
        labels), used for the majority-class rate and the number of classes.
    n_classes : int, optional
        Number of classes; by default taken from ``y`` or from the output
        units of the model built with default hyperparameters.
    tol : float, default=0.02
        How close to ``1/k`` or the majority rate an accuracy must be for the
        trial to be flagged ``"collapsed"``.

    Returns
    -------
    SearchSummary
        ``rows``, ``best_so_far``, ``flagged``, ``best_objective``,
        ``to_pandas()``, ``plot()``; ``print()`` it for a table.

    Examples
    --------
    >>> import tempfile, keras, numpy as np, tunekit
    >>> def build(hp):
    ...     model = keras.Sequential([keras.Input((4,)),
    ...                               keras.layers.Dense(hp.Choice("u", [2, 4])),
    ...                               keras.layers.Dense(1)])
    ...     model.compile("adam", "mse")
    ...     return model
    >>> tuner = tunekit.random_search(build, "val_loss", max_trials=1,
    ...                               directory=tempfile.mkdtemp(), verbose=False)
    >>> summary = tunekit.summarize(tuner)  # before searching: no trials yet
    >>> len(summary.rows), summary.best_objective
    (0, None)
    """
    validate_params(SUMMARIZE_CONSTRAINTS, {"n_classes": n_classes, "tol": tol})
    oracle = getattr(tuner, "oracle", None)
    if oracle is None or not hasattr(oracle, "trials"):
        raise invalid_parameter(
            "tuner", tuner, "a keras_tuner tuner (with an `oracle` holding trials)"
        )
    objectives = [(o.name, o.direction) for o in objective_list(oracle.objective)]
    direction = oracle.objective.direction
    trials = _ordered_trials(oracle)
    levels = _chance_levels(tuner, trials, y, n_classes)
    rows = []
    best: float | None = None
    for trial in trials:
        score = trial.score
        score = None if score is None else float(score)
        completed = trial.status == "COMPLETED"
        pruned = completed and is_pruned(trial)
        record = load_record(tuner, str(trial.trial_id))
        if completed and not pruned and score is not None and not math.isnan(score):
            if best is None or _better(score, best, direction):
                best = score
        flags = []
        if collapsed(trial, levels, tol):
            flags.append("collapsed")
        if nan_loss(trial):
            flags.append("nan_loss")
        rows.append(
            TrialRow(
                trial_id=str(trial.trial_id),
                status="PRUNED" if pruned else str(trial.status),
                hyperparameters=display_values(trial.hyperparameters),
                score=score,
                best_epoch=trial.best_step if completed else None,
                best_so_far=best,
                flags=tuple(flags),
                message=_pruned_reason(trial)
                if pruned
                else None
                if completed
                else _last_line(trial.message),
                epochs_trained=None if record is None else record.epochs_trained,
                fold_scores=None
                if record is None or not record.fold_scores
                else tuple(record.fold_scores),
                fold_std=None if record is None else record.fold_std,
            )
        )
    rows = _with_every_hyperparameter(rows)
    return SearchSummary(
        objective=objectives,
        rows=rows,
        chance_levels=levels,
        log_scale=_log_sampled(oracle),
    )


def _log_sampled(oracle: Any) -> tuple[str, ...]:
    """Names of the search space's hyperparameters sampled on a log scale."""
    try:
        space = oracle.get_space().space
    except Exception:
        return ()
    return tuple(
        hp.name
        for hp in space
        if getattr(hp, "sampling", None) in ("log", "reverse_log")
    )
