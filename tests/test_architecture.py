"""The layers stay as the README draws them. Imports are import-linter's contracts (pyproject.toml,
`[tool.importlinter]`); printing, which an import graph cannot see, is checked here by walking the code."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TERMINAL_FACE = ROOT / "qa" / "cli"


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_import_cycles_and_nothing_against_the_layers_but_the_terminal_face(capsys):
    """The whole import graph, imports inside functions included (benchmarks/check_imports.py)."""
    from benchmarks.check_imports import main

    status = main()
    assert status == 0, capsys.readouterr().out


def modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("package", ["qa", "embeddings"])
def test_the_core_never_prints(package):
    """Only qa/cli/ writes to the terminal: the core reports through `on_progress`, logging and its results."""
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
