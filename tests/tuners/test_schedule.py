"""hyperband_schedule against KerasTuner's real HyperbandOracle and pitfalls §3."""

from __future__ import annotations

import random

import pytest

from tunekit import InvalidParameterError, hyperband_schedule


def _run_real_oracle(tmp_path, max_epochs, factor, iterations):
    """Drive keras_tuner's HyperbandOracle with fake scores; no model is trained."""
    import keras_tuner
    from keras_tuner.oracles import HyperbandOracle

    hp = keras_tuner.HyperParameters()
    hp.Float("x", 0.0, 1.0)  # continuous: no duplicate draws
    oracle = HyperbandOracle(
        objective=keras_tuner.Objective("score", "max"),
        max_epochs=max_epochs,
        factor=factor,
        hyperband_iterations=iterations,
        hyperparameters=hp,
        seed=1,
    )
    oracle._set_project_dir(str(tmp_path), "oracle")
    scores = random.Random(0)
    runs = []
    for _ in range(10_000):
        trial = oracle.create_trial("tuner0")
        if trial.status == "STOPPED":
            break
        values = trial.hyperparameters.values
        runs.append(
            (
                values["tuner/bracket"],
                values["tuner/round"],
                values["tuner/initial_epoch"],
                values["tuner/epochs"],
            )
        )
        oracle.update_trial(trial.trial_id, {"score": scores.random()})
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    return runs


def _expand(schedule):
    return [
        (r.bracket, r.round, r.initial_epoch, r.epochs)
        for r in schedule.rounds
        for _ in range(r.trials)
    ]


@pytest.mark.parametrize(
    "max_epochs, factor, iterations",
    [(2, 3, 1), (4, 3, 1), (10, 3, 1), (10, 2, 1), (30, 3, 1), (9, 3, 2), (5, 4, 1)],
)
def test_schedule_matches_kerastuner_oracle(tmp_path, max_epochs, factor, iterations):
    schedule = hyperband_schedule(max_epochs, factor, iterations)
    real = _run_real_oracle(tmp_path, max_epochs, factor, iterations)
    assert _expand(schedule) == real
    assert schedule.total_trials == len(real)
    assert schedule.total_epochs == sum(epochs - start for _, _, start, epochs in real)


@pytest.mark.parametrize(
    "max_epochs, factor, brackets, trials, epochs, first",
    # The table of pitfalls.md §3, computed there by simulating the oracle.
    [
        (2, 3, 1, 2, 4, 2),
        (4, 3, 2, 10, 26, 2),
        (10, 3, 3, 30, 120, 2),
        (30, 3, 4, 90, 576, 2),
        (100, 3, 5, 254, 2672, 2),
        (10, 2, 4, 46, 170, 2),
    ],
)
def test_schedule_matches_pitfalls_table(
    max_epochs, factor, brackets, trials, epochs, first
):
    schedule = hyperband_schedule(max_epochs, factor)
    assert schedule.num_brackets == brackets
    assert schedule.total_trials == trials
    assert schedule.total_epochs == epochs
    assert schedule.first_round_epochs == first


def test_iterations_double_the_work_and_new_configurations():
    one, two = hyperband_schedule(10, 3), hyperband_schedule(10, 3, 2)
    assert two.total_trials == 2 * one.total_trials == 60
    assert one.new_configurations == 22


def test_schedule_prints_a_table():
    text = str(hyperband_schedule(4, 3))
    assert "max_epochs=4" in text
    assert "10 trials" in text and "26 epochs" in text
    assert "2->4" in text


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"max_epochs": 0}, "max_epochs"),
        ({"max_epochs": 2.5}, "max_epochs"),
        ({"max_epochs": 10, "factor": 1}, "factor"),
        ({"max_epochs": 10, "factor": True}, "factor"),
        ({"max_epochs": 10, "hyperband_iterations": 0}, "hyperband_iterations"),
    ],
)
def test_invalid_arguments(kwargs, name):
    with pytest.raises(InvalidParameterError, match=f"`{name}` must be"):
        hyperband_schedule(**kwargs)
