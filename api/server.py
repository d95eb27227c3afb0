"""`qa serve`: run the app under uvicorn over an open collection, logging JSON lines."""

import logging
import os

import uvicorn

from api.app import create_app
from api.logs import configure_logging
from api.observe import prepare_multiprocess_metrics
from api.settings import Settings
from qa.collection import Collection

logger = logging.getLogger(__name__)


def serve(settings: Settings, collection: Collection) -> None:
    """The index is opened before uvicorn starts, so a bad one stops the server with the CLI's own message."""
    log_config = configure_logging()
    _announce(settings)
    uvicorn.run(create_app(settings, collection), host=settings.host, port=settings.port, log_config=log_config)


def serve_workers(settings: Settings, workers: int) -> None:
    """`workers` processes accepting on one socket, each running `app_from_environment`: the
    settings travel as QA_* variables, each process opens the collection once; the vectors are
    memory-mapped, so the processes share them through the page cache."""
    os.environ.update(settings.environment())
    prepare_multiprocess_metrics()  # before the processes start: /metrics adds up all of theirs
    log_config = configure_logging()
    _announce(settings, f" · {workers} worker processes")
    uvicorn.run(
        "api.app:app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_config=log_config,
    )


def _announce(settings: Settings, extra: str = "") -> None:
    base = f"http://{settings.host}:{settings.port}"
    logger.info(
        'Chat at %s/ · API docs at %s/docs · widget: <script src="%s/widget.js" defer></script>%s',
        base,
        base,
        base,
        extra,
    )
