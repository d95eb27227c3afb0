"""One segment: an immutable folder with its passages and documents (SQLite), its vectors (FAISS)
and its postings (BM25). Written once into a temporary folder and renamed into place; never
changed after that, so readers can share an open segment across generations.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from qa.errors import IndexMismatch
from qa.store.manifest import SegmentInfo, fsync_folder, rebuild_hint
from qa.store.postings import Postings, mapped
from qa.store.records import (  # noqa: F401 (re-exported: the segment's records)
    DocumentFacts,
    DocumentRecord,
    PassageRecord,
    StoredDocument,
    StoredPassage,
    document_path,
    searchable_text,
)

logger = logging.getLogger(__name__)

SEGMENTS_FOLDER = "segments"
PASSAGES_FILE = "passages.sqlite"
VECTORS_FILE = "vectors.faiss"
POSTINGS_FOLDER = "postings"
IDS_FILE = "ids.npy"

_SCHEMA = """
CREATE TABLE documents (
    doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, root TEXT NOT NULL, source TEXT NOT NULL, title TEXT NOT NULL,
    text TEXT NOT NULL, sha256 TEXT NOT NULL, page_starts TEXT, modified REAL, kind TEXT, tags TEXT
);
CREATE INDEX documents_by_path ON documents(path);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id),
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, page INTEGER, text TEXT NOT NULL,
    section TEXT, ocr INTEGER
);
CREATE INDEX passages_by_doc ON passages(doc_id, ordinal);
"""


def write_segment(
    index_dir: Path,
    name: str,
    documents: Iterable[DocumentRecord],
    passages: Iterable[PassageRecord],
    vectors: np.ndarray,
) -> SegmentInfo:
    """Write a segment (passages sorted by id, `vectors` aligned with them) and rename it into place.

    `documents` and `passages` are each iterated more than once (a list, or an object whose every
    iteration starts again, as a merge's reading of its source segments does), so a large merge
    never holds them all."""
    from embeddings.vector_index import VectorIndex

    segments = index_dir / SEGMENTS_FOLDER
    segments.mkdir(parents=True, exist_ok=True)
    final, staging = segments / name, segments / f".{name}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        ids = np.fromiter((passage.id for passage in passages), np.int64)
        if len(ids) > 1 and not np.all(np.diff(ids) > 0):
            raise ValueError("segment passages must be sorted by id")
        np.save(staging / IDS_FILE, ids)
        titles = {document.doc_id: document.title for document in documents}
        Postings.build(searchable_text(titles[p.doc_id], p.text, p.section) for p in passages).save(
            staging / POSTINGS_FOLDER
        )
        VectorIndex.write(staging / VECTORS_FILE, ids, vectors)
        _write_rows(staging / PASSAGES_FILE, documents, passages)
        for file in staging.rglob("*"):
            if file.is_file():
                with file.open("rb") as handle:
                    os.fsync(handle.fileno())
        os.rename(staging, final)
        fsync_folder(segments)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SegmentInfo(name=name, documents=len(titles), passages=len(ids))


def _write_rows(path: Path, documents: Iterable[DocumentRecord], passages: Iterable[PassageRecord]) -> None:
    db = sqlite3.connect(path)
    try:
        # No journal and no syncs of SQLite's own: the file is new, fsynced with the segment's other
        # files before the rename, and thrown away if anything fails first (a segment a long index
        # run flushes every 500 passages paid ~35 ms of SQLite syncs each).
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.executescript(_SCHEMA)
        with db:
            db.executemany(
                "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    (
                        d.doc_id,
                        d.path,
                        d.root,
                        d.source,
                        d.title,
                        d.text,
                        d.sha256,
                        None if d.page_starts is None else json.dumps(d.page_starts),
                        d.modified,
                        d.kind,
                        json.dumps(list(d.tags)) if d.tags else None,
                    )
                    for d in documents
                ),
            )
            db.executemany(
                'INSERT INTO passages (id, doc_id, ordinal, start, "end", page, text, section, ocr) '
                "VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    (p.id, p.doc_id, p.ordinal, p.start, p.end, p.page, p.text, _section_json(p.section), p.ocr or None)
                    for p in passages
                ),
            )
    finally:
        db.close()


# Passage rows an open segment keeps once read: a few MB of text, the leading passages of many
# questions. When full it starts again.
ROW_CACHE = 4096


class Segment:
    """An open segment. Parts load on first use; a reader loads them all at once (`load`), so the
    files may be removed once a later generation no longer names the segment."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = folder.name
        if not (folder / PASSAGES_FILE).exists():
            raise FileNotFoundError(errno.ENOENT, "No such file", str(folder / PASSAGES_FILE))
        self.db = sqlite3.connect(
            f"file:{folder / PASSAGES_FILE}?mode=ro&immutable=1", uri=True, check_same_thread=False
        )
        self.db.row_factory = sqlite3.Row
        self.damage: str | None = None  # what `verify` found wrong, once it found something
        self._mapped: dict[Path, os.stat_result] = {}  # files mapped, as they were when mapped
        self._rows: dict[int, StoredPassage] = {}  # passages read back, by id (`passages`)

    def load(self) -> Segment:
        self.ids, self.vectors, self.postings  # noqa: B018 (loading is the point)
        return self

    @cached_property
    def ids(self) -> np.ndarray:
        """Passage ids, ascending; row i of the postings and vectors is ids[i]."""
        return self._checked(lambda: self._map(self.folder / IDS_FILE))

    @cached_property
    def vectors(self):
        from embeddings.vector_index import VectorIndex

        def load() -> VectorIndex:
            index = VectorIndex.load(self.folder / VECTORS_FILE)
            for file in index.files:
                self._remember(file, None)
            return index

        return self._checked(load)

    @cached_property
    def postings(self) -> Postings:
        folder = self.folder / POSTINGS_FOLDER
        return self._checked(lambda: Postings.load(folder, self._map))

    def _map(self, path: Path) -> np.ndarray:
        return self._remember(path, mapped(path))

    def _remember(self, path: Path, loaded):
        """Note a file that may be memory-mapped, so `verify` can tell when it changes under us."""
        self._mapped[path] = os.stat(path)
        return loaded

    def _checked(self, load):
        """A part loaded; a damaged file is an IndexMismatch naming the segment and what to run."""
        try:
            return load()
        except FileNotFoundError:
            raise  # the snapshot decides: a writer may have removed the segment meanwhile
        except IndexMismatch as error:
            raise self.damaged(str(error)) from error
        except (OSError, ValueError, RuntimeError, EOFError) as error:  # numpy and FAISS readers
            raise self.damaged(f"{type(error).__name__}: {error}") from error

    def damaged(self, reason: str) -> IndexMismatch:
        """Remember what is wrong with this segment, as the error that says what to run."""
        index_dir = self.folder.parent.parent
        if self.damage is None:
            logger.error("The index at %s is damaged: segment %s: %s", index_dir, self.name, reason)
        self.damage = f"segment {self.name}: {reason}"
        return IndexMismatch(
            f"The index at {index_dir} is damaged ({self.damage}). Rebuild it: {rebuild_hint(index_dir)}"
        )

    def check_counts(self, info: SegmentInfo) -> None:
        """The mapped arrays hold as many rows as the manifest says the segment has passages."""
        rows = {"ids": len(self.ids), "postings lengths": len(self.postings.lengths), "vectors": len(self.vectors)}
        postings = self.postings
        wrong = [f"{name} has {count:,}" for name, count in rows.items() if count != info.passages]
        if len(postings.indptr) != len(postings.vocabulary) + 1 or int(postings.indptr[-1]) != len(postings.rows):
            wrong.append("the postings' offsets do not match their terms and rows")
        if len(postings.frequencies) != len(postings.rows):
            wrong.append("the postings' frequencies do not match their rows")
        if wrong:
            raise self.damaged(f"the manifest says {info.passages:,} passages; {', '.join(wrong)}")

    def verify(self, thorough: bool = False) -> str | None:
        """What is wrong with this segment's files, or None. Cheap enough for every question: a
        mapped file that changed since it was mapped (reading past a truncated end kills the
        process). `thorough` also checks the SQLite file (after an error while answering)."""
        if self.damage is None:
            for path, then in self._mapped.items():
                try:
                    now = os.stat(path)
                except FileNotFoundError:
                    continue  # unlinked: the mapping still holds the file's pages
                if (now.st_dev, now.st_ino) == (then.st_dev, then.st_ino) and now.st_size != then.st_size:
                    self.damaged(f"{path.name} is {now.st_size:,} bytes, {then.st_size:,} when it was opened")
                    break
        if self.damage is None and thorough:
            try:
                problems = [row[0] for row in self.db.execute("PRAGMA quick_check(3)")]
            except sqlite3.DatabaseError as error:
                problems = [str(error)]
            if problems != ["ok"]:
                found = " ".join(" ".join(problems).replace("*** in database main ***", "").split())
                self.damaged(f"{PASSAGES_FILE}: {found[:300]}")
        return self.damage

    def close(self) -> None:
        self.db.close()

    @cached_property
    def has_tags(self) -> bool:
        """Segments written before tags were recorded have no `tags` column: their documents have none."""
        return any(row["name"] == "tags" for row in self.db.execute("PRAGMA table_info(documents)"))

    @cached_property
    def has_sections(self) -> bool:
        """Segments written before section paths were recorded have no `section` column."""
        return any(row["name"] == "section" for row in self.db.execute("PRAGMA table_info(passages)"))

    @cached_property
    def has_ocr(self) -> bool:
        """Segments written before recognised text was marked have no `ocr` column (and no OCR)."""
        return any(row["name"] == "ocr" for row in self.db.execute("PRAGMA table_info(passages)"))

    @cached_property
    def document_facts(self) -> tuple[list[DocumentFacts], np.ndarray]:
        """Every document's facts, and for each passage row (in `ids` order) its document's
        position in that list; read once, since a segment never changes."""
        tags = "tags" if self.has_tags else "NULL AS tags"
        facts = [
            DocumentFacts(
                row["doc_id"],
                row["path"],
                row["source"],
                row["kind"] or "",
                row["modified"],
                tuple(json.loads(row["tags"])) if row["tags"] else (),
            )  # fmt: skip
            for row in self.db.execute(f"SELECT doc_id, path, source, kind, modified, {tags} FROM documents")
        ]
        position = {fact.doc_id: i for i, fact in enumerate(facts)}
        rows = np.fromiter(
            (position[doc_id] for (doc_id,) in self.db.execute("SELECT doc_id FROM passages ORDER BY id")),
            dtype=np.int32,
        )
        return facts, rows

    def contains(self, ids: np.ndarray) -> np.ndarray:
        """Which of `ids` belong to this segment."""
        positions = np.clip(np.searchsorted(self.ids, ids), 0, max(0, len(self.ids) - 1))
        return np.asarray(self.ids)[positions] == ids if len(self.ids) else np.zeros(len(ids), dtype=bool)

    def passage_ids_of(self, doc_ids: Sequence[str]) -> np.ndarray:
        ids: list[int] = []
        for chunk in _chunks(list(doc_ids)):
            marks = ",".join("?" * len(chunk))
            ids += [row[0] for row in self.db.execute(f"SELECT id FROM passages WHERE doc_id IN ({marks})", chunk)]
        return np.array(sorted(ids), dtype=np.int64)

    def passages(self, ids: Sequence[int]) -> list[StoredPassage]:
        """The passages of `ids` found in this segment. Rows read once are kept (`ROW_CACHE`): a
        segment never changes once written, and the passages that lead one question tend to lead
        the next ones, so most questions read no row from SQLite."""
        kept = self._rows
        wanted = [int(i) for i in ids]
        found = [kept[i] for i in wanted if i in kept]
        missing = [i for i in wanted if i not in kept]
        read = []
        for chunk in _chunks(missing):
            marks = ",".join("?" * len(chunk))
            section = "p.section" if self.has_sections else "NULL"
            ocr = "p.ocr" if self.has_ocr else "NULL"
            read += [
                StoredPassage(*row[:8], _section(row[8]), sha256=row[9], ocr=bool(row[10]))
                for row in self.db.execute(
                    f'SELECT p.id, p.doc_id, p.start, p."end", p.page, p.text, d.title, d.source, {section}, '
                    f"d.sha256, {ocr} "
                    f"FROM passages p JOIN documents d USING (doc_id) WHERE p.id IN ({marks})",
                    chunk,
                )
            ]
        if read:
            if len(kept) + len(read) > ROW_CACHE:  # full: start again (a new dict, so that threads
                kept = self._rows = {}  # reading the old one at this moment still see whole rows)
            kept.update((passage.id, passage) for passage in read[:ROW_CACHE])
        return found + read

    def passage_at(self, doc_id: str, start: int, end: int) -> StoredPassage | None:
        """The passage of `doc_id` at exactly start–end, if there is one."""
        row = self.db.execute(
            'SELECT id FROM passages WHERE doc_id = ? AND start = ? AND "end" = ?', (doc_id, start, end)
        ).fetchone()
        found = self.passages([row[0]]) if row else []
        return found[0] if found else None

    def passage_count(self, doc_id: str) -> int:
        """How many passages `doc_id` has in this segment (0 if it is not here): counted on the
        passages' index by document, without reading a row."""
        return self.db.execute("SELECT COUNT(*) FROM passages WHERE doc_id = ?", (doc_id,)).fetchone()[0]

    def text_span(self, doc_id: str, start: int, end: int) -> str | None:
        """The stored text of `doc_id` from `start` to `end`, if the document is in this segment."""
        row = self.db.execute(
            "SELECT substr(text, ?, ?) FROM documents WHERE doc_id = ?", (start + 1, end - start, doc_id)
        ).fetchone()
        return row[0] if row else None

    def documents(self, with_text: bool = False, doc_id: str | None = None) -> Iterator[StoredDocument]:
        where, args = ("WHERE d.doc_id = ?", (doc_id,)) if doc_id is not None else ("", ())
        text = "d.text" if with_text else "NULL"
        tags = "d.tags" if self.has_tags else "NULL"
        for row in self.db.execute(
            f"SELECT d.doc_id, d.root, d.source, d.title, d.sha256, d.page_starts, {text} AS text, "
            f"d.kind, d.modified, {tags} AS tags, LENGTH(d.text) AS chars, "
            f"(SELECT COUNT(*) FROM passages p WHERE p.doc_id = d.doc_id) AS passages FROM documents d {where}",
            args,
        ):
            pages = json.loads(row["page_starts"]) if row["page_starts"] else None
            yield StoredDocument(
                row["doc_id"], row["root"], row["source"], row["title"], row["sha256"], row["passages"],
                len(pages) if pages else None, row["text"], row["kind"] or "", row["modified"],
                tuple(json.loads(row["tags"])) if row["tags"] else (), row["chars"],
            )  # fmt: skip

    def documents_at(self, path: str, under: bool = False) -> Iterator[StoredDocument]:
        """Documents of the file at `path`, or (`under`) of every file below the folder `path`."""
        if under:
            prefix = path.rstrip("/") + "/"
            query, args = "SELECT doc_id FROM documents WHERE path >= ? AND path < ?", (prefix, prefix + "\U0010ffff")
        else:
            query, args = "SELECT doc_id FROM documents WHERE path = ?", (path,)
        for (doc_id,) in self.db.execute(query, args).fetchall():
            yield from self.documents(doc_id=doc_id)

    def records(self, exclude: set[str], only: str | None = None) -> tuple[list[DocumentRecord], list[PassageRecord]]:
        """Everything stored of the documents not in `exclude` (or of the one document `only`), to
        write them into a merged segment (or a moved document into a new one)."""
        return list(self.document_records(exclude, only)), list(self.passage_records(exclude, only))

    def document_records(self, exclude: set[str], only: str | None = None) -> Iterator[DocumentRecord]:
        """The documents not in `exclude` (or the one `only`), read as they are iterated."""
        where, args = ("WHERE doc_id = ?", (only,)) if only is not None else ("", ())
        for row in self.db.execute(f"SELECT * FROM documents {where} ORDER BY doc_id", args):
            if row["doc_id"] not in exclude:
                yield DocumentRecord(
                    row["doc_id"],
                    row["root"],
                    row["source"],
                    row["title"],
                    row["text"],
                    row["sha256"],
                    json.loads(row["page_starts"]) if row["page_starts"] else None,
                    row["modified"],
                    tuple(json.loads(row["tags"])) if self.has_tags and row["tags"] else (),
                )  # fmt: skip

    def passage_records(self, exclude: set[str], only: str | None = None) -> Iterator[PassageRecord]:
        """The passages of the documents not in `exclude` (or of `only`), in id order, read as
        they are iterated."""
        where, args = ("WHERE doc_id = ?", (only,)) if only is not None else ("", ())
        for row in self.db.execute(f"SELECT * FROM passages {where} ORDER BY id", args):
            if row["doc_id"] not in exclude:
                yield PassageRecord(
                    row["id"],
                    row["doc_id"],
                    row["ordinal"],
                    row["start"],
                    row["end"],
                    row["page"],
                    row["text"],
                    _section(row["section"]) if self.has_sections else (),
                    bool(row["ocr"]) if self.has_ocr else False,
                )  # fmt: skip

    def passage_ids(self, exclude: set[str]) -> np.ndarray:
        """The ids of the passages of the documents not in `exclude`, ascending."""
        rows = self.db.execute("SELECT id, doc_id FROM passages ORDER BY id")
        return np.fromiter((passage_id for passage_id, doc_id in rows if doc_id not in exclude), np.int64)

    def passage_texts(self) -> Iterator[tuple[int, str, str, str]]:
        """(id, doc_id, text, document title) of every passage, in id order."""
        yield from self.db.execute(
            "SELECT p.id, p.doc_id, p.text, d.title FROM passages p JOIN documents d USING (doc_id) ORDER BY p.id"
        )


def _section_json(section: Sequence[str]) -> str | None:
    return json.dumps(list(section)) if section else None


def _section(stored: str | None) -> tuple[str, ...]:
    return tuple(json.loads(stored)) if stored else ()


def _chunks(values: list, size: int = 900) -> Iterator[list]:
    """SQLite caps the number of `?` in one statement."""
    for begin in range(0, len(values), size):
        yield values[begin : begin + size]
