"""E-books (.epub): the chapters in reading order (the package's spine), each read by the HTML
reader, so a chapter's headings are blocks and its title heads it (from the table of contents
when the chapter has no heading of its own); a passage's section path starts with its chapter.

Read with the standard library's zipfile and lxml rather than ebooklib: we need the spine, the
table of contents and the title, and reading them here keeps every XML parse of the package under
our settings (no entities resolved, no network, no DTD) without another dependency. The zip is
checked against the limits first; read in the bounded worker process."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from qa.errors import UnreadableFile
from qa.ingest.blocks import BlockText
from qa.ingest.readers.common import check_zip
from qa.ingest.readers.html import html_blocks
from qa.ingest.readers.registry import ParsedFile, Reader, register
from qa.text.normalize import normalize_text

if TYPE_CHECKING:
    from qa.ingest.limits import ReadLimits

_OPF = "{http://www.idpf.org/2007/opf}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_NCX = "{http://www.daisy.org/z3986/2005/ncx/}"
_XHTML = "{http://www.w3.org/1999/xhtml}"


def read_epub(path: Path, limits: ReadLimits) -> ParsedFile:
    import zipfile

    check_zip(path, limits)
    with zipfile.ZipFile(path) as archive:
        container = _xml(archive, "META-INF/container.xml")
        rootfile = next((e.get("full-path") for e in container.iter() if e.tag.endswith("rootfile")), None)
        if not rootfile:
            raise UnreadableFile("no package document named in META-INF/container.xml")
        package = _xml(archive, rootfile)
        base = posixpath.dirname(rootfile)
        manifest = {
            item.get("id"): (posixpath.normpath(posixpath.join(base, unquote(item.get("href", "")))), item)
            for item in package.iter(f"{_OPF}item")
        }
        toc = _toc_titles(archive, package, manifest, base)
        out = BlockText()
        for itemref in package.iter(f"{_OPF}itemref"):
            href, item = manifest.get(itemref.get("idref"), (None, None))
            if href is None or "html" not in (item.get("media-type") or ""):
                continue
            title, built, text = html_blocks(archive.read(href))
            chapter = built
            if chapter is None:  # nested too deep to walk: its text flat, as one block
                chapter = BlockText()
                chapter.add("paragraph", text, keep_lines=True)
            if chapter.blocks and chapter.blocks[0].kind != "heading" and (toc.get(href) or title):
                out.add("heading", toc.get(href) or title, 1)
            out.extend(chapter)
        titles = [normalize_text(e.text or "") for e in package.iter(f"{_DC}title")]
    return ParsedFile(out.text, titles[0] if titles else "", blocks=tuple(out.blocks))


def _xml(archive, name: str):
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        return etree.fromstring(archive.read(name), parser)
    except KeyError:
        raise UnreadableFile(f"{name} is missing from the e-book") from None


def _toc_titles(archive, package, manifest, base) -> dict[str, str]:
    """Chapter file → its title in the table of contents (EPUB 3 nav or EPUB 2 NCX)."""
    titles: dict[str, str] = {}
    for href, item in manifest.values():
        try:
            if "nav" in (item.get("properties") or "").split():
                for link in _xml(archive, href).iter(f"{_XHTML}a"):
                    _put(titles, href, link.get("href"), "".join(link.itertext()))
            elif item.get("media-type") == "application/x-dtbncx+xml":
                for point in _xml(archive, href).iter(f"{_NCX}navPoint"):
                    label = point.find(f"{_NCX}navLabel/{_NCX}text")
                    content = point.find(f"{_NCX}content")
                    if label is not None and content is not None:
                        _put(titles, href, content.get("src"), label.text or "")
        except UnreadableFile:
            continue
    return titles


def _put(titles: dict[str, str], toc_href: str, target: str | None, label: str) -> None:
    if target:
        chapter = posixpath.normpath(posixpath.join(posixpath.dirname(toc_href), unquote(target.split("#")[0])))
        titles.setdefault(chapter, " ".join(label.split()))


register(Reader("epub", frozenset({".epub"}), read_epub, isolated=True, preload=("bs4", "lxml", "charset_normalizer")))
