"""`qa serve`: run the app under uvicorn over an open collection."""

import os
import sys

import uvicorn

from api.app import create_app
from api.settings import Settings
from qa.collection import Collection


def serve(settings: Settings, collection: Collection) -> None:
    """The index is opened before uvicorn starts, so a bad one stops the server with the CLI's own message."""
    _announce(settings)
    uvicorn.run(create_app(settings, collection), host=settings.host, port=settings.port)


def serve_workers(settings: Settings, workers: int) -> None:
    """`workers` processes accepting on one socket, each running `app_from_environment`: the
    settings travel as QA_* variables, each process opens the collection once; the vectors are
    memory-mapped, so the processes share them through the page cache."""
    os.environ.update(settings.environment())
    _announce(settings, f" · {workers} worker processes")
    uvicorn.run("api.app:app_from_environment", factory=True, host=settings.host, port=settings.port, workers=workers)


def _announce(settings: Settings, extra: str = "") -> None:
    base = f"http://{settings.host}:{settings.port}"
    print(
        f'Chat at {base}/ · API docs at {base}/docs · widget: <script src="{base}/widget.js" defer></script>{extra}',
        file=sys.stderr,
    )
