"""Check the JSON files of an existing tuner project before anything reads them.

It also words the error for a project tunekit must write and cannot
(:func:`unwritable_project`): a finished project on a read-only share opens
for reading, but resuming its search needs to write there.

A search killed while KerasTuner writes ``oracle.json`` or a ``trial.json``
leaves a truncated file; KerasTuner then fails deep inside its reload with a
bare ``JSONDecodeError`` that names neither the file nor the way out.
:func:`check_project_files` reads every file a reload will read and raises
:class:`~tunekit.CorruptProjectError` naming the broken one. It deletes
nothing.
"""

from __future__ import annotations

import glob
import json
import os

from tunekit._atomic import unwritable
from tunekit._errors import CorruptProjectError, UnwritablePathError

__all__ = [
    "FINGERPRINT_FILE",
    "LOCK_FILE",
    "OPTUNA_FILE",
    "ORACLE_FILE",
    "REPORT_FILE",
    "TRIAL_FILE",
    "check_project_files",
    "project_json_files",
    "trial_files",
    "unwritable_project",
]

# The names of a project's files, spelled here only.
#: tunekit's record of the search's settings (checked on every resume).
FINGERPRINT_FILE = "tunekit.json"
#: KerasTuner's oracle state.
ORACLE_FILE = "oracle.json"
#: KerasTuner's record of one trial, in its ``trial_<id>`` folder.
TRIAL_FILE = "trial.json"
#: The lock a searching process holds (tuners/_project_lock.py).
LOCK_FILE = "tunekit.lock"
#: OptunaSearch's embedded study (SQLite) when no ``storage`` is given.
OPTUNA_FILE = "optuna.db"
#: Where ``tunekit report`` writes the page by default.
REPORT_FILE = "report.html"

# Top-level files a reload reads: tunekit's fingerprint, the oracle, the tuners
# (``tuner0.json``, ``chief.json``... one per tuner id).
_TOP_LEVEL = (FINGERPRINT_FILE, ORACLE_FILE)


def trial_files(project_dir: str | os.PathLike[str]) -> list[str]:
    """The ``trial_*/trial.json`` files of ``project_dir``, sorted."""
    pattern = os.path.join(glob.escape(os.fspath(project_dir)), "trial_*", TRIAL_FILE)
    return sorted(glob.glob(pattern))


def project_json_files(project_dir: str | os.PathLike[str]) -> list[str]:
    """Every JSON file a tuner reads when it resumes ``project_dir``, sorted.

    Examples
    --------
    >>> import os, tempfile
    >>> from tunekit.tuners._project_files import project_json_files
    >>> project = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(project, "trial_0"))
    >>> for name in ("oracle.json", "tuner0.json", "trial_0/trial.json"):
    ...     open(os.path.join(project, name), "w").close()
    >>> [os.path.relpath(p, project) for p in project_json_files(project)]
    ['oracle.json', 'trial_0/trial.json', 'tuner0.json']
    """
    project_dir = os.fspath(project_dir)
    found = [os.path.join(project_dir, name) for name in _TOP_LEVEL]
    found += glob.glob(os.path.join(glob.escape(project_dir), "*.json"))
    found += trial_files(project_dir)
    return sorted({path for path in found if os.path.isfile(path)})


def _problem(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as error:
        return f"it is not UTF-8 text ({error.reason})"
    except OSError as error:
        return f"it cannot be read ({error.strerror or error})"
    if not text.strip():
        return "it is empty (probably truncated by an interrupted write)"
    try:
        content = json.loads(text)
    except ValueError as error:
        return f"it is truncated or not valid JSON ({error})"
    if not isinstance(content, dict):
        return f"it holds a JSON {type(content).__name__}, not an object"
    return None


def check_project_files(project_dir: str | os.PathLike[str]) -> None:
    """Raise :class:`~tunekit.CorruptProjectError` if a project file is unreadable.

    Parameters
    ----------
    project_dir : str or path-like
        An existing tuner project directory.

    Raises
    ------
    CorruptProjectError
        Naming the first broken file, saying that nothing was deleted, and how
        to go on (``overwrite=True`` or a new ``project_name``).

    Examples
    --------
    >>> import os, tempfile
    >>> from tunekit.tuners._project_files import check_project_files
    >>> project = tempfile.mkdtemp()
    >>> with open(os.path.join(project, "oracle.json"), "w") as f:
    ...     _ = f.write('{"ongoing_trials": {')
    >>> check_project_files(project)
    Traceback (most recent call last):
    ...
    tunekit._errors.CorruptProjectError: The project file '...oracle.json' ...
    """
    project_dir = os.fspath(project_dir)
    for path in project_json_files(project_dir):
        problem = _problem(path)
        if problem is None:
            continue
        raise CorruptProjectError(
            f"The project file {path!r} cannot be read: {problem}. The project "
            f"at {project_dir!r} cannot be resumed; nothing was deleted. Pass "
            "`overwrite=True` to delete the project and start afresh, or choose "
            "a new `project_name` (or `directory`) to keep it as it is."
        )


def unwritable_project(
    project_dir: str | os.PathLike[str], error: OSError
) -> UnwritablePathError:
    """The error for a project that a search must write to and cannot.

    Examples
    --------
    >>> denied = PermissionError(13, "Permission denied")
    >>> error = unwritable_project("/archive/p", denied)
    >>> "copy the project" in str(error)
    True
    """
    project_dir = os.fspath(project_dir)
    path = error.filename if isinstance(error.filename, str) else project_dir
    return unwritable(
        path,
        error,
        way_out=(
            f"A search writes its trials into the project at {project_dir!r}, "
            "which cannot be written (read-only?). Reading it needs no write: "
            "`get_best_models()`, `tunekit.summarize()` and `tunekit report "
            "--output FILE` work as they are. To search on, copy the project to "
            "a folder you can write to and pass that `directory`, or choose a "
            "new `directory`/`project_name`."
        ),
        source=(
            f"directory={os.path.dirname(project_dir)!r}, "
            f"project_name={os.path.basename(project_dir)!r}"
        ),
    )
