"""Passages that follow a document's structure (issue 18), for documents read as blocks (HTML,
Markdown; `qa.ingest.blocks`). Documents without blocks are cut by `qa.ingest.chunking` as before.

- A heading starts a passage and stays with its first block; so does a definition term, with its
  description. A table's header row stays with the rows that follow it while they fit.
- A block that ends with a colon ("… the following flags:") introduces the block after it and
  stays with it, as a heading does, unless a heading follows it and it fits the passage before.
  An introduction alone said nothing, yet won on the question's words.
- Blocks are packed whole while they fit the target; a longer block is cut at sentences (prose)
  or at blank lines, then lines (code), never in the middle of a word piece's run of text.
- Each passage carries its section path: the headings above it, outermost first.
- A passage of only short lines that are not prose (a menu, a list of links) is left out, as the
  plain chunker leaves such lines out, unless the document has nothing else.
- A chrome block (repeated across the site's pages, `qa.ingest.chrome`) is in no passage: the
  passages before and after it end and start there.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from qa.ingest.blocks import Block, section_paths
from qa.ingest.chunking import ChunkingSettings, TokenCounter, TokenSpans, _cut, is_prose
from qa.text.sentences import sentence_spans

DEFAULT_SETTINGS = ChunkingSettings()
# A long block's pieces leave this many word pieces of the target for the heading before them.
HEADING_ROOM = 32
# Kinds that are content on their own, however short (a table row, code, a definition).
_ALWAYS_CONTENT = frozenset({"code", "row", "table_head", "description", "text"})


@dataclass(frozen=True)
class SectionSpan:
    """A passage: `text[start:end]`, under the headings `section` (outermost first)."""

    start: int
    end: int
    section: tuple[str, ...]


@dataclass
class _Unit:
    start: int
    end: int
    tokens: int
    block: int  # index into the document's blocks


def split_sections(
    text: str,
    blocks: Sequence[Block],
    count_tokens: TokenCounter,
    token_spans: TokenSpans,
    max_tokens: int,
    settings: ChunkingSettings = DEFAULT_SETTINGS,
    page_starts: Sequence[int] | None = None,
) -> list[SectionSpan]:
    """Passages of at most `settings.target_tokens` word pieces (a heading glued to a block may
    take them up to `max_tokens`), cut along `blocks`. With `page_starts` (a PDF's, a slide deck's),
    a passage never runs on from one page into the next, so the page it cites is the page of all
    its words (a heading still keeps its first block when that block starts the next page)."""
    if not blocks:
        return []
    target = min(settings.target_tokens, max_tokens)
    paths = section_paths(text, blocks)
    counts = count_tokens([text[b.start : b.end] if b.kind != "chrome" else "" for b in blocks])
    units: list[_Unit] = []
    for index, (block, tokens) in enumerate(zip(blocks, counts)):
        if block.kind == "chrome":
            units.append(_Unit(block.start, block.end, 0, index))  # a break, then dropped
        elif tokens <= target:
            units.append(_Unit(block.start, block.end, tokens, index))
        else:
            pieces = _code_pieces if block.kind == "code" else _prose_pieces
            units += [
                _Unit(s, e, t, index) for s, e, t in pieces(text, block, count_tokens, token_spans, max_tokens, target)
            ]
    groups = _group(units, blocks, target, max_tokens, page_starts or (), text)
    content = [g for g in groups if any(is_content(text, blocks[u.block]) for u in g)]
    if not content:  # a document of short lines only is still searchable
        content = [g for g in groups if any(blocks[u.block].kind != "heading" for u in g)] or groups
    spans = []
    for group in content:
        first = next((u for u in group if not _leads(text, blocks, u)), group[-1])
        spans.append(SectionSpan(group[0].start, group[-1].end, paths[first.block]))
    return spans


def _group(
    units: list[_Unit], blocks: Sequence[Block], target: int, max_tokens: int, page_starts: Sequence[int], text: str
) -> list[list[_Unit]]:
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    used = 0
    for unit in units:
        kind = blocks[unit.block].kind
        if kind == "chrome":
            if current:
                groups.append(current)
            current, used = [], 0
            continue
        only_headings = all(blocks[u.block].kind == "heading" for u in current)
        only_leads = all(_leads(text, blocks, u) for u in current)
        starts_section = kind in ("heading", "term") and not only_leads
        # a heading keeps its first block, and an introduction what it introduces
        glued = current and only_leads and used + unit.tokens <= max_tokens
        new_page = (
            page_starts
            and current
            and not only_headings
            and _page(page_starts, unit.start) != _page(page_starts, current[0].start)
        )
        if current and (starts_section or new_page or (not glued and used + unit.tokens > target)):
            carried = (
                kind != "heading"
                and not new_page
                and _introduces(text, current[-1])
                and current[-1].tokens + unit.tokens <= max_tokens
            )
            moved = [current.pop()] if carried else []  # the introduction goes on with what it introduces
            if current:
                groups.append(current)
            current, used = moved, sum(u.tokens for u in moved)
        current.append(unit)
        used += unit.tokens
    if current:
        groups.append(current)
    return groups


def _introduces(text: str, unit: _Unit) -> bool:
    """A unit that ends with a colon introduces what follows it ("… the following flags:")."""
    return text[unit.start : unit.end].rstrip().endswith(":")


def _leads(text: str, blocks: Sequence[Block], unit: _Unit) -> bool:
    return blocks[unit.block].kind == "heading" or _introduces(text, unit)


def _page(page_starts: Sequence[int], offset: int) -> int:
    return bisect_right(page_starts, offset)


def is_content(text: str, block: Block) -> bool:
    """Whether a block is worth a passage: not a heading alone, nor a short line that is not prose."""
    if block.kind == "heading":
        return False
    return block.kind in _ALWAYS_CONTENT or is_prose(text[block.start : block.end])


def _prose_pieces(text, block, count_tokens, token_spans, max_tokens, target):
    """A long prose block cut at its sentences, packed to the target less room for a heading."""
    offsets = [(block.start + s, block.start + e) for s, e in sentence_spans(text[block.start : block.end])]
    return _pack(text, offsets, count_tokens, token_spans, max_tokens, target - HEADING_ROOM)


def _code_pieces(text, block, count_tokens, token_spans, max_tokens, target):
    """A long code block cut at blank lines; a part still too long, at its lines."""
    parts, start = [], block.start
    body = text[block.start : block.end]
    for chunk in body.split("\n\n"):
        if chunk.strip():
            parts.append((start, start + len(chunk)))
        start += len(chunk) + 2
    budget = target - HEADING_ROOM
    counts = count_tokens([text[s:e] for s, e in parts])
    lines = []
    for (s, e), tokens in zip(parts, counts):
        if tokens <= budget:
            lines.append((s, e))
            continue
        at = s
        for line in text[s:e].split("\n"):
            if line.strip():
                lines.append((at, at + len(line)))
            at += len(line) + 1
    return _pack(text, lines, count_tokens, token_spans, max_tokens, budget)


def _pack(text, spans, count_tokens, token_spans, max_tokens, budget):
    """Consecutive spans packed into pieces of at most `budget` word pieces; a span longer than
    the model reads is cut at word pieces (as chunking cuts a long sentence)."""
    counts = count_tokens([text[s:e] for s, e in spans])
    pieces: list[tuple[int, int, int]] = []
    start = end = used = 0
    for (s, e), tokens in zip(spans, counts):
        if tokens > max_tokens:
            if used:
                pieces.append((start, end, used))
                used = 0
            pieces += list(_cut(text, s, e, token_spans, max_tokens))
            continue
        if used and used + tokens > budget:
            pieces.append((start, end, used))
            used = 0
        if not used:
            start = s
        end, used = e, used + tokens
    if used:
        pieces.append((start, end, used))
    return pieces
