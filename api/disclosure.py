"""What the server's messages may tell a client: never a path of the server's disk nor a process id.

An error's full message (the rebuild command with its folders, the pid holding the lock) goes to
the log, tagged with the request id; the client gets the same message with each absolute path cut
to its last name (`/srv/qa/notes.qa` → `notes.qa`) and pids left out, and, when something was
cut, the request id to find the full one. One rule for every client, keyed or not: a widget's
read key is public, so a key is no reason to show more.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path

from fastapi import Request

logger = logging.getLogger(__name__)

# An absolute path: a `/` that does not continue a word, a relative path or a URL.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~:/-])/[^\s'\"()<>,;]+")
PID = re.compile(r" ?\(pid \d+\)|\bpid \d+")


def for_clients(message: str, known: Iterable[Path] = ()) -> str:
    """`message` without absolute paths (each cut to its last name) or pids."""
    for path in sorted((str(path) for path in known if path), key=len, reverse=True):
        message = message.replace(path, Path(path).name or path)
    message = ABSOLUTE_PATH.sub(_last_name, message)
    return PID.sub("", message)


def _last_name(match: re.Match) -> str:
    path = match.group()
    trailing = path[len(path.rstrip(".:")) :]
    return (Path(path.rstrip(".:")).name or "/") + trailing


def public_detail(request: Request, message: str, status: int) -> str:
    """The `detail` a client gets for an error whose full `message` the log keeps."""
    state = request.app.state
    collection = getattr(state, "collection", None)
    known = [getattr(collection, "index_dir", None), getattr(state, "documents_dir", None)]
    shown = for_clients(message, known)
    if shown == message:
        return message
    if status < 500:  # 5xx are logged in full by the error handler
        logger.info("%s %s (%d): %s", request.method, request.url.path, status, message)
    request_id = getattr(request.state, "request_id", None)
    return shown + (f" (The server log has the full message: request id {request_id}.)" if request_id else "")
