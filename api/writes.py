"""Uploads and deletes run in a small pool of their own, as questions do (`question_threads`), so
writes waiting for the index can never take the threads `/health`, `/documents` and the other
routes share. A write waits at most `write_wait` seconds in all, for a place and then for the
index's writer lock; after that it is a 503 with Retry-After."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import anyio

from api.stopping import Writes
from qa.errors import IndexBusy

# One write holds the index at a time; a second one stages and reads its files meanwhile.
WRITES_AT_ONCE = 2

T = TypeVar("T")


class WriteQueue:
    """At most `at_once` writes in their threads; the rest wait in line, each for a bounded time.
    Each runs inside `stopping.running()`, so a stopping server rolls it back (api/stopping.py)."""

    def __init__(self, stopping: Writes | None = None, at_once: int = WRITES_AT_ONCE) -> None:
        self.stopping = stopping or Writes()
        self.at_once = at_once
        self._places = anyio.Semaphore(at_once)
        self._threads = anyio.CapacityLimiter(at_once)

    async def run(self, function: Callable[..., T], *args: object, wait: float) -> T:
        """`function(*args, wait=…)` in a write thread, with what is left of `wait` after queueing;
        IndexBusy (503) when no place frees up within `wait` seconds."""
        started = time.monotonic()
        try:
            self._places.acquire_nowait()
        except anyio.WouldBlock:
            with anyio.move_on_after(wait) as scope:
                await self._places.acquire()
            if scope.cancelled_caught:
                raise IndexBusy(
                    f"The server is busy with {self.at_once} other uploads or deletes; waited {wait:g} s. "
                    "Try again later."
                ) from None
        try:
            left = max(0.0, wait - (time.monotonic() - started))
            return await anyio.to_thread.run_sync(partial(self._run, function, *args, wait=left), limiter=self._threads)
        finally:
            self._places.release()

    def _run(self, function: Callable[..., T], *args: object, wait: float) -> T:
        with self.stopping.running():
            return function(*args, wait=wait)
