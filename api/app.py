"""The FastAPI app: one collection opened at start-up, the routes, and errors as readable messages."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from fastapi.responses import JSONResponse
from starlette.routing import Route

from api.access import AccessGate, RateLimits
from api.batching import QUESTIONS_AT_ONCE, QuestionBatcher
from api.body_limit import BodyLimits
from api.disclosure import public_detail
from api.mcp_server import MCPEndpoint, build_mcp, http_reach, http_sessions
from api.observe import install_observability
from api.openapi import use_settings_in_schema
from api.routes import all_routes, build_router
from api.schemas import FieldProblem, ValidationProblem
from api.settings import Settings
from api.stopping import StoppableEncoder, Writes
from api.viewer import router as viewer_router
from api.writes import WriteQueue
from qa.collection import Collection, ensure_default_index
from qa.errors import (
    Busy,
    Conflict,
    Damaged,
    InvalidInput,
    NotFound,
    QAError,
    Unavailable,
    UploadTooLarge,
)

logger = logging.getLogger(__name__)

BODY_EXAMPLE = '{"question": "Who defected?"}'


def open_collection(settings: Settings) -> Collection:
    """Open the configured index (the seeds index when none is set, built on first use)."""
    index_dir = settings.index or ensure_default_index(settings.model)
    return Collection.open(index_dir, model=settings.model)


def app_from_environment() -> FastAPI:
    """The app one `qa serve --workers N` process runs: its settings from the QA_* variables its
    parent set, its own collection opened once at start-up."""
    from api.connections import BoundedHeaders

    settings = Settings()
    BoundedHeaders.configure(settings)  # this worker's connections get the server's header limits
    return create_app(settings)


def create_app(settings: Settings | None = None, collection: Collection | None = None) -> FastAPI:
    """The app over `collection`, or over the index in `settings`, opened once when the app starts."""
    settings = settings or Settings()

    from qa.config import uploads_dir
    from qa.server.feedback import FeedbackStore
    from qa.server.keys import KeyStore
    from qa.server.links import LinkSigner
    from qa.server.uploads import UploadLimits

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.collection = collection if collection is not None else open_collection(settings)
        if not isinstance(app.state.collection.encoder, QuestionBatcher):
            # Concurrent questions share a call; indexing stops at a batch when the server stops.
            stoppable = StoppableEncoder(app.state.collection.encoder, app.state.stopping)
            app.state.collection.encoder = QuestionBatcher(stoppable)
        app.state.question_threads = anyio.CapacityLimiter(QUESTIONS_AT_ONCE)
        index_dir = app.state.collection.index_dir
        app.state.keys = KeyStore.for_index(index_dir)
        app.state.feedback = FeedbackStore.for_index(index_dir)
        app.state.documents_dir = Path(settings.documents_dir or uploads_dir(index_dir)).expanduser().resolve()
        app.state.writes = WriteQueue(app.state.stopping)
        app.state.links = LinkSigner.for_index(index_dir, settings.require_key)
        await _settle_interrupted_uploads(app, settings.write_wait)
        stop_syncing = None
        if settings.watch or settings.refresh_every:
            from api.syncing import start_syncing

            stop_syncing = start_syncing(
                app.state.collection, settings.watch, settings.refresh_every, settings.write_wait
            )
        app.state.mcp_sessions = http_sessions(mcp)
        async with app.state.mcp_sessions.run():
            yield
        if stop_syncing is not None:
            await anyio.to_thread.run_sync(stop_syncing)
        # uvicorn has given requests in flight --graceful-timeout seconds; roll back writes still running.
        await anyio.to_thread.run_sync(app.state.stopping.stop, max(settings.graceful_timeout, 5))

    app = FastAPI(
        title="qa",
        summary="Ask questions of a folder of documents; answers are passages quoted with citations.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.upload_limits = UploadLimits(
        max_files=settings.max_upload_files,
        max_file_bytes=settings.max_upload_file_bytes,
        max_total_bytes=settings.max_upload_bytes,
        parse_seconds=settings.parse_timeout,
    )
    app.state.stopping = Writes()  # what a stopping server rolls back (api/stopping.py)
    _add_middleware(app, settings)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(405, _method_not_allowed)
    app.add_exception_handler(QAError, _qa_error)
    app.include_router(build_router(settings))
    app.include_router(viewer_router)  # the viewer and the original files (api/viewer.py)
    mcp = build_mcp(http_reach())
    app.router.routes.append(Route("/mcp", MCPEndpoint(), methods=["GET", "POST", "DELETE"], include_in_schema=False))
    install_observability(app)  # /health, /metrics, request ids and access records (outermost)
    use_settings_in_schema(app, settings)
    return app


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """Middleware, outermost first: the Host check; CORS, so that even a refusal carries the headers
    the widget needs; the body's size and pace; the key and the rate limit, from the headers,
    before the body is read. An upload's own limits are checked file by file; its body may be as
    large as all of them, plus the multipart framing, but only with a valid write key."""
    ask_rate, upload_rate = settings.rate_limits()
    rates = {
        ("POST", "/ask"): ask_rate,
        ("POST", "/mcp"): ask_rate,
        ("POST", "/feedback"): ask_rate,
        ("POST", "/documents"): upload_rate,
    }
    upload_body = settings.max_upload_bytes + settings.max_upload_files * 1024 + 65536
    app.add_middleware(
        AccessGate,
        require_key=settings.require_key,
        rates=RateLimits({route: rate for route, rate in rates.items() if rate}),
        upload_bytes=upload_body,
    )
    app.add_middleware(
        BodyLimits,
        max_bytes=settings.max_body_bytes,
        idle_seconds=settings.body_timeout,
        min_rate=settings.min_body_rate,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Content-Type", "Authorization"],
        )
    if "*" not in settings.trusted_hosts():
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.trusted_hosts())


# Each kind of error (qa.errors) has one status; the first match in this order wins.
STATUS_OF_KIND: tuple[tuple[type[QAError], int], ...] = (
    (UploadTooLarge, 413),
    (InvalidInput, 422),
    (NotFound, 404),
    (Conflict, 409),
    (Busy, 503),
    (Unavailable, 503),
    (Damaged, 503),  # not the client's fault, nor a bug: the message says what the operator must run
)


def status_of(error: QAError) -> int:
    """The HTTP status of an error's kind; an error of no kind is a bug of ours (500)."""
    return next((status for kind, status in STATUS_OF_KIND if isinstance(error, kind)), 500)


async def _qa_error(request: Request, exc: Exception) -> JSONResponse:
    """A QAError as `{"detail": …}` with its kind's status; a 422 is a ValidationProblem (its
    per-field list empty), a busy index says when to try again. The client's detail leaves out
    paths and pids (api/disclosure.py); the log keeps the full message."""
    status = status_of(exc)
    body: dict[str, Any] = {
        "detail": public_detail(request, str(exc), status),
        **({"errors": []} if status == 422 else {}),
    }
    headers = {"Retry-After": "5"} if isinstance(exc, Busy) else None
    if status >= 500:
        logger.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=status_of(exc) == 500)
    return JSONResponse(body, status_code=status, headers=headers)


async def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    """405 whose Allow header lists the methods of every route at this path (Starlette names only
    the first route's)."""
    path = request.url.path
    allowed = sorted(
        {method for route in all_routes(request.app.routes) if route.path_regex.match(path) for method in route.methods}
    )
    return JSONResponse(
        {"detail": f"{request.method} is not allowed on {path}; use {', '.join(allowed)}."},
        status_code=405,
        headers={"Allow": ", ".join(allowed)},
    )


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422, with a `detail` line a person can read before the per-field `errors`."""
    errors = [FieldProblem(loc=list(error["loc"]), msg=_message(error), type=error["type"]) for error in exc.errors()]
    problem = ValidationProblem(detail=" ".join(error.msg for error in errors), errors=errors)
    return JSONResponse(problem.model_dump(), status_code=422)


def _message(error: dict[str, Any]) -> str:
    loc = [part for part in error["loc"] if part != "body"]
    if error["type"] == "json_invalid":
        reason = error.get("ctx", {}).get("error", "")
        return f"The request body is not valid JSON ({reason}). Send an object like {BODY_EXAMPLE}."
    if not loc or isinstance(loc[0], int):
        return f"The request body must be a JSON object like {BODY_EXAMPLE}."
    field = ".".join(str(part) for part in loc)
    return f"{field}: {error['msg'].rstrip('.')}."


async def _settle_interrupted_uploads(app: FastAPI, wait: float) -> None:
    """Uploads a killed server left half done are settled before the first request (or, when
    another writer holds the index now, by the next upload or delete)."""
    from qa.server.uploads import recover_uploads

    recover = partial(recover_uploads, app.state.collection, app.state.documents_dir, wait=wait)
    try:
        settled = await anyio.to_thread.run_sync(recover)
    except Busy as error:
        logger.warning("Interrupted uploads not settled yet: %s", error)
        return
    if settled:
        logger.warning("Settled %d interrupted upload(s) in %s", settled, app.state.documents_dir)
