"""``Model.fit`` arguments of a search: binding, sample counts, the search plan.

A leaf of the tuners area: the trial runner, the pre-flight checks and
``refit_best`` read these helpers, and this module imports none of them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras_tuner

from tunekit.tuners._cross_validation import CrossValidationPlan
from tunekit.tuners._fit_hyperparameters import fit_hyperparameter_names
from tunekit.tuners._state import tuner_state

__all__ = [
    "SearchPlan",
    "current_plan",
    "default_run_trial",
    "fit_arguments",
    "samples",
    "split_xy",
    "uses_default_fit",
    "uses_default_run_trial",
    "validation_samples",
]


@dataclass
class SearchPlan:
    """What one ``search()`` decided before its first trial."""

    cv: CrossValidationPlan | None = None
    fit_names: list[str] = field(default_factory=list)
    callbacks: list[Any] = field(default_factory=list)
    refit_kwargs: dict[str, Any] = field(default_factory=dict)


def fit_arguments(fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> dict:
    """Name the arguments as ``Model.fit`` would receive them."""
    import keras

    try:
        bound = inspect.signature(keras.Model.fit).bind(None, *fit_args, **fit_kwargs)
    except TypeError:
        return dict(fit_kwargs)
    arguments = dict(bound.arguments)
    arguments.pop("self", None)
    arguments.update(arguments.pop("kwargs", {}))
    return arguments


def default_run_trial(method: Callable[..., Any]) -> Callable[..., Any]:
    """Mark tunekit's own ``run_trial`` (the one that trains ``model.fit``)."""
    method._tunekit_default_run_trial = True  # type: ignore[attr-defined]
    return method


def uses_default_run_trial(tuner: Any) -> bool:
    """True unless a subclass overrides ``run_trial`` (then it may build anything)."""
    run_trial = type(tuner).run_trial
    return getattr(run_trial, "_tunekit_default_run_trial", False) or run_trial in (
        keras_tuner.Tuner.run_trial,
        keras_tuner.Hyperband.run_trial,
    )


def uses_default_fit(tuner: Any) -> bool:
    """True when each trial is ``model.fit`` of the built model, as KerasTuner does.

    Only then do the objective and the logged keys follow from the model; a
    custom ``run_trial`` or ``HyperModel.fit`` returns what it likes.
    """
    hypermodel = tuner.hypermodel
    return (
        uses_default_run_trial(tuner)
        and hypermodel is not None
        and type(hypermodel).fit is keras_tuner.HyperModel.fit
    )


def current_plan(tuner: Any) -> SearchPlan:
    """The plan of the running search (a plain one outside ``search()``)."""
    state = tuner_state(tuner)
    plan = None if state is None else state.plan
    if plan is None:
        declared = {} if state is None else state.fit_hyperparameters or {}
        plan = SearchPlan(
            fit_names=fit_hyperparameter_names(
                tuner.oracle.hyperparameters,
                declared,
                default_fit=uses_default_fit(tuner),
            )
        )
    return plan


def samples(data: Any) -> int | None:
    """The number of samples in ``data`` (arrays, iterators), or None."""
    if data is None:
        return None
    for attribute in ("samples", "n"):
        value = getattr(data, attribute, None)
        if isinstance(value, int):
            return value
    if isinstance(data, dict):
        data = next(iter(data.values()), None)
    elif isinstance(data, (list, tuple)) and data and hasattr(data[0], "shape"):
        data = data[0]
    shape = getattr(data, "shape", None)
    if shape:
        return int(shape[0])
    return None


def validation_samples(kwargs: dict[str, Any], x_samples: int | None) -> int | None:
    """The number of validation samples of a fit, or None when unknown."""
    data = kwargs.get("validation_data")
    if data is not None:
        return samples(data[0] if isinstance(data, tuple) else data)
    split = kwargs.get("validation_split")
    if split and x_samples:
        return int(x_samples * float(split))
    return None


def split_xy(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """``x`` and ``y`` of a fit, given by position or by name."""
    x = args[0] if args else kwargs.get("x")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    return x, y
