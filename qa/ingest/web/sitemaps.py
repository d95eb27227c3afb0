"""Sitemaps (sitemaps.org): a `<urlset>` lists pages, a `<sitemapindex>` lists more sitemaps.
Parsed with lxml (already how HTML is read) from bytes the crawler fetched, so the fetch keeps its
limits, robots.txt and politeness; entities and external DTDs are never resolved, and a sitemap
over its size or URL limit is refused with the reason, not half-read."""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field

from qa.errors import InvalidSitemap

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the protocol's own limit, uncompressed
MAX_SITEMAP_URLS = 50_000


@dataclass
class Sitemap:
    pages: list[str] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # of a sitemap index


def looks_like_sitemap(url: str, content_type: str, body: bytes) -> bool:
    """XML whose root is a urlset or a sitemapindex (a gzip file is looked into)."""
    head = _unpacked(body, 4096)[:2048].lower() if body else b""
    xml = "xml" in content_type or url.lower().endswith((".xml", ".xml.gz"))
    return xml and (b"<urlset" in head or b"<sitemapindex" in head)


def parse_sitemap(body: bytes) -> Sitemap:
    """The pages (or sitemaps) a sitemap lists; raises InvalidSitemap for a malformed or huge one."""
    from lxml import etree

    data = _unpacked(body, MAX_SITEMAP_BYTES + 1)
    if len(data) > MAX_SITEMAP_BYTES:
        raise InvalidSitemap(f"over {MAX_SITEMAP_BYTES:,} bytes uncompressed")
    found = Sitemap()
    kind = None
    try:
        for _, element in etree.iterparse(
            io.BytesIO(data), events=("end",), resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        ):
            tag = etree.QName(element).localname if isinstance(element.tag, str) else ""
            if tag == "loc" and element.text and element.text.strip():
                parent = etree.QName(element.getparent()).localname if element.getparent() is not None else ""
                (found.sitemaps if parent == "sitemap" else found.pages).append(element.text.strip())
                if len(found.pages) + len(found.sitemaps) > MAX_SITEMAP_URLS:
                    raise InvalidSitemap(f"more than {MAX_SITEMAP_URLS:,} URLs")
            elif tag in {"urlset", "sitemapindex"}:
                kind = tag
            if tag in {"url", "sitemap"}:
                element.clear()
    except etree.XMLSyntaxError as error:
        raise InvalidSitemap(f"malformed XML ({error})") from None
    if kind is None:
        raise InvalidSitemap("no <urlset> or <sitemapindex> in it")
    return found


def _unpacked(body: bytes, limit: int) -> bytes:
    """The bytes, gunzipped when they are gzip, read up to `limit` (a gzip bomb stops there)."""
    if body[:2] != b"\x1f\x8b":
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as unpacked:
            return unpacked.read(limit)
    except (OSError, EOFError) as error:
        raise InvalidSitemap(f"bad gzip ({error})") from None
