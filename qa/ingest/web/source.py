"""A web site as a `Source`: its items are the pages a crawl reached (identity: the page's URL,
version: the sha256 of its body), so planning and indexing are the ones files go through. What
a re-run needs (validators, hashes, links) is kept beside the index, one file per start URL,
and trusted only for a page whose indexed version it describes."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from embeddings import Encoder
from qa.errors import NoDocuments, UnreadableFile
from qa.events import OnProgress, Progress, ignore
from qa.ingest.documents import Document, Skipped, file_size, parse_file
from qa.ingest.limits import DEFAULT_READ_LIMITS, ReadLimits
from qa.ingest.sources import SourceScan
from qa.ingest.web.crawler import DEFAULT_CRAWL, Crawler, CrawlResult, CrawlSettings, Page, PageState
from qa.ingest.web.urls import fold, name_in, origin
from qa.store import MANIFEST_FILE, Snapshot
from qa.store.manifest import SOURCES_FOLDER, SourceRecord, utc_now

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebPage:
    """A page a crawl reached, as a source item; its document's source is its URL."""

    page: Page
    scope: str

    @property
    def identity(self) -> str:
        return self.page.identity

    @property
    def name(self) -> str:
        return name_in(self.page.identity, self.scope)

    def version(self) -> str:
        return self.page.sha256

    def read(self, doc_id: str, version: str, limits: ReadLimits = DEFAULT_READ_LIMITS) -> Document:
        if self.page.body is None:
            raise UnreadableFile("not downloaded this time")
        parsed = parse_file(self.page.body, limits)  # the reader of its type, in the bounded worker
        return Document(
            doc_id=doc_id,
            source=self.page.identity,
            title=parsed.title or _stem(self.page.identity),
            text=parsed.text,
            sha256=version,
            root=origin(self.page.identity),
            page_starts=parsed.page_starts,
            modified=self.page.modified,
            tags=parsed.tags,
            blocks=parsed.blocks,
        )

    def place(self) -> tuple[str, str, float | None]:
        return origin(self.page.identity), self.page.identity, self.page.modified

    def size(self) -> int:
        return file_size(self.page.body)  # the body downloaded for its reader; 1 when not downloaded


class WebSource:
    """The pages of a site (or of a sitemap) under a start URL; use it in a `with` block (the
    bodies fetched wait in a temporary folder until they are read). `scan` crawls; `save` keeps
    what the next crawl asks conditionally, once the index holds what was fetched."""

    def __init__(self, url: str, index_dir: Path, settings: CrawlSettings = DEFAULT_CRAWL) -> None:
        folded = fold(url)
        if folded is None:
            raise ValueError(f"not an http(s) URL: {url}")
        self.url = url
        self.index_dir = Path(index_dir).expanduser().resolve()
        self.settings = settings
        self.state_path = state_path(self.index_dir, folded)
        self.result: CrawlResult | None = None
        self._bodies: tempfile.TemporaryDirectory | None = None

    def __enter__(self) -> WebSource:
        self._bodies = tempfile.TemporaryDirectory(prefix="qa-web-")
        return self

    def __exit__(self, *exc_info) -> None:
        if self._bodies is not None:
            self._bodies.cleanup()

    def scan(self) -> SourceScan:
        assert self._bodies is not None, "use WebSource in a with block"
        bodies = Path(self._bodies.name)
        crawler = Crawler(self.url, self.settings, bodies, load_state(self.state_path), self._indexed())
        result = self.result = crawler.run()
        items = [WebPage(page, result.scope) for page in result.pages.values()]
        roots = list(result.gone)
        if result.complete:
            roots += [result.scope, result.scope.rstrip("/")]  # a page no longer linked or listed is gone
        return SourceScan(
            items,
            [Skipped(url, reason) for url, reason in result.skipped],
            roots,
            kept=[Skipped(url, reason) for url, reason in result.kept],
        )

    def save(self) -> None:
        """Keep the validators for the next crawl (written whole, then renamed into place)."""
        if self.result is None:
            return
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_path.with_suffix(f".{os.getpid()}.tmp")
        pages = {url: asdict(state) for url, state in sorted(self.result.states.items())}
        temporary.write_text(json.dumps({"url": self.url, "pages": pages}), encoding="utf-8")
        os.replace(temporary, self.state_path)

    def _indexed(self) -> dict[str, str]:
        """URL → content hash of the documents of this host the index holds now."""
        if not (self.index_dir / MANIFEST_FILE).exists():
            return {}
        host = origin(fold(self.url) or self.url)
        snapshot = Snapshot.open(self.index_dir, load=False)
        return {d.source: d.sha256 for d in snapshot.documents() if d.source.startswith(host)}


def state_path(index_dir: Path, folded_url: str) -> Path:
    return index_dir / SOURCES_FOLDER / f"web-{hashlib.sha1(folded_url.encode()).hexdigest()[:16]}.json"


def load_state(path: Path) -> dict[str, PageState]:
    """The last crawl's page states; none when there is no (readable) file: then every page is
    fetched whole, which is always safe."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {url: PageState(**state) for url, state in raw["pages"].items()}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError, KeyError) as error:
        logger.warning("%s is unreadable (%s); every page is fetched again", path, error)
        return {}


def remove_state(index_dir: Path) -> None:
    shutil.rmtree(Path(index_dir) / SOURCES_FOLDER, ignore_errors=True)


def index_site(
    url: str,
    index_dir: Path,
    options,
    settings: CrawlSettings = DEFAULT_CRAWL,
    *,
    model: str | None = None,
    encoder: Encoder | None = None,
    on_progress: OnProgress = ignore,
):
    """Crawl `url` (a page, a site below it, or a sitemap) and bring the index in line with it:
    (IndexReport, CrawlResult). The crawl runs before the writer lock is taken; one generation
    is committed when anything changed."""
    from qa.ingest.indexing import index_scan

    index_dir = Path(index_dir).expanduser().resolve()
    if options.rebuild:
        remove_state(index_dir)
    with WebSource(url, index_dir, settings) as source:
        on_progress(Progress(f"Fetching {url}…"))
        scan = source.scan()
        if not scan.items and not (index_dir / MANIFEST_FILE).exists():
            reasons = "".join(f"\n  {s.path}: {s.reason}" for s in scan.skipped[:20])
            raise NoDocuments(f"Nothing could be indexed from {url}. The index was not created.{reasons}")
        record = SourceRecord(kind="web", location=url, settings=asdict(settings), last_sync=utc_now())
        report = index_scan(
            scan, index_dir, options, sources=[record], model=model, encoder=encoder, on_progress=on_progress
        )
        source.save()
    return report, source.result


def _stem(url: str) -> str:
    """A page's title when it has none: the last name of its path without suffix, as a file's stem."""
    path = urlsplit(url).path.rstrip("/")
    return PurePosixPath(path).stem or urlsplit(url).hostname or url
