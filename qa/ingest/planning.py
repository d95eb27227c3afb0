"""Planning a write: which items of a source are new or changed (by version), which documents are
gone, and the report of what a write did. Reading a planned item goes through its source.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from qa.errors import UnreadableFile
from qa.events import OnProgress, ignore
from qa.ingest.chrome import learn_chrome, mark_chrome
from qa.ingest.documents import Document, Skipped, make_doc_id
from qa.ingest.limits import DEFAULT_READ_LIMITS, ReadLimits
from qa.ingest.sources import SourceItem, SourceScan
from qa.store import IndexWriter

logger = logging.getLogger(__name__)

NAMES_SHOWN = 5  # removed documents named in a report, before "and N more"
Change = Literal["added", "updated", "unchanged", "moved"]


@dataclass
class IndexReport:
    index_dir: Path
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    passages: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    removed_sources: list[str] = field(default_factory=list)
    kept: list[Skipped] = field(default_factory=list)  # not reached now, with why: the indexed version stays
    moved: int = 0  # renamed or moved files with the same content: placed anew, not embedded again
    ignored: int = 0  # files a folder's .qaignore left out
    moved_sources: list[tuple[str, str]] = field(default_factory=list)  # (from, to)
    generation: int = 0
    segments: int = 0
    vectors: str = "float32"  # what the index's passages are embedded in: float32, bfloat16 or int8
    files: dict[str, tuple[str, Change]] = field(default_factory=dict)  # identity → (doc_id, change)
    limits: ReadLimits = field(default=DEFAULT_READ_LIMITS, repr=False)  # what `read_file` may spend on one file

    def count_read(self, file) -> None:
        """A planned file was read: one more document updated or added."""
        self.updated += file.replaces
        self.added += not file.replaces

    @property
    def summary(self) -> str:
        moved = f", moved {self.moved}" if self.moved else ""
        ignored = f" · {self.ignored} left out by .qaignore" if self.ignored else ""
        return (
            f"added {self.added}, updated {self.updated}, removed {self.removed}{moved}, unchanged {self.unchanged}"
            + ignored
        )

    @property
    def removed_names(self) -> str:
        """The removed documents by name, the first few, then a count."""
        names = ", ".join(self.removed_sources[:NAMES_SHOWN])
        more = len(self.removed_sources) - NAMES_SHOWN
        return names + (f" and {more} more" if more > 0 else "")


@dataclass(frozen=True)
class FileToRead:
    """A new or changed item of a source (a file, today), its version when planned, and the id its
    document gets (`replaces`: an update, not an addition). `chrome`: the keys of the blocks
    repeated across its folder's or site's pages, left out of its passages (`qa.ingest.chrome`);
    `sampled`: its document, when it was read to learn them."""

    item: SourceItem
    version: str
    doc_id: str
    replaces: bool
    chrome: frozenset[str] = frozenset()
    sampled: Document | None = None


def plan_files(writer: IndexWriter, scan: SourceScan, report: IndexReport) -> list[FileToRead]:
    """The items of a source's scan to read (new, or changed since they were indexed: by version,
    a content hash for files), each with its doc_id reserved; documents gone from at or below the
    scan's roots are marked deleted. A new item with the very content of a gone document is that
    document moved (a renamed file): its passages and vectors are kept, only its place changes."""
    files: list[FileToRead] = []
    new: list[tuple[SourceItem, str]] = []
    seen: set[str] = set()
    for item in scan.items:
        identity = item.identity
        seen.add(identity)
        version = item.version()
        existing = writer.find(identity)
        if existing and existing[1] == version:
            report.unchanged += 1
            report.files[identity] = (existing[0], "unchanged")
        elif existing:
            writer.reserve(existing[0])
            report.files[identity] = (existing[0], "updated")
            files.append(FileToRead(item, version, existing[0], replaces=True))
        else:
            new.append((item, version))
    gone: dict[str, tuple[str, str]] = {}  # doc_id → (source path, version) of documents no longer listed
    for root in scan.roots:
        at = writer.find(root)
        for doc_id, source in writer.documents_under(root) + ([(at[0], root)] if at else []):
            if source not in seen and doc_id not in gone:
                gone[doc_id] = (source, (writer.find(source) or ("", ""))[1])
    by_version: dict[str, list[str]] = {}
    for doc_id, (_, version) in gone.items():
        by_version.setdefault(version, []).append(doc_id)
    moves = []
    for item, version in new:
        if by_version.get(version):
            doc_id = by_version[version].pop()
            moves.append((doc_id, *item.place()))
            report.moved_sources.append((gone.pop(doc_id)[0], item.identity))
            report.files[item.identity] = (doc_id, "moved")
            continue
        doc_id = make_doc_id(Path(item.name), writer)
        writer.reserve(doc_id)
        report.files[item.identity] = (doc_id, "added")
        files.append(FileToRead(item, version, doc_id, replaces=False))
    if moves:
        writer.move(moves)
    report.moved = len(report.moved_sources)
    for doc_id, (source, _) in gone.items():
        if writer.delete(doc_id):
            report.removed_sources.append(source)
    report.removed = len(report.removed_sources)
    return files


def with_chrome(
    files: list[FileToRead], scan: SourceScan, writer: IndexWriter, limits: ReadLimits, on_progress: OnProgress = ignore
) -> list[FileToRead]:
    """`files` with the chrome of their folder or site, learnt from a sample of all its pages (and
    kept in the manifest the writer commits)."""
    if not files:
        return files
    read: dict[str, Document] = {}
    roots = [file.item.place()[0] for file in files]
    chrome = learn_chrome(scan.items, set(roots), limits, writer.manifest.chrome, read, on_progress)
    return [
        replace(file, chrome=chrome[root], sampled=read.get(file.item.identity)) for file, root in zip(files, roots)
    ]


def read_file(file: FileToRead, report: IndexReport) -> Document | None:
    """The item's document with its chrome marked, counted as added or updated; None (and a
    skipped entry) when unreadable."""
    try:
        if file.sampled is not None:
            document = replace(file.sampled, doc_id=file.doc_id, sha256=file.version)
        else:
            document = file.item.read(file.doc_id, file.version, report.limits)
    except UnreadableFile as error:
        logger.info("skipped %s: %s", file.item.identity, error)
        report.skipped.append(Skipped(file.item.identity, str(error)))
        report.files.pop(file.item.identity, None)
        return None
    report.count_read(file)
    return mark_chrome(document, file.chrome)
