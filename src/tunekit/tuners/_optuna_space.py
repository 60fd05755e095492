"""KerasTuner's search space as Optuna distributions, sampled define-by-run.

:func:`suggest_values` walks a ``keras_tuner.HyperParameters`` space in order
and asks an Optuna trial for a value of every **active** hyperparameter (an
inactive one, whose ``conditional_scope`` does not hold, gets no value and no
Optuna parameter), exactly as KerasTuner's own random sampling does. The
mapping:

========================================  =====================================
KerasTuner                                Optuna
========================================  =====================================
``Fixed``                                 nothing sampled: the fixed value
``Boolean``                               ``suggest_categorical([False, True])``
``Choice``                                ``suggest_categorical(values)``
``Int`` linear (``step``, default 1)      ``suggest_int(low, high, step=step)``
``Int`` / ``Float`` log, no step          ``suggest_int/float(..., log=True)``
``Float`` linear (with or without step)   ``suggest_float(low, high[, step])``
log or reverse log **with** a step        ``suggest_categorical`` of the
                                          geometric values KerasTuner allows
reverse log, no step                      ``suggest_*(name + ":reverse_log",
                                          low, high, log=True)`` of the
                                          reflection ``low + high - value``
========================================  =====================================

Optuna has no reverse-log distribution; the reflection samples exactly
KerasTuner's reverse-log law and keeps TPE's density model on a log scale.
Its Optuna parameter carries the ``":reverse_log"`` suffix, so
``study.best_params`` never shows a reflected number under the
hyperparameter's own name; the values the model was built with are in the
trial's user attribute ``"hyperparameters"``.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["REFLECTED_SUFFIX", "optuna_params", "suggest_values"]

REFLECTED_SUFFIX = ":reverse_log"


def _kind(hp: Any) -> str:
    return type(hp).__name__


def _geometric(hp: Any) -> bool:
    """Log / reverse log with a step: a finite set of geometric values."""
    return hp.sampling in ("log", "reverse_log") and hp.step not in (None, 1)


def _linear_high(low: Any, high: Any, step: Any) -> Any:
    """The largest ``low + k * step <= high`` (Optuna warns when high is off-grid)."""
    count = math.floor((high - low) / step + 1e-9)
    return low + count * step


def _suggest_one(trial: Any, hp: Any) -> Any:
    """Ask ``trial`` for a value of ``hp`` (a KerasTuner hyperparameter)."""
    kind = _kind(hp)
    name = hp.name
    if kind == "Fixed":
        return hp.value
    if kind == "Boolean":
        return bool(trial.suggest_categorical(name, [False, True]))
    if kind == "Choice":
        return trial.suggest_categorical(name, list(hp.values))
    if kind not in ("Int", "Float"):
        raise TypeError(f"Unsupported hyperparameter type {kind} for {name!r}.")
    is_int = kind == "Int"
    if _geometric(hp):
        return trial.suggest_categorical(name, _rounded(list(hp.values), is_int))
    low, high = hp.min_value, hp.max_value
    suggest = trial.suggest_int if is_int else trial.suggest_float
    if hp.sampling == "reverse_log":
        reflected = suggest(name + REFLECTED_SUFFIX, low, high, log=True)
        value = high + low - reflected
        return round(value) if is_int else float(value)
    if hp.sampling == "log":
        return suggest(name, low, high, log=True)
    step = hp.step if hp.step is not None else (1 if is_int else None)
    if step is None:
        return trial.suggest_float(name, low, high)
    return suggest(name, low, _linear_high(low, high, step), step=step)


def _rounded(values: list[Any], is_int: bool) -> list[Any]:
    return [round(v) for v in values] if is_int else [float(v) for v in values]


def suggest_values(trial: Any, space: Any) -> dict[str, Any]:
    """Values for every active hyperparameter of ``space``, asked of ``trial``.

    Parameters
    ----------
    trial : optuna.Trial
        A trial from ``study.ask()`` (a retried or enqueued trial returns its
        fixed values).
    space : keras_tuner.HyperParameters
        The search space, conditions included.

    Returns
    -------
    dict
        ``{name: value}`` for the active hyperparameters, in space order.

    Examples
    --------
    >>> import keras_tuner, optuna
    >>> hp = keras_tuner.HyperParameters()
    >>> kind = hp.Choice("kind", ["a", "b"])
    >>> with hp.conditional_scope("kind", ["a"]):
    ...     _ = hp.Int("units", 8, 64, step=8)
    >>> study = optuna.create_study(sampler=optuna.samplers.RandomSampler(0))
    >>> values = suggest_values(study.ask(), hp)
    >>> ("units" in values) == (values["kind"] == "a")
    True
    """
    import keras_tuner

    active = keras_tuner.HyperParameters()
    for hp in space.space:
        active.merge([hp])
        if active.is_active(hp):
            active.values[hp.name] = _suggest_one(trial, hp)
    return dict(active.values)


def optuna_params(space: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The Optuna parameters that make a trial take ``values`` (for ``enqueue_trial``).

    Fixed hyperparameters have none; a reverse-log one is reflected.

    Examples
    --------
    >>> import keras_tuner
    >>> hp = keras_tuner.HyperParameters()
    >>> _ = hp.Float("decay", 0.5, 0.999, sampling="reverse_log")
    >>> _ = hp.Fixed("size", 3)
    >>> optuna_params(hp, {"decay": 0.9, "size": 3})
    {'decay:reverse_log': 0.599}
    """
    params: dict[str, Any] = {}
    for hp in space.space:
        if hp.name not in values or _kind(hp) == "Fixed":
            continue
        value = values[hp.name]
        if _kind(hp) in ("Int", "Float") and not _geometric(hp):
            if hp.sampling == "reverse_log":
                reflected = hp.max_value + hp.min_value - value
                if _kind(hp) == "Float":
                    reflected = round(float(reflected), 12)
                params[hp.name + REFLECTED_SUFFIX] = reflected
                continue
        params[hp.name] = value
    return params
