"""A shared server over a small index of its own (each test may write to it), with the fake
encoder, and keys of each kind."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from qa.ingest.indexing import index_paths
from qa.server.keys import KeyStore

LOCAL = "http://localhost"  # a Host the app answers by default (TestClient's own, testserver, is refused)
NOTES = {
    "ferry.txt": "The ferry to Gozo leaves Cirkewwa every forty-five minutes in summer.",
    "boats.txt": "Fishermen in Marsaxlokk paint their luzzu boats blue, yellow and red.",
}


@dataclass
class Server:
    client: TestClient
    index_dir: Path
    documents_dir: Path
    read_key: str
    write_key: str
    revoked_key: str

    def auth(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    @property
    def writer(self) -> dict[str, str]:
        return self.auth(self.write_key)


def small_index(folder: Path, encoder) -> Path:
    source = folder / "notes"
    source.mkdir()
    for name, text in NOTES.items():
        (source / name).write_text(text)
    index_dir = folder / "notes.qa"
    index_paths([source], index_dir, encoder=encoder)
    return index_dir


def make_keys(index_dir: Path) -> tuple[str, str, str]:
    store = KeyStore.for_index(index_dir)
    _, read = store.create("read", "reader")
    _, write = store.create("write", "writer")
    revoked_record, revoked = store.create("write", "old")
    store.revoke(revoked_record.key_id)
    return read, write, revoked


def start(folder: Path, encoder, **settings) -> tuple[TestClient, Path]:
    index_dir = small_index(folder, encoder)
    from qa.collection import Collection

    collection = Collection.open(index_dir, encoder=encoder)
    app = create_app(Settings(index=index_dir, **settings), collection)
    return TestClient(app, base_url=LOCAL), index_dir


def open_server(folder: Path, encoder, **settings) -> Server:
    client, index_dir = start(folder, encoder, **settings)
    read, write, revoked = make_keys(index_dir)
    client.__enter__()
    return Server(client, index_dir, index_dir.parent / f"{index_dir.name}-documents", read, write, revoked)


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now, for a server a test starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 60, log: Path | None = None) -> None:
    """Until `url` answers 200; fails with the server's output (its `log`, else its stderr once it
    has exited) if the server exits first or `timeout` seconds pass."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text() if log else process.stderr.read() if process.stderr else ""
            output = output.decode(errors="replace") if isinstance(output, bytes) else output
            raise AssertionError(f"the server exited with {process.returncode}:\n{output}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout:.0f} s" + (f":\n{log.read_text()}" if log else ""))


@contextmanager
def real_server(
    index_dir: Path, log: Path, *flags: str, env: dict[str, str] | None = None, script: str | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """A real `qa serve` (with the fake encoder, or `script` in place of `qa`) on a free port of
    127.0.0.1, its output in `log`: (base URL, process); stopped (then killed) afterwards."""
    from tests.test_store import KILL_AT, fake_env

    port = free_port()
    command = [sys.executable, "-c", script or KILL_AT, "serve", "--index", str(index_dir), "--port", str(port), *flags]
    with log.open("w") as output:
        process = subprocess.Popen(command, env={**fake_env(), **(env or {})}, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/health", process, log=log)
        yield base, process
    finally:
        stop(process)


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """Terminate a server a test started (by its own handle), killing it if it will not stop."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def connect(base: str) -> socket.socket:
    """A raw TCP connection to a server started by `real_server`, for what an HTTP client will not send."""
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def read_until_closed(connection: socket.socket, within: float = 30) -> bytes:
    """Everything the server sends until it closes the connection; fails if it is still open after
    `within` seconds (a bound on the test, not a measurement)."""
    connection.settimeout(within)
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except TimeoutError:
        raise AssertionError(f"the server kept the connection open for {within:g} s; sent {received[:200]!r}") from None
    except ConnectionResetError:
        pass
    return received
