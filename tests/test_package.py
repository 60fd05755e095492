"""The public door: clean import, every exported name resolves, one error family."""

from __future__ import annotations

import subprocess
import sys

import pytest

import tunekit
from tunekit import _errors


def _run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )


def test_import_loads_neither_keras_nor_tensorflow_and_prints_nothing():
    result = _run_python(
        "import sys, tunekit\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'keras_tuner', 'sklearn')"
        " if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    assert result.stdout == ""
    assert result.stderr == ""


def test_version_is_a_string():
    assert isinstance(tunekit.__version__, str)
    assert tunekit.__version__.count(".") == 2


@pytest.mark.parametrize("name", sorted(set(tunekit.__all__) - {"__version__"}))
def test_every_public_name_resolves_and_is_documented(name):
    value = getattr(tunekit, name)
    assert value is not None
    assert (value.__doc__ or "").strip(), f"{name} has no docstring"


def test_dir_lists_public_names():
    assert set(tunekit.__all__) <= set(dir(tunekit))


def test_unknown_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tunekit.nope  # noqa: B018


@pytest.mark.parametrize(
    "error, builtins",
    [
        (tunekit.InvalidParameterError, (ValueError, TypeError)),
        (tunekit.ObjectiveError, (ValueError,)),
        (tunekit.StaleProjectError, (ValueError,)),
        (tunekit.SearchFailedError, (RuntimeError,)),
        (tunekit.LabelMismatchError, (ValueError,)),
        (tunekit.ImageDirectoryError, (ValueError,)),
    ],
)
def test_errors_share_one_base_and_the_builtin_users_catch(error, builtins):
    assert issubclass(error, tunekit.TunekitError)
    for builtin in builtins:
        assert issubclass(error, builtin)


def test_every_error_class_is_exported():
    for name in _errors.__all__:
        assert getattr(tunekit, name) is getattr(_errors, name)


def test_cli_help_lists_subcommands(capsys):
    from tunekit.cli._main import main

    with pytest.raises(SystemExit) as excinfo:
        main(["--help"])
    assert excinfo.value.code == 0
    out = capsys.readouterr().out
    assert "demo" in out and "tune" in out


def test_cli_without_command_prints_help_and_fails(capsys):
    from tunekit.cli._main import main

    assert main([]) == 2
    assert "usage: tunekit" in capsys.readouterr().out


def test_python_dash_m_tunekit_version():
    result = _run_python(
        "import runpy, sys; sys.argv=['tunekit','--version']\n"
        "runpy.run_module('tunekit', run_name='__main__')"
    )
    assert result.stdout.strip() == f"tunekit {tunekit.__version__}"
