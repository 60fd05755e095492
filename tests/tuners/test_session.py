"""Around a search: Ctrl-C (SIGINT to a real search process), verbose, the lock."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tunekit.tuners._project_lock import LOCK_FILE
from tunekit.tuners._session import _accepts_verbose, _passes_verbose_to_fit

HERE = Path(__file__).parent
SEARCH_SCRIPT = HERE / "interruptible_search.py"


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    src = str(HERE.parents[1] / "src")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
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


def _statuses(project: Path) -> dict[str, str]:
    return {
        p.parent.name: json.loads(p.read_text())["status"]
        for p in sorted(project.glob("trial_*/trial.json"))
    }


def _search(tmp_path: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(SEARCH_SCRIPT), "--directory", str(tmp_path), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
    )


@pytest.mark.slow  # two real searches in child processes
def test_ctrl_c_prints_one_line_and_rerunning_resumes(tmp_path):
    marker = tmp_path / "in-trial-2"
    child = _search(tmp_path, "--hold-at", "2", "--marker", str(marker))
    _wait_for(marker, child)  # trial 0 is complete, trial 1 is training
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=120)
    assert child.returncode != 0  # the library lets KeyboardInterrupt go on
    lines = [line for line in err.splitlines() if "search interrupted" in line]
    assert lines == [
        "tunekit: search interrupted: 1 of 3 trials complete; trial 1 did not "
        "finish and will run again. Rerun the same call (or command) to resume "
        "the search."
    ]
    assert "KeyboardInterrupt" in err  # re-raised, as a notebook user expects
    project = tmp_path / "search"
    assert _statuses(project) == {"trial_0": "COMPLETED", "trial_1": "RUNNING"}
    assert not (project / LOCK_FILE).exists()  # released on the interrupt
    assert "[1/3] trial 0" in out

    rerun = _search(tmp_path)
    out, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    assert re.search(r"1 trial\(s\) done \(1 completed\), 1 interrupted", out)
    trained = re.findall(r"\] trial (\d+) ", out)
    assert trained == ["1", "2"]  # trial 0 is not trained again
    assert _statuses(project) == {f"trial_{i}": "COMPLETED" for i in range(3)}


def _digit_images(root: Path) -> Path:
    """60 real 8x8 PNGs: scikit-learn's digits 0, 1 and 2, 20 of each."""
    from PIL import Image
    from sklearn.datasets import load_digits

    data = load_digits()
    for digit in range(3):
        folder = root / f"digit_{digit}"
        folder.mkdir(parents=True)
        images = data.images[data.target == digit][:20]
        for i, image in enumerate(images):
            pixels = (image * 15).astype("uint8")
            Image.fromarray(pixels, mode="L").save(folder / f"{i:02d}.png")
    return root


def _scores(project: Path) -> dict[str, tuple[dict, float]]:
    found = {}
    for path in sorted(project.glob("trial_*/trial.json")):
        trial = json.loads(path.read_text())
        found[trial["trial_id"]] = (trial["hyperparameters"]["values"], trial["score"])
    return found


def _search_module():
    spec = importlib.util.spec_from_file_location("interruptible_search", SEARCH_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # a search killed by SIGKILL, resumed in a new process
@pytest.mark.parametrize("loader", ["directory", "tf_data"])
def test_a_killed_image_search_resumes_with_the_scores_of_one_never_stopped(
    tmp_path, loader
):
    if loader == "tf_data":
        pytest.importorskip("tensorflow")
    images = str(_digit_images(tmp_path / "images"))
    runs = tmp_path / "runs"
    marker = tmp_path / "in-trial-2"
    arguments = ("--images", images, "--loader", loader, "--max-trials", "3")
    child = _search(runs, *arguments, "--hold-at", "2", "--marker", str(marker))
    _wait_for(marker, child)  # trial 0 is complete, trial 1 is training
    child.kill()  # SIGKILL
    child.communicate(timeout=60)
    assert _statuses(runs / "search") == {
        "trial_0": "COMPLETED",
        "trial_1": "RUNNING",
    }
    rerun = _search(runs, *arguments)
    _, err = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, err
    resumed = _scores(runs / "search")

    # The same search never stopped, in this process (after other work).
    _search_module().image_search(
        str(tmp_path / "reference"), images, loader, max_trials=3
    )
    reference = _scores(tmp_path / "reference" / "search")
    assert len(reference) == 3
    assert {k: v for k, (v, _) in resumed.items()} == {
        k: v for k, (v, _) in reference.items()
    }
    assert {k: score for k, (_, score) in resumed.items()} == pytest.approx(
        {k: score for k, (_, score) in reference.items()}, rel=1e-5
    )


def test_verbose_is_added_only_where_the_signature_takes_it():
    def takes_kwargs(hp, model, *args, **kwargs):
        return None

    def takes_verbose(hp, model, x, verbose=1):
        return None

    def strict(hp, model, x, y, epochs):
        return None

    assert _accepts_verbose(takes_kwargs) and _accepts_verbose(takes_verbose)
    assert not _accepts_verbose(strict)

    class Tuner:
        hypermodel = type("HyperModel", (), {"fit": staticmethod(strict)})()

        def run_trial(self, trial, *args, **kwargs):
            return None

    assert not _passes_verbose_to_fit(Tuner())
    Tuner.hypermodel.fit = staticmethod(takes_kwargs)
    assert _passes_verbose_to_fit(Tuner())


def test_ctrl_c_waits_while_project_files_are_written(tmp_path):
    if os.name == "nt":  # pragma: no cover
        pytest.skip("POSIX signals")
    from tunekit.tuners._session import SearchSession

    class Oracle:
        verbose = 1
        trials: dict = {}

    class Tuner:
        project_dir = str(tmp_path / "p")
        oracle = Oracle()
        hypermodel = None

        def run_trial(self, trial, **kwargs):
            return None

    tuner = Tuner()
    written = []
    with pytest.raises(KeyboardInterrupt) as info:
        with SearchSession(tuner, {}, display=False) as session:
            assert (tmp_path / "p" / LOCK_FILE).exists()
            with pytest.raises(KeyboardInterrupt):
                with session.writing():
                    signal.raise_signal(signal.SIGINT)
                    written.append("the files")  # reached: the interrupt waits
            assert written == ["the files"]
            signal.raise_signal(signal.SIGINT)  # outside a write: at once
    assert info.value.tunekit_reported is True
    assert not (tmp_path / "p" / LOCK_FILE).exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert tuner.oracle.verbose == 1
