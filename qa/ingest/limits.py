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
    max_seconds: float = 120.0  # wall time to parse one PDF or DOCX
    max_memory_bytes: int = 2048 * MIB  # address space of the process that parses it


DEFAULT_READ_LIMITS = ReadLimits()
