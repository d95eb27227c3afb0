import numpy as np

from embeddings.vector_index import VectorIndex


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
