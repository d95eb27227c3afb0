import time
from pathlib import Path

import pytest

from qa.errors import UnreadableFile
from qa.ingest.blocks import section_paths
from qa.ingest.documents import file_sha256, load_file, make_doc_id, scan_paths
from qa.ingest.limits import DEFAULT_READ_LIMITS, ReadLimits
from qa.ingest.readers import registered
from qa.ingest.readers.common import decode_bytes, title_from_lines


def load(path: Path):
    return load_file(path, path.parent, path.stem, file_sha256(path))


def test_text_file_of_unknown_encoding_is_decoded(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Café in Zürich — déjà vu.\nEin schöner Tag für alle Beteiligten.".encode("cp1252"))
    document = load(path)
    assert "Café in Zürich" in document.text
    assert "schöner" in document.text


def test_utf16_with_bom_is_decoded():
    assert decode_bytes("hello wörld".encode("utf-16")) == "hello wörld"


def test_binary_data_is_refused_with_a_reason(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(UnreadableFile, match="binary"):
        load(path)


def test_text_title_skips_furniture_and_markdown_heading_wins(tmp_path):
    assert title_from_lines(["Skip to: Content", "The Blog", "Military Officials Flee Qaddafi's Libya"]) == (
        "Military Officials Flee Qaddafi's Libya"
    )
    path = tmp_path / "notes.md"
    path.write_text("Some intro line here\n\n# Release notes for the team\n\nText.")
    assert load(path).title == "Release notes for the team"


def test_title_falls_back_to_file_name(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("Everything here is a sentence. And another one.")
    assert load(path).title == "plain"


def test_html_keeps_main_text_not_markup_or_scripts(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<html><head><title>Page title</title><style>p{color:red}</style></head><body>"
        "<nav>Home | About</nav><script>var secret = 1;</script>"
        "<p>First <b>bold</b> paragraph.</p><p>Second&nbsp;paragraph.</p></body></html>"
    )
    document = load(path)
    assert document.title == "Page title"
    assert document.text == "First bold paragraph.\n\nSecond paragraph."


def test_html_main_landmark_given_as_a_role_leaves_the_site_header_out(tmp_path):
    """Node.js's API pages put the site's name in an <h1> of a header above `<div role="main">`: the
    page's sections begin at its own title, not under "Node.js v20 documentation"."""
    path = tmp_path / "readline.html"
    path.write_text(
        "<html><head><title>Readline | Node.js v20 Documentation</title></head><body>"
        '<div id="column1"><header><h1>Node.js v20 documentation</h1><a href="index.html">Index</a></header>'
        '<div role="main"><h2>Readline</h2><p>The readline module reads a stream one line at a time.</p>'
        "</div></div></body></html>"
    )
    document = load(path)
    assert document.text == "Readline\n\nThe readline module reads a stream one line at a time."
    assert section_paths(document.text, document.blocks)[-1] == ("Readline",)


def test_html_links_to_the_next_and_previous_pages_are_left_out_but_not_words_beside_them(tmp_path):
    """GNU Texinfo heads each page of a manual with "Next: …, Previous: …, Up: … [Index]", its links
    marked `rel="next"` and `accesskey="n"`: that line was a passage of its own. A sentence that
    links the next page, and a DocBook header whose cell names the chapter, are words: kept."""
    path = tmp_path / "Closure-Example.html"
    path.write_text(
        '<html><body><div class="section"><div class="header"><p>Next: <a href="Thread-Safety.html" '
        'accesskey="n" rel="next">Thread Safety</a>, Previous: <a href="The-Closure-API.html" accesskey="p" '
        'rel="prev">The Closure API</a>, Up: <a href="Using.html" rel="up">Using libffi</a> &nbsp; '
        '[<a href="Index.html" rel="index">Index</a>]</p></div><hr><h3>2.6 Closure Example</h3>'
        "<p>A trivial example binds fputs to stdout.</p>"
        '<p>Threads are covered on <a href="Thread-Safety.html" rel="next">the next page</a>.</p>'
        '<table><tr><td><a accesskey="p" href="a.html">Prev</a></td><td>4. Memcheck</td></tr></table>'
        "</div></body></html>"
    )
    assert load(path).text == (
        "2.6 Closure Example\n\nA trivial example binds fputs to stdout.\n\n"
        "Threads are covered on the next page.\n\n4. Memcheck"
    )


def test_html_of_many_links_to_the_next_page_is_read_at_once(tmp_path):
    """Each such link looks at most a few small blocks out: 20,000 of them in one block are not
    each looked through the whole block (quadratic: the rule's first version, f2553e7, took 5.8 s for
    1,000 and 88 s for 4,000; now 0.2 s and 0.5 s)."""
    path = tmp_path / "links.html"
    path.write_text(
        "<html><body><div>"
        + '<p><a rel="next" href="x">Next</a></p>' * 20000
        + "<p>Words here.</p></div></body></html>"
    )
    assert load(path).text == "Words here."


def test_html_nested_200000_elements_deep_is_read(tmp_path):
    """A page of 1.2 MB nested 200,000 divs deep: its text, in time linear in its size (a line
    break inserted around each block element made it quadratic: about an hour)."""
    depth = 200_000
    path = tmp_path / "deep.html"
    deepest = "<div>" * depth + "<p>The deepest words.</p>" + "</div>" * depth
    path.write_text(f"<html><body>{deepest}</body></html>")
    assert load(path).text == "The deepest words."


def test_pdf_text_per_page_with_page_numbers(tmp_path):
    canvas = pytest.importorskip("reportlab.pdfgen.canvas")
    path = tmp_path / "report.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.setTitle("Quarterly report")
    pdf.drawString(72, 720, "The first page talks about apples and pears.")
    pdf.showPage()
    pdf.drawString(72, 720, "The second page talks about the harbour in winter.")
    pdf.save()
    document = load(path)
    assert document.title == "Quarterly report"
    assert document.page_starts == [0, document.text.index("The second page")]
    assert document.page_at(document.text.index("harbour")) == 2
    assert document.page_at(document.text.index("apples")) == 1


def test_docx_paragraphs_tables_and_title(tmp_path):
    import docx

    path = tmp_path / "memo.docx"
    memo = docx.Document()
    memo.add_heading("Memo on the harbour", level=1)
    memo.add_paragraph("The harbour closes in winter for repairs.")
    table = memo.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Opening", "April"
    memo.save(path)
    document = load(path)
    assert document.title == "Memo on the harbour"
    assert "The harbour closes in winter for repairs." in document.text
    assert "Opening | April" in document.text


def test_broken_pdf_is_unreadable_not_a_crash(tmp_path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4 this is not really a pdf")
    with pytest.raises(UnreadableFile):
        load(path)


def test_scan_is_recursive_skips_hidden_and_lists_unsupported(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("x")
    (tmp_path / "b.md").write_text("y")
    (tmp_path / "c.psd").write_bytes(b"8BPS")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "d.txt").write_text("z")
    result = scan_paths([tmp_path])
    assert sorted(p.relative_to(tmp_path).as_posix() for _, p in result.files) == ["b.md", "sub/a.txt"]
    assert [Path(s.path).name for s in result.skipped] == ["c.psd"]


def test_a_file_linked_under_other_names_is_read_once_under_its_own(tmp_path, fake_model):
    """Debian links a package's NEWS.gz to its changelog.gz; read under both names, every answer
    came twice. A link to a file outside the folder is read."""
    from typer.testing import CliRunner

    from qa.cli import app

    docs = tmp_path / "doc"
    (docs / "old").mkdir(parents=True)
    (docs / "changelog.txt").write_text("The ferry timetable changed in October.")
    (docs / "NEWS.txt").symlink_to("changelog.txt")
    (docs / "old" / "news.txt").symlink_to("../changelog.txt")
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("The crane was painted red.")
    (docs / "crane.txt").symlink_to(outside)

    scan = scan_paths([docs])

    assert sorted(p.relative_to(docs).as_posix() for _, p in scan.files) == ["changelog.txt", "crane.txt"]
    assert sorted((Path(s.path).relative_to(docs).as_posix(), s.reason) for s in scan.skipped) == [
        ("NEWS.txt", "a link to changelog.txt, which is read in its place"),
        ("old/news.txt", "a link to changelog.txt, which is read in its place"),
    ]
    result = CliRunner().invoke(app, ["index", str(docs), "--index", str(tmp_path / "doc.qa")])
    assert result.exit_code == 0 and "added 2" in result.output, result.output
    assert "NEWS.txt: a link to changelog.txt, which is read in its place" in result.output


def test_doc_ids_are_url_safe_and_unique():
    taken: set[str] = set()
    first = make_doc_id(Path("sub dir/a.txt"), taken)
    taken.add(first)
    assert first == "sub_dir__a"
    assert make_doc_id(Path("sub dir/a.md"), taken) == "sub_dir__a_md"


# Limits: a file that would cost too much to read is skipped with its reason ------------------------


def test_a_docx_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    from tests.hostile import docx_bomb

    bomb = docx_bomb(tmp_path / "bomb.docx", unpacked_mib=300)
    assert bomb.stat().st_size < 2 * 2**20
    with pytest.raises(UnreadableFile, match=r"it unpacks to 3\d\d,\d{3},\d{3} bytes, over the limit"):
        load(bomb)


def test_a_pdf_whose_page_tree_names_a_million_pages_is_refused(tmp_path):
    from tests.hostile import pdf_page_tree_bomb

    pdf = pdf_page_tree_bomb(tmp_path / "tree.pdf")
    assert pdf.stat().st_size < 10_000
    with pytest.raises(UnreadableFile, match="page tree"):
        load(pdf)


def test_a_pdf_over_the_page_limit_is_refused(tmp_path):
    from tests.hostile import simple_pdf

    pdf = simple_pdf(tmp_path / "long.pdf", [f"Page {n}" for n in range(5)])
    with pytest.raises(UnreadableFile, match="5 pages, over the limit of 3"):
        load_file(pdf, tmp_path, "long", "", ReadLimits(max_parts=3))


def test_a_reader_over_its_memory_limit_is_stopped_and_the_caller_lives_on(tmp_path):
    from tests.hostile import docx_bomb, simple_pdf

    bomb = docx_bomb(tmp_path / "bomb.docx", unpacked_mib=100)
    limits = ReadLimits(max_unpacked_bytes=2**30, max_memory_bytes=400 * 2**20)
    with pytest.raises(UnreadableFile, match="it needs more than 400 MiB to read"):
        load_file(bomb, tmp_path, "bomb", "", limits)
    pdf = simple_pdf(tmp_path / "a.pdf", ["Some text."])
    assert load(pdf).text == "Some text."


def test_a_reader_over_its_time_limit_is_killed(tmp_path):
    from tests.hostile import SLOW_READER

    path = tmp_path / "a.qa-slow"
    path.write_text("anything")
    started = time.monotonic()
    with registered(SLOW_READER):
        with pytest.raises(UnreadableFile, match="took longer than 0.3 s"):
            load_file(path, tmp_path, "a", "", ReadLimits(max_seconds=0.3))
    assert time.monotonic() - started < 5


def test_a_reader_that_crashes_is_an_unreadable_file_and_the_caller_lives_on(tmp_path):
    from tests.hostile import CRASHING_READER

    path = tmp_path / "a.qa-crash"
    path.write_text("anything")
    with registered(CRASHING_READER):
        with pytest.raises(UnreadableFile, match="the reader stopped"):
            load_file(path, tmp_path, "a", "", DEFAULT_READ_LIMITS)


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("word " * 100)
    with pytest.raises(UnreadableFile, match="500 bytes, over the limit of 100"):
        load_file(path, tmp_path, "big", "", ReadLimits(max_file_bytes=100))
