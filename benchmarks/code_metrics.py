"""Size of the clean-up of issue 25, measured on the source tree (run from the repository root).

    python benchmarks/code_metrics.py

Prints: alias modules (modules that only re-export a moved one), deprecated keyword fields of Makers (fields
folded into a protocol), lines of modules mypy ignores, functions over 80 lines, stage decorators without an
``output_schema`` (outside ``mlip_glass/testing``).
"""

from __future__ import annotations

import ast
import pathlib
import re

import tomllib

PACKAGE = pathlib.Path("mlip_glass")
LONG = 80


def modules() -> list[pathlib.Path]:
    return sorted(PACKAGE.rglob("*.py"))


def alias_modules() -> list[str]:
    """Modules whose text announces they moved (``... moved to mlip_glass...``)."""
    return [str(p) for p in modules() if re.search(r"moved to mlip_glass\.", p.read_text())]


def deprecated_fields() -> int:
    """Fields of dataclasses whose ``__post_init__`` folds them into a protocol (``fold_protocol(self, P)``):
    the fields named like a field of ``P`` or a key of a ``*_ALIASES`` table."""
    trees = [ast.parse(p.read_text()) for p in modules()]
    fields: dict[str, set[str]] = {}
    aliases: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                fields[node.name] = {s.target.id for s in node.body
                                     if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)}
            if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id.endswith("_ALIASES") and isinstance(node.value, ast.Dict)):
                aliases |= {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
    count = 0
    for tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            folded = [c.args[1].id for c in ast.walk(node) if isinstance(c, ast.Call)
                      and getattr(c.func, "id", None) == "fold_protocol" and isinstance(c.args[1], ast.Name)]
            names = set().union(*(fields.get(p, set()) for p in folded), aliases) if folded else set()
            count += sum(1 for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
                         and s.target.id in names)
    return count


def mypy_ignored_lines() -> int:
    """Lines of the modules under a mypy ``ignore_errors`` override in pyproject.toml."""
    config = tomllib.loads(pathlib.Path("pyproject.toml").read_text())
    patterns = [m for o in config["tool"]["mypy"].get("overrides", []) if o.get("ignore_errors")
                for m in o["module"]]
    total = 0
    for path in modules():
        name = ".".join(path.with_suffix("").parts).removesuffix(".__init__")
        if any(name == p or (p.endswith(".*") and name.startswith(p[:-1])) for p in patterns):
            total += len(path.read_text().splitlines())
    return total


def long_functions() -> list[tuple[int, str]]:
    rows = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > LONG:
                    rows.append((n, f"{path}:{node.lineno} {node.name}"))
    return sorted(rows, reverse=True)


def untyped_stage_decorators() -> tuple[int, int]:
    """(stage decorators without output_schema, all stage decorators), outside mlip_glass/testing."""
    calls = [c for p in modules() if "testing" not in p.parts for c in re.findall(r"stage_job\((.*)", p.read_text())]
    calls = [c for c in calls if not c.startswith("stage: str")]  # the definition
    return sum("output_schema" not in c for c in calls), len(calls)


def main() -> None:
    aliases = alias_modules()
    print(f"alias modules: {len(aliases)} {aliases}")
    print(f"deprecated keyword fields (folded by fold_protocol): {deprecated_fields()}")
    print(f"lines of modules with mypy ignore_errors: {mypy_ignored_lines()}")
    rows = long_functions()
    print(f"functions over {LONG} lines: {len(rows)}")
    for n, where in rows:
        print(f"    {n} {where}")
    untyped, total = untyped_stage_decorators()
    print(f"stage decorators without output_schema: {untyped} of {total}")


if __name__ == "__main__":
    main()
