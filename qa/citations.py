"""Links from a citation to its file on this machine: `file://` URLs, at `#page=N` for a PDF page,
for the terminal (`qa ask`) and agents on the same machine (`qa mcp` over stdio). The server links
to its viewer instead (api/citations.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qa.answers import Answer

if TYPE_CHECKING:
    from qa.collection import Collection


def file_link(path: str | Path, page: int | None = None) -> str | None:
    """A file:// URL of a file on this machine (at `#page=N` for a PDF page), or None when `path` is
    not an absolute path to a file that exists."""
    file = Path(path)
    if not file.is_absolute() or not file.is_file():
        return None
    return file.as_uri() + (f"#page={page}" if page else "")


def link_to_files(answer: Answer, collection: Collection) -> Answer:
    """The answer with each passage's citation, and each other place holding its text (`also`),
    linking to its file, where no URL is set yet and the file is still there."""
    cited = [citation for passage in answer.passages for citation in (passage.citation, *passage.also)]
    paths = collection.file_paths(citation.doc_id for citation in cited)
    for citation in cited:
        if citation.url is None and citation.doc_id in paths:
            citation.url = file_link(paths[citation.doc_id], citation.page)
    return answer
