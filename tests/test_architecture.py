"""The package's architecture, checked: the import graph of ``src/pytest_prr`` has no
cycle, the engine never imports pytest or the pytest integration, checks never call boto3,
and the report never reaches AWS (docs/architecture.md draws the arrows these enforce).

The graph is read from the source with :mod:`ast`: every import, at module level or inside
a function, except those under ``if TYPE_CHECKING:``, which never run. As import-linter and
grimp read it, ``from a.b import c`` is an edge to the module ``a.b.c`` when there is one,
else to ``a.b``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "pytest_prr"
ROOT = "pytest_prr"
#: The pytest integration and the command line: the only packages that may import pytest.
PYTEST_SIDE = ("pytest_prr.plugin", "pytest_prr.commands")
#: ``import pytest_prr as prr`` gives tests the marker API, which is the plugin's.
MARKER_API = "pytest_prr"


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in SOURCE.rglob("*.py")}


def runtime_imports(path: Path) -> Iterator[str]:
    """Every module name ``path`` imports when it runs (not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text())
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else None
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for child in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = (package or module_name(path)).split(".")
                base = ".".join(anchor[: len(anchor) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def edges() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        targets = set()
        for imported in runtime_imports(path):
            if not imported.startswith(ROOT):
                continue
            targets.add(imported)
        graph[name] = {target for target in targets if target in MODULES and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_import_graph_has_no_cycle() -> None:
    assert cycles(edges()) == []


def package(module: str) -> str:
    """``pytest_prr.checks.base`` -> ``pytest_prr.checks``; a top-level module is its own."""
    return ".".join(module.split(".")[:2])


def test_the_packages_depend_one_way() -> None:
    """Between packages too the arrow points one way: accounts < snapshot < results <
    deploy < checks < report < evidence < plugin, commands (docs/architecture.md)."""
    graph: dict[str, set[str]] = {}
    for source, targets in edges().items():
        graph.setdefault(package(source), set()).update(
            package(target) for target in targets if package(target) != package(source)
        )
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    """The test above cannot pass by finding nothing."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert edges()["pytest_prr.plugin.running"] >= {"pytest_prr.plugin.items"}


def outside(*packages: str) -> list[str]:
    return [name for name in MODULES if not name.startswith(packages) and name != MARKER_API]


@pytest.mark.parametrize("module", outside(*PYTEST_SIDE))
def test_the_engine_imports_neither_pytest_nor_the_plugin(module: str) -> None:
    imported = set(runtime_imports(MODULES[module]))
    assert not {name for name in imported if name.split(".")[0] in ("pytest", "_pytest")}
    assert not {name for name in imported if name.startswith(PYTEST_SIDE)}


@pytest.mark.parametrize("module", [m for m in MODULES if m.startswith("pytest_prr.checks")])
def test_checks_never_call_aws(module: str) -> None:
    imported = set(runtime_imports(MODULES[module]))
    assert not {name for name in imported if name.split(".")[0] in ("boto3", "botocore")}
    assert not {name for name in imported if name.startswith("pytest_prr.accounts")}


@pytest.mark.parametrize(
    "module",
    [
        m
        for m in MODULES
        if m.startswith("pytest_prr.report") and m != "pytest_prr.report.securityhub"
    ],
)
def test_the_report_never_reads_aws(module: str) -> None:
    """``report.securityhub`` is the one output that writes to AWS, through a session its
    caller opened; nothing else in the report touches AWS."""
    imported = set(runtime_imports(MODULES[module]))
    assert not {name for name in imported if name.split(".")[0] in ("boto3", "botocore")}
    assert not {name for name in imported if name.startswith("pytest_prr.accounts.sessions")}


def test_no_module_has_two_jobs() -> None:
    """A module past ~400 lines has two jobs (the developers' guide)."""
    long = {
        name: n for name, path in MODULES.items() if (n := len(path.read_text().splitlines())) > 420
    }
    assert long == {}
