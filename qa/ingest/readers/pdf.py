"""PDF: text page by page with where each page starts; pypdf's own limits set from ours.
A page without a text layer (a scan) is read by OCR from its images (`qa.ingest.ocr`), and
marked so its citations say `ocr: true`; where Tesseract is missing, a PDF of scans only is
skipped with a reason saying what to install, and a PDF of text and scans keeps its text pages.
Read in the bounded worker process: its streams are compressed."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import UnreadableFile
from qa.ingest.blocks import BlockText
from qa.ingest.readers.common import title_from_lines
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text

if TYPE_CHECKING:
    from qa.ingest.limits import ReadLimits

logger = logging.getLogger(__name__)
# An image this much smaller than the page's largest is a logo or a stamp, not part of the scan.
_SCAN_PART = 0.25
# Titles that PDF generators write when the author gave none.
_PLACEHOLDER_TITLES = frozenset({"untitled", "untitled document", "title", "document"})


def read_pdf(path: Path, limits: ReadLimits) -> ParsedFile:
    from pypdf import PdfReader

    with _pdf_limits(limits):
        reader = PdfReader(str(path))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadableFile("encrypted PDF")
        if len(reader.pages) > limits.max_parts:
            raise UnreadableFile(f"{len(reader.pages):,} pages, over the limit of {limits.max_parts:,}")
        return _pdf_text(reader)


def _pdf_limits(limits: ReadLimits):
    """pypdf's own limits (pypdf ≥ 6) set from ours, so it stops before the memory limit would."""
    from contextlib import nullcontext

    try:
        from pypdf import apply_configuration
    except ImportError:
        return nullcontext()
    unpacked = limits.max_unpacked_bytes
    return apply_configuration(
        page_tree_maximum_entries=limits.max_parts * 2,
        zlib_maximum_output_length=unpacked,
        lzw_maximum_output_length=unpacked,
        run_length_maximum_output_length=unpacked,
        maximum_declared_stream_length=unpacked,
    )


def _pdf_text(reader) -> ParsedFile:
    from qa.ingest.ocr import ocr_missing
    from qa.ingest.readers.pdf_layout import add_pages, outline_headings, page_lines

    pages: list = []
    ocr_pages: list[int] = []
    missing = None
    for number, page in enumerate(reader.pages, 1):
        lines = page_lines(page)
        if not any(line.text.strip() for line in lines) and (scans := _scans(page)):
            missing = missing or ocr_missing()
            if missing is None:
                pages.append("\n\n".join(_recognise(scan) for scan in scans))
                ocr_pages.append(number)
                continue
        pages.append(lines)
    out = BlockText()
    add_pages(out, pages, outline_headings(reader))
    text = out.text
    if missing and not text.strip():
        raise UnreadableFile(missing)
    if missing:
        logger.warning("scanned pages of a PDF left out: %s", missing)
    title = ""
    if reader.metadata and reader.metadata.title:
        title = normalize_text(str(reader.metadata.title))
    title = "" if title.lower() in _PLACEHOLDER_TITLES else title
    title = title or _title_of(pages, out) or title_from_lines(text.split("\n"))
    return ParsedFile(text, title, out.page_starts, blocks=tuple(out.blocks), ocr_pages=tuple(ocr_pages))


def _title_of(pages: list, out: BlockText) -> str:
    """The first page's largest line, when it is set larger than the rest; else the first heading."""
    from qa.ingest.readers.pdf_layout import title_line

    first = next((page for page in pages if not isinstance(page, str)), None)
    line = title_line(first) if first else None
    if line:
        return normalize_text(" ".join(line.split()))
    headings = [out.text[b.start : b.end] for b in out.blocks if b.kind == "heading"]
    return headings[0] if headings else ""


def layout_text(raw: str) -> str:
    """A PDF line break is layout, not structure: keep blank lines, join wrapped lines (and the
    words they hyphenated, `join_wrapped`)."""
    from qa.ingest.readers.pdf_layout import join_wrapped

    paragraphs = re.split(r"\n\s*\n", raw)
    return normalize_text("\n\n".join(join_wrapped(p.split("\n")) for p in paragraphs))


def _scans(page) -> list:
    """The images that make up a page without text: the largest and any near its size, in order."""
    try:
        images = [image.image for image in page.images]
    except Exception as error:  # an image pypdf cannot decode: the page stays empty
        logger.info("page images not read: %s", error)
        return []
    images = [image for image in images if image is not None]
    if not images:
        return []
    largest = max(image.width * image.height for image in images)
    return [image for image in images if image.width * image.height >= largest * _SCAN_PART]


def _recognise(image) -> str:
    from qa.ingest.ocr import recognise

    return recognise(image)


def join_pages(pages: list[str]) -> tuple[str, list[int]]:
    """One text from page texts (a blank line between them) and where each page starts."""
    starts, parts, offset = [], [], 0
    for page in pages:
        starts.append(offset)
        parts.append(page)
        offset += len(page) + 2
    return "\n\n".join(parts), starts


register(Reader("pdf", frozenset({".pdf"}), read_pdf, isolated=True, preload=("pypdf",)))
