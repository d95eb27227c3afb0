"""Excel workbooks (.xlsx, .xlsm), with openpyxl in read-only mode (rows streamed, not the whole
sheet held as cell objects), values as last calculated (`data_only`). Each sheet is a heading
(the citation's section starts with the sheet's name), its rows grouped as `qa.ingest.tables`
says ("Rows 12–30"), its header row repeated at the head of each group. The zip is checked
against the limits first; read in the bounded worker process."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qa.ingest.blocks import BlockText
from qa.ingest.readers.common import check_zip
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.ingest.readers.tables import add_table, row_line
from qa.text.normalize import normalize_text

if TYPE_CHECKING:
    from qa.ingest.limits import ReadLimits


def read_xlsx(path: Path, limits: ReadLimits) -> ParsedFile:
    from openpyxl import load_workbook

    check_zip(path, limits)
    workbook = load_workbook(str(path), read_only=True, data_only=True)
    try:
        out = BlockText()
        for sheet in workbook.worksheets:
            out.add("heading", sheet.title, 1)
            rows = sheet.iter_rows(values_only=True)
            add_table(out, ((number, row_line(row)) for number, row in enumerate(rows, 1)), level=2)
        title = workbook.properties.title or ""
    finally:
        workbook.close()
    return ParsedFile(out.text, normalize_text(title), blocks=tuple(out.blocks))


register(Reader("xlsx", frozenset({".xlsx", ".xlsm"}), read_xlsx, isolated=True, preload=("openpyxl",)))
