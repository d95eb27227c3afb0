"""Reading a file in a bounded worker process: a decompression bomb or a runaway parse costs that
process, never the caller. Every built-in format is read here (a small text or Markdown file may be
read in the caller instead: `ReadLimits.max_inline_bytes`).

Hand-written rather than pebble's `concurrent.process`, which was tried: it stops a worker on time
and reports one that died, but it waits for the answer in 0.1 s polling steps (and counts its
timeout in steps), so every PDF or DOCX cost ~100 ms more (36 → 130 ms for a 3-page PDF); the
memory limit would still be ours to set. Here the parent waits on the pipe itself.
"""

from __future__ import annotations

import logging
import multiprocessing
import warnings
from pathlib import Path

from qa.errors import UnreadableFile
from qa.ingest.limits import ReadLimits
from qa.ingest.readers import ParsedFile, Reader, memory_reason, read_here, readers

logger = logging.getLogger(__name__)

_context = None
_suffixes: frozenset[str] | None = None  # the types this process will read, when known before the first


def prepare_workers(suffixes) -> None:
    """Before the first file is read: the worker server preloads only the parsers of these types.
    Every worker forks from it, so each parser preloaded makes every file's worker slower to start:
    preloading the slide, sheet, OpenDocument, image and RTF parsers as well cost each HTML or PDF
    file ~15-20 ms more (docs/FORMATS.md). Too late once the server runs (it keeps what it has)."""
    global _suffixes
    if _context is None:
        _suffixes = frozenset(suffix.lower() for suffix in suffixes)


def read_isolated(reader: Reader, path: Path, limits: ReadLimits) -> ParsedFile:
    """`reader` reads `path` in a child process under `limits.max_memory_bytes`, killed after
    `limits.max_seconds`; every way that can fail is an UnreadableFile with the reason."""
    context = _worker_context()
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_read_limited, args=(sender, reader, str(path), limits), daemon=True)
    worker.start()
    sender.close()
    try:
        if not receiver.poll(limits.max_seconds):
            raise UnreadableFile(f"reading it took longer than {limits.max_seconds:g} s")
        try:
            ok, value = receiver.recv()
        except EOFError:
            raise UnreadableFile(
                f"the reader stopped (over {limits.max_memory_bytes >> 20} MiB of memory, or crashed)"
            ) from None
    finally:
        receiver.close()
        if worker.is_alive():
            worker.kill()
        worker.join()
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
        chosen = [r for r in readers() if r.isolated and (_suffixes is None or r.suffixes & _suffixes)]
        modules = ["qa.ingest.isolation"] + [m for reader in chosen for m in reader.preload]
        _context.set_forkserver_preload(list(dict.fromkeys(modules)))
    return _context


def _read_limited(sender, reader: Reader, path: str, limits: ReadLimits) -> None:
    """Runs in the child: limit the address space, read, send (True, parsed) or (False, reason)."""
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_AS, (limits.max_memory_bytes, limits.max_memory_bytes))
    except (ValueError, OSError) as error:  # a lower hard limit already applies
        logger.debug("memory limit not set for reading %s (%s)", path, error)
    try:
        # A parser's own warnings (Pillow: "Palette images with Transparency expressed in bytes
        # should be converted to RGBA images") are about its internals, not the user's file: they
        # would land among `qa index`'s lines; they are logged at debug level instead. Here, in
        # the worker's one thread: `catch_warnings` changes the whole process's filters, so it is
        # not used around the readers that run in the caller's threads (a server's uploads).
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            parsed = read_here(reader, Path(path), limits)
        for warning in caught:
            logger.debug("reading %s: %s: %s", path, warning.category.__name__, warning.message)
        sender.send((True, parsed))
    except UnreadableFile as error:
        # Parsers report a failed allocation in their own words (lxml: "unknown error"); a peak
        # near the limit says what really happened.
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        sender.send((False, memory_reason(limits) if peak > limits.max_memory_bytes // 2 else str(error)))
    except MemoryError:  # outside the parser: sending the result
        sender.send((False, memory_reason(limits)))
    finally:
        sender.close()
