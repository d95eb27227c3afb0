"""Citations one click from their source in the terminal: `qa ask` sets citation.url to the file
and prints it as an OSC 8 hyperlink where the output is a terminal."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from qa.cli import app
from qa.ingest.indexing import index_paths
from tests.test_verification import NOTES


def test_qa_ask_links_each_citation_to_its_file_as_an_osc8_hyperlink(tmp_path, fake_model, monkeypatch):
    """`qa ask`: citation.url is the file:// path (JSON too), and a terminal gets it as an OSC 8
    hyperlink on the passage's title; output that is not a terminal gets no escape codes."""
    import io

    from rich.console import Console

    import qa.cli.render as render

    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "ferry.txt").write_text(NOTES["ferry.txt"])
    index_dir = tmp_path / "notes.qa"
    index_paths([folder], index_dir)
    done = CliRunner().invoke(app, ["ask", "ferry to Gozo", "--index", str(index_dir), "--json"])
    url = json.loads(done.stdout)["passages"][0]["citation"]["url"]
    assert url == (folder / "ferry.txt").resolve().as_uri()

    terminal = io.StringIO()
    monkeypatch.setattr(render, "stdout_console", lambda: Console(file=terminal, force_terminal=True, width=100))
    assert CliRunner().invoke(app, ["ask", "ferry to Gozo", "--index", str(index_dir)]).exit_code == 0
    assert "\x1b]8;id=" in terminal.getvalue() and f";{url}\x1b\\" in terminal.getvalue()

    plain = io.StringIO()
    monkeypatch.setattr(render, "stdout_console", lambda: Console(file=plain, width=100))
    CliRunner().invoke(app, ["ask", "ferry to Gozo", "--index", str(index_dir)])
    assert "\x1b]8" not in plain.getvalue() and "ferry" in plain.getvalue()
