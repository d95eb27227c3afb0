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
    names: list[list[str]] = [[]]
    for name in group.list_commands(click.Context(group)):
        names.append([name])
        command = group.get_command(click.Context(group), name)
        if isinstance(command, click.Group):  # `qa keys create` … get their own sections
            names += [[name, sub] for sub in command.list_commands(click.Context(command))]
    for words in names:
        result = runner.invoke(app, [*words, "--help"], prog_name="qa")
        text = "\n".join(line.rstrip() for line in result.output.splitlines()).strip("\n")
        sections += [f"## `{' '.join(['qa', *words])}`", "", "```", text, "```", ""]
    return "\n".join(sections)


if __name__ == "__main__":
    print(cli_reference(), end="")
