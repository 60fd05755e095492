"""Class weights in the form Keras wants, from any label source.

scikit-learn's ``compute_class_weight`` returns an array that
``model.fit(class_weight=...)`` rejects; Keras silently ignores string keys,
gives weight 1 to missing classes, ``argmax``-es multi-hot rows and, on the
``tf.data`` path, crashes on labels above the largest key.
:func:`class_weights` returns a ``dict[int, float]`` keyed by the model's
integer label index, and :func:`sample_weights` turns such a dict into
per-sample (or per-timestep) weights for the cases where Keras refuses
``class_weight`` (multi-output models, sequence targets, Python generators).

Label sources: 1-D labels (integers or strings), one-hot / probability
matrices, ``(N, 1)`` binary columns, a ``DirectoryIterator`` (tunekit's or
Keras'), a ``tf.data.Dataset`` of ``(x, y)`` or an image directory path.
Neither Keras nor TensorFlow is imported here, except TensorFlow to stream a
``tf.data.Dataset`` (only when one is passed).
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tunekit._constraints import (
    BOOL,
    Interval,
    Options,
    Rule,
    declare_constraints,
    validate_params,
)
from tunekit._errors import InvalidParameterError
from tunekit._validation import invalid_parameter, received
from tunekit._warnings import warn

__all__ = ["class_weights", "sample_weights"]

STRATEGIES = ("balanced", "effective", "sqrt", "uniform")
NORMALIZATIONS = ("samples", "min", None)

_ROW_SUM_TOLERANCE = 1e-3


@dataclass(frozen=True)
class LabelData:
    """Labels read from a source, in the model's integer index space.

    Attributes
    ----------
    indices : numpy.ndarray of int64
        The class index of every sample (what Keras looks up in ``class_weight``).
    index_to_class : dict
        Class index -> original label (class name, string label or the integer
        itself), for every class of the label space, in index order.
    source : str
        A short description of where the labels came from.
    strict : bool
        Whether a class of ``index_to_class`` without samples is an error
        (classes named by the user, class folders) or is left out with a
        warning (one-hot columns, iterator classes).
    """

    indices: np.ndarray
    index_to_class: dict[int, Any]
    source: str
    strict: bool = field(default=False)  # absent classes are an error

    def counts(self) -> dict[int, int]:
        """Number of samples per class index (zero for known, absent classes)."""
        present = np.bincount(self.indices) if self.indices.size else np.zeros(0)
        return {
            int(i): int(present[i]) if i < len(present) else 0
            for i in self.index_to_class
        }


# --------------------------------------------------------------------------
# Reading a label source
# --------------------------------------------------------------------------


def _is_tf_dataset(source: Any) -> bool:
    """True for a ``tf.data.Dataset``, without importing TensorFlow."""
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return False
    data = getattr(tf, "data", None)
    return data is not None and isinstance(source, data.Dataset)


def _is_iterator(source: Any) -> bool:
    return hasattr(source, "classes") and hasattr(source, "class_indices")


def read_labels(
    source: Any, *, classes: Sequence[Any] | None = None, argname: str = "source"
) -> LabelData:
    """Read the labels of any supported source into :class:`LabelData`.

    See :func:`class_weights` for the accepted sources and the meaning of
    ``classes``.
    """
    if isinstance(source, (str, os.PathLike)):
        return _labels_from_directory(source, classes, argname)
    if _is_iterator(source):
        return _labels_from_iterator(source, classes, argname)
    if _is_tf_dataset(source):
        return _labels_from_tf_dataset(source, classes, argname)
    if isinstance(source, Mapping):
        raise invalid_parameter(
            argname,
            _short(source),
            "the labels of one output (an array, a DirectoryIterator, a "
            "tf.data.Dataset or an image directory)",
            "For a multi-output model, call it once per output, e.g. "
            "`{name: tunekit.class_weights(y[name]) for name in y}`, and pass "
            "the result to `tunekit.sample_weights` (Keras accepts "
            "`class_weight` only for single-output models).",
        )
    return _labels_from_array(source, classes, argname)


class _Shown(str):
    """Text shown as is after ``Received: name=`` (no quotes)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return str(self)


def _short(value: Any) -> _Shown:
    text = repr(value)
    return _Shown(text if len(text) <= 120 else text[:117] + "...")


def _as_array(source: Any, argname: str) -> np.ndarray:
    if hasattr(source, "to_numpy"):  # pandas
        source = source.to_numpy()
    try:
        arr = np.asarray(source)
    except Exception as exc:  # ragged lists, generators, ...
        raise invalid_parameter(
            argname,
            _short(source),
            "an array of labels, a DirectoryIterator, a tf.data.Dataset or an "
            "image directory path",
        ) from exc
    return _unbox_object_array(arr)


def _unbox_object_array(arr: np.ndarray) -> np.ndarray:
    """Turn an object array of all-strings or all-numbers into a typed array."""
    if arr.dtype != object or not arr.size:
        return arr
    items = list(arr.flat)
    if all(isinstance(v, str) for v in items):
        return arr.astype(str)
    if all(
        isinstance(v, (int, float, np.integer, np.floating))
        and not isinstance(v, (bool, np.bool_))
        for v in items
    ):
        numbers = arr.astype(np.float64)
        if np.all(np.isfinite(numbers)) and np.all(np.mod(numbers, 1) == 0):
            return numbers.astype(np.int64)
        return numbers
    return arr


def _check_not_empty_or_nan(arr: np.ndarray, argname: str) -> None:
    if arr.size == 0:
        raise invalid_parameter(
            argname,
            arr,
            "a non-empty set of labels",
            "Class weights need at least one sample.",
        )
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr)
    elif arr.dtype == object:
        bad = np.array(
            [v is None or (isinstance(v, float) and math.isnan(v)) for v in arr.flat]
        )
    else:
        return
    if bad.any():
        raise InvalidParameterError(
            f"`{argname}` contains {int(bad.sum())} missing labels (NaN, inf or "
            "None). Drop those samples or fill them before computing weights. "
            f"Received: {argname} with shape={arr.shape}, first bad position "
            f"{int(np.flatnonzero(bad.ravel())[0])}"
        )


def _labels_from_array(source: Any, classes: Any, argname: str) -> LabelData:
    arr = _as_array(source, argname)
    _check_not_empty_or_nan(arr, argname)
    if arr.ndim == 0:
        raise invalid_parameter(argname, source, "an array with one label per sample")
    if arr.ndim >= 3:
        raise invalid_parameter(
            argname,
            _Shown(f"array of shape {arr.shape}"),
            "1-D labels, (N, 1) or a (N, n_classes) one-hot matrix",
            "Keras refuses `class_weight` for 3-D (sequence or per-pixel) "
            "targets. Compute the weights from the flattened labels and use "
            "`tunekit.sample_weights(y, weights)` to get per-timestep weights.",
        )
    if arr.ndim == 2 and arr.shape[1] > 1:
        return _labels_from_matrix(arr, classes, argname)
    if arr.ndim == 2:
        arr = arr[:, 0]
    if arr.dtype.kind in "US" or arr.dtype == object:
        return _labels_from_strings(arr, classes, argname)
    return _labels_from_integers(arr, classes, argname)


def _labels_from_strings(arr: np.ndarray, classes: Any, argname: str) -> LabelData:
    arr = arr.astype(str)
    found = np.unique(arr)
    if classes is None:
        names = [str(c) for c in found]
    else:
        names = _check_classes_cover(list(classes), found, argname)
    lookup = {name: i for i, name in enumerate(names)}
    indices = np.array([lookup[v] for v in arr], dtype=np.int64)
    return LabelData(
        indices, dict(enumerate(names)), "string labels", classes is not None
    )


def _integer_values(arr: np.ndarray, argname: str) -> np.ndarray:
    if arr.dtype.kind == "b":
        return arr.astype(np.int64)
    if arr.dtype.kind not in "iuf":
        raise invalid_parameter(
            argname, _short(arr), "integer or string labels", f"Got dtype {arr.dtype}."
        )
    if arr.dtype.kind == "f" and not np.all(np.mod(arr, 1) == 0):
        raise invalid_parameter(
            argname,
            _short(arr),
            "class labels (integers, strings, or one-hot rows)",
            "The labels have fractional values; for probabilities of the "
            "positive class, round them or pass hard 0/1 labels.",
        )
    values = arr.astype(np.int64)
    if values.min() < 0:
        raise invalid_parameter(
            argname,
            _short(arr),
            "class indices >= 0 (Keras looks up `class_weight[int(label)]`)",
            "Re-encode the labels as 0..n_classes-1, e.g. "
            "`classes, y = np.unique(y, return_inverse=True)`.",
        )
    return values


def _labels_from_integers(arr: np.ndarray, classes: Any, argname: str) -> LabelData:
    values = _integer_values(arr, argname)
    found = np.unique(values)
    if classes is None:
        keys = [int(v) for v in found]
    else:
        keys = _check_classes_cover(
            [_as_index(c, "classes") for c in classes], found, argname
        )
    return LabelData(
        values, {k: k for k in keys}, "integer labels", classes is not None
    )


def _as_index(value: Any, argname: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, np.integer, float, np.floating)
    ):
        raise invalid_parameter(
            argname,
            value,
            "integer class labels when the labels are integers",
        )
    if float(value) != int(value) or int(value) < 0:
        raise invalid_parameter(argname, value, "non-negative integer class labels")
    return int(value)


def _check_classes_cover(classes: list[Any], found: np.ndarray, argname: str) -> list:
    if len(set(classes)) != len(classes):
        raise invalid_parameter(
            "classes", classes, "a list of distinct class labels (no duplicates)"
        )
    found_list = [v.item() if hasattr(v, "item") else v for v in found]
    unknown = [v for v in found_list if v not in set(classes)]
    if unknown:
        raise invalid_parameter(
            "classes",
            classes,
            "a list containing every label of the data",
            f"`{argname}` also contains {unknown[:10]}.",
        )
    return list(classes)


def _labels_from_matrix(arr: np.ndarray, classes: Any, argname: str) -> LabelData:
    if arr.dtype.kind not in "biuf":
        raise invalid_parameter(
            argname,
            _Shown(f"array of shape {arr.shape}, dtype {arr.dtype}"),
            "numeric one-hot or probability rows",
        )
    values = arr.astype(np.float64)
    sums = values.sum(axis=1)
    bad = np.abs(sums - 1.0) > _ROW_SUM_TOLERANCE
    if values.min() < 0 or bad.any():
        row = int(np.flatnonzero(bad)[0]) if bad.any() else 0
        raise invalid_parameter(
            argname,
            _Shown(f"array of shape {arr.shape} with row {row} = {arr[row].tolist()}"),
            "one-hot or probability rows that each sum to 1",
            "Keras `class_weight` argmax-es multi-hot rows, so only the first "
            "positive class of a sample would be weighted. For multi-label "
            "targets compute per-sample weights yourself; for class indices "
            "pass a 1-D array.",
        )
    n_columns = arr.shape[1]
    if classes is None:
        names: list[Any] = list(range(n_columns))
    else:
        names = list(classes)
        if len(names) != n_columns:
            raise invalid_parameter(
                "classes",
                classes,
                f"one name per column of the label matrix ({n_columns} columns)",
            )
    indices = np.argmax(values, axis=1).astype(np.int64)
    return LabelData(
        indices, dict(enumerate(names)), "one-hot labels", classes is not None
    )


def _labels_from_iterator(source: Any, classes: Any, argname: str) -> LabelData:
    class_indices = dict(source.class_indices)
    index_to_class = {int(i): name for name, i in class_indices.items()}
    index_to_class = dict(sorted(index_to_class.items()))
    if classes is not None and list(classes) != list(index_to_class.values()):
        raise invalid_parameter(
            "classes",
            classes,
            f"None or the iterator's classes in index order "
            f"{list(index_to_class.values())}",
            "A DirectoryIterator fixes its classes when it is created; pass "
            "`classes=` to `flow_from_directory` instead.",
        )
    indices = np.asarray(source.classes, dtype=np.int64)
    _check_not_empty_or_nan(indices, f"{argname}.classes")
    return LabelData(
        indices, index_to_class, f"a {type(source).__name__}", strict=False
    )


def _labels_from_directory(source: Any, classes: Any, argname: str) -> LabelData:
    from tunekit.data._directory import list_image_directory

    listing = list_image_directory(
        source,
        classes=classes,
        argname=argname,
        allow_empty_classes=True,
    )
    indices = np.asarray(listing.labels, dtype=np.int64)
    _check_not_empty_or_nan(indices, argname)
    return LabelData(
        indices,
        dict(enumerate(listing.class_names)),
        f"image directory {os.fspath(source)!r}",
        strict=True,
    )


def _labels_from_tf_dataset(source: Any, classes: Any, argname: str) -> LabelData:
    import tensorflow as tf

    cardinality = int(source.cardinality())
    if cardinality == int(tf.data.INFINITE_CARDINALITY):
        raise invalid_parameter(
            argname,
            source,
            "a finite tf.data.Dataset",
            "The dataset repeats forever; pass it before `.repeat()`.",
        )
    spec = source.element_spec
    if not isinstance(spec, tuple) or len(spec) < 2:
        raise invalid_parameter(
            argname,
            _Shown(f"a dataset with element_spec={spec}"),
            "a tf.data.Dataset yielding (x, y) or (x, y, sample_weight) tuples",
        )
    labels = source.map(lambda *element: element[1])
    batches = [np.asarray(batch) for batch in labels.as_numpy_iterator()]
    if not batches:
        raise invalid_parameter(argname, source, "a non-empty tf.data.Dataset")
    arr = np.concatenate(batches) if _looks_batched(spec) else np.stack(batches)
    names = getattr(source, "class_names", None)  # tunekit / Keras image datasets
    if classes is None and names is not None and (arr.ndim == 1 or arr.shape[-1] == 1):
        data = _labels_from_array(arr, None, argname)
        if data.indices.size and int(data.indices.max()) < len(names):
            return LabelData(
                data.indices, dict(enumerate(names)), "a tf.data.Dataset", False
            )
    data = _labels_from_array(arr, classes, argname)
    if names is not None and len(names) == len(data.index_to_class):
        data = LabelData(data.indices, dict(enumerate(names)), "", data.strict)
    return LabelData(
        data.indices, data.index_to_class, "a tf.data.Dataset", data.strict
    )


def _looks_batched(spec: Any) -> bool:
    """Whether dataset elements are batches (leading dimension shared by x, y)."""
    import tensorflow as tf

    y_shape = spec[1].shape
    if y_shape.rank is None or y_shape.rank == 0:
        return False
    if y_shape[0] is None:
        return True
    x_specs = tf.nest.flatten(spec[0])
    x_shape = getattr(x_specs[0], "shape", None) if x_specs else None
    return (
        x_shape is not None
        and x_shape.rank is not None
        and x_shape.rank >= 1
        and x_shape[0] == y_shape[0]
    )


# --------------------------------------------------------------------------
# Weighting strategies
# --------------------------------------------------------------------------


def _present_keys(data: LabelData) -> list[int]:
    """Class indices with samples; absent classes raise or warn (see ``strict``)."""
    counts = data.counts()
    empty = [data.index_to_class[i] for i, n in counts.items() if n == 0]
    if empty and data.strict:
        raise invalid_parameter(
            "classes",
            list(data.index_to_class.values()),
            "classes that all occur in the data",
            f"No sample of {empty} in {data.source}: a balanced weight would be "
            "infinite. Remove those classes from `classes` (or the empty class "
            "folders), or collect samples for them.",
        )
    if empty:
        warn(
            f"No sample of classes {empty} in {data.source}; they get no weight "
            "(Keras never looks them up) and the other weights are computed over "
            f"the {len(counts) - len(empty)} classes present.",
            UserWarning,
        )
    return [i for i, n in counts.items() if n > 0]


def _raw_weights(
    strategy: str, indices: np.ndarray, keys: list[int], beta: float
) -> np.ndarray:
    counts = np.array([np.count_nonzero(indices == k) for k in keys], dtype=float)
    if strategy == "balanced":
        from sklearn.utils.class_weight import compute_class_weight

        return compute_class_weight(
            "balanced", classes=np.asarray(keys, dtype=np.int64), y=indices
        )
    if strategy == "effective":
        return (1.0 - beta) / (1.0 - np.power(beta, counts))
    if strategy == "sqrt":
        return 1.0 / np.sqrt(counts)
    return np.ones(len(keys))


def _normalise(
    weights: np.ndarray, indices: np.ndarray, keys: list[int], how: str | None
) -> np.ndarray:
    if how is None:
        return weights
    if how == "min":
        return weights / weights.min()
    counts = np.array([np.count_nonzero(indices == k) for k in keys], dtype=float)
    return weights * counts.sum() / float(np.dot(weights, counts))


#: ``class_weights``' simple parameters; ``source`` and ``classes`` (labels)
#: have their own checks.
CLASS_WEIGHTS_CONSTRAINTS: dict[str, Any] = {
    "strategy": [Options(STRATEGIES)],
    "beta": Rule([Interval(numbers.Real, 0, 1, closed="left")], "a float in [0, 1)"),
    "normalize": [Options(NORMALIZATIONS)],
    "max_weight": Rule(
        [Interval(numbers.Real, 0, math.inf, closed="neither"), None],
        "a positive number or None",
    ),
    "return_mapping": BOOL,
}


@declare_constraints(CLASS_WEIGHTS_CONSTRAINTS)
def class_weights(
    source: Any,
    *,
    classes: Sequence[Any] | None = None,
    strategy: str = "balanced",
    beta: float = 0.999,
    normalize: str | None = "samples",
    max_weight: float | None = None,
    return_mapping: bool = False,
) -> dict[int, float] | tuple[dict[int, float], dict[int, Any]]:
    """Compute class weights keyed by the model's integer label index.

    The result goes straight into ``model.fit(class_weight=...)``: plain
    ``int`` keys (what Keras looks up with ``class_weight.get(int(label))``)
    and ``float`` values.

    Parameters
    ----------
    source : array-like, DirectoryIterator, tf.data.Dataset or path
        Where the labels come from:

        - 1-D integer labels: the keys are the labels themselves;
        - 1-D string labels: mapped to indices in **sorted order** (the order
          ``np.unique``, scikit-learn's ``LabelEncoder`` and the image loaders
          use), or in the order of ``classes``;
        - an ``(N, 1)`` column of labels (binary problems);
        - an ``(N, k)`` one-hot or probability matrix: column ``i`` is class
          ``i`` (rows are ``argmax``-ed, as Keras does);
        - a ``DirectoryIterator`` (tunekit's or Keras'): its ``classes`` and
          ``class_indices``; no image is read;
        - a ``tf.data.Dataset`` yielding ``(x, y)``: only the labels are
          streamed (needs TensorFlow);
        - a path to a class-per-subfolder image directory: files are counted
          per class with the same class order as tunekit's loaders; nothing is
          decoded.
    classes : sequence, default=None
        The classes in index order. For string labels it fixes the mapping
        (``classes[i]`` gets index ``i``); for integer labels it lists the
        labels to weight; for a directory it selects subfolders, as in the
        loaders. Every class listed must occur in the data and every label of
        the data must be listed.
    strategy : {"balanced", "effective", "sqrt", "uniform"}, default="balanced"
        ``"balanced"``: ``n_samples / (n_classes * count)``, computed by
        scikit-learn's ``compute_class_weight("balanced", ...)`` (identical
        numbers). ``"effective"``: inverse effective number of samples,
        ``(1 - beta) / (1 - beta**count)`` (Cui et al., 2019), a smoothed
        version that tends to "balanced" as ``beta`` tends to 1. ``"sqrt"``:
        ``1 / sqrt(count)``, a milder correction. ``"uniform"``: all 1.
    beta : float, default=0.999
        The ``beta`` of ``strategy="effective"``, in [0, 1).
    normalize : {"samples", "min", None}, default="samples"
        Rescale the weights of the smoothed strategies. ``"samples"``: the mean
        weight per training sample is 1, so the loss keeps its usual scale
        (``"balanced"`` already satisfies this and is returned untouched).
        ``"min"``: the smallest weight is 1. ``None``: raw values.
    max_weight : float, default=None
        Clip weights above this value (after normalisation), to keep a handful
        of samples of a rare class from dominating the loss.
    return_mapping : bool, default=False
        Also return ``{index: class}``, the original label (class name,
        string label or integer) of each index.

    Returns
    -------
    weights : dict of int to float
        One entry per class present in the data.
    mapping : dict of int to object
        Only with ``return_mapping=True``.

    Raises
    ------
    InvalidParameterError
        Empty labels, NaN labels, 3-D targets, multi-hot rows, negative or
        fractional labels, a class of ``classes`` absent from the data, an
        unknown strategy.

    Examples
    --------
    >>> import numpy as np
    >>> import tunekit
    >>> y = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2])
    >>> tunekit.class_weights(y)
    {0: 0.5, 1: 1.5, 2: 3.0}
    >>> weights, mapping = tunekit.class_weights(
    ...     ["dog", "cat", "dog", "dog"], return_mapping=True)
    >>> weights, mapping
    ({0: 2.0, 1: 0.6666666666666666}, {0: 'cat', 1: 'dog'})
    >>> smooth = tunekit.class_weights(np.eye(3)[y], strategy="sqrt")  # one-hot
    >>> {k: round(w, 3) for k, w in smooth.items()}
    {0: 0.755, 1: 1.308, 2: 1.85}
    """
    validate_params(
        CLASS_WEIGHTS_CONSTRAINTS,
        {
            "strategy": strategy,
            "beta": beta,
            "normalize": normalize,
            "max_weight": max_weight,
            "return_mapping": return_mapping,
        },
    )
    data = read_labels(source, classes=classes)
    keys = _present_keys(data)
    weights = _raw_weights(strategy, data.indices, keys, float(beta))
    if strategy != "balanced":
        weights = _normalise(weights, data.indices, keys, normalize)
    if max_weight is not None:
        weights = np.minimum(weights, float(max_weight))
    result = {int(k): float(w) for k, w in zip(keys, weights)}
    if return_mapping:
        return result, dict(data.index_to_class)
    return result


# --------------------------------------------------------------------------
# Per-sample weights
# --------------------------------------------------------------------------


def check_class_weight(class_weight: Any, *, argname: str = "class_weight") -> dict:
    """Validate a class-weight mapping and return it as ``dict[int, float]``.

    Accepts a dict with integer keys, or the array scikit-learn's
    ``compute_class_weight`` returns (index ``i`` -> weight of class ``i``).
    String keys are refused: Keras would silently ignore them.
    """
    if isinstance(class_weight, (np.ndarray, list, tuple)):
        arr = np.asarray(class_weight, dtype=float)
        if arr.ndim != 1:
            raise invalid_parameter(
                argname, class_weight, "a dict {class_index: weight} or a 1-D array"
            )
        class_weight = dict(enumerate(arr.tolist()))
    if not isinstance(class_weight, Mapping):
        raise invalid_parameter(
            argname,
            class_weight,
            "a dict {class_index: weight}",
            "Use `tunekit.class_weights(y)` to build one.",
        )
    result: dict[int, float] = {}
    for key, weight in class_weight.items():
        if isinstance(key, (str, bytes)):
            raise invalid_parameter(
                argname,
                class_weight,
                "a dict keyed by integer class indices",
                f"Key {key!r} is a string: Keras silently ignores string keys "
                "(and the tf.data path crashes on them). Map class names to "
                "indices with `tunekit.class_weights(y, return_mapping=True)`.",
            )
        if isinstance(key, (bool, np.bool_)) or not isinstance(key, (int, np.integer)):
            if isinstance(key, (float, np.floating)) and float(key).is_integer():
                key = int(key)
            else:
                raise invalid_parameter(
                    argname,
                    class_weight,
                    "a dict keyed by integer class indices",
                    f"Key {key!r} is not an integer.",
                )
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
        result[int(key)] = value
    if not result:
        raise invalid_parameter(argname, class_weight, "a non-empty dict")
    return result


def _class_indices_of(
    y: np.ndarray, one_hot: bool | None, argname: str
) -> tuple[np.ndarray, bool]:
    """Return (class index per sample or per timestep, labels were one-hot)."""
    _check_not_empty_or_nan(y, argname)
    if y.dtype.kind in "US" or y.dtype == object:
        raise invalid_parameter(
            argname,
            _short(y),
            "integer class indices or one-hot rows",
            "Encode string labels first, e.g. `classes, y = np.unique(y, "
            "return_inverse=True)` (the order `tunekit.class_weights` uses).",
        )
    if y.ndim == 0:
        raise invalid_parameter(argname, y, "an array with one label per sample")
    if one_hot is None:
        one_hot = y.ndim >= 2 and y.shape[-1] > 1 and _rows_sum_to_one(y)
        if y.ndim >= 3 and not one_hot:
            raise invalid_parameter(
                argname,
                _Shown(f"array of shape {y.shape}"),
                "class indices of shape (N,), (N, 1) or (N, T), or one-hot rows "
                "of shape (N, k) or (N, T, k)",
                "The last axis does not hold one-hot/probability rows; pass "
                "`one_hot=False` only for integer label arrays.",
            )
    if one_hot:
        if y.ndim < 2:
            raise invalid_parameter(
                "one_hot", True, "False for 1-D labels", received(argname, y.shape)
            )
        return np.argmax(y, axis=-1).astype(np.int64), True
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim >= 3:
        raise invalid_parameter(
            argname,
            _Shown(f"array of shape {y.shape}"),
            "class indices of shape (N,), (N, 1) or (N, T)",
        )
    return np.round(y).astype(np.int64) if y.dtype.kind == "f" else y.astype(
        np.int64
    ), False


def _rows_sum_to_one(y: np.ndarray) -> bool:
    if y.dtype.kind not in "biuf" or y.min() < 0:
        return False
    sums = y.reshape(-1, y.shape[-1]).astype(np.float64).sum(axis=1)
    return bool(np.all(np.abs(sums - 1.0) <= _ROW_SUM_TOLERANCE))


def _weights_for_one_output(
    y: Any, class_weight: Any, default: float | None, one_hot: bool | None, name: str
) -> np.ndarray:
    weights = check_class_weight(class_weight, argname=f"class_weight{name}")
    arr = _as_array(y, f"y{name}")
    indices, _ = _class_indices_of(arr, one_hot, f"y{name}")
    unknown = sorted(set(np.unique(indices).tolist()) - set(weights))
    if unknown and default is None:
        raise invalid_parameter(
            f"class_weight{name}",
            weights,
            "a weight for every class of the labels",
            f"Classes {unknown[:10]} occur in `y{name}` but have no weight (Keras "
            "would silently use 1.0). Add them, or pass `default=1.0`.",
        )
    table = np.full(max(max(weights), int(indices.max())) + 1, np.nan)
    for key, value in weights.items():
        table[key] = value
    if default is not None:
        table[np.isnan(table)] = float(default)
    return table[indices].astype(np.float32)


#: ``sample_weights``' simple parameters; ``y`` and ``class_weight`` (labels
#: and their weights) have their own checks.
SAMPLE_WEIGHTS_CONSTRAINTS: dict[str, Any] = {
    "default": Rule(
        [Interval(numbers.Real, 0, math.inf, closed="left"), None],
        "a non-negative number or None",
    ),
    "one_hot": [bool, None],
}


@declare_constraints(SAMPLE_WEIGHTS_CONSTRAINTS)
def sample_weights(
    y: Any,
    class_weight: Any,
    *,
    default: float | None = None,
    one_hot: bool | None = None,
) -> Any:
    """Turn class weights into per-sample weights for ``fit(sample_weight=...)``.

    Use it where Keras refuses ``class_weight``: multi-output models, sequence
    targets (one weight per timestep), Python generators (yield
    ``(x, y, weights)``), or together with other per-sample weights (multiply
    them). The inputs are never modified.

    Parameters
    ----------
    y : array-like, dict or list of array-like
        Labels: class indices ``(N,)``, ``(N, 1)`` or ``(N, T)`` (sequences),
        or one-hot / probability rows ``(N, k)`` or ``(N, T, k)``. For a
        multi-output model, a dict (or list) with one array per output.
    class_weight : dict, array, or dict/list of those
        ``{class_index: weight}`` (as returned by :func:`class_weights`) or
        the array of scikit-learn's ``compute_class_weight``. For multi-output
        ``y``, one per output, keyed (or ordered) like ``y``; ``None`` for an
        output gives weights of 1.
    default : float, default=None
        Weight of classes missing from ``class_weight``. By default a missing
        class is an error (Keras would silently use 1.0).
    one_hot : bool, default=None
        Whether the last axis of ``y`` holds one-hot rows. By default, guessed:
        rows of non-negative numbers summing to 1 on a last axis longer than 1.

    Returns
    -------
    numpy.ndarray, dict or list
        float32 weights of shape ``(N,)`` or ``(N, T)``, structured like ``y``.

    Examples
    --------
    >>> import numpy as np
    >>> import tunekit
    >>> y = np.array([0, 0, 0, 1])
    >>> tunekit.sample_weights(y, {0: 0.5, 1: 2.0})
    array([0.5, 0.5, 0.5, 2. ], dtype=float32)
    >>> tunekit.sample_weights(np.array([[0, 1, 1]]), {0: 1.0, 1: 3.0})  # (N, T)
    array([[1., 3., 3.]], dtype=float32)
    >>> tunekit.sample_weights({"a": y, "b": y}, {"a": {0: 1.0, 1: 4.0}, "b": None})
    {'a': array([1., 1., 1., 4.], dtype=float32), 'b': array([1., 1., 1., 1.], dtype=float32)}
    """  # noqa: E501
    validate_params(
        SAMPLE_WEIGHTS_CONSTRAINTS, {"default": default, "one_hot": one_hot}
    )
    if isinstance(y, Mapping):
        if not isinstance(class_weight, Mapping) or not set(class_weight) <= set(y):
            raise invalid_parameter(
                "class_weight",
                _short(class_weight),
                "a dict with one class-weight dict per output name, keyed like "
                f"`y` ({list(y)})",
            )
        if any(isinstance(k, (int, np.integer)) for k in class_weight):
            raise invalid_parameter(
                "class_weight",
                _short(class_weight),
                "a dict keyed by output name when `y` is a dict",
            )
        return {
            name: _output_weights(y[name], class_weight.get(name), default, one_hot,
                                  f"[{name!r}]")
            for name in y
        }  # fmt: skip
    if isinstance(y, (list, tuple)) and y and _all_arrays(y):
        if not isinstance(class_weight, (list, tuple)) or len(class_weight) != len(y):
            raise invalid_parameter(
                "class_weight",
                _short(class_weight),
                f"a list with one class-weight dict (or None) per output "
                f"({len(y)} outputs)",
            )
        return [
            _output_weights(yi, cw, default, one_hot, f"[{i}]")
            for i, (yi, cw) in enumerate(zip(y, class_weight))
        ]
    return _weights_for_one_output(y, class_weight, default, one_hot, "")


def _output_weights(
    y: Any, class_weight: Any, default: float | None, one_hot: bool | None, name: str
) -> np.ndarray:
    if class_weight is None:
        arr = _as_array(y, f"y{name}")
        indices, _ = _class_indices_of(arr, one_hot, f"y{name}")
        return np.ones(indices.shape, dtype=np.float32)
    return _weights_for_one_output(y, class_weight, default, one_hot, name)


def _all_arrays(values: Sequence[Any]) -> bool:
    return all(
        isinstance(v, np.ndarray) or hasattr(v, "__array__") or hasattr(v, "to_numpy")
        for v in values
    )
