"""Vector search at scale: exact vs IVF at 100k and 1M passages, recall@10 against exact search.

The corpus vectors are random mixtures of real all-MiniLM-L6-v2 passage embeddings plus noise
(SciFact abstracts when ../shared is present, else the seeds); the queries are real question
embeddings (SciFact's queries). So the vectors have the structure of real text, not noise.

    python -m benchmarks.bench_vectors [--sizes 100000 1000000] [--queries 200]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.common import REPO, median, percentile, print_table, write_results

SCIFACT = REPO.parent / "shared" / "eval" / "scifact" / "corpus.jsonl"


def real_embeddings(limit: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    """Real passage and question embeddings: SciFact abstracts and queries, else the seeds."""
    from embeddings import SentenceTransformerEncoder
    from qa import config

    encoder = SentenceTransformerEncoder(**config.current().encoder_options())
    if SCIFACT.exists():
        texts = [json.loads(line)["text"] for line in SCIFACT.read_text().splitlines()[:limit]]
        queries = [json.loads(line)["text"] for line in (SCIFACT.parent / "queries.jsonl").read_text().splitlines()]
    else:
        texts = [
            p for path in sorted((REPO / "seeds").glob("*.txt")) for p in path.read_text().split("\n\n") if len(p) > 80
        ]
        queries = [sentence for text in texts for sentence in text.split(". ")[:1]]
    return encoder.encode(texts), encoder.encode_queries(queries[:300])


def synthetic(real: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Random mixtures of three real vectors plus noise: a continuum shaped like real embeddings."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, real.shape[1]), dtype=np.float32)
    for begin in range(0, count, 100_000):
        n = min(100_000, count - begin)
        weights = rng.dirichlet((1.0, 1.0, 1.0), n).astype(np.float32)
        block = sum(weights[:, j : j + 1] * real[rng.integers(0, len(real), n)] for j in range(3))
        block += 0.03 * rng.standard_normal((n, real.shape[1]), dtype=np.float32)
        out[begin : begin + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def search_times(index, queries: np.ndarray, k: int = 10) -> tuple[list[float], np.ndarray]:
    import time

    times, found = [], []
    for query in queries:
        start = time.perf_counter()
        _, ids = index.search(query[None, :], k)
        times.append(time.perf_counter() - start)
        found.append(ids[0])
    return times, np.array(found)


def recall_at_10(truth: np.ndarray, found: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found)]))


def probe_sweep(index, queries: np.ndarray, truth: np.ndarray) -> list[dict]:
    """Latency and recall for other probe counts: the evidence behind `probes_for`."""
    ivf, chosen, rows = index._index, index._index.nprobe, []
    for nprobe in (8, 16, 32, 48, 64, 96, 128):
        ivf.nprobe = nprobe
        times, found = search_times(index, queries)
        rows.append({"nprobe": nprobe, "p50_ms": median(times) * 1000, "recall@10": recall_at_10(truth, found)})
    ivf.nprobe = chosen
    return rows


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_size(real: np.ndarray, questions: np.ndarray, size: int, n_queries: int) -> dict:
    from embeddings.vector_index import VectorIndex

    vectors = synthetic(real, size, seed=size)
    queries = questions[:n_queries]
    exact = VectorIndex.empty(vectors.shape[1])
    exact.add(np.arange(size), vectors)
    exact_times, truth = search_times(exact, queries)
    approximate = exact.resized()
    del vectors
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "vectors.faiss"
        approximate.save(path)
        disk_mb = os.path.getsize(path) / 2**20
        del approximate, exact
        loaded = VectorIndex.load(path)
        approx_times, found = search_times(loaded, queries)
        sweep = probe_sweep(loaded, queries, truth) if loaded.is_approximate else []
    return {
        "nprobe": getattr(loaded._index, "nprobe", None),
        "nprobe_sweep": sweep,
        "passages": size,
        "exact_p50_ms": median(exact_times) * 1000,
        "ivf_p50_ms": median(approx_times) * 1000,
        "ivf_p95_ms": percentile(approx_times, 95) * 1000,
        "speedup": median(exact_times) / median(approx_times),
        "recall@10": recall_at_10(truth, found),
        "disk_mb": disk_mb,
        "vectors_in_memory_mb": size * real.shape[1] * 4 / 2**20,
        "peak_rss_mb": rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    real, questions = real_embeddings()
    results = [bench_size(real, questions, size, args.queries) for size in args.sizes]
    figures = [name for name in results[0] if name != "nprobe_sweep"]
    print_table(
        "Vector search: exact vs IVF (median of per-query times)",
        ["figure", *(f"{r['passages']:,}" for r in results)],
        [[name, *(r[name] for r in results)] for name in figures],
    )
    for r in results:
        if r["nprobe_sweep"]:
            print_table(
                f"IVF probes at {r['passages']:,}",
                ["nprobe", "p50_ms", "recall@10"],
                [list(row.values()) for row in r["nprobe_sweep"]],
            )
    print(f"written to {write_results('vectors', {'results': results})}")


if __name__ == "__main__":
    main()
