"""Links from a citation to its file on this machine: `file://` URLs, at `#page=N` for a PDF page,
for the terminal (`qa ask`) and agents on the same machine (`qa mcp` over stdio). The server links
to its viewer instead (api/citations.py)."""

from __future__ import annotations

from pathlib import Path

from qa.answers import Answer


def file_link(path: str | Path, page: int | None = None) -> str | None:
    """A file:// URL of a file on this machine (at `#page=N` for a PDF page), or None when `path` is
    not an absolute path to a file that exists."""
    file = Path(path)
    if not file.is_absolute() or not file.is_file():
        return None
    return file.as_uri() + (f"#page={page}" if page else "")


def link_to_files(answer: Answer, paths: dict[str, str]) -> Answer:
    """The answer with each passage's citation linking to its file (`paths`: doc_id → the path it
    was indexed from), where no URL is set yet and the file is still there."""
    for passage in answer.passages:
        citation = passage.citation
        if citation.url is None and citation.doc_id in paths:
            citation.url = file_link(paths[citation.doc_id], citation.page)
    return answer
