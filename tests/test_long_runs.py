"""Long `qa index` runs that survive: segments are committed as they go (IndexOptions.flush_passages),
so a SIGKILL or Ctrl-C loses at most the work since the last flush, readers only ever open whole
generations, and the next run of the same command embeds only what was not committed. Fake
encoder, real files, real `qa` processes."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from qa.collection import Collection
from qa.errors import QAError
from qa.events import Progress
from qa.ingest.indexing import IndexOptions, WorkLeft, index_paths
from qa.ingest.planning import FileToRead
from qa.store import Snapshot, read_manifest
from tests.fakes import FakeEncoder
from tests.samples import SEEDS
from tests.test_store import PIPES, fake_env, fake_qa, run_fake_qa

FLUSH = 12  # passages per flush in these tests: several flushes in a run of a few hundred passages


def write_corpus(folder: Path, notes: int = 30) -> None:
    """`notes` files of two or three seed paragraphs each, every one different (a numbered title)."""
    paragraphs = [p for path in sorted(SEEDS.glob("*.txt")) for p in path.read_text().split("\n\n") if len(p) > 200]
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(notes):
        chosen = [paragraphs[(number * 3 + k) % len(paragraphs)] for k in range(2 + number % 2)]
        (folder / f"note{number:03d}.txt").write_text(f"Note number {number}.\n\n" + "\n\n".join(chosen))


def contents(index_dir: Path) -> tuple[list[tuple], np.ndarray]:
    """Everything an index holds, whatever its segments: per passage id (ascending), its document,
    text and place, and the matrix of their vectors in the same order."""
    snapshot = Snapshot.open(index_dir)
    rows, vectors = [], []
    for segment in snapshot.segments:
        documents, passages = segment.records(exclude=snapshot.deleted[segment.name])
        by_id = {d.doc_id: d for d in documents}
        vectors.append(segment.vectors.vectors(np.array([p.id for p in passages], dtype=np.int64)))
        for passage in passages:
            document = by_id[passage.doc_id]
            rows.append((passage.id, document.doc_id, document.source, document.sha256, passage.ordinal, passage.text))
    order = np.argsort([row[0] for row in rows], kind="stable")
    return [rows[i] for i in order], np.concatenate(vectors)[order]


def assert_same_index(index_dir: Path, other: Path) -> None:
    """The same passages with the same ids, documents and texts, and the same vectors to the bit
    (a text's vector depends on it alone, with the real model too, float32 or bfloat16)."""
    rows, vectors = contents(index_dir)
    other_rows, other_vectors = contents(other)
    assert rows == other_rows
    np.testing.assert_array_equal(vectors, other_vectors)


def encoded(log: Path) -> int:
    return sum(int(line) for line in log.read_text().split()) if log.exists() else 0


def test_a_long_run_commits_as_it_goes_and_readers_see_whole_generations(tmp_path, fake_encoder):
    """While one run indexes, readers open generation after generation; each is whole: every
    document it names has all its passages, and answers."""
    folder = tmp_path / "docs"
    write_corpus(folder)
    index_dir = tmp_path / "docs.qa"
    reference = tmp_path / "reference.qa"
    index_paths([folder], reference, IndexOptions(flush_passages=None, flush_seconds=None), encoder=fake_encoder)
    expected = {d.doc_id: d.passages for d in Collection.open(reference, encoder=fake_encoder).documents()}
    seen: list[int] = []

    def read(event: Progress) -> None:
        if not (index_dir / "manifest.json").exists():
            return
        collection = Collection.open(index_dir, encoder=fake_encoder)
        documents = collection.documents()
        for document in documents:
            assert document.passages == expected[document.doc_id], document.doc_id
        if documents:
            assert collection.ask(collection.document(documents[-1].doc_id).text[:80], top_k=1).passages
        seen.append(collection.stats().generation)

    report = index_paths(
        [folder], index_dir, IndexOptions(flush_passages=FLUSH), encoder=fake_encoder, on_progress=read
    )
    generations = sorted(set(seen))
    assert len(generations) > 3  # readers saw several committed generations before the end
    assert report.generation >= generations[-1]
    assert_same_index(index_dir, reference)


def test_sigkill_mid_run_then_the_same_command_embeds_only_what_was_not_committed(tmp_path):
    """A real `qa index` is killed (SIGKILL) while it writes its third generation (at the first of
    the two fsyncs of each manifest write: the file, then the folder); the index opens
    with the first two, and a second run embeds exactly the passages they do not hold. The result
    equals an index built in one uninterrupted run."""
    folder = tmp_path / "docs"
    write_corpus(folder)
    index_dir, fresh = tmp_path / "docs.qa", tmp_path / "fresh.qa"
    args = ["index", str(folder), "--index", str(index_dir), "--flush-passages", str(FLUSH)]
    log = tmp_path / "encoded"

    killed = subprocess.run(
        [*fake_qa(), *args],
        env={**fake_env(5), "KILL_IN": "write_manifest", "ENCODED_LOG": str(log)},
        timeout=120,
        **PIPES,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    committed = read_manifest(index_dir)
    assert committed.generation == 2
    assert 0 < committed.counts.passages
    collection = Collection.open(index_dir)  # the fake is the default model in this process too
    assert collection.stats().documents == committed.counts.documents
    assert encoded(log) > committed.counts.passages  # the third batch was embedded, then lost

    log.unlink()
    resumed = subprocess.run([*fake_qa(), *args], env={**fake_env(), "ENCODED_LOG": str(log)}, timeout=120, **PIPES)
    assert resumed.returncode == 0, resumed.stderr
    total = read_manifest(index_dir).counts.passages
    assert encoded(log) == total - committed.counts.passages
    assert f"unchanged {committed.counts.documents}" in resumed.stdout

    single = run_fake_qa("index", str(folder), "--index", str(fresh), "--flush-passages", "0", "--flush-minutes", "0")
    assert single.returncode == 0, single.stderr
    assert read_manifest(fresh).generation == 1  # one commit, at the end
    assert_same_index(index_dir, fresh)


def test_killed_at_ten_random_moments_the_work_lost_is_at_most_one_flush_each(tmp_path):
    """SIGKILL at ten random fsyncs of a first index (seeded), then the same command to the end:
    every killed run loses at most the passages since its last flush, and the result equals one
    uninterrupted run. The index opens after every kill."""
    folder = tmp_path / "docs"
    write_corpus(folder, notes=24)
    index_dir, fresh = tmp_path / "docs.qa", tmp_path / "fresh.qa"
    flush = FLUSH // 2
    args = ["index", str(folder), "--index", str(index_dir), "--flush-passages", str(flush)]
    log = tmp_path / "encoded"
    largest = 0
    kills = 0
    for kill_at in random.Random(23).sample(range(2, 30), 10):
        before = read_manifest(index_dir).counts.passages if (index_dir / "manifest.json").exists() else 0
        log.unlink(missing_ok=True)
        done = subprocess.run([*fake_qa(), *args], env={**fake_env(kill_at), "ENCODED_LOG": str(log)}, **PIPES)
        after = read_manifest(index_dir).counts.passages if (index_dir / "manifest.json").exists() else 0
        if after:
            assert Collection.open(index_dir).stats().passages == after
        lost = encoded(log) - (after - before)
        if done.returncode == 0:
            assert lost == 0
            break
        assert done.returncode == -signal.SIGKILL, done.stderr
        kills += 1
        largest = max(largest, lost)
    final = run_fake_qa(*args)
    assert final.returncode == 0, final.stderr
    assert kills >= 5
    # At most one flush's worth, plus the one document that took the batch past it.
    assert largest < 2 * flush + 10, largest
    assert run_fake_qa("index", str(folder), "--index", str(fresh)).returncode == 0
    assert_same_index(index_dir, fresh)


def test_ctrl_c_keeps_what_was_committed_says_so_in_one_line_and_the_rerun_goes_on(tmp_path):
    """SIGINT to a real `qa index` between flushes: exit code 130, one line saying what is kept,
    no traceback; the generations committed before stay, and the next run finishes the job."""
    folder = tmp_path / "docs"
    write_corpus(folder)
    index_dir = tmp_path / "docs.qa"
    args = ["index", str(folder), "--index", str(index_dir), "--flush-passages", str(FLUSH)]
    # Slow each encoder call down so that the signal lands mid-run, after a few flushes.
    script = fake_qa()[2].replace(
        "from qa.cli import main",
        "import time\nreal = FakeEncoder.encode\nFakeEncoder.encode = lambda self, texts, on_progress=None: "
        "(time.sleep(0.2), real(self, texts, on_progress))[1]\nfrom qa.cli import main",
    )
    log = tmp_path / "encoded"
    process = subprocess.Popen([*fake_qa()[:2], script, *args], env={**fake_env(), "ENCODED_LOG": str(log)}, **PIPES)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _generation(index_dir) < 2:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith("Stopped:")]
    assert len(lines) == 1
    committed = read_manifest(index_dir)
    assert committed.generation >= 2
    expected = f"the index holds {committed.counts.documents} documents (generation {committed.generation}, "
    assert expected in lines[0] and "run the same command again" in lines[0]
    assert Collection.open(index_dir).stats().documents == committed.counts.documents
    again = run_fake_qa(*args)
    assert again.returncode == 0, again.stderr
    assert f"unchanged {committed.counts.documents}" in again.stdout


def _generation(index_dir: Path) -> int:
    try:
        return read_manifest(index_dir).generation
    except QAError:
        return 0


def test_a_rebuild_of_an_index_in_use_commits_once_so_readers_keep_the_whole_old_one(tmp_path, fake_encoder):
    folder = tmp_path / "docs"
    write_corpus(folder, notes=12)
    index_dir = tmp_path / "docs.qa"
    index_paths([folder], index_dir, encoder=fake_encoder)
    before = read_manifest(index_dir)
    counts: list[int] = []
    index_paths(
        [folder],
        index_dir,
        IndexOptions(rebuild=True, flush_passages=FLUSH),
        encoder=fake_encoder,
        on_progress=lambda event: counts.append(read_manifest(index_dir).counts.passages),
    )
    assert set(counts) == {before.counts.passages}  # the old generation, whole, until the end
    assert read_manifest(index_dir).generation == before.generation + 1


def test_flushes_run_in_a_thread_free_of_readers(tmp_path, fake_encoder):
    """A reader thread asking questions throughout a flushing run never meets an error."""
    folder = tmp_path / "docs"
    write_corpus(folder, notes=16)
    index_dir = tmp_path / "docs.qa"
    stop, problems, asked = threading.Event(), [], [0]

    def ask() -> None:
        while not stop.is_set():
            if not (index_dir / "manifest.json").exists():
                continue
            try:
                Collection.open(index_dir, encoder=fake_encoder).ask("ferry harbour", top_k=2)
                asked[0] += 1
            except Exception as error:  # noqa: BLE001 - any failure is the finding
                problems.append(repr(error))

    reader = threading.Thread(target=ask)
    reader.start()
    try:
        index_paths([folder], index_dir, IndexOptions(flush_passages=FLUSH), encoder=fake_encoder)
    finally:
        stop.set()
        reader.join()
    assert problems == []


PROGRESS_LINE = re.compile(
    r"^Reading files: \d+/\d+( \(\d+\.\d/s\))?"
    r"( · Embedding passages: \d+/\d+( \(\d+\.\d/s\))?)?"
    r"( · about (\d+ s|\d+ min|\d+ h \d+ min) left)?$"
)
# Before them, a folder of 8 files or more is sampled for site chrome (qa.ingest.chrome).
SAMPLE_LINE = re.compile(r"^Reading sample pages for site chrome: \d+/\d+( \(\d+\.\d/s\))?( · about \d+ s left)?$")


def test_progress_is_plain_lines_when_output_is_not_a_terminal(tmp_path):
    """`qa index` with its output in pipes (a log, a background job) prints progress lines: files
    read, passages embedded, rates and the time left; never bars or terminal codes."""
    folder = tmp_path / "docs"
    write_corpus(folder)
    args = ["index", str(folder), "--index", str(tmp_path / "docs.qa"), "--flush-passages", str(FLUSH)]
    done = subprocess.run([*fake_qa(), *args], env={**fake_env(), "QA_PROGRESS_SECONDS": "0"}, timeout=120, **PIPES)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert "\x1b" not in done.stderr and "\r" not in done.stderr
    sampled = [line for line in lines if SAMPLE_LINE.match(line)]
    assert lines[: len(sampled)] == sampled and sampled[-1].startswith("Reading sample pages for site chrome: 30/30")
    lines = lines[len(sampled) :]  # the sample's task leaves the line once the files are read
    assert len(lines) > 10  # QA_PROGRESS_SECONDS=0: a line at every step
    assert all(PROGRESS_LINE.match(line) for line in lines), lines
    assert any("Embedding passages" in line for line in lines)
    assert any(line.endswith(" left") for line in lines)
    assert lines[-1].startswith("Reading files: 30/30 ")
    assert "added 30" in done.stdout


def test_progress_lines_are_spaced_but_the_first_and_last_always_show(tmp_path):
    """At the default interval, a run shorter than it prints its first state and its last."""
    folder = tmp_path / "docs"
    write_corpus(folder, notes=5)
    args = ["index", str(folder), "--index", str(tmp_path / "docs.qa")]
    done = subprocess.run([*fake_qa(), *args], env={**fake_env(), "QA_PROGRESS_SECONDS": "600"}, timeout=120, **PIPES)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "Reading files: 0/5"
    assert lines[-1].startswith("Reading files: 5/5 (") and " · Embedding passages: " in lines[-1]
    assert len(lines) == 2


class BatchedEncoder(FakeEncoder):
    """Reports its work a batch of 8 texts at a time, as the real encoder does."""

    def encode(self, texts, on_progress=None):
        parts = [super(BatchedEncoder, self).encode(texts[i : i + 8], on_progress) for i in range(0, len(texts), 8)]
        return np.concatenate(parts) if parts else super().encode(texts)


def test_one_large_document_reports_its_passages_as_they_are_embedded(tmp_path):
    """A page of thousands of passages (Node.js's all.html) takes minutes to embed: the count of
    passages embedded moves while it is, not only once the whole page is done."""
    folder = tmp_path / "docs"
    folder.mkdir()
    paragraphs = [p for path in sorted(SEEDS.glob("*.txt")) for p in path.read_text().split("\n\n") if len(p) > 200]
    (folder / "all.txt").write_text("\n\n".join(f"Part {n}. {paragraphs[n % len(paragraphs)]}" for n in range(60)))
    events: list[Progress] = []
    index_paths([folder], tmp_path / "docs.qa", IndexOptions(), encoder=BatchedEncoder(), on_progress=events.append)
    embedded = [event.done for event in events if event.task == "Embedding passages"]
    total = [event.total for event in events if event.task == "Embedding passages"][-1]
    assert total > 40 and embedded[-1] == total
    assert len(set(embedded)) > total // 8  # a count a batch, rising to the whole page
    assert embedded == sorted(embedded)
    # The time left goes by the share of passages embedded: the page, read in a moment, is not
    # "done" until its passages are.
    assert [event.current for event in events if event.current] == ["all.txt"]  # named while it is read
    shares = [event.share for event in events if event.task == "Reading files"]
    assert shares == sorted(shares) and shares[-1] == 1.0
    assert len({share for share in shares if 0 < share < 1}) >= total // 8  # a share each batch but the last


@dataclass
class Item:
    name: str
    bytes: int

    def size(self) -> int:
        return self.bytes


def test_the_time_left_reckons_each_type_of_file_at_its_own_passages_per_byte():
    """Pages of HTML give fewer passages a byte than Markdown change logs: the files not read yet
    are counted at what their own type gave so far, a type not seen yet at the run's rate."""
    names = ["a.html", "b.md", "c.html", "d.md", "e.md", "f.txt"]
    sizes = [10_000, 1_000, 10_000, 1_000, 2_000, 3_000]
    files = [FileToRead(Item(name, size), "v", name, False) for name, size in zip(names, sizes)]
    work = WorkLeft(files)
    assert work.share(0, 0) == 0.0
    work.read(0, 10)  # HTML: 1 passage per 1,000 bytes
    work.read(1, 5)  # Markdown: 1 per 200
    # Expected still: c.html 10, d.md 5, e.md 10, f.txt at the rate so far (15 / 11,000 bytes) 4.09.
    assert work.share(15, 15) == pytest.approx(15 / (15 + 10 + 5 + 10 + 3_000 * 15 / 11_000))
    for position, passages in [(2, 10), (3, 5), (4, 10), (5, 3)]:
        work.read(position, passages)
    assert work.share(40, 43) == pytest.approx(40 / 43)
    assert work.share(43, 43) == 1.0


def test_a_web_page_counts_its_words_not_its_drawings_for_the_time_left(tmp_path):
    """The SQLite site's pages carry their syntax diagrams inline: lang_select.html is 1.6 MB for
    41 passages. Counted by its bytes, such a page not read yet was expected to give 40 times its
    passages, and the time left said twice the time. A page counts its bytes outside tags,
    scripts, styles and drawings; other files their size."""
    from qa.ingest.sources import FileItem

    prose = "<p>" + "The ferry leaves the harbour at nine and is back by six. " * 20 + "</p>"
    diagram = "<svg>" + '<path d="M 10 10 L 20 20"/>' * 40_000 + "</svg>"
    pages = {"a.html": prose, "b.html": prose + diagram + "<script>var a = '<p>';</script>", "c.md": prose}
    for name, text in pages.items():
        (tmp_path / name).write_text(f"<html><body>{text}</body></html>" if name.endswith(".html") else text)
    sizes = {name: FileItem(tmp_path, tmp_path / name).size() for name in pages}
    assert sizes["a.html"] == sizes["b.html"] == len(prose) - len("<p></p>")
    assert sizes["c.md"] == len(prose)
    files = [FileToRead(FileItem(tmp_path, tmp_path / name), "v", name, False) for name in pages]
    work = WorkLeft(files)
    work.read(0, 3)
    assert work.share(3, 3) == pytest.approx(3 / (3 + 3 + 3 * len(prose) / sizes["a.html"]))


@pytest.mark.slow
def test_the_real_model_in_a_real_qa_index_commits_as_it_goes_prints_lines_and_resumes(tmp_path):
    """The real `qa index` with the real model, its output in pipes: progress lines, several
    commits; killed in its second commit, then run again: the result answers a seed question."""
    index_dir = tmp_path / "seeds.qa"
    command = [sys.executable, "-m", "qa", "index", str(SEEDS), "--index", str(index_dir), "--flush-passages", "3"]
    env = {**os.environ, "QA_PROGRESS_SECONDS": "0"}
    first = subprocess.run(command, env=env, timeout=600, **PIPES)
    assert first.returncode == 0, first.stderr
    lines = [line for line in first.stderr.splitlines() if line.startswith("Reading files:")]
    assert lines and all(PROGRESS_LINE.match(line) for line in lines), first.stderr
    assert read_manifest(index_dir).generation > 2  # committed as it went, then at the end

    once = tmp_path / "once.qa"
    index_dir.rename(once)
    killed = subprocess.run(
        [*fake_qa(), *command[3:]],
        env={**env, **fake_env(3), "KILL_IN": "write_manifest", "REAL_MODEL": "1"},
        timeout=600,
        **PIPES,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert read_manifest(index_dir).generation == 1
    again = subprocess.run(command, env=env, timeout=600, **PIPES)
    assert again.returncode == 0, again.stderr
    assert_same_index(index_dir, once)
    answer = subprocess.run(
        [sys.executable, "-m", "qa", "ask", "Who is Moussa Koussa?", "--json", "--index", str(index_dir)],
        env=env,
        timeout=300,
        **PIPES,
    )
    assert answer.returncode == 0 and json.loads(answer.stdout)["passages"], answer.stderr


def test_the_time_left_goes_by_the_bytes_read_not_the_files(monkeypatch, capsys):
    """Node.js's API folder reads all.html (8.4 MB, a third of it) second: two files of 129 read in
    100 s said "about 1 h 46 min left" by the count; by the bytes, half is done in 100 s."""
    from qa.cli import progress as progress_module
    from qa.events import Progress

    clock = iter([0.0, 100.0, 100.0])
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: next(clock))
    lines = progress_module.ProgressLines(every=0)
    lines.update(Progress("Reading files", 0, 129, share=0.0))
    lines.update(Progress("Reading files", 2, 129, share=0.5))
    printed = capsys.readouterr().err.splitlines()
    assert printed == ["Reading files: 0/129", "Reading files: 2/129 (0.0/s) · about 2 min left"]


def test_the_time_left_goes_on_once_every_file_is_read_and_passages_remain(monkeypatch, capsys):
    """The last file read can hold a third of the passages: "16/16" files read is not the end while
    its passages are embedded, and the line still says how long they will take."""
    from qa.cli import progress as progress_module

    clock = iter([0.0, 60.0, 90.0])
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: next(clock))
    lines = progress_module.ProgressLines(every=0)
    lines.update(Progress("Reading files", 0, 16, share=0.0))
    lines.update(Progress("Reading files", 16, 16, share=0.6))
    lines.update(Progress("Reading files", 16, 16, share=1.0))
    printed = capsys.readouterr().err.splitlines()
    assert printed[1] == "Reading files: 16/16 (0.3/s) · about 40 s left"
    assert printed[2] == "Reading files: 16/16 (0.2/s)"


def test_a_file_read_for_long_is_named_on_a_line_every_few_seconds(capsys):
    """No event comes while one file is read (a scan through OCR reads for minutes): the line is
    printed again every `every` seconds, naming the file and how long it has been read; after
    `finish`, nothing more."""
    from qa.cli import progress as progress_module

    lines = progress_module.ProgressLines(every=0.05)
    lines.update(Progress("Reading files", 3, 10, share=0.3, current="scans/deed.pdf"))
    time.sleep(1.0)
    lines.update(Progress("Reading files", 4, 10, share=0.4))
    time.sleep(0.6)
    lines.finish()
    printed = capsys.readouterr().err.splitlines()
    time.sleep(0.2)
    assert capsys.readouterr().err == ""
    assert printed[0].startswith("Reading files: 3/10") and "reading" not in printed[0]
    named = [line for line in printed if "reading" in line]
    assert len(named) >= 2, printed  # the heartbeat, more than once
    assert all(re.search(r"^Reading files: 3/10 .* · reading scans/deed\.pdf for \d+ s$", line) for line in named)
    later = printed[printed.index(next(line for line in printed if line.startswith("Reading files: 4/10"))) :]
    assert len(later) >= 2 and not any("reading" in line for line in later)  # read: no longer named


def test_a_file_just_begun_is_not_named_as_read_for_long(monkeypatch, capsys):
    """The heartbeat names the file being read only once it has been read for `every` seconds: a
    long embedding, then the next file begun just before the heartbeat, printed "· reading
    lang_createindex.html for 0 s" in a real run of the SQLite site."""
    from qa.cli import progress as progress_module

    now = [100.0]
    monkeypatch.setattr(progress_module.time, "monotonic", lambda: now[0])
    lines = progress_module.ProgressLines(every=2.0)  # the heartbeat wakes every 0.5 s of real time
    lines.update(Progress("Reading files", 3, 10, share=0.3, current="a.html"))
    now[0] = 101.9
    lines.update(Progress("Reading files", 4, 10, share=0.4, current="b.html"))  # too soon to print
    now[0] = 102.0
    time.sleep(0.8)  # the heartbeat prints the line again: b.html begun 0.1 s ago
    now[0] = 104.5
    time.sleep(0.8)  # and again: b.html read for 2.6 s
    lines.finish()
    printed = capsys.readouterr().err.splitlines()
    assert printed[0].startswith("Reading files: 3/10")
    assert printed[1].startswith("Reading files: 4/10") and "reading" not in printed[1], printed
    assert printed[2].startswith("Reading files: 4/10") and printed[2].endswith("· reading b.html for 3 s"), printed
