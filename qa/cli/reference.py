"""docs/cli.md, generated from the commands' own --help, so the reference cannot drift from the code.

    python -m qa.cli.reference > docs/cli.md      (or: make docs)

A test fails when docs/cli.md differs from what this prints.
"""

from __future__ import annotations

WIDTH = "100"


def cli_reference() -> str:
    import click
    import typer
    from typer.testing import CliRunner

    from qa.cli import app

    runner = CliRunner(env={"COLUMNS": WIDTH, "TERM": "dumb", "NO_COLOR": "1"})
    group = typer.main.get_command(app)
    sections = [
        "# Command-line reference",
        "",
        "Generated from `qa --help`; run `make docs` after changing a command.",
        "",
    ]
    for name in [None, *group.list_commands(click.Context(group))]:
        args = [name, "--help"] if name else ["--help"]
        result = runner.invoke(app, args, prog_name="qa")
        text = "\n".join(line.rstrip() for line in result.output.splitlines()).strip("\n")
        sections += [f"## `qa {name}`" if name else "## `qa`", "", "```", text, "```", ""]
    return "\n".join(sections)


if __name__ == "__main__":
    print(cli_reference(), end="")
