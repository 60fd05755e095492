"""The trial-health rules shared by the summary, the live display and the report.

A trial is *collapsed* when its best accuracy sits within ``tol`` (default
:data:`DEFAULT_TOL`) of a chance level (1/k or the majority class's share)
and has a *NaN loss* when any loss it logged became NaN.
:mod:`tunekit.tuners._summary` flags finished searches with these rules,
:mod:`tunekit.tuners._progress` each trial as it ends and
:mod:`tunekit.tuners._report_data` the trials of a project on disk; the rules
work on ``{metric name: values}`` histories (:func:`collapsed_history`,
:func:`nan_history`) so that a live KerasTuner trial and a ``trial.json``
read back are judged by the very same code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "ACCURACY_METRICS",
    "DEFAULT_TOL",
    "base_name",
    "chance_levels",
    "classes_from_y",
    "collapsed",
    "collapsed_history",
    "metric_history",
    "nan_history",
    "nan_loss",
]

#: How close to a chance level a best accuracy must be to count as collapsed.
DEFAULT_TOL = 0.02

ACCURACY_METRICS = frozenset(
    {
        "accuracy",
        "acc",
        "binary_accuracy",
        "categorical_accuracy",
        "sparse_categorical_accuracy",
    }
)


def base_name(name: str) -> str:
    """A metric's name without its ``val_`` prefix.

    Examples
    --------
    >>> base_name("val_accuracy"), base_name("loss")
    ('accuracy', 'loss')
    """
    return name[len("val_") :] if name.startswith("val_") else name


def metric_history(trial: Any, name: str) -> list[float]:
    """Every value ``trial`` logged for metric ``name`` (``[]`` if none)."""
    try:
        return [float(np.mean(o.value)) for o in trial.metrics.get_history(name)]
    except Exception:
        return []


def _trial_histories(trial: Any) -> dict[str, list[float]]:
    return {name: metric_history(trial, name) for name in trial.metrics.metrics}


def nan_history(histories: Mapping[str, Sequence[float]]) -> bool:
    """Whether any loss in ``histories`` (metric name -> values) became NaN.

    Examples
    --------
    >>> nan_history({"loss": [0.9, float("nan")], "accuracy": [0.5, 0.5]})
    True
    """
    return any(
        base_name(name).endswith("loss") and any(math.isnan(v) for v in values)
        for name, values in histories.items()
    )


def collapsed_history(
    histories: Mapping[str, Sequence[float]],
    levels: Mapping[str, float],
    tol: float = DEFAULT_TOL,
) -> bool:
    """Whether the best accuracy in ``histories`` is within ``tol`` of a level.

    Validation accuracies are read when any were logged, else the training
    ones; ``levels`` maps ``"1/k"`` / ``"majority"`` to their values.

    Examples
    --------
    >>> collapsed_history({"val_accuracy": [0.1, 0.11]}, {"1/k": 0.1})
    True
    >>> collapsed_history({"val_accuracy": [0.1, 0.9]}, {"1/k": 0.1})
    False
    """
    if not levels:
        return False
    names = [n for n in histories if base_name(n) in ACCURACY_METRICS]
    validation = [n for n in names if n.startswith("val_")]
    for name in validation or names:
        values = [v for v in histories[name] if not math.isnan(v)]
        if values and any(abs(max(values) - lv) <= tol for lv in levels.values()):
            return True
    return False


def nan_loss(trial: Any) -> bool:
    """Whether any loss a KerasTuner ``trial`` logged became NaN."""
    return nan_history(_trial_histories(trial))


def collapsed(trial: Any, levels: dict[str, float], tol: float = DEFAULT_TOL) -> bool:
    """:func:`collapsed_history` of a KerasTuner ``trial``'s logged metrics."""
    return collapsed_history(_trial_histories(trial), levels, tol)


def chance_levels(
    n_classes: int | None, majority: float | None = None
) -> dict[str, float]:
    """The accuracies that count as collapsed: ``1/k`` and the majority share.

    Examples
    --------
    >>> chance_levels(4, 0.5)
    {'1/k': 0.25, 'majority': 0.5}
    """
    levels = {}
    if n_classes:
        levels["1/k"] = 1.0 / n_classes
    if majority is not None:
        levels["majority"] = majority
    return levels


def classes_from_y(y: Any) -> tuple[int | None, float | None]:
    """The number of classes in ``y`` and the share of its largest class.

    ``y`` is one-hot (2-D) or holds class labels; fewer than two distinct
    labels count as two classes.

    Examples
    --------
    >>> classes_from_y([0, 1, 1, 1])
    (2, 0.75)
    """
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] > 1:
        counts = labels.sum(axis=0)
        return labels.shape[1], float(counts.max() / max(counts.sum(), 1))
    labels = labels.reshape(-1)
    _, counts = np.unique(labels, return_counts=True)
    k = max(len(counts), 2)
    return k, float(counts.max() / counts.sum())
