"""Checking that a Keras model's head, loss and labels agree, before training.

A classification model trains only when three things agree: the output layer
(its activation and number of units), the loss (binary, categorical or sparse
categorical cross-entropy) and the format of the labels (class indices, one-hot
rows, 0/1 values). When they disagree, Keras often trains anyway and the
accuracy sits at exactly the majority rate or ``1/k``.
:func:`check_model_labels` finds those combinations and says which fix applies.

Nothing here imports Keras at module level; the model passed in brings it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tunekit._errors import LabelMismatchError
from tunekit._warnings import warn

__all__ = ["check_model_labels"]

# Loss kinds.
_BINARY = "binary"
_CATEGORICAL = "categorical"
_SPARSE = "sparse"

_LOSS_FUNCTION_KINDS: dict[str, str] = {
    "binary_crossentropy": _BINARY,
    "binary_focal_crossentropy": _BINARY,
    "categorical_crossentropy": _CATEGORICAL,
    "categorical_focal_crossentropy": _CATEGORICAL,
    "categorical_hinge": _CATEGORICAL,
    "sparse_categorical_crossentropy": _SPARSE,
}

_LOSS_CLASS_KINDS: dict[str, str] = {
    "BinaryCrossentropy": _BINARY,
    "BinaryFocalCrossentropy": _BINARY,
    "CategoricalCrossentropy": _CATEGORICAL,
    "CategoricalFocalCrossentropy": _CATEGORICAL,
    "CategoricalHinge": _CATEGORICAL,
    "SparseCategoricalCrossentropy": _SPARSE,
}

# Losses that read the model output as probabilities unless from_logits=True.
_PROBABILISTIC_LOSSES = {
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "sparse_categorical_crossentropy",
}

_FIX_BINARY_HEAD = (
    "for two classes use `Dense(1, activation='sigmoid')` with "
    "`loss='binary_crossentropy'` and 0/1 labels"
)
_FIX_SPARSE_HEAD = (
    "`Dense(n_classes, activation='softmax')` with "
    "`loss='sparse_categorical_crossentropy'` and integer labels 0..n_classes-1"
)


@dataclass(frozen=True)
class _LossInfo:
    """What tunekit understood of a compiled loss."""

    name: str  # keras function name, e.g. "sparse_categorical_crossentropy"
    kind: str  # _BINARY, _CATEGORICAL or _SPARSE
    from_logits: bool
    ignore_class: int | None
    shown: str  # how the loss is shown in messages


@dataclass(frozen=True)
class _HeadInfo:
    """What tunekit understood of a model output."""

    units: int | None
    activation: str | None  # "softmax", "sigmoid", "linear", other or None
    layer: str  # how the output layer is shown in messages
    rank: int | None = 2  # rank of the output, batch included


@dataclass(frozen=True)
class _Labels:
    """What tunekit understood of the labels of one output."""

    ndim: int  # 1 = one value per sample ((N,) or (N, 1)), 2 = one row per sample
    columns: int | None  # row length when ndim == 2
    values: np.ndarray | None  # sorted distinct values (None when unknown)
    row_sums: tuple[float, float] | None  # (min, max) of row sums when ndim == 2
    shown: str  # how the labels are shown in messages

    # Unknown values (a dataset's spec) count as valid: no false alarm.
    @property
    def integer_valued(self) -> bool:
        return self.values is None or bool(np.all(np.mod(self.values, 1) == 0))

    @property
    def in_unit_interval(self) -> bool:
        return self.values is None or bool(
            np.all((self.values >= 0) & (self.values <= 1))
        )


# --------------------------------------------------------------------------
# Reading the loss
# --------------------------------------------------------------------------


def _loss_function_name(fn: Any) -> str | None:
    """Name of a built-in Keras loss function, or None for anything custom."""
    import keras

    name = getattr(fn, "__name__", None)
    if name in _LOSS_FUNCTION_KINDS and getattr(keras.losses, name, None) is fn:
        return name
    return None


def _describe_loss(loss: Any) -> _LossInfo | None:
    """Understand a single compiled loss, or return None (custom / other)."""
    import keras

    shown = repr(loss) if isinstance(loss, str) else _short_repr(loss)
    if isinstance(loss, str):
        try:
            loss_obj = keras.losses.get(loss)
        except (ValueError, TypeError):
            return None
    else:
        loss_obj = loss
    if isinstance(loss_obj, keras.losses.Loss):
        return _describe_loss_object(loss_obj, shown)
    name = _loss_function_name(loss_obj)
    if name is None:
        return None
    return _LossInfo(name, _LOSS_FUNCTION_KINDS[name], False, None, shown)


def _describe_loss_object(loss: Any, shown: str) -> _LossInfo | None:
    import keras

    kind = None
    name = None
    for class_name, class_kind in _LOSS_CLASS_KINDS.items():
        cls = getattr(keras.losses, class_name, None)
        if cls is not None and type(loss) is cls:  # subclasses may change call()
            kind = class_kind
            name = _loss_function_name(getattr(loss, "fn", None))
            break
    if kind is None:
        # A plain LossFunctionWrapper around a built-in loss function.
        if type(loss).__name__ != "LossFunctionWrapper":
            return None
        name = _loss_function_name(getattr(loss, "fn", None))
        if name is None:
            return None
        kind = _LOSS_FUNCTION_KINDS[name]
    try:
        config = loss.get_config()
    except Exception:  # pragma: no cover - exotic losses
        config = {}
    fn_kwargs = getattr(loss, "_fn_kwargs", {}) or {}
    from_logits = bool(config.get("from_logits", fn_kwargs.get("from_logits", False)))
    ignore_class = config.get("ignore_class", fn_kwargs.get("ignore_class"))
    return _LossInfo(
        name or f"{kind}_crossentropy", kind, from_logits, ignore_class, shown
    )


def _short_repr(obj: Any) -> str:
    if callable(obj) and hasattr(obj, "__name__"):
        return obj.__name__
    return f"{type(obj).__name__}()"


# --------------------------------------------------------------------------
# Reading the model head
# --------------------------------------------------------------------------


def _model_outputs(model: Any) -> list[Any] | None:
    """The symbolic outputs of a Sequential/Functional model, or None."""
    try:
        outputs = model.outputs
    except Exception:  # unbuilt, subclassed or not a Keras model at all
        return None
    if not outputs or not isinstance(outputs, (list, tuple)):
        return None
    return list(outputs)


def _producing_layer(output: Any) -> Any:
    history = getattr(output, "_keras_history", None)
    return getattr(history, "operation", None) if history is not None else None


def _activation_name(layer: Any) -> str | None:
    import keras

    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    activation = getattr(layer, "activation", None)
    if activation is None:
        return None
    if isinstance(activation, str):
        return activation
    name = getattr(activation, "__name__", None)
    if name is None:
        return None
    # Only trust Keras' own activation functions.
    if getattr(keras.activations, name, None) is activation:
        return name
    return None


def _describe_head(layer: Any, output: Any) -> _HeadInfo:
    units = None
    rank = None
    shape = getattr(output, "shape", None)
    if shape is not None:
        rank = len(shape)
        if rank >= 2 and shape[-1] is not None:
            units = int(shape[-1])
    activation = _activation_name(layer) if layer is not None else None
    if layer is None:
        shown = "the model output"
    else:
        kind = type(layer).__name__
        detail = f"{units} units" if units is not None else "units unknown"
        act = f", activation={activation!r}" if activation else ""
        shown = f"output layer {layer.name!r} ({kind}, {detail}{act})"
    return _HeadInfo(units, activation, shown, rank)


# --------------------------------------------------------------------------
# Reading the labels
# --------------------------------------------------------------------------


def _iterator_labels(source: Any) -> _Labels | None:
    """Label format of a DirectoryIterator-like object (no image decoding)."""
    classes = np.asarray(source.classes)
    n_classes = len(source.class_indices)
    mode = getattr(source, "class_mode", "categorical")
    values = np.unique(classes) if classes.size else None
    shown = f"a {type(source).__name__} with class_mode={mode!r}"
    if mode == "categorical":
        return _Labels(2, n_classes, np.array([0.0, 1.0]), (1.0, 1.0), shown)
    if mode in ("sparse", "binary"):
        return _Labels(1, None, values, None, shown)
    return None


def _dataset_labels(dataset: Any) -> _Labels | None:
    """Label format of a ``tf.data.Dataset`` of (x, y), from its spec only."""
    from tunekit.labels._class_weights import _looks_batched

    spec = dataset.element_spec
    if not isinstance(spec, tuple) or len(spec) < 2:
        return None
    y_spec = spec[1]
    shape = getattr(y_spec, "shape", None)
    if shape is None or shape.rank is None:
        return None  # dict / nested labels, or unknown rank
    dims = list(shape)[1:] if _looks_batched(spec) else list(shape)
    shown = f"a tf.data.Dataset with labels of shape {tuple(dims)} per sample"
    if len(dims) == 0 or dims == [1]:
        return _Labels(1, None, None, None, shown)
    if len(dims) == 1 and dims[0] is not None:
        return _Labels(2, int(dims[0]), None, None, shown)
    return None


def _describe_labels(y: Any) -> _Labels | None:
    """Understand one output's labels, or None if they cannot be analysed."""
    if y is None:
        return None
    if hasattr(y, "classes") and hasattr(y, "class_indices"):
        return _iterator_labels(y)
    from tunekit.labels._class_weights import _is_tf_dataset

    if _is_tf_dataset(y):
        return _dataset_labels(y)
    if not isinstance(y, (np.ndarray, list, tuple)) and not hasattr(y, "__array__"):
        return None  # dataset, generator, ...: nothing cheap to read
    from tunekit.labels._class_weights import _unbox_object_array

    try:
        arr = _unbox_object_array(np.asarray(y))
    except Exception:
        return None
    if arr.dtype.kind in "US" or (
        arr.dtype == object and any(isinstance(v, str) for v in arr.flat)
    ):
        raise LabelMismatchError(
            "Keras cannot train on string labels. Encode them as integers first, "
            "e.g. `classes, y = np.unique(y, return_inverse=True)` (the order "
            "`tunekit.class_weights` and the image loaders use). "
            f"Received: y with dtype={arr.dtype} and values like {_sample(arr)}"
        )
    if arr.dtype.kind not in "biuf" or arr.ndim == 0 or arr.size == 0:
        return None
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise LabelMismatchError(
            "The labels contain NaN values; Keras would train on garbage. Drop or "
            f"fill those samples first. Received: y with shape={arr.shape} and "
            f"{int(np.isnan(arr).sum())} NaN values"
        )
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    shown = f"labels with shape={arr.shape}, dtype={arr.dtype}"
    if arr.ndim == 1:
        values = np.unique(arr)
        return _Labels(1, None, values, None, f"{shown}, values {_sample(values)}")
    if arr.ndim == 2:
        values = np.unique(arr)
        sums = arr.sum(axis=1)
        return _Labels(
            2,
            int(arr.shape[1]),
            values,
            (float(sums.min()), float(sums.max())),
            f"{shown}, values {_sample(values)}",
        )
    return None  # sequence / image targets: out of scope


def _sample(values: np.ndarray, limit: int = 6) -> str:
    flat = np.unique(np.asarray(values).ravel())
    items = [v.item() if hasattr(v, "item") else v for v in flat[:limit]]
    text = ", ".join(repr(v) for v in items)
    return "{" + text + (", ..." if flat.size > limit else "") + "}"


# --------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------


def _mismatch(problem: str, fix: str, head: _HeadInfo, loss: Any, labels: Any) -> None:
    parts = [f"{problem} Fix: {fix}."]
    tail = [f"{head.layer}"]
    if loss is not None:
        tail.append(f"loss={loss.shown}")
    if labels is not None:
        tail.append(labels.shown)
    raise LabelMismatchError(" ".join(parts) + " Received: " + "; ".join(tail))


def _check_head_alone(head: _HeadInfo) -> None:
    if head.activation == "softmax" and head.units == 1:
        _mismatch(
            "A softmax over a single unit always outputs 1.0, so the model "
            "cannot learn anything.",
            f"{_FIX_BINARY_HEAD}, or use {_FIX_SPARSE_HEAD} (2 units for 2 classes)",
            head,
            None,
            None,
        )


def _check_head_and_loss(head: _HeadInfo, loss: _LossInfo) -> None:
    k = head.units
    if loss.name in _PROBABILISTIC_LOSSES and not loss.from_logits:
        if head.activation == "linear":
            expected = "sigmoid" if loss.kind == _BINARY else "softmax"
            _mismatch(
                "The loss expects probabilities (from_logits=False) but the "
                "output layer has no activation, so it outputs raw scores.",
                f"add `activation={expected!r}` to the output layer, or use "
                f"`{loss.name}` with `from_logits=True`",
                head,
                loss,
                None,
            )
    if loss.from_logits and head.activation in ("softmax", "sigmoid"):
        warn(
            f"The loss uses from_logits=True but {head.layer} already applies "
            f"{head.activation}; the activation is applied twice, which slows or "
            "stalls training. Remove the activation or use from_logits=False.",
            UserWarning,
        )
    if loss.kind in (_CATEGORICAL, _SPARSE) and k == 1:
        _mismatch(
            "A categorical loss over a single output unit is meaningless (the "
            "loss is constant or the only valid label is 0).",
            f"{_FIX_BINARY_HEAD}, or use {_FIX_SPARSE_HEAD}",
            head,
            loss,
            None,
        )
    if (
        loss.kind in (_CATEGORICAL, _SPARSE)
        and head.activation == "sigmoid"
        and k is not None
        and k >= 2
    ):
        _mismatch(
            f"A sigmoid output with {k} units scores each class independently, "
            f"but `{loss.name}` expects one probability distribution per sample.",
            "use `activation='softmax'` on the output layer for single-label "
            "classes (or `loss='binary_crossentropy'` with multi-hot labels for "
            "multi-label problems)",
            head,
            loss,
            None,
        )


def _check_binary_labels(head: _HeadInfo, loss: _LossInfo, labels: _Labels) -> None:
    k = head.units
    if labels.ndim == 1:
        if not labels.in_unit_interval:
            n = labels.values.size if labels.values is not None else "several"
            if k == 1 or k is None:
                fix = (
                    f"for {n} classes use {_FIX_SPARSE_HEAD}; for two classes "
                    "map the labels to 0/1"
                )
            else:
                fix = f"use {_FIX_SPARSE_HEAD}"
            _mismatch(
                f"`{loss.name}` needs labels in {{0, 1}}, but the labels have "
                "other values (multi-class labels with a binary loss; a "
                "1-unit sigmoid head cannot represent them).",
                fix,
                head,
                loss,
                labels,
            )
        if k is not None and k > 1:
            _mismatch(
                f"The labels have one value per sample but the output has {k} "
                f"units; `{loss.name}` would compare every unit with the same "
                "label.",
                f"use `Dense(1, activation='sigmoid')` for 0/1 labels, or keep "
                f"{k} units with `loss='sparse_categorical_crossentropy'` and "
                "`activation='softmax'`",
                head,
                loss,
                labels,
            )
        return
    if k is not None and labels.columns != k:
        _mismatch(
            f"The labels have {labels.columns} columns but the output has {k} units.",
            "give the output layer one unit per label column"
            + (
                " (for one-hot labels of 2 classes with 1 unit, pass "
                "`y.argmax(axis=1)`)"
                if k == 1
                else ""
            ),
            head,
            loss,
            labels,
        )
    if not labels.in_unit_interval:
        _mismatch(
            f"`{loss.name}` needs label values between 0 and 1.",
            "use 0/1 (multi-hot) label rows, or a categorical loss for class indices",
            head,
            loss,
            labels,
        )


def _check_categorical_labels(
    head: _HeadInfo, loss: _LossInfo, labels: _Labels
) -> None:
    k = head.units
    if labels.ndim == 1:
        _mismatch(
            f"`{loss.name}` expects one-hot label rows, but the labels are "
            "integer class indices (one value per sample).",
            "use `loss='sparse_categorical_crossentropy'` with these labels, "
            "or one-hot encode them with `keras.utils.to_categorical(y, "
            f"{k if k else 'n_classes'})`",
            head,
            loss,
            labels,
        )
    if k is not None and labels.columns != k:
        _mismatch(
            f"The one-hot labels have {labels.columns} columns but the output "
            f"has {k} units.",
            f"use `Dense({labels.columns}, activation='softmax')` as the output "
            "layer, or encode the labels with as many columns as classes",
            head,
            loss,
            labels,
        )
    if labels.row_sums is not None and labels.in_unit_interval:
        low, high = labels.row_sums
        if low < 0.99 or high > 1.01:
            _mismatch(
                "Some label rows do not sum to 1 (multi-hot or all-zero rows), "
                f"but `{loss.name}` expects exactly one class per sample.",
                "for multi-label problems use `activation='sigmoid'` with "
                "`loss='binary_crossentropy'`; otherwise fix the encoding so "
                "each row is one-hot",
                head,
                loss,
                labels,
            )


def _check_sparse_labels(head: _HeadInfo, loss: _LossInfo, labels: _Labels) -> None:
    k = head.units
    if labels.ndim == 2:
        _mismatch(
            f"`{loss.name}` expects integer class indices (one value per "
            f"sample), but the labels are rows of {labels.columns} values "
            "(one-hot).",
            "use `loss='categorical_crossentropy'` with one-hot labels, or pass "
            "`y.argmax(axis=1)`",
            head,
            loss,
            labels,
        )
    values = labels.values
    if values is None:
        return
    if loss.ignore_class is not None:
        values = values[values != loss.ignore_class]
    if values.size == 0:
        return
    if not labels.integer_valued:
        _mismatch(
            f"`{loss.name}` expects integer class indices, but the labels have "
            "fractional values.",
            "use integer class indices 0..n_classes-1 (or "
            "`loss='binary_crossentropy'` with a sigmoid head for 0/1 "
            "probabilities)",
            head,
            loss,
            labels,
        )
    if values.min() < 0:
        _mismatch(
            "Class indices must be >= 0, but the labels contain negative values.",
            "re-encode the labels as 0..n_classes-1, e.g. "
            "`classes, y = np.unique(y, return_inverse=True)`",
            head,
            loss,
            labels,
        )
    if k is not None and values.max() >= k:
        needed = int(values.max()) + 1
        _mismatch(
            f"The largest label is {int(values.max())} but the output has only "
            f"{k} units, so labels >= {k} have no unit.",
            f"use `Dense({needed}, activation='softmax')` (one unit per class), "
            "or re-encode the labels as 0..n_classes-1 with "
            "`classes, y = np.unique(y, return_inverse=True)`",
            head,
            loss,
            labels,
        )


def _check_labels(head: _HeadInfo, loss: _LossInfo, labels: _Labels) -> None:
    if loss.kind == _BINARY:
        _check_binary_labels(head, loss, labels)
    elif loss.kind == _CATEGORICAL:
        _check_categorical_labels(head, loss, labels)
    elif loss.kind == _SPARSE:
        _check_sparse_labels(head, loss, labels)


def _check_one_output(model_output: Any, layer: Any, loss: Any, y: Any) -> None:
    head = _describe_head(layer, model_output)
    _check_head_alone(head)
    loss_info = _describe_loss(loss) if loss is not None else None
    if loss_info is None:
        return
    _check_head_and_loss(head, loss_info)
    if head.rank != 2:
        return  # sequence / image outputs: label checks would be guesses
    labels = _describe_labels(y)
    if labels is not None:
        _check_labels(head, loss_info, labels)


def _pair_outputs(model: Any, outputs: list[Any], loss: Any, y: Any) -> list[tuple]:
    """Match (output, loss, labels) triples; skip what cannot be matched."""
    if len(outputs) == 1:
        if isinstance(loss, Mapping):
            loss = next(iter(loss.values())) if len(loss) == 1 else None
        elif isinstance(loss, (list, tuple)):
            loss = loss[0] if len(loss) == 1 else None
        if isinstance(y, Mapping):
            y = next(iter(y.values())) if len(y) == 1 else None
        elif isinstance(y, (list, tuple)) and len(y) == 1 and _is_array_like(y[0]):
            y = y[0]
        return [(outputs[0], loss, y)]
    names = list(getattr(model, "output_names", []) or [])
    struct = getattr(model, "_outputs_struct", None)  # Functional with dict outputs
    if isinstance(struct, Mapping) and isinstance(loss, Mapping):
        by_id = {id(tensor): key for key, tensor in struct.items()}
        keys = [by_id.get(id(output)) for output in outputs]
        if None not in keys and set(loss) <= set(keys):
            names = [str(key) for key in keys]
    if len(names) != len(outputs):
        return []
    losses = _per_output(loss, names)
    labels = _per_output(y, names)
    if losses is None:
        return []
    if labels is None:
        labels = [None] * len(outputs)
    return list(zip(outputs, losses, labels))


def _per_output(value: Any, names: list[str]) -> list[Any] | None:
    if isinstance(value, Mapping):
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)) and len(value) == len(names):
        return list(value)
    return None


def _is_array_like(value: Any) -> bool:
    return isinstance(value, (np.ndarray, list)) or hasattr(value, "__array__")


def check_model_labels(model: Any, y: Any, *, loss: Any = None) -> None:
    """Raise if a model's output head, loss and labels disagree.

    Call it before ``fit``: it reads the compiled loss, the activation and
    width of the output layer, and the format and values of ``y``, and raises
    :class:`tunekit.LabelMismatchError` (a ``ValueError``) for combinations
    that cannot train, each message naming the fix:

    - softmax over 1 unit (always outputs 1.0);
    - a sigmoid head with k >= 2 units and a categorical loss;
    - ``categorical_crossentropy`` with integer labels;
    - ``sparse_categorical_crossentropy`` with one-hot labels;
    - label values >= the number of output units, or negative;
    - ``binary_crossentropy`` with labels outside [0, 1] (multi-class labels
      on a 1-unit sigmoid head);
    - a probability loss on a head without activation;
    - labels and outputs of different widths, NaN or string labels.

    Models it cannot analyse (subclassed models, custom losses, outputs that
    are not ``(batch, units)``, labels it cannot read cheaply such as a Python
    generator) pass silently: it never raises on a combination that trains
    correctly.

    Parameters
    ----------
    model : keras.Model
        A Sequential or Functional model, normally compiled.
    y : array-like, dict, list, DirectoryIterator or tf.data.Dataset
        The labels passed to ``fit``: class indices ``(N,)`` or ``(N, 1)``,
        one-hot / multi-hot rows ``(N, k)``, a dict or list per output for
        multi-output models; or, when ``fit`` gets a single data object, that
        object: a ``DirectoryIterator`` (its ``class_mode`` tells the label
        format) or a ``tf.data.Dataset`` of ``(x, y)`` (only its
        ``element_spec`` is read, so label values are not checked). No image
        is decoded.
    loss : loss, optional
        The loss to check instead of ``model.loss`` (for a model that is not
        compiled yet).

    Raises
    ------
    LabelMismatchError
        When the head, the loss and the labels cannot train together.

    Examples
    --------
    >>> import numpy as np, keras
    >>> import tunekit
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    >>> model.compile(loss="categorical_crossentropy")
    >>> tunekit.check_model_labels(model, np.array([0, 1, 2, 1]))
    Traceback (most recent call last):
    ...
    tunekit._errors.LabelMismatchError: `categorical_crossentropy` expects one-hot label rows, ...
    >>> model.compile(loss="sparse_categorical_crossentropy")
    >>> tunekit.check_model_labels(model, np.array([0, 1, 2, 1]))  # fine: no error
    """  # noqa: E501
    outputs = _model_outputs(model)
    if outputs is None:
        return  # subclassed or unbuilt model: nothing reliable to read
    compiled_loss = loss if loss is not None else getattr(model, "loss", None)
    for output, output_loss, output_y in _pair_outputs(
        model, outputs, compiled_loss, y
    ):
        layer = _producing_layer(output)
        if layer is not None and not hasattr(layer, "name"):
            layer = None
        _check_one_output(output, layer, output_loss, output_y)
