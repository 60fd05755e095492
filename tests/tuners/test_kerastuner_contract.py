"""tunekit's tuners are KerasTuner's tuners: the behaviours KerasTuner promises.

KerasTuner's own tests (keras_tuner/src/tuners/*_test.py and
keras_tuner/src/engine/tuner_test.py) are the contract; these are tunekit's
own tests of each behaviour, with ``tunekit.Hyperband``,
``tunekit.BayesianOptimization`` and ``tunekit.RandomSearch`` in place of the
KerasTuner classes. Where tunekit deliberately refuses a silent mistake, the
test says so (docs/tuners.md lists those exceptions).
"""

from __future__ import annotations

import inspect
import io
import os
from contextlib import redirect_stdout
from pathlib import Path

import keras
import keras_tuner
import numpy as np
import pytest
from keras_tuner.src.engine import tuner_utils

import tunekit
from tunekit import InvalidParameterError, ObjectiveError, StaleProjectError

# Two-trial searches are deliberate (speed); the budget warning is tested elsewhere.
pytestmark = pytest.mark.filterwarnings("ignore:The search runs:UserWarning")


@pytest.fixture(scope="module")
def data(digits):
    """Real digits, flattened: 160 training and 80 validation samples."""
    x, y = digits
    x = x.reshape(len(x), -1)
    return x[:160], y[:160], x[160:240], y[160:240]


def build(hp):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Int("units", 4, 12, step=4), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Choice("lr", [1e-2, 3e-3])),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=True,  # tiny data: eager is faster than tracing
    )
    return model


class Bowl(keras_tuner.HyperModel):
    """A HyperModel whose ``fit`` returns a float: no Keras training at all."""

    def build(self, hp):
        return build(hp)

    def fit(self, hp, model, *args, **kwargs):
        return float((hp.get("units") - 8) ** 2)


def search(tuner, data, **kwargs):
    x, y, xv, yv = data
    kwargs.setdefault("epochs", 1)
    tuner.search(x, y, validation_data=(xv, yv), verbose=0, **kwargs)
    return tuner


def _random(tmp_path, objective="val_accuracy", **kwargs):
    kwargs.setdefault("max_trials", 2)
    kwargs.setdefault("verbose", False)
    return tunekit.RandomSearch(build, objective, directory=tmp_path, **kwargs)


# --------------------------------------------------------------------------
# the classes
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "ours, theirs",
    [
        ("Hyperband", keras_tuner.Hyperband),
        ("BayesianOptimization", keras_tuner.BayesianOptimization),
        ("RandomSearch", keras_tuner.RandomSearch),
    ],
)
def test_public_classes_subclass_kerastuner_with_its_signature(ours, theirs):
    cls = getattr(tunekit, ours)
    assert issubclass(cls, theirs)
    assert cls.__name__ == ours
    assert f"{cls.__module__}.{cls.__qualname__}" == f"tunekit.{ours}"
    our_params = inspect.signature(cls).parameters
    their_params = inspect.signature(theirs).parameters
    named = [n for n, p in their_params.items() if p.kind is not p.VAR_KEYWORD]
    positional = [n for n, p in our_params.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == named  # same order, so positional calls mean the same
    for name in named:
        assert our_params[name].default == their_params[name].default, name
    assert "verbose" in our_params


def test_factories_return_the_public_classes(tmp_path):
    hb = tunekit.hyperband(build, max_epochs=2, directory=tmp_path, project_name="h")
    bo = tunekit.bayesian_optimization(
        build, max_trials=4, num_initial_points=2, directory=tmp_path, project_name="b"
    )
    rs = tunekit.random_search(
        build, max_trials=2, directory=tmp_path, project_name="r"
    )
    assert type(hb) is tunekit.Hyperband
    assert type(bo) is tunekit.BayesianOptimization
    assert type(rs) is tunekit.RandomSearch
    assert repr(rs).startswith("<tunekit.RandomSearch object")
    assert "<locals>" not in repr(hb)


def test_positional_arguments_and_attributes_follow_kerastuner(tmp_path):
    tuner = tunekit.RandomSearch(
        build,
        "val_accuracy",
        3,
        executions_per_trial=2,
        max_model_size=10_000,
        directory=tmp_path,
        verbose=False,
    )
    assert tuner.oracle.objective.name == "val_accuracy"
    assert tuner.oracle.max_trials == 3
    assert tuner.executions_per_trial == 2
    assert tuner.max_model_size == 10_000
    assert tuner.directory == tmp_path  # KerasTuner keeps what it was given
    assert isinstance(tuner.directory, Path)
    assert tuner.project_name == "untitled_project"
    assert tuner.hypermodel.__class__.__name__ == "DefaultHyperModel"
    assert sorted(p.name for p in tuner.oracle.hyperparameters.space) == [
        "lr",
        "units",
    ]
    hb = tunekit.Hyperband(build, "val_loss", 4, 2, directory=tmp_path, verbose=False)
    assert (hb.oracle.max_epochs, hb.oracle.factor) == (4, 2)


def test_unknown_constructor_argument_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="Did you mean 'max_model_size'"):
        tunekit.RandomSearch(build, max_trials=2, max_model_sizes=3, directory=tmp_path)
    with pytest.raises(ValueError, match="Hyperband has no `max_trials`"):
        tunekit.Hyperband(build, max_trials=2, directory=tmp_path)
    assert os.listdir(tmp_path) == []


@pytest.mark.slow
def test_search_and_results_api(tmp_path, data):
    tuner = search(_random(tmp_path, max_trials=3), data)
    assert len(tuner.oracle.trials) == 3
    models = tuner.get_best_models(2)
    assert len(models) == 2 and all(isinstance(m, keras.Model) for m in models)
    best_trial = tuner.oracle.get_best_trials(1)[0]
    _, _, xv, yv = data
    score = models[0].evaluate(xv, yv, verbose=0, return_dict=True)["accuracy"]
    assert score == pytest.approx(best_trial.score, abs=1e-6)
    best_hp = tuner.get_best_hyperparameters(2)
    assert best_hp[0].values == best_trial.hyperparameters.values
    assert isinstance(tuner.load_model(best_trial), keras.Model)
    state = tuner.oracle.get_state()
    assert {"ongoing_trials", "tried_so_far", "seed"} <= set(state)
    out = io.StringIO()
    with redirect_stdout(out):
        tuner.results_summary(1)
        tuner.search_space_summary()
    assert "Results summary" in out.getvalue()
    assert "Search space summary" in out.getvalue()


def test_search_with_verbose_0_prints_nothing(tmp_path, data):
    tuner = _random(tmp_path)
    out = io.StringIO()
    with redirect_stdout(out):
        search(tuner, data)
    assert out.getvalue().strip() == ""
    assert len(tuner.oracle.trials) == 2


def test_multi_objective(tmp_path, data):
    tuner = search(_random(tmp_path, ["val_accuracy", "val_loss"]), data)
    assert tuner.oracle.objective.name == "multi_objective"
    assert all(t.status == "COMPLETED" for t in tuner.oracle.trials.values())


@pytest.mark.slow
def test_compile_overrides_reach_the_models(tmp_path, data):
    tuner = tunekit.RandomSearch(
        build,
        "val_mse",
        max_trials=1,
        loss="mse",
        optimizer="rmsprop",
        metrics=["mse"],
        directory=tmp_path,
        verbose=False,
    )
    x, y, xv, yv = data
    y1, yv1 = np.eye(10)[y], np.eye(10)[yv]
    tuner.search(x, y1, validation_data=(xv, yv1), epochs=1, verbose=0)
    model = tuner.get_best_models()[0]
    assert model.loss == "mse"
    assert type(model.optimizer).__name__ == "RMSprop"


# --------------------------------------------------------------------------
# objective=None, custom run_trial and HyperModel.fit
# --------------------------------------------------------------------------


def test_objective_none_with_a_fit_that_returns_a_float(tmp_path):
    tuner = tunekit.RandomSearch(
        Bowl(), max_trials=3, seed=3, directory=tmp_path, verbose=False
    )
    assert tuner.oracle.objective.name == "default_objective"  # never val_accuracy
    tuner.search()
    scores = [t.score for t in tuner.oracle.trials.values()]
    assert len(scores) == 3
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score == min(scores)  # KerasTuner minimizes a bare float


def test_objective_none_with_run_trial_returning_a_float(tmp_path):
    class Quadratic(tunekit.BayesianOptimization):
        def run_trial(self, trial, *args, **kwargs):
            x = trial.hyperparameters.Float("x", -2.0, 2.0)
            return (x - 1.0) ** 2

    tuner = Quadratic(max_trials=4, num_initial_points=2, directory=tmp_path)
    tuner.search()
    assert len(tuner.oracle.trials) == 4
    assert all(t.status == "COMPLETED" for t in tuner.oracle.trials.values())


def test_no_hypermodel_with_run_trial_returning_a_dict(tmp_path):
    class Tuned(tunekit.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            value = trial.hyperparameters.Float("value", 0, 10)
            return {"val_loss": value}

    tuner = Tuned(objective="val_loss", max_trials=3, directory=tmp_path)
    tuner.search()
    assert len(tuner.oracle.trials) == 3
    assert all(t.status == "COMPLETED" for t in tuner.oracle.trials.values())


def test_objective_none_with_the_default_fit_is_refused_before_training(tmp_path, data):
    tuner = tunekit.RandomSearch(build, max_trials=2, directory=tmp_path)
    with pytest.raises(ObjectiveError, match="objective='val_loss'") as info:
        search(tuner, data)
    assert isinstance(info.value, keras_tuner.errors.FatalTypeError)
    assert isinstance(info.value, TypeError)  # what KerasTuner raises later
    assert len(tuner.oracle.trials) == 0


def test_objective_none_with_a_dict_result_is_kerastuners_type_error(tmp_path):
    class Tuned(tunekit.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            return {"val_loss": trial.hyperparameters.Float("value", 0, 10)}

    tuner = Tuned(max_trials=2, directory=tmp_path)
    with pytest.raises(TypeError, match=r"run_trial\(\) to be a single float"):
        tuner.search()


def test_run_trial_returning_a_string_is_kerastuners_type_error(tmp_path):
    class Tuned(tunekit.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            return trial.hyperparameters.Choice("value", ["a", "b"])

    tuner = Tuned(objective="val_loss", max_trials=2, directory=tmp_path)
    with pytest.raises(TypeError, match=r"run_trial\(\) to be one of"):
        tuner.search()


def test_no_hypermodel_needs_an_overridden_run_trial(tmp_path):
    with pytest.raises(ValueError, match="Received `hypermodel=None`"):
        tunekit.RandomSearch(max_trials=2, directory=tmp_path)


def test_a_custom_fit_gets_the_search_arguments(tmp_path, data):
    seen = []

    class Shuffled(keras_tuner.HyperModel):
        def build(self, hp):
            return build(hp)

        def fit(self, hp, model, *args, **kwargs):
            seen.append(sorted(kwargs))
            return model.fit(*args, shuffle=hp.Boolean("shuffle"), **kwargs)

    tuner = tunekit.RandomSearch(
        Shuffled(), "val_accuracy", max_trials=2, directory=tmp_path, verbose=False
    )
    search(tuner, data)
    assert "shuffle" in tuner.oracle.hyperparameters
    assert seen and {"callbacks", "epochs", "validation_data"} <= set(seen[0])


@pytest.mark.slow
def test_overriding_build_and_fit_model_keeps_callbacks(tmp_path, data):
    calls = []

    class Watched(tunekit.RandomSearch):
        def _build_and_fit_model(self, trial, *args, **kwargs):
            calls.append(kwargs["callbacks"])
            return super()._build_and_fit_model(trial, *args, **kwargs)

    tuner = Watched(
        build,
        "val_accuracy",
        max_trials=1,
        executions_per_trial=2,
        directory=tmp_path,
        verbose=False,
    )
    search(tuner, data, callbacks=[keras.callbacks.EarlyStopping(patience=2)])
    assert len(calls) == 2  # one per execution
    # KerasTuner's own callbacks (tunekit's are subclasses of them) and the user's
    for kind in (
        keras.callbacks.EarlyStopping,
        tuner_utils.TunerCallback,
        tuner_utils.SaveBestEpoch,
    ):
        assert any(isinstance(c, kind) for c in calls[0]), kind


@pytest.mark.slow
def test_each_execution_gets_its_own_callback_copies(tmp_path, data):
    instances = set()

    class Recorder(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            instances.add(id(self))

    tuner = _random(tmp_path, executions_per_trial=2)
    search(tuner, data, callbacks=[Recorder()])
    assert len(instances) == 4  # 2 trials x 2 executions, never the original


# --------------------------------------------------------------------------
# errors: the types KerasTuner raises, tunekit's messages
# --------------------------------------------------------------------------


def test_build_returning_none_is_a_build_error_not_an_objective_one(tmp_path, data):
    def forgot_return(hp):
        build(hp)  # no `return`

    tuner = tunekit.RandomSearch(
        forgot_return, "val_accuracy", max_trials=2, directory=tmp_path
    )
    with pytest.raises(InvalidParameterError, match="return a valid Keras Model"):
        search(tuner, data)
    with pytest.raises(keras_tuner.errors.FatalTypeError):
        search(tuner, data)
    assert len(tuner.oracle.trials) == 0


class Unpicklable(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.handle = io.StringIO()  # deepcopy of a StringIO works; a lock does not
        import threading

        self.lock = threading.Lock()


def test_uncopyable_callback_is_kerastuners_fatal_value_error(tmp_path, data):
    tuner = _random(tmp_path)
    with pytest.raises(InvalidParameterError, match="cannot be deep-copied") as info:
        search(tuner, data, callbacks=[Unpicklable()])
    assert isinstance(info.value, keras_tuner.errors.FatalValueError)
    assert len(tuner.oracle.trials) == 0
    # The same type when KerasTuner's run_trial is called directly.
    x, y, _, _ = data
    trial = tuner.oracle.create_trial("tuner0")
    with pytest.raises(keras_tuner.errors.FatalValueError, match="deep-copy"):
        tuner.run_trial(trial, x, y, epochs=1, callbacks=[Unpicklable()])


@pytest.mark.slow
def test_stale_project_is_also_kerastuners_runtime_error(tmp_path, data):
    search(_random(tmp_path), data)
    with pytest.raises(RuntimeError, match="pass `overwrite=True`") as info:
        tunekit.BayesianOptimization(
            build, "val_accuracy", max_trials=2, directory=tmp_path
        )
    assert isinstance(info.value, StaleProjectError)
    assert isinstance(info.value, ValueError)  # as before


def test_objective_typo_gets_a_did_you_mean(tmp_path):
    with pytest.raises(ObjectiveError, match="Did you mean 'val_accuracy'"):
        tunekit.RandomSearch(build, "val_acuracy", max_trials=2, directory=tmp_path)
    with pytest.raises(ValueError, match="Could not infer optimization direction"):
        tunekit.RandomSearch(build, "custom_metric", max_trials=2, directory=tmp_path)
    assert os.listdir(tmp_path) == []


def test_a_model_instance_is_not_a_hypermodel(tmp_path):
    model = build(keras_tuner.HyperParameters())
    with pytest.raises(InvalidParameterError, match="not a model instance"):
        tunekit.RandomSearch(model, "val_accuracy", max_trials=2, directory=tmp_path)
    assert os.listdir(tmp_path) == []


def test_a_directory_that_is_a_file(tmp_path):
    path = tmp_path / "results.txt"
    path.write_text("mine")
    with pytest.raises(InvalidParameterError, match="is an existing file"):
        tunekit.Hyperband(build, "val_loss", max_epochs=2, directory=path)
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "p").write_text("mine too")
    with pytest.raises(InvalidParameterError, match="`project_name`"):
        tunekit.RandomSearch(
            build,
            "val_loss",
            max_trials=2,
            directory=tmp_path / "dir",
            project_name="p",
        )
    assert path.read_text() == "mine"
    assert sorted(os.listdir(tmp_path)) == ["dir", "results.txt"]


def test_oversized_models_fail_their_trials(tmp_path, data):
    tuner = _random(tmp_path, max_model_size=10, max_trials=3)
    with pytest.raises(RuntimeError, match="Oversized model"):
        search(tuner, data)


# --------------------------------------------------------------------------
# search spaces, projects, Hyperband
# --------------------------------------------------------------------------


def test_a_fixed_search_space(tmp_path, data):
    hp = keras_tuner.HyperParameters()
    hp.Int("units", 4, 8, step=4)
    hp.Choice("lr", [1e-2, 3e-3])
    tuner = _random(tmp_path, hyperparameters=hp, allow_new_entries=False)
    assert tuner.oracle.hyperparameters == hp
    search(tuner, data)
    assert {t.hyperparameters.get("units") for t in tuner.oracle.trials.values()} <= {
        4,
        8,
    }


def test_new_entries_refused_when_not_allowed(tmp_path, data):
    hp = keras_tuner.HyperParameters()
    hp.Int("units", 4, 8, step=4)
    with pytest.raises(RuntimeError, match="`allow_new_entries` is `False`"):
        tuner = _random(tmp_path, hyperparameters=hp, allow_new_entries=False)
        search(tuner, data)


def test_new_entries_untuned_use_their_defaults(tmp_path, data):
    hp = keras_tuner.HyperParameters()
    hp.Choice("lr", [1e-2, 3e-3])
    tuner = _random(tmp_path, hyperparameters=hp, tune_new_entries=False, max_trials=3)
    assert [p.name for p in tuner.oracle.hyperparameters.space] == ["lr"]
    search(tuner, data)
    assert [p.name for p in tuner.oracle.hyperparameters.space] == ["lr"]
    for trial in tuner.oracle.trials.values():
        assert trial.hyperparameters.get("units") == 4  # the default


@pytest.mark.slow
def test_reload_and_resume_with_a_larger_budget(tmp_path, data):
    search(_random(tmp_path, max_trials=2), data)
    again = _random(tmp_path, max_trials=2)
    again.reload()
    assert len(again.oracle.trials) == 2
    more = _random(tmp_path, max_trials=3)
    search(more, data)
    assert len(more.oracle.trials) == 3


def test_resumed_search_numbers_every_trial_as_kerastuner_does(tmp_path, data):
    x, y, xv, yv = data
    for max_trials in (2, 3):  # the second search resumes the first one's project
        tuner = _random(tmp_path, max_trials=max_trials)
        tuner.search(x, y, validation_data=(xv, yv), epochs=1)  # tunekit's display
    numbers = tuner.oracle._display.trial_number
    assert len(tuner.oracle.trials) == len(numbers) == 3
    assert sorted(numbers.values()) == [1, 2, 3]


def test_overwrite_true_starts_afresh(tmp_path, data):
    search(_random(tmp_path), data)
    fresh = _random(tmp_path, overwrite=True)
    assert len(fresh.oracle.trials) == 0


@pytest.mark.slow
def test_hyperband_continues_trials_from_their_checkpoint(tmp_path, data):
    tuner = tunekit.Hyperband(
        build, "val_loss", max_epochs=2, factor=2, directory=tmp_path, verbose=False
    )
    x, y, xv, yv = data
    tuner.search(x, y, validation_data=(xv, yv), verbose=0)
    continued = [
        t
        for t in tuner.oracle.trials.values()
        if "tuner/trial_id" in t.hyperparameters.values
    ]
    assert continued, "Hyperband's second round continues a first-round trial"
    trial = continued[0]
    assert trial.hyperparameters.get("tuner/epochs") == 2
    assert trial.hyperparameters.get("tuner/initial_epoch") == 1
    best = tuner.oracle.get_best_trials(1)[0]
    model = tuner.get_best_models(1)[0]
    loss = model.evaluate(xv, yv, verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(best.score, rel=1e-5)


def test_bayesian_optimization_runs_its_gaussian_process(tmp_path, data):
    tuner = tunekit.BayesianOptimization(
        Bowl(),
        max_trials=5,
        num_initial_points=2,
        alpha=1e-3,
        beta=3.0,
        seed=0,
        directory=tmp_path,
        verbose=False,
    )
    assert (tuner.oracle.alpha, tuner.oracle.beta) == (1e-3, 3.0)
    tuner.search()
    assert len(tuner.oracle.trials) == 5
    assert tuner.oracle.get_best_trials(1)[0].score == 0.0  # units == 8 found
