"""The collection: one index, for reading and for writing, that the CLI, the HTTP API, uploads, the
Ray build, the evaluator and the benchmarks all use the same way.

Reading follows the index live: a generation committed by any writer is seen by the next question.
Writing goes through the index's one writer lock, so any number of collections (and processes)
may write the same index in turn. Opening a collection never builds one; the faces call
`ensure_default_index` for the seeds.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from embeddings import Encoder, TokenReader
from embeddings.vector_index import one_blas_thread
from qa.answers import DEFAULT_TOP_K, MAX_TOP_K, Answer, DocumentInfo, DocumentText, IndexStats
from qa.config import DEFAULT_WAIT
from qa.errors import DocumentNotFound, IndexMismatch, InvalidQuestion, ModelMismatch, NoDocuments, QAError
from qa.events import OnProgress, ignore
from qa.limits import validate_question
from qa.search.followup import followup_query
from qa.search.retrieval import HybridRetriever, Mode, Query, Ranking, RetrievalSettings
from qa.search.searcher import PassageRows, Searcher
from qa.store import Snapshot, check_same_model, rebuild_hint
from qa.store.lock import WriterLock
from qa.store.manifest import (
    SkippedFile,
    SourceRecord,
    indexed_from,
    is_current,
    manifest_signature,
    read_manifest,
)
from qa.store.records import StoredDocument, StoredPassage
from qa.store.segment import Segment
from qa.text.analysis import question_terms, words_not_found

if TYPE_CHECKING:  # writing is imported where it happens: a question needs none of it (a faster cold `qa ask`)
    from qa.ingest.documents import Document
    from qa.ingest.indexing import IndexOptions
    from qa.ingest.planning import IndexReport
    from qa.ingest.readers import ParsedFile
    from qa.ingest.watching import Follower
    from qa.search.abstention import Abstention
    from qa.search.filters import DocumentFilter  # a filter's model (pydantic) is imported where one is made

__all__ = ["Collection", "default_index", "ensure_default_index", "validate_question"]  # validate_question: qa.limits

logger = logging.getLogger(__name__)


def default_index(model: str | None = None) -> Path:
    """Where the default corpus's index is: the one named for its folder (qa.config.default_index_dir),
    or the one an older qa kept as `seeds-<model>` where that was indexed from this same folder
    (it may hold folders a user added with `qa index FOLDER`; another checkout's is left alone)."""
    from qa.config import default_index_dir, former_default_index_dir, seeds_dir

    former = former_default_index_dir(model)
    return former if indexed_from(former, seeds_dir()) else default_index_dir(model)


def ensure_default_index(
    model: str | None = None, encoder: Encoder | None = None, on_progress: OnProgress = ignore
) -> Path:
    """The seeds index, built on first use (and rebuilt when it has an older format). A current
    one is found by its manifest alone: the indexing code is imported only to build it."""
    from qa.config import seeds_dir

    index_dir = default_index(model if encoder is None else encoder.name)
    if is_current(index_dir):
        return index_dir
    from qa.ingest.indexing import ensure_index  # checks again, once, before it builds

    return ensure_index(index_dir, [seeds_dir()], "the seed documents", model, encoder, on_progress=on_progress)


class Collection:
    """An index, opened for questions and changes: thread-safe; the model loads once, segments
    open once.

    Every question is answered from one snapshot (generation) from start to end, so the passages
    it quotes always match the documents it cites.
    """

    def __init__(
        self,
        index_dir: Path,
        model: str | None = None,
        encoder: Encoder | None = None,
        settings: RetrievalSettings | None = None,
        *,
        one_question: bool = False,
    ) -> None:
        """A collection at `index_dir`, which need not exist yet (`add` creates it). `encoder`
        replaces the model the index names (tests pass a small fake); `one_question`: see `open`."""
        self.index_dir = Path(index_dir).expanduser().resolve()
        self.model = model
        self._encoder = encoder
        self._one_question = one_question
        self.retriever = HybridRetriever(settings or RetrievalSettings())
        self._searcher: Searcher | None = None
        self._segments: dict[str, Segment] = {}  # the open segments, by name, shared by our snapshots
        self._lock = threading.Lock()
        self._refused = None  # the manifest signature of the last new generation we would not serve
        self._refusal: str | None = None  # why, while we still serve an older one

    @classmethod
    def open(
        cls,
        index_dir: Path,
        model: str | None = None,
        encoder: Encoder | None = None,
        settings: RetrievalSettings | None = None,
        *,
        one_question: bool = False,
    ) -> Collection:
        """Open and check an existing index, ready for questions (the model loaded and warm).

        Mismatches raise a QAError that says what to run; `encoder` must give vectors of the
        index's dimension. `one_question=True` is for a process that asks one question and exits
        (`qa ask QUESTION`): the model is loaded in the form that starts fastest and is not warmed,
        which saves ~50 ms of a cold start and costs ~3 ms on that question.
        """
        collection = cls(index_dir, model, encoder, settings, one_question=one_question)
        searcher = collection.searcher()
        encoder = collection.encoder
        manifest = searcher.manifest
        if encoder.name != manifest.model.name:
            raise ModelMismatch(
                f"The index at {collection.index_dir} was built with {manifest.model.name}, not {encoder.name}. "
                f"Ask without --model, or rebuild it: {rebuild_hint(collection.index_dir, manifest.roots)} "
                f"--model {model}"
            )
        if not one_question:
            encoder.warm_up()
        logger.info(
            "Opened %s: generation %d, model %s", collection.index_dir, manifest.generation, manifest.model.name
        )
        return collection

    @classmethod
    def check(cls, index_dir: Path, model: str | None = None) -> Path:
        """The index folder, checked without loading the model (what `qa serve --workers` does
        before its processes open it), so a bad one stops the server with one message."""
        from embeddings import resolve_model

        index_dir = Path(index_dir).expanduser().resolve()
        manifest = Snapshot.open(index_dir, load=False).manifest
        if model:
            hint = f"{rebuild_hint(index_dir, manifest.roots)} --model {model}"
            check_same_model(manifest, resolve_model(model)[0], None, hint)
        return index_dir

    @property
    def encoder(self) -> Encoder:
        """The encoder questions and new passages go through: the one given, else the model the
        index was built with (or `model`), loaded on first use."""
        if self._encoder is None:
            from qa import config

            manifest = self.searcher().manifest  # before the lock: reopening takes it too
            with self._lock:
                if self._encoder is None:
                    name, model = self.model or manifest.model.name, manifest.model
                    self._encoder = config.load_encoder(
                        name, model.quantized, prepack=not self._one_question, passages=model.passage_precision
                    )
        return self._encoder

    @encoder.setter
    def encoder(self, encoder: Encoder) -> None:
        self._encoder = encoder

    # Reading ----------------------------------------------------------------------------------

    def searcher(self) -> Searcher:
        """The newest committed generation, opened for questions: reopened when the manifest
        changed, reusing the segments already open (they never change)."""
        current = self._searcher
        if current is not None and current.snapshot.is_current():
            return current
        with self._lock:
            if self._searcher is current:
                self._searcher = self._reopen(current)
            return self._searcher

    def _reopen(self, current: Searcher | None) -> Searcher:
        try:
            fresh = Snapshot.open(self.index_dir, self._segments)
        except QAError as error:
            if current is None:
                raise
            self._refuse(current, f"cannot be opened ({error})")
            return current
        except Exception as error:  # FAISS, SQLite and numpy raise their own kinds
            if current is None:
                raise IndexMismatch(
                    f"The index at {self.index_dir} is damaged ({error}). Rebuild it: {rebuild_hint(self.index_dir)}"
                ) from error
            self._refuse(current, f"is damaged ({error})")
            return current
        if current is not None and self._encoder is not None and fresh.manifest.model.name != self._encoder.name:
            self._refuse(current, f"was built with {fresh.manifest.model.name}, not {self._encoder.name}")
            return current
        named = {segment.name for segment in fresh.segments}
        for name in [name for name in self._segments if name not in named]:
            del self._segments[name]  # questions still running on the old snapshot keep theirs
        if current is not None:
            logger.info("Answering from generation %d of %s", fresh.manifest.generation, self.index_dir)
        self._refused = self._refusal = None
        return Searcher(fresh)

    def _refuse(self, current: Searcher, why: str) -> None:
        """Warn once per generation we will not serve, not once per question asked meanwhile; keep
        why for `problem`."""
        signature = manifest_signature(self.index_dir)
        level = logging.DEBUG if signature == self._refused else logging.WARNING
        self._refused = signature
        self._refusal = (
            f"The new generation of the index at {self.index_dir} {why}; still answering from generation "
            f"{current.manifest.generation}."
        )
        if "Rebuild it:" not in why:
            self._refusal += f" Rebuild it: {rebuild_hint(self.index_dir, current.manifest.roots)}"
        logger.log(level, "%s", self._refusal)

    def problem(self) -> str | None:
        """What is wrong with the index this collection serves, or None: a newer generation it could
        not open (it still answers from the last one that opened), or a damaged segment found while
        answering or by the cheap per-question check of its memory-mapped files. The message says
        what to run."""
        try:
            searcher = self.searcher()
        except QAError as error:  # the collection never opened: nothing to answer from
            return str(error)
        damage = searcher.snapshot.damage()
        if damage is not None:
            return self._damage_message(searcher, damage)
        return self._refusal

    def _damage_message(self, searcher: Searcher, damage: str) -> str:
        return (
            f"The index at {self.index_dir} is damaged ({damage}). "
            f"Rebuild it: {rebuild_hint(self.index_dir, searcher.manifest.roots)}"
        )

    @contextmanager
    def _reading(self, searcher: Searcher) -> Iterator[None]:
        """Errors of SQLite, FAISS and numpy while reading a damaged segment become IndexMismatch
        with what to run (and are remembered for `problem`); an error with no damage behind it is
        a bug, raised as it is."""
        damage = searcher.snapshot.damage()  # a mapped file that shrank must not be read at all
        if damage is not None:
            raise IndexMismatch(self._damage_message(searcher, damage))
        try:
            yield
        except QAError:
            raise
        except (sqlite3.DatabaseError, OSError, ValueError, IndexError, RuntimeError, EOFError) as error:
            damage = searcher.snapshot.damage(thorough=True)
            if damage is None and not isinstance(error, sqlite3.DatabaseError | OSError):
                raise
            damage = damage or f"{type(error).__name__}: {error}"
            logger.error("%s: %s while reading: %s", self.index_dir, type(error).__name__, error)
            raise IndexMismatch(self._damage_message(searcher, damage)) from error

    def snapshot(self) -> Snapshot:
        """The newest committed generation."""
        return self.searcher().snapshot

    @property
    def manifest(self):
        return self.searcher().manifest

    @property
    def reader(self) -> TokenReader | None:
        """The encoder, when it can read a question against a passage word by word (confidence's `reading`)."""
        return self.encoder if isinstance(self.encoder, TokenReader) else None

    def query(self, question: str, history: Sequence[str] = ()) -> Query:
        """The question made ready once: joined with the turns it leans on, analysed and embedded."""
        text = followup_query(question, history)
        one_blas_thread()  # a question's products are small: a BLAS pool only fights the encoder's threads
        return Query(text=text, terms=question_terms(text), vector=self.encoder.encode_queries([text])[0])

    def rank(
        self,
        question: str,
        k: int,
        history: Sequence[str] = (),
        mode: Mode | None = None,
        searcher: Searcher | None = None,
        filters: DocumentFilter | None = None,
        read: bool = True,
        judged: Abstention | None = None,
    ) -> Ranking:
        """The `k` best passages for a question in its conversation, and whether the best one
        answers it confidently (the evaluator calls this directly). Without `read`, the question
        is judged by the five signals alone, as a threshold fitted to the index is; `judged`
        replaces the index's threshold (`abstention.DEFAULT`: as if none were fitted)."""
        searcher = searcher or self.searcher()
        query = self.query(question, history)
        with self._reading(searcher):
            reader = self.reader if read else None
            return searcher.rank(self.retriever, query, k, mode, filters, reader=reader, judged=judged)

    def ask(
        self,
        question: str,
        top_k: int = DEFAULT_TOP_K,
        history: Sequence[str] = (),
        mode: Mode | None = None,
        filters: DocumentFilter | None = None,
    ) -> Answer:
        """The `top_k` best passages for a question, verbatim, with highlights and citations.

        `history` holds the earlier questions of a conversation, oldest first; `answered` is
        false when no passage answers confidently (the passages are still returned). `filters`
        limits the documents searched (qa.search.filters).
        """
        question = validate_question(question)
        if not 1 <= top_k <= MAX_TOP_K:
            raise InvalidQuestion(f"top_k must be between 1 and {MAX_TOP_K}, not {top_k}.")
        started = time.perf_counter()
        searcher = self.searcher()
        query = self.query(question, history)
        with self._reading(searcher):
            rows = PassageRows(searcher.snapshot)
            ranking = searcher.rank(self.retriever, query, top_k * 4, mode, filters, rows, self.reader)
            passages = searcher.answer_passages(ranking, rows, top_k, self.retriever.settings.join_depth)
        return Answer(
            question=question,
            answered=bool(passages) and ranking.confident,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            passages=passages,
            generation=searcher.manifest.generation,
            # Of the documents searched only; none when no passage could be searched (filters that let
            # no document through), where every word would be "missing" and none is.
            missing_words=words_not_found(question, ranking.held) if passages else [],
        )

    def documents(self, filters: DocumentFilter | None = None) -> list[DocumentInfo]:
        """The indexed documents; with `filters`, only those they let through."""
        searcher = self.searcher()
        with self._reading(searcher):
            found = searcher.snapshot.documents()
        return [DocumentInfo.of(d) for d in found if filters is None or filters.matches(d)]

    def document(self, doc_id: str, filters: DocumentFilter | None = None) -> DocumentText:
        """One document with its text; one that `filters` keep out is as not found as a missing one."""
        searcher = self.searcher()
        with self._reading(searcher):
            found = searcher.snapshot.document(doc_id)
        if found is None or (filters is not None and not filters.matches(found)):
            raise DocumentNotFound(f"No document with id {doc_id!r} in this index.")
        return DocumentText.of(found)

    def stored_document(self, doc_id: str, filters: DocumentFilter | None = None) -> tuple[StoredDocument, int]:
        """One document's stored record with its text, and the generation it was read from (for
        faces that quote it, serve its file or check a saved answer against it)."""
        searcher = self.searcher()
        with self._reading(searcher):
            found = searcher.snapshot.document(doc_id)
        if found is None or (filters is not None and not filters.matches(found)):
            raise DocumentNotFound(f"No document with id {doc_id!r} in this index.")
        return found, searcher.manifest.generation

    def passage_at(self, doc_id: str, start: int, end: int) -> StoredPassage | None:
        """The passage of a document at exactly start–end (with its page and section), if any."""
        searcher = self.searcher()
        with self._reading(searcher):
            return searcher.snapshot.passage_at(doc_id, start, end)

    def file_paths(self, doc_ids: Iterable[str]) -> dict[str, str]:
        """Where the files of these documents were indexed from (root/source), by doc_id."""
        wanted = set(doc_ids)
        searcher = self.searcher()
        with self._reading(searcher):
            found = searcher.snapshot.documents() if wanted else []
        return {document.doc_id: document.path for document in found if document.doc_id in wanted}

    def stats(self) -> IndexStats:
        searcher = self.searcher()
        manifest, fitted = searcher.manifest, searcher.abstention
        return IndexStats(
            path=str(self.index_dir),
            documents=manifest.counts.documents,
            passages=manifest.counts.passages,
            model=manifest.model.name,
            dimension=manifest.model.dimension,
            quantized=manifest.model.quantized,
            passage_precision=manifest.model.passage_precision,
            created=manifest.created,
            updated=manifest.updated,
            generation=manifest.generation,
            segments=len(manifest.segments),
            abstention_threshold=round(fitted.threshold, 4),
            abstention_fitted_on=None if fitted.is_default else fitted.fitted_on,
            abstention_min_known=fitted.min_known,
            abstention_on_names=fitted.abstain_on_names,
        )

    def skipped_files(self) -> list[SkippedFile]:
        """The files the runs that built this index passed over, with why (the last run to look
        at each one says); the first MAX_SKIPPED_KEPT by path."""
        return list(self.manifest.skipped)

    # Writing ----------------------------------------------------------------------------------

    def add(
        self,
        paths: Sequence[Path],
        options: IndexOptions | None = None,
        on_progress: OnProgress = ignore,
        parsed: Mapping[Path, ParsedFile] | None = None,
    ) -> IndexReport:
        """Index the files under `paths`: new and changed ones are read and embedded, documents of
        files gone from below a folder are removed; one generation is committed. `parsed` holds
        files already read (an upload reads each one to check it), which are not read again."""
        from qa.ingest.indexing import IndexOptions, index_paths

        options = options or IndexOptions()
        encoder = self._writing_encoder(options)
        return index_paths(
            paths, self.index_dir, options, model=self.model, encoder=encoder, on_progress=on_progress, parsed=parsed
        )

    def watch(
        self,
        folders: Sequence[Path],
        options: IndexOptions | None = None,
        on_progress: OnProgress = ignore,
        poll: bool = False,
        **follow,
    ) -> tuple[IndexReport | None, Follower]:
        """Bring the index in line with `folders` as `add` does (None: they hold nothing to index
        yet), and a `Follower` that keeps it so: its `run` follows changes (watched from before the
        sync on) until its `stop` is set; with `poll`, nothing is watched and `rescan_every` rescans.
        `follow`: the Follower's other fields (on_commit, on_problem, stop, rescan …)."""
        from qa.ingest.indexing import IndexOptions
        from qa.ingest.watching import Follower

        options = options or IndexOptions()
        encoder = self.encoder_for_writing(options)  # loaded once, for the first sync and every commit after it
        follower = Follower(folders, self.index_dir, encoder, options, **follow)
        if not poll:
            follower.start()  # before the sync: what changes meanwhile is seen
        try:
            report = self.add(folders, options, on_progress)
        except NoDocuments:
            report = None
        return report, follower

    def add_site(self, url: str, options: IndexOptions | None = None, settings=None, on_progress: OnProgress = ignore):
        """Index a web page, the site below it, or a sitemap's pages (qa.ingest.web): new and
        changed pages are read and embedded, gone ones removed; (IndexReport, CrawlResult)."""
        from qa.ingest.indexing import IndexOptions
        from qa.ingest.web.crawler import CrawlSettings
        from qa.ingest.web.source import index_site

        options = options or IndexOptions()
        return index_site(
            url,
            self.index_dir,
            options,
            settings or CrawlSettings(),
            model=self.model,
            encoder=self._writing_encoder(options),
            on_progress=on_progress,
        )

    def sources(self) -> list[SourceRecord]:
        """The sources the index remembers (folders and web addresses, with their last sync); an
        index from before sources were recorded: its folders."""
        manifest = read_manifest(self.index_dir)
        if manifest.sources:
            return list(manifest.sources)
        return [SourceRecord(kind="folder", location=root) for root in manifest.roots]

    def chrome(self) -> dict[str, list[str]]:
        """Folder or site → the blocks repeated across its pages and left out of passages
        (`qa.ingest.chrome`; digits shown as `#`)."""
        return {
            root: record.keys for root, record in sorted(read_manifest(self.index_dir).chrome.items()) if record.keys
        }

    def sync(self, source: SourceRecord, options: IndexOptions | None = None, on_progress: OnProgress = ignore):
        """Bring the index in line with one remembered source, with the settings it was indexed
        with: (IndexReport, CrawlResult or None for a folder)."""
        if source.kind == "web":
            from dataclasses import fields

            from qa.ingest.web.crawler import CrawlSettings

            known = {f.name for f in fields(CrawlSettings)}
            settings = CrawlSettings(**{k: v for k, v in source.settings.items() if k in known})
            return self.add_site(source.location, options, settings, on_progress)
        return self.add([Path(source.location)], options, on_progress), None

    def encoder_for_writing(self, options: IndexOptions) -> Encoder:
        """The encoder writes go through, loaded when none is here yet (an index that may not exist)."""
        encoder = self._writing_encoder(options)
        if encoder is None:
            from qa.ingest.indexing import writing_encoder

            encoder = self._encoder = writing_encoder(self.index_dir, self.model, options.quantize)
        return encoder

    def add_documents(
        self, documents: Sequence[Document], options: IndexOptions | None = None, on_progress: OnProgress = ignore
    ) -> IndexReport:
        """Index documents already in memory (a document whose doc_id is there replaces it)."""
        from qa.ingest.indexing import IndexOptions, index_documents

        options = options or IndexOptions()
        encoder = self._writing_encoder(options)
        return index_documents(
            documents, self.index_dir, options, model=self.model, encoder=encoder, on_progress=on_progress
        )

    def remove(
        self, targets: Sequence[str], ids_only: bool = False, wait: float = DEFAULT_WAIT, lock: WriterLock | None = None
    ) -> IndexReport:
        """Remove documents by doc_id, or (unless `ids_only`) by indexed file or folder. A target
        that matches nothing is an error and nothing is removed. `lock`: one from `writer_lock`,
        held around a longer transaction."""
        from qa.ingest.indexing import remove_documents

        return remove_documents(targets, self.index_dir, wait=wait, ids_only=ids_only, lock=lock)

    def writer_lock(self, wait: float = DEFAULT_WAIT) -> WriterLock:
        """The index's cross-process writer lock, for a transaction around a write (an upload moves
        its files into place, indexes them, and puts them back if that fails): hold it, and hand it
        to `add` (IndexOptions.lock) or `remove`, which take it again without waiting."""
        return WriterLock(self.index_dir, wait)

    def compact(self, wait: float = DEFAULT_WAIT) -> IndexReport:
        """Merge every segment into one and drop deleted passages for good."""
        from qa.ingest.indexing import compact_index

        return compact_index(self.index_dir, wait=wait)

    def _writing_encoder(self, options: IndexOptions) -> Encoder | None:
        """The encoder already here, unless the write asks for other vectors (int8 or not)."""
        encoder = self._encoder
        if encoder is not None and options.quantize is not None and options.quantize != encoder.quantized:
            return None
        return encoder
