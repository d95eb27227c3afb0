"""Word documents (.docx) as blocks, in the document's order: headings by their style ("Title",
"Heading 1" …, or a paragraph all in bold), list items, quotes, code (a code style or a monospace
font, consecutive lines kept as one block) and tables row by row, a header row marked as such.
The zip is checked against the limits before anything is inflated, and it is read in the bounded
worker process."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from qa.ingest.blocks import BlockKind, BlockText
from qa.ingest.readers.common import check_zip, title_from_lines
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.ingest.readers.tables import is_header, row_line
from qa.text.normalize import normalize_text

if TYPE_CHECKING:
    from qa.ingest.limits import ReadLimits

_HEADING_STYLE = re.compile(r"heading\s*(\d)", re.IGNORECASE)
_CODE_STYLE = re.compile(r"code|preformatted|source|verbatim|plain text", re.IGNORECASE)
_QUOTE_STYLE = re.compile(r"quote|block text", re.IGNORECASE)
_MONOSPACE = re.compile(r"courier|consolas|menlo|monaco|mono|source code|fira code|lucida console", re.IGNORECASE)
# A paragraph all in bold reads as a heading when it is this short; as in HTML, below every real level.
_BOLD_HEADING_WORDS = 12
BOLD_HEADING_LEVEL = 7


def read_docx(path: Path, limits: ReadLimits) -> ParsedFile:
    import docx  # python-docx: absolute imports, so this is not this module
    from docx.table import Table

    check_zip(path, limits)
    document = docx.Document(str(path))
    out = BlockText()
    code: list[str] = []
    for part in document.iter_inner_content():
        kind, level = ("table", 0) if isinstance(part, Table) else _kind(part)
        if kind != "code" and code:
            out.add("code", "\n".join(code))
            code = []
        if kind == "table":
            _add_table(out, part)
        elif kind == "code":
            code.append(part.text)
        else:
            out.add(kind, part.text, level)
    if code:
        out.add("code", "\n".join(code))
    text = out.text
    headings = [text[b.start : b.end] for b in out.blocks if b.kind == "heading" and b.level < BOLD_HEADING_LEVEL]
    title = document.core_properties.title or (headings[0] if headings else "") or title_from_lines(text.split("\n"))
    return ParsedFile(text, normalize_text(title), blocks=tuple(out.blocks))


def _kind(paragraph) -> tuple[BlockKind, int]:
    style = (paragraph.style.name if paragraph.style is not None else "") or ""
    if style == "Title":
        return "heading", 1
    if match := _HEADING_STYLE.match(style):
        return "heading", int(match.group(1))
    if _CODE_STYLE.search(style) or _monospace(paragraph):
        return "code", 0
    if _QUOTE_STYLE.search(style):
        return "quote", 0
    properties = paragraph._p.pPr
    if style.startswith("List") or (properties is not None and properties.numPr is not None):
        return "item", 0
    if _bold_only(paragraph):
        return "heading", BOLD_HEADING_LEVEL
    return "paragraph", 0


def _runs_with_words(paragraph) -> list:
    return [run for run in paragraph.runs if run.text.strip()]


def _monospace(paragraph) -> bool:
    runs = _runs_with_words(paragraph)
    return bool(runs) and all(_MONOSPACE.search(run.font.name or "") for run in runs)


def _bold_only(paragraph) -> bool:
    runs = _runs_with_words(paragraph)
    words = paragraph.text.split()
    return (
        bool(runs)
        and all(run.bold for run in runs)
        and len(words) <= _BOLD_HEADING_WORDS
        and not paragraph.text.rstrip().endswith((".", "?", "!", ";", ","))
    )


def _add_table(out: BlockText, table) -> None:
    """Each row a line of its cells; the first row is the header when none of its cells is a number.
    A cell merged across columns is read once."""
    for index, row in enumerate(table.rows):
        cells = []
        for cell in row.cells:
            if not cells or cell._tc is not cells[-1]._tc:  # python-docx repeats a merged cell per column
                cells.append(cell)
        line = row_line(cell.text for cell in cells)
        out.add("table_head" if index == 0 and is_header(line) else "row", line, keep_lines=True)


register(Reader("docx", frozenset({".docx"}), read_docx, isolated=True, preload=("docx",)))
