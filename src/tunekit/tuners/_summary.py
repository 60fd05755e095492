"""A report of a KerasTuner search: every trial, the best-so-far curve, red flags.

KerasTuner's ``results_summary`` lists only the best trials and pads them with
failed ones whose score is ``None``. :func:`summarize` lists every trial with
its status, hyperparameters, score and best epoch, the best-so-far curve, and
flags trials that look broken: a NaN loss, or an accuracy equal to chance
(``1/k``) or to the majority-class rate, the signature of a model that
predicts one class for everything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tunekit._validation import invalid_parameter
from tunekit.tuners._objective import objective_list

__all__ = ["SearchSummary", "TrialRow", "summarize"]

_ACCURACY = frozenset(
    {
        "accuracy",
        "acc",
        "binary_accuracy",
        "categorical_accuracy",
        "sparse_categorical_accuracy",
    }
)


@dataclass(frozen=True)
class TrialRow:
    """One trial of a search.

    Attributes
    ----------
    trial_id : str
    status : str
        ``"COMPLETED"``, ``"FAILED"``, ``"INVALID"``, ``"RUNNING"``...
    hyperparameters : dict
        Tuned values (KerasTuner's internal ``tuner/*`` values left out).
    score : float or None
        The objective's best value for the trial.
    best_epoch : int or None
        The epoch (step) where that value was reached.
    best_so_far : float or None
        The best score among this and earlier trials.
    flags : tuple of str
        ``"nan_loss"``, ``"collapsed"`` (accuracy at chance or majority rate).
    message : str or None
        The last line of the failure message, for failed trials.
    """

    trial_id: str
    status: str
    hyperparameters: dict[str, Any]
    score: float | None
    best_epoch: int | None
    best_so_far: float | None
    flags: tuple[str, ...] = ()
    message: str | None = None


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
    """

    objective: list[tuple[str, str]]
    rows: list[TrialRow] = field(default_factory=list)
    chance_levels: dict[str, float] = field(default_factory=dict)

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
            f"best={best_text}, flagged={len(self.flagged)})"
        )

    def _objective_text(self) -> str:
        return ", ".join(f"{name} ({direction})" for name, direction in self.objective)

    def __str__(self) -> str:
        hp_names = sorted({k for row in self.rows for k in row.hyperparameters})
        header = ["trial", "status", "score", "best_epoch", "best_so_far", "flags"]
        table = [header + hp_names]
        for row in self.rows:
            table.append(
                [
                    row.trial_id,
                    row.status,
                    _fmt(row.score),
                    _fmt(row.best_epoch),
                    _fmt(row.best_so_far),
                    ",".join(row.flags) or "-",
                ]
                + [_fmt(row.hyperparameters.get(name)) for name in hp_names]
            )
        widths = [
            max(len(line[i]) for line in table) for i in range(len(header + hp_names))
        ]
        lines = [f"Search summary, objective: {self._objective_text()}"]
        lines += ["  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in table]
        for row in self.flagged:
            lines.append(
                f"trial {row.trial_id}: {_explain(row.flags, self.chance_levels)}"
            )
        for row in self.rows:
            if row.message:
                lines.append(f"trial {row.trial_id} {row.status}: {row.message}")
        return "\n".join(lines)

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
            }
            record.update(row.hyperparameters)
            records.append(record)
        return pd.DataFrame.from_records(records)

    def plot(self, ax: Any = None) -> Any:
        """Plot each trial's score and the best-so-far curve; return the Axes."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as error:  # pragma: no cover
            raise ImportError(
                "`SearchSummary.plot()` requires matplotlib. Run "
                "`pip install matplotlib` to install it."
            ) from error
        if ax is None:
            _, ax = plt.subplots()
        index = list(range(1, len(self.rows) + 1))
        scores = [np.nan if r.score is None else r.score for r in self.rows]
        best = [np.nan if b is None else b for b in self.best_so_far]
        ax.scatter(index, scores, label="trial score", color="tab:blue")
        ax.step(index, best, where="post", label="best so far", color="tab:orange")
        ax.set_xlabel("trial")
        ax.set_ylabel(self._objective_text())
        ax.legend()
        return ax


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def _explain(flags: Sequence[str], levels: dict[str, float]) -> str:
    parts = []
    if "collapsed" in flags:
        shown = ", ".join(f"{k}={v:.3g}" for k, v in levels.items())
        parts.append(
            f"accuracy never left chance level ({shown}): the model probably "
            "predicts one class for everything (check labels, loss and output "
            "activation, e.g. with tunekit.check_model_labels)"
        )
    if "nan_loss" in flags:
        parts.append("the loss became NaN (learning rate too high or bad inputs)")
    return "; ".join(parts)


def _base(name: str) -> str:
    return name[len("val_") :] if name.startswith("val_") else name


def _history(trial: Any, name: str) -> list[float]:
    try:
        return [float(np.mean(o.value)) for o in trial.metrics.get_history(name)]
    except Exception:
        return []


def _nan_loss(trial: Any) -> bool:
    for name in trial.metrics.metrics:
        if _base(name).endswith("loss") and any(
            math.isnan(v) for v in _history(trial, name)
        ):
            return True
    return False


def _collapsed(trial: Any, levels: dict[str, float], tol: float) -> bool:
    if not levels:
        return False
    names = [n for n in trial.metrics.metrics if _base(n) in _ACCURACY]
    validation = [n for n in names if n.startswith("val_")]
    for name in validation or names:
        values = [v for v in _history(trial, name) if not math.isnan(v)]
        if not values:
            continue
        best = max(values)
        if any(abs(best - level) <= tol for level in levels.values()):
            return True
    return False


def _classes_from_y(y: Any) -> tuple[int | None, float | None]:
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] > 1:
        counts = labels.sum(axis=0)
        return labels.shape[1], float(counts.max() / max(counts.sum(), 1))
    labels = labels.reshape(-1)
    _, counts = np.unique(labels, return_counts=True)
    k = max(len(counts), 2)
    return k, float(counts.max() / counts.sum())


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
    return any(_base(n) in _ACCURACY for t in trials for n in t.metrics.metrics)


def _chance_levels(
    tuner: Any, trials: Sequence[Any], y: Any, n_classes: int | None
) -> dict[str, float]:
    if not _has_accuracy(trials):
        return {}
    majority = None
    if y is not None:
        k_from_y, majority = _classes_from_y(y)
        n_classes = n_classes or k_from_y
    if n_classes is None:
        n_classes = _classes_from_model(tuner)
    levels = {}
    if n_classes:
        levels["1/k"] = 1.0 / n_classes
    if majority is not None:
        levels["majority"] = majority
    return levels


def _ordered_trials(oracle: Any) -> list[Any]:
    trials = dict(oracle.trials)
    order = [i for i in getattr(oracle, "start_order", []) if i in trials]
    order += sorted(i for i in trials if i not in order)
    return [trials[i] for i in order]


def _last_line(message: str | None) -> str | None:
    if not message:
        return None
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[-1] if lines else None


def _better(a: float, b: float, direction: str) -> bool:
    return a > b if direction == "max" else a < b


def summarize(
    tuner: Any,
    *,
    y: Any = None,
    n_classes: int | None = None,
    tol: float = 0.02,
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
    oracle = getattr(tuner, "oracle", None)
    if oracle is None or not hasattr(oracle, "trials"):
        raise invalid_parameter(
            "tuner", tuner, "a keras_tuner tuner (with an `oracle` holding trials)"
        )
    if n_classes is not None and (
        isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2
    ):
        raise invalid_parameter("n_classes", n_classes, "an integer >= 2 or None")
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
        if completed and score is not None and not math.isnan(score):
            if best is None or _better(score, best, direction):
                best = score
        flags = []
        if _collapsed(trial, levels, tol):
            flags.append("collapsed")
        if _nan_loss(trial):
            flags.append("nan_loss")
        rows.append(
            TrialRow(
                trial_id=str(trial.trial_id),
                status=str(trial.status),
                hyperparameters={
                    k: v
                    for k, v in trial.hyperparameters.values.items()
                    if not k.startswith("tuner/")
                },
                score=score,
                best_epoch=trial.best_step if completed else None,
                best_so_far=best,
                flags=tuple(flags),
                message=None if completed else _last_line(trial.message),
            )
        )
    return SearchSummary(objective=objectives, rows=rows, chance_levels=levels)
