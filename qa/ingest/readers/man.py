"""Manual pages (`gzip.1`, `ssh_config.5`, and as installed, `gzip.1.gz`): the roff source read as
blocks, the way `man` lays it out. Section titles (`.SH`, `.SS`) are headings; a tagged paragraph
(`.TP`, `.IP tag`), an option and what it does, is a term and its description; text lines run on
into paragraphs, with roff's escapes as the characters they print (`\\-` a hyphen, `\\(em` a dash,
`\\fB` … `\\fR` nothing); no-fill and example blocks (`.nf`, `.EX`, pod2man's `.Vb`) and tables
(`.TS`) keep their lines, as code. Font macros give their words (`.BR gzip (1)` reads "gzip(1)");
formatting requests, conditionals and macro definitions are left out. The BSD `mdoc` macros are read
for their words (`.Sh` a heading, `.It Fl v` the term "-v"). The title is the NAME line ("gzip,
gunzip, zcat - compress or expand files"), what `man -k` shows.

Hand-written, line by line: groff renders to a terminal, which loses the structure, and no Python
library reads roff. A file with a man page's suffix that is not roff (a rotated `syslog.1`) is
skipped, saying so. Linear in the file.
"""

from __future__ import annotations

import re
from pathlib import Path

from qa.errors import UnreadableFile
from qa.ingest.blocks import BlockKind, BlockText
from qa.ingest.readers.common import decode_bytes
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text

# Section suffixes as Debian installs them: `.1`–`.9` and a plain `.man`, and (`SUITES`) the same
# sections with a suite's letters (`.1ssl`, `.3pm`, `.1p`, `.3perl`, `.3type`) and Tcl's `.n`: named
# one by one, not as any letters, so that `.7z` and `.3gp` files are not taken for manual pages.
SUFFIXES = frozenset([f".{n}" for n in range(1, 10)] + [".man"])
SUITES = r"\.[1-9](p|pm|perl|ssl|type|t|const|x|posix|tcl|readline|head|edit)|\.n"
# A man page says so within its first lines: a title macro, a section, or the comment man pages
# begin with.
_IS_ROFF = re.compile(r"^[.'](TH|Dd|Dt|SH|Sh)\b|^[.']\\\"", re.M)
SNIFF_CHARS = 8192

_SPECIAL = {
    "em": "—", "en": "–", "hy": "-", "bu": "•", "aq": "'", "dq": '"', "lq": "“", "rq": "”", "oq": "‘",
    "cq": "’", "co": "©", "rg": "®", "tm": "™", "mu": "×", "de": "°", "ha": "^", "ti": "~", "lh": "☜",
    "rh": "☞", "->": "→", "<-": "←", "<=": "≤", ">=": "≥", "!=": "≠", "+-": "±", "pl": "+", "mi": "-",
    "sl": "/", "rs": "\\", "ga": "`", "bv": "|", "or": "|", "fm": "′", "sq": "□", "Fo": "«", "Fc": "»",
}  # fmt: skip
_ESCAPE = re.compile(
    r"\\(?:"
    r"\((?P<two>..)|\[(?P<named>[^\]]{0,40})\]"  # \(em  \[em] (names are short: bounded, so linear)
    r"|\*(?:\((?P<str2>..)|\[(?P<strn>[^\]]{0,40})\]|(?P<str1>.))"  # strings: \*(lq \*[R] \*R
    r"|f(?:\(..|\[[^\]]{0,40}\]|.)"  # fonts: \fB \f(CW \f[B]
    r"|s[-+]?(?:\d|\(\d\d|\[\d+\])"  # sizes: \s-1 \s0
    r"|[hvwlLxDNoZbkS]'[^']{0,200}'|[kn](?:\(..|\[[^\]]{0,40}\]|.)"  # motions, widths, registers
    r"|(?P<char>.))"
)
_STRINGS = {"lq": "“", "rq": "”", "R": "®", "Tm": "™", "Aq": "'", 'L"': "“", 'R"': "”"}
_ONE = {"-": "-", "e": "\\", "\\": "\\", " ": " ", "~": " ", "0": " ", "'": "'", "`": "`", ".": ".", "t": "\t"}

# Requests and macros that only format: left out, with their arguments.
_FORMATTING = frozenset(
    "ad na hy nh ne in ti ll ft ps vs ce fam PD IX ds nr so tr cs bd ss rm rn als chop pc lf ev ta "
    "INDENT UNINDENT RS RE UC DT hw mk rt pl bp wh ch it em ns rs fl ab tm mso HTML".split()
)
_PARAGRAPH = frozenset({"PP", "LP", "P", "sp", "Sp", "HP", "Pp", "Lp", "bP", "br"})
_FONTS = frozenset({"B", "I", "SM", "SB", "R", "CW"})
_ALTERNATING = frozenset({"BR", "BI", "IB", "IR", "RB", "RI"})
_LIST_MARK = re.compile(r"[•·*o-]|\(?\d{1,3}[.)]?|\(?[a-z][.)]")
_CODE_START = {"nf": "fi", "EX": "EE", "Vb": "Ve", "Bd": "Ed"}
# mdoc macros whose name is no word on the page: dropped from a line's words ("Fl" makes the next
# word an option).
_MDOC_CALLS = frozenset(
    "Ar Cm Ic Li Nm Op Oo Oc Pa Ns Dq Do Dc Qq Qo Qc Sq So Sc Pq Po Pc Aq Ao Ac Bq Bo Bc Brq Em Sy Ev "
    "Va Ft Fn Fa Fo Fc Dv Er No Ql Xo Xc Tn Ux Bx At Ms Mt Lk Sx Ad An Cd In St Vt Ot".split()
)


def read_man(path: Path, limits=None) -> ParsedFile:
    source = decode_bytes(path.read_bytes())
    link = re.match(r"\A\s*(?:[.']\\\".*\n\s*)*[.']so\s+(\S+)\s*\Z", source)
    if link:  # gunzip.1: ".so man1/gzip.1", the page of another name
        raise UnreadableFile(f"only a link to the manual page {link.group(1)}")
    if not _IS_ROFF.search(source[:SNIFF_CHARS]):
        raise UnreadableFile("not a manual page (no .TH or .SH in its first lines)")
    built, title = man_blocks(source)
    return ParsedFile(built.text, title, blocks=tuple(built.blocks))


def man_blocks(source: str) -> tuple[BlockText, str]:
    """(the blocks of a man page, its title: the NAME line, else "GZIP(1)" from `.TH`)."""
    page = _Page()
    for line in _logical_lines(source):
        page.line(line)
    page.flush()
    return page.out, page.name or page.page_name


def _logical_lines(source: str):
    """The lines with continuations (a line ending in `\\`) joined, comments cut, and conditional
    blocks (`.if … \\{` to `\\}`), macro definitions (`.de` to `..`) and ignored blocks (`.ig`) left out."""
    skipping = None
    depth = 0
    pending: list[str] = []  # the pieces of a line continued with `\\` (joined once: linear)
    for raw in source.replace("\r\n", "\n").split("\n"):
        if raw.endswith("\\") and not raw.endswith("\\\\"):
            pending.append(raw[:-1])
            continue
        line = "".join(pending) + raw
        pending = []
        if skipping is not None:
            if line.strip() == skipping:
                skipping = None
            continue
        if depth:
            depth += line.count("\\{") - line.count("\\}")
            continue
        control = re.match(r"^[.']\s*(\w+)", line)
        request = control.group(1) if control else ""
        if request in ("de", "de1", "am", "ig"):
            skipping = ".."
            continue
        if request in ("if", "ie", "el", "while"):
            depth = max(0, line.count("\\{") - line.count("\\}"))
            continue
        comment = re.search(r'(?<!\\)\\"', line)
        if comment:
            line = line[: comment.start()]
            if re.fullmatch(r"[.']\s*", line):
                continue
        yield line


class _Page:
    """The state of one page as its lines are read: the block being filled, and in what mode."""

    def __init__(self) -> None:
        self.out = BlockText()
        self.words: list[str] = []
        self.kind: BlockKind = "paragraph"
        self.code: list[str] | None = None  # lines of a no-fill block, until its end request
        self.code_end = ""
        self.tag_next = False  # .TP: the next line is the term
        self.section = ""
        self.name = ""  # the NAME section's line
        self.page_name = ""  # .TH's "GZIP(1)"
        self.table = False
        self.table_format_done = False
        self.indented: list[str] = []  # text lines that begin with a space: each starts a line
        self.mdoc_name = ""  # mdoc's `.Nm name`, which a bare `.Nm` repeats
        self.heading_level = 0  # a `.SH` without a title: the next line is its title

    def flush(self, then: BlockKind = "paragraph") -> None:
        if self.indented:
            self.out.add_preformatted("\n".join(self.indented))
            self.indented = []
        text = " ".join(self.words).strip()
        if text:
            self.out.add(self.kind, text)
            if self.section.upper() == "NAME" and not self.name:
                self.name = normalize_text(text)
        self.words = []
        self.kind = then

    def line(self, line: str) -> None:
        control = re.match(r"^[.']\s*(\S+)\s*(.*)$", line)
        request, rest = (control.group(1), control.group(2)) if control else ("", "")
        if self.code is not None:
            if request == self.code_end or (self.table and request == "TE"):
                self.out.add("code", "\n".join(self.code))
                self.code, self.table = None, False
            elif self.table:
                if control and request in _FONTS | _ALTERNATING:  # inside a text block, "T{ … T}"
                    self.code.append(_macro_words(request, rest))
                elif not control and not self._table_format(line):
                    cells = re.sub(r"^T\}\t?|\t?T\{$", "", line)  # a text block's ends
                    if cells.strip():
                        self.code.append(_text(cells).replace("\t", " | "))
            elif not control or request in _FONTS | _ALTERNATING:
                self.code.append(_text(line) if not control else _macro_words(request, rest))
            return
        if not control:
            if not line.strip():
                self.flush()  # a blank line in filled text starts a paragraph
            elif line[0] in " \t" and not self.tag_next:  # roff breaks the line before it
                if not self.indented:
                    self.flush(then=self.kind)
                self.indented.append(_text(line))
            else:
                if self.indented:
                    self.flush(then=self.kind)
                self._words(_text(line))
            return
        if request in ("SH", "SS", "Sh", "Ss"):
            self.flush()
            self.heading_level = 2 if request in ("SH", "Sh") else 3
            if rest.strip():
                self._heading(_text(" ".join(_arguments(rest))))  # else on the next line
        elif request in ("TH", "Dt"):
            words = [_text(word) for word in _arguments(rest)]
            self.page_name = f"{words[0]}({words[1]})" if len(words) > 1 else " ".join(words)
        elif request in ("TP", "TQ"):
            self.flush()
            self.tag_next = True
        elif request == "IP":
            self.flush()
            tag = _text(_arguments(rest)[0]).strip() if _arguments(rest) else ""
            if _LIST_MARK.fullmatch(tag):
                self.kind = "item"  # `.IP \(bu`: a list's bullet or number, no term
            elif tag:
                self.out.add("term", tag)
                self.kind = "description"
        elif request == "It":
            self.flush()
            words = _mdoc_words(rest)
            if words:
                self.out.add("term", words)
                self.kind = "description"
        elif request in _PARAGRAPH:
            self.flush()
        elif request == "RS" and len(self.words) == 1 and self.kind == "paragraph":
            self.out.add("term", self.words[0])  # DocBook's term: one line, its description indented
            self.words, self.kind = [], "description"
        elif request == "Nm":
            self.mdoc_name = self.mdoc_name or _mdoc_words(rest)
            self._words(_mdoc_words(rest) or self.mdoc_name)
        elif request == "Sm":
            return
        elif request in _CODE_START and (request != "Bd" or "-literal" in rest or "-unfilled" in rest):
            self.flush()
            self.code, self.code_end = [], _CODE_START[request]
        elif request == "TS":
            self.flush()
            self.code, self.code_end, self.table = [], "TE", True
            self.table_format_done = False
        elif request in ("Nd",):
            self._words("- " + _mdoc_words(rest))
        elif request in _FONTS or request in _ALTERNATING:
            self._words(_macro_words(request, rest))
        elif request in ("UR", "MT", "UE", "ME"):
            if request in ("UE", "ME") and rest:
                self._words(_text(rest))
        elif request in ("SY", "OP", "YS"):
            self._words(_text(" ".join(_arguments(rest))))
        elif request in _FORMATTING or request in ("Dd", "Os", "Bl", "El", "Ed", "Ee", "fi"):
            return
        elif request[:1].isupper() and len(request) <= 3 and rest:  # another mdoc macro: its words
            self._words(_mdoc_words(f"{request} {rest}"))

    def _heading(self, title: str) -> None:
        self.section = title
        self.out.add("heading", title, self.heading_level)
        self.heading_level = 0

    def _words(self, text: str) -> None:
        if not text.strip():
            return
        if self.heading_level:
            self._heading(text)
            return
        if self.tag_next:
            self.tag_next = False
            self.out.add("term", text)
            self.kind = "description"
            return
        self.words.append(text)

    def _table_format(self, line: str) -> bool:
        """Whether `line` is part of a table's options and format lines (up to one ending in '.')."""
        if self.table_format_done:
            return False
        if line.rstrip().endswith("."):
            self.table_format_done = True
        return True


def _arguments(rest: str) -> list[str]:
    """A macro's arguments: words, or "quoted words" kept as one."""
    return [quoted or word for quoted, word in re.findall(r'"([^"]*)"|((?:\\.|[^\s\\])+)', rest)]


def _macro_words(request: str, rest: str) -> str:
    """A font macro's words: `.B gzip` "gzip"; `.BR gzip (1),` "gzip(1)," (alternating fonts join
    their arguments without spaces)."""
    arguments = [_text(argument) for argument in _arguments(rest)]
    return ("".join if request in _ALTERNATING else " ".join)(arguments)


def _mdoc_words(rest: str) -> str:
    """An mdoc line's words: macro names dropped, `Fl v` as "-v", `Xr ls 1` as "ls(1)"."""
    words, out, index = _arguments(rest), [], 0
    while index < len(words):
        word = words[index]
        if word == "Fl" and index + 1 < len(words) and words[index + 1] not in _MDOC_CALLS:
            out.append("-" + _text(words[index + 1]))
            index += 2
        elif word == "Fl":
            out.append("-")
            index += 1
        elif word == "Xr" and index + 2 < len(words):
            out.append(f"{_text(words[index + 1])}({words[index + 2]})")
            index += 3
        elif word in _MDOC_CALLS or word in ("Xr", "It", "Nd"):
            index += 1
        else:
            out.append(_text(word))
            index += 1
    return " ".join(out)


def _text(line: str) -> str:
    """A text line with roff's escapes as the characters they print."""
    return _ESCAPE.sub(_escaped, line)


def _escaped(match: re.Match) -> str:
    if (two := match.group("two")) is not None:
        return _SPECIAL.get(two, "")
    if (named := match.group("named")) is not None:
        return _SPECIAL.get(named, chr(int(named[1:], 16)) if re.fullmatch(r"u[0-9A-Fa-f]{4,6}", named) else "")
    for group in ("str2", "strn", "str1"):
        if (string := match.group(group)) is not None:
            return _STRINGS.get(string, "")
    if (char := match.group("char")) is not None:
        return _ONE.get(char, "")
    return ""  # fonts, sizes, motions: nothing printed


register(
    Reader(
        "man",
        SUFFIXES,
        read_man,
        suffix_pattern=SUITES,
        also_reads="manual pages of a suite's sections (.3pm, .1ssl, .3perl …)",
        isolated=True,
        linear=True,
        preload=("charset_normalizer",),
    )
)
