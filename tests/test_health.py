"""A server that tells the truth (issue 19): a damaged segment or manifest is logged and reported by
`/health` (503, `damaged`, the problem), questions get a JSON 503 that says what to run and the
server keeps running; memory-mapped files are checked before they are mapped; `/health` gives the
index's facts only to a request that may read; no message to a client holds a path or a pid."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from qa.errors import IndexMismatch
from qa.store.manifest import MANIFEST_FILE, read_manifest
from qa.store.postings import mapped
from tests.server_fixtures import Server, free_port, open_server, small_index, wait_for
from tests.test_store import fake_env, fake_qa

QUESTION = {"question": "When does the ferry to Gozo leave?", "top_k": 2}
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(tmp|home|root|var|srv|usr)/")


def no_server_paths(text: str, index_dir: Path) -> None:
    assert str(index_dir.parent) not in text
    assert not ABSOLUTE_PATH.search(text), text
    assert not re.search(r"\bpid\b", text), text


# Memory-mapped files, checked before they are mapped ----------------------------------------------


def test_a_truncated_npy_file_is_refused_before_it_is_mapped(tmp_path) -> None:
    path = tmp_path / "rows.npy"
    np.save(path, np.arange(1000, dtype=np.int32))
    whole = path.read_bytes()

    path.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(IndexMismatch, match=r"rows.npy is 2,\d+ bytes; its header says 4,\d+"):
        mapped(path)
    path.write_bytes(whole + b"\0" * 8)  # longer than its header says: written by something else
    with pytest.raises(IndexMismatch, match="its header says"):
        mapped(path)
    path.write_bytes(whole[:20])
    with pytest.raises(IndexMismatch, match="no readable array header"):
        mapped(path)
    path.write_bytes(whole)
    assert mapped(path).tolist() == list(range(1000))


def test_a_segment_whose_arrays_disagree_with_the_manifest_does_not_open(tmp_path, fake_encoder) -> None:
    from qa.collection import Collection

    index_dir = small_index(tmp_path, fake_encoder)
    segment = index_dir / "segments" / read_manifest(index_dir).segments[0].name
    np.save(segment / "ids.npy", np.load(segment / "ids.npy")[:1])  # a whole file, one row short

    with pytest.raises(IndexMismatch, match=r"the manifest says 2 passages; ids has 1.*Rebuild it: qa index"):
        Collection.open(index_dir, encoder=fake_encoder)


# A real `qa serve` over a damaged index ------------------------------------------------------------


@pytest.fixture
def served(tmp_path, fake_encoder) -> Iterator[tuple[str, Path, subprocess.Popen]]:
    """A real `qa serve` (fake encoder) over a small index, its log in a file."""
    index_dir = small_index(tmp_path, fake_encoder)
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as stderr:
        command = [*fake_qa(), "serve", "--index", str(index_dir), "--port", str(port)]
        server = subprocess.Popen(command, env=fake_env(), stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/health", server, log=log)
        yield base, index_dir, server
    finally:
        server.terminate()
        server.wait(timeout=30)


def log_records(index_dir: Path) -> list[dict]:
    return [
        json.loads(line) for line in (index_dir.parent / "server.log").read_text().splitlines() if line.startswith("{")
    ]


def segment_folder(index_dir: Path) -> Path:
    return index_dir / "segments" / read_manifest(index_dir).segments[0].name


def test_a_postings_file_truncated_under_a_running_server_is_a_503_not_a_crash(served) -> None:
    """Reading past the end of a truncated memory-mapped file is SIGBUS: the process died with no
    log line. Each question first checks the mapped files' sizes."""
    import httpx

    base, index_dir, server = served
    assert httpx.post(base + "/ask", json=QUESTION).status_code == 200
    rows = segment_folder(index_dir) / "postings" / "rows.npy"
    os.truncate(rows, rows.stat().st_size // 2)

    asked = [httpx.post(base + "/ask", json=QUESTION, timeout=30) for _ in range(3)]
    health = httpx.get(base + "/health")

    assert server.poll() is None  # still running
    assert [response.status_code for response in asked] == [503, 503, 503]
    detail = asked[0].json()["detail"]
    assert "is damaged" in detail and "rows.npy" in detail and "Rebuild it: qa index" in detail
    no_server_paths(detail, index_dir)
    assert health.status_code == 503
    assert health.json()["status"] == "damaged" and "rows.npy" in health.json()["problem"]
    errors = [r for r in log_records(index_dir) if r["level"] == "ERROR" and "rows.npy" in r["message"]]
    assert errors and str(index_dir) in errors[0]["message"]  # the full command is in the log


def test_an_overwritten_sqlite_file_is_a_json_503_and_health_says_damaged(served) -> None:
    """The review overwrote a segment's SQLite file: every /ask was a plain-text 500 while /health
    said "ok"."""
    import httpx

    base, index_dir, server = served
    database = segment_folder(index_dir) / "passages.sqlite"
    with database.open("r+b") as handle:  # everything after the header page
        handle.seek(4096)
        handle.write(b"\xff" * (database.stat().st_size - 4096))

    asked = httpx.post(base + "/ask", json=QUESTION, timeout=30)
    listed = httpx.get(base + "/documents", timeout=30)
    health = httpx.get(base + "/health")

    assert server.poll() is None
    assert asked.status_code == 503 and asked.headers["content-type"] == "application/json"
    assert "passages.sqlite" in asked.json()["detail"] and "--rebuild" in asked.json()["detail"]
    assert listed.status_code == 503
    assert health.status_code == 503 and health.json()["status"] == "damaged"
    assert "passages.sqlite" in health.json()["problem"]
    no_server_paths(asked.text + listed.text + health.text, index_dir)
    assert any(r["level"] == "ERROR" and "damaged" in r["message"] for r in log_records(index_dir))


def replace_manifest(index_dir: Path, text: str) -> None:
    """As a writer would: a new file renamed into place (a new generation's signature)."""
    temporary = index_dir / "manifest.tmp"
    temporary.write_text(text)
    os.replace(temporary, index_dir / MANIFEST_FILE)


def test_a_manifest_that_cannot_be_opened_is_reported_while_the_last_generation_answers(served) -> None:
    """A manifest that is not JSON, or names a missing segment, was served from the old generation
    with /health "ok" and nothing logged. Now /health is 503 `damaged` with the problem and what to
    run; questions are still answered from the last generation that opened (it is whole); a good
    manifest makes /health "ok" again."""
    import httpx

    base, index_dir, server = served
    good = (index_dir / MANIFEST_FILE).read_text()
    missing = json.loads(good)
    missing["generation"] += 1
    missing["segments"].append({**missing["segments"][0], "name": "00000099-gone"})
    broken = {"not JSON": good[: len(good) // 2], "a missing segment": json.dumps(missing)}

    for case, text in broken.items():
        replace_manifest(index_dir, text)
        health = httpx.get(base + "/health")
        asked = httpx.post(base + "/ask", json=QUESTION)

        assert health.status_code == 503, case
        assert health.json()["status"] == "damaged"
        problem = health.json()["problem"]
        assert "still answering from generation 1" in problem and "Rebuild it: qa index" in problem, problem
        no_server_paths(problem, index_dir)
        assert asked.status_code == 200 and asked.json()["passages"], case

        replace_manifest(index_dir, good)
        assert httpx.get(base + "/health").json()["status"] == "ok"

    assert server.poll() is None
    warnings = [r["message"] for r in log_records(index_dir) if r["level"] == "WARNING"]
    assert any("unreadable" in message for message in warnings)
    assert any("00000099-gone" in message for message in warnings)


# What /health and error messages tell whom --------------------------------------------------------


@pytest.fixture
def closed(tmp_path, fake_encoder) -> Iterator[Server]:
    opened = open_server(tmp_path, fake_encoder, require_key=True, write_wait=0.2)
    yield opened
    opened.client.__exit__(None, None, None)


def test_health_without_a_key_says_only_whether_the_server_is_up(closed: Server) -> None:
    anonymous = closed.client.get("/health")
    bogus = closed.client.get("/health", headers=closed.auth("qa_not-a-key"))
    keyed = closed.client.get("/health", headers=closed.auth(closed.read_key))

    assert anonymous.status_code == bogus.status_code == 200  # a load balancer's check stays open
    assert anonymous.json() == bogus.json() == {"status": "ok", "problem": None, "index": None}
    facts = keyed.json()["index"]
    assert facts["documents"] == 2 and facts["generation"] == 1
    assert facts["path"] == closed.index_dir.name  # its name, never where it is
    no_server_paths(keyed.text, closed.index_dir)


def test_health_on_a_server_with_open_reads_shows_the_facts_to_anyone(tmp_path, fake_encoder) -> None:
    server = open_server(tmp_path, fake_encoder)
    try:
        facts = server.client.get("/health").json()["index"]
    finally:
        server.client.__exit__(None, None, None)
    assert facts["documents"] == 2 and facts["path"] == server.index_dir.name


def test_error_messages_to_clients_hold_no_path_or_pid(closed: Server) -> None:
    """A busy index said "Another qa process (pid N) is writing to /abs/path"; the log keeps that,
    the client gets it without the pid and with the folder's name, and the request id to find it."""
    from qa.store.lock import WriterLock

    with WriterLock(closed.index_dir, wait=0):
        response = closed.client.delete("/documents/ferry", headers=closed.writer)

    assert response.status_code == 503
    detail = response.json()["detail"]
    no_server_paths(detail, closed.index_dir)
    assert f"writing to {closed.index_dir.name}" in detail
    assert response.headers["x-request-id"] in detail


def test_a_damaged_index_is_a_503_over_http_and_in_the_openapi_schema(closed: Server) -> None:
    database = segment_folder(closed.index_dir) / "passages.sqlite"
    with database.open("r+b") as handle:
        handle.seek(4096)
        handle.write(b"\xff" * (database.stat().st_size - 4096))

    asked = closed.client.post("/ask", json=QUESTION, headers=closed.auth(closed.read_key))
    schema = closed.client.get("/openapi.json").json()["paths"]

    assert asked.status_code == 503 and "Rebuild it: qa index" in asked.json()["detail"]
    assert "Retry-After" not in asked.headers  # waiting will not mend it
    for path, method in [("/ask", "post"), ("/documents", "get"), ("/documents/{doc_id}", "get"), ("/health", "get")]:
        assert "503" in schema[path][method]["responses"], path
    assert schema["/health"]["get"]["responses"]["503"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Health"
    )
