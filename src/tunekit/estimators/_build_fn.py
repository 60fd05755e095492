"""What a build function (or KerasTuner HyperModel) takes.

Its arguments are the estimator's parameters; :func:`build_spec` reads them
from the signature, or from the hyperparameters a HyperModel registers.
"""

from __future__ import annotations

import contextlib
import inspect
import random
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tunekit._validation import invalid_parameter
from tunekit.estimators._keras_arguments import DATA_ARGUMENTS

__all__ = ["BuildSpec", "build_spec", "defines_call", "describe"]


@dataclass(frozen=True)
class BuildSpec:
    """The arguments a build function (or HyperModel) takes."""

    defaults: dict[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    data_arguments: tuple[str, ...] = ()
    estimator_arguments: tuple[str, ...] = ()
    accepts_any: bool = False
    hypermodel: Any = None

    @property
    def names(self) -> list[str]:
        return [*self.defaults, *self.required]


# HyperModel -> its discovered hyperparameters (building a model is not free).
_HYPERMODEL_SPACES: weakref.WeakKeyDictionary[Any, dict[str, Any]] = (
    weakref.WeakKeyDictionary()
)


class _FunctionHyperModel:
    """Adapts a KerasTuner-style ``build(hp)`` function to the HyperModel API."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function

    def build(self, hp: Any) -> Any:
        return self.function(hp)


def _is_hypermodel(build_fn: Any) -> bool:
    if inspect.isfunction(build_fn) or inspect.ismethod(build_fn):
        return False
    if not callable(getattr(build_fn, "build", None)) or isinstance(build_fn, type):
        return False
    try:
        import keras_tuner
    except ImportError:  # pragma: no cover - keras-tuner is a dependency
        return False
    return isinstance(build_fn, keras_tuner.HyperModel)


def _is_hp_function(build_fn: Any) -> bool:
    """A plain function whose only argument is ``hp`` (KerasTuner style)."""
    if not inspect.isfunction(build_fn):
        return False
    parameters = list(inspect.signature(build_fn).parameters)
    return parameters == ["hp"]


def _hypermodel_space(hypermodel: Any) -> dict[str, Any]:
    """Build ``hypermodel`` once with empty hyperparameters to read its space."""
    try:
        return dict(_HYPERMODEL_SPACES[hypermodel])
    except (KeyError, TypeError):
        pass
    import keras_tuner

    # Building draws random seeds; leave the caller's generators as they were.
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        hp = keras_tuner.HyperParameters()
        hypermodel.build(hp)  # only the hyperparameters it registers matter
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    # Every registered hyperparameter, conditional ones included (a
    # conditional one that is inactive for the defaults is not in
    # ``hp.values``, but GridSearchCV may still set it).
    space: dict[str, Any] = {}
    for item in hp.space:
        if item.name not in space:
            space[item.name] = hp.values.get(item.name, item.default)
    with contextlib.suppress(TypeError):
        _HYPERMODEL_SPACES[hypermodel] = space
    return dict(space)


def build_spec(build_fn: Any, own_names: frozenset[str]) -> BuildSpec:
    """Describe the arguments ``build_fn`` takes, or raise a clear error."""
    if _is_hp_function(build_fn):
        build_fn = _FunctionHyperModel(build_fn)
        return BuildSpec(defaults=_hypermodel_space(build_fn), hypermodel=build_fn)
    if _is_hypermodel(build_fn):
        return BuildSpec(defaults=_hypermodel_space(build_fn), hypermodel=build_fn)
    if not callable(build_fn):
        raise invalid_parameter(
            "build_fn",
            build_fn,
            "a function returning a compiled Keras model, or a KerasTuner HyperModel",
            "Pass e.g. `KerasClassifier(build_fn=create_model)`.",
        )
    try:
        signature = inspect.signature(build_fn)
    except (TypeError, ValueError):  # builtins without a signature
        return BuildSpec(accepts_any=True)
    defaults: dict[str, Any] = {}
    required: list[str] = []
    data_arguments: list[str] = []
    estimator_arguments: list[str] = []
    accepts_any = False
    for name, parameter in signature.parameters.items():
        if parameter.kind is parameter.VAR_KEYWORD:
            accepts_any = True
        elif parameter.kind is parameter.VAR_POSITIONAL:
            continue
        elif name in DATA_ARGUMENTS:
            data_arguments.append(name)
        elif name in own_names:
            estimator_arguments.append(name)
        elif parameter.default is parameter.empty:
            required.append(name)
        else:
            defaults[name] = parameter.default
    return BuildSpec(
        defaults=defaults,
        required=tuple(required),
        data_arguments=tuple(data_arguments),
        estimator_arguments=tuple(estimator_arguments),
        accepts_any=accepts_any,
    )


def defines_call(cls: type) -> bool:
    """True when a subclass defines ``__call__`` (the old ``build_fn=None``)."""
    return any(
        "__call__" in vars(klass) for klass in cls.__mro__ if klass is not object
    )


def describe(build_fn: Any) -> str:
    """The build function's name, for error messages."""
    name = getattr(build_fn, "__qualname__", None) or type(build_fn).__name__
    return f"{name!s}"
