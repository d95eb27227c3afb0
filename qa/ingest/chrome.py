"""Site chrome repeated across pages (a site's menu, a manual's sidebar, a footer, "This page last
modified on …"), recognised at index time and left out of passages (issue 18).

A page's reader leaves out what the page marks as chrome (`nav`, `footer`, ARIA roles); what it
does not mark is found by repetition: a block whose words (digits aside) are on at least
`SHARE` of a folder's or site's pages says nothing about any one of them. The pages looked at are
a sample chosen by a hash of their names within it (`about.html`), so every run over the same
folder (a resumed run, an update of one page, the folder moved, the site crawled) finds the same
chrome, and a run's cost does not grow with the folder; what
was learnt is kept in the manifest with the sample it came from, and read again only when a
sampled page changed.

Chrome blocks stay in the stored text, so quotes are still exact; no passage covers them. Headings
are never chrome: a heading repeated on many pages ("SQLite C Interface") still names the section
below it. A page that would keep nothing else is left as it was, still searchable.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

from qa.errors import UnreadableFile
from qa.events import OnProgress, Progress, ignore
from qa.ingest.blocks import Block
from qa.ingest.documents import Document
from qa.ingest.limits import ReadLimits
from qa.ingest.sections import is_content
from qa.ingest.sources import SourceItem
from qa.store.manifest import ChromeRecord
from qa.text.normalize import digits_aside

logger = logging.getLogger(__name__)

SAMPLE = 50  # pages of one folder or site read to learn its chrome
MIN_PAGES = 8  # fewer pages with structure than this: nothing is told apart as chrome
SHARE = 0.4  # a block on at least this share of the sampled pages is chrome

SAMPLING = "Reading sample pages for site chrome"


def learn_chrome(
    items: Sequence[SourceItem],
    roots: Iterable[str],
    limits: ReadLimits,
    kept: dict[str, ChromeRecord],
    read: dict[str, Document] | None = None,
    on_progress: OnProgress = ignore,
) -> dict[str, frozenset[str]]:
    """Root → keys of the blocks repeated on its pages, for each of `roots` (those with pages to
    read), learnt from up to `SAMPLE` of `items` under it (all that the source lists, not only the
    changed ones, so the answer does not depend on what was indexed before).

    `kept` (the manifest's) holds what was learnt last, which a root keeps when its sample is
    unchanged (not read again), when this run lists fewer than half the pages it listed then (a
    watcher's run, which lists only the files that changed), or when its sample could not be read
    (a crawl's pages unchanged since the last, so not downloaded). What is learnt now is put in
    `kept`, and the pages read for it in `read`, by identity, so they need not be read again.
    Reading a sample is reported to `on_progress` (a sample of scanned PDFs takes a while)."""
    read = {} if read is None else read
    under: dict[str, list[SourceItem]] = defaultdict(list)
    for item in items:
        under[item.place()[0]].append(item)
    chrome = {}
    for root in set(roots):
        listed, known = under[root], kept.get(root)
        sample = sorted(listed, key=lambda item: hashlib.sha1(item.name.encode()).digest())[:SAMPLE]
        batch = known is not None and len(listed) < known.listed / 2  # a watcher's: not the folder
        digest = None if batch else _digest(sample)
        stale = digest is not None and (known is None or known.sample != digest)
        learnt = _learn(root, sample, limits, read, on_progress) if stale else None
        if learnt is not None:
            known = kept[root] = ChromeRecord(sample=digest, listed=len(listed), keys=sorted(learnt))
        chrome[root] = frozenset(known.keys if known else ())
    return chrome


def _digest(sample: list[SourceItem]) -> str:
    """What tells one sample from another: its pages' identities and versions."""
    return hashlib.sha256("".join(f"{item.identity}\0{_version(item)}\n" for item in sample).encode()).hexdigest()


def _version(item: SourceItem) -> str:
    try:
        return item.version()
    except OSError:  # gone since the scan: its absence is reported when it is read
        return ""


def _learn(
    root: str, sample: list[SourceItem], limits: ReadLimits, read: dict[str, Document], on_progress: OnProgress
) -> frozenset[str] | None:
    """The chrome of `root`'s sampled pages; None when fewer than MIN_PAGES with structure could be read."""
    if len(sample) < MIN_PAGES:
        return None
    pages: list[set[str]] = []
    for done, item in enumerate(sample):
        on_progress(Progress(SAMPLING, done, len(sample), before=True))
        try:
            document = item.read("chrome-sample", "", limits)
        except UnreadableFile:
            continue  # reported when the file itself is read
        read[item.identity] = document
        if document.blocks:
            pages.append(_keys(document.text, document.blocks))
    on_progress(Progress(SAMPLING, len(sample), len(sample), before=True))
    if len(pages) < MIN_PAGES:
        return None
    counts = Counter(key for page in pages for key in page)
    chrome = frozenset(key for key, count in counts.items() if count >= SHARE * len(pages))
    if chrome:
        logger.info("%s: %d blocks repeated on %d sampled pages are left out as chrome", root, len(chrome), len(pages))
    return chrome


def _keys(text: str, blocks: Sequence[Block]) -> set[str]:
    return {digits_aside(text[block.start : block.end]) for block in blocks if block.kind != "heading"}


def mark_chrome(document: Document, chrome: frozenset[str]) -> Document:
    """`document` with its chrome blocks marked (kind "chrome"), unless that leaves it no content."""
    if not chrome or not document.blocks:
        return document
    text = document.text
    marked = tuple(
        replace(block, kind="chrome")
        if block.kind != "heading" and digits_aside(text[block.start : block.end]) in chrome
        else block
        for block in document.blocks
    )
    if not any(block.kind != "chrome" and is_content(text, block) for block in marked):
        return document
    return replace(document, blocks=marked)
