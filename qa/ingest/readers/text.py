"""Plain text (.txt, .text, and the files named as a project's notes are: README, FAQ, NEWS,
README.Debian): decoded, hard-wrapped paragraphs unwrapped, normalised, titled by its first
heading-like line.
Linear in the file: a small one is read in the caller's process, a large one in the bounded worker."""

from __future__ import annotations

import re
from pathlib import Path

from qa.ingest.blocks import BlockText
from qa.ingest.readers.common import decode_bytes, title_from_lines
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text, unwrap_paragraphs
from qa.text.questions import is_dated

# A project's notes to its users, named without a type since long before Markdown: GNU's standard
# files, and Debian's beside them (README.Debian, changelog.Debian.gz, copyright). A binary file so
# named is still refused by its bytes (`decode_bytes`).
NOTES_NAMES = frozenset(
    {
        "readme",
        "faq",
        "news",
        "install",
        "changes",
        "changelog",
        "history",
        "todo",
        "authors",
        "thanks",
        "contributing",
        "hacking",
        "bugs",
        "notice",
        "copying",
        "license",
        "licence",
        "copyright",
    }
)


# A record of changes, named so (changelog, NEWS, CHANGES, HISTORY; changelog.Debian): read as one
# section per entry under the entry's first line, so that a quote is cited under its release or its
# date, and ranked as the dated section it is (`qa.text.questions.is_dated`): true of one moment.
CHANGE_RECORDS = frozenset({"changelog", "news", "changes", "history"})
# An entry's first line, at the start of a line after a blank one: Debian's "pkg (1.2-1) unstable;
# urgency=low", GNU's "2009-07-24  Name  <mail>" or "Fri Jul 24 10:16:24 CEST 2009  Name <mail>",
# or a short line that is dated ("v1.1.35: Feb 16 2022:").
_ENTRY = re.compile(
    r"^[a-z0-9][a-z0-9+.~-]* \([^()\s]+\) [^;]*; *urgency=\w|^\S.*\b(1[89]|20)\d\d\b.*<[^<>\s]+@[^<>\s]+>\s*$"
)
MAX_ENTRY_LINE = 100
MIN_ENTRIES = 2


def read_text(path: Path, limits=None) -> ParsedFile:
    """A hard-wrapped paragraph is stored on one line (`unwrap_paragraphs`), so that its sentences
    are whole (and its first line is not taken for a title); a change log's entries are sections."""
    raw = decode_bytes(path.read_bytes())
    if path.name.split(".", 1)[0].lower() in CHANGE_RECORDS and (built := change_entries(raw)) is not None:
        first = next(block.start for block in built.blocks if block.kind == "heading")
        title = title_from_lines(built.text[:first].split("\n"))  # not an entry's line: else its file name
        return ParsedFile(built.text, title, blocks=tuple(built.blocks))
    text = normalize_text(unwrap_paragraphs(raw))
    return ParsedFile(text, title_from_lines(text.split("\n")))


def change_entries(raw: str) -> BlockText | None:
    """A change log as blocks: each entry's first line a heading, its lines below as typed (list
    items and file names as code, hard-wrapped prose as paragraphs); None when fewer than
    `MIN_ENTRIES` entries begin in it (a NEWS file of prose is read as text)."""
    out, body, entries = BlockText(), [], 0
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").expandtabs(8).split("\n")
    for index, line in enumerate(lines):
        starts = (index == 0 or not lines[index - 1].strip()) and len(line) <= MAX_ENTRY_LINE and line[:1].strip()
        if starts and (_ENTRY.match(line) or is_dated((line,))):
            out.add_preformatted("\n".join(body))
            out.add("heading", line, 1)
            body, entries = [], entries + 1
        else:
            body.append(line)
    out.add_preformatted("\n".join(body))
    return out if entries >= MIN_ENTRIES else None


register(
    Reader(
        "text",
        frozenset({".txt", ".text"}),
        read_text,
        isolated=True,
        linear=True,
        preload=("charset_normalizer",),
        names=NOTES_NAMES,
        also_reads="a project's notes named without a type (README, FAQ, NEWS, COPYING …)",
    )
)
