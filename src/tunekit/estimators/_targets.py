"""Loss inspection and target encoding for the classifier.

Class indices become the targets the compiled loss expects (indices, one-hot
rows or a single 0/1 column), and the model's outputs become probabilities.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tunekit._errors import InvalidParameterError, LabelMismatchError

__all__ = [
    "TargetEncoding",
    "class_probabilities",
    "classifier_encoding",
    "encode_classes",
    "is_label_matrix",
    "one_hot_indices",
    "output_units",
    "shape_of",
    "single_loss",
]


_SPARSE_LOSSES = {
    "sparse_categorical_crossentropy",
    "sparsecategoricalcrossentropy",
    "sparse_categorical_focal_crossentropy",
}
_CATEGORICAL_LOSSES = {
    "categorical_crossentropy",
    "categoricalcrossentropy",
    "categorical_focal_crossentropy",
    "categoricalfocalcrossentropy",
    "categorical_hinge",
    "categoricalhinge",
    "kl_divergence",
    "kldivergence",
    "kld",
    "poisson",
}
_BINARY_LOSSES = {
    "binary_crossentropy",
    "binarycrossentropy",
    "binary_focal_crossentropy",
    "binaryfocalcrossentropy",
    "hinge",
    "squared_hinge",
    "squaredhinge",
}


def _loss_name(loss: Any) -> str:
    """Lower-case name of a compiled loss (string, function or Loss object)."""
    if isinstance(loss, str):
        return loss.lower()
    inner = getattr(loss, "fn", None)  # LossFunctionWrapper
    if inner is not None and getattr(inner, "__name__", None):
        return str(inner.__name__).lower()
    if inspect.isfunction(loss) or inspect.isbuiltin(loss):
        return str(loss.__name__).lower()
    return type(loss).__name__.lower()


def _from_logits(loss: Any) -> bool:
    if getattr(loss, "from_logits", False):
        return True
    config = getattr(loss, "_fn_kwargs", None) or {}
    return bool(config.get("from_logits", False))


def single_loss(model: Any) -> Any:
    """The model's compiled loss, unwrapped when it is the only one."""
    loss = getattr(model, "loss", None)
    if isinstance(loss, Mapping):
        values = list(loss.values())
        loss = values[0] if len(values) == 1 else loss
    elif isinstance(loss, (list, tuple)):
        loss = loss[0] if len(loss) == 1 else loss
    return loss


def output_units(model: Any, sample: np.ndarray) -> int:
    """Size of the model's last axis, building the model on one sample if needed."""
    outputs = getattr(model, "outputs", None)
    try:
        if outputs:
            if len(outputs) != 1:
                raise LabelMismatchError(
                    "KerasClassifier supports models with a single output; the "
                    f"build function returned a model with {len(outputs)} outputs."
                )
            units = outputs[0].shape[-1]
            if units is not None:
                return int(units)
    except (AttributeError, TypeError, ValueError):
        pass
    prediction = np.asarray(model(sample, training=False))
    return int(prediction.shape[-1]) if prediction.ndim > 1 else 1


@dataclass(frozen=True)
class TargetEncoding:
    """How class indices become the targets the compiled loss expects."""

    kind: str  # "sparse", "one_hot" or "binary"
    from_logits: bool


def classifier_encoding(loss: Any, units: int, n_classes: int) -> TargetEncoding:
    """The encoding ``loss`` and a head of ``units`` need, or a clear error."""
    name = _loss_name(loss)
    logits = _from_logits(loss)
    if units == 1:
        if n_classes != 2:
            raise LabelMismatchError(
                f"The model ends in 1 unit but y has {n_classes} classes. Use "
                f"`Dense({n_classes}, activation='softmax')` with a categorical "
                "loss, or a 1-unit sigmoid head only for two classes. "
                f"Received: loss={name!r}, n_classes={n_classes}"
            )
        return TargetEncoding("binary", logits)
    if units != n_classes:
        raise LabelMismatchError(
            f"The model ends in {units} units but y has {n_classes} classes; "
            f"the output layer needs one unit per class (or 1 unit with a "
            "sigmoid for two classes). Ask for `n_classes_` in the build "
            "function to size the head from the data. "
            f"Received: units={units}, n_classes={n_classes}"
        )
    if name in _CATEGORICAL_LOSSES or name in _BINARY_LOSSES:
        return TargetEncoding("one_hot", logits)
    # Sparse losses and unknown custom losses get class indices.
    return TargetEncoding("sparse", logits)


def encode_classes(indices: np.ndarray, encoding: TargetEncoding, k: int) -> Any:
    """Class indices as the targets ``encoding`` describes (``k`` classes)."""
    if encoding.kind == "binary":
        return indices.astype("float32").reshape(-1, 1)
    if encoding.kind == "one_hot":
        return np.eye(k, dtype="float32")[indices]
    return indices.astype("int32")


def class_probabilities(raw: np.ndarray, encoding: TargetEncoding) -> np.ndarray:
    """Rows of class probabilities from the model's raw outputs."""
    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim == 1:
        raw = raw.reshape(-1, 1)
    if encoding.kind == "binary":
        positive = raw[:, 0]
        if encoding.from_logits:
            positive = 1.0 / (1.0 + np.exp(-positive))
        positive = np.clip(positive, 0.0, 1.0)
        return np.column_stack([1.0 - positive, positive])
    if encoding.from_logits:
        shifted = raw - raw.max(axis=1, keepdims=True)
        raw = np.exp(shifted)
    raw = np.clip(raw, 0.0, None)
    totals = raw.sum(axis=1, keepdims=True)
    totals[totals == 0] = 1.0
    return raw / totals


def shape_of(values: Any) -> tuple[int, ...]:
    """Shape of array-likes without numpy functions (``_NotAnArray`` refuses them)."""
    shape = getattr(values, "shape", None)
    if shape is None:
        try:
            shape = np.asarray(values).shape
        except Exception:  # ragged lists: let validation report them
            return ()
    return tuple(shape)


def is_label_matrix(y: Any) -> bool:
    """True for 2-D targets with several columns (one-hot rows or worse)."""
    shape = shape_of(y)
    return len(shape) == 2 and shape[1] > 1


def one_hot_indices(rows: np.ndarray, argname: str) -> np.ndarray:
    """Class index of each one-hot row; a clear error for anything else."""
    numeric = rows.dtype.kind in "biuf"
    if not (numeric and np.isin(rows, (0, 1)).all() and np.all(rows.sum(axis=1) == 1)):
        example = rows[0].tolist() if len(rows) else []
        raise InvalidParameterError(
            f"`{argname}` has shape {rows.shape}: KerasClassifier takes one label "
            "per sample, as class labels of shape (n_samples,) or as one-hot rows "
            "(a single 1 per row). Multi-label or soft targets are not "
            f"supported. Received: {argname} with rows like {example!r}"
        )
    return np.argmax(rows, axis=1)
