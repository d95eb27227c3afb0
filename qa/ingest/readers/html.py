"""HTML (.html, .htm, .xhtml): the main text without navigation, scripts or markup, as blocks
(headings, paragraphs, list items, definitions, table rows, code, quotes).

Site chrome is left out where the page says what it is: outside its `main` (or the element given
`role="main"`), `nav`, `footer` and `aside`, the same roles given to plain elements
(`role="navigation"`, as Sphinx themes mark their menus), the permalink after a heading (`¶`),
which a reader sees only on hover, and a line of links to the next, previous and parent pages that
marks them as such (`rel="next"`, `accesskey="p"`: GNU Texinfo's "Next: …, Previous: …, Up: …").

The page source's line breaks inside a paragraph are wrapping, not structure: they become spaces,
so a sentence is never cut where the author's editor wrapped it. `pre` keeps its lines, but for
paragraphs of hard-wrapped prose in it.

Read in the bounded worker process. The blocks come from one recursive walk of the tree; a page
nested deeper than Python's recursion allows (hostile, or broken) is read as plain text in one
pass over the tree with an explicit stack, without blocks.
"""

from __future__ import annotations

from pathlib import Path

from qa.ingest.blocks import BlockKind, BlockText
from qa.ingest.readers.common import decode_bytes, title_from_lines
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text

_DROP_TAGS = "script style noscript template svg canvas iframe object embed head form button".split()
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_CHROME_TAGS = frozenset({"nav", "footer", "aside"})
# ARIA landmark roles that mean what <nav>, <footer>, <aside> and a site header mean.
_CHROME_ROLES = frozenset({"navigation", "contentinfo", "complementary", "banner", "search"})
# Links to the pages around this one in a manual's order (HTML's link types, and the access keys
# Texinfo and DocBook give them), and the words beside them on a line that only leads there.
_SEQUENCE_RELS = frozenset({"next", "prev", "previous", "up", "start", "first", "last", "contents", "index"})
_SEQUENCE_KEYS = frozenset({"n", "p", "u", "h"})
_LINE_LINKS = 8  # such a line holds a few: next, previous, up, home, contents, index
_SEQUENCE_LABELS = frozenset({"next", "previous", "prev", "up", "top", "home", "contents", "index", "table", "of"})
# What a permalink anchor shows (Sphinx and MkDocs: `<a class="headerlink">¶</a>`).
_PERMALINK_MARKS = frozenset({"¶", "§", "#", "🔗"})
# Elements whose inline content is a block of their own kind.
_BLOCK_KINDS: dict[str, BlockKind] = {
    "p": "paragraph",
    "li": "item",
    "dt": "term",
    "dd": "description",
    "blockquote": "quote",
    "caption": "paragraph",
    "figcaption": "paragraph",
    "summary": "paragraph",
    "address": "paragraph",
}
# Elements that only hold blocks: their inline text is a block of the kind around them.
_CONTAINERS = frozenset(
    "div section article main header footer aside nav ul ol dl table thead tbody tfoot figure details "
    "center hr body html menu fieldset".split()
)
_CELLS = frozenset({"td", "th"})
# A paragraph that is only bold words, this short, reads as a heading below h6; one that asks a
# question, this long (a FAQ's "<p><b>(5) Can multiple applications … at the same time?</b></p>").
_BOLD_HEADING_WORDS = 12
_BOLD_QUESTION_WORDS = 40


def read_html(path: Path, limits=None) -> ParsedFile:
    title, built, text = html_blocks(path.read_bytes())
    return ParsedFile(text, title, blocks=tuple(built.blocks) if built is not None else ())


def html_blocks(data: bytes) -> tuple[str, BlockText | None, str]:
    """(title, blocks, text) of an HTML page; blocks are None for a page nested too deep to walk,
    whose text is then read flat."""
    import warnings

    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning

    with warnings.catch_warnings():  # XHTML (an e-book chapter) read as HTML is what we want
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(decode_bytes(data), "lxml")
    title_tag = soup.find("title")
    title = normalize_text(title_tag.get_text(" ")) if title_tag else ""
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    body = soup.find("main") or soup.find(_is_main) or soup.find("article") or soup.body or soup
    for tag in body.find_all(_left_out):  # one walk; a tag inside one already removed goes with it
        if not tag.decomposed:
            tag.decompose()
    for link in body.find_all(_leads_along):
        if not link.decomposed and (line := _sequence_line(link, body)) is not None:
            line.decompose()
    try:
        built = _Walker().read(body)
    except RecursionError:
        built = None
    text = built.text if built is not None else normalize_text(_text_with_breaks(body))
    if not title:
        heading = body.find(["h1", "h2"])
        title = normalize_text(heading.get_text(" ")) if heading else title_from_lines(text.split("\n"))
    return title, built, text


class _Walker:
    """Walks the element tree once, gathering inline text until a block boundary."""

    def __init__(self) -> None:
        self.out = BlockText()
        self.buffer: list[str] = []
        self.kind: BlockKind = "paragraph"

    def read(self, root) -> BlockText:
        self._children(root)
        self._flush()
        return self.out

    def _flush(self) -> None:
        raw = "".join(self.buffer)
        self.buffer = []
        if raw.strip():
            self.out.add(self.kind, raw)

    def _children(self, element) -> None:
        from bs4 import NavigableString, Tag
        from bs4.element import PreformattedString

        for child in element.children:
            if isinstance(child, PreformattedString):  # comments, doctypes, CDATA
                continue
            if isinstance(child, NavigableString):
                self.buffer.append(str(child))
            elif isinstance(child, Tag):
                self._element(child)

    def _element(self, tag) -> None:
        name = tag.name
        if name == "br":
            self._flush()
        elif name == "pre":
            self._flush()
            self.out.add_preformatted(tag.get_text(""))
        elif name in _HEADINGS:
            self._flush()
            self.out.add("heading", tag.get_text(" "), _HEADINGS[name])
        elif name == "tr":
            self._flush()
            self._row(tag)
        elif name == "p" and _bold_only(tag):
            self._flush()
            self.out.add("heading", tag.get_text(" "), 7)
        elif name in _BLOCK_KINDS or name in _CONTAINERS or name in _CELLS:
            self._flush()
            outer = self.kind
            self.kind = _BLOCK_KINDS.get(name, outer)
            self._children(tag)
            self._flush()
            self.kind = outer
        else:  # inline: its text runs on in the block around it
            self._children(tag)

    def _row(self, row) -> None:
        """A row of plain cells is one block, a line for each cell; a row whose cells hold
        blocks of their own (a layout table) is read cell by cell."""
        cells = row.find_all(_CELLS, recursive=False)
        if any(cell.find(_BLOCK_TAGS) for cell in cells):
            outer = self.kind
            for cell in cells:
                self.kind = "paragraph"
                self._children(cell)
                self._flush()
            self.kind = outer
            return
        texts = [" ".join(cell.get_text(" ").split()) for cell in cells]
        kind: BlockKind = "table_head" if cells and all(cell.name == "th" for cell in cells) else "row"
        self.out.add(kind, "\n".join(text for text in texts if text), keep_lines=True)


_BLOCK_TAGS = [*_BLOCK_KINDS, *_CONTAINERS, *_HEADINGS, "pre", "tr", "br"]
_BLOCK_PARTS = _CONTAINERS | _CELLS | {"tr"}
_BLOCKS = frozenset([*_BLOCK_TAGS, *_CELLS])  # where the flat walk breaks lines


def _bold_only(paragraph) -> bool:
    """`<p><b>Maximum length of a string</b></p>`, or a signature set in bold and italics
    (`<p><b>PRAGMA </b><i>schema.</i><b>journal_mode;</b></p>`): every word inside b, strong,
    i, em or code, some of it bold, and few words, or a question (a FAQ's, up to two long lines)."""
    from bs4 import NavigableString

    children = [c for c in paragraph.children if not (isinstance(c, NavigableString) and not c.strip())]
    if not children or any(getattr(c, "name", None) not in _EMPHASIS for c in children):
        return False
    if not any(c.name in ("b", "strong") for c in children):
        return False
    text = paragraph.get_text(" ")
    words = [w for w in text.split() if any(ch.isalnum() for ch in w)]
    limit = _BOLD_QUESTION_WORDS if text.rstrip().endswith("?") else _BOLD_HEADING_WORDS
    return 0 < len(words) <= limit


_EMPHASIS = frozenset({"b", "strong", "i", "em", "code", "tt", "br"})


def _is_main(tag) -> bool:
    """A plain element given the main landmark's role (`<div role="main">`: Sphinx's page body,
    Node.js's API pages), which means what <main> means: the site's header and menus are outside."""
    return (tag.get("role") or "").strip().lower() == "main"


def _left_out(tag) -> bool:
    """Site chrome, or what the browser does not show."""
    return tag.name in _CHROME_TAGS or _hidden(tag) or _chrome(tag)


def _hidden(tag) -> bool:
    """An element the browser does not show (`hidden`, or `display:none` set inline)."""
    if tag.has_attr("hidden"):
        return True
    style = tag.get("style")
    return bool(style) and "display:none" in style.replace(" ", "").lower()


def _chrome(tag) -> bool:
    """A plain element given a chrome role (a theme's menu, footer or sidebar), or a heading's permalink."""
    if (tag.get("role") or "").strip().lower() in _CHROME_ROLES:
        return True
    if tag.name != "a":
        return False
    return "headerlink" in (tag.get("class") or ()) or tag.get_text(strip=True) in _PERMALINK_MARKS


def _leads_along(tag) -> bool:
    """A link to the next, previous or parent page of a manual, marked as such."""
    if tag.name != "a":
        return False
    rels = _words(tag.get("rel"))
    keys = _words(tag.get("accesskey"))
    return any(rel in _SEQUENCE_RELS for rel in rels) or any(key in _SEQUENCE_KEYS for key in keys)


def _words(value) -> list[str]:
    """An attribute's values, lower case: bs4 gives `rel` and `accesskey` as lists."""
    if not value:
        return []
    return [word.lower() for word in (value.split() if isinstance(value, str) else value)]


def _sequence_line(link, body):
    """The largest block around `link`, up to four levels out, that holds nothing but such links
    and their labels ("Next: <a>Thread Safety</a>, Previous: …, Up: … [<a>Index</a>]"), or None."""
    import re

    found, element = None, link.parent
    for _ in range(4):
        if element is None or element is body or not (element.name in _BLOCK_KINDS or element.name in _BLOCK_PARTS):
            break
        links = element.find_all("a", limit=_LINE_LINKS + 1)
        strings = element.find_all(string=True, limit=4 * _LINE_LINKS + 1)
        if len(links) > _LINE_LINKS or len(strings) > 4 * _LINE_LINKS or not all(_leads_along(a) for a in links):
            break  # a block of many links is a menu or content, and looking through it for each is quadratic
        if element.find(["h1", "h2", "h3", "h4", "h5", "h6", "pre"]):  # a small block now: a short look
            break
        beside = " ".join(text for text in strings if text.find_parent("a") not in links)
        if any(word.lower() not in _SEQUENCE_LABELS for word in re.findall(r"\w+", beside)):
            break
        found, element = element, element.parent
    return found


def _text_with_breaks(root) -> str:
    """`root.get_text("")` with a line break before and after each block element inside it, in
    one pass over the tree (an explicit stack: no recursion, however deep the page)."""
    from bs4 import NavigableString, Tag

    types = root.interesting_string_types or Tag.MAIN_CONTENT_STRING_TYPES
    wanted = (lambda kind: kind is types) if isinstance(types, type) else (lambda kind: kind in types)
    parts: list[str] = []
    children, blocks = [iter(root.contents)], [False]  # the open elements' remaining children; block or not
    while children:
        child = next(children[-1], None)
        if child is None:
            children.pop()
            if blocks.pop():
                parts.append("\n")
        elif isinstance(child, Tag):
            block = child.name in _BLOCKS
            if block:
                parts.append("\n")
            children.append(iter(child.contents))
            blocks.append(block)
        elif isinstance(child, NavigableString) and wanted(type(child)):
            parts.append(str(child))
    return "".join(parts)


register(
    Reader(
        "html",
        frozenset({".html", ".htm", ".xhtml"}),
        read_html,
        isolated=True,
        preload=("bs4", "lxml", "charset_normalizer"),
    )
)
