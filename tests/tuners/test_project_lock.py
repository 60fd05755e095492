"""The project lock: one process at a time per project, with real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import pytest

import tunekit
from tunekit import ProjectLockedError
from tunekit.tuners._project_lock import (
    LOCK_FILE,
    ProjectLock,
    check_project_unlocked,
    locking_applies,
)

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
SEARCH_SCRIPT = HERE / "interruptible_search.py"

# A process that only takes the lock (no Keras: starts in a fraction of a second).
LOCK_ONLY = textwrap.dedent(
    """
    import sys, time
    from tunekit.tuners._project_lock import ProjectLock
    lock = ProjectLock(sys.argv[1])
    lock.acquire()
    print("locked", flush=True)
    time.sleep(600)
    """
)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    for name in ("KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        env.pop(name, None)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"child exited early ({process.returncode}):\n{out}\n{err}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"child never wrote {path}")
        time.sleep(0.05)


@pytest.fixture
def lock_holder(tmp_path):
    """A real child process holding the lock of ``tmp_path / 'project'``."""
    project = tmp_path / "project"
    child = subprocess.Popen(
        [sys.executable, "-c", LOCK_ONLY, str(project)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
    )
    assert child.stdout.readline().strip() == "locked", child.stderr.read()
    yield project, child
    if child.poll() is None:
        child.kill()
    child.communicate()


def _build(hp):
    import keras

    model = keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(hp.Choice("units", [4, 8]))]
    )
    model.compile("adam", "mse")
    return model


def test_lock_file_names_the_owner_and_goes_away(tmp_path):
    project = tmp_path / "p"
    with ProjectLock(project) as lock:
        assert lock.held
        record = json.loads((project / LOCK_FILE).read_text())
        assert record["pid"] == os.getpid()
        assert record["host"] == socket.gethostname()
        assert record["started"]
        check_project_unlocked(project)  # this process may reopen its project
        with ProjectLock(project):  # re-entrant in one process
            pass
        assert (project / LOCK_FILE).exists()  # still held by the outer one
    assert not (project / LOCK_FILE).exists()
    assert not lock.held


def test_a_live_lock_of_another_process_is_refused(lock_holder):
    project, child = lock_holder
    with pytest.raises(ProjectLockedError) as info:
        check_project_unlocked(project)
    message = str(info.value)
    assert f"pid {child.pid}" in message and socket.gethostname() in message
    assert "another `project_name`" in message
    with pytest.raises(ProjectLockedError):
        ProjectLock(project).acquire()
    assert isinstance(info.value, RuntimeError)
    # The owner's record is left untouched.
    assert json.loads((project / LOCK_FILE).read_text())["pid"] == child.pid


def test_overwrite_of_a_locked_project_deletes_nothing(lock_holder):
    project, _ = lock_holder
    (project / "keep.txt").write_text("results")
    for overwrite in (False, True):
        with pytest.raises(ProjectLockedError, match="being searched by another"):
            tunekit.RandomSearch(
                _build,
                "val_loss",
                max_trials=1,
                directory=project.parent,
                project_name=project.name,
                overwrite=overwrite,
                verbose=False,
            )
    assert (project / "keep.txt").read_text() == "results"
    assert sorted(p.name for p in project.iterdir()) == ["keep.txt", LOCK_FILE]


def test_stale_lock_of_a_killed_process_is_taken_over_with_one_warning(lock_holder):
    project, child = lock_holder
    child.send_signal(signal.SIGKILL)
    child.wait()  # reaped: the pid is gone
    assert json.loads((project / LOCK_FILE).read_text())["pid"] == child.pid
    check_project_unlocked(project)  # a dead owner does not block
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with ProjectLock(project):
            record = json.loads((project / LOCK_FILE).read_text())
            assert record["pid"] == os.getpid()
    stale = [w for w in caught if "stale lock" in str(w.message)]
    assert len(stale) == 1, [str(w.message) for w in caught]
    assert f"pid {child.pid}" in str(stale[0].message)
    assert not (project / LOCK_FILE).exists()


def test_distributed_workers_neither_lock_nor_check(lock_holder, monkeypatch):
    project, _ = lock_holder
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "8000")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    assert not locking_applies()
    check_project_unlocked(project)
    worker = ProjectLock(project)
    worker.acquire()  # a no-op for a worker
    assert not worker.held
    worker.release()
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    assert locking_applies()
    with pytest.raises(ProjectLockedError):
        ProjectLock(project).acquire()


@pytest.mark.slow  # a real search in a child process (about a minute on 2 cores)
def test_a_second_process_cannot_open_a_project_while_it_is_searched(tmp_path):
    marker, release = tmp_path / "holding", tmp_path / "release"
    child = subprocess.Popen(
        [
            sys.executable,
            str(SEARCH_SCRIPT),
            "--directory",
            str(tmp_path),
            "--max-trials",
            "1",
            "--hold-at",
            "1",
            "--marker",
            str(marker),
            "--release",
            str(release),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
    )
    try:
        _wait_for(marker, child)  # the child is inside its first trial
        project = tmp_path / "search"
        before = sorted(p.name for p in project.iterdir())
        with pytest.raises(ProjectLockedError, match=f"pid {child.pid}"):
            tunekit.RandomSearch(
                _build,
                "val_accuracy",
                max_trials=1,
                directory=tmp_path,
                project_name="search",
                overwrite=True,
                verbose=False,
            )
        assert sorted(p.name for p in project.iterdir()) == before
    finally:
        release.touch()
        out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    assert "[1/1] trial 0" in out
    assert not (tmp_path / "search" / LOCK_FILE).exists()
    check_project_unlocked(tmp_path / "search")
