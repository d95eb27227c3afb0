"""Narrowing a question to some documents: by source path, doc_id, file type, modified date and tag.

One record for every caller (`qa ask --in … --type …`, the `filters` object of `POST /ask`, the
widget's `filter-*` attributes, a scoped API key). Entries of one key are OR-ed, keys are AND-ed;
`all_of` AND-s whole filters (a key's scope and a request's filters). The store turns a filter into
the set of passage ids it allows, and retrieval searches only those (qa.store.snapshot).

Any read key may send a filter, so a filter is bounded: entries per key, characters per entry and
wildcards per glob; each glob is compiled once, in a cache of bounded size.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from fnmatch import translate
from functools import lru_cache
from typing import Annotated, Any, Protocol

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from qa.errors import InvalidFilter

FILTER_KEYS = ("source", "doc_id", "type", "since", "until", "tag")
GLOB_CHARACTERS = frozenset("*?[")
# Bounds on what one filter may ask for (a 64 KB glob once cost ~1 s of CPU per request).
MAX_ENTRIES = 32
MAX_ENTRY_CHARS = 512
MAX_WILDCARDS = 8
GLOB_CACHE = 256  # compiled globs kept, least recently used dropped


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
        if len(value) > MAX_ENTRIES:
            raise PydanticCustomError(
                "filter_entries",
                "At most {limit} entries per filter key, not {count}.",
                {"limit": MAX_ENTRIES, "count": len(value)},
            )
        entries = []
        for entry in value:
            if not isinstance(entry, str):
                raise PydanticCustomError("filter_entry", "Entries must be strings.")
            if not entry.strip():
                raise PydanticCustomError("filter_entry", "An entry is empty.")
            if len(entry) > MAX_ENTRY_CHARS:  # as sent, so the schema's maxLength says the same
                raise PydanticCustomError(
                    "filter_entry_length",
                    "An entry is at most {limit} characters, not {count}.",
                    {"limit": MAX_ENTRY_CHARS, "count": len(entry)},
                )
            entries.append(entry.strip())
        return tuple(entries)
    return value


def _globs(entries: tuple[str, ...]) -> tuple[str, ...]:
    """A source glob has at most MAX_WILDCARDS wildcards (`*`, `?`, `[`)."""
    for entry in entries:
        wildcards = sum(entry.count(character) for character in GLOB_CHARACTERS)
        if wildcards > MAX_WILDCARDS:
            raise PydanticCustomError(
                "filter_wildcards",
                "A glob has at most {limit} wildcards (* ? [), not {count}: {entry}.",
                {
                    "limit": MAX_WILDCARDS,
                    "count": wildcards,
                    "entry": repr(entry[:40] + ("…" if len(entry) > 40 else "")),
                },
            )
    return entries


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


# "Something other than whitespace", as str.strip() means whitespace, spelled out: regex engines
# disagree on `\s` (Python's has \x1c-\x1f, ECMAScript's has U+FEFF), and a schema is read by all.
NOT_BLANK_PATTERN = r"[^\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"


def _entries_schema(entry: dict[str, Any]) -> WithJsonSchema:
    """The JSON schema of a key's entries, exactly what `_entries` lets through: one entry or a list
    of them, each with something other than whitespace, at most MAX_ENTRY_CHARS long; null for none."""
    return WithJsonSchema(
        {"anyOf": [entry, {"type": "array", "items": entry, "maxItems": MAX_ENTRIES}, {"type": "null"}]}
    )


ENTRY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_ENTRY_CHARS, "pattern": NOT_BLANK_PATTERN}
# At most MAX_WILDCARDS of `*`, `?` and `[` (and still something other than whitespace).
GLOB_SCHEMA = {
    **ENTRY_SCHEMA,
    "allOf": [{"pattern": rf"^[^*?\[]*(?:[*?\[][^*?\[]*){{0,{MAX_WILDCARDS}}}$"}],
}
Entries = Annotated[tuple[str, ...], BeforeValidator(_entries), _entries_schema(ENTRY_SCHEMA)]
Globs = Annotated[tuple[str, ...], BeforeValidator(_entries), AfterValidator(_globs), _entries_schema(GLOB_SCHEMA)]
Day = Annotated[date | None, BeforeValidator(_date)]


class Filters(BaseModel):
    """Which documents a question may be answered from; every key is optional."""

    model_config = ConfigDict(
        frozen=True,
        defer_build=True,  # built on the first filter given, not at every start-up
        # Unknown keys are refused (`_known_keys`), and the schema says so.
        json_schema_extra={"examples": [{"source": ["reports/2011/"]}], "additionalProperties": False},
    )

    # The descriptions are spelled out, not read from attribute docstrings: pydantic reads those from
    # the module's source at class creation, ~20 ms of every start-up that imports this module.
    source: Globs = Field(
        (), description="Source paths (relative to the indexed folder): a folder or file prefix, or a glob (`*.md`)."
    )
    doc_id: Entries = ()
    type: Entries = Field((), description="File types by suffix: `pdf`, `md`, `txt` …")
    since: Day = Field(None, description="Modified on or after this day (UTC), as recorded at indexing.")
    until: Day = Field(None, description="Modified on or before this day (UTC).")
    tag: Entries = Field((), description="Markdown front-matter `tags:` (case-insensitive).")

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
        if self.type and document.kind.casefold() not in _folded(self.type, "."):
            return False
        if self.since or self.until:
            if document.modified is None:
                return False
            day = datetime.fromtimestamp(document.modified, UTC).date()
            if (self.since and day < self.since) or (self.until and day > self.until):
                return False
        if self.tag:
            wanted = _folded(self.tag)
            if not any(tag.casefold() in wanted for tag in document.tags):
                return False
        return True

    def as_options(self) -> str:
        """These filters as the `qa ask` options that make them, e.g. `--in reports/ --type pdf`."""
        options = [("--in", self.source), ("--doc", self.doc_id), ("--type", self.type), ("--tag", self.tag)]
        words = [f"{flag} {shlex.quote(entry)}" for flag, entries in options for entry in entries]
        words += [f"--{name} {day.isoformat()}" for name, day in (("since", self.since), ("until", self.until)) if day]
        return " ".join(words)


@dataclass(frozen=True)
class AllFilters:
    """Filters that must all pass: a scoped key's filters AND a request's. (Within one Filters the
    keys are AND-ed but entries OR-ed, so two of them cannot always be merged into one.)"""

    parts: tuple[Filters, ...]

    @property
    def is_empty(self) -> bool:
        return all(part.is_empty for part in self.parts)

    def matches(self, document: DocumentFacts) -> bool:
        return all(part.matches(document) for part in self.parts)


DocumentFilter = Filters | AllFilters


def all_of(*filters: DocumentFilter | None) -> DocumentFilter | None:
    """Documents that pass every one of `filters` (None and empty ones pass everything): None
    when nothing is filtered, one Filters when only one filters, else AllFilters."""
    parts: list[Filters] = []
    for item in filters:
        for part in item.parts if isinstance(item, AllFilters) else (item,) if item is not None else ():
            if not part.is_empty and part not in parts:
                parts.append(part)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else AllFilters(tuple(parts))


@lru_cache(maxsize=GLOB_CACHE)
def _source_test(entry: str) -> tuple[bool, Callable[[str], bool]]:
    """One source entry worked out once: (is it compared with the file's full path?, the test of a
    path). A glob is compiled here; fnmatch's own cache would keep up to 32,768 patterns."""
    absolute = entry.startswith("/")
    if entry.startswith("./"):
        entry = entry[2:]
    if GLOB_CHARACTERS & set(entry):
        match = re.compile(translate(entry)).match
        return absolute, lambda value: match(value) is not None
    if entry.endswith("/"):
        return absolute, lambda value: value.startswith(entry)
    folder = entry + "/"
    return absolute, lambda value: value == entry or value.startswith(folder)


def _source_matches(entry: str, document: DocumentFacts) -> bool:
    """A glob matches the whole source (`*` crosses folders); otherwise the entry is a path
    prefix by whole names: `reports/2011` holds `reports/2011/a.pdf`, not `reports/2011-old/`.
    An absolute entry is compared with the file's full path."""
    absolute, test = _source_test(entry)
    return test(document.path if absolute else document.source)


@lru_cache(maxsize=GLOB_CACHE)
def _folded(entries: tuple[str, ...], strip: str = "") -> frozenset[str]:
    """Type or tag entries as compared: case-folded (and without a leading `.` for types)."""
    return frozenset(entry.casefold().lstrip(strip) for entry in entries)
