"""The collection: one open index folder that the CLI, the HTTP API and the evaluator all ask."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from qa.answers import Answer, AnswerPassage, Citation, DocumentInfo, DocumentText, Highlight, IndexStats
from qa.errors import DocumentNotFound, IndexMismatch, InvalidQuestion
from qa.followup import followup_query
from qa.highlight import best_sentence, to_highlight
from qa.indexing import IndexReport, index_documents, index_paths
from qa.paths import default_index_dir, ensure_default_index
from qa.retrieval import Hit, HybridRetriever, Ranking, RetrievalSettings
from qa.store import (
    LEXICAL_FOLDER,
    PASSAGES_FILE,
    VECTORS_FILE,
    PassageReader,
    read_manifest,
    rebuild_hint,
)

MAX_QUESTION_CHARS = 2000

__all__ = [
    "Collection",
    "IndexReport",
    "default_index_dir",
    "ensure_default_index",
    "index_documents",
    "index_paths",
    "validate_question",
]


def validate_question(question: str) -> str:
    """The question stripped, or InvalidQuestion with what is wrong."""
    if not isinstance(question, str) or not question.strip():
        raise InvalidQuestion('The question is empty; ask something, e.g. qa ask "Who is Moussa Koussa?"')
    question = question.strip()
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestion(f"The question is {len(question)} characters long; the limit is {MAX_QUESTION_CHARS}.")
    return question


class Collection:
    """An index opened for questions: thread-safe, loads the model and vectors once."""

    def __init__(self, index_dir: Path, manifest, encoder, retriever: HybridRetriever, passages: PassageReader):
        self.index_dir = index_dir
        self.manifest = manifest
        self.encoder = encoder
        self.retriever = retriever
        self._passages = passages
        self._encode_lock = threading.Lock()

    @classmethod
    def open(cls, index_dir: Path, model: str | None = None, settings: RetrievalSettings | None = None) -> Collection:
        """Open and check an index; mismatches raise a QAError that says what to run."""
        from embeddings import Encoder
        from embeddings.vector_index import VectorIndex
        from qa.lexical import LexicalIndex

        index_dir = Path(index_dir).expanduser().resolve()
        manifest = read_manifest(index_dir)
        encoder = Encoder(model if model is not None else manifest.model.name, quantized=manifest.model.quantized)
        hint = rebuild_hint(index_dir, manifest)
        if encoder.name != manifest.model.name:
            raise IndexMismatch(
                f"The index at {index_dir} was built with {manifest.model.name}, not {encoder.name}. "
                f"Ask without --model, or rebuild it: {hint} --model {model}"
            )
        try:
            vectors = VectorIndex.load(index_dir / VECTORS_FILE)
            lexical = LexicalIndex.load(index_dir / LEXICAL_FOLDER)
            passages = PassageReader(index_dir / PASSAGES_FILE)
            stored = passages.db.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
        except Exception as error:  # FAISS, SQLite and numpy raise their own kinds
            raise IndexMismatch(f"The index at {index_dir} is damaged ({error}). Rebuild it: {hint}") from error
        counts = {len(vectors), stored, len(lexical.passage_ids), manifest.counts.passages}
        if len(counts) != 1:
            raise IndexMismatch(
                f"The index at {index_dir} is inconsistent ({len(vectors)} vectors, {stored} passages). "
                f"Rebuild it: {hint}"
            )
        if vectors.dimension != manifest.model.dimension:
            raise IndexMismatch(
                f"The index at {index_dir} holds {vectors.dimension}-d vectors, its model gives "
                f"{manifest.model.dimension}-d. Rebuild it: {hint}"
            )
        retriever = HybridRetriever(vectors, lexical, settings or RetrievalSettings(), _text_reader(passages))
        encoder.warm_up()
        return cls(index_dir, manifest, encoder, retriever, passages)

    def embed_query(self, text: str):
        return self.encoder.encode_queries([text])[0]

    def search(self, query: str, k: int, mode: str | None = None) -> list[Hit]:
        """Ranked passage hits for a query, as it is."""
        return self.retriever.search(self.embed_query(query), query, k, mode)

    def rank(self, question: str, k: int, history: Sequence[str] = (), mode: str | None = None) -> Ranking:
        """The `k` best passages for a question in its conversation, and whether the best one
        answers it confidently (the evaluator calls this directly)."""
        query = followup_query(question, history)
        hits = self.search(query, k, mode)
        return Ranking(query=query, hits=hits, confident=self.retriever.confident(hits))

    def ask(self, question: str, top_k: int = 5, history: Sequence[str] = (), mode: str | None = None) -> Answer:
        """The `top_k` best passages for a question, verbatim, with highlights and citations.

        `history` holds the earlier questions of a conversation, oldest first; `answered` is
        false when no passage answers confidently (the passages are still returned).
        """
        question = validate_question(question)
        started = time.perf_counter()
        ranking = self.rank(question, top_k * 4, history, mode)
        passages = self._answer_passages(ranking.hits, ranking.query, top_k)
        took_ms = (time.perf_counter() - started) * 1000
        return Answer(
            question=question,
            answered=bool(passages) and ranking.confident,
            took_ms=round(took_ms, 2),
            passages=passages,
        )

    def _answer_passages(self, hits: list[Hit], question: str, top_k: int) -> list[AnswerPassage]:
        rows = self._passage_rows([hit.passage_id for hit in hits])
        chosen: list[AnswerPassage] = []
        for hit in hits:
            row = rows.get(hit.passage_id)
            if row is None or any(_same_spot(row, kept.citation) for kept in chosen):
                continue
            chosen.append(
                AnswerPassage(
                    rank=len(chosen) + 1,
                    score=round(hit.score, 4),
                    text=row["text"],
                    highlight=self._highlight(hit, row["text"], question),
                    citation=Citation(
                        doc_id=row["doc_id"],
                        source=row["source"],
                        title=row["title"],
                        start=row["start"],
                        end=row["end"],
                        page=row["page"],
                    ),
                )
            )
            if len(chosen) == top_k:
                break
        return chosen

    def _highlight(self, hit: Hit, text: str, question: str) -> Highlight:
        """The sentence the ranking already found best, else the best one scored now."""
        if hit.sentence is not None and hit.sentence.score > 0:
            return to_highlight(hit.sentence)
        return best_sentence(text, question, self.retriever.lexical.idf)

    def _passage_rows(self, ids: list[int]) -> dict:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        query = (
            f'SELECT p.id, p.doc_id, p.start, p."end", p.page, p.text, d.title, d.source '
            f"FROM passages p JOIN documents d USING (doc_id) WHERE p.id IN ({marks})"
        )
        return {row["id"]: row for row in self._passages.db.execute(query, ids)}

    def documents(self) -> list[DocumentInfo]:
        query = (
            "SELECT d.doc_id, d.title, d.source, d.page_starts, COUNT(p.id) AS passages "
            "FROM documents d LEFT JOIN passages p USING (doc_id) GROUP BY d.doc_id ORDER BY d.source, d.doc_id"
        )
        return [_document_info(row) for row in self._passages.db.execute(query)]

    def document(self, doc_id: str) -> DocumentText:
        row = self._passages.db.execute(
            "SELECT d.*, (SELECT COUNT(*) FROM passages p WHERE p.doc_id = d.doc_id) AS passages "
            "FROM documents d WHERE d.doc_id = ?",
            (doc_id,),
        ).fetchone()
        if row is None:
            raise DocumentNotFound(f"No document with id {doc_id!r} in this index.")
        return DocumentText(**_document_info(row).model_dump(), text=row["text"])

    def stats(self) -> IndexStats:
        manifest = self.manifest
        return IndexStats(
            path=str(self.index_dir),
            documents=manifest.counts.documents,
            passages=manifest.counts.passages,
            model=manifest.model.name,
            dimension=manifest.model.dimension,
            created=manifest.created,
            updated=manifest.updated,
        )


def _text_reader(passages: PassageReader):
    """Passage texts by id, for scoring their sentences while ranking."""

    def texts(ids: Sequence[int]) -> dict[int, str]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = passages.db.execute(f"SELECT id, text FROM passages WHERE id IN ({marks})", list(ids))
        return {row["id"]: row["text"] for row in rows}

    return texts


def _same_spot(row, citation: Citation) -> bool:
    """Overlapping or touching passages of one document say the same thing twice."""
    return row["doc_id"] == citation.doc_id and row["start"] <= citation.end and citation.start <= row["end"]


def _document_info(row) -> DocumentInfo:
    pages = json.loads(row["page_starts"]) if row["page_starts"] else None
    return DocumentInfo(
        doc_id=row["doc_id"],
        title=row["title"],
        source=row["source"],
        passages=row["passages"],
        pages=len(pages) if pages else None,
    )
