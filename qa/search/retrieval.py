"""Finding candidate passages: dense (FAISS) and lexical (BM25) scores fused into one ranking.

Hybrid ranking, as measured on the public sets (docs/EVALUATION.md):
1. candidates are the union of the dense and the BM25 top `candidates`;
2. each is scored `dense_weight · cosine + (1 - dense_weight) · lexical`, where `lexical` is the
   passage's BM25 score blended with the BM25 score of its best sentence, each divided by the
   best such score among the candidates (so both lie in 0–1 like the cosine);
3. sentences are scored only for the `rerank_depth` best candidates of a first pass (the
   passage-level sum); the rest keep their first-pass order below them;
4. among those leading candidates, the structure of the pages counts (issue 18): a passage of a
   structured page (one with a section path) gains from the best other leading passage of the
   same page, by how far it stands above the weakest leading candidate, so the page that
   explains a topic in several sections beats a page that mentions it once; a passage made
   mostly of short lines that are not prose (menus, link lists, index entries) loses a little,
   and so does one under a dated heading (release notes, news) unless the question names a
   version or a year, and one without a sentence in words (a shell session, a signature) unless
   the question names code; a question that asks what a thing is prefers a passage under an
   Introduction, Overview, Description or Summary heading (qa.text.questions);
5. when the question asks for a number ("How many…", "When…"), a sentence holding a digit counts
   double in step 3.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Protocol, get_args

import numpy as np

from qa.search.arrays import distinct
from qa.search.confidence import NONE as NO_CONFIDENCE
from qa.search.confidence import Confidence
from qa.search.sentence_scores import SentenceScore, best, score_sentences, sentence_offsets
from qa.text.prose import is_furniture_line, is_introduction, is_prose_sentence
from qa.text.questions import asks_for_code, asks_for_number, asks_what_it_is, is_dated, is_overview, names_a_release

Mode = Literal["hybrid", "dense", "bm25"]
MODES: tuple[Mode, ...] = get_args(Mode)


@dataclass(frozen=True)
class RetrievalSettings:
    """How passages are found (tuned in docs/EVALUATION.md); qa.search.confidence judges the result."""

    mode: Mode = "hybrid"
    candidates: int = 100
    dense_weight: float = 0.7
    sentence_weight: float = 0.5
    rerank_depth: int = 20
    page_support: float = 0.4
    furniture_penalty: float = 0.1
    number_boost: float = 1.0
    # Page support counts from the weakest leading candidate up (False: the whole fused score, as
    # before 2026-12-05; kept so benchmarks/rank_structure.py can measure the two in one run).
    support_above_head: bool = True
    dated_penalty: float = 0.1
    # Search a question's word in its other spelling ("licence", "license") where the documents hold
    # only that one (qa.text.spelling; the searcher applies it).
    respell: bool = True
    # Search a question's hyphenated word closed up as well ("e-mail" -> "email") where the
    # documents hold that form (qa.text.spelling.closed_up).
    close_up: bool = True
    # A section cut into two passages, both among this many leading hits, is quoted as one
    # (Searcher.answer_passages); 0 quotes every passage alone, as before 2026-12-05.
    join_depth: int = 20
    # A structured passage holding no whole prose sentence (a shell session, a signature, a bare
    # term) loses this much, unless the question names code (`asks_for_code`); 0 as before
    # 2026-12-05 (docs/EVALUATION.md).
    no_prose_penalty: float = 0.1
    # A question that asks what something is ("What does the VACUUM command do?") adds this much to
    # a structured passage under an Introduction, Overview, Description or Summary heading, where
    # documentation says what a thing is (`asks_what_it_is`, `is_overview`); 0 as before
    # 2026-12-05 (docs/EVALUATION.md).
    overview_bonus: float = 0.1


@dataclass(frozen=True)
class Query:
    """A question made ready once: what is searched, its search terms and its vector."""

    text: str
    terms: list[str]
    vector: np.ndarray


@dataclass(frozen=True)
class Hit:
    passage_id: int
    score: float
    dense: float
    lexical: float
    sentence: SentenceScore | None = None


@dataclass(frozen=True)
class Ranking:
    """Hits for a question in its conversation: `query` is what was searched, `confidence` how
    surely the best hit answers (set by the collection, qa.search.confidence)."""

    query: Query
    hits: list[Hit]
    idf: Mapping[str, float]
    confidence: Confidence = NO_CONFIDENCE
    # The query terms some passage the search could reach holds (set by the searcher): all of
    # `idf`'s unless a filter or a key's scope kept documents out.
    held: frozenset[str] = frozenset()

    @property
    def confident(self) -> bool:
        return self.confidence.confident


class Candidate(Protocol):
    """What ranking reads of a candidate passage (a stored passage row has it)."""

    text: str
    doc_id: str
    section: Sequence[str]


Candidates = Callable[[Sequence[int]], Mapping[int, Candidate]]


@dataclass(frozen=True)
class HeadCandidates:
    """The leading candidates re-ranked by their best sentence, as `HybridRetriever.head_lexical`
    sees them: their passage BM25 and best-sentence BM25 (each scaled to the best candidate's),
    their texts, and the question's terms with their IDF."""

    lexical_norm: np.ndarray
    sentence_norm: np.ndarray
    texts: list[str]
    terms: list[str]
    idf: Mapping[str, float]


class HybridRetriever:
    """Dense and BM25 candidates fused, the leading ones re-ranked by their best sentence.

    Two public hooks let an experiment change one step without copying the rest (benchmarks/
    rank_windows.py, rank_coverage.py): `dense_scores` and `head_lexical`.
    """

    def __init__(self, settings: RetrievalSettings = RetrievalSettings()) -> None:
        self.settings = settings

    def rank(self, source, query: Query, k: int, texts: Candidates, mode: Mode | None = None, allowed=None) -> Ranking:
        """The `k` best passages, best first; `texts(ids)` gives the leading candidates' rows
        (text, document, section path) for sentence scoring and the page signals.

        With `allowed` (the passages a filter lets through), both the dense and the lexical
        candidates come from those passages only, so `k` come back whenever `k` of them match.
        """
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; expected one of {', '.join(MODES)}")
        n = max(k, self.settings.candidates)
        idf = source.bm25.idf(query.terms)
        if allowed is not None and not allowed.count:
            return Ranking(query=query, hits=[], idf=idf)
        candidate_ids: list[np.ndarray] = []
        if mode != "bm25":
            candidate_ids.append(source.search_vectors(query.vector, n, allowed))
        lexical_ids, lexical_scores = (
            source.lexical_scores(query.terms, allowed, best=n, also=candidate_ids[0] if candidate_ids else None)
            if mode != "dense"
            else (np.zeros(0, np.int64), np.zeros(0, np.float32))
        )
        if len(lexical_ids):
            top = np.argpartition(-lexical_scores, min(n, len(lexical_ids)) - 1)[:n]
            candidate_ids.append(lexical_ids[top[lexical_scores[top] > 0]])
        ids = distinct(np.concatenate(candidate_ids)) if candidate_ids else np.zeros(0, dtype=np.int64)
        hits = self._score(source, query, ids, lexical_ids, lexical_scores, idf, texts, k, mode) if len(ids) else []
        return Ranking(query=query, hits=hits, idf=idf)

    def _score(self, source, query, ids, lexical_ids, lexical_scores, idf, texts, k, mode) -> list[Hit]:
        dense = self.dense_scores(source, query, ids)
        lexical = np.zeros(len(ids), dtype=np.float32)
        if len(lexical_ids):
            positions = np.clip(np.searchsorted(lexical_ids, ids), 0, len(lexical_ids) - 1)
            lexical = np.where(lexical_ids[positions] == ids, lexical_scores[positions], 0).astype(np.float32)
        if mode == "dense":
            return _hits(ids, dense, dense, lexical, k)
        if mode == "bm25":
            return _hits(ids, lexical, dense, lexical, k)
        weight = self.settings.dense_weight
        lexical_norm = lexical / lexical.max() if lexical.max() > 0 else lexical
        fused = weight * dense + (1 - weight) * lexical_norm
        if self.settings.sentence_weight <= 0:
            return _hits(ids, fused, dense, lexical, k)
        return self._rerank_by_sentences(ids, fused, dense, lexical, lexical_norm, query, idf, texts, k)

    def dense_scores(self, source, query: Query, ids: np.ndarray) -> np.ndarray:
        """Hook: the question's cosine to each candidate (exact, from the stored vectors)."""
        return source.vectors(ids) @ query.vector

    def _rerank_by_sentences(self, ids, fused, dense, lexical, lexical_norm, query, idf, texts, k) -> list[Hit]:
        """Blend in each leading candidate's best-sentence BM25; the others follow unchanged."""
        terms = query.terms
        order = np.argsort(-fused, kind="stable")
        head = order[: self.settings.rerank_depth]
        found = texts([int(i) for i in ids[head]])
        head_rows = [found.get(int(i)) for i in ids[head]]
        head_texts = [row.text if row is not None else "" for row in head_rows]
        scored = score_sentences(head_texts, terms, idf)
        if self.settings.number_boost and asks_for_number(query.text):
            scored = [
                with_numbers_weighted(row, text, self.settings.number_boost) for row, text in zip(scored, head_texts)
            ]
        best_sentences = [best(row) for row in scored]
        sentence = np.array([s.score if s else 0.0 for s in best_sentences], dtype=np.float32)
        sentence_norm = sentence / sentence.max() if sentence.max() > 0 else sentence
        weight = self.settings.dense_weight
        lexical_head = self.head_lexical(HeadCandidates(lexical_norm[head], sentence_norm, head_texts, terms, idf))
        rescored = weight * dense[head] + (1 - weight) * lexical_head
        rescored = rescored + self.page_signals(head_rows, fused[head], query.text)
        head_order = np.argsort(-rescored, kind="stable")
        hits = [
            Hit(
                int(ids[head[i]]), float(rescored[i]), float(dense[head[i]]), float(lexical[head[i]]), best_sentences[i]
            )
            for i in head_order[:k]
        ]
        for i in order[len(head) :][: max(0, k - len(hits))]:
            hits.append(Hit(int(ids[i]), float(fused[i]), float(dense[i]), float(lexical[i])))
        return hits

    def page_signals(self, rows: Sequence[Candidate | None], fused: np.ndarray, question: str = "") -> np.ndarray:
        """What the leading candidates' pages add to their scores: how far the best other leading
        passage of the same structured page stands above the weakest leading candidate (times
        `page_support`); less the share of the passage's text in furniture lines (times
        `furniture_penalty`); `dated_penalty` for a passage under a dated heading (a release
        note, a news item) unless the question names a version or a year; `no_prose_penalty` for
        a passage of a structured page that says nothing in words (a shell session, a signature,
        a term alone) unless the question names code, so that a question in words gets an
        answer in words; and `overview_bonus` added under an overview heading when the question
        asks what something is.

        Support counted from the weakest candidate up, not from zero: a long page (a change log,
        the C API on one page) places a second passage among the leading ones for almost any
        question, and a flat bonus for that outranked the page whose one passage matched best."""
        settings = self.settings
        extra = np.zeros(len(rows), dtype=np.float32)
        best_of_page: dict[str, list[float]] = {}
        floor = float(fused.min()) if settings.support_above_head and len(fused) else 0.0
        dated_question = names_a_release(question)
        code_question = asks_for_code(question)
        what_it_is = asks_what_it_is(question)
        for row, score in zip(rows, fused):
            if row is not None and row.section:
                best_of_page.setdefault(row.doc_id, []).append(float(score))
        for i, row in enumerate(rows):
            if row is None:
                continue
            if settings.page_support and row.section:
                others = sorted(best_of_page[row.doc_id], reverse=True)
                others.remove(float(fused[i]))
                extra[i] += settings.page_support * (others[0] - floor if others else 0.0)  # floor: the head's least
            if settings.furniture_penalty:
                extra[i] -= settings.furniture_penalty * furniture_share(row.text)
            if settings.dated_penalty and not dated_question and is_dated(tuple(row.section)):
                extra[i] -= settings.dated_penalty
            if settings.overview_bonus and what_it_is and row.section and is_overview(row.section[-1]):
                extra[i] += settings.overview_bonus
            if settings.no_prose_penalty and row.section and not code_question and not holds_prose(row.text):
                extra[i] -= settings.no_prose_penalty
        return extra

    def head_lexical(self, head: HeadCandidates) -> np.ndarray:
        """Hook: the lexical half of each leading candidate's score, its passage BM25 blended with
        its best sentence's."""
        a = self.settings.sentence_weight
        return (head.lexical_norm + a * head.sentence_norm) / (1 + a)


def _hits(ids, scores, dense, lexical, k) -> list[Hit]:
    order = np.argsort(-scores, kind="stable")[:k]
    return [Hit(int(ids[i]), float(scores[i]), float(dense[i]), float(lexical[i])) for i in order]


@lru_cache(maxsize=16384)
def holds_prose(text: str) -> bool:
    """Whether the passage says something in words: one of its sentences is a whole prose sentence,
    or one of its paragraphs introduces what follows ("Install it with pip:"; qa.text.prose)."""
    return any(is_prose_sentence(text[start:end]) for start, end in sentence_offsets(text)) or any(
        is_introduction(block) for block in text.split("\n\n")
    )


@lru_cache(maxsize=16384)
def furniture_share(text: str) -> float:
    """The share of a passage's characters in lines that are page furniture, not prose; cached, as
    the same passages lead question after question (it was a tenth of a question's ranking)."""
    lines = [line for line in text.split("\n") if line.strip()]
    total = sum(len(line) for line in lines)
    return sum(len(line) for line in lines if is_furniture_line(line)) / total if total else 0.0


_DIGIT = re.compile(r"\d")


def with_numbers_weighted(sentences: Sequence[SentenceScore], text: str, boost: float) -> list[SentenceScore]:
    """A question that asks for a number is answered by a sentence that holds one: such a
    sentence's BM25 counts (1 + boost) times."""
    return [
        SentenceScore(s.start, s.end, s.score * (1 + boost)) if _DIGIT.search(text[s.start : s.end]) else s
        for s in sentences
    ]
