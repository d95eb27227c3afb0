"""The FastAPI app: one collection opened at start-up, the routes, and errors as readable messages."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from api.body_limit import BodySizeLimit
from api.routes import build_router
from api.schemas import FieldProblem, ValidationProblem
from api.settings import Settings
from qa.collection import Collection
from qa.errors import DocumentNotFound, InvalidQuestion, QAError
from qa.events import OnProgress, ignore

BODY_EXAMPLE = '{"question": "Who defected?"}'


def open_collection(settings: Settings, on_progress: OnProgress = ignore) -> Collection:
    """Open the configured index (the seeds index when none is set); raises `QAError` with the CLI's message."""
    return Collection.open(settings.index, model=settings.model, on_progress=on_progress)


def check_index(settings: Settings, on_progress: OnProgress = ignore) -> Path:
    """The index folder that `qa serve --workers` processes will open, checked here without loading
    the model (the seeds index is built when missing), so a bad one stops the server with one message."""
    from embeddings import resolve_model
    from qa.paths import ensure_default_index
    from qa.store import Snapshot, check_same_model, rebuild_hint

    if settings.index is None:
        index_dir = ensure_default_index(settings.model, on_progress=on_progress)
    else:
        index_dir = Path(settings.index).expanduser().resolve()
    manifest = Snapshot.open(index_dir, load=False).manifest
    if settings.model:
        hint = f"{rebuild_hint(index_dir, manifest.roots)} --model {settings.model}"
        check_same_model(manifest, resolve_model(settings.model)[0], None, hint)
    return index_dir


def app_from_environment() -> FastAPI:
    """The app one `qa serve --workers N` process runs: its settings from the QA_* variables its
    parent set, its own collection opened once at start-up."""
    return create_app(Settings())


def create_app(settings: Settings | None = None, collection: Collection | None = None) -> FastAPI:
    """The app over `collection`, or over the index in `settings`, opened once when the app starts."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.collection = collection if collection is not None else open_collection(settings)
        yield

    app = FastAPI(
        title="qa",
        summary="Ask questions of a folder of documents; answers are passages quoted with citations.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:  # added last, so even a 413 carries the CORS headers the widget needs
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
        )
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(InvalidQuestion, _error_status(422))
    app.add_exception_handler(DocumentNotFound, _error_status(404))
    app.add_exception_handler(QAError, _error_status(500))
    app.include_router(build_router(settings))
    return app


def _error_status(status_code: int) -> Any:
    async def handler(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status_code)

    return handler


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
