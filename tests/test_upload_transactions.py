"""An upload is one transaction over the documents folder and the index: under the index's
cross-process writer lock, every file either fully in (stored and indexed) or fully out (the folder
as it was), whatever fails and whenever the server dies; names the folder cannot hold are a 422
before anything is read; writes wait a bounded time in a pool of their own; what the server stores
is the owner's alone."""

from __future__ import annotations

import io
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from hashlib import sha256
from pathlib import Path

import pytest

from qa.store import read_manifest
from qa.store.lock import WriterLock
from tests.conftest import PROJECT_ROOT
from tests.server_fixtures import Server, open_server

LONG = 60  # seconds: a bound on waits that end when the test lets them, never a measured time


@pytest.fixture
def server(tmp_path, fake_encoder) -> Iterator[Server]:
    opened = open_server(tmp_path, fake_encoder, write_wait=0.3)
    yield opened
    opened.client.__exit__(None, None, None)


def upload(server: Server, *files: tuple[str, bytes], folder: str | None = None):
    parts = [("files", (name, io.BytesIO(data), "application/octet-stream")) for name, data in files]
    return server.client.post(
        "/documents", files=parts, data={"folder": folder} if folder else None, headers=server.writer
    )


def indexed(server: Server) -> dict[str, str]:
    """source → doc_id of every indexed document."""
    return {d["source"]: d["doc_id"] for d in server.client.get("/documents").json()}


def stored(server: Server) -> dict[str, bytes]:
    """Every file and folder in the documents folder (folders as b"/"), hidden staging included."""
    root = server.documents_dir
    return {p.relative_to(root).as_posix(): b"/" if p.is_dir() else p.read_bytes() for p in root.rglob("*")}


class IndexingFails:
    """Indexing that fails after the files are in place (a full disk, a crashed encoder)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        raise OSError(28, "No space left on device")


# Nothing lost when a write fails -------------------------------------------------------------------


def test_a_re_upload_of_a_glob_named_file_while_the_index_is_busy_loses_nothing(server: Server) -> None:
    """The review's case: `rep[1].txt` again while another process writes: a 503, and the stored
    file (and its document) are still the first version."""
    assert upload(server, ("rep[1].txt", b"The first report of the harbour master.")).status_code == 201
    generation = read_manifest(server.index_dir).generation

    with WriterLock(server.index_dir):
        busy = upload(server, ("rep[1].txt", b"The second report of the harbour master."))

    assert busy.status_code == 503, busy.text
    assert busy.headers["Retry-After"]
    assert (server.documents_dir / "rep[1].txt").read_bytes() == b"The first report of the harbour master."
    assert read_manifest(server.index_dir).generation == generation
    assert indexed(server)["rep[1].txt"] == "rep_1"
    assert [p.name for p in server.documents_dir.iterdir()] == ["rep[1].txt"]


@pytest.mark.parametrize("names", [["rep[1].txt", "a*b?.txt", "new.txt"], ["[!x].txt", "x.txt"]])
def test_a_failed_indexing_puts_back_every_file_it_replaced(server: Server, monkeypatch, names) -> None:
    """Files whose names are glob patterns are restored by name, never found by a pattern."""
    for name in names[:-1]:
        assert upload(server, (name, f"First version of {name}.".encode())).status_code == 201
    before, documents = stored(server), indexed(server)
    failing = IndexingFails()
    monkeypatch.setattr("qa.ingest.indexing.index_paths", failing)

    failed = upload(server, *[(name, f"Second version of {name}.".encode()) for name in names])
    assert failed.status_code == 500 and "request id" in failed.json()["detail"]  # the log has "No space left"

    assert failing.calls == 1  # the files were in place when it failed
    assert stored(server) == before
    assert indexed(server) == documents


def test_a_failed_upload_removes_the_folders_it_created(server: Server, monkeypatch) -> None:
    assert upload(server, ("kept.txt", b"A note kept in the archive."), folder="archive").status_code == 201
    before = stored(server)
    monkeypatch.setattr("qa.ingest.indexing.index_paths", IndexingFails())

    assert (
        upload(server, ("minutes.txt", b"Minutes of the March meeting."), folder="archive/2024/march").status_code
        == 500
    )
    assert upload(server, ("minutes.txt", b"Minutes of the March meeting."), folder="reports/2024").status_code == 500

    assert stored(server) == before


def test_a_name_of_255_bytes_can_be_uploaded_again(server: Server) -> None:
    """The longest name the folder can hold: its backup must not need a longer one."""
    name = "é" * 122 + "abcdefg.txt"
    assert len(name.encode()) == 255
    first = upload(server, (name, b"The harbour opens at six."))
    assert first.status_code == 201, first.text

    again = upload(server, (name, b"The harbour opens at seven."))

    assert again.status_code == 201, again.text
    assert again.json()["files"][0]["status"] == "updated"
    assert (server.documents_dir / name).read_bytes() == b"The harbour opens at seven."


# Names and folders the documents folder cannot hold: 422 before anything is read ------------------


def test_a_folder_where_a_file_is_is_a_422(server: Server) -> None:
    assert upload(server, ("notes.txt", b"Some notes on the ferry.")).status_code == 201
    assert upload(server, ("x.txt", b"A note in a folder named like a file."), folder="x.txt").status_code == 201
    before, documents = stored(server), indexed(server)

    for folder in ["notes.txt", "notes.txt/deeper"]:
        response = upload(server, ("a.txt", b"Anything."), folder=folder)
        assert response.status_code == 422, response.text
        assert "'notes.txt' is a file in the documents folder" in response.json()["detail"]
    as_file = upload(server, ("x.txt", b"A file named like a folder."))
    assert as_file.status_code == 422 and "something other than a file" in as_file.json()["detail"]

    assert stored(server) == before and indexed(server) == documents


def test_a_folder_path_longer_than_the_os_allows_is_a_422(server: Server) -> None:
    upload(server, ("first.txt", b"The first note."))
    before = stored(server)
    folder = "/".join(["d" * 200] * 25)  # each part is short enough; the whole path is not

    response = upload(server, ("a.txt", b"Anything."), folder=folder)

    assert response.status_code == 422, response.text
    assert "choose a shorter folder or name" in response.json()["detail"]
    assert stored(server) == before


def test_a_symlink_in_the_documents_folder_leads_nowhere_outside(server: Server, tmp_path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    upload(server, ("first.txt", b"The first note."))
    (server.documents_dir / "out").symlink_to(outside)

    for folder in ["out", "out/deeper"]:
        response = upload(server, ("a.txt", b"Anything."), folder=folder)
        assert response.status_code == 422, response.text
        assert "outside the documents folder" in response.json()["detail"]
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("name", ["_...txt", "_..txt", "_.txt"])
def test_no_document_gets_the_id_dot_or_dot_dot(server: Server, name: str) -> None:
    response = upload(server, (name, b"A note whose name is mostly dots."))

    assert response.status_code == 201, response.text
    doc_id = response.json()["files"][0]["doc_id"]
    assert doc_id.strip(".")
    assert server.client.get(f"/documents/{doc_id}").status_code == 200
    assert server.client.delete(f"/documents/{doc_id}", headers=server.writer).status_code == 200


# The writer lock across processes ----------------------------------------------------------------

PROBE = """
import sys
from pathlib import Path
from qa.errors import IndexBusy
from qa.store.lock import WriterLock
index_dir, stored = Path(sys.argv[1]), Path(sys.argv[2])
try:
    WriterLock(index_dir, wait=0).acquire()
    print("free", stored.exists())
except IndexBusy:
    print("busy", stored.exists())
"""


def test_another_process_cannot_write_while_an_upload_has_files_in_place(server: Server, monkeypatch) -> None:
    """Between moving its files into place and committing, the upload holds the index's writer
    lock, so `qa index`, `qa remove` or another `qa serve --workers` process waits."""
    from qa.ingest import indexing

    real, seen = indexing.index_paths, []

    def probe_then_index(*args, **kwargs):
        target = server.documents_dir / "keepers.txt"
        probe = [sys.executable, "-c", PROBE, str(server.index_dir), str(target)]
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
        seen.append(subprocess.run(probe, env=env, capture_output=True, text=True, timeout=LONG).stdout.strip())
        return real(*args, **kwargs)

    monkeypatch.setattr("qa.ingest.indexing.index_paths", probe_then_index)

    response = upload(server, ("keepers.txt", b"The lighthouse keepers of Comino eat supper at dusk."))

    assert response.status_code == 201, response.text
    assert seen == ["busy True"]


def test_a_write_lock_handed_to_the_write_is_taken_once(tmp_path) -> None:
    lock = WriterLock(tmp_path)
    with lock:
        lock.acquire()  # the write inside the transaction
        lock.release()
        assert lock.held
        with pytest.raises(Exception, match="waited 0 s"):
            WriterLock(tmp_path, wait=0).acquire()  # still held for the transaction
    with WriterLock(tmp_path, wait=0):
        pass


# Queued writes: bounded, and in a pool of their own -----------------------------------------------


class BlockedIndexing:
    """Indexing that waits until the test lets it go on."""

    def __init__(self, real) -> None:
        self.real, self.entered, self.go = real, threading.Semaphore(0), threading.Event()

    def __call__(self, *args, **kwargs):
        self.entered.release()
        assert self.go.wait(LONG)
        return self.real(*args, **kwargs)


@pytest.fixture
def patient_server(tmp_path, fake_encoder) -> Iterator[Server]:
    opened = open_server(tmp_path, fake_encoder, write_wait=LONG)
    yield opened
    opened.client.__exit__(None, None, None)


def test_waiting_uploads_leave_the_shared_threads_to_reads(patient_server: Server, monkeypatch) -> None:
    """Uploads queued behind a long one hold no thread of the pool `/health`, `/documents` and
    the key check share (three threads here, so five waiting uploads would take them all)."""
    import anyio.to_thread

    from qa.ingest import indexing

    server = patient_server

    def shrink() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 3

    server.client.portal.call(shrink)
    blocked = BlockedIndexing(indexing.index_paths)
    monkeypatch.setattr("qa.ingest.indexing.index_paths", blocked)
    with ThreadPoolExecutor(6) as pool:
        uploads = [pool.submit(upload, server, (f"n{i}.txt", f"Note {i} on the ferry.".encode())) for i in range(5)]
        assert blocked.entered.acquire(timeout=LONG)
        reads = pool.submit(lambda: [server.client.get(p).status_code for p in ("/health", "/documents")])
        try:
            answered = reads.result(timeout=LONG)
        finally:
            blocked.go.set()
        assert answered == [200, 200]
        assert [u.result(timeout=LONG).status_code for u in uploads] == [201] * 5


def test_an_upload_waits_at_most_the_write_wait_then_503(server: Server, monkeypatch) -> None:
    """The server's write_wait (0.3 s here) bounds the wait for a place and for the lock."""
    from qa.ingest import indexing

    blocked = BlockedIndexing(indexing.index_paths)
    monkeypatch.setattr("qa.ingest.indexing.index_paths", blocked)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(upload, server, ("first.txt", b"The first note of the day."))
        assert blocked.entered.acquire(timeout=LONG)
        try:
            later = [pool.submit(upload, server, (f"n{i}.txt", b"A later note.")) for i in range(3)]
            refused = [u.result(timeout=LONG) for u in later]
        finally:
            blocked.go.set()
        assert first.result(timeout=LONG).status_code == 201
    assert [r.status_code for r in refused] == [503] * 3
    assert all(r.headers["Retry-After"] for r in refused)
    details = " ".join(r.json()["detail"] for r in refused)
    assert "waited 0.3 s" in details
    assert sorted(p.name for p in server.documents_dir.iterdir()) == ["first.txt"]


# Owner-only files --------------------------------------------------------------------------------


def test_what_the_server_stores_is_the_owners_alone(tmp_path, fake_encoder) -> None:
    old = os.umask(0o022)
    try:
        server = open_server(tmp_path, fake_encoder)
        try:
            response = upload(server, ("keepers.txt", b"The lighthouse keepers eat at dusk."), folder="a/b")
            assert response.status_code == 201, response.text
            vote = {"question": "Who eats at dusk?", "doc_id": "ferry", "start": 0, "end": 9, "vote": "up"}
            assert server.client.post("/feedback", json=vote).status_code == 201
        finally:
            server.client.__exit__(None, None, None)
    finally:
        os.umask(old)
    server_dir = server.index_dir.parent / f"{server.index_dir.name}-server"
    folders = [
        server.index_dir,
        server_dir,
        server.documents_dir,
        server.documents_dir / "a",
        server.documents_dir / "a/b",
    ]
    files = [server_dir / "keys.sqlite", server_dir / "feedback.sqlite", server.documents_dir / "a/b/keepers.txt"]
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in folders} == {p.name: "0o700" for p in folders}
    assert {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files} == {p.name: "0o600" for p in files}


# A server killed during uploads ------------------------------------------------------------------


# Kill points of an upload (tests.test_store.KILL_AT): its plan (`write`, nothing moved yet), a
# segment (`write_segment`, the files in place, nothing committed), the manifest (`write_manifest`:
# its second fsync comes after the rename, so the upload is committed but the server never answered).


def digest(data: bytes) -> str:
    return sha256(data).hexdigest()


def test_a_server_killed_during_20_uploads_leaves_every_document_fully_in_or_out(tmp_path, fake_encoder):
    """Two clients send 20 uploads (new files, new folders, new versions of stored files) to a real
    `qa serve`, which is killed (SIGKILL) at three points of an upload in turn; what is left is
    settled as the next server start would, then checked: the documents folder and the index agree
    file by file, every file stored before is still there (as it was, or as a finished upload left
    it), and every upload that got its 201 is in. The last kill is settled by `qa serve` starting."""
    import httpx

    from qa.collection import Collection
    from qa.config import uploads_dir
    from qa.server.keys import KeyStore
    from qa.server.uploads import IncomingFile, add_documents, recover_uploads
    from qa.store import Snapshot
    from tests.server_fixtures import free_port, small_index, wait_for
    from tests.test_store import KILL_AT, PIPES

    index_dir = small_index(tmp_path, fake_encoder)
    documents_dir = uploads_dir(index_dir)
    earlier = {f"old{i}.txt": f"Stored note {i}: the ferry left at {i} o'clock.".encode() for i in range(6)}
    incoming = [IncomingFile(name, io.BytesIO(data)) for name, data in earlier.items()]
    add_documents(Collection.open(index_dir, encoder=fake_encoder), incoming, documents_dir)
    _, key = KeyStore.for_index(index_dir).create("write", "ci")
    sends = {f"old{i}.txt": (None, f"New version {i}: the ferry left late.".encode()) for i in range(6)}
    for i in range(14):
        sends[f"batch/{i}/new{i}.txt" if i % 2 else f"new{i}.txt"] = (f"batch/{i}" if i % 2 else None, b"Boats %d." % i)
    accepted: dict[str, bytes] = {}

    def serve(kill_in: str = "", kill_at: int = 0) -> tuple[subprocess.Popen, str]:
        port = free_port()
        command = [sys.executable, "-c", KILL_AT, "serve", "--index", str(index_dir), "--port", str(port)]
        env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "KILL_IN": kill_in, "KILL_AT_FSYNC": str(kill_at)}
        process = subprocess.Popen(command, env=env, **PIPES)
        wait_for(f"http://127.0.0.1:{port}/health", process)
        return process, f"http://127.0.0.1:{port}"

    def send(base: str, paths: list[str]) -> None:
        for path in paths:
            folder, data = sends[path]
            for _attempt in range(
                20
            ):  # a busy index (the other client's upload) is a 503: try again, as a client would
                try:
                    response = httpx.post(
                        base + "/documents",
                        files={"files": (Path(path).name, data, "text/plain")},
                        data={"folder": folder} if folder else None,
                        headers={"Authorization": f"Bearer {key}"},
                        timeout=LONG,
                    )
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code != 503:
                    break
                time.sleep(0.5)
            assert response.status_code == 201, response.text
            accepted[path] = data

    def send_the_rest(base: str) -> None:
        pending = [path for path in sends if path not in accepted]
        with ThreadPoolExecutor(2) as clients:
            for done in [clients.submit(send, base, pending[start::2]) for start in (0, 1)]:
                done.result(timeout=LONG * 2)

    def check() -> None:
        prefix = f"{documents_dir}/"
        in_index = {
            f"{d.root}/{d.source}".removeprefix(prefix): d.sha256
            for d in Snapshot.open(index_dir, load=False).documents()
            if f"{d.root}/{d.source}".startswith(prefix)
        }
        files = [p for p in documents_dir.rglob("*") if p.is_file()]
        on_disk = {p.relative_to(documents_dir).as_posix(): digest(p.read_bytes()) for p in files}
        assert on_disk == in_index  # fully in or fully out, file by file
        for name, data in earlier.items():  # as it was, or as an upload of its new version left it
            assert on_disk[name] in (digest(data), digest(sends[name][1]))
        for path, data in accepted.items():
            assert on_disk[path] == digest(data)
        assert not [p.name for p in documents_dir.iterdir() if p.name.startswith(".")], "staging left behind"
        assert not [p for p in documents_dir.rglob("*") if p.is_dir() and not any(p.iterdir())], "empty folders"

    for kill_in, kill_at in [("write", 2), ("write_segment", 12), ("write_manifest", 4)]:
        before = len(accepted)
        process, base = serve(kill_in, kill_at)
        try:
            send_the_rest(base)
            process.wait(LONG)
        finally:
            process.kill()
            process.communicate(timeout=LONG)
        assert process.returncode == -signal.SIGKILL, (kill_in, kill_at)
        # Killed before the last upload was done (with two clients, the first kill may come before any 201).
        assert before <= len(accepted) < len(sends), (kill_in, kill_at)
        if kill_in != "write_manifest":
            recover_uploads(Collection.open(index_dir, encoder=fake_encoder), documents_dir)  # as `qa serve` would
            check()

    process, base = serve()  # settles the last kill as it starts
    try:
        check()
        send_the_rest(base)
    finally:
        process.terminate()
        process.communicate(timeout=LONG)
    assert sorted(accepted) == sorted(sends)
    check()
