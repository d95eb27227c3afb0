"""Scoring the sentences of passages against a question: BM25 with the index's own IDF.

A passage often answers with one sentence. Scoring sentences on their own lets a passage whose
one sentence holds most of the question rank above one that scatters the same words, and says
which sentence to light up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

from qa.text.sentences import sentence_spans

# BM25 saturation and length normalisation for sentences (the usual defaults; passages use
# qa.search.bm25's PASSAGE_K1 and PASSAGE_B).
SENTENCE_K1 = 1.2
SENTENCE_B = 0.75


class SentenceScore(NamedTuple):
    """A sentence of a passage, as offsets into the passage text, and its BM25 score (a named
    tuple: hundreds are made per question, and a tuple is made several times faster)."""

    start: int
    end: int
    score: float


def score_sentences(
    passages: Sequence[str], terms: Sequence[str], idf: Mapping[str, float]
) -> list[list[SentenceScore]]:
    """Every sentence of each passage scored against the question's terms. Only the sentences
    holding a term are scored (most hold none), adding the terms in the question's order, so each
    score is the same sum to the bit as a sentence-by-sentence loop's."""
    weights = [(term, idf[term] * (SENTENCE_K1 + 1)) for term in terms if term in idf]
    split = [sentence_terms(text) for text in passages]
    lengths = [length for sentences in split for _, _, length, _ in sentences]
    average = max(1.0, sum(lengths) / len(lengths)) if lengths else 1.0
    scores: list[list[SentenceScore]] = []
    for text, sentences in zip(passages, split):
        where, unscored = _term_sentences(text)
        totals: dict[int, float] = {}
        for term, weight in weights:
            found = where.get(term, ())
            for i, count in zip(found[::2], found[1::2]):
                norm = SENTENCE_K1 * (1 - SENTENCE_B + SENTENCE_B * sentences[i][2] / average)
                totals[i] = totals.get(i, 0.0) + weight * count / (count + norm)
        row = list(unscored)
        for i, total in totals.items():
            row[i] = SentenceScore(row[i].start, row[i].end, total)
        scores.append(row)
    return scores


def sentence_offsets(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of a passage, from the same cache as its terms."""
    return [(start, end) for start, end, _, _ in sentence_terms(text)]


@lru_cache(maxsize=16384)
def sentence_terms(text: str) -> tuple[tuple[int, int, int, Counter], ...]:
    """(start, end, term count, term frequencies) of each sentence; cached, since the same
    passages come back question after question."""
    from qa.text.analysis import analyze

    spans = sentence_spans(text) or [(0, len(text))]
    result = []
    for start, end in spans:
        words = analyze(text[start:end])
        result.append((start, end, len(words), Counter(words)))
    return tuple(result)


@lru_cache(maxsize=4096)
def _term_sentences(text: str) -> tuple[dict[str, tuple[int, ...]], tuple[SentenceScore, ...]]:
    """Each term of a passage with the sentences holding it, flat as (index, count, index, count,
    …), and the passage's sentences scored 0 (what a question none of whose terms they hold gives
    them). About 4.6 KB a passage of 600 characters: 4,096 of them are the leading passages of a few
    hundred recent questions."""
    where: dict[str, list[int]] = {}
    sentences = sentence_terms(text)
    for i, (_, _, _, counts) in enumerate(sentences):
        for term, count in counts.items():
            where.setdefault(term, []).extend((i, count))
    unscored = tuple(SentenceScore(start, end, 0.0) for start, end, _, _ in sentences)
    return {term: tuple(found) for term, found in where.items()}, unscored


def best(sentences: Sequence[SentenceScore]) -> SentenceScore | None:
    """The highest-scoring sentence, the earliest on a tie."""
    return max(sentences, key=lambda sentence: sentence.score, default=None)
