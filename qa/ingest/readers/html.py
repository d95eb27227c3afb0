"""HTML (.html, .htm, .xhtml): the main text without navigation, scripts or markup. Read in the
bounded worker process, and in one walk of the tree: a page nested 200,000 elements deep costs
what its size does (inserting a line break around each block element was quadratic in depth)."""

from __future__ import annotations

from pathlib import Path

from qa.ingest.readers.common import decode_bytes, title_from_lines
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text

_BLOCK_TAGS = (
    "p div section article main header footer aside nav h1 h2 h3 h4 h5 h6 li ul ol dl dt dd "
    "blockquote pre table tr td th caption figure figcaption br hr address details summary"
).split()
_BLOCKS = frozenset(_BLOCK_TAGS)
_DROP_TAGS = "script style noscript template svg canvas iframe object embed head form button".split()


def read_html(path: Path, limits=None) -> ParsedFile:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_bytes(path.read_bytes()), "lxml")
    title_tag = soup.find("title")
    title = normalize_text(title_tag.get_text(" ")) if title_tag else ""
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    body = soup.find("main") or soup.find("article") or soup.body or soup
    for tag in body.find_all(["nav", "footer", "aside"]):
        tag.decompose()
    text = normalize_text(_text_with_breaks(body))
    if not title:
        heading = body.find(["h1", "h2"])
        title = normalize_text(heading.get_text(" ")) if heading else title_from_lines(text.split("\n"))
    return ParsedFile(text, title)


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
