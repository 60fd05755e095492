"""The trial-health rules shared by the summary and the live display.

A trial is *collapsed* when its best accuracy sits at a chance level (1/k or
the majority class's share) and has a *NaN loss* when any loss it logged
became NaN. :mod:`tunekit.tuners._summary` flags finished searches with these
rules and :mod:`tunekit.tuners._progress` flags each trial as it ends; both
import them from here, so the two always agree.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "ACCURACY_METRICS",
    "base_name",
    "classes_from_y",
    "collapsed",
    "metric_history",
    "nan_loss",
]

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


def nan_loss(trial: Any) -> bool:
    """Whether any loss ``trial`` logged became NaN."""
    for name in trial.metrics.metrics:
        if base_name(name).endswith("loss") and any(
            math.isnan(v) for v in metric_history(trial, name)
        ):
            return True
    return False


def collapsed(trial: Any, levels: dict[str, float], tol: float) -> bool:
    """Whether ``trial``'s best accuracy is within ``tol`` of a chance level.

    Validation accuracies are read when the trial logged any, else the
    training ones; ``levels`` maps ``"1/k"`` / ``"majority"`` to their values.
    """
    if not levels:
        return False
    names = [n for n in trial.metrics.metrics if base_name(n) in ACCURACY_METRICS]
    validation = [n for n in names if n.startswith("val_")]
    for name in validation or names:
        values = [v for v in metric_history(trial, name) if not math.isnan(v)]
        if not values:
            continue
        best = max(values)
        if any(abs(best - level) <= tol for level in levels.values()):
            return True
    return False


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
