"""``initial_trials=``: configurations tried before any random one.

KerasTuner's RandomSearch, the random start of BayesianOptimization and
Hyperband's first brackets draw every configuration at random, so they never
try the space's default values. For :func:`tunekit.build_cnn_hypermodel` the
defaults are a known-good model, and for a hand-written space they are what
the author would try first. ``initial_trials="defaults"`` (the default of the
factories and the CLI) makes the first trial use them; a list of dicts queues
chosen configurations, as Optuna's ``study.enqueue_trial`` does by hand.

Each queued configuration is checked against the search space when the tuner
is created (unknown names, values outside the space, inactive conditional
hyperparameters), then handed out in order in place of the oracle's random
draws by tunekit's oracles (:mod:`tunekit.tuners._oracles`). A queued
configuration that some trial of the project already has (after a resume, or
a trial still running on another worker) is skipped, so nothing is trained
twice.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

from tunekit._validation import did_you_mean, invalid_parameter

__all__ = ["check_initial_trials", "queued_values"]

DEFAULTS = "defaults"
_EXPECTED = (
    "None, 'defaults', a dict of hyperparameter values, or a list of those "
    "(each one trial, tried in order before any random one)"
)


def check_initial_trials(value: Any) -> list[Any]:
    """Normalise ``initial_trials`` to a list of ``"defaults"`` or dicts."""
    if value is None:
        return []
    if isinstance(value, str) or isinstance(value, Mapping):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise invalid_parameter("initial_trials", value, _EXPECTED)
    entries: list[Any] = []
    for entry in value:
        if isinstance(entry, str):
            if entry != DEFAULTS:
                hint = did_you_mean(entry, [DEFAULTS])
                raise invalid_parameter("initial_trials", value, _EXPECTED, hint)
            entries.append(DEFAULTS)
        elif isinstance(entry, Mapping) and all(isinstance(k, str) for k in entry):
            entries.append(dict(entry))
        else:
            raise invalid_parameter("initial_trials", value, _EXPECTED)
    return entries


def _describe(hp: Any) -> str:
    kind = type(hp).__name__
    if kind == "Choice":
        return f"one of {list(hp.values)}"
    if kind in ("Int", "Float"):
        return f"a number from {hp.min_value} to {hp.max_value}"
    if kind == "Boolean":
        return "True or False"
    return repr(getattr(hp, "value", None))


def _accepts(hp: Any, value: Any) -> bool:
    kind = type(hp).__name__
    if kind == "Choice":
        return any(
            value == v and isinstance(value, bool) == isinstance(v, bool)
            for v in hp.values
        )
    if kind == "Boolean":
        return isinstance(value, bool)
    if kind == "Fixed":
        return value == hp.value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    if kind == "Int" and not float(value).is_integer():
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return hp.min_value <= value <= hp.max_value


def _values_for(space: Any, given: dict[str, Any], position: int) -> dict[str, Any]:
    """The active values of one queued trial: ``given`` over the defaults."""
    import keras_tuner

    names = [hp.name for hp in space.space]
    where = f"initial_trials[{position}]"
    unknown = [name for name in given if name not in names]
    if unknown:
        raise invalid_parameter(
            where,
            given,
            f"a dict of names from the search space ({', '.join(names)})",
            f"{unknown[0]!r} is not in it.{did_you_mean(unknown[0], names)}",
        )
    filled = keras_tuner.HyperParameters()
    for hp in space.space:
        filled.merge([hp])
        if not filled.is_active(hp):
            if hp.name in given:
                raise invalid_parameter(
                    where,
                    given,
                    "a configuration whose every hyperparameter is active",
                    f"{hp.name!r} is inactive under the other values given "
                    "(a conditional hyperparameter whose condition is not met); "
                    "leave it out.",
                )
            continue
        value = given.get(hp.name, hp.default)
        if hp.name in given and not _accepts(hp, value):
            raise invalid_parameter(
                where,
                given,
                f"inside the search space: {hp.name!r} must be {_describe(hp)}",
            )
        if type(hp).__name__ == "Int":
            value = int(value)
        filled.values[hp.name] = value
    return dict(filled.values)


def queued_values(space: Any, entries: list[Any]) -> list[dict[str, Any]]:
    """Every queued trial's values, checked against ``space``."""
    return [
        _values_for(space, {} if entry == DEFAULTS else entry, position)
        for position, entry in enumerate(entries)
    ]
