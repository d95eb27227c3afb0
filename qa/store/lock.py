"""One writer per index: an OS file lock (flock), released by the kernel when its process dies,
so a crashed writer never leaves the index locked."""

from __future__ import annotations

import fcntl
import logging
import os
import time
from pathlib import Path

from qa.config import DEFAULT_WAIT
from qa.errors import IndexBusy

logger = logging.getLogger(__name__)

LOCK_FILE = "write.lock"


class WriterLock:
    """Held while one process writes an index; a second writer waits up to `wait` seconds.

    The OS lock excludes other processes and other threads alike (each WriterLock opens the file
    anew). One WriterLock object is re-entrant: a transaction that holds it (an upload moving its
    files into place) hands it to the write inside (IndexOptions.lock), which takes it again
    without waiting; the lock is let go when the outermost holder releases it."""

    def __init__(self, index_dir: Path, wait: float = DEFAULT_WAIT) -> None:
        self.path = index_dir / LOCK_FILE
        self.wait = wait
        self._handle = None
        self._depth = 0

    @property
    def held(self) -> bool:
        return self._handle is not None

    def __enter__(self) -> WriterLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()

    def acquire(self) -> None:
        if self._handle is not None:  # re-entered by a write inside the transaction that holds it
            self._depth += 1
            return
        handle = self.path.open("a+")
        deadline = time.monotonic() + max(0.0, self.wait)
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _holder(self.path)
                    handle.close()
                    raise IndexBusy(
                        f"Another qa process{f' (pid {holder})' if holder else ''} is writing to "
                        f"{self.path.parent}; waited {self.wait:g} s. Try again when it is done, "
                        "or wait longer with --wait SECONDS."
                    ) from None
                time.sleep(0.05)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle
        self._depth = 1

    def release(self) -> None:
        if self._handle is None:
            return
        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError as error:
        logger.debug("cannot read who holds %s (%s)", path, error)
        return ""
