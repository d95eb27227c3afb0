"""Plain text (.txt, .text, .rst): decoded, normalised, titled by its first heading-like line.
Linear in the file: a small one is read in the caller's process, a large one in the bounded worker."""

from __future__ import annotations

from pathlib import Path

from qa.ingest.readers.common import decode_bytes, title_from_lines
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text


def read_text(path: Path, limits=None) -> ParsedFile:
    text = normalize_text(decode_bytes(path.read_bytes()))
    return ParsedFile(text, title_from_lines(text.split("\n")))


register(
    Reader(
        "text",
        frozenset({".txt", ".text", ".rst"}),
        read_text,
        isolated=True,
        linear=True,
        preload=("charset_normalizer",),
    )
)
