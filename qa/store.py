"""The index on disk: one folder holding a manifest, the passages (SQLite) and the FAISS vectors.

Every write happens in a temporary sibling folder that is renamed into place, so a crash leaves
either the old index or the new one, never half of each.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from qa.errors import IndexMismatch, IndexNotFound

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
PASSAGES_FILE = "passages.sqlite"
VECTORS_FILE = "vectors.faiss"
LEXICAL_FOLDER = "bm25"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, root TEXT NOT NULL, source TEXT NOT NULL, title TEXT NOT NULL,
    text TEXT NOT NULL, sha256 TEXT NOT NULL, page_starts TEXT
);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, page INTEGER,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS passages_by_doc ON passages(doc_id, ordinal);
"""


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class ModelInfo(BaseModel):
    name: str
    dimension: int
    max_tokens: int
    quantized: bool = False


class ManifestDocument(BaseModel):
    """What incremental indexing needs to know of a document without opening the passages."""

    root: str
    source: str
    sha256: str
    first_passage_id: int
    passages: int

    @property
    def passage_ids(self) -> range:
        return range(self.first_passage_id, self.first_passage_id + self.passages)


class Counts(BaseModel):
    documents: int = 0
    passages: int = 0


class Manifest(BaseModel):
    format_version: int = FORMAT_VERSION
    model: ModelInfo
    faiss_version: str
    created: datetime
    updated: datetime
    chunking: dict
    counts: Counts = Counts()
    next_passage_id: int = 0
    roots: list[str] = []
    documents: dict[str, ManifestDocument] = {}


def rebuild_hint(index_dir: Path, manifest: Manifest | None = None) -> str:
    roots = " ".join(manifest.roots) if manifest and manifest.roots else "FOLDER"
    return f"qa index {roots} --index {index_dir} --rebuild"


def read_manifest(index_dir: Path) -> Manifest:
    """The manifest of an index folder; missing or unreadable ones raise a clear QAError."""
    recover_interrupted_swap(index_dir)
    path = index_dir / MANIFEST_FILE
    if not index_dir.exists():
        raise IndexNotFound(f"No index at {index_dir}. Create one with: qa index FOLDER --index {index_dir}")
    if not path.exists():
        raise IndexMismatch(
            f"{index_dir} is not a qa index (no {MANIFEST_FILE}). Create one with: {rebuild_hint(index_dir)}"
        )
    try:
        manifest = Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except (ValidationError, ValueError, OSError) as error:
        raise IndexMismatch(
            f"The index manifest {path} is unreadable ({type(error).__name__}). Rebuild it: {rebuild_hint(index_dir)}"
        ) from error
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatch(
            f"The index at {index_dir} has format {manifest.format_version}, this qa reads {FORMAT_VERSION}. "
            f"Rebuild it: {rebuild_hint(index_dir, manifest)}"
        )
    return manifest


def write_manifest(folder: Path, manifest: Manifest) -> None:
    (folder / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")


def connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        connection = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    else:
        connection = sqlite3.connect(path)
        connection.executescript(_SCHEMA)
    connection.row_factory = sqlite3.Row
    return connection


class PassageReader:
    """Read-only access to the passages, one SQLite connection per thread."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._local = threading.local()

    @property
    def db(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = connect(self._path, read_only=True)
        return connection


class StagingFolder:
    """A temporary sibling folder, renamed over the index on `commit()`, removed otherwise."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".{index_dir.name}.tmp-", dir=index_dir.parent))

    def __enter__(self) -> StagingFolder:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.path.exists():
            shutil.rmtree(self.path, ignore_errors=True)

    def commit(self) -> None:
        for file in self.path.rglob("*"):
            if file.is_file():
                with file.open("rb") as handle:
                    os.fsync(handle.fileno())
        backup = self.index_dir.with_name(f".{self.index_dir.name}.old")
        if backup.exists():
            shutil.rmtree(backup)
        if self.index_dir.exists():
            os.rename(self.index_dir, backup)
        os.rename(self.path, self.index_dir)
        shutil.rmtree(backup, ignore_errors=True)


def recover_interrupted_swap(index_dir: Path) -> None:
    """If a crash fell between the two renames of a commit, put the previous index back."""
    backup = index_dir.with_name(f".{index_dir.name}.old")
    if not index_dir.exists() and (backup / MANIFEST_FILE).exists():
        os.rename(backup, index_dir)


def is_safe_target(index_dir: Path) -> bool:
    """We only ever replace an index folder or an empty one, never a folder of the user's files."""
    if not index_dir.exists():
        return True
    return index_dir.is_dir() and ((index_dir / MANIFEST_FILE).exists() or not any(index_dir.iterdir()))


def json_or_none(value) -> str | None:
    return None if value is None else json.dumps(value)
