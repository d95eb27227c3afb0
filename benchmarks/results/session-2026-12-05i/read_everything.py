"""Every file under some folders read by this checkout's readers, in this process, to find reader
errors at scale: how many were read, skipped with what reason, and any reader error (a reason that
starts "cannot parse"), with the slowest files.

    python benchmarks/results/session-2026-12-05i/read_everything.py /usr/share/man /usr/share/info
"""

import collections
import sys
import time
from pathlib import Path

from qa.errors import UnreadableFile
from qa.ingest.limits import DEFAULT_READ_LIMITS
from qa.ingest.readers import read_here, reader_for

READERS = ("man", "info", "text", "notebook", "rst", "markdown", "html", "latex")

if __name__ == "__main__":
    reasons, errors, slow, read, empty = collections.Counter(), [], [], 0, 0
    started = time.perf_counter()
    for root in sys.argv[1:]:
        for path in sorted(Path(root).rglob("*")):
            reader = reader_for(path) if path.is_file() else None
            if reader is None or reader.name not in READERS:
                continue
            read += 1
            began = time.perf_counter()
            try:
                empty += not read_here(reader, path, DEFAULT_READ_LIMITS).text.strip()
            except UnreadableFile as error:
                reasons[str(error)[:60]] += 1
                if str(error).startswith("cannot parse"):
                    errors.append((str(path), str(error)[:200]))
            slow.append((round(time.perf_counter() - began, 2), str(path)))
    print(f"files {read}, empty {empty}, {time.perf_counter() - started:.1f} s")
    for reason, count in reasons.most_common(15):
        print(count, reason)
    print("reader errors", len(errors), *errors[:15], sep="\n")
    print("slowest", sorted(slow)[-5:])
