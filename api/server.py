"""`qa serve`: run the app under uvicorn over an open collection."""

import sys

import uvicorn

from api.app import create_app
from api.settings import Settings
from qa.collection import Collection


def serve(settings: Settings, collection: Collection) -> None:
    """The index is opened before uvicorn starts, so a bad one stops the server with the CLI's own message."""
    base = f"http://{settings.host}:{settings.port}"
    print(
        f'Chat at {base}/ · API docs at {base}/docs · widget: <script src="{base}/widget.js" defer></script>',
        file=sys.stderr,
    )
    uvicorn.run(create_app(settings, collection), host=settings.host, port=settings.port)
