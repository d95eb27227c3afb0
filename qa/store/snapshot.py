"""One generation of an index, opened for reading: every question is answered from one snapshot,
so its vectors, passages and documents always agree, whatever a writer commits meanwhile.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

import numpy as np

from embeddings.vector_index import IdSubset
from qa.errors import IndexMismatch
from qa.store.manifest import Manifest, SegmentInfo, manifest_signature, read_manifest, rebuild_hint
from qa.store.segment import SEGMENTS_FOLDER, DocumentFacts, Segment, StoredDocument, StoredPassage

OPEN_ATTEMPTS = 20


@dataclass
class PassageSubset:
    """Some live passages, per segment in snapshot order: their ids (ascending) and a mask over
    the segment's rows (what BM25 scores by). Search makes one from a filter; the store only
    searches within it."""

    ids: list[np.ndarray]
    rows: list[np.ndarray]
    subsets: dict[int, IdSubset] = field(default_factory=dict)  # per segment, made on first search

    @property
    def count(self) -> int:
        return sum(len(ids) for ids in self.ids)


POOL_MAX = 20_000  # vectors of an exact segment for it to join the pooled matrix


@dataclass(frozen=True)
class _Pool:
    members: set[str]
    ids: np.ndarray  # ascending
    matrix: np.ndarray  # row i is the vector of ids[i]
    live: np.ndarray | None


class Snapshot:
    """The live segments of one generation and what was deleted from them."""

    def __init__(self, index_dir: Path, manifest: Manifest, segments: list[Segment], signature) -> None:
        self.index_dir = index_dir
        self.manifest = manifest
        self.segments = segments
        self.signature = signature
        self.deleted = {segment.name: set(info.deleted_documents) for segment, info in zip(segments, manifest.segments)}
        self.deleted_ids = {
            segment.name: segment.passage_ids_of(sorted(self.deleted[segment.name]))
            for segment in segments
            if self.deleted[segment.name]
        }

    @classmethod
    def open(cls, index_dir: Path, cache: MutableMapping[str, Segment] | None = None, load: bool = True) -> Snapshot:
        """The current generation. A writer may remove a segment between our reading the manifest
        and opening it; then a newer manifest names what to open instead, so read it again."""
        cache = {} if cache is None else cache
        for _attempt in range(OPEN_ATTEMPTS):
            signature = manifest_signature(index_dir)
            manifest = read_manifest(index_dir)
            try:
                segments = [_open_segment(index_dir, info, cache, load) for info in manifest.segments]
            except FileNotFoundError as error:
                if manifest_signature(index_dir) == signature:
                    raise IndexMismatch(
                        f"The index at {index_dir} is damaged (missing {_within(index_dir, error.filename)}). "
                        f"Rebuild it: {rebuild_hint(index_dir, manifest.roots)}"
                    ) from error
                time.sleep(0.01)
                continue
            return cls(index_dir, manifest, segments, signature)
        raise IndexMismatch(f"The index at {index_dir} changed {OPEN_ATTEMPTS} times while it was being opened.")

    def is_current(self) -> bool:
        return manifest_signature(self.index_dir) == self.signature

    def damage(self, thorough: bool = False) -> str | None:
        """What is wrong with a segment of this generation (Segment.verify), or None."""
        return next(filter(None, (segment.verify(thorough) for segment in self.segments)), None)

    def live_rows(self, segment: Segment) -> np.ndarray | None:
        """Which rows of `segment` are live in this generation; None when none was deleted."""
        deleted = self.deleted_ids.get(segment.name)
        if deleted is None or not len(deleted):
            return None
        return ~np.isin(np.asarray(segment.ids), deleted)

    def passages_of_documents(self, keep: Callable[[DocumentFacts], bool]) -> PassageSubset:
        """The live passages of the documents `keep` lets through, worked out from every
        segment's documents table."""
        ids, rows = [], []
        for segment in self.segments:
            facts, document_of_row = segment.document_facts
            deleted = self.deleted[segment.name]
            passes = np.array([fact.doc_id not in deleted and keep(fact) for fact in facts], dtype=bool)
            mask = passes[document_of_row] if len(document_of_row) else np.zeros(0, dtype=bool)
            rows.append(mask)
            ids.append(np.asarray(segment.ids)[mask])
        return PassageSubset(ids, rows)

    @cached_property
    def _pool(self) -> _Pool | None:
        """Small exact segments pooled into one matrix: ten small segments then cost one scan
        instead of ten searches (docs/PERFORMANCE.md). Large segments are searched on their own."""
        members = [s for s in self.segments if not s.vectors.is_approximate and len(s.vectors) <= POOL_MAX]
        if len(members) < 2:
            return None
        pairs = [segment.vectors.flat_arrays() for segment in members]
        ids = np.concatenate([found_ids for found_ids, _ in pairs])
        order = np.argsort(ids, kind="stable")
        matrix = np.concatenate([matrix for _, matrix in pairs])[order]
        ids = ids[order]
        deleted = [self.deleted_ids[s.name] for s in members if s.name in self.deleted_ids]
        live = ~np.isin(ids, np.concatenate(deleted)) if deleted else None
        return _Pool({segment.name for segment in members}, ids, matrix, live)

    def search_vectors(self, query: np.ndarray, n: int, allowed: PassageSubset | None = None) -> np.ndarray:
        """Ids of the `n` live passages nearest to `query`, over every segment; with `allowed`,
        among those passages only (filtered inside the search, so `n` come back if they exist)."""
        scores, ids = [], []
        pool = self._pool if allowed is None else None
        if pool is not None and len(pool.ids):
            pooled = pool.matrix @ query
            if pool.live is not None:
                pooled[~pool.live] = -np.inf
            top = np.argpartition(-pooled, min(n, len(pooled)) - 1)[:n]
            top = top[np.isfinite(pooled[top])]
            scores.append(pooled[top])
            ids.append(pool.ids[top])
        searches = []
        for position, segment in enumerate(self.segments):
            if pool is not None and segment.name in pool.members:
                continue
            if allowed is not None:
                if not len(allowed.ids[position]):
                    continue
                if position not in allowed.subsets:
                    allowed.subsets[position] = IdSubset(allowed.ids[position])
                searches.append((segment, allowed.subsets[position], None))
                continue
            deleted = self.deleted_ids.get(segment.name, np.zeros(0, dtype=np.int64))
            if len(segment.vectors) > len(deleted):
                searches.append((segment, None, deleted))
        if sum(segment.vectors.is_approximate for segment, _, _ in searches) >= 2:
            found = list(_segment_threads().map(lambda search: _search_one(query, n, *search), searches))
        else:
            found = [_search_one(query, n, *search) for search in searches]
        for found_scores, found_ids in found:
            scores.append(found_scores)
            ids.append(found_ids)
        if not ids:
            return np.zeros(0, dtype=np.int64)
        scores_all, ids_all = np.concatenate(scores), np.concatenate(ids)
        return ids_all[np.argsort(-scores_all, kind="stable")[:n]]

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of these passage ids, in their order."""
        ids = np.asarray(ids, dtype=np.int64)
        result = np.zeros((len(ids), self.manifest.model.dimension), dtype=np.float32)
        pool = self._pool
        if pool is not None and len(pool.ids) and len(ids):
            positions = np.clip(np.searchsorted(pool.ids, ids), 0, len(pool.ids) - 1)
            pooled = pool.ids[positions] == ids
            result[pooled] = pool.matrix[positions[pooled]]
        for segment in self.segments:
            if pool is not None and segment.name in pool.members:
                continue
            mine = segment.contains(ids)
            if mine.any():
                result[mine] = segment.vectors.vectors(ids[mine])
        return result

    def passages(self, ids: Sequence[int]) -> dict[int, StoredPassage]:
        """Live passages by id, with their document's title and source."""
        wanted = np.asarray(sorted({int(i) for i in ids}), dtype=np.int64)
        found: dict[int, StoredPassage] = {}
        for segment in self.segments:
            mine = wanted[segment.contains(wanted)] if len(wanted) else wanted
            deleted = self.deleted[segment.name]
            for passage in segment.passages(mine.tolist()):
                if passage.doc_id not in deleted:
                    found[passage.id] = passage
        return found

    def documents(self) -> list[StoredDocument]:
        found = [
            document
            for segment in self.segments
            for document in segment.documents()
            if document.doc_id not in self.deleted[segment.name]
        ]
        return sorted(found, key=lambda document: (document.source, document.doc_id))

    def document(self, doc_id: str) -> StoredDocument | None:
        for segment in reversed(self.segments):
            if doc_id in self.deleted[segment.name]:
                continue
            for document in segment.documents(with_text=True, doc_id=doc_id):
                return document
        return None

    def text_span(self, doc_id: str, start: int, end: int) -> str | None:
        """The live document's stored text from `start` to `end` (character offsets)."""
        return self._in_live_segment(doc_id, lambda segment: segment.text_span(doc_id, start, end))

    def passage_count(self, doc_id: str) -> int:
        """How many passages the live document `doc_id` has: how long it is, in the index's units."""
        return self._in_live_segment(doc_id, lambda segment: segment.passage_count(doc_id) or None) or 0

    def passage_at(self, doc_id: str, start: int, end: int) -> StoredPassage | None:
        """The live passage of `doc_id` at exactly start–end (its page and section), if any."""
        return self._in_live_segment(doc_id, lambda segment: segment.passage_at(doc_id, start, end))

    def _in_live_segment(self, doc_id: str, read):
        """`read(segment)` of the newest segment where `doc_id` is live and `read` finds something."""
        for segment in reversed(self.segments):
            if doc_id not in self.deleted[segment.name]:
                found = read(segment)
                if found is not None:
                    return found
        return None

    def documents_at(self, path: str, under: bool = False) -> list[tuple[Segment, StoredDocument]]:
        """Live documents of the file at `path`, or of every file below the folder `path`."""
        return [
            (segment, document)
            for segment in self.segments
            for document in segment.documents_at(path, under)
            if document.doc_id not in self.deleted[segment.name]
        ]

    def passage_texts(self) -> Iterator[tuple[int, str, str]]:
        """(id, doc_id, text) of every live passage (the evaluator maps passages to documents)."""
        for passage_id, doc_id, text, _ in self._live_passages():
            yield passage_id, doc_id, text

    def _live_passages(self) -> Iterator[tuple[int, str, str, str]]:
        for segment in self.segments:
            deleted = self.deleted[segment.name]
            for row in segment.passage_texts():
                if row[1] not in deleted:
                    yield tuple(row)


def _open_segment(index_dir: Path, info: SegmentInfo, cache: MutableMapping[str, Segment], load: bool) -> Segment:
    segment = cache.get(info.name)
    if segment is None:
        segment = Segment(index_dir / SEGMENTS_FOLDER / info.name)
        if load:
            segment.load().check_counts(info)
        cache[info.name] = segment
    return segment


def _within(index_dir: Path, filename: str | None) -> str:
    """A file of the index named from the index folder (segments/NAME/passages.sqlite)."""
    path = Path(filename or "?")
    return str(path.relative_to(index_dir)) if path.is_relative_to(index_dir) else str(path)


def _search_one(
    query: np.ndarray, n: int, segment: Segment, subset: IdSubset | None, deleted: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """One segment's `n` nearest live passages (among `subset` if given): (scores, ids)."""
    if subset is not None:
        found_scores, found_ids = segment.vectors.search_among(query[None, :], n, subset)
        keep = found_ids[0] >= 0
    else:
        found_scores, found_ids = segment.vectors.search(query[None, :], n + len(deleted))
        keep = found_ids[0] >= 0
        if len(deleted):
            keep &= ~np.isin(found_ids[0], deleted)
    return found_scores[0][keep], found_ids[0][keep]


@cache
def _segment_threads() -> ThreadPoolExecutor:
    """Threads that search large segments side by side: FAISS and numpy release the GIL, so on 2
    cores five 2M-passage segments answer in 9.14 ms instead of 11.9 one after another
    (docs/SCALING.md, "10M passages on one machine")."""
    return ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1), thread_name_prefix="qa-segments")
