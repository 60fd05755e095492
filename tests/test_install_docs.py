"""Every install command shown to users installs this package.

The distribution is ``keras-tunekit`` (the import is ``tunekit``): the package
index's ``tunekit`` is an unrelated project, so no page, notebook or docstring
may tell users to ``pip install tunekit``. The TensorFlow-free recipe lists
exactly the runtime dependencies of ``pyproject.toml`` except TensorFlow.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The name users must install.
DISTRIBUTION = "keras-tunekit"
#: ``pip install`` up to the end of the shell command (line end, ``&&``, ``;``,
#: ``|``, a comment, a closing backtick or parenthesis).
PIP_INSTALL = re.compile(r"pip3?\s+install\s+([^\n`;|&)#]*)")
#: Options of ``pip install`` whose next word is a file or URL, not a package.
OPTIONS_WITH_VALUE = frozenset(
    {"-r", "--requirement", "-c", "--constraint", "-i", "--index-url"}
    | {"--extra-index-url", "-f", "--find-links", "-t", "--target"}
)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(command: str) -> list[str]:
    """The distribution names a ``pip install`` argument string installs.

    Paths (``.``, ``".[dev]"``, ``./dist/x.whl``), URLs and options are not
    names; ``"keras-tunekit[plot]"`` names ``keras-tunekit``.
    """
    try:
        words = shlex.split(command)
    except ValueError:  # an unbalanced quote in prose: split on blanks
        words = [w.strip("\"'") for w in command.split()]
    names, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word.startswith("-"):
            skip = word in OPTIONS_WITH_VALUE
            continue
        if word.startswith((".", "/", "~")) or "://" in word:
            continue
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", word)
        if match:
            names.append(_normalize(match.group(0)))
    return names


def _markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _notebook_text(path: Path) -> str:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    parts = []
    for cell in notebook["cells"]:
        parts.append("".join(cell.get("source", "")))
        for output in cell.get("outputs", []):
            parts.append("".join(output.get("text", "")))
            for value in output.get("data", {}).values():
                parts.append("".join(value) if isinstance(value, list) else "")
    return "\n".join(parts)


def _user_facing_texts() -> dict[str, str]:
    """Every page, notebook, source file (docstrings, messages) and the CI script."""
    texts = {str(p.relative_to(ROOT)): p.read_text() for p in _markdown_files()}
    for path in sorted((ROOT / "examples").rglob("*.ipynb")):
        texts[str(path.relative_to(ROOT))] = _notebook_text(path)
    for path in sorted((ROOT / "src").rglob("*.py")):
        texts[str(path.relative_to(ROOT))] = path.read_text()
    texts["mkdocs.yml"] = (ROOT / "mkdocs.yml").read_text()
    return texts


def wrong_installs(texts: dict[str, str]) -> list[str]:
    """``file: command`` for each ``pip install`` naming the unrelated ``tunekit``."""
    return [
        f"{where}: {match.group(0).strip()}"
        for where, text in texts.items()
        for match in PIP_INSTALL.finditer(text)
        if "tunekit" in requirement_names(match.group(1))
    ]


def test_requirement_names_tells_names_from_paths():
    assert requirement_names("tunekit") == ["tunekit"]
    assert requirement_names('"tunekit[plot]" numpy') == ["tunekit", "numpy"]
    assert requirement_names("keras-tunekit") == ["keras-tunekit"]
    assert requirement_names('"keras_tunekit[plot]>=0.1"') == ["keras-tunekit"]
    assert requirement_names('-e ".[dev]"') == []
    assert requirement_names(". ") == []
    assert requirement_names("-r requirements.txt --no-deps x") == ["x"]
    found = wrong_installs({"a.md": "```bash\npip install tunekit  # or: x\n```"})
    assert found == ["a.md: pip install tunekit"]


def test_no_page_installs_the_unrelated_tunekit_distribution():
    texts = _user_facing_texts()
    assert "docs/index.md" in texts and "examples/quickstart.ipynb" in texts
    assert wrong_installs(texts) == []


def test_the_distribution_is_keras_tunekit_and_pages_say_so():
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION
    assert project["scripts"] == {"tunekit": "tunekit.cli._main:main"}
    for page in ("README.md", "docs/index.md"):
        names = {
            name
            for match in PIP_INSTALL.finditer((ROOT / page).read_text())
            for name in requirement_names(match.group(1))
        }
        assert DISTRIBUTION in names, page


def _no_tensorflow_recipe(page: str) -> tuple[list[str], str]:
    """The requirements and the ``--no-deps`` line of a page's JAX recipe."""
    text = (ROOT / page).read_text()
    lines = [m.group(0) for m in PIP_INSTALL.finditer(text)]
    first = next(line for line in lines if '"jax[cpu]"' in line)
    no_deps = next(line for line in lines if "--no-deps" in line)
    return shlex.split(first.split("install", 1)[1]), no_deps


@pytest.mark.parametrize("page", ["README.md", "docs/index.md"])
def test_the_tensorflow_free_recipe_lists_every_other_dependency(page):
    tomllib = pytest.importorskip("tomllib" if sys.version_info >= (3, 11) else "tomli")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {
        dep.replace(" ", "")
        for dep in project["dependencies"]
        if _normalize(re.split(r"[<>=!~ \[;]", dep, maxsplit=1)[0]) != "tensorflow"
    }
    requirements, no_deps = _no_tensorflow_recipe(page)
    assert set(requirements) - {"jax[cpu]"} == wanted
    assert requirement_names(no_deps.split("install", 1)[1]) == [DISTRIBUTION]
