"""The index as a storage engine: one writer, live readers, crash safety and scores that do not
depend on how the index was built. Fake encoder, real files, real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from qa.collection import Collection
from qa.errors import IndexBusy
from qa.ingest.indexing import IndexOptions, compact_index, index_paths, remove_documents
from qa.search.bm25 import BM25, LexicalPart
from qa.store import read_manifest
from qa.store.lock import WriterLock
from qa.store.postings import Postings
from qa.text.analysis import analyze, question_terms
from tests.conftest import PROJECT_ROOT, SEEDS
from tests.server_fixtures import free_port, wait_for

SENTENCES = [
    "The ferry to Gozo leaves at dawn and returns after dusk.",
    "Ferries are cancelled when the wind blows from the north-east.",
    "A new harbour wall was finished in the spring of 2011.",
    "The fishermen of Marsaxlokk paint their boats blue, yellow and red.",
    "Tourists crowd the ferry terminal in August.",
    "The lighthouse keeper counted seventeen ships on Tuesday.",
]


def write_notes(folder: Path, texts: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, text in enumerate(texts):
        path = folder / f"note{number:03d}.txt"
        path.write_text(text)
        paths.append(path)
    return paths


# One writer -------------------------------------------------------------------------------------


def test_a_second_writer_waits_then_fails_naming_the_first(tmp_path, fake_encoder):
    folder = tmp_path / "docs"
    paths = write_notes(folder, SENTENCES[:2])
    index_dir = tmp_path / "docs.qa"
    index_paths([paths[0]], index_dir, encoder=fake_encoder)

    with WriterLock(index_dir):
        with pytest.raises(IndexBusy, match=rf"pid {os.getpid()}.*waited 0.2 s.*--wait"):
            index_paths([paths[1]], index_dir, IndexOptions(wait=0.2), encoder=fake_encoder)
    assert read_manifest(index_dir).counts.documents == 1

    holder = WriterLock(index_dir)
    holder.acquire()
    threading.Timer(0.5, holder.release).start()
    index_paths([paths[1]], index_dir, IndexOptions(wait=30), encoder=fake_encoder)  # waits for the release
    assert read_manifest(index_dir).counts.documents == 2


def test_two_qa_index_processes_at_once_lose_nothing(tmp_path):
    """Real processes: the second one either waits for the first or fails with one line."""
    first, second = tmp_path / "first", tmp_path / "second"
    write_notes(first, SENTENCES[:3])
    write_notes(second, SENTENCES[3:])
    index_dir = tmp_path / "both.qa"
    runs = [
        subprocess.Popen(
            [*fake_qa(), "index", str(folder), "--index", str(index_dir), "--wait", "60"], env=fake_env(), **PIPES
        )
        for folder in (first, second)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert all("Traceback" not in err for _, err in outputs)
    assert read_manifest(index_dir).counts.documents == 6


def test_a_writer_that_dies_leaves_the_index_unlocked(tmp_path, fake_encoder):
    index_dir = tmp_path / "docs.qa"
    index_paths(write_notes(tmp_path / "docs", SENTENCES[:1]), index_dir, encoder=fake_encoder)
    script = (
        "import pathlib, time; from qa.store.lock import WriterLock; "
        f"WriterLock(pathlib.Path({str(index_dir)!r})).acquire(); print('locked', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    holder.stdout.close()
    with WriterLock(index_dir, wait=0):
        pass


# Live readers -----------------------------------------------------------------------------------


def test_an_open_collection_sees_each_commit_on_its_next_question(tmp_path, fake_encoder):
    folder = tmp_path / "docs"
    paths = write_notes(folder, SENTENCES[:3])
    index_dir = tmp_path / "docs.qa"
    index_paths(paths[:2], index_dir, encoder=fake_encoder)
    collection = Collection.open(index_dir, encoder=fake_encoder)
    question = "Who paints the boats of Marsaxlokk blue?"
    (folder / "boats.txt").write_text(SENTENCES[3])
    assert all("Marsaxlokk" not in p.text for p in collection.ask(question).passages)

    index_paths([folder / "boats.txt"], index_dir, encoder=fake_encoder)
    assert collection.ask(question, top_k=1).passages[0].citation.source == "boats.txt"
    assert collection.stats().documents == 3

    remove_documents([str(folder / "boats.txt")], index_dir)
    assert all("Marsaxlokk" not in p.text for p in collection.ask(question).passages)
    assert "boats" not in {d.doc_id for d in collection.documents()}

    compact_index(index_dir)  # the old segments' files are removed; the reader moves on
    assert collection.stats().segments == 1
    assert collection.ask("ferry to Gozo", top_k=1).passages[0].citation.source == "note000.txt"


def test_a_segment_reads_each_passage_row_once_and_keeps_a_bounded_number(tmp_path, fake_encoder, monkeypatch):
    import qa.store.segment

    paths = write_notes(tmp_path / "docs", SENTENCES)
    index_dir = tmp_path / "docs.qa"
    index_paths(paths, index_dir, encoder=fake_encoder)
    collection = Collection.open(index_dir, encoder=fake_encoder)
    first = collection.ask("When does the ferry to Gozo leave?", top_k=3)
    (segment,) = collection.snapshot().segments
    statements = []
    segment.db.set_trace_callback(statements.append)
    again = collection.ask("When does the ferry to Gozo leave?", top_k=3)
    assert again.passages == first.passages
    assert not [sql for sql in statements if "FROM passages" in sql]  # the rows were kept

    monkeypatch.setattr(qa.store.segment, "ROW_CACHE", 2)
    fresh = qa.store.segment.Segment(segment.folder)
    ids = [int(i) for i in segment.ids]
    for _ in range(2):  # every row asked for comes back, though it keeps fewer
        assert sorted(row.id for row in fresh.passages(ids)) == ids
        assert len(fresh._rows) <= 2


def test_a_damaged_new_generation_is_logged_and_the_old_one_still_answers(tmp_path, fake_encoder, caplog):
    import shutil

    folder = tmp_path / "docs"
    paths = write_notes(folder, SENTENCES[:3])
    index_dir = tmp_path / "docs.qa"
    index_paths(paths[:2], index_dir, encoder=fake_encoder)
    collection = Collection.open(index_dir, encoder=fake_encoder)
    old = read_manifest(index_dir)
    index_paths([paths[2]], index_dir, encoder=fake_encoder)
    new_segments = {s.name for s in read_manifest(index_dir).segments} - {s.name for s in old.segments}
    for name in new_segments:
        shutil.rmtree(index_dir / "segments" / name)

    with caplog.at_level("WARNING", logger="qa.collection"):
        answer = collection.ask("ferry to Gozo", top_k=1)
        collection.ask("ferry to Gozo", top_k=1)  # the same damage again: not a second warning
    assert answer.passages[0].citation.source == "note000.txt"
    assert collection.snapshot().manifest.generation == old.generation
    warnings = [record for record in caplog.records if record.levelname == "WARNING"]
    assert len(warnings) == 1, warnings
    assert str(index_dir) in warnings[0].getMessage() and "damaged" in warnings[0].getMessage()
    assert f"generation {old.generation}" in warnings[0].getMessage()


def test_every_answer_comes_from_one_generation_during_a_stream_of_updates(tmp_path, fake_encoder):
    """A writer rewrites one document again and again; readers check that each answer's passage
    is the document's text at its span, in the generation it was answered from."""
    folder = tmp_path / "docs"
    write_notes(folder, SENTENCES)
    log = folder / "log.txt"
    log.write_text("Version 0 of the ferry log. The ferry sailed 0 times.")
    index_dir = tmp_path / "docs.qa"
    index_paths([folder], index_dir, encoder=fake_encoder)
    collection = Collection.open(index_dir, encoder=fake_encoder)
    stop = threading.Event()
    problems: list[str] = []
    checked = [0]

    def read() -> None:
        while not stop.is_set():
            searcher = collection.searcher()
            snapshot = searcher.snapshot
            ranking = collection.rank("How many times did the ferry sail?", 5, searcher=searcher)
            rows = snapshot.passages([hit.passage_id for hit in ranking.hits])
            for row in rows.values():
                document = snapshot.document(row.doc_id)
                if document is None or document.text[row.start : row.end] != row.text:
                    problems.append(f"generation {snapshot.manifest.generation}: {row.doc_id} {row.text!r}")
            answer = collection.ask("How many times did the ferry sail?", top_k=3)
            versions = {p.text.split()[1] for p in answer.passages if p.citation.doc_id == "log"}
            if len(versions) > 1:
                problems.append(f"one answer quotes several versions: {versions}")
            checked[0] += 1

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    for version in range(1, 16):
        log.write_text(f"Version {version} of the ferry log. The ferry sailed {version} times.")
        index_paths([log], index_dir, encoder=fake_encoder)
    stop.set()
    for reader in readers:
        reader.join()
    assert problems == []
    assert checked[0] > 0
    assert "Version 15" in collection.ask("ferry log version", top_k=1).passages[0].text


# Crash safety -----------------------------------------------------------------------------------

PIPES = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
# `qa` with the fake encoder, killed (SIGKILL) at the KILL_AT_FSYNC-th fsync; with KILL_IN, only
# fsyncs made inside a function of that name count. With ENCODED_LOG, each encoder call appends
# the number of texts it embedded to that file; with REAL_MODEL, the real model is used.
KILL_AT = """
import os, signal, sys, traceback
import embeddings
from tests.fakes import FAKE_MODEL, load_fake
if not os.environ.get("REAL_MODEL"):
    embeddings.register_encoder(embeddings.DEFAULT_MODEL, load_fake)
    embeddings.register_encoder(FAKE_MODEL, load_fake)
where, target, calls = os.environ.get("KILL_IN", ""), int(os.environ.get("KILL_AT_FSYNC", "0")), [0]
real_fsync = os.fsync
def fsync(descriptor):
    if not where or where in {frame.name for frame in traceback.extract_stack(limit=6)}:
        calls[0] += 1
        if calls[0] == target:
            os.kill(os.getpid(), signal.SIGKILL)
    return real_fsync(descriptor)
os.fsync = fsync
if os.environ.get("ENCODED_LOG"):  # one line per encoder call: how many texts it embedded
    from tests.fakes import FakeEncoder
    real_encode = FakeEncoder.encode
    def encode(self, texts, on_progress=None):
        with open(os.environ["ENCODED_LOG"], "a") as log:
            print(len(texts), file=log)
        return real_encode(self, texts, on_progress)
    FakeEncoder.encode = encode
from qa.cli import main
sys.argv = ["qa", *sys.argv[1:]]
main()
"""


def fake_qa() -> list[str]:
    """`qa` in a real process, with the fake encoder."""
    return [sys.executable, "-c", KILL_AT]


def fake_env(kill_at: int = 0) -> dict[str, str]:
    return {**os.environ, "KILL_AT_FSYNC": str(kill_at), "PYTHONPATH": str(PROJECT_ROOT)}


def run_fake_qa(*args: str, kill_at: int = 0) -> subprocess.CompletedProcess:
    return subprocess.run([*fake_qa(), *args], env=fake_env(kill_at), timeout=120, **PIPES)


@pytest.mark.parametrize("command", ["index", "compact"])
def test_a_writer_killed_at_any_fsync_leaves_the_last_generation_whole(tmp_path, fake_encoder, command):
    """SIGKILL at the 1st, 2nd, … fsync of a run (segment files, the segment folder, the manifest,
    the index folder): every time the last committed generation opens and answers in full."""
    folder = tmp_path / "docs"
    write_notes(folder, SENTENCES[:4])
    index_dir = tmp_path / "docs.qa"
    for path in sorted(folder.iterdir())[:3]:
        index_paths([path], index_dir, encoder=fake_encoder)
    remove_documents([str(folder / "note002.txt")], index_dir)
    (folder / "note000.txt").write_text(SENTENCES[0] + " Changed.")
    args = ["index", str(folder) if command == "index" else "--compact", "--index", str(index_dir)]
    committed = {d.doc_id: d.passages for d in Collection.open(index_dir, encoder=fake_encoder).documents()}
    kill_at, outcomes = 1, []
    while True:
        done = run_fake_qa(*args, kill_at=kill_at)
        outcomes.append(done.returncode)
        collection = Collection.open(index_dir, encoder=fake_encoder)
        now = {d.doc_id: d.passages for d in collection.documents()}
        for doc_id in committed:  # kept, in its committed or its new version, never half of one
            assert now.get(doc_id, 0) >= 1, (kill_at, doc_id)
        for document in collection.documents():
            text = collection.document(document.doc_id).text
            assert collection.ask(text[:60], top_k=1).passages, (kill_at, document.doc_id)
        if done.returncode == 0:
            break
        assert done.returncode == -signal.SIGKILL, done.stderr
        kill_at += 1
    assert len(outcomes) > 3  # the run was interrupted at several points before it could finish
    final = run_fake_qa(*args)
    assert final.returncode == 0, final.stderr
    manifest = read_manifest(index_dir)
    assert sorted(p.name for p in (index_dir / "segments").iterdir()) == sorted(s.name for s in manifest.segments)


# A server process ---------------------------------------------------------------------------------


def test_a_running_server_sees_added_and_removed_documents(tmp_path, fake_encoder):
    httpx = pytest.importorskip("httpx")
    folder = tmp_path / "docs"
    paths = write_notes(folder, SENTENCES[:3])
    index_dir = tmp_path / "docs.qa"
    index_paths(paths, index_dir, encoder=fake_encoder)
    port = free_port()
    server = subprocess.Popen(
        [*fake_qa(), "serve", "--index", str(index_dir), "--port", str(port)], env=fake_env(), **PIPES
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/health", server)
        question = {"question": "Who paints the boats of Marsaxlokk blue?", "top_k": 1}
        (folder / "boats.txt").write_text(SENTENCES[3])
        index_paths([folder / "boats.txt"], index_dir, encoder=fake_encoder)
        first = httpx.post(base + "/ask", json=question).json()["passages"][0]["citation"]
        assert first["source"] == "boats.txt"
        remove_documents(["boats"], index_dir)
        after = httpx.post(base + "/ask", json=question).json()["passages"][0]["citation"]
        assert after["source"] != "boats.txt"
        assert httpx.get(base + "/documents/boats").status_code == 404
    finally:
        server.terminate()
        server.communicate(timeout=30)


# Lexical scores ---------------------------------------------------------------------------------


def test_bm25_scores_equal_bm25s_lucene():
    """Checked against an implementation we did not write."""
    bm25s = pytest.importorskip("bm25s")
    texts = [text for text in (SEEDS.glob("*.txt"))]
    corpus = [line for path in texts for line in path.read_text().split("\n") if len(line.split()) > 5][:200]
    reference = bm25s.BM25(k1=0.9, b=0.4)
    reference.index([analyze(text) for text in corpus], show_progress=False)
    ours = BM25([LexicalPart(Postings.build(corpus), np.arange(len(corpus)), None)])
    for question in ["How many Libyan army officers appeared in Rome?", "Who is Moussa Koussa?", "NATO chief"]:
        terms = [t for t in question_terms(question) if t in reference.vocab_dict]
        expected = reference.get_scores(terms)
        ids, scores = ours.scores(terms)
        got = np.zeros(len(corpus), dtype=np.float32)
        got[ids] = scores
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_a_question_gets_every_candidates_full_bm25_score_with_few_lexical_candidates(
    tmp_path, fake_encoder, monkeypatch
):
    """Ranking asks BM25 for its best few only (pruned, as in a large index) and for the dense
    side's candidates: each passage ranked carries the BM25 score full scoring gives it."""
    from qa.search import bm25
    from qa.search.retrieval import RetrievalSettings

    monkeypatch.setattr(bm25, "PRUNE_ABOVE", 0)

    folder = tmp_path / "docs"
    texts = [line for path in sorted(SEEDS.glob("*.txt")) for line in path.read_text().split("\n\n")]
    write_notes(folder, [text for text in texts if len(text.split()) > 8][:60])
    index_dir = tmp_path / "index.qa"
    index_paths([folder], index_dir, encoder=fake_encoder)
    collection = Collection.open(index_dir, encoder=fake_encoder, settings=RetrievalSettings(candidates=3))
    searcher = collection.searcher()
    for question in ["How many Libyan army officers appeared in Rome?", "Who is Moussa Koussa?", "NATO"]:
        query = collection.query(question)
        ids, scores = searcher.bm25.scores(query.terms)
        every = dict(zip(ids.tolist(), scores.tolist()))
        ranking = collection.retriever.rank(searcher, query, 6, searcher.snapshot.passages)
        assert len(ranking.hits) == 6 > 3  # more than the lexical side's three: dense ones too
        for hit in ranking.hits:
            assert hit.lexical == pytest.approx(every.get(hit.passage_id, 0.0), rel=1e-6)
        assert max(hit.lexical for hit in ranking.hits) == pytest.approx(max(every.values()), rel=1e-6)


def test_the_same_documents_rank_the_same_however_they_were_indexed(tmp_path, fake_encoder):
    """One run, or one file at a time with updates, removals and merges in between."""
    folder = tmp_path / "docs"
    texts = [line for path in sorted(SEEDS.glob("*.txt")) for line in path.read_text().split("\n\n")]
    paths = write_notes(folder, [text for text in texts if len(text.split()) > 8][:40])
    once = tmp_path / "once.qa"
    index_paths([folder], once, encoder=fake_encoder)
    bit_by_bit = tmp_path / "bit-by-bit.qa"
    index_paths([paths[0]], bit_by_bit, encoder=fake_encoder)
    (folder / "extra.txt").write_text("A note that will be removed again.")
    for path in [*paths[1:], folder / "extra.txt"]:
        index_paths([path], bit_by_bit, encoder=fake_encoder)
    remove_documents(["extra"], bit_by_bit)
    assert read_manifest(bit_by_bit).segments != read_manifest(once).segments
    questions = ["How many Libyan army officers appeared in Rome?", "Who is Moussa Koussa?", "cease-fire offer"]
    for question in questions:
        ranked = []
        for index_dir in (once, bit_by_bit):
            searcher = Collection.open(index_dir, encoder=fake_encoder).searcher()
            snapshot = searcher.snapshot
            ids, scores = searcher.bm25.scores(question_terms(question))
            texts_by_id = snapshot.passages(ids.tolist())
            ranked.append(sorted((round(float(s), 5), texts_by_id[int(i)].text) for i, s in zip(ids, scores)))
        assert ranked[0] == ranked[1]


def test_npy_headers_are_parsed_one_thread_at_a_time(tmp_path, monkeypatch):
    """numpy parses a header with ast.literal_eval, which CPython 3.11 cannot run in two threads at
    once (a spurious "AST constructor recursion depth mismatch" read as a damaged index, seen twice in
    CI while a reader opened segments under a flushing run). Every header, read to map a segment's
    file or to write a new segment's rows, goes through embeddings.npy, one at a time."""
    import time

    from embeddings import npy
    from embeddings.vector_index import NpyRows
    from qa.store.postings import mapped, npy_sizes

    np.save(tmp_path / "rows.npy", np.arange(10, dtype=np.int64))
    inside, most = [0], [0]
    parse = np.lib.format.read_array_header_1_0

    def slow_parse(handle, *args, **kwargs):
        inside[0] += 1
        most[0] = max(most[0], inside[0])
        time.sleep(0.002)
        try:
            return parse(handle, *args, **kwargs)
        finally:
            inside[0] -= 1

    monkeypatch.setattr(np.lib.format, "read_array_header_1_0", slow_parse)
    np.save(tmp_path / "matrix.npy", np.zeros((4, 3), dtype=np.float16))
    calls = [lambda: mapped(tmp_path / "rows.npy"), lambda: npy_sizes(tmp_path / "rows.npy")]
    calls += [lambda: npy.load_mapped(tmp_path / "rows.npy"), lambda: NpyRows(tmp_path / "matrix.npy")]
    threads = [threading.Thread(target=lambda call=call: [call() for _ in range(20)]) for call in calls * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1


def test_a_header_read_crossed_by_another_threads_ast_work_is_read_again(tmp_path, monkeypatch):
    """A library's own `ast` work in another thread, outside the lock, can still cross a header's
    parse: the spurious SystemError is retried, and a real error is not."""
    from embeddings.npy import read_header

    np.save(tmp_path / "rows.npy", np.arange(5, dtype=np.int64))
    parse, failures = np.lib.format.read_array_header_1_0, [1]

    def crossed_once(handle, *args, **kwargs):
        if failures[0]:
            failures[0] -= 1
            handle.read(20)  # part of the header read, as a parse cut short would
            raise SystemError("AST constructor recursion depth mismatch (before=69, after=156)")
        return parse(handle, *args, **kwargs)

    def broken(handle, *args, **kwargs):
        raise SystemError("something else")

    monkeypatch.setattr(np.lib.format, "read_array_header_1_0", crossed_once)
    with open(tmp_path / "rows.npy", "rb") as handle:
        assert read_header(handle)[0] == (5,)
    assert failures == [0]
    monkeypatch.setattr(np.lib.format, "read_array_header_1_0", broken)
    with open(tmp_path / "rows.npy", "rb") as handle, pytest.raises(SystemError, match="something else"):
        read_header(handle)
