"""Tables of rows (spreadsheet sheets, CSV files) as blocks. A sheet's rows are cut into groups
small enough for one passage, each headed "Rows A–B" (the sheet's own row numbers) and starting
with the sheet's header row again, so a passage cites the sheet and the rows it quotes, and a
header row stays with its rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time

from qa.ingest.blocks import BlockText

# Characters of rows in one group: about 200 word pieces of table text (a short cell is several
# pieces, and " | " one more), within the passage target of 254.
GROUP_CHARS = 500


def cell_text(value) -> str:
    """A cell as a person reads it: 12.0 as 12, a date without a midnight time, no line breaks."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    return " ".join(str(value).split())


def row_line(values: Iterable) -> str:
    """A row's cells joined by " | ", its empty cells at the end left out."""
    cells = [cell_text(value) for value in values]
    while cells and not cells[-1]:
        cells.pop()
    return " | ".join(cells)


def add_table(out: BlockText, rows: Iterable[tuple[int, str]], level: int = 1) -> None:
    """`rows` as (row number, line) in order, empty lines included or not; the first non-empty
    row is the header when none of its cells is a number."""
    header, header_number = "", 0
    group: list[tuple[int, str]] = []
    size = 0

    def flush() -> None:
        if group:
            first, last = group[0][0], group[-1][0]
            out.add("heading", f"Rows {first}–{last}" if last != first else f"Row {first}", level)
            if header:
                out.add("table_head", header, keep_lines=True)
            for _, line in group:
                out.add("row", line, keep_lines=True)

    for number, line in rows:
        if not line.strip():
            continue
        if not header and not group and is_header(line):
            header, header_number = line, number
            continue
        if group and size + len(line) > GROUP_CHARS - len(header):
            flush()
            group, size = [], 0
        group.append((number, line))
        size += len(line) + 1
    if not group and header:  # a header alone is still the table's words
        group = [(header_number, header)]
        header = ""
    flush()


def is_header(line: str) -> bool:
    cells = [cell.strip() for cell in line.split(" | ")]
    return len(cells) > 1 and all(cell and not _is_number(cell) for cell in cells)


def _is_number(cell: str) -> bool:
    try:
        float(cell.replace(",", ""))
    except ValueError:
        return False
    return True
