"""``tunekit tune DIR`` end to end on tiny folders, and its input checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tunekit.cli._main import main


def test_tune_end_to_end_with_test_dir_and_class_weights(
    make_image_folder, tmp_path, capsys
):
    train = make_image_folder({"dark": 14, "light": 8}, size=(12, 12), name="train")
    test = make_image_folder({"dark": 4, "light": 4}, size=(12, 12), name="test")
    cache = tmp_path / "cache"
    argv = [
        "tune", str(train), "--test-dir", str(test), "--image-size", "8", "8",
        "--color-mode", "grayscale", "--tuner", "hyperband", "--max-epochs", "2",
        "--class-weight", "balanced", "--preset", "dense_head",
        "--directory", str(tmp_path / "runs"), "--cache-dir", str(cache),
        "--batch-size", "8", "--save-model", str(tmp_path / "best.keras"), "--json",
    ]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{") :])
    assert result["classes"] == ["dark", "light"]
    assert result["train_images"] + result["validation_images"] == 22
    assert result["trials"] >= 2 and 0.0 <= result["best_val_accuracy"] <= 1.0
    assert result["test_images"] == 8 and 0.0 <= result["test_accuracy"] <= 1.0
    assert (tmp_path / "best.keras").exists()
    assert any(cache.rglob("*.npy"))  # decoded once, reused by every trial


def test_mismatched_test_classes_fail_before_training(
    make_image_folder, tmp_path, capsys
):
    train = make_image_folder({"cat": 4, "dog": 4}, name="train")
    test = make_image_folder({"cat": 2, "cow": 2, "dog": 2}, name="test")
    code = main(["tune", str(train), "--test-dir", str(test),
                 "--directory", str(tmp_path / "runs")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "only in --test-dir: ['cow']" in err and "Received:" in err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("layout", "match"),
    [
        (None, "does not exist"),
        ({}, "no subfolders"),
        ({"only": 3}, "at least 2 class subfolders"),
        ({"a": 3, "b": 0}, "without any image"),
    ],
)
def test_bad_folders_give_exit_code_2(
    make_image_folder, tmp_path, capsys, layout, match
):
    if layout is None:
        root = tmp_path / "missing"
    elif not layout:
        root = tmp_path / "flat"
        root.mkdir()
    else:
        root = make_image_folder(layout)
    assert main(["tune", str(root), "--directory", str(tmp_path / "r")]) == 2
    assert match in capsys.readouterr().err


def test_too_small_validation_split_is_explained(make_image_folder, tmp_path, capsys):
    root = make_image_folder({"a": 2, "b": 2})
    code = main(["tune", str(root), "--validation-split", "0.1", "--image-size", "8",
                 "8", "--directory", str(tmp_path / "r"), "--no-cache"])  # fmt: skip
    assert code == 2
    assert "leaves no validation image" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("where", "match"),
    [
        ("missing/best.keras", "does not exist"),
        ("a_file/best.keras", "does not exist (or is not a folder)"),
        ("best.h5", "must name a .keras file"),
        (".", "names a folder"),
    ],
)
def test_save_model_is_checked_before_any_training(
    make_image_folder, tmp_path, capsys, where, match
):
    root = make_image_folder({"a": 3, "b": 3})
    (tmp_path / "a_file").write_text("")
    target = str(tmp_path / where)
    code = main(["tune", str(root), "--save-model", target,
                 "--directory", str(tmp_path / "runs")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and match in err
    assert f"Received: --save-model={target!r}" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()  # no tuner, no training


def _unwritable_folder() -> str | None:
    """A folder that exists and that even root cannot create files in."""
    from tunekit._atomic import check_writable_folder

    for folder in ("/sys", "/proc"):
        if os.path.isdir(folder) and check_writable_folder(folder) is not None:
            return folder
    return None


@pytest.mark.skipif(_unwritable_folder() is None, reason="needs Linux /sys or /proc")
def test_save_model_into_an_unwritable_folder_exits_2_before_training(
    make_image_folder, tmp_path, capsys
):
    root = make_image_folder({"a": 3, "b": 3})
    target = os.path.join(_unwritable_folder(), "best.keras")
    code = main(["tune", str(root), "--save-model", target,
                 "--directory", str(tmp_path / "runs")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("tunekit tune: error: Cannot write")
    assert f"Received: --save-model={target!r}" in err and "Traceback" not in err
    assert not (tmp_path / "runs").exists()


def test_a_cache_dir_that_is_a_file_exits_2_before_training(
    make_image_folder, tmp_path, capsys
):
    root = make_image_folder({"a": 3, "b": 3})
    blocker = tmp_path / "cache_file"
    blocker.write_text("")
    code = main(["tune", str(root), "--cache-dir", str(blocker), "--image-size",
                 "8", "8", "--directory", str(tmp_path / "runs")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "--no-cache" in err and str(blocker) in err
    assert not (tmp_path / "runs").exists()


def test_help_does_not_import_keras():
    code = (
        "import sys\n"
        "from tunekit.cli._main import main\n"
        "try:\n    main(['tune', '--help'])\n"
        "except SystemExit:\n    pass\n"
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "--image-size" in out.stdout and "--class-weight" in out.stdout


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--factor", "1", "argument --factor: expected an integer >= 2, got 1"),
        ("--seed", "-1", "argument --seed: expected an integer >= 0, got -1"),
    ],
)
def test_bad_numeric_options_are_refused_by_the_parser(
    make_image_folder, capsys, option, value, message
):
    from tunekit.cli._main import main

    root = make_image_folder({"a": 2, "b": 2})
    with pytest.raises(SystemExit) as excinfo:
        main(["tune", str(root), "--image-size", "8", "8", option, value])
    assert excinfo.value.code == 2
    assert message in capsys.readouterr().err


def test_tune_refit_saves_a_model_that_knows_its_class_names(
    make_image_folder, tmp_path, capsys
):
    import keras
    import numpy as np

    import tunekit

    train = make_image_folder({"dark": 10, "light": 10}, size=(8, 8), name="train")
    val = make_image_folder({"dark": 4, "light": 4}, size=(8, 8), name="val")
    saved = tmp_path / "best.keras"
    argv = [
        "tune", str(train), "--validation-dir", str(val), "--image-size", "8", "8",
        "--color-mode", "grayscale", "--tuner", "random", "--max-trials", "1",
        "--max-epochs", "2", "--preset", "dense_head", "--refit",
        "--directory", str(tmp_path / "runs"), "--no-cache", "--batch-size", "4",
        "--save-model", str(saved), "--json",
    ]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{") :])
    assert result["refit_images"] == 28
    assert 1 <= result["refit_epochs"] <= 2
    names = tunekit.load_class_names(saved)
    assert names == ["dark", "light"]
    model = keras.models.load_model(saved)
    predicted = model.predict(np.zeros((2, 8, 8, 1), "float32"), verbose=0)
    assert {names[i] for i in predicted.argmax(-1)} <= {"dark", "light"}


def test_the_first_trial_is_the_presets_defaults_unless_random_start(tmp_path):
    import argparse

    from tunekit.cli._tune import _make_tuner, add_arguments
    from tunekit.hypermodels._cnn import build_cnn_hypermodel

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    hypermodel = build_cnn_hypermodel((8, 8, 1), 2, preset="dense_head")
    common = [str(tmp_path), "--tuner", "random", "--directory", str(tmp_path / "p")]
    default = _make_tuner(parser.parse_args(common), hypermodel)
    first = default.oracle.create_trial("tuner0").hyperparameters.values
    assert first["learning_rate"] == 1e-3
    assert first == {hp.name: hp.default for hp in default.oracle.hyperparameters.space}
    args = parser.parse_args([*common, "--random-start", "--overwrite"])
    random_start = _make_tuner(args, hypermodel)
    drawn = random_start.oracle.create_trial("tuner0").hyperparameters.values
    assert drawn != first  # a random draw (seed 0), not the preset's defaults


def test_best_block_rounds_floats_and_json_keeps_them_exact(capsys):
    import argparse

    from tunekit.cli import _tune

    result = {
        "best_trial": "3",
        "trials": 4,
        "best_val_accuracy": 0.9,
        "project_dir": "runs/p",
        "best_hyperparameters": {"dropout": 0.1 + 0.2, "units": 32, "lr": 1.2345e-4},
    }
    _tune._print_result(result, argparse.Namespace(json=False))
    out = capsys.readouterr().out
    assert "  dropout = 0.3\n" in out and "  lr = 0.0001234\n" in out
    assert "0.30000000000000004" not in out and "  units = 32\n" in out
    _tune._print_result(result, argparse.Namespace(json=True))
    assert json.loads(capsys.readouterr().out)["best_hyperparameters"]["dropout"] == (
        0.1 + 0.2
    )


@pytest.mark.parametrize(
    ("value", "shown"), [("2", "2"), ("90", "90"), ("-0.1", "-0.1"), ("nan", "nan")]
)
def test_target_outside_val_accuracy_range_exits_2_before_anything(
    make_image_folder, tmp_path, capsys, value, shown
):
    root = make_image_folder({"a": 2, "b": 2})
    code = main(["tune", str(root), "--target", value,
                 "--directory", str(tmp_path / "runs")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "--target must be within [0, 1] for the objective val_accuracy" in err
    assert err.rstrip().endswith(f"Received: --target={shown}")
    assert "Traceback" not in err and not (tmp_path / "runs").exists()


def test_max_trials_with_hyperband_is_refused(make_image_folder, tmp_path, capsys):
    root = make_image_folder({"a": 2, "b": 2})
    argv = ["tune", str(root), "--tuner", "hyperband", "--max-trials", "3",
            "--max-epochs", "9", "--directory", str(tmp_path / "runs")]  # fmt: skip
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert "--max-trials applies to --tuner random, bayesian and optuna only" in err
    assert "(here 23 trials" in err and "--time-budget" in err
    assert err.rstrip().endswith("Received: --max-trials=3, --tuner=hyperband")
    assert not (tmp_path / "runs").exists()


def _identical_validation_folder(root, size=(8, 8)):
    """Two classes of the very same image: any model is at chance (1/2) on it."""
    from PIL import Image

    for name in ("dark", "light"):
        (root / name).mkdir(parents=True)
        for i in range(2):
            Image.new("L", size, 128).save(root / name / f"{i}.png")
    return root


@pytest.mark.slow  # trains one trial of one epoch
def test_tune_prints_its_project_and_report_flags_collapse_without_n_classes(
    make_image_folder, tmp_path, capsys
):
    train = make_image_folder({"dark": 4, "light": 4}, size=(8, 8), name="train")
    val = _identical_validation_folder(tmp_path / "val")
    runs = tmp_path / "runs"
    argv = [
        "tune", str(train), "--validation-dir", str(val), "--image-size", "8", "8",
        "--color-mode", "grayscale", "--tuner", "random", "--max-trials", "1",
        "--max-epochs", "1", "--preset", "dense_head", "--no-cache",
        "--batch-size", "4", "--directory", str(runs), "--project-name", "p",
    ]  # fmt: skip
    assert main([*argv, "--json"]) == 0
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{") :])
    project = str(runs / "p")
    assert result["project_dir"] == project
    assert result["best_val_accuracy"] == 0.5
    assert json.loads((runs / "p" / "tunekit.json").read_text())["n_classes"] == 2
    # No --n-classes: the number tune recorded is used.
    assert main(["report", project, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_classes"] == 2
    assert report["flagged"] == {"collapsed": [result["best_trial"]]}
    assert main(["report", project]) == 0
    assert "1 collapsed to chance accuracy" in capsys.readouterr().out
    # Text output: the project line (the finished search is resumed, not rerun).
    assert main([*argv, "--quiet"]) == 0
    assert f"project: {project} (see it with: tunekit report {project})" in (
        capsys.readouterr().out
    )


def test_optuna_options_without_the_optuna_tuner_exit_2_before_anything(
    make_image_folder, tmp_path, capsys
):
    root = make_image_folder({"a": 2, "b": 2})
    argv = ["tune", str(root), "--tuner", "random", "--pruning", "asha",
            "--directory", str(tmp_path / "runs")]  # fmt: skip
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "--pruning applies to --tuner optuna only" in err
    assert err.rstrip().endswith("Received: --pruning=asha, --tuner=random")
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_tune_with_the_optuna_engine_and_asha(make_image_folder, tmp_path, capsys):
    import optuna

    train = make_image_folder({"dark": 10, "light": 10}, size=(8, 8), name="train")
    argv = [
        "tune", str(train), "--image-size", "8", "8", "--color-mode", "grayscale",
        "--tuner", "optuna", "--pruning", "asha", "--max-trials", "3",
        "--max-epochs", "2", "--preset", "dense_head", "--batch-size", "8",
        "--directory", str(tmp_path / "runs"), "--project-name", "p", "--json",
    ]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{") :])
    assert result["trials"] == 3
    storage = f"sqlite:///{tmp_path / 'runs' / 'p' / 'optuna.db'}"
    study = optuna.load_study(study_name="p", storage=storage)
    fingerprint = json.loads((tmp_path / "runs" / "p" / "tunekit.json").read_text())
    assert fingerprint["tuner"] == "optuna"
    assert fingerprint["settings"]["pruning"] == "asha"
    finished = [t for t in study.trials if t.state.is_finished()]
    assert len(finished) == 3 and all(t.intermediate_values for t in finished)
