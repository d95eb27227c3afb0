"""Trust that can be checked: a saved answer's quotes, checked against the index as it is now.

An answer (from `qa ask --json`, `POST /ask` or the MCP `ask` tool) names, for each passage, the
document and the offsets of its text. Re-reading those documents tells, per passage:

- verbatim: the text is still at those offsets;
- moved: the text is elsewhere — further along in the same document (an edit above it), or in
  another document (the file was moved or renamed) — with the new place;
- changed: the text is in no document any more (edited, or its file deleted).

The index is the reference: run `qa index` over the folders first, so it holds the files as they
are (the server re-indexes uploads itself).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from qa.answers import Answer, AnswerPassage, Citation
from qa.collection import Collection
from qa.errors import InvalidInput, NotFound

Status = Literal["verbatim", "moved", "changed"]


class PassageCheck(BaseModel):
    """What became of one quoted passage."""

    rank: int
    status: Status
    doc_id: str = Field(description="The document the answer cited.")
    start: int
    end: int
    now_doc_id: str | None = Field(default=None, description="Where the text is now (verbatim or moved).")
    now_source: str | None = None
    now_start: int | None = None
    now_end: int | None = None
    same_file: bool | None = Field(
        default=None,
        description="Whether the cited document's file is still the version quoted (its sha256), when the "
        "answer recorded it and the document is still indexed.",
    )
    also: bool = Field(
        default=False,
        description="A check of one of the other places the answer cited as holding the passage's words "
        "(its `also`), rather than of its citation.",
    )


class AnswerCheck(BaseModel):
    question: str
    passages: list[PassageCheck]

    @property
    def holds(self) -> bool:
        """Every quote is still somewhere in the documents."""
        return all(passage.status != "changed" for passage in self.passages)


def read_answers(text: str) -> list[Answer]:
    """Answers saved as one JSON object, a JSON list, or JSON lines; InvalidInput says what is wrong."""
    import json

    try:
        data = json.loads(text)
        items = data if isinstance(data, list) else [data]
    except json.JSONDecodeError:
        try:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as error:
            raise InvalidInput(f"Not JSON: {error}. Save an answer with `qa ask --json`.") from None
    try:
        answers = TypeAdapter(list[Answer]).validate_python(items)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidInput(f"Not a saved answer ({where}: {first['msg']}); save one with `qa ask --json`.") from None
    if not answers:
        raise InvalidInput("The file holds no answer; save one with `qa ask --json`.")
    return answers


def verify_answer(collection: Collection, answer: Answer) -> AnswerCheck:
    """Each passage of `answer` classified against the index as it is now, at its citation and at
    each other place the answer cited for its words (`also`)."""
    checks = [
        _check(collection, passage, citation, also=citation is not passage.citation)
        for passage in answer.passages
        for citation in (passage.citation, *passage.also)
    ]
    return AnswerCheck(question=answer.question, passages=checks)


def _check(collection: Collection, passage: AnswerPassage, citation: Citation, also: bool) -> PassageCheck:
    found = PassageCheck(
        rank=passage.rank, status="changed", doc_id=citation.doc_id, start=citation.start, end=citation.end, also=also
    )
    try:
        document, _ = collection.stored_document(citation.doc_id)
    except NotFound:
        document = None
    if document is not None:
        text = document.text or ""
        if citation.sha256:
            found.same_file = citation.sha256 == document.sha256
        if text[citation.start : citation.end] == passage.text:
            # A renamed file keeps its document (re-indexing moves it without embedding it again).
            status = "verbatim" if document.source == citation.source else "moved"
            return _at(found, status, document, citation.start, len(passage.text))
        spot = _nearest(text, passage.text, citation.start)
        if spot is not None:
            return _at(found, "moved", document, spot, len(passage.text))
    for other in _other_documents(collection, citation.doc_id, len(passage.text)):
        spot = _nearest(other.text or "", passage.text, citation.start)
        if spot is not None:
            return _at(found, "moved", other, spot, len(passage.text))
    return found


def _at(found: PassageCheck, status: Status, document, start: int, length: int) -> PassageCheck:
    return found.model_copy(
        update={
            "status": status,
            "now_doc_id": document.doc_id,
            "now_source": document.source,
            "now_start": start,
            "now_end": start + length,
        }
    )


def _nearest(text: str, quote: str, near: int) -> int | None:
    """The start of the occurrence of `quote` in `text` nearest to `near`, or None."""
    spots, at = [], text.find(quote)
    while at != -1 and quote:
        spots.append(at)
        at = text.find(quote, at + 1)
    return min(spots, key=lambda spot: abs(spot - near)) if spots else None


def _other_documents(collection: Collection, cited: str, at_least: int) -> Iterator:
    """Every other document long enough to hold the quote, with its text (one at a time)."""
    for info in collection.documents():
        if info.doc_id != cited and (info.chars is None or info.chars >= at_least):
            yield collection.stored_document(info.doc_id)[0]
