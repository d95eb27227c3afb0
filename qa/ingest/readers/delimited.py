"""CSV and TSV files, with the standard library's csv module (its Sniffer finds the delimiter):
rows grouped as `qa.ingest.tables` says ("Rows 12–30", the file's line numbers as a spreadsheet
shows them), the header row repeated at the head of each group. Read in the bounded worker."""

from __future__ import annotations

import csv
from pathlib import Path

from qa.ingest.blocks import BlockText
from qa.ingest.readers.common import decode_bytes
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.ingest.readers.tables import add_table, row_line

csv.field_size_limit(1 << 24)  # a 16 MiB cell at most (the default, 128 KiB, refuses real exports)


def read_delimited(path: Path, limits=None) -> ParsedFile:
    text = decode_bytes(path.read_bytes())
    try:
        dialect = csv.Sniffer().sniff(text[:16384], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if path.suffix.lower() == ".tsv" else csv.excel
    out = BlockText()
    rows = csv.reader(text.splitlines(), dialect)
    add_table(out, ((number, row_line(row)) for number, row in enumerate(rows, 1)))
    return ParsedFile(out.text, blocks=tuple(out.blocks))


register(Reader("csv", frozenset({".csv", ".tsv"}), read_delimited, isolated=True, preload=("charset_normalizer",)))
