"""Recognising the text of page images (OCR): scanned PDF pages and image files.

Tesseract (Debian's `tesseract-ocr`), chosen by measurement over RapidOCR (docs/FORMATS.md:
`python -m benchmarks.bench_ocr`). It is a system program, run here as one: where it is missing,
the files that need it are skipped with a reason that says what to install (`make setup` installs
it as root). Run directly rather than through pytesseract, which does the same (an image file in, a
text out) but costs 0.9 s to import, in every worker that reads a scan."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from qa.errors import UnreadableFile

INSTALL_HINT = "install Tesseract to read it (Debian/Ubuntu: apt-get install tesseract-ocr; `make setup` does as root)"
LANGUAGE = "eng"


def ocr_missing() -> str | None:
    """Why OCR cannot run here (what to install), or None when it can."""
    if shutil.which("tesseract") is None:
        return f"its text is in images: {INSTALL_HINT}"
    return None


def recognise(image, threads: int | None = 1) -> str:
    """The text of one page image (a Pillow image), its lines kept.

    On one thread (OMP_THREAD_LIMIT=1; `threads=None`: Tesseract's own choice): on 2 shared cores
    its OpenMP threads spun against each other, 14.3 s a page against 2.6 s on one
    (benchmarks/bench_ocr.py). Pages are read at the resolution they were scanned at: a 200 dpi
    page scaled to 300 dpi first read no better."""
    executable = shutil.which("tesseract")
    if executable is None:
        raise UnreadableFile(f"its text is in images: {INSTALL_HINT}")
    if image.mode not in ("L", "1", "RGB"):
        image = image.convert("RGB")
    with tempfile.TemporaryDirectory(prefix="qa-ocr-") as folder:
        page = Path(folder) / "page.png"
        image.save(page)
        done = subprocess.run(
            [executable, str(page), "stdout", "-l", LANGUAGE, "--psm", "3"],
            capture_output=True,
            env={**os.environ, "OMP_THREAD_LIMIT": str(threads)} if threads else None,
            preexec_fn=_die_with_parent,
        )
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UnreadableFile(f"Tesseract could not read a page: {message[-1] if message else done.returncode}")
    return done.stdout.decode("utf-8", "replace")


def _die_with_parent() -> None:
    """Tesseract is killed with the worker that started it (over its time limit), not left behind."""
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:  # not Linux: the worker's time limit still ends the read
        pass
