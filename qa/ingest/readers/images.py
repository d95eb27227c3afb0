"""Images of text (.png, .jpg, .jpeg, .tif, .tiff): read by OCR (`qa.ingest.ocr`, Tesseract),
each frame of a multi-page TIFF a page, every page marked as recognised (`ocr: true` in its
citations). Without Tesseract they are skipped with a reason that says what to install; an image
with no text recognised in it is skipped as having none. Read in the bounded worker process."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qa.errors import UnreadableFile
from qa.ingest.readers.common import title_from_lines
from qa.ingest.readers.pdf import join_pages, layout_text
from qa.ingest.readers.registry import ParsedFile, Reader, register

if TYPE_CHECKING:
    from qa.ingest.limits import ReadLimits

# 120 megapixels: an A4 page at 1200 dpi is 140 MP of which a scan at 600 dpi is a quarter. Over
# this, an image is refused before it is decoded (a small PNG can declare a huge canvas).
MAX_PIXELS = 120_000_000
# An image this small on both sides is an icon (a logo, a bullet): it holds no line of text worth
# reading, and OCR would only say so, file after file, for a web site's icons. So is an image named
# as browsers name a site's icon (favicon.png, apple-touch-icon.png, android-chrome-192x192.png),
# up to the largest size those come in.
ICON_PIXELS = 64
NAMED_ICON_PIXELS = 512
ICON_NAMES = ("favicon", "apple-touch-icon", "android-chrome-", "mstile-")
ICON = "an icon"  # how its reason starts, so that a summary counts icons apart (qa.ingest.documents)


def read_image(path: Path, limits: ReadLimits) -> ParsedFile:
    from PIL import Image, ImageSequence

    from qa.ingest.ocr import ocr_missing, recognise

    missing = ocr_missing()
    if missing:
        raise UnreadableFile(missing)
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow refuses a larger one as a decompression bomb
    try:
        image = Image.open(path)
    except Image.DecompressionBombError:
        raise UnreadableFile(f"an image of over {MAX_PIXELS:,} pixels, over the limit") from None
    with image:
        largest = ICON_PIXELS if not path.name.lower().startswith(ICON_NAMES) else NAMED_ICON_PIXELS
        if image.width <= largest and image.height <= largest:
            raise UnreadableFile(f"{ICON} ({image.width}×{image.height} pixels), too small to hold text")
        pages = []
        for number, frame in enumerate(ImageSequence.Iterator(image), 1):
            if number > limits.max_parts:
                raise UnreadableFile(f"over {limits.max_parts:,} pages in the image, over the limit")
            if frame.width * frame.height > MAX_PIXELS:
                raise UnreadableFile(f"an image of over {MAX_PIXELS:,} pixels, over the limit")
            pages.append(layout_text(recognise(frame)))
    text, page_starts = join_pages(pages)
    if not text.strip():
        raise UnreadableFile("no text recognised in the image (OCR)")
    return ParsedFile(text, title_from_lines(text.split("\n")), page_starts, ocr_pages=tuple(range(1, len(pages) + 1)))


register(
    Reader(
        "image",
        frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"}),
        read_image,
        isolated=True,
        preload=("PIL.Image",),
    )
)
