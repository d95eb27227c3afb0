"""Sentences a PDF's reading cuts in two: a paragraph (or list item) that ends without ending its
sentence, followed by a paragraph that the page break began (counted at page starts), or by a block
of code (a name set in a monospace font that the line break put first on its line). Reads each PDF
as qa does; prints each cut and the counts. Run from the repository root:

    python benchmarks/results/session-2026-12-06/pdf_cut_sentences.py FILE.pdf ...
"""

import sys
from pathlib import Path

from qa.ingest.limits import ReadLimits
from qa.ingest.readers.pdf import read_pdf

ENDS = (".", "!", "?", ":", ";")


def main() -> None:
    for name in sys.argv[1:]:
        parsed = read_pdf(Path(name), ReadLimits())
        starts = set((parsed.page_starts or [])[1:])
        at_page = at_code = 0
        for before, after in zip(parsed.blocks, parsed.blocks[1:]):
            tail = parsed.text[before.start : before.end].rstrip().rstrip("\"')]}”’»")
            if before.kind not in ("paragraph", "item") or tail.endswith(ENDS):
                continue
            head = parsed.text[after.start : after.end]
            if after.kind == "paragraph" and after.start in starts:
                at_page += 1
                print(f"  page break: …{tail[-45:]!r} | {head[:45]!r}")
            elif after.kind == "code":
                at_code += 1
                print(f"  code:       …{tail[-45:]!r} | {head[:45]!r}")
        pages = len(parsed.page_starts or [])
        print(f"{name}: {pages} pages; cut at a page break {at_page}, by a line of code {at_code}")


if __name__ == "__main__":
    main()
