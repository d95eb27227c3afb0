"""OpenDocument files, with odfpy: text (.odt) as headings, paragraphs, list items and table rows
as for DOCX; spreadsheets (.ods) as for XLSX (a heading per sheet, rows in groups under "Rows A–B"
with the header row repeated); presentations (.odp) as for PPTX (a slide a page, its title the
heading, speaker notes kept). The zip is checked against the limits first; a row or cell that the
file says is repeated is repeated only while it has words (an empty row repeated a million times
is one step), and at most `ReadLimits.max_parts` times. Read in the bounded worker process."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import UnreadableFile
from qa.ingest.blocks import BlockText
from qa.ingest.readers.common import check_zip, title_from_lines
from qa.ingest.readers.pptx import NOTES_HEADING
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.ingest.readers.tables import add_table, row_line
from qa.text.normalize import normalize_text

if TYPE_CHECKING:
    from qa.ingest.limits import ReadLimits

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
DRAW = "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"
PRESENTATION = "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0"


def read_opendocument(path: Path, limits: ReadLimits) -> ParsedFile:
    from odf.opendocument import load

    check_zip(path, limits)
    document = load(str(path))
    out = BlockText()
    suffix = path.suffix.lower()
    if suffix == ".ods":
        for sheet in _children(document.spreadsheet, TABLE, "table"):
            out.add("heading", sheet.getAttribute("name") or "Sheet", 1)
            add_table(out, _sheet_rows(sheet, limits), level=2)
    elif suffix == ".odp":
        for number, page in enumerate(_children(document.presentation, DRAW, "page"), 1):
            out.start_page()
            _slide(out, page, number)
    else:
        _flow(out, document.text, limits)
    headings = [out.text[b.start : b.end] for b in out.blocks if b.kind == "heading"]
    first_heading = headings[0] if headings and suffix != ".ods" else ""
    title = _meta_title(document) or first_heading or title_from_lines(out.text.split("\n"))
    return ParsedFile(out.text, normalize_text(title), out.page_starts, blocks=tuple(out.blocks))


def _text(element) -> str:
    from odf import teletype

    return teletype.extractText(element)


def _children(element, namespace: str, name: str):
    return [child for child in element.childNodes if getattr(child, "qname", None) == (namespace, name)]


def _flow(out: BlockText, element, limits: ReadLimits, kind="paragraph") -> None:
    """A text body in order: headings, paragraphs, lists, tables, and what sections hold."""
    for child in element.childNodes:
        namespace, name = getattr(child, "qname", (None, None))
        if (namespace, name) == (TEXT, "h"):
            out.add("heading", _text(child), int(child.getAttribute("outlinelevel") or 1))
        elif (namespace, name) == (TEXT, "p"):
            out.add(kind, _text(child))
        elif (namespace, name) in ((TEXT, "list"), (TEXT, "list-item"), (TEXT, "list-header")):
            _flow(out, child, limits, "item")
        elif (namespace, name) == (TABLE, "table"):
            for _, line in _sheet_rows(child, limits):
                out.add("row", line, keep_lines=True)
        elif namespace in (TEXT, TABLE) and child.childNodes:  # sections, table bodies, index bodies
            _flow(out, child, limits, kind)


def _sheet_rows(table, limits: ReadLimits):
    """(row number, line) of a table's rows, repeats counted; rows inside row groups included."""
    number = 0
    expanded = 0
    for row in _rows(table):
        repeat = int(row.getAttribute("numberrowsrepeated") or 1)
        line = row_line(_cells(row, limits))
        if not line:
            number += repeat
            continue
        expanded += repeat
        if expanded > limits.max_parts * 10:
            raise UnreadableFile(f"over {limits.max_parts * 10:,} rows with words in one table, over the limit")
        for _ in range(repeat):
            number += 1
            yield number, line


def _rows(element):
    for child in element.childNodes:
        qname = getattr(child, "qname", None)
        if qname == (TABLE, "table-row"):
            yield child
        elif qname in ((TABLE, "table-header-rows"), (TABLE, "table-rows"), (TABLE, "table-row-group")):
            yield from _rows(child)


def _cells(row, limits: ReadLimits) -> list[str]:
    cells: list[str] = []
    for cell in row.childNodes:
        if getattr(cell, "qname", None) not in ((TABLE, "table-cell"), (TABLE, "covered-table-cell")):
            continue
        repeat = int(cell.getAttribute("numbercolumnsrepeated") or 1)
        text = " ".join(_text(cell).split())
        if not text:
            cells += [""] * min(repeat, 1)  # an empty run is one gap, however long
            continue
        if len(cells) + repeat > limits.max_parts:
            raise UnreadableFile(f"over {limits.max_parts:,} cells in one row, over the limit")
        cells += [text] * repeat
    return cells


def _slide(out: BlockText, page, number: int) -> None:
    frames = [f for f in page.childNodes if getattr(f, "qname", None) == (DRAW, "frame")]
    titles = [f for f in frames if f.getAttribute("class") == "title"]
    title = " ".join(_text(titles[0]).split()) if titles else ""
    out.add("heading", title or f"Slide {number}", 1)
    for frame in frames:
        if frame in titles:
            continue
        _frame(out, frame)
    from odf.text import P

    for notes in _children(page, PRESENTATION, "notes"):
        lines = [_text(p) for p in notes.getElementsByType(P)]
        if any(line.strip() for line in lines):
            out.add("heading", NOTES_HEADING, 2)
            out.add("text", "\n".join(lines), keep_lines=True)


def _frame(out: BlockText, frame) -> None:
    from odf.table import Table
    from odf.text import P

    for table in frame.getElementsByType(Table):
        for row in _rows(table):
            out.add("row", row_line(" ".join(_text(c).split()) for c in row.childNodes), keep_lines=True)
    if not frame.getElementsByType(Table):
        out.add("text", "\n".join(_text(p) for p in frame.getElementsByType(P)), keep_lines=True)


def _meta_title(document) -> str:
    from odf import dc

    titles = document.meta.getElementsByType(dc.Title)
    return _text(titles[0]) if titles else ""


register(
    Reader(
        "opendocument",
        frozenset({".odt", ".ods", ".odp"}),
        read_opendocument,
        isolated=True,
        preload=("odf.opendocument",),
    )
)
