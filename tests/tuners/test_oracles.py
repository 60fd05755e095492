"""tunekit's oracles: handed to KerasTuner's Tuner, never patched in afterwards."""

from __future__ import annotations

import keras
import keras_tuner
import pytest

import tunekit
from tunekit import InvalidParameterError
from tunekit.tuners._oracles import TunekitOracle


def _build(hp):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Int("units", 4, 16, step=4)),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class _StopAfterFirst:
    """A stop condition: end the search once any trial has a score."""

    def __init__(self):
        self.started = 0
        self.reasons = []

    def reason_to_stop(self, *, best, direction):
        return None if best is None else f"best {best:.2f} ({direction})"

    def trial_started(self):
        self.started += 1

    def search_stopped(self, reason):
        self.reasons.append(reason)


@pytest.mark.parametrize(
    ("tuner_class", "kerastuner_class", "oracle_class", "arguments"),
    [
        (tunekit.RandomSearch, keras_tuner.RandomSearch,
         keras_tuner.oracles.RandomSearchOracle, {"max_trials": 2}),
        (tunekit.BayesianOptimization, keras_tuner.BayesianOptimization,
         keras_tuner.oracles.BayesianOptimizationOracle, {"max_trials": 4}),
        (tunekit.Hyperband, keras_tuner.Hyperband,
         keras_tuner.oracles.HyperbandOracle, {"max_epochs": 2}),
    ],
)  # fmt: skip
def test_each_tuner_is_built_on_a_tunekit_oracle(
    tmp_path, tuner_class, kerastuner_class, oracle_class, arguments
):
    tuner = tuner_class(
        _build, "val_accuracy", directory=tmp_path, verbose=False, **arguments
    )
    assert isinstance(tuner, kerastuner_class)
    assert isinstance(tuner.oracle, oracle_class)
    assert isinstance(tuner.oracle, TunekitOracle)
    assert type(tuner.oracle).__name__ == oracle_class.__name__


def test_a_stop_condition_given_at_construction_ends_the_search(tmp_path, digits):
    x, y = digits
    x = x.reshape(len(x), -1)
    condition = _StopAfterFirst()
    tuner = tunekit.RandomSearch(
        _build, "val_accuracy", max_trials=4, seed=0, directory=tmp_path,
        verbose=False, stop_condition=condition,
    )  # fmt: skip
    tuner.search(
        x[:200], y[:200], epochs=1, validation_data=(x[200:300], y[200:300]),
        verbose=0,
    )  # fmt: skip
    assert len(tuner.oracle.trials) == 1
    assert condition.started == 1
    assert condition.reasons and condition.reasons[0].endswith("(max)")


def test_a_stop_condition_without_the_methods_is_refused(tmp_path):
    with pytest.raises(InvalidParameterError, match="stop_condition") as info:
        tunekit.RandomSearch(
            _build, "val_accuracy", directory=tmp_path, verbose=False,
            stop_condition=60.0,
        )  # fmt: skip
    assert "Received: stop_condition=60.0" in str(info.value)


def test_hyperbands_trial_cap_is_the_oracles_and_the_fingerprints(tmp_path):
    capped = tunekit.hyperband(
        _build, max_epochs=2, directory=tmp_path, project_name="capped",
        trial_cap=2, verbose=False,
    )  # fmt: skip
    assert capped.oracle.max_trials == 2
    assert capped._tunekit.fingerprint["budget"]["trial_cap"] == 2
    plain = tunekit.hyperband(
        _build, max_epochs=2, directory=tmp_path, project_name="plain", verbose=False
    )
    assert plain.oracle.max_trials is None
    assert "trial_cap" not in plain._tunekit.fingerprint["budget"]
    with pytest.raises(InvalidParameterError, match="trial_cap"):
        tunekit.random_search(_build, max_trials=2, directory=tmp_path, trial_cap=2)
