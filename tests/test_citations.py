"""Citations one click from their source in the terminal: `qa ask` sets citation.url to the file
and prints it as an OSC 8 hyperlink where the output is a terminal."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from qa.cli import app
from qa.ingest.indexing import index_paths
from tests.test_verification import NOTES, notes_with_a_copy


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


def test_the_same_words_at_two_places_are_one_passage_citing_both(tmp_path, fake_model):
    """A page copied into another folder (a mirror, a man page and its web page) is quoted once: the
    passage cites its other place in `also`, each place's offsets hold the very words, and the slot
    the copy would have taken goes to another passage. `qa ask` links both places to their files
    and names the other place under the passage."""
    from qa.collection import Collection

    folder, index_dir = notes_with_a_copy(tmp_path)
    collection = Collection.open(index_dir)

    passages = collection.ask("ferry to Gozo", top_k=3).passages
    assert len(passages) == 3
    ferry = next(p for p in passages if p.text == NOTES["ferry.txt"])
    places = [ferry.citation, *ferry.also]
    assert sorted(place.source for place in places) == ["ferry.txt", "mirror/ferry.txt"]
    for place in places:
        assert collection.document(place.doc_id).text[place.start : place.end] == ferry.text
    assert [p.text for p in passages].count(NOTES["ferry.txt"]) == 1
    assert sum(len(p.also) for p in passages) == 1

    done = CliRunner().invoke(app, ["ask", "ferry to Gozo", "--index", str(index_dir), "--json"])
    shown = next(p for p in json.loads(done.stdout)["passages"] if p["text"] == NOTES["ferry.txt"])
    urls = [shown["citation"]["url"], *(also["url"] for also in shown["also"])]
    sources = [shown["citation"]["source"], *(also["source"] for also in shown["also"])]
    assert urls == [(folder / source).resolve().as_uri() for source in sources]
    text = CliRunner().invoke(app, ["ask", "ferry to Gozo", "--index", str(index_dir)]).stdout
    other = shown["also"][0]
    assert f"Also in: {other['source']} · chars {other['start']}–{other['end']}" in text


HANDBOOK_SECTIONS = {  # the ferry's section not first, where the book's own heading would join it
    "Fishing boats": "Fishermen in Marsaxlokk paint their luzzu boats blue, yellow and red, with an eye on the bow.",
    "The ferry": "The ferry to Gozo leaves Cirkewwa every forty-five minutes in summer, and every hour in winter.",
    "Temples": "The Ggantija temples on Gozo are older than the pyramids of Giza and than Stonehenge.",
}


def test_words_repeated_in_a_compilation_are_cited_at_the_page_about_them(tmp_path, fake_model):
    """A book's all-in-one print page repeats every chapter word for word: the passage is cited at
    the chapter's own page, the shorter document, with the print page under `also`, whichever of
    the two ranked first."""
    from qa.collection import Collection

    folder = tmp_path / "book"
    folder.mkdir()
    # The compilation's name holds the question's words, so that it ranks first of the two places.
    everything = "\n\n".join(f"## {heading}\n\n{text}" for heading, text in HANDBOOK_SECTIONS.items())
    (folder / "ferry-to-gozo-and-more.md").write_text(f"# Handbook\n\n{everything}\n")
    (folder / "crossing.md").write_text(f"## The ferry\n\n{HANDBOOK_SECTIONS['The ferry']}\n")
    index_dir = tmp_path / "book.qa"
    index_paths([folder], index_dir)

    first = Collection.open(index_dir).ask("ferry to Gozo", top_k=3).passages[0]
    assert HANDBOOK_SECTIONS["The ferry"] in first.text
    assert first.citation.source == "crossing.md"
    assert [place.source for place in first.also] == ["ferry-to-gozo-and-more.md"]


def test_a_compilations_copy_cut_otherwise_is_quoted_once_at_the_page_about_it(tmp_path, fake_model):
    """The print page's copy of a chapter is not the same text (its heading is marked otherwise),
    but says nothing the chapter does not: the words are quoted once, from the chapter's page, and
    the slot the copy took goes to something new. A longer passage of a shorter page, one that
    says more than the compilation's, is kept beside it."""
    from qa.collection import Collection

    folder = tmp_path / "book"
    folder.mkdir()
    everything = "\n\n".join(f"## {heading}\n\n{text}" for heading, text in HANDBOOK_SECTIONS.items())
    (folder / "ferry-to-gozo-and-more.md").write_text(f"# Handbook\n\n{everything}\n")
    (folder / "crossing.md").write_text(f"# The ferry\n\n{HANDBOOK_SECTIONS['The ferry']}\n")
    more = f"{HANDBOOK_SECTIONS['Temples']} Their stones weigh up to fifty tonnes, and the ferry brings visitors daily."
    (folder / "temples.md").write_text(f"## Temples\n\n{more}\n")
    index_dir = tmp_path / "book.qa"
    index_paths([folder], index_dir)

    passages = Collection.open(index_dir).ask("ferry to Gozo", top_k=4).passages
    ferry = [p for p in passages if HANDBOOK_SECTIONS["The ferry"] in p.text]
    assert [p.citation.source for p in ferry] == ["crossing.md"]
    temples = {p.citation.source for p in passages if HANDBOOK_SECTIONS["Temples"] in p.text}
    assert temples == {"temples.md", "ferry-to-gozo-and-more.md"} or temples == {"temples.md"}
    assert len(passages) == 4


def test_templated_pages_that_differ_in_one_number_are_both_quoted(tmp_path, fake_model):
    """Two notices made from one template say different things: each is its own passage, though
    nearly all their words are the same."""
    from qa.collection import Collection

    template = (
        "The water supply to block {} of the housing estate will be cut on Monday from nine in the "
        "morning until noon, while the contractor replaces the main valve under the courtyard. "
        "Residents are asked to fill a kettle and a bath beforehand, to keep taps closed during the "
        "works, and to report any leak to the caretaker at the gate lodge once the supply returns."
    )
    folder = tmp_path / "notices"
    folder.mkdir()
    (folder / "block-3.txt").write_text(template.format(3))
    (folder / "block-4.txt").write_text(template.format(4))
    index_dir = tmp_path / "notices.qa"
    index_paths([folder], index_dir)

    passages = Collection.open(index_dir).ask("When is the water supply cut?", top_k=2).passages
    assert sorted(p.citation.source for p in passages) == ["block-3.txt", "block-4.txt"]
