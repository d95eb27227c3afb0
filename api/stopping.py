"""A stop that finishes: writes in flight when the server stops are rolled back, not waited on.

uvicorn gives requests in flight `--graceful-timeout` seconds, then cancels their tasks; but an
upload runs in a worker thread, which a cancelled task cannot stop, and the process would wait for
it (or die under it). So the app's shutdown sets `Writes.stopping`; the encoder raises at its next
batch of passages; the upload's own error path restores the documents folder and leaves the index
at its last commit; the shutdown waits for that, boundedly, and the process exits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from qa.errors import Unavailable

logger = logging.getLogger(__name__)


class ServerStopping(Unavailable):
    """The server stopped while this write was running; nothing of it was kept."""


class Writes:
    """The writes (uploads, deletes) running in this process, and the switch that stops them."""

    def __init__(self) -> None:
        self.stopping = threading.Event()
        self._running = 0
        self._changed = threading.Condition()

    @contextmanager
    def running(self) -> Iterator[None]:
        """Around one write, in its worker thread."""
        self.check()
        with self._changed:
            self._running += 1
        try:
            yield
        finally:
            with self._changed:
                self._running -= 1
                self._changed.notify_all()

    def check(self) -> None:
        if self.stopping.is_set():
            raise ServerStopping("The server is stopping; nothing of this upload was kept. Send it again later.")

    def stop(self, wait: float) -> bool:
        """Tell running writes to stop and wait up to `wait` seconds for them to roll back; False if
        one is still running then."""
        self.stopping.set()
        with self._changed:
            if self._running:
                logger.warning("Stopping: rolling back %d write(s) in flight.", self._running)
            done = self._changed.wait_for(lambda: self._running == 0, timeout=wait)
        if not done:
            logger.error(
                "A write was still running %g s after the stop; the index keeps its last commit, but the "
                "documents folder may hold a file of that upload.",
                wait,
            )
        return done


class StoppableEncoder:
    """The collection's encoder, whose passage embedding (indexing) stops between batches once the
    server is stopping; questions are never stopped. Everything else is the wrapped encoder's."""

    def __init__(self, encoder, writes: Writes) -> None:
        self.encoder = encoder
        self.writes = writes

    def __getattr__(self, name: str):
        return getattr(self.encoder, name)

    def encode(self, texts: Sequence[str], on_progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.writes.check()

        def progress(count: int) -> None:
            self.writes.check()
            if on_progress is not None:
                on_progress(count)

        return self.encoder.encode(texts, on_progress=progress)
