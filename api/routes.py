"""The HTTP routes: each one a thin call on the open collection."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from api.schemas import Health, Problem, ValidationProblem, ask_request_model
from api.settings import Settings
from qa.answers import Answer, DocumentInfo, DocumentText
from qa.collection import Collection

STATIC = Path(__file__).parent / "static"

# The page gets a strict policy: whatever text reaches it, no script but ours can run.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def get_collection(request: Request) -> Collection:
    return request.app.state.collection


CollectionDep = Annotated[Collection, Depends(get_collection)]


def build_router(settings: Settings) -> APIRouter:
    """Routes for one app; the `/ask` body carries the configured limits."""
    AskRequest = ask_request_model(settings)
    router = APIRouter()

    @router.post("/ask", response_model=Answer, responses={422: {"model": ValidationProblem}})
    def ask(body: AskRequest, collection: CollectionDep) -> Answer:  # type: ignore[valid-type]
        """Rank passages for a question; `answered` is false when none answers it confidently."""
        return collection.ask(body.question, top_k=body.top_k, history=body.history, filters=body.filters)

    @router.get("/health")
    def health(collection: CollectionDep) -> Health:
        """The server is up; facts about the index it serves."""
        return Health(index=collection.stats())

    @router.get("/documents")
    def documents(collection: CollectionDep) -> list[DocumentInfo]:
        """The indexed documents."""
        return collection.documents()

    @router.get("/documents/{doc_id}", responses={404: {"model": Problem}})
    def document(doc_id: str, collection: CollectionDep) -> DocumentText:
        """One document's stored text, which citation offsets point into."""
        return collection.document(doc_id)

    @router.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": PAGE_POLICY})

    @router.get("/widget.js", include_in_schema=False)
    def widget() -> FileResponse:
        return FileResponse(STATIC / "widget.js", media_type="text/javascript", headers={"Cache-Control": "no-cache"})

    return router
