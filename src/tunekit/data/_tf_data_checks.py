"""The argument checks of :func:`tunekit.image_dataset_from_directory`.

Every argument is checked before the folder is read, in Keras 3's words
where Keras has a message for it (``_keras_error``) and with tunekit's
``Received: name=value`` otherwise. NumPy and Keras' config only: no
TensorFlow (Keras is imported inside :func:`check_arguments`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tunekit._errors import InvalidParameterError
from tunekit._validation import (
    check_in,
    check_positive_int,
    check_seed,
    check_validation_split,
    did_you_mean,
    invalid_parameter,
    received,
)
from tunekit.data._checks import check_target_size
from tunekit.data._decode_cache import (
    CACHE_CHECKS,
    COLOR_MODES,
    INTERPOLATIONS,
    resolve_cache_dir,
)

__all__ = ["LABEL_MODES", "check_arguments"]

LABEL_MODES = ("int", "categorical", "binary", None)

_KERAS_INTERPOLATIONS = {"area": "box", "lanczos3": "lanczos"}


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
    split = check_validation_split(
        0.0 if validation_split is None else validation_split
    )
    if subset not in ("training", "validation", "both", None):
        hint = did_you_mean(str(subset), ["training", "validation", "both"])
        raise _keras_error(
            '`subset` must be either "training", "validation" or "both".' + hint,
            "subset",
            subset,
        )
    if bool(split) != (subset is not None):
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
    color_mode: Any,
    batch_size: Any,
    image_size: Any,
    validation_split: Any,
    subset: Any,
    interpolation: Any,
    crop_to_aspect_ratio: Any,
    pad_to_aspect_ratio: Any,
    data_format: Any,
    format: Any,
    on_error: Any,
    cache: Any,
    cache_check: Any,
    seed: Any,
    decoder: Any,
) -> tuple[tuple[int, int], str, str]:
    """Every argument checked before the folder is read (Keras 3's messages)."""
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
    check_in("color_mode", color_mode, list(COLOR_MODES))
    if batch_size is not None:
        check_positive_int("batch_size", batch_size)
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (int(image_size), int(image_size))
    size = check_target_size("image_size", image_size)
    _check_split_args(validation_split, subset)
    if not isinstance(interpolation, str):
        raise invalid_parameter("interpolation", interpolation, "a string")
    name = interpolation.lower()
    name = _KERAS_INTERPOLATIONS.get(name, name)
    check_in("interpolation", name, list(INTERPOLATIONS))
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise invalid_parameter(
            "pad_to_aspect_ratio",
            pad_to_aspect_ratio,
            "False when crop_to_aspect_ratio=True",
            "Only one of `crop_to_aspect_ratio` or `pad_to_aspect_ratio` can be True.",
        )
    fmt = check_in(
        "data_format",
        data_format or keras.config.image_data_format(),
        ["channels_last", "channels_first"],
    )
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
    check_in("on_error", on_error, ["warn", "raise"])
    check_in("decoder", decoder, ["pil", "tf"])
    check_in("cache_check", cache_check, list(CACHE_CHECKS))
    resolve_cache_dir(cache)
    check_seed(seed)
    return size, name, fmt
