"""OCR: scanned PDF pages and images of text are read by Tesseract, their citations marked
`ocr: true` with the page; without Tesseract they are skipped with a reason naming what to install.
Pages are rendered at test time from known text at 200 dpi (tests/formats.py)."""

from __future__ import annotations

import difflib
import json
import re
import shutil
from pathlib import Path

import pytest

from qa.answers import encoded
from qa.collection import Collection
from qa.errors import UnreadableFile
from qa.ingest.documents import parse_file
from qa.ingest.indexing import IndexOptions, index_paths
from qa.ingest.limits import DEFAULT_READ_LIMITS
from qa.ingest.readers import read_here, reader_for
from tests import formats
from tests.fakes import FakeEncoder

needs_tesseract = pytest.mark.skipif(
    shutil.which("tesseract") is None, reason="needs Tesseract: apt-get install tesseract-ocr (make setup does as root)"
)

SCANNED = (
    "The harbour office keeps the tide tables for the whole coast. Boats longer than twelve metres "
    "must report to the harbour master before entering the inner basin.\n\n"
    "The fuel pontoon is open from six in the morning until nine in the evening."
)


def similarity(recognised: str, truth: str) -> float:
    squeeze = lambda text: re.sub(r"\s+", " ", text).strip()  # noqa: E731
    return difflib.SequenceMatcher(None, squeeze(recognised), squeeze(truth), autojunk=False).ratio()


@needs_tesseract
def test_an_image_of_text_is_read_by_ocr_as_page_one(tmp_path):
    image = tmp_path / "notice.png"
    formats.page_image(SCANNED).save(image, dpi=(200, 200))
    parsed = parse_file(image)
    assert similarity(parsed.text, SCANNED) >= 0.98, parsed.text
    assert parsed.page_starts == [0] and parsed.ocr_pages == (1,)


@needs_tesseract
def test_each_frame_of_a_tiff_is_a_page(tmp_path):
    tiff = tmp_path / "two.tiff"
    first, second = formats.page_image("First page: the lighthouse."), formats.page_image("Second page: the gulls.")
    first.save(tiff, save_all=True, append_images=[second])
    parsed = parse_file(tiff)
    assert parsed.ocr_pages == (1, 2) and "gulls" in parsed.text[parsed.page_starts[1] :]


@needs_tesseract
def test_a_scanned_pdf_page_is_recognised_and_its_citation_says_ocr_and_the_page(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    filler = "\n".join(f"Line {n} of the typed page lists the berths of the old quay wall." for n in range(30))
    formats.make_scanned_pdf(folder / "harbour.pdf", f"Typed page: the office opens at eight.\n{filler}", SCANNED)
    parsed = parse_file(folder / "harbour.pdf")
    assert parsed.ocr_pages == (2,) and "fuel pontoon" in parsed.text[parsed.page_starts[1] :]
    index = tmp_path / "index.qa"
    index_paths([folder], index, IndexOptions(), encoder=FakeEncoder())
    collection = Collection.open(index, encoder=FakeEncoder())
    answer = collection.ask("When is the fuel pontoon open?", top_k=10)
    with_scan = [p.citation for p in answer.passages if "fuel pontoon" in p.text]
    assert with_scan and all(citation.ocr for citation in with_scan)  # recognised text marks its passage
    assert 2 in {citation.page for citation in with_scan}
    typed = [p.citation for p in answer.passages if "pontoon" not in p.text and "harbour office" not in p.text]
    assert typed and all(not citation.ocr and citation.page == 1 for citation in typed)
    assert json.loads(encoded(answer))["passages"][0]["citation"]["ocr"] in (True, False)


def test_without_tesseract_an_image_is_skipped_with_what_to_install(tmp_path, monkeypatch):
    image = tmp_path / "notice.png"
    formats.page_image("Some words.").save(image)
    monkeypatch.setattr("qa.ingest.ocr.shutil.which", lambda name: None)
    with pytest.raises(UnreadableFile, match="apt-get install tesseract-ocr"):
        read_here(reader_for(image), image, DEFAULT_READ_LIMITS)


def test_without_tesseract_a_pdf_keeps_its_text_pages_and_one_of_scans_only_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr("qa.ingest.ocr.shutil.which", lambda name: None)
    mixed = formats.make_scanned_pdf(tmp_path / "mixed.pdf", "Typed page: the office opens at eight.", SCANNED)
    parsed = read_here(reader_for(mixed), mixed, DEFAULT_READ_LIMITS)
    assert "office opens at eight" in parsed.text and "pontoon" not in parsed.text and parsed.ocr_pages == ()
    only_scans = formats.make_scanned_pdf(tmp_path / "scans.pdf", "", SCANNED)
    with pytest.raises(UnreadableFile, match="apt-get install tesseract-ocr"):
        read_here(reader_for(only_scans), only_scans, DEFAULT_READ_LIMITS)


def test_a_huge_image_canvas_is_refused_before_it_is_decoded(tmp_path):
    from PIL import Image

    huge = tmp_path / "huge.png"
    Image.new("1", (12_000, 12_000), 1).save(huge)
    assert huge.stat().st_size < 1_000_000
    with pytest.raises(UnreadableFile, match="pixels, over the limit|apt-get install"):
        parse_file(huge)


def test_corrupt_images_are_skipped_with_a_reason(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg" * 10)
    with pytest.raises(UnreadableFile):
        parse_file(broken)
    assert Path(broken).exists()


@needs_tesseract
def test_an_icon_is_skipped_as_one_without_being_recognised(tmp_path, monkeypatch):
    """A web site's favicons and logos are not documents: skipped with their size, and OCR is not
    run on them, whether small or named as a site's icon is; an image larger than an icon on one
    side, or as large as a named icon but named otherwise, is read."""
    from PIL import Image

    import qa.ingest.ocr

    icon = tmp_path / "favicon.png"
    Image.new("RGB", (32, 32), "white").save(icon)
    called = []
    monkeypatch.setattr(qa.ingest.ocr, "recognise", lambda image: called.append(image) or "")
    with pytest.raises(UnreadableFile, match=r"an icon \(32×32 pixels\), too small to hold text"):
        read_here(reader_for(icon), icon, DEFAULT_READ_LIMITS)
    assert called == []
    touch = tmp_path / "favicon-8114d1fc.png"  # a site's icon by its name, at the size mdBook makes it
    Image.new("RGB", (196, 196), "white").save(touch)
    with pytest.raises(UnreadableFile, match=r"an icon \(196×196 pixels\)"):
        read_here(reader_for(touch), touch, DEFAULT_READ_LIMITS)
    assert called == []
    for name, size in (("banner.png", (300, 40)), ("diagram.png", (196, 196))):
        Image.new("RGB", size, "white").save(tmp_path / name)
        with pytest.raises(UnreadableFile, match="no text recognised"):
            read_here(reader_for(tmp_path / name), tmp_path / name, DEFAULT_READ_LIMITS)
    assert len(called) == 2


@needs_tesseract
def test_a_parsers_own_warnings_stay_out_of_the_output(tmp_path, capfd):
    """Pillow warns of a palette image with its transparency in bytes (a PNG of Node.js's
    documentation) when it is converted for OCR; the worker that reads it kept that warning off
    `qa index`'s output, where it came as two stray lines."""
    from PIL import Image

    image = Image.new("P", (400, 200), 0)
    image.putpalette([255, 255, 255, 0, 0, 0, 9, 9, 9] + [0] * 759)
    logo = tmp_path / "logo.png"
    image.save(logo, transparency=bytes([0, 128, 255]))  # more than one entry: kept as bytes
    with pytest.raises(UnreadableFile, match="no text recognised"):
        parse_file(logo)
    assert "Warning" not in capfd.readouterr().err
