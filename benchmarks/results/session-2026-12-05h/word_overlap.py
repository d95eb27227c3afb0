"""Could a page's source be told from other files by its words? For each source beside its page
(Node.js's `X.md` by `X.html`; BorgBackup's `_sources/X.rst.txt` by `X.html`), the share of the
source's distinct words of four letters or more that its page's HTML holds, against the same share
for a page of the same site picked at random:

    python benchmarks/results/session-2026-12-05h/word_overlap.py NODE_API_FOLDER BORG_HTML_FOLDER
"""

from __future__ import annotations

import random
import re
import statistics
import sys
from pathlib import Path

WORD = re.compile(r"[^\W\d_]{4,}")


def words(path: Path) -> set[str]:
    return {word.lower() for word in WORD.findall(path.read_text(errors="replace"))}


def share(source: Path, page: Path) -> float:
    said = words(source)
    return len(said & words(page)) / max(1, len(said))


def pairs(node: Path, borg: Path) -> list[tuple[Path, Path]]:
    found = [(md, md.with_suffix(".html")) for md in sorted(node.glob("*.md")) if md.with_suffix(".html").exists()]
    for copy in sorted((borg / "_sources").rglob("*.txt")):
        below = copy.relative_to(borg / "_sources")
        page = borg / below.parent / (below.name.removesuffix(".txt").rsplit(".", 1)[0] + ".html")
        if page.exists():
            found.append((copy, page))
    return found


def main(node: str, borg: str) -> None:
    found = pairs(Path(node), Path(borg))
    random.seed(0)
    pages = [page for _, page in found]
    own = [share(source, page) for source, page in found]
    other = [share(source, random.choice([p for p in pages if p != page])) for source, page in found]
    print(
        f"{len(found)} sources: with their own page {min(own):.2f}–{max(own):.2f}, median {statistics.median(own):.2f}"
    )
    print(f"with another page of the site: up to {max(other):.2f}, median {statistics.median(other):.2f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
