"""One construction path: the factories' defaults against the documented table."""

from __future__ import annotations

import ast
import inspect
import pathlib
import re
from typing import Any

import pytest

import tunekit
from tunekit.tuners._state import TunerState, tuner_state
from tunekit.tuners._trial_runner import KEYWORD_DEFAULTS

DOCS = pathlib.Path(__file__).parents[2] / "docs" / "tuners.md"
REQUIRED = "required"
PAIRS = [
    ("hyperband", "Hyperband"),
    ("bayesian_optimization", "BayesianOptimization"),
    ("random_search", "RandomSearch"),
]


def _default(parameter: inspect.Parameter) -> Any:
    empty = parameter.default is inspect.Parameter.empty
    return REQUIRED if empty else parameter.default


def _defaults(function: Any) -> dict[str, Any]:
    return {
        name: _default(parameter)
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL)
    }


def _class_defaults(cls: type) -> dict[str, Any]:
    """KerasTuner's signature plus tunekit's keywords (popped from ``**kwargs``)."""
    return {**KEYWORD_DEFAULTS, **_defaults(cls.__init__)}


def _cell(text: str) -> Any:
    text = text.strip()
    if text.startswith(REQUIRED):
        return REQUIRED
    literal = re.fullmatch(r"`([^`]*)`", text)
    assert literal, f"not a `literal` or 'required': {text!r}"
    return ast.literal_eval(literal.group(1))


def _documented() -> dict[str, tuple[Any, Any]]:
    """The table under "Classes and factories": name -> (class, factory)."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### Classes and factories")[1].split("\n#")[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    table = {}
    for row in rows:
        cells = row.strip("|").split("|")
        name = re.match(r"\s*`(\w+)`", cells[0]).group(1)
        table[name] = (_cell(cells[1]), _cell(cells[2]))
    assert table, "the table of docs/tuners.md is missing"
    return table


@pytest.mark.parametrize(("factory_name", "class_name"), PAIRS)
def test_factories_differ_from_classes_only_as_documented(
    factory_name: str, class_name: str
) -> None:
    factory = getattr(tunekit, factory_name)
    cls = getattr(tunekit, class_name)
    classes = _class_defaults(cls)
    # A factory passes what its signature lacks on to the class unchanged.
    factories = {**classes, **_defaults(factory)}
    assert set(factories) == set(classes), "a factory takes an argument its class lacks"
    table = _documented()
    differing = {
        name: (classes[name], factories[name])
        for name in classes
        if classes[name] != factories[name]
    }
    documented = {name: table[name] for name in table if name in classes}
    assert differing == documented
    # ... and each docstring names every deliberate difference.
    for name in differing:
        named = re.compile(rf"``{name}(``|=)")
        assert named.search(cls.__doc__ or ""), (class_name, name)
        assert named.search(factory.__doc__ or ""), (factory_name, name)


def _build(hp: Any) -> Any:
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    return model


def test_a_tuner_keeps_its_state_in_one_object(tmp_path: pathlib.Path) -> None:
    import keras_tuner

    tuner = tunekit.random_search(
        _build, "val_loss", max_trials=3, seed=3, directory=tmp_path, verbose=False
    )
    state = tuner_state(tuner)
    assert isinstance(state, TunerState)
    assert (state.kind, state.seed, state.budget) == (
        "random_search",
        3,
        {"max_trials": 3},
    )
    assert state.initial_trials is not None  # the factory's "defaults"
    assert [name for name in vars(tuner) if name.startswith("_tunekit")] == ["_tunekit"]
    plain = keras_tuner.RandomSearch(
        _build, "val_loss", max_trials=3, directory=tmp_path, project_name="plain"
    )
    assert tuner_state(plain) is None


# ---- every parameter of every factory refuses a bad value, in one wording ----

BAD_VALUES = {
    "hypermodel": 3,
    "max_epochs": 0,
    "factor": 1,
    "hyperband_iterations": 0,
    "max_trials": 0,
    "num_initial_points": -1,
    "alpha": "x",
    "beta": -1.0,
    "directory": 3,
    "project_name": 4,
    "overwrite": "yes",
    "seed": "7",
    "verbose": "loud",
    "initial_trials": 5,
}
#: Checked when ``search()`` starts, against the keys the model logs.
CHECKED_AT_SEARCH = {"objective"}


def _factory_cases():
    for factory in (
        tunekit.hyperband,
        tunekit.random_search,
        tunekit.bayesian_optimization,
    ):
        for name, parameter in inspect.signature(factory).parameters.items():
            if parameter.kind is parameter.VAR_KEYWORD or name in CHECKED_AT_SEARCH:
                continue
            yield pytest.param(factory, name, id=f"{factory.__name__}-{name}")


@pytest.mark.parametrize(("factory", "name"), list(_factory_cases()))
def test_every_factory_parameter_refuses_a_bad_value(factory, name, tmp_path):
    assert name in BAD_VALUES, f"add a bad value for {factory.__name__}({name}=)"
    arguments = {"directory": str(tmp_path)}
    arguments["max_epochs" if factory.__name__ == "hyperband" else "max_trials"] = 2
    arguments[name] = BAD_VALUES[name]
    hypermodel = arguments.pop("hypermodel", lambda hp: None)
    with pytest.raises(tunekit.InvalidParameterError) as caught:
        factory(hypermodel, "val_accuracy", **arguments)
    assert str(caught.value).endswith(f"Received: {name}={BAD_VALUES[name]!r}")
    assert not any(tmp_path.iterdir())  # refused before anything was written
