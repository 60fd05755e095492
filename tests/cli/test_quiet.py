"""Quiet, scriptable output: TensorFlow's start-up lines, ``--json``, warnings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import pytest

from tunekit.cli._quiet import (
    cli_terms,
    cli_warnings,
    is_tensorflow_noise,
    json_stdout,
    quiet_startup,
    result_stream,
)

NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written "
    "to STDERR",
    "I0000 00:00:1796169550.879084   21769 cudart_stub.cc:31] Could not find cuda "
    "drivers on your machine, GPU will not be used.",
    "E0000 00:00:1796169153.009827   15546 cuda_platform.cc:52] failed call to "
    "cuInit: INTERNAL: CUDA error",
    "2026-12-01 10:00:00.123456: I tensorflow/core/util/port.cc:153] oneDNN custom "
    "operations are on.",
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild "
    "TensorFlow with the appropriate compiler flags.",
]
KEPT = [
    "Found 40 images belonging to 2 classes.",
    "tunekit tune: error: DIR needs at least 2 class subfolders",
    "Traceback (most recent call last):",
    "Epoch 1/3",
]


@pytest.mark.parametrize("line", NOISE)
def test_tensorflow_start_up_lines_are_noise(line):
    assert is_tensorflow_noise(line)


@pytest.mark.parametrize("line", KEPT)
def test_our_own_lines_are_kept(line):
    assert not is_tensorflow_noise(line)


def _run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


FD_WRITER = """
import os, sys
from tunekit.cli._quiet import quiet_startup
with quiet_startup():
    os.write(2, b"I0000 00:00:1.5   7 cudart_stub.cc:31] No cuda drivers\\n")
    os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called\\n")
    print("kept line", file=sys.stderr)
    os.write(2, b"partial, no newline")
print("after", file=sys.stderr)
"""


def test_quiet_startup_filters_descriptor_2_of_a_real_process():
    result = _run_python(FD_WRITER)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "kept line\npartial, no newlineafter\n"


def test_user_asking_for_tensorflow_logs_gets_them():
    result = _run_python(FD_WRITER, TF_CPP_MIN_LOG_LEVEL="0")
    assert "cudart_stub.cc" in result.stderr and "kept line" in result.stderr


def test_json_stdout_keeps_stdout_for_the_result_even_for_c_writes():
    code = """
import os, sys
from tunekit.cli._quiet import json_stdout, result_stream
with json_stdout():
    print("Found 4 images belonging to 2 classes.")
    os.write(1, b"a C library writing to descriptor 1\\n")
    print('{"ok": true}', file=result_stream())
print("after the block", flush=True)
"""
    result = _run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{"ok": true}\nafter the block\n'
    assert "Found 4 images" in result.stderr
    assert "descriptor 1" in result.stderr


def test_result_stream_outside_json_mode_is_stdout(capsys):
    print("x", file=result_stream())
    assert capsys.readouterr().out == "x\n"


def test_json_stdout_in_process_sends_prints_to_stderr(capsys):
    with json_stdout() as out:
        print("noise")
        print("{}", file=out)
    captured = capsys.readouterr()
    assert captured.out == "{}\n" and captured.err == "noise\n"


@pytest.mark.parametrize(
    ("python", "cli"),
    [
        ("Pass `overwrite=True` to start afresh", "Pass `--overwrite` to start afresh"),
        ("a larger `max_trials`", "a larger `--max-trials`"),
        ("max_trials=3 is not larger", "--max-trials 3 is not larger"),
        ("or a new `project_name`.", "or a new `--project-name`."),
        ("`search()` will train nothing", "the search will train nothing"),
        ("max_epochs=9", "--max-epochs 9"),
    ],
)
def test_cli_terms_name_the_flags(python, cli):
    assert cli_terms(python) == cli


def test_cli_terms_leave_longer_names_alone():
    text = "KerasTuner's max_consecutive_failed_trials=3 and my_overwrite"
    assert cli_terms(text) == text


def test_cli_warnings_print_one_line_without_source(capsys):
    with cli_warnings("tune"):
        warnings.warn("Pass `overwrite=True` to start afresh", stacklevel=1)
        warnings.warn("Pass `overwrite=True` to start afresh", stacklevel=1)
    err = capsys.readouterr().err
    assert err == "tunekit tune: warning: Pass `--overwrite` to start afresh\n"
    assert ".py" not in err


def test_cli_warnings_restore_the_warning_machinery():
    before = warnings.showwarning
    with cli_warnings("tune"):
        pass
    assert warnings.showwarning is before


def test_quiet_startup_in_process_restores_descriptor_2():
    before = os.fstat(2)
    with quiet_startup():
        pass
    after = os.fstat(2)
    assert (before.st_ino, before.st_dev) == (after.st_ino, after.st_dev)


@pytest.mark.slow  # a fresh process imports TensorFlow and trains: ~40-60 s
def test_tune_json_is_exactly_one_object_on_stdout_of_a_real_process(
    make_image_folder, tmp_path
):
    """The whole stdout parses; the "Found N images" lines and TF's are elsewhere."""
    pytest.importorskip("tensorflow")  # the start-up lines checked are TF's
    train = make_image_folder({"dark": 8, "light": 8}, size=(10, 10), mode="L")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run(
        [
            sys.executable, "-m", "tunekit", "tune", str(train), "--tuner", "random",
            "--max-trials", "1", "--max-epochs", "1", "--batch-size", "8",
            "--preset", "dense_head", "--directory", str(tmp_path / "runs"),
            "--cache-dir", str(tmp_path / "cache"), "--json",
        ],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)  # the whole stdout, nothing before it
    assert isinstance(payload, dict) and payload["trials"] == 1
    assert result.stdout.strip().startswith("{")
    assert "Found 14 images belonging to 2 classes." in result.stderr
    assert "--color-mode grayscale" in result.stderr  # the auto choice, printed
    for marker in ("absl::InitializeLog", "cudart_stub", "cpu_feature_guard"):
        assert marker not in result.stderr
