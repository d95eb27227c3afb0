"""Which sentence of a passage to light up: the one that best matches the question."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from qa.answers import Context, Highlight
from qa.search.sentence_scores import SentenceScore, best, score_sentences, sentence_offsets
from qa.text.prose import BULLETS, MIN_WORDS, ends_like_a_sentence, is_pointer, is_prose_sentence, is_question


def best_sentence(passage: str, terms: Sequence[str], idf: Mapping[str, float] | None = None) -> Highlight:
    """Offsets (within `passage`) of its sentence scoring best against the question's terms.

    Scored by BM25 with the index's IDF when given, so a rare word of the question counts for
    more than a common one; without it every question term weighs the same.
    """
    if idf is None:
        idf = dict.fromkeys(terms, 1.0)
    return answer_highlight(passage, score_sentences([passage], terms, idf)[0])


def answer_highlight(passage: str, scored: Sequence[SentenceScore]) -> Highlight:
    """`_answer_highlight`, from its first word: a list item's bullet is lit by neither."""
    return without_bullet(passage, _answer_highlight(passage, scored))


def _answer_highlight(passage: str, scored: Sequence[SentenceScore]) -> Highlight:
    """The best-scoring sentence that reads as an answer (a whole prose sentence: qa.text.prose,
    and not a pointer elsewhere where another matches), so a heading, a code line or a fragment
    that matches more words does not win; where no prose
    sentence matches, the sentence that says in words what the best match names (a signature, a
    heading, a term, then a sentence about it), else the block (the lines between blank lines)
    around the best match."""
    prose = [s for s in scored if s.score > 0 and is_prose_sentence(passage[s.start : s.end])]
    prose = [s for s in prose if not is_pointer(passage[s.start : s.end])] or prose  # "See X." says nothing of X
    if prose:
        top = best(prose)
        return answer_after(passage, top, scored) or to_highlight(top)
    top = best(scored)
    if top is None:
        return Highlight(start=0, end=len(passage))
    if top.score > 0:
        return described_after(passage, top, scored) or block_around(passage, top)
    first_prose = next((s for s in scored if is_prose_sentence(passage[s.start : s.end])), None)
    return to_highlight(first_prose or top)


def answer_after(passage: str, matched: SentenceScore, scored: Sequence[SentenceScore]) -> Highlight | None:
    """When the best match is a question the passage asks (a FAQ's "How can I compare contents of
    an archive to my local filesystem?"), the first whole prose sentence after it that is not a
    question: the answer, which a FAQ gives right below its question. None when the match is no
    question, or nothing after it answers."""
    if not is_question(passage[matched.start : matched.end]):
        return None
    after = (s for s in scored if s.start >= matched.end)
    answer = next((s for s in after if is_statement(passage[s.start : s.end])), None)
    return to_highlight(answer) if answer is not None else None


def is_statement(sentence: str) -> bool:
    """A whole prose sentence that says something: not a question, nor a pointer elsewhere."""
    return is_prose_sentence(sentence) and not is_question(sentence) and not is_pointer(sentence)


def described_after(passage: str, matched: SentenceScore, scored: Sequence[SentenceScore]) -> Highlight | None:
    """The first sentence of the block right after the one `matched` is in, when that block names
    something (a signature, a heading, a term: it does not end like a sentence) and the sentence
    is a whole prose sentence: an API page's "int sqlite3_busy_timeout(sqlite3*, int ms);" is
    followed by "This routine sets a busy handler …", which answers what the name does, though only
    the signature holds the name."""
    start = passage.rfind("\n\n", 0, matched.start)
    end = passage.find("\n\n", matched.end)
    if ends_like_a_sentence(passage[start + 2 if start >= 0 else 0 : end if end >= 0 else len(passage)]):
        return None  # the match is in sentences, a fragment of prose: not a name that the next block explains
    after = next((s for s in scored if s.start >= end + 2), None) if end >= 0 else None
    if after is None or passage.rfind("\n\n", 0, after.start) != end:
        return None  # no next block, or the next sentence is not its first
    return to_highlight(after) if is_prose_sentence(passage[after.start : after.end]) else None


def block_around(passage: str, sentence: SentenceScore) -> Highlight:
    """The block of `passage` holding `sentence`: from the blank line before it to the one after.
    A block of a few words (a definition's term, a heading) goes on to the block after it, which
    says what the term is: the term alone answers nothing."""
    start = passage.rfind("\n\n", 0, sentence.start)
    end = passage.find("\n\n", sentence.end)
    start = 0 if start < 0 else start + 2
    if end >= 0 and len(passage[start:end].split()) < MIN_WORDS:
        end = passage.find("\n\n", end + 2)
    return Highlight(start=start, end=len(passage) if end < 0 else end)


def to_highlight(sentence: SentenceScore) -> Highlight:
    return Highlight(start=sentence.start, end=sentence.end)


# A list item's bullet, as a PDF or a text file keeps it in the text ("• All text/* types are …").
_BULLET = re.compile(rf"[{BULLETS}]\s+")


def without_bullet(passage: str, highlight: Highlight) -> Highlight:
    """The highlight from the sentence's first word: the bullet marking its list item is none."""
    bullet = _BULLET.match(passage, highlight.start, highlight.end)
    if bullet is None or bullet.end() >= highlight.end:
        return highlight
    return Highlight(start=bullet.end(), end=highlight.end)


# The short form: the highlight and one sentence either side (benchmarks/context_rule.py measured
# the alternatives on the seed questions and SQuAD). A neighbour of fewer words (a heading, a
# byline, a list marker) does not count as the context sentence, so the next one is taken too.
CONTEXT_SENTENCES = 1
MIN_NEIGHBOUR_WORDS = 4
MAX_SHORT_NEIGHBOURS = 2


def context_span(
    passage: str,
    highlight: Highlight,
    around: int = CONTEXT_SENTENCES,
    min_neighbour_words: int = MIN_NEIGHBOUR_WORDS,
) -> Context:
    """Offsets (within `passage`) of the highlighted sentence(s) with `around` sentences either side."""
    spans = sentence_offsets(passage)  # split once per passage text, not once per question
    inside = [i for i, (start, end) in enumerate(spans) if end > highlight.start and start < highlight.end]
    if not inside:  # the highlight lies between sentences: take the nearest one before it
        inside = [max([i for i, (start, _) in enumerate(spans) if start <= highlight.start], default=0)]
    first = _extend(passage, spans, inside[0], -1, around, min_neighbour_words)
    last = _extend(passage, spans, inside[-1], 1, around, min_neighbour_words)
    return Context(start=min(spans[first][0], highlight.start), end=max(spans[last][1], highlight.end))


def _extend(passage: str, spans: list[tuple[int, int]], index: int, step: int, around: int, min_words: int) -> int:
    """Walk `around` full sentences away from `index`; short ones on the way come along free."""
    taken = short = 0
    while taken < around and 0 <= index + step < len(spans):
        index += step
        start, end = spans[index]
        if len(passage[start:end].split()) < min_words and short < MAX_SHORT_NEIGHBOURS:
            short += 1
        else:
            taken += 1
    return index
