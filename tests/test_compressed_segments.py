"""A segment past `COMPRESS_ABOVE` passages holds IVF-PQ codes and a float16 vector file (issue 23:
10M passages on one machine). Scaled down here by lowering the size: the index it makes must
answer as an uncompressed one does, and a damaged vector file must be reported, not crash."""

from __future__ import annotations

import os
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import embeddings.vector_index
from qa.collection import Collection
from qa.errors import IndexMismatch
from qa.ingest.indexing import IndexOptions, compact_index, index_paths
from qa.store import read_manifest

WORDS = "harbour ferry island timetable ticket season morning evening captain crossing weather pier".split()
FACTS = {
    "The lighthouse keeper on Comino repaints the lamp room every April with zinc white.": "lighthouse",
    "Goats on the ridge above Mgarr are milked twice a day by the Borg family.": "goats",
    "The Xlendi diving school rents out twelve aluminium cylinders to certified divers.": "diving",
}


def corpus(folder: Path, files: int = 12, paragraphs: int = 110) -> Path:
    """About files × paragraphs passages of filler, with a fact hidden in three of them."""
    rng = random.Random(4)
    folder.mkdir()
    facts = list(FACTS)
    for number in range(files):
        body = [" ".join(rng.choice(WORDS) for _ in range(90)) + "." for _ in range(paragraphs)]
        if facts:
            body[rng.randrange(paragraphs)] = facts.pop()
        (folder / f"log{number:02d}.txt").write_text("\n\n".join(body))
    return folder


@pytest.fixture(scope="module")
def indexes(tmp_path_factory) -> tuple[Path, Path]:
    from tests.fakes import FakeEncoder

    work = tmp_path_factory.mktemp("compressed")
    folder = corpus(work / "logs")
    built = {}
    for name, compress_above in (("plain", None), ("compressed", 1000)):
        index_dir = work / f"{name}.qa"
        saved = embeddings.vector_index.COMPRESS_ABOVE
        if compress_above is not None:
            embeddings.vector_index.COMPRESS_ABOVE = compress_above
        try:
            index_paths([folder], index_dir, encoder=FakeEncoder())
            compact_index(index_dir)
        finally:
            embeddings.vector_index.COMPRESS_ABOVE = saved
        built[name] = index_dir
    return built["plain"], built["compressed"]


def only_segment(index_dir: Path) -> Path:
    (info,) = read_manifest(index_dir).segments
    return index_dir / "segments" / info.name


def test_a_large_segment_is_written_compressed_and_answers_as_an_uncompressed_one(indexes):
    from tests.fakes import FakeEncoder

    plain, compressed = indexes
    assert read_manifest(compressed).counts.passages > 1024
    assert not (only_segment(plain) / "vectors.faiss.f16.npy").exists()
    assert (only_segment(compressed) / "vectors.faiss.f16.npy").exists()
    codes, flat = only_segment(compressed) / "vectors.faiss", only_segment(plain) / "vectors.faiss.f32.npy"
    assert codes.stat().st_size < flat.stat().st_size / 2  # here most of it is the PQ codebook
    answers = {}
    for name, index_dir in (("plain", plain), ("compressed", compressed)):
        collection = Collection.open(index_dir, encoder=FakeEncoder())
        answers[name] = [
            [p.text for p in collection.ask(question, top_k=3).passages]
            for question in ("Who repaints the lamp room of the lighthouse?", "How often are the goats milked?")
        ]
    assert "The lighthouse keeper" in answers["compressed"][0][0]
    assert "Goats on the ridge" in answers["compressed"][1][0]
    assert [texts[0] for texts in answers["compressed"]] == [texts[0] for texts in answers["plain"]]


def test_a_truncated_float16_vector_file_is_reported_as_damage_not_a_crash(indexes, tmp_path):
    import shutil

    from tests.fakes import FakeEncoder

    index_dir = tmp_path / "copy.qa"
    shutil.copytree(indexes[1], index_dir)
    collection = Collection.open(index_dir, encoder=FakeEncoder())
    assert collection.ask("Who repaints the lamp room of the lighthouse?").passages
    rows = only_segment(index_dir) / "vectors.faiss.f16.npy"
    os.truncate(rows, rows.stat().st_size // 2)
    with pytest.raises(IndexMismatch, match=r"is damaged .*vectors\.faiss\.f16\.npy.*Rebuild it"):
        collection.ask("How often are the goats milked?")
    with pytest.raises(IndexMismatch, match=r"vectors\.faiss\.f16\.npy"):
        Collection.open(index_dir, encoder=FakeEncoder()).ask("How often are the goats milked?")


def test_an_index_of_several_compressed_segments_searches_them_side_by_side_and_answers_the_same(
    indexes, tmp_path, monkeypatch
):
    """Large segments are searched in threads at once (FAISS and numpy release the GIL); the
    answers must be those of the same passages in one uncompressed segment."""
    from qa.store import snapshot
    from tests.fakes import FakeEncoder

    monkeypatch.setattr(embeddings.vector_index, "COMPRESS_ABOVE", 1000)
    monkeypatch.setattr(embeddings.vector_index, "APPROXIMATE_ABOVE", 500)
    index_dir = tmp_path / "two.qa"
    first, second = corpus(tmp_path / "first", files=24), tmp_path / "second"
    second.mkdir()
    for number in range(12, 24):  # two runs of about 1,300 passages: two compressed segments
        (first / f"log{number:02d}.txt").rename(second / f"log{number:02d}.txt")
    options = IndexOptions(flush_passages=None, flush_seconds=None)
    index_paths([first], index_dir, options, encoder=FakeEncoder())
    index_paths([second], index_dir, options, encoder=FakeEncoder())
    segments = read_manifest(index_dir).segments
    assert len(segments) == 2
    assert all((index_dir / "segments" / info.name / "vectors.faiss.f16.npy").exists() for info in segments)
    searched_in: set[str] = set()
    threads = snapshot._segment_threads()
    original_map = threads.map

    def recording_map(function, items):
        import threading

        def traced(item):
            searched_in.add(threading.current_thread().name)
            return function(item)

        return original_map(traced, items)

    monkeypatch.setattr(threads, "map", recording_map)
    collection = Collection.open(index_dir, encoder=FakeEncoder())
    plain = Collection.open(indexes[0], encoder=FakeEncoder())
    for question in ("Who repaints the lamp room of the lighthouse?", "How often are the goats milked?"):
        assert collection.ask(question, top_k=1).passages[0].text == plain.ask(question, top_k=1).passages[0].text
    assert searched_in and all(name.startswith("qa-segments") for name in searched_in)


def test_merging_compressed_segments_keeps_every_vector_to_the_bit(tmp_path, monkeypatch):
    """A merge copies vectors into one matrix a chunk at a time (float16 when its sources are
    compressed, as they store them): every passage keeps the vector it had, in id order."""
    from qa.store import writer
    from tests.fakes import FakeEncoder

    monkeypatch.setattr(embeddings.vector_index, "COMPRESS_ABOVE", 1000)
    monkeypatch.setattr(writer, "MERGE_CHUNK", 300)  # several chunks a segment
    index_dir = tmp_path / "two.qa"
    first, second = corpus(tmp_path / "first", files=24), tmp_path / "second"
    second.mkdir()
    for number in range(12, 24):
        (first / f"log{number:02d}.txt").rename(second / f"log{number:02d}.txt")
    options = IndexOptions(flush_passages=None, flush_seconds=None)
    index_paths([first], index_dir, options, encoder=FakeEncoder())
    index_paths([second], index_dir, options, encoder=FakeEncoder())
    before = Collection.open(index_dir, encoder=FakeEncoder()).snapshot()
    ids = np.sort(np.concatenate([np.asarray(segment.ids) for segment in before.segments]))
    vectors = before.vectors(ids)
    compact_index(index_dir)
    after = Collection.open(index_dir, encoder=FakeEncoder()).snapshot()
    assert len(after.segments) == 1 and after.segments[0].vectors.is_compressed
    np.testing.assert_array_equal(np.asarray(after.segments[0].ids), ids)
    np.testing.assert_array_equal(after.vectors(ids), vectors)


def test_merged_vectors_follow_the_passage_order_whatever_the_segments_order():
    """Segments whose ids interleave (a document re-indexed lands in a newer segment) merge into
    id order, each vector with its passage."""
    from qa.store.writer import merged_vectors

    class Stored:
        def __init__(self, ids, compressed):
            self.table = {int(i): np.full(4, float(i), dtype=np.float32) for i in ids}
            self.is_compressed = compressed

        def vectors(self, ids):
            return np.stack([self.table[int(i)] for i in ids])

    newer, older = np.array([5, 6, 9]), np.array([1, 2, 7, 8])
    for compressed in (True, False):
        sources = [(Stored(newer, compressed), newer), (Stored(older, True), older)]
        order = np.argsort(np.concatenate([newer, older]), kind="stable")
        matrix = merged_vectors(sources, order, 4)
        assert matrix.dtype == (np.float16 if compressed else np.float32)
        np.testing.assert_array_equal(matrix[:, 0], [1, 2, 5, 6, 7, 8, 9])


def test_a_question_asked_from_a_worker_thread_searches_with_one_faiss_thread(indexes) -> None:
    """The server asks from worker threads, and OpenMP keeps FAISS's thread count per thread: a
    pool of two threads per question costs more than it saves (docs/PERFORMANCE.md). Large
    segments are FAISS's to search (small ones, numpy's)."""
    import faiss

    from tests.fakes import FakeEncoder

    collection = Collection.open(indexes[1], encoder=FakeEncoder())

    def ask_then_count() -> int:
        collection.ask("How often are the goats milked?")
        return faiss.omp_get_max_threads()

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(ask_then_count).result() == 1
