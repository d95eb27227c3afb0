"""The reader registry: a new format is one registered Reader, picked up by scanning, `qa index`
and uploads alike, and gone again when unregistered."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.collection import Collection
from qa.ingest.documents import file_sha256, load_file, scan_paths
from qa.ingest.readers import ParsedFile, Reader, reader_for, registered, supported_suffixes
from qa.ingest.readers.markdown import split_front_matter
from qa.server.uploads import safe_name


def read_shouting(path: Path, limits) -> ParsedFile:
    """A toy format: the title on the first line, the text after it, all in capitals."""
    title, _, body = path.read_text().partition("\n")
    return ParsedFile(body.strip().lower().capitalize(), title.strip().title())


SHOUTING = Reader("shouting", frozenset({".qa-test"}), read_shouting)


@pytest.fixture
def folder(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.txt").write_text("The library opens at nine on weekdays.")
    (docs / "ferry.qa-test").write_text("FERRY TIMES\nTHE FERRY LEAVES AT NINE AND RETURNS AT SIX.")
    return docs


def scanned(docs: Path) -> list[str]:
    return sorted(path.name for _, path in scan_paths([docs]).files)


def test_a_registered_reader_is_scanned_indexed_and_unregistered_again(folder, tmp_path, fake_model):
    assert scanned(folder) == ["note.txt"]
    assert ".qa-test" not in supported_suffixes()
    with registered(SHOUTING):
        assert scanned(folder) == ["ferry.qa-test", "note.txt"]
        assert reader_for(folder / "FERRY.QA-TEST") is SHOUTING
        assert safe_name("ferry.qa-test") == "ferry.qa-test"
        result = CliRunner().invoke(app, ["index", str(folder), "--index", str(tmp_path / "docs.qa")])
        assert result.exit_code == 0, result.output
        assert "added 2" in result.output
    documents = {d.source: d for d in Collection.open(tmp_path / "docs.qa").documents()}
    assert documents["ferry.qa-test"].title == "Ferry Times"
    assert ".qa-test" not in supported_suffixes()
    assert scanned(folder) == ["note.txt"]
    assert [Path(s.path).name for s in scan_paths([folder]).skipped] == ["ferry.qa-test"]


def test_a_later_reader_of_a_suffix_wins_until_it_is_unregistered(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("QUIET TITLE\nSOME WORDS.")
    shouting_txt = Reader("shouting-txt", frozenset({".txt"}), read_shouting)
    with registered(shouting_txt):
        assert load_file(path, tmp_path, "plain", file_sha256(path)).title == "Quiet Title"
    assert load_file(path, tmp_path, "plain", file_sha256(path)).title == "plain"


def test_suffixes_are_lower_case_with_a_dot():
    with pytest.raises(ValueError, match="lower case"):
        Reader("bad", frozenset({"CSV"}), read_shouting)


def test_front_matter_with_yaml_aliases_is_not_read():
    bomb = "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\ntags: *b\n---\nBody.\n"
    meta, body = split_front_matter(bomb)
    assert meta == {} and body == bomb
    assert split_front_matter("---\ntitle: Notes\ntags: [a, b]\n---\nBody.\n") == (
        {"title": "Notes", "tags": ["a", "b"]},
        "Body.\n",
    )


def test_a_projects_notes_named_without_a_type_are_read_as_text(tmp_path, fake_model):
    """README, FAQ, NEWS.Debian.gz: how /usr/share/doc and a GNU project name their notes."""
    import gzip

    docs = tmp_path / "doc"
    docs.mkdir()
    (docs / "README").write_text("Harbour tools for crews\n\nThe crane is booked through the harbour office.\n")
    (docs / "NEWS.Debian.gz").write_bytes(gzip.compress(b"The winter timetable starts in October.\n"))
    (docs / "LICENSE").write_bytes(b"\x00\x01\x02 not text" * 10)
    (docs / "news.py").write_text("print('a script, not notes')\n")
    (docs / "Makefile").write_text("all:\n\techo build\n")

    assert scanned(docs) == ["LICENSE", "NEWS.Debian.gz", "README"]
    result = CliRunner().invoke(app, ["index", str(docs), "--index", str(tmp_path / "doc.qa")])

    assert result.exit_code == 0, result.output
    assert "added 2" in result.output
    assert "LICENSE: binary file" in result.output
    assert "news.py: unsupported type .py" in result.output and "Makefile: unsupported type (none)" in result.output
    documents = {d.source: d for d in Collection.open(tmp_path / "doc.qa").documents()}
    assert documents["README"].title == "Harbour tools for crews"
    assert sorted(documents) == ["NEWS.Debian.gz", "README"]
    assert safe_name("README") == "README"
    from qa.ingest.readers import supported_types

    assert "README" in supported_types() and ".3pm" in supported_types()  # what an error says is read


CHANGELOG = """Fri Jul 24 10:16:24 CEST 2009 Daniel Veillard <veillard@redhat.com>

\t* libxslt/attributes.c: fix an IDness issue when building the tree

Tue May 12 09:03:46 CEST 2009 Daniel Veillard <veillard@redhat.com>

\t* configure.in: adapt the extra version detection code to git
"""
DEBIAN_CHANGELOG = """libxslt (1.1.35-1+deb12u1) bookworm-security; urgency=high

  * Fix use-after-free in xsltApplyTemplates (CVE-2021-30560).

 -- Guilhem Moulin <guilhem@debian.org>  Mon, 22 Sep 2025 09:45:22 +0200

libxslt (1.1.35-1) unstable; urgency=medium

  * New upstream release.

 -- Mattia Rizzolo <mattia@debian.org>  Tue, 01 Mar 2022 11:40:28 +0100
"""


@pytest.mark.parametrize(
    ("name", "source", "first_change"),
    [("ChangeLog", CHANGELOG, "IDness"), ("changelog.Debian", DEBIAN_CHANGELOG, "CVE")],
)
def test_a_change_log_is_read_as_one_section_per_entry_each_cited_under_it(tmp_path, name, source, first_change):
    from qa.ingest.blocks import section_paths

    path = tmp_path / name
    path.write_text(source)
    parsed = load_file(path, tmp_path, "log", file_sha256(path))

    headings = [parsed.text[b.start : b.end] for b in parsed.blocks if b.kind == "heading"]
    assert len(headings) == 2
    assert headings[0] == source.split("\n", 1)[0]  # the entry's own first line, as in the file
    assert parsed.title == name.split(".")[0]  # the file's name: no entry's line is its title
    at = parsed.text.index(first_change)
    paths = section_paths(parsed.text, parsed.blocks)
    block = next(i for i, b in enumerate(parsed.blocks) if b.start <= at < b.end)
    assert paths[block] == (headings[0],)


def test_a_notes_file_of_prose_named_news_is_read_as_text():
    from qa.ingest.readers.text import change_entries

    assert change_entries("Harbour news\n\nThe crane was painted red in 2009.\n") is None
