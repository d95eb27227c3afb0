"""DocBook (.xml, .dbk; DocBook 4 and 5): the XML that many manuals are written in and that Debian
ships beside their HTML and PDF (`/usr/share/doc/shared-mime-info/shared-mime-info-spec.xml.gz`),
read as blocks: the titles of books, chapters, sections and reference pages as headings at their
depth, paragraphs, list items, a variable list's terms with their descriptions, table rows (a
header row apart), program listings and screens as code, block quotes.

An `.xml` file is read as DocBook only when it is one: its root is a DocBook element (`article`,
`book`, `chapter`, `refentry` …) or in DocBook 5's namespace. Any other XML (a build file, a
configuration) is data, not a document, and is counted with the files of types not read.

The parser (lxml) expands the entities the file defines itself (`&version;`), never loads a DTD or
anything over the network, and keeps libxml2's limits on depth and entity expansion, so an entity
bomb expands to nothing; entities defined only in DocBook's DTD (`&nbsp;`, `&mdash;`) are the
characters HTML gives those names. Read in the bounded worker process.
"""

from __future__ import annotations

import re
from html.entities import name2codepoint
from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import UnreadableFile
from qa.ingest.blocks import BlockKind, BlockText
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text

if TYPE_CHECKING:
    from qa.ingest.limits import ReadLimits

NOT_DOCBOOK = "XML data, not a DocBook document"  # how its reason starts (qa.ingest.documents counts these)
DOCBOOK5 = "http://docbook.org/ns/docbook"

# Elements that divide a document, each a level deeper than the one around it; their `title` (or
# `info/title`) is a heading.
_DIVISIONS = frozenset(
    "set book part reference article chapter appendix preface colophon dedication glossary bibliography index "
    "section sect1 sect2 sect3 sect4 sect5 simplesect refentry refsection refsect1 refsect2 refsect3 refsynopsisdiv "
    "glossdiv bibliodiv partintro".split()
)
# A root among these makes an .xml file DocBook.
_ROOTS = _DIVISIONS - {"partintro"}
# Elements whose text is one block of this kind.
_BLOCK_KINDS: dict[str, BlockKind] = {
    "para": "paragraph",
    "simpara": "paragraph",
    "formalpara": "paragraph",
    "listitem": "item",
    "member": "item",
    "step": "item",
    "callout": "item",
    "glossterm": "term",
    "term": "term",
    "glossdef": "description",
    "blockquote": "quote",
    "epigraph": "quote",
    "attribution": "paragraph",
    "caption": "paragraph",
    "textobject": "paragraph",
    "bibliomixed": "item",
    "biblioentry": "item",
    "refpurpose": "paragraph",
    "address": "paragraph",
}
# Elements that hold blocks rather than words: lists, tables, admonitions, examples, figures.
_HOLDERS = frozenset(
    "itemizedlist orderedlist variablelist varlistentry simplelist segmentedlist glosslist glossentry procedure "
    "substeps calloutlist table informaltable tgroup thead tbody tfoot example informalexample figure "
    "informalfigure mediaobject inlinemediaobject note tip warning caution important sidebar qandaset qandadiv "
    "qandaentry question answer bibliolist msgset abstract highlights".split()
)
# Lines kept as written.
_CODE = frozenset("programlisting screen synopsis literallayout funcsynopsis cmdsynopsis classsynopsis".split())
# Editorial or index matter, and objects with no words of their own.
_LEFT_OUT = frozenset(
    "indexterm remark comment anchor imagedata imageobject audioobject videoobject titleabbrev subtitle "
    "refmeta refentryinfo keywordset subjectset revhistory legalnotice printhistory toc lot".split()
)
# A book's or an article's front matter: its title, then who wrote it.
_INFO = frozenset("info articleinfo bookinfo chapterinfo sectioninfo sect1info sect2info sect3info prefaceinfo".split())
_PEOPLE = frozenset({"author", "editor", "corpauthor", "othercredit", "collab", "publishername", "orgname"})
_BIBLIOGRAPHY_ENTRIES = frozenset({"bibliomixed", "biblioentry"})
_ENTITY = re.compile(rb"&([A-Za-z][A-Za-z0-9]*);")
_XML_ENTITIES = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})


def read_docbook(path: Path, limits: ReadLimits | None = None) -> ParsedFile:
    from lxml import etree

    parser = etree.XMLParser(
        resolve_entities="internal",
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=True,
        remove_comments=True,
    )
    try:
        root = etree.fromstring(_named_characters(path.read_bytes()), parser)
    except etree.XMLSyntaxError as error:
        raise UnreadableFile(f"not well-formed XML: {error}") from None
    if root is None:
        raise UnreadableFile("not well-formed XML: no element")
    name = _local(root)
    if name not in _ROOTS and etree.QName(root).namespace != DOCBOOK5:
        raise UnreadableFile(f"{NOT_DOCBOOK} (its root element is <{name}>)")
    walker = _Walker(_titles_by_id(root))
    walker.division(root, 1)
    out = walker.out
    if not out.blocks:
        if root.find(".//{http://www.w3.org/2001/XInclude}include") is not None:
            raise UnreadableFile("a DocBook file of includes only: the files it includes are read on their own")
        raise UnreadableFile("a DocBook document with no text")
    headings = [b for b in out.blocks if b.kind == "heading"]
    title = out.text[headings[0].start : headings[0].end] if headings else ""
    return ParsedFile(out.text, normalize_text(title), blocks=tuple(out.blocks))


def _named_characters(data: bytes) -> bytes:
    """`&nbsp;` and the other names DocBook's DTD defines (its ISO sets, as HTML names them) as
    character references, unless the file defines the name itself with its text; one pass over
    the bytes. A reference to an entity the file does not define with its text (another file's,
    `<!ENTITY intro SYSTEM "intro.xml">`, which is not read) is left out: kept, it would make the
    parser drop everything after it."""
    defined = set(re.findall(rb"<!ENTITY\s+([A-Za-z][A-Za-z0-9]*)\s+[\"']", data[:65536]))

    def replace(match: re.Match) -> bytes:
        name = match.group(1)
        if name in defined or name in _XML_ENTITIES:
            return match.group(0)
        point = name2codepoint.get(name.decode("ascii"))
        return b"&#%d;" % point if point is not None else b""

    return _ENTITY.sub(replace, data)


def _titles_by_id(root) -> dict[str, str]:
    """Each element's id (`id`, DocBook 5's `xml:id`) with its title, for the cross-references to it."""
    titles = {}
    for element in root.iter():
        key = element.get("id") or element.get("{http://www.w3.org/XML/1998/namespace}id")
        if key and isinstance(element.tag, str) and (title := _title_of(element)) is not None:
            titles[key] = _words(title)
    return titles


def _info_of(element):
    """An element's front matter (`info`, DocBook 4's `articleinfo`, `bookinfo` …), or None."""
    return next((child for child in element if _local(child) in _INFO), None)


def _title_of(element):
    """An element's title: its own `title`, else its front matter's; a reference page's name."""
    title = next((child for child in element if _local(child) == "title"), None)
    info = _info_of(element)
    if title is None and info is not None:
        title = next((child for child in info if _local(child) == "title"), None)
    if title is None and _local(element) == "refentry":
        title = element.find(".//{*}refname")
    return title


def _local(element) -> str:
    tag = element.tag
    if not isinstance(tag, str):  # a processing instruction or an entity left as it was
        return ""
    return tag.rpartition("}")[2]


class _Walker:
    """One walk of the tree: inline text gathers until a block boundary, as the HTML reader does."""

    def __init__(self, titles: dict[str, str]) -> None:
        self.titles = titles  # what a cross-reference to each id reads as
        self.out = BlockText()
        self.buffer: list[str] = []
        self.kind: BlockKind = "paragraph"

    def flush(self) -> None:
        raw = "".join(self.buffer)
        self.buffer = []
        if raw.strip():
            self.out.add(self.kind, raw)

    def division(self, element, level: int) -> None:
        """A book, chapter, section …: its title a heading at `level`, then its contents."""
        self.flush()
        title, info = _title_of(element), _info_of(element)
        if title is not None:
            self.out.add("heading", _words(title), min(level, 6))
        if info is not None:
            self.front_matter(info)
        for child in element:
            if child is not title and child is not info:  # info's elements are left out of the text
                self.element(child, level + 1)
        self.flush()

    def front_matter(self, info) -> None:
        """Who wrote it and when, a line each ("text": short, yet what "who wrote this?" asks for)."""
        lines = []
        for child in info.iter():
            name = _local(child)
            if name in _PEOPLE:
                lines.append(_person(child))
            elif name in ("date", "pubdate", "releaseinfo", "edition"):
                lines.append(_words(child))
        lines = [line for line in lines if line]
        if lines:
            self.out.add("text", "\n".join(lines), keep_lines=True)
        abstract = next((child for child in info if _local(child) == "abstract"), None)
        if abstract is not None:
            self.children(abstract, 0)

    def element(self, element, level: int) -> None:
        name = _local(element)
        if not name or name in _LEFT_OUT or name in _INFO:
            self.tail(element)
            return
        if name in _DIVISIONS:
            self.division(element, level)
        elif name in _CODE:
            self.flush()
            self.out.add_preformatted("".join(element.itertext()))
        elif name == "row":
            self.flush()
            self.row(element)
        elif name == "refnamediv":
            self.flush()
            names = ", ".join(_words(n) for n in element.iter("{*}refname"))
            purpose = " ".join(_words(p) for p in element.iter("{*}refpurpose"))
            self.out.add("paragraph", f"{names} — {purpose}" if names and purpose else names or purpose)
        elif name == "citation" or name == "abbrev" and _local(element.getparent()) in _BIBLIOGRAPHY_ENTRIES:
            # as DocBook's stylesheets print them: "the MIME system[MIME]", "[GNOME] The GNOME desktop"
            self.buffer.append(f"[{_words(element)}]" + (" " if name == "abbrev" else ""))
        elif name == "xref":  # "mentioned in <xref linkend='s2_layout'/>": the title it points at
            self.buffer.append(element.get("xreflabel") or self.titles.get(element.get("linkend", ""), ""))
        elif name == "title":  # a table's, an example's, a note's: a line of its own
            self.flush()
            self.out.add("paragraph", _words(element))
        elif name in _BLOCK_KINDS or name in _HOLDERS:
            self.flush()
            outer = self.kind
            self.kind = self._kind_of(element, name)
            self.children(element, level)
            self.flush()
            self.kind = outer
        else:  # inline: its text runs on in the block around it
            self.children(element, level)
        self.tail(element)

    def _kind_of(self, element, name: str) -> BlockKind:
        """A paragraph in a list item, a definition or a quote is part of it; a variable list's
        item is the description of its term."""
        if name in ("para", "simpara") and self.kind in ("item", "description", "quote"):
            return self.kind
        parent = element.getparent()
        if name == "listitem" and parent is not None and _local(parent) == "varlistentry":
            return "description"
        return _BLOCK_KINDS.get(name, self.kind)

    def children(self, element, level: int) -> None:
        if element.text:
            self.buffer.append(element.text)
        for child in element:
            self.element(child, level)

    def tail(self, element) -> None:
        if element.tail:
            self.buffer.append(element.tail)

    def row(self, row) -> None:
        cells = [_words(cell) for cell in row if _local(cell) in ("entry", "entrytbl")]
        parent = row.getparent()
        kind: BlockKind = "table_head" if parent is not None and _local(parent) == "thead" else "row"
        self.out.add(kind, "\n".join(cell for cell in cells if cell), keep_lines=True)


def _words(element) -> str:
    """An element's text without what is left out of every block (index terms, remarks)."""
    parts: list[str] = []

    def walk(node) -> None:
        if _local(node) in _LEFT_OUT:
            return
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)

    walk(element)
    return " ".join("".join(parts).split())


def _person(element) -> str:
    """A name as it is read: "Thomas Leonard", not its parts run together."""
    names = [
        _words(part)
        for part in element.iter()
        if _local(part) in ("honorific", "firstname", "givenname", "othername", "surname", "lineage")
    ]
    return " ".join(name for name in names if name) or _words(element)


register(
    Reader(
        "docbook",
        frozenset({".xml", ".dbk", ".docbook"}),
        read_docbook,
        isolated=True,
        preload=("lxml.etree",),
    )
)
