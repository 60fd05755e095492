"""Checks on the data and weights handed to ``fit``, run before any epoch.

Keras accepts several mistakes silently, or reports them only after a full
epoch of training:

* a ``class_weight`` dict keyed by strings while the labels are integers (the
  weights are ignored), that leaves out classes present in the labels (they
  get weight 1.0), or that names classes the labels do not have;
* negative, NaN or infinite ``sample_weight`` values (the loss turns negative
  or NaN);
* images given to a model whose ``Input`` is flat, or flat rows given to a
  model built for images (the first batch fails deep inside Keras);
* validation images of another size than the model's input (the error comes
  at the end of the first epoch, after training);
* a ``tf.data.Dataset`` that yields inputs only, without labels.

The estimators (``KerasClassifier``, ``KerasRegressor``) and the tuners call
these functions before training. Each raises :class:`~tunekit.InvalidParameterError`
naming the argument and ending with ``Received: ...``. A ``class_weight``
that merely misses classes present in the labels gets one warning naming
them; those classes get weight 1.0, as in Keras and scikit-learn.

Neither Keras nor TensorFlow is imported here; a ``tf.data.Dataset`` is only
recognised when TensorFlow is already loaded.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tunekit._errors import InvalidParameterError
from tunekit._validation import invalid_parameter, received
from tunekit._warnings import warn
from tunekit.labels._class_weights import check_class_weight

__all__ = [
    "check_dataset_has_labels",
    "check_fit_weights",
    "check_keras_class_weight",
    "check_label_class_weight",
    "check_model_input",
    "check_sample_weight",
    "check_search_data",
]


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


class _Shown(str):
    """A string that ``repr`` shows without quotes (for ``Received: ...``)."""

    def __repr__(self) -> str:
        return str(self)


def _describe_array(value: Any) -> _Shown:
    shape = getattr(value, "shape", None)
    if shape is not None:
        return _Shown(f"<{type(value).__name__} of shape {tuple(shape)}>")
    return _Shown(repr(value) if len(repr(value)) < 80 else repr(value)[:77] + "...")


def _is_tf_dataset(value: Any) -> bool:
    """True for a ``tf.data.Dataset``, without importing TensorFlow."""
    tf = sys.modules.get("tensorflow")
    data = getattr(tf, "data", None) if tf is not None else None
    return data is not None and isinstance(value, data.Dataset)


def _same_label(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # arrays or exotic objects as labels
        return False


# --------------------------------------------------------------------------
# Sample weights
# --------------------------------------------------------------------------


def check_sample_weight(
    sample_weight: Any,
    n_samples: int | None,
    *,
    argname: str = "sample_weight",
    allow_2d: bool = False,
) -> np.ndarray | None:
    """Validate per-sample weights; return them as a new float array.

    Parameters
    ----------
    sample_weight : array-like or None
        One weight per sample (``(N,)``; ``(N, T)`` per timestep when
        ``allow_2d``).
    n_samples : int or None
        Number of samples the weights must match (``None``: not checked).
    argname : str, default="sample_weight"
        Name used in error messages.
    allow_2d : bool, default=False
        Accept ``(N, T)`` weights (Keras' temporal weights).

    Returns
    -------
    weights : ndarray or None
        A float64 copy (the caller's array is never modified), or ``None``.

    Raises
    ------
    InvalidParameterError
        For NaN or infinite values, negative values, all-zero weights, or a
        length that differs from ``n_samples``.

    Examples
    --------
    >>> from tunekit.labels._fit_checks import check_sample_weight
    >>> check_sample_weight([1, 2, 0.5], 3).tolist()
    [1.0, 2.0, 0.5]
    >>> check_sample_weight([1.0, -1.0], 2)
    Traceback (most recent call last):
    ...
    tunekit._errors.InvalidParameterError: `sample_weight` must be ...
    """
    if sample_weight is None:
        return None
    try:
        weights = np.array(sample_weight, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as error:
        raise invalid_parameter(
            argname, _describe_array(sample_weight), "an array of numbers"
        ) from error
    shown = _describe_array(weights)
    ndims = (1, 2) if allow_2d else (1,)
    if weights.ndim not in ndims:
        expected = "(n_samples,)"
        if allow_2d:
            expected += " or (n_samples, timesteps)"
        raise invalid_parameter(argname, shown, f"an array of shape {expected}")
    if n_samples is not None and len(weights) != n_samples:
        raise invalid_parameter(
            argname,
            shown,
            f"one weight per sample ({n_samples} samples)",
            f"Got {len(weights)} weights.",
        )
    _check_weight_values(weights, argname, shown)
    return weights


def _check_weight_values(weights: np.ndarray, argname: str, shown: Any) -> None:
    bad = ~np.isfinite(weights)
    if bad.any():
        first = int(np.flatnonzero(bad.ravel())[0])
        raise invalid_parameter(
            argname,
            shown,
            "finite (no NaN or infinity)",
            f"{int(bad.sum())} value(s) are NaN or infinite, the first at flat "
            f"index {first} ({weights.ravel()[first]!r}); the loss would become "
            "NaN.",
        )
    negative = weights < 0
    if negative.any():
        first = int(np.flatnonzero(negative.ravel())[0])
        raise invalid_parameter(
            argname,
            shown,
            "non-negative",
            f"{int(negative.sum())} value(s) are negative, the first at flat index "
            f"{first} ({float(weights.ravel()[first])!r}); a negative weight "
            "rewards the model for getting that sample wrong.",
        )
    if weights.size and not weights.any():
        raise invalid_parameter(
            argname,
            shown,
            "not all zero",
            "Every weight is 0, so the model would learn nothing.",
        )


# --------------------------------------------------------------------------
# Class weights
# --------------------------------------------------------------------------


def _warn_missing(missing: list[Any], argname: str) -> None:
    warn(
        f"`{argname}` gives no weight for the classes {missing!r}, which are "
        "present in the labels; they get weight 1.0. Give every class a "
        "weight (or use `class_weight='balanced'` / `tunekit.class_weights(y)`) "
        "to silence this warning.",
        UserWarning,
    )


def _check_weight(argname: str, class_weight: Any, key: Any, weight: Any) -> float:
    try:
        value = float(weight)
    except (TypeError, ValueError):
        value = float("nan")
    if not math.isfinite(value) or value < 0:
        raise invalid_parameter(
            argname,
            class_weight,
            "a dict of finite, non-negative weights",
            f"Class {key!r} has weight {weight!r}.",
        )
    return value


def _type_hint(key: Any, classes: Sequence[Any]) -> str:
    """A hint when ``key`` names a class but with the wrong type ("3" vs 3)."""
    for label in classes:
        if str(label) == str(key) and not _same_label(label, key):
            return (
                f" Key {key!r} is a {type(key).__name__}, but the labels of y are "
                f"{type(label).__name__}s: write {label!r}, not {key!r}."
            )
    return ""


def check_label_class_weight(
    class_weight: Any,
    classes: Sequence[Any],
    *,
    present: Sequence[Any] | None = None,
    argname: str = "class_weight",
) -> Any:
    """Validate a ``class_weight`` keyed by the original class labels.

    This is the scikit-learn form, used by the estimators: keys are the
    labels themselves (``{"cat": 1.0, "dog": 3.0}`` or ``{0: 1.0, 1: 3.0}``).

    Parameters
    ----------
    class_weight : dict, "balanced" or None
        The weights.
    classes : sequence
        Every class of the label space (``classes_``).
    present : sequence, optional
        The classes that occur in the labels being fitted (default:
        ``classes``). A class present but without a weight gets 1.0 and
        one warning names all of them.
    argname : str, default="class_weight"
        Name used in messages.

    Returns
    -------
    class_weight : dict, "balanced" or None
        ``None`` and ``"balanced"`` unchanged; a dict is returned complete
        (one float per class of ``classes``, in that order), as a new dict.

    Raises
    ------
    InvalidParameterError
        For a value that is not a dict, ``"balanced"`` or ``None``, keys that
        are not classes of the labels (with a hint when only the type differs,
        e.g. ``"3"`` for ``3``), and negative or NaN weights.

    Examples
    --------
    >>> from tunekit.labels._fit_checks import check_label_class_weight
    >>> check_label_class_weight({"no": 1, "yes": 4}, ["no", "yes"])
    {'no': 1.0, 'yes': 4.0}
    >>> check_label_class_weight({"0": 1.0, "1": 4.0}, [0, 1])
    Traceback (most recent call last):
    ...
    tunekit._errors.InvalidParameterError: `class_weight` must be ...
    """
    if class_weight is None or (
        isinstance(class_weight, str) and class_weight == "balanced"
    ):
        return class_weight
    if not isinstance(class_weight, Mapping):
        raise invalid_parameter(
            argname,
            class_weight,
            '"balanced", a dict {class label: weight} or None',
            "Turn an array from compute_class_weight into a dict with "
            "`dict(zip(classes, weights))`.",
        )
    labels = list(classes)
    unknown = [key for key in class_weight if not _contains(labels, key)]
    if unknown:
        hint = _type_hint(unknown[0], labels)
        raise invalid_parameter(
            argname,
            class_weight,
            "keyed by the class labels of y",
            f"{unknown!r} are not classes of y; the classes are {labels!r}.{hint}",
        )
    weights = {
        _canonical(labels, key): _check_weight(argname, class_weight, key, weight)
        for key, weight in class_weight.items()
    }
    present_labels = labels if present is None else list(present)
    missing = [c for c in present_labels if not _contains(list(weights), c)]
    if missing:
        _warn_missing(missing, argname)
    return {label: weights.get(label, 1.0) for label in labels}


def _contains(labels: list[Any], key: Any) -> bool:
    return any(_same_label(label, key) for label in labels)


def _canonical(labels: list[Any], key: Any) -> Any:
    for label in labels:
        if _same_label(label, key):
            return label
    return key  # pragma: no cover - keys are checked first


def _label_space(y: Any) -> tuple[list[int], list[int], bool] | None:
    """(class indices of the label space, indices present, one-hot) of ``y``."""
    if y is None or isinstance(y, (Mapping, list, tuple)) or not hasattr(y, "shape"):
        return None
    try:
        arr = np.asarray(y)
    except Exception:
        return None
    if arr.size == 0 or arr.dtype.kind not in "biuf":
        return None
    if arr.ndim >= 2 and arr.shape[-1] > 1:
        present = np.unique(np.argmax(arr, axis=-1))
        return list(range(int(arr.shape[-1]))), [int(i) for i in present], True
    flat = arr.reshape(-1)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(flat)) or not np.all(flat == np.round(flat)):
            return None  # not class indices (regression targets)
    present = [int(i) for i in np.unique(flat.astype(np.int64))]
    return present, present, False


def check_keras_class_weight(
    class_weight: Any,
    y: Any = None,
    *,
    argname: str = "class_weight",
) -> dict[int, float] | None:
    """Validate a ``class_weight`` in Keras' form, keyed by class index.

    Parameters
    ----------
    class_weight : dict or None
        ``{class_index: weight}``, as ``keras.Model.fit`` takes it.
    y : array-like, optional
        The labels given to ``fit``: integer class indices, a 0/1 column, or
        one-hot rows. When given, keys must be classes of ``y`` (for one-hot
        rows: column indices), and classes present in ``y`` without a key get
        one warning (Keras gives them 1.0).
    argname : str, default="class_weight"
        Name used in messages.

    Returns
    -------
    class_weight : dict or None
        A new ``dict[int, float]``.

    Raises
    ------
    InvalidParameterError
        For string or other non-integer keys (Keras silently ignores them),
        keys that are not classes of ``y``, and negative or NaN weights.

    Examples
    --------
    >>> import numpy as np
    >>> from tunekit.labels._fit_checks import check_keras_class_weight
    >>> check_keras_class_weight({0: 1, 1: 3}, np.array([0, 1, 1]))
    {0: 1.0, 1: 3.0}
    """
    if class_weight is None:
        return None
    if not isinstance(class_weight, Mapping):
        raise invalid_parameter(
            argname,
            class_weight,
            "a dict {class_index: weight}",
            "Keras' fit takes no array here: use `dict(enumerate(weights))` or "
            "`tunekit.class_weights(y)`.",
        )
    weights = check_class_weight(class_weight, argname=argname)
    space = _label_space(y)
    if space is None:
        return weights
    classes, present, one_hot = space
    unknown = sorted(key for key in weights if key not in classes)
    if unknown:
        where = (
            f"the one-hot labels have {len(classes)} columns (classes 0.."
            f"{len(classes) - 1})"
            if one_hot
            else f"the classes of y are {classes!r}"
        )
        raise invalid_parameter(
            argname,
            class_weight,
            "keyed by classes that occur in the labels",
            f"{unknown!r} are not classes of y: {where}.",
        )
    missing = [c for c in present if c not in weights]
    if missing:
        _warn_missing(missing, argname)
    return weights


# --------------------------------------------------------------------------
# Inputs against the model's Input
# --------------------------------------------------------------------------


def _model_input_shapes(model: Any) -> list[tuple[str, tuple]] | None:
    """``(name, shape without batch axis)`` of each model input, or None."""
    try:
        inputs = model.inputs
    except Exception:  # an unbuilt subclassed or Sequential model
        return None
    if not inputs:
        return None
    shapes = []
    for tensor in inputs:
        shape = getattr(tensor, "shape", None)
        if shape is None:
            return None
        dims = tuple(None if d is None else int(d) for d in tuple(shape))
        shapes.append((str(getattr(tensor, "name", "input")), dims[1:]))
    return shapes


def _compatible(sample: tuple, expected: tuple) -> bool:
    """Keras' own rule (``Functional._adjust_input_rank``) plus the dims."""
    if len(sample) == len(expected) + 1 and sample and sample[-1] == 1:
        sample = sample[:-1]
    elif len(sample) + 1 == len(expected) and expected and expected[-1] == 1:
        expected = expected[:-1]
    if len(sample) != len(expected):
        return False
    return all(a is None or b is None or a == b for a, b in zip(sample, expected))


def _shape_hint(sample: tuple, expected: tuple, argname: str) -> str:
    known = all(d is not None for d in sample) and all(d is not None for d in expected)
    size = math.prod(sample) if known else None
    if len(expected) == 1 and len(sample) >= 2:
        if size is not None and size == expected[0]:
            return (
                f"These are images, but the model's Input is flat: flatten them "
                f"(`{argname}.reshape(len({argname}), -1)`), or build the model "
                f"on `keras.Input({sample})` followed by `keras.layers.Flatten()`."
            )
        return (
            f"These are images, but the model's Input is flat ({expected[0]} "
            f"features): build the model on `keras.Input({sample})`."
        )
    if len(sample) == 1 and len(expected) >= 2:
        if known and math.prod(expected) == sample[0]:
            return (
                f"These are flat rows, but the model expects images: reshape them "
                f"(`{argname}.reshape(-1, *{expected})`), or use a flat "
                f"`keras.Input(({sample[0]},))`."
            )
        return f"These are flat rows, but the model expects images of {expected}."
    if len(sample) == len(expected) and len(sample) >= 2:
        return (
            f"Resize the images to {expected} (e.g. `target_size`/`image_size` in "
            "the loader) or build the model for their size."
        )
    return "Build the model for the data's shape, or reshape the data."


def _sample_shape(value: Any) -> tuple | None:
    """Shape of one sample of ``value`` (arrays, datasets, image iterators)."""
    if _is_tf_dataset(value):
        spec = value.element_spec
        if isinstance(spec, tuple):
            spec = spec[0] if spec else None
        shape = getattr(spec, "shape", None)
        if shape is None or shape.rank is None:
            return None
        dims = tuple(None if d is None else int(d) for d in shape.as_list())
        return dims[1:]  # Keras needs batched datasets
    image_shape = getattr(value, "image_shape", None)
    if image_shape is not None and not hasattr(value, "ndim"):
        try:
            return tuple(int(d) for d in image_shape)
        except (TypeError, ValueError):
            return None
    shape = getattr(value, "shape", None)
    if shape is None or isinstance(value, type):
        return None
    try:
        dims = tuple(None if d is None else int(d) for d in tuple(shape))
    except (TypeError, ValueError):
        return None
    return dims[1:] if dims else None


def _pair_inputs(
    model_shapes: list[tuple[str, tuple]], x: Any, argname: str
) -> list[tuple[str, Any, tuple]]:
    if len(model_shapes) == 1:
        if isinstance(x, (list, tuple)) and len(x) == 1:
            x = x[0]
        if isinstance(x, (list, tuple, Mapping)):
            return []
        return [(argname, x, model_shapes[0][1])]
    if isinstance(x, Mapping):
        return [
            (f"{argname}[{name!r}]", x[name], shape)
            for name, shape in model_shapes
            if name in x
        ]
    if isinstance(x, (list, tuple)) and len(x) == len(model_shapes):
        return [
            (f"{argname}[{i}]", item, shape)
            for i, (item, (_, shape)) in enumerate(zip(x, model_shapes))
        ]
    return []


def check_model_input(model: Any, x: Any, *, argname: str = "x") -> None:
    """Raise when ``x`` cannot be the input of ``model`` (before training).

    Compares the shape of one sample of ``x`` (an array, a list/dict of
    arrays for a multi-input model, a batched ``tf.data.Dataset`` or an image
    iterator with ``image_shape``) with the model's ``Input`` shapes, with the
    same tolerance as Keras (a trailing axis of size 1 may be added or
    dropped). Anything else is not checked.

    Parameters
    ----------
    model : keras.Model
        A built model (with ``model.inputs``); unbuilt models are skipped.
    x : array-like, dataset or iterator
        The inputs.
    argname : str, default="x"
        Name used in messages (``"validation_data"`` for validation inputs).

    Raises
    ------
    InvalidParameterError
        For images given to a flat ``Input`` or flat rows given to an image
        ``Input``, and for images of another size than the ``Input``.

    Examples
    --------
    >>> import keras, numpy as np
    >>> from tunekit.labels._fit_checks import check_model_input
    >>> model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(2)])
    >>> check_model_input(model, np.zeros((5, 64)))
    >>> check_model_input(model, np.zeros((5, 8, 8, 1)))
    Traceback (most recent call last):
    ...
    tunekit._errors.InvalidParameterError: `x` has samples of shape (8, 8, 1) ...
    """
    model_shapes = _model_input_shapes(model)
    if model_shapes is None:
        return
    for name, value, expected in _pair_inputs(model_shapes, x, argname):
        sample = _sample_shape(value)
        if sample is None or _compatible(sample, expected):
            continue
        batch = " (a tf.data.Dataset must be batched)" if _is_tf_dataset(value) else ""
        raise InvalidParameterError(
            f"`{name}` has samples of shape {sample}{batch}, but the model's Input "
            f"expects samples of shape {expected}. "
            f"{_shape_hint(sample, expected, argname)} "
            f"{received(name + '.shape', _Shown(_full_shape(value, sample)))}"
        )


def _full_shape(value: Any, sample: tuple) -> str:
    shape = getattr(value, "shape", None)
    if shape is not None and not _is_tf_dataset(value):
        try:
            return str(tuple(int(d) for d in shape))
        except (TypeError, ValueError):
            pass
    return str((None, *sample))


# --------------------------------------------------------------------------
# tf.data datasets without labels
# --------------------------------------------------------------------------


def check_dataset_has_labels(dataset: Any, *, argname: str = "x") -> None:
    """Raise when ``dataset`` is a ``tf.data.Dataset`` that yields no labels.

    Keras reads a dataset element as ``(x, y)`` or ``(x, y, sample_weight)``;
    a bare tensor, a 1-tuple or a dict is inputs only, and the default
    ``fit`` then fails at the first batch of every trial. Anything that is not
    a ``tf.data.Dataset`` (or TensorFlow not loaded) is not checked.

    Parameters
    ----------
    dataset : object
        What was passed as ``x`` or ``validation_data``.
    argname : str, default="x"
        Name used in messages.

    Raises
    ------
    InvalidParameterError
        When the elements carry no labels.
    """
    if not _is_tf_dataset(dataset):
        return
    spec = dataset.element_spec
    if isinstance(spec, tuple) and len(spec) in (2, 3):
        return
    raise InvalidParameterError(
        f"`{argname}` is a tf.data.Dataset whose elements have no labels, so "
        "training would fail at the first batch. Make it yield (inputs, "
        "labels) pairs, e.g. `image_dataset_from_directory(..., "
        "labels='inferred')` or `dataset.map(lambda x: (x, label))`. "
        f"{received(argname, _Shown(f'<Dataset element_spec={spec}>'))}"
    )


# --------------------------------------------------------------------------
# What a tuner's search() is given
# --------------------------------------------------------------------------


def _validation_parts(validation_data: Any) -> tuple[Any, Any, Any]:
    if isinstance(validation_data, (list, tuple)) and len(validation_data) in (2, 3):
        parts = [*validation_data, None]
        return parts[0], parts[1], parts[2]
    return validation_data, None, None


def _length(value: Any) -> int | None:
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape) and shape[0] is not None:
        try:
            return int(shape[0])
        except (TypeError, ValueError):
            return None
    return None


def check_fit_weights(arguments: Mapping[str, Any]) -> None:
    """Check ``class_weight`` and sample weights of ``fit``-style arguments.

    Parameters
    ----------
    arguments : dict
        ``keras.Model.fit`` arguments by name (``x``, ``y``, ``sample_weight``,
        ``class_weight``, ``validation_data``).

    Raises
    ------
    InvalidParameterError
        For the mistakes listed in :func:`check_keras_class_weight` and
        :func:`check_sample_weight`, and for ``class_weight`` together with
        ``sample_weight`` (Keras refuses the pair at the first batch).
    """
    x, y = arguments.get("x"), arguments.get("y")
    if y is None and hasattr(x, "classes") and hasattr(x, "class_indices"):
        y = np.asarray(x.classes)  # a DirectoryIterator carries its labels
    sample_weight = arguments.get("sample_weight")
    class_weight = arguments.get("class_weight")
    if class_weight is not None and sample_weight is not None:
        raise InvalidParameterError(
            "Pass either `class_weight` or `sample_weight`, not both: Keras "
            "refuses the pair. Multiply them into one `sample_weight` "
            "(`tunekit.sample_weights(y, class_weight) * sample_weight`). "
            f"{received('class_weight', class_weight)}"
        )
    check_keras_class_weight(class_weight, y)
    if sample_weight is not None:
        check_sample_weight(
            sample_weight, _length(x), argname="sample_weight", allow_2d=True
        )
    val_x, _, val_weight = _validation_parts(arguments.get("validation_data"))
    if val_weight is not None:
        check_sample_weight(
            val_weight,
            _length(val_x),
            argname="validation_data[2] (sample weights)",
            allow_2d=True,
        )


def check_search_data(model: Any, arguments: Mapping[str, Any]) -> None:
    """Check inputs and datasets of ``fit``-style arguments against ``model``.

    Parameters
    ----------
    model : keras.Model
        A model built like the ones that will be trained.
    arguments : dict
        ``keras.Model.fit`` arguments by name.

    Raises
    ------
    InvalidParameterError
        For a ``tf.data.Dataset`` without labels (``x`` or
        ``validation_data``), and inputs that do not fit the model's ``Input``
        (training or validation).
    """
    x = arguments.get("x")
    check_dataset_has_labels(x, argname="x")
    check_model_input(model, x, argname="x")
    validation = arguments.get("validation_data")
    if validation is None:
        return
    val_x, _, _ = _validation_parts(validation)
    if val_x is validation:
        check_dataset_has_labels(validation, argname="validation_data")
    check_model_input(model, val_x, argname="validation_data")
