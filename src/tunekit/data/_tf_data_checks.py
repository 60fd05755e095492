"""The argument checks of :func:`tunekit.image_dataset_from_directory`.

Every argument is checked before the folder is read: the simple ones by one
constraint table, :data:`IMAGE_DATASET_CONSTRAINTS` (``validate_params``,
tunekit's ``Received: name=value``), then :func:`check_arguments` checks the
rest (``labels``, ``label_mode``, ``class_names``, ``image_size``,
``format`` and the pairs that must agree) in Keras 3's words where Keras
has a message for it (``_keras_error``). NumPy and Keras' config only: no
TensorFlow (Keras is imported inside :func:`check_arguments`).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from tunekit._constraints import (
    FLAG,
    POSITIVE_INT,
    SEED,
    Interval,
    Options,
    Rule,
    validate_params,
)
from tunekit._errors import InvalidParameterError
from tunekit._validation import (
    VALIDATION_SPLIT_WORDING,
    did_you_mean,
    invalid_parameter,
    received,
)
from tunekit.data._checks import (
    CACHE,
    DATA_FORMAT,
    RESCALE,
    VERBOSE,
    check_target_size,
)
from tunekit.data._decode_cache import CACHE_CHECKS, COLOR_MODES, INTERPOLATIONS

__all__ = [
    "IMAGE_DATASET_CONSTRAINTS",
    "LABEL_MODES",
    "check_arguments",
    "validate_arguments",
]

LABEL_MODES = ("int", "categorical", "binary", None)

_KERAS_INTERPOLATIONS = {"area": "box", "lanczos3": "lanczos"}


def interpolation_name(value: str) -> str:
    """The PIL-side name of an interpolation, any case, Keras 3's names too.

    Examples
    --------
    >>> interpolation_name("Area"), interpolation_name("bilinear")
    ('box', 'bilinear')
    """
    name = value.lower()
    return _KERAS_INTERPOLATIONS.get(name, name)


class _Interpolation(Options):
    """One of :data:`INTERPOLATIONS`, in any case, or Keras 3's aliases."""

    def __init__(self) -> None:
        super().__init__(INTERPOLATIONS)

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, str) and interpolation_name(value) in self.options

    def hint(self, value: Any) -> str:
        return super().hint(value.lower() if isinstance(value, str) else value)


#: The simple parameters (``validate_params``, before anything else).
#: ``labels``, ``class_names`` (structure), ``label_mode`` and ``format``
#: (Keras 3's own wordings) and ``image_size`` (an int or a pair) are
#: checked by :func:`check_arguments`.
IMAGE_DATASET_CONSTRAINTS: dict[str, Any] = {
    "directory": ["path"],
    "color_mode": [Options(COLOR_MODES)],
    "batch_size": [*POSITIVE_INT, None],
    "shuffle": FLAG,
    "seed": SEED,
    "validation_split": Rule(
        [Interval(numbers.Real, 0, 1, closed="left"), None], VALIDATION_SPLIT_WORDING
    ),
    "subset": Rule(  # Keras 3's wording
        [Options(["training", "validation", "both"]), None],
        'either "training", "validation" or "both"',
    ),
    "interpolation": [_Interpolation()],
    "follow_links": FLAG,
    "crop_to_aspect_ratio": FLAG,
    "pad_to_aspect_ratio": FLAG,
    "data_format": DATA_FORMAT,
    "verbose": VERBOSE,
    "rescale": RESCALE,
    "cache": CACHE,
    "cache_check": [Options(CACHE_CHECKS)],
    "on_error": [Options(["warn", "raise"])],
    "prefetch": FLAG,
    "decoder": [Options(["pil", "tf"])],
}


def validate_arguments(arguments: dict[str, Any]) -> None:
    """Check the simple arguments (the loader's ``locals()``) by the table."""
    validate_params(
        IMAGE_DATASET_CONSTRAINTS,
        {name: arguments[name] for name in IMAGE_DATASET_CONSTRAINTS},
    )


def _keras_error(message: str, name: str, value: Any) -> InvalidParameterError:
    return InvalidParameterError(f"{message} {received(name, value)}")


def _check_labels(labels: Any, class_names: Any) -> None:
    if (isinstance(labels, str) and labels == "inferred") or labels is None:
        if labels is None and class_names is not None:
            raise _keras_error(
                "When `labels=None` (no labels), argument `class_names` cannot be "
                'specified; you can only pass `class_names` if `labels="inferred"`.',
                "class_names",
                class_names,
            )
        return
    if not isinstance(labels, (list, tuple, np.ndarray)):
        raise _keras_error(
            "`labels` argument should be a list/tuple of integer labels, of the "
            "same size as the number of image files in the target directory, "
            '"inferred" (one subfolder per class) or None (images only).',
            "labels",
            labels,
        )
    if class_names:
        raise _keras_error(
            'You can only pass `class_names` if `labels="inferred"`: with '
            "explicit labels the class names are the sorted labels.",
            "class_names",
            class_names,
        )
    values = np.asarray(labels)
    if values.ndim != 1 or not (
        (np.issubdtype(values.dtype, np.integer) and (values >= 0).all())
        or not len(values)
    ):
        raise _keras_error(
            "`labels` argument should be a list/tuple of non-negative integer "
            "labels, one per image file.",
            "labels",
            labels if len(values) <= 10 else f"{list(values[:10])}...",
        )


def _check_split_args(validation_split: Any, subset: Any) -> None:
    """``subset`` and ``validation_split`` go together (each checked alone first)."""
    if bool(validation_split) != (subset is not None):
        raise _keras_error(
            "If `subset` is set, `validation_split` must be set, and inversely "
            "(e.g. validation_split=0.2, subset='both').",
            "subset" if subset is not None else "validation_split",
            subset if subset is not None else validation_split,
        )


def check_arguments(
    *,
    labels: Any,
    label_mode: Any,
    class_names: Any,
    image_size: Any,
    validation_split: Any,
    subset: Any,
    interpolation: str,
    crop_to_aspect_ratio: bool,
    pad_to_aspect_ratio: bool,
    data_format: str | None,
    format: Any,
) -> tuple[tuple[int, int], str, str]:
    """What the table leaves (Keras 3's messages), after :func:`validate_arguments`.

    Returns the ``(height, width)``, the PIL-side interpolation name and
    the data format.
    """
    import keras

    _check_labels(labels, class_names)
    if label_mode not in LABEL_MODES:
        hint = did_you_mean(str(label_mode), [m for m in LABEL_MODES if m])
        raise _keras_error(
            '`label_mode` argument must be one of "int", "categorical", "binary", '
            "or None." + hint,
            "label_mode",
            label_mode,
        )
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (int(image_size), int(image_size))
    size = check_target_size("image_size", image_size)
    _check_split_args(validation_split, subset)
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise invalid_parameter(
            "pad_to_aspect_ratio",
            pad_to_aspect_ratio,
            "False when crop_to_aspect_ratio=True",
            "Only one of `crop_to_aspect_ratio` or `pad_to_aspect_ratio` can be True.",
        )
    fmt = data_format or keras.config.image_data_format()
    if format == "grain":
        raise invalid_parameter(
            "format",
            format,
            '"tf": tunekit returns a tf.data.Dataset',
            "For a TensorFlow-free loader use tunekit.flow_from_directory (a "
            "PyDataset on every backend) or keras.utils."
            'image_dataset_from_directory(..., format="grain").',
        )
    if format != "tf":
        raise _keras_error(
            '`format` should be either "tf" or "grain".', "format", format
        )
    return size, interpolation_name(interpolation), fmt
