"""PDF: text page by page with where each page starts; pypdf's own limits set from ours.
Read in the bounded worker process: its streams are compressed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import UnreadableFile
from qa.ingest.readers.common import title_from_lines
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text

if TYPE_CHECKING:
    from qa.ingest.limits import ReadLimits


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
    pages: list[str] = []
    for page in reader.pages:
        raw = page.extract_text() or ""
        # A PDF line break is layout, not structure: keep blank lines, join wrapped lines.
        paragraphs = re.split(r"\n\s*\n", raw)
        pages.append(normalize_text("\n\n".join(" ".join(p.split("\n")) for p in paragraphs)))
    text, page_starts = join_pages(pages)
    title = ""
    if reader.metadata and reader.metadata.title:
        title = normalize_text(str(reader.metadata.title))
    return ParsedFile(text, title or title_from_lines(text.split("\n")), page_starts)


def join_pages(pages: list[str]) -> tuple[str, list[int]]:
    """One text from page texts (a blank line between them) and where each page starts."""
    starts, parts, offset = [], [], 0
    for page in pages:
        starts.append(offset)
        parts.append(page)
        offset += len(page) + 2
    return "\n\n".join(parts), starts


register(Reader("pdf", frozenset({".pdf"}), read_pdf, isolated=True, preload=("pypdf",)))
