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


# --------------------------------------------------------------------------
# no import cycles, lazy (function-level) imports included
# --------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = ("tunekit", *path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking_block(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _import_nodes(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except under ``if TYPE_CHECKING:``
    (those never run)."""
    found, todo = [], [tree]
    while todo:
        node = todo.pop()
        if _is_type_checking_block(node):
            todo.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return found


def _lazy_exports() -> dict[str, str]:
    """``tunekit._LAZY_EXPORTS``, read from the source (imports nothing)."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == (
            "_LAZY_EXPORTS"
        ):
            return ast.literal_eval(node.value)
    raise AssertionError("tunekit/__init__.py has no _LAZY_EXPORTS")


def _import_graph() -> dict[str, set[str]]:
    """tunekit's modules and the tunekit modules each one imports.

    Imports inside functions count (they run, later). ``from tunekit.x import y``
    is an edge to ``tunekit.x.y`` when that is a module, else to ``tunekit.x``;
    ``from tunekit import NAME`` of a lazy export is an edge to the module that
    defines NAME (the package's lazy table itself is no edge).
    """
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    lazy = _lazy_exports()
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in _import_nodes(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:  # relative import
                    anchor = package.split(".")[
                        : len(package.split(".")) - node.level + 1
                    ]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = []
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    if submodule in paths:
                        targets.append(submodule)
                    elif base == "tunekit" and alias.name in lazy:
                        targets.append(lazy[alias.name])
                    else:
                        targets.append(base)
            for target in targets:
                while target and target not in paths:  # `import tunekit.x.y` style
                    target = target.rpartition(".")[0]
                if target.startswith("tunekit") and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _one_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A concrete cycle through ``component``, for the failure message."""
    start = min(component)
    paths = {start: [start]}
    todo = [start]
    while todo:
        node = todo.pop(0)
        for nxt in sorted(graph[node] & component):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                todo.append(nxt)
    return sorted(component)


def test_import_graph_resolves_lazy_and_submodule_imports():
    graph = _import_graph()
    # a function-level `from tunekit.x import y` of a module-level name
    assert "tunekit.tuners._summary" in graph["tunekit.tuners._tuners"]
    # `from tunekit import NAME` goes to NAME's module, not to the lazy table
    assert "tunekit.data._iterator" not in graph["tunekit"]
    assert "tunekit._errors" in graph["tunekit"]


def test_no_import_cycles():
    graph = _import_graph()
    cycles = _cycles(graph)
    shown = [
        f"{' -> '.join(_one_cycle(graph, c))} (modules in this cycle: {sorted(c)})"
        for c in cycles
    ]
    assert not cycles, "import cycles (imports inside functions count):\n" + (
        "\n".join(shown)
    )


def test_cycle_finder_sees_a_cycle_through_a_lazy_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [{"a", "b", "c"}]
    assert _one_cycle(graph, {"a", "b", "c"}) == ["a", "b", "c", "a"]


# --------------------------------------------------------------------------
# every exception lives in tunekit._errors and is public
# --------------------------------------------------------------------------
def _exception_classes() -> dict[str, str]:
    """``{class name: module}`` of every class in src/tunekit deriving (by name,
    transitively) from an ``Exception``/``*Error`` class, read from the source."""
    bases: dict[str, tuple[str, list[str]]] = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                names = [
                    getattr(b, "id", None) or getattr(b, "attr", "") for b in node.bases
                ]
                bases[node.name] = (_module_name(path), names)

    def is_exception(name: str, seen: frozenset[str] = frozenset()) -> bool:
        if name in seen:
            return False
        if name not in bases:  # a builtin or third-party class
            return name in ("Exception", "BaseException") or name.endswith("Error")
        return any(is_exception(b, seen | {name}) for b in bases[name][1])

    return {
        name: module
        for name, (module, parents) in bases.items()
        if any(is_exception(b) for b in parents)
    }


# Private classes allowed outside _errors.py: an internal signal never raised to
# a caller, and subclasses of public errors that KerasTuner must see as fatal.
_PRIVATE_SIGNALS = {
    "_BrokenEntry",  # the decode cache's internal control-flow signal
    # tunekit's public errors raised as KerasTuner's fatal errors too
    "_FatalUncopyableCallbackError",
    "_FatalHypermodelBuildError",
    "_FatalMissingObjectiveError",
}


def test_every_exception_is_defined_in_errors_and_exported():
    import tunekit

    found = _exception_classes()
    assert "TunekitError" in found and "StaleProjectError" in found
    elsewhere = {
        name: module
        for name, module in found.items()
        if module != "tunekit._errors" and name not in _PRIVATE_SIGNALS
    }
    assert not elsewhere, f"exception classes outside tunekit._errors: {elsewhere}"
    public = set(found) - _PRIVATE_SIGNALS
    missing = sorted(public - set(tunekit.__all__))
    assert not missing, f"exceptions not exported from tunekit: {missing}"


# --------------------------------------------------------------------------
# No instance patches on KerasTuner's oracles: tunekit's behaviour lives in
# its Oracle subclasses (tunekit.tuners._oracles), handed to Tuner.__init__.
# --------------------------------------------------------------------------


def _names_an_oracle(node: ast.AST) -> bool:
    """``oracle`` or ``<anything>.oracle`` (``tuner.oracle``, ``self.oracle``)."""
    if isinstance(node, ast.Name):
        return node.id == "oracle"
    return isinstance(node, ast.Attribute) and node.attr == "oracle"


# KerasTuner's public oracle settings (BaseTuner.search sets `verbose` itself).
_ORACLE_SETTINGS = {"verbose"}


def _in_own_init(source_tree: ast.AST) -> set[int]:
    """The ids of the nodes inside a method named ``__init__``."""
    inside: set[int] = set()
    for node in ast.walk(source_tree):
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            inside.update(id(child) for child in ast.walk(node))
    return inside


def _replaces_an_oracle(item: ast.AST, in_init: bool) -> bool:
    """``<x>.oracle = ...``, unless it is ``self.oracle`` in ``__init__``."""
    if not (isinstance(item, ast.Attribute) and item.attr == "oracle"):
        return False
    own = isinstance(item.value, ast.Name) and item.value.id == "self"
    return not (own and in_init)


def _oracle_patches(source: str, where: str) -> list[str]:
    """Assignments to, or ``setattr`` on, an oracle object or a ``.oracle`` slot.

    An object's own ``self.oracle`` may be set in its ``__init__``; any other
    assignment to ``<x>.oracle`` replaces a tuner's oracle at run time.
    """
    tree = ast.parse(source)
    in_init = _in_own_init(tree)
    found = []
    for node in ast.walk(tree):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("setattr", "delattr")
            and node.args
            and (
                _names_an_oracle(node.args[0])
                or (
                    len(node.args) > 1
                    and isinstance(node.args[1], ast.Constant)
                    and node.args[1].value == "oracle"
                )
            )
        ):
            found.append(f"{where}:{node.lineno}: {node.func.id}(...)")
        for target in targets:
            flat = target.elts if isinstance(target, ast.Tuple) else [target]
            for item in flat:
                patched = (
                    isinstance(item, ast.Attribute)
                    and _names_an_oracle(item.value)
                    and item.attr not in _ORACLE_SETTINGS
                )
                if patched or _replaces_an_oracle(item, id(node) in in_init):
                    found.append(f"{where}:{node.lineno}: {ast.unparse(item)} = ...")
    return found


def test_the_oracle_patch_guard_finds_each_kind_of_patch():
    source = (
        "oracle.get_best_trials = f\n"
        "tuner.oracle.max_trials = 3\n"
        "setattr(self.oracle, 'create_trial', g)\n"
        "self.max_trials = 3\n"  # an oracle class's own state: fine
        "tuner.oracle = client\n"  # replacing a tuner's oracle at run time
        "setattr(tuner, 'oracle', client)\n"
        "oracle.verbose = 0\n"  # KerasTuner's public setting
        "def adopt(self):\n"
        "    self.oracle = client\n"  # outside __init__
        "class State:\n"
        "    oracle = Slot()\n"  # a class attribute, not an assignment to one
        "    def __init__(self, tuner):\n"
        "        self.oracle = tuner.oracle\n"  # its own, at construction: fine
        "        tuner.oracle = client\n"  # another object's, even in __init__
    )
    assert len(_oracle_patches(source, "x.py")) == 7


def test_no_module_patches_an_oracle_instance():
    patches = [
        found
        for path in _modules()
        for found in _oracle_patches(path.read_text(), str(path.relative_to(PACKAGE)))
    ]
    assert not patches, (
        "Extend tunekit's oracles (tunekit/tuners/_oracles.py) instead of "
        f"replacing an oracle's attributes at run time: {patches}"
    )
