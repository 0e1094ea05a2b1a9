"""Measure the import structure of zhongcao: cycles between modules and function-local imports.

    PYTHONPATH=src python scripts/import_health.py            # summary
    PYTHONPATH=src python scripts/import_health.py --details  # every cycle and every local import

A *cycle* is a strongly connected component of the module import graph (grimp, the library behind
import-linter, which counts every import, module-level or inside a function) with more than one
module; each is printed with one shortest loop through it. Imports under ``if TYPE_CHECKING:`` count
too, as they do for ``lint-imports`` (``--exclude-type-checking`` leaves them out).

A *function-local import* is an ``import`` inside a function body (found with :mod:`ast`). It is
marked ``hides a cycle`` when the imported module reaches back, through the graph, to the module
that imports it: at module level it would fail or depend on import order, so it was tucked away.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grimp

PACKAGE = "zhongcao"


@dataclass(frozen=True)
class LocalImport:
    module: str  # the module whose function holds the import
    line: int
    target: str  # the module imported
    hides_cycle: bool


def _module_files(root: Path) -> Iterator[tuple[str, Path]]:
    base = root.parent
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


def _local_imports(module: str, path: Path, graph: grimp.ImportGraph) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield node.lineno, alias.name
            elif isinstance(node, ast.ImportFrom):
                target = _resolve(module, is_package, node)
                for alias in node.names:
                    # `from pkg import mod` imports a module when pkg.mod is one.
                    candidate = f"{target}.{alias.name}"
                    yield node.lineno, candidate if candidate in graph.modules else target


def _closes_loop(graph: grimp.ImportGraph, importer: str, target: str) -> bool:
    if target == importer or target not in graph.modules:
        return False
    return graph.find_shortest_chain(importer=target, imported=importer) is not None


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The import cycles: strongly connected components of more than one module (Tarjan's
    algorithm, iterative), largest first, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [
            (root, iter(sorted(graph.find_modules_directly_imported_by(root))))
        ]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components, key=lambda c: (-len(c), c))


def loop(graph: grimp.ImportGraph, component: list[str]) -> list[str]:
    """One shortest loop through the component's first module, that module at both ends."""
    first = component[0]
    best: list[str] | None = None
    for nxt in graph.find_modules_directly_imported_by(first):
        if nxt not in component:
            continue
        chain = graph.find_shortest_chain(importer=nxt, imported=first)
        if chain is not None and (best is None or len(chain) + 1 < len(best)):
            best = [first, *chain]
    return best or component


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", action="store_true", help="list every cycle and local import")
    parser.add_argument("--package", default=PACKAGE)
    parser.add_argument(
        "--exclude-type-checking", action="store_true", help="leave out TYPE_CHECKING imports"
    )
    args = parser.parse_args()
    graph = grimp.build_graph(args.package, exclude_type_checking_imports=args.exclude_type_checking)
    spec = __import__(args.package)
    root = Path(spec.__file__).parent

    found = cycles(graph)
    local: list[LocalImport] = []
    for module, path in _module_files(root):
        # One entry per import statement and module (``from m import a, b`` is one import of m).
        for line, target in sorted(set(_local_imports(module, path, graph))):
            local.append(LocalImport(module, line, target, _closes_loop(graph, module, target)))
    internal = [li for li in local if li.target.split(".")[0] == args.package]
    hiding = [li for li in internal if li.hides_cycle]

    print(f"modules: {len(graph.modules)}")
    print(f"import cycles (strongly connected groups of modules): {len(found)}")
    print(f"modules caught in cycles: {sum(len(c) for c in found)}")
    print(f"function-local imports: {len(local)} ({len(internal)} of {args.package} modules)")
    print(f"function-local imports that hide a cycle: {len(hiding)}")
    if args.details:
        for i, component in enumerate(found, 1):
            print(f"\ncycle {i} ({len(component)} modules): {', '.join(component)}")
            print("  e.g. " + " -> ".join(loop(graph, component)))
        print("\nfunction-local imports (* = hides a cycle):")
        for li in local:
            mark = "*" if li.hides_cycle else " "
            print(f" {mark} {li.module}:{li.line} -> {li.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
