"""The import graph of the package: no circles, no import from a later pipeline stage into an earlier one,
no test double imported by production code; no compatibility layer (nothing warns that it is deprecated).

``python tests/test_architecture.py`` prints the numbers (and the imports made inside functions).
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "mlip_glass"
#: pipeline order of the sub-packages; a module may import its own level or a lower one. Everything not
#: listed (utils, units, composition, provenance, store, stage, queries, data, ...) is shared, level 0.
LEVELS = {
    "surrogate": 1,
    "reference": 2,
    "datasets": 3,
    "nep": 4,
    "properties": 5,
    "active_learning": 6,
    "validation": 6,
    "flows": 7,
    "report": 7,
    "cli": 7,
    "flow_options": 7,
    "remote": 7,
}
#: test doubles: production modules never import them
TEST_DOUBLES = "mlip_glass.testing"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> tuple[dict[str, set[str]], list[tuple[str, str, int]]]:
    """(module -> package modules it imports anywhere, [(module, targets, line) per import inside a function])."""
    paths = {_module_name(p): p for p in PACKAGE.rglob("*.py")}

    def resolve(name: str) -> str | None:
        while name and name not in paths:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {m: set() for m in paths}
    inner: list[tuple[str, str, int]] = []
    for module, path in paths.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text())
        functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        in_function = {id(n) for f in functions for n in ast.walk(f)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in paths else base for a in node.names]
            else:
                continue
            targets = {resolve(n) for n in names if n.startswith("mlip_glass")} - {None, module}
            graph[module] |= targets
            if targets and id(node) in in_function:
                inner.append((module, ", ".join(sorted(targets)), node.lineno))
    return graph, inner


def _level(module: str) -> int:
    parts = module.split(".")
    return LEVELS.get(parts[1], 0) if len(parts) > 1 else 0


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _production(module: str) -> bool:
    return not module.startswith(TEST_DOUBLES)


def upward_imports(graph) -> list[tuple[str, str]]:
    return sorted((a, b) for a, targets in graph.items() if _production(a) for b in targets if _level(b) > _level(a))


def test_doubles_used_by_production(graph) -> list[tuple[str, str]]:
    return sorted((a, b) for a, targets in graph.items() if _production(a) for b in targets
                  if b.startswith(TEST_DOUBLES))


test_doubles_used_by_production.__test__ = False  # a helper, not a test


#: a deprecation warning raised by the package itself (an alias module, Maker or keyword kept for old callers)
DEPRECATION = re.compile(r"warn\([^)]*DeprecationWarning|Deprecated alias|deprecated spelling", re.IGNORECASE)


def compatibility_layer() -> list[str]:
    """Modules of the package that keep an old name alive (they warn that something is deprecated)."""
    return sorted(_module_name(p) for p in PACKAGE.rglob("*.py") if DEPRECATION.search(p.read_text()))


def test_no_import_circles():
    assert circles(import_graph()[0]) == []


def test_no_import_from_a_later_pipeline_stage():
    assert upward_imports(import_graph()[0]) == []


def test_production_never_imports_test_doubles():
    assert test_doubles_used_by_production(import_graph()[0]) == []


def test_no_module_keeps_a_deprecated_name_alive():
    assert compatibility_layer() == []


if __name__ == "__main__":
    graph, inner = import_graph()
    for title, rows in (("import circles", circles(graph)), ("upward imports", upward_imports(graph)),
                        ("production imports of test doubles", test_doubles_used_by_production(graph)),
                        ("modules with a deprecated name", compatibility_layer())):
        print(f"{title}: {len(rows)}")
        for row in rows:
            print("   ", row)
    print(f"package imports inside functions: {len(inner)}")
    for module, target, line in inner:
        print(f"    {module}:{line} -> {target}")
