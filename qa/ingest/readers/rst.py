"""reStructuredText (.rst), read as blocks: section titles (underlined, or over- and underlined; their
levels in the order the document first uses each style, as docutils counts them), paragraphs with
their wrapped lines joined, list items, definition lists, literal blocks (after `::`) and code
directives as code, tables as they are drawn; the body of a directive that holds words (a note, a
tab, a dropdown: `qa.ingest.readers.directives`) is read as blocks in its place. Comments and
directives that hold no text (`.. toctree::`, `.. image::`, `.. include::`) are left out; inline
markup reads as rendered (``literal`` as its text, a `:ref:` role or a link as its words).

Hand-written, line by line, like the Markdown reader: docutils would need Sphinx's roles and
directives to read most real files without errors, and a document is only wanted for its blocks.
Linear in the file: each line is looked at a bounded number of times.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from qa.ingest.blocks import BlockText
from qa.ingest.readers.common import decode_bytes, parsed_from_blocks
from qa.ingest.readers.directives import add_directive
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import indentation

# A line of one punctuation character repeated: a section title's underline or overline, or a
# transition between paragraphs.
_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1{2,}\s*$")
_SIMPLE_TABLE = re.compile(r"^\s*=+(?:\s+=+)+\s*$")
_GRID_TABLE = re.compile(r"^\s*\+[-=+]+\+\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+•‣⁃]|\d+[.)]|#\.|\(?[A-Za-z0-9]\)|[A-Za-z]\.)\s+\S")
_DIRECTIVE = re.compile(r"^\s*\.\.\s+([\w:+-]+)::(.*)$")
_COMMENT = re.compile(r"^\s*\.\.(?:\s|$)")
_FIELD = re.compile(r"^:[\w-]+:(\s.*)?$")
# Inline markup, in the order it is taken off: literals first, so what they hold stays as it is.
_INLINE = (
    (re.compile(r"``(\S(?:.*?\S)?)``"), r"\1"),
    (re.compile(r":[\w:+-]+:`~?([^`<]*?)\s*<[^`>]*>`"), r"\1"),  # :ref:`text <target>`
    (re.compile(r":[\w:+-]+:`~?([^`]+)`"), r"\1"),  # :func:`name`
    (re.compile(r"`([^`<]+?)\s*<[^`>]+>`__?"), r"\1"),  # `text <url>`_
    (re.compile(r"`([^`]+)`__?"), r"\1"),  # `text`_
    (re.compile(r"\*\*(\S(?:.*?\S)?)\*\*"), r"\1"),
    (re.compile(r"(?<![\w*])\*(\S(?:[^*]*?\S)?)\*(?![\w*])"), r"\1"),
)


def read_rst(path: Path, limits=None) -> ParsedFile:
    return parsed_from_blocks(rst_blocks(decode_bytes(path.read_bytes())))


def rst_blocks(source: str, depth: int = 0) -> BlockText:
    """The blocks of a reStructuredText document (its common constructs, not every corner);
    `depth`: how many directives this text is inside."""
    out = BlockText()
    lines = source.replace("\r\n", "\n").replace("\r", "\n").expandtabs(8).split("\n")
    styles: dict[tuple[str, bool], int] = {}  # (character, overlined) -> level, in order of first use
    index = _after_metadata(lines) if depth == 0 else 0
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            index += 1
            continue
        indent = indentation(line)
        title = _title(lines, index)
        if title is not None:
            text, style, index = title
            out.add("heading", _inline(text), styles.setdefault(style, len(styles) + 1))
        elif _ADORNMENT.match(line):
            index += 1  # a transition
        elif directive := _DIRECTIVE.match(line):
            body, index = _indented(lines, index + 1, indent)
            add_directive(
                out, directive.group(1).lower(), directive.group(2).strip(), body, depth, rst_body_blocks, _inline
            )
        elif _COMMENT.match(line):
            _, index = _indented(lines, index + 1, indent)
        elif _SIMPLE_TABLE.match(line) or _GRID_TABLE.match(line):
            table, index = _table(lines, index)
            out.add("code", "\n".join(table))
        elif _ITEM.match(line):
            item, index = _item(lines, index, indent)
            out.add("item", _inline(item))
        else:
            paragraph, index = _lines_at(lines, index, indent)
            if (
                index < len(lines)
                and lines[index].strip()
                and indentation(lines[index]) > indent
                and len(paragraph) == 1
            ):
                description, index = _indented(lines, index, indent)  # a definition list's term, then what it is
                out.add("term", _inline(paragraph[0]))
                out.add("description", _inline(" ".join(description)))
                continue
            index = _add_paragraph(out, lines, paragraph, index, indent)
    return out


def _after_metadata(lines: list[str]) -> int:
    """Where the text starts after the field list a file may begin with: Sphinx's file-wide
    metadata (`:orphan:`, `:tocdepth: 2`), which no reader of the page sees."""
    index = 0
    while index < len(lines) and (not lines[index].strip() or _FIELD.match(lines[index])):
        index += 1
    return index if any(_FIELD.match(line) for line in lines[:index]) else 0


def _title(lines: list[str], index: int) -> tuple[str, tuple[str, bool], int] | None:
    """(title, style, next index) when a section title starts at `index`."""
    line = lines[index]
    over = _ADORNMENT.match(line)
    if over and index + 2 < len(lines):
        text, under = lines[index + 1], _ADORNMENT.match(lines[index + 2])
        if text.strip() and not _ADORNMENT.match(text) and under and under.group(1) == over.group(1):
            return text.strip(), (over.group(1), True), index + 3
    if over or indentation(line) or index + 1 >= len(lines):
        return None
    under = _ADORNMENT.match(lines[index + 1])
    if under and len(lines[index + 1].rstrip()) >= min(len(line.rstrip()), 4):
        return line.strip(), (under.group(1), False), index + 2
    return None


def _add_paragraph(out: BlockText, lines: list[str], paragraph: list[str], index: int, indent: int) -> int:
    """A paragraph; one that ends with `::` introduces the literal block indented under it."""
    text = " ".join(line.strip() for line in paragraph)
    if not text.endswith("::"):
        out.add("paragraph", _inline(text))
        return index
    head = text[:-2]  # "Example::" reads "Example:", "Example ::" reads "Example", "::" alone nothing
    if head:
        out.add("paragraph", _inline(head.rstrip() if head.endswith(" ") else head + ":"))
    start = index
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start < len(lines) and indentation(lines[start]) > indent:
        literal, index = _indented(lines, start, indent)
        out.add_preformatted("\n".join(literal))
    return index


def rst_body_blocks(text: str, depth: int) -> BlockText:
    """A directive's body (indented under it) read as reST: a reST directive's, and MyST's
    `eval-rst`."""
    return rst_blocks(textwrap.dedent(text), depth)


def _inline(text: str) -> str:
    """Prose as it reads rendered: ``literal`` and **strong** without their marks, a role or a
    link as its text (":ref:`the FAQ <faq>`" reads "the FAQ", ":func:`~os.path.join`" reads
    "os.path.join"). Code keeps its characters."""
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text


def _lines_at(lines: list[str], index: int, indent: int) -> tuple[list[str], int]:
    """The non-blank lines from `index` at `indent` (a paragraph)."""
    taken = []
    while index < len(lines) and lines[index].strip() and indentation(lines[index]) == indent:
        taken.append(lines[index])
        index += 1
    return taken, index


def _item(lines: list[str], index: int, indent: int) -> tuple[str, int]:
    """A list item: its line, and the lines after it indented under it, up to a blank line."""
    taken = [lines[index].strip()]
    index += 1
    while index < len(lines) and lines[index].strip() and indentation(lines[index]) > indent:
        taken.append(lines[index].strip())
        index += 1
    return " ".join(taken), index


def _indented(lines: list[str], index: int, indent: int) -> tuple[list[str], int]:
    """The block after a line at `indent`: the lines indented more than it, blank lines among them."""
    taken: list[str] = []
    while index < len(lines) and (not lines[index].strip() or indentation(lines[index]) > indent):
        taken.append(lines[index])
        index += 1
    while taken and not taken[-1].strip():
        taken.pop()
    return taken, index


def _table(lines: list[str], index: int) -> tuple[list[str], int]:
    """A grid or simple table, as drawn: up to the blank line after its last border."""
    taken = []
    borders = 0
    while index < len(lines):
        line = lines[index]
        if not line.strip():
            if borders >= 2 or not _SIMPLE_TABLE.match(taken[0]):
                break
            taken.append(line)  # a simple table's rows may be parted by blank lines
        else:
            taken.append(line)
            borders += bool(_SIMPLE_TABLE.match(line) or _GRID_TABLE.match(line))
        index += 1
    return taken, index


register(
    Reader(
        "rst",
        frozenset({".rst"}),
        read_rst,
        isolated=True,
        linear=True,
        preload=("charset_normalizer",),
    )
)
