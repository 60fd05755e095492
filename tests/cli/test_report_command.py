"""``tunekit report PROJECT_DIR``: a real process writes it, a real browser opens it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import tunekit
from tunekit.cli._main import main

ROOT = Path(__file__).parents[2]
SEARCH_SCRIPT = ROOT / "tests" / "tuners" / "interruptible_search.py"
CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)),
    None,
)
#: Flags for a headless Chromium on a machine without network or GPU.
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--enable-logging=stderr",
    "--v=0",
]  # fmt: skip


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory, digits):
    import keras

    x, y = digits
    x = x.reshape(len(x), -1)

    def build(hp):
        model = keras.Sequential(
            [keras.Input((64,)), keras.layers.Dense(hp.Choice("units", [4, 16])),
             keras.layers.Dense(10, activation="softmax")]
        )  # fmt: skip
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    tuner = tunekit.random_search(
        build, "val_accuracy", max_trials=2, seed=0, verbose=False,
        directory=str(tmp_path_factory.mktemp("runs")), project_name="digits",
        max_consecutive_failed_trials=2,
    )  # fmt: skip
    tuner.search(x[:300], y[:300], validation_data=(x[300:500], y[300:500]),
                 epochs=1, verbose=0)  # fmt: skip
    return tuner.project_dir, tuner.oracle.get_best_trials(1)[0].trial_id


def _report(project, *extra):
    return subprocess.run(
        [sys.executable, "-m", "tunekit", "report", project, *extra],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_report_writes_the_page_and_one_json_object(project_dir, tmp_path):
    project, best = project_dir
    output = tmp_path / "page.html"
    result = _report(project, "--output", str(output), "--json", "--n-classes", "10")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["best_trial"] == best and payload["trials"] == 2
    assert payload["path"] == str(output) and output.is_file()


def test_report_defaults_to_the_project_folder(project_dir, capsys):
    project, best = project_dir
    assert main(["report", project]) == 0
    assert f"best trial {best}" in capsys.readouterr().out
    assert os.path.isfile(os.path.join(project, "report.html"))


def test_report_of_a_folder_that_is_no_project_exits_2(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "PROJECT_DIR must be a tuner project" in err and "Received:" in err


def test_report_output_that_cannot_be_written_exits_2(project_dir, tmp_path, capsys):
    project, _ = project_dir
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    output = blocker / "page.html"
    assert main(["report", project, "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("tunekit report: error: Cannot write")
    assert f"Received: --output={str(output)!r}" in err and "Traceback" not in err


def _chromium(page: str, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args,
             f"file://{page}"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip


@pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs Debian's chromium (.ci/run installs it: apt-get install chromium)",
)
def test_page_loads_in_a_real_browser_without_console_errors(project_dir, tmp_path):
    project, best = project_dir
    output = tmp_path / "report.html"
    assert _report(project, "--output", str(output)).returncode == 0
    result = _chromium(str(output), "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    # The page's script ran to its end and read its own data.
    assert 'data-report-ready="1"' in dom
    assert f"report ready: 2 trials, best trial {best}" in dom
    assert f"best trial {best}: val_accuracy" in dom
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line.upper()]
    assert not console, console  # the page logs nothing: no error, no warning
    assert "Uncaught" not in result.stderr


def _json_report(project, capsys, *extra):
    assert main(["report", str(project), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_an_unreadable_trial_file_is_named_in_json_and_on_the_page(
    project_dir, tmp_path, capsys
):
    project, _ = project_dir
    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    broken = sorted(copy.glob("trial_*/trial.json"))[-1]
    broken.write_text("")  # e.g. a full disk
    payload = _json_report(copy, capsys)
    assert payload["trials"] == 1
    [entry] = payload["unreadable"]
    assert entry["path"] == str(broken) and entry["error"]
    page = (copy / "report.html").read_text()
    assert "could not be read" in page and str(broken) in page
    assert main(["report", str(copy)]) == 0
    assert f"could not read {broken}" in capsys.readouterr().err


def _child_env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


@pytest.mark.slow  # a real search in a child process, killed in its second trial
def test_a_search_killed_mid_trial_is_reported_interrupted_not_running(
    tmp_path, capsys
):
    marker, project = tmp_path / "holding", tmp_path / "search"
    child = subprocess.Popen(
        [sys.executable, str(SEARCH_SCRIPT), "--directory", str(tmp_path),
         "--max-trials", "2", "--hold-at", "2", "--marker", str(marker)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_child_env(),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "the child never reached trial 2"
            time.sleep(0.05)
        live = _json_report(project, capsys)  # the owner is alive: running
        assert live["running"] is True and not live["interrupted"]
        assert sorted(live["statuses"].values()) == ["COMPLETED", "RUNNING"]
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate()
    assert (project / "tunekit.lock").exists()  # left behind by the dead owner
    payload = _json_report(project, capsys)
    assert payload["running"] is False
    [running_id] = [i for i, s in live["statuses"].items() if s == "RUNNING"]
    assert payload["interrupted"] == [running_id]
    assert payload["statuses"][running_id] == "INTERRUPTED"
    page = (project / "report.html").read_text()
    assert "not running: interrupted" in page and "still running" not in page
    assert f"pid {child.pid} stopped during this trial" in page
