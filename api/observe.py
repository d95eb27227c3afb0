"""What the server tells its operator: a request id on every request (echoed in `X-Request-ID` and
on every log line made while it runs), one JSON access record per request, `/metrics` in the
Prometheus text format, and a JSON 500 (never a plain-text one) for a bug.

Metrics (docs/SHARED_SERVER.md has the table) are counted per process; under `qa serve --workers
N` prometheus-client's multiprocess mode adds them up across the processes (`PROMETHEUS_MULTIPROC_DIR`,
set by `prepare_multiprocess_metrics`).
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from starlette.routing import Match

from api.access import ReadAccess
from api.health import router as health_router
from api.logs import REQUEST_ID
from api.routes import NEEDS_KEY, all_routes

if TYPE_CHECKING:
    from qa.answers import Answer
    from qa.server.uploads import UploadResult

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("api.access")

REQUEST_ID_HEADER = "X-Request-ID"
# A client's own request id is kept only when it is short and plain, so it cannot forge log lines
# or carry much of anything; otherwise the server makes one.
CLIENT_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"


class Metrics:
    """The server's counters, in a registry of the app's own (several apps may live in one test
    process), and a collector that reads the index's facts when scraped."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "qa_http_requests", "HTTP requests answered.", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "qa_http_request_duration_seconds",
            "Time from a request's arrival to the end of its response.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "qa_rate_limited_requests", "Requests refused with 429 by a rate limit.", ["route"], registry=self.registry
        )
        self.answers = Counter(
            "qa_answers", "Questions answered by /ask, by outcome (answered, abstained).", ["outcome"],
            registry=self.registry,
        )  # fmt: skip
        self.uploads = Counter(
            "qa_uploads", "POST /documents requests, by outcome (committed, refused, busy, failed).", ["outcome"],
            registry=self.registry,
        )  # fmt: skip
        self.uploaded_files = Counter(
            "qa_uploaded_files", "Files of committed uploads, by result (added, updated, skipped).", ["result"],
            registry=self.registry,
        )  # fmt: skip
        self.commits = Counter(
            "qa_commits", "Generations this server committed, by operation (upload, delete).", ["operation"],
            registry=self.registry,
        )  # fmt: skip

    def answer(self, answer: Answer) -> None:
        self.answers.labels("answered" if answer.answered else "abstained").inc()

    def upload(self, result: UploadResult) -> None:
        for outcome in ("added", "updated", "skipped"):
            self.uploaded_files.labels(outcome).inc(getattr(result, outcome))
        if result.added or result.updated:
            self.commits.labels("upload").inc()

    def delete(self) -> None:
        self.commits.labels("delete").inc()

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)
        if status == 429:
            self.rate_limited.labels(route).inc()
        if (method, route) == ("POST", "/documents"):
            outcome = (
                "committed" if status < 300 else "busy" if status == 503 else "refused" if status < 500 else "failed"
            )
            self.uploads.labels(outcome).inc()


class IndexFacts:
    """A collector of the served index's facts, read at each scrape (nothing is counted per request)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self):
        collection = getattr(self.app.state, "collection", None)
        if collection is None:  # scraped before the app started
            return
        manifest = collection.manifest
        facts = {
            "generation": (manifest.generation, "The generation of the index being served."),
            "documents": (manifest.counts.documents, "Documents in the served generation."),
            "passages": (manifest.counts.passages, "Passages in the served generation."),
            "segments": (len(manifest.segments), "Segments the served generation is made of."),
            "damaged": (int(collection.problem() is not None), "1 when /health says damaged, else 0."),
        }
        for name, (value, help_text) in facts.items():
            yield GaugeMetricFamily(f"qa_index_{name}", help_text, value=value)


def prepare_multiprocess_metrics() -> None:
    """Before `qa serve --workers N` starts its processes: a fresh folder where each one keeps its
    counters, so that a scrape (answered by any one of them) adds them all up; removed at exit."""
    if os.environ.get(MULTIPROCESS):
        return  # the operator chose one
    folder = tempfile.mkdtemp(prefix="qa-metrics-")
    os.environ[MULTIPROCESS] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


def metrics_router() -> APIRouter:
    router = APIRouter()

    @router.get(
        "/metrics",
        dependencies=[ReadAccess],
        response_class=Response,
        responses={
            200: {"content": {"text/plain": {}}, "description": "Prometheus text format (docs/SHARED_SERVER.md)."},
            **NEEDS_KEY,  # with --require-key, as every read route
        },
    )
    def metrics(request: Request) -> Response:
        """Counters and histograms in the Prometheus text format; open to whoever may read."""
        registry = request.app.state.metrics.registry
        if os.environ.get(MULTIPROCESS):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        registry_with_index = CollectorRegistry()
        registry_with_index.register(_Union(registry, request.app.state.index_facts))
        return Response(generate_latest(registry_with_index), media_type=CONTENT_TYPE_LATEST)

    return router


class _Union:
    """One collector of a registry's metrics and the index's facts."""

    def __init__(self, registry: CollectorRegistry, facts: IndexFacts) -> None:
        self.registry, self.facts = registry, facts

    def collect(self):
        yield from self.registry.collect()
        yield from self.facts.collect()


class Observe:
    """Pure ASGI middleware, outermost: gives each request its id, times it, counts it, writes its
    access record, and turns an exception no handler took into a JSON 500 naming the request id
    (the traceback goes to the log)."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status, sent = 500, False

        async def send_with_id(message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status, sent = message["status"], True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("%s %s failed", scope["method"], scope["path"])
            if sent:
                raise
            detail = f"The server failed on this request; its log has the details (request id {request_id})."
            await send_with_id(
                {"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": json.dumps({"detail": detail}).encode()})
        finally:
            seconds = time.perf_counter() - started
            route = _route_of(scope)
            self.metrics.request(scope["method"], route, status, seconds)
            client = scope.get("client")
            access_logger.info(
                "%s %s %d", scope["method"], scope["path"], status,
                extra={"fields": {
                    "method": scope["method"], "path": scope["path"], "route": route, "status": status,
                    "duration_ms": round(seconds * 1000, 2), "client": client[0] if client else None,
                }},
            )  # fmt: skip
            REQUEST_ID.reset(token)


def _request_id(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if CLIENT_REQUEST_ID.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


def _route_of(scope: dict[str, Any]) -> str:
    """The route's template (`/documents/{doc_id}`), so labels stay few whatever paths clients
    send; a request refused before routing (413, 429) is matched here; no route: `other`."""
    route = scope.get("route")
    if route is not None:
        return route.path
    app = scope.get("app")
    for candidate in all_routes(getattr(getattr(app, "router", None), "routes", ())):
        match, _ = candidate.matches({**scope, "type": "http"})
        if match != Match.NONE and getattr(candidate, "path", None):
            return candidate.path
    return "other"


def install_observability(app: FastAPI) -> None:
    """`/health`, `/metrics`, request ids and access records for `app` (one line in create_app)."""
    app.state.metrics = Metrics()
    app.state.index_facts = IndexFacts(app)
    app.include_router(health_router)
    app.include_router(metrics_router())
    app.add_middleware(Observe, metrics=app.state.metrics)
