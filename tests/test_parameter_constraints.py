"""One declarative way to check parameters (tunekit._constraints), and its guardrail.

Every parameter of every public entry point is either declared in a
constraint table (``_parameter_constraints``) or exempt below with a reason;
the guardrail feeds each declared parameter a value its table refuses and
checks the one wording: "`name` must be ... Received: name=...".
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any

import numpy as np
import pytest

import tunekit
from tunekit._constraints import (
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    SEED,
    VALIDATION_SPLIT,
    Interval,
    Options,
    Rule,
    Satisfies,
    describe,
    invalid_value,
    satisfies,
    validate_params,
)
from tunekit._errors import InvalidParameterError
from tunekit._validation import check_positive_int, check_seed, check_validation_split

# ---- the constraints themselves -------------------------------------------


def _message(constraints: dict[str, Any], **values: Any) -> str:
    with pytest.raises(InvalidParameterError) as caught:
        validate_params(constraints, values)
    return str(caught.value)


def test_bool_is_neither_an_int_nor_a_number():
    assert not satisfies(POSITIVE_INT, True)
    assert not satisfies([Interval(numbers.Real, None, None)], False)
    assert satisfies([bool], True) and not satisfies([bool], 1)
    assert _message({"epochs": POSITIVE_INT}, epochs=True) == (
        "`epochs` must be an integer >= 1. Received: epochs=True"
    )


def test_numpy_scalars_are_ints_and_numbers():
    assert satisfies(POSITIVE_INT, np.int64(3)) and satisfies(SEED, np.int32(-2))
    assert satisfies(VALIDATION_SPLIT, np.float32(0.25))
    assert not satisfies(POSITIVE_INT, np.float64(3.0))  # a float is no integer
    assert satisfies([bool], np.bool_(True))
    assert not satisfies([Interval(numbers.Real, 0, 1)], float("nan"))


@pytest.mark.parametrize(
    ("closed", "inside", "outside"),
    [
        ("left", [0, 0.5], [1, -0.1]),
        ("right", [1, 0.5], [0, 1.1]),
        ("both", [0, 1], [-0.1, 1.1]),
        ("neither", [0.5], [0, 1]),
    ],
)
def test_intervals_open_and_closed(closed, inside, outside):
    interval = [Interval(numbers.Real, 0, 1, closed=closed)]
    assert all(satisfies(interval, v) for v in inside)
    assert not any(satisfies(interval, v) for v in outside)
    assert invalid_value(interval) in outside or not satisfies(
        interval, invalid_value(interval)
    )


def test_wordings_are_joined_with_or():
    assert describe(POSITIVE_INT) == "an integer >= 1"
    assert describe(NON_NEGATIVE_INT) == "an integer >= 0"
    assert describe(SEED) == "an integer or None"
    assert describe([Interval(numbers.Real, 0, 1, closed="left")]) == (
        "a number in [0, 1)"
    )
    assert describe([Interval(numbers.Real, 0, None, closed="neither")]) == (
        "a number > 0"
    )
    three = [Options(["a", "b"]), bool, None]
    assert describe(three) == "one of 'a', 'b', True or False or None"
    assert _message({"mode": [Options(["int", "binary"]), None]}, mode="bianry") == (
        "`mode` must be one of 'int', 'binary' or None. Did you mean 'binary'? "
        "Received: mode='bianry'"
    )
    rule = Rule([str], "a folder name", hint="Pass a str.")
    assert (
        _message({"d": rule}, d=3)
        == "`d` must be a folder name. Pass a str. Received: d=3"
    )
    pair = Satisfies(lambda v: len(v) == 2, "a pair", invalid=[(1,)])
    assert invalid_value([pair]) == (1,) and not satisfies([pair], 3)


def test_the_helpers_word_their_parameter_like_its_constraint():
    for helper, entry, bad, name in [
        (lambda v: check_positive_int("epochs", v), POSITIVE_INT, 0, "epochs"),
        (check_seed, SEED, 1.5, "seed"),
        (check_validation_split, VALIDATION_SPLIT, 1, "validation_split"),
    ]:
        with pytest.raises(InvalidParameterError) as caught:
            helper(bad)
        assert str(caught.value) == _message({name: entry}, **{name: bad})


# ---- the guardrail: every public parameter ----------------------------------

#: Parameters with checks of their own (structure, not a simple value).
EXEMPT = {
    "hypermodel": "a function of hp or a HyperModel: _preflight.check_hypermodel",
    "objective": "an objective: ObjectiveError, with a did-you-mean",
    "logged_keys": "the keys a model logs: compared with the objective",
    "hyperparameters": "a keras_tuner.HyperParameters, handed to KerasTuner",
    "initial_trials": "configurations checked against the search space",
    "build_fn": "a build function or HyperModel: estimators._build_fn.build_spec",
    "input_shape": "a shape; the hint depends on it (channel axis, batch axis)",
    "tuner": "a KerasTuner tuner with an oracle",
    "trial": "a trial or trial id of that tuner",
    "x": "training data",
    "y": "labels: read_labels' checks",
    "validation_data": "validation data",
    "sample_weight": "per-sample weights of the data",
    "callbacks": "Keras callbacks of refit_best, checked by Keras' fit",
    "source": "labels in any supported form: read_labels' checks",
    "classes": "class labels or names, compared with the data",
    "class_weight": "per-class weights keyed by the labels: check_class_weight",
    "y_true": "labels: read_labels' checks",
    "y_pred_or_proba": "predictions, compared with y_true",
    "train": "a loader, folder or class-name list: check_same_classes",
    "validation": "a loader, folder or class-name list: check_same_classes",
    "model": "a Keras model: check_model_labels reads its output",
    "loss": "a Keras loss, compared with the labels",
    "name": "a metric name: ObjectiveError (metric_direction)",
    "path": "a file that may be missing: load_class_names returns None",
    "sampler": "an optuna sampler or None: OptunaSearch's own check",
    "pruning": "a name, an optuna pruner or a tunekit.Pruning: resolve_pruner",
    "storage": "None, a database URL or an optuna storage: check_storage",
    "dtype": "a dtype name or a NumPy dtype: NumPy's own check",
    "dataframe": "a pandas.DataFrame of file names: DataFrameIterator's check",
    "x_col": "a column of the dataframe: checked against its columns",
    "y_col": "a column (or list of columns) of the dataframe, per class_mode",
    "weight_col": "a numeric column of the dataframe: checked against it",
    "labels": '"inferred", None or one int label per file: Keras 3\'s checks',
    "class_names": "class subfolder names, compared with the folder",
    "image_size": "an int or a (height, width) pair: check_target_size",
    # name.parameter: exempt for that entry point only
    "image_dataset_from_directory.label_mode": "Keras 3's wording, word for word",
    "image_dataset_from_directory.format": "Keras 3's wording; 'grain' has a hint",
}
#: Public names that are no entry point a user passes simple values to.
NOT_ENTRY_POINTS = {
    "HyperbandSchedule": "a record hyperband_schedule returns",
    "SearchSummary": "a record summarize returns",
    "LabelReport": "a record label_report returns",
    "CollapseDiagnosis": "a record diagnose_collapse returns",
    "PruningHistory": "the record a Pruning rule receives from the tuner",
    "Pruning": "an abstract base class without parameters",
    "Iterator": "the iterators' base class",
    "DirectoryIterator": "built by flow_from_directory (same parameters)",
    "NumpyArrayIterator": "built by ImageDataGenerator.flow",
    "DataFrameIterator": "built by ImageDataGenerator.flow_from_dataframe",
}

_Y = np.array([0, 1, 1, 0])
_CNN = {"input_shape": (8, 8, 1), "num_classes": 3}


def _build(hp: Any) -> Any:  # never called: the checks come first
    raise AssertionError("built before the arguments were checked")


def _build_estimator(n_features_in_: int = 3) -> Any:
    raise AssertionError("built before the arguments were checked")


def _tuner_class(name: str):
    return lambda tmp, kw: getattr(tunekit, name)(
        _build, "val_accuracy", **{"directory": str(tmp), **kw}
    )


def _factory(name: str, budget: str):
    return lambda tmp, kw: getattr(tunekit, name)(
        _build, "val_accuracy", **{"directory": str(tmp), budget: 2, **kw}
    )


def _estimator(name: str):
    def call(tmp, kw):
        estimator = getattr(tunekit, name)(build_fn=_build_estimator, **kw)
        estimator.fit(np.zeros((4, 3), dtype="float32"), _Y)

    return call


def _median_pruning(tmp, kw):
    rule = tunekit.MedianPruning(**kw)  # stored; checked by the tuner it joins
    tunekit.random_search(
        _build, "val_accuracy", max_trials=2, directory=str(tmp), pruning=rule
    )


def _call(name: str, *args: Any, **base: Any):
    """Call ``tunekit.name(*args, **base)`` with the bad value on top."""
    return lambda tmp, kw: getattr(tunekit, name)(*args, **{**base, **kw})


def _loader(name: str, make_base: Any = dict):
    """Call an image loader on a folder that is never read (checks come first).

    ``name`` is a function of tunekit or "ImageDataGenerator.method";
    ``make_base()`` gives the other arguments it needs.
    """

    def call(tmp, kw):
        owner, _, method = name.partition(".")
        loader = getattr(tunekit, owner)
        if method:
            loader = getattr(loader(), method)
        loader(**{"directory": tmp / "never-read", **make_base(), **kw})

    return call


def _flow(tmp, kw):
    images = np.zeros((4, 8, 8, 1), dtype="float32")
    tunekit.ImageDataGenerator(data_format="channels_last").flow(images, **kw)


def _dataframe() -> dict[str, Any]:
    import pandas as pd

    table = pd.DataFrame({"filename": ["a.png", "b.png"], "class": ["a", "b"]})
    return {"dataframe": table}


#: name -> how to call it with a bad value ``kw``; None: every parameter exempt
CALLS = {
    "build_cnn_hypermodel": _call("build_cnn_hypermodel", **_CNN),
    "CNNHyperModel": _call("CNNHyperModel", **_CNN),
    "validate_objective": _call("validate_objective", "val_loss"),
    "metric_direction": None,
    "hyperband": _factory("hyperband", "max_epochs"),
    "random_search": _factory("random_search", "max_trials"),
    "bayesian_optimization": _factory("bayesian_optimization", "max_trials"),
    "Hyperband": _tuner_class("Hyperband"),
    "RandomSearch": _tuner_class("RandomSearch"),
    "BayesianOptimization": _tuner_class("BayesianOptimization"),
    "OptunaSearch": _tuner_class("OptunaSearch"),
    "optuna_search": _factory("optuna_search", "max_trials"),
    "hyperband_schedule": _call("hyperband_schedule", max_epochs=2),
    "summarize": _call("summarize", None),
    "MedianPruning": _median_pruning,
    "refit_best": _call("refit_best", None, None),
    "load_class_names": None,
    "KerasClassifier": _estimator("KerasClassifier"),
    "KerasRegressor": _estimator("KerasRegressor"),
    "check_same_classes": None,
    "class_weights": _call("class_weights", _Y),
    "sample_weights": _call("sample_weights", _Y, {0: 1.0, 1: 2.0}),
    "label_report": None,
    "diagnose_collapse": _call("diagnose_collapse", _Y, _Y),
    "check_model_labels": None,
    "ImageDataGenerator": _call("ImageDataGenerator"),
    "ImageDataGenerator.flow": _flow,
    "ImageDataGenerator.flow_from_directory": _loader(
        "ImageDataGenerator.flow_from_directory"
    ),
    "ImageDataGenerator.flow_from_dataframe": _loader(
        "ImageDataGenerator.flow_from_dataframe", _dataframe
    ),
    "flow_from_directory": _loader("flow_from_directory"),
    "image_dataset_from_directory": _loader("image_dataset_from_directory"),
}
#: Public methods taking simple values: "Class.method" entries of CALLS.
METHODS = [name for name in CALLS if "." in name]


def _public_callables() -> list[str]:
    names = []
    for name in tunekit.__all__:
        value = getattr(tunekit, name)
        if name.startswith("_") or not callable(value):
            continue
        if inspect.isclass(value) and issubclass(value, BaseException):
            continue  # the exception classes
        names.append(name)
    return names


def _resolve(name: str) -> Any:
    """``tunekit.name``, or a method for "Class.method"."""
    owner, _, method = name.partition(".")
    value = getattr(tunekit, owner)
    return getattr(value, method) if method else value


def _signature_of(name: str) -> inspect.Signature:
    value = _resolve(name)
    return inspect.signature(value.__init__ if inspect.isclass(value) else value)


def _table_of(name: str) -> dict[str, Any]:
    value = _resolve(name)
    return dict(getattr(value, "_parameter_constraints", {}))


def _parameters(name: str) -> list[str]:
    return [
        p.name
        for p in _signature_of(name).parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]


def test_every_public_callable_is_listed():
    unlisted = set(_public_callables()) - set(CALLS) - set(NOT_ENTRY_POINTS)
    assert not unlisted, f"add {sorted(unlisted)} to CALLS (or NOT_ENTRY_POINTS)"


def test_every_flow_method_is_listed():
    flows = [
        f"ImageDataGenerator.{name}"
        for name in vars(tunekit.ImageDataGenerator)
        if name.startswith("flow")
    ]
    assert len(flows) == 3 and not set(flows) - set(METHODS), flows


def _cases():
    for name in [*_public_callables(), *METHODS]:
        if name in NOT_ENTRY_POINTS or name not in CALLS:
            continue
        for parameter in _parameters(name):
            yield pytest.param(name, parameter, id=f"{name}-{parameter}")


@pytest.mark.parametrize(("name", "parameter"), list(_cases()))
def test_every_public_parameter_refuses_a_bad_value_in_one_wording(
    name, parameter, tmp_path
):
    table = _table_of(name)
    if parameter not in table:
        assert parameter in EXEMPT or f"{name}.{parameter}" in EXEMPT, (
            f"{name}({parameter}=) has no constraint: declare it in the "
            "_parameter_constraints table of its module (docs/architecture.md)"
        )
        return
    bad = invalid_value(table[parameter])
    call = CALLS[name]
    with pytest.raises(InvalidParameterError) as caught:
        call(tmp_path, {parameter: bad})
    message = str(caught.value)
    assert f"`{parameter}`" in message and f"Received: {parameter}=" in message, message
    assert f"must be {describe(table[parameter])}" in message, message
    assert not any(tmp_path.iterdir())  # refused before anything was written


def test_a_loader_flag_takes_keras_2s_zero_and_one_but_nothing_else():
    from tunekit._constraints import FLAG, satisfies

    for good in (True, False, 0, 1, np.bool_(True)):
        assert satisfies(FLAG, good)
    for bad in (2, -1, "yes", None, 0.5):
        assert not satisfies(FLAG, bad)
    generator = tunekit.ImageDataGenerator(horizontal_flip=1, rescale=1 / 255)
    assert generator.horizontal_flip
    with pytest.raises(InvalidParameterError, match="`vertical_flip` must be True"):
        tunekit.ImageDataGenerator(vertical_flip="yes")
