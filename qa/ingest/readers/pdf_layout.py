"""A PDF page's text as blocks, from what pypdf reports of each piece of text it extracts: the font,
its size and where on the page it stands (its `visitor_text`; the pieces join into exactly the text
`extract_text` gives).

- Headings come from the outline (bookmarks) where the PDF has one: a line that reads as an entry's
  title on that entry's page, at the entry's depth. Without an outline, a short line set larger
  than the body text is a heading, its level the rank of its size among the headings' sizes; with
  one, so is such a line set smaller than every listed heading, below the outline's levels.
- Paragraphs end where the gap between lines is wider than the page's line spacing; list items
  start at a bullet; lines set in a monospace font are code, kept line by line.
- Running headers and footers (the same first or last line on many pages, page numbers aside) are
  page furniture and left out, as a web page's navigation is.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from qa.ingest.blocks import BlockKind, BlockText
from qa.text.normalize import digits_aside
from qa.text.prose import BULLETS, is_prose_line

# A line this much larger than the body text, and this short, reads as a heading.
HEADING_SCALE = 1.12
HEADING_MAX_WORDS = 20
# A gap between two lines this much wider than the page's usual line spacing ends a paragraph.
PARAGRAPH_GAP = 1.15
# A first or last line of a page repeated (digits aside) on this share of the pages is furniture.
FURNITURE_SHARE = 0.3
FURNITURE_MIN_PAGES = 3
_MONOSPACE = re.compile(r"mono|nimbusmon|courier|consolas|menlo|cmtt|typewriter|code", re.IGNORECASE)
_NUMBER = r"\(?(?:\d{1,2}|[a-z])[.)]"  # "1.", "(2)", "a)"
_BULLET = re.compile(rf"^\s*(?:[{BULLETS}·–—-]|{_NUMBER})\s+\S")
_ENUMERATOR = re.compile(rf"^\s*{_NUMBER}\s+\S")
_SECTION_NUMBER = re.compile(r"^(?:(?:chapter|appendix|section)\s+)?(?:\d+|[a-z])(?:\.\d+)*\.?\s+")
_PUNCTUATION = re.compile(r"[^\w\s]")
_PAGE_NUMBER = re.compile(r"^(?:\d{1,5}|[ivxlc]{1,7})$", re.IGNORECASE)
_EDGE_NUMBER = re.compile(r"^(\d{1,5})\b|\b(\d{1,5})$")
_BROKEN_WORD = re.compile(r"([^\W\d_])-$")  # a letter, then a hyphen at the line's end


@dataclass
class Line:
    """One line of a page: its text, the size most of its characters are set in, where it stands
    (None when pypdf did not say), and the share of its characters in a monospace font."""

    text: str
    size: float
    y: float | None
    monospace: float


@dataclass
class _LineBuilder:
    parts: list[str] = field(default_factory=list)
    sizes: Counter = field(default_factory=Counter)
    mono: int = 0
    y: float | None = None

    def add(self, text: str, size: float, y: float | None, monospace: bool) -> None:
        self.parts.append(text)
        letters = sum(not c.isspace() for c in text)
        self.sizes[size] += letters
        self.mono += letters if monospace else 0
        if self.y is None and letters:
            self.y = y

    def line(self) -> Line:
        letters = sum(self.sizes.values())
        size = self.sizes.most_common(1)[0][0] if letters else 0.0
        return Line("".join(self.parts), size, self.y, self.mono / letters if letters else 0.0)


def page_lines(page) -> list[Line]:
    """The lines of a pypdf page, in the order `extract_text` gives them."""
    lines: list[Line] = []
    current = _LineBuilder()

    def visit(text, cm, tm, font, font_size) -> None:
        nonlocal current
        scale = abs(tm[3] * cm[3]) or abs(tm[0] * cm[0]) or 1.0
        size = round(float(font_size) * scale, 1)
        y = float(tm[5] * cm[3] + cm[5]) if tm[5] else None
        name = str(font.get("/BaseFont", "")) if font else ""
        monospace = bool(_MONOSPACE.search(name))
        pieces = text.split("\n")
        for index, piece in enumerate(pieces):
            if index:
                lines.append(current.line())
                current = _LineBuilder()
            if piece:
                current.add(piece, size, y, monospace)

    page.extract_text(visitor_text=visit)
    lines.append(current.line())
    return lines


def outline_headings(reader) -> dict[int, dict[str, int]]:
    """{0-based page: {title as compared: level}} from the PDF's outline, or {} when it has none."""
    headings: dict[int, dict[str, int]] = {}

    def walk(entries, level: int) -> None:
        for entry in entries:
            if isinstance(entry, list):
                walk(entry, level + 1)
                continue
            try:
                page = reader.get_destination_page_number(entry)
            except Exception:  # an entry that points nowhere readable
                continue
            title = _compared(str(getattr(entry, "title", "") or ""))
            if page is not None and title:  # the page before too: a heading at the foot of a page
                for near in (page, page - 1):
                    headings.setdefault(near, {}).setdefault(title, min(level, 6))

    try:
        walk(reader.outline, 1)
    except Exception:  # a broken outline: headings by size instead
        return {}
    return headings


def add_pages(out: BlockText, pages: list[list[Line] | str], outline: dict[int, dict[str, int]]) -> None:
    """Append the pages to `out` as blocks, each page started with `out.start_page()`. A page given
    as a string (recognised by OCR) is paragraphs at its blank lines."""
    laid_out = [page for page in pages if not isinstance(page, str)]
    body = _body_size(laid_out)
    furniture = _furniture(laid_out)
    levels = _size_levels(pages, body, outline)
    leading = _leading(laid_out)
    gathered = _Gathered(out)
    for number, page in enumerate(pages):
        if isinstance(page, str):
            gathered.flush()
            out.start_page()
            for paragraph in re.split(r"\n\s*\n", page):
                out.add("paragraph", paragraph)
            continue
        _add_page(gathered, page, body, furniture, outline.get(number, {}) if outline else None, levels, leading)
    gathered.flush()


def _size_levels(pages: list[list[Line] | str], body: float, outline: dict[int, dict[str, int]]) -> dict[float, int]:
    """{type size: heading level} for the short lines set larger than the body. With an outline,
    only the sizes below all of its entries' (the sections it does not list, such as one heading
    per function in a reference), at levels below its deepest."""
    large = [
        (number, line)
        for number, page in enumerate(pages)
        if not isinstance(page, str)
        for line in page
        if _large(line, body)
    ]
    below, first_level = float("inf"), 1
    if outline:
        listed = [_size_key(line.size) for number, line in large if _compared(line.text) in outline.get(number, {})]
        if listed:
            below = min(listed)
            first_level = max(level for titles in outline.values() for level in titles.values()) + 1
    sizes = sorted({_size_key(line.size) for _, line in large if _size_key(line.size) < below}, reverse=True)
    return {size: min(rank, 6) for rank, size in enumerate(sizes, first_level)}


class _Gathered:
    """The block being gathered line by line, which a paragraph cut by a page break carries on to
    the next page: a sentence read whole, the next page starting inside it (`BlockText.add`'s
    `pages_within`)."""

    def __init__(self, out: BlockText) -> None:
        self.out = out
        self.kind: BlockKind | None = None
        self.level = 0
        self.lines: list[str] = []
        self.page_breaks: list[int] = []  # how many lines came before each page begun inside it
        self.previous: Line | None = None  # the last line, on this page
        # On the first page, before its first prose: a title page, whose short lines (its title,
        # authors, group, date) are "text", words the author placed as they are, kept in a passage
        # however short ("Thomas Leonard" above the MIME specification was in none, as furniture).
        self.front = True

    def flush(self) -> None:
        if self.lines and self.kind is not None:
            if self.kind == "code":
                self.out.add(self.kind, "\n".join(self.lines), self.level, keep_lines=True)
            else:
                whole = join_wrapped(self.lines)
                within = [len(_joined_prefix(self.lines[:count], whole)) for count in self.page_breaks]
                if self.front and self.kind == "paragraph" and is_prose_line(whole):
                    self.front = False  # the first prose ends the title page
                kind = "text" if self.front and self.kind == "paragraph" else self.kind
                self.out.add(kind, whole, self.level, pages_within=within)
        self.kind, self.level, self.lines, self.page_breaks = None, 0, [], []

    def new_page(self, first: Line | None, first_kind: BlockKind | None) -> None:
        """Begin a page whose first line is `first`: the block so far ends, unless it is a sentence
        the page break cut ("… found in a" | "directory is added …"), which goes on."""
        last = self.previous
        self.previous = None
        runs_on = (
            first is not None
            and last is not None
            and first_kind in ("paragraph", "code")
            and self.kind in ("paragraph", "item")
            and not _resized(last, first)
            and _cut_sentence(self.lines[-1], first.text)
        )
        if runs_on:
            self.page_breaks.append(len(self.lines))
        else:
            self.flush()
        self.front = self.front and last is None  # a page of lines behind: the title page is over
        self.out.start_page()


def _cut_sentence(last: str, first: str) -> bool:
    """Whether a page's last line and the next page's first read as one sentence cut in two: the
    last line does not end one, and the next starts in lower case, or the last ends on a comma or a
    broken word."""
    last, first = last.rstrip(), first.lstrip()
    if not first or _ends_sentence(last):
        return False
    return first[0].islower() or last.endswith((",", "-", "_"))


def _wrapped_number(previous: Line | None, line: Line) -> bool:
    """A line that starts with a number or a letter as a list item does ("0. With this …"), after a
    line that does not end its sentence ("… the string "NEW" and LEN !="): the line break put the
    number first, it numbers nothing."""
    return not _ends_sentence(previous) and bool(_ENUMERATOR.match(line.text))


def _ends_sentence(line: Line | str | None) -> bool:
    """Whether a line ends a sentence or introduces what follows it (or there is none): a line set
    in a monospace font after one that does not is a name in the sentence ("… is ASN1_" |
    "MAX_LENGTH_SIZE ."), not code."""
    text = (line.text if isinstance(line, Line) else line or "").rstrip().rstrip("\"')]}”’»")
    return not text or text.endswith((".", "!", "?", ":", ";"))


def _joined_prefix(lines: list[str], whole: str) -> str:
    """The words of `lines` as they begin `whole` (a word the break hyphenated loses its hyphen)."""
    before = join_wrapped(lines)
    return before if whole.startswith(before) else before[:-1]


def _line_kind(
    line: Line, body: float, outline: dict[str, int] | None, levels: dict[float, int]
) -> tuple[BlockKind, int]:
    heading = _heading_level(line, body, outline, levels)
    if heading:
        return "heading", heading
    if _BULLET.match(line.text):
        return "item", 0
    if line.monospace >= 0.8:
        return "code", 0
    return "paragraph", 0


def _add_page(
    gathered: _Gathered,
    page: list[Line],
    body: float,
    furniture: set[tuple[str, str]],
    outline: dict[str, int] | None,
    levels: dict[float, int],
    leading: float | None,
) -> None:
    lines = [line for line in page if line.text.strip()]
    for position, edge in _edges(lines).items():
        if edge is not None and edge in lines and _is_furniture(edge, body, furniture, position):
            lines.remove(edge)
    spacing = _line_spacing(lines, body)
    kinds = [_line_kind(line, body, outline, levels) for line in lines]
    gathered.new_page(lines[0] if lines else None, kinds[0][0] if kinds else None)
    for line, (line_kind, heading) in zip(lines, kinds):
        kind, level, previous = gathered.kind, gathered.level, gathered.previous
        gap = previous is not None and (_wide_gap(previous, line, spacing, leading) or _resized(previous, line))
        continues = (
            (line_kind == kind == "heading" and heading == level and previous is not None and not gap)
            or (line_kind == kind == "code")
            or (line_kind == "paragraph" and kind in ("paragraph", "item") and not gap)
            or (line_kind == "code" and kind in ("paragraph", "item") and not gap and not _ends_sentence(previous))
            or (line_kind == "item" and kind == "paragraph" and not gap and _wrapped_number(previous, line))
        )
        if not continues:
            gathered.flush()
            gathered.kind, gathered.level = line_kind, heading
        gathered.lines.append(line.text)
        gathered.previous = line


def join_wrapped(lines: list[str]) -> str:
    """The lines of a paragraph as one: a word that the line break hyphenated ("iden-" and
    "tifier", "ELE-" and "MENT") is whole again, and so is a name broken after an underscore
    ("ASN1_TAG_" and "ERROR"), so that each is found as the word it is; every other break is a
    space. A hyphen before a capital after a small letter ("Jean-" and "Pierre") stays; so does one
    before a digit or a symbol. A compound split at its own hyphen ("well-" and "known") loses
    it, as in every de-hyphenating reader: the page does not say which hyphen was typed."""
    joined = ""
    for line in (line.strip() for line in lines):
        broken = _BROKEN_WORD.search(joined)
        if broken and line[:1].isalpha() and line[0].islower() == broken.group(1).islower():
            joined = joined[:-1] + line
        elif joined.endswith("_") and line[:1].isalnum():
            joined += line
        else:
            joined = f"{joined} {line}" if joined else line
    return joined


def title_line(page: list[Line]) -> str | None:
    """The text of the page's largest line, if it is larger than every other line and short."""
    lines = [line for line in page if line.text.strip()]
    if len(lines) < 2:
        return None
    ordered = sorted(lines, key=lambda line: line.size, reverse=True)
    largest = ordered[0]
    if largest.size <= ordered[1].size or not _large(largest, _body_size([page])):
        return None
    return largest.text


def _heading_level(line: Line, body: float, outline: dict[str, int] | None, levels: dict[float, int]) -> int:
    if outline and (listed := outline.get(_compared(line.text))):
        return listed
    if _large(line, body):
        return levels.get(_size_key(line.size), 0)
    return 0


def _large(line: Line, body: float) -> bool:
    words = line.text.split()
    return (
        body > 0
        and line.size >= body * HEADING_SCALE
        and 0 < len(words) <= HEADING_MAX_WORDS
        and any(c.isalpha() for c in line.text)
    )


def _body_size(pages: list[list[Line]]) -> float:
    """The size most characters of the document are set in."""
    letters: Counter = Counter()
    for page in pages:
        for line in page:
            letters[_size_key(line.size)] += sum(not c.isspace() for c in line.text)
    return letters.most_common(1)[0][0] if letters else 0.0


def _size_key(size: float) -> float:
    return round(size * 2) / 2


def _line_spacing(lines: list[Line], body: float) -> float | None:
    """The page's usual distance from one line to the next: the lower quartile of the close ones, as
    the gaps between paragraphs and around headings are the wider ones."""
    gaps = sorted(
        a.y - b.y
        for a, b in zip(lines, lines[1:])
        if a.y is not None and b.y is not None and 0 < a.y - b.y <= max(body, 1.0) * 2.5
    )
    return gaps[len(gaps) // 4] if gaps else None


def _resized(previous: Line, line: Line) -> bool:
    """A change of type size between two lines (a title above its text) ends a block. A monospace
    font is often set a size smaller than the text around it ("… means" | "/usr/share/mime/…,"
    | "and …"): that change, up to 15 %, is the same text."""
    if not (previous.size and line.size):
        return False
    tolerance = 0.15 if max(previous.monospace, line.monospace) >= 0.8 else 0.1
    return abs(previous.size - line.size) > tolerance * min(previous.size, line.size)


def _leading(pages: list[list[Line]]) -> float | None:
    """The document's usual distance from one line to the next of the same type size, as a multiple
    of that size: the lower quartile over all its pages, as paragraphs' and headings' gaps are wider."""
    ratios = sorted(
        (a.y - b.y) / a.size
        for page in pages
        for a, b in zip(page, page[1:])
        if a.y is not None
        and b.y is not None
        and a.size
        and _size_key(a.size) == _size_key(b.size)
        and 0 < a.y - b.y <= a.size * 2.5
    )
    return ratios[len(ratios) // 4] if ratios else None


def _wide_gap(previous: Line, line: Line, spacing: float | None, leading: float | None) -> bool:
    """Whether the gap above `line` is wider than a line's: the page's line spacing, or the
    document's leading at this line's size where that is wider (a page of examples set small packs
    its lines closer than the text between them, whose every line would read as a paragraph)."""
    if leading and line.size:
        spacing = max(spacing or 0.0, leading * line.size)
    if spacing is None or previous.y is None or line.y is None:
        return False
    gap = previous.y - line.y
    return gap > spacing * PARAGRAPH_GAP or gap < 0  # a new column or a jump back up


def _furniture(pages: list[list[Line]]) -> set[tuple[str, str]]:
    """(position, key) of first and last lines that are page furniture: the same line on many pages
    (digits aside), or a line at the same place whose number goes up by one from page to page (a
    running head with its page number: "Chapter 2: Handling 3", then "… 4")."""
    edges = []
    for page in pages:
        ends = _edges([line for line in page if line.text.strip()])
        edges.append({position: line.text if line else "" for position, line in ends.items()})
    found: set[tuple[str, str]] = set()
    for position in ("first", "last"):
        keys = Counter(_furniture_key(edge[position]) for edge in edges if edge[position])
        if len(pages) >= FURNITURE_MIN_PAGES:
            needed = max(FURNITURE_MIN_PAGES, FURNITURE_SHARE * len(pages))
            found |= {(position, key) for key, count in keys.items() if count >= needed}
        numbers = [_edge_number(edge[position]) for edge in edges]
        for index, number in enumerate(numbers):
            if number is None:
                continue
            before = numbers[index - 1] if index else None
            after = numbers[index + 1] if index + 1 < len(numbers) else None
            if before == number - 1 or after == number + 1:
                found.add((position, _furniture_key(edges[index][position])))
    return found


def _edges(lines: list[Line]) -> dict[str, Line | None]:
    """The top and the bottom line of a page: by where they stand when pypdf says (a page's
    content need not be in reading order), else the first and the last."""
    placed = [line for line in lines if line.y is not None]
    if placed:
        return {"first": max(placed, key=lambda line: line.y), "last": min(placed, key=lambda line: line.y)}
    return {"first": lines[0] if lines else None, "last": lines[-1] if lines else None}


def _is_furniture(line: Line, body: float, furniture: set[tuple[str, str]], position: str) -> bool:
    text = line.text.strip()
    if _large(line, body) and not _PAGE_NUMBER.match(text):  # a title page's title is content
        return False
    return bool(_PAGE_NUMBER.match(text)) or (position, _furniture_key(text)) in furniture


def _edge_number(text: str) -> int | None:
    match = _EDGE_NUMBER.search(" ".join(text.split()))
    return int(match.group(1) or match.group(2)) if match else None


def _furniture_key(text: str) -> str:
    return digits_aside(text).lower()


def _compared(text: str) -> str:
    """A heading as the outline and the page are compared: case, spacing, punctuation ("Non-regular",
    "Nonregular") and a section number ("2.1", "A.3", "Appendix B") aside."""
    return _PUNCTUATION.sub("", _SECTION_NUMBER.sub("", " ".join(text.split()).lower())).strip()
