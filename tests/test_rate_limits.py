"""Per-client rate limits on /ask and uploads (api.access.AccessGate, from the headers): 429 with
Retry-After; off on a loopback host unless set."""

from __future__ import annotations

import io

import pytest

from api.settings import DEFAULT_RATE_LIMIT, DEFAULT_UPLOAD_RATE_LIMIT, Settings
from tests.server_fixtures import open_server


def test_asking_too_often_is_429_with_retry_after(tmp_path, fake_encoder) -> None:
    server = open_server(tmp_path, fake_encoder, rate_limit="2/minute", upload_rate_limit="1/minute")
    try:
        answers = [server.client.post("/ask", json={"question": "ferry"}) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 429]
        limited = answers[-1]
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert "Too many requests: the limit is 2 per 1 minute" in limited.json()["detail"]
        assert server.client.get("/documents").status_code == 200  # reads of documents are not limited

        def send():
            files = [("files", ("n.txt", io.BytesIO(b"A note."), "text/plain"))]
            return server.client.post("/documents", files=files, headers=server.writer)

        assert [send().status_code, send().status_code] == [201, 429]
    finally:
        server.client.__exit__(None, None, None)


def test_limits_are_off_on_localhost_and_on_elsewhere_unless_set() -> None:
    assert Settings(host="127.0.0.1").rate_limits() == (None, None)
    assert Settings(host="0.0.0.0").rate_limits() == (DEFAULT_RATE_LIMIT, DEFAULT_UPLOAD_RATE_LIMIT)
    assert Settings(host="0.0.0.0", rate_limit="off").rate_limits() == (None, DEFAULT_UPLOAD_RATE_LIMIT)
    assert Settings(host="127.0.0.1", rate_limit="5/second").rate_limits() == ("5/second", None)


def test_a_rate_that_cannot_be_read_stops_the_server_at_start() -> None:
    from api.settings import InvalidSettings, load_settings

    with pytest.raises(InvalidSettings, match="'lots' is not a rate like '60/minute'"):
        load_settings(rate_limit="lots")
