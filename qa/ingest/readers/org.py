"""Org mode files (.org), Emacs's outlines, notes and manuals: read as blocks. A headline's stars
give its level (its tags, `:work:home:`, left out); list items and `term :: what it is` entries;
table rows, cells parted by " | "; source and example blocks as code, a quote block as a quote,
other blocks (`#+BEGIN_NOTE`) as paragraphs; a paragraph's wrapped lines joined. A link reads as
its description (`[[https://…][the manual]]` "the manual"). Left out: `#+KEYWORD:` lines (the title
is `#+TITLE:`), comments, and drawers (`:PROPERTIES:` … `:END:`, `:LOGBOOK:`).

Hand-written, line by line, as the Markdown reader is: no well-kept Python library reads Org into
structure. Linear in the file.
"""

from __future__ import annotations

import re
from pathlib import Path

from qa.ingest.blocks import BlockKind, BlockText
from qa.ingest.readers.common import decode_bytes
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text

_HEADLINE = re.compile(r"^(\*+)\s+(.*?)(?:\s+:[\w@#%:]+:)?\s*$")
_ITEM = re.compile(r"^\s*(?:[-+]|\s\*|\d{1,9}[.)])\s+(.*)$")
_TERM = re.compile(r"^(.*?)\s+::(?:\s+(.*))?$")
_BEGIN = re.compile(r"^\s*#\+begin_(\w+)", re.I)
_KEYWORD = re.compile(r"^\s*#\+(\w+):\s*(.*)$")
_DRAWER = re.compile(r"^\s*:[\w-]+:\s*$")
_RULE = re.compile(r"^\s*\|[-+]+\|?\s*$")
# Bounded, so that a link left open does not scan to the paragraph's end.
_LINK = re.compile(r"\[\[([^\]\n]{1,500})\](?:\[([^\]\n]{1,500})\])?\]")
_CODE_BLOCKS = frozenset({"src", "example", "export"})


def read_org(path: Path, limits=None) -> ParsedFile:
    built, title = org_blocks(decode_bytes(path.read_bytes()))
    return ParsedFile(built.text, title, blocks=tuple(built.blocks))


def org_blocks(source: str) -> tuple[BlockText, str]:
    """(the blocks of an Org file, its `#+TITLE:`)."""
    out, title = BlockText(), ""
    lines = source.replace("\r\n", "\n").split("\n")
    current: list[str] = []
    kind: BlockKind = "paragraph"

    def flush() -> None:
        nonlocal current
        if current:
            text = _links(" ".join(line.strip() for line in current))
            term = _TERM.match(text) if kind == "item" else None
            if term and term.group(1):
                out.add("term", term.group(1))
                out.add("description", term.group(2) or "")
            else:
                out.add(kind, text)
        current = []

    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if begin := _BEGIN.match(line):
            flush()
            name, body = begin.group(1).lower(), []
            while index < len(lines) and not re.match(rf"^\s*#\+end_{re.escape(name)}\b", lines[index], re.I):
                body.append(lines[index])
                index += 1
            index += 1  # the end line
            text = "\n".join(body)
            if name in _CODE_BLOCKS:
                out.add("code", text)
            else:
                for paragraph in re.split(r"\n\s*\n", text):
                    out.add("quote" if name == "quote" else "paragraph", _links(paragraph))
        elif _DRAWER.match(line) and line.strip().lower() != ":end:":
            flush()
            while index < len(lines) and lines[index].strip().lower() != ":end:":
                index += 1
            index += 1
        elif keyword := _KEYWORD.match(line):
            flush()
            if keyword.group(1).lower() == "title" and not title:
                title = normalize_text(_links(keyword.group(2)))
        elif line.startswith("#") and (len(line) == 1 or line[1] in " \t"):
            flush()  # a comment
        elif headline := _HEADLINE.match(line):
            flush()
            out.add("heading", _links(headline.group(2)), min(len(headline.group(1)), 6))
        elif line.lstrip().startswith("|"):
            flush()
            if not _RULE.match(line):
                cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
                out.add("row", " | ".join(_links(cell) for cell in cells), keep_lines=True)
        elif not line.strip():
            flush()
        elif item := _ITEM.match(line):
            flush()
            kind, current = "item", [item.group(1)]
        else:
            if current and kind == "item" and not line.startswith((" ", "\t")):
                flush()
            if not current:
                kind = "paragraph"
            current.append(line)
    flush()
    return out, title


def _links(text: str) -> str:
    """A link as its description, else as its target."""
    return _LINK.sub(lambda link: link.group(2) or link.group(1), text)


register(
    Reader(
        "org",
        frozenset({".org"}),
        read_org,
        isolated=True,
        linear=True,
        preload=("charset_normalizer",),
    )
)
