"""The commit point of an index: `manifest.json` names the model, the live segments and what was
deleted from each. It is replaced atomically (write, fsync, rename), so a reader always reads one
whole generation.

The models are plain dataclasses, read and written with msgspec, which checks each field's type as
pydantic did, without importing pydantic for every question asked at the terminal.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from qa.errors import IndexMismatch, IndexNotFound, QAError

logger = logging.getLogger(__name__)

FORMAT_VERSION = 2
MANIFEST_FILE = "manifest.json"
SOURCES_FOLDER = "sources"  # what each web source's last crawl found (validators, hashes, links), one file per URL
# Files of the first format, one database and one vector file for the whole index.
FORMAT_1_FILES = ("passages.sqlite", "vectors.faiss", "bm25")


record = dataclass(kw_only=True)  # made by keyword, as the manifest names its fields


def utc_now() -> datetime:
    """Now in UTC, to the second: the one clock of manifests, keys and feedback."""
    return datetime.now(UTC).replace(microsecond=0)


@record
class ModelInfo:
    name: str
    dimension: int
    max_tokens: int
    quantized: bool = False
    # What the passages are embedded in where not int8: "float32", or "bfloat16" (embeddings.bf16),
    # chosen when the index is made; questions are float32 either way.
    passage_precision: str = "float32"


@record
class SegmentInfo:
    """A live segment: immutable once written; deletions are marks here until it is merged away."""

    name: str
    documents: int
    passages: int
    deleted_documents: list[str] = field(default_factory=list)
    deleted_passages: int = 0

    @property
    def live_passages(self) -> int:
        return self.passages - self.deleted_passages


@record
class Counts:
    documents: int = 0
    passages: int = 0


@record
class SkippedFile:
    """A file an index run passed over, and why (unsupported, unreadable, over a limit)."""

    path: str
    reason: str


# The skipped files a manifest keeps (the first by path); `qa index` itself prints them all.
MAX_SKIPPED_KEPT = 1000


@record
class SourceRecord:
    """A source the index keeps in line with: a folder (`location`: its absolute path) or a web
    address (`location`: the URL as given), with the settings it was indexed with; `qa index
    --index DIR` with no paths syncs each again."""

    kind: str  # "folder" or "web"
    location: str
    settings: dict = field(default_factory=dict)
    last_sync: datetime | None = None


@record
class ChromeRecord:
    """The site chrome last learnt for a folder or site (`qa.ingest.chrome`): the keys of its
    blocks repeated across pages, and the sample of pages they were learnt from (a digest of their
    identities and versions), so a run whose sample is unchanged does not read it again, and how
    many pages the folder or site listed then (a watcher's run lists only what changed)."""

    sample: str
    listed: int = 0
    keys: list[str] = field(default_factory=list)


@record
class Manifest:
    format_version: int = FORMAT_VERSION
    generation: int = 0
    model: ModelInfo
    faiss_version: str
    created: datetime
    updated: datetime
    chunking: dict
    counts: Counts = field(default_factory=Counts)
    next_passage_id: int = 0
    roots: list[str] = field(default_factory=list)
    segments: list[SegmentInfo] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)  # by the runs that last looked at them
    sources: list[SourceRecord] = field(default_factory=list)
    chrome: dict[str, ChromeRecord] = field(default_factory=dict)  # by root (a folder, a site)


def rebuild_hint(index_dir: Path, roots: list[str] | None = None) -> str:
    return f"qa index {' '.join(roots) if roots else 'FOLDER'} --index {index_dir} --rebuild"


def manifest_signature(index_dir: Path) -> tuple[int, int, int] | None:
    """What changes whenever a generation is committed (the manifest file is replaced)."""
    try:
        stat = os.stat(index_dir / MANIFEST_FILE)
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


def read_manifest(index_dir: Path) -> Manifest:
    """The current generation's manifest; missing, unreadable or old ones raise a clear QAError."""
    path = index_dir / MANIFEST_FILE
    if not index_dir.exists():
        raise IndexNotFound(f"No index at {index_dir}. Create one with: qa index FOLDER --index {index_dir}")
    if not path.exists():
        raise IndexMismatch(
            f"{index_dir} is not a qa index (no {MANIFEST_FILE}). Create one with: {rebuild_hint(index_dir)}"
        )
    import msgspec

    try:
        raw = msgspec.json.decode(path.read_bytes())
        version = raw.get("format_version", 1)
        if version != FORMAT_VERSION:
            raise IndexMismatch(
                f"The index at {index_dir} has an older format ({version}) than this qa reads ({FORMAT_VERSION}). "
                f"Rebuild it: {rebuild_hint(index_dir, list(raw.get('roots') or []))}"
            )
        return msgspec.convert(raw, Manifest)
    except (msgspec.MsgspecError, ValueError, OSError, AttributeError) as error:
        raise IndexMismatch(
            f"The index manifest {path} is unreadable ({type(error).__name__}). Rebuild it: {rebuild_hint(index_dir)}"
        ) from error


def is_current(index_dir: Path, chunking: dict | None = None) -> bool:
    """Whether `index_dir` holds an index this qa reads (cut with `chunking`, when given) and so
    need not be built again; why not is logged."""
    try:
        manifest = read_manifest(index_dir)
    except QAError as error:
        logger.info("%s is not a current index (%s)", index_dir, error)
        return False
    if chunking is not None and manifest.chunking != chunking:
        logger.info("%s was indexed with other chunking settings", index_dir)
        return False
    return True


def indexed_from(index_dir: Path, folder: Path) -> bool:
    """Whether `index_dir` holds an index this qa reads with `folder` among the folders indexed into it."""
    try:
        return str(folder.resolve()) in read_manifest(index_dir).roots
    except QAError:
        return False


# write_manifest's file, `.manifest.json.<pid>.tmp`, until it is renamed into place
_UNPUBLISHED_PREFIX, _UNPUBLISHED_SUFFIX = f".{MANIFEST_FILE}.", ".tmp"


def is_unpublished_manifest(name: str) -> bool:
    """A manifest being written (or left by a crash before its rename): not yet the index's, but ours."""
    return name.startswith(_UNPUBLISHED_PREFIX) and name.endswith(_UNPUBLISHED_SUFFIX)


def write_manifest(index_dir: Path, manifest: Manifest) -> None:
    """Publish a generation: the new manifest is complete on disk before it replaces the old one."""
    import msgspec

    temporary = index_dir / f"{_UNPUBLISHED_PREFIX}{os.getpid()}{_UNPUBLISHED_SUFFIX}"
    with temporary.open("wb") as handle:
        handle.write(msgspec.json.format(msgspec.json.encode(manifest), indent=2))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, index_dir / MANIFEST_FILE)
    fsync_folder(index_dir)


def fsync_folder(folder: Path) -> None:
    """Make a rename or a new file in `folder` durable."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
