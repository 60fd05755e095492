"""The documentation site: every public name is in the API reference, with an example.

``mkdocs build --strict`` itself runs in ``.ci/run`` (step "== docs"); these
tests keep the reference page and the docstrings it is generated from in step
with ``tunekit.__all__`` without building the site.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import tunekit

ROOT = Path(__file__).resolve().parents[1]
API_PAGE = ROOT / "docs" / "api.md"
MKDOCS = ROOT / "mkdocs.yml"


def _directives() -> dict[str, str]:
    """``{name: module}`` for every ``::: module.name`` line of the API page."""
    found = re.findall(r"^::: ([\w.]+)\.(\w+)$", API_PAGE.read_text(), re.MULTILINE)
    return {name: module for module, name in found}


def _defining_module(name: str) -> str:
    return tunekit._LAZY_EXPORTS.get(name, "tunekit._errors")


def _public_objects() -> list[str]:
    return [name for name in tunekit.__all__ if name != "__version__"]


def test_every_public_name_is_in_the_api_reference():
    directives = _directives()
    missing = [name for name in _public_objects() if name not in directives]
    assert not missing, (
        f"docs/api.md lacks {missing}: add a line '::: <module>.<name>' under its area"
    )
    assert "tunekit.__version__" in API_PAGE.read_text()


def test_api_reference_points_at_the_defining_modules():
    wrong = {
        name: module
        for name, module in _directives().items()
        if name in tunekit.__all__ and module != _defining_module(name)
    }
    assert not wrong, f"docs/api.md documents these from the wrong module: {wrong}"


def test_api_reference_lists_only_public_names():
    extra = sorted(set(_directives()) - set(tunekit.__all__))
    assert not extra, f"docs/api.md documents names outside tunekit.__all__: {extra}"


@pytest.mark.parametrize("name", _public_objects())
def test_every_public_name_has_a_docstring_example(name):
    doc = inspect.getdoc(getattr(tunekit, name)) or ""
    assert "Examples\n--------" in doc and ">>> " in doc, (
        f"tunekit.{name}'s docstring needs a numpydoc 'Examples' section with a "
        "runnable '>>>' example"
    )


def test_every_docs_page_is_in_the_site_navigation():
    nav = MKDOCS.read_text()
    pages = sorted(
        str(page.relative_to(ROOT / "docs")) for page in (ROOT / "docs").rglob("*.md")
    )
    missing = [page for page in pages if page not in nav]
    assert not missing, f"mkdocs.yml's nav lacks {missing}"


def test_mkdocs_uses_numpy_docstrings_and_builds_strictly():
    config = MKDOCS.read_text()
    assert "docstring_style: numpy" in config
    assert "strict: true" in config
