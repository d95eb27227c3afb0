"""A real web site on 127.0.0.1 for crawl tests: a folder served over HTTP/1.1 with ETag and
Last-Modified (and 304s), plus per-path misbehaviour (a status, a redirect, a slow or reset
answer, another content type), counting the page bodies it sends."""

from __future__ import annotations

import hashlib
import mimetypes
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

Behaviour = Callable[[BaseHTTPRequestHandler], None]


class Site:
    def __init__(self, folder: Path, certificate: tuple[Path, Path] | None = None) -> None:
        """`certificate`: (cert, key) files to serve HTTPS with."""
        self.folder = folder
        self.behaviours: dict[str, Behaviour] = {}  # path → what the server does instead of serving the file
        self.bodies: Counter[str] = Counter()  # path → page bodies sent (200 with content)
        self.requests: Counter[str] = Counter()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                site.requests[path] += 1
                behaviour = site.behaviours.get(path)
                if behaviour is not None:
                    behaviour(self)
                    return
                site.serve_file(self, path)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # a reset connection is on purpose
        scheme = "http"
        if certificate is not None:
            import ssl

            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*certificate)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.base = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    @property
    def pages_sent(self) -> int:
        return sum(count for path, count in self.bodies.items() if path != "/robots.txt")

    def serve_file(self, handler: BaseHTTPRequestHandler, path: str) -> None:
        file = self.folder / path.lstrip("/")
        if file.is_dir():
            if not path.endswith("/"):
                send(handler, 301, b"", {"Location": path + "/"})
                return
            file = file / "index.html"
        if not file.is_file():
            send(handler, 404, b"not found", {"Content-Type": "text/plain"})
            return
        body = file.read_bytes()
        etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
        headers = {
            "Content-Type": mimetypes.guess_type(file.name)[0] or "application/octet-stream",
            "ETag": etag,
            "Last-Modified": formatdate(file.stat().st_mtime, usegmt=True),
        }
        if handler.headers.get("If-None-Match") == etag:
            send(handler, 304, b"", headers)
            return
        self.bodies[path] += 1
        send(handler, 200, body, headers)


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    if status != 304:
        handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if body and status != 304:
        handler.wfile.write(body)


def status(code: int) -> Behaviour:
    return lambda handler: send(handler, code, f"error {code}".encode(), {"Content-Type": "text/html"})


def redirect(location: str) -> Behaviour:
    return lambda handler: send(handler, 302, b"", {"Location": location})


def content(body: bytes, content_type: str) -> Behaviour:
    return lambda handler: send(handler, 200, body, {"Content-Type": content_type})


def slow(seconds: float) -> Behaviour:
    def behaviour(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
        send(handler, 200, b"<p>late</p>", {"Content-Type": "text/html"})

    return behaviour


def reset(handler: BaseHTTPRequestHandler) -> None:
    """Close the connection with a TCP reset, answering nothing."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True
