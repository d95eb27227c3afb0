"""Files compressed as a whole (`user_guide.rst.gz`), read as the file inside them.

Debian compresses every document over 4 KiB under /usr/share/doc (pip's user guide, a README.md,
a FAQ), and logs and exports are often kept gzipped: left unread, a folder's longest documents were
the ones missing. A compressed file is read by the reader of the name beneath (`.rst`), from its
bytes unpacked up to a limit, so a small file that unpacks without end (a "zip bomb") is refused,
not read. Only names live here, and the unpacking; which reader reads what is the registry's.
"""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import NamedTuple

from qa.errors import UnreadableFile


class Compression(NamedTuple):
    module: str  # the standard library's module that opens it
    name: str  # in messages
    media_type: str


COMPRESSIONS = {
    ".gz": Compression("gzip", "gzip", "application/gzip"),
    ".bz2": Compression("bz2", "bzip2", "application/x-bzip2"),
    ".xz": Compression("lzma", "xz", "application/x-xz"),
}
CHUNK = 1 << 20


def compression(name: str | PurePath) -> str | None:
    """The compression suffix of a compressed file's name (".gz"), or None."""
    suffix = PurePath(name).suffix.lower()
    return suffix if suffix in COMPRESSIONS else None


def plain_name(name: str | PurePath) -> str:
    """The name of the file inside: "user_guide.rst.gz" → "user_guide.rst"; other names as they are."""
    name = PurePath(name).name
    return PurePath(name).stem if compression(name) else name


def type_suffix(name: str | PurePath) -> str:
    """The suffix that says what a file holds, lower case: ".rst" for "user_guide.rst.gz", ".pdf"
    for "a.pdf"; '' for none."""
    return PurePath(plain_name(name)).suffix.lower()


def shown_suffix(name: str | PurePath) -> str:
    """The suffix to name a file's type by: ".tar.gz" for a compressed file, ".css" else; '' for none."""
    plain = PurePath(plain_name(name)).suffix
    outer = compression(name)
    return plain + PurePath(name).suffix if outer else PurePath(name).suffix


def unpack(path: Path, into: Path, max_bytes: int) -> None:
    """Write the bytes inside the compressed file `path` to `into`, stopping with UnreadableFile
    once they pass `max_bytes`, or when the stream is damaged."""
    import importlib

    packing = COMPRESSIONS[compression(path) or ""]
    opener = importlib.import_module(packing.module).open
    written = 0
    try:
        with opener(path, "rb") as packed, into.open("wb") as out:
            while chunk := packed.read(CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise UnreadableFile(f"it unpacks to more than {max_bytes:,} bytes, the limit")
                out.write(chunk)
    except UnreadableFile:
        raise
    except Exception as error:  # gzip.BadGzipFile, lzma.LZMAError, bz2's OSError, EOFError when cut short
        raise UnreadableFile(f"not a readable {packing.name} file ({error or 'it ends too soon'})") from None
