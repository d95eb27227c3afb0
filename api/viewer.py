"""Every citation one click from its source: the viewer (`GET /view/{doc_id}`), a page showing a
document's stored text with the cited passage marked and its highlighted sentence marked more
strongly, scrolled to and focused; and the original file (`GET /documents/{doc_id}/file`), served
only while it is the version that was indexed.

Both take a read key like /documents, or the signature of a link made for one (api/citations.py,
qa/server/links.py), since a browser opening a link in a new tab sends no key header.
"""

from __future__ import annotations

import mimetypes
from html import escape
from pathlib import Path
from urllib.parse import quote, urlencode

import anyio
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from api.access import LinkKey, key_filters
from api.citations import Span, parse_spans, viewer_link
from api.routes import NEEDS_KEY, NOT_FOUND, PAGE_POLICY, STATIC
from qa.collection import Collection
from qa.compressed import COMPRESSIONS, compression
from qa.ingest.documents import file_sha256

router = APIRouter()

# A document's own file may be HTML or SVG: served from our origin, it runs in a sandbox, so no
# script in it can run or reach the API with our origin's rights. (A PDF is shown by the browser's
# viewer, which a sandbox would block; a PDF runs no script of ours either.)
FILE_POLICY = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
MEDIA_TYPES = {".md": "text/markdown; charset=utf-8", ".txt": "text/plain; charset=utf-8"}


@router.get("/view/{doc_id}", response_class=HTMLResponse, responses={**NEEDS_KEY, **NOT_FOUND})
async def view(
    doc_id: str,
    request: Request,
    key: LinkKey,
    start: int = 0,
    end: int | None = None,
    hs: int | None = None,
    he: int | None = None,
    at: int = 0,
    of: str = "",
) -> HTMLResponse:
    """The document's stored text with the passage start–end marked and its sentence hs–he marked
    more strongly; `of` and `at` (the answer's passages) give previous/next links."""
    collection: Collection = request.app.state.collection
    document, _ = await anyio.to_thread.run_sync(collection.stored_document, doc_id, key_filters(key))
    text = document.text or ""
    end = len(text) if end is None else end
    hs, he = (start, end) if hs is None or he is None else (hs, he)
    if not 0 <= start <= hs <= he <= end <= len(text):
        raise HTTPException(
            422, f"The spans must nest inside the text: 0 ≤ start ≤ hs ≤ he ≤ end ≤ {len(text)} for {doc_id!r}."
        )
    try:
        spans = parse_spans(of)
    except ValueError as problem:
        raise HTTPException(422, f"`of` is not a list of passages ({problem}).") from None
    passage = await anyio.to_thread.run_sync(collection.passage_at, doc_id, start, end)
    sign = request.app.state.links.signer(key)
    here = Span(doc_id, start, end, hs, he)
    if not (0 <= at < len(spans) and spans[at] == here):
        spans, at = [here], 0
    base = str(request.base_url)

    def link(index: int) -> str:
        return viewer_link(base, spans, index, **(sign(spans[index].doc_id) if sign else {}))

    file_query = urlencode(sign(doc_id)) if sign else ""
    page = passage.page if passage else None
    file_link = f"/documents/{quote(doc_id, safe='')}/file" + (f"?{file_query}" if file_query else "")
    file_link += f"#page={page}" if page and document.kind == "pdf" else ""
    html = render(
        title=document.title,
        source=document.source,
        section=list(passage.section) if passage else [],
        page=page,
        text=text,
        here=here,
        position=(at, len(spans)),
        previous=link(at - 1) if at > 0 else None,
        following=link(at + 1) if at + 1 < len(spans) else None,
        file_link=file_link,
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-store"})


@router.get(
    "/documents/{doc_id}/file",
    responses={
        **NEEDS_KEY,
        **NOT_FOUND,
        409: {"description": "The file changed since it was indexed (its sha256 no longer matches)."},
    },
)
async def original_file(doc_id: str, request: Request, key: LinkKey) -> FileResponse:
    """The document's file as indexed, inline with its content type (a compressed file as a
    download); a 409 when the file on disk is no longer the version indexed (re-index it, or ask
    again)."""
    collection: Collection = request.app.state.collection
    document, _ = await anyio.to_thread.run_sync(collection.stored_document, doc_id, key_filters(key))
    path = Path(document.path)
    if "://" in document.root or not path.is_absolute() or not path.is_file():
        raise HTTPException(404, f"The file of {doc_id!r} ({document.source}) is not on this server any more.")
    if await anyio.to_thread.run_sync(file_sha256, path) != document.sha256:
        raise HTTPException(
            409,
            f"{document.source} changed since it was indexed (its sha256 differs): index it again "
            "(qa index), then ask again for a fresh citation.",
        )
    # A compressed file is sent as it is, to save: sent with a `Content-Encoding`, a browser would
    # unpack it without any limit.
    packed = compression(path)
    media_type = COMPRESSIONS[packed].media_type if packed else MEDIA_TYPES.get(path.suffix.lower())
    media_type = media_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    disposition = "attachment" if packed else "inline"
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    if media_type != "application/pdf":
        headers["Content-Security-Policy"] = FILE_POLICY
    return FileResponse(
        path, media_type=media_type, filename=path.name, content_disposition_type=disposition, headers=headers
    )


@router.get("/viewer.js", include_in_schema=False)
def viewer_script() -> FileResponse:
    return FileResponse(STATIC / "viewer.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"})


def render(
    title: str,
    source: str,
    section: list[str],
    page: int | None,
    text: str,
    here: Span,
    position: tuple[int, int],
    previous: str | None,
    following: str | None,
    file_link: str,
) -> str:
    """The viewer page: escaped text, the passage in <mark class="passage">, its sentence in
    <mark class="sentence" id="quote">."""
    body = (
        escape(text[: here.start])
        + '<mark class="passage">'
        + escape(text[here.start : here.hs])
        + '<mark class="sentence" id="quote" tabindex="-1">'
        + escape(text[here.hs : here.he])
        + "</mark>"
        + escape(text[here.he : here.end])
        + "</mark>"
        + escape(text[here.end :])
    )
    facts = [f"<span>{escape(source)}</span>"]
    if section:
        facts.append(f'<span class="section">{" › ".join(escape(part) for part in section)}</span>')
    if page:
        facts.append(f"<span>page {page}</span>")
    facts.append(f'<a href="{escape(file_link)}" target="_blank" rel="noopener">Open the original file</a>')
    at, count = position
    nav = ""
    if count > 1:
        back = (
            f'<a rel="prev" href="{escape(previous)}">← Previous passage</a>'
            if previous
            else '<span aria-disabled="true">← Previous passage</span>'
        )
        forth = (
            f'<a rel="next" href="{escape(following)}">Next passage →</a>'
            if following
            else '<span aria-disabled="true">Next passage →</span>'
        )
        nav = f'<nav aria-label="Passages of this answer">{back}<span>Passage {at + 1} of {count}</span>{forth}</nav>'
    return VIEWER_PAGE.format(
        title=escape(title or source), facts=" · ".join(facts), nav=nav, body=body, chars=f"{here.start}–{here.end}"
    )


VIEWER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{title} · qa</title>
<style>
  body {{ margin: 0; background: #eef1f5; color: #1f2328;
    font: 16px/1.6 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }}
  header {{ position: sticky; top: 0; background: #fff; border-bottom: 1px solid #d0d7de; padding: 12px 16px; }}
  header > div, main {{ max-width: 860px; margin: 0 auto; }}
  h1 {{ font-size: 20px; margin: 0 0 4px; }}
  .facts {{ color: #57606a; font-size: 14px; }}
  .section {{ color: #0a3069; }}
  a {{ color: #0b57d0; }}
  nav {{ display: flex; gap: 16px; justify-content: space-between; margin-top: 8px; font-size: 14px; }}
  nav [aria-disabled] {{ color: #57606a; }}
  main {{ padding: 16px; }}
  .text {{ white-space: pre-wrap; overflow-wrap: anywhere; background: #fff; border: 1px solid #d0d7de;
    border-radius: 12px; padding: 16px 20px; }}
  mark.passage {{ background: #fff8c5; color: inherit; border-radius: 3px; }}
  mark.sentence {{ background: #ffd33d; color: #1f2328; font-weight: 600; border-radius: 3px;
    outline: 2px solid #9a6700; outline-offset: 1px; scroll-margin: 40vh 0; }}
  mark.sentence:focus {{ outline: 3px solid #0b57d0; }}
  @media (prefers-color-scheme: dark) {{
    body {{ background: #0d1117; color: #e6edf3; }}
    header, .text {{ background: #161b22; border-color: #30363d; }}
    .facts, nav [aria-disabled] {{ color: #9198a1; }}
    .section {{ color: #a5d6ff; }}
    a {{ color: #8ab4f8; }}
    mark.passage {{ background: #3b2e00; }}
    mark.sentence {{ background: #e3b341; color: #0d1117; outline-color: #f0c000; }}
    mark.sentence:focus {{ outline-color: #8ab4f8; }}
  }}
</style>
<script src="/viewer.js" defer></script>
</head>
<body>
<header><div>
  <h1>{title}</h1>
  <div class="facts">{facts}</div>
  {nav}
</div></header>
<main>
  <p class="facts">The passage quoted (characters {chars}) is marked; its best sentence more strongly.</p>
  <div class="text">{body}</div>
</main>
</body>
</html>
"""
