"""Rich consoles for the CLI: answers go to stdout, progress and errors to stderr."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def stderr_console():
    from rich.console import Console

    return Console(stderr=True)


@lru_cache(maxsize=1)
def stdout_console():
    from rich.console import Console

    return Console()
