"""benchmarks/time_to_accuracy.py: aggregation (synthetic traces) and a smoke run."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "time_to_accuracy.py"


@pytest.fixture(scope="module")
def tta():
    spec = importlib.util.spec_from_file_location("time_to_accuracy", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(started, ended, val, test=None):
    return {
        "started": started,
        "ended": ended,
        "val_accuracy": val,
        "test_accuracy": test,
    }


def _run(rows, wall, processes=1):
    """A merged run of one process that started at 0."""
    return {"wall_s": wall, "processes": processes, "rows": rows}


def test_the_tasks_and_variants_are_the_issues(tta):
    assert tta.VARIANTS[0] == tta.TARGET_VARIANT == "kerastuner_random"
    assert len(tta.VARIANTS) == 7 and set(tta.TASKS) == {"seed", "search_matters"}


def test_two_workers_merge_on_the_first_start_in_finishing_order(tta):
    first = {"start": 100.0, "end": 110.0, "rows": [_row(100.5, 104.0, 0.5, 0.6)]}
    second = {
        "start": 101.0,
        "end": 112.0,
        "rows": [_row(101.5, 103.0, 0.4, 0.45), _row(103.0, 111.0, 0.7, 0.72)],
    }
    run = tta.merge_processes([first, second])
    assert run["wall_s"] == 12.0 and run["processes"] == 2
    assert [(r["started"], r["ended"], r["process"]) for r in run["rows"]] == [
        (1.5, 3.0, 1),
        (0.5, 4.0, 0),
        (3.0, 11.0, 1),
    ]
    # busy: (1.5 + 3.5 + 8) s of trials over 12 s x 2 processes
    assert tta.busy_fraction(run) == pytest.approx(13.0 / 24.0)
    assert tta.best_so_far(run["rows"]) == [(3.0, 0.45), (4.0, 0.6), (11.0, 0.72)]


def test_the_best_so_far_is_chosen_by_validation_not_by_test(tta):
    rows = [
        _row(0, 1, 0.80, 0.81),
        _row(1, 2, 0.70, None),  # worse on validation: never tested, not held
        _row(2, 3, 0.80, None),  # a tie does not replace the best
        _row(3, 4, None, None),  # failed / unscored
        _row(4, 5, 0.85, 0.79),  # better on validation, worse on test: held
    ]
    trace = tta.best_so_far(rows)
    assert trace == [(1, 0.81), (2, 0.81), (3, 0.81), (4, 0.81), (5, 0.79)]
    assert tta.final_test_accuracy(trace) == 0.79
    assert tta.time_to_target(trace, 0.80) == 1
    assert tta.time_to_target(trace, 0.81) == 1
    assert tta.time_to_target(trace, 0.82) is None
    assert tta.time_to_target(trace, None) is None
    assert tta.final_test_accuracy([]) is None


def test_the_median_time_counts_a_miss_as_never(tta):
    assert tta.median_time([3.0, None, 1.0]) == 3.0
    assert tta.median_time([3.0, None, None]) is None
    assert tta.median_time([1.0, 2.0, 4.0, None]) == 3.0
    assert tta.median_time([1.0, None]) is None  # (1 + inf) / 2
    assert tta.median_time([]) is None
    assert tta.median_of([None, 2.0, 4.0]) == 3.0 and tta.median_of([None]) is None


def test_a_task_summary_targets_plain_random_searchs_median_final_accuracy(tta):
    runs = {
        "kerastuner_random": [
            _run([_row(0, 10, 0.5, 0.50), _row(10, 20, 0.9, 0.90)], 20),
            _run([_row(0, 10, 0.8, 0.80), _row(10, 20, 0.7)], 21),
            _run([_row(0, 10, 0.6, 0.60), _row(10, 20, 0.95, 0.96)], 22),
        ],
        "tunekit_optuna_asha": [
            _run([_row(0, 2, 0.91, 0.92), _row(2, 4, 0.5)], 5),
            _run([_row(0, 2, 0.3, 0.3), _row(2, 3, 0.85, 0.86)], 6),
            _run([_row(0, 2, 0.3, 0.3), _row(2, 4, 0.4, 0.4)], 8),
        ],
    }
    summary = tta.summarize_task(runs)
    assert summary["target_test_accuracy"] == 0.9  # median of 0.90, 0.80, 0.96
    plain = summary["variants"]["kerastuner_random"]
    assert plain["time_to_target_s"] == [20, None, 20]
    assert plain["median_time_to_target_s"] == 20
    assert plain["median_wall_s"] == 21 and plain["median_test_accuracy"] == 0.9
    assert plain["busy_fraction"] == pytest.approx(20 / 21, abs=1e-3)
    optuna = summary["variants"]["tunekit_optuna_asha"]
    assert optuna["time_to_target_s"] == [2, None, None]
    assert optuna["median_time_to_target_s"] is None  # missed in 2 of 3 seeds
    assert optuna["median_test_accuracy"] == 0.86
    assert optuna["trials"] == [2, 2, 2]
    # plain random search's best trial minus its median trial, median over seeds
    assert summary["kerastuner_random_trial_gap"] == pytest.approx(0.175)


def test_without_plain_random_search_there_is_no_target(tta):
    summary = tta.summarize_task({"tunekit_random": [_run([_row(0, 1, 0.9, 0.9)], 2)]})
    assert summary["target_test_accuracy"] is None
    assert summary["variants"]["tunekit_random"]["time_to_target_s"] == [None]
    assert "kerastuner_random_trial_gap" not in summary


def test_rounds_rotate_the_variants(tta):
    names = ["a", "b", "c"]
    assert [tta.rotated(names, r) for r in range(4)] == [
        ["a", "b", "c"],
        ["b", "c", "a"],
        ["c", "a", "b"],
        ["a", "b", "c"],
    ]


def _digit_pngs(root: Path) -> Path:
    """training/ and testing/ class folders of scikit-learn's 8x8 digits."""
    from PIL import Image
    from sklearn.datasets import load_digits

    data = load_digits()
    for split, offset in (("training", 0), ("testing", 1000)):
        for label in range(10):
            folder = root / split / str(label)
            folder.mkdir(parents=True)
            images = data.images[offset:][data.target[offset:] == label][:12]
            for i, image in enumerate(images):
                pixels = (image * 15).astype("uint8")
                Image.fromarray(pixels, mode="L").save(folder / f"{i:02d}.png")
    return root


@pytest.mark.slow  # two real searches in fresh processes
def test_a_smoke_run_prints_the_json_contract(tmp_path):
    data = _digit_pngs(tmp_path / "digits")
    out = tmp_path / "out"
    variants = "kerastuner_random,tunekit_random"
    command = [sys.executable, str(SCRIPT), "--smoke", "--data", str(data)]
    command += ["--tasks", "search_matters", "--variants", variants]
    command += ["--out", str(out), "--workdir", str(tmp_path)]
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    result = json.loads(completed.stdout)
    for key in ("command", "date", "machine", "backend", "config"):
        assert result[key]
    task = result["tasks"]["search_matters"]
    assert list(result["tasks"]) == ["search_matters"]
    assert 0 <= task["target_test_accuracy"] <= 1
    assert set(task["variants"]) == set(variants.split(","))
    for figures in task["variants"].values():
        assert len(figures["time_to_target_s"]) == 1  # one seed
        assert figures["trials"] == [2]
        assert 0 < figures["busy_fraction"] <= 1
        assert figures["median_wall_s"] > 0
        assert 0 <= figures["median_test_accuracy"] <= 1
        assert "median_time_to_target_s" in figures
    # plain random search reaches its own median, its only seed's final accuracy
    plain = task["variants"]["kerastuner_random"]
    assert plain["median_time_to_target_s"] == plain["time_to_target_s"][0] > 0
    assert (out / "time_to_accuracy_search_matters.png").stat().st_size > 0
    assert (out / "time_to_accuracy_runs.json").is_file()
