"""Text normalisation: every offset we store refers to normalised text."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_DIGITS = re.compile(r"\d+")
_BLANK_RUNS = re.compile(r"\n{3,}")


def normalize_text(text: str) -> str:
    """NFKC, one space for any run of spaces, one blank line at most between paragraphs.

    Line breaks are kept because they carry paragraph structure that splitting respects.
    """
    text = unicodedata.normalize("NFKC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub(" ", text.replace("\t", " "))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def digits_aside(text: str) -> str:
    """`text` as lines repeated from page to page are compared: spacing collapsed, every run of
    digits `#` (a date, a page number, a version change from page to page)."""
    return _DIGITS.sub("#", " ".join(text.split()))
