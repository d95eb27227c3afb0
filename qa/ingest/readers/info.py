"""GNU Info manuals (`grep.info`, as installed `grep.info.gz`, and a long manual's parts
`find.info-1.gz` …): the full manuals of GNU's tools, of which a man page is a summary. Read as
blocks: each node's titles (underlined with `*`, `=`, `-`, `.`) are headings, a table entry (the
option's lines, then what it does indented under them) a term and its description, a paragraph's
wrapped lines joined, indented examples kept as typed (code, unless they are wrapped prose). Left
out: the header line of each node ("File: grep.info, Node: Invoking, Next: …, Up: Top"), its menu
of the nodes below, the tag table, and the preamble before the first node; a cross reference reads
as the node it names ("*note Usage::" as "Usage"). The title is the manual's top title.

Hand-written, line by line: Info is plain text with a few conventions, and no library reads it.
Linear in the file.
"""

from __future__ import annotations

import re
from pathlib import Path

from qa.errors import UnreadableFile
from qa.ingest.blocks import BlockText
from qa.ingest.readers.common import decode_bytes
from qa.ingest.readers.registry import ParsedFile, Reader, register

NODE_SEPARATOR = "\x1f"
_UNDERLINES = {"*": 1, "=": 2, "-": 3, ".": 4}
_TERM_INDENT = 5  # Info indents a table entry's text, and an example, by five spaces
# Bounded: a node's name is short, and a search without an end in sight must not scan the paragraph.
_NOTE = re.compile(r"\*[Nn]ote[ \n]+([^:]{1,120}?)::|\*[Nn]ote[ \n]+([^:]{1,120}?):[ \n]+[^.,]{1,200}([.,])")


# What Info marks an index's or an image's place with, between NUL and backspace bytes: "\0\b[index\0\b]".
_COOKIE = re.compile(rb"\x00\x08\[[^\x00]{0,200}\x00\x08\]")


def read_info(path: Path, limits=None) -> ParsedFile:
    built, title, split = info_blocks(decode_bytes(_COOKIE.sub(b"", path.read_bytes())))
    if not built.blocks and split:
        raise UnreadableFile(f"the table of a manual split into parts ({split}), which are read in its place")
    return ParsedFile(built.text, title, blocks=tuple(built.blocks))


def info_blocks(source: str) -> tuple[BlockText, str, str]:
    """(the blocks of an Info file, the manual's top title, the parts it names when it is the table
    of a split manual: "find.info-1, find.info-2", else '')."""
    out, title, parts = BlockText(), "", []
    for chunk in source.split(NODE_SEPARATOR):
        chunk = chunk.lstrip("\n")
        if chunk.startswith("Indirect:"):
            parts = [line.split(":", 1)[0] for line in chunk.splitlines()[1:] if ":" in line]
        if not chunk.startswith("File:"):
            continue  # the preamble, the tag table, local variables
        header, _, body = chunk.partition("\n")
        top = re.search(r"Node:\s*Top\s*,", header) is not None
        first = len(out.blocks)
        _node(out, body.split("\n"))
        if top and not title:
            title = next((out.text[b.start : b.end] for b in out.blocks[first:] if b.kind == "heading"), "")
    return out, title, ", ".join(parts)


def _node(out: BlockText, lines: list[str]) -> None:
    """One node's blocks, up to its menu (menus end a node)."""
    paragraph: list[str] = []
    for line in [*lines, ""]:
        if line.startswith("* Menu:"):
            break
        if line.strip():
            paragraph.append(line.rstrip())
            continue
        _paragraph(out, paragraph)
        paragraph = []
    _paragraph(out, paragraph)


def _paragraph(out: BlockText, lines: list[str]) -> None:
    if not lines:
        return
    if len(lines) == 2 and _is_underline(lines[1], lines[0]):
        out.add("heading", lines[0].strip(), _UNDERLINES[lines[1][0]])
        return
    indented = [_indent(line) >= _TERM_INDENT for line in lines]
    if all(indented):
        if out.blocks and out.blocks[-1].kind == "description" and all(_indent(line) == _TERM_INDENT for line in lines):
            out.add("description", _notes(" ".join(line.strip() for line in lines)))  # the entry goes on
        else:
            out.add_preformatted(_notes("\n".join(line[_TERM_INDENT:] for line in lines)))
        return
    terms = 0
    while terms < len(lines) and not indented[terms]:
        terms += 1
    if 0 < terms < len(lines) and all(indented[terms:]) and all(len(line) <= 80 for line in lines[:terms]):
        out.add("term", ", ".join(line.strip() for line in lines[:terms]))
        out.add("description", _notes(" ".join(line.strip() for line in lines[terms:])))
        return
    out.add("paragraph", _notes(" ".join(line.strip() for line in lines)))


def _is_underline(line: str, above: str) -> bool:
    mark = line[:1]
    return mark in _UNDERLINES and line == mark * len(line) and abs(len(line) - len(above.strip())) <= 2


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _notes(text: str) -> str:
    """Cross references as the words they name: "*note Usage::" → "Usage", "*Note Environment
    Variables: Environment." → "Environment Variables."."""
    return _NOTE.sub(lambda m: m.group(1) or (m.group(2) + m.group(3)), text)


register(
    Reader(
        "info",
        frozenset({".info"}),
        read_info,
        isolated=True,
        linear=True,
        preload=("charset_normalizer",),
        suffix_pattern=r"\.info-\d{1,3}",
        also_reads="a long Info manual's parts (.info-1, .info-2 …)",
    )
)
