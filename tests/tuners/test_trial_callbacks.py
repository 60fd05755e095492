"""The trial's callbacks: the best-epoch checkpoint written once, the tuner's hooks."""

from __future__ import annotations

import keras
import keras_tuner
import numpy as np
import pytest

import tunekit
from tunekit.tuners._trial_callbacks import BestEpochCheckpoint, tuner_callback


def _model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("adam", "mse")
    return model


def _set(model, value):
    model.set_weights([np.full_like(w, value) for w in model.get_weights()])


def _saved(model, path):
    other = _model()
    other.load_weights(path)
    return other.get_weights()[0][0, 0]


def _checkpoint(tmp_path, direction="min"):
    path = str(tmp_path / "best.weights.h5")
    return BestEpochCheckpoint(keras_tuner.Objective("val_loss", direction), path), path


def test_the_file_holds_the_best_epoch_and_the_model_its_last(tmp_path):
    model = _model()
    callback, path = _checkpoint(tmp_path)
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, (weight, loss) in enumerate([(1.0, 0.9), (2.0, 0.4), (3.0, 0.7)]):
        _set(model, weight)
        callback.on_epoch_end(epoch, {"val_loss": loss})
    assert not (tmp_path / "best.weights.h5").exists()  # nothing written per epoch
    callback.on_train_end()
    assert _saved(model, path) == 2.0  # epoch 1: the lowest val_loss
    assert model.get_weights()[0][0, 0] == 3.0  # the model keeps its final weights


def test_a_later_fit_overwrites_the_file_only_when_it_does_better(tmp_path):
    model = _model()
    callback, path = _checkpoint(tmp_path, "max")
    callback.set_model(model)
    for weight, value in [(1.0, 0.8), (5.0, 0.6)]:  # two executions of a trial
        callback.on_train_begin()
        _set(model, weight)
        callback.on_epoch_end(0, {"val_loss": value})
        callback.on_train_end()
    assert _saved(model, path) == 1.0
    assert callback.best_value == 0.8


def test_without_the_objective_in_the_logs_the_last_epoch_is_saved(tmp_path):
    model = _model()
    callback, path = _checkpoint(tmp_path)
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, weight in enumerate([1.0, 4.0]):
        _set(model, weight)
        callback.on_epoch_end(epoch, {"loss": 0.1})
    callback.on_train_end()
    assert _saved(model, path) == 4.0


def test_the_tuner_callback_has_batch_hooks_only_when_the_tuner_overrides_them():
    def batch_hooks(callback):
        base = keras.callbacks.Callback
        names = ("on_batch_begin", "on_batch_end", "on_train_batch_end")
        return [n for n in names if getattr(type(callback), n) is not getattr(base, n)]

    plain = tunekit.RandomSearch.__new__(tunekit.RandomSearch)
    assert batch_hooks(tuner_callback(plain, None)) == []

    class Counting(tunekit.RandomSearch):
        def on_batch_end(self, trial, model, batch, logs=None):
            pass

    counting = Counting.__new__(Counting)
    assert batch_hooks(tuner_callback(counting, None))


def test_a_subclass_batch_hook_is_still_called(tmp_path, digits):
    x, y = digits
    x = x.reshape(len(x), -1)[:200]
    y = y[:200]

    class Counting(tunekit.RandomSearch):
        batches = 0

        def on_batch_end(self, trial, model, batch, logs=None):
            type(self).batches += 1

    def build(hp):
        model = keras.Sequential(
            [keras.Input((64,)), keras.layers.Dense(10, activation="softmax")]
        )
        lr = hp.Choice("lr", [1e-2, 1e-3])
        model.compile(
            keras.optimizers.Adam(lr),
            "sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    tuner = Counting(
        build, "val_accuracy", max_trials=1, directory=tmp_path, verbose=False
    )
    tuner.search(
        x[:160], y[:160], validation_data=(x[160:], y[160:]), epochs=1,
        batch_size=32, verbose=0,
    )  # fmt: skip
    assert Counting.batches == 5  # 160 samples in batches of 32
    # the checkpoint written at the end of fit holds the scored epoch
    best = tuner.get_best_models(1)[0]
    score = tuner.oracle.get_best_trials(1)[0].score
    assert best.evaluate(x[160:], y[160:], verbose=0)[1] == pytest.approx(score)


def _optimizer_state(model):
    return [keras.ops.convert_to_numpy(v) for v in model.optimizer.variables]


def test_the_file_holds_the_best_epochs_optimizer_state(tmp_path):
    model = _model()
    model.optimizer.build(model.trainable_variables)
    callback, path = _checkpoint(tmp_path)
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, (steps, loss) in enumerate([(3, 0.9), (5, 0.4), (9, 0.7)]):
        _set(model, float(steps))
        model.optimizer.iterations.assign(steps)
        callback.on_epoch_end(epoch, {"val_loss": loss})
    callback.on_train_end()
    saved = _model()
    saved.optimizer.build(saved.trainable_variables)
    saved.load_weights(path)
    assert int(saved.optimizer.iterations) == 5  # the best epoch's step count
    assert int(model.optimizer.iterations) == 9  # the model keeps its own


def test_hyperband_continues_a_trial_with_its_optimizer_state(tmp_path, digits):
    import warnings

    x, y = digits
    x, y = x[:300].reshape(300, 64), y[:300]
    continued = []

    def build(hp):
        model = keras.Sequential(
            [
                keras.Input((64,)),
                keras.layers.Dense(hp.Int("units", 4, 64, step=4), "relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
        return model

    class Recording(tunekit.Hyperband):
        def _build_hypermodel(self, hp):
            model = super()._build_hypermodel(hp)
            if "tuner/trial_id" in hp.values:  # the optimizer it starts with
                continued.append((hp.values["tuner/trial_id"], _optimizer_state(model)))
            return model

    tuner = Recording(
        build,
        "val_loss",
        max_epochs=3,
        factor=3,
        seed=0,
        directory=str(tmp_path),
        verbose=False,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tuner.search(x[:200], y[:200], validation_data=(x[200:], y[200:]))
    assert not [w for w in caught if "Skipping variable loading" in str(w.message)]
    assert continued  # the schedule has a second round
    for previous, state in continued:
        saved = _optimizer_state(tuner.load_model(tuner.oracle.get_trial(previous)))
        assert int(state[0]) > 0  # the step count of the previous round
        assert len(state) == len(saved)
        for got, want in zip(state, saved, strict=True):
            np.testing.assert_array_equal(got, want)
