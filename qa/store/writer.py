"""The one writer of an index: changes become one new segment plus deletion marks, published as a
new generation by replacing the manifest; small segments are merged by a size-tiered policy.

Crash safety comes from the order of writes: a segment is complete on disk (fsync, rename) before
a manifest names it, and the manifest is replaced atomically. Anything a crash leaves behind that
no manifest names is removed by the next writer.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from copy import deepcopy
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa.config import DEFAULT_WAIT
from qa.errors import ModelMismatch, NotAnIndex
from qa.store.lock import LOCK_FILE, WriterLock
from qa.store.manifest import (
    FORMAT_1_FILES,
    MANIFEST_FILE,
    Counts,
    Manifest,
    SegmentInfo,
    SourceRecord,
    is_unpublished_manifest,
    read_manifest,
    utc_now,
    write_manifest,
)
from qa.store.merge_policy import DEFAULT_MERGE_POLICY, MergePolicy
from qa.store.segment import (
    SEGMENTS_FOLDER,
    DocumentRecord,
    PassageRecord,
    Segment,
    StoredDocument,
    document_path,
    write_segment,
)
from qa.store.snapshot import Snapshot

logger = logging.getLogger(__name__)


def is_index_or_empty(index_dir: Path) -> bool:
    """We only ever write into an index folder or an empty one, never a folder of the user's files."""
    if not index_dir.exists():
        return True
    if not index_dir.is_dir():
        return False
    # A new index another writer is building (its first manifest may be being written), or a crash left.
    ours = {LOCK_FILE, SEGMENTS_FOLDER}
    return (index_dir / MANIFEST_FILE).exists() or all(
        p.name in ours or is_unpublished_manifest(p.name) for p in index_dir.iterdir()
    )


class IndexWriter:
    """Holds the write lock from `open` to `close`; nothing is visible to readers before `commit`."""

    def __init__(
        self, index_dir: Path, manifest: Manifest, lock: WriterLock, rebuild: bool, policy: MergePolicy
    ) -> None:
        self.index_dir = index_dir
        self.manifest = manifest
        self.lock = lock
        self.policy = policy
        self._segments: dict[str, Segment] = {}
        self.snapshot = Snapshot.open(index_dir, self._segments, load=False) if not rebuild else None
        self._new: list[SegmentInfo] = []
        self._deleted: dict[str, set[str]] = {}  # segment name → doc ids deleted in this session
        self._pending_ids: set[str] = set()

    @classmethod
    def open(
        cls,
        index_dir: Path,
        fresh: Manifest,
        rebuild: bool = False,
        wait: float = DEFAULT_WAIT,
        policy: MergePolicy = DEFAULT_MERGE_POLICY,
        lock: WriterLock | None = None,
    ) -> IndexWriter:
        """Lock the index and read its current generation; a new or rebuilt index starts from `fresh`.
        `policy` chooses the segments merged at each commit. `lock` is one the caller already holds
        for a longer transaction (then `wait` is its own); the writer re-enters it. A new index
        folder is the owner's alone (0o700)."""
        if not is_index_or_empty(index_dir):
            raise NotAnIndex(f"{index_dir} exists and is not a qa index; choose another --index folder.")
        index_dir.parent.mkdir(parents=True, exist_ok=True)
        index_dir.mkdir(mode=0o700, exist_ok=True)
        lock = lock or WriterLock(index_dir, wait)
        lock.acquire()
        try:
            if not is_index_or_empty(index_dir):
                raise NotAnIndex(f"{index_dir} exists and is not a qa index; choose another --index folder.")
            exists = (index_dir / MANIFEST_FILE).exists()
            if exists and not rebuild:
                writer = cls(index_dir, read_manifest(index_dir), lock, False, policy)
                writer.remove_unused_files()
                return writer
            manifest = _carry_over(index_dir, deepcopy(fresh)) if exists else deepcopy(fresh)
            return cls(index_dir, manifest, lock, True, policy)
        except BaseException:
            lock.release()
            raise

    def __enter__(self) -> IndexWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Release the lock; segments written but not committed are removed by the next writer."""
        for segment in self._segments.values():
            segment.close()
        self._segments.clear()
        self.lock.release()

    # What is there -----------------------------------------------------------------------------

    def find(self, path: str) -> tuple[str, str] | None:
        """(doc_id, sha256) of the live document read from the file at `path`."""
        for _, document in self._documents_at(path, under=False):
            return document.doc_id, document.sha256
        return None

    def documents_under(self, folder: str) -> list[tuple[str, str]]:
        """(doc_id, source path) of each live document read from a file below `folder`."""
        return [(d.doc_id, document_path(d.root, d.source)) for _, d in self._documents_at(folder, under=True)]

    def _documents_at(self, path: str, under: bool):
        if self.snapshot is None:
            return []
        return [
            (segment.name, document)
            for segment, document in self.snapshot.documents_at(path, under)
            if document.doc_id not in self._deleted.get(segment.name, ())
        ]

    def has_document(self, doc_id: str) -> bool:
        """Is `doc_id` taken by a live document or one being added (new ids must differ)?"""
        return doc_id in self._pending_ids or self._live(doc_id) is not None

    __contains__ = has_document

    def reserve(self, doc_id: str) -> None:
        """Claim an id for a document about to be added, so no other new document takes it."""
        self._pending_ids.add(doc_id)

    def source_of(self, doc_id: str) -> str:
        """The file path a live document was read from."""
        found = self._live(doc_id)
        return document_path(found[1].root, found[1].source) if found else doc_id

    def _live(self, doc_id: str) -> tuple[str, StoredDocument] | None:
        """(segment name, document) of the live document with this id, deletions of this session included."""
        if self.snapshot is None:
            return None
        for segment in self.snapshot.segments:
            if doc_id in self.snapshot.deleted[segment.name] or doc_id in self._deleted.get(segment.name, ()):
                continue
            for document in segment.documents(doc_id=doc_id):
                return segment.name, document
        return None

    # Changes -----------------------------------------------------------------------------------

    def delete(self, doc_id: str) -> bool:
        """Mark a live document deleted; False when there is none with that id."""
        found = self._live(doc_id)
        if found is None:
            return False
        self._deleted.setdefault(found[0], set()).add(doc_id)
        return True

    def add(self, documents: Sequence[DocumentRecord], passages: Sequence[PassageRecord], vectors: np.ndarray) -> None:
        """Write new documents as one segment. Passage ids are assigned here (`passages[i].id` is
        ignored); a document whose id is live is replaced."""
        if not documents:
            return
        for document in documents:
            self.delete(document.doc_id)
        first = self.manifest.next_passage_id
        numbered = [
            PassageRecord(first + i, p.doc_id, p.ordinal, p.start, p.end, p.page, p.text, p.section, p.ocr)
            for i, p in enumerate(passages)
        ]
        self.manifest.next_passage_id = first + len(numbered)
        self._new.append(write_segment(self.index_dir, _segment_name(self.manifest), documents, numbered, vectors))
        self._pending_ids.update(document.doc_id for document in documents)

    def move(self, moves: Sequence[tuple[str, str, str, float | None]]) -> int:
        """Give live documents a new place, (doc_id, root, source, modified) each, keeping their
        passages and vectors (a renamed file whose content is unchanged is not embedded again):
        they are copied into one new segment and the old copies marked deleted. Returns how many
        were moved (a doc_id no longer live is passed over)."""
        documents: list[DocumentRecord] = []
        passages: list[PassageRecord] = []
        vectors = []
        for doc_id, root, source, modified in moves:
            found = self._live(doc_id)
            if found is None:
                continue
            segment = self._segments.get(found[0]) or Segment(self.index_dir / SEGMENTS_FOLDER / found[0])
            self._segments[found[0]] = segment
            docs, rows = segment.records(exclude=set(), only=doc_id)
            documents += [replace(d, root=root, source=source, modified=modified) for d in docs]
            passages += rows
            vectors.append(segment.vectors.vectors(np.array([p.id for p in rows], dtype=np.int64)))
        if documents:
            matrix = np.concatenate(vectors) if vectors else np.zeros((0, self.manifest.model.dimension))
            self.add(documents, passages, matrix.astype(np.float32, copy=False))
        return len(documents)

    @property
    def has_changes(self) -> bool:
        return bool(self._new or any(self._deleted.values())) or self.snapshot is None

    def commit(
        self, roots: Sequence[str] = (), compact: bool = False, sources: Sequence[SourceRecord] = ()
    ) -> Manifest:
        """Publish the changes as one generation; merge per the policy (`compact`: into one segment).
        `sources`: synced now, recorded (replacing the record of the same kind and location)."""
        manifest = self.manifest
        segments = []
        for info in manifest.segments if self.snapshot is not None else []:
            deleted = self._deleted.get(info.name, set())
            if deleted:
                removed = len(self._segments[info.name].passage_ids_of(sorted(deleted)))
                info = replace(
                    info,
                    deleted_documents=sorted(set(info.deleted_documents) | deleted),
                    deleted_passages=info.deleted_passages + removed,
                )
            if info.live_passages > 0 or info.documents > len(info.deleted_documents):
                segments.append(info)
        segments += self._new
        if compact and (len(segments) > 1 or any(s.deleted_documents for s in segments)):
            segments = [self._merge(segments)]
        else:
            segments = self._merge_by_policy(segments)
        manifest.segments = segments
        manifest.generation += 1
        manifest.updated = utc_now()
        manifest.roots = sorted(set(manifest.roots) | set(roots))
        synced = {(source.kind, source.location) for source in sources}
        manifest.sources = [s for s in manifest.sources if (s.kind, s.location) not in synced] + list(sources)
        manifest.counts = Counts(
            documents=sum(s.documents - len(s.deleted_documents) for s in segments),
            passages=sum(s.live_passages for s in segments),
        )
        write_manifest(self.index_dir, manifest)
        self._new, self._deleted = [], {}
        self.remove_unused_files()
        self._reopen()
        return manifest

    def _reopen(self) -> None:
        """After a commit, the committed generation is what this writer changes next: a long write
        commits several times (IndexOptions.flush_passages), and a new or rebuilt index must keep
        the segments its earlier commits named. Segments merged away are closed."""
        named = {info.name for info in self.manifest.segments}
        for name in [name for name in self._segments if name not in named]:
            self._segments.pop(name).close()
        self.snapshot = Snapshot.open(self.index_dir, self._segments, load=False)

    def _merge_by_policy(self, segments: list[SegmentInfo]) -> list[SegmentInfo]:
        while group := self.policy.next_merge(segments):
            merged = self._merge(group)
            position = segments.index(group[0])
            segments = [s for s in segments if s not in group]
            segments.insert(min(position, len(segments)), merged)
        return segments

    def _merge(self, group: list[SegmentInfo]) -> SegmentInfo:
        """One segment holding the live documents of `group`, with the same passage ids and vectors.

        Rows are read from the source segments as the new one is written (`MergedRows`), and
        vectors copied a chunk at a time (`merged_vectors`): a merge at the cap (2M passages) holds
        its vectors and postings, not every passage's text."""
        segments = []
        for info in group:
            segment = self._segments.get(info.name) or Segment(self.index_dir / SEGMENTS_FOLDER / info.name)
            self._segments[info.name] = segment
            segments.append((segment, set(info.deleted_documents)))
        ids = [segment.passage_ids(exclude) for segment, exclude in segments]
        order = np.argsort(np.concatenate(ids) if ids else np.zeros(0, np.int64), kind="stable")
        matrix = merged_vectors(
            [(segment.vectors, found) for (segment, _), found in zip(segments, ids)],
            order,
            self.manifest.model.dimension,
        )
        return write_segment(
            self.index_dir,
            _segment_name(self.manifest),
            MergedRows(lambda: itertools.chain(*(s.document_records(exclude) for s, exclude in segments))),
            MergedRows(lambda: heapq.merge(*(s.passage_records(exclude) for s, exclude in segments), key=_passage_id)),
            matrix,
        )

    def remove_unused_files(self) -> None:
        """Remove segments no manifest names (merged away, or left by a crash) and first-format
        files. Readers keep what they opened: an open file outlives its name."""
        named = {info.name for info in self.manifest.segments}
        folder = self.index_dir / SEGMENTS_FOLDER
        if folder.exists():
            for path in folder.iterdir():
                if path.name not in named:
                    shutil.rmtree(path, ignore_errors=True)
        for name in FORMAT_1_FILES:
            path = self.index_dir / name
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink()
        for path in self.index_dir.glob(f".{MANIFEST_FILE}.*.tmp"):
            path.unlink(missing_ok=True)


class MergedRows:
    """Rows read from the merged segments again at each iteration: `write_segment` goes over
    them several times, and never needs them all at once."""

    def __init__(self, rows: Callable[[], Iterator]) -> None:
        self.rows = rows

    def __iter__(self) -> Iterator:
        return iter(self.rows())


def _passage_id(passage: PassageRecord) -> int:
    return passage.id


def merged_vectors(sources, order: np.ndarray, dimension: int) -> np.ndarray:
    """The vectors of merged segments, `sources` ((vector index, ids) each) concatenated then put in
    `order`, copied into one matrix a chunk at a time: the merge holds that matrix and one chunk,
    not each segment's vectors and two copies of all of them (a merge of two 1M segments ran out
    of 24 GB). Float16 when every source is compressed (it keeps float16 rows, so nothing is lost),
    else float32."""
    compressed = bool(sources) and all(vectors.is_compressed for vectors, _ in sources)
    total = sum(len(ids) for _, ids in sources)
    matrix = np.empty((total, dimension), dtype=np.float16 if compressed else np.float32)
    destination = np.empty(total, dtype=np.int64)
    destination[order] = np.arange(total)
    start = 0
    for vectors, ids in sources:
        for begin in range(0, len(ids), MERGE_CHUNK):
            chunk = ids[begin : begin + MERGE_CHUNK]
            matrix[destination[start + begin : start + begin + len(chunk)]] = vectors.vectors(chunk)
        start += len(ids)
    return matrix


MERGE_CHUNK = 100_000  # vectors read from a merged segment at a time


def _carry_over(index_dir: Path, manifest: Manifest) -> Manifest:
    """A rebuilt index keeps counting generations and passage ids where the old one stopped, so a
    reader of the old generation can never mistake new ids for old ones."""
    try:
        old = json.loads((index_dir / MANIFEST_FILE).read_text(encoding="utf-8"))
        manifest.generation = int(old.get("generation", 0))
        manifest.next_passage_id = int(old.get("next_passage_id", 0))
        manifest.created = utc_now()
    except FileNotFoundError:
        pass  # a new index: nothing to carry over
    except (OSError, ValueError, TypeError) as error:
        logger.warning("The old manifest of %s cannot be read (%s); generations start again from 0", index_dir, error)
    return manifest


def _segment_name(manifest: Manifest) -> str:
    return f"{manifest.generation + 1:08d}-{uuid.uuid4().hex[:8]}"


def check_same_model(previous: Manifest, name: str, quantized: bool | None, hint: str) -> None:
    """An index holds vectors of one model and one kind; changing either needs a rebuild."""
    if name != previous.model.name:
        raise ModelMismatch(f"The index was built with {previous.model.name}, not {name}. Rebuild it: {hint}")
    if quantized is not None and quantized != previous.model.quantized:
        kind = "int8" if previous.model.quantized else "float32"
        raise ModelMismatch(f"The index holds {kind} vectors. Rebuild it to change that: {hint}")
