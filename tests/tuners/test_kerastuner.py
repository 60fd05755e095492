"""The one door to KerasTuner's private modules, and its version check."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tunekit import UnsupportedVersionError
from tunekit.tuners._kerastuner import check_version

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "tunekit"
DOOR = PACKAGE / "tuners" / "_kerastuner.py"


@pytest.mark.parametrize("version", ["1.4.7", "1.4.8", "1.4.9rc1"])
def test_supported_releases_pass(version):
    check_version(version)


@pytest.mark.parametrize("version", ["1.4.6", "1.3.5", "1.5.0", "2.0.0"])
def test_other_releases_are_refused_with_the_way_out(version):
    with pytest.raises(UnsupportedVersionError) as caught:
        check_version(version)
    message = str(caught.value)
    assert "KerasTuner >=1.4.7,<1.5" in message
    assert 'pip install "keras-tuner>=1.4.7,<1.5"' in message
    assert message.endswith(f"Received: keras_tuner.__version__={version!r}")
    assert isinstance(caught.value, ImportError)


def _private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            names = [f"{node.value.id}.{node.attr}"]
        found += [
            n for n in names if n.startswith(("keras_tuner.src", "keras_tuner.engine"))
        ]
    return found


def test_only_the_door_reaches_into_kerastuners_private_modules():
    stray = {
        str(path.relative_to(PACKAGE)): _private_imports(path)
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != DOOR and _private_imports(path)
    }
    assert not stray, f"keras_tuner.src / keras_tuner.engine outside the door: {stray}"
    assert _private_imports(DOOR)  # the door itself does import them


def test_a_tuner_on_an_unsupported_kerastuner_fails_at_import_clearly():
    code = (
        "import keras_tuner; keras_tuner.__version__ = '1.5.0'\n"
        "import tunekit\n"
        "try:\n"
        "    tunekit.RandomSearch\n"
        "except tunekit.UnsupportedVersionError as error:\n"
        "    print('refused:', error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused: tunekit supports KerasTuner >=1.4.7,<1.5" in result.stdout
