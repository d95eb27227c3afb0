"""Word documents (.docx): paragraphs, then tables row by row; the zip is checked against the
limits before anything is inflated, and it is read in the bounded worker process."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qa.ingest.readers.common import check_zip, title_from_lines
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text

if TYPE_CHECKING:
    from qa.ingest.limits import ReadLimits


def read_docx(path: Path, limits: ReadLimits) -> ParsedFile:
    import docx  # python-docx: absolute imports, so this is not this module

    check_zip(path, limits)
    document = docx.Document(str(path))
    lines: list[str] = []
    heading = ""
    for paragraph in document.paragraphs:
        lines.append(paragraph.text)
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if not heading and paragraph.text.strip() and style.startswith(("Title", "Heading")):
            heading = paragraph.text
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text for cell in row.cells))
    text = normalize_text("\n\n".join(lines))
    title = document.core_properties.title or heading or title_from_lines(text.split("\n"))
    return ParsedFile(text, normalize_text(title))


register(Reader("docx", frozenset({".docx"}), read_docx, isolated=True, preload=("docx",)))
