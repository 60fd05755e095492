"""Nothing the user saved is lost or locked away.

A saved model survives a ``kill -9`` or a full disk during the next save; a
finished project opened again is not written to (so it opens from a
read-only share), and a search that must write there says so.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
import zipfile
from pathlib import Path

import keras
import pytest
from tiny_models import dense_digits

import tunekit
from tunekit import UnwritablePathError
from tunekit.tuners._refit import save_model_file

_SRC = str(Path(tunekit.__file__).resolve().parents[1])


def _model(units: int = 4):
    return keras.Sequential(
        [keras.Input((64,)), keras.layers.Dense(units), keras.layers.Dense(10)]
    )


def _child_env() -> dict[str, str]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_SRC, env.get("PYTHONPATH")) if p)
    return env


# ---- a saved model ----------------------------------------------------------

_STALLING_SAVE = textwrap.dedent(
    """
    import sys, time, zipfile
    import keras
    from tunekit.tuners._refit import save_model_file

    path, started = sys.argv[1:3]
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(32)])
    write = zipfile.ZipFile.writestr

    def stall(self, *args, **kwargs):  # the weights go in: the file is half written
        write(self, *args, **kwargs)
        open(started, "w").close()
        time.sleep(300)

    zipfile.ZipFile.writestr = stall
    save_model_file(model, path, ["new"] * 32)
    """
)


@pytest.mark.slow
def test_kill_9_during_a_save_keeps_the_previous_model(tmp_path):
    path = tmp_path / "best.keras"
    save_model_file(_model(), path, [str(i) for i in range(10)])
    before = path.read_bytes()
    started = tmp_path / "started"
    child = subprocess.Popen(
        [sys.executable, "-c", _STALLING_SAVE, str(path), str(started)],
        env=_child_env(),
    )
    try:
        deadline = time.monotonic() + 120
        while not started.exists():  # the child is stalled inside the save
            assert child.poll() is None, "the child ended before it stalled"
            assert time.monotonic() < deadline, "the child never started saving"
            time.sleep(0.05)
        partial = [p for p in tmp_path.iterdir() if p.name.startswith(".best.keras.")]
        assert len(partial) == 1 and partial[0].stat().st_size > 0  # mid-write
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert path.read_bytes() == before
    assert tunekit.load_class_names(path) == [str(i) for i in range(10)]
    assert keras.models.load_model(path).output_shape == (None, 10)


def test_a_save_that_fails_keeps_the_previous_model(tmp_path, monkeypatch):
    path = tmp_path / "best.keras"
    save_model_file(_model(), path, ["a", "b"])
    before = path.read_bytes()

    def disk_full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(zipfile.ZipFile, "writestr", disk_full)
    with pytest.raises(UnwritablePathError, match="No space left on device"):
        save_model_file(_model(8), path, ["c", "d"], argument="--save-model")
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["best.keras"]  # the temporary is gone
    assert tunekit.load_class_names(path) == ["a", "b"]


def test_saving_into_a_folder_that_is_a_file_names_the_argument(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    with pytest.raises(UnwritablePathError) as caught:
        save_model_file(_model(), blocker / "best.keras", argument="--save-model")
    message = str(caught.value)
    assert "not_a_folder" in message and "--save-model=" in message


# ---- a finished project, opened again -----------------------------------------


def _tuner(directory, **kwargs):
    return tunekit.random_search(
        dense_digits, "val_accuracy", max_trials=2, directory=str(directory),
        project_name="p", seed=0, verbose=False, **kwargs,
    )  # fmt: skip


def _allow_writes(root: str) -> None:
    for folder, _, _ in os.walk(root):
        os.chmod(folder, 0o755)


@pytest.fixture(scope="module")
def finished(digits):
    """A finished search in a folder that another user may read (not tmp_path)."""
    x, y = digits
    x = x.reshape(len(x), -1)
    root = tempfile.mkdtemp(prefix="tunekit-finished-")
    os.chmod(root, 0o755)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tuner = _tuner(root)
        tuner.search(
            x[:120], y[:120], epochs=1, validation_data=(x[120:180], y[120:180])
        )
    keras.backend.clear_session()
    yield Path(root)
    _allow_writes(root)
    shutil.rmtree(root, ignore_errors=True)


def _stat_tree(root: Path) -> dict[str, tuple[int, int, int]]:
    return {
        str(p.relative_to(root)): (
            p.stat().st_ino,
            p.stat().st_mtime_ns,
            p.stat().st_size,
        )
        for p in sorted(root.rglob("*"))
    }


@pytest.mark.slow
def test_reopening_a_finished_project_writes_nothing(finished, digits):
    before = _stat_tree(finished)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no trials left"
        tuner = _tuner(finished)
    tuner.get_best_models(1)
    tunekit.summarize(tuner)
    assert _stat_tree(finished) == before  # tunekit.json included: not rewritten


READ_ONLY_SCRIPT = Path(__file__).parent / "read_only_project.py"


@pytest.mark.slow
def test_a_read_only_project_opens_for_reading_and_refuses_to_search(finished):
    out_dir = Path(tempfile.mkdtemp(prefix="tunekit-out-"))
    os.chmod(out_dir, 0o777)
    try:
        for folder, _, files in os.walk(finished):
            os.chmod(folder, 0o555)
            for name in files:
                path = os.path.join(folder, name)
                os.chmod(path, stat.S_IMODE(os.stat(path).st_mode) & ~0o222 | 0o444)
        before = _stat_tree(finished)
        done = subprocess.run(
            [sys.executable, str(READ_ONLY_SCRIPT), str(finished), str(out_dir)],
            env=_child_env(), capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        _allow_writes(str(finished))
        shutil.rmtree(out_dir, ignore_errors=True)
    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    assert lines, done.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT ") :])
    assert result["predicts"] == [2, 10] and result["trials"] == 2
    assert result["html"] and result["report_output"] == 0
    assert result["report_default"] == 2
    assert "--output" in result["report_error"] and "Traceback" not in done.stderr
    assert result["search"].startswith("UnwritablePathError: Cannot write")
    assert repr(str(finished / "p")) in result["search"]
    assert _stat_tree(finished) == before  # nothing written, nothing touched
