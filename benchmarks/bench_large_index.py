"""Vector search as a large index holds it: segments written by `VectorIndex.write` (the code a
segment uses), compressed past `COMPRESS_ABOVE`, searched one after another as a snapshot does.

The vectors are random mixtures of real all-MiniLM-L6-v2 SciFact passage embeddings plus noise
(`bench_vectors.synthetic`), written to a float16 file on disk, so no step holds them all in
memory; the questions are 200 real SciFact claims encoded by the model. Each segment is written,
and the index served, in a child process of its own, whose peak RSS (`ru_maxrss`) is reported.

    python -m benchmarks.bench_large_index --size 1000000 [--segments 1] [--form compressed|ivf]
    python -m benchmarks.bench_large_index --size 10000000 --segments 5     # by hand: ~8 GB of disk

Reported: build time and peak RSS per segment, bytes on disk per passage, the serving process's
peak RSS, and search p50 / p95 with recall@10 against exact search over the same vectors; with
several segments, searched side by side in threads as a snapshot does (and one after another).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import load_average, median, peak_rss_mib, percentile, print_table, write_results
from benchmarks.corpora import SCIFACT, cache_dir, has_scifact

BLOCK = 200_000


def real_vectors(texts: int = 2000, questions: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Real passage and question embeddings of SciFact, computed once and cached."""
    cached = cache_dir() / f"large-index-real-{texts}-{questions}.npz"
    if not cached.exists():
        import embeddings
        from qa import config

        encoder = embeddings.load_encoder(**config.current().encoder_options())
        lines = (SCIFACT / "corpus.jsonl").read_text().splitlines()[:texts]
        claims = (SCIFACT / "queries.jsonl").read_text().splitlines()[:questions]
        passages = encoder.encode([json.loads(line)["text"] for line in lines])
        asked = encoder.encode_queries([json.loads(line)["text"] for line in claims])
        np.savez(cached, passages=passages, questions=asked)
    stored = np.load(cached)
    return stored["passages"].astype(np.float32), stored["questions"].astype(np.float32)


def write_source(path: Path, real: np.ndarray, size: int) -> None:
    """`size` synthetic vectors as float16, block by block."""
    from benchmarks.bench_vectors import synthetic

    source = np.lib.format.open_memmap(path, mode="w+", dtype=np.float16, shape=(size, real.shape[1]))
    for number, begin in enumerate(range(0, size, BLOCK)):
        source[begin : begin + BLOCK] = synthetic(real, min(BLOCK, size - begin), seed=number)
    source.flush()


def exact_top10(source: np.ndarray, questions: np.ndarray) -> np.ndarray:
    """The true top 10 of each question, by exact inner product over the float16 vectors."""
    best_scores = np.full((len(questions), 0), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(questions), 0), dtype=np.int64)
    for begin in range(0, len(source), BLOCK):
        block = np.asarray(source[begin : begin + BLOCK], dtype=np.float32)
        scores = np.concatenate([best_scores, questions @ block.T], axis=1)
        ids = np.concatenate(
            [best_ids, np.broadcast_to(np.arange(begin, begin + len(block)), (len(questions), len(block)))], 1
        )
        top = np.argpartition(-scores, 9, axis=1)[:, :10]
        best_scores, best_ids = np.take_along_axis(scores, top, 1), np.take_along_axis(ids, top, 1)
    return best_ids


def anonymous_rss_mib() -> float:
    """RSS less the pages of mapped files (the float16 vectors): memory the process itself holds.
    The file pages are the kernel's cache, shared and reclaimable; on this machine's kernel a
    fault on a cached file maps whole large folios, so 2,000 random rows of a 768 MB file mapped
    698 MB (throwaway check), which RSS then counts."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(args: list[str]) -> tuple[dict, float]:
    """Run one step in a fresh process; its JSON answer and its peak RSS in MiB."""
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_large_index", *args], stdout=subprocess.PIPE, check=True
    ).stdout
    answer = json.loads(output)
    return answer, answer.pop("peak_rss_mib")


def step_build(work: Path, part: int, parts: int, form: str) -> dict:
    import embeddings.vector_index as vector_index

    source = vector_index.NpyRows(work / "source.npy")  # read, not mapped: RSS is the writer's own
    bounds = np.linspace(0, len(source), parts + 1).astype(int)
    begin, end = int(bounds[part]), int(bounds[part + 1])
    started = time.perf_counter()
    compress_above = 0 if form == "compressed" else len(source)  # "ivf": IVF-Flat at any size
    vector_index.VectorIndex.write(
        work / f"segment{part}.faiss", np.arange(begin, end), source[begin:end], compress_above=compress_above
    )
    return {"seconds": time.perf_counter() - started, "vectors": end - begin, "peak_rss_mib": peak_rss_mib()}


def step_serve(work: Path, parts: int) -> dict:
    """Load every segment, then ask each question: top 10 per segment, merged, one thread."""
    from embeddings.vector_index import VectorIndex

    questions = np.load(work / "questions.npy")
    started = time.perf_counter()
    segments = [VectorIndex.load(work / f"segment{part}.faiss") for part in range(parts)]
    load_seconds = time.perf_counter() - started
    rss_loaded = peak_rss_mib()
    from qa.store.snapshot import _segment_threads

    def ask(question: np.ndarray, side_by_side: bool) -> np.ndarray:
        search = lambda segment: segment.search(question[None, :], 10)  # noqa: E731
        found = list(_segment_threads().map(search, segments)) if side_by_side else [search(s) for s in segments]
        scores, ids = np.concatenate([s[0] for s, _ in found]), np.concatenate([i[0] for _, i in found])
        return ids[np.argsort(-scores, kind="stable")[:10]]

    from threadpoolctl import threadpool_limits

    from embeddings.vector_index import one_blas_thread

    # numpy's BLAS as a question sets it (Collection.query: one thread); the default pool of one
    # per core is timed beside it, question by question, for the record (docs/SCALING.md): the
    # limits block sets it for its span and puts one thread back after.
    one_blas_thread()
    cores = len(os.sched_getaffinity(0))
    blas_pool: list[float] = []
    timings: dict[bool, list[float]] = {False: [], True: []}
    found = []
    for question in questions:  # each question both ways, alternately first, so the cache favours neither
        with threadpool_limits(limits=cores, user_api="blas"):
            started = time.perf_counter()
            ask(question, parts > 1)
            blas_pool.append(time.perf_counter() - started)
        for side_by_side in (False, True) if len(found) % 2 else (True, False):
            started = time.perf_counter()
            top = ask(question, side_by_side)
            timings[side_by_side].append(time.perf_counter() - started)
        found.append(top)
    times = timings[parts > 1]  # what a snapshot does: several large segments side by side
    truth = np.load(work / "truth.npy")
    recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found)]))
    return {
        "load_seconds": load_seconds,
        "rss_after_load_mib": rss_loaded,
        "p50_ms": median(times) * 1000,
        "p95_ms": percentile(times, 95) * 1000,
        "one_after_another_p50_ms": median(timings[False]) * 1000,
        "blas_pool_p50_ms": median(blas_pool) * 1000,  # numpy's BLAS with a thread per core, as before 2026-12-04
        "recall_at_10": recall,
        "compressed": all(segment.is_compressed for segment in segments),
        "anonymous_rss_mib": anonymous_rss_mib(),
        "peak_rss_mib": peak_rss_mib(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--segments", type=int, default=1)
    parser.add_argument("--form", choices=["compressed", "ivf"], default="compressed")
    parser.add_argument("--work", type=Path, help="a folder for the files (default: a temporary one)")
    parser.add_argument("--step", choices=["build", "serve"], help=argparse.SUPPRESS)
    parser.add_argument("--part", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step == "build":
        print(json.dumps(step_build(args.work, args.part, args.segments, args.form)))
        return
    if args.step == "serve":
        print(json.dumps(step_serve(args.work, args.segments)))
        return
    if not has_scifact():
        raise SystemExit(f"needs SciFact at {SCIFACT} (../shared/eval, beside the project)")

    with tempfile.TemporaryDirectory(dir=args.work) as scratch:
        work = Path(scratch)
        real, questions = real_vectors()
        np.save(work / "questions.npy", questions)
        started = time.perf_counter()
        write_source(work / "source.npy", real, args.size)
        np.save(work / "truth.npy", exact_top10(np.load(work / "source.npy", mmap_mode="r"), questions))
        print(f"{args.size:,} vectors and their exact top 10s in {time.perf_counter() - started:.0f} s", flush=True)
        load_before = load_average()
        builds = []
        for part in range(args.segments):
            common = ["--work", str(work), "--segments", str(args.segments), "--form", args.form]
            built, rss = child(["--step", "build", "--part", str(part), *common])
            builds.append({**built, "peak_rss_mib": rss})
            print(
                f"  segment {part}: {built['vectors']:,} vectors in {built['seconds']:.0f} s, {rss:,.0f} MiB",
                flush=True,
            )
        index_bytes = sum(file.stat().st_size for file in work.glob("segment*"))
        (work / "source.npy").unlink()  # a server has the index only: its page cache is the index's
        served, serve_rss = child(["--step", "serve", "--work", str(work), "--segments", str(args.segments)])
    result = {
        "command": "python -m benchmarks.bench_large_index " + " ".join(sys.argv[1:]),
        "size": args.size,
        "segments": args.segments,
        "form": args.form,
        "builds": builds,
        "build_seconds": sum(b["seconds"] for b in builds),
        "build_peak_rss_mib": max(b["peak_rss_mib"] for b in builds),
        "bytes_per_passage": index_bytes / args.size,
        "index_gib": index_bytes / 2**30,
        **served,
        "serve_peak_rss_mib": serve_rss,
        "load": [load_before, load_average()],
    }
    print_table(
        f"{args.size:,} vectors in {args.segments} segment(s), {args.form}",
        ["build s", "build peak RSS MiB", "bytes/passage", "serve peak RSS MiB", "serve anon MiB", "p50 ms", "p95 ms",
         "recall@10"],
        [[result["build_seconds"], result["build_peak_rss_mib"], result["bytes_per_passage"], serve_rss,
          result["anonymous_rss_mib"], result["p50_ms"], result["p95_ms"], result["recall_at_10"]]],
    )  # fmt: skip
    print(f"results: {write_results(f'large_index-{args.size}-{args.segments}-{args.form}', result)}")


if __name__ == "__main__":
    main()
