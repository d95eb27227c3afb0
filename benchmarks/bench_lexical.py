"""BM25 at scale: a question's best passages by BM25 over millions of passages, pruned (MaxScore),
against scoring every matching passage, as before (one sort of every matching posting), in the
same process.

    python -m benchmarks.bench_lexical [--passages 10000000] [--segment 2000000] [--questions 100]

The index is lexical only: postings of real SciFact passages (5,000, repeated, as bench_storage's
synthetic indexes), in segments of `--segment` passages (the merge policy's cap), written to disk
and memory-mapped as a collection maps them. They are kept under the benchmark cache, so a second
run reuses them. Each SciFact question is scored every way, interleaved, with as many passage ids
as the dense side gives to score besides; every way must give the same passages and scores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import load_average, median, peak_rss_mib, percentile, print_table, write_results
from benchmarks.corpora import SCIFACT, cache_dir, has_scifact


def lexical_parts(passages: int, segment: int) -> list:
    """Postings of `passages` real passages in segments of `segment`, on disk and mapped."""
    from benchmarks.bench_storage import real_passages, scifact_encoder
    from qa.search.bm25 import LexicalPart
    from qa.store.postings import Postings

    folder = cache_dir() / f"lexical-{passages}-{segment}"
    starts = range(0, passages, segment)
    if not all((folder / f"{number:03d}" / "lengths.npy").exists() for number in range(len(starts))):
        with tempfile.TemporaryDirectory(prefix="bench-lexical-", dir=cache_dir()) as scratch:
            texts, _ = real_passages(Path(scratch), scifact_encoder())
        picks = np.random.default_rng(passages).integers(0, len(texts), passages)
        for number, start in enumerate(starts):
            started = time.perf_counter()
            end = min(passages, start + segment)
            Postings.build([texts[i] for i in picks[start:end]]).save(folder / f"{number:03d}")
            print(f"  segment {number + 1}/{len(starts)} in {time.perf_counter() - started:.0f} s", flush=True)
    parts = []
    for number, start in enumerate(starts):
        end = min(passages, start + segment)
        ids = np.arange(start, end, dtype=np.int64)
        parts.append(LexicalPart(Postings.load(folder / f"{number:03d}"), ids, None))
    return parts


def sorted_scores(bm25, terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The baseline: every term's matching postings over all segments, summed by one np.unique
    (a sort of every posting), as BM25.scores did until this benchmark."""
    idf = bm25.idf(terms)
    ids, contributions = [], []
    for term in terms:
        if term not in idf:
            continue
        found = list(bm25._matches(term))
        if not found:
            continue
        lengths = np.concatenate([part.postings.lengths[rows] for part, rows, _ in found])
        frequencies = np.concatenate([frequencies for _, _, frequencies in found])
        norm = bm25.k1 * ((1 - bm25.b) + bm25.b * lengths / bm25.average_length)
        ids.append(np.concatenate([part.ids[rows] for part, rows, _ in found]))
        contributions.append(idf[term] * frequencies / (norm + frequencies))
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    unique, inverse = np.unique(np.concatenate(ids), return_inverse=True)
    return unique, np.bincount(inverse, weights=np.concatenate(contributions)).astype(np.float32)


def best(ids: np.ndarray, scores: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The n best, equal scores by id, as (ids, scores) in that order."""
    order = np.lexsort((ids, -scores))[:n]
    return ids[order], scores[order]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passages", type=int, default=2_000_000)
    parser.add_argument("--segment", type=int, default=2_000_000, help="passages per segment (the merge cap)")
    parser.add_argument("--questions", type=int, default=100)
    args = parser.parse_args()
    if not has_scifact():
        raise SystemExit(f"needs the shared SciFact set at {SCIFACT}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from qa.evaluation import load_eval_set
    from qa.search.bm25 import BM25
    from qa.search.retrieval import HybridRetriever
    from qa.text.analysis import question_terms

    started = time.perf_counter()
    parts = lexical_parts(args.passages, args.segment)
    print(f"postings ready in {time.perf_counter() - started:.0f} s (load {load_average()})", flush=True)
    bm25 = BM25(parts)
    questions = [question_terms(q.question) for q in load_eval_set(SCIFACT).questions[: args.questions + 5]]
    rng = np.random.default_rng(0)
    n = HybridRetriever().settings.candidates
    ways = {
        "pruned top n (now)": lambda terms, also: bm25.top(terms, n, also=also),
        "every match, summed per segment": lambda terms, also: best(*bm25.scores(terms), n),
        "every match, one sort (before)": lambda terms, also: best(*sorted_scores(bm25, terms), n),
    }
    for terms in questions[:5]:  # warm the mapped pages every way reads
        for way in ways.values():
            way(terms, None)
    timings: dict[str, list[float]] = {name: [] for name in ways}
    matched = []
    for terms in questions[5:]:
        also = rng.integers(0, args.passages, n)  # as the dense side's candidates, scored too
        results = []
        for name, way in ways.items():
            began = time.perf_counter()
            results.append(way(terms, also))
            timings[name].append((time.perf_counter() - began) * 1000)
        pruned_ids, pruned_scores = best(*results[0], n)
        for ids, scores in results[1:]:  # the same n best, to the last bit
            np.testing.assert_array_equal(pruned_ids, ids)
            np.testing.assert_array_equal(pruned_scores, scores)
        matched.append(len(sorted_scores(bm25, terms)[0]))
    figures = {
        name: {"p50_ms": round(median(t), 2), "p95_ms": round(percentile(t, 95), 2)} for name, t in timings.items()
    }
    print_table(
        f"BM25's {n} best passages for {args.questions} SciFact questions over {args.passages:,} passages "
        f"({len(parts)} segments), interleaved, the same passages and scores every way",
        ["scoring", "p50 ms", "p95 ms"],
        [[name, f["p50_ms"], f["p95_ms"]] for name, f in figures.items()],
    )
    now, _, before = figures.values()
    ratio = now["p50_ms"] / before["p50_ms"]
    print(f"now ÷ before (p50): {ratio:.3f}; passages matching a question's terms, median {int(median(matched)):,}")
    path = write_results(
        f"lexical-{args.passages}",
        {
            "command": "python -m benchmarks.bench_lexical "
            f"--passages {args.passages} --segment {args.segment} --questions {args.questions}",
            "passages": args.passages,
            "segments": len(parts),
            "questions": args.questions,
            "scores": figures,
            "ratio_p50": round(ratio, 3),
            "matched_median": int(median(matched)),
            "peak_rss_mib": round(peak_rss_mib()),
            "load_average": load_average(),
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
