"""refit_best on train + validation for the recorded best epoch; clean model loading."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

import tunekit
from tunekit import InvalidParameterError
from tunekit.tuners._refit import save_class_names
from tunekit.tuners._trial_records import load_record


@pytest.fixture(scope="module")
def flat(digits):
    x, y = digits
    x = x.reshape(len(x), -1)
    return x[:120], y[:120], x[120:160], y[120:160]


def build(hp):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Choice("units", [8, 16]), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(hp.Choice("lr", [3e-2, 1e-2])),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=True,
    )
    return model


class FitSpy(keras.callbacks.Callback):
    """What the refit trained on: steps per epoch and epochs."""

    fits: list[dict] = []

    def on_train_begin(self, logs=None):
        type(self).fits.append({"steps": self.params["steps"], "epochs": 0})

    def on_epoch_end(self, epoch, logs=None):
        type(self).fits[-1]["epochs"] += 1


@pytest.fixture(scope="module")
def searched(tmp_path_factory, flat):
    x, y, vx, vy = flat
    tuner = tunekit.RandomSearch(
        build, "val_loss", max_trials=2, seed=4,
        directory=tmp_path_factory.mktemp("refit"), verbose=False,
    )  # fmt: skip
    stop = keras.callbacks.EarlyStopping("val_loss", patience=1)
    tuner.search(x, y, validation_data=(vx, vy), epochs=8, batch_size=20,
                 callbacks=[stop], verbose=0)  # fmt: skip
    return tuner


def test_each_trial_records_its_best_epoch_and_epochs_trained(searched):
    for trial in searched.oracle.trials.values():
        record = load_record(searched, trial.trial_id)
        assert record.best_epoch == trial.best_step
        values = record.runs[0].values
        assert len(values) == record.epochs_trained <= 8
        best = int(np.argmin(values))
        assert best == record.best_epoch
        assert record.refit_epochs == best + 1
        assert record.runs[0].train_samples == 120
        assert record.runs[0].validation_samples == 40


def test_refit_trains_on_train_plus_validation_for_the_best_epoch(searched, flat):
    x, y, vx, vy = flat
    FitSpy.fits = []
    best = searched.oracle.get_best_trials(1)[0]
    record = load_record(searched, best.trial_id)
    model = tunekit.refit_best(searched, x, y, validation_data=(vx, vy),
                               callbacks=[FitSpy()], verbose=0)  # fmt: skip
    # 160 samples at the search's batch_size=20; EarlyStopping was left out
    assert FitSpy.fits == [{"steps": 8, "epochs": record.best_epoch + 1}]
    assert len(model.history.history["loss"]) == record.best_epoch + 1
    assert "val_loss" not in model.history.history
    assert model.get_layer(index=0).units == best.hyperparameters.values["units"]
    # the same call through the tuner method, with the default callbacks
    again = searched.refit_best(x, y, validation_data=(vx, vy), verbose=0)
    assert len(again.history.history["loss"]) == record.best_epoch + 1


@pytest.mark.slow
def test_refit_scales_epochs_and_warns_about_validation_callbacks(searched, flat):
    x, y, vx, vy = flat
    record = load_record(searched, searched.oracle.get_best_trials(1)[0].trial_id)
    stop = keras.callbacks.EarlyStopping("val_loss")
    with pytest.warns(UserWarning, match="EarlyStopping"):
        model = tunekit.refit_best(
            searched,
            x,
            y,
            validation_data=(vx, vy),
            scale_epochs=True,
            callbacks=[stop],
            verbose=0,
        )
    expected = max(1, round(record.refit_epochs * 160 / 120))
    assert len(model.history.history["loss"]) == expected
    fixed = tunekit.refit_best(searched, x, y, epochs=2, verbose=0)
    assert len(fixed.history.history["loss"]) == 2


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, "epochs"),
        ({"scale_epochs": "yes"}, "scale_epochs"),
        ({"trial": "nope"}, "a trial"),
        ({"validation_split": 0.2}, "validation_split"),
    ],
)
def test_bad_refit_arguments(searched, flat, kwargs, match):
    x, y, _, _ = flat
    with pytest.raises(InvalidParameterError, match=match):
        tunekit.refit_best(searched, x, y, **kwargs)


@pytest.mark.slow
def test_refit_of_a_cross_validated_search_uses_all_the_data(tmp_path, flat):
    x, y, _, _ = flat
    tuner = tunekit.RandomSearch(build, "val_accuracy", max_trials=1, seed=0,
                                 directory=tmp_path, verbose=False)  # fmt: skip
    tuner.search(x, y, cv=3, epochs=3, verbose=0)
    record = load_record(tuner, tuner.oracle.get_best_trials(1)[0].trial_id)
    expected = round(np.mean([e + 1 for e in record.best_epochs]))
    model = tuner.refit_best(x, y, verbose=0)
    assert len(model.history.history["loss"]) == max(1, expected)


def test_refit_without_a_record_asks_for_epochs(tmp_path, flat):
    x, y, _, _ = flat

    class Custom(tunekit.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            model = self.hypermodel.build(trial.hyperparameters)
            model.fit(*args, **kwargs)
            return {"val_accuracy": 0.5}

    tuner = Custom(build, "val_accuracy", max_trials=1, directory=tmp_path,
                   verbose=False)  # fmt: skip
    tuner.search(x, y, epochs=1, verbose=0)
    with pytest.raises(InvalidParameterError, match="Pass `epochs=`"):
        tuner.refit_best(x, y)
    assert len(tuner.refit_best(x, y, epochs=1, verbose=0).history.history["loss"]) == 1


def test_best_models_load_without_optimizer_warnings(searched, flat):
    _, _, vx, vy = flat
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        models = searched.get_best_models(2)
    assert not [w for w in caught if "Skipping variable loading" in str(w.message)]
    for model in models:
        assert int(model.optimizer.iterations) > 0  # the state was restored
        assert model.evaluate(vx, vy, verbose=0)[1] > 0.1


def test_class_names_travel_inside_the_keras_file(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = tmp_path / "m.keras"
    model.save(path)
    assert tunekit.load_class_names(path) is None
    save_class_names(path, ["cat", "dog"])
    assert tunekit.load_class_names(path) == ["cat", "dog"]
    assert keras.models.load_model(path).output_shape == (None, 2)
    with pytest.raises(InvalidParameterError, match="already holds"):
        save_class_names(path, ["a", "b"])
    (tmp_path / "bad.keras").write_text("not a zip")
    with pytest.raises(InvalidParameterError, match=r"a \.keras file"):
        tunekit.load_class_names(tmp_path / "bad.keras")
