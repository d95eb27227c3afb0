"""PowerPoint slides (.pptx), with python-pptx: each slide is a page (the citation's `page` is the
slide number) whose title is its heading; its text boxes, tables and speaker notes follow as
blocks, so a passage never runs from one slide into the next. A slide without a title is headed
"Slide N". The zip is checked against the limits first; read in the bounded worker process."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qa.ingest.blocks import BlockText
from qa.ingest.readers.common import check_zip
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text

if TYPE_CHECKING:
    from qa.ingest.limits import ReadLimits

NOTES_HEADING = "Speaker notes"


def read_pptx(path: Path, limits: ReadLimits) -> ParsedFile:
    from pptx import Presentation

    check_zip(path, limits)
    presentation = Presentation(str(path))
    out = BlockText()
    first_title = ""
    for number, slide in enumerate(presentation.slides, 1):
        out.start_page()
        title_shape = slide.shapes.title
        title = " ".join(title_shape.text_frame.text.split()) if title_shape is not None else ""
        first_title = first_title or title
        out.add("heading", title or f"Slide {number}", 1)
        title_id = title_shape.shape_id if title_shape is not None else None
        for shape in _shapes(slide.shapes):
            if shape.shape_id == title_id:
                continue
            if shape.has_text_frame:
                out.add("text", "\n".join(p.text for p in shape.text_frame.paragraphs), keep_lines=True)
            elif getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    out.add("row", " | ".join(" ".join(cell.text.split()) for cell in row.cells), keep_lines=True)
        notes = slide.notes_slide.notes_text_frame if slide.has_notes_slide else None
        if notes is not None and notes.text.strip():
            out.add("heading", NOTES_HEADING, 2)
            out.add("text", "\n".join(p.text for p in notes.paragraphs), keep_lines=True)
    title = presentation.core_properties.title or first_title
    return ParsedFile(out.text, normalize_text(title), out.page_starts, blocks=tuple(out.blocks))


def _shapes(shapes):
    """The shapes of a slide in reading order, those inside groups included."""
    for shape in shapes:
        if shape.shape_type == 6:  # MSO_SHAPE_TYPE.GROUP
            yield from _shapes(shape.shapes)
        else:
            yield shape


register(Reader("pptx", frozenset({".pptx"}), read_pptx, isolated=True, preload=("pptx",)))
