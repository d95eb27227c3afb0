"""What hostile files cost the document loader: a DOCX zip bomb (1 GiB of paragraphs), a PDF whose
page tree names a million pages, and the worker process's overhead on an ordinary PDF.

    .venv/bin/python -m benchmarks.check_hostile_reads
"""

import tempfile
import time
from pathlib import Path

from qa.errors import UnreadableFile
from qa.ingest.documents import load_file
from qa.ingest.limits import DEFAULT_READ_LIMITS
from qa.ingest.readers import read_here, reader_for
from tests.hostile import docx_bomb, pdf_page_tree_bomb, simple_pdf

if __name__ == "__main__":
    d = Path(tempfile.mkdtemp(prefix="qa-hostile-"))
    pdf = simple_pdf(d / "p.pdf", ["Some text on a page."] * 3)
    load_file(pdf, d, "x", "")
    t = time.perf_counter()
    for _ in range(20):
        load_file(pdf, d, "x", "")
    worker = (time.perf_counter() - t) / 20
    t = time.perf_counter()
    for _ in range(20):
        read_here(reader_for(pdf), pdf, DEFAULT_READ_LIMITS)
    here = (time.perf_counter() - t) / 20
    print(f"3-page PDF: {worker * 1000:.1f} ms in a worker, {here * 1000:.1f} ms in process")
    bomb = docx_bomb(d / "bomb.docx", 1024)
    t = time.perf_counter()
    try:
        load_file(bomb, d, "x", "")
    except UnreadableFile as e:
        print(f"DOCX {bomb.stat().st_size:,} bytes on disk:", e, f"{time.perf_counter() - t:.2f} s")
    tree = pdf_page_tree_bomb(d / "tree.pdf")
    t = time.perf_counter()
    try:
        load_file(tree, d, "x", "")
    except UnreadableFile as e:
        print(f"PDF {tree.stat().st_size:,} bytes:", e, f"{time.perf_counter() - t:.2f} s")
