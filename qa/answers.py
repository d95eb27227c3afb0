"""The answer model: what `qa ask --json` prints and what `POST /ask` returns, one source of truth."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field

from qa.limits import DEFAULT_TOP_K, MAX_QUESTION_CHARS, MAX_TOP_K  # noqa: F401 (re-exported)


class _Model(BaseModel):
    """Each model is made ready for validation on its first use rather than at import, so a
    command that shows no document list (`qa ask`) does not pay for one at start-up."""

    model_config = ConfigDict(defer_build=True)


class Highlight(_Model):
    """The sentence(s) of a passage that best match the question, as offsets into `text`."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Context(_Model):
    """The short form of a passage, as offsets into `text`: the highlight with a sentence of
    context either side. Clients show `text[start:end]` first and the whole `text` on request."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Citation(_Model):
    """Where a passage stands: offsets refer to the document's stored (normalised) text."""

    doc_id: str
    source: str = Field(description="Source path relative to the indexed root.")
    title: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    page: int | None = Field(default=None, description="1-based page number, for PDFs.")
    section: list[str] = Field(
        default_factory=list,
        description="The headings above the passage in its document, outermost first (HTML and Markdown).",
    )
    url: str | None = Field(
        default=None,
        description="A link that opens the source at the quoted spot, where one is known.",
    )
    ocr: bool = Field(default=False, description="True when the quoted text was recognised from an image (OCR).")
    sha256: str | None = Field(
        default=None,
        description="The sha256 of the document's file as indexed: the version the offsets refer to.",
    )


class AnswerPassage(_Model):
    """One ranked passage, quoted verbatim from its document."""

    rank: int = Field(ge=1)
    score: float
    text: str = Field(description="The whole passage, verbatim.")
    highlight: Highlight
    context: Context
    citation: Citation
    also: list[Citation] = Field(
        default_factory=list,
        description="The same text, word for word, at other places (a page copied into another, a man page "
        "and its web page), each cited like `citation`: shown once, so the next passage is something new.",
    )


class Answer(_Model):
    """Ranked passages for one question; `answered` is false when none answers it confidently."""

    question: str
    answered: bool
    took_ms: float
    passages: list[AnswerPassage]
    generation: int | None = Field(
        default=None, description="The index generation the answer was read from (GET /health names the newest)."
    )
    missing_words: list[str] = Field(
        default_factory=list,
        description="Words of the question that no indexed passage holds, as the question spells them: "
        "a typo, or something the documents never mention.",
    )


class DocumentInfo(_Model):
    """An indexed document, as listed by `GET /documents`."""

    doc_id: str
    title: str
    source: str
    passages: int
    pages: int | None = None
    type: str = Field(default="", description="File type (suffix), as the `type` filter matches it.")
    modified: datetime | None = Field(default=None, description="The file's modification time when indexed (UTC).")
    tags: list[str] = Field(default_factory=list, description="Markdown front-matter tags, for the `tag` filter.")
    sha256: str | None = Field(default=None, description="The sha256 of the file as indexed.")
    chars: int | None = Field(default=None, description="The length of the stored text, in characters.")

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


class DocumentText(DocumentInfo):
    """A document with its stored text, so a citation can be opened in context."""

    text: str

    @classmethod
    def of(cls, document, **more) -> Self:
        return super().of(document, text=document.text or "", **more)


class IndexStats(_Model):
    """Facts about an open index, for `GET /health` and `qa info`."""

    path: str
    documents: int
    passages: int
    model: str
    dimension: int
    quantized: bool = Field(
        False, description="Whether passages and questions are embedded by the model's int8 export."
    )
    created: datetime
    updated: datetime
    generation: int = Field(description="Commits so far; each one is a new generation of the index.")
    segments: int = Field(description="Segments the index is made of (merged as they accumulate).")
    abstention_threshold: float = Field(
        description="The calibrated probability below which an answer abstains (answered: false): the index's own "
        "when `qa eval --fit-abstention` fitted one, else the default fitted on SQuAD and SciFact.",
    )
    abstention_fitted_on: str | None = Field(
        None, description="The questions file the index's threshold was fitted on; null for the default."
    )
    abstention_min_known: float = Field(
        0.0,
        description="An answer also abstains when less than this share of the question's words (weighted by "
        "rarity) is in the index: 0 unless the fit chose a floor.",
    )
