"""How far the time left's expected total of passages is from the true total, file by file, for an
index already built: its documents in the order they were read (segment by segment), each file's
passages as indexed, and WorkLeft's share as `qa index` computes it (every passage found so far
taken as embedded). Prints the estimated total ÷ the true total at every 40th file, and its range.

    python benchmarks/results/session-2026-12-06/time_left_replay.py INDEX_DIR
"""

import sqlite3
import sys
from pathlib import Path

from qa.ingest.indexing import WorkLeft
from qa.ingest.planning import FileToRead
from qa.ingest.sources import FileItem


def main() -> None:
    index = Path(sys.argv[1])
    order = []
    for db in sorted(index.glob("segments/*/passages.sqlite")):
        with sqlite3.connect(db) as connection:
            query = (
                "select d.root, d.path, (select count(*) from passages p where p.doc_id = d.doc_id)"
                " from documents d order by rowid"
            )
            order += connection.execute(query).fetchall()
    files = [FileToRead(FileItem(Path(root), Path(path)), "v", path, False) for root, path, _ in order]
    work, total, found, ratios = WorkLeft(files), sum(n for *_, n in order), 0, []
    for position, (_, path, passages) in enumerate(order):
        work.read(position, passages)
        found += passages
        ratios.append(found / work.share(found, found) / total)  # the total the share implies
        if position % 40 == 0:
            print(f"{position:4} {Path(path).name[:32]:32} estimated total ÷ true total {ratios[-1]:.2f}")
    print(f"{len(order)} files, {total} passages: estimated ÷ true from {min(ratios):.2f} to {max(ratios):.2f}")


if __name__ == "__main__":
    main()
