"""Progress of long jobs, reported through a callback: the CLI draws it, the server ignores it.

The core never prints; it calls `on_progress(Progress(...))` and carries on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """`task` is a short sentence; `total` is None for a note with no count ("Indexing the seeds…").
    `before`: a step run before the others (the chrome sample), shown only until it is done."""

    task: str
    done: int = 0
    total: int | None = None
    before: bool = False


OnProgress = Callable[[Progress], None]


def ignore(progress: Progress) -> None:
    """The default listener."""
