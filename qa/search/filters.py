"""Narrowing a question to some documents: by source path, doc_id, file type, modified date and tag.

One record for every caller (`qa ask --in … --type …`, the `filters` object of `POST /ask`, the
widget's `filter-*` attributes). Entries of one key are OR-ed, keys are AND-ed. The store turns a
filter into the set of passage ids it allows, and retrieval searches only those (qa.store.snapshot).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from fnmatch import fnmatchcase
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from qa.errors import InvalidFilter

FILTER_KEYS = ("source", "doc_id", "type", "since", "until", "tag")
GLOB_CHARACTERS = frozenset("*?[")


class DocumentFacts(Protocol):
    """What a filter looks at of a document (qa.store.segment.DocumentFacts has it)."""

    doc_id: str
    source: str
    path: str
    kind: str
    modified: float | None
    tags: tuple[str, ...]


def _entries(value: Any) -> Any:
    """A single string counts as a list of one; entries are stripped and may not be empty."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list | tuple):
        entries = []
        for entry in value:
            if not isinstance(entry, str):
                raise PydanticCustomError("filter_entry", "Entries must be strings.")
            if not entry.strip():
                raise PydanticCustomError("filter_entry", "An entry is empty.")
            entries.append(entry.strip())
        return tuple(entries)
    return value


def _date(value: Any) -> Any:
    """Exactly YYYY-MM-DD (a date object passes), so '2011-3-1' or '03/01/2011' fail loudly."""
    if value is None or isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            if len(value.strip()) == 10:
                return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise PydanticCustomError(
        "filter_date", "{value} is not a date like 2011-03-01 (YYYY-MM-DD).", {"value": repr(value)}
    )


Entries = Annotated[tuple[str, ...], BeforeValidator(_entries)]
Day = Annotated[date | None, BeforeValidator(_date)]


class Filters(BaseModel):
    """Which documents a question may be answered from; every key is optional."""

    model_config = ConfigDict(
        frozen=True, use_attribute_docstrings=True, json_schema_extra={"examples": [{"source": ["reports/2011/"]}]}
    )

    source: Entries = ()
    """Source paths (relative to the indexed folder): a folder or file prefix, or a glob (`*.md`)."""
    doc_id: Entries = ()
    type: Entries = ()
    """File types by suffix: `pdf`, `md`, `txt` …"""
    since: Day = None
    """Modified on or after this day (UTC), as recorded at indexing."""
    until: Day = None
    """Modified on or before this day (UTC)."""
    tag: Entries = ()
    """Markdown front-matter `tags:` (case-insensitive)."""

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = [key for key in data if key not in FILTER_KEYS]
            if unknown:
                raise PydanticCustomError(
                    "unknown_filter",
                    "Unknown filter {unknown}; the filters are {known}.",
                    {"unknown": ", ".join(repr(key) for key in unknown), "known": ", ".join(FILTER_KEYS)},
                )
        return data

    @model_validator(mode="after")
    def _ordered_dates(self) -> Filters:
        if self.since and self.until and self.since > self.until:
            raise PydanticCustomError(
                "filter_dates",
                "since ({since}) is after until ({until}); no document could match.",
                {"since": self.since.isoformat(), "until": self.until.isoformat()},
            )
        return self

    @classmethod
    def parse(cls, **values: Any) -> Filters:
        """Filters from keyword values (the CLI's options), or InvalidFilter with one line to show."""
        try:
            return cls.model_validate({key: value for key, value in values.items() if value not in (None, [], ())})
        except ValidationError as error:
            problems = []
            for item in error.errors():
                where = ".".join(str(part) for part in item["loc"] if not isinstance(part, int))
                problems.append(f"{where}: {item['msg']}" if where else item["msg"])
            raise InvalidFilter("Invalid filter: " + " ".join(problems)) from None

    @property
    def is_empty(self) -> bool:
        return not (self.source or self.doc_id or self.type or self.since or self.until or self.tag)

    def matches(self, document: DocumentFacts) -> bool:
        """Does this document pass every key given (any one entry of each)?"""
        if self.doc_id and document.doc_id not in self.doc_id:
            return False
        if self.source and not any(_source_matches(entry, document) for entry in self.source):
            return False
        if self.type and document.kind.lower() not in {entry.lower().lstrip(".") for entry in self.type}:
            return False
        if self.since or self.until:
            if document.modified is None:
                return False
            day = datetime.fromtimestamp(document.modified, UTC).date()
            if (self.since and day < self.since) or (self.until and day > self.until):
                return False
        if self.tag:
            wanted = {entry.casefold() for entry in self.tag}
            if not any(tag.casefold() in wanted for tag in document.tags):
                return False
        return True


def _source_matches(entry: str, document: DocumentFacts) -> bool:
    """A glob matches the whole source (`*` crosses folders); otherwise the entry is a path
    prefix by whole names: `reports/2011` holds `reports/2011/a.pdf`, not `reports/2011-old/`.
    An absolute entry is compared with the file's full path."""
    value = document.path if entry.startswith("/") else document.source
    if entry.startswith("./"):
        entry = entry[2:]
    if GLOB_CHARACTERS & set(entry):
        return fnmatchcase(value, entry)
    if entry.endswith("/"):
        return value.startswith(entry)
    return value == entry or value.startswith(entry + "/")
