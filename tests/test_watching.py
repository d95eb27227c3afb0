"""Following folders: `qa watch` indexes changes as they happen, one commit per burst, moves
renamed files without embedding them again, and falls back to rescanning when it cannot watch."""

from __future__ import annotations

import queue
import signal
import statistics
import subprocess
import threading
import time
from pathlib import Path

import pytest

from qa.collection import Collection
from qa.ingest.indexing import index_paths
from qa.ingest.watching import Follower
from qa.store import Snapshot
from tests.fakes import FakeEncoder
from tests.test_store import fake_env, fake_qa

WORDS = "ferry harbour wind dawn dusk island boat lighthouse tide rope sail anchor gull pier".split()


def note(number: int, extra: str = "") -> str:
    """A short text of its own per number, so every file has a content hash of its own."""
    words = " ".join(WORDS[(number * 7 + i) % len(WORDS)] for i in range(12))
    return f"Note {number} tells of the {words}. It was written on day {number}.{extra}\n"


def contents(index_dir: Path) -> dict[str, list[str]]:
    """Each document's source path and its passages' texts: what two indexes of one folder share."""
    snapshot = Snapshot.open(index_dir, {})
    texts: dict[str, list[str]] = {}
    for document in snapshot.documents():
        texts[document.source] = []
    by_doc = {d.doc_id: d.source for d in snapshot.documents()}
    for _, doc_id, text in snapshot.passage_texts():
        texts[by_doc[doc_id]].append(text)
    return {source: sorted(passages) for source, passages in texts.items()}


class Following:
    """A Follower on its own thread, with its commits in a queue."""

    def __init__(self, folder: Path, index_dir: Path, encoder, **settings) -> None:
        self.commits: queue.Queue = queue.Queue()
        self.follower = Follower([folder], index_dir, encoder, on_commit=self.commits.put, **settings)
        self.thread = threading.Thread(target=self.follower.run, daemon=True)

    def __enter__(self) -> Following:
        self.thread.start()
        time.sleep(0.5)  # the watcher is set up
        return self

    def __exit__(self, *exc_info) -> None:
        self.follower.stop.set()
        self.thread.join(timeout=10)

    def next(self, timeout: float = 15):
        return self.commits.get(timeout=timeout)


def test_re_indexing_a_renamed_file_moves_its_document_without_embedding_it(tmp_path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(note(1) * 200)  # many passages
    (folder / "b.txt").write_text(note(2))
    index_dir = tmp_path / "docs.qa"
    index_paths([folder], index_dir, encoder=FakeEncoder())
    before = contents(index_dir)
    (folder / "a.txt").rename(folder / "renamed.txt")
    encoder = FakeEncoder()
    report = index_paths([folder], index_dir, encoder=encoder)
    assert (report.moved, report.added, report.removed, report.unchanged) == (1, 0, 0, 1)
    assert encoder.encoded == 0
    after = contents(index_dir)
    assert after["renamed.txt"] == before["a.txt"] and "a.txt" not in after
    answer = Collection.open(index_dir, encoder=FakeEncoder()).ask("Note 1 ferry harbour", top_k=1)
    assert answer.passages[0].citation.source == "renamed.txt"


def test_a_watched_rename_of_a_1_mb_document_is_moved_with_no_encoder_call(tmp_path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    big = folder / "big.txt"
    text = ""
    while len(text) < 1_000_000:
        text += note(len(text) % 97)
    big.write_text(text)
    index_dir = tmp_path / "docs.qa"
    index_paths([folder], index_dir, encoder=FakeEncoder())
    encoder = FakeEncoder()
    with Following(folder, index_dir, encoder) as following:
        (folder / "sub").mkdir()
        big.rename(folder / "sub" / "moved.txt")
        commit = following.next()
        while commit.report.moved == 0:
            commit = following.next()
    assert commit.report.moved == 1 and commit.report.removed == 0 and commit.report.added == 0
    assert encoder.encoded == 0
    assert list(contents(index_dir)) == ["sub/moved.txt"]


def test_watched_changes_are_committed_and_folders_that_come_and_go_are_followed(tmp_path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "keep.txt").write_text(note(0))
    index_dir = tmp_path / "docs.qa"
    index_paths([folder], index_dir, encoder=FakeEncoder())
    with Following(folder, index_dir, FakeEncoder()) as following:
        (folder / "new.md").write_text(note(1))
        assert following.next().report.added == 1
        (folder / "new.md").write_text(note(1, " Changed."))
        assert following.next().report.updated == 1
        (folder / "part").mkdir()
        for number in range(3):
            (folder / "part" / f"{number}.txt").write_text(note(10 + number))
        added = 0
        while added < 3:
            added += following.next().report.added
        for path in sorted((folder / "part").iterdir()):
            path.unlink()
        (folder / "part").rmdir()
        removed = 0
        while removed < 3:
            removed += following.next().report.removed
        (folder / ".hidden.txt").write_text(note(5))  # left out, as qa index leaves it out
        (folder / "new.md").unlink()
        assert following.next().report.removed == 1
    assert sorted(contents(index_dir)) == ["keep.txt"]


def test_when_the_watcher_cannot_follow_the_folders_are_rescanned(tmp_path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "keep.txt").write_text(note(0))
    index_dir = tmp_path / "docs.qa"
    index_paths([folder], index_dir, encoder=FakeEncoder())
    problems: list[str] = []

    def no_watches(folders, stop, quiet):
        raise OSError(28, "OS file watch limit reached")
        yield set()

    follower = Follower([folder], index_dir, FakeEncoder(), watcher=no_watches, rescan=0.2, on_problem=problems.append)
    commits: queue.Queue = queue.Queue()
    follower.on_commit = commits.put
    thread = threading.Thread(target=follower.run, daemon=True)
    thread.start()
    try:
        (folder / "later.txt").write_text(note(3))
        commit = commits.get(timeout=15)
        assert commit.rescan and commit.report.added == 1
        assert "watch limit" in problems[0] and "rescanning every 0.2 s" in problems[0]
    finally:
        follower.stop.set()
        thread.join(timeout=10)


class WatchProcess:
    """A real `qa watch` (fake encoder): its stdout lines in a queue, stopped with Ctrl-C (SIGINT)."""

    def __init__(self, folder: Path, index_dir: Path, *flags: str) -> None:
        env = {**fake_env(), "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
        command = [*fake_qa(), "watch", str(folder), "--index", str(index_dir), *flags]
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put((time.monotonic(), line.rstrip("\n")))

    def line(self, timeout: float = 30) -> tuple[float, str]:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            self.process.kill()
            raise AssertionError(f"no output within {timeout} s; stderr:\n{self.process.stderr.read()}") from None

    def until(self, text: str) -> tuple[float, str]:
        while True:
            at, line = self.line()
            if text in line:
                return at, line

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        return self.process.stderr.read()


def test_qa_watch_commits_each_write_and_delete_and_reports_the_delay(tmp_path) -> None:
    """50 changes, one at a time: 25 new files and 25 deletions, each awaited as its commit line.
    The delays (write → commit line) are printed, not asserted (`pytest -s` shows them)."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "first.txt").write_text(note(0))
    index_dir = tmp_path / "docs.qa"
    watch = WatchProcess(folder, index_dir)
    try:
        watch.until("watching")
        delays = {"write": [], "delete": []}
        for number in range(1, 26):
            path = folder / f"n{number}.txt"
            started = time.monotonic()
            path.write_text(note(number))
            at, line = watch.until("generation")
            assert "added 1," in line, line
            delays["write"].append(at - started)
            started = time.monotonic()
            path.unlink()
            at, line = watch.until("generation")
            assert "removed 1" in line, line
            delays["delete"].append(at - started)
        errors = watch.stop()
    finally:
        if watch.process.poll() is None:
            watch.process.kill()
    assert watch.process.returncode == 0, errors
    everything = sorted(delays["write"] + delays["delete"])
    p99 = everything[min(len(everything) - 1, round(0.99 * (len(everything) - 1)))]
    median = statistics.median(everything)
    print(
        f"\nqa watch, write or delete → commit over {len(everything)} changes: p50 {median:.2f} s, "
        f"p99 {p99:.2f} s (writes p50 {statistics.median(delays['write']):.2f} s, "
        f"deletes p50 {statistics.median(delays['delete']):.2f} s)"
    )
    assert sorted(contents(index_dir)) == ["first.txt"]


def test_a_burst_of_500_changed_files_is_at_most_3_commits_and_misses_nothing(tmp_path) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    for number in range(300):
        (folder / f"old{number:03d}.md").write_text(note(number))
    index_dir = tmp_path / "repo.qa"
    watch = WatchProcess(folder, index_dir)
    try:
        watch.until("watching")
        # As a `git checkout` of another branch: 200 files changed, 100 deleted, 200 new in folders.
        for number in range(200):
            (folder / f"old{number:03d}.md").write_text(note(number, " On the other branch."))
        for number in range(200, 300):
            (folder / f"old{number:03d}.md").unlink()
        for number in range(200):
            sub = folder / f"new{number // 50}"
            sub.mkdir(exist_ok=True)
            (sub / f"n{number}.md").write_text(note(1000 + number))
        commits, counted = [], 0
        while counted < 500:
            _, line = watch.until("generation")
            commits.append(line)
            counted += sum(
                int(line.split(f"{kind} ")[1].split(",")[0].split(" ")[0]) for kind in ("added", "updated", "removed")
            )
        time.sleep(1.5)  # nothing more comes
        assert watch.lines.empty(), [line for _, line in list(watch.lines.queue)]
        errors = watch.stop()
    finally:
        if watch.process.poll() is None:
            watch.process.kill()
    assert watch.process.returncode == 0, errors
    print(f"\n500-file burst: {len(commits)} commit(s): " + " | ".join(commits))
    assert len(commits) <= 3, commits
    fresh = tmp_path / "fresh.qa"
    index_paths([folder], fresh, encoder=FakeEncoder())
    assert contents(index_dir) == contents(fresh)


@pytest.mark.parametrize("flags", [("--poll", "--rescan", "1")])
def test_qa_watch_poll_rescans_and_ctrl_c_stops_it(tmp_path, flags) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(note(0))
    watch = WatchProcess(folder, tmp_path / "docs.qa", *flags)
    try:
        watch.until("rescanning every 1 s")
        (folder / "b.txt").write_text(note(1))
        _, line = watch.until("generation")
        assert "added 1," in line and "found by a rescan" in line
        errors = watch.stop()
    finally:
        if watch.process.poll() is None:
            watch.process.kill()
    assert watch.process.returncode == 0, errors


def test_qa_watch_refuses_what_is_not_a_folder(tmp_path) -> None:
    done = subprocess.run(
        [*fake_qa(), "watch", str(tmp_path / "nowhere"), "--index", str(tmp_path / "x.qa")],
        env=fake_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "Not a folder" in done.stderr and "Traceback" not in done.stderr


def test_qa_serve_watch_follows_a_folder_while_uploads_arrive_and_neither_loses_the_other(tmp_path, fake_encoder):
    """The server is the one writer: its watcher and POST /documents share the writer lock."""
    import httpx

    from tests.server_fixtures import make_keys, real_server, small_index

    index_dir = small_index(tmp_path, fake_encoder)
    _, write, _ = make_keys(index_dir)
    watched = tmp_path / "watched"
    watched.mkdir()
    (watched / "w0.txt").write_text(note(0))
    flags = ("--watch", str(watched), "--refresh-every", "1h")
    with real_server(index_dir, tmp_path / "server.log", *flags) as (base, _):

        def sources() -> set[str]:
            return {d["source"] for d in httpx.get(base + "/documents", timeout=10).json()}

        deadline = time.monotonic() + 60
        while "w0.txt" not in sources() and time.monotonic() < deadline:
            time.sleep(0.2)
        for number in range(1, 6):
            (watched / f"w{number}.txt").write_text(note(number))
            files = {"files": (f"up{number}.txt", note(100 + number).encode(), "text/plain")}
            added = httpx.post(
                base + "/documents", files=files, headers={"Authorization": f"Bearer {write}"}, timeout=60
            )
            assert added.status_code == 201, added.text
        expected = {f"w{n}.txt" for n in range(6)} | {f"up{n}.txt" for n in range(1, 6)} | {"ferry.txt", "boats.txt"}
        deadline = time.monotonic() + 60
        while sources() != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sources() == expected
    log = (tmp_path / "server.log").read_text()
    assert "watch: added" in log and "watchfiles" not in log  # our commit lines, not the watcher's chatter


def test_a_watched_folders_qaignore_is_followed_and_a_change_to_it_applies_at_once(tmp_path) -> None:
    """A file the folder's .qaignore names is not indexed when it appears; when the .qaignore itself
    changes, the folder is looked at again: what it now names is removed, what it no longer names
    is added."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "keep.txt").write_text(note(0))
    (folder / "draft.txt").write_text(note(1))
    (folder / ".qaignore").write_text("scratch/\n")
    index_dir = tmp_path / "docs.qa"
    index_paths([folder], index_dir, encoder=FakeEncoder())
    problems: queue.Queue = queue.Queue()
    with Following(folder, index_dir, FakeEncoder(), on_problem=problems.put) as following:
        (folder / "scratch").mkdir()
        (folder / "scratch" / "todo.txt").write_text(note(2))
        (folder / "new.txt").write_text(note(3))
        added = 0
        while added < 1:
            added += following.next().report.added
        assert sorted(contents(index_dir)) == ["draft.txt", "keep.txt", "new.txt"]
        (folder / ".qaignore").write_text("draft.txt\n\\\n")  # a lone backslash: no pattern
        assert "line 2" in problems.get(timeout=15)  # said, and the watch goes on
        (folder / ".qaignore").write_text("draft.txt\n")
        commit = following.next()
        assert (commit.report.added, commit.report.removed) == (1, 1)
        (folder / "scratch" / ".qaignore").write_text("todo.txt\n")  # one below: its folder is looked at again
        assert following.next().report.removed == 1
    assert sorted(contents(index_dir)) == ["keep.txt", "new.txt"]
