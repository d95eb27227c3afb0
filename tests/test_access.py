"""Who may send what, decided from the headers before a body is read (api/access.py), against a
real `qa serve` on 127.0.0.1: keys, rate limits, the forwarded client address, and the Host."""

from __future__ import annotations

import httpx
import pytest
from fastapi.routing import APIRoute

from api.access import KEYED, LinkAccess, ReadAccess, WriteAccess, needed_scope
from api.app import create_app
from api.routes import all_routes
from api.settings import Settings
from tests.server_fixtures import connect, make_keys, read_until_closed, real_server, small_index

THIRTY_MB = 30 * 2**20


def declare_upload(base: str, key: str | None, length: int = THIRTY_MB, sent: int = 16384) -> bytes:
    """Start a `POST /documents` that says its body is `length` bytes, send the first `sent` of
    them, and return all the server answers before it closes the connection."""
    connection = connect(base)
    head = (
        f"POST /documents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n"
        "Content-Type: multipart/form-data; boundary=qa\r\n"
        + (f"Authorization: Bearer {key}\r\n" if key else "")
        + "\r\n"
    )
    body = b'--qa\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n\r\n'
    with connection:
        connection.sendall(head.encode() + body + b"x" * (sent - len(body)))
        return read_until_closed(connection, within=20)


@pytest.fixture
def index_and_keys(tmp_path, fake_encoder):
    index_dir = small_index(tmp_path, fake_encoder)
    return index_dir, *make_keys(index_dir)


def test_an_upload_without_a_valid_write_key_is_refused_before_its_body_is_read(tmp_path, index_and_keys) -> None:
    """The issue's finding: a 30 MB body from a client with no key, a bogus one or a read key was
    read to its end before the 401. Now the answer comes while the body is still on its way, and
    the connection closes, so the rest is never waited for."""
    index_dir, read, write, revoked = index_and_keys
    with real_server(index_dir, tmp_path / "server.log") as (base, _):
        no_key = declare_upload(base, None)
        bogus = declare_upload(base, "qa_not-a-key")
        old = declare_upload(base, revoked)
        reader = declare_upload(base, read)
        too_large = declare_upload(base, write, length=200 * 2**20)  # a valid key, over the upload limit

    for answer in (no_key, bogus, old):
        assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"This needs a write API key" in no_key and b"The API key is not valid" in bogus
    assert reader.startswith(b"HTTP/1.1 403"), reader[:200]
    assert too_large.startswith(b"HTTP/1.1 413"), too_large[:200]
    for answer in (no_key, bogus, old, reader, too_large):
        assert b"connection: close" in answer.lower()
        assert b"www-authenticate: bearer" in answer.lower() or not answer.startswith(b"HTTP/1.1 401")


def test_the_upload_rate_limit_is_counted_before_the_body(tmp_path, index_and_keys) -> None:
    index_dir, _, write, _ = index_and_keys
    env = {"QA_UPLOAD_RATE_LIMIT": "1/minute"}
    with real_server(index_dir, tmp_path / "server.log", env=env) as (base, _):
        files = {"files": ("n.txt", b"A note on the ferry.", "text/plain")}
        first = httpx.post(base + "/documents", files=files, headers={"Authorization": f"Bearer {write}"})
        second = declare_upload(base, write, length=2**20)

    assert first.status_code == 201, first.text
    assert second.startswith(b"HTTP/1.1 429"), second[:200]
    assert b"retry-after:" in second.lower()


def test_a_forwarded_client_address_is_believed_only_from_named_proxies(tmp_path, index_and_keys) -> None:
    """uvicorn believes X-Forwarded-For from 127.0.0.1 by default, so a client behind a local proxy
    (or on the same machine) chose its own rate-limit bucket. Now the peer counts unless the
    operator names the proxy."""
    index_dir = index_and_keys[0]
    env = {"QA_RATE_LIMIT": "2/minute"}
    question = {"question": "ferry", "top_k": 1}

    def ask_as(base: str, client: str) -> int:
        return httpx.post(base + "/ask", json=question, headers={"X-Forwarded-For": client}).status_code

    with real_server(index_dir, tmp_path / "direct.log", env=env) as (base, _):
        direct = [ask_as(base, f"203.0.113.{n}") for n in range(3)]
    with real_server(index_dir, tmp_path / "proxied.log", "--forwarded-allow-ips", "127.0.0.1", env=env) as (base, _):
        proxied = [ask_as(base, f"203.0.113.{n}") for n in range(3)]
        proxied += [ask_as(base, "203.0.113.7") for _ in range(3)]

    assert direct == [200, 200, 429]  # one bucket: the peer's
    assert proxied == [200, 200, 200, 200, 200, 429]  # a bucket per forwarded client


def test_only_the_allowed_hosts_are_answered(tmp_path, index_and_keys) -> None:
    """A page that rebinds its DNS name to 127.0.0.1 sends its own name as the Host: refused."""
    index_dir = index_and_keys[0]

    def status(base: str, host: str) -> int:
        return httpx.get(base + "/health", headers={"Host": host}).status_code

    with real_server(index_dir, tmp_path / "default.log") as (base, _):
        default = {host: status(base, host) for host in ("127.0.0.1", "localhost:8000", "rebound.example")}
    with real_server(index_dir, tmp_path / "named.log", "--allowed-hosts", "qa.example.org,127.0.0.1") as (base, _):
        named = {host: status(base, host) for host in ("qa.example.org", "localhost", "rebound.example")}

    assert default == {"127.0.0.1": 200, "localhost:8000": 200, "rebound.example": 400}
    assert named == {"qa.example.org": 200, "localhost": 400, "rebound.example": 400}


def test_the_gate_knows_the_key_every_route_asks_for(fake_seeds_index) -> None:
    """api.access.KEYED (what the gate checks before the body) names the same scope as each route's
    own dependency (what the route checks, and the OpenAPI schema shows)."""
    app = create_app(Settings(index=fake_seeds_index))
    scopes = {ReadAccess.dependency: "read", WriteAccess.dependency: "write", LinkAccess.dependency: "read"}
    declared = {}
    for route in all_routes(app.routes):
        if isinstance(route, APIRoute):
            # A key check is a route's dependency, or a parameter's (`key: ReadKey`, for its scope).
            for dependency in route.dependant.dependencies:
                if dependency.call in scopes:
                    for method in route.methods:
                        declared[(method, route.path)] = scopes[dependency.call]
        elif route.path == "/mcp":  # the MCP endpoint: the gate alone checks its key (api/mcp_server.py)
            declared |= {(method, route.path): "read" for method in route.methods if method != "HEAD"}
    assert declared == KEYED
    assert needed_scope("POST", "/documents/", require_key=False) == "write"
    assert needed_scope("GET", "/documents/abc", require_key=False) is None
    assert needed_scope("GET", "/documents/abc", require_key=True) == "read"
    assert needed_scope("GET", "/health", require_key=True) is None
