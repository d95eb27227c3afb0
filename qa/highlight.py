"""Which sentence of a passage to light up: the one that best matches the question."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from qa.answers import Highlight
from qa.sentences import SentenceScore, best, score_sentences


def best_sentence(passage: str, terms: Sequence[str], idf: Mapping[str, float] | None = None) -> Highlight:
    """Offsets (within `passage`) of its sentence scoring best against the question's terms.

    Scored by BM25 with the index's IDF when given, so a rare word of the question counts for
    more than a common one; without it every question term weighs the same.
    """
    if idf is None:
        idf = dict.fromkeys(terms, 1.0)
    chosen = best(score_sentences([passage], terms, idf)[0])
    return to_highlight(chosen) if chosen else Highlight(start=0, end=len(passage))


def to_highlight(sentence: SentenceScore) -> Highlight:
    return Highlight(start=sentence.start, end=sentence.end)
