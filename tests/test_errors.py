"""Errors by kind: every error qa raises on purpose belongs to one kind, and the HTTP face maps the
kind, so a user's mistake can never come back as a 500."""

from __future__ import annotations

import inspect

import pytest

import qa.errors
from api.app import status_of
from qa.errors import Busy, Conflict, Damaged, InvalidInput, NotFound, QAError, Unavailable

KINDS = (InvalidInput, NotFound, Busy, Conflict, Damaged, Unavailable)
ERRORS = [
    cls
    for _, cls in inspect.getmembers(qa.errors, inspect.isclass)
    if issubclass(cls, QAError) and cls is not QAError and cls not in KINDS
]


def test_the_errors_module_holds_every_error_class_of_the_core():
    """No error class is defined outside qa/errors.py (the faces' own HTTP errors aside)."""
    import pathlib

    root = pathlib.Path(qa.errors.__file__).parent
    defined_elsewhere = [
        f"{path.relative_to(root.parent)}: {line.strip()}"
        for path in root.rglob("*.py")
        if path.name != "errors.py"
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith("class ") and ("Error(" in line or "QAError" in line or "(Exception)" in line)
    ]
    assert defined_elsewhere == []


@pytest.mark.parametrize("error", ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_has_exactly_one_kind(error):
    assert sum(issubclass(error, kind) for kind in KINDS) == 1


@pytest.mark.parametrize("error", ERRORS, ids=lambda cls: cls.__name__)
def test_no_error_of_ours_is_a_500(error):
    """A 500 is a bug: a damaged store is the operator's to mend (503, the message says what to
    run), a busy or missing part may come back (503), the rest is the client's to change (4xx)."""
    status = status_of(error("message"))
    assert 400 <= status < 500 or (issubclass(error, Busy | Unavailable | Damaged) and status == 503)


def test_the_kinds_map_to_their_statuses():
    assert [status_of(kind("x")) for kind in KINDS] == [422, 404, 503, 409, 503, 503]
    assert status_of(qa.errors.UploadTooLarge("x")) == 413
