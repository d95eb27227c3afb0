"""Facts of the import graph of qa, api and embeddings, beside what `lint-imports` checks: every
import that runs against the layers (api → qa → embeddings), and every cycle of modules that import
each other (imports inside functions count too).

    .venv/bin/python -m benchmarks.check_imports

Exits 1 when there is a cycle or an import against the layers other than the terminal face's
(`qa.cli` → `api`, for `qa serve`).
"""

from __future__ import annotations

import sys

RANK = {"api": 2, "qa": 1, "embeddings": 0}
ALLOWED_AGAINST = ("qa.cli",)  # the terminal face may import the HTTP face


def main() -> int:
    import grimp

    graph = grimp.build_graph(*RANK, include_external_packages=False)
    modules = sorted(graph.modules)
    against = sorted(
        (module, imported)
        for module in modules
        for imported in graph.find_modules_directly_imported_by(module)
        if RANK[imported.split(".")[0]] > RANK[module.split(".")[0]]
    )
    cycles = _cycles(graph, modules)
    print(f"modules: {len(modules)}")
    print(f"imports against the layers: {len(against)}")
    for module, imported in against:
        print(f"  {module} -> {imported}")
    print(f"import cycles: {len(cycles)}")
    for cycle in cycles:
        print("  " + " <-> ".join(cycle))
    unexpected = [pair for pair in against if not pair[0].startswith(ALLOWED_AGAINST)]
    return 1 if cycles or unexpected else 0


def _cycles(graph, modules: list[str]) -> list[list[str]]:
    """Groups of two or more modules that reach each other (strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(modules)))
    for module in modules:
        if module not in index:
            visit(module)
    return sorted(found)


if __name__ == "__main__":
    sys.exit(main())
