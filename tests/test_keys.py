"""API keys: made and shown once, kept as hashes, checked on every request; each key case (none,
read, write, revoked, wrong scope) on reads and writes, open and with --require-key."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app as cli
from qa.config import server_data_dir
from qa.errors import InvalidInput
from qa.search.filters import Filters
from qa.server.keys import KeyStore
from tests.server_fixtures import Server, open_server


@pytest.fixture
def open_reads(tmp_path, fake_encoder) -> Iterator[Server]:
    server = open_server(tmp_path, fake_encoder)
    yield server
    server.client.__exit__(None, None, None)


@pytest.fixture
def closed_reads(tmp_path, fake_encoder) -> Iterator[Server]:
    server = open_server(tmp_path, fake_encoder, require_key=True)
    yield server
    server.client.__exit__(None, None, None)


def key_of(server: Server, case: str) -> str | None:
    return {
        "none": None,
        "read": server.read_key,
        "write": server.write_key,
        "revoked": server.revoked_key,
        "unknown": server.write_key[:-4] + "AAAA",
        "garbage": "not-a-key",
    }[case]


def ask(server: Server, key: str | None):
    return server.client.post("/ask", json={"question": "ferry"}, headers=server.auth(key))


def upload(server: Server, key: str | None):
    files = [("files", ("note.txt", io.BytesIO(b"A note about the harbour."), "text/plain"))]
    return server.client.post("/documents", files=files, headers=server.auth(key))


WRITE_CASES = {"none": 401, "read": 403, "write": 201, "revoked": 401, "unknown": 401, "garbage": 401}


@pytest.mark.parametrize(("case", "status"), list(WRITE_CASES.items()))
def test_writes_always_need_a_write_key(open_reads: Server, case: str, status: int) -> None:
    response = upload(open_reads, key_of(open_reads, case))

    assert response.status_code == status, response.text
    if status != 201:
        detail = response.json()["detail"]
        assert "\n" not in detail and detail
        assert key_of(open_reads, case) is None or key_of(open_reads, case) not in response.text
    if status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("case", ["none", "read", "write", "revoked"])
def test_deletes_need_a_write_key(open_reads: Server, case: str) -> None:
    expected = {"none": 401, "read": 403, "write": 200, "revoked": 401}[case]
    response = open_reads.client.delete("/documents/ferry", headers=open_reads.auth(key_of(open_reads, case)))
    assert response.status_code == expected


@pytest.mark.parametrize("case", list(WRITE_CASES))
def test_reads_are_open_by_default(open_reads: Server, case: str) -> None:
    assert ask(open_reads, key_of(open_reads, case)).status_code == 200
    assert open_reads.client.get("/documents", headers=open_reads.auth(key_of(open_reads, case))).status_code == 200


READ_CASES = {"none": 401, "read": 200, "write": 200, "revoked": 401, "unknown": 401, "garbage": 401}


@pytest.mark.parametrize(("case", "status"), list(READ_CASES.items()))
def test_require_key_makes_reads_need_a_read_key(closed_reads: Server, case: str, status: int) -> None:
    key = key_of(closed_reads, case)
    assert ask(closed_reads, key).status_code == status
    assert closed_reads.client.get("/documents", headers=closed_reads.auth(key)).status_code == status
    assert closed_reads.client.get("/documents/ferry", headers=closed_reads.auth(key)).status_code == status
    assert closed_reads.client.get("/health").status_code == 200  # a load balancer's check stays open


def test_the_messages_say_what_to_do(closed_reads: Server) -> None:
    assert "send Authorization: Bearer KEY" in ask(closed_reads, None).json()["detail"]
    assert "revoked" in ask(closed_reads, closed_reads.revoked_key).json()["detail"]
    assert "may only read; this needs a write key" in upload(closed_reads, closed_reads.read_key).json()["detail"]


def test_a_key_revoked_while_the_server_runs_is_refused_at_once(open_reads: Server) -> None:
    store = KeyStore.for_index(open_reads.index_dir)
    record, key = store.create("write", "temp")
    assert upload(open_reads, key).status_code == 201

    store.revoke("temp")

    assert upload(open_reads, key).status_code == 401


def test_only_a_hash_is_stored(tmp_path) -> None:
    store = KeyStore(tmp_path / "server")
    record, key = store.create("read", "team")

    raw = (tmp_path / "server" / "keys.sqlite").read_bytes()
    assert key.encode() not in raw
    assert key.split("_", 2)[2].encode() not in raw
    assert (tmp_path / "server" / "keys.sqlite").stat().st_mode & 0o077 == 0
    assert store.check(key) == record
    with sqlite3.connect(tmp_path / "server" / "keys.sqlite") as db:
        assert db.execute("SELECT count(*) FROM keys").fetchone() == (1,)


def test_keys_cli_create_prints_the_key_alone_then_list_and_revoke(tmp_path) -> None:
    runner = CliRunner()
    index = tmp_path / "docs.qa"

    created = runner.invoke(cli, ["keys", "create", "--scope", "write", "--name", "ci", "--index", str(index)])

    assert created.exit_code == 0, created.output
    key = created.stdout.strip()
    assert "\n" not in key and key.startswith("qa_")
    store = KeyStore(server_data_dir(index))
    assert store.check(key).scope == "write"
    listed = runner.invoke(cli, ["keys", "list", "--index", str(index)])
    assert "ci" in listed.stdout and "write" in listed.stdout and key not in listed.stdout
    revoked = runner.invoke(cli, ["keys", "revoke", "ci", "--index", str(index)])
    assert revoked.exit_code == 0
    assert store.check(key) is None
    again = runner.invoke(cli, ["keys", "revoke", "ci", "--index", str(index)])
    assert again.exit_code == 1 and "No active key" in again.stderr
    bad = runner.invoke(cli, ["keys", "create", "--scope", "admin", "--index", str(index)])
    assert bad.exit_code == 1 and "Unknown scope 'admin'" in bad.stderr


def test_the_openapi_schema_lists_every_status_and_the_key_scheme(open_reads: Server) -> None:
    schema = open_reads.client.get("/openapi.json").json()
    paths = schema["paths"]

    # Reads are open here: a key is optional on them, so they list no 401 or 403 (tests/test_openapi.py).
    assert set(paths["/ask"]["post"]["responses"]) >= {"200", "400", "413", "422", "429"}
    assert set(paths["/documents"]["post"]["responses"]) >= {"201", "400", "401", "403", "413", "422", "429", "503"}
    assert set(paths["/documents/{doc_id}"]["delete"]["responses"]) >= {"200", "401", "403", "404", "503"}
    assert set(paths["/feedback"]["post"]["responses"]) >= {"201", "400", "404", "413", "422"}
    assert schema["components"]["securitySchemes"]["apiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema["components"]["securitySchemes"]["apiKey"]["description"],
    }


def test_a_body_that_is_not_utf8_is_a_documented_400(open_reads: Server) -> None:
    response = open_reads.client.post("/ask", content=b"\xff\xfe{", headers={"Content-Type": "application/json"})
    assert response.status_code in {400, 422}
    assert (
        str(response.status_code) in open_reads.client.get("/openapi.json").json()["paths"]["/ask"]["post"]["responses"]
    )


def test_a_method_not_allowed_names_every_allowed_one(open_reads: Server) -> None:
    response = open_reads.client.put("/documents")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"


def test_a_key_keeps_its_filters(tmp_path) -> None:
    store = KeyStore(tmp_path / "server")
    filters = Filters(source=["public/", "shared/*.md"], type=["md"], since="2011-01-01")
    record, key = store.create("read", "widget", filters)

    assert store.check(key).filters == filters
    assert [listed.filters for listed in store.keys()] == [filters]
    assert store.create("read", "all", Filters())[0].filters is None  # no filter: the whole index
    with pytest.raises(InvalidInput, match="Only a read key can be limited"):
        store.create("write", "ci", filters)


OLD_SCHEMA = """CREATE TABLE keys (key_id TEXT PRIMARY KEY, name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write')), sha256 TEXT NOT NULL, created TEXT NOT NULL,
    revoked TEXT)"""


def test_a_keys_file_from_before_filters_is_upgraded_in_place(tmp_path) -> None:
    """An older keys.sqlite has no `filters` column: its keys still work, unscoped, and new keys
    with filters can be added to it."""
    folder = tmp_path / "server"
    folder.mkdir()
    key = "qa_0123abcd_oldsecret"
    with sqlite3.connect(folder / "keys.sqlite") as db:
        db.execute(OLD_SCHEMA)
        db.execute(
            "INSERT INTO keys VALUES ('0123abcd', 'old', 'read', ?, '2024-01-01T00:00:00+00:00', NULL)",
            (hashlib.sha256(key.encode()).hexdigest(),),
        )

    found = KeyStore(folder).check(key)

    assert found is not None and found.name == "old" and found.filters is None
    _, scoped = KeyStore(folder).create("read", "new", Filters(tag=["public"]))
    assert KeyStore(folder).check(scoped).filters == Filters(tag=["public"])
    with sqlite3.connect(folder / "keys.sqlite") as db:
        assert "filters" in [row[1] for row in db.execute("PRAGMA table_info(keys)")]
    assert [record.name for record in KeyStore(folder).keys()] == ["old", "new"]


def test_keys_cli_makes_lists_and_refuses_scoped_keys(tmp_path) -> None:
    runner = CliRunner()
    index = str(tmp_path / "docs.qa")

    created = runner.invoke(
        cli, ["keys", "create", "--name", "widget", "--in", "public/", "--in", "my docs/", "--type", "pdf", "-i", index]
    )

    assert created.exit_code == 0, created.output
    assert "limited to --in public/ --in 'my docs/' --type pdf" in created.stderr
    key = created.stdout.strip()
    assert KeyStore(server_data_dir(Path(index))).check(key).filters == Filters(
        source=["public/", "my docs/"], type=["pdf"]
    )
    runner.invoke(cli, ["keys", "create", "--name", "all", "-i", index])
    listed = {line.split()[2]: line for line in runner.invoke(cli, ["keys", "list", "-i", index]).stdout.splitlines()}
    assert listed["widget"].endswith("active  only --in public/ --in 'my docs/' --type pdf")
    assert listed["all"].endswith("active  all documents")
    as_json = [
        json.loads(line) for line in runner.invoke(cli, ["keys", "list", "--json", "-i", index]).stdout.splitlines()
    ]
    by_name = {record["name"]: record["filters"] for record in as_json}
    assert by_name == {"widget": {"source": ["public/", "my docs/"], "type": ["pdf"]}, "all": None}
    write = runner.invoke(cli, ["keys", "create", "--scope", "write", "--tag", "x", "-i", index])
    assert write.exit_code == 1 and "Only a read key can be limited" in write.stderr
    bad = runner.invoke(cli, ["keys", "create", "--since", "2011-3-1", "-i", index])
    assert bad.exit_code == 1 and "since: '2011-3-1' is not a date" in bad.stderr
    too_many = runner.invoke(cli, ["keys", "create", *[f"--doc=d{n}" for n in range(40)], "-i", index])
    assert too_many.exit_code == 1 and "At most 32 entries" in too_many.stderr
