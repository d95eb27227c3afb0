"""AsciiDoc (.adoc, .asciidoc), read as blocks: section titles (`== Title`, or a line underlined
with `=`, `-`, `~`, `^` or `+` as older documents write them), paragraphs with their wrapped lines
joined, list items, description lists (`term::` and what follows it), listing and literal blocks
as code, example, sidebar, quote and open blocks read for what they hold, admonitions
(`NOTE: …`) as paragraphs, tables a row at a time. Comments, attribute entries, block attributes
and `include::`, `image::` or `ifdef::` lines are left out; inline markup reads as rendered
(`+`code`+` and `*strong*` without their marks, `link:url[text]` and `<<id,text>>` as their
text, `<<id>>` as the title of the section it names, `linkgit:git-add[1]` as "git-add(1)",
`{attribute}` as its value).

Hand-written, line by line, like the reStructuredText reader: the AsciiDoc processors are a Ruby
program and a GPL-licensed Python one that writes HTML, and a document is only wanted for its
blocks. `include::` is not followed, so a document reads as itself, whatever other files say.
Linear in the file: each line is looked at a bounded number of times.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from pathlib import Path

from qa.ingest.blocks import BlockText
from qa.ingest.readers.common import decode_bytes, parsed_from_blocks
from qa.ingest.readers.registry import ParsedFile, Reader, register

_TITLE = re.compile(r"^(={1,6})\s+(\S.*?)(?:\s+=+)?\s*$")
_UNDERLINES = {"=": 1, "-": 2, "~": 3, "^": 4, "+": 5}  # a two-line title's underline, by its level
_UNDERLINE = re.compile(r"^([=\-~^+])\1+\s*$")
# Delimited blocks, by their fence: what they hold is code, prose to read again, a table or nothing.
_CODE_FENCES = re.compile(r"^(?:-{4,}|\.{4,}|\+{4,}|`{3}.*)\s*$")
_PROSE_FENCES = re.compile(r"^(?:={4,}|\*{4,}|_{4,}|--)\s*$")
_COMMENT_FENCE = re.compile(r"^/{4,}\s*$")
_TABLE_FENCE = re.compile(r"^[|!,:]={3,}\s*$")
_FENCE = re.compile("|".join(fence.pattern for fence in (_CODE_FENCES, _PROSE_FENCES, _COMMENT_FENCE, _TABLE_FENCE)))
_SKIPPED_LINE = re.compile(
    r"^(?://(?!/).*|:!?[\w-]+!?:.*|\[.*\]|(?:include|image|ifdef|ifndef|ifeval|endif|toc)::.*|'{3,}|<{3})\s*$"
)
_COMMENT_LINE = re.compile(r"^//(?!/)")
_ATTRIBUTE = re.compile(r"^:([\w-]+):\s*(.*?)\s*$")
_BLOCK_STYLE = re.compile(r"^\[\s*(source|listing|literal|verse|NOTE|TIP|IMPORTANT|WARNING|CAUTION)\b", re.I)
_BLOCK_TITLE = re.compile(r"^\.([^.\s].*)$")
_ITEM = re.compile(r"^\s*(?:[*-]+|•|\.+|\d+\.|[a-zA-Z]\.|[ivxIVX]+\))\s+(\S.*)$")
_TERM = re.compile(r"^(\S(?:.*?\S)?)(?::{2,4}|;;)(?:\s+(\S.*))?$")
_ADMONITION = re.compile(r"^(?:NOTE|TIP|IMPORTANT|WARNING|CAUTION):\s+(\S.*)$")
_CONTINUATION = "+"
MAX_DEPTH = 16  # delimited blocks read inside one another; deeper ones are kept as they are
# Inline markup, in the order it is taken off (`_Reader.inline`): code kept aside, the quotes,
# attributes, then macros, links and cross references.
_MACRO = re.compile(
    r"\b(linkgit|link|mailto|xref|kbd|btn|menu|footnote|pass|image|anchor|indexterm2?):([^\s\[]*)\[([^\]]*)\]"
)
_URL_TEXT = re.compile(r"\b((?:https?|ftp|irc)://[^\s\[]+)\[([^\]]*)\]")
_XREF = re.compile(r"<<([^,>]+)(?:,\s*([^>]+))?>>")
_BLOCK_ANCHOR = re.compile(r"^\[\[([\w:.-]+)[^\]]*\]\]$|^\[#([\w:.-]+)[^\]]*\]$")
_ANCHOR = re.compile(r"\[\[[^\]]*\]\]|\[#[\w-]+\]")
_LITERALS = (
    re.compile(r"``(.+?)``|(?<![\w`])`(\S(?:[^`]*?\S)?)`(?![\w`])"),
    re.compile(r"\+\+(.+?)\+\+|(?<![\w+])\+(\S(?:[^+]*?\S)?)\+(?![\w+])"),
)
_KEPT = re.compile(r"\x00(\d+)\x00")
_QUOTES = (
    re.compile(r"\*\*(.+?)\*\*|(?<![\w*])\*(\S(?:[^*]*?\S)?)\*(?![\w*])"),
    re.compile(r"__(.+?)__|(?<![\w_])_(\S(?:[^_]*?\S)?)_(?![\w_])"),
    re.compile(r"##(.+?)##|(?<![\w#])#(\S(?:[^#]*?\S)?)#(?![\w#])"),
    re.compile(r"(?<![\w'])'(\S(?:[^']*?\S)?)'(?![\w'])"),  # emphasis, as the Python AsciiDoc writes it
)
_ATTRIBUTE_REFERENCE = re.compile(r"\{([\w-]+)\}")
_BUILT_IN = {
    "nbsp": " ",
    "empty": "",
    "sp": " ",
    "litdd": "--",
    "plus": "+",
    "caret": "^",
    "startsb": "[",
    "endsb": "]",
    "vbar": "|",
    "amp": "&",
    "lt": "<",
    "gt": ">",
    "apos": "'",
    "quot": '"',
    "backslash": "\\",
    "two-colons": "::",
    "two-semicolons": ";;",
}


def read_asciidoc(path: Path, limits=None) -> ParsedFile:
    return parsed_from_blocks(asciidoc_blocks(decode_bytes(path.read_bytes())))


def asciidoc_blocks(source: str) -> BlockText:
    """The blocks of an AsciiDoc document (its common constructs, not every corner)."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").expandtabs(8).split("\n")
    reader = _Reader(lines)
    reader.read(0, len(lines))
    return reader.out


class _Reader:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.out = BlockText()
        self.attributes = dict(_BUILT_IN)
        self.style = ""  # the block style set by the attribute line before a block: "source", "NOTE" …
        self.depth = 0  # delimited blocks open around the lines being read
        self.fences: dict[str, list[int]] = {}  # each fence line's text -> where it stands, in order
        self.titles: dict[str, str] = {}  # a section's id ("[[id]]" above it) -> its title, for "<<id>>"
        for index, line in enumerate(lines):
            if fence := _fence(line.strip()):
                self.fences.setdefault(fence, []).append(index)
            elif (anchor := _BLOCK_ANCHOR.match(line.strip())) and index + 1 < len(lines):
                after = lines[index + 1]
                title = _TITLE.match(after)
                if title or (index + 2 < len(lines) and _underlined(after, lines[index + 2])):
                    self.titles[anchor.group(1) or anchor.group(2)] = title.group(2) if title else after.strip()

    def read(self, index: int, end: int) -> None:
        """Read lines[index:end] as blocks (a whole document, or what a delimited block holds)."""
        lines = self.lines
        while index < end:
            line = lines[index]
            stripped = line.strip()
            if not stripped or stripped == _CONTINUATION:
                index += 1
                continue
            if style := _BLOCK_STYLE.match(stripped):
                self.style = style.group(1).lower()
                index += 1
                continue
            if attribute := _ATTRIBUTE.match(line):
                self.attributes[attribute.group(1)] = attribute.group(2)
            if _SKIPPED_LINE.match(stripped):
                index += 1
                continue
            index = self._block(index, end)
            self.style = ""

    def _block(self, index: int, end: int) -> int:
        lines = self.lines
        line = lines[index]
        stripped = line.strip()
        if fence := _fence(stripped):
            close = self._closing(index + 1, end, fence)
            if close == end:
                return index + 1  # never closed: a line of marks, not a block that swallows the rest
            self._delimited(stripped, index + 1, close)
            return close + 1
        if title := _TITLE.match(line):
            self.out.add("heading", self.inline(title.group(2)), len(title.group(1)))
            return index + 1
        if index + 1 < end and (level := _underlined(line, lines[index + 1])):
            self.out.add("heading", self.inline(stripped), level)
            return index + 2
        if block_title := _BLOCK_TITLE.match(stripped):
            self.out.add("heading", self.inline(block_title.group(1)), 7)  # a caption reads as a heading below them all
            return index + 1
        if line[:1].isspace() or self.style in ("source", "listing", "literal", "verse"):
            taken, index = self._paragraph(index, end, literal=True)
            if self.style == "verse":  # lines kept, markup rendered
                taken = [self.inline(line) for line in taken]
            self.out.add_preformatted("\n".join(taken))
            return index
        if item := _ITEM.match(line):
            taken, index = self._paragraph(index + 1, end, first=False)
            self.out.add("item", self.inline(" ".join([item.group(1), *taken])))
            return index
        if term := _TERM.match(stripped):
            return self._description(index, end, term)
        taken, index = self._paragraph(index, end)
        text = " ".join(taken)
        if admonition := _ADMONITION.match(text):
            text = admonition.group(1)
        self.out.add("paragraph", self.inline(text))
        return index

    def _paragraph(self, index: int, end: int, literal: bool = False, first: bool = True) -> tuple[list[str], int]:
        """The lines from `index` up to a blank line, a fence, a list continuation or (for prose)
        the next list item or term (`first`: the paragraph starts here, so its own first line may
        look like one)."""
        taken: list[str] = []
        while index < end:
            line = self.lines[index]
            stripped = line.strip()
            if not stripped or stripped == _CONTINUATION or _fence(stripped):
                break
            if not literal and (taken or not first) and (_ITEM.match(line) or _TERM.match(stripped)):
                break
            if literal or not _COMMENT_LINE.match(stripped):
                taken.append(line.rstrip() if literal else _hard_break(stripped))
            index += 1
        return taken, index

    def _description(self, index: int, end: int, term: re.Match) -> int:
        """A description list's entry: its terms (one or more lines ending in `::`), then what it is:
        the text after the last term, the lines under it, and the blocks joined on by `+`."""
        terms = [term.group(1)]
        inline = term.group(2)
        index += 1
        while inline is None and index < end and (more := _TERM.match(self.lines[index].strip())):
            terms.append(more.group(1))
            inline = more.group(2)
            index += 1
        self.out.add("term", self.inline(", ".join(terms)))
        if inline is None:  # what it is may start after a blank line, as long as no other entry starts
            after = index
            while after < end and not self.lines[after].strip():
                after += 1
            if after < end and not _fence(self.lines[after].strip()) and not _starts_entry(self.lines[after]):
                index = after
        taken, index = self._paragraph(index, end, first=False)
        text = " ".join([inline, *taken] if inline else taken)
        if text:
            self.out.add("description", self.inline(text))
        while (
            index + 1 < end and self.lines[index].strip() == _CONTINUATION and not _starts_entry(self.lines[index + 1])
        ):
            index = self._block(index + 1, end)  # "+": the next block belongs to this entry too
        return index

    def _closing(self, index: int, end: int, fence: str) -> int:
        """Where the block opened by `fence` closes (the same fence; "```" for a fenced one), or
        `end`: looked up, not searched for, so unclosed fences cost no more than closed ones."""
        where = self.fences.get("```" if fence.startswith("```") else fence, [])
        at = bisect_left(where, index)
        return where[at] if at < len(where) and where[at] < end else end

    def _delimited(self, fence: str, start: int, end: int) -> None:
        if _COMMENT_FENCE.match(fence):
            return
        if _TABLE_FENCE.match(fence):
            self._table(start, end)
        elif _CODE_FENCES.match(fence) or self.depth >= MAX_DEPTH:
            self.out.add_preformatted("\n".join(self.lines[start:end]))
        else:  # example, sidebar, quote or open block: AsciiDoc again
            self.style = ""
            self.depth += 1
            self.read(start, end)
            self.depth -= 1

    def _table(self, start: int, end: int) -> None:
        """A table a row at a time, a line for each cell; the first row is its head when a blank
        line follows it, as AsciiDoc reads an implicit header."""
        rows = [(i, _cells(self.lines[i])) for i in range(start, end) if self.lines[i].strip()]
        width = max(len(rows[0][1]) if rows else 1, 1)
        cells = [cell for _, row in rows for cell in row]
        header = bool(rows) and rows[0][0] + 1 < end and not self.lines[rows[0][0] + 1].strip()
        for at in range(0, len(cells), width):
            kind = "table_head" if header and at == 0 else "row"
            self.out.add(kind, "\n".join(self.inline(cell) for cell in cells[at : at + width] if cell), keep_lines=True)

    def inline(self, text: str) -> str:
        """Prose as it reads rendered: marks of code, strong and emphasis left out, a link or
        cross reference as its text, git's `linkgit:name[1]` as "name(1)", attributes as their
        values. Code keeps its characters."""
        literals: list[str] = []  # code's characters, kept from the substitutions after it

        def keep(found: re.Match) -> str:
            literals.append(_group(found))
            return f"\x00{len(literals) - 1}\x00"

        for pattern in _LITERALS:
            text = pattern.sub(keep, text)
        for pattern in _QUOTES:  # quotes, then attributes, then macros, in AsciiDoc's own order
            text = pattern.sub(_group, text)
        text = _ATTRIBUTE_REFERENCE.sub(lambda found: self.attributes.get(found.group(1), found.group(0)), text)
        text = _MACRO.sub(_macro_text, text)
        text = _URL_TEXT.sub(lambda found: found.group(2) or found.group(1), text)
        text = _XREF.sub(lambda found: found.group(2) or self.titles.get(found.group(1), found.group(1)), text)
        text = _ANCHOR.sub("", text)
        return _KEPT.sub(lambda found: literals[int(found.group(1))], text)


def _group(found: re.Match) -> str:
    """What a quote pattern's marks enclose (the pattern's one group that took part)."""
    return next(group for group in found.groups() if group is not None)


def _macro_text(found: re.Match) -> str:
    name, target, text = found.groups()
    if name == "linkgit":
        return f"{target}({text})"
    if name in ("anchor", "indexterm"):
        return ""  # invisible: a target to link to, an entry of the index
    return text or target


def _starts_entry(line: str) -> bool:
    """Does this line start a list item, a description list's entry or a section?"""
    return bool(_ITEM.match(line) or _TERM.match(line.strip()) or _TITLE.match(line) or _BLOCK_TITLE.match(line))


def _fence(stripped: str) -> str | None:
    """The line, when it opens (or closes) a delimited block."""
    return stripped if _FENCE.match(stripped) else None


def _underlined(line: str, under: str) -> int:
    """The level of a two-line title ("Options" over "-------"), 0 when this is none: the
    underline about as long as the title, the title a line of its own."""
    mark = _UNDERLINE.match(under)
    text = line.strip()
    if not mark or not text or line[:1].isspace() or _fence(text) or _ITEM.match(line):
        return 0
    if abs(len(under.rstrip()) - len(text)) > 2 or len(text) < 2:
        return 0
    return _UNDERLINES[mark.group(1)]


def _cells(line: str) -> list[str]:
    """A table line's cells: the text after each `|` (a cell's format spec before it, `a|` or
    `2+|`, left out)."""
    parts = re.split(r"(?:^|\s)[\w.+*<^>]*\|", " " + line)
    return [part.strip() for part in parts[1:]]


def _hard_break(line: str) -> str:
    """A line ending in " +" (a hard line break) without its mark."""
    return line[:-2] if line.endswith(" +") else line


register(
    Reader(
        "asciidoc",
        frozenset({".adoc", ".asciidoc"}),
        read_asciidoc,
        isolated=True,
        linear=True,
        preload=("charset_normalizer",),
    )
)
