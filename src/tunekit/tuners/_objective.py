"""Tuning objectives: the optimisation direction and the keys a model really logs.

KerasTuner infers an objective's direction from its name and gets several
Keras 3 metrics wrong (``val_f1_score``, ``r2_score`` and the correlation
metrics come out as ``"min"``; ``mean_io_u`` or ``precision_at_recall`` crash).
It also accepts any direction string (``"maximize"``), after which every trial
fails. tunekit keeps its own direction table and checks the objective against
the keys the model will log, before any training starts.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Any

from tunekit._constraints import declare_constraints, validate_params
from tunekit._errors import ObjectiveError
from tunekit._validation import did_you_mean, received

__all__ = [
    "discover_logged_keys",
    "metric_direction",
    "validate_objective",
]

_MAX = "max"
_MIN = "min"

# Every metric Keras 3 logs, by its logged (snake_case) name and common aliases.
_MAX_METRICS = frozenset(
    {
        # accuracy family
        "accuracy",
        "acc",
        "binary_accuracy",
        "categorical_accuracy",
        "sparse_categorical_accuracy",
        "top_k_categorical_accuracy",
        "sparse_top_k_categorical_accuracy",
        # confusion-matrix based
        "auc",
        "prc",
        "precision",
        "recall",
        "true_positives",
        "true_negatives",
        "f1_score",
        "fbeta_score",
        "precision_at_recall",
        "recall_at_precision",
        "sensitivity_at_specificity",
        "specificity_at_sensitivity",
        # regression scores and correlations
        "r2_score",
        "pearson_correlation",
        "concordance_correlation",
        "cosine_similarity",
        # IoU family
        "iou",
        "io_u",
        "mean_io_u",
        "mean_iou",
        "binary_io_u",
        "one_hot_io_u",
        "one_hot_mean_io_u",
    }
)
_MIN_METRICS = frozenset(
    {
        "loss",
        "ce",
        "crossentropy",
        "binary_crossentropy",
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
        "binary_focal_crossentropy",
        "categorical_focal_crossentropy",
        "categorical_generalized_cross_entropy",
        "hinge",
        "squared_hinge",
        "categorical_hinge",
        "kl_divergence",
        "kld",
        "kullback_leibler_divergence",
        "logcosh",
        "log_cosh",
        "mean_absolute_error",
        "mae",
        "mean_absolute_percentage_error",
        "mape",
        "mean_squared_error",
        "mse",
        "mean_squared_logarithmic_error",
        "msle",
        "root_mean_squared_error",
        "rmse",
        "poisson",
        "huber",
        "huber_loss",
        "false_positives",
        "false_negatives",
        "ctc",
        "dice",
        "tversky",
        "circle",
    }
)
_DIRECTIONS: dict[str, str] = {
    **{name: _MAX for name in _MAX_METRICS},
    **{name: _MIN for name in _MIN_METRICS},
}
# Known value ranges, for checking a target score (``tunekit tune --target``).
# The plain ``loss`` has none: Keras' cosine_similarity loss is negative.
_FRACTIONS = frozenset(
    {
        "accuracy", "acc", "binary_accuracy", "categorical_accuracy",
        "sparse_categorical_accuracy", "top_k_categorical_accuracy",
        "sparse_top_k_categorical_accuracy", "auc", "prc", "precision", "recall",
        "f1_score", "fbeta_score", "precision_at_recall", "recall_at_precision",
        "sensitivity_at_specificity", "specificity_at_sensitivity", "iou", "io_u",
        "mean_io_u", "mean_iou", "binary_io_u", "one_hot_io_u", "one_hot_mean_io_u",
        "dice", "tversky",
    }
)  # fmt: skip
_INF = float("inf")
_BOUNDS: dict[str, tuple[float, float]] = {
    **{name: (0.0, 1.0) for name in _FRACTIONS},
    **{name: (0.0, _INF) for name in _MIN_METRICS - _FRACTIONS - {"loss", "circle"}},
    **{name: (0.0, _INF) for name in ("true_positives", "true_negatives")},
    "r2_score": (-_INF, 1.0),
    "pearson_correlation": (-1.0, 1.0),
    "concordance_correlation": (-1.0, 1.0),
    "cosine_similarity": (-1.0, 1.0),
}
_SUFFIX = re.compile(r"_\d+$")
_VALID_DIRECTIONS = ("min", "max")


def _base_names(name: str) -> list[str]:
    """Candidate table keys for a logged name, most specific first."""
    name = name.lower()
    if name.startswith("val_"):
        name = name[len("val_") :]
    names = [name]
    unsuffixed = _SUFFIX.sub("", name)  # auc_1 -> auc
    if unsuffixed != name:
        names.append(unsuffixed)
    for candidate in list(names):
        if candidate.startswith("weighted_"):
            names.append(candidate[len("weighted_") :])
    return names


def _lookup(name: str) -> tuple[str | None, bool]:
    """Return ``(direction, exact)``; ``exact`` is False for an output-prefix match."""
    candidates = _base_names(name)
    for candidate in candidates:
        if candidate in _DIRECTIONS:
            return _DIRECTIONS[candidate], True
    # Multi-output models prefix the output name: "a_accuracy", "out_1_loss".
    for candidate in candidates:
        parts = candidate.split("_")
        for start in range(1, len(parts)):
            tail = "_".join(parts[start:])
            if tail in _DIRECTIONS:
                return _DIRECTIONS[tail], False
    return None, False


def metric_bounds(name: str) -> tuple[float, float] | None:
    """The range of values a known metric takes, or ``None`` if unknown.

    Accepts the same names as :func:`metric_direction` (``val_`` prefix,
    multi-output prefix, ``_1`` suffix).

    Examples
    --------
    >>> metric_bounds("val_accuracy"), metric_bounds("val_mae")
    ((0.0, 1.0), (0.0, inf))
    >>> metric_bounds("val_loss") is None  # any loss, e.g. a negative one
    True
    """
    candidates = _base_names(name)
    for candidate in candidates:
        if candidate in _BOUNDS:
            return _BOUNDS[candidate]
    for candidate in candidates:
        parts = candidate.split("_")
        for start in range(1, len(parts)):
            tail = "_".join(parts[start:])
            if tail in _BOUNDS:
                return _BOUNDS[tail]
    return None


def metric_direction(name: str) -> str | None:
    """Return ``"min"`` or ``"max"`` for a logged metric name, or ``None``.

    The name may carry a ``val_`` prefix, a ``weighted_`` prefix, a
    multi-output prefix (``"a_accuracy"``) and a ``_1``-style suffix. Unlike
    KerasTuner's inference, F1/FBeta, R², the correlation metrics, the IoU
    family and the ``*_at_*`` metrics are ``"max"``.

    Parameters
    ----------
    name : str
        A key of the training logs, for example ``"val_f1_score"``.

    Returns
    -------
    str or None
        ``"min"``, ``"max"``, or ``None`` for an unknown (custom) metric.

    Examples
    --------
    >>> from tunekit import metric_direction
    >>> metric_direction("val_f1_score"), metric_direction("val_loss")
    ('max', 'min')
    >>> metric_direction("val_auc_1"), metric_direction("out_a_mean_io_u")
    ('max', 'max')
    >>> metric_direction("val_my_metric") is None
    True
    """
    if not isinstance(name, str):
        raise ObjectiveError(
            f"A metric name must be a string. {received('name', name)}"
        )
    return _lookup(name)[0]


def _check_direction(name: str, direction: Any, shown: Any) -> str:
    if direction not in _VALID_DIRECTIONS:
        hint = ""
        if isinstance(direction, str) and direction.lower().startswith("max"):
            hint = ' Use "max".'
        elif isinstance(direction, str) and direction.lower().startswith("min"):
            hint = ' Use "min".'
        raise ObjectiveError(
            f'The direction of objective {name!r} must be "min" or "max" '
            "(KerasTuner accepts other strings and then every trial fails)."
            f"{hint} {received('objective', _Shown(shown))}"
        )
    expected, exact = _lookup(name)
    if expected is not None and expected != direction:
        why = "" if exact else " (matched by its suffix)"
        raise ObjectiveError(
            f"Objective {name!r} is a metric to {_VERB[expected]}{why}, but the "
            f"direction given is {direction!r}: the tuner would keep the worst "
            f"models as the best. Use direction={expected!r}. "
            f"{received('objective', _Shown(shown))}"
        )
    return direction


_VERB = {"min": "minimize", "max": "maximize"}


class _Shown:
    """Shows a keras_tuner.Objective readably in ``Received: objective=...``."""

    def __init__(self, objective: Any) -> None:
        self.objective = objective

    def __repr__(self) -> str:
        value = self.objective
        if isinstance(value, list):
            return "[" + ", ".join(repr(_Shown(v)) for v in value) + "]"
        if hasattr(value, "name") and hasattr(value, "direction"):
            return f"Objective({value.name!r}, direction={value.direction!r})"
        return repr(value)


def _static_objective(objective: Any) -> Any:
    """Turn one objective spec into a checked ``keras_tuner.Objective``."""
    import keras_tuner

    if isinstance(objective, keras_tuner.Objective):
        name, direction = objective.name, objective.direction
    elif isinstance(objective, str):
        name, direction = objective, None
    elif (
        isinstance(objective, tuple)
        and len(objective) == 2
        and all(isinstance(part, str) for part in objective)
    ):
        name, direction = objective
    else:
        raise ObjectiveError(
            "`objective` must be a metric name, a (name, 'min'|'max') tuple, a "
            "`keras_tuner.Objective` or a list of these. "
            f"{received('objective', _Shown(objective))}"
        )
    if not name:
        raise ObjectiveError(
            "The objective name must not be empty. "
            f"{received('objective', _Shown(objective))}"
        )
    if direction is None:
        direction = metric_direction(name)
        if direction is None:
            raise ObjectiveError(
                f"Could not infer optimization direction for objective {name!r}: "
                "tunekit cannot tell whether it should be minimized or "
                "maximized, as it is not a Keras metric tunekit knows."
                f"{_suggest_known(name)} If it is your own metric, pass the "
                f'direction explicitly, e.g. objective=("{name}", "max") or '
                f'objective=("{name}", "min"). '
                f"{received('objective', _Shown(objective))}"
            )
    else:
        direction = _check_direction(name, direction, objective)
    return keras_tuner.Objective(name, direction)


def _suggest_known(name: str) -> str:
    """Did-you-mean among the known metric names, keeping a ``val_`` prefix."""
    prefix = "val_" if name.startswith("val_") else ""
    matches = difflib.get_close_matches(_strip_val(name), sorted(_DIRECTIONS), n=1)
    return f" Did you mean {prefix + matches[0]!r}?" if matches else ""


def _strip_val(name: str) -> str:
    return name[len("val_") :] if name.startswith("val_") else name


def _available_keys(keys: Iterable[str], validation: bool | None) -> list[str]:
    keys = [str(k) for k in keys]
    train = [k for k in keys if not k.startswith("val_")]
    if validation is False:
        return sorted(train)
    if validation:
        return sorted(set(keys) | {f"val_{k}" for k in train})
    return sorted(set(keys))


# Names Keras logs for the same quantity, depending on how it was requested
# (metrics=["accuracy"] logs "accuracy", SparseCategoricalAccuracy() logs
# "sparse_categorical_accuracy", "mae" logs "mae"...).
_ALIASES = (
    frozenset(
        {
            "accuracy",
            "acc",
            "binary_accuracy",
            "categorical_accuracy",
            "sparse_categorical_accuracy",
        }
    ),
    frozenset({"mae", "mean_absolute_error"}),
    frozenset({"mse", "mean_squared_error"}),
    frozenset({"mape", "mean_absolute_percentage_error"}),
    frozenset({"msle", "mean_squared_logarithmic_error"}),
    frozenset({"rmse", "root_mean_squared_error"}),
    frozenset({"ce", "crossentropy", "loss"}),
)


def _suggest(name: str, keys: list[str]) -> str:
    """Suggest multi-output keys (``val_a_accuracy``) first, else the closest."""
    prefix = "val_" if name.startswith("val_") else ""
    base = _strip_val(name)
    prefixed = [
        k
        for k in keys
        if k.startswith(prefix)
        and (prefix or not k.startswith("val_"))
        and k.endswith(f"_{base}")
    ]
    if not prefixed:
        group = next((g for g in _ALIASES if base.lower() in g), ())
        prefixed = [
            k
            for k in keys
            if _strip_val(k).lower() in group
            and k.startswith(prefix)
            and (prefix or not k.startswith("val_"))
        ]
    if len(prefixed) == 1:
        return f" Did you mean {prefixed[0]!r}?"
    if prefixed:
        return f" Did you mean one of {', '.join(repr(k) for k in prefixed)}?"
    return did_you_mean(name, keys)


def _check_logged(
    objective: Any, keys: list[str], validation: bool | None, shown: Any
) -> None:
    name = objective.name
    if name in keys:
        return
    if name.startswith("val_") and validation is False:
        if name[len("val_") :] in keys:
            raise ObjectiveError(
                f"Objective {name!r} is computed on validation data, but the "
                "search gets none: pass `validation_data=(x_val, y_val)` or "
                "`validation_split=0.2` to `search()`, or use the training "
                f"metric {name[len('val_') :]!r}. "
                f"{received('objective', _Shown(shown))}"
            )
    raise ObjectiveError(
        f"Objective {name!r} is not one of the keys the model logs, so every "
        f"trial would fail.{_suggest(name, keys)} The model logs: "
        f"{keys}. Check the metrics passed to `compile()` (multi-output models "
        "prefix the output name, a second instance of a metric gets a `_1` "
        f"suffix). {received('objective', _Shown(shown))}"
    )


#: ``validate_objective``'s simple parameter; ``objective`` and ``logged_keys``
#: have their own checks (ObjectiveError, with a did-you-mean).
VALIDATE_OBJECTIVE_CONSTRAINTS: dict[str, Any] = {"validation": [bool, None]}


@declare_constraints(VALIDATE_OBJECTIVE_CONSTRAINTS)
def validate_objective(
    objective: Any,
    logged_keys: Iterable[str] | None = None,
    *,
    validation: bool | None = None,
) -> Any:
    """Check a tuning objective and return it as a ``keras_tuner.Objective``.

    Static checks (always): the direction is ``"min"`` or ``"max"``; a name
    given without a direction is looked up in tunekit's table of Keras 3
    metrics; a direction that contradicts the table (``val_f1_score`` with
    ``"min"``) is an error.

    Dynamic checks (when ``logged_keys`` is given): the name must be one of
    the keys the model logs; with ``validation=False`` a ``val_*`` objective
    is an error that says to pass validation data.

    Parameters
    ----------
    objective : str, tuple, keras_tuner.Objective or list
        ``"val_accuracy"``, ``("val_my_metric", "max")``, a
        ``keras_tuner.Objective`` or a list of these (a multi-objective).
    logged_keys : iterable of str, optional
        Keys the model logs, e.g. ``model.evaluate(..., return_dict=True)``
        keys or ``History.history`` keys.
    validation : bool, optional
        Whether the search has validation data. When True, ``val_`` versions
        of ``logged_keys`` are logged too; when False, they are not.

    Returns
    -------
    keras_tuner.Objective or list of keras_tuner.Objective
        A list when ``objective`` is a list.

    Raises
    ------
    ObjectiveError
        With the reason, a did-you-mean suggestion and the logged keys.

    Examples
    --------
    >>> from tunekit import validate_objective
    >>> validate_objective("val_f1_score").direction
    'max'
    >>> validate_objective(("val_score", "max"), ["loss", "score"],
    ...                    validation=True).name
    'val_score'
    >>> validate_objective("val_acc", ["loss", "accuracy"], validation=True)
    Traceback (most recent call last):
    ...
    tunekit._errors.ObjectiveError: Objective 'val_acc' is not one of the keys ...
    """
    validate_params(VALIDATE_OBJECTIVE_CONSTRAINTS, {"validation": validation})
    if isinstance(objective, list):
        if not objective:
            raise ObjectiveError(
                "`objective` must not be an empty list. "
                f"{received('objective', _Shown(objective))}"
            )
        checked = [_static_objective(o) for o in objective]
        names = [o.name for o in checked]
        if len(set(names)) != len(names):
            raise ObjectiveError(
                f"`objective` lists the same metric twice. "
                f"{received('objective', _Shown(objective))}"
            )
    else:
        checked = [_static_objective(objective)]
    if logged_keys is not None:
        keys = _available_keys(logged_keys, validation)
        for obj in checked:
            _check_logged(obj, keys, validation, objective)
    elif validation is False:
        for obj in checked:
            if obj.name.startswith("val_"):
                _check_logged(obj, [_strip_val(obj.name)], False, objective)
    return checked if isinstance(objective, list) else checked[0]


def objective_list(objective: Any) -> list[Any]:
    """Return the ``keras_tuner.Objective`` objects inside an objective."""
    if isinstance(objective, list):
        return list(objective)
    if hasattr(objective, "objectives"):  # keras_tuner MultiObjective
        return list(objective.objectives)
    return [objective]


def _slice(data: Any, stop: int) -> Any:
    import keras

    return keras.tree.map_structure(lambda a: a[:stop], data)


def sample_batch(
    x: Any, y: Any = None, sample_weight: Any = None, *, size: int = 8
) -> tuple[Any, Any, Any] | None:
    """Return a tiny ``(x, y, sample_weight)`` slice of the search data, or None.

    Works for arrays (and lists/dicts of arrays), ``tf.data.Dataset`` and
    indexable ``PyDataset``-like iterators. Generators cannot be peeked
    without consuming them, so they give ``None``.
    """
    if x is None:
        return None
    if hasattr(x, "shape") or isinstance(x, (list, tuple, dict)):
        try:
            return (
                _slice(x, size),
                None if y is None else _slice(y, size),
                None if sample_weight is None else _slice(sample_weight, size),
            )
        except Exception:
            return None
    batch = None
    if type(x).__module__.startswith("tensorflow") and hasattr(x, "take"):
        try:
            batch = next(iter(x.take(1)))
        except Exception:
            return None
    elif hasattr(x, "__getitem__") and hasattr(x, "__len__"):
        try:
            batch = x[0]
        except Exception:
            return None
    if not isinstance(batch, (tuple, list)) or not 1 <= len(batch) <= 3:
        return None
    parts = [*batch, None, None][:3]
    return parts[0], parts[1], parts[2]


def discover_logged_keys(model: Any, batch: Sequence[Any]) -> list[str]:
    """Return the keys ``model.fit`` logs for training, without updating weights.

    Keras 3's ``model.metrics_names`` is only ``['loss', 'compile_metrics']``;
    evaluating one small batch reveals the real names (``accuracy``,
    ``a_loss``, ``auc_1``...).
    """
    x, y, sample_weight = batch
    logs = model.evaluate(
        x, y, sample_weight=sample_weight, verbose=0, return_dict=True
    )
    return sorted(str(k) for k in logs)
