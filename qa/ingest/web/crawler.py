"""Fetching a site politely: robots.txt first (the standard library's `urllib.robotparser`), one
request at a time per `delay` (or the site's Crawl-delay, whichever is longer), at most
`concurrency` at once, a user agent that names the tool. Links are followed under the start URL's
folder on its host, or the pages of a sitemap are fetched. A page fetched before is asked for
conditionally (If-None-Match, If-Modified-Since): a 304 costs no body.

Every fetch ends in one outcome: a page (its body saved for its reader), not modified, gone
(404/410: its document is removed), or not fetched with a reason (5xx, timeout, TLS, robots.txt,
size, type, redirects): the document indexed before, if any, is kept. A page that asks not to be
indexed (`noindex` in its robots meta tag or an X-Robots-Tag header, as a search engine's crawler
honours it: a print-all page, a redirect stub) is skipped with that reason and its document
removed; its links are followed unless it also says `nofollow`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

from qa.errors import InvalidSitemap, PageGone, PageNotFetched
from qa.ingest.web.sitemaps import looks_like_sitemap, parse_sitemap
from qa.ingest.web.urls import fold, in_scope, origin, scope_of

logger = logging.getLogger(__name__)

MIB = 1 << 20
USER_AGENT = "qa-passages/0.1 (extractive question answering; +https://pypi.org/project/qa-passages/)"
# Content types a reader takes, and the suffix its body is saved under for that reader.
READABLE_TYPES = {
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
SITEMAP_TYPES = ("application/xml", "text/xml", "application/gzip", "application/x-gzip")
MAX_SITEMAPS = 100  # sitemaps fetched from one sitemap index, nested ones included


@dataclass(frozen=True)
class CrawlSettings:
    """What one crawl may do: `qa index URL`'s options."""

    max_pages: int = 1000  # pages fetched (or asked about) at most
    depth: int | None = None  # links followed from the start page; None: no limit but max_pages
    delay: float = 0.25  # seconds between two requests to the host (a longer Crawl-delay wins)
    concurrency: int = 4  # requests in flight at once
    timeout: float = 20.0  # seconds for one request (connect, each read)
    max_page_bytes: int = 20 * MIB  # a page larger is skipped
    max_redirects: int = 5
    user_agent: str = USER_AGENT


DEFAULT_CRAWL = CrawlSettings()


@dataclass
class PageState:
    """What a re-run needs of a page fetched before: its validators, its content hash, the page it
    is (its canonical URL) and the links it holds (a 304 sends none)."""

    identity: str
    sha256: str
    etag: str | None = None
    last_modified: str | None = None
    suffix: str = ".html"
    links: list[str] = field(default_factory=list)


@dataclass
class Page:
    """A page of the site as this crawl found it: `body` is None when it was not modified (or not
    reachable now and kept) and its indexed version stands."""

    identity: str
    sha256: str
    suffix: str
    body: Path | None = None
    modified: float | None = None


@dataclass
class CrawlResult:
    pages: dict[str, Page] = field(default_factory=dict)  # identity → page
    states: dict[str, PageState] = field(default_factory=dict)  # request URL (folded) → state to keep
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (url, reason): nothing indexed changes
    kept: list[tuple[str, str]] = field(default_factory=list)  # (url, reason): not reached; indexed version kept
    gone: list[str] = field(default_factory=list)  # 404/410: removed
    complete: bool = True  # every page in scope was reached: what was not found is gone
    downloaded: int = 0  # page bodies received
    not_modified: int = 0  # 304s
    requests: int = 0
    seconds: float = 0.0
    scope: str = ""


@dataclass
class _Response:
    url: str  # final, after redirects
    status: int
    headers: dict[str, str]
    body: bytes


class Crawler:
    """One crawl of one start URL. `previous`: the states of the last crawl; `indexed`: identity →
    content hash of the documents the index holds, so a validator is only trusted for a page whose
    indexed version is the one it validates."""

    def __init__(
        self,
        start: str,
        settings: CrawlSettings,
        bodies: Path,
        previous: dict[str, PageState] | None = None,
        indexed: dict[str, str] | None = None,
    ) -> None:
        folded = fold(start)
        if folded is None:
            raise ValueError(f"not an http(s) URL: {start}")
        self.start, self.folded_start = start.split("#")[0], folded
        self.scope = scope_of(folded)
        self.origin = origin(folded)
        self.settings = settings
        self.bodies = bodies
        self.previous = previous or {}
        self.indexed = indexed or {}
        self.result = CrawlResult(scope=self.scope)
        self._seen: set[str] = set()  # folded request URLs taken
        self._next_request = 0.0
        self._delay = settings.delay
        self._robots_problem: str | None = None  # robots.txt could not be read: nothing is fetched this time

    def run(self) -> CrawlResult:
        """Crawl to the end; callable from any thread, one with a running event loop included (the
        crawl then runs on a thread of its own)."""
        started = time.monotonic()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            asyncio.run(self._crawl())
        else:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(1, thread_name_prefix="qa-crawl") as pool:
                pool.submit(asyncio.run, self._crawl()).result()
        self.result.seconds = time.monotonic() - started
        return self.result

    async def _crawl(self) -> None:
        import httpx

        self._pace = asyncio.Lock()
        try:
            import h2  # noqa: F401

            http2 = True
        except ImportError:
            http2 = False
        limits = httpx.Limits(max_connections=self.settings.concurrency)
        async with httpx.AsyncClient(
            http2=http2,
            timeout=self.settings.timeout,
            limits=limits,
            headers={"User-Agent": self.settings.user_agent},
            follow_redirects=False,
        ) as client:
            self.client = client
            self.robots = await self._robots()
            delay = self.robots.crawl_delay(self.settings.user_agent)
            self._delay = max(self.settings.delay, float(delay or 0))
            queue: asyncio.Queue = asyncio.Queue()
            sitemap_pages = await self._sitemap_pages()
            if sitemap_pages is not None:
                for url in sitemap_pages:
                    self._enqueue(queue, url, None, depth=None)
            else:
                self._enqueue(queue, self.start, None, depth=0)
            workers = [asyncio.create_task(self._work(queue)) for _ in range(self.settings.concurrency)]
            await queue.join()
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    def _enqueue(self, queue: asyncio.Queue, url: str, base: str | None, depth: int | None) -> None:
        folded = fold(url, base)
        if folded is None or not in_scope(folded, self.scope) or folded in self._seen:
            return
        if len(self._seen) >= self.settings.max_pages:
            self.result.complete = False
            return
        self._seen.add(folded)
        fetch = urljoin(base, url.strip()) if base else url.strip()
        queue.put_nowait((fetch.split("#")[0], folded, depth))

    async def _work(self, queue: asyncio.Queue) -> None:
        while True:
            fetch, folded, depth = await queue.get()
            try:
                links = await self._visit(fetch, folded)
                follow = depth is not None and (self.settings.depth is None or depth < self.settings.depth)
                for link, base in links if follow else ():
                    self._enqueue(queue, link, base, depth + 1)
            except Exception as error:  # one page's bug must not end the crawl
                logger.exception("crawling %s failed", fetch)
                self.result.skipped.append((folded, f"{type(error).__name__}: {error}"))
            finally:
                queue.task_done()

    async def _visit(self, fetch: str, folded: str) -> list[tuple[str, str]]:
        """Fetch one page and record its outcome; the links to follow, with the base each is relative to."""
        state = self.previous.get(folded)
        trusted = state is not None and self.indexed.get(state.identity) == state.sha256
        headers = {}
        if trusted:
            if state.etag:
                headers["If-None-Match"] = state.etag
            if state.last_modified:
                headers["If-Modified-Since"] = state.last_modified
        try:
            response = await self._get(fetch, headers)
        except PageGone:
            self.result.gone.append(state.identity if state else folded)
            return []
        except PageNotFetched as skip:
            return self._not_reached(folded, state, skip)
        if response.status == 304 and trusted:
            self.result.not_modified += 1
            self.result.states[folded] = state
            self._page(state.identity, state.sha256, state.suffix, None, response.headers)
            return [(link, link) for link in state.links]
        try:
            suffix = self._suffix(response)
        except PageNotFetched as skip:
            return self._not_reached(folded, state, skip)
        final = fold(response.url) or folded
        links, canonical, directives = _links(response.body, response.url) if suffix == ".html" else ([], None, set())
        directives |= robots_directives(response.headers.get("x-robots-tag", ""))
        if directives & {"nofollow", "none"}:
            links = []
        if directives & {"noindex", "none"}:  # the page's own robots.txt: seen, not kept
            self.result.skipped.append((folded, "the page asks not to be indexed (robots noindex)"))
            return links
        identity = final
        if canonical and origin(canonical) == self.origin:
            identity = canonical
        if identity in self.result.pages:
            return []  # the same page by another URL (a redirect, a canonical link): folded into one
        sha = hashlib.sha256(response.body).hexdigest()
        body = self.bodies / f"{hashlib.sha1(identity.encode()).hexdigest()}{suffix}"
        body.write_bytes(response.body)
        self.result.downloaded += 1
        self._page(identity, sha, suffix, body, response.headers)
        folded_links = [f for f in (fold(link, base) for link, base in links) if f and in_scope(f, self.scope)]
        self.result.states[folded] = PageState(
            identity,
            sha,
            response.headers.get("etag"),
            response.headers.get("last-modified"),
            suffix,
            sorted(set(folded_links)),
        )
        return links

    def _page(self, identity: str, sha: str, suffix: str, body: Path | None, headers: dict[str, str]) -> None:
        modified = None
        if headers.get("last-modified"):
            try:
                modified = parsedate_to_datetime(headers["last-modified"]).timestamp()
            except (TypeError, ValueError):
                modified = None
        self.result.pages[identity] = Page(identity, sha, suffix, body, modified)

    def _not_reached(self, folded: str, state: PageState | None, skip: PageNotFetched) -> list[tuple[str, str]]:
        """A page not fetched now: its indexed version (if any) is kept, and its links as last seen
        are still followed, so the pages below it are not taken for gone."""
        if state is not None and self.indexed.get(state.identity) == state.sha256:
            self.result.kept.append((state.identity, skip.reason))
            self.result.states[folded] = state
            self.result.pages[state.identity] = Page(state.identity, state.sha256, state.suffix)
            return [(link, link) for link in state.links]
        self.result.skipped.append((folded, skip.reason))
        if skip.transient:
            self.result.complete = False  # what it links to is unknown: nothing is taken for gone
        return []

    def _suffix(self, response: _Response) -> str:
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not content_type:
            guess = Path(urlsplit(response.url).path).suffix.lower()
            if guess in set(READABLE_TYPES.values()) | {".htm"}:
                return ".html" if guess == ".htm" else guess
            raise PageNotFetched("no content type, and none in its name")
        if content_type not in READABLE_TYPES:
            raise PageNotFetched(f"content type {content_type}, which no reader takes")
        return READABLE_TYPES[content_type]

    async def _get(self, url: str, headers: dict[str, str], sitemap: bool = False) -> _Response:
        """GET with redirects followed by hand (to the same host only, no loops), robots.txt asked
        at each hop, the body read up to the size limit. Raises PageGone or PageNotFetched."""
        import httpx

        visited: list[str] = []
        for _ in range(self.settings.max_redirects + 1):
            if origin(fold(url) or url) != self.origin:
                raise PageNotFetched(f"redirected to another host ({url})")
            if url in visited:
                raise PageNotFetched(f"redirect loop ({' → '.join([*visited, url])})")
            visited.append(url)
            if self._robots_problem:
                reason = f"robots.txt unreachable: {self._robots_problem}; tried again next time"
                raise PageNotFetched(reason, transient=True)
            if not self.robots.can_fetch(self.settings.user_agent, url):
                raise PageNotFetched("robots.txt disallows it")
            await self._wait_turn()
            self.result.requests += 1
            try:
                async with self.client.stream("GET", url, headers=headers) as response:
                    status = response.status_code
                    if status in {301, 302, 303, 307, 308} and "location" in response.headers:
                        url = urljoin(url, response.headers["location"]).split("#")[0]
                        headers = {}
                        continue
                    if status in {404, 410}:
                        raise PageGone()
                    if status == 304:
                        return _Response(str(response.url), status, dict(response.headers), b"")
                    if status >= 500 or status == 429:
                        raise PageNotFetched(f"HTTP {status}; tried again next time", transient=True)
                    if status != 200:
                        raise PageNotFetched(f"HTTP {status}")
                    limit = self.settings.max_page_bytes * (3 if sitemap else 1)
                    declared = response.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > limit:
                        raise PageNotFetched(f"{int(declared):,} bytes, over the limit of {limit:,}")
                    chunks, size = [], 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > limit:
                            raise PageNotFetched(f"over the limit of {limit:,} bytes")
                        chunks.append(chunk)
                    return _Response(str(response.url), status, dict(response.headers), b"".join(chunks))
            except httpx.TimeoutException:
                raise PageNotFetched("timed out; tried again next time", transient=True) from None
            except httpx.ConnectError as error:
                tls = "SSL" in str(error) or "CERTIFICATE" in str(error).upper()
                reason = f"TLS error ({error})" if tls else f"cannot connect ({error})"
                raise PageNotFetched(f"{reason}; tried again next time", transient=True) from None
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError) as error:
                reason = f"connection reset ({type(error).__name__}); tried again next time"
                raise PageNotFetched(reason, transient=True) from None
            except httpx.HTTPError as error:
                raise PageNotFetched(f"{type(error).__name__}: {error}") from None
        raise PageNotFetched(f"more than {self.settings.max_redirects} redirects")

    async def _wait_turn(self) -> None:
        """Politeness: request starts to the host are `delay` seconds apart."""
        async with self._pace:
            now = time.monotonic()
            wait = self._next_request - now
            self._next_request = max(now, self._next_request) + self._delay
        if wait > 0:
            await asyncio.sleep(wait)

    async def _robots(self) -> RobotFileParser:
        """The host's robots.txt: none (4xx) allows everything; an unreachable one (5xx, network)
        allows nothing this time, as RFC 9309 says."""
        import httpx

        robots = RobotFileParser()
        url = f"{self.origin}/robots.txt"
        try:
            response = await self.client.get(url, follow_redirects=True)
            self.result.requests += 1
        except httpx.HTTPError as error:
            logger.warning("robots.txt of %s unreachable (%s): nothing is fetched", self.origin, error)
            tls = "SSL" in str(error) or "CERTIFICATE" in str(error).upper()
            self._robots_problem = f"{'TLS error' if tls else type(error).__name__} ({error})"
            robots.disallow_all = True
            return robots
        if response.status_code >= 500:
            self._robots_problem = f"HTTP {response.status_code}"
            robots.disallow_all = True
        elif response.status_code >= 400:
            robots.allow_all = True
        else:
            robots.parse(response.text[: 512 * 1024].splitlines())
        return robots

    async def _sitemap_pages(self) -> list[str] | None:
        """The pages the start URL lists when it is a sitemap (an index: its sitemaps' pages);
        None when it is a page. A sitemap that cannot be used is skipped with the reason and then
        nothing is known to be gone."""
        lowered = self.folded_start.lower()
        if not lowered.endswith((".xml", ".xml.gz")) and "sitemap" not in lowered:
            return None
        pages: list[str] = []
        todo, fetched = [self.start], 0
        while todo and fetched < MAX_SITEMAPS:
            url = todo.pop(0)
            fetched += 1
            try:
                response = await self._get(url, {}, sitemap=True)
            except (PageNotFetched, PageGone) as error:
                reason = error.reason if isinstance(error, PageNotFetched) else "gone (404/410)"
                self.result.skipped.append((url, f"sitemap not fetched: {reason}"))
                self.result.complete = False
                continue
            content_type = response.headers.get("content-type", "")
            if not looks_like_sitemap(url, content_type, response.body):
                if url == self.start:
                    return None  # a page whose name says sitemap
                self.result.skipped.append((url, "not a sitemap"))
                self.result.complete = False
                continue
            try:
                found = parse_sitemap(response.body)
            except InvalidSitemap as error:
                self.result.skipped.append((url, f"sitemap skipped: {error}"))
                self.result.complete = False
                continue
            pages += found.pages
            todo += [s for s in found.sitemaps if origin(fold(s) or s) == self.origin]
        if todo:
            self.result.skipped.append((self.start, f"more than {MAX_SITEMAPS} sitemaps; the rest were not read"))
            self.result.complete = False
        self.scope = f"{self.origin}/" if pages else self.scope
        self.result.scope = self.scope
        return pages


def robots_directives(value: str) -> set[str]:
    """The directives of a robots meta tag's content or an X-Robots-Tag header meant for every
    crawler ("noindex, nofollow"); those addressed to one crawler by name ("googlebot: noindex")
    are not ours."""
    return {part.strip().lower() for part in value.split(",") if part.strip() and ":" not in part}


def _links(body: bytes, base: str) -> tuple[list[tuple[str, str]], str | None, set[str]]:
    """The links of an HTML page (href, the URL it is relative to), its canonical URL (folded) and
    its robots meta directives (noindex, nofollow)."""
    from lxml import etree, html

    try:
        document = html.document_fromstring(body)
    except (etree.ParserError, ValueError):
        return [], None, set()
    directives: set[str] = set()
    for meta in document.iterfind(".//meta[@name]"):
        if meta.get("name", "").strip().lower() == "robots":
            directives |= robots_directives(meta.get("content") or "")
    base_tag = document.find(".//base[@href]")
    if base_tag is not None:
        base = urljoin(base, base_tag.get("href"))
    canonical = None
    for link in document.iterfind(".//link[@rel]"):
        if "canonical" in link.get("rel", "").lower().split() and link.get("href"):
            canonical = fold(link.get("href"), base)
            break
    links = [
        (anchor.get("href"), base)
        for anchor in document.iterfind(".//a[@href]")
        if "nofollow" not in (anchor.get("rel") or "").lower()
    ]
    return links, canonical, directives
