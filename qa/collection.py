"""The collection: one open index that the CLI, the HTTP API, the evaluator and the benchmarks all
ask. It follows the index live: a generation committed by `qa index` is seen by the next question.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from embeddings import Encoder
from qa.answers import (
    DEFAULT_TOP_K,
    MAX_QUESTION_CHARS,
    MAX_TOP_K,
    Answer,
    AnswerPassage,
    Citation,
    DocumentInfo,
    DocumentText,
    Highlight,
    IndexStats,
)
from qa.errors import DocumentNotFound, IndexMismatch, InvalidQuestion, ModelMismatch, QAError
from qa.events import OnProgress, ignore
from qa.search.confidence import assess
from qa.search.filters import Filters
from qa.search.followup import followup_query
from qa.search.highlight import best_sentence, context_span, to_highlight
from qa.search.retrieval import Hit, HybridRetriever, Query, Ranking, RetrievalSettings
from qa.store import Snapshot, StoredPassage, rebuild_hint
from qa.store.segment import Segment
from qa.text.analysis import question_terms

__all__ = ["Collection", "validate_question"]


def validate_question(question: str) -> str:
    """The question stripped, or InvalidQuestion with what is wrong."""
    if not isinstance(question, str) or not question.strip():
        raise InvalidQuestion('The question is empty; ask something, e.g. qa ask "Who is Moussa Koussa?"')
    question = question.strip()
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"The question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}.")
    return question


class Collection:
    """An index opened for questions: thread-safe; the model loads once, segments open once.

    Every question is answered from one snapshot (generation) from start to end, so the passages
    it quotes always match the documents it cites.
    """

    def __init__(
        self,
        index_dir: Path,
        encoder: Encoder,
        snapshot: Snapshot,
        settings: RetrievalSettings,
        segments: dict[str, Segment],
    ) -> None:
        self.index_dir = index_dir
        self.encoder = encoder
        self.retriever = HybridRetriever(settings)
        self._snapshot = snapshot
        self._segments = segments  # the open segments, by name, shared by the snapshots we make
        self._reopen = threading.Lock()

    @classmethod
    def open(
        cls,
        index_dir: Path | None = None,
        model: str | None = None,
        encoder: Encoder | None = None,
        settings: RetrievalSettings | None = None,
        on_progress: OnProgress = ignore,
    ) -> Collection:
        """Open and check an index; `None` means the seeds index, built on first use.

        Mismatches raise a QAError that says what to run. `encoder` replaces the model the
        index names (tests pass a small fake); it must give vectors of the index's dimension.
        """
        import embeddings
        from qa.paths import ensure_default_index

        if index_dir is None:
            index_dir = ensure_default_index(model, encoder=encoder, on_progress=on_progress)
        index_dir = Path(index_dir).expanduser().resolve()
        cache: dict[str, Segment] = {}
        try:
            snapshot = Snapshot.open(index_dir, cache)
        except QAError:
            raise
        except Exception as error:  # FAISS, SQLite and numpy raise their own kinds
            raise IndexMismatch(
                f"The index at {index_dir} is damaged ({error}). Rebuild it: {rebuild_hint(index_dir)}"
            ) from error
        manifest = snapshot.manifest
        if encoder is None:
            encoder = embeddings.load_encoder(model or manifest.model.name, quantized=manifest.model.quantized)
        if encoder.name != manifest.model.name:
            raise ModelMismatch(
                f"The index at {index_dir} was built with {manifest.model.name}, not {encoder.name}. "
                f"Ask without --model, or rebuild it: {rebuild_hint(index_dir, manifest.roots)} --model {model}"
            )
        _configure_threads()
        encoder.warm_up()
        return cls(index_dir, encoder, snapshot, settings or RetrievalSettings(), cache)

    @property
    def manifest(self):
        return self.snapshot().manifest

    def snapshot(self) -> Snapshot:
        """The newest committed generation: reopened when the manifest changed, reusing the
        segments already open (they never change)."""
        current = self._snapshot
        if current.is_current():
            return current
        with self._reopen:
            if self._snapshot is current:
                try:
                    fresh = Snapshot.open(self.index_dir, self._segments)
                except Exception:  # a rebuild in progress or a damaged commit: keep answering from ours
                    return current
                if fresh.manifest.model.name == self.encoder.name:
                    self._forget_unused(fresh)
                    self._snapshot = fresh
            return self._snapshot

    def _forget_unused(self, fresh: Snapshot) -> None:
        """Drop our handles on segments the new generation no longer names (questions still
        running on the old snapshot keep theirs)."""
        named = {segment.name for segment in fresh.segments}
        for name in [name for name in self._segments if name not in named]:
            del self._segments[name]

    def query(self, question: str, history: Sequence[str] = ()) -> Query:
        """The question made ready once: joined with the turns it leans on, analysed and embedded."""
        text = followup_query(question, history)
        return Query(text=text, terms=question_terms(text), vector=self.encoder.encode_queries([text])[0])

    def rank(
        self,
        question: str,
        k: int,
        history: Sequence[str] = (),
        mode: str | None = None,
        snapshot=None,
        filters: Filters | None = None,
    ) -> Ranking:
        """The `k` best passages for a question in its conversation, and whether the best one
        answers it confidently (the evaluator calls this directly)."""
        return self._rank(question, k, history, mode, snapshot or self.snapshot(), filters)[0]

    def _rank(self, question, k, history, mode, snapshot: Snapshot, filters) -> tuple[Ranking, _PassageReader]:
        """Rank in one snapshot, then judge whether the best passage answers (qa.search.confidence); the
        reader keeps the passage rows read on the way, so answering reads none twice."""
        _configure_threads()
        reader = _PassageReader(snapshot)
        query = self.query(question, history)
        ranking = self.retriever.rank(snapshot, query, k, reader.texts, mode, _allowed(snapshot, filters))
        top_text = reader.texts([ranking.hits[0].passage_id]).get(ranking.hits[0].passage_id) if ranking.hits else None
        confidence = assess(query.terms, ranking.idf, snapshot.bm25.passages, ranking.hits, top_text)
        return replace(ranking, confidence=confidence), reader

    def ask(
        self,
        question: str,
        top_k: int = DEFAULT_TOP_K,
        history: Sequence[str] = (),
        mode: str | None = None,
        filters: Filters | None = None,
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
        ranking, reader = self._rank(question, top_k * 4, history, mode, self.snapshot(), filters)
        passages = self._answer_passages(ranking, reader.rows([hit.passage_id for hit in ranking.hits]), top_k)
        return Answer(
            question=question,
            answered=bool(passages) and ranking.confident,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            passages=passages,
        )

    def _answer_passages(self, ranking: Ranking, rows: dict[int, StoredPassage], top_k: int) -> list[AnswerPassage]:
        chosen: list[AnswerPassage] = []
        for hit in ranking.hits:
            row = rows.get(hit.passage_id)
            if row is None or any(_same_spot(row, kept.citation) for kept in chosen):
                continue
            highlight = _highlight(hit, row.text, ranking)
            chosen.append(
                AnswerPassage(
                    rank=len(chosen) + 1,
                    score=round(hit.score, 4),
                    text=row.text,
                    highlight=highlight,
                    context=context_span(row.text, highlight),
                    citation=Citation(
                        doc_id=row.doc_id,
                        source=row.source,
                        title=row.title,
                        start=row.start,
                        end=row.end,
                        page=row.page,
                    ),
                )
            )
            if len(chosen) == top_k:
                break
        return chosen

    def documents(self) -> list[DocumentInfo]:
        return [DocumentInfo(**_document_fields(d)) for d in self.snapshot().documents()]

    def document(self, doc_id: str) -> DocumentText:
        found = self.snapshot().document(doc_id)
        if found is None:
            raise DocumentNotFound(f"No document with id {doc_id!r} in this index.")
        return DocumentText(**_document_fields(found), text=found.text or "")

    def stats(self) -> IndexStats:
        manifest = self.snapshot().manifest
        return IndexStats(
            path=str(self.index_dir),
            documents=manifest.counts.documents,
            passages=manifest.counts.passages,
            model=manifest.model.name,
            dimension=manifest.model.dimension,
            created=manifest.created,
            updated=manifest.updated,
            generation=manifest.generation,
            segments=len(manifest.segments),
        )


class _PassageReader:
    """Passage rows of one snapshot for one question: each is read from SQLite once."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.cache: dict[int, StoredPassage] = {}

    def rows(self, ids: Sequence[int]) -> dict[int, StoredPassage]:
        missing = [i for i in ids if i not in self.cache]
        if missing:
            self.cache.update(self.snapshot.passages(missing))
        return {i: self.cache[i] for i in ids if i in self.cache}

    def texts(self, ids: Sequence[int]) -> dict[int, str]:
        return {i: row.text for i, row in self.rows(ids).items()}


def _document_fields(document) -> dict:
    """What `GET /documents` shows of a stored document, with what its filters match."""
    modified = None if document.modified is None else datetime.fromtimestamp(document.modified, UTC)
    return {
        "doc_id": document.doc_id,
        "title": document.title,
        "source": document.source,
        "passages": document.passages,
        "pages": document.pages,
        "type": document.kind,
        "modified": modified,
        "tags": list(document.tags),
    }


def _allowed(snapshot: Snapshot, filters: Filters | None):
    """The passages a filter lets through in this snapshot; None when nothing is filtered."""
    if filters is None or filters.is_empty:
        return None
    return snapshot.allowed(filters)


def _highlight(hit: Hit, text: str, ranking: Ranking) -> Highlight:
    """The sentence the ranking already found best, else the best one scored now."""
    if hit.sentence is not None and hit.sentence.score > 0:
        return to_highlight(hit.sentence)
    return best_sentence(text, ranking.query.terms, ranking.idf)


def _same_spot(row: StoredPassage, citation: Citation) -> bool:
    """Overlapping or touching passages of one document say the same thing twice."""
    return row.doc_id == citation.doc_id and row.start <= citation.end and citation.start <= row.end


_this_thread = threading.local()


def _configure_threads() -> None:
    """One FAISS thread per question: its thread pool costs more than it saves on one query
    (docs/PERFORMANCE.md). OpenMP keeps the setting per thread, so it is set once in every thread
    that asks (a server asks from its worker threads, not from the one that opened the collection).
    Batch jobs that search many vectors at once may raise it again in their own thread."""
    if getattr(_this_thread, "faiss_threads_set", False):
        return
    import faiss

    faiss.omp_set_num_threads(1)
    _this_thread.faiss_threads_set = True
