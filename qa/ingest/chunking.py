"""Splitting a document into passages: sentence-aware, paragraph-respecting, within the model's limit.

A passage is a span of the document text, so `text[start:end]` is always its exact words.
Short lines that are not prose (navigation, bylines, "Read Comments") never start or end a
passage, so they cannot come back alone as an answer. A paragraph that ends with a colon ("… has
failed:") starts the next passage, with what it introduces, rather than ending one (as
`qa.ingest.sections` does for documents with structure).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa.text.prose import is_prose_line as is_prose
from qa.text.sentences import sentence_spans

TokenCounter = Callable[[Sequence[str]], list[int]]
TokenSpans = Callable[[Sequence[str]], list[list[tuple[int, int]]]]

_LINE_BREAK = re.compile("\n")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class ChunkingSettings:
    """Sizes in word pieces; chosen by measurement (see docs/EVALUATION.md): 254, all that
    all-MiniLM-L6-v2 reads, ranks as well as 128 on SQuAD and SciFact once fused with BM25, and
    better on the seed questions, whose answers then sit less often in a neighbouring passage."""

    target_tokens: int = 254
    overlap_tokens: int = 48


@dataclass
class _Sentence:
    start: int
    end: int
    tokens: int
    paragraph: int
    prose: bool
    introduces: bool = False  # ends with a colon: "… has failed:" introduces what follows


def split_passages(
    text: str,
    count_tokens: TokenCounter,
    token_spans: TokenSpans,
    max_tokens: int,
    settings: ChunkingSettings = ChunkingSettings(),
) -> list[Span]:
    """Passages of about `settings.target_tokens`, never more than `max_tokens` word pieces."""
    sentences = _sentences(text, count_tokens, token_spans, max_tokens)
    if not sentences:
        return []
    if not any(sentence.prose for sentence in sentences):
        for sentence in sentences:  # a document that is all short lines is still searchable
            sentence.prose = True
    target = min(settings.target_tokens, max_tokens)
    groups = _pack(sentences, target, max_tokens, settings.overlap_tokens)
    spans = []
    for group in groups:
        prose = [i for i, sentence in enumerate(group) if sentence.prose]
        if prose:
            spans.append(Span(group[prose[0]].start, group[prose[-1]].end))
    return _unique(spans)


def _sentences(text, count_tokens, token_spans, max_tokens) -> list[_Sentence]:
    """The sentences of `text` with their token counts and lines; linear in the text: each line
    is judged prose once, not once per sentence on it."""
    spans = sentence_spans(text)
    counts = count_tokens([text[s:e] for s, e in spans])
    line_starts = [0] + [match.end() for match in _LINE_BREAK.finditer(text)]
    line_ends = [start - 1 for start in line_starts[1:]] + [len(text)]
    sentences, line, line_prose = [], 0, {}
    for (start, end), tokens in zip(spans, counts):
        while line + 1 < len(line_starts) and line_starts[line + 1] <= start:
            line += 1
        if line not in line_prose:
            line_prose[line] = is_prose(text[line_starts[line] : line_ends[line]])
        prose = line_prose[line]
        if tokens <= max_tokens:
            sentences.append(_Sentence(start, end, tokens, line, prose, text[end - 1] == ":"))  # spans are trimmed
            continue
        for piece_start, piece_end, piece_tokens in _cut(text, start, end, token_spans, max_tokens):
            sentences.append(_Sentence(piece_start, piece_end, piece_tokens, line, prose))
    return sentences


def _cut(text, start, end, token_spans, max_tokens):
    """A sentence longer than the model reads, cut into pieces at word-piece boundaries."""
    offsets = token_spans([text[start:end]])[0]
    for first in range(0, len(offsets), max_tokens):
        window = offsets[first : first + max_tokens]
        piece_start = start + window[0][0]
        piece_end = start + (offsets[first + max_tokens][0] if first + max_tokens < len(offsets) else end - start)
        piece = text[piece_start:piece_end]
        trimmed_end = piece_start + len(piece.rstrip())
        if trimmed_end > piece_start:
            yield piece_start, trimmed_end, len(window)


def _pack(sentences: list[_Sentence], target: int, max_tokens: int, overlap: int) -> list[list[_Sentence]]:
    """Whole paragraphs while they fit the target; a longer paragraph by sentences, overlapping."""
    paragraphs: list[list[_Sentence]] = []
    for sentence in sentences:
        if paragraphs and paragraphs[-1][0].paragraph == sentence.paragraph:
            paragraphs[-1].append(sentence)
        else:
            paragraphs.append([sentence])

    groups: list[list[_Sentence]] = []
    current: list[_Sentence] = []
    for paragraph in paragraphs:
        size = sum(s.tokens for s in paragraph)
        if current and sum(s.tokens for s in current) + size <= target:
            current.extend(paragraph)
            continue
        carried = _introduction(current, paragraph, target)
        if current:
            groups.append(current)
        current = carried
        if size <= target:
            current += paragraph
            continue
        for sentence in paragraph:
            used = sum(s.tokens for s in current)
            if current and used + sentence.tokens > target:
                groups.append(current)
                tail = current[-1]
                fits_overlap = tail.tokens <= overlap and tail.tokens + sentence.tokens <= max_tokens
                current = [tail] if fits_overlap and len(current) > 1 else []
            current.append(sentence)
    if current:
        groups.append(current)
    return groups


def _introduction(current: list[_Sentence], paragraph: list[_Sentence], target: int) -> list[_Sentence]:
    """The paragraph ending `current` when it introduces `paragraph` (it ends with a colon), taken
    off `current` to start the next passage with what it introduces: alone it says nothing, yet
    wins on the question's words. Kept where it is when it is all of `current`, or when the two
    would not fit the target together."""
    if not current or not current[-1].introduces:
        return []
    last = current[-1].paragraph
    intro = [s for s in current if s.paragraph == last]
    size = sum(s.tokens for s in paragraph)
    following = size if size <= target else paragraph[0].tokens  # a long paragraph goes by sentences
    if len(intro) == len(current) or sum(s.tokens for s in intro) + following > target:
        return []
    del current[-len(intro) :]
    return intro


def _unique(spans: list[Span]) -> list[Span]:
    """Drop a passage wholly inside the one before it (overlap can produce such slivers)."""
    kept: list[Span] = []
    for span in spans:
        if kept and kept[-1].start <= span.start and span.end <= kept[-1].end:
            continue
        kept.append(span)
    return kept
