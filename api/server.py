"""`qa serve`: run the app under uvicorn over an open collection, logging JSON lines."""

import logging
import os
from typing import Any

import uvicorn

from api.app import create_app
from api.connections import BoundedHeaders
from api.logs import configure_logging
from api.observe import prepare_multiprocess_metrics
from api.settings import Settings
from qa.collection import Collection

logger = logging.getLogger(__name__)


def serve(settings: Settings, collection: Collection) -> None:
    """The index is opened before uvicorn starts, so a bad one stops the server with the CLI's own message."""
    log_config = configure_logging()
    _announce(settings)
    BoundedHeaders.configure(settings)
    uvicorn.run(create_app(settings, collection), **uvicorn_options(settings), log_config=log_config)


def serve_workers(settings: Settings, workers: int) -> None:
    """`workers` processes accepting on one socket, each running `app_from_environment`: the
    settings travel as QA_* variables, each process opens the collection once; the vectors are
    memory-mapped, so the processes share them through the page cache."""
    os.environ.update(settings.environment())
    threads = share_cores(workers)
    prepare_multiprocess_metrics()  # before the processes start: /metrics adds up all of theirs
    log_config = configure_logging()
    _announce(settings, f" · {workers} worker processes, {threads} encoder thread(s) each")
    uvicorn.run(
        "api.app:app_from_environment",
        factory=True,
        **uvicorn_options(settings),
        workers=workers,
        log_config=log_config,
    )


def share_cores(workers: int) -> int:
    """Each worker's encoder threads: its share of the cores (`OMP_NUM_THREADS`, which the workers
    inherit), unless the variable is already set. Every worker taking all the cores
    oversubscribed them: on 2 cores, 2 workers of 2 threads answered 258–261 questions/s under 64
    clients, of 1 thread 426–439, and 1 worker of 2 threads 306–337 (docs/PERFORMANCE.md)."""
    if "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, len(os.sched_getaffinity(0)) // workers))
    return int(os.environ["OMP_NUM_THREADS"])


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's own limits, from the settings (docs/SHARED_SERVER.md, "Limits and settings")."""
    return {
        "host": settings.host,
        "port": settings.port,
        "http": f"{BoundedHeaders.__module__}:{BoundedHeaders.__name__}",  # a header deadline and size limit
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": settings.keep_alive,
        "timeout_graceful_shutdown": settings.graceful_timeout,
        # uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise: only from named proxies here.
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": settings.forwarded_allow_ips or [],
        "server_header": False,
    }


def _announce(settings: Settings, extra: str = "") -> None:
    base = f"http://{settings.host}:{settings.port}"
    logger.info(
        'Chat at %s/ · API docs at %s/docs · widget: <script src="%s/widget.js" defer></script>%s',
        base,
        base,
        base,
        extra,
    )
    logger.info(
        "Answers to Host %s (--allowed-hosts); X-Forwarded-For believed from %s (--forwarded-allow-ips)",
        ", ".join(settings.trusted_hosts()),
        ", ".join(settings.forwarded_allow_ips) or "no one",
    )
