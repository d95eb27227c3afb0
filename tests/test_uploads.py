"""Writes over HTTP: `POST /documents` and `DELETE /documents/{doc_id}` through the same storage
engine as `qa index`, all or nothing, and every hostile upload answered with a clear 4xx."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa.ingest.readers import ParsedFile, Reader, registered
from qa.store import read_manifest
from tests.hostile import SLOW_READER, docx_bomb, pdf_page_tree_bomb
from tests.server_fixtures import Server, open_server

QUESTION = {"question": "Which ferry leaves for Gozo?", "top_k": 1}


@pytest.fixture
def server(tmp_path, fake_encoder) -> Iterator[Server]:
    opened = open_server(tmp_path, fake_encoder)
    yield opened
    opened.client.__exit__(None, None, None)


def upload(server: Server, *files: tuple[str, bytes], folder: str | None = None, key: str | None = "write"):
    parts = [("files", (name, io.BytesIO(data), "application/octet-stream")) for name, data in files]
    headers = server.auth(server.write_key if key == "write" else key)
    return server.client.post("/documents", files=parts, data={"folder": folder} if folder else None, headers=headers)


def index_state(server: Server) -> tuple[int, list[str]]:
    manifest = read_manifest(server.index_dir)
    return manifest.generation, sorted(d["doc_id"] for d in server.client.get("/documents").json())


def test_an_uploaded_file_is_kept_indexed_and_asked_about_at_once(server: Server) -> None:
    before = server.client.post("/ask", json={"question": "When do the lighthouse keepers of Comino eat?"})
    assert "lighthouse" not in before.json()["passages"][0]["text"]

    response = upload(server, ("keepers.txt", b"The lighthouse keepers of Comino eat supper at dusk."), folder="island")

    assert response.status_code == 201, response.text
    result = response.json()
    assert (result["added"], result["updated"], result["skipped"]) == (1, 0, 0)
    [file] = result["files"]
    assert file["name"] == "island/keepers.txt" and file["status"] == "added" and file["reason"]
    assert (server.documents_dir / "island" / "keepers.txt").is_file()
    assert result["generation"] == read_manifest(server.index_dir).generation
    after = server.client.post("/ask", json={"question": "When do the lighthouse keepers of Comino eat?"}).json()
    best = after["passages"][0]
    assert "supper at dusk" in best["text"]
    assert best["citation"]["source"] == "island/keepers.txt"
    document = server.client.get(f"/documents/{file['doc_id']}").json()
    assert document["source"] == "island/keepers.txt"


def test_a_compressed_upload_is_read_as_the_file_inside(server: Server) -> None:
    response = upload(
        server, ("keepers.md.gz", gzip.compress(b"# Comino\n\nThe lighthouse keepers eat supper at dusk."))
    )

    assert response.status_code == 201, response.text
    assert (server.documents_dir / "keepers.md.gz").is_file()
    best = server.client.post("/ask", json={"question": "When do the lighthouse keepers eat?"}).json()["passages"][0]
    assert best["citation"]["source"] == "keepers.md.gz" and "supper at dusk" in best["text"]


def test_an_upload_reads_each_file_once(server: Server) -> None:
    """The file is read to check it before anything is saved, and indexed from that reading."""
    reads: list[str] = []

    def counting(path: Path, limits) -> ParsedFile:
        reads.append(path.name)
        return ParsedFile("The ferry to Gozo leaves every hour from Cirkewwa.", "Ferry times")

    with registered(Reader("counting", frozenset({".count"}), counting)):
        response = upload(server, ("ferry.count", b"anything"))
    assert response.status_code == 201, response.text
    assert reads == ["ferry.count"]
    best = server.client.post("/ask", json=QUESTION).json()["passages"][0]
    assert best["citation"]["title"] == "Ferry times" and "Cirkewwa" in best["text"]


def test_the_same_file_again_is_skipped_and_a_changed_one_updated(server: Server) -> None:
    first = upload(server, ("keepers.txt", b"The lighthouse keepers eat at dusk.")).json()
    again = upload(server, ("keepers.txt", b"The lighthouse keepers eat at dusk.")).json()
    changed = upload(server, ("keepers.txt", b"The lighthouse keepers eat at dawn.")).json()

    assert again["files"][0]["status"] == "skipped" and "already indexed" in again["files"][0]["reason"]
    assert changed["files"][0]["status"] == "updated"
    assert changed["files"][0]["doc_id"] == first["files"][0]["doc_id"]
    assert changed["generation"] > first["generation"]
    text = server.client.get(f"/documents/{first['files'][0]['doc_id']}").json()["text"]
    assert "dawn" in text


def test_several_files_in_one_upload_make_one_generation(server: Server) -> None:
    generation, _ = index_state(server)
    result = upload(server, ("a.md", b"# Alpha\n\nFirst note."), ("b.html", b"<p>Second note here.</p>")).json()

    assert result["added"] == 2
    assert result["generation"] == generation + 1


def test_delete_removes_the_document_and_its_uploaded_file(server: Server) -> None:
    doc_id = upload(server, ("keepers.txt", b"The lighthouse keepers eat at dusk.")).json()["files"][0]["doc_id"]

    response = server.client.delete(f"/documents/{doc_id}", headers=server.writer)

    assert response.status_code == 200, response.text
    assert response.json()["file_deleted"] is True
    assert not (server.documents_dir / "keepers.txt").exists()
    assert server.client.get(f"/documents/{doc_id}").status_code == 404
    assert server.client.delete(f"/documents/{doc_id}", headers=server.writer).status_code == 404


def test_delete_of_a_document_indexed_from_elsewhere_leaves_its_file(server: Server) -> None:
    response = server.client.delete("/documents/ferry", headers=server.writer)

    assert response.status_code == 200
    assert response.json()["file_deleted"] is False
    assert (server.index_dir.parent / "notes" / "ferry.txt").is_file()
    assert "ferry" not in index_state(server)[1]


# Hostile uploads: each a 4xx naming the problem, nothing written, the index unchanged --------------

HOSTILE = {
    "path traversal": ([("../../etc/x.txt", b"owned")], None, 422, "may not contain a path"),
    "traversal in the folder": ([("x.txt", b"owned")], "../../etc", 422, "'..'"),
    "absolute folder": ([("x.txt", b"owned")], "/etc/../..", 422, "'..'"),
    "backslashes": ([("..\\..\\x.txt", b"owned")], None, 422, "may not contain a path"),
    "hidden file": ([(".bashrc.txt", b"x")], None, 422, "start with '.'"),
    "empty file": ([("empty.txt", b"")], None, 422, "empty.txt is empty"),
    "wrong extension": ([("tool.exe", b"MZ\x90\x00")], None, 422, "tool.exe: unsupported type .exe"),
    "no extension": ([("notes", b"text")], None, 422, "unsupported type (none)"),  # README would be read
    "binary posing as text": ([("data.txt", b"\x00\x01\x02" * 100)], None, 422, "data.txt (binary file)"),
    "broken pdf": ([("broken.pdf", b"%PDF-1.4 not really")], None, 422, "broken.pdf (cannot parse"),
    "one bad file among good ones": (
        [("good.txt", b"A good note."), ("bad.exe", b"x")],
        None,
        422,
        "bad.exe: unsupported type",
    ),
    "the same name twice": ([("a.txt", b"one"), ("a.txt", b"two")], None, 422, "a.txt is sent twice"),
    "a gzip bomb": (
        [("notes.txt.gz", gzip.compress(b"word " * (5 << 20)))],  # 25 MiB inside 25 KB
        None,
        422,
        "notes.txt.gz (it unpacks to more than 20,971,520 bytes",
    ),
    "a damaged gzip": ([("notes.md.gz", b"\x1f\x8b\x08not gzip")], None, 422, "notes.md.gz (not a readable gzip file"),
    "a compressed archive": (
        [("site.tar.gz", gzip.compress(b"x"))],
        None,
        422,
        "site.tar.gz: unsupported type .tar.gz",
    ),
    "1,000 tiny files": ([(f"n{i}.txt", b"tiny") for i in range(1000)], None, 413, "1000 files in one upload"),
    "XML that is no DocBook": (
        [("pom.xml", b"<project><artifactId>ferry</artifactId></project>")],
        None,
        422,
        "pom.xml (XML data, not a DocBook document (its root element is <project>))",
    ),
    "an entity bomb in DocBook": (
        [
            (
                "bomb.xml",
                b'<!DOCTYPE article [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
                b'<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">'
                b'<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;"><!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">]>'
                b"<article><para>&h;</para></article>",
            )
        ],
        None,
        422,
        "bomb.xml (a DocBook document with no text)",
    ),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_upload_is_refused_and_changes_nothing(server: Server, case: str, tmp_path: Path) -> None:
    files, folder, status, message = HOSTILE[case]
    before = index_state(server)
    outside = everything_but_the_documents(server, tmp_path)

    response = upload(server, *files, folder=folder)

    assert response.status_code == status, response.text
    assert message in response.json()["detail"]
    assert index_state(server) == before
    assert everything_but_the_documents(server, tmp_path) == outside
    assert not (server.documents_dir / "../../etc/x.txt").resolve().exists()
    assert not [p for p in server.documents_dir.rglob("*") if p.is_file()]
    assert server.client.get("/health").status_code == 200


def everything_but_the_documents(server: Server, folder: Path) -> list[Path]:
    documents = server.documents_dir
    return sorted(p for p in folder.rglob("*") if p != documents and documents not in p.parents)


def test_a_docx_zip_bomb_is_refused_by_the_unpacked_size(server: Server, tmp_path: Path) -> None:
    bomb = docx_bomb(tmp_path / "bomb.docx", unpacked_mib=210)
    before = index_state(server)

    response = upload(server, ("report.docx", bomb.read_bytes()))

    assert response.status_code == 422
    assert "report.docx (it unpacks to" in response.json()["detail"]
    assert index_state(server) == before


def test_a_pdf_with_a_huge_page_tree_is_refused(server: Server, tmp_path: Path) -> None:
    pdf = pdf_page_tree_bomb(tmp_path / "tree.pdf")
    before = index_state(server)

    response = upload(server, ("tree.pdf", pdf.read_bytes()))

    assert response.status_code == 422
    assert "tree.pdf (" in response.json()["detail"] and "page tree" in response.json()["detail"]
    assert index_state(server) == before


@pytest.mark.parametrize(
    ("limit", "files", "message"),
    [
        ({"max_upload_file_bytes": 100}, [("big.txt", b"x " * 100)], "big.txt is over the limit of 100 bytes per file"),
        ({"max_upload_bytes": 150}, [("a.txt", b"a " * 50), ("b.txt", b"b " * 50)], "150 bytes in all"),
        ({"max_upload_files": 2}, [("a.txt", b"a"), ("b.txt", b"b"), ("c.txt", b"c")], "3 files in one upload"),
    ],
)
def test_uploads_over_a_limit_are_413(tmp_path, fake_encoder, limit, files, message) -> None:
    server = open_server(tmp_path, fake_encoder, **limit)
    try:
        response = upload(server, *files)
        assert response.status_code == 413, response.text
        assert message in response.json()["detail"]
    finally:
        server.client.__exit__(None, None, None)


def test_a_body_over_the_upload_limit_is_413_before_it_is_read(tmp_path, fake_encoder) -> None:
    server = open_server(tmp_path, fake_encoder, max_upload_bytes=1000, max_upload_files=1)
    try:
        response = upload(server, ("big.txt", b"x" * 200_000))
        assert response.status_code == 413
        assert "request body is over the limit" in response.json()["detail"]
    finally:
        server.client.__exit__(None, None, None)


def test_a_parse_timeout_refuses_the_file(tmp_path, fake_encoder) -> None:
    server = open_server(tmp_path, fake_encoder, parse_timeout=0.3)
    try:
        with registered(SLOW_READER):  # a format whose parse never ends
            response = upload(server, ("slow.qa-slow", b"anything"))
        assert response.status_code == 422
        assert "slow.qa-slow (reading it took longer than 0.3 s)" in response.json()["detail"]
    finally:
        server.client.__exit__(None, None, None)


# A real `qa serve` ------------------------------------------------------------------------------


def test_a_real_server_takes_uploads_and_deletes_and_never_logs_a_key(tmp_path, fake_encoder) -> None:
    import subprocess

    import httpx

    from qa.server.keys import KeyStore
    from tests.server_fixtures import free_port, small_index, wait_for
    from tests.test_store import PIPES, fake_env, fake_qa

    index_dir = small_index(tmp_path, fake_encoder)
    _, write = KeyStore.for_index(index_dir).create("write", "ci")
    _, read = KeyStore.for_index(index_dir).create("read", "widget")
    port = free_port()
    command = [*fake_qa(), "serve", "--index", str(index_dir), "--port", str(port), "--require-key"]
    server = subprocess.Popen(command, env=fake_env(), **PIPES)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/health", server)
        question = {"question": "When do the lighthouse keepers of Comino eat?", "top_k": 1}
        files = {"files": ("keepers.txt", b"The lighthouse keepers of Comino eat supper at dusk.", "text/plain")}
        assert httpx.post(base + "/ask", json=question).status_code == 401
        as_reader = httpx.post(base + "/documents", files=files, headers={"Authorization": f"Bearer {read}"})
        assert as_reader.status_code == 403

        added = httpx.post(base + "/documents", files=files, headers={"Authorization": f"Bearer {write}"})

        assert added.status_code == 201, added.text
        doc_id = added.json()["files"][0]["doc_id"]
        answer = httpx.post(base + "/ask", json=question, headers={"Authorization": f"Bearer {read}"}).json()
        assert answer["passages"][0]["citation"]["doc_id"] == doc_id
        gone = httpx.delete(f"{base}/documents/{doc_id}", headers={"Authorization": f"Bearer {write}"})
        assert gone.status_code == 200
        after = httpx.post(base + "/ask", json=question, headers={"Authorization": f"Bearer {read}"}).json()
        assert after["passages"][0]["citation"]["doc_id"] != doc_id
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert "POST /documents" in out + err  # the access log is on, and holds no key
    assert write not in out + err and read not in out + err


# Parsing bounded: every format in the worker, front matter bounded ------------------------------

ALIAS_BOMB = (
    b"---\na: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    b"tags: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n---\nThe ferry to Gozo leaves at nine.\n"
)


def test_front_matter_with_yaml_aliases_is_not_read(server: Server) -> None:
    """A 400-byte "billion laughs" block stood for a 3.8-million-character tag that GET /documents
    returned: aliases are refused, so the front matter is not read and the file has no tags."""
    assert len(ALIAS_BOMB) < 500
    response = upload(server, ("bomb.md", ALIAS_BOMB))
    assert response.status_code == 201, response.text
    (document,) = [d for d in server.client.get("/documents").json() if d["doc_id"] == "bomb"]
    assert len(str(document)) < 2000 and not document.get("tags")


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ([f"t{n}" for n in range(65)], "notes.md (65 tags in its front matter, over the limit of 64)"),
        (["x" * 201], "notes.md (a tag of 201 characters in its front matter, over the limit of 200)"),
    ],
)
def test_front_matter_over_the_tag_limits_refuses_the_upload(server: Server, tags, message) -> None:
    markdown = f"---\ntitle: Notes\ntags: [{', '.join(tags)}]\n---\nThe ferry leaves at nine.\n".encode()
    before = index_state(server)
    response = upload(server, ("good.txt", b"A good note about boats."), ("notes.md", markdown))
    assert response.status_code == 422, response.text
    assert message in response.json()["detail"]
    assert index_state(server) == before
    assert not [p for p in server.documents_dir.rglob("*") if p.is_file()]


def test_tags_within_the_limits_are_kept(server: Server) -> None:
    tags = [f"t{n}" for n in range(63)] + ["y" * 200]
    markdown = f"---\ntags: [{', '.join(tags)}]\n---\nThe ferry leaves at nine.\n".encode()
    response = upload(server, ("notes.md", markdown))
    assert response.status_code == 201, response.text
    (document,) = [d for d in server.client.get("/documents").json() if d["doc_id"] == "notes"]
    assert document["tags"] == tags


def test_html_is_read_under_the_parse_time_limit_and_refuses_the_whole_upload(tmp_path, fake_encoder) -> None:
    """HTML is parsed in the bounded worker, not the server: a page nested 200,000 elements deep
    (seconds to read, where the limit here is 0.3 s) is stopped, the upload refused as a whole with
    the reason and nothing saved; the good file of it is then taken alone."""
    server = open_server(tmp_path, fake_encoder, parse_timeout=0.3)
    try:
        deep = b"<html><body>" + b"<div>" * 200_000 + b"Deep." + b"</div>" * 200_000 + b"</body></html>"
        before = index_state(server)
        response = upload(server, ("good.txt", b"A good note about boats."), ("deep.html", deep))
        assert response.status_code == 422, response.text
        assert "deep.html (reading it took longer than 0.3 s)" in response.json()["detail"]
        assert index_state(server) == before
        assert not [p for p in server.documents_dir.rglob("*") if p.is_file()]
        assert upload(server, ("good.txt", b"A good note about boats.")).status_code == 201
    finally:
        server.client.__exit__(None, None, None)
