"""Following folders: what changes below them is indexed as it happens, one commit per burst.

A watcher (watchfiles: inotify, FSEvents or ReadDirectoryChangesW underneath, polling where none
works) reports changed paths; changes are gathered until the folders are quiet for a moment (an
editor's save dance, a `git checkout` of 500 files) and then written as one generation, planned
as `qa index` plans (a renamed file with the same content is moved, not embedded again). When the
watcher cannot follow (the inotify watch limit, a network filesystem), the folders are rescanned
every `rescan` seconds instead.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from embeddings import Encoder
from qa.errors import IndexBusy, QAError
from qa.ingest.indexing import IndexOptions, index_scan
from qa.ingest.planning import IndexReport
from qa.ingest.sources import ChangedPaths, FolderSource, SourceScan

logger = logging.getLogger(__name__)

QUIET = 0.3  # seconds without a change that end a burst
LONGEST = 3.0  # seconds a burst may gather changes before it is committed anyway
DEFAULT_RESCAN = 60.0  # seconds between rescans when the watcher cannot follow


@dataclass(frozen=True)
class Commit:
    """One burst of changes written: the report, and the seconds from its first change seen to its
    commit (`changed`: the paths reported changed; `rescan`: found by a rescan, not the watcher)."""

    report: IndexReport
    seconds: float
    changed: int
    rescan: bool = False

    @property
    def line(self) -> str:
        report = self.report
        moved = f", moved {report.moved}" if report.moved else ""
        skipped = f", skipped {len(report.skipped)}" if report.skipped else ""
        how = "found by a rescan" if self.rescan else f"{self.seconds:.2f} s after the change"
        return (
            f"added {report.added}, updated {report.updated}, removed {report.removed}{moved}{skipped} · "
            f"{how} · generation {report.generation}"
        )

    @property
    def changed_anything(self) -> bool:
        report = self.report
        return bool(report.added or report.updated or report.removed or report.moved or report.skipped)


# Changed paths below the folders, as sets; an empty set when they were quiet for `quiet` seconds.
# Ends when `stop` is set; raises OSError when it cannot follow the folders.
Watcher = Callable[[Sequence[Path], threading.Event, float], Iterator[set[Path]]]


def watchfiles_changes(folders: Sequence[Path], stop: threading.Event, quiet: float) -> Iterator[set[Path]]:
    import watchfiles

    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # it logs every batch at INFO; we log commits
    for batch in watchfiles.watch(
        *folders,
        step=50,
        rust_timeout=max(1, int(quiet * 1000)),
        yield_on_timeout=True,
        stop_event=stop,
        raise_interrupt=False,
    ):
        yield {Path(path) for _, path in batch}


@dataclass
class Follower:
    """Keeps an index in line with folders until `stop` is set: `run` follows changes through the
    watcher; `rescan_every` rescans instead (and `run` falls back to it when the watcher fails)."""

    folders: Sequence[Path]
    index_dir: Path
    encoder: Encoder
    options: IndexOptions = IndexOptions()
    on_commit: Callable[[Commit], None] = lambda commit: None
    on_problem: Callable[[str], None] = lambda message: None
    stop: threading.Event = None  # type: ignore[assignment]
    quiet: float = QUIET
    longest: float = LONGEST
    rescan: float = DEFAULT_RESCAN
    watcher: Watcher = watchfiles_changes

    def __post_init__(self) -> None:
        self.folders = [Path(f).expanduser().resolve() for f in self.folders]
        self.stop = self.stop or threading.Event()
        self._batches: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start watching now, before the index is brought in line (`Collection.watch`), so that a
        change made meanwhile is not missed; `run` writes what was seen."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="qa-watcher", daemon=True)
            self._thread.start()

    def _watch(self) -> None:
        try:
            for batch in self.watcher(self.folders, self.stop, self.quiet):
                self._batches.put(batch)
        except OSError as error:
            self._batches.put(error)
        finally:
            self._batches.put(None)

    def _seen(self) -> Iterator[set[Path]]:
        self.start()
        while (batch := self._batches.get()) is not None:
            if isinstance(batch, OSError):
                raise batch
            yield batch

    def run(self) -> None:
        pending: set[Path] = set()
        first = 0.0
        try:
            for batch in self._seen():
                now = time.monotonic()
                if batch:
                    first = first if pending else now
                    pending |= batch
                if pending and (not batch or now - first >= self.longest):
                    if self._write(ChangedPaths(self.folders, pending).scan, first, len(pending)):
                        pending = set()
                if self.stop.is_set():
                    break
        except OSError as error:
            logger.warning("cannot follow changes in %s: %s", ", ".join(map(str, self.folders)), error)
            self.on_problem(
                f"The watcher cannot follow changes here ({error}); rescanning every {self.rescan:g} s instead."
            )
            self.rescan_every()

    def rescan_every(self) -> None:
        """Rescan the folders every `rescan` seconds (a network filesystem, or no watcher left)."""
        while not self.stop.wait(self.rescan):
            self._write(self.full_scan, time.monotonic(), 0, rescan=True)

    def full_scan(self) -> SourceScan:
        """Every folder as `qa index` scans it; a folder that is gone removes its documents."""
        scan = FolderSource([f for f in self.folders if f.is_dir()]).scan()
        scan.roots = [str(f) for f in self.folders]
        return scan

    def _write(self, scan: Callable[[], SourceScan], first: float, changed: int, rescan: bool = False) -> bool:
        """Scan and commit what the scan found; False when the index is busy (the changes are kept
        for the next try). A scan that fails (a .qaignore line that is no pattern) is reported and
        the watch goes on: fixing the file is a change that scans the folder again."""
        try:
            report = index_scan(scan(), self.index_dir, self.options, encoder=self.encoder)
        except IndexBusy as error:
            logger.info("%s", error)
            return False
        except QAError as error:
            logger.warning("changes not indexed: %s", error)
            self.on_problem(f"Changes not indexed: {error}")
            return True
        commit = Commit(report, time.monotonic() - first, changed, rescan)
        if commit.changed_anything:
            logger.info("%s", commit.line)
            self.on_commit(commit)
        return True
