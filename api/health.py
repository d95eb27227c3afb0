"""`GET /health`: whether the server is up and its index whole, for a load balancer (open to all,
even under --require-key), with the index's facts for a request that may read."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.access import Credentials
from api.disclosure import public_detail
from api.routes import CollectionDep
from api.schemas import Health, IndexFacts

router = APIRouter()


@router.get(
    "/health",
    response_model=Health,
    responses={
        503: {
            "model": Health,
            "description": "The index is damaged or a newer generation cannot be opened: `problem` says what, "
            "and what to run.",
        }
    },
)
def health(request: Request, collection: CollectionDep, credentials: Credentials) -> Health | JSONResponse:
    """`ok` (200) or `damaged` (503, with the problem); the index's facts when the request may read.
    An invalid key is not refused here: the check stays open, it only leaves the facts out."""
    problem = collection.problem()
    facts = None
    if _may_read(request, credentials):
        stats = collection.stats()
        facts = IndexFacts(**{**asdict(stats), "path": collection.index_dir.name})
    if problem is None:
        return Health(index=facts)
    shown = public_detail(request, problem, 503)
    body = Health(status="damaged", problem=shown, index=facts)
    return JSONResponse(body.model_dump(mode="json"), status_code=503)


def _may_read(request: Request, credentials) -> bool:
    """Reads are open, or the request carries a valid key (of any scope)."""
    state = request.app.state
    if not state.settings.require_key:
        return True
    return credentials is not None and state.keys.check(credentials.credentials) is not None
