"""Label diagnostics: class balance, and "why is my accuracy exactly 1/k?".

:func:`label_report` counts the classes of any label source and gives the two
numbers a collapsed model reaches: the majority-class rate (the accuracy of
always predicting the most frequent class) and ``1/k``.
:func:`diagnose_collapse` compares predictions with the true labels, detects
predictions collapsed to one or a few classes and lists the likely causes.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tunekit._constraints import (
    Interval,
    Rule,
    declare_constraints,
    validate_params,
)
from tunekit._validation import invalid_parameter
from tunekit.labels._class_weights import _Shown, read_labels

__all__ = [
    "CollapseDiagnosis",
    "LabelReport",
    "collapse_advice",
    "diagnose_collapse",
    "healthy_trial",
    "label_report",
]


# --------------------------------------------------------------------------
# label_report
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelReport:
    """Class counts of a label source and the accuracies a collapsed model gets.

    Attributes
    ----------
    class_names : tuple
        Original label of each class (name, string or integer), index order.
    class_indices : tuple of int
        The integer index Keras sees for each class.
    counts : tuple of int
        Number of samples per class.
    source : str
        Where the labels came from.

    Examples
    --------
    >>> import tunekit
    >>> report = tunekit.label_report([0, 1, 1, 1])
    >>> report.counts, report.n_classes, report.majority_class
    ((1, 3), 2, 1)
    >>> report.proportions
    (0.25, 0.75)
    """

    class_names: tuple[Any, ...]
    class_indices: tuple[int, ...]
    counts: tuple[int, ...]
    source: str = ""

    @property
    def n_samples(self) -> int:
        """Total number of samples."""
        return int(sum(self.counts))

    @property
    def n_classes(self) -> int:
        """Number of classes (k)."""
        return len(self.counts)

    @property
    def proportions(self) -> tuple[float, ...]:
        """Share of each class."""
        total = self.n_samples
        return tuple(c / total if total else 0.0 for c in self.counts)

    @property
    def majority_class(self) -> Any:
        """The most frequent class (its original label)."""
        return self.class_names[int(np.argmax(self.counts))]

    @property
    def minority_class(self) -> Any:
        """The least frequent class (its original label)."""
        return self.class_names[int(np.argmin(self.counts))]

    @property
    def majority_rate(self) -> float:
        """Accuracy of always predicting the majority class."""
        return max(self.counts) / self.n_samples if self.n_samples else 0.0

    @property
    def chance_rate(self) -> float:
        """``1 / k``: accuracy of guessing uniformly (or on balanced classes)."""
        return 1.0 / self.n_classes if self.n_classes else 0.0

    @property
    def imbalance_ratio(self) -> float:
        """Largest class count divided by the smallest (``inf`` if one is 0)."""
        smallest = min(self.counts)
        return float("inf") if smallest == 0 else max(self.counts) / smallest

    @property
    def is_imbalanced(self) -> bool:
        """True when the largest class is at least 1.5 times the smallest."""
        return self.imbalance_ratio >= 1.5

    def class_weights(self) -> dict[int, float]:
        """Balanced class weights for these counts (same as scikit-learn's).

        Classes without samples get no weight.
        """
        k, n = sum(1 for c in self.counts if c > 0), self.n_samples
        return {
            i: n / (k * c) for i, c in zip(self.class_indices, self.counts) if c > 0
        }

    def to_dict(self) -> dict[str, Any]:
        """The report as plain Python values."""
        return {
            "source": self.source,
            "n_samples": self.n_samples,
            "n_classes": self.n_classes,
            "counts": {
                i: {"class": name, "count": count}
                for i, name, count in zip(
                    self.class_indices, self.class_names, self.counts
                )
            },
            "imbalance_ratio": self.imbalance_ratio,
            "majority_class": self.majority_class,
            "majority_rate": self.majority_rate,
            "chance_rate": self.chance_rate,
        }

    def __str__(self) -> str:
        weights = self.class_weights()
        name_width = max([5, *(len(str(n)) for n in self.class_names)])
        lines = [
            f"Label report: {self.n_samples} samples, {self.n_classes} classes"
            + (f" ({self.source})" if self.source else ""),
            f"{'index':>5}  {'class':<{name_width}}  {'count':>7}  {'share':>6}  "
            f"{'balanced weight':>15}",
        ]
        for i, name, count, share in zip(
            self.class_indices, self.class_names, self.counts, self.proportions
        ):
            weight = f"{weights[i]:.4f}" if i in weights else "-"
            lines.append(
                f"{i:>5}  {name!s:<{name_width}}  {count:>7}  {share:>6.1%}  "
                f"{weight:>15}"
            )
        lines += [
            f"imbalance ratio (largest/smallest): {self.imbalance_ratio:.2f}",
            f"majority-class rate: {self.majority_rate:.4f} "
            f"(always predicting {self.majority_class!r})",
            f"chance rate 1/k: {self.chance_rate:.4f}",
        ]
        return "\n".join(lines)


def label_report(source: Any, *, classes: Sequence[Any] | None = None) -> LabelReport:
    """Count the classes of a label source.

    Parameters
    ----------
    source : array-like, DirectoryIterator, tf.data.Dataset or path
        Any label source :func:`tunekit.class_weights` accepts: 1-D integer or
        string labels, one-hot rows, an ``(N, 1)`` column, a
        ``DirectoryIterator``, a ``tf.data.Dataset`` of ``(x, y)`` or an image
        directory (files counted, not decoded).
    classes : sequence, default=None
        The classes in index order, as in :func:`tunekit.class_weights`.
        Classes listed here but absent from the data are reported with a
        count of 0.

    Returns
    -------
    LabelReport
        Printable (``print(report)`` shows a table).

    Examples
    --------
    >>> import tunekit
    >>> report = tunekit.label_report(["cat", "dog", "dog", "dog"])
    >>> report.counts, report.majority_rate, report.chance_rate
    ((1, 3), 0.75, 0.5)
    >>> print(report)
    Label report: 4 samples, 2 classes (string labels)
    index  class    count   share  balanced weight
        0  cat          1   25.0%           2.0000
        1  dog          3   75.0%           0.6667
    imbalance ratio (largest/smallest): 3.00
    majority-class rate: 0.7500 (always predicting 'dog')
    chance rate 1/k: 0.5000
    """
    data = read_labels(source, classes=classes)
    counts = data.counts()
    return LabelReport(
        class_names=tuple(data.index_to_class.values()),
        class_indices=tuple(int(i) for i in data.index_to_class),
        counts=tuple(counts[i] for i in data.index_to_class),
        source=data.source,
    )


# --------------------------------------------------------------------------
# diagnose_collapse
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CollapseDiagnosis:
    """Whether predictions collapsed onto few classes, and the likely causes.

    Attributes
    ----------
    collapsed : bool
        True when (nearly) all predictions fall in fewer classes than exist,
        or the accuracy sits at the majority rate or ``1/k``.
    accuracy : float
        Accuracy of the predictions.
    majority_rate : float
        Accuracy of always predicting the most frequent true class.
    chance_rate : float
        ``1 / k`` for the ``k`` classes of the true labels.
    predicted_classes : tuple of int
        Classes predicted at least once, most frequent first.
    dominant_class : int
        The most frequently predicted class.
    dominant_share : float
        Share of predictions that are the dominant class.
    recall : dict of int to float
        Recall of each true class.
    causes : tuple of str
        Likely causes, most likely first, each with a suggested fix.
    labels : LabelReport
        Class counts of the true labels.

    Examples
    --------
    >>> import tunekit
    >>> diagnosis = tunekit.diagnose_collapse([0, 1, 1, 1], [1, 1, 1, 1])
    >>> bool(diagnosis), diagnosis.dominant_class, diagnosis.accuracy
    (True, 1, 0.75)
    """

    collapsed: bool
    accuracy: float
    majority_rate: float
    chance_rate: float
    predicted_classes: tuple[int, ...]
    dominant_class: int
    dominant_share: float
    recall: dict[int, float]
    causes: tuple[str, ...] = field(default=())
    labels: LabelReport | None = None

    def __bool__(self) -> bool:
        return self.collapsed

    def __str__(self) -> str:
        head = "Predictions collapsed" if self.collapsed else "No collapse detected"
        lines = [
            f"{head}: accuracy {self.accuracy:.4f} (majority-class rate "
            f"{self.majority_rate:.4f}, 1/k {self.chance_rate:.4f}); "
            f"{self.dominant_share:.1%} of predictions are class "
            f"{self.dominant_class}; classes predicted: "
            f"{list(self.predicted_classes)}",
        ]
        lines += [f"- {cause}" for cause in self.causes]
        return "\n".join(lines)


def _predicted_classes(
    pred: np.ndarray, n_true_classes: int, threshold: float
) -> tuple[np.ndarray, str]:
    """Return (predicted class per sample, kind of prediction)."""
    if pred.ndim == 2 and pred.shape[1] > 1:
        return np.argmax(pred, axis=1).astype(np.int64), "scores"
    column = pred.ndim == 2  # (N, 1): the raw output of a 1-unit head
    if column:
        pred = pred[:, 0]
    if pred.dtype.kind in "biu":
        return pred.astype(np.int64), "classes"
    whole = bool(np.all(np.mod(pred, 1) == 0))
    if not column and whole and (n_true_classes > 2 or pred.max() > 1):
        return pred.astype(np.int64), "classes"
    if n_true_classes > 2:
        # One score per sample on a multi-class problem: Keras' categorical
        # accuracy metrics argmax the single column, i.e. always predict 0.
        return np.zeros(len(pred), dtype=np.int64), "single column"
    return (pred >= threshold).astype(np.int64), "binary scores"


def _as_numeric(values: Any, argname: str) -> np.ndarray:
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.size == 0:
        raise invalid_parameter(argname, arr, "a non-empty array")
    if arr.ndim == 0 or arr.ndim > 2:
        raise invalid_parameter(
            argname,
            _Shown(f"array of shape {arr.shape}"),
            "class indices (N,) or scores / probabilities (N,) or (N, k)",
        )
    return arr


def _scores_causes(
    scores: np.ndarray, n_true: int, kind: str
) -> tuple[list[str], list[str]]:
    """Causes read from raw scores: (strong causes, weaker causes)."""
    strong: list[str] = []
    weak: list[str] = []
    if scores.dtype.kind != "f" or kind == "classes":
        return strong, weak
    if np.isnan(scores).any():
        strong.append(
            "The outputs contain NaN: training diverged. Lower the learning rate "
            "(e.g. by 10x), scale the inputs (divide images by 255) and check "
            "the labels with `tunekit.check_model_labels`."
        )
        return strong, weak
    columns = 1 if scores.ndim == 1 else scores.shape[1]
    if columns == 1 and n_true > 2:
        strong.append(
            f"The model has a single output column but the labels have {n_true} "
            "classes: a 1-unit sigmoid (binary) head cannot represent them, and "
            "Keras' categorical accuracy argmax-es the single column, so it "
            "always predicts class 0. Use "
            f"`Dense({n_true}, activation='softmax')` with "
            "`loss='sparse_categorical_crossentropy'` (run "
            "`tunekit.check_model_labels(model, y)` before fitting)."
        )
    elif columns > 1 and columns < n_true:
        strong.append(
            f"The model outputs {columns} scores but the labels have {n_true} "
            f"classes: classes >= {columns} can never be predicted. Give the "
            "output layer one unit per class."
        )
    if columns == 1 and np.all(scores == 1.0):
        strong.append(
            "Every output is exactly 1.0, the signature of a softmax over a "
            "single unit. Use `Dense(1, activation='sigmoid')` for two classes."
        )
    flat = scores.reshape(len(scores), -1)
    if len(flat) > 1 and float(np.max(np.std(flat, axis=0))) < 1e-3:
        weak.append(
            "The outputs barely change from one sample to the next: the network "
            "ignores its input. Typical causes: a learning rate so high that "
            "units died or saturated, unscaled inputs (0-255 pixels), or far too "
            "few epochs."
        )
    return strong, weak


_FRACTION = Rule([Interval(numbers.Real, 0, 1)], "a number between 0 and 1")
#: ``diagnose_collapse``'s simple parameters; the label arrays have their own.
DIAGNOSE_CONSTRAINTS: dict[str, Any] = {
    "tolerance": _FRACTION,
    "dominant_share": _FRACTION,
    "threshold": _FRACTION,
}


@declare_constraints(DIAGNOSE_CONSTRAINTS)
def diagnose_collapse(
    y_true: Any,
    y_pred_or_proba: Any,
    *,
    tolerance: float = 0.02,
    dominant_share: float = 0.9,
    threshold: float = 0.5,
) -> CollapseDiagnosis:
    """Detect predictions collapsed to one or a few classes and explain why.

    Parameters
    ----------
    y_true : array-like
        True labels: class indices ``(N,)`` / ``(N, 1)``, string labels, or
        one-hot rows ``(N, k)``.
    y_pred_or_proba : array-like
        Predicted classes ``(N,)``, or the raw output of ``model.predict``:
        probabilities / scores ``(N, k)`` (``argmax``-ed) or one binary score
        per sample ``(N,)`` / ``(N, 1)`` (thresholded at ``threshold``).
    tolerance : float, default=0.02
        How close the accuracy must be to the majority rate or ``1/k`` to count
        as "stuck" there.
    dominant_share : float, default=0.9
        Share of predictions in one class above which the predictions count as
        collapsed.
    threshold : float, default=0.5
        Decision threshold for one-column binary scores.

    Returns
    -------
    CollapseDiagnosis
        Truthy when collapsed; ``print()`` it for the explanation.

    Examples
    --------
    >>> import numpy as np
    >>> import tunekit
    >>> y = np.array([0] * 6 + [1] * 2 + [2] * 2)
    >>> result = tunekit.diagnose_collapse(y, np.zeros(10, dtype=int))
    >>> result.collapsed, result.accuracy, result.majority_rate
    (True, 0.6, 0.6)
    >>> print(result.causes[0])
    Every prediction is class 0, so the accuracy equals that class...
    """
    validate_params(
        DIAGNOSE_CONSTRAINTS,
        {
            "tolerance": tolerance,
            "dominant_share": dominant_share,
            "threshold": threshold,
        },
    )
    data = read_labels(y_true, classes=None)
    report = LabelReport(
        class_names=tuple(data.index_to_class.values()),
        class_indices=tuple(data.index_to_class),
        counts=tuple(data.counts()[i] for i in data.index_to_class),
        source=data.source,
    )
    truth = data.indices
    scores = _as_numeric(y_pred_or_proba, "y_pred_or_proba")
    if len(scores) != len(truth):
        raise invalid_parameter(
            "y_pred_or_proba",
            _Shown(f"array of length {len(scores)}"),
            f"one prediction per label ({len(truth)} labels)",
        )
    if scores.dtype.kind not in "biuf":
        raise invalid_parameter(
            "y_pred_or_proba",
            _Shown(f"array of dtype {scores.dtype}"),
            "numeric predictions (encode string predictions like y_true)",
        )
    n_true = report.n_classes
    pred, kind = _predicted_classes(
        np.nan_to_num(scores, nan=0.0) if scores.dtype.kind == "f" else scores,
        n_true,
        threshold,
    )
    return _diagnose(truth, pred, scores, kind, report, tolerance, dominant_share)


def _diagnose(
    truth: np.ndarray,
    pred: np.ndarray,
    scores: np.ndarray,
    kind: str,
    report: LabelReport,
    tolerance: float,
    dominant_threshold: float,
) -> CollapseDiagnosis:
    accuracy = float(np.mean(truth == pred))
    values, counts = np.unique(pred, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    predicted = tuple(int(values[i]) for i in order)
    dominant = predicted[0]
    share = float(counts[order[0]] / len(pred))
    recall = {
        int(c): float(np.mean(pred[truth == c] == c)) if np.any(truth == c) else 0.0
        for c in report.class_indices
    }
    present = [c for c in report.class_indices if np.any(truth == c)]
    n_true = len(present)
    at_majority = abs(accuracy - report.majority_rate) <= tolerance
    at_chance = abs(accuracy - report.chance_rate) <= tolerance
    few_classes = n_true >= 3 and len(predicted) <= max(1, n_true // 2)
    strong, weak = _scores_causes(scores, report.n_classes, kind)
    collapsed = n_true >= 2 and (
        share >= dominant_threshold
        or few_classes
        or ((at_majority or at_chance) and len(predicted) < n_true)
        or bool(strong)
    )
    causes: list[str] = []
    if collapsed:
        causes = _collapse_causes(
            report, dominant, share, predicted, recall, strong, weak
        )
    return CollapseDiagnosis(
        collapsed=collapsed,
        accuracy=accuracy,
        majority_rate=report.majority_rate,
        chance_rate=report.chance_rate,
        predicted_classes=predicted,
        dominant_class=dominant,
        dominant_share=share,
        recall=recall,
        causes=tuple(causes),
        labels=report,
    )


def _collapse_causes(
    report: LabelReport,
    dominant: int,
    share: float,
    predicted: tuple[int, ...],
    recall: dict[int, float],
    strong: list[str],
    weak: list[str],
) -> list[str]:
    names = dict(zip(report.class_indices, report.class_names))

    def show(index: int) -> str:
        name = names.get(index, index)
        return f"{index}" if name == index else f"{index} ({name!r})"

    never = [c for c in report.class_indices if c not in predicted]
    if share == 1.0:
        first = (
            f"Every prediction is class {show(dominant)}, so the accuracy equals "
            "that class's share of the labels."
        )
    else:
        first = f"{share:.0%} of the predictions are class {show(dominant)}"
        if never:
            listed = ", ".join(show(c) for c in never)
            first += f"; {'class' if len(never) == 1 else 'classes'} {listed} "
            first += "are never predicted" if len(never) > 1 else "is never predicted"
        first += "."
    causes = [first, *strong]
    majority_index = report.class_indices[int(np.argmax(report.counts))]
    if report.is_imbalanced and dominant == majority_index:
        causes.append(
            f"The labels are imbalanced (largest/smallest = "
            f"{report.imbalance_ratio:.1f}, majority-class rate "
            f"{report.majority_rate:.2f}): predicting the majority class is an "
            "easy minimum of the loss. Pass `class_weight=tunekit.class_weights(y)` "
            "to `fit`, resample the data, or monitor a balanced metric."
        )
    if not strong:
        causes.append(
            "A mismatch between the output layer, the loss and the labels (for "
            "example a sigmoid head on several classes, or categorical "
            "cross-entropy on integer labels) also looks like this: run "
            "`tunekit.check_model_labels(model, y)`."
        )
        causes.append(
            "A learning rate that is too high makes the network collapse onto "
            "one class within the first epoch: try 10x lower (e.g. 1e-3 or 1e-4 "
            "for Adam)."
        )
    causes += weak
    return causes


# --------------------------------------------------------------------------
# collapse advice for a trial of a search
# --------------------------------------------------------------------------


def healthy_trial(trials: Sequence[Any], direction: str) -> tuple[str, float] | None:
    """The best trial of a search that learned: completed, finite, unflagged.

    Parameters
    ----------
    trials : sequence
        Rows with ``trial_id``, ``status``, ``score`` and ``flags``
        (``summarize``'s rows, the report's trials).
    direction : {"max", "min"}
        The objective's direction.

    Returns
    -------
    tuple of (str, float) or None
        ``(trial_id, score)``, or ``None`` when no trial is healthy.

    Examples
    --------
    >>> from types import SimpleNamespace as Row
    >>> rows = [Row(trial_id="0", status="COMPLETED", score=0.1, flags=("collapsed",)),
    ...         Row(trial_id="1", status="COMPLETED", score=0.9, flags=())]
    >>> healthy_trial(rows, "max")
    ('1', 0.9)
    """
    best: tuple[str, float] | None = None
    for trial in trials:
        score = trial.score
        if trial.status != "COMPLETED" or trial.flags or score is None:
            continue
        score = float(score)
        if score != score:  # NaN
            continue
        better = best is None or (
            score > best[1] if direction == "max" else score < best[1]
        )
        if better:
            best = (str(trial.trial_id), score)
    return best


def collapse_advice(
    levels: dict[str, float] | None = None,
    healthy: tuple[str, float] | None = None,
    *,
    objective: str = "score",
) -> str:
    """What to check for a trial whose accuracy never left chance level.

    The one wording of this advice, used by :func:`tunekit.summarize`, the
    HTML report and the live search display. When another trial of the same
    search learned on the same labels, the labels are not the problem: the
    collapsed trial's configuration is undertrained or broken. Only when no
    trial learned do the labels, the loss and the output layer come first.

    Parameters
    ----------
    levels : dict of str to float, optional
        The chance levels the accuracy sits at (``{"1/k": 0.1}``).
    healthy : tuple of (str, float), optional
        ``(trial_id, score)`` of a trial of the same search that learned
        (see :func:`healthy_trial`).
    objective : str, default="score"
        Name of the objective, for ``healthy``'s score.

    Returns
    -------
    str

    Examples
    --------
    >>> print(collapse_advice({"1/k": 0.1}, ("3", 0.93), objective="val_accuracy"))
    ... # doctest: +NORMALIZE_WHITESPACE
    accuracy never left chance level (1/k=0.1), but trial 3 reached
    val_accuracy=0.93 on the same labels, so the labels are fine: this
    configuration is undertrained or broken (learning rate too high, too few
    epochs, a layer that does not train, too small a model)
    """
    shown = ", ".join(f"{k}={v:.3g}" for k, v in (levels or {}).items())
    head = f"accuracy never left chance level{f' ({shown})' if shown else ''}"
    if healthy is not None:
        trial_id, score = healthy
        return (
            f"{head}, but trial {trial_id} reached {objective}={score:.4g} on the "
            "same labels, so the labels are fine: this configuration is "
            "undertrained or broken (learning rate too high, too few epochs, a "
            "layer that does not train, too small a model)"
        )
    return (
        f"{head}, and no other trial of the search learned either: the model "
        "probably predicts one class for everything (check labels, loss and "
        "output activation, e.g. with tunekit.check_model_labels; then the "
        "learning rate)"
    )
