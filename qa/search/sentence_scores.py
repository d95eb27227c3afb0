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
    """Every sentence of each passage scored against the question's terms."""
    weights = [(term, idf[term] * (SENTENCE_K1 + 1)) for term in terms if term in idf]
    split = [sentence_terms(text) for text in passages]
    lengths = [length for sentences in split for _, _, length, _ in sentences]
    average = max(1.0, sum(lengths) / len(lengths)) if lengths else 1.0
    scores: list[list[SentenceScore]] = []
    for sentences in split:
        row = []
        for start, end, length, counts in sentences:
            norm = SENTENCE_K1 * (1 - SENTENCE_B + SENTENCE_B * length / average)
            score = 0.0
            for term, weight in weights:
                if count := counts.get(term):
                    score += weight * count / (count + norm)
            row.append(SentenceScore(start, end, score))
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


def best(sentences: Sequence[SentenceScore]) -> SentenceScore | None:
    """The highest-scoring sentence, the earliest on a tie."""
    return max(sentences, key=lambda sentence: sentence.score, default=None)
