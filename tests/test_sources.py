"""Sources: a folder lists its files with identity, version and name, and indexing plans against any
source the same way (new, changed and unchanged by version; gone from below a root: removed)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from qa.ingest.documents import Document, file_sha256
from qa.ingest.planning import IndexReport, plan_files, read_file
from qa.ingest.sources import FileItem, FolderSource, SourceScan


def test_a_folder_source_lists_files_with_identity_version_and_name(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("The ferry leaves at nine.")
    (tmp_path / "c.psd").write_bytes(b"8BPS")
    (tmp_path / ".hidden.txt").write_text("secret")
    scan = FolderSource([tmp_path]).scan()
    (item,) = scan.items
    assert item == FileItem(tmp_path.resolve(), (tmp_path / "sub" / "a.txt").resolve())
    assert item.identity == str((tmp_path / "sub" / "a.txt").resolve())
    assert item.name == "sub/a.txt"
    assert item.version() == file_sha256(tmp_path / "sub" / "a.txt")
    assert item.read("a", item.version()).text == "The ferry leaves at nine."
    assert [Path(s.path).name for s in scan.skipped] == ["c.psd"]
    assert scan.roots == [str(tmp_path.resolve())]
    assert FolderSource([tmp_path / "sub" / "a.txt"]).scan().roots == []  # a file named alone removes nothing


@dataclass(frozen=True)
class Note:
    """An item of a source that is not a folder: a note held in memory under a URL."""

    identity: str
    name: str
    text: str

    def version(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def read(self, doc_id, version, limits=None) -> Document:
        return Document(doc_id, self.name, self.name, self.text, version, root="mem://notes")


class Writer:
    """The part of IndexWriter that planning uses: documents by identity, with their versions."""

    def __init__(self, documents: dict[str, tuple[str, str]]) -> None:
        self.documents = dict(documents)  # identity → (doc_id, version)
        self.reserved: set[str] = set()
        self.deleted: list[str] = []

    def find(self, identity):
        return self.documents.get(identity)

    def __contains__(self, doc_id):
        return doc_id in self.reserved or any(d == doc_id for d, _ in self.documents.values())

    def reserve(self, doc_id):
        self.reserved.add(doc_id)

    def documents_under(self, root):
        return [(doc_id, identity) for identity, (doc_id, _) in self.documents.items() if identity.startswith(root)]

    def delete(self, doc_id):
        self.deleted.append(doc_id)
        return True


def test_any_source_is_planned_by_version_and_what_is_gone_is_removed(tmp_path):
    same = Note("mem://notes/same", "same", "Unchanged words.")
    changed = Note("mem://notes/changed", "changed", "New words.")
    new = Note("mem://notes/new", "new", "Fresh words.")
    writer = Writer(
        {
            same.identity: ("same", same.version()),
            changed.identity: ("changed", "an older version"),
            "mem://notes/gone": ("gone", "v"),
            "mem://elsewhere/kept": ("kept", "v"),
        }
    )
    report = IndexReport(tmp_path)
    files = plan_files(writer, SourceScan([same, changed, new], roots=["mem://notes/"]), report)
    assert [(f.doc_id, f.replaces) for f in files] == [("changed", True), ("new", False)]
    assert report.unchanged == 1 and report.removed_sources == ["mem://notes/gone"] and writer.deleted == ["gone"]
    assert report.files == {
        same.identity: ("same", "unchanged"),
        changed.identity: ("changed", "updated"),
        new.identity: ("new", "added"),
    }
    document = read_file(files[1], report)
    assert (document.doc_id, document.text, document.sha256) == ("new", "Fresh words.", new.version())
    assert report.added == 1


def test_a_folders_qaignore_leaves_out_what_it_names_as_a_gitignore_would(tmp_path):
    """Patterns in .gitignore's syntax, relative to the folder given: a folder, a name anywhere, a
    glob, an exception. A file named on the command line is read whatever the rules say."""
    from qa.ingest.documents import scan_paths

    book = tmp_path / "book"
    for name in ("ch01.html", "print.html", "2018-edition/ch01.html", "notes/print.html", "keep/print.html", "a.txt"):
        (book / name).parent.mkdir(parents=True, exist_ok=True)
        (book / name).write_text("<p>Some words.</p>")
    (book / ".qaignore").write_text("# old copies of the book\n2018-edition/\nprint.html\n!keep/print.html\n*.txt\n")

    found = scan_paths([book])
    assert sorted(path.relative_to(book).as_posix() for _, path in found.files) == ["ch01.html", "keep/print.html"]
    assert found.ignored == 4
    assert found.skipped == []  # left out on purpose, not a problem to report
    named = scan_paths([book / "print.html"])
    assert [path.name for _, path in named.files] == ["print.html"]


def test_a_qaignore_line_that_is_no_pattern_is_named_and_nothing_is_indexed(tmp_path):
    from typer.testing import CliRunner

    from qa.cli import app

    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("The ferry leaves at nine.")
    (folder / ".qaignore").write_text("drafts/\n\\\n")  # a lone backslash
    result = CliRunner().invoke(app, ["index", str(folder), "--index", str(tmp_path / "notes.qa")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert f"{folder / '.qaignore'}, line 2: '\\\\' is not a pattern .gitignore would take" in result.output
    assert not (tmp_path / "notes.qa").exists()


def test_a_qaignore_over_a_mebibyte_is_refused_with_its_size(tmp_path):
    from qa.errors import InvalidInput
    from qa.ingest.documents import scan_paths

    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("The ferry leaves at nine.")
    (folder / ".qaignore").write_text("*.tmp\n" * 200_000)
    with pytest.raises(InvalidInput, match=r"\.qaignore is 1,200,000 bytes; a \.qaignore is read up to 1,048,576"):
        scan_paths([folder])


def test_a_qaignore_in_a_folder_below_applies_to_the_paths_below_it(tmp_path):
    """As nested .gitignore files: `guide/.qaignore` names paths relative to `guide/`, and leaves
    `notes/print.html` alone; the root's rules still hold inside `guide/`."""
    from qa.ingest.documents import scan_paths

    site = tmp_path / "site"
    for name in ("guide/print.html", "guide/old/a.html", "guide/b.html", "notes/print.html", "notes/draft.html"):
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text("<p>Some words.</p>")
    (site / ".qaignore").write_text("draft.html\n")
    (site / "guide" / ".qaignore").write_text("/print.html\nold/\n")

    found = scan_paths([site])
    assert sorted(path.relative_to(site).as_posix() for _, path in found.files) == ["guide/b.html", "notes/print.html"]
    assert found.ignored == 3
    below = scan_paths([site / "guide"], root=site)  # a watcher's rescan of one folder, named from the root
    assert [path.relative_to(site).as_posix() for _, path in below.files] == ["guide/b.html"]


def _page(words: str) -> str:
    return f"<html><body><main><h1>Readline</h1><p>{words}</p></main></body></html>"


def _page_and_source(docs: Path) -> Path:
    """A folder as Node.js's API folder is: readline.md beside the readline.html built from it."""
    docs.mkdir()
    (docs / "readline.md").write_text("# Readline\n\nReads a stream one line at a time.")
    (docs / "readline.html").write_text(_page("Reads a stream one line at a time."))
    return docs


def _scanned(docs: Path, files: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """`files` (name: text) written below `docs` and scanned: the names read, and each skipped with why."""
    from qa.ingest.documents import scan_paths

    for name, text in files.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text)
    found = scan_paths([docs])
    read = sorted(path.relative_to(docs).as_posix() for _, path in found.files)
    return read, {Path(skip.path).relative_to(docs).as_posix(): skip.reason for skip in found.skipped}


def test_a_pages_markup_source_beside_it_is_skipped_naming_the_page_it_is_read_as(tmp_path):
    """Node.js ships readline.md beside readline.html; a Sphinx build keeps each page's source in
    _sources/ (check.rst.txt for usage/check.html, intro.txt for intro.html in Sphinx before 1.5,
    guide.rst.txt for guide/index.html from the dirhtml builder). Each page is read once, as the
    page; a Markdown file with no page beside it, and a source named on the command line, are read."""
    from qa.ingest.documents import scan_paths

    docs = tmp_path / "docs"
    files = {
        "readline.md": "# Readline\n\nReads a stream one line at a time.",
        "readline.html": _page("Reads a stream one line at a time."),
        "notes.md": "# Notes\n\nNo page was built from these.",
        "usage/check.html": _page("Checks the repository."),
        "_sources/usage/check.rst.txt": "Check\n=====\n\nChecks the repository.",
        "intro.html": _page("An introduction."),
        "_sources/intro.txt": "Intro\n=====\n\nAn introduction.",
        "guide/index.html": _page("A guide."),
        "_sources/guide.rst.txt": "Guide\n=====\n\nA guide.",
        "_sources/orphan.rst.txt": "Orphan\n======\n\nIts page was not built.",
    }
    read, reasons = _scanned(docs, files)
    assert read == [
        "_sources/orphan.rst.txt",
        "guide/index.html",
        "intro.html",
        "notes.md",
        "readline.html",
        "usage/check.html",
    ]
    assert reasons == {
        "readline.md": "the source of readline.html, which is read in its place",
        "_sources/usage/check.rst.txt": "the source of usage/check.html, which is read in its place",
        "_sources/intro.txt": "the source of intro.html, which is read in its place",
        "_sources/guide.rst.txt": "the source of guide/index.html, which is read in its place",
    }
    named = scan_paths([docs / "readline.md"])
    assert [path.name for _, path in named.files] == ["readline.md"]


def test_a_source_is_read_when_its_page_is_left_out_by_qaignore(tmp_path):
    from qa.ingest.documents import scan_paths

    docs = _page_and_source(tmp_path / "docs")
    (docs / ".qaignore").write_text("*.html\n")
    found = scan_paths([docs])
    assert [path.name for _, path in found.files] == ["readline.md"] and found.skipped == []


def test_a_watcher_skips_a_source_beside_its_page_and_removes_one_indexed_before_its_page_appeared(tmp_path):
    from qa.ingest.sources import ChangedPaths

    docs = _page_and_source(tmp_path / "docs")

    source_changed = ChangedPaths([docs], [docs / "readline.md"]).scan()
    assert source_changed.items == [] and source_changed.roots == [str(docs / "readline.md")]
    assert [skip.reason for skip in source_changed.skipped] == [
        "the source of readline.html, which is read in its place"
    ]
    page_appeared = ChangedPaths([docs], [docs / "readline.html"]).scan()
    assert [item.path for item in page_appeared.items] == [docs / "readline.html"]
    assert page_appeared.roots == [str(docs / "readline.md")]  # the source indexed alone until now goes
    both = ChangedPaths([docs], [docs / "readline.md", docs / "readline.html"]).scan()
    assert [item.path for item in both.items] == [docs / "readline.html"]


def test_a_watcher_skips_a_link_to_a_file_read_below_the_folder(tmp_path):
    from qa.ingest.sources import ChangedPaths

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "changelog.txt").write_text("The ferry timetable changed in October.")
    (docs / "NEWS.txt").symlink_to("changelog.txt")
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("The crane was painted red.")
    (docs / "crane.txt").symlink_to(outside)

    scan = ChangedPaths([docs.resolve()], [docs / "NEWS.txt", docs / "crane.txt"]).scan()

    assert [item.path for item in scan.items] == [docs / "crane.txt"]  # its file is not read below the folder
    assert [(Path(skip.path).name, skip.reason) for skip in scan.skipped] == [
        ("NEWS.txt", "a link to changelog.txt, which is read in its place")
    ]
    assert scan.roots == [str(docs / "NEWS.txt")]  # indexed under its own name before: removed now


def test_many_page_sources_are_one_line_of_the_summary(tmp_path):
    from qa.ingest.documents import Skipped, skipped_lines

    sources = [Skipped.source_of(tmp_path / f"page{n}.md", f"page{n}.html") for n in range(8)]
    unreadable = Skipped(str(tmp_path / "broken.pdf"), "not a PDF")
    lines = skipped_lines([*sources, unreadable], "; `qa info` lists each")
    assert lines == [
        "8 sources of pages read in their place (such as page0.md: the source of page0.html, which is read in its"
        " place); `qa info` lists each",
        f"{tmp_path / 'broken.pdf'}: not a PDF",
    ]


def test_a_sphinx_projects_own_sources_are_read_as_the_pages_built_from_them(tmp_path):
    """A project's docs folder holds its sources (intro.rst) and the build made from them
    (_build/html/intro.html), whose _sources/ keeps each source byte for byte: the file with the
    copy's bytes is the page's source too. A source edited since the build says something the
    page does not yet: it is read, as is a source with no page."""

    docs = tmp_path / "docs"
    intro = "Introduction\n============\n\nThe ferry leaves at nine.\n"
    files = {
        "intro.rst": intro,
        "_build/html/intro.html": _page("The ferry leaves at nine."),
        "_build/html/_sources/intro.rst.txt": intro,
        "edited.rst": "Edited\n======\n\nThe ferry leaves at ten now.\n",
        "_build/html/edited.html": _page("The ferry leaves at nine."),
        "_build/html/_sources/edited.rst.txt": "Edited\n======\n\nThe ferry leaves at nine.\n",
        "draft.rst": "Draft\n=====\n\nNot built yet.\n",
    }
    read, reasons = _scanned(docs, files)
    assert read == ["_build/html/edited.html", "_build/html/intro.html", "draft.rst", "edited.rst"]
    assert reasons["intro.rst"] == "the source of _build/html/intro.html, which is read in its place"
    assert set(reasons) == {"intro.rst", "_build/html/_sources/intro.rst.txt", "_build/html/_sources/edited.rst.txt"}
