"""The CLI run in process, as a person would type it (typer's CliRunner)."""

from __future__ import annotations

from pathlib import Path


def index_then_info(folder: Path, index: Path) -> str:
    """`qa index FOLDER --index INDEX`, then `qa info --index INDEX`: what info printed, with every
    space and line break taken out (the console folds long lines and paths where it likes)."""
    from typer.testing import CliRunner

    from qa.cli import app

    runner = CliRunner()
    indexed = runner.invoke(app, ["index", str(folder), "--index", str(index)])
    assert indexed.exit_code == 0, indexed.output
    shown = runner.invoke(app, ["info", "--index", str(index)])
    assert shown.exit_code == 0, shown.output
    return "".join(shown.output.split())
