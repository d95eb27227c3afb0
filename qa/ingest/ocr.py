"""Recognising the text of page images (OCR): scanned PDF pages and image files.

Tesseract (Debian's `tesseract-ocr`, driven by pytesseract), chosen by measurement over RapidOCR
(docs/FORMATS.md: `python -m benchmarks.bench_ocr`). It is a system program: where it is missing,
the files that need it are skipped with a reason that says what to install (`make setup` installs
it as root)."""

from __future__ import annotations

import logging
import os
import shutil

from qa.errors import UnreadableFile

logger = logging.getLogger(__name__)

INSTALL_HINT = "install Tesseract to read it (Debian/Ubuntu: apt-get install tesseract-ocr; `make setup` does as root)"
LANGUAGE = "eng"


def ocr_missing() -> str | None:
    """Why OCR cannot run here (what to install), or None when it can."""
    if shutil.which("tesseract") is None:
        return f"its text is in images: {INSTALL_HINT}"
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return "its text is in images: install the Python package pytesseract to read it"
    return None


def recognise(image) -> str:
    """The text of one page image (a Pillow image), its lines kept.

    Tesseract runs on one thread (OMP_THREAD_LIMIT=1): on 2 shared cores its OpenMP threads spun
    against each other, 14.3 s a page against 2.6 s on one (benchmarks/bench_ocr.py). Pages are read
    at the resolution they were scanned at: scaling a 200 dpi page to 300 dpi first read no better
    (0.9998 either way) and cost more."""
    reason = ocr_missing()
    if reason:
        raise UnreadableFile(reason)
    import pytesseract

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # the bounded worker's own environment
    if image.mode not in ("L", "1", "RGB"):
        image = image.convert("RGB")
    try:
        return pytesseract.image_to_string(image, lang=LANGUAGE, config="--psm 3")
    except pytesseract.TesseractError as error:
        raise UnreadableFile(f"Tesseract could not read a page: {error.message or error}") from error
