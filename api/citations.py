"""Where a citation links: the server's viewer at the quoted spot, the file itself, or a web page.

A passage's `citation.url` is set once, by the face that serves the answer: `qa serve` links to
its viewer (`GET /view/{doc_id}`), `qa mcp` over stdio and `qa ask` to the file on disk
(`qa.citations`). A URL
already set (a web page with its text fragment, by the source that indexed it) is kept.

The viewer link carries the passage's span (`start`, `end`), its highlighted sentence (`hs`,
`he`), all in the document's offsets, and the spans of the answer's other passages (`of`, `at`),
so the viewer can step to the previous and next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, quote_plus, unquote, urlencode

from qa.answers import Answer, AnswerPassage, Citation

ENTRY, PART = "|", ","  # the `of` list: entries, and the five parts of one
MAX_SPANS = 50  # no answer has more passages (qa.limits.MAX_TOP_K)


@dataclass(frozen=True)
class Span:
    """One cited passage as the viewer shows it: the passage's span and its sentence's, in the
    document's offsets."""

    doc_id: str
    start: int
    end: int
    hs: int
    he: int

    @classmethod
    def of(cls, passage: AnswerPassage, citation: Citation | None = None) -> Span:
        """The passage at its citation, or at one of the other places (`also`) holding its text."""
        citation = citation or passage.citation
        return cls(
            citation.doc_id,
            citation.start,
            citation.end,
            citation.start + passage.highlight.start,
            citation.start + passage.highlight.end,
        )

    def encoded(self) -> str:
        return PART.join([quote(self.doc_id, safe=""), str(self.start), str(self.end), str(self.hs), str(self.he)])

    @classmethod
    def decoded(cls, entry: str) -> Span:
        doc_id, *numbers = entry.split(PART)
        start, end, hs, he = (int(number) for number in numbers)
        return cls(unquote(doc_id), start, end, hs, he)


def viewer_link(base: str, spans: list[Span], at: int, of: str | None = None, **extra: str) -> str:
    """The viewer URL of `spans[at]`, carrying the others for previous/next. `of` is
    `spans_parameter(spans)` when the caller links several passages of one answer: it is the same
    for each, and quoting it once instead of once a passage took most of the linking's time."""
    span = spans[at]
    # Numbers need no quoting: formatted directly, as urlencode's quoting of each was most of the
    # linking's time (docs/PERFORMANCE.md).
    query = f"start={span.start}&end={span.end}&hs={span.hs}&he={span.he}"
    if len(spans) > 1:
        query += f"&at={at}&of={of if of is not None else spans_parameter(spans)}"
    if extra:
        query += "&" + urlencode(extra)
    return f"{base.rstrip('/')}/view/{quote(span.doc_id, safe='')}?{query}"


def spans_parameter(spans: list[Span]) -> str:
    """The `of` parameter's value, quoted for a URL."""
    return quote_plus(ENTRY.join(span.encoded() for span in spans))


def parse_spans(of: str | None) -> list[Span]:
    """The `of` list of a viewer URL; ValueError when it is not one."""
    if not of:
        return []
    spans = [Span.decoded(entry) for entry in of.split(ENTRY)[: MAX_SPANS + 1]]
    if len(spans) > MAX_SPANS:
        raise ValueError(f"at most {MAX_SPANS} passages")
    return spans


def link_to_viewer(answer: Answer, base: str, sign=None) -> Answer:
    """The answer with each passage's citation, and each other place holding its text, linking to
    the viewer at `base` (a URL already set, such as a web page's, is kept). `sign(doc_id)` adds the
    query parameters that let a browser open the link without a key header, on a server that wants
    one."""
    spans = [Span.of(passage) for passage in answer.passages]
    of = spans_parameter(spans)
    for at, passage in enumerate(answer.passages):
        if passage.citation.url is None:
            extra = sign(passage.citation.doc_id) if sign else {}
            passage.citation.url = viewer_link(base, spans, at, of, **extra)
        for also in passage.also:  # the same text elsewhere: opened on its own, at its own spot
            if also.url is None:
                extra = sign(also.doc_id) if sign else {}
                also.url = viewer_link(base, [Span.of(passage, also)], 0, **extra)
    return answer
