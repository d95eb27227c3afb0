"""One spelling per page: URLs are folded before they are compared, so `/guide/`, `/guide`,
`/guide#install` and `/guide?utm_source=x` are one page, and a crawl's scope is a prefix."""

from __future__ import annotations

import posixpath
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that say where a visitor came from, never what the page holds.
TRACKING = frozenset(
    "utm_source utm_medium utm_campaign utm_term utm_content utm_id gclid fbclid msclkid mc_cid mc_eid "
    "_ga _gl ref_src yclid igshid".split()
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def fold(url: str, base: str | None = None) -> str | None:
    """The URL as compared and stored: absolute (against `base`), scheme and host lower-cased,
    default port, fragment, tracking parameters and a trailing slash dropped, `.`/`..` resolved,
    the remaining query sorted. None for what is no web page (mailto:, javascript:, …)."""
    url = url.strip()
    if base is not None:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if parts.port and parts.port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{parts.port}"
    path = posixpath.normpath(unquote(parts.path)) if parts.path else "/"
    path = "/" if path in {".", "/", "//"} else path
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    path = quote(path, safe="/:@!$&'()*+,;=~-._")
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in TRACKING)
    return urlunsplit((scheme, host, path, urlencode(query), ""))


def origin(url: str) -> str:
    """scheme://host[:port] of a folded URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def scope_of(url: str) -> str:
    """What a crawl from `url` may reach: its folder, as a prefix (`https://h/docs/guide` → `https://h/docs/`)."""
    parts = urlsplit(url)
    path = parts.path
    folder = path if path.endswith("/") or "." not in posixpath.basename(path) else posixpath.dirname(path)
    folder = folder.rstrip("/") + "/"
    return urlunsplit((parts.scheme, parts.netloc, folder, "", ""))


def in_scope(url: str, scope: str) -> bool:
    """Is the folded `url` at or below the `scope` prefix (its folder page included)?"""
    return url.startswith(scope) or url == scope.rstrip("/") or url + "/" == scope


def name_in(url: str, scope: str) -> str:
    """A page's name relative to its crawl's scope, as a file's is to its folder: `guide/install`."""
    rest = url[len(scope) :] if url.startswith(scope) else urlsplit(url).path.lstrip("/")
    return rest.strip("/") or "index"


def is_url(text: str) -> bool:
    return urlsplit(text).scheme.lower() in DEFAULT_PORTS and bool(urlsplit(text).netloc)
