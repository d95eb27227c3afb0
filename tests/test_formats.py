"""The readers of slides, sheets, e-books, mail, OpenDocument and RTF: each file is made at test
time by the library that writes its format (tests/formats.py), read in the bounded worker, cut
into passages, and each passage cites the format's own unit (slide, sheet and rows, chapter,
message). A corrupt file of each type is skipped with a reason; a zip bomb of each zip-based type
is refused before it is unpacked."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from qa.collection import Collection
from qa.errors import UnreadableFile
from qa.ingest.chunking import ChunkingSettings
from qa.ingest.documents import load_file, parse_file
from qa.ingest.indexing import IndexOptions, embed_documents, index_paths
from qa.ingest.limits import ReadLimits
from qa.ingest.readers import reader_for
from qa.ingest.readers.mail import without_quotes
from tests import formats
from tests.cli_runs import index_then_info
from tests.fakes import FakeEncoder

# What each sample says, as the reader must keep it.
FACTS = {
    ".pptx": "The importer ships on the fourth of March.",
    ".xlsx": "Brass sextant | 2 | Shelf 9",
    ".csv": "Gullhaven Central | 1887 | 11",
    ".epub": "The keeper grows purple carrots behind the lamp house.",
    ".eml": "The dredger arrives on pier four on the ninth of May.",
    ".mbox": "The winter ferry to Gullholm sails at 07:40 from quay two.",
    ".odt": "A mooring on the east pontoon costs nineteen euros a night.",
    ".ods": "Kittiwake | Maren Holt",
    ".odp": "The regatta starts at the red buoy at noon.",
    ".rtf": "The lamp lens is polished every Thursday with chamois leather.",
    ".rst": "The old crane lifts twelve tonnes at most; the new one lifts forty.",
    ".adoc": "The lamp is lit half an hour before sunset and put out at sunrise, by Maren Holt.",
    ".ipynb": "Cod landed this week: 1,240 kg",
    ".1": "Makes the buoy light flash every four seconds, as the harbour master wants it in fog.",
    ".info": "The pilot boards each ship at the fairway buoy, two miles out, from the orange pilot boat.",
    ".tex": "The seal colony was first counted in 1911; it is counted again every fifth spring.",
    ".org": "The harbour cat, Tobias, is fed at six by the ferry crew.",
    ".xml": "mended in the loft only when the wind is stronger than force six, as the Net Makers' Guild rules[NMG].",
}


def passages(path: Path) -> list[tuple[str, int | None, tuple[str, ...]]]:
    """(text, page, section) of each passage of a file, as indexing cuts and cites them."""
    document = load_file(path, path.parent, path.stem, "")
    _, records, _ = embed_documents([document], FakeEncoder(max_tokens=512), ChunkingSettings())
    return [(record.text, record.page, record.section) for record in records]


def cited(path: Path, words: str) -> tuple[int | None, tuple[str, ...]]:
    """The page and section of the one passage of `path` that holds `words`."""
    found = [(page, section) for text, page, section in passages(path) if words in text]
    assert len(found) == 1, (words, passages(path))
    return found[0]


@pytest.mark.parametrize("suffix", sorted(formats.MAKERS))
def test_every_format_is_read_in_the_bounded_worker_with_its_facts(tmp_path, suffix):
    path = formats.MAKERS[suffix](tmp_path / f"sample{suffix}")
    reader = reader_for(path)
    assert reader is not None and reader.isolated
    assert FACTS[suffix] in parse_file(path).text


def test_restructuredtext_is_cited_under_its_section_titles_with_notes_and_literal_blocks_kept(tmp_path):
    path = formats.make_rst(tmp_path / "handbook.rst")
    parsed = parse_file(path)
    assert parsed.title == "Harbour handbook"
    assert cited(path, "twelve tonnes") == (None, ("Harbour handbook", "Cranes"))
    assert cited(path, "Cranes stop in winds above force six.") == (None, ("Harbour handbook", "Cranes"))
    assert cited(path, "west pontoon") == (None, ("Harbour handbook", "Moorings"))
    assert "Book a crane with:\n\nharbour-book crane --day monday" in parsed.text  # "::" reads as ":"
    code = [b for b in parsed.blocks if b.kind == "code"]
    assert [parsed.text[b.start : b.end] for b in code] == ["harbour-book crane --day monday"]
    assert "toctree" not in parsed.text and "maxdepth" not in parsed.text
    assert "Book through the harbour office with harbour-book, never by phone." in parsed.text  # as rendered


def test_hard_wrapped_prose_in_a_restructuredtext_literal_block_is_a_paragraph_and_its_code_keeps_its_lines():
    from qa.ingest.readers.rst import rst_blocks

    built = rst_blocks(
        "The log of a run::\n\n"
        "    $ harbour-book crane --day monday\n    booked: crane 2, 07:40\n\n"
        "    Bookings made after noon are confirmed by the harbour office on the\n"
        "    next working day, and a crane may be moved to another slot then.\n"
    )
    blocks = [(block.kind, built.text[block.start : block.end]) for block in built.blocks]
    assert blocks == [
        ("paragraph", "The log of a run:"),
        ("code", "$ harbour-book crane --day monday\nbooked: crane 2, 07:40"),
        (
            "paragraph",
            "Bookings made after noon are confirmed by the harbour office on the next working day, and a crane "
            "may be moved to another slot then.",
        ),
    ]


def blocks_of(built) -> list[tuple[str, str]]:
    return [(block.kind, built.text[block.start : block.end]) for block in built.blocks]


def test_restructuredtext_directives_that_hold_words_are_read_in_place_and_the_others_left_out():
    """pip's `pip freeze` page: the examples sit in tabs in a numbered list, the usage is generated
    at build time by the project's own directive."""
    from qa.ingest.readers.rst import rst_blocks

    built = rst_blocks(
        ":orphan:\n:tocdepth: 2\n\n"  # Sphinx's file-wide metadata, which no reader of the page sees
        "Usage\n=====\n\n.. tab:: Unix/macOS\n\n   .. pip-command-usage:: freeze\n\n"
        "Examples\n========\n\n#. Generate a requirements file.\n\n   .. tab:: Unix/macOS\n\n"
        "      .. code-block:: console\n\n         $ python -m pip freeze > requirements.txt\n\n"
        ".. note:: Freeze lists what is installed.\n\n   :ref:`Editable installs <editable>` are listed as such.\n\n"
        "   * one line each\n\n"
        ".. versionchanged:: 23.1\n   :class: small\n\n   Pip itself is left out.\n\n"
        ".. option:: --user\n\n   Install to the user's own folder.\n\n"
        ".. math::\n\n   e^{i\\pi} + 1 = 0\n\n"
        ".. toctree::\n   :maxdepth: 2\n\n   install\n   freeze\n"
    )
    assert blocks_of(built) == [
        ("heading", "Usage"),  # the tab's label is left out with its generated body
        ("heading", "Examples"),
        ("item", "#. Generate a requirements file."),
        ("paragraph", "Unix/macOS"),
        ("code", "$ python -m pip freeze > requirements.txt"),
        ("paragraph", "Freeze lists what is installed."),
        ("paragraph", "Editable installs are listed as such."),
        ("item", "* one line each"),
        ("paragraph", "Pip itself is left out."),
        ("term", "--user"),
        ("paragraph", "Install to the user's own folder."),
        ("code", "e^{i\\pi} + 1 = 0"),  # a directive not known is kept as written
    ]


def test_myst_directives_read_as_rendered_and_roles_as_their_words():
    from qa.ingest.readers.markdown import markdown_blocks

    built = markdown_blocks(
        "(caching)=\n\n# Caching\n\nClear it with {ref}`the cache command <pip cache>`.\n\n"
        "```{caution}\nIt is possible to see differences:\n\n- between regular installs\n```\n\n"
        "::::{tab-set}\n:::{tab-item} Linux\n:sync: linux\n\n```\n~/.cache/pip\n```\n:::\n::::\n\n"
        "```{code-block} console\n$ pip cache purge\n```\n\n"
        "```{toctree}\n:hidden:\n\ninstall\n```\n\n"
        "```{pip-cli}\n$ pip install -e path/to/project\n```\n\n"
        "```{eval-rst}\n.. note:: Read in reST.\n```\n"
    )
    assert blocks_of(built) == [
        ("heading", "# Caching"),
        ("paragraph", "Clear it with the cache command."),
        ("paragraph", "It is possible to see differences:"),
        ("item", "- between regular installs"),
        ("paragraph", "Linux"),
        ("code", "```\n~/.cache/pip\n```"),
        ("code", "```{code-block} console\n$ pip cache purge\n```"),
        ("code", "```{pip-cli}\n$ pip install -e path/to/project\n```"),  # a project's own, as written
        ("paragraph", "Read in reST."),
    ]


def test_directives_nested_past_the_depth_limit_are_read_flat():
    from qa.ingest.readers.directives import MAX_DEPTH
    from qa.ingest.readers.rst import rst_blocks

    levels = MAX_DEPTH + 3
    source = "".join(f"{'   ' * level}.. note:: Level {level}.\n\n" for level in range(levels))
    paragraphs = rst_blocks(source).text.split("\n\n")
    # Read as notes down to the limit (each its own words); past it, as the paragraphs they are written as.
    assert paragraphs[: MAX_DEPTH + 1] == [f"Level {level}." for level in range(MAX_DEPTH + 1)]
    assert paragraphs[MAX_DEPTH + 1 :] == [f".. note:: Level {level}." for level in range(MAX_DEPTH + 1, levels)]


def test_org_notes_are_read_by_their_outline_without_drawers_keywords_or_comments(tmp_path):
    path = formats.make_org(tmp_path / "notes.org")
    parsed = parse_file(path)
    assert parsed.title == "Harbour notes"
    assert blocks_of(parsed) == [
        ("heading", "Animals"),  # its tag left out
        ("paragraph", "The harbour cat, Tobias, is fed at six by the ferry crew."),  # a link as its words
        ("term", "Gulls"),
        ("description", "never fed"),
    ]
    assert cited(path, "Tobias") == (None, ("Animals",))


def test_a_latex_paper_is_read_as_it_prints(tmp_path):
    path = formats.make_tex(tmp_path / "seals.tex")
    parsed = parse_file(path)
    assert parsed.title == "Island Wildlife"
    assert blocks_of(parsed) == [
        ("heading", "Abstract"),
        ("paragraph", "We count the seals of Skarholm."),
        ("heading", "Seals"),
        ("paragraph", "The seal colony was first counted in 1911; it is counted again every fifth spring."),  # no "[1]"
        ("item", "It held forty seals at the last count."),
        ("paragraph", "Seals on the north rocks."),  # a figure's caption; the image left out
    ]
    assert cited(path, "fifth spring") == (None, ("Seals",))
    assert "usepackage" not in parsed.text and "amsmath" not in parsed.text


def test_a_notebook_is_read_cell_by_cell_its_output_cited_under_the_headings_above(tmp_path):
    path = formats.make_ipynb(tmp_path / "landings.ipynb")
    parsed = parse_file(path)
    assert parsed.title == "Fish landings"
    assert blocks_of(parsed)[2:] == [
        ("heading", "## Weekly totals"),
        ("code", "cod = landings[landings.species == 'cod']\nprint(f'Cod landed this week: {cod.kg.sum():,} kg')"),
        ("code", "Cod landed this week: 1,240 kg"),  # what it printed
        ("code", "cod.plot()"),  # the figure is left out, and its "<Figure>" text with it
    ]
    assert cited(path, "1,240 kg") == (None, ("Fish landings", "Weekly totals"))


@pytest.mark.parametrize("broken", [b"{not json", b"[1, 2]", b'{"cells": 7}'])
def test_a_file_named_as_a_notebook_that_is_none_is_skipped_saying_so(tmp_path, broken):
    path = tmp_path / "broken.ipynb"
    path.write_bytes(broken)
    with pytest.raises(UnreadableFile, match="not a notebook"):
        parse_file(path)


def test_asciidoc_is_cited_under_its_sections_with_its_markup_rendered(tmp_path):
    path = formats.make_adoc(tmp_path / "keeping.adoc")
    parsed = parse_file(path)
    assert parsed.title == "Lighthouse keeping"
    assert cited(path, "half an hour before sunset") == (None, ("Lighthouse keeping", "The lamp"))
    assert cited(path, "Forty litres") == (None, ("Lighthouse keeping", "Supplies"))
    blocks = [(block.kind, parsed.text[block.start : block.end]) for block in parsed.blocks]
    assert ("paragraph", "The spare bulbs are kept in the brass chest.") in blocks  # an admonition, rendered
    assert ("term", "paraffin") in blocks
    assert ("description", "Forty litres are ordered each October, see the order book.") in blocks
    assert ("description", "Trimmed every morning.") in blocks
    assert ("code", "lamp --check --verbose") in blocks
    assert "include" not in parsed.text and "winter season" not in parsed.text and ":keeper:" not in parsed.text


def test_asciidoc_titles_underlined_as_older_documents_write_them_and_tables_by_row():
    from qa.ingest.readers.asciidoc import asciidoc_blocks

    built = asciidoc_blocks(
        "git-tide(1)\n===========\n\nNAME\n----\ngit-tide - Show the tides\n\n"
        "[[options]]\nOPTIONS\n-------\n--high::\n--spring::\n\tShow only the high\n\ttides.\n+\n"
        "See linkgit:git-moon[1] and 'git tide --low' under <<options>>.\n\n"
        '[cols="1,2"]\n|===\n|Port |Tide\n\n|Gullhaven |06:40\n|Skarholm |07:15\n|===\n'
    )
    blocks = [(block.kind, built.text[block.start : block.end], block.level) for block in built.blocks]
    assert blocks == [
        ("heading", "git-tide(1)", 1),
        ("heading", "NAME", 2),
        ("paragraph", "git-tide - Show the tides", 0),
        ("heading", "OPTIONS", 2),
        ("term", "--high, --spring", 0),
        ("description", "Show only the high tides.", 0),
        ("paragraph", "See git-moon(1) and git tide --low under OPTIONS.", 0),
        ("table_head", "Port\nTide", 0),
        ("row", "Gullhaven\n06:40", 0),
        ("row", "Skarholm\n07:15", 0),
    ]


def test_any_mix_of_asciidoc_lines_reads_into_ordered_blocks():
    """Fences left open, titles without text, lists and terms run together: every block is a span
    of the stored text, in order, with words in it, and the reader never fails."""

    from qa.ingest.readers.asciidoc import asciidoc_blocks

    pieces = [
        "= Title",
        "== Section",
        "Title",
        "=====",
        "-----",
        "----",
        "....",
        "====",
        "|===",
        "////",
        "--",
        "```",
        "",
        "",
        "text that wraps",
        "\tindented under",
        "* item",
        ". step",
        "term::",
        "term:: what it is",
        "+",
        "[source,python]",
        "[verse]",
        ".A caption",
        ":name: value",
        "{name} and `code` and *strong* and 'emphasis'",
        "| cell | cell",
        "NOTE: mind this",
        "include::other.adoc[]",
        "// a comment",
    ]
    assert_any_mix_reads_into_ordered_blocks(asciidoc_blocks, pieces, seed=12)


HOSTILE_ASCIIDOC = {
    # Fences never closed, each of another length, between lines of words.
    "unclosed fences": ("\n".join(f"{'-' * (4 + i)}\nword{i}" for i in range(5000)), [f"word{i}" for i in range(5000)]),
    # Example blocks nested 3,000 deep around one line.
    "nested blocks": (
        "\n".join("=" * (4 + i) for i in range(3000))
        + "\nthe middle line\n"
        + "\n".join("=" * (4 + i) for i in range(2999, -1, -1)),
        ["the middle line"],
    ),
    # 5,000 description list entries, each joined to the next by "+".
    "entries joined by +": (
        "\n".join(f"term{i}:: what term{i} is\n+" for i in range(5000)),
        [f"what term{i} is" for i in range(5000)],
    ),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_ASCIIDOC))
def test_a_hostile_asciidoc_file_is_read_whole_and_at_once(name):
    """Each fence's closing line is looked up, not searched for (a search for each unclosed fence
    made a file of them quadratic), blocks nested past 16 deep are kept as they are (Python stops
    recursing at 1,000) and a `+` never nests one entry in another: every line of words is kept."""
    from qa.ingest.readers.asciidoc import asciidoc_blocks

    source, kept = HOSTILE_ASCIIDOC[name]
    built = asciidoc_blocks(source)
    blocks = {built.text[block.start : block.end]: block.kind for block in built.blocks}
    assert all(words in built.text for words in kept)
    if name == "unclosed fences":  # each line of marks read as a line, not a block that swallows the rest
        assert all(f"word{i}" in blocks for i in range(5000))  # each word a block of its own


def test_a_slide_is_a_page_under_its_title_and_speaker_notes_are_kept(tmp_path):
    deck = formats.make_pptx(tmp_path / "plan.pptx")
    parsed = parse_file(deck)
    assert parsed.title == "Quarterly plan" and len(parsed.page_starts) == 3
    assert cited(deck, "Ship the importer") == (1, ("Quarterly plan",))
    assert cited(deck, "fourth of March") == (1, ("Quarterly plan", "Speaker notes"))
    assert cited(deck, "counts gulls") == (2, ("Slide 2",))  # an untitled slide keeps its number
    assert cited(deck, "Telescopes | 7300 euros") == (3, ("Hardware budget",))


def test_a_sheet_cites_its_name_and_rows_and_the_header_row_stays_with_them(tmp_path):
    book = formats.make_xlsx(tmp_path / "stock.xlsx")
    page, section = cited(book, "Brass sextant")
    assert page is None and section[0] == "Inventory"
    first, last = section[1].removeprefix("Rows ").split("–")
    assert int(first) <= 81 == int(last)
    text = next(text for text, _, _ in passages(book) if "Brass sextant" in text)
    assert "Item | Count | Shelf" in text  # the header, repeated with the rows it heads
    assert cited(book, "Ada Lovelace") == (None, ("Staff", "Row 2"))
    assert all("Item | Count | Shelf" in text for text, _, section in passages(book) if section[0] == "Inventory")


def test_a_csv_file_cites_its_rows_with_the_header(tmp_path):
    table = formats.make_csv(tmp_path / "stations.csv")
    page, section = cited(table, "Gullhaven Central")
    assert page is None and section[0].startswith("Rows ") and section[0].endswith("–61")
    text = next(text for text, _, _ in passages(table) if "Gullhaven" in text)
    assert text.split("\n")[2] == "Station | Opened | Platforms"


def test_an_epub_chapter_title_heads_its_passages_from_the_table_of_contents_when_it_has_none(tmp_path):
    book = formats.make_epub(tmp_path / "almanac.epub")
    assert parse_file(book).title == "The Lighthouse Almanac"
    assert cited(book, "eleven days") == (None, ("Winter storms",))
    assert cited(book, "purple carrots") == (None, ("The keeper's garden",))


def test_a_message_is_titled_by_its_subject_with_from_to_date_and_its_attachment(tmp_path):
    mail = formats.make_eml(tmp_path / "dredging.eml")
    parsed = parse_file(mail)
    assert parsed.title == "Harbour dredging"
    assert "From: Ada <ada@example.org>\nTo: Team <team@example.org>\nDate: Sun, 01 Mar 2026" in parsed.text
    assert cited(mail, "HX-4471") == (None, ("Harbour dredging", "Attachment: permit.txt"))


def test_a_mailbox_cites_the_message_number_as_page(tmp_path):
    box = formats.make_mbox(tmp_path / "ferry.mbox")
    assert cited(box, "folded") == (4, ("Re: Winter ferry",))
    assert cited(box, "07:40") == (1, ("Winter ferry",))


def test_quoted_replies_are_left_out_but_what_the_reply_says_after_them_is_kept():
    body = (
        "Yes, that works.\n\nOn Mon, 2 Mar 2026 at 09:30, Ada Lovelace <ada@example.org>\nwrote:\n"
        "> The ferry sails at 07:40.\n>\n> Ada\n\nOne more thing: bring a coat.\n"
    )
    assert without_quotes(body) == "Yes, that works.\n\n\nOne more thing: bring a coat."
    outlook = "Fine by me.\n\n-----Original Message-----\nFrom: Ada\nSent: Monday\nThe ferry sails at 07:40."
    assert without_quotes(outlook) == "Fine by me."
    assert without_quotes("On Monday we sail.\nBring a coat.") == "On Monday we sail.\nBring a coat."


def test_in_a_thread_of_five_replies_the_first_message_that_says_a_fact_is_cited_first(tmp_path):
    folder = tmp_path / "thread"
    folder.mkdir()
    for number, mail in enumerate(formats.thread(5), 1):
        (folder / f"{number}.eml").write_bytes(bytes(mail))
    index = tmp_path / "thread.qa"
    index_paths([folder], index, IndexOptions(), encoder=FakeEncoder())
    answer = Collection.open(index, encoder=FakeEncoder()).ask("When does the winter ferry to Gullholm sail?")
    assert answer.passages[0].citation.source == "1.eml"
    assert [p.citation.source for p in answer.passages if "07:40" in p.text] == ["1.eml"]


@pytest.mark.parametrize("suffix", sorted(formats.MAKERS))
def test_a_corrupt_file_of_every_type_is_skipped_with_a_reason(tmp_path, suffix, fake_model):
    good = formats.MAKERS[suffix](tmp_path / f"good{suffix}")
    folder = tmp_path / "docs"
    folder.mkdir()
    data = good.read_bytes()
    corrupt = folder / f"corrupt{suffix}"
    if data[:2] == b"PK":  # a zip cut in half: its directory is gone
        corrupt.write_bytes(data[: len(data) // 2])
    else:
        corrupt.write_bytes(b"\x00\x01\x02 garbage \xff" * 40)
    (folder / "note.txt").write_text("A note that can be read, so the index is made.")
    report = index_paths([folder], tmp_path / "index.qa", IndexOptions(), encoder=FakeEncoder())
    assert [Path(s.path).name for s in report.skipped] == [corrupt.name]
    assert report.skipped[0].reason


ZIP_MEMBERS = {
    ".pptx": "ppt/slides/padding.xml",
    ".xlsx": "xl/padding.xml",
    ".epub": "OEBPS/padding.xhtml",
    ".odt": "padding.xml",
    ".ods": "padding.xml",
    ".odp": "padding.xml",
}


@pytest.mark.parametrize("suffix", sorted(ZIP_MEMBERS))
def test_a_zip_bomb_of_every_zip_based_type_is_refused_before_it_is_unpacked(tmp_path, suffix):
    good = formats.MAKERS[suffix](tmp_path / f"good{suffix}")
    bomb = formats.zip_bomb(good, tmp_path / f"bomb{suffix}", ZIP_MEMBERS[suffix], unpacked_mib=40)
    assert bomb.stat().st_size < 200_000 and zipfile.is_zipfile(bomb)
    with pytest.raises(UnreadableFile, match=r"it unpacks to 4\d,\d{3},\d{3} bytes, over the limit"):
        parse_file(bomb, ReadLimits(max_unpacked_bytes=32 << 20))


def test_qa_info_lists_the_skipped_files_with_why_until_a_run_reads_them(tmp_path, fake_model):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "note.txt").write_text("A note that can be read, so the index is made.")
    (folder / "slides.pptx").write_bytes(b"PK\x03\x04 cut short")
    (folder / "photo.psd").write_bytes(b"8BPS")
    index = tmp_path / "docs.qa"
    unwrapped = index_then_info(folder, index)
    assert "skipped2files" in unwrapped
    assert f"{folder.resolve() / 'photo.psd'}:unsupportedtype.psd" in unwrapped
    assert f"{folder.resolve() / 'slides.pptx'}:cannotparse.pptxfile" in unwrapped
    formats.make_pptx(folder / "slides.pptx")  # mended: the next run reads it and forgets why it was skipped
    (folder / "photo.psd").unlink()
    unwrapped = index_then_info(folder, index)
    assert not re.search(r"skipped\d+files?:", unwrapped) and "Quarterlyplan" in unwrapped
    assert Collection.open(index).skipped_files() == []


def test_every_registered_suffix_is_named_in_the_help_the_readme_and_formats_md():
    import re as regex

    from typer.testing import CliRunner

    from qa.cli import app
    from qa.ingest.readers import supported_suffixes

    repo = Path(__file__).resolve().parents[1]
    readme = repo.joinpath("README.md").read_text()
    table = readme[readme.index("### Supported documents") :]
    table = table[: table.index("\n\n", table.index("|"))]
    formats_md = repo.joinpath("docs", "FORMATS.md").read_text()
    help_text = " ".join(CliRunner().invoke(app, ["index", "--help"], terminal_width=200).output.split())
    for suffix in sorted(supported_suffixes()):
        assert f"`{suffix}`" in table, f"{suffix} missing from the README's Supported documents table"
        assert f"`{suffix}`" in formats_md, f"{suffix} missing from docs/FORMATS.md"
        assert regex.search(rf"{regex.escape(suffix)}\b", help_text), f"{suffix} missing from qa index --help"


def test_slides_and_mail_uploaded_over_http_are_asked_about_with_their_units(tmp_path):
    import io

    from tests.server_fixtures import open_server

    server = open_server(tmp_path, FakeEncoder())
    try:
        deck = formats.make_pptx(tmp_path / "plan.pptx").read_bytes()
        box = formats.make_mbox(tmp_path / "ferry.mbox").read_bytes()
        parts = [("files", (name, io.BytesIO(data), "application/octet-stream")) for name, data in
                 [("plan.pptx", deck), ("ferry.mbox", box)]]  # fmt: skip
        response = server.client.post("/documents", files=parts, headers=server.auth(server.write_key))
        assert response.status_code == 201, response.text
        answer = server.client.post("/ask", json={"question": "Are bicycles allowed if they are folded?"}).json()
        best = answer["passages"][0]["citation"]
        assert (best["source"], best["page"], best["section"], best["ocr"]) == (
            "ferry.mbox",
            4,
            ["Re: Winter ferry"],
            False,
        )
        answer = server.client.post("/ask", json={"question": "What does the lighthouse keeper count?"}).json()
        assert [answer["passages"][0]["citation"][key] for key in ("source", "page")] == ["plan.pptx", 2]
    finally:
        server.client.__exit__(None, None, None)


def test_an_html_reply_leaves_out_the_message_it_quotes(tmp_path):
    reply = formats.message("Re: Winter ferry", "")
    reply.set_content(
        "<html><body><p>Thanks, booked.</p><div class='gmail_quote'><div class='gmail_attr'>On Sun, 1 Mar 2026 "
        "Ada wrote:</div><blockquote>The ferry sails at 07:40.</blockquote></div></body></html>",
        subtype="html",
    )
    path = tmp_path / "reply.eml"
    path.write_bytes(bytes(reply))
    text = parse_file(path).text
    assert "Thanks, booked." in text and "07:40" not in text and "wrote" not in text


def test_any_mix_of_restructuredtext_lines_reads_into_ordered_blocks():
    """Titles without text, directives without bodies, tables left open, tabs: every block is a
    span of the stored text, in order, with words in it, and the reader never fails."""

    from qa.ingest.readers.rst import rst_blocks

    pieces = [
        "Title",
        "=====",
        "-----",
        "~~~~",
        "",
        "",
        "text that wraps",
        "\tindented under",
        "    deeper still",
        "- item",
        "1. first",
        "#. auto",
        ".. note::",
        ".. code-block:: python",
        ".. toctree::",
        ".. comment",
        "   :maxdepth: 2",
        "Example::",
        "::",
        "=====  =====",
        "+---+---+",
        "| a | b |",
        "term",
        "    what it is",
    ]
    assert_any_mix_reads_into_ordered_blocks(rst_blocks, pieces, seed=11)


def assert_any_mix_reads_into_ordered_blocks(read_blocks, pieces: list[str], seed: int) -> None:
    """300 documents of random lines: every block a span of the stored text, in order, with words."""
    import random

    rng = random.Random(seed)
    for _ in range(300):
        built = read_blocks("\n".join(rng.choices(pieces, k=rng.randint(0, 40))))
        text, end = built.text, 0
        for block in built.blocks:
            assert end <= block.start < block.end <= len(text)
            assert text[block.start : block.end].strip()
            end = block.end


MAN_PAGE = r""".\" Comment: generated by hand
.de Vb
.ft CW
..
.TH HARBOUR 1 "2026-12-05" "harbour 1.0"
.SH NAME
harbour \- book cranes and berths
.SH SYNOPSIS
.B harbour
.RB [ \-k ]
.RB [ \-S\ suffix ]
.I berth
.SH DESCRIPTION
The
.B harbour
command books a crane for the named
.IR berth .
Bookings made after noon \(em on any day \(em are confirmed the next morning.
.if n \{\
.ad l
.\}
.SS Options
.TP
.BR \-k ", " \-\-keep
Keep the booking when the crane is moved.
.IP \(bu 2
Cranes are inspected every \fBMonday\fR.
.PP
\-\-list
.RS 4
List the bookings of the day.
.RE
.SH
EXAMPLES
.nf
harbour \-k berth4
harbour \-\-list
.fi
"""


def test_a_manual_page_is_read_as_man_lays_it_out():
    from qa.ingest.readers.man import man_blocks

    built, title = man_blocks(MAN_PAGE)
    assert title == "harbour - book cranes and berths"  # the NAME line, as `man -k` shows it
    assert blocks_of(built) == [
        ("heading", "NAME"),
        ("paragraph", "harbour - book cranes and berths"),
        ("heading", "SYNOPSIS"),
        ("paragraph", "harbour [-k] [-S suffix] berth"),
        ("heading", "DESCRIPTION"),
        (
            "paragraph",
            "The harbour command books a crane for the named berth. "
            "Bookings made after noon — on any day — are confirmed the next morning.",
        ),
        ("heading", "Options"),
        ("term", "-k, --keep"),
        ("description", "Keep the booking when the crane is moved."),
        ("item", "Cranes are inspected every Monday."),
        ("term", "--list"),  # DocBook's: a line, its description indented under it
        ("description", "List the bookings of the day."),
        ("heading", "EXAMPLES"),
        ("code", "harbour -k berth4\nharbour --list"),
    ]


def test_a_bsd_manual_page_is_read_for_its_words():
    from qa.ingest.readers.man import man_blocks

    built, title = man_blocks(
        ".Dd December 5, 2026\n.Dt HARBOUR 1\n.Os\n.Sh NAME\n.Nm harbour\n.Nd book cranes\n"
        ".Sh DESCRIPTION\n.Nm\nbooks a crane, see\n.Xr berth 5 .\n.Bl -tag -width Ds\n.It Fl k\n"
        "Keep the booking.\n.El\n"
    )
    assert title == "harbour - book cranes"
    assert blocks_of(built)[3:] == [
        ("paragraph", "harbour books a crane, see berth(5) ."),
        ("term", "-k"),
        ("description", "Keep the booking."),
    ]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("syslog.1", "Dec  5 19:00:01 host CRON[123]: (root) CMD (run-parts)\n", "not a manual page"),
        ("gunzip.1", ".so man1/gzip.1\n", "only a link to the manual page man1/gzip.1"),
    ],
)
def test_a_file_named_as_a_manual_page_that_is_none_is_skipped_saying_so(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(UnreadableFile, match=reason):
        parse_file(path)


def test_manual_pages_are_known_by_their_sections_suffixes_and_a_suites():
    assert {reader_for(name).name for name in ("ls.1", "gzip.1.gz", "ssl.7ssl.gz", "Digest::SHA.3perl.gz")} == {"man"}
    assert reader_for("photos.7z") is None and reader_for("clip.3gp") is None  # not any digit and letters


INFO_MANUAL = (
    "This is harbour.info, produced by makeinfo version 6.8 from harbour.texi.\n\n"
    "INFO-DIR-SECTION Harbours\nSTART-INFO-DIR-ENTRY\n* harbour: (harbour).  Book cranes.\nEND-INFO-DIR-ENTRY\n\n"
    "\x1f\nFile: harbour.info,  Node: Top,  Next: Invoking,  Up: (dir)\n\n"
    "Harbour Tools\n*************\n\nThis manual is for 'harbour'.\n\n* Menu:\n\n* Invoking::    Running it.\n\n"
    "\x1f\nFile: harbour.info,  Node: Invoking,  Prev: Top,  Up: Top\n\n"
    "1 Invoking\n**********\n\n1.1 Options\n===========\n\n"
    "The options are few; *note Booking rules:: for the rest.\n\n"
    "'-k'\n'--keep'\n     Keep the booking when the crane is\n     moved.\n\n"
    "     It is also kept when the berth changes.\n\n"
    "          harbour -k berth4\n\n"
    "\x1f\nTag Table:\nNode: Top80\nNode: Invoking300\n\x1f\nEnd Tag Table\n"
)


def test_an_info_manual_is_read_by_its_nodes_without_their_headers_and_menus():
    from qa.ingest.readers.info import info_blocks

    built, title, split = info_blocks(INFO_MANUAL)
    assert (title, split) == ("Harbour Tools", "")
    assert blocks_of(built) == [
        ("heading", "Harbour Tools"),
        ("paragraph", "This manual is for 'harbour'."),
        ("heading", "1 Invoking"),
        ("heading", "1.1 Options"),
        ("paragraph", "The options are few; Booking rules for the rest."),
        ("term", "'-k', '--keep'"),
        ("description", "Keep the booking when the crane is moved."),
        ("description", "It is also kept when the berth changes."),
        ("code", "harbour -k berth4"),
    ]
    assert [b.level for b in built.blocks if b.kind == "heading"] == [1, 1, 2]


def test_an_info_manual_with_an_index_is_read_though_the_index_is_marked_with_nul_bytes(tmp_path):
    index = (
        "\x1f\nFile: harbour.info,  Node: Index,  Prev: Invoking,  Up: Top\n\n"
        "Index\n*****\n\n\x00\x08[index\x00\x08]\n* Menu:\n\n* keep:   Invoking.  (line 6)\n\n"
    )
    path = tmp_path / "harbour.info"
    path.write_text(INFO_MANUAL.replace("\x1f\nTag Table:", index + "\x1f\nTag Table:"))
    text = parse_file(path).text
    assert "Keep the booking when the crane is moved." in text
    assert text.endswith("harbour -k berth4\n\nIndex")  # its entries are a menu: left out


def test_the_table_of_a_split_info_manual_is_skipped_for_its_parts(tmp_path):
    path = tmp_path / "find.info"
    path.write_text("This is find.info.\n\x1f\nIndirect:\nfind.info-1: 1000\nfind.info-2: 300000\n\x1f\nTag Table:\n")
    with pytest.raises(UnreadableFile, match=r"split into parts \(find.info-1, find.info-2\)"):
        parse_file(path)
    assert reader_for("find.info-2.gz").name == "info"


def test_hostile_manual_pages_info_files_myst_roles_and_org_links_are_read_whole_and_at_once():
    """Escapes, cross references and roles that never close are not searched to the end of the
    text for each one that opens (each search is bounded), and continued lines are joined once."""
    from qa.ingest.readers.info import info_blocks
    from qa.ingest.readers.man import man_blocks
    from qa.ingest.readers.markdown import markdown_blocks

    assert markdown_blocks("{ref}`open " * 20000).text.count("open") == 20000
    from qa.ingest.readers.org import org_blocks

    assert org_blocks("[[open " * 20000)[0].text.count("open") == 20000

    man, _ = man_blocks(
        ".TH X 1\n.SH NAME\n" + "word \\[ \\*[ \\f[ " * 20000 + "\\h'no end\n" + "more \\\n" * 20000 + "end\n"
    )
    assert man.text.count("word") == 20000 and man.text.count("more") == 20000
    info, _, _ = info_blocks("\x1f\nFile: x.info,  Node: Top,\n\nTop\n***\n\n" + "*note word " * 20000)
    assert info.text.count("word") == 20000


def test_a_manual_pages_table_keeps_its_rows_and_reads_the_macros_in_its_text_blocks():
    from qa.ingest.readers.man import man_blocks

    built, _ = man_blocks(
        ".TH X 3\n.SH ATTRIBUTES\n.TS\nallbox;\nlbx lb lb\nl l l.\nInterface\tAttribute\tValue\nT{\n"
        ".BR sem_wait (),\n.BR sem_post ()\nT}\tThread safety\tMT-Safe\n.TE\n"
    )
    assert blocks_of(built)[1] == (
        "code",
        "Interface | Attribute | Value\nsem_wait(),\nsem_post()\nThread safety | MT-Safe",
    )


# DocBook --------------------------------------------------------------------------------------


def test_docbook_is_cited_under_its_section_titles_with_its_own_entities_and_the_dtds_named_characters(tmp_path):
    path = formats.make_docbook(tmp_path / "loft.xml")
    parsed = parse_file(path)
    assert parsed.title == "The net loft"
    assert "Ingrid Sola" in parsed.text  # who wrote it: front matter kept as a line
    assert "Herring nets are mended in the loft" in parsed.text  # the index term ("nets") left out
    assert cited(path, "force six") == (None, ("The net loft", "Mending", "Herring nets"))
    kinds = {parsed.text[b.start : b.end]: b.kind for b in parsed.blocks}
    assert kinds["twine"] == "term" and kinds["Tarred hemp, bought by the bale each spring."] == "description"
    assert kinds["Net\nPrice"] == "table_head" and kinds["Drift net\n900 kroner"] == "row"
    assert kinds["loft --book --net herring\nloft --cancel"] == "code"
    assert cited(path, "900 kroner") == (None, ("The net loft", "Prices"))


def test_docbook_5_in_its_namespace_a_book_of_chapters_and_a_reference_page(tmp_path):
    path = tmp_path / "guide.dbk"
    path.write_text(
        '<book xmlns="http://docbook.org/ns/docbook" version="5.0"><info><title>Quay guide</title></info>'
        "<chapter><title>Cranes</title><section><title>Limits</title><para>The old crane lifts at most "
        "<emphasis>twelve</emphasis> tonnes.</para><note><para>Never in a gale.</para></note></section></chapter>"
        "<reference><title>Commands</title><refentry><refnamediv><refname>hoist</refname><refpurpose>lift a load"
        "</refpurpose></refnamediv><refsect1><title>Options</title><para>Use --slow near people.</para></refsect1>"
        "</refentry></reference></book>"
    )
    parsed = parse_file(path)
    assert parsed.title == "Quay guide"
    assert cited(path, "twelve tonnes") == (None, ("Quay guide", "Cranes", "Limits"))
    assert "Never in a gale." in parsed.text
    assert "hoist — lift a load" in parsed.text
    assert cited(path, "--slow") == (None, ("Quay guide", "Commands", "hoist", "Options"))


def test_a_docbook_cross_reference_reads_as_the_title_it_points_at_wherever_that_title_stands(tmp_path):
    """`<xref linkend="…"/>` holds no words: the stylesheet prints the target's number or title, and
    the title is what the source holds, as a section's own `title` or in its front matter (DocBook
    4's `sect1info`, 5's `info`)."""
    path = tmp_path / "quay.xml"
    path.write_text(
        '<article><sect1 id="fees"><sect1info><title>Mooring fees</title></sect1info>'
        "<para>Moorings are paid for at the harbour office each month.</para>"
        '</sect1><sect1 id="rules"><title>Quay rules</title><para>Fees: see <xref linkend="fees"/>; '
        'rules for guests: <xref linkend="rules"/>; the old list: <xref linkend="gone" xreflabel="the 1990 list"/>.'
        "</para></sect1></article>"
    )
    text = parse_file(path).text
    assert "Fees: see Mooring fees; rules for guests: Quay rules; the old list: the 1990 list." in text
    assert cited(path, "harbour office each month") == (None, ("Mooring fees",))


def test_xml_that_is_no_docbook_is_counted_with_the_files_that_are_not_documents(tmp_path, fake_model):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "pom.xml").write_text("<project><artifactId>harbour</artifactId></project>")
    formats.make_docbook(folder / "manual.xml")
    (folder / "broken.xml").write_text("<article><para>cut short")  # DocBook, damaged: what is there is read
    report = index_paths([folder], tmp_path / "index.qa", IndexOptions(), encoder=FakeEncoder())
    assert [(Path(s.path).name, s.kind_not_read) for s in report.skipped] == [("pom.xml", ".xml")]
    assert "its root element is <project>" in report.skipped[0].reason
    sources = {d.source for d in Collection.open(tmp_path / "index.qa", encoder=FakeEncoder()).documents()}
    assert sources == {"manual.xml", "broken.xml"}


def test_a_docbook_book_of_includes_is_skipped_saying_its_chapters_are_read_on_their_own(tmp_path, fake_model):
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "book.xml").write_text(
        '<book xmlns="http://docbook.org/ns/docbook" xmlns:xi="http://www.w3.org/2001/XInclude">'
        '<xi:include href="nets.xml"/></book>'
    )
    (folder / "nets.xml").write_text(
        '<chapter xmlns="http://docbook.org/ns/docbook"><title>Nets</title><para>Nets dry on the quay.</para></chapter>'
    )
    report = index_paths([folder], tmp_path / "index.qa", IndexOptions(), encoder=FakeEncoder())
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("book.xml", "a DocBook file of includes only: the files it includes are read on their own")
    ]
    assert cited(folder / "nets.xml", "dry on the quay") == (None, ("Nets",))


def test_a_docbook_book_whose_chapters_are_other_files_entities_reads_on_after_each(tmp_path):
    """DocBook 4 books often take their chapters in as entities of other files (`&intro;`). Those
    are not fetched (each file is read on its own), and the parser must not stop at the reference:
    everything after it was silently lost."""
    (tmp_path / "intro.xml").write_text("<chapter><title>Intro</title><para>Read on its own.</para></chapter>")
    book = tmp_path / "book.xml"
    book.write_text(
        '<!DOCTYPE book [<!ENTITY intro SYSTEM "intro.xml"><!ENTITY % more SYSTEM "more.ent"> %more;'
        '<!ENTITY year "1911">]><book><title>Harbour</title><preface><title>Preface</title>'
        "<para>Written in &year;.</para></preface>&intro;<chapter><title>Piers</title>"
        "<para>The north pier was rebuilt after the storm.</para></chapter></book>"
    )
    text = parse_file(book).text
    assert "Written in 1911." in text and "The north pier was rebuilt after the storm." in text
    assert "Read on its own." not in text
    assert cited(book, "north pier") == (None, ("Harbour", "Piers"))


def test_a_docbook_source_beside_the_page_built_from_it_is_read_as_the_page(tmp_path, fake_model):
    folder = tmp_path / "doc"
    folder.mkdir()
    formats.make_docbook(folder / "loft.xml")
    (folder / "loft.html").write_text("<html><body><h1>The net loft</h1><p>Herring nets are mended in the loft.</p>")
    report = index_paths([folder], tmp_path / "index.qa", IndexOptions(), encoder=FakeEncoder())
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("loft.xml", "the source of loft.html, which is read in its place")
    ]


def test_a_hostile_docbook_file_expands_no_entity_bomb_and_reads_no_file_it_names(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the keeper's password is gannet")
    laughs = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        f'<!DOCTYPE article [<!ENTITY l0 "lol">{laughs}]><article><para>Before. &l9; After.</para></article>'
    )
    read = parse_file(bomb, ReadLimits(max_memory_bytes=256 << 20))
    assert len(read.text) < 1000
    leak = tmp_path / "leak.xml"
    leak.write_text(
        f'<!DOCTYPE article [<!ENTITY s SYSTEM "{secret.as_uri()}">]>'
        "<article><para>The harbour is closed today.</para><para>&s;</para></article>"
    )
    assert "gannet" not in parse_file(leak).text
    deep = tmp_path / "deep.xml"  # nested past libxml2's depth limit: what is within it is read, at once
    deep.write_text("<article>" + "<section><title>Quay</title>" * 5000 + "</section>" * 5000 + "</article>")
    assert parse_file(deep).text.startswith("Quay")
