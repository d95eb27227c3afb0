import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from embeddings.vector_index import VectorIndex
from qa.store import read_manifest

REPO = Path(__file__).resolve().parent.parent


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def clustered(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = unit(rng.standard_normal((50, 32)))
    return unit(centres[rng.integers(0, 50, count)] + 0.15 * rng.standard_normal((count, 32)))


def test_exact_index_adds_searches_and_round_trips(tmp_path):
    vectors = clustered(200)
    index = VectorIndex.empty(32)
    index.add(np.arange(100, 300), vectors)
    _, ids = index.search(vectors[:1], 3)
    assert ids[0][0] == 100
    index.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss")
    assert len(loaded) == 200 and not loaded.is_approximate
    _, ids = loaded.search(vectors[:1], 3)
    assert ids[0][0] == 100
    assert np.allclose(loaded.vectors(np.array([150])), vectors[50:51], atol=1e-6)


def test_large_index_becomes_ivf_keeping_ids_and_recall(tmp_path):
    vectors = clustered(6000)
    exact = VectorIndex.empty(32)
    exact.add(np.arange(6000) * 7, vectors)
    approximate = exact.resized(approximate_above=5000)
    assert approximate.is_approximate and len(approximate) == 6000
    queries = vectors[:50]
    _, truth = exact.search(queries, 10)
    _, found = approximate.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found)])
    assert recall >= 0.95
    assert np.allclose(approximate.vectors(np.array([7 * 3])), vectors[3:4], atol=1e-6)
    approximate.save(tmp_path / "ivf.faiss")
    loaded = VectorIndex.load(tmp_path / "ivf.faiss")
    assert loaded.is_approximate and len(loaded) == 6000
    _, ids = loaded.search(queries[:1], 5)
    assert ids[0][0] == 0
    ids, stored = loaded.all_vectors()
    assert len(ids) == 6000 and stored.shape == (6000, 32)


def recall(truth: np.ndarray, found: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / truth.shape[1] for a, b in zip(truth, found)]))


def test_past_the_compression_size_an_index_is_codes_plus_float16_vectors_on_disk(tmp_path):
    """The form that lets 10M passages fit one machine: IVF-PQ codes find candidates and the
    memory-mapped float16 vectors re-score them, so recall stays that of exact search."""
    vectors = clustered(6000)
    ids = np.arange(6000) * 3 + 11
    exact = VectorIndex.empty(32)
    exact.add(ids, vectors)
    path = tmp_path / "big.faiss"
    VectorIndex.write(path, ids, vectors, approximate_above=1000, compress_above=5000)

    loaded = VectorIndex.load(path)
    assert loaded.is_approximate and loaded.is_compressed and len(loaded) == 6000
    assert {file.name for file in loaded.files} == {"big.faiss", "big.faiss.ids.npy", "big.faiss.f16.npy"}
    assert path.stat().st_size < vectors.nbytes / 4  # the codes, not the vectors, are in the index
    queries = vectors[::120]
    truth_scores, truth = exact.search(queries, 10)
    scores, found = loaded.search(queries, 10)
    assert recall(truth, found) >= 0.95
    assert np.allclose(scores, truth_scores, atol=2e-3)  # exact scores, to float16's precision
    assert np.allclose(loaded.vectors(ids[[5, 4000]]), vectors[[5, 4000]], atol=2e-3)
    stored_ids, stored = loaded.all_vectors()
    assert stored_ids.tolist() == ids.tolist() and stored.shape == (6000, 32)


def test_a_compressed_index_searches_within_a_subset_large_or_small(tmp_path):
    from embeddings.vector_index import IdSubset

    vectors = clustered(6000, seed=1)
    ids = np.arange(6000, dtype=np.int64)
    path = tmp_path / "big.faiss"
    VectorIndex.write(path, ids, vectors, approximate_above=1000, compress_above=5000)
    loaded = VectorIndex.load(path)
    for allowed in (ids[ids % 2 == 0], ids[:300]):  # a selector inside the search; an exact scan
        _, found = loaded.search_among(vectors[:5], 5, IdSubset(allowed))
        assert set(found.ravel().tolist()) <= set(allowed.tolist())
        assert found[0][0] == 0  # the query's own vector, which the subset holds


def test_a_compressed_index_is_written_from_a_memory_map_in_any_order_and_refuses_additions(tmp_path):
    import pytest

    vectors = clustered(3000, seed=2)
    source = np.lib.format.open_memmap(tmp_path / "source.npy", mode="w+", dtype=np.float16, shape=vectors.shape)
    source[:] = vectors
    ids = np.random.default_rng(3).permutation(3000).astype(np.int64) + 100  # not ascending
    path = tmp_path / "big.faiss"
    VectorIndex.write(path, ids, np.load(tmp_path / "source.npy", mmap_mode="r"), compress_above=2000)
    loaded = VectorIndex.load(path)
    assert np.allclose(loaded.vectors(ids[:50]), vectors[:50], atol=2e-3)
    _, found = loaded.search(vectors[:3], 1)
    assert found.ravel().tolist() == ids[:3].tolist()
    with pytest.raises(ValueError, match="written whole"):
        loaded.add(np.array([1]), vectors[:1])


def test_rows_read_from_an_npy_file_without_mapping_match_numpy(tmp_path):
    from embeddings.vector_index import WRITE_CHUNK, NpyRows

    array = np.random.default_rng(5).standard_normal((WRITE_CHUNK + 500, 4)).astype(np.float16)
    np.save(tmp_path / "rows.npy", array)
    rows = NpyRows(tmp_path / "rows.npy")
    assert len(rows) == len(array) and rows.shape == array.shape
    assert np.array_equal(rows[WRITE_CHUNK - 3 : WRITE_CHUNK + 3], array[WRITE_CHUNK - 3 : WRITE_CHUNK + 3])
    picked = np.array([WRITE_CHUNK + 499, 0, 7, WRITE_CHUNK, 7])  # unsorted, repeated, across chunks
    assert np.array_equal(rows[picked], array[picked])
    rows.write(2, np.ones((2, 4)))
    assert np.load(tmp_path / "rows.npy")[2:4].tolist() == [[1.0] * 4] * 2


def test_the_exact_form_needs_no_faiss_and_finds_what_a_faiss_flat_index_finds(tmp_path):
    """A small index is written as two `.npy` files and searched with numpy (a question on it never
    imports FAISS); it finds the same passages, in the same order, as FAISS's own flat index,
    also among a subset, and an index written before as a FAISS flat index still loads."""
    from embeddings.vector_index import ExactIndex, IdSubset

    vectors, ids = clustered(500, seed=3), np.arange(500) * 5 + 2
    shuffled = np.random.default_rng(1).permutation(500)  # written in any order, kept in id order
    VectorIndex.write(tmp_path / "new.faiss", ids[shuffled], vectors[shuffled])
    assert not (tmp_path / "new.faiss").exists()
    exact = VectorIndex.load(tmp_path / "new.faiss")
    assert isinstance(exact, ExactIndex) and len(exact) == 500 and exact.dimension == 32
    assert {file.name for file in exact.files} == {"new.faiss.ids.npy", "new.faiss.f32.npy"}

    flat = VectorIndex.empty(32)
    flat.add(ids, vectors)
    flat.save(tmp_path / "old.faiss")
    old = VectorIndex.load(tmp_path / "old.faiss")
    assert not isinstance(old, ExactIndex)

    queries = clustered(20, seed=4)
    (found_scores, found), (truth_scores, truth) = exact.search(queries, 10), old.search(queries, 10)
    assert np.array_equal(found, truth) and np.allclose(found_scores, truth_scores, atol=1e-5)
    subset = IdSubset(ids[::7])
    assert np.array_equal(exact.search_among(queries, 5, subset)[1], old.search_among(queries, 5, subset)[1])
    assert np.array_equal(exact.vectors(ids[[3, 1]]), vectors[[3, 1]])
    assert exact.search(queries[:1], 1000)[1].shape == (1, 500)  # k past the size: every vector, once


def test_asking_holds_numpys_blas_to_one_thread(tmp_path):
    """A pool of BLAS threads doubled a question's time (SciFact 16 against 7.6 ms; the SQLite set's
    p50 23 against 12 ms): its two threads fought the encoder's, still spinning on both cores
    (docs/PERFORMANCE.md). Asked in a fresh process (the setting is the process's), of an index of
    two small segments, whose vectors are pooled and searched without `ExactIndex.search`."""
    from qa.ingest.indexing import index_paths
    from tests.fakes import FakeEncoder

    index_dir = tmp_path / "two.qa"
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.txt").write_text(f"The {name} ferry leaves the harbour at dawn.")
        index_paths([tmp_path / name], index_dir, encoder=FakeEncoder())
    assert len(read_manifest(index_dir).segments) == 2
    probe = (
        "import json, sys, embeddings\n"
        "from threadpoolctl import threadpool_info\n"
        "from qa.collection import Collection\n"
        "from tests.fakes import FAKE_MODEL, load_fake\n"
        "with embeddings.registered_encoder(FAKE_MODEL, load_fake):\n"
        f"    Collection.open({str(index_dir)!r}).ask('When does the ferry leave?')\n"
        "print(json.dumps([i['num_threads'] for i in threadpool_info() "
        "if i['user_api'] == 'blas' and 'numpy' in i['filepath']]))"
    )
    run = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    threads = json.loads(run.stdout.strip().splitlines()[-1])
    assert threads and all(count == 1 for count in threads)
