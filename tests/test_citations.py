"""Citations one click from their source in the terminal: `qa ask` sets citation.url to the file
and prints it as an OSC 8 hyperlink where the output is a terminal."""

from __future__ import annotations

import json

import pytest
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


def test_one_manual_as_pdf_and_as_html_answers_once_and_the_next_passage_is_new(tmp_path, fake_model):
    """A documentation folder often holds one manual twice, as PDF and as HTML, cut into passages
    at other places: their passages are not the same text, but the ranking lights both at the same
    sentence, and the reader saw that answer twice (11 of the MIME specification's 24 questions, in
    its Debian folder). The other copy's passage gives no answer of its own; the slot goes to
    something new. Documents that only share words are each quoted."""
    from qa.collection import Collection

    rule = "Applications must match globs without regard to case, unless the pattern says otherwise."
    folder = tmp_path / "doc"
    folder.mkdir()
    (folder / "spec.md").write_text(
        f"# Globs\n\nThe globs file lists patterns. {rule} Weights order the patterns.\n\n"
        "# Magic\n\nMagic rules look at a file's first bytes when no glob matches it.\n"
    )
    (folder / "spec.txt").write_text(f"Glob files\n\n{rule}\n\nA pattern may also carry a weight of up to 100.\n")
    (folder / "notes.txt").write_text("Globs are patterns such as *.txt; applications match them against file names.\n")
    index_paths([folder], tmp_path / "doc.qa")

    passages = (
        Collection.open(tmp_path / "doc.qa")
        .ask("Must applications match globs without regard to case?", top_k=3)
        .passages
    )
    lit = [" ".join(p.highlighted.split()) for p in passages]
    assert lit.count(rule) == 1, lit
    assert len(passages) == 3 and len(set(lit)) == 3
    assert "notes.txt" in {p.citation.source for p in passages}


@pytest.mark.slow
def test_one_specification_as_pdf_html_and_docbook_never_shows_one_answer_twice(tmp_path):
    """The MIME specification as Debian ships it, three times over (benchmarks/sets/pdf-docs: its
    PDF, its HTML pages and its DocBook source), with the real model: none of its 24 questions
    shows one highlighted sentence twice in its top 3, including where a chosen passage's
    highlight is the highlighter's pick rather than the ranking's sentence (mime-mount-point)."""
    import shutil

    from qa.collection import Collection
    from tests.conftest import PROJECT_ROOT, real_encoder

    spec = PROJECT_ROOT / "benchmarks" / "sets" / "pdf-docs"
    folder = tmp_path / "shared-mime-info"
    shutil.copytree(spec / "html-twin", folder / "shared-mime-info-spec.html")
    shutil.copy(spec / "corpus" / "shared-mime-info-spec.pdf", folder)
    shutil.copy(spec / "xml-twin" / "shared-mime-info-spec.xml.gz", folder)
    encoder = real_encoder()
    index_paths([folder], tmp_path / "spec.qa", encoder=encoder)
    collection = Collection.open(tmp_path / "spec.qa", encoder=encoder)
    questions = [json.loads(line) for line in (spec / "questions-mime-html.jsonl").read_text().splitlines()]
    twice = {}
    for question in questions:
        lit = [" ".join(p.highlighted.split()) for p in collection.ask(question["question"], top_k=3).passages]
        if len(set(lit)) < len(lit):
            twice[question["id"]] = lit
    assert len(questions) == 24 and twice == {}
    sources = {d.source for d in collection.documents()}
    assert "shared-mime-info-spec.xml.gz" in sources and "shared-mime-info-spec.pdf" in sources


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


FERRY_SECTION = [  # two paragraphs, each over half a passage (the fake encoder's): the section is cut in two
    " ".join(
        f"The ferry to Gozo leaves Cirkewwa at {hour} o'clock on the {day} crossing, with cars below deck."
        for hour, day in zip(range(5, 10), ["first", "second", "third", "fourth", "fifth"])
    ),
    " ".join(
        f"On the ferry to Gozo the {deck} deck sells coffee, and the crossing takes {minutes} minutes."
        for deck, minutes in zip(["upper", "lower", "open", "rear", "front"], range(20, 25))
    ),
]


@pytest.mark.parametrize(
    "order",
    [
        ("page 2", "copy 1", "copy 2", "page 1"),  # each place joined, then found the same
        ("page 1", "copy 1", "page 2", "copy 2"),  # the copy's place joined with the page's
        ("copy 2", "page 1", "page 2", "copy 1"),  # the compilation's quote first: the page's takes its rank
    ],
)
def test_a_section_cut_in_two_in_a_page_and_its_compilation_is_quoted_once(tmp_path, fake_model, order):
    """Node.js's all.html repeats every API page. A section cut into two passages is joined into one
    quote, and so is its copy: the two say the very same words, so they are one quote, cited at
    the page, with the compilation's whole span under `also`. The hits come in the orders two
    questions ranked them ("deploy to Heroku": Node-API's "Building"; "Enabling" hooks)."""
    from dataclasses import replace

    from qa.collection import Collection
    from qa.search.searcher import PassageRows

    section = "\n\n".join(FERRY_SECTION)
    others = "\n\n".join(
        f"## {heading}\n\n{text}" for heading, text in HANDBOOK_SECTIONS.items() if heading != "The ferry"
    )
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "all.md").write_text(f"# Handbook\n\n{others}\n\n## The ferry\n\n{section}\n\n{others}\n")
    (folder / "ferry.md").write_text(f"## The ferry\n\n{section}\n")
    index_paths([folder], tmp_path / "book.qa")
    collection = Collection.open(tmp_path / "book.qa")

    searcher = collection.searcher()
    rows = PassageRows(searcher.snapshot)
    ranking = searcher.rank(
        collection.retriever, collection.query("When does the ferry to Gozo leave?", ()), 8, rows=rows
    )
    found = rows.rows([hit.passage_id for hit in ranking.hits])
    ferry = sorted(
        (hit for hit in ranking.hits if found[hit.passage_id].section[-1] == "The ferry"),
        key=lambda hit: (found[hit.passage_id].source != "ferry.md", found[hit.passage_id].start),
    )
    assert [(found[hit.passage_id].source) for hit in ferry] == ["ferry.md", "ferry.md", "all.md", "all.md"]
    parts = dict(zip(("page 1", "page 2", "copy 1", "copy 2"), ferry))
    others = [hit for hit in ranking.hits if hit not in ferry]
    ordered = replace(ranking, hits=[*(parts[name] for name in order), *others])

    passages = searcher.answer_passages(ordered, rows, top_k=3, join_depth=20)
    quoting = [p for p in passages if FERRY_SECTION[0] in p.text or FERRY_SECTION[1] in p.text]
    assert len(quoting) == 1, [(p.citation.source, p.citation.start) for p in passages]
    assert section in quoting[0].text and quoting[0].citation.source == "ferry.md"
    [compilation] = quoting[0].also
    assert compilation.source == "all.md" and section in compilation_text(collection, compilation)
    assert quoting[0].rank == 1 and len(passages) == 3


def compilation_text(collection, citation) -> str:
    return collection.searcher().snapshot.text_span(citation.doc_id, citation.start, citation.end)
