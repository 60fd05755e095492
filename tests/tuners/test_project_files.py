"""A truncated or broken project file: a tunekit error naming it; nothing is lost."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import keras
import pytest
from tiny_models import dense_digits

import tunekit
from tunekit import CorruptProjectError, StaleProjectError
from tunekit.tuners._project_files import check_project_files, project_json_files


def _tuner(directory: Path, **kwargs):
    return tunekit.RandomSearch(
        dense_digits,
        "val_accuracy",
        max_trials=2,
        directory=directory,
        project_name="p",
        verbose=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def searched_project(digits, tmp_path_factory):
    x, y = digits
    x = x.reshape(len(x), -1)
    directory = tmp_path_factory.mktemp("files")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tuner = _tuner(directory)
        tuner.search(
            x[:120], y[:120], epochs=1, validation_data=(x[120:180], y[120:180])
        )
    keras.backend.clear_session()
    return directory / "p"


def _snapshot(project: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(project)): p.read_bytes()
        for p in sorted(project.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    "name", ["tunekit.json", "oracle.json", "tuner0.json", "trial_0/trial.json"]
)
@pytest.mark.parametrize("damage", ["truncated", "empty", "list"])
def test_a_broken_file_is_named_and_nothing_is_deleted(
    searched_project, tmp_path, name, damage
):
    project = tmp_path / "p"
    shutil.copytree(searched_project, project)
    path = project / name
    text = path.read_text()
    path.write_text(
        {"truncated": text[: len(text) // 2], "empty": "", "list": "[]"}[damage]
    )
    before = _snapshot(project)
    with pytest.raises(CorruptProjectError) as info:
        _tuner(tmp_path)
    message = str(info.value)
    assert str(path) in message
    assert "overwrite=True" in message and "project_name" in message
    assert "nothing was deleted" in message
    assert not isinstance(info.value.__cause__, json.JSONDecodeError)
    assert _snapshot(project) == before
    # the error is one a KerasTuner or tunekit user already catches
    assert isinstance(info.value, StaleProjectError)
    assert isinstance(info.value, ValueError)


def test_overwrite_still_starts_afresh(searched_project, tmp_path):
    project = tmp_path / "p"
    shutil.copytree(searched_project, project)
    (project / "oracle.json").write_text('{"ongoing')
    tuner = _tuner(tmp_path, overwrite=True)
    assert tuner.oracle.trials == {}
    check_project_files(project)


def test_intact_project_resumes(searched_project, tmp_path):
    shutil.copytree(searched_project, tmp_path / "p")
    check_project_files(tmp_path / "p")
    assert len(_tuner(tmp_path).oracle.trials) == 2


def test_listing_and_undecodable_bytes(tmp_path):
    (tmp_path / "trial_3").mkdir()
    (tmp_path / "trial_3" / "trial.json").write_bytes(b"\xff\xfe{")
    (tmp_path / "notes.txt").write_text("not json")
    assert [Path(p).name for p in project_json_files(tmp_path)] == ["trial.json"]
    with pytest.raises(CorruptProjectError, match="not UTF-8"):
        check_project_files(tmp_path)


def test_project_file_names_are_spelled_in_one_module():
    import ast
    from pathlib import Path

    from tunekit.tuners import _project_files

    names = {
        _project_files.FINGERPRINT_FILE,
        _project_files.ORACLE_FILE,
        _project_files.TRIAL_FILE,
        _project_files.LOCK_FILE,
        _project_files.REPORT_FILE,
    }
    package = Path(_project_files.__file__).parents[1]
    spelled = {
        f"{path.relative_to(package)}:{node.lineno}": node.value
        for path in sorted(package.rglob("*.py"))
        if path.name != "_project_files.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value in names
    }
    assert not spelled, f"import the name from tuners/_project_files.py: {spelled}"
