"""How well the PDF reader finds a document's headings (issue 18), with the PDF's own outline as the
answer key: PDFs whose outline (bookmarks) lists their sections, read twice, once using the outline
(what `qa index` does when there is one) and once from the font sizes alone (what it does when
there is none). For each, the share of outline entries found as headings, the headings found
that the outline does not list (to be read: a finer level of sections, or a mistake), and the
read time beside pypdf's plain `extract_text` (median of 3).

    python -m benchmarks.pdf_structure [PDF ...]

Without arguments it reads the PDFs Debian's documentation packages put under /usr/share/doc.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.common import load_average, median, write_results

DEFAULT_PDFS = (
    Path("/usr/share/doc/libtasn1-doc/libtasn1.pdf"),
    Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf"),
)


def measure(path: Path) -> dict:
    from pypdf import PdfReader

    from qa.ingest.blocks import BlockText
    from qa.ingest.readers import pdf_layout

    reader = PdfReader(str(path))
    outline = pdf_layout.outline_headings(reader)
    entries = {title for titles in outline.values() for title in titles}
    pages = [pdf_layout.page_lines(page) for page in reader.pages]
    row: dict = {"pdf": path.name, "pages": len(pages), "outline entries": len(entries)}
    for mode, used in (("outline", outline), ("font sizes", {})):
        out = BlockText()
        pdf_layout.add_pages(out, pages, used)
        headings = [out.text[b.start : b.end] for b in out.blocks if b.kind == "heading"]
        found = {pdf_layout._compared(heading) for heading in headings}
        row[f"{mode}: entries found"] = round(len(found & entries) / len(entries), 3) if entries else None
        row[f"{mode}: headings"] = len(headings)
        row[f"{mode}: not in the outline"] = [h for h in headings if pdf_layout._compared(h) not in entries]

    def blocks() -> None:
        reader = PdfReader(str(path))
        out = BlockText()
        pdf_layout.add_pages(
            out, [pdf_layout.page_lines(page) for page in reader.pages], pdf_layout.outline_headings(reader)
        )

    def plain() -> None:
        for page in PdfReader(str(path)).pages:
            page.extract_text()

    for name, run in (("read as blocks s", blocks), ("plain extract_text s", plain)):
        times = []
        for _ in range(3):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        row[name] = round(median(times), 3)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pdfs", nargs="*", type=Path)
    args = parser.parse_args()
    pdfs = [path for path in (args.pdfs or DEFAULT_PDFS) if path.is_file()]
    if not pdfs:
        raise SystemExit("no PDF to read: name some, or install libtasn1-doc and shared-mime-info")
    load_before = load_average()
    rows = [measure(path) for path in pdfs]
    for row in rows:
        print("  ".join(f"{key}={value}" for key, value in row.items()))
    write_results("pdf_structure", {"rows": rows, "load": [load_before, load_average()]})


if __name__ == "__main__":
    main()
