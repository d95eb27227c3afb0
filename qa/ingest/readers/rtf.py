"""Rich Text Format (.rtf), with striprtf: the text without its control words, paragraphs kept.
RTF holds no structure striprtf reports, so it is read as plain text. Read in the bounded worker
process (its regular expressions run over the whole file)."""

from __future__ import annotations

from pathlib import Path

from qa.errors import UnreadableFile
from qa.ingest.readers.common import title_from_lines
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text


def read_rtf(path: Path, limits=None) -> ParsedFile:
    from striprtf.striprtf import rtf_to_text

    raw = path.read_bytes()
    if not raw.lstrip().startswith(b"{\\rtf"):
        raise UnreadableFile("not an RTF file (it does not start with {\\rtf)")
    # RTF is 7-bit: other characters are escapes, which striprtf decodes with the file's code page.
    text = normalize_text(rtf_to_text(raw.decode("latin-1"), errors="replace"))
    return ParsedFile(text, title_from_lines(text.split("\n")))


register(Reader("rtf", frozenset({".rtf"}), read_rtf, isolated=True, preload=("striprtf.striprtf",)))
