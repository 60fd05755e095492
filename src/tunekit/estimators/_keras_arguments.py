"""The Keras arguments the estimators take, and their checks.

``fit`` and ``predict`` take Keras' own arguments for one call, as the old
``tf.keras.wrappers.scikit_learn`` wrappers did; the tables here say which,
and the checks reject a bad value or an unknown name before any training.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tunekit._errors import InvalidParameterError
from tunekit._validation import (
    check_validation_split,
    did_you_mean,
    invalid_parameter,
    received,
)

__all__ = [
    "DATA_ARGUMENTS",
    "FIT_ARGUMENTS",
    "PREDICT_ARGUMENTS",
    "RENAMED_ARGUMENTS",
    "check_call_names",
    "check_keras_argument",
    "check_same_length",
    "shown",
    "unpack_validation",
]


# Values a build function can ask for by naming them as arguments; they are
# computed from the training data in ``fit`` and are not estimator parameters.
DATA_ARGUMENTS = (
    "n_features_in_",
    "n_classes_",
    "classes_",
    "n_outputs_",
    "input_shape",
)

# Keras' own arguments that ``fit`` and ``predict``/``predict_proba``/``score``
# take for one call, as the old ``tf.keras.wrappers.scikit_learn`` wrappers
# did (``clf.fit(X, y, epochs=3, callbacks=[...])``). The ones that are not
# estimator parameters may also be given to the constructor (the old
# wrapper's ``sk_params``): ``KerasClassifier(build_fn, shuffle=False)``.
FIT_ARGUMENTS = (
    "batch_size",
    "epochs",
    "verbose",
    "callbacks",
    "validation_split",
    "validation_data",
    "shuffle",
    "class_weight",
    "initial_epoch",
    "steps_per_epoch",
    "validation_steps",
    "validation_batch_size",
    "validation_freq",
)
PREDICT_ARGUMENTS = ("batch_size", "verbose", "steps", "callbacks")


# Keras 1/2 names that are gone, with what replaced them.
RENAMED_ARGUMENTS = {"nb_epoch": "epochs"}


def _is_positive_int(value: Any) -> bool:
    return (
        isinstance(value, (int, np.integer))
        and not isinstance(value, (bool, np.bool_))
        and value >= 1
    )


def check_keras_argument(name: str, value: Any, *, epochs: Any = None) -> None:
    """Validate one Keras ``fit``/``predict`` argument given to the estimator."""
    if name in ("epochs", "batch_size", "validation_freq"):
        if not _is_positive_int(value):
            raise invalid_parameter(name, value, "an integer >= 1")
    elif name in (
        "steps",
        "steps_per_epoch",
        "validation_steps",
        "validation_batch_size",
    ):
        if value is not None and not _is_positive_int(value):
            raise invalid_parameter(name, value, "None or an integer >= 1")
    elif name == "initial_epoch":
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, (int, np.integer))
            or value < 0
        ):
            raise invalid_parameter(name, value, "an integer >= 0")
        if _is_positive_int(epochs) and value >= epochs:
            raise invalid_parameter(
                name,
                value,
                f"smaller than epochs={epochs}",
                "Keras trains the epochs from `initial_epoch` up to `epochs`, so "
                "nothing would be trained.",
            )
    elif name == "validation_split":
        check_validation_split(value)
    elif name == "callbacks":
        if value is not None and not isinstance(value, (list, tuple)):
            raise invalid_parameter(
                name, value, "a list of keras.callbacks.Callback or None"
            )
    elif name == "verbose":
        if not (
            isinstance(value, (int, np.integer, str))
            and not isinstance(value, (bool, np.bool_))
        ):
            raise invalid_parameter(name, value, "0, 1, 2 or 'auto'")
    elif name == "shuffle":
        if not isinstance(value, (bool, np.bool_)):
            raise invalid_parameter(name, value, "True or False")
    elif name == "validation_data":
        if value is not None and not (
            isinstance(value, (list, tuple)) and len(value) in (2, 3)
        ):
            raise invalid_parameter(
                name,
                shown(value),
                "a tuple (X_val, y_val) or (X_val, y_val, sample_weight_val)",
            )


class _Shown(str):
    """A string ``repr`` shows without quotes (for ``Received: ...``)."""

    def __repr__(self) -> str:
        return str(self)


def shown(value: Any) -> Any:
    """``value`` for a ``Received: ...`` line: an array by its type and shape."""
    shape = getattr(value, "shape", None)
    if shape is not None:
        return _Shown(f"<{type(value).__name__} of shape {tuple(shape)}>")
    return value


def check_call_names(
    estimator: Any, method: str, kwargs: Mapping[str, Any], allowed: tuple[str, ...]
) -> None:
    """Raise for a keyword ``method`` does not take (with did-you-mean)."""
    for name, value in kwargs.items():
        if name in allowed:
            continue
        hint = did_you_mean(name, allowed)
        if name in RENAMED_ARGUMENTS:
            hint = f" `{name}` was renamed `{RENAMED_ARGUMENTS[name]}` in Keras 2."
        raise InvalidParameterError(
            f"{type(estimator).__name__}.{method}() got an unexpected keyword "
            f"argument {name!r}.{hint} It takes these Keras arguments: "
            f"{sorted(allowed)}. {received(name, shown(value))}"
        )


def unpack_validation(validation_data: Any) -> tuple[Any, Any, Any]:
    """``(X_val, y_val, sample_weight_val)``, the weights None when not given."""
    parts = [*validation_data, None]
    return parts[0], parts[1], parts[2]


def check_same_length(X_val: np.ndarray, y_val: Any) -> None:
    """Raise when ``validation_data`` has not one label per input."""
    if len(X_val) != len(y_val):
        raise InvalidParameterError(
            f"`validation_data` has {len(X_val)} inputs but {len(y_val)} labels. "
            f"Received: validation_data with lengths ({len(X_val)}, {len(y_val)})"
        )
