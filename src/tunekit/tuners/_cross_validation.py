"""Cross-validated trials: ``search(x, y, cv=5)`` on in-memory arrays.

Each trial trains one fresh model per fold (the folds are split once per
search, so every trial sees the same folds) and reports the mean over folds
of each fold's best-epoch metrics to the oracle, exactly as KerasTuner
averages ``executions_per_trial``. The per-fold scores and their spread are
kept in the trial's record and shown by :func:`tunekit.summarize`.

``cv`` is an integer (``StratifiedKFold`` for classification labels,
``KFold`` otherwise, both shuffled with the tuner's ``seed``, or 0; with
``groups=``, ``StratifiedGroupKFold`` / ``GroupKFold``), any scikit-learn
splitter (an object with ``split(x, y, groups)``), or a list of
``(train_indices, validation_indices)`` pairs. Labels count as
classification when they are integers, booleans or strings (1-D or one
column) or a one-hot matrix.

Refused before training: generators, ``tf.data`` datasets and ``PyDataset``
inputs (they cannot be indexed by fold), ``validation_data`` /
``validation_split`` (each fold's validation part replaces them), and
Hyperband (its continuation rounds resume one checkpoint per trial, not one
per fold: use :class:`tunekit.RandomSearch` or
:class:`tunekit.BayesianOptimization` with ``cv``, or Hyperband with
``validation_data``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tunekit._errors import InvalidParameterError
from tunekit._validation import invalid_parameter, received

__all__ = ["CrossValidationPlan", "is_in_memory", "plan_cross_validation"]


@dataclass
class CrossValidationPlan:
    """The folds of one search and how to cut the data for each."""

    folds: list[tuple[np.ndarray, np.ndarray]]
    description: str
    n_samples: int

    def describe(self) -> dict[str, Any]:
        """What the trial record keeps: the splitter and the number of folds."""
        return {"splitter": self.description, "n_splits": len(self.folds)}

    def fold_kwargs(self, fold: int, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """``fit`` keyword arguments for ``fold``: its training and validation parts."""
        train, validation = self.folds[fold]
        kwargs = {k: v for k, v in arguments.items() if k not in _DATA_ARGUMENTS}
        x, y = arguments.get("x"), arguments.get("y")
        weights = arguments.get("sample_weight")
        kwargs["x"] = take(x, train)
        kwargs["y"] = take(y, train)
        validation_data: tuple[Any, ...] = (take(x, validation), take(y, validation))
        if weights is not None:
            kwargs["sample_weight"] = take(weights, train)
            validation_data += (take(weights, validation),)
        kwargs["validation_data"] = validation_data
        return kwargs


_DATA_ARGUMENTS = frozenset(
    {"x", "y", "sample_weight", "validation_data", "validation_split"}
)


def take(data: Any, indices: np.ndarray) -> Any:
    """Rows ``indices`` of an array, a DataFrame, or a dict/list/tuple of them."""
    if data is None:
        return None
    if isinstance(data, Mapping):
        return {key: take(value, indices) for key, value in data.items()}
    if isinstance(data, (list, tuple)) and _is_structure(data):
        return type(data)(take(value, indices) for value in data)
    if hasattr(data, "iloc"):
        return data.iloc[indices]
    return np.asarray(data)[indices]


def _is_structure(data: Sequence[Any]) -> bool:
    """A list/tuple of arrays (multi-input), not a list of numbers."""
    return bool(data) and all(
        hasattr(item, "shape") or isinstance(item, Mapping) for item in data
    )


def _leaves(data: Any) -> list[Any]:
    if isinstance(data, Mapping):
        return [leaf for value in data.values() for leaf in _leaves(value)]
    if isinstance(data, (list, tuple)) and _is_structure(data):
        return [leaf for value in data for leaf in _leaves(value)]
    return [data]


def is_in_memory(data: Any) -> bool:
    """True when ``data`` is arrays, frames, tensors or lists (not a stream)."""
    if data is None:
        return True
    for leaf in _leaves(data):
        if isinstance(leaf, np.ndarray) or hasattr(leaf, "iloc"):
            continue
        if hasattr(leaf, "__array__") and hasattr(leaf, "shape"):
            continue  # tensors of any backend
        if isinstance(leaf, (list, tuple)):
            continue  # a plain list of numbers
        return False
    return True


def _length(data: Any) -> int:
    lengths = {len(leaf) for leaf in _leaves(data)}
    if len(lengths) != 1:
        raise invalid_parameter(
            "x",
            f"arrays of lengths {sorted(lengths)}",
            "arrays with the same number of samples",
        )
    return lengths.pop()


def _check_inputs(arguments: Mapping[str, Any], kind: str) -> int:
    if kind == "hyperband":
        raise InvalidParameterError(
            "Hyperband does not support `cv=`: its later rounds continue each "
            "trial from one checkpoint, not one model per fold. Use "
            "tunekit.RandomSearch or tunekit.BayesianOptimization with `cv=`, "
            "or Hyperband with `validation_data=`. "
            f"{received('cv', arguments.get('cv'))}"
        )
    for name in ("validation_data", "validation_split"):
        value = arguments.get(name)
        if value is not None and not (name == "validation_split" and value == 0):
            raise InvalidParameterError(
                f"`cv=` and `{name}=` cannot be combined: with cross-validation "
                "each fold's held-out part is the validation data. Drop "
                f"`{name}`, or drop `cv` to validate on it. "
                f"{received(name, _short(value))}"
            )
    x, y = arguments.get("x"), arguments.get("y")
    if x is None:
        raise invalid_parameter("x", None, "the training inputs when `cv=` is used")
    if not is_in_memory(x) or not is_in_memory(y):
        raise InvalidParameterError(
            "`cv=` needs in-memory arrays (NumPy arrays, tensors, DataFrames, or "
            "dicts/lists of them) that can be indexed by fold; generators, "
            "tf.data datasets and PyDataset/DirectoryIterator inputs cannot. "
            "Load the data into arrays, or drop `cv` and pass `validation_data`. "
            f"{received('x', _short(x))}"
        )
    if y is None:
        raise invalid_parameter("y", None, "the labels when `cv=` is used")
    n = _length(x)
    for name in ("y", "sample_weight"):
        value = arguments.get(name)
        if value is not None and _length(value) != n:
            raise invalid_parameter(
                name,
                f"{_length(value)} samples",
                f"as many samples as x ({n})",
            )
    return n


def _short(value: Any) -> Any:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return f"<{type(value).__name__} of shape {tuple(shape)}>"
    return f"<{type(value).__name__}>" if not isinstance(value, (int, float)) else value


def is_classification(y: Any) -> bool:
    """Whether labels ``y`` look like classes (see the module docstring)."""
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] > 1:
        return bool(np.isin(labels, (0, 1)).all() and (labels.sum(axis=1) == 1).all())
    if labels.ndim > 2:
        return False
    return labels.dtype.kind in "iubUSO"


def stratification_labels(y: Any) -> np.ndarray:
    """The class of each sample (``argmax`` of one-hot rows)."""
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] > 1:
        return labels.argmax(axis=1)
    return labels.reshape(len(labels), -1)[:, 0]


def _default_splitter(n_splits: int, y: Any, groups: Any, seed: int) -> Any:
    from sklearn import model_selection

    classification = is_classification(y)
    if groups is not None:
        if classification:
            return model_selection.StratifiedGroupKFold(
                n_splits, shuffle=True, random_state=seed
            )
        return model_selection.GroupKFold(n_splits)
    if classification:
        return model_selection.StratifiedKFold(
            n_splits, shuffle=True, random_state=seed
        )
    return model_selection.KFold(n_splits, shuffle=True, random_state=seed)


def _check_index_pairs(folds: list[Any], n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    checked = []
    for k, pair in enumerate(folds):
        try:
            train, validation = pair
            train = np.asarray(train, dtype=np.int64).reshape(-1)
            validation = np.asarray(validation, dtype=np.int64).reshape(-1)
        except (TypeError, ValueError) as error:
            raise invalid_parameter(
                "cv",
                _short(folds),
                "an int, a scikit-learn splitter or (train, validation) index pairs",
                f"Fold {k} is not a pair of index arrays.",
            ) from error
        if not len(train) or not len(validation):
            raise invalid_parameter(
                "cv",
                f"fold {k}",
                "folds whose training and validation parts are not empty",
            )
        if (
            train.min() < -n
            or validation.min() < -n
            or max(train.max(), validation.max()) >= n
        ):
            raise invalid_parameter(
                "cv", f"fold {k}", f"indices within the {n} samples of x"
            )
        checked.append((train, validation))
    if len(checked) < 2:
        raise invalid_parameter("cv", _short(folds), "at least 2 folds")
    return checked


def plan_cross_validation(
    cv: Any, groups: Any, arguments: Mapping[str, Any], *, kind: str, seed: int | None
) -> CrossValidationPlan:
    """Check ``cv`` and the data; split once. Raises before any training."""
    arguments = {**arguments, "cv": cv}
    n = _check_inputs(arguments, kind)
    y = arguments["y"]
    if groups is not None and len(np.asarray(groups)) != n:
        raise invalid_parameter(
            "groups", f"{len(np.asarray(groups))} values", f"one group per sample ({n})"
        )
    if isinstance(cv, bool) or isinstance(cv, float):
        raise invalid_parameter(
            "cv",
            cv,
            "an int >= 2, a scikit-learn splitter or (train, validation) pairs",
        )
    if isinstance(cv, (int, np.integer)):
        if cv < 2 or cv > n:
            raise invalid_parameter(
                "cv", cv, f"an int between 2 and the number of samples ({n})"
            )
        splitter = _default_splitter(int(cv), y, groups, 0 if seed is None else seed)
    elif hasattr(cv, "split"):
        splitter = cv
    elif isinstance(cv, (list, tuple)) or hasattr(cv, "__iter__"):
        folds = _check_index_pairs(list(cv), n)
        return CrossValidationPlan(folds, f"{len(folds)} given folds", n)
    else:
        raise invalid_parameter(
            "cv",
            cv,
            "an int >= 2, a scikit-learn splitter or (train, validation) pairs",
        )
    stratify = stratification_labels(y) if is_classification(y) else np.asarray(y)
    features = np.zeros((n, 1))
    try:
        folds = list(splitter.split(features, stratify, groups))
    except (ValueError, TypeError) as error:
        raise invalid_parameter(
            "cv",
            splitter,
            "a splitter that can split these samples",
            f"{type(error).__name__}: {error}",
        ) from error
    return CrossValidationPlan(_check_index_pairs(folds, n), repr(splitter), n)
