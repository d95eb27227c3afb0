"""Errors a user can act on: each carries a one-line message the CLI and HTTP API show as is."""

from __future__ import annotations


class QAError(Exception):
    """Base class: the message is meant for a person, never a traceback."""


class InvalidQuestion(QAError):
    """The question is empty, whitespace only or too long."""


class IndexNotFound(QAError):
    """No index folder where one was expected."""


class IndexMismatch(QAError):
    """The index on disk is inconsistent or was built with another model."""


class NoDocuments(QAError):
    """A path held no file we can read; nothing was changed."""


class DocumentNotFound(QAError):
    """No indexed document has that id."""


class IndexBusy(QAError):
    """Another process holds the index's write lock."""


class InvalidFilter(InvalidQuestion):
    """A filter names an unknown key, a malformed date, or dates in the wrong order."""
