"""The structure of a document: its blocks (headings, paragraphs, list items, definitions, table
rows, code, quotes), each a span of the stored text. Readers of structured formats (HTML,
Markdown) build the text and its blocks together with `BlockText`, so every span is exact; passages
are then cut along them (`qa.ingest.sections`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from qa.text.normalize import normalize_text, wrapped_paragraphs

BlockKind = Literal[
    "heading", "paragraph", "item", "term", "description", "table_head", "row", "code", "quote", "text", "chrome"
]
# "text": words an author placed as they are, content however short (a slide's text box, speaker
# notes, a mail's header lines), where a short line is not page furniture as it is on a web page.
# "chrome": a block repeated across a site's pages (`qa.ingest.chrome`), in no passage.

# Kinds that run on from the block before them without a blank line: the entries of one list,
# definition list or table.
_LISTED = frozenset({"item", "term", "description", "table_head", "row"})


@dataclass(frozen=True)
class Block:
    """One block of a document: `text[start:end]` is its words. `level` is a heading's depth
    (1 for h1 … 6 for h6, 7 for a paragraph that is only bold words, which reads as a heading
    below them all); 0 for other kinds."""

    kind: BlockKind
    start: int
    end: int
    level: int = 0


class BlockText:
    """The stored text and its blocks, built block by block. Each piece is normalised as
    `normalize_text` would (so the text is still normalised text): prose has its line breaks
    made spaces, since the source's line wrapping is not structure; code keeps its lines."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.blocks: list[Block] = []
        self._page_starts: list[int] = []
        self._pages_waiting = 0  # pages begun whose first block is still to come

    def start_page(self) -> None:
        """The next block starts a new page (a slide, a message): `page_starts` says where. A page
        with no block starts where the next one does, so each page keeps its number."""
        self._pages_waiting += 1

    @property
    def page_starts(self) -> list[int] | None:
        """Where each page starts in `text`, or None when no page was started."""
        if not self._page_starts and not self._pages_waiting:
            return None
        return self._page_starts + [self._length] * self._pages_waiting

    def add(
        self, kind: BlockKind, raw: str, level: int = 0, keep_lines: bool = False, pages_within: Sequence[int] = ()
    ) -> Block | None:
        """Append a block (`keep_lines`: its line breaks are structure, as code's and a table
        row's cells are); None when it has no words. `pages_within`: where in `raw` the pages
        begun last start, for a block that runs on from one page into the next (a PDF's paragraph
        cut by the page break); the pages begun before them start with the block."""
        keep_lines = keep_lines or kind == "code"
        piece = self._normalized(raw, keep_lines)
        if not piece:
            return None
        if self.blocks:
            separator = "\n" if kind in _LISTED and self.blocks[-1].kind in _LISTED else "\n\n"
            self._parts.append(separator)
            self._length += len(separator)
        block = Block(kind, self._length, self._length + len(piece), level)
        self._parts.append(piece)
        self._length += len(piece)
        self.blocks.append(block)
        within = [
            block.start + self._offset_in(piece, raw[:at], keep_lines) for at in pages_within[: self._pages_waiting]
        ]
        self._page_starts += [block.start] * (self._pages_waiting - len(within)) + within
        self._pages_waiting = 0
        return block

    @staticmethod
    def _normalized(raw: str, keep_lines: bool) -> str:
        return normalize_text(raw) if keep_lines else normalize_text(" ".join(raw.split()))

    def _offset_in(self, piece: str, raw_before: str, keep_lines: bool) -> int:
        """Where the words after `raw_before` start in `piece`, its block's normalised text."""
        before = self._normalized(raw_before, keep_lines)
        if not piece.startswith(before):  # normalising joined something across the cut: its end
            return len(piece)
        return len(before) + (piece[len(before) : len(before) + 1].isspace())

    def add_preformatted(self, raw: str) -> None:
        """A block whose lines are kept as typed (HTML's `pre`, a reStructuredText or AsciiDoc literal block):
        code, unless a paragraph of it is hard-wrapped prose (a text file shown as it is, a
        program's report with its notes), which is a paragraph, so that its sentences are whole.
        The code around such paragraphs stays whole between them."""
        code: list[str] = []
        for paragraph, wrapped in wrapped_paragraphs(raw):
            if wrapped:
                self.add("code", "\n\n".join(code))
                self.add("paragraph", paragraph)
                code = []
            else:
                code.append(paragraph)
        self.add("code", "\n\n".join(code))

    def extend(self, other: BlockText) -> None:
        """Append the blocks of `other` (a chapter read on its own) after these."""
        for block in other.blocks:
            self.add(block.kind, other.text[block.start : block.end], block.level, keep_lines=True)

    @property
    def text(self) -> str:
        return "".join(self._parts)


def section_paths(text: str, blocks: list[Block] | tuple[Block, ...]) -> list[tuple[str, ...]]:
    """For each block, the headings above it, outermost first (a heading's own path ends with it).
    A heading that repeats the one it is under says nothing more, and is named once: a book's
    all-in-one page sets each chapter's title above the chapter's own ("Installation › Installation")."""
    open_headings: list[tuple[int, str]] = []
    paths = []
    for block in blocks:
        if block.kind == "heading":
            while open_headings and open_headings[-1][0] >= block.level:
                open_headings.pop()
            open_headings.append((block.level, heading_words(text[block.start : block.end])))
        names: list[str] = []
        for _, words in open_headings:
            if not names or words.casefold() != names[-1].casefold():
                names.append(words)
        paths.append(tuple(names))
    return paths


def heading_words(heading: str) -> str:
    """A heading as a section name: Markdown's `#` marks and trailing colons left out."""
    return heading.strip().lstrip("#").strip().rstrip("#").strip().rstrip(":").strip()
