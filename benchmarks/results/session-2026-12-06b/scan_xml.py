"""Every .xml, .xml.gz, .dbk and .docbook file under /usr/share read by qa's reader for its name:
how many are DocBook (with their size, blocks, read time and title) and why the others are skipped.

    python benchmarks/results/session-2026-12-06b/scan_xml.py
"""

import time
from collections import Counter
from pathlib import Path

from qa.errors import UnreadableFile
from qa.ingest.limits import ReadLimits
from qa.ingest.readers import read_here, reader_for

SUFFIXES = (".xml", ".xml.gz", ".dbk", ".docbook")


def main() -> None:
    files = [path for path in Path("/usr/share").rglob("*") if path.is_file() and path.name.endswith(SUFFIXES)]
    print(len(files))
    reasons: Counter = Counter()
    read = []
    for path in files:
        started = time.time()
        try:
            parsed = read_here(reader_for(path), path, ReadLimits())
        except UnreadableFile as error:
            reasons[str(error).split("(")[0][:60]] += 1
            continue
        except Exception as error:  # a crash is what this looks for
            reasons[f"CRASH {type(error).__name__} {str(error)[:80]}"] += 1
            continue
        read.append((path, len(parsed.text), len(parsed.blocks), time.time() - started, parsed.title))
    print(reasons.most_common(10))
    for row in read:
        print(row)


if __name__ == "__main__":
    main()
