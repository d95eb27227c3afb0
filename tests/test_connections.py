"""Connections that send too much or too slowly are cut off (api/connections.py for headers,
api/body_limit.py for bodies), against a real `qa serve` on 127.0.0.1."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.server_fixtures import connect, read_until_closed, real_server, small_index

SHORT = {"QA_HEADER_TIMEOUT": "1", "QA_BODY_TIMEOUT": "1", "QA_MIN_BODY_RATE": "1000"}
QUESTION = {"question": "When does the ferry to Gozo leave?", "top_k": 1}


@pytest.fixture
def server(tmp_path, fake_encoder):
    with real_server(small_index(tmp_path, fake_encoder), tmp_path / "server.log", env=SHORT) as (base, process):
        yield base


def test_headers_over_the_limit_are_431(server) -> None:
    """The review's 32 MB of headers got a 200; a megabyte now gets a 431 and a closed connection."""
    with connect(server) as connection:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 2**20 + b"\r\n\r\n")
        answer = read_until_closed(connection)
    assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
    assert b"over 16384 bytes of headers" in answer
    assert httpx.get(server + "/health").status_code == 200


def test_headers_that_do_not_arrive_in_time_end_the_connection(server) -> None:
    """Partial headers were still open after 90 s; an idle connection that sends nothing too."""
    with connect(server) as partial, connect(server) as idle:
        partial.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert read_until_closed(partial).startswith(b"HTTP/1.1 408")
        assert read_until_closed(idle) == b""


def test_a_body_that_stalls_or_trickles_is_408(server) -> None:
    """A body that stops arriving, or arrives at a byte every 0.2 s (under the minimum rate), is cut
    off; on the old server a trickling body kept its connection for as long as it trickled."""
    head = b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n"
    with connect(server) as stalled:
        stalled.sendall(head + b'{"question": "')
        answer = read_until_closed(stalled)
    assert answer.startswith(b"HTTP/1.1 408") and b"No byte of the request body arrived for 1 s" in answer

    with connect(server) as trickling:
        trickling.sendall(head)
        trickling.settimeout(0.2)
        answer = b""
        deadline = time.monotonic() + 30  # a bound on the test: the server cuts it off long before
        while not answer and time.monotonic() < deadline:
            try:
                trickling.sendall(b" ")
                answer = trickling.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        answer += read_until_closed(trickling)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"under the minimum of 1,000 bytes/s" in answer


def test_questions_are_answered_while_idle_and_trickling_connections_are_open(tmp_path, fake_encoder) -> None:
    """100 connections that send nothing and 20 that trickle a body: /ask still answers every time."""
    env = {"QA_HEADER_TIMEOUT": "60", "QA_BODY_TIMEOUT": "60", "QA_MIN_BODY_RATE": "1"}
    with real_server(small_index(tmp_path, fake_encoder), tmp_path / "server.log", env=env) as (base, _):
        idle = [connect(base) for _ in range(100)]
        trickling = [connect(base) for _ in range(20)]
        head = (
            b"POST /ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n"
        )
        try:
            for connection in trickling:
                connection.sendall(head + b"{")
            statuses = []
            with httpx.Client(base_url=base) as client:
                for _ in range(20):
                    for connection in trickling:
                        connection.sendall(b" ")
                    statuses.append(client.post("/ask", json=QUESTION).status_code)
        finally:
            for connection in idle + trickling:
                connection.close()
    assert statuses == [200] * 20
