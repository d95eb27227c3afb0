"""Every error qa raises on purpose, grouped by kind. Each carries a one-line message for a person,
which the CLI prints as is and HTTP returns as `detail`; the faces map a kind, never a class, to
an exit code or a status (api/app.py), so a user's mistake can never become a 500.

    QAError
    ├── InvalidInput     the caller asked for something malformed      422  (413 for TooLarge)
    ├── NotFound         a thing named does not exist                  404
    ├── Busy             a resource is held; try again later           503
    ├── Conflict         the request clashes with what is there        409
    ├── Damaged          stored data is unreadable or inconsistent     503  (the operator's to mend)
    └── Unavailable      an optional part is not installed or reachable 503
"""

from __future__ import annotations


class QAError(Exception):
    """Base class: the message is meant for a person, never a traceback."""


# Kinds ---------------------------------------------------------------------------------------


class InvalidInput(QAError):
    """The caller's mistake: a malformed question, filter, setting, file or argument."""


class NotFound(QAError):
    """Something the caller named does not exist: a path, an index, a document, a key."""


class Busy(QAError):
    """A resource is held by someone else; the same request may succeed later."""


class Conflict(QAError):
    """The request is well formed but clashes with what is there (another model, a non-index folder)."""


class Damaged(QAError):
    """Stored data is unreadable or inconsistent; the message says how to rebuild it."""


class Unavailable(QAError):
    """An optional part (Ray, a parser's system package) is not installed or cannot be reached."""


# Invalid input -------------------------------------------------------------------------------


class InvalidQuestion(InvalidInput):
    """The question is empty, whitespace only or too long, or top_k is out of range."""


class InvalidFilter(InvalidQuestion):
    """A filter names an unknown key, a malformed date, or dates in the wrong order."""


class InvalidSettings(InvalidInput):
    """A flag or QA_* variable holds a value qa cannot use."""


class InvalidEvalSet(InvalidInput):
    """An evaluation file or folder that is not in one of the formats `qa eval` reads."""


class NoDocuments(InvalidInput):
    """A path held no file we can read; nothing was changed."""


class UploadRefused(InvalidInput):
    """An upload the server will not take; nothing was saved or indexed."""


class UnusableUpload(UploadRefused):
    """A file with an unsafe name, an unsupported type, or content that cannot be read."""


class UploadTooLarge(UploadRefused):
    """Over a size or count limit (HTTP 413)."""


class UnreadableFile(InvalidInput):
    """A reader cannot read this file; indexing skips it with this reason, an upload refuses it."""


# Not found -----------------------------------------------------------------------------------


class BadLink(InvalidInput):
    """A signed citation link whose signature is wrong, expired, or for a key no longer active
    (the viewer answers 401: the link, not the request, is what failed)."""


class PathNotFound(NotFound):
    """A file or folder named on the command line does not exist."""


class IndexNotFound(NotFound):
    """No index folder where one was expected."""


class DocumentNotFound(NotFound):
    """No indexed document has that id (or no indexed file or folder matches a removal target)."""


class PassageNotFound(NotFound):
    """A vote on a span that is not a passage of the document (404, as a document that is not there:
    whether a span exists depends on the stored text, which no request schema can say)."""


class KeyNotFound(NotFound):
    """No active API key with that id or name."""


class NothingToExport(NotFound):
    """No feedback has been recorded yet."""


# Busy, conflict, damaged, unavailable ---------------------------------------------------------


class IndexBusy(Busy):
    """Another process holds the index's write lock."""


class NotAnIndex(Conflict):
    """The folder exists and holds something other than a qa index; we never write into it."""


class ModelMismatch(Conflict):
    """The index was built with another model, or with other vectors (int8 vs float32)."""


class IndexMismatch(Damaged):
    """The index on disk is damaged, of an older format, or inconsistent."""


class RayUnavailable(Unavailable):
    """Ray is not installed, or the cluster cannot be reached."""


class ModelNotInstalled(Unavailable):
    """The embedding model, or the torch it needs, is not installed; the message says what to install."""


class PageNotFetched(Unavailable):
    """A web page not fetched this time, with the reason (robots.txt, size, type, redirects, 5xx…);
    `transient`: worth asking again next time. The document indexed before, if any, is kept."""

    def __init__(self, reason: str, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class PageGone(NotFound):
    """A web page answered 404 or 410: its document is removed."""


class InvalidSitemap(InvalidInput):
    """A sitemap that cannot be used (malformed, over the protocol's limits), with the reason."""
