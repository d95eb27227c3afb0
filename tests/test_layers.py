"""The layers stay as the README draws them: api/ → qa/ → embeddings/, only qa/cli/ prints and
only it may import api/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# package: what it must not import
FORBIDDEN = {"embeddings": ("qa", "api"), "qa": ("api",), "api": ()}
TERMINAL_FACE = ROOT / "qa" / "cli"


def modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def imported(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package):
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path, tree in modules(package)
        if TERMINAL_FACE not in path.parents
        for name in imported(tree) & set(FORBIDDEN[package])
    ]
    assert wrong == []


@pytest.mark.parametrize("package", ["qa", "embeddings"])
def test_the_core_never_prints(package):
    printing = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, tree in modules(package)
        if TERMINAL_FACE not in path.parents
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "print")
            or (isinstance(node.func, ast.Attribute) and node.func.attr in {"echo", "secho"})
        )
        or isinstance(node, ast.ImportFrom | ast.Import)
        and any(alias.name.startswith("rich") for alias in node.names)
        or isinstance(node, ast.ImportFrom)
        and (node.module or "").startswith("rich")
    ]
    assert printing == []
