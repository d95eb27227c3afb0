"""HTML (.html, .htm, .xhtml): the main text without navigation, scripts or markup."""

from __future__ import annotations

from pathlib import Path

from qa.ingest.readers import ParsedFile, Reader, register
from qa.ingest.readers.common import decode_bytes, title_from_lines
from qa.text.normalize import normalize_text

_BLOCK_TAGS = (
    "p div section article main header footer aside nav h1 h2 h3 h4 h5 h6 li ul ol dl dt dd "
    "blockquote pre table tr td th caption figure figcaption br hr address details summary"
).split()
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
    for tag in body.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    text = normalize_text(body.get_text(""))
    if not title:
        heading = body.find(["h1", "h2"])
        title = normalize_text(heading.get_text(" ")) if heading else title_from_lines(text.split("\n"))
    return ParsedFile(text, title)


register(Reader("html", frozenset({".html", ".htm", ".xhtml"}), read_html))
