"""initial_trials=: the space's defaults or queued configurations come first."""

from __future__ import annotations

import keras
import keras_tuner
import pytest

import tunekit
from tunekit import InvalidParameterError
from tunekit.tuners._initial_trials import check_initial_trials

DEFAULTS = {"units": 24, "lr": 0.003, "activation": "tanh"}


def _build(hp):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(
                hp.Int("units", 8, 64, step=8, default=24),
                activation=hp.Choice("activation", ["relu", "tanh"], default="tanh"),
            ),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-2, sampling="log", default=3e-3)),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _conditional_build(hp):
    layers = [keras.Input((64,))]
    if hp.Boolean("hidden", default=True):
        with hp.conditional_scope("hidden", [True]):
            layers.append(keras.layers.Dense(hp.Int("units", 8, 32, step=8)))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def flat_digits(digits):
    x, y = digits
    x = x.reshape(len(x), -1)
    return x[:300], y[:300], x[300:400], y[300:400]


def _trial_values(tuner):
    trials = sorted(tuner.oracle.trials.values(), key=lambda t: int(t.trial_id))
    return [
        {
            k: v
            for k, v in t.hyperparameters.values.items()
            if not k.startswith("tuner/")
        }
        for t in trials
    ]


def _search(tuner, data, epochs=1):
    x, y, xv, yv = data
    tuner.search(x, y, epochs=epochs, validation_data=(xv, yv), verbose=0)


def _same(values, expected):
    assert set(values) == set(expected)
    for name, value in expected.items():
        assert values[name] == pytest.approx(value), name


# --------------------------------------------------------------------------
# the argument
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("defaults", ["defaults"]),
        ({"units": 8}, [{"units": 8}]),
        (["defaults", {"units": 8}], ["defaults", {"units": 8}]),
    ],
)
def test_initial_trials_is_normalised_to_a_list(value, expected):
    assert check_initial_trials(value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("default", "Did you mean 'defaults'?"),
        (3, "Received: initial_trials=3"),
        ([{"units": 8}, 5], "a list of those"),
        ([{1: 8}], "a dict of hyperparameter values"),
    ],
)
def test_a_malformed_initial_trials_names_the_argument(value, fragment):
    with pytest.raises(InvalidParameterError, match="initial_trials") as caught:
        check_initial_trials(value)
    assert fragment in str(caught.value)


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ({"unit": 16}, "'unit' is not in it. Did you mean 'units'?"),
        ({"units": 100}, "'units' must be a number from 8 to 64"),
        ({"units": 12.5}, "'units' must be a number from 8 to 64"),
        ({"activation": "gelu"}, "'activation' must be one of ['relu', 'tanh']"),
        ({"lr": float("nan")}, "'lr' must be a number"),
    ],
)
def test_a_configuration_outside_the_space_fails_at_construction(
    tmp_path, given, fragment
):
    with pytest.raises(InvalidParameterError, match=r"initial_trials\[1\]") as caught:
        tunekit.random_search(
            _build,
            max_trials=3,
            directory=tmp_path,
            verbose=False,
            initial_trials=["defaults", given],
        )
    assert fragment in str(caught.value)
    assert "Received: initial_trials[1]=" in str(caught.value)


def test_an_inactive_conditional_value_is_refused(tmp_path):
    with pytest.raises(InvalidParameterError, match="'units' is inactive"):
        tunekit.random_search(
            _conditional_build,
            max_trials=2,
            directory=tmp_path,
            verbose=False,
            initial_trials={"hidden": False, "units": 16},
        )


def test_bayesian_refuses_more_queued_trials_than_initial_points(tmp_path):
    with pytest.raises(InvalidParameterError, match="num_initial_points=1"):
        tunekit.bayesian_optimization(
            _build,
            max_trials=4,
            num_initial_points=1,
            directory=tmp_path,
            verbose=False,
            initial_trials=["defaults", {"units": 8}],
        )


# --------------------------------------------------------------------------
# real searches
# --------------------------------------------------------------------------


def test_the_factories_try_the_defaults_first(tmp_path, flat_digits):
    tuner = tunekit.random_search(
        _build, max_trials=2, seed=3, directory=tmp_path, verbose=False
    )
    _search(tuner, flat_digits)
    values = _trial_values(tuner)
    _same(values[0], DEFAULTS)
    assert values[1] != values[0]


def test_the_classes_keep_kerastuners_all_random_start(tmp_path, flat_digits):
    def first_value(tuner_class, directory):
        tuner = tuner_class(
            _build, "val_accuracy", max_trials=1, seed=3, directory=directory
        )
        tuner._configure_tensorboard_dir = lambda *a, **k: None
        _search(tuner, flat_digits)
        return _trial_values(tuner)[0]

    ours = first_value(tunekit.RandomSearch, tmp_path / "tunekit")
    plain = first_value(keras_tuner.RandomSearch, tmp_path / "plain")
    _same(ours, plain)  # the same random draw, not the defaults


def test_queued_configurations_come_in_order_then_random_ones(tmp_path, flat_digits):
    queued = [{"units": 8, "activation": "relu"}, {"lr": 1e-4}]
    tuner = tunekit.RandomSearch(
        _build,
        "val_accuracy",
        max_trials=3,
        seed=1,
        directory=tmp_path,
        verbose=False,
        initial_trials=queued,
    )
    _search(tuner, flat_digits)
    values = _trial_values(tuner)
    _same(values[0], {**DEFAULTS, **queued[0]})
    _same(values[1], {**DEFAULTS, **queued[1]})
    assert values[2] not in values[:2]
    assert all(t.status == "COMPLETED" for t in tuner.oracle.trials.values())


def test_a_resumed_search_does_not_train_a_queued_configuration_twice(
    tmp_path, flat_digits
):
    def tuner(max_trials):
        return tunekit.random_search(
            _build, max_trials=max_trials, seed=5, directory=tmp_path, verbose=False
        )

    _search(tuner(1), flat_digits)
    resumed = tuner(3)
    _search(resumed, flat_digits)
    values = _trial_values(resumed)
    assert len(values) == 3
    _same(values[0], DEFAULTS)
    assert values[1] != values[0] and values[2] != values[0]


def test_hyperband_and_bayesian_start_from_the_defaults(tmp_path, flat_digits):
    hyperband = tunekit.hyperband(
        _build, max_epochs=2, factor=2, directory=tmp_path / "hb", verbose=False
    )
    _search(hyperband, flat_digits, epochs=2)
    _same(_trial_values(hyperband)[0], DEFAULTS)
    bayesian = tunekit.bayesian_optimization(
        _build, max_trials=2, directory=tmp_path / "bo", verbose=False
    )
    _search(bayesian, flat_digits)
    _same(_trial_values(bayesian)[0], DEFAULTS)


def test_build_cnn_hypermodel_defaults_are_what_the_first_trial_trains(tmp_path):
    hypermodel = tunekit.build_cnn_hypermodel((8, 8, 1), 10, preset="dense_head")
    tuner = tunekit.random_search(
        hypermodel, max_trials=2, directory=tmp_path, verbose=False
    )
    first = tuner.oracle._random_values()
    assert first == {
        "dense_units": 128,
        "dropout": 0.2,
        "learning_rate": 1e-3,
        "optimizer": "adam",
    }
