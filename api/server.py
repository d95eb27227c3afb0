"""`qa serve`: open the index, then run the app under uvicorn."""

import sys

import uvicorn

from api.app import create_app, open_collection
from api.settings import Settings


def serve(settings: Settings) -> None:
    """Open the index before uvicorn starts, so a bad one stops the server with the CLI's own message."""
    collection = open_collection(settings, show_progress=True)
    base = f"http://{settings.host}:{settings.port}"
    print(
        f'Chat at {base}/ · API docs at {base}/docs · widget: <script src="{base}/widget.js" defer></script>',
        file=sys.stderr,
    )
    uvicorn.run(create_app(settings, collection), host=settings.host, port=settings.port)
