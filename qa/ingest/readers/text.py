"""Plain text (.txt, .text, and the files named as a project's notes are: README, FAQ, NEWS,
README.Debian): decoded, hard-wrapped paragraphs unwrapped, normalised, titled by its first
heading-like line.
Linear in the file: a small one is read in the caller's process, a large one in the bounded worker."""

from __future__ import annotations

from pathlib import Path

from qa.ingest.readers.common import decode_bytes, title_from_lines
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text, unwrap_paragraphs

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


def read_text(path: Path, limits=None) -> ParsedFile:
    """A hard-wrapped paragraph is stored on one line (`unwrap_paragraphs`), so that its sentences
    are whole (and its first line is not taken for a title)."""
    text = normalize_text(unwrap_paragraphs(decode_bytes(path.read_bytes())))
    return ParsedFile(text, title_from_lines(text.split("\n")))


register(
    Reader(
        "text",
        frozenset({".txt", ".text"}),
        read_text,
        isolated=True,
        linear=True,
        preload=("charset_normalizer",),
        names=NOTES_NAMES,
    )
)
