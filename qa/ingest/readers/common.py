"""What several readers share: decoding bytes of an unknown encoding, finding a title, a file
read as blocks from its source, and refusing a zip container (DOCX, PPTX, XLSX, EPUB,
OpenDocument) that would unpack past the limits."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import UnreadableFile

if TYPE_CHECKING:
    from qa.ingest.blocks import BlockText
    from qa.ingest.limits import ReadLimits
    from qa.ingest.readers.registry import ParsedFile


def decode_bytes(data: bytes) -> str:
    """UTF-8 when it is, else the encoding charset-normalizer finds; binary data is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UnreadableFile("binary file or unknown encoding")
    return str(best)


_MARKDOWN_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*$")


def parsed_from_blocks(built: BlockText) -> ParsedFile:
    """A document read as blocks from its source (reStructuredText, AsciiDoc): titled by its first
    heading, else by the first line that reads like one."""
    from qa.ingest.readers.registry import ParsedFile

    text = built.text
    headings = [block for block in built.blocks if block.kind == "heading"]
    title = text[headings[0].start : headings[0].end] if headings else title_from_lines(text.split("\n"))
    return ParsedFile(text, title, None, (), tuple(built.blocks))


def title_from_lines(lines: Iterable[str], look_at: int = 12) -> str:
    """The first line that reads like a heading (a markdown heading counts first), or ''."""
    lines = [line.strip() for line in lines if line.strip()][:look_at]
    for line in lines:
        heading = _MARKDOWN_HEADING.match(line)
        if heading:
            return heading.group(1)
    for line in lines:
        if _looks_like_heading(line):
            return line
    return ""


def _looks_like_heading(line: str) -> bool:
    """Three to twenty words, no sentence-ending period, no navigation separators."""
    words = line.split()
    if not 3 <= len(words) <= 20 or len(line) > 150:
        return False
    if line.endswith((".", ",", ";")) or "|" in line or ":" in line.split()[1:2]:
        return False
    return not line.lower().startswith(("skip to", "by "))


def check_zip(path: Path, limits: ReadLimits) -> None:
    """Refuse a zip (DOCX, PPTX, XLSX, EPUB, OpenDocument) that would unpack past the limits,
    before any member is inflated."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > limits.max_parts:
            raise UnreadableFile(f"{len(members):,} parts in the zip, over the limit of {limits.max_parts:,}")
        unpacked = sum(member.file_size for member in members)
        if unpacked > limits.max_unpacked_bytes:
            raise UnreadableFile(
                f"it unpacks to {unpacked:,} bytes, over the limit of {limits.max_unpacked_bytes:,} (a zip bomb?)"
            )
