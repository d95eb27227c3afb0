"""What reading one file may cost: every reader and the bounded worker go by these limits."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1 << 20


@dataclass(frozen=True)
class ReadLimits:
    """What reading one file may cost; a file over any of them is skipped with the reason."""

    max_file_bytes: int = 256 * MIB  # the file as it is on disk
    max_unpacked_bytes: int = 256 * MIB  # a DOCX's zip members together; each PDF stream
    max_parts: int = 10_000  # PDF pages; DOCX zip members
    max_seconds: float = 120.0  # wall time to parse one file in the bounded worker
    max_memory_bytes: int = 2048 * MIB  # address space of the worker that parses it
    # A file of a format whose cost is linear in its size (`Reader.linear`: text, Markdown) is read
    # in this process below this size, where that cost is provably small (the worst 64 KiB measured,
    # NFKC-expanding text plus 16 KiB of YAML front matter: 0.21 s; ordinary text: ~3 ms),
    # saving the worker's start (14-30 ms a file). 0: every file in the worker.
    max_inline_bytes: int = 64 * 1024


DEFAULT_READ_LIMITS = ReadLimits()
