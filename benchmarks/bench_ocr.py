"""OCR engines on pages rendered from known text: character accuracy and seconds per page.

Pages of real prose (the seeds' paragraphs) are drawn at 200 dpi on A4 (11 pt type, 1 inch
margins) by Pillow, in a sans and a serif face, and each engine reads them back:

- `tesseract`: Tesseract (Debian's tesseract-ocr) as `qa.ingest.ocr.recognise` runs it: the page
  as it is (200 dpi), one thread;
- `tesseract-300`: the same, the page scaled to 300 dpi first;
- `tesseract-threads`: the same with Tesseract's own OpenMP threads (its default);
- `rapidocr`: RapidOCR (rapidocr-onnxruntime, PP-OCR models in its wheel, onnxruntime).

Character accuracy is 1 − edit distance / length of the true text, with runs of white space made
one space on both sides; seconds are wall time per page on this machine's cores (2), the engine's
start-up (first page) left out. An engine that is not installed is reported as missing; run
the script with another interpreter to measure one installed elsewhere (`--engines rapidocr`).

    python -m benchmarks.bench_ocr [--pages 4] [--engines tesseract tesseract-300 tesseract-threads rapidocr]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DPI = 200
A4 = (round(8.27 * DPI), round(11.69 * DPI))
MARGIN = DPI  # one inch
POINTS = 11


def page_texts(count: int) -> list[str]:
    """`count` pages of prose from the seeds: whole paragraphs of at least 12 words."""
    paragraphs = []
    for path in sorted((REPO / "seeds").glob("*.txt")):
        for paragraph in path.read_text(encoding="utf-8").split("\n\n"):
            words = paragraph.split()
            if len(words) >= 12 and all(ord(c) < 0x250 or c in _PUNCTUATION for c in paragraph):
                paragraphs.append(" ".join(words))
    pages, current = [], []
    for paragraph in paragraphs:
        current.append(paragraph[:2400])
        if sum(len(p) for p in current) > 2000:
            pages.append("\n\n".join(current))
            current = []
        if len(pages) == count:
            break
    return pages


_PUNCTUATION = {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "..."}


def font(face: str, size: int):
    from PIL import ImageFont

    paths = {
        "sans": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "serif": "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    }
    try:
        return ImageFont.truetype(paths[face], size)
    except OSError:
        return ImageFont.load_default(size)


def render(text: str, face: str):
    """A white A4 page at DPI with `text` wrapped in black, and the text as drawn (its lines)."""
    from PIL import Image, ImageDraw

    size = round(POINTS / 72 * DPI)
    type_face = font(face, size)
    page = Image.new("L", A4, 255)
    draw = ImageDraw.Draw(page)
    width = A4[0] - 2 * MARGIN
    y, drawn = MARGIN, []
    for paragraph in text.split("\n\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}".strip()
            if draw.textlength(candidate, font=type_face) > width and line:
                draw.text((MARGIN, y), line, font=type_face, fill=0)
                drawn.append(line)
                y += round(size * 1.3)
                line = word
            else:
                line = candidate
        if line:
            draw.text((MARGIN, y), line, font=type_face, fill=0)
            drawn.append(line)
            y += round(size * 1.3)
        y += round(size * 0.7)
        if y > A4[1] - MARGIN:
            break
    return page, "\n".join(drawn)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, a row at a time with numpy (insertions as a running minimum)."""
    import numpy as np

    if not a or not b:
        return max(len(a), len(b))
    codes_b = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    columns = np.arange(len(b) + 1)
    row = columns.copy()
    for index, char in enumerate(a, 1):
        substitute = row[:-1] + (codes_b != ord(char))
        candidate = np.empty_like(row)
        candidate[0] = index
        candidate[1:] = np.minimum(row[1:] + 1, substitute)
        row = np.minimum.accumulate(candidate - columns) + columns
    return int(row[-1])


def accuracy(recognised: str, truth: str) -> float:
    """1 − edit distance / length, white space made one space and typographic quotes and dashes
    plain on both sides (an engine may give either)."""
    plain = str.maketrans(_PUNCTUATION)
    recognised, truth = (re.sub(r"\s+", " ", s.translate(plain)).strip() for s in (recognised, truth))
    return max(0.0, 1 - edit_distance(recognised, truth) / len(truth))


def engine(name: str):
    """A function page image → text, or None when the engine is not installed here."""
    if name in ("tesseract", "tesseract-300", "tesseract-threads"):
        import shutil

        if shutil.which("tesseract") is None:
            return None
        sys.path.insert(0, str(REPO))
        from qa.ingest.ocr import recognise

        if name == "tesseract-threads":
            return lambda image: recognise(image, threads=None)
        if name == "tesseract-300":
            return lambda image: recognise(image.resize((image.width * 3 // 2, image.height * 3 // 2)))
        return recognise
    if name == "rapidocr":
        try:
            import numpy as np
            from rapidocr_onnxruntime import RapidOCR
        except ImportError:
            return None
        reader = RapidOCR()

        def read(image):
            result, _ = reader(np.array(image.convert("RGB")))
            return "\n".join(text for _, text, _ in result or [])

        return read
    raise SystemExit(f"unknown engine {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=4, help="pages per face (two faces)")
    parser.add_argument("--engines", nargs="+", default=["tesseract", "tesseract-300", "tesseract-threads", "rapidocr"])
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args()

    pages = [render(text, face) for face in ("sans", "serif") for text in page_texts(args.pages)]
    results = {}
    for name in args.engines:
        read = engine(name)
        if read is None:
            results[name] = {"missing": True}
            print(f"{name}: not installed here")
            continue
        read(pages[0][0])  # start-up (models, the first process) left out
        accuracies, seconds = [], []
        for image, truth in pages:
            started = time.perf_counter()
            text = read(image)
            seconds.append(time.perf_counter() - started)
            accuracies.append(accuracy(text, truth))
        results[name] = {
            "pages": len(pages),
            "char_accuracy_mean": round(sum(accuracies) / len(accuracies), 4),
            "char_accuracy_min": round(min(accuracies), 4),
            "seconds_per_page": round(sum(seconds) / len(seconds), 2),
        }
        print(name, json.dumps(results[name]))
    facts = {"dpi": DPI, "points": POINTS, "cores": os.cpu_count(), "load_average": list(os.getloadavg())}
    print(json.dumps(facts))
    if args.json:
        args.json.write_text(json.dumps({"machine": facts, "engines": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
