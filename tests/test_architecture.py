"""The layout's import rules (docs/architecture.md), read from the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "tunekit"
AREAS = ("data", "labels", "hypermodels", "estimators", "tuners", "cli")
# area -> areas it must never import (docs/architecture.md, "What may import what")
FORBIDDEN = {
    "data": {"labels", "hypermodels", "estimators", "tuners", "cli"},
    "labels": {"hypermodels", "estimators", "tuners", "cli"},
    "hypermodels": {"estimators", "tuners", "cli"},
    "estimators": {"tuners", "cli"},
    "tuners": {"cli"},
    "root": {"cli"},
}


def _area(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else "root"


def _imported_areas(path: Path) -> set[str]:
    areas = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "tunekit" and len(parts) > 1 and parts[1] in AREAS:
                areas.add(parts[1])
    return areas


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")


def test_every_area_is_a_package_and_its_modules_are_private():
    for area in AREAS:
        assert (PACKAGE / area / "__init__.py").is_file(), area
        for module in (PACKAGE / area).glob("*.py"):
            assert module.name.startswith("_"), module


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_lower_layers_never_import_higher_ones(path):
    forbidden = FORBIDDEN.get(_area(path), set()) & _imported_areas(path)
    assert not forbidden, f"{path.relative_to(PACKAGE)} imports {sorted(forbidden)}"


def test_every_public_name_comes_from_an_area_module():
    import tunekit

    for name, module in tunekit._LAZY_EXPORTS.items():
        parts = module.split(".")
        assert parts[1] in AREAS and parts[-1].startswith("_"), (name, module)
