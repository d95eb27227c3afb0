"""The server as its index's one writer for its sources: `--watch` folders followed (the same
Follower as `qa watch`), `--refresh-every` re-syncing the web sources the index remembers. Both run
on threads of their own and write through the index's writer lock, which uploads take too, so
neither loses the other's changes. The server fetches only sources its operator configured:
no request can name an address to fetch."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from qa.collection import Collection
from qa.errors import QAError
from qa.ingest.indexing import IndexOptions

logger = logging.getLogger(__name__)


def start_syncing(collection: Collection, watch: list[Path], every: float | None, wait: float) -> Callable[[], None]:
    """Start following `watch` and refreshing web sources `every` seconds; returns what stops both."""
    stop = threading.Event()
    threads = []
    options = IndexOptions(wait=wait)
    if watch:

        def follow() -> None:
            try:
                report, follower = collection.watch(
                    watch,
                    options,
                    on_commit=lambda commit: logger.info("watch: %s", commit.line),
                    on_problem=lambda message: logger.warning("watch: %s", message),
                    stop=stop,
                )
                if report is not None:
                    logger.info("watch: %s brought in line: %s", ", ".join(map(str, watch)), report.summary)
                follower.run()
            except QAError as error:
                logger.error("watch stopped: %s", error)

        threads.append(threading.Thread(target=follow, name="qa-watch", daemon=True))
    if every:

        def refresh() -> None:
            while not stop.wait(every):
                for source in collection.sources():
                    if source.kind != "web" or stop.is_set():
                        continue
                    try:
                        report, crawl = collection.sync(source, options)
                        logger.info(
                            "refreshed %s: %s, removed %s", source.location, report.summary, report.removed_names
                        )
                    except QAError as error:
                        logger.warning("refreshing %s failed: %s", source.location, error)

        threads.append(threading.Thread(target=refresh, name="qa-refresh", daemon=True))
    for thread in threads:
        thread.start()

    def stop_all() -> None:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    return stop_all
