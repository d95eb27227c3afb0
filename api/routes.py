"""The HTTP routes: each one a thin call on the open collection or the server's stores."""

from functools import partial
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, Response

from api.access import ReadKey, WriteAccess, key_filters
from api.citations import link_to_viewer
from api.schemas import FeedbackRecorded, FeedbackRequest, Problem, ValidationProblem, ask_request_model
from api.settings import Settings
from qa.answers import Answer, DocumentInfo, DocumentText, encoded
from qa.collection import Collection
from qa.search.filters import all_of
from qa.server.feedback import make_vote
from qa.server.uploads import DeleteResult, IncomingFile, UploadResult, add_documents, delete_document

STATIC = Path(__file__).parent / "static"

# The page gets a strict policy: whatever text reaches it, no script but ours can run.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)

# Every status a route can answer, so the OpenAPI schema lists them all.
BAD_BODY = {
    400: {"model": Problem, "description": "The body cannot be parsed (not UTF-8, broken multipart)."},
    413: {"model": Problem, "description": "The body is over the size limit."},
    408: {"model": Problem, "description": "The body stalled, or came slower than the minimum rate."},
    422: {"model": ValidationProblem, "description": "A field is missing or wrong."},
}
NEEDS_KEY = {
    401: {"model": Problem, "description": "No API key, or one that is unknown or revoked."},
    403: {"model": Problem, "description": "The API key's scope does not allow this."},
}
RATE_LIMITED = {429: {"model": Problem, "description": "Too many requests from this client; see Retry-After."}}
DAMAGED = {
    503: {
        "model": Problem,
        "description": "The index is damaged: `detail` says what and the command that rebuilds it (GET /health too).",
    }
}
BUSY = {
    503: {
        "model": Problem,
        "description": "Other writes hold the index longer than the server's write wait (see Retry-After), or "
        "the index is damaged (`detail` says what to run; no Retry-After).",
    }
}
NOT_FOUND = {404: {"model": Problem, "description": "No document with that id (that the key may see)."}}
FEEDBACK_NOT_FOUND = {
    404: {"model": Problem, "description": "No document with that id (that the key may see), or feedback is off."}
}


async def get_collection(request: Request) -> Collection:
    """A coroutine, so FastAPI calls it on the event loop instead of handing it to a worker thread."""
    return request.app.state.collection


CollectionDep = Annotated[Collection, Depends(get_collection)]


# Routes that are the same for every app; `build_router` adds the two whose body or rate limit
# depends on the settings.
router = APIRouter()


@router.get("/documents", responses={**NEEDS_KEY, **DAMAGED})
def documents(collection: CollectionDep, key: ReadKey) -> list[DocumentInfo]:
    """The indexed documents (those the key may see)."""
    return collection.documents(key_filters(key))


@router.get("/documents/{doc_id}", responses={**NEEDS_KEY, **NOT_FOUND, **DAMAGED})
def document(doc_id: str, collection: CollectionDep, key: ReadKey) -> DocumentText:
    """One document's stored text, which citation offsets point into."""
    return collection.document(doc_id, key_filters(key))


@router.delete("/documents/{doc_id}", dependencies=[WriteAccess], responses={**NEEDS_KEY, **NOT_FOUND, **BUSY})
async def delete(doc_id: str, request: Request, collection: CollectionDep) -> DeleteResult:
    """Remove a document from the index (and its file, when the server keeps it)."""
    state = request.app.state
    result = await state.writes.run(
        delete_document, collection, doc_id, state.documents_dir, wait=state.settings.write_wait
    )
    state.metrics.delete()
    return result


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": PAGE_POLICY})


@router.get("/widget.js", include_in_schema=False)
def widget() -> FileResponse:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"})


async def feedback_on(request: Request) -> None:
    """A 404 that says why, before the body is looked at, on a server that keeps no votes."""
    if not request.app.state.settings.feedback:
        raise HTTPException(404, "Feedback is turned off on this server (QA_FEEDBACK=false); no vote is kept.")


def build_router(settings: Settings) -> APIRouter:
    """Routes for one app: `/ask`, whose body carries the configured limits, `/feedback` and uploads;
    then the routes every app has. (Rate limits are counted by `api.access.AccessGate`, before a
    body is read.)"""
    AskRequest = ask_request_model(settings)
    configured = APIRouter()

    @configured.post("/ask", response_model=Answer, responses={**BAD_BODY, **NEEDS_KEY, **RATE_LIMITED, **DAMAGED})
    async def ask(request: Request, body: AskRequest, collection: CollectionDep, key: ReadKey) -> Response:  # type: ignore[valid-type]
        """Rank passages for a question; `answered` is false when none answers it confidently.
        A scoped key's filters apply on top of the request's."""
        # One hop to a worker thread for the question itself; validation stays on the event loop
        # (a sync endpoint would hop for each step, docs/PERFORMANCE.md). The answer is made by the
        # core, so it is written as it is (msgspec), not checked against its own model again.
        filters = all_of(key_filters(key), body.filters)
        question = partial(collection.ask, body.question, top_k=body.top_k, history=body.history, filters=filters)
        answer = await anyio.to_thread.run_sync(question, limiter=request.app.state.question_threads)
        request.app.state.metrics.answer(answer)
        linked = link_to_viewer(answer, str(request.base_url), request.app.state.links.signer(key))
        return Response(encoded(linked), media_type="application/json")

    @configured.post(
        "/feedback",
        status_code=201,
        dependencies=[Depends(feedback_on)],
        responses={**BAD_BODY, **NEEDS_KEY, **FEEDBACK_NOT_FOUND, **RATE_LIMITED, **DAMAGED},
    )
    def feedback(request: Request, body: FeedbackRequest, collection: CollectionDep, key: ReadKey) -> FeedbackRecorded:
        """A vote on one passage of an answer, kept for `qa feedback export` (with at most the
        beginning of the passage). A document the key may not see is not found."""
        vote = make_vote(collection, **body.model_dump(), filters=key_filters(key))
        return FeedbackRecorded(id=request.app.state.feedback.add(vote), generation=vote.generation)

    @configured.post(
        "/documents",
        status_code=201,
        dependencies=[WriteAccess],
        responses={**BAD_BODY, **NEEDS_KEY, **RATE_LIMITED, **BUSY},
    )
    async def upload(
        request: Request,
        files: Annotated[list[UploadFile], File(description="The documents (the types qa index reads); repeatable.")],
        collection: CollectionDep,
        folder: Annotated[str | None, Form(description="A folder to keep them in, e.g. reports/2011.")] = None,
    ) -> UploadResult:
        """Add or update documents: kept in the server's documents folder and indexed at once (the
        next question sees them). All or nothing: a refused file leaves everything as it was."""
        incoming = [IncomingFile(file.filename or "", file.file) for file in files]
        state = request.app.state
        write = partial(add_documents, collection, incoming, state.documents_dir, folder, state.upload_limits)
        result = await state.writes.run(write, wait=settings.write_wait)
        state.metrics.upload(result)
        return result

    configured.include_router(router)
    return configured


def all_routes(routes) -> list[Any]:
    """Every route with methods, looking into included routers."""
    found = []
    for route in routes:
        if getattr(route, "path_regex", None) is not None and getattr(route, "methods", None):
            found.append(route)
        included = getattr(route, "original_router", None)  # FastAPI's include_router (no prefix here)
        found += all_routes(getattr(route, "routes", None) or getattr(included, "routes", None) or [])
    return found
