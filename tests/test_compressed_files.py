"""Compressed documents (`guide.rst.gz`, as Debian installs most of /usr/share/doc): read as the
file inside them, cited by their own name, and a file that unpacks without end refused, not read."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from email.message import EmailMessage
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.collection import Collection
from qa.errors import UnreadableFile, UnusableUpload
from qa.ingest.documents import parse_file, scan_paths
from qa.ingest.limits import ReadLimits
from qa.server.uploads import safe_name

GUIDE = (
    "Installing\n==========\n\nRequirements files\n------------------\n\n"
    "Run ``pip install -r requirements.txt`` to install every package the file lists.\n"
)
NOTES = "# Caching\n\n## Removing the cache\n\nThe purge command clears all wheel files from the cache.\n"
FAQ = "Why is the ferry late?\n\nThe ferry waits for the mail boat on Sundays.\n"


@pytest.fixture
def folder(tmp_path) -> Path:
    docs = tmp_path / "doc"
    docs.mkdir()
    (docs / "guide.rst.gz").write_bytes(gzip.compress(GUIDE.encode()))
    (docs / "caching.md.bz2").write_bytes(bz2.compress(NOTES.encode()))
    (docs / "faq.txt.xz").write_bytes(lzma.compress(FAQ.encode()))
    (docs / "dump.gz").write_bytes(gzip.compress(b"\x00\x01 a core dump"))
    (docs / "site.tar.gz").write_bytes(gzip.compress(b"not a document"))
    return docs


def test_a_compressed_file_is_indexed_as_the_file_inside_and_cited_by_its_own_name(folder, tmp_path, fake_model):
    index = tmp_path / "doc.qa"
    result = CliRunner().invoke(app, ["index", str(folder), "--index", str(index)])

    assert result.exit_code == 0, result.output
    assert "added 3" in result.output
    assert "dump.gz: unsupported type .gz" in result.output
    assert "site.tar.gz: unsupported type .tar.gz" in result.output
    documents = {d.source: d for d in Collection.open(index).documents()}
    assert sorted(documents) == ["caching.md.bz2", "faq.txt.xz", "guide.rst.gz"]
    guide = documents["guide.rst.gz"]
    assert (guide.doc_id, guide.title) == ("guide", "Installing")
    assert (documents["caching.md.bz2"].title, documents["faq.txt.xz"].doc_id) == ("Caching", "faq")

    answer = CliRunner().invoke(
        app, ["ask", "How do I install packages from a requirements file?", "--index", str(index), "--json"]
    )
    assert answer.exit_code == 0, answer.output
    best = json.loads(answer.output)["passages"][0]
    assert best["citation"]["source"] == "guide.rst.gz"
    assert "Run pip install -r requirements.txt to install every package" in best["text"]  # read as reST
    only_rst = CliRunner().invoke(app, ["ask", "cache", "--index", str(index), "--type", "rst", "--json"])
    assert {p["citation"]["source"] for p in json.loads(only_rst.output)["passages"]} == {"guide.rst.gz"}


def test_a_file_that_unpacks_past_the_limit_is_refused_and_the_others_are_read(tmp_path):
    bomb = tmp_path / "notes.txt.gz"
    bomb.write_bytes(gzip.compress(b"word " * (2 << 20)))  # 10 MiB inside ~10 KB
    assert bomb.stat().st_size < 64 * 1024

    with pytest.raises(UnreadableFile, match="it unpacks to more than 1,048,576 bytes"):
        parse_file(bomb, ReadLimits(max_file_bytes=1 << 20))
    assert "word word" in parse_file(bomb, ReadLimits(max_file_bytes=16 << 20)).text


@pytest.mark.parametrize(
    ("name", "data", "shown"),
    [
        ("cut.txt.gz", gzip.compress(FAQ.encode(), mtime=0)[:30], "gzip"),  # the same bytes in every process
        ("noise.md.bz2", b"BZh9 not really", "bzip2"),
        ("noise.txt.xz", b"\xfd7zXZ\x00 not really", "xz"),
    ],
    ids=["gzip cut short", "bzip2 noise", "xz noise"],  # each test worker collects the same names
)
def test_a_damaged_compressed_file_is_skipped_with_the_reason(tmp_path, name, data, shown):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(UnreadableFile, match=f"not a readable {shown} file"):
        parse_file(path)


def test_a_compressed_source_beside_its_page_is_read_once_as_the_page(tmp_path):
    site = tmp_path / "html"
    (site / "_sources").mkdir(parents=True)
    (site / "intro.html").write_text("<html><body><main><h1>Intro</h1><p>The page.</p></main></body></html>")
    (site / "_sources" / "intro.rst.txt.gz").write_bytes(gzip.compress(b"Intro\n=====\n\nThe page.\n"))
    (site / "intro.md.gz").write_bytes(gzip.compress(b"# Intro\n\nThe page.\n"))

    scan = scan_paths([site])

    assert [path.name for _, path in scan.files] == ["intro.html"]
    assert sorted((Path(s.path).name, s.reason) for s in scan.skipped) == [
        ("intro.md.gz", "the source of intro.html, which is read in its place"),
        ("intro.rst.txt.gz", "the source of intro.html, which is read in its place"),
    ]


def test_uploads_take_a_compressed_document_and_name_an_unreadable_one():
    assert safe_name("notes.md.gz") == "notes.md.gz"
    with pytest.raises(UnusableUpload, match=r"site\.tar\.gz: unsupported type \.tar\.gz; send one of .*compressed"):
        safe_name("site.tar.gz")


def test_a_compressed_mail_attachment_is_read(tmp_path):
    message = EmailMessage()
    message["Subject"] = "Timetable"
    message.set_content("The timetable is attached.")
    message.add_attachment(
        gzip.compress(b"The winter ferry sails every hour."),
        maintype="application",
        subtype="gzip",
        filename="times.txt.gz",
    )
    path = tmp_path / "timetable.eml"
    path.write_bytes(message.as_bytes())

    text = parse_file(path).text

    assert "Attachment: times.txt.gz" in text and "The winter ferry sails every hour." in text
