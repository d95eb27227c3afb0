"""Links that open a cited source at the quoted spot. A web page's is its URL with a text fragment
(`#:~:text=`, WICG Scroll-to-Text-Fragment): a browser that supports them (Chromium, Safari,
Firefox 131+) scrolls to the quoted sentence and highlights it; one that does not opens the page."""

from __future__ import annotations

import re
from urllib.parse import quote

WORDS_EACH_END = 4  # a long quote is matched by its first and last words (textStart,textEnd)
LONG_QUOTE_WORDS = 10


def text_fragment(sentence: str) -> str:
    """`:~:text=` for a sentence: whole when short, else `start,end` by its first and last words
    (a long string is brittle to match and makes a long link). Words keep their punctuation, but
    a directive's own characters (`-`, `,`, `&`) are percent-encoded, as the spec asks."""
    words = sentence.split()
    if len(words) <= LONG_QUOTE_WORDS:
        return ":~:text=" + _encode(" ".join(words))
    start = " ".join(words[:WORDS_EACH_END])
    end = " ".join(words[-WORDS_EACH_END:])
    return f":~:text={_encode(start)},{_encode(end)}"


def page_link(source: str, quote_text: str) -> str | None:
    """The link of a web page's citation (its URL with the quote's text fragment); None for a
    source that is no web page."""
    if not re.match(r"https?://", source, re.IGNORECASE):
        return None
    text = quote_text.strip()
    return f"{source.split('#')[0]}#{text_fragment(text)}" if text else source


def _encode(text: str) -> str:
    return quote(text, safe="").replace("-", "%2D")
