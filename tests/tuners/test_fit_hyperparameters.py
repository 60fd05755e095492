"""Fit arguments as hyperparameters: they really reach ``fit``; bad ones fail early."""

from __future__ import annotations

import functools
import math

import keras
import keras_tuner
import numpy as np
import pytest

import tunekit
from tunekit import InvalidParameterError
from tunekit.tuners._trial_records import load_record


@pytest.fixture(scope="module")
def flat(digits):
    x, y = digits
    x = x.reshape(len(x), -1)
    return x[:120], y[:120], x[120:160], y[120:160]


def _model(hp):
    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(10, activation="softmax")]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"],
                  run_eagerly=True)  # fmt: skip
    return model


def build_with_batch_size(hp):
    hp.Choice("batch_size", [30, 60])
    hp.Int("units", 1, 4)  # enough combinations for distinct trials
    return _model(hp)


class StepSpy(keras.callbacks.Callback):
    """Steps per epoch and epochs of every fit, across KerasTuner's copies."""

    fits: list[dict] = []

    def on_train_begin(self, logs=None):
        type(self).fits.append({"steps": self.params["steps"], "epochs": 0})

    def on_epoch_end(self, epoch, logs=None):
        type(self).fits[-1]["epochs"] += 1


@pytest.fixture(autouse=True)
def _reset():
    StepSpy.fits = []


def _trials(tuner):
    return [tuner.oracle.trials[i] for i in tuner.oracle.start_order]


def test_tuned_batch_size_in_the_build_function_reaches_fit(tmp_path, flat):
    x, y, vx, vy = flat
    tuner = tunekit.RandomSearch(
        build_with_batch_size, "val_accuracy", max_trials=4, seed=1,
        directory=tmp_path, verbose=False,
    )  # fmt: skip
    tuner.search(x, y, validation_data=(vx, vy), epochs=1, callbacks=[StepSpy()],
                 verbose=0)  # fmt: skip
    trials = _trials(tuner)
    sizes = [t.hyperparameters.values["batch_size"] for t in trials]
    assert set(sizes) == {30, 60}  # both values were tried
    assert [f["steps"] for f in StepSpy.fits] == [math.ceil(120 / s) for s in sizes]
    for trial, size in zip(trials, sizes):
        assert load_record(tuner, trial.trial_id).fit_arguments == {"batch_size": size}


def test_fit_hyperparameters_keyword_tunes_batch_size_and_epochs(tmp_path, flat):
    x, y, vx, vy = flat
    tuner = tunekit.random_search(
        _model, "val_accuracy", max_trials=3, seed=0, directory=tmp_path,
        verbose=False, fit_hyperparameters={"batch_size": [40, 120], "epochs": (1, 2)},
    )  # fmt: skip
    assert {"batch_size", "epochs"} <= {
        hp.name for hp in tuner.oracle.get_space().space
    }
    tuner.search(x, y, validation_data=(vx, vy), callbacks=[StepSpy()], verbose=0)
    for trial, fit in zip(_trials(tuner), StepSpy.fits):
        values = trial.hyperparameters.values
        assert fit == {"steps": math.ceil(120 / values["batch_size"]),
                       "epochs": values["epochs"]}  # fmt: skip
        assert load_record(tuner, trial.trial_id).epochs_trained == values["epochs"]


def test_class_weight_strategy_and_shuffle_reach_fit(tmp_path, flat, monkeypatch):
    x, y, vx, vy = flat
    seen = []
    original = keras.Model.fit

    @functools.wraps(original)
    def spy(self, *args, **kwargs):
        seen.append({k: kwargs.get(k) for k in ("class_weight", "shuffle")})
        return original(self, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    tuner = tunekit.RandomSearch(
        _model, "val_accuracy", max_trials=4, seed=0, directory=tmp_path,
        verbose=False,
        fit_hyperparameters={"class_weight": ["none", "balanced"],
                             "shuffle": [True, False]},
    )  # fmt: skip
    tuner.search(x, y, validation_data=(vx, vy), epochs=1, verbose=0)
    balanced = dict(tunekit.class_weights(y, strategy="balanced"))
    for trial, kwargs in zip(_trials(tuner), seen):
        values = trial.hyperparameters.values
        assert kwargs["shuffle"] is values["shuffle"]
        if values["class_weight"] == "balanced":
            assert kwargs["class_weight"] == pytest.approx(balanced)
        else:
            assert kwargs["class_weight"] is None


def test_a_custom_fit_that_tunes_batch_size_itself_is_left_alone(tmp_path, flat):
    x, y, vx, vy = flat

    class Model(keras_tuner.HyperModel):  # KerasTuner's documented pattern
        def build(self, hp):
            return _model(hp)

        def fit(self, hp, model, *args, **kwargs):
            return model.fit(*args, batch_size=hp.Choice("batch_size", [40, 60]),
                             **kwargs)  # fmt: skip

    tuner = tunekit.RandomSearch(Model(), "val_accuracy", max_trials=2, seed=0,
                                 directory=tmp_path, verbose=False)  # fmt: skip
    tuner.search(x, y, validation_data=(vx, vy), epochs=1, callbacks=[StepSpy()],
                 verbose=0)  # fmt: skip
    assert all(t.status == "COMPLETED" for t in _trials(tuner))


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"batchsize": [32]}, "Did you mean 'batch_size'"),
        ({"batch_size": [0, 32]}, "an integer >= 1"),
        ({"batch_size": []}, "non-empty"),
        ({"class_weight": ["balanced", "bogus"]}, "strategy of tunekit.class_weights"),
        ({"shuffle": ["yes"]}, "True or False"),
        ([("batch_size", [32])], "a dict"),
        ({"batch_size": {"min": 1}}, "a list of values"),
    ],
)
def test_bad_fit_hyperparameters_fail_at_construction(tmp_path, spec, match):
    with pytest.raises(InvalidParameterError, match=match):
        tunekit.RandomSearch(_model, "val_accuracy", max_trials=2,
                             directory=tmp_path, verbose=False,
                             fit_hyperparameters=spec)  # fmt: skip


def test_tuning_twice_or_against_search_arguments_fails_before_training(tmp_path, flat):
    x, y, vx, vy = flat
    with pytest.raises(InvalidParameterError, match="one place only"):
        tunekit.RandomSearch(
            build_with_batch_size, "val_accuracy", max_trials=2, directory=tmp_path,
            project_name="a", verbose=False, fit_hyperparameters={"batch_size": [8]},
        )  # fmt: skip
    tuner = tunekit.RandomSearch(
        build_with_batch_size, "val_accuracy", max_trials=2, directory=tmp_path,
        project_name="b", verbose=False,
    )  # fmt: skip
    with pytest.raises(InvalidParameterError, match="Drop `batch_size=`"):
        tuner.search(x, y, validation_data=(vx, vy), batch_size=16, verbose=0)
    assert len(tuner.oracle.trials) == 0


def test_hyperband_keeps_control_of_epochs(tmp_path):
    with pytest.raises(InvalidParameterError, match="Hyperband decides"):
        tunekit.Hyperband(
            _model,
            "val_accuracy",
            max_epochs=3,
            directory=tmp_path,
            verbose=False,
            fit_hyperparameters={"epochs": [2, 3]},
        )

    def build_epochs(hp):
        hp.Int("epochs", 1, 3)
        return _model(hp)

    with pytest.raises(InvalidParameterError, match="max_epochs"):
        tunekit.hyperband(
            build_epochs,
            "val_accuracy",
            max_epochs=3,
            directory=tmp_path,
            project_name="h",
            verbose=False,
        )
    # other fit arguments are fine under Hyperband
    tuner = tunekit.Hyperband(
        _model,
        "val_accuracy",
        max_epochs=2,
        directory=tmp_path,
        project_name="ok",
        verbose=False,
        fit_hyperparameters={"batch_size": [16, 32]},
    )
    assert "batch_size" in tuner.oracle.get_space()


def test_tuned_class_weight_needs_labels(tmp_path, flat):
    x, y, vx, vy = flat
    tuner = tunekit.RandomSearch(
        _model, "val_loss", max_trials=2, directory=tmp_path, verbose=False,
        fit_hyperparameters={"class_weight": ["balanced"]},
    )  # fmt: skip

    def batches():
        while True:
            yield x[:8], y[:8]

    with pytest.raises(InvalidParameterError, match="labels"):
        tuner.search(
            batches(), steps_per_epoch=2, epochs=1, verbose=0, validation_data=(vx, vy)
        )
    assert len(tuner.oracle.trials) == 0
    assert np.all(y >= 0)
