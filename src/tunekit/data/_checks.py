"""Argument checks of the image loaders: leaves every loader module imports.

Shared by :mod:`tunekit.data._generator` (``ImageDataGenerator``), the
iterators (:mod:`tunekit.data._files_iterator`, :mod:`tunekit.data._array_iterator`,
:mod:`tunekit.data._dataframe_iterator`) and the ``tf.data`` loader
(:mod:`tunekit.data._tf_data`). NumPy only: importing this module imports
neither Keras nor TensorFlow.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from tunekit._constraints import (
    Interval,
    Options,
    Rule,
    Satisfies,
)
from tunekit._errors import LabelMismatchError
from tunekit._validation import check_in, check_validation_split, invalid_parameter
from tunekit.data._directory import list_image_directory

__all__ = [
    "BRIGHTNESS_RANGE",
    "CACHE",
    "DATA_FORMAT",
    "INTERPOLATION_ORDER",
    "NUMBER",
    "PREPROCESSING_FUNCTION",
    "RESCALE",
    "SHIFT_RANGE",
    "SUBSET",
    "TARGET_SIZE",
    "VERBOSE",
    "ZOOM_RANGE",
    "check_brightness",
    "check_number",
    "check_same_classes",
    "check_shift_range",
    "check_split",
    "check_target_size",
    "in_format",
    "is_number",
    "is_shift_range",
    "is_size_pair",
    "split_fractions",
    "zoom_pair",
]


_TARGET_SIZE_WORDING = "a (height, width) pair of positive integers, e.g. (256, 256)"
_SHIFT_RANGE_WORDING = (
    "a number >= 0 (a fraction of the size if < 1, else pixels) or a "
    "1-D list of allowed shifts"
)
_ZOOM_RANGE_WORDING = "a float or a (low, high) pair of floats, e.g. 0.2 or (0.8, 1.2)"
_BRIGHTNESS_WORDING = "None or a (low, high) pair of floats, e.g. (0.8, 1.2)"


def is_size_pair(value: Any) -> bool:
    """Whether ``value`` is a ``(height, width)`` pair of positive ints."""
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
            for v in value
        )
    )


def check_target_size(name: str, value: Any) -> tuple[int, int]:
    """Return ``value`` as ``(height, width)`` of positive ints, or raise."""
    if not is_size_pair(value):
        raise invalid_parameter(name, value, _TARGET_SIZE_WORDING)
    return (int(value[0]), int(value[1]))


def check_split(validation_split: Any, subset: Any, allowed: Sequence[str]) -> None:
    """Validate ``validation_split`` / ``subset`` as Keras does, more clearly."""
    check_validation_split(validation_split)
    if subset is not None:
        check_in("subset", subset, [*allowed, None])
        if not validation_split:
            raise invalid_parameter(
                "subset",
                subset,
                "None when validation_split is 0",
                f"Pass validation_split (e.g. 0.2) to use subset={subset!r}.",
            )


def split_fractions(
    validation_split: float, subset: str | None
) -> tuple[float, float] | None:
    """Keras 2's per-class split: validation is ``(0, v)``, training ``(v, 1)``."""
    if subset == "validation":
        return (0.0, float(validation_split))
    if subset == "training":
        return (float(validation_split), 1.0)
    return None


def check_same_classes(train: Any, validation: Any) -> list[str]:
    """Raise if two image sources do not have the same classes in the same order.

    Train and validation (or test) folders with different class subfolders
    give labels that mean different things: Keras numbers classes by sorted
    folder name, so a missing folder shifts every later label.

    Parameters
    ----------
    train, validation : DirectoryIterator, dataset, folder path or list of str
        Anything with ``class_indices`` or ``class_names``, a class-per-subfolder
        folder, or the class names themselves.

    Returns
    -------
    list of str
        The shared class names, in label order.

    Raises
    ------
    LabelMismatchError
        When the class names differ.

    Examples
    --------
    >>> check_same_classes(["cat", "dog"], ["cat", "dog"])
    ['cat', 'dog']
    >>> check_same_classes(["cat", "dog"], ["cat", "cow", "dog"])
    Traceback (most recent call last):
    ...
    tunekit._errors.LabelMismatchError: The training and validation data have different classes...
    """  # noqa: E501
    train_names, val_names = _class_names_of(train), _class_names_of(validation)
    if train_names != val_names:
        only_train = sorted(set(train_names) - set(val_names))
        only_val = sorted(set(val_names) - set(train_names))
        detail = (
            f"only in training: {only_train}; only in validation: {only_val}"
            if (only_train or only_val)
            else "the same names in a different order"
        )
        raise LabelMismatchError(
            f"The training and validation data have different classes ({detail}), "
            "so label i means a different class in each. Give both folders the "
            "same class subfolders, or pass classes=[...] to both loaders. "
            f"Received: training classes={train_names}, validation "
            f"classes={val_names}"
        )
    return train_names


def _class_names_of(source: Any) -> list[str]:
    if isinstance(source, (str, os.PathLike)):
        return list(list_image_directory(source, allow_empty_classes=True).class_names)
    indices = getattr(source, "class_indices", None)
    if isinstance(indices, dict):
        return [name for name, _ in sorted(indices.items(), key=lambda kv: kv[1])]
    names = getattr(source, "class_names", None)
    if names is None and isinstance(source, (list, tuple)):
        names = source
    if names is None:
        raise invalid_parameter(
            "train/validation",
            source,
            "a DirectoryIterator, a dataset with class_names, a folder or a list "
            "of class names",
        )
    return [str(n) for n in names]


def in_format(
    image_shape: Sequence[int], data_format: str, wanted: str
) -> tuple[int, ...]:
    """One image's shape, from ``data_format`` to the ``wanted`` one.

    Examples
    --------
    >>> in_format((8, 6, 3), "channels_last", "channels_first")
    (3, 8, 6)
    """
    shape = tuple(int(d) for d in image_shape)
    if data_format == wanted or len(shape) != 3:
        return shape
    if wanted == "channels_first":
        return (shape[2], shape[0], shape[1])
    return (shape[1], shape[2], shape[0])


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, bool
    )


def check_number(name: str, value: Any, *, minimum: float | None = 0.0) -> None:
    if not is_number(value) or (minimum is not None and value < minimum):
        low = "" if minimum is None else f" >= {minimum:g}"
        raise invalid_parameter(name, value, f"a number{low}")


def is_shift_range(value: Any) -> bool:
    """A fraction/pixel count (number) or a list of allowed values (Keras 2)."""
    if is_number(value):
        return bool(value >= 0)
    return (
        isinstance(value, (list, tuple, np.ndarray))
        and np.ndim(value) == 1
        and all(is_number(v) for v in np.asarray(value).tolist())
    )


def _is_number_pair(value: Any) -> bool:
    return (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(is_number(v) for v in value)
    )


def check_shift_range(name: str, value: Any) -> None:
    if not is_shift_range(value):
        raise invalid_parameter(name, value, _SHIFT_RANGE_WORDING)


def zoom_pair(zoom_range: Any) -> list[float]:
    if is_number(zoom_range):
        return [1 - float(zoom_range), 1 + float(zoom_range)]
    if _is_number_pair(zoom_range):
        return [float(zoom_range[0]), float(zoom_range[1])]
    raise invalid_parameter("zoom_range", zoom_range, _ZOOM_RANGE_WORDING)


def check_brightness(brightness_range: Any) -> None:
    if brightness_range is not None and not _is_number_pair(brightness_range):
        raise invalid_parameter(
            "brightness_range", brightness_range, _BRIGHTNESS_WORDING
        )


# ---- the loaders' shared constraint entries (tunekit._constraints) ----------
# Each keeps the wording of the check above it replaces, word for word.

#: ``target_size``: :func:`check_target_size`'s wording.
TARGET_SIZE = Rule(
    [Satisfies(is_size_pair, _TARGET_SIZE_WORDING, invalid=[(0, 5), 28])],
    _TARGET_SIZE_WORDING,
)
#: ``width_shift_range`` / ``height_shift_range``: :func:`check_shift_range`'s.
SHIFT_RANGE = Rule(
    [Satisfies(is_shift_range, _SHIFT_RANGE_WORDING, invalid=[-1, "x"])],
    _SHIFT_RANGE_WORDING,
)
#: ``zoom_range``: :func:`zoom_pair`'s wording.
ZOOM_RANGE = Rule(
    [
        Satisfies(
            lambda v: is_number(v) or _is_number_pair(v),
            _ZOOM_RANGE_WORDING,
            invalid=["big", (0.5,)],
        )
    ],
    _ZOOM_RANGE_WORDING,
)
#: ``brightness_range``: :func:`check_brightness`'s wording.
BRIGHTNESS_RANGE = Rule(
    [Satisfies(_is_number_pair, _BRIGHTNESS_WORDING, invalid=[0.1]), None],
    _BRIGHTNESS_WORDING,
)
#: ``rescale``: a factor such as ``1/255``, or None.
RESCALE = Rule([Interval(numbers.Real, None, None), None], "a number such as 1/255")
#: ``preprocessing_function``: called on each image.
PREPROCESSING_FUNCTION = Rule(
    ["callable", None], "a callable taking and returning one image array"
)
#: ``data_format`` (None: ``keras.config.image_data_format()``).
DATA_FORMAT = [Options(["channels_last", "channels_first"]), None]
#: ``interpolation_order`` of the affine transforms (spline order).
INTERPOLATION_ORDER = [
    Interval(numbers.Integral, 0, 5, description="an integer from 0 to 5")
]
#: ``subset`` of the loaders that split into training and validation.
SUBSET = [Options(["training", "validation", None])]
#: ``cache``: :func:`tunekit.data._decode_cache.resolve_cache_dir`'s wording.
CACHE = Rule(
    [bool, "path", None],
    "False (no cache), True (the default cache folder) or a folder path",
)
#: ``verbose`` of the loaders: the tuners' wording (a Keras level is accepted).
VERBOSE = Rule(
    [bool, Interval(numbers.Integral, 0, None, closed="left")],
    "True or False (or a Keras verbosity level 0, 1, 2)",
)
#: ``cval``: any number.
NUMBER = [Interval(numbers.Real, None, None)]
