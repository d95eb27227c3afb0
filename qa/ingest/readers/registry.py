"""The reader registry: `register(Reader(...))` makes a format readable, `reader_for(path)` picks
the reader by suffix. Format modules import this module, and `qa.ingest.readers` imports them, so
the imports run one way. A compressed file (`user_guide.rst.gz`, `qa.compressed`) is read by the
reader of the name inside it, from its unpacked bytes (`read_here`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa.compressed import COMPRESSIONS, compression, plain_name, type_suffix, unpack
from qa.errors import UnreadableFile

if TYPE_CHECKING:
    from qa.ingest.blocks import Block
    from qa.ingest.limits import ReadLimits


@dataclass(frozen=True)
class ParsedFile:
    """What a reader makes of one file: normalised text, a title ('' when it has none), where
    each page starts in `text` (paged formats), tags (Markdown front matter's `tags:`), the
    blocks of a structured format (HTML, Markdown: `qa.ingest.blocks`; empty for plain text), and
    the pages whose text was recognised from an image (OCR: scanned PDF pages, image files)."""

    text: str
    title: str = ""
    page_starts: list[int] | None = None
    tags: tuple[str, ...] = ()
    blocks: tuple[Block, ...] = ()
    ocr_pages: tuple[int, ...] = ()  # 1-based


@dataclass(frozen=True)
class Reader:
    """One file format. `read` must be a module-level function: an `isolated` reader runs in the
    bounded worker process (`qa.ingest.isolation`), which receives the reader by reference."""

    name: str
    suffixes: frozenset[str]  # lower case, with the dot: ".md"
    read: Callable[[Path, ReadLimits], ParsedFile]
    # Read in a separate process under a memory and a time limit: a compressed format, whose small
    # file can expand without bound, or a parser whose cost a hostile file can make run away.
    isolated: bool = False
    # Its cost is linear in the file's size with a small constant, so a file under
    # `ReadLimits.max_inline_bytes` may be read in this process instead (no worker to start).
    linear: bool = False
    # The parser's modules, loaded once by the worker server, not per file: only for the types a run
    # reads (`qa.ingest.isolation.prepare_workers`), as each module preloaded makes every worker a
    # little slower to fork.
    preload: tuple[str, ...] = ()
    # File names it reads whatever follows them, lower case: "readme" for README, README.Debian or
    # NEWS.gz's "news", where no reader reads the suffix (README.md stays Markdown).
    names: frozenset[str] = frozenset()
    # A family of suffixes too large to list, as a regular expression the whole lower-case suffix
    # matches (manual pages' `.3pm`, `.1ssl`); `suffixes` name the ones shown in messages.
    suffix_pattern: str = ""
    # What `names` and `suffix_pattern` take, in words for a message ("a project's notes: README …").
    also_reads: str = ""

    def __post_init__(self) -> None:
        bad = [s for s in self.suffixes if not s.startswith(".") or s != s.lower()]
        if bad or not self.suffixes:
            raise ValueError(f"reader {self.name!r}: suffixes must be lower case and start with '.', not {bad}")
        if any(name != name.lower() or "." in name for name in self.names):
            raise ValueError(f"reader {self.name!r}: names must be lower case, without a dot")
        object.__setattr__(self, "suffixes", frozenset(self.suffixes))
        object.__setattr__(self, "names", frozenset(self.names))


_readers: list[Reader] = []  # in registration order; a later reader of a suffix wins over an earlier one


def register(reader: Reader) -> Reader:
    """Make `reader` the one for its suffixes (over any registered before it)."""
    _readers.append(reader)
    return reader


def unregister(reader: Reader) -> None:
    """Forget `reader`; a reader it had overridden is used again."""
    _readers.remove(reader)


@contextmanager
def registered(reader: Reader) -> Iterator[Reader]:
    """`reader` registered for the duration of a `with` block (tests, one-off tools)."""
    register(reader)
    try:
        yield reader
    finally:
        unregister(reader)


def reader_for(path: Path | str) -> Reader | None:
    """The reader of this file's type, by suffix (case-insensitive; a compressed file's by the
    suffix of the name inside it), else by its name (README, NEWS.Debian), or None."""
    suffix = type_suffix(path)
    for reader in reversed(_readers):
        if suffix in reader.suffixes or reader.suffix_pattern and re.fullmatch(reader.suffix_pattern, suffix):
            return reader
    name, dot, rest = plain_name(path).partition(".")
    if dot and _is_a_type(rest):  # news.py, README.tar: a file of a type no reader reads
        return None
    for reader in reversed(_readers):
        if name.lower() in reader.names:
            return reader
    return None


def _is_a_type(suffix: str) -> bool:
    """Whether a suffix names a file type ("py", "tar") rather than a variant ("Debian", "old")."""
    import mimetypes

    return any(mimetypes.guess_type(f"x.{suffix}")[:2])


def readers() -> list[Reader]:
    """The registered readers, the one that wins for a suffix last."""
    return list(_readers)


def supported_suffixes() -> frozenset[str]:
    return frozenset(suffix for reader in _readers for suffix in reader.suffixes)


def supported_types() -> str:
    """What is read, for a message: ".docx .html … .txt; a project's notes (README, NEWS …); …;
    each also compressed (.gz .bz2 .xz)"."""
    also = "".join(f"; {reader.also_reads}" for reader in _readers if reader.also_reads)
    return f"{' '.join(sorted(supported_suffixes()))}{also}; each also compressed ({' '.join(COMPRESSIONS)})"


def memory_reason(limits: ReadLimits) -> str:
    return f"it needs more than {limits.max_memory_bytes >> 20} MiB to read"


def read_here(reader: Reader, path: Path, limits: ReadLimits) -> ParsedFile:
    """`reader.read` in this process (of the bytes inside, for a compressed file, unpacked up to
    `limits.max_file_bytes`); whatever the parser raises becomes UnreadableFile."""
    if compression(path):
        import tempfile

        with tempfile.TemporaryDirectory(prefix="qa-unpacked-") as folder:
            inside = Path(folder) / plain_name(path)
            unpack(path, inside, limits.max_file_bytes)
            return read_here(reader, inside, limits)
    try:
        return reader.read(path, limits)
    except UnreadableFile:
        raise
    except MemoryError:
        raise UnreadableFile(memory_reason(limits)) from None
    except Exception as error:  # parsers raise many kinds; any of them means "cannot read"
        raise UnreadableFile(f"cannot parse {path.suffix.lower()} file: {error}") from error
