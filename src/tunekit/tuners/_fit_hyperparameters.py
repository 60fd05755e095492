"""Fit arguments as hyperparameters: batch size, epochs, shuffle, class weights.

A hyperparameter named like a ``Model.fit`` argument is applied to ``fit``
for the trial, without subclassing the tuner or the HyperModel:

* registered in the build function, ``hp.Choice("batch_size", [32, 64])``
  (when the HyperModel keeps KerasTuner's default ``fit``: a custom
  ``HyperModel.fit`` that tunes ``batch_size`` itself is left alone);
* or given to the tuner, ``fit_hyperparameters={"batch_size": [32, 64]}``
  (a list or tuple is a ``Choice``, a single value is ``Fixed``, a
  ``keras_tuner`` hyperparameter object is used as is); these are applied
  even with a custom ``HyperModel.fit`` (as keyword arguments).

The names: ``batch_size``, ``epochs``, ``shuffle``, ``class_weight`` (a
strategy name: ``"none"`` or one of :func:`tunekit.class_weights`'
strategies, computed from the trial's training labels), ``steps_per_epoch``
and ``validation_batch_size``. Hyperband keeps control of epochs: tuning
``epochs`` under Hyperband is refused before training.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tunekit._errors import InvalidParameterError
from tunekit._validation import did_you_mean, invalid_parameter, received

__all__ = ["FIT_HYPERPARAMETERS", "fit_hyperparameter_names"]

FIT_HYPERPARAMETERS = (
    "batch_size",
    "epochs",
    "shuffle",
    "class_weight",
    "steps_per_epoch",
    "validation_batch_size",
)
_NO_CLASS_WEIGHT = ("none", "None", None)


def _class_weight_strategies() -> tuple[str, ...]:
    from tunekit.labels._class_weights import STRATEGIES

    return tuple(STRATEGIES)


def _as_hyperparameter(name: str, spec: Any) -> Any:
    import keras_tuner

    space = keras_tuner.HyperParameters()
    from tunekit.tuners._kerastuner import HyperParameter

    if isinstance(spec, HyperParameter):
        if spec.name != name:
            raise invalid_parameter(
                f"fit_hyperparameters[{name!r}]",
                spec,
                f"a hyperparameter named {name!r}",
                f"Its name is {spec.name!r}.",
            )
        space.merge([spec])
    elif isinstance(spec, (list, tuple, range)):
        values = list(spec)
        if not values:
            raise invalid_parameter(
                f"fit_hyperparameters[{name!r}]", spec, "a non-empty list of values"
            )
        if all(isinstance(v, bool) for v in values):
            # KerasTuner's Choice turns booleans into 0/1
            if len(set(values)) == 2:
                space.Boolean(name, default=values[0])
            else:
                space.Fixed(name, values[0])
            return space.space[0]
        try:
            space.Choice(name, values)
        except (TypeError, ValueError) as error:
            raise invalid_parameter(
                f"fit_hyperparameters[{name!r}]",
                spec,
                "a list of int, float, str or bool values of one type",
                str(error),
            ) from error
    elif isinstance(spec, (bool, int, float, str)):
        space.Fixed(name, spec)
    else:
        raise invalid_parameter(
            f"fit_hyperparameters[{name!r}]",
            spec,
            "a list of values (a Choice), one value (Fixed) or a keras_tuner "
            "hyperparameter",
        )
    return space.space[0]


def _check_values(hyperparameter: Any) -> None:
    """Reject values that ``fit`` would refuse, before any training."""
    name = hyperparameter.name
    values = _candidate_values(hyperparameter)
    if name == "class_weight":
        allowed = ("none", *_class_weight_strategies())
        bad = [v for v in values if v not in allowed]
        if bad:
            raise invalid_parameter(
                "class_weight hyperparameter",
                bad[0],
                f"one of {list(allowed)} (a strategy of tunekit.class_weights)",
                did_you_mean(str(bad[0]), allowed),
            )
    elif name == "shuffle":
        bad = [v for v in values if not isinstance(v, bool)]
        if bad:
            raise invalid_parameter("shuffle hyperparameter", bad[0], "True or False")
    elif values is not None:
        bad = [
            v for v in values if isinstance(v, bool) or not isinstance(v, int) or v < 1
        ]
        if bad:
            raise invalid_parameter(f"{name} hyperparameter", bad[0], "an integer >= 1")


def _candidate_values(hyperparameter: Any) -> list[Any] | None:
    config = hyperparameter.get_config()
    if "values" in config:
        return list(config["values"])
    if "value" in config:
        return [config["value"]]
    if type(hyperparameter).__name__ == "Boolean":
        return [True, False]
    if "min_value" in config and isinstance(config["min_value"], int):
        return [config["min_value"], config["max_value"]]
    if "min_value" in config:  # a Float for an integer argument
        return [config["min_value"]]
    return None


def check_fit_hyperparameters(spec: Any, kind: str) -> dict[str, Any]:
    """Check the tuner's ``fit_hyperparameters=``; return name -> hyperparameter."""
    if spec is None:
        return {}
    if not isinstance(spec, Mapping):
        raise invalid_parameter(
            "fit_hyperparameters",
            spec,
            'a dict such as {"batch_size": [32, 64, 128]}',
        )
    found = {}
    for name, values in spec.items():
        if name not in FIT_HYPERPARAMETERS:
            raise invalid_parameter(
                "fit_hyperparameters",
                spec,
                f"a dict whose keys are fit arguments {list(FIT_HYPERPARAMETERS)}",
                f"{name!r} is not one.{did_you_mean(str(name), FIT_HYPERPARAMETERS)}",
            )
        hyperparameter = _as_hyperparameter(name, values)
        _check_values(hyperparameter)
        found[name] = hyperparameter
    check_hyperband_epochs(found, kind, source="fit_hyperparameters")
    return found


def check_hyperband_epochs(names: Any, kind: str, *, source: str) -> None:
    """Hyperband sets ``epochs`` itself: refuse it as a hyperparameter."""
    if kind != "hyperband" or "epochs" not in names:
        return
    raise InvalidParameterError(
        "Hyperband decides how many epochs each trial trains (its brackets and "
        f"rounds), so `epochs` cannot be a hyperparameter ({source}). Tune "
        "`max_epochs` of Hyperband instead, or use tunekit.RandomSearch / "
        "tunekit.BayesianOptimization to tune `epochs`. "
        f"{received('epochs hyperparameter', 'epochs')}"
    )


def register_fit_hyperparameters(space: Any, found: dict[str, Any]) -> None:
    """Add the ``fit_hyperparameters`` to the oracle's search space."""
    if not found:
        return
    taken = [name for name in found if name in space]
    if taken:
        raise InvalidParameterError(
            f"{taken[0]!r} is in `fit_hyperparameters` and also registered by the "
            "build function or `hyperparameters=`: tune it in one place only. "
            f"{received('fit_hyperparameters', sorted(found))}"
        )
    space.merge(list(found.values()))


def fit_hyperparameter_names(
    space: Any, declared: Mapping[str, Any], *, default_fit: bool
) -> list[str]:
    """The fit arguments this search tunes.

    All fit-argument names of the search space when the HyperModel keeps
    KerasTuner's ``fit``; only the declared ``fit_hyperparameters`` otherwise.
    """
    names = {hp.name for hp in space.space if hp.name in FIT_HYPERPARAMETERS}
    if not default_fit:
        names &= set(declared)
    return sorted(names | set(declared))


def check_search_conflicts(
    names: list[str], arguments: Mapping[str, Any], kind: str, space: Any
) -> None:
    """Before training: a tuned fit argument also given to ``search()``, etc."""
    check_hyperband_epochs(names, kind, source="registered in the search space")
    for name in names:
        if name in arguments and arguments[name] is not None:
            raise InvalidParameterError(
                f"`{name}` is tuned as a hyperparameter and also given to "
                f"`search()`: the hyperparameter would silently override it. "
                f"Drop `{name}=` from `search()`, or stop tuning it. "
                f"{received(name, arguments[name])}"
            )
    for hyperparameter in space.space:
        if hyperparameter.name in names:
            _check_values(hyperparameter)
    if "class_weight" in names and arguments.get("y") is None:
        x = arguments.get("x")
        if not hasattr(x, "classes"):
            raise invalid_parameter(
                "y",
                None,
                "the labels (or x a DirectoryIterator) when `class_weight` is tuned",
                "The class weights are computed from the training labels.",
            )


def trial_fit_arguments(
    hyperparameters: Any, names: list[str], x: Any, y: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(keyword arguments for ``fit``, the values to record) for one trial."""
    fit_kwargs: dict[str, Any] = {}
    recorded: dict[str, Any] = {}
    values = hyperparameters.values
    for name in names:
        if name not in values:
            continue
        try:
            if not hyperparameters.is_active(name):
                continue
        except (KeyError, ValueError):  # pragma: no cover - unknown to the space
            pass
        value = values[name]
        recorded[name] = value
        if name == "class_weight":
            fit_kwargs[name] = class_weight_for(value, x, y)
        else:
            fit_kwargs[name] = value
    return fit_kwargs, recorded


def class_weight_for(strategy: Any, x: Any, y: Any) -> dict[int, float] | None:
    """``class_weight`` for ``fit`` from a strategy name and the training labels."""
    if strategy in _NO_CLASS_WEIGHT:
        return None
    from tunekit.labels._class_weights import class_weights

    source = y if y is not None else x
    return dict(class_weights(source, strategy=str(strategy)))
