"""Pruning: the median rule on its own, then real searches that stop a bad trial."""

from __future__ import annotations

import math

import keras
import pytest

import tunekit
from tunekit import InvalidParameterError, MedianPruning, PruningHistory
from tunekit.tuners._pruning import is_pruned
from tunekit.tuners._trial_records import load_record

EARLIER = {"00": {0: 0.5, 1: 0.6, 2: 0.7}, "01": {0: 0.4, 1: 0.5}}


def _history(current, direction="max", trials=EARLIER):
    return PruningHistory(trials, direction=direction, current=current)


# --------------------------------------------------------------------------
# the rule, without training
# --------------------------------------------------------------------------


def test_median_rule_prunes_a_trial_worse_than_the_median_at_that_epoch():
    rule = MedianPruning(min_trials=2)
    assert rule.should_prune("02", 1, 0.3, _history({0: 0.2, 1: 0.3}))
    # its best so far (0.9 at epoch 0) beats the median 0.55 at epoch 1
    assert not rule.should_prune("02", 1, 0.3, _history({0: 0.9, 1: 0.3}))
    assert "median 0.55 of 2" in rule.explain("02", 1, 0.3, _history({0: 0.2, 1: 0.3}))


def test_median_rule_waits_for_enough_trials_at_the_epoch():
    rule = MedianPruning(min_trials=2)
    # only trial 00 reached epoch 2: not judged there
    assert not rule.should_prune("02", 2, 0.0, _history({0: 0.0, 1: 0.0, 2: 0.0}))
    assert not MedianPruning(min_trials=3).should_prune(
        "02", 0, 0.0, _history({0: 0.0})
    )


def test_warmup_and_min_epochs_protect_early_epochs():
    bad = {0: 0.0, 1: 0.1}
    assert not MedianPruning(min_trials=1, warmup_epochs=2).should_prune(
        "02", 1, 0.1, _history(bad)
    )
    assert not MedianPruning(min_trials=1, min_epochs=3).should_prune(
        "02", 1, 0.1, _history(bad)
    )
    assert MedianPruning(min_trials=1, min_epochs=2).should_prune(
        "02", 1, 0.1, _history(bad)
    )
    # warmup epochs do not count in the best so far
    good_start = {0: 0.99, 1: 0.1}
    assert MedianPruning(min_trials=1, warmup_epochs=1).should_prune(
        "02", 1, 0.1, _history(good_start)
    )


def test_direction_min_and_nan_values():
    losses = {"00": {0: 1.0}, "01": {0: 2.0}}
    rule = MedianPruning(min_trials=2)
    assert rule.should_prune("02", 0, 3.0, _history({0: 3.0}, "min", losses))
    assert not rule.should_prune("02", 0, 1.2, _history({0: 1.2}, "min", losses))
    assert rule.should_prune("02", 0, math.nan, _history({0: math.nan}, "min", losses))


def test_base_class_must_be_implemented():
    with pytest.raises(NotImplementedError, match="should_prune"):
        tunekit.Pruning().should_prune("0", 0, 0.0, _history({}))


# --------------------------------------------------------------------------
# arguments
# --------------------------------------------------------------------------


def build(hp):
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(hp.Choice("units", [8, 16, 32]), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        # learning rate 0: a deliberately hopeless configuration
        optimizer=keras.optimizers.Adam(hp.Choice("lr", [0.0, 0.03])),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=True,
    )
    return model


@pytest.mark.parametrize(
    ("pruning", "match"),
    [
        ("mean", "'median', a tunekit.Pruning instance"),
        (MedianPruning, "not the class"),
        (object(), "'median', a tunekit.Pruning instance"),
        (MedianPruning(min_trials=0), "min_trials"),
        (MedianPruning(warmup_epochs=-1), "warmup_epochs"),
        (MedianPruning(min_epochs=0), "min_epochs"),
    ],
)
def test_bad_pruning_is_refused_at_construction(tmp_path, pruning, match):
    with pytest.raises(InvalidParameterError, match=match):
        tunekit.RandomSearch(
            build, "val_accuracy", max_trials=3, directory=tmp_path,
            verbose=False, pruning=pruning,
        )  # fmt: skip
    assert not (tmp_path / "untitled_project").exists()


def test_hyperband_refuses_pruning(tmp_path):
    with pytest.raises(InvalidParameterError, match="successive halving"):
        tunekit.hyperband(
            build, "val_accuracy", max_epochs=3, directory=tmp_path,
            verbose=False, pruning="median",
        )  # fmt: skip


# --------------------------------------------------------------------------
# real searches
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def flat(digits):
    x, y = digits
    x = x.reshape(len(x), -1)
    return x[:150], y[:150], x[150:225], y[150:225]


@pytest.mark.parametrize(
    "cls",
    [
        tunekit.RandomSearch,
        pytest.param(tunekit.BayesianOptimization, marks=pytest.mark.slow),
    ],
)
def test_search_stops_the_hopeless_trials_and_never_ranks_them_best(
    tmp_path, flat, cls
):
    x, y, vx, vy = flat
    extra = {"num_initial_points": 2} if cls is tunekit.BayesianOptimization else {}
    tuner = cls(
        build, "val_accuracy", max_trials=3, seed=2, directory=tmp_path,
        verbose=False, pruning=MedianPruning(min_trials=1), **extra,
    )  # fmt: skip
    tuner.search(x, y, validation_data=(vx, vy), epochs=3, verbose=0)
    trials = [tuner.oracle.trials[i] for i in tuner.oracle.start_order]
    good = [t for t in trials if t.hyperparameters.values["lr"] > 0]
    hopeless = [t for t in trials if t.hyperparameters.values["lr"] == 0]
    # a hopeless trial that started after a good one completed is stopped early
    judged = [t for t in hopeless if trials.index(t) > trials.index(good[0])]
    assert judged, "the seed should give a hopeless trial after a good one"
    for trial in judged:
        record = load_record(tuner, trial.trial_id)
        assert is_pruned(trial) and trial.status == "COMPLETED"
        assert record.pruned is not None and record.epochs_trained < 3
        assert trial.score is not None  # the oracle saw its score
    best = tuner.oracle.get_best_trials(1)[0]
    assert not is_pruned(best) and best.hyperparameters.values["lr"] > 0
    assert tuner.get_best_hyperparameters(1)[0].values["lr"] > 0
    ranked = tuner.oracle.get_best_trials(len(trials))
    flags = [is_pruned(t) for t in ranked]
    assert flags == sorted(flags)  # every pruned trial after every full one
    summary = tunekit.summarize(tuner)
    pruned_ids = {t.trial_id for t in trials if is_pruned(t)}
    assert {row.trial_id for row in summary.pruned} == pruned_ids
    assert summary.best_trial.trial_id == best.trial_id
    assert "PRUNED" in str(summary) and f"pruned={len(pruned_ids)}" in repr(summary)


def test_pruned_marks_survive_a_reload(tmp_path, flat):
    x, y, vx, vy = flat

    def make():
        return tunekit.RandomSearch(
            build, "val_accuracy", max_trials=3, seed=2, directory=tmp_path,
            project_name="p", verbose=False, pruning=MedianPruning(min_trials=1),
        )  # fmt: skip

    make().search(x, y, validation_data=(vx, vy), epochs=3, verbose=0)
    reloaded = make()
    pruned = [t for t in reloaded.oracle.trials.values() if is_pruned(t)]
    assert pruned
    assert not is_pruned(reloaded.oracle.get_best_trials(1)[0])
    assert len(tunekit.summarize(reloaded).pruned) == len(pruned)
