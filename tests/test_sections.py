"""Passages that follow a document's structure (issue 18): the HTML and Markdown readers' blocks,
the cut along them, the section path stored, returned and shown, and plain text left as it was."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from qa.answers import encoded
from qa.collection import Collection
from qa.ingest.blocks import section_paths
from qa.ingest.chunking import ChunkingSettings
from qa.ingest.documents import load_file
from qa.ingest.indexing import IndexOptions, index_paths, passage_spans
from qa.ingest.limits import ReadLimits
from qa.ingest.readers.html import read_html
from qa.ingest.readers.markdown import read_markdown
from qa.ingest.readers.text import read_text
from qa.ingest.sections import split_sections
from qa.store.segment import searchable_text
from qa.text.normalize import normalize_text
from tests.fakes import FakeEncoder

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

PAGE = """<html><head><title>Handbook</title></head><body>
<nav><a href="/">Home</a> <a href="/about">About</a></nav>
<main>
<h1>Handbook</h1>
<p>This handbook says how we
work together, and what the
company pays for.</p>
<h2>Travel</h2>
<h3>Expenses</h3>
<p>Meals are paid up to thirty euros a day
when you travel for work.</p>
<ul><li>Taxis need a receipt from the driver.</li><li>Trains are booked in second class.</li></ul>
<dl><dt>Per diem</dt><dd>A fixed amount paid for each day away from home.</dd>
<dt>Mileage</dt><dd>What a kilometre driven in your own car is paid.</dd></dl>
<table><tr><th>Item</th><th>Limit</th></tr><tr><td>Hotel</td><td>120 euros</td></tr></table>
<pre>ssh build.example
make release

make upload</pre>
<p><b>Claims</b></p>
<p>Claims are filed within a month of the trip.</p>
</main>
<footer>Copyright us</footer>
</body></html>"""


def blocks_of(parsed):
    return [(b.kind, parsed.text[b.start : b.end]) for b in parsed.blocks]


def test_html_blocks_are_spans_of_the_stored_text(tmp_path: Path) -> None:
    page = tmp_path / "handbook.html"
    page.write_text(PAGE)
    parsed = read_html(page)
    assert normalize_text(parsed.text) == parsed.text  # still normalised text: offsets keep their meaning
    kinds = blocks_of(parsed)
    assert ("paragraph", "This handbook says how we work together, and what the company pays for.") in kinds
    assert ("item", "Taxis need a receipt from the driver.") in kinds
    assert ("term", "Per diem") in kinds and (
        "description",
        "A fixed amount paid for each day away from home.",
    ) in kinds
    assert ("table_head", "Item\nLimit") in kinds and ("row", "Hotel\n120 euros") in kinds
    assert ("code", "ssh build.example\nmake release\n\nmake upload") in kinds  # pre keeps its lines
    assert ("heading", "Claims") in kinds  # a paragraph of bold words only reads as a heading
    assert "Home" not in parsed.text and "Copyright" not in parsed.text  # nav and footer dropped
    headings = [(b.level, parsed.text[b.start : b.end]) for b in parsed.blocks if b.kind == "heading"]
    assert headings == [(1, "Handbook"), (2, "Travel"), (3, "Expenses"), (7, "Claims")]


def test_a_reference_entry_reads_as_a_section_and_hidden_text_is_left_out(tmp_path: Path) -> None:
    """As in a manual's list of commands: a hidden anchor heading, then the entry's signature set
    in bold and italics, then its description (the SQLite pragma page)."""
    page = tmp_path / "pragma.html"
    page.write_text(
        "<h1>PRAGMA Statements</h1>"
        '<h _id=pragma_journal_mode style="display:none"> PRAGMA journal_mode</h><hr>'
        "<p><b>PRAGMA </b><i>schema.</i><b>journal_mode;<br>PRAGMA </b><i>schema.</i><b>journal_mode = WAL</b></p>"
        "<p>The WAL journaling mode is persistent; after being set it stays in effect.</p>"
        '<p hidden>Not shown to readers.</p><div style="DISPLAY: none">Nor this.</div>'
    )
    parsed = read_html(page)
    assert "shown" not in parsed.text and "Nor this" not in parsed.text
    persistent = next(b for b in parsed.blocks if "persistent" in parsed.text[b.start : b.end])
    path = section_paths(parsed.text, parsed.blocks)[parsed.blocks.index(persistent)]
    assert path[0] == "PRAGMA Statements" and "journal_mode" in path[1]
    # A paragraph with more than bold and italics in it is still a paragraph.
    page.write_text("<p><b>Note:</b> the WAL mode is <a href=x>persistent</a>.</p>")
    assert [b.kind for b in read_html(page).blocks] == ["paragraph"]


def test_a_faqs_long_bold_questions_are_its_headings(tmp_path: Path) -> None:
    """SQLite's FAQ sets each question in a bold paragraph, some of two long lines: each answer's
    section is its own question, not the last short one above it. A long bold paragraph that does
    not ask stays a paragraph (a warning set in bold)."""
    question = (
        "(5) Can multiple applications or multiple instances of the same\n"
        " application access a single database file at the same time?"
    )
    page = tmp_path / "faq.html"
    page.write_text(
        "<h2>Frequently Asked Questions</h2>"
        "<p><b>(2) What datatypes does SQLite support?</b></p><blockquote>SQLite uses dynamic typing.</blockquote>"
        f"<p><b>{question}</b></p><blockquote><p>Multiple processes can have the same database open.</p></blockquote>"
        "<p><b>The sqlite3_config() interface is not threadsafe and must be called before any other"
        " interface is used.</b></p>"
    )
    parsed = read_html(page)
    paths = section_paths(parsed.text, parsed.blocks)
    answer = next(i for i, b in enumerate(parsed.blocks) if "Multiple processes" in parsed.text[b.start : b.end])
    assert paths[answer][-1] == " ".join(question.split())
    warning = next(b for b in parsed.blocks if "not threadsafe" in parsed.text[b.start : b.end])
    assert warning.kind == "paragraph"


def test_a_sphinx_themes_menus_and_permalinks_are_left_out(tmp_path: Path) -> None:
    """Sphinx pages (the BorgBackup manual) mark their menus with roles on plain elements and end
    every heading with a permalink, `¶`, shown only on hover: neither is the page's text, and the
    section path shown above a quote reads "Usage › borg prune", not "Usage ¶ › borg prune ¶"."""
    page = tmp_path / "prune.html"
    page.write_text(
        '<body><div class="related" role="navigation"><h3>Navigation</h3><ul><li><a href="i.html">index</a></li>'
        '<li><a href="n.html">next</a></li></ul></div>'
        '<div role="main"><h1>Usage<a class="headerlink" href="#usage" title="Permalink">¶</a></h1>'
        '<h2>borg prune<a class="headerlink" href="#prune">¶</a></h2>'
        "<p>The prune command prunes a repository by deleting all archives not matching any of the rules.</p>"
        '<h2>Examples<a href="#examples">#</a></h2><p>Keep 7 end of day archives with --keep-daily 7.</p></div>'
        '<div class="footer" role="contentinfo">© Copyright 2010-2023 The Borg Collective.</div></body>'
    )
    parsed = read_html(page)
    assert "Navigation" not in parsed.text and "next" not in parsed.text and "Copyright" not in parsed.text
    assert "¶" not in parsed.text and "#" not in parsed.text
    prune = next(b for b in parsed.blocks if "prunes" in parsed.text[b.start : b.end])
    assert section_paths(parsed.text, parsed.blocks)[parsed.blocks.index(prune)] == ("Usage", "borg prune")


def test_source_line_breaks_inside_a_paragraph_are_not_sentences(tmp_path: Path) -> None:
    """The issue's "The global interpreter lock need not" came from the page source's wrapping."""
    page = tmp_path / "gil.html"
    page.write_text("<p>The global interpreter lock need not\nbe held while the code waits.</p>")
    assert read_html(page).text == "The global interpreter lock need not be held while the code waits."


def test_markdown_blocks_join_wrapped_lines_and_keep_code(tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    note.write_text(
        "---\ntitle: Notes\n---\n# Travel\n\nMeals are paid\nup to thirty euros.\n\n"
        "- Taxis need\n  a receipt.\n- Trains\n\n```\nmake\n\nmake upload\n```\n\nSetext\n------\n\nLast words.\n"
    )
    parsed = read_markdown(note)
    assert parsed.title == "Notes"
    assert blocks_of(parsed) == [
        ("heading", "# Travel"),
        ("paragraph", "Meals are paid up to thirty euros."),
        ("item", "- Taxis need a receipt."),
        ("item", "- Trains"),
        ("code", "```\nmake\n\nmake upload\n```"),
        ("heading", "Setext"),
        ("paragraph", "Last words."),
    ]
    assert section_paths(parsed.text, parsed.blocks)[-1] == ("Travel", "Setext")


def sections_of(parsed, target: int = 254, max_tokens: int = 254):
    encoder = FakeEncoder()
    spans = split_sections(
        parsed.text, parsed.blocks, encoder.count_tokens, encoder.token_spans, max_tokens, ChunkingSettings(target)
    )
    return [(span.section, parsed.text[span.start : span.end]) for span in spans]


def test_passages_start_at_headings_and_carry_their_section_path(tmp_path: Path) -> None:
    page = tmp_path / "handbook.html"
    page.write_text(PAGE)
    passages = sections_of(read_html(page))
    assert passages[0] == (
        ("Handbook",),
        "Handbook\n\nThis handbook says how we work together, and what the company pays for.",
    )
    section, text = passages[1]
    assert section == ("Handbook", "Travel", "Expenses")
    assert text.startswith("Travel\n\nExpenses\n\nMeals are paid")  # headings stay with their first block
    per_diem = next(text for _, text in passages if text.startswith("Per diem"))
    assert per_diem == "Per diem\nA fixed amount paid for each day away from home."  # a definition on its own
    assert passages[-1] == (
        ("Handbook", "Travel", "Expenses", "Claims"),
        "Claims\n\nClaims are filed within a month of the trip.",
    )


def test_a_sentence_ending_in_a_colon_stays_with_what_it_introduces(tmp_path: Path) -> None:
    """ "The following functions are built in:" said nothing alone, and won on the question's words
    over the passage that answers (issue 18): an introduction goes with the block after it, whether
    that block starts a definition or a section, or no longer fits beside the text before."""
    page = tmp_path / "flags.html"
    filler = " ".join(f"Sentence {n} says something about the options of the tool." for n in range(4))
    page.write_text(
        "<h1>Flags</h1><p>These flags are accepted:</p>"
        "<dl><dt>--fast</dt><dd>Skips the checks.</dd><dt>--slow</dt><dd>Runs every check twice.</dd></dl>"
        f"<h2>Exit codes</h2><p>{filler}</p><p>The codes are as follows:</p>"
        "<pre>0 success\n1 failure\n2 usage error\n3 lock lost\n4 interrupted</pre>"
        f"<h2>Functions</h2><p>{filler} Sentence 4 fills the passage right up to its brim.</p>"
        "<p>Two functions are built in:</p>"
        "<h3>first()</h3><p>The first row of the frame.</p><h3>last()</h3><p>The last row of the frame.</p>"
    )
    sections = sections_of(read_html(page), target=60, max_tokens=80)
    passages = [text for _, text in sections]
    assert passages[0] == "Flags\n\nThese flags are accepted:\n\n--fast\nSkips the checks."
    assert passages[1] == "--slow\nRuns every check twice."
    assert passages[2].endswith("the tool.")  # the code did not fit beside the paragraph
    assert passages[3] == "The codes are as follows:\n\n0 success\n1 failure\n2 usage error\n3 lock lost\n4 interrupted"
    assert passages[4].startswith("Functions\n\nSentence 0") and passages[4].endswith("up to its brim.")
    assert sections[5] == (
        ("Flags", "Functions", "first()"),
        "Two functions are built in:\n\nfirst()\n\nThe first row of the frame.",
    )


def test_long_code_is_cut_only_at_blank_lines_and_nothing_exceeds_the_limit(tmp_path: Path) -> None:
    parts = ["\n".join(f"step_{part}_{line} = run({line})" for line in range(8)) for part in range(6)]
    page = tmp_path / "build.md"
    page.write_text("# Build\n\n```\n" + "\n\n".join(parts) + "\n```\n")
    parsed = read_markdown(page)
    passages = sections_of(parsed, target=60, max_tokens=80)
    encoder = FakeEncoder()
    assert len(passages) > 1
    assert all(count <= 80 for count in encoder.count_tokens([text for _, text in passages]))
    for _, text in passages:
        body = text.removeprefix("# Build\n\n").strip("`\n")
        assert all(part in parts for part in body.split("\n\n")), "a code part was cut inside"


def test_a_menu_of_short_lines_is_not_a_passage(tmp_path: Path) -> None:
    page = tmp_path / "menu.html"
    page.write_text(
        "<div><ul><li>Home</li><li>About</li><li>Download</li></ul></div>"
        "<h2>Limits</h2><p>The default setting for the column limit is two thousand columns.</p>"
    )
    passages = sections_of(read_html(page))
    assert passages == [(("Limits",), "Limits\n\nThe default setting for the column limit is two thousand columns.")]


def test_plain_text_is_cut_exactly_as_before() -> None:
    """Plain text (the seeds; SciFact and SQuAD, read as documents without blocks) goes the old way:
    spans and searchable text hashed from the code before issue 18 (commit 7794a4a), but for the two
    seeds with a paragraph that ends with a colon ("… has failed:", "From Bloomberg:"), which since
    05afa1e starts the passage of what it introduces."""
    before = {
        "000_5ff8cc3110b41a82.txt": (4, "e860b4e570934257f47d18affa7db5faa23dfd744137d4d54723cafd84fdbcb9"),
        "001_f097b54746bb52ed.txt": (7, "b1c4f28dd52f15f3ceb12b05070f88368282de4daf0f2cbdd03876c9863b25a4"),
        "002_16a2268da3ab4520.txt": (40, "3e935057883ff21c3ccc05d0df1dd5a48d1e138b0173f768e8e93daf97299e73"),
        "003_3ef2d10c93bb7d3e.txt": (6, "670103a60f1e30aa83ce2012870bd18f928ac7e06566c08dd111eacee2765d4b"),
        "004_db8b2aaffeb7cb22.txt": (6, "132155dc2345afadf2fdef5fff1b0889783f42a0dc8371a7b8cda8b0f025d6fd"),
    }
    encoder = FakeEncoder(max_tokens=128)
    for name, expected in before.items():
        parsed = read_text(SEEDS / name)
        document = load_file(SEEDS / name, SEEDS, name, "0", parsed=parsed)
        assert document.blocks == ()
        spans = passage_spans(document, encoder, ChunkingSettings())
        texts = [searchable_text(parsed.title, document.text[s.start : s.end]) for s in spans]
        digest = hashlib.sha256(json.dumps([[s.start, s.end] for s in spans] + texts).encode()).hexdigest()
        assert (len(spans), digest) == expected, name


def test_searchable_text_adds_the_section_path_after_the_title() -> None:
    assert searchable_text("Handbook", "Meals.") == "Handbook\nMeals."
    assert searchable_text("Handbook", "Meals.", ()) == "Handbook\nMeals."
    assert searchable_text("Handbook", "Meals.", ("Travel", "Expenses")) == "Handbook › Travel › Expenses\nMeals."


@pytest.fixture
def handbook_index(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "handbook.html").write_text(PAGE)
    index_dir = tmp_path / "handbook.qa"
    index_paths([folder], index_dir, IndexOptions(), encoder=FakeEncoder())
    return index_dir


def test_the_citation_carries_the_section_path(handbook_index: Path) -> None:
    answer = Collection.open(handbook_index, encoder=FakeEncoder()).ask("How much are meals paid when travelling?")
    best = answer.passages[0]
    assert best.citation.section == ["Handbook", "Travel", "Expenses"]
    assert json.loads(encoded(answer))["passages"][0]["citation"]["section"] == [
        "Handbook",
        "Travel",
        "Expenses",
    ]


def test_segments_written_before_section_paths_still_open(handbook_index: Path) -> None:
    for database in handbook_index.glob("segments/*/passages.sqlite"):
        with sqlite3.connect(database) as db:
            db.execute("ALTER TABLE passages DROP COLUMN section")
    answer = Collection.open(handbook_index, encoder=FakeEncoder()).ask("How much are meals paid when travelling?")
    assert answer.passages and all(passage.citation.section == [] for passage in answer.passages)


def test_the_cli_shows_the_section_path_above_the_quote(handbook_index: Path, fake_model) -> None:
    from typer.testing import CliRunner

    from qa.cli import app

    result = CliRunner().invoke(
        app, ["ask", "How much are meals paid when travelling?", "--index", str(handbook_index)]
    )
    assert result.exit_code == 0, result.output
    assert "Handbook › Travel › Expenses" in result.output
    assert result.output.index("Handbook › Travel › Expenses") < result.output.index("Meals are paid")


def test_section_paths_survive_a_merge(handbook_index: Path, tmp_path: Path) -> None:
    from qa.ingest.indexing import compact_index

    other = tmp_path / "more"
    other.mkdir()
    (other / "notes.md").write_text("# Notes\n\n## Ferries\n\nThe ferry leaves at nine in the morning every day.\n")
    index_paths([other], handbook_index, IndexOptions(), encoder=FakeEncoder())
    compact_index(handbook_index)
    collection = Collection.open(handbook_index, encoder=FakeEncoder())
    assert collection.ask("When does the ferry leave?").passages[0].citation.section == ["Notes", "Ferries"]
    assert collection.ask("How much are meals paid when travelling?").passages[0].citation.section == [
        "Handbook",
        "Travel",
        "Expenses",
    ]


def handbook_docx(path: Path) -> Path:
    """The handbook of the HTML page above as Word writes it: styles for headings, lists and quotes,
    a bold line as a heading, code in a monospace font, a table with a header row, in that order."""
    import docx

    document = docx.Document()
    document.add_heading("Handbook", level=1)
    document.add_paragraph("This handbook says how we work together, and what the company pays for.")
    document.add_heading("Travel", level=2)
    document.add_heading("Expenses", level=3)
    document.add_paragraph("Meals are paid up to thirty euros a day when you travel for work.")
    document.add_paragraph("Taxis need a receipt from the driver.", style="List Bullet")
    document.add_paragraph("Trains are booked in second class.", style="List Bullet")
    table = document.add_table(rows=3, cols=2)
    for row, cells in zip(
        table.rows, [("Trip", "Allowance"), ("Paris", "40 euros"), ("Rome", "35 euros")], strict=True
    ):
        row.cells[0].text, row.cells[1].text = cells
    document.add_paragraph().add_run("Claims").bold = True
    document.add_paragraph("Claims are filed within a month of the trip.")
    document.add_paragraph("Money well spent is money you can explain.", style="Quote")
    for line in ("claims = load('claims.csv')", "print(total(claims))"):
        document.add_paragraph().add_run(line).font.name = "Courier New"
    document.save(path)
    return path


def test_a_word_document_is_read_as_blocks_in_its_order(tmp_path: Path) -> None:
    from qa.ingest.readers.docx import BOLD_HEADING_LEVEL, read_docx

    parsed = read_docx(handbook_docx(tmp_path / "handbook.docx"), ReadLimits())
    kinds = [(block.kind, block.level, parsed.text[block.start : block.end]) for block in parsed.blocks]
    assert kinds == [
        ("heading", 1, "Handbook"),
        ("paragraph", 0, "This handbook says how we work together, and what the company pays for."),
        ("heading", 2, "Travel"),
        ("heading", 3, "Expenses"),
        ("paragraph", 0, "Meals are paid up to thirty euros a day when you travel for work."),
        ("item", 0, "Taxis need a receipt from the driver."),
        ("item", 0, "Trains are booked in second class."),
        ("table_head", 0, "Trip | Allowance"),  # the table where it stands, not after the text
        ("row", 0, "Paris | 40 euros"),
        ("row", 0, "Rome | 35 euros"),
        ("heading", BOLD_HEADING_LEVEL, "Claims"),
        ("paragraph", 0, "Claims are filed within a month of the trip."),
        ("quote", 0, "Money well spent is money you can explain."),
        ("code", 0, "claims = load('claims.csv')\nprint(total(claims))"),  # one block, its lines kept
    ]
    assert parsed.title == "Handbook"
    passages = sections_of(parsed)
    expenses = next(text for section, text in passages if section == ("Handbook", "Travel", "Expenses"))
    assert expenses.startswith("Travel\n\nExpenses\n\nMeals are paid")
    assert "Trip | Allowance\nParis | 40 euros" in expenses  # the header row with its rows
    claims = [section for section, text in passages if "filed within a month" in text]
    assert claims == [("Handbook", "Travel", "Expenses", "Claims")]


def handbook_pdf(path: Path, outline: bool) -> Path:
    """Three pages as a typesetter lays them out: a title page; a running header and a page number
    on every page; headings set larger (bookmarked in the outline, without their numbers, when
    `outline`); paragraphs of wrapped lines apart by a wider gap; a bulleted list; code in Courier."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    pdf.setTitle("untitled")  # what many generators write: no title

    def furniture(number: int) -> None:
        pdf.setFont("Helvetica-Oblique", 9)
        pdf.drawString(72, 800, "Harbour Handbook")
        pdf.drawString(300, 40, str(number))

    def lines(font: str, size: float, y: float, texts: list[str], spacing: float = 13) -> float:
        pdf.setFont(font, size)
        for text in texts:
            pdf.drawString(72, y, text)
            y -= spacing
        return y

    pdf.setFont("Helvetica-Bold", 24)
    pdf.drawString(72, 700, "Harbour Handbook")
    lines("Helvetica", 10, 660, ["How the harbour works, for everyone who works there."])
    pdf.showPage()
    furniture(2)
    pdf.bookmarkPage("travel")
    lines("Helvetica-Bold", 16, 740, ["1 Travel"])
    y = lines(
        "Helvetica", 10, 715, ["Travel on harbour business is planned with the office", "a week before the trip."]
    )
    lines(
        "Helvetica",
        10,
        y - 12,
        ["Every trip has a budget, agreed with the harbour master", "before anything is booked."],
    )
    pdf.showPage()
    furniture(3)
    pdf.bookmarkPage("expenses")
    lines("Helvetica-Bold", 13, 740, ["1.1 Expenses"])
    y = lines("Helvetica", 10, 715, ["Meals are paid up to thirty euros a day when you", "travel for work."])
    y = lines(
        "Helvetica", 10, y - 12, ["- Taxis need a receipt from the driver.", "- Trains are booked in second class."]
    )
    y = lines("Courier", 10, y - 12, ["claims = load('claims.csv')", "print(total(claims))"])
    lines("Helvetica-Bold", 12, y - 12, ["Receipts"])  # a subsection the outline does not list
    lines("Helvetica", 10, y - 36, ["Keep every receipt for a year."])
    pdf.showPage()
    if outline:
        pdf.addOutlineEntry("Travel", "travel", level=0)
        pdf.addOutlineEntry("Expenses", "expenses", level=1)
    pdf.save()
    return path


@pytest.mark.parametrize("outline", [True, False], ids=["outline", "font sizes"])
def test_a_pdf_is_read_as_blocks_from_its_outline_or_its_font_sizes(tmp_path: Path, outline: bool) -> None:
    from qa.ingest.readers.pdf import read_pdf

    parsed = read_pdf(handbook_pdf(tmp_path / "handbook.pdf", outline), ReadLimits())
    blocks = [(block.kind, block.level, parsed.text[block.start : block.end]) for block in parsed.blocks]
    # From the outline, the title page has no heading (the outline does not list it, and it is set
    # larger than what it lists): its title is a title page's text; from the font sizes, its title
    # is the largest heading.
    title, travel, expenses, receipts = ("text", 0), ("heading", 1), ("heading", 2), ("heading", 3)
    if not outline:
        title, travel, expenses, receipts = ("heading", 1), ("heading", 2), ("heading", 3), ("heading", 4)
    assert blocks == [
        (*title, "Harbour Handbook"),
        ("paragraph", 0, "How the harbour works, for everyone who works there."),
        (*travel, "1 Travel"),  # the outline says "Travel": matched without the number
        ("paragraph", 0, "Travel on harbour business is planned with the office a week before the trip."),
        ("paragraph", 0, "Every trip has a budget, agreed with the harbour master before anything is booked."),
        (*expenses, "1.1 Expenses"),
        ("paragraph", 0, "Meals are paid up to thirty euros a day when you travel for work."),
        ("item", 0, "- Taxis need a receipt from the driver."),
        ("item", 0, "- Trains are booked in second class."),
        ("code", 0, "claims = load('claims.csv')\nprint(total(claims))"),
        (*receipts, "Receipts"),  # set smaller than the listed headings: below them
        ("paragraph", 0, "Keep every receipt for a year."),
    ]
    assert parsed.title == "Harbour Handbook"
    assert parsed.text.count("Harbour Handbook") == 1  # the running header is left out, the title kept
    assert not any(parsed.text[block.start : block.end] in {"2", "3"} for block in parsed.blocks)  # page numbers
    assert [parsed.text[start:].split("\n")[0] for start in parsed.page_starts] == [
        "Harbour Handbook",
        "1 Travel",
        "1.1 Expenses",
    ]
    expenses = next(text for section, text in sections_of(parsed) if "thirty euros" in text)
    section = next(section for section, text in sections_of(parsed) if "thirty euros" in text)
    assert section[-2:] == ("1 Travel", "1.1 Expenses")
    assert expenses.startswith("1.1 Expenses\n\nMeals are paid")


def test_a_pdf_passage_never_runs_on_into_the_next_page(tmp_path: Path) -> None:
    """A section that goes on over a page break is cut at the break, so each passage cites the page
    all its words are on; before, the last words of page 1 and the first of page 2 made one passage
    that cited page 1 for words on page 2."""
    from reportlab.pdfgen import canvas

    from qa.ingest.readers.pdf import read_pdf

    path = tmp_path / "ferry.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(72, 740, "Ferry timetable")
    pdf.setFont("Helvetica", 10)
    pdf.drawString(72, 715, "The morning ferry leaves the harbour at seven and reaches the island by nine.")
    pdf.showPage()
    pdf.setFont("Helvetica", 10)
    pdf.drawString(72, 740, "The evening ferry leaves the island at six and is back in the harbour by eight.")
    pdf.showPage()
    pdf.save()
    parsed = read_pdf(path, ReadLimits())
    document = load_file(path, tmp_path, "ferry.pdf", "0", parsed=parsed)
    spans = passage_spans(document, FakeEncoder(), ChunkingSettings())
    pages = [(document.page_at(span.start), document.page_at(span.end - 1)) for span in spans]
    assert pages == [(1, 1), (2, 2)]
    assert "evening" in document.text[spans[1].start : spans[1].end]
    assert spans[1].section == ("Ferry timetable",)  # still under its heading


def drawn_pdf(path: Path, pages: list[list[tuple[str, float, float, str]]]) -> tuple[Path, list]:
    """A PDF of `pages`, each a list of lines (font, size, y, text) drawn at x = 72, read as qa
    reads it: (the document, the parsed file)."""
    from reportlab.pdfgen import canvas

    from qa.ingest.readers.pdf import read_pdf

    pdf = canvas.Canvas(str(path))
    for lines in pages:
        for font, size, y, text in lines:
            pdf.setFont(font, size)
            pdf.drawString(72, y, text)
        pdf.showPage()
    pdf.save()
    parsed = read_pdf(path, ReadLimits())
    return load_file(path, path.parent, path.name, "0", parsed=parsed), parsed


def test_a_sentence_a_pdfs_page_break_cut_is_read_whole_and_cites_the_page_it_starts_on(tmp_path: Path) -> None:
    """A paragraph that goes on over a page break is one block, so the sentence the break cut is
    one sentence in one passage; before, "… found in a" ended one passage and "directory is added
    …" began the next, and neither held the answer. Page 2 still starts at its first word, and a
    new paragraph there is a passage citing page 2. A title page's last line does not run on into a
    paragraph that starts with a capital."""
    body = "Helvetica", 10
    document, parsed = drawn_pdf(
        tmp_path / "ferry.pdf",
        [
            [(*body, 740, "Harbour Ferries Ltd (ferries@example.org)")],
            [
                (*body, 740, "Tickets are sold at the kiosk on the quay. A ticket for the morning ferry"),
                (*body, 728, "is valid all day, and children under five travel free when a parent holds"),
            ],
            [
                (*body, 740, "the ticket at the gangway."),
                (*body, 710, "Bicycles ride for the price of one child on every crossing of the week,"),
                (*body, 698, "and dogs on a lead ride free."),
            ],
        ],
    )
    spans = passage_spans(document, FakeEncoder(), ChunkingSettings())
    quoted = [document.text[span.start : span.end] for span in spans]
    cut = "children under five travel free when a parent holds the ticket at the gangway."
    assert [passage for passage in quoted if cut in passage], quoted
    assert "Tickets are sold" in document.text[parsed.blocks[1].start : parsed.blocks[1].end]
    assert document.text[document.page_starts[2] :].startswith("the ticket at the gangway.")
    assert document.page_starts[1] == parsed.blocks[1].start  # the title page ends without running on
    bicycles = next(span for span in spans if "Bicycles" in document.text[span.start : span.end])
    assert document.page_at(bicycles.start) == 3
    assert [document.page_at(span.start) for span in spans if cut in document.text[span.start : span.end]] == [2]


def test_a_name_set_in_monospace_on_a_line_of_its_own_stays_in_its_pdf_sentence() -> None:
    """A line set in a monospace font is code, unless the line before does not end its sentence:
    then it is a name the line break put first ("… the list, and" | "ASN1_ELEMENT_NOT_FOUND if …"),
    and the sentence goes on around it. Before, it was a code block of its own, and the rest of the
    sentence a paragraph starting "error occurred …". Code after a line that ends with a colon
    stays code."""
    from qa.ingest.blocks import BlockText
    from qa.ingest.readers.pdf_layout import Line, add_pages

    def line(text: str, y: float, mono: float = 0.0) -> Line:
        return Line(text, 10.0, y, mono)

    page = [
        line("Returns the node when it is found in the list, and", 700),
        line("ASN1_ELEMENT_NOT_FOUND if", 688, mono=0.92),
        line("no element of that name exists in the structure.", 676),
        line("Print it with the following call:", 650),
        line("asn1_print_structure(stdout, node, name, ASN1_PRINT_ALL);", 638, mono=1.0),
    ]
    out = BlockText()
    add_pages(out, [page], {})
    blocks = [(block.kind, out.text[block.start : block.end]) for block in out.blocks]
    assert blocks == [
        (
            "paragraph",
            "Returns the node when it is found in the list, and ASN1_ELEMENT_NOT_FOUND if no element of that name"
            " exists in the structure.",
        ),
        ("paragraph", "Print it with the following call:"),
        ("code", "asn1_print_structure(stdout, node, name, ASN1_PRINT_ALL);"),
    ]


def test_a_pdf_paragraph_between_examples_set_small_is_one_paragraph() -> None:
    """A page's line spacing is the lower quartile of its gaps, so on a page of examples set small
    (9 pt on 11 pt) every line of the 10.9 pt text between them (on 13.15 pt) looked like a new
    paragraph: "include a copy of the License in the" | "document and put …". The document's
    leading at the text's own size keeps it one paragraph; a paragraph's wider gap still ends it."""
    from qa.ingest.blocks import BlockText
    from qa.ingest.readers.pdf_layout import Line, add_pages

    def body(text: str, y: float) -> Line:
        return Line(text, 10.9, y, 0.0)

    def example(text: str, y: float) -> Line:
        return Line(text, 9.0, y, 1.0)

    page = [example(f"(setq a{n} t)", 700 - 11 * n) for n in range(4)]
    page += [
        body("If you have Invariant Sections without Cover Texts, or some other combination of the", 600),
        body("three, merge those two alternatives to suit the situation, and keep the notice", 586.85),
        body("as it stands.", 573.7),
        body("Examples of program code may be released under a free software licence.", 555),
    ]
    page += [example(f"(setq b{n} t)", 530 - 11 * n) for n in range(4)]
    out = BlockText()
    add_pages(out, [page], {})
    paragraphs = [out.text[b.start : b.end] for b in out.blocks if b.kind == "paragraph"]
    assert paragraphs == [
        "If you have Invariant Sections without Cover Texts, or some other combination of the three, merge those"
        " two alternatives to suit the situation, and keep the notice as it stands.",
        "Examples of program code may be released under a free software licence.",
    ]


def test_a_number_the_line_break_put_first_numbers_nothing_in_a_pdf() -> None:
    """A line that starts "0. " after a line that does not end its sentence goes on with it ("…
    string "NEW" and LEN !=" | "0. With this instruction …"); before, it began a list item and cut
    the sentence. A numbered list after a sentence is still a list."""
    from qa.ingest.blocks import BlockText
    from qa.ingest.readers.pdf_layout import Line, add_pages

    page = [
        Line('SEQUENCE OF: VALUE must be the null terminated string "NEW" and LEN !=', 10.0, 700, 0.0),
        Line("0. With this instruction another element is appended in the sequence.", 10.0, 688, 0.0),
        Line("To append two elements, do the following in turn.", 10.0, 670, 0.0),
        Line("1. Write the string NEW to the sequence.", 10.0, 658, 0.0),
        Line("2. Write the element's value.", 10.0, 646, 0.0),
    ]
    out = BlockText()
    add_pages(out, [page], {})
    assert [(b.kind, out.text[b.start : b.end]) for b in out.blocks] == [
        (
            "paragraph",
            'SEQUENCE OF: VALUE must be the null terminated string "NEW" and LEN != 0. With this instruction another'
            " element is appended in the sequence.",
        ),
        ("paragraph", "To append two elements, do the following in turn."),
        ("item", "1. Write the string NEW to the sequence."),
        ("item", "2. Write the element's value."),
    ]


def test_a_pdfs_title_page_names_its_authors_in_a_passage(tmp_path: Path) -> None:
    """A title page's short lines (the title, the authors, the publisher) are words the author
    placed as they are: kept in a passage however short. Before, "Thomas Leonard" and "X Desktop
    Group" above the MIME specification were in no passage, as a web page's furniture is not, and
    "who wrote it?" had no answer. The first prose ends the title page."""
    body = "Helvetica", 10
    document, parsed = drawn_pdf(
        tmp_path / "handbook.pdf",
        [
            [
                ("Helvetica-Bold", 24, 700, "Harbour Handbook"),
                (*body, 660, "Jane Doe"),
                (*body, 630, "Island Press, 2024"),
            ],
            [
                ("Helvetica-Bold", 16, 740, "1 Travel"),
                (*body, 715, "Travel on harbour business is planned with the office"),
                (*body, 703, "a week before the trip."),
                (*body, 670, "Short note"),
            ],
        ],
    )
    quoted = [
        document.text[span.start : span.end] for span in passage_spans(document, FakeEncoder(), ChunkingSettings())
    ]
    assert any("Jane Doe" in passage and "Island Press, 2024" in passage for passage in quoted), quoted
    assert [block.kind for block in parsed.blocks if parsed.text[block.start : block.end] == "Short note"] == [
        "paragraph"  # past the title page: a short line is no title page's
    ]


GUIDE = """# Guide

## Limits

{first}

{second} The default maximum number of columns in a table is two thousand.

## Backups

Backups of every table are copied to the vault each night at two.

## Fonts

The printed manual is set in a serif font.
"""


def guide_index(tmp_path: Path, name: str) -> tuple[Collection, list]:
    """A guide whose "Limits" section is too long for one passage, indexed: the collection, and the
    stored passages of its "Limits" text in their order."""
    first = " ".join(f"Limit {n} of a table bounds what its rows and columns may hold." for n in range(9))
    second = " ".join(f"Setting {n} changes a limit when the library is compiled." for n in range(9))
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / name).write_text(GUIDE.format(first=first, second=second))
    index_dir = tmp_path / "guide.qa"
    index_paths([folder], index_dir, IndexOptions(), encoder=FakeEncoder())
    collection = Collection.open(index_dir, encoder=FakeEncoder())
    snapshot = collection.searcher().snapshot
    stored = snapshot.passages([passage_id for passage_id, _, _ in snapshot.passage_texts()])
    limits = sorted((p for p in stored.values() if "imit" in p.text), key=lambda p: p.start)
    assert len(limits) == 2, "the section must be cut in two for these tests"
    return collection, limits


QUESTION = "What is the maximum number of columns in a table?"


def test_a_section_cut_into_two_leading_passages_is_quoted_as_one(tmp_path: Path) -> None:
    """The heading's passage and the one under it that answers both led, and were shown as two
    answers (issue 18): now they are one quote, verbatim, at the better one's rank, and the next
    answer is something else. The index still stores two passages."""
    from qa.search.retrieval import RetrievalSettings

    collection, (head, rest) = guide_index(tmp_path, "guide.md")
    alone = Collection.open(collection.index_dir, encoder=FakeEncoder(), settings=RetrievalSettings(join_depth=0))
    before = alone.ask(QUESTION, top_k=3).passages
    assert sorted(p.citation.start for p in before[:2]) == [head.start, rest.start]  # two answers, one section

    passages = collection.ask(QUESTION, top_k=3).passages
    quote = passages[0]
    text = collection.document(head.doc_id).text
    assert (quote.citation.start, quote.citation.end) == (head.start, rest.end)
    assert quote.text == text[head.start : rest.end]
    assert quote.text.startswith("Limit 0 of a table") and quote.text.endswith("is two thousand.")
    assert quote.citation.section == ["Guide", "Limits"]
    assert 0 <= quote.highlight.start < quote.highlight.end <= len(quote.text)
    assert len(passages) == 3 and all(p.citation.section != ["Guide", "Limits"] for p in passages[1:])


def test_plain_text_passages_are_never_joined(tmp_path: Path) -> None:
    """Without headings no section holds two passages together: each is quoted as it is stored."""
    collection, limits = guide_index(tmp_path, "guide.txt")
    passages = collection.ask(QUESTION, top_k=3).passages
    assert {(p.citation.start, p.citation.end) for p in passages[:2]} == {(p.start, p.end) for p in limits}


def test_words_a_pdfs_line_breaks_hyphenated_are_whole_again_and_found(tmp_path: Path, fake_model) -> None:
    """Justified text breaks words at line ends: "iden-" / "tifier" is stored, searched and quoted
    as "identifier", and a name broken after an underscore is one name again. A hyphen that is part
    of a name before a capital, and code, keep their lines."""
    from reportlab.pdfgen import canvas

    from qa.collection import Collection
    from qa.ingest.indexing import index_paths

    path = tmp_path / "manual.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.setFont("Helvetica", 10)
    wrapped = [
        "The library stores each element under an iden-",
        "tifier of at most sixty-four characters; longer ones are refused with the er-",
        "ror code ASN1_ELEMENT_",
        "NOT_FOUND, as Jean-",
        "Pierre Dupont documented in the ELE-",
        "MENT chapter.",
    ]
    for line, text in enumerate(wrapped):
        pdf.drawString(72, 700 - 13 * line, text)
    pdf.showPage()
    pdf.save()
    folder = tmp_path / "docs"
    folder.mkdir()
    path.rename(folder / "manual.pdf")
    index_paths([folder], tmp_path / "docs.qa")

    collection = Collection.open(tmp_path / "docs.qa")
    text = collection.document(collection.documents()[0].doc_id).text
    assert "an identifier of at most sixty-four characters" in text
    assert "the error code ASN1_ELEMENT_NOT_FOUND, as Jean- Pierre Dupont documented in the ELEMENT chapter." in text
    passage = collection.ask("How long can an identifier be?", top_k=1).passages[0]
    assert "identifier" in passage.highlighted and "ASN1_ELEMENT_NOT_FOUND" in passage.text
    assert collection.ask("identifier", top_k=1, mode="bm25").passages  # the word itself is indexed


def test_joining_wrapped_lines_keeps_hyphens_that_are_not_line_breaks() -> None:
    from qa.ingest.readers.pdf_layout import join_wrapped

    assert join_wrapped(["a well-", "known rule"]) == "a wellknown rule"  # the page cannot tell: as every reader
    assert join_wrapped(["pages 10-", "12 of it"]) == "pages 10- 12 of it"
    assert join_wrapped(["a dash -", "then more"]) == "a dash - then more"
    assert join_wrapped(["x_", "y", "z"]) == "x_y z"


def test_a_heading_that_repeats_the_one_above_it_is_named_once_in_the_path(tmp_path: Path) -> None:
    """A book's all-in-one page sets each chapter's title over the chapter's own heading: the path
    says "Installation › Installing rustup", not "Installation › Installation › …". A heading that
    differs from its parent, even by a word, is kept."""
    page = tmp_path / "print.html"
    page.write_text(
        "<html><body><main><h1>Installation</h1><h2>installation</h2><p>The first step is to install Rust.</p>"
        "<h3>Installing rustup</h3><p>Run the script that downloads rustup.</p>"
        "<h1>Hello, World</h1><h2>Hello, World!</h2><p>Now that you have installed Rust, write a program.</p>"
        "</main></body></html>"
    )
    paths = [section for section, _ in sections_of(read_html(page))]
    assert ("Installation", "Installing rustup") in paths
    assert ("Hello, World", "Hello, World!") in paths
    assert not any(len(path) > len({name.casefold() for name in path}) for path in paths)
