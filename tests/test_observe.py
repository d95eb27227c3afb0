"""What the server tells its operator (issue 19, "Observability"): `/metrics` in the Prometheus text
format, a request id on every response and log line, one JSON access record per request, and a
JSON 500 (never plain text) when a bug escapes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.logs import JsonLinesFormatter
from tests.server_fixtures import Server, open_server

ANSWERED = {"question": "When does the ferry to Gozo leave?", "top_k": 1}
ABSTAINED = {"question": "What is the capital of Peru?", "top_k": 1}


@pytest.fixture
def server(tmp_path, fake_encoder) -> Iterator[Server]:
    opened = open_server(tmp_path, fake_encoder, rate_limit="3/minute")
    yield opened
    opened.client.__exit__(None, None, None)


def samples(server: Server, headers: dict | None = None) -> dict[tuple, float]:
    """Every sample of /metrics, by (name, sorted labels)."""
    response = server.client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_metrics_count_requests_answers_uploads_commits_and_rate_limits(server: Server) -> None:
    asked = [server.client.post("/ask", json=question) for question in (ANSWERED, ANSWERED, ABSTAINED, ANSWERED)]
    server.client.get("/documents/nothing-here")
    server.client.get("/documents/nothing-like-this")
    uploaded = server.client.post("/documents", files={"files": ("new.txt", b"Fresh news.")}, headers=server.writer)
    refused = server.client.post("/documents", files={"files": ("bad.exe", b"MZ")}, headers=server.writer)
    deleted = server.client.delete("/documents/new", headers=server.writer)

    assert [r.status_code for r in asked] == [200, 200, 200, 429]
    assert (uploaded.status_code, refused.status_code, deleted.status_code) == (201, 422, 200)
    found = samples(server)
    assert found[("qa_http_requests_total", (("method", "POST"), ("route", "/ask"), ("status", "200")))] == 3
    assert found[("qa_http_requests_total", (("method", "POST"), ("route", "/ask"), ("status", "429")))] == 1
    # one label per route template, whatever the path asked
    assert (
        found[("qa_http_requests_total", (("method", "GET"), ("route", "/documents/{doc_id}"), ("status", "404")))] == 2
    )
    latency = ("qa_http_request_duration_seconds_count", (("method", "POST"), ("route", "/ask")))
    assert found[latency] == 4
    assert (
        found[("qa_http_request_duration_seconds_bucket", (("le", "+Inf"), ("method", "POST"), ("route", "/ask")))] == 4
    )
    assert found[("qa_answers_total", (("outcome", "answered"),))] == 2
    assert found[("qa_answers_total", (("outcome", "abstained"),))] == 1
    assert found[("qa_rate_limited_requests_total", (("route", "/ask"),))] == 1
    assert found[("qa_uploads_total", (("outcome", "committed"),))] == 1
    assert found[("qa_uploads_total", (("outcome", "refused"),))] == 1
    assert found[("qa_uploaded_files_total", (("result", "added"),))] == 1
    assert found[("qa_commits_total", (("operation", "upload"),))] == 1
    assert found[("qa_commits_total", (("operation", "delete"),))] == 1
    assert found[("qa_index_generation", ())] == 3  # built, then the upload, then the delete
    assert (found[("qa_index_documents", ())], found[("qa_index_segments", ())]) == (2, 1)
    assert found[("qa_index_passages", ())] == 2
    assert found[("qa_index_damaged", ())] == 0


def test_metrics_need_a_key_when_reads_do(tmp_path, fake_encoder) -> None:
    closed = open_server(tmp_path, fake_encoder, require_key=True)
    try:
        assert closed.client.get("/metrics").status_code == 401
        assert samples(closed, closed.auth(closed.read_key))[("qa_index_documents", ())] == 2
    finally:
        closed.client.__exit__(None, None, None)


def test_every_response_carries_a_request_id_and_a_safe_client_id_is_kept(server: Server) -> None:
    made = [server.client.get("/health").headers["x-request-id"] for _ in range(3)]
    kept = server.client.get("/health", headers={"X-Request-ID": "lb-7f3a.42:9"})
    too_long = server.client.get("/health", headers={"X-Request-ID": "a" * 65})
    unsafe = server.client.get("/health", headers={"X-Request-ID": 'x" injected="1'})
    refused = server.client.post("/ask", content=b"x" * 100_000, headers={"Content-Type": "application/json"})

    assert len(set(made)) == 3 and all(len(request_id) == 32 for request_id in made)
    assert kept.headers["x-request-id"] == "lb-7f3a.42:9"
    assert too_long.headers["x-request-id"] != "a" * 65 and len(too_long.headers["x-request-id"]) == 32
    assert '"' not in unsafe.headers["x-request-id"]
    assert refused.status_code == 413 and len(refused.headers["x-request-id"]) == 32  # before the route, too


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the server logs, formatted as `qa serve` writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLinesFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_each_request_leaves_one_json_access_record_with_its_id(server: Server, log_lines: io.StringIO) -> None:
    response = server.client.post("/ask", json=ANSWERED, headers={"X-Request-ID": "trace-1"})
    server.client.get("/documents/missing", headers={"X-Request-ID": "trace-2"})

    records = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    access = [record for record in records if record["logger"] == "api.access"]
    assert response.status_code == 200
    assert [(r["request_id"], r["method"], r["path"], r["route"], r["status"]) for r in access] == [
        ("trace-1", "POST", "/ask", "/ask", 200),
        ("trace-2", "GET", "/documents/missing", "/documents/{doc_id}", 404),
    ]
    assert all(r["duration_ms"] >= 0 and r["client"] == "testclient" for r in access)
    assert "Bearer" not in log_lines.getvalue()


def test_a_bug_is_a_json_500_naming_the_request_id_and_the_log_has_the_traceback(
    server: Server, log_lines: io.StringIO
) -> None:
    def broken() -> None:
        raise KeyError("a bug of ours")

    server.client.app.add_api_route("/broken", broken)
    response = server.client.get("/broken")

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    request_id = response.headers["x-request-id"]
    assert request_id in response.json()["detail"] and "log" in response.json()["detail"]
    failed = [json.loads(line) for line in log_lines.getvalue().splitlines() if "a bug of ours" in line]
    assert failed and failed[0]["request_id"] == request_id and "KeyError" in failed[0]["error"]
