"""Tests of ``tunekit demo`` (real, tiny KerasTuner searches on digits)."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from tunekit.cli import _demo


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tunekit demo")
    _demo.add_arguments(parser)
    return parser.parse_args(argv)


def run_demo(tmp_path: Path, *argv: str) -> int:
    return _demo.run(parse(["--directory", str(tmp_path / "runs"), *argv]))


def trial_dirs(project: Path) -> list[str]:
    return sorted(p.name for p in project.iterdir() if p.name.startswith("trial_"))


@pytest.mark.parametrize(
    "argv, plan",
    # from KerasTuner's Hyperband formulas (see pitfalls §3)
    [
        (["--max-epochs", "2"], "1 brackets, 2 trials, 4 epochs in all"),
        (["--max-epochs", "4"], "2 brackets, 10 trials, 26 epochs in all"),
        (["--max-epochs", "10"], "3 brackets, 30 trials, 120 epochs in all"),
        (["--max-epochs", "30"], "4 brackets, 90 trials, 576 epochs in all"),
        (
            ["--max-epochs", "10", "--factor", "2", "--max-trials", "5"],
            "4 brackets, 46 trials, 170 epochs in all (capped at 5 trials)",
        ),
    ],
)
def test_printed_plan_matches_kerastuner_schedules(tmp_path, capsys, argv, plan):
    from tunekit.hypermodels._cnn import build_cnn_hypermodel

    demo = _demo._Demo(parse(["--directory", str(tmp_path), *argv]))
    hypermodel = build_cnn_hypermodel((8, 8, 1), 10, rescale=1 / 16)
    with warnings.catch_warnings():  # the demo turns them into notes
        warnings.simplefilter("ignore", UserWarning)
        tuner = _demo._make_tuner(demo.args, hypermodel)  # no trial is run
    demo._print_plan(_demo._load_digits(0), hypermodel, "new", tuner)
    out = capsys.readouterr().out
    factor = argv[argv.index("--factor") + 1] if "--factor" in argv else "3"
    assert f"Hyperband, max_epochs={argv[1]}, factor={factor}: {plan}\n" in out


def test_tiny_hyperband_run_end_to_end(tmp_path, capsys):
    assert run_demo(tmp_path, "--max-epochs", "2") == 0
    out = capsys.readouterr().out
    assert "Hyperband, max_epochs=2, factor=3: 1 brackets, 2 trials" in out
    assert "train 1077 / validation 360 / test 360" in out
    assert "conv_blocks    Int 1..3" in out  # 8x8 digits cap the depth at 3
    assert re.search(r"\[2/2\] trial \d+ .*val_accuracy 0\.\d{4}", out)
    assert "Leaderboard: best 2 of 2 completed trials by val_accuracy" in out
    accuracy = float(re.search(r"test accuracy (0\.\d+|1\.0+) on 360", out)[1])
    assert 0.0 <= accuracy <= 1.0
    project = tmp_path / "runs" / "digits_hyperband_default"
    assert len(trial_dirs(project)) == 2
    saved = json.loads((project / _demo.FINGERPRINT_FILE).read_text())
    assert saved["tuner"] == "hyperband" and saved["max_epochs"] == 2


def test_rerun_resumes_and_changed_config_is_refused(tmp_path, capsys):
    args = ("--tuner", "random", "--max-trials", "1", "--max-epochs", "1")
    assert run_demo(tmp_path, *args) == 0
    project = tmp_path / "runs" / "digits_random_default"
    before = trial_dirs(project)
    first = capsys.readouterr().out
    score = re.search(r"Best trial (\d+): val_accuracy (0\.\d+)", first).groups()

    # same command: resumes, runs nothing new, reports the same best trial
    assert run_demo(tmp_path, *args) == 0
    out = capsys.readouterr().out
    assert "resuming: 1 trials already run" in out
    assert re.search(r"Best trial (\d+): val_accuracy (0\.\d+)", out).groups() == score
    assert trial_dirs(project) == before

    # different budget: refused with a clear message, nothing deleted
    assert run_demo(tmp_path, "--tuner", "random", "--max-trials", "2") == 2
    err = capsys.readouterr().err
    assert "max_trials=1 (now 2)" in err
    assert "max_epochs=1 (now 10)" in err
    assert "--overwrite" in err
    assert trial_dirs(project) == before

    # --overwrite starts afresh
    assert run_demo(tmp_path, *args, "--overwrite", "--quiet") == 0
    out = capsys.readouterr().out
    assert "search space" not in out  # --quiet
    assert "Leaderboard" in out


def test_foreign_project_folder_is_never_reused(tmp_path, capsys):
    project = tmp_path / "runs" / "mine"
    project.mkdir(parents=True)
    (project / "notes.txt").write_text("keep me")
    assert run_demo(tmp_path, "--project-name", "mine", "--max-epochs", "1") == 2
    assert "was not written by `tunekit demo`" in capsys.readouterr().err
    assert (project / "notes.txt").read_text() == "keep me"


def test_bayesian_run_with_another_preset(tmp_path, capsys):
    argv = ["--tuner", "bayesian", "--max-trials", "2", "--max-epochs", "1"]
    assert run_demo(tmp_path, *argv, "--preset", "dense_head", "--top", "1") == 0
    out = capsys.readouterr().out
    assert "Bayesian optimization search, 2 trials of 1 epochs" in out
    assert "dense_units    Int 64..512 step 32" in out
    assert "Leaderboard: best 1 of 2 completed trials" in out
    assert (tmp_path / "runs" / "digits_bayesian_dense_head").is_dir()


@pytest.mark.parametrize(
    "argv",
    [
        ["--max-epochs", "0"],
        ["--max-trials", "-1"],
        ["--factor", "1"],
        ["--tuner", "grid"],
        ["--seed", "x"],
        ["--quiet", "--verbose"],
    ],
)
def test_bad_options_are_rejected_by_the_parser(argv, capsys):
    with pytest.raises(SystemExit) as info:
        parse(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_defaults_and_help():
    args = parse([])
    assert (args.tuner, args.max_epochs, args.factor, args.seed) == (
        "hyperband",
        10,
        3,
        0,
    )
    assert args.directory == os.path.join("tunekit_runs", "demo")
    assert not args.overwrite


def test_cli_entry_point_runs_the_demo(tmp_path, capsys):
    from tunekit.cli._main import main

    argv = ["demo", "--directory", str(tmp_path), "--max-epochs", "1", "--quiet"]
    assert main(argv) == 0
    assert "test accuracy" in capsys.readouterr().out


def test_module_import_is_light_and_help_works():
    code = (
        "import sys, tunekit.cli._demo; "
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    result = subprocess.run(
        [sys.executable, "-m", "tunekit", "demo", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--overwrite" in result.stdout
    assert "--tuner {hyperband,bayesian,random,optuna}" in result.stdout


def _completed_trials(project: Path) -> int:
    return sum(
        json.loads(p.read_text())["status"] == "COMPLETED"
        for p in project.glob("trial_*/trial.json")
    )


@pytest.mark.slow  # two real demo processes
def test_ctrl_c_ends_with_one_line_exit_130_and_rerun_resumes(tmp_path):
    import signal

    command = [
        sys.executable, "-m", "tunekit", "demo", "--tuner", "random",
        "--max-trials", "3", "--max-epochs", "1", "--directory", str(tmp_path),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    seen = []
    for line in child.stdout:  # the first trial's line: the search is running
        seen.append(line)
        if "[1/3] trial" in line:
            break
    else:
        pytest.fail("".join(seen) + child.stderr.read())
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "interrupted" in line]
    assert len(lines) == 1, err
    complete = int(re.search(r"interrupted: (\d+) of 3 trials complete", lines[0])[1])
    project = tmp_path / "digits_random_default"
    assert complete == _completed_trials(project) >= 1  # counted from the files
    assert "Rerun the same call (or command) to resume" in lines[0]

    rerun = subprocess.run(command, capture_output=True, text=True, env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert f"resuming: {complete} trials already run" in rerun.stdout
    assert "Leaderboard: best 3 of 3 completed trials" in rerun.stdout
    assert _completed_trials(project) == 3


def test_truncated_demo_settings_are_reported_not_overwritten(tmp_path, capsys):
    project = tmp_path / "runs" / "digits_random_default"
    project.mkdir(parents=True)
    (project / _demo.FINGERPRINT_FILE).write_text('{"tuner": "ran')
    assert run_demo(tmp_path, "--tuner", "random", "--max-trials", "1") == 2
    err = capsys.readouterr().err
    assert "truncated or not valid JSON" in err and "--overwrite" in err
    assert (project / _demo.FINGERPRINT_FILE).read_text() == '{"tuner": "ran'
