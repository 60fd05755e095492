"""Tuner factories: static and search-time checks, stale projects, real searches.

Every check must fire before any epoch is trained: the tests pass a callback
that counts epochs (a class attribute, since KerasTuner deep-copies callbacks)
and assert that no trial was created.
"""

from __future__ import annotations

import glob
import json
import os
import threading
import warnings

import keras
import keras_tuner
import pytest

import tunekit
from tunekit import (
    InvalidParameterError,
    LabelMismatchError,
    ObjectiveError,
    SearchFailedError,
    StaleProjectError,
)

# --------------------------------------------------------------------------
# data, models and spies
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flat(digits):
    """Digits as (n, 64) features: 240 training and 120 validation samples."""
    x, y = digits
    x = x.reshape(len(x), -1)
    return x[:240], y[:240], x[240:360], y[240:360]


def build_classifier(hp):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Int("units", 4, 16, step=4), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Choice("lr", [1e-2, 3e-3])),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=True,  # tiny data: eager is faster than tracing a graph
    )
    return model


def build_loss_only(hp):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Int("units", 4, 16, step=4), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", run_eagerly=True
    )
    return model


class EpochSpy(keras.callbacks.Callback):
    """Counts epochs across KerasTuner's deep copies."""

    epochs = 0

    def on_epoch_begin(self, epoch, logs=None):
        type(self).epochs += 1


class Boom(keras.callbacks.Callback):
    """Makes every trial fail after its first epoch."""

    def on_epoch_end(self, epoch, logs=None):
        raise RuntimeError("boom: this trial cannot finish")


@pytest.fixture(autouse=True)
def _reset_spy():
    EpochSpy.epochs = 0
    yield


def _trial_dirs(tuner):
    return glob.glob(os.path.join(tuner.project_dir, "trial_*"))


def assert_nothing_trained(tuner):
    assert EpochSpy.epochs == 0
    assert len(tuner.oracle.trials) == 0
    assert _trial_dirs(tuner) == []


def _random(tmp_path, objective="val_accuracy", build=build_classifier, **kwargs):
    kwargs.setdefault("max_trials", 4)
    return tunekit.random_search(
        build,
        objective,
        directory=tmp_path,
        project_name="p",
        verbose=False,
        **kwargs,
    )


# --------------------------------------------------------------------------
# construction
# --------------------------------------------------------------------------


def test_factories_return_real_kerastuner_tuners(tmp_path):
    hb = tunekit.hyperband(
        build_classifier, max_epochs=3, directory=tmp_path, project_name="h"
    )
    bo = tunekit.bayesian_optimization(
        build_classifier,
        "val_loss",
        max_trials=5,
        num_initial_points=2,
        directory=tmp_path,
        project_name="b",
    )
    rs = tunekit.random_search(
        build_classifier,
        keras_tuner.Objective("val_accuracy", "max"),
        max_trials=4,
        directory=tmp_path,
        project_name="r",
    )
    assert isinstance(hb, keras_tuner.Hyperband)
    assert isinstance(bo, keras_tuner.BayesianOptimization)
    assert isinstance(rs, keras_tuner.RandomSearch)
    assert bo.oracle.objective.direction == "min"
    assert hb.oracle.max_epochs == 3
    assert sorted(p.name for p in rs.oracle.hyperparameters.space) == ["lr", "units"]
    stored = json.loads((tmp_path / "h" / "tunekit.json").read_text())
    assert stored["tuner"] == "hyperband"
    assert stored["objective"] == [["val_accuracy", "max"]]
    assert stored["settings"] == {"max_epochs": 3, "factor": 3}
    assert stored["search_space"]["units"]["max_value"] == 16


@pytest.mark.parametrize(
    "objective, match",
    [
        ("val_my_metric", r'\("val_my_metric", "max"\)'),
        (("val_mae", "maximize"), 'must be "min" or "max"'),
        (keras_tuner.Objective("val_mae", "maximize"), 'must be "min" or "max"'),
        (keras_tuner.Objective("val_f1_score", "min"), "Use direction='max'"),
        ("mean_io_u", None),  # KerasTuner crashes with a TypeError here
    ],
)
@pytest.mark.parametrize("factory", ["hyperband", "bayesian", "random"])
def test_static_objective_checks(tmp_path, factory, objective, match):
    def make():
        common = dict(directory=tmp_path, project_name="p", verbose=False)
        if factory == "hyperband":
            return tunekit.hyperband(
                build_classifier, objective, max_epochs=2, **common
            )
        if factory == "bayesian":
            return tunekit.bayesian_optimization(
                build_classifier, objective, max_trials=9, **common
            )
        return tunekit.random_search(
            build_classifier, objective, max_trials=3, **common
        )

    if match is None:
        assert make().oracle.objective.direction == "max"
        return
    with pytest.raises(ObjectiveError, match=match):
        make()
    assert not (tmp_path / "p").exists()  # nothing was created


def test_unknown_and_misplaced_arguments(tmp_path):
    with pytest.raises(InvalidParameterError, match="Hyperband has no `max_trials`"):
        tunekit.hyperband(build_classifier, max_epochs=2, max_trials=5)
    with pytest.raises(InvalidParameterError, match="Only Hyperband has `max_epochs`"):
        tunekit.random_search(build_classifier, max_trials=2, max_epochs=5)
    with pytest.raises(
        InvalidParameterError, match="Did you mean 'executions_per_trial'"
    ):
        tunekit.random_search(build_classifier, max_trials=2, execution_per_trial=2)
    with pytest.raises(InvalidParameterError, match="`hypermodel` must be"):
        tunekit.random_search(3, max_trials=2)
    with pytest.raises(InvalidParameterError, match="`factor` must be"):
        tunekit.hyperband(build_classifier, max_epochs=2, factor=1)
    with pytest.raises(InvalidParameterError, match="`max_trials` must be"):
        tunekit.random_search(build_classifier, max_trials=0)
    assert not os.path.exists("untitled_project")


def test_budget_warnings(tmp_path):
    with pytest.warns(UserWarning, match="Gaussian process would never run"):
        # 2 hyperparameters -> KerasTuner's default is max(3 * 2, 3) = 6 points
        tunekit.bayesian_optimization(
            build_classifier, max_trials=6, directory=tmp_path, project_name="b"
        )
    with pytest.warns(UserWarning, match="consecutive-failure limit"):
        _random(tmp_path, max_trials=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tunekit.bayesian_optimization(
            build_classifier,
            max_trials=5,
            num_initial_points=2,
            directory=tmp_path,
            project_name="b2",
        )


# --------------------------------------------------------------------------
# search(): every check fires before any epoch is trained
# --------------------------------------------------------------------------


def test_objective_missing_from_logs(tmp_path, flat):
    x, y, xv, yv = flat
    tuner = _random(tmp_path, "val_acc")  # kt PR#202: TF 1.x naming
    with pytest.raises(ObjectiveError, match="Did you mean 'val_accuracy'") as info:
        tuner.search(x, y, epochs=1, validation_data=(xv, yv), callbacks=[EpochSpy()])
    assert "'val_loss'" in str(info.value)  # the full list of logged keys
    assert_nothing_trained(tuner)


def test_accuracy_objective_on_a_loss_only_model(tmp_path, flat):
    # kt#567: objective="accuracy" with a model compiled without metrics.
    x, y, xv, yv = flat
    tuner = _random(tmp_path, "val_accuracy", build=build_loss_only)
    with pytest.raises(ObjectiveError, match=r"The model logs: \['loss', 'val_loss'\]"):
        tuner.search(x, y, epochs=1, validation_data=(xv, yv), callbacks=[EpochSpy()])
    assert_nothing_trained(tuner)


def test_val_objective_needs_validation_data(tmp_path, flat):
    x, y, _, _ = flat
    tuner = _random(tmp_path)
    with pytest.raises(ObjectiveError, match="validation_data"):
        tuner.search(x, y, epochs=1, callbacks=[EpochSpy()])
    with pytest.raises(InvalidParameterError, match="`validation_freq` must be 1"):
        tuner.search(x, y, epochs=2, validation_split=0.2, validation_freq=2)
    assert_nothing_trained(tuner)


def test_multi_output_objective_needs_the_output_prefix(tmp_path, flat):
    x, y, xv, yv = flat

    def build(hp):
        inputs = keras.Input((64,))
        hidden = keras.layers.Dense(hp.Choice("units", [8, 16]), "relu")(inputs)
        outputs = {
            "digit": keras.layers.Dense(10, "softmax", name="digit")(hidden),
            "odd": keras.layers.Dense(1, "sigmoid", name="odd")(hidden),
        }
        model = keras.Model(inputs, outputs)
        model.compile(
            optimizer="adam",
            loss={
                "digit": "sparse_categorical_crossentropy",
                "odd": "binary_crossentropy",
            },
            metrics={"digit": ["accuracy"], "odd": ["accuracy"]},
        )
        return model

    tuner = _random(tmp_path, build=build)
    targets = {"digit": y, "odd": y % 2}
    val = (xv, {"digit": yv, "odd": yv % 2})
    with pytest.raises(
        ObjectiveError, match="'val_digit_accuracy', 'val_odd_accuracy'"
    ):
        tuner.search(x, targets, epochs=1, validation_data=val, callbacks=[EpochSpy()])
    assert_nothing_trained(tuner)


@pytest.mark.parametrize(
    "callback, match",
    [
        (
            keras.callbacks.EarlyStopping(monitor="val_acc"),
            "Did you mean 'val_accuracy'",
        ),
        (
            keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="min"),
            "pass mode='max'",
        ),
        (
            keras.callbacks.ModelCheckpoint(
                "best.weights.h5",
                monitor="val_accuracy",
                mode="min",
                save_best_only=True,
                save_weights_only=True,
            ),
            "pass mode='max'",
        ),
        (keras.callbacks.ReduceLROnPlateau(monitor="val_los"), "does not log"),
        (
            keras.callbacks.EarlyStopping(monitor="val_categorical_crossentropy"),
            "does not log",  # kt#564
        ),
    ],
)
def test_callback_monitors_are_checked(tmp_path, flat, callback, match):
    x, y, xv, yv = flat
    tuner = _random(tmp_path)
    with pytest.raises(InvalidParameterError, match=match):
        tuner.search(
            x, y, epochs=1, validation_data=(xv, yv), callbacks=[EpochSpy(), callback]
        )
    assert_nothing_trained(tuner)


def test_auto_mode_that_keras_cannot_resolve(tmp_path, flat):
    x, y, xv, yv = flat

    def gap(y_true, y_pred):
        return keras.ops.max(y_pred, axis=-1)

    def build(hp):
        model = build_loss_only(hp)
        model.compile(
            optimizer="adam",
            loss="sparse_categorical_crossentropy",
            metrics=[keras.metrics.MeanMetricWrapper(gap, name="gap")],
            run_eagerly=True,
        )
        return model

    tuner = _random(tmp_path, "val_loss", build=build)
    stop = keras.callbacks.EarlyStopping(monitor="val_gap")  # mode="auto"
    with pytest.raises(InvalidParameterError, match="cannot tell whether"):
        tuner.search(
            x, y, epochs=1, validation_data=(xv, yv), callbacks=[EpochSpy(), stop]
        )
    assert_nothing_trained(tuner)


def test_checks_read_a_pydataset(tmp_path, flat):
    x, y, xv, yv = flat

    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return len(x) // 40

        def __getitem__(self, index):
            return x[index * 40 : (index + 1) * 40], y[index * 40 : (index + 1) * 40]

    tuner = _random(tmp_path, "val_sparse_categorical_accuracy")
    with pytest.raises(ObjectiveError, match="Did you mean 'val_accuracy'"):
        tuner.search(Batches(), validation_data=(xv, yv), callbacks=[EpochSpy()])
    assert_nothing_trained(tuner)


def test_callbacks_must_be_deep_copyable(tmp_path, flat):
    x, y, xv, yv = flat

    class Locked(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.lock = threading.Lock()

    tuner = _random(tmp_path)
    with pytest.raises(InvalidParameterError, match="cannot be deep-copied"):
        tuner.search(x, y, epochs=1, validation_data=(xv, yv), callbacks=[Locked()])
    assert_nothing_trained(tuner)


def test_hyperband_rejects_epochs_in_search(tmp_path, flat):
    x, y, xv, yv = flat
    tuner = tunekit.hyperband(
        build_classifier, max_epochs=4, directory=tmp_path, project_name="h"
    )
    with pytest.raises(InvalidParameterError, match=r"`max_epochs` .* is the knob"):
        # kt#212: search(epochs=50) with max_epochs=4 trains at most 4 epochs
        tuner.search(x, y, epochs=50, validation_data=(xv, yv), callbacks=[EpochSpy()])
    assert_nothing_trained(tuner)


def test_model_and_labels_disagree(tmp_path, flat):
    x, y, xv, yv = flat

    def build(hp):
        model = build_classifier(hp)
        model.compile(
            optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"]
        )
        return model

    tuner = _random(tmp_path, build=build)
    with pytest.raises(LabelMismatchError):
        tuner.search(x, y, epochs=1, validation_data=(xv, yv), callbacks=[EpochSpy()])
    assert_nothing_trained(tuner)


def test_early_stopping_patience_against_hyperband_rounds(tmp_path):
    from tunekit.tuners._preflight import _check_patience

    schedule = tunekit.hyperband_schedule(27, 3)  # first round: 1 epoch
    with pytest.warns(UserWarning, match="can never stop"):
        _check_patience(keras.callbacks.EarlyStopping(patience=30), schedule)
    schedule = tunekit.hyperband_schedule(100, 2)  # first round: 2 epochs
    long_first = tunekit.hyperband_schedule(10, 10)  # first round: 1 epoch, then 10
    with pytest.warns(UserWarning, match="before Hyperband's first round"):
        _check_patience(
            keras.callbacks.EarlyStopping(patience=0),
            tunekit.hyperband_schedule(30, 10),  # first round: 3 epochs
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _check_patience(keras.callbacks.EarlyStopping(patience=3), schedule)
        _check_patience(keras.callbacks.EarlyStopping(patience=1), long_first)


# --------------------------------------------------------------------------
# after the search
# --------------------------------------------------------------------------


@pytest.mark.parametrize("max_trials", [2, 3])
def test_search_where_every_trial_fails_raises(tmp_path, flat, max_trials):
    # max_trials=2 is below KerasTuner's failure limit: plain KerasTuner returns
    # normally with score=None; max_trials=3 hits its RuntimeError.
    x, y, xv, yv = flat
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tuner = _random(tmp_path, max_trials=max_trials)
    with pytest.raises(
        SearchFailedError, match="boom: this trial cannot finish"
    ) as info:
        tuner.search(
            x, y, epochs=1, validation_data=(xv, yv), callbacks=[Boom()], verbose=0
        )
    assert isinstance(info.value, RuntimeError)
    assert "0 completed trial(s)" in str(info.value)
    assert "boom" in info.value.first_failure


# --------------------------------------------------------------------------
# stale projects
# --------------------------------------------------------------------------


def build_wider(hp):
    model = build_classifier(hp)
    hp.Int("units", 4, 64, step=4)  # already registered: same name, new range
    return model


def build_other_space(hp):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Int("width", 4, 16, step=4), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    return model


def test_stale_random_search_project(tmp_path, flat, capsys):
    x, y, xv, yv = flat
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = _random(tmp_path, max_trials=1)
    first.search(x, y, epochs=1, validation_data=(xv, yv), verbose=0)
    trial_files = sorted(glob.glob(str(tmp_path / "p" / "trial_*" / "trial.json")))
    assert len(trial_files) == 1

    # Experiment 1 of pitfalls §2: a new objective on the same directory.
    with pytest.raises(StaleProjectError, match="objective") as info:
        _random(tmp_path, "val_loss", max_trials=3)
    assert "overwrite=True" in str(info.value) and "project_name" in str(info.value)
    # Experiment 2: a different search space (kt#149, kt#290).
    with pytest.raises(StaleProjectError, match="search space: 'width' is new") as info:
        _random(tmp_path, build=build_other_space, max_trials=3)
    assert "'units' was removed" in str(info.value)
    # Nothing was deleted.
    assert (
        sorted(glob.glob(str(tmp_path / "p" / "trial_*" / "trial.json"))) == trial_files
    )

    # Same configuration, no trials left: say the search will do nothing.
    capsys.readouterr()
    with pytest.warns(UserWarning, match="will train nothing"):
        _random(tmp_path, max_trials=1)
    # A larger budget resumes and reports what is done and what remains.
    resumed = tunekit.random_search(
        build_classifier, max_trials=3, directory=tmp_path, project_name="p"
    )
    out = capsys.readouterr().out
    assert "1 trial(s) done (1 completed), 2 remaining" in out
    assert resumed.remaining_trials == 2

    # overwrite=True is the only way data is deleted.
    fresh = _random(tmp_path, "val_loss", max_trials=3, overwrite=True)
    assert len(fresh.oracle.trials) == 0
    assert glob.glob(str(tmp_path / "p" / "trial_*")) == []


def test_stale_hyperband_project(tmp_path, capsys):
    def make(**kwargs):
        return tunekit.hyperband(
            build_classifier, directory=tmp_path, project_name="h", **kwargs
        )

    make(max_epochs=4).save()
    with pytest.raises(StaleProjectError) as info:
        make(max_epochs=30, factor=2)  # kt#803 / pitfalls §2 experiment 2
    message = str(info.value)
    assert "max_epochs: 4 -> 30" in message and "factor: 3 -> 2" in message
    with pytest.raises(StaleProjectError, match="tuner: 'hyperband' -> 'bayesian_"):
        tunekit.bayesian_optimization(
            build_classifier, max_trials=9, directory=tmp_path, project_name="h"
        )
    # kt#234: raising hyperband_iterations used to make search() return at once.
    tuner = make(max_epochs=4, hyperband_iterations=2)
    assert tuner.oracle.hyperband_iterations == 2
    assert "0 trial(s) done (0 completed), 20 remaining" in capsys.readouterr().out
    with pytest.raises(StaleProjectError, match="may only grow"):
        make(max_epochs=4, hyperband_iterations=1)


def test_project_written_by_plain_kerastuner(tmp_path, flat, capsys, plain_kerastuner):
    x, y, xv, yv = flat
    # Plain KerasTuner: no tunekit fingerprint in the project.
    plain = plain_kerastuner.RandomSearch(
        build_classifier,
        objective="val_loss",
        max_trials=1,
        directory=tmp_path,
        project_name="p",
    )
    plain.search(x, y, epochs=1, validation_data=(xv, yv), verbose=0)
    assert not (tmp_path / "p" / "tunekit.json").exists()

    # The objective it scored with is read back from trial.json.
    with pytest.raises(StaleProjectError, match="written by KerasTuner") as info:
        _random(tmp_path, "val_accuracy", max_trials=3)
    assert "scores are those of ['val_loss', 'min'] -> [['val_accuracy', 'max']]" in (
        str(info.value)
    )
    with pytest.raises(StaleProjectError, match="'width' is new"):
        _random(tmp_path, "val_loss", build=build_other_space, max_trials=3)

    capsys.readouterr()
    resumed = tunekit.random_search(
        build_classifier, "val_loss", max_trials=2, directory=tmp_path, project_name="p"
    )
    assert "1 trial(s) done" in capsys.readouterr().out
    assert (tmp_path / "p" / "tunekit.json").exists()
    resumed.search(x, y, epochs=1, validation_data=(xv, yv), verbose=0)
    assert len(resumed.oracle.trials) == 2


# --------------------------------------------------------------------------
# the seeds' snippets, with only the constructor swapped
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def binary10(digits):
    """The seeds' (n, 10) binary problem, made of real digits features."""
    x, y = digits
    x = x.reshape(len(x), -1)[:, 20:30]
    y = (y >= 5).astype("float32")
    return x[:240], y[:240], x[240:360], y[240:360]


def seed_build_model(hp):
    # seeds/001: `tf.keras` -> `keras`; input_shape=(10,) kept.
    model = keras.Sequential(
        [
            keras.layers.Dense(
                units=hp.Int("units", min_value=32, max_value=512, step=32),
                activation="relu",
                input_shape=(10,),
            ),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(
            hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])
        ),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


def test_seed_001_hyperband(tmp_path, binary10, capsys, monkeypatch):
    x_train, y_train, x_val, y_val = binary10
    monkeypatch.chdir(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tuner = tunekit.hyperband(  # was: kt.Hyperband(build_model, ...)
            seed_build_model,
            objective="val_loss",  # Minimizing validation loss
            max_epochs=2,  # seed: 10 (30 trials); 2 keeps the test short
            factor=3,
            directory="my_dir",
            project_name="my_project",
        )
    tuner.search_space_summary()
    with pytest.warns(UserWarning, match="ignores `epochs=2`"):
        tuner.search(x_train, y_train, epochs=2, validation_data=(x_val, y_val))
    best_hp = tuner.get_best_hyperparameters(num_trials=1)[0]
    print(f"Best hyperparameters: {best_hp.get_config()}")
    print(f"Best objective value: {tuner.results_summary().best_objective}")
    out = capsys.readouterr().out
    assert "Hyperband schedule: max_epochs=2" in out
    best = tunekit.summarize(tuner)
    assert len(best.completed) == 2
    assert f"Best objective value: {best.best_objective}" in out
    assert best.best_objective == min(r.score for r in best.completed)


def test_seed_001_bayesian_optimization(tmp_path, binary10):
    x_train, y_train, x_val, y_val = binary10
    with pytest.warns(UserWarning, match="Gaussian process would never run"):
        tuner = tunekit.bayesian_optimization(  # was: kt.BayesianOptimization
            seed_build_model,
            objective="val_accuracy",
            max_trials=3,  # seed: 10
            directory=tmp_path / "my_dir",
            project_name="my_project",
        )
    tuner.search_space_summary()
    tuner.search(x_train, y_train, epochs=1, validation_data=(x_val, y_val), verbose=0)
    best_hp = tuner.get_best_hyperparameters(num_trials=1)[0]
    assert set(best_hp.values) == {"units", "learning_rate"}
    summary = tunekit.summarize(tuner)
    assert [r.status for r in summary.rows] == ["COMPLETED"] * 3
    assert summary.best_objective == max(r.score for r in summary.rows)


def test_seed_001_random_search_with_early_stopping(tmp_path, binary10):
    x_train, y_train, x_val, y_val = binary10
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tuner = tunekit.random_search(  # was: kt.RandomSearch
            seed_build_model,
            objective="val_loss",
            max_trials=2,  # seed: 10
            directory=tmp_path / "my_dir",
            project_name="my_project",
        )
    early_stopping = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=1, restore_best_weights=True
    )
    tuner.search(
        x_train,
        y_train,
        epochs=2,  # seed: 10
        validation_data=(x_val, y_val),
        callbacks=[early_stopping],
        verbose=0,
    )
    best_hp = tuner.get_best_hyperparameters(num_trials=1)[0]
    assert best_hp.get("units") % 32 == 0
    assert tuner.results_summary().best_objective is not None


def test_seed_004_random_search_executions_per_trial(tmp_path, flat):
    X_train, y_int, _, _ = flat
    y_train = keras.utils.to_categorical(y_int, 10)  # categorical_crossentropy

    def build_model(hp):
        model = keras.Sequential()
        model.add(
            keras.layers.Dense(
                units=hp.Int("units", min_value=64, max_value=256, step=64),
                activation="relu",
                input_shape=(X_train.shape[1],),
            )
        )
        model.add(
            keras.layers.Dropout(
                hp.Float("dropout_rate", min_value=0.2, max_value=0.5, step=0.1)
            )
        )
        model.add(keras.layers.Dense(10, activation="softmax"))
        model.compile(
            optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"]
        )
        return model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tuner = tunekit.random_search(  # was: kt.RandomSearch
            build_model,
            objective="val_accuracy",
            max_trials=1,  # seed: 10
            executions_per_trial=3,
            directory=tmp_path / "my_dir",
            project_name="my_project",
        )
    tuner.search_space_summary()
    tuner.search(X_train, y_train, epochs=1, validation_split=0.2, verbose=0)
    best_hps = tuner.get_best_hyperparameters(num_trials=1)[0]
    model = tuner.hypermodel.build(best_hps)
    history = model.fit(X_train, y_train, epochs=1, validation_split=0.2, verbose=0)
    assert "val_accuracy" in history.history
    # The trial's metrics average its 3 executions.
    assert len(tunekit.summarize(tuner).completed) == 1


def test_seed_000_hyperband_cnn_on_digits(tmp_path, digits):
    x, y = digits
    x_train, y_train, x_val, y_val = x[:160], y[:160], x[160:240], y[160:240]

    def build_model(hp):  # a small CNN, as in seeds/000 Example 2
        model = keras.Sequential(
            [
                keras.Input((8, 8, 1)),
                keras.layers.Conv2D(hp.Choice("filters", [4, 8]), 3, activation="relu"),
                keras.layers.MaxPooling2D(),
                keras.layers.Flatten(),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(
            optimizer="adam",
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tuner = tunekit.hyperband(  # was: Hyperband(hypermodel=build_model, ...)
            hypermodel=build_model,
            objective="val_accuracy",
            max_epochs=2,  # seed: 10
            factor=3,
            directory=str(tmp_path / "my_dir"),
            project_name="hyperband_tuning",
            verbose=False,
        )
    tuner.search(x_train, y_train, validation_data=(x_val, y_val), verbose=0)
    best_hps = tuner.get_best_hyperparameters(num_trials=1)[0]
    best_model = tuner.hypermodel.build(best_hps)
    best_model.fit(
        x_train, y_train, epochs=1, validation_data=(x_val, y_val), verbose=0
    )
    loaded = tuner.get_best_models(num_models=1)[0]
    assert loaded.predict(x_val[:4], verbose=0).shape == (4, 10)
    summary = tunekit.summarize(tuner, y=y_val)
    assert [r.status for r in summary.rows] == ["COMPLETED", "COMPLETED"]
    assert all(r.best_epoch in (0, 1) for r in summary.rows)
    assert summary.best_objective == max(r.score for r in summary.rows)


def test_keras_tuner_hypermodel_is_accepted(tmp_path, flat):
    x, y, xv, yv = flat

    class Classifier(keras_tuner.HyperModel):
        def build(self, hp):
            return build_classifier(hp)

    tuner = _random(tmp_path, "val_acc", build=Classifier())
    assert sorted(tuner.oracle.hyperparameters.values) == ["lr", "units"]
    with pytest.raises(ObjectiveError, match="Did you mean 'val_accuracy'"):
        tuner.search(x, y, epochs=1, validation_data=(xv, yv), callbacks=[EpochSpy()])
    assert_nothing_trained(tuner)


# --------------------------------------------------------------------------
# reproducible searches: seed= seeds every trial, then restores the state
# --------------------------------------------------------------------------


def build_with_dropout(hp):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Int("units", 8, 24, step=8), activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Choice("lr", [1e-2, 3e-3])),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _seeded_run(directory, flat, seed, executions=1):
    x, y, xv, yv = flat
    tuner = tunekit.RandomSearch(
        build_with_dropout,
        "val_accuracy",
        max_trials=2,
        seed=seed,
        executions_per_trial=executions,
        directory=directory,
        verbose=False,
    )
    tuner.search(x, y, epochs=2, validation_data=(xv, yv), verbose=0)
    trials = sorted(tuner.oracle.trials.items())
    return [(tid, t.hyperparameters.values, t.score) for tid, t in trials], tuner


@pytest.mark.filterwarnings("ignore:The search runs:UserWarning")
def test_seeded_search_is_reproducible_and_restores_the_random_state(tmp_path, flat):
    import random

    import numpy as np

    first, tuner = _seeded_run(tmp_path / "a", flat, seed=7)
    # A seeded search leaves the caller's random state where it found it.
    x, y, xv, yv = flat
    random.seed(123)
    np.random.seed(123)
    expected = (random.random(), np.random.rand())
    random.seed(123)
    np.random.seed(123)
    tuner.oracle.max_trials = 3
    tuner.search(x, y, epochs=1, validation_data=(xv, yv), verbose=0)
    assert len(tuner.oracle.trials) == 3
    assert (random.random(), np.random.rand()) == expected
    second, _ = _seeded_run(tmp_path / "b", flat, seed=7)
    assert first == second  # same trials, same scores, bit for bit
    assert len({score for _, _, score in first}) >= 1


@pytest.mark.filterwarnings("ignore:The search runs:UserWarning")
def test_trials_and_executions_get_different_seeds(tmp_path, flat):
    from tunekit._seeding import derived_seed

    seen = []

    class Recording(tunekit.RandomSearch):
        def _build_hypermodel(self, hp):
            seen.append(self._tunekit.trial_seed)
            return super()._build_hypermodel(hp)

    x, y, xv, yv = flat
    tuner = Recording(
        build_with_dropout,
        "val_accuracy",
        max_trials=2,
        seed=5,
        executions_per_trial=2,
        directory=tmp_path,
        verbose=False,
    )
    tuner.search(x, y, epochs=1, validation_data=(xv, yv), verbose=0)
    trial_seeds = [s for s in seen if s is not None]
    ids = sorted(tuner.oracle.trials)
    assert trial_seeds == [derived_seed(5, i, e) for i in ids for e in (0, 1)]
    assert len(set(trial_seeds)) == 4
