"""What a segment stores of documents and passages, as records: written by the writer, read back by
snapshots, looked at by filters. Plain data: no file or SQL here (qa/store/segment.py has those)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from qa.compressed import type_suffix


@dataclass(frozen=True)
class DocumentRecord:
    """A document as a segment stores it; `path` (root/source) identifies the file it came from."""

    doc_id: str
    root: str
    source: str
    title: str
    text: str
    sha256: str
    page_starts: list[int] | None = None
    modified: float | None = None
    tags: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        return document_path(self.root, self.source)

    @property
    def kind(self) -> str:
        path = urlsplit(self.source).path if "://" in self.source else self.source
        return type_suffix(path).lstrip(".")


@dataclass(frozen=True)
class PassageRecord:
    id: int
    doc_id: str
    ordinal: int
    start: int
    end: int
    page: int | None
    text: str
    section: tuple[str, ...] = ()  # the headings above it, outermost first (qa.ingest.sections)
    ocr: bool = False  # its text was recognised from an image (a scanned page)


@dataclass(frozen=True)
class StoredPassage:
    """A passage read back with what an answer shows of its document."""

    id: int
    doc_id: str
    start: int
    end: int
    page: int | None
    text: str
    title: str
    source: str
    section: tuple[str, ...] = ()
    sha256: str = ""  # of the document's file as indexed
    ocr: bool = False


@dataclass(frozen=True)
class DocumentFacts:
    """What filters look at of a document (qa.search.filters)."""

    doc_id: str
    path: str
    source: str
    kind: str
    modified: float | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class StoredDocument:
    doc_id: str
    root: str
    source: str
    title: str
    sha256: str
    passages: int
    pages: int | None
    text: str | None = None
    kind: str = ""
    modified: float | None = None
    tags: tuple[str, ...] = ()
    chars: int | None = None  # the length of its stored text

    @property
    def path(self) -> str:
        """The file it came from, as filters see it (DocumentFacts.path)."""
        return document_path(self.root, self.source)


def document_path(root: str, source: str) -> str:
    """Where a document came from: its file's path, or a web page's URL (which its source is)."""
    if "://" in source:
        return source
    return f"{root.rstrip('/')}/{source}"


def searchable_text(title: str, passage: str, section: Sequence[str] = ()) -> str:
    """What the model embeds and BM25 indexes for a passage: its document's title and the
    headings above it help place it (a passage without a section path reads as it always has)."""
    place = " › ".join(part for part in (title, *section) if part)
    return f"{place}\n{passage}" if place else passage
