"""tunekit's search display: one line per trial, flags, '-' for inactive values."""

from __future__ import annotations

import re
import warnings

import keras
import keras_tuner

import tunekit
from tunekit.tuners._progress import (
    INACTIVE,
    SearchProgress,
    display_values,
    fewer_combinations_note,
    interrupted_line,
    space_combinations,
)

TRIAL_LINE = re.compile(r"^  \[\s*(\d+)/(\d+)\] trial (\d+)  ", re.MULTILINE)


class Behaviours(keras_tuner.HyperModel):
    """A healthy model (its width conditional), a collapsed one, a NaN one."""

    def build(self, hp):
        behaviour = hp.Choice("behaviour", ["healthy", "collapsed", "nan"])
        inputs = keras.Input((64,))
        hidden = inputs
        with hp.conditional_scope("behaviour", ["healthy"]):
            if behaviour == "healthy":
                units = hp.Choice("units", [8, 16])
                hidden = keras.layers.Dense(units, activation="relu")(hidden)
        if behaviour == "nan":
            hidden = keras.layers.Rescaling(float("nan"))(hidden)
        if behaviour == "collapsed":
            # Zero weights and a zero learning rate: uniform softmax, argmax 0.
            outputs = keras.layers.Dense(10, "softmax", kernel_initializer="zeros")(
                hidden
            )
            optimizer = keras.optimizers.SGD(learning_rate=0.0)
        else:
            outputs = keras.layers.Dense(10, activation="softmax")(hidden)
            optimizer = keras.optimizers.Adam(1e-2)
        model = keras.Model(inputs, outputs)
        model.compile(
            optimizer=optimizer,
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model


def _space():
    hp = keras_tuner.HyperParameters()
    hp.Choice("kind", ["dense", "conv"])
    with hp.conditional_scope("kind", ["conv"]):
        hp.Int("filters", 8, 32, step=8)
        hp.Boolean("pool")
    hp.Fixed("head", "softmax")
    return hp


def test_space_combinations_follow_conditional_scopes():
    hp = _space()
    assert space_combinations(hp) == 1 + 4 * 2  # dense, or conv x filters x pool
    hp.Float("lr", 1e-4, 1e-2, sampling="log")  # continuous: infinitely many
    assert space_combinations(hp) is None
    stepped = keras_tuner.HyperParameters()
    stepped.Float("dropout", 0.0, 0.5, step=0.25)  # 0, 0.25, 0.5
    stepped.Int("units", 8, 64, step=2, sampling="log")  # 8, 16, 32, 64
    assert space_combinations(stepped) == 3 * 4
    assert space_combinations(stepped, at_most=10) is None


def test_fewer_combinations_note():
    hp = _space()
    note = fewer_combinations_note(hp, 20)
    assert "only 9 combinations" in note and "20 trials" in note
    assert fewer_combinations_note(hp, 9) is None
    assert fewer_combinations_note(hp, None) is None


def test_display_values_show_inactive_as_dash():
    hp = _space()
    assert display_values(hp) == {
        "kind": "dense",
        "filters": INACTIVE,
        "pool": INACTIVE,
        "head": "softmax",
    }
    hp.values.update({"kind": "conv", "filters": 16, "tuner/epochs": 3})
    shown = display_values(hp)
    assert shown["filters"] == 16
    assert shown["pool"] == INACTIVE  # active, but the trial never drew it
    assert "tuner/epochs" not in shown  # KerasTuner's bookkeeping is left out
    hp.values["kind"] = "dense"
    assert display_values(hp)["filters"] == INACTIVE  # a value, but inactive


def test_one_line_per_trial_with_flags_and_no_kerastuner_display(
    digits, capsys, tmp_path
):
    x, y = digits
    x = x.reshape(len(x), -1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tuner = tunekit.RandomSearch(
            Behaviours(),
            "val_accuracy",
            max_trials=6,
            seed=3,
            directory=tmp_path,
        )
    capsys.readouterr()
    tuner.search(x[:240], y[:240], epochs=1, validation_data=(x[240:360], y[240:360]))
    out = capsys.readouterr().out
    lines = out.splitlines()
    # Before searching: the space has 4 combinations for 6 trials asked.
    note = next(i for i, line in enumerate(lines) if "only 4 combinations" in line)
    header = next(i for i, line in enumerate(lines) if line.startswith("Search: "))
    assert note < header < next(i for i, t in enumerate(lines) if TRIAL_LINE.match(t))
    trials = tuner.oracle.trials
    found = TRIAL_LINE.findall(out)
    assert [(int(n), int(total)) for n, total, _ in found] == [
        (i, 6) for i in range(1, len(trials) + 1)
    ]
    assert sorted(trial_id for _, _, trial_id in found) == sorted(trials)
    by_behaviour = {}
    for trial_id, trial in trials.items():
        line = next(t for t in lines if f"] trial {trial_id}  " in t)
        by_behaviour[trial.hyperparameters.values["behaviour"]] = line
    # chance: 1/k from the 10 output units, or the validation majority rate
    assert re.search(r"!collapsed\((1/k|majority)\)", by_behaviour["collapsed"])
    assert "units=-" in by_behaviour["collapsed"]
    # The first collapse is explained on the next lines, as summarize does.
    first = next(i for i, line in enumerate(lines) if "!collapsed" in line)
    advice = []
    for line in lines[first + 1 :]:
        if not line.startswith("    "):
            break
        advice.append(line.strip())
    advice = " ".join(advice)
    learned = [
        line for line in lines[:first] if TRIAL_LINE.match(line) and "!" not in line
    ]
    assert advice.startswith(f"trial {TRIAL_LINE.match(lines[first])[3]}: accuracy")
    if learned:  # the labels let another trial learn
        assert "undertrained or broken" in advice, advice
    else:
        assert "check_model_labels" in advice, advice
    assert "!NaN-loss" in by_behaviour["nan"]
    healthy = by_behaviour["healthy"]
    assert "!" not in healthy and re.search(r"units=(8|16)", healthy)
    assert re.search(r"val_accuracy 0\.\d{4}  best 0\.\d{4}", healthy)
    assert "epochs 1" in healthy
    # KerasTuner's display and Keras' bars are off; nothing clears the output.
    assert "Running Trial" not in out and "Best val_accuracy So Far" not in out
    assert "Epoch 1/1" not in out and "\r" not in out and "━" not in out
    assert SearchProgress().width is None  # not a terminal: lines are never cut
    assert not any(line.endswith("...") for line in lines)


def test_verbose_in_search_restores_kerastuner_display(digits, capsys, tmp_path):
    x, y = digits
    x = x.reshape(len(x), -1)
    tuner = tunekit.RandomSearch(
        Behaviours(), "val_accuracy", max_trials=1, directory=tmp_path, seed=0
    )
    tuner.search(
        x[:100], y[:100], epochs=1, validation_data=(x[100:150], y[100:150]),
        verbose=1,
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "Running Trial #1" in out and "━" in out  # a Keras progress bar
    assert not TRIAL_LINE.search(out)
    assert tuner.oracle.verbose == 1  # as KerasTuner leaves it


def test_quiet_tuner_prints_no_lines(digits, capsys, tmp_path):
    x, y = digits
    x = x.reshape(len(x), -1)
    tuner = tunekit.RandomSearch(
        Behaviours(), "val_accuracy", max_trials=1, directory=tmp_path,
        seed=0, verbose=False,
    )  # fmt: skip
    tuner.search(x[:100], y[:100], epochs=1, validation_data=(x[100:150], y[100:150]))
    assert capsys.readouterr().out == ""
    assert tuner.oracle.verbose == 1  # restored after the search
    line = interrupted_line(tuner)
    assert "1 of 1 trial complete" in line and "did not finish" not in line
