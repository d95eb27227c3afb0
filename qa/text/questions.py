"""What a question asks for, and what a heading says of its section: the plain-text tests that the
ranking's page signals read (qa.search.retrieval, issue 18), each measured in docs/EVALUATION.md.
"""

from __future__ import annotations

import re
from functools import lru_cache

# A question that asks for a quantity, a size or a time ("How many columns…", "When were…").
_ASKS_FOR_NUMBER = re.compile(
    r"^\W*(how (many|much|big|large|long|old|far|often|high|small|fast)|what (year|date|size)|when)\b", re.I
)
# A question that names code: a call, an option, an assignment, quoted code, or asks for an example.
_ASKS_FOR_CODE = re.compile(r"`|\w\(|(^|\s)--?\w|=|\b(example|syntax|snippet|code)s?\b", re.I)
# "What is a partial index?", "What does the VACUUM command do?", "What is the R-Tree module for?":
# the thing asked about is the words after the verb, at most `MAX_SUBJECT_WORDS` of them (a longer
# one, "What is the maximum number of columns in a table?", asks for a fact, not what a thing is).
_ASKS_WHAT = re.compile(
    r"^\s*(?:what|who)\s+(?:is|are|was|were|does|do)\s+(?:an?\s+|the\s+)?(?P<subject>[^?]+?)"
    r"(?:\s+(?:do|for|mean|stand for|used for|good for))?\s*\?\s*$",
    re.IGNORECASE,
)
MAX_SUBJECT_WORDS = 4
# A version ("3.24", "1.1.0b6") or a year in a question.
_NAMES_A_RELEASE = re.compile(r"\b\d+\.\d+|\b(1[89]|20)\d\d\b")

# A date in a heading: ISO ("2016-07-07"), or with the month's name ("March 3, 2021", "3 Mar 2021").
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_YEAR = r"(1[89]|20)\d\d\b"
_DATE = re.compile(
    rf"\b(1[89]|20)\d\d-[01]\d-[0-3]\d\b|\b{_MONTH}\s+[0-3]?\d(st|nd|rd|th)?,?\s+{_YEAR}|\b[0-3]?\d\s+{_MONTH}\s+{_YEAR}",
    re.I,
)
# A heading under which documentation says what a thing is: "1. Introduction", "Overview",
# "DESCRIPTION" (a man page), "Summary", "About …", "What is …".
_OVERVIEW = re.compile(
    r"^\W*(\d+(\.\d+)*\.?\s+)?(introduction|overview|description|summary|about\b.*|what is\b.*)\W*$", re.I
)


def asks_for_number(question: str) -> bool:
    return bool(_ASKS_FOR_NUMBER.search(question))


def asks_for_code(question: str) -> bool:
    return bool(_ASKS_FOR_CODE.search(question))


def asks_what_it_is(question: str) -> bool:
    match = _ASKS_WHAT.match(question)
    return match is not None and len(match.group("subject").split()) <= MAX_SUBJECT_WORDS


def names_a_release(question: str) -> bool:
    return bool(_NAMES_A_RELEASE.search(question))


# A change log's entry: GNU's ("Fri Jul 24 10:16:24 CEST 2009  Name <mail>", the date as `date`
# prints it) and Debian's ("libxslt (1.1.35-1) unstable; urgency=medium", dated on its last line).
_CHANGE_ENTRY = re.compile(
    rf"\b{_MONTH}\s+[0-3]?\d\s+\d\d:\d\d(:\d\d)?\s+(\w+\s+)?{_YEAR}|^\S+ \([^()\s]+\) [^;]*; *urgency=\w",
    re.I,
)


@lru_cache(maxsize=16384)
def is_dated(section: tuple[str, ...]) -> bool:
    """A section under a dated heading: a release note or a news item ("2012-03-20 (3.7.11)",
    "Version 1.0.4 (2016-07-07)"), an entry of a change log, true of one moment, not of how things are."""
    return any(_DATE.search(heading) or _CHANGE_ENTRY.search(heading) for heading in section)


@lru_cache(maxsize=4096)
def is_overview(heading: str) -> bool:
    return bool(_OVERVIEW.match(heading))
