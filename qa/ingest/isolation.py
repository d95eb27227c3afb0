"""Reading a file in a bounded worker process: a decompression bomb or a runaway parse costs that
process, never the caller.

Pebble's `concurrent.process` starts the worker, waits at most `max_seconds` for its answer, stops
it when it runs over (TimeoutError) and reports a worker that died (ProcessExpired); what pebble
does not do, the address-space limit, is set by the worker itself before it parses.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import TimeoutError
from pathlib import Path

from qa.errors import UnreadableFile
from qa.ingest.documents import ReadLimits
from qa.ingest.readers import ParsedFile, Reader, memory_reason, read_here, readers

_context = None


def read_isolated(reader: Reader, path: Path, limits: ReadLimits) -> ParsedFile:
    """`reader` reads `path` in a child process under `limits.max_memory_bytes`, stopped after
    `limits.max_seconds`; every way that can fail is an UnreadableFile with the reason."""
    from pebble import ProcessExpired, concurrent

    run = concurrent.process(timeout=limits.max_seconds, mp_context=_worker_context())(_read_limited)
    try:
        ok, value = run(reader, str(path), limits).result()
    except TimeoutError:
        raise UnreadableFile(f"reading it took longer than {limits.max_seconds:g} s") from None
    except ProcessExpired:
        raise UnreadableFile(
            f"the reader stopped (over {limits.max_memory_bytes >> 20} MiB of memory, or crashed)"
        ) from None
    except MemoryError:  # raised in the worker outside the parser (sending the result back)
        raise UnreadableFile(memory_reason(limits)) from None
    if not ok:
        raise UnreadableFile(value)
    return value


def _worker_context():
    """A forkserver whose server has loaded the readers and their parsers, so each worker forks
    with them in memory instead of importing them per file (forking the caller itself could copy
    its threads' locks mid-use)."""
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        modules = ["qa.ingest.isolation"] + [m for reader in readers() if reader.isolated for m in reader.preload]
        _context.set_forkserver_preload(list(dict.fromkeys(modules)))
    return _context


def _read_limited(reader: Reader, path: str, limits: ReadLimits) -> tuple[bool, ParsedFile | str]:
    """Runs in the worker: limit the address space, read, and answer (True, parsed) or (False, reason)."""
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_AS, (limits.max_memory_bytes, limits.max_memory_bytes))
    except (ValueError, OSError):  # a lower hard limit already applies
        pass
    try:
        return True, read_here(reader, Path(path), limits)
    except UnreadableFile as error:
        # Parsers report a failed allocation in their own words (lxml: "unknown error"); a peak
        # near the limit says what really happened.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return False, memory_reason(limits) if peak > limits.max_memory_bytes // 2 else str(error)
