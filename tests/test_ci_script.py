"""``.ci/run`` runs every test on every run, and shows each stage's time.

The real-process tests are marked ``slow``; a CI that skips them lets
distributed mode, kills and resumes break silently. These checks read the
script itself: they fail if the slow stage is made conditional again, if a
test file it leaves out is run nowhere else, or if a stage stops printing its
time.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

CI = Path(__file__).resolve().parents[1] / ".ci" / "run"
TESTS = CI.parents[1] / "tests"


@pytest.fixture(scope="module")
def script() -> str:
    return CI.read_text()


def _pytest_lines(script: str) -> list[str]:
    """Each pytest invocation of the script, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", script)
    return [line for line in joined.splitlines() if "-m pytest" in line]


def _marker(line: str) -> str | None:
    words = shlex.split(line.split("-m pytest", 1)[1])
    return words[words.index("-m") + 1] if "-m" in words else None


def test_the_slow_tests_run_unconditionally(script):
    slow = [line for line in _pytest_lines(script) if _marker(line) == "slow"]
    assert slow, "no `pytest -m slow` stage in .ci/run"
    # Top level of the script: not inside an `if` that checks the elapsed time.
    assert any(not line.startswith((" ", "\t")) for line in slow), slow
    assert "elapsed" not in script and "SKIP_SLOW" not in script


def test_every_test_file_left_out_of_a_stage_runs_in_another(script):
    lines = _pytest_lines(script)
    ignored = {path for line in lines for path in re.findall(r"--ignore=(\S+)", line)}
    named = {
        word
        for line in lines
        for word in shlex.split(line)
        if word.startswith("tests/") and not word.startswith("--")
    }
    assert ignored <= named, f"ignored but never run: {sorted(ignored - named)}"
    for path in ignored | named:
        assert (CI.parents[1] / path).exists(), path


def test_both_halves_of_the_suite_run(script):
    markers = {_marker(line) for line in _pytest_lines(script)}
    assert {"not slow", "slow"} <= markers


def test_each_stage_prints_its_time(script):
    stages = re.findall(r'^stage "([^"]+)"', script, flags=re.MULTILINE)
    assert len(stages) >= 8, stages
    assert not re.search(r'^echo "== (?!\[)', script, flags=re.MULTILINE), (
        "a stage announced with echo instead of `stage` prints no time"
    )
    assert "[time]" in script and "trap stage_table EXIT" in script


def test_postgresql_is_installed_and_waited_for_before_the_slow_tests(script):
    """The shared-study tests need Debian's PostgreSQL: ``.ci/run`` installs it
    in the background, waits for it before the slow stage, and sets ``CI`` so
    the ``postgres_url`` fixture fails instead of skipping when it is missing."""
    body = re.search(r"^postgres_install\(\) \{\n(.*?)^\}", script, re.M | re.S)
    assert body, "no postgres_install function in .ci/run"
    assert re.search(r"apt-get .*install .*\bpostgresql\b", body.group(1))
    # Debian's binaries are off PATH: the script looks where the fixture looks.
    assert "/usr/lib/postgresql/*/bin" in script
    assert "/usr/lib/postgresql/*/bin" in (TESTS / "postgres_server.py").read_text()
    started = re.search(r"^postgres_install\b.*&\npostgres_pid=\$!$", script, re.M)
    assert started, "postgres_install is not started in the background"
    waited = re.search(r'^wait "\$postgres_pid"', script, re.M)
    assert waited, "the PostgreSQL install is never waited for (at top level)"
    slow = re.search(r"^python -m pytest -m slow\b", script, re.M)
    assert slow and started.start() < waited.start() < slow.start()
    stages = [m.start() for m in re.finditer(r'^stage "', script, re.M)]
    # Waited inside the slow stage (its time counts there), not an earlier one.
    assert max(s for s in stages if s < slow.start()) < waited.start()
    assert re.search(r"^export CI=", script, re.M)
