"""Which sentence of a passage to light up: the one sharing the most question terms."""

from __future__ import annotations

from qa.answers import Highlight
from qa.lexical import tokenize
from qa.text import sentence_spans


def best_sentence(passage: str, question: str) -> Highlight:
    """Offsets (within `passage`) of its sentence that best matches the question."""
    spans = sentence_spans(passage) or [(0, len(passage))]
    terms = set(tokenize([question])[0])
    sentence_terms = tokenize([passage[start:end] for start, end in spans])
    scores = [len(terms & set(tokens)) for tokens in sentence_terms]
    best = max(range(len(spans)), key=lambda i: (scores[i], -i))
    return Highlight(start=spans[best][0], end=spans[best][1])
