"""Jupyter notebooks (.ipynb): the cells in order, each as what it shows. A Markdown cell is read as
Markdown blocks (so its headings head the cells below them: a code cell under "## Training" is
cited under that section), a code cell as code, and a code cell's text output (what it printed,
the value it showed) as code after it, up to `MAX_OUTPUT_CHARS` an output (a printed table of a
million rows is data, not an answer). Images, HTML and widget outputs are left out. The title is
the notebook's `metadata.title`, else its first heading. Notebook format 4, and 3's worksheets.

Read in the bounded worker: the JSON is parsed whole, and a notebook can be large.
"""

from __future__ import annotations

import json
from pathlib import Path

from qa.errors import UnreadableFile
from qa.ingest.blocks import BlockText
from qa.ingest.readers.markdown import markdown_blocks
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text

MAX_OUTPUT_CHARS = 2000


def read_notebook(path: Path, limits=None) -> ParsedFile:
    try:
        notebook = json.loads(path.read_bytes())
    except (ValueError, RecursionError) as error:
        raise UnreadableFile(f"not a notebook: its JSON does not parse ({error})") from None
    if not isinstance(notebook, dict):
        raise UnreadableFile("not a notebook: its JSON is not an object")
    out = BlockText()
    for cell in _cells(notebook):
        kind = cell.get("cell_type")
        source = _text(cell.get("source", cell.get("input", "")))
        if kind == "markdown":
            out.extend(markdown_blocks(source))
        elif kind == "code":
            out.add("code", source)
            for output in cell.get("outputs") or ():
                shown = _output_text(output) if isinstance(output, dict) else ""
                out.add("code", shown[:MAX_OUTPUT_CHARS])
        elif kind == "raw":
            out.add("code", source)
    metadata = notebook.get("metadata") if isinstance(notebook.get("metadata"), dict) else {}
    title = metadata.get("title") if isinstance(metadata.get("title"), str) else ""
    headings = [out.text[b.start : b.end].lstrip("#").strip() for b in out.blocks if b.kind == "heading"]
    return ParsedFile(out.text, normalize_text(title) or (headings[0] if headings else ""), blocks=tuple(out.blocks))


def _cells(notebook: dict) -> list[dict]:
    """Format 4's `cells`, or the cells of format 3's worksheets."""
    cells = notebook.get("cells")
    if cells is None:
        cells = [
            cell
            for sheet in notebook.get("worksheets") or ()
            if isinstance(sheet, dict)
            for cell in sheet.get("cells") or ()
        ]
    if not isinstance(cells, list):
        raise UnreadableFile("not a notebook: no list of cells")
    return [cell for cell in cells if isinstance(cell, dict)]


def _text(value) -> str:
    """A notebook's multi-line string: one string, or a list of its lines."""
    if isinstance(value, list):
        return "".join(part for part in value if isinstance(part, str))
    return value if isinstance(value, str) else ""


def _output_text(output: dict) -> str:
    """What an output shows as text: a stream's text, a result's `text/plain`; '' for a figure
    and an error's traceback."""
    if output.get("output_type") == "stream":
        return _text(output.get("text"))
    data = output.get("data") if isinstance(output.get("data"), dict) else output  # format 3 keeps it flat
    if output.get("output_type") == "error" or any(key.startswith(("image/", "png", "jpeg", "svg")) for key in data):
        return ""  # a traceback; a figure, whose text is only its name ("<Figure size 640x480>")
    return _text(data.get("text/plain", data.get("text", "")))


register(
    Reader(
        "notebook",
        frozenset({".ipynb"}),
        read_notebook,
        isolated=True,
    )
)
