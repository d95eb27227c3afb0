"""Which sentence of a passage to light up: the one that best matches the question."""

from __future__ import annotations

from collections.abc import Mapping

from qa.answers import Highlight
from qa.sentences import SentenceScore, best, score_sentences


def best_sentence(passage: str, question: str, idf: Mapping[str, float] | None = None) -> Highlight:
    """Offsets (within `passage`) of its sentence scoring best against the question.

    Scored by BM25 with the index's IDF when given, so a rare word of the question counts for
    more than a common one; without it every question term weighs the same.
    """
    if idf is None:
        from qa.lexical import tokenize_query

        idf = dict.fromkeys(tokenize_query(question), 1.0)
    chosen = best(score_sentences([passage], question, idf)[0])
    return to_highlight(chosen) if chosen else Highlight(start=0, end=len(passage))


def to_highlight(sentence: SentenceScore) -> Highlight:
    return Highlight(start=sentence.start, end=sentence.end)
