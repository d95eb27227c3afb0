"""Progress of long jobs, reported through a callback: the CLI draws it, the server ignores it.

The core never prints; it calls `on_progress(Progress(...))` and carries on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """`task` is a short sentence; `total` is None for a note with no count ("Indexing the seeds…").
    `before`: a step run before the others (the chrome sample), shown only until it is done.
    `share`: the part of the work done, where the items counted differ in size (files, by the
    passages they give: qa.ingest.indexing.WorkLeft): the time left is reckoned from it, so one
    large file read early (Node.js's 8 MB all.html, read second of 65) does not make a 90-second
    run say "about 19 min left".
    `current`: the item being worked on (a file being read), named by the progress lines when it
    takes long: an OCR'd scan of 200 pages reads for minutes with no other event."""

    task: str
    done: int = 0
    total: int | None = None
    before: bool = False
    share: float | None = None
    current: str = ""


OnProgress = Callable[[Progress], None]


def ignore(progress: Progress) -> None:
    """The default listener."""
