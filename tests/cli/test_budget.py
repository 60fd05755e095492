"""``--time-budget`` and ``--target`` end ``tunekit tune`` early; rerunning resumes."""

from __future__ import annotations

import argparse
import json
import re

import pytest

from tunekit.cli._budget import SearchBudget, minutes
from tunekit.cli._main import main


def _tune(folder, tmp_path, *extra):
    return [
        "tune", str(folder), "--tuner", "random", "--max-epochs", "1",
        "--batch-size", "8", "--preset", "dense_head",
        "--directory", str(tmp_path / "runs"), "--project-name", "p",
        "--cache-dir", str(tmp_path / "cache"), "--json", *extra,
    ]  # fmt: skip


def _result(capsys):
    captured = capsys.readouterr()
    return json.loads(captured.out), captured.err  # stdout is only the JSON


def _search_with_spent_budget(folder, tmp_path, capsys):
    # A budget spent at once: the first trial still runs, no second one starts.
    argv = _tune(folder, tmp_path, "--max-trials", "2", "--overwrite")
    assert main([*argv, "--time-budget", "0.0001"]) == 0
    first, _ = _result(capsys)
    assert first["trials"] == 1
    assert first["stopped_early"].startswith("--time-budget 0.0001 min spent")
    trial_dirs = sorted(p.name for p in (tmp_path / "runs" / "p").glob("trial_*"))
    assert trial_dirs == ["trial_0"]  # no half-started trial left behind
    return first


def test_time_budget_ends_after_the_running_trial(make_image_folder, tmp_path, capsys):
    folder = make_image_folder({"dark": 6, "light": 6}, size=(8, 8))
    _search_with_spent_budget(folder, tmp_path, capsys)


@pytest.mark.slow  # two searches
def test_search_ended_by_the_budget_resumes(make_image_folder, tmp_path, capsys):
    folder = make_image_folder({"dark": 6, "light": 6}, size=(8, 8))
    first = _search_with_spent_budget(folder, tmp_path, capsys)
    # Same command without the budget (and without --overwrite): resumes.
    assert main(_tune(folder, tmp_path, "--max-trials", "2")) == 0
    second, err = _result(capsys)
    assert second["trials"] == 2 and second["stopped_early"] is None
    assert first["best_trial"] == "0"
    assert "resuming" in err


@pytest.mark.slow  # a search
def test_target_ends_the_search_once_reached(make_image_folder, tmp_path, capsys):
    folder = make_image_folder({"dark": 6, "light": 6}, size=(8, 8))
    assert main(_tune(folder, tmp_path, "--max-trials", "3", "--target", "0")) == 0
    result, _ = _result(capsys)
    assert result["trials"] == 1
    assert "reached --target 0" in result["stopped_early"]
    assert result["best_val_accuracy"] >= 0


def test_budget_is_checked_only_between_trials():
    budget = SearchBudget(seconds=0.0)
    assert budget.reason_to_stop(best=None, direction="max") is None
    budget.trials_started = 1
    assert budget.reason_to_stop(best=None, direction="max") is not None


@pytest.mark.parametrize(
    ("best", "direction", "stops"),
    [
        (0.9, "max", True),
        (0.89, "max", False),
        (0.9, "min", True),
        (0.91, "min", False),
    ],
)
def test_target_follows_the_objective_direction(best, direction, stops):
    budget = SearchBudget(target=0.9)
    assert (budget.reason_to_stop(best=best, direction=direction) is not None) == stops


@pytest.mark.parametrize("text", ["0", "-1", "abc", "inf", "nan"])
def test_bad_time_budget_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError):
        minutes(text)


def test_bad_time_budget_on_the_command_line_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["tune", str(tmp_path), "--time-budget", "0"])
    assert exit_info.value.code == 2
    assert "--time-budget" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("target", "objective", "message"),
    [
        (2.0, "val_accuracy", "--target must be within [0, 1] for the objective"),
        (1.5, "val_auc", "within [0, 1]"),
        (-1.0, "val_mae", "--target must be >= 0 for the objective val_mae"),
        (2.0, "val_r2_score", "<= 1"),
        (float("nan"), "val_accuracy", "Received: --target=nan"),
    ],
)
def test_target_outside_the_objectives_range_is_refused(target, objective, message):
    from tunekit import InvalidParameterError
    from tunekit.cli._budget import check_target

    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        check_target(target, objective)


@pytest.mark.parametrize(
    ("target", "objective"),
    [(None, "val_accuracy"), (0.0, "val_accuracy"), (1.0, "val_precision"),
     (0.05, "val_mse"), (-5.0, "val_loss"), (-3.0, "val_my_metric")],
)  # fmt: skip
def test_target_inside_the_range_or_unknown_range_is_kept(target, objective):
    from tunekit.cli._budget import check_target

    check_target(target, objective)  # any loss may be negative (cosine_similarity)
