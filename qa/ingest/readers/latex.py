"""LaTeX sources (.tex): a paper's, a thesis's or a chapter's, read as blocks with pylatexenc's
parser (`LatexWalker`) and its text renderer (`LatexNodes2Text`). Sectioning commands (`\\part` …
`\\paragraph`) are headings; a blank line ends a paragraph; `itemize` and `enumerate` give list
items and `description` terms with what they are; `verbatim`, `lstlisting`, `minted` and display
math are kept as typed, as code; a figure or table gives its caption and a `tabular` its rows; the
abstract is a section of its own. Inline markup reads as rendered (`\\emph{word}` "word", `--`
"–", inline math as its characters); citations, references, labels, comments and the preamble
(packages, macro definitions) are left out. The title is `\\title{…}`. A file that only `\\input`s
others holds no text and is skipped saying so; each of those files is read on its own.

Read in the bounded worker: the parser recurses, and a file nested past Python's limit is skipped.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from qa.errors import UnreadableFile
from qa.ingest.blocks import BlockText
from qa.ingest.readers.common import decode_bytes
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text

_LEVELS = {
    "part": 1,
    "chapter": 2,
    "section": 3,
    "subsection": 4,
    "subsubsection": 5,
    "paragraph": 6,
    "subparagraph": 6,
}
_LISTS = frozenset({"itemize", "enumerate", "description", "compactitem", "compactenum", "inparaenum"})
_VERBATIM = frozenset({"verbatim", "verbatim*", "Verbatim", "lstlisting", "minted", "alltt", "BVerbatim", "LVerbatim"})
_MATH = frozenset(
    {
        "equation",
        "equation*",
        "align",
        "align*",
        "gather",
        "gather*",
        "multline",
        "multline*",
        "eqnarray",
        "displaymath",
    }
)
_FLOATS = frozenset({"figure", "figure*", "table", "table*", "wrapfigure", "wraptable"})
_TABULAR = frozenset({"tabular", "tabular*", "tabularx", "longtable", "array"})
# Commands whose text is no words on the page, and environments that print nothing.
_SILENT = ("cite", "citep", "citet", "ref", "eqref", "pageref", "autoref", "cref", "Cref", "label", "maketitle")
_SKIPPED_ENVIRONMENTS = frozenset({"comment", "thebibliography", "tikzpicture", "filecontents"})


def read_latex(path: Path, limits=None) -> ParsedFile:
    from pylatexenc.latexwalker import LatexWalker, LatexWalkerError

    source = decode_bytes(path.read_bytes())
    try:
        nodes, _, _ = LatexWalker(source, tolerant_parsing=True).get_latex_nodes()
    except (LatexWalkerError, RecursionError) as error:
        raise UnreadableFile(f"cannot parse .tex file: {error}") from None
    title = ""
    body = nodes
    for node in nodes:
        if _is_macro(node, "title") and node.nodeargd and node.nodeargd.argnlist:
            title = _plain(_text([node.nodeargd.argnlist[-1]]))
        if _is_environment(node, "document"):
            body = node.nodelist
    page = _Page()
    page.read(body)
    page.flush()
    return ParsedFile(page.out.text, title, blocks=tuple(page.out.blocks))


class _Page:
    """The blocks of a document as its nodes are walked: inline nodes gather into a paragraph."""

    def __init__(self) -> None:
        self.out = BlockText()
        self.words: list[str] = []

    def flush(self, kind="paragraph") -> None:
        text = _plain("".join(self.words))
        self.words = []
        if text:
            self.out.add(kind, text)

    def read(self, nodes) -> None:
        from pylatexenc.latexwalker import LatexCharsNode, LatexEnvironmentNode, LatexMacroNode

        for node in nodes or ():
            if isinstance(node, LatexCharsNode):
                pieces = re.split(r"\n[ \t]*\n", node.chars)
                for index, piece in enumerate(pieces):
                    if index:
                        self.flush()  # a blank line ends a paragraph
                    self.words.append(piece)
            elif isinstance(node, LatexMacroNode) and node.macroname.rstrip("*") in _LEVELS:
                self.flush()
                if node.nodeargd and node.nodeargd.argnlist:
                    self.out.add(
                        "heading", _plain(_text([node.nodeargd.argnlist[-1]])), _LEVELS[node.macroname.rstrip("*")]
                    )
            elif isinstance(node, LatexMacroNode) and node.macroname in ("item", "par"):
                self.flush()
            elif isinstance(node, LatexEnvironmentNode):
                self.environment(node)
            else:
                self.words.append(_text([node]))

    def environment(self, node) -> None:
        name = node.environmentname
        if name in _SKIPPED_ENVIRONMENTS:
            return
        self.flush()
        if name in _VERBATIM or name in _MATH:
            typed = getattr(node.nodeargd, "verbatim_text", None) if node.nodeargd else None
            if typed is None:  # lstlisting and minted keep their body as nodes, after their options
                typed = re.sub(r"\A\[[^\]\n]*\]", "", "".join(child.latex_verbatim() for child in node.nodelist or ()))
            self.out.add("code", typed.strip("\n"))
        elif name in _LISTS:
            self.items(node.nodelist, name == "description")
        elif name in _FLOATS:
            for caption in _arguments_of(node.nodelist, "caption"):
                self.out.add("paragraph", _plain(_text([caption])))
            for table in _find_environments(node.nodelist, _TABULAR):
                self.rows(table)
        elif name in _TABULAR:
            self.rows(node)
        elif name == "abstract":
            self.out.add("heading", "Abstract", _LEVELS["section"])
            self.read(node.nodelist)
            self.flush()
        else:  # center, quote, theorem, proof, minipage …: their content in its place
            self.read(node.nodelist)
            self.flush()

    def items(self, nodes, described: bool) -> None:
        """A list's items: each `\\item` a block (a description's `\\item[term]` a term first)."""
        from pylatexenc.latexwalker import LatexEnvironmentNode, LatexMacroNode

        for node in nodes or ():
            if isinstance(node, LatexMacroNode) and node.macroname == "item":
                self.flush("item" if not described else "description")
                term = node.nodeargd.argnlist[0] if node.nodeargd and node.nodeargd.argnlist else None
                if term is not None:
                    self.out.add("term" if described else "item", _plain(_text([term])))
            elif isinstance(node, LatexEnvironmentNode):
                self.flush("description" if described else "item")
                self.environment(node)
            else:
                self.words.append(_text([node]))
        self.flush("description" if described else "item")

    def rows(self, table) -> None:
        """A tabular's rows, its cells parted by " | "."""
        body = "".join(child.latex_verbatim() for child in table.nodelist or ())
        for row in re.split(r"\\\\", body):
            cells = [_plain(_latex_to_text(cell)) for cell in row.split("&")]
            if any(cells):
                self.out.add("row", " | ".join(cells), keep_lines=True)


@cache
def _renderer():
    """pylatexenc's renderer, with citations, references and labels printing nothing (its default
    prints "<cit.>"), and an image nothing (its "< g r a p h i c s >")."""
    from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

    context = get_default_latex_context_db()
    silent = [MacroTextSpec(name, simplify_repl="") for name in (*_SILENT, "includegraphics", "input", "include")]
    context.add_context_category("qa-silent", prepend=True, macros=silent)
    return LatexNodes2Text(latex_context=context, math_mode="text", strict_latex_spaces=True)


def _text(nodes) -> str:
    return _renderer().nodelist_to_text(nodes)


def _latex_to_text(latex: str) -> str:
    return _renderer().latex_to_text(latex)


def _plain(text: str) -> str:
    """Rendered text on one line; a space left before punctuation by a citation or reference that
    prints nothing ("two cranes~\\cite{smith}." → "two cranes.") taken out."""
    return normalize_text(re.sub(r"\s+([.,;:)])", r"\1", " ".join(text.split())))


def _is_macro(node, name: str) -> bool:
    return getattr(node, "macroname", None) == name


def _is_environment(node, name: str) -> bool:
    return getattr(node, "environmentname", None) == name


def _arguments_of(nodes, name: str):
    """The argument of each `\\name{…}` anywhere inside `nodes`: parsed as its argument where the
    parser knows the command, else the group that follows it."""
    nodes = list(nodes or ())
    for index, node in enumerate(nodes):
        if _is_macro(node, name):
            known = node.nodeargd.argnlist[-1] if node.nodeargd and node.nodeargd.argnlist else None
            following = nodes[index + 1] if index + 1 < len(nodes) else None
            if known is not None:
                yield known
            elif following is not None and type(following).__name__ == "LatexGroupNode":
                yield following
        yield from _arguments_of(getattr(node, "nodelist", None), name)


def _find_environments(nodes, names: frozenset[str]):
    for node in nodes or ():
        if getattr(node, "environmentname", None) in names:
            yield node
        else:
            yield from _find_environments(getattr(node, "nodelist", None), names)


register(
    Reader(
        "latex",
        frozenset({".tex", ".latex"}),
        read_latex,
        isolated=True,
        preload=("pylatexenc.latexwalker", "pylatexenc.latex2text"),
    )
)
