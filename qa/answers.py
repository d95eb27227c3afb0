"""The answer model: what `qa ask --json` prints and what `POST /ask` returns, one source of truth.

Plain dataclasses, so that a question asked at the terminal imports no validation library (pydantic
costs a cold `qa ask` ~0.2 s, docs/PERFORMANCE.md). The HTTP API and `qa mcp` describe and check
them with pydantic, which reads each field's `metadata` (its description and bounds) as it would a
`Field`; `qa ask --json` and the server write them with msgspec (`encoded`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from qa.limits import DEFAULT_TOP_K, MAX_QUESTION_CHARS, MAX_TOP_K  # noqa: F401 (re-exported)

record = dataclass(kw_only=True)  # every answer model: made by keyword, as the API's JSON names its fields


def described(description: str, **options: Any) -> Any:
    """A field with a description for the API's schema (pydantic reads it from `metadata`)."""
    return field(metadata={"description": description}, **options)


def at_least(bound: int) -> Any:
    """A number field with a lower bound, stated in the API's schema."""
    return field(metadata={"ge": bound})


def encoded(value: Any) -> bytes:
    """An answer model (or a list of them) as compact JSON, as `POST /ask` returns it."""
    import msgspec.json

    return msgspec.json.encode(value)


@record
class Highlight:
    """The sentence(s) of a passage that best match the question, as offsets into `text`."""

    start: int = at_least(0)
    end: int = at_least(0)


@record
class Context:
    """The short form of a passage, as offsets into `text`: the highlight with a sentence of
    context either side. Clients show `text[start:end]` first and the whole `text` on request."""

    start: int = at_least(0)
    end: int = at_least(0)


@record
class Citation:
    """Where a passage stands: offsets refer to the document's stored (normalised) text."""

    doc_id: str
    source: str = described("Source path relative to the indexed root.")
    title: str
    start: int = at_least(0)
    end: int = at_least(0)
    page: int | None = described(default=None, description="1-based page number, for PDFs.")
    section: list[str] = described(
        default_factory=list,
        description="The headings above the passage in its document, outermost first (HTML and Markdown).",
    )
    url: str | None = described(
        default=None,
        description="A link that opens the source at the quoted spot, where one is known.",
    )
    ocr: bool = described(default=False, description="True when the quoted text was recognised from an image (OCR).")
    sha256: str | None = described(
        default=None,
        description="The sha256 of the document's file as indexed: the version the offsets refer to.",
    )


@record
class AnswerPassage:
    """One ranked passage, quoted verbatim from its document."""

    rank: int = at_least(1)
    score: float
    text: str = described(
        "The whole passage, verbatim: one stored passage, or two neighbouring ones of a section that both "
        "led the ranking, quoted as one span."
    )
    highlight: Highlight
    context: Context
    citation: Citation
    also: list[Citation] = described(
        default_factory=list,
        description="The same text, word for word, at other places (a page copied into another, a man page "
        "and its web page), each cited like `citation`: shown once, so the next passage is something new.",
    )

    @property
    def highlighted(self) -> str:
        """The highlighted sentence (or block) itself."""
        return self.text[self.highlight.start : self.highlight.end]


@record
class Answer:
    """Ranked passages for one question; `answered` is false when none answers it confidently."""

    question: str
    answered: bool
    took_ms: float
    passages: list[AnswerPassage]
    generation: int | None = described(
        default=None, description="The index generation the answer was read from (GET /health names the newest)."
    )
    missing_words: list[str] = described(
        default_factory=list,
        description="Words of the question that no indexed passage holds, as the question spells them: "
        "a typo, or something the documents never mention. Of the documents searched only (under filters or a "
        "scoped key), and empty when no passage was returned.",
    )


@record
class DocumentInfo:
    """An indexed document, as listed by `GET /documents`."""

    doc_id: str
    title: str
    source: str
    passages: int
    pages: int | None = None
    type: str = described(default="", description="File type (suffix), as the `type` filter matches it.")
    modified: datetime | None = described(default=None, description="The file's modification time when indexed (UTC).")
    tags: list[str] = described(default_factory=list, description="Markdown front-matter tags, for the `tag` filter.")
    sha256: str | None = described(default=None, description="The sha256 of the file as indexed.")
    chars: int | None = described(default=None, description="The length of the stored text, in characters.")

    @classmethod
    def of(cls, document, **more) -> Self:
        """What `GET /documents` shows of a stored document (qa.store.records.StoredDocument), with
        what its filters match."""
        modified = None if document.modified is None else datetime.fromtimestamp(document.modified, UTC)
        return cls(
            doc_id=document.doc_id,
            title=document.title,
            source=document.source,
            passages=document.passages,
            pages=document.pages,
            type=document.kind,
            modified=modified,
            tags=list(document.tags),
            sha256=document.sha256 or None,
            chars=document.chars,
            **more,
        )


@record
class DocumentText(DocumentInfo):
    """A document with its stored text, so a citation can be opened in context."""

    text: str

    @classmethod
    def of(cls, document, **more) -> Self:
        return super().of(document, text=document.text or "", **more)


@record
class IndexStats:
    """Facts about an open index, for `GET /health` and `qa info`."""

    path: str
    documents: int
    passages: int
    model: str
    dimension: int
    quantized: bool = described(
        default=False, description="Whether passages and questions are embedded by the model's int8 export."
    )
    passage_precision: str = described(
        default="float32",
        description='What passages are embedded in when not int8: "float32", or "bfloat16" on CPUs with AMX '
        "(the same model, within a cosine of 1e-4). Questions are float32 either way.",
    )
    created: datetime
    updated: datetime
    generation: int = described("Commits so far; each one is a new generation of the index.")
    segments: int = described("Segments the index is made of (merged as they accumulate).")
    abstention_threshold: float = described(
        description="The calibrated probability below which an answer abstains (answered: false): the index's own "
        "when `qa eval --fit-abstention` fitted one, else the default fitted on SQuAD and SciFact (that of the five "
        "signals; a question read against its first passage, where they leave the verdict open, has its own).",
    )
    abstention_fitted_on: str | None = described(
        default=None, description="The questions file the index's threshold was fitted on; null for the default."
    )
    abstention_min_known: float = described(
        default=0.0,
        description="An answer also abstains when less than this share of the question's words (weighted by "
        "rarity) is in the index: 0 unless the fit chose a floor.",
    )
    abstention_on_names: bool = described(
        default=False,
        description='An answer also abstains when the question names what no document holds ("Docker" of pages '
        "that never say it, nor a spelling a typo away): false unless the fit chose it.",
    )
