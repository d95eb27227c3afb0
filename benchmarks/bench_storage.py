"""The index as a storage engine: what an update costs at 1M passages, search over segments,
rankings that do not depend on how an index was built, and SIGKILL at random moments.

    python -m benchmarks.bench_storage [--parts increments update segments crash merge] [--large 1000000]

increments  SciFact's corpus indexed in one run (the `qa eval` cache) and in 20 increments:
            nDCG@10 of each and the share of queries with the same top 10. Vectors are computed
            once and reused (same texts, same vectors), so only the storage differs.
segments    search p50 over SciFact in 10 segments vs the same index after `--compact`.
update      adding one 1-page document to an index of `--large` passages vs one of 1,000, same
            run, interleaved: wall time (median) and bytes written (/proc/self/io wchar). The
            large index is made without embedding: real SciFact passage vectors, perturbed, and
            their texts repeated.
merge       the merge policy's largest merge: two segments of `--merge-size` passages (half the
            cap each, made as for update) merged into one by `qa index --compact`'s work in a
            fresh process: wall time and that process's peak RSS.
crash       `qa index` (real model) and `qa index --compact` killed with SIGKILL at random moments;
            after each, the last committed generation must open, answer, and hold every document.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks.common import (
    REPO,
    load_average,
    median,
    peak_rss_mib,
    percentile,
    print_table,
    qa_command,
    write_results,
)
from benchmarks.corpora import SCIFACT, cache_dir, has_scifact

INCREMENTS = 20
SEGMENTS = 10


class CachedEncoder:
    """The real encoder, with vectors remembered by text on disk: several builds of one corpus
    embed it once. Everything else is the real encoder's."""

    def __init__(self, encoder, path: Path) -> None:
        self.encoder = encoder
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            stored = np.load(path, allow_pickle=False)
            self.vectors = dict(zip(stored["texts"].tolist(), stored["vectors"]))

    def __getattr__(self, name: str):
        return getattr(self.encoder, name)

    def encode(self, texts, on_progress=None) -> np.ndarray:
        missing = list(dict.fromkeys(text for text in texts if text not in self.vectors))
        if missing:
            for text, vector in zip(missing, self.encoder.encode(missing, on_progress=on_progress)):
                self.vectors[text] = vector
            self.save()
        return np.stack([self.vectors[text] for text in texts]) if texts else np.zeros((0, self.dimension), np.float32)

    def save(self) -> None:
        texts = list(self.vectors)
        temporary = self.path.with_suffix(".tmp.npz")
        np.savez(temporary, texts=np.array(texts), vectors=np.stack([self.vectors[t] for t in texts]))
        os.replace(temporary, self.path)


def scifact_encoder() -> CachedEncoder:
    import embeddings
    from qa import config

    return CachedEncoder(
        embeddings.load_encoder(**config.current().encoder_options()), cache_dir() / "scifact-vectors.npz"
    )


def progress_printer():
    last = [0.0]

    def show(event) -> None:
        if event.total is None or time.monotonic() - last[0] > 30 or event.done == event.total:
            last[0] = time.monotonic()
            print(f"  {event.task} {event.done}/{event.total or ''}", flush=True)

    return show


def ranked_documents(collection, eval_set):
    from qa.evaluation.metrics import summarize
    from qa.evaluation.runner import run_questions

    results = run_questions(collection, eval_set)
    return summarize(eval_set, results), {qid: result.doc_ids for qid, result in results.items()}


def top_documents(doc_ids: list[str], k: int = 10) -> list[str]:
    return list(dict.fromkeys(doc_ids))[:k]


def part_increments(scratch: Path, encoder) -> dict:
    from qa.collection import Collection
    from qa.evaluation import load_eval_set
    from qa.evaluation.runner import corpus_documents, corpus_index
    from qa.ingest.indexing import IndexOptions, index_documents
    from qa.store import read_manifest

    eval_set = load_eval_set(SCIFACT)
    one_run = corpus_index(eval_set, encoder=encoder, on_progress=progress_printer())
    documents = corpus_documents(eval_set)
    incremental = scratch / "scifact-increments.qa"
    size = -(-len(documents) // INCREMENTS)
    for number, begin in enumerate(range(0, len(documents), size)):
        index_documents(
            documents[begin : begin + size], incremental, IndexOptions(rebuild=number == 0), encoder=encoder
        )
    figures = {}
    tops = {}
    for name, index_dir in (("one run", one_run), (f"{INCREMENTS} increments", incremental)):
        metrics, ranked = ranked_documents(Collection.open(index_dir, encoder=encoder), eval_set)
        figures[name] = {
            "ndcg@10": round(metrics["ndcg@10"], 4),
            "recall@100": round(metrics["recall@100"], 4),
            "segments": len(read_manifest(index_dir).segments),
        }
        tops[name] = {qid: top_documents(ids) for qid, ids in ranked.items()}
    first, second = tops.values()
    same = sum(first[qid] == second[qid] for qid in first) / len(first)
    ndcg = [f["ndcg@10"] for f in figures.values()]
    print_table(
        f"SciFact ({len(documents)} abstracts, {len(eval_set.questions)} queries): one run vs {INCREMENTS} increments",
        ["build", "nDCG@10", "Recall@100", "segments"],
        [[name, f["ndcg@10"], f["recall@100"], f["segments"]] for name, f in figures.items()],
    )
    print(f"same top 10: {same:.3f} of queries; nDCG@10 difference {abs(ndcg[0] - ndcg[1]):.4f}")
    return {
        "builds": figures,
        "same_top10_share": round(same, 4),
        "ndcg_difference": round(abs(ndcg[0] - ndcg[1]), 4),
        "targets": {"ndcg_difference": 0.002, "same_top10_share": 0.95},
    }


def part_segments(scratch: Path, encoder, runs: int) -> dict:
    """Search p50 over SciFact in SEGMENTS segments vs compacted (merging held off while building)."""
    from qa.collection import Collection
    from qa.evaluation import load_eval_set
    from qa.evaluation.runner import corpus_documents
    from qa.ingest.indexing import IndexOptions, compact_index, index_documents
    from qa.store import read_manifest
    from qa.store.merge_policy import TieredMergePolicy

    eval_set = load_eval_set(SCIFACT)
    documents = corpus_documents(eval_set)
    segmented = scratch / "scifact-segments.qa"
    size = -(-len(documents) // SEGMENTS)
    unmerged = TieredMergePolicy(factor=SEGMENTS + 1)  # keeps the SEGMENTS segments apart
    for number, begin in enumerate(range(0, len(documents), size)):
        options = IndexOptions(rebuild=number == 0, merge_policy=unmerged)
        index_documents(documents[begin : begin + size], segmented, options, encoder=encoder)
    compacted = scratch / "scifact-compacted.qa"
    shutil.copytree(segmented, compacted)
    compact_index(compacted)
    collections = {
        f"{len(read_manifest(segmented).segments)} segments": Collection.open(segmented, encoder=encoder),
        "after --compact (1 segment)": Collection.open(compacted, encoder=encoder),
    }
    questions = [q.question for q in eval_set.questions]
    queries = [next(iter(collections.values())).query(q) for q in questions]  # encoded once, outside the timing
    timings: dict[str, list[float]] = {name: [] for name in collections}
    for _ in range(runs):
        for name, collection in collections.items():  # interleaved, so load changes hit both alike
            searcher = collection.searcher()
            for query in queries:
                started = time.perf_counter()
                collection.retriever.rank(searcher, query, 20, searcher.snapshot.passages)
                timings[name].append((time.perf_counter() - started) * 1000)
    figures = {
        name: {"p50_ms": round(median(t), 3), "p95_ms": round(percentile(t, 95), 3)} for name, t in timings.items()
    }
    names = list(figures)
    ratio = figures[names[0]]["p50_ms"] / figures[names[1]]["p50_ms"]
    print_table(
        f"Search (hybrid ranking, 20 passages, question already encoded), {len(questions)} SciFact queries × {runs}",
        ["index", "p50 ms", "p95 ms"],
        [[name, f["p50_ms"], f["p95_ms"]] for name, f in figures.items()],
    )
    print(f"{names[0]} ÷ compacted: {ratio:.3f} (target ≤ 1.3)")
    return {"search": figures, "ratio": round(ratio, 3), "target_ratio": 1.3, "load_average": load_average()}


def synthetic_index(
    index_dir: Path, size: int, encoder, texts: list[str], vectors: np.ndarray, segment_passages: int | None = None
) -> Path:
    """An index of `size` passages made without embedding: real vectors perturbed (and
    re-normalised), real texts repeated, ten passages per document, in segments of
    `segment_passages` (by default the merge policy's cap, 2M, as indexing would leave them). One
    segment is made at a time, so memory holds one segment's rows and vectors."""
    from dataclasses import asdict

    from embeddings.vector_index import faiss_version
    from qa.ingest.chunking import ChunkingSettings
    from qa.store import Manifest, ModelInfo
    from qa.store.manifest import Counts, utc_now, write_manifest
    from qa.store.merge_policy import DEFAULT_MERGE_POLICY
    from qa.store.segment import DocumentRecord, PassageRecord, write_segment

    rng = np.random.default_rng(size)
    picks = rng.integers(0, len(texts), size)
    index_dir.mkdir(parents=True)
    infos = []
    step = segment_passages or DEFAULT_MERGE_POLICY.max_segment_passages
    for number, start in enumerate(range(0, size, step), start=1):
        end = min(size, start + step)
        documents, passages = [], []
        for first in range(start, end, 10):
            doc_id = f"synthetic-{first // 10:07d}"
            parts, offset = [], 0
            for passage_id in range(first, min(first + 10, end)):
                text = texts[picks[passage_id]]
                passages.append(
                    PassageRecord(passage_id, doc_id, passage_id - first, offset, offset + len(text), None, text)
                )
                parts.append(text)
                offset += len(text) + 2
            body = "\n\n".join(parts)
            documents.append(
                DocumentRecord(doc_id, str(index_dir.parent / "synthetic"), f"{doc_id}.txt", doc_id, body, "")
            )
        matrix = np.empty((end - start, vectors.shape[1]), dtype=np.float32)
        for begin in range(0, end - start, 100_000):
            rows = picks[start + begin : min(end, start + begin + 100_000)]
            block = vectors[rows] + rng.normal(0, 0.02, (len(rows), vectors.shape[1])).astype(np.float32)
            matrix[begin : begin + len(rows)] = block / np.linalg.norm(block, axis=1, keepdims=True)
        infos.append(write_segment(index_dir, f"{number:08d}-synthetic", documents, passages, matrix))
        del documents, passages, matrix
    now = utc_now()
    manifest = Manifest(
        generation=1,
        model=ModelInfo(name=encoder.name, dimension=encoder.dimension, max_tokens=encoder.max_tokens),
        faiss_version=faiss_version(),
        created=now,
        updated=now,
        chunking=asdict(ChunkingSettings()),
        counts=Counts(documents=sum(info.documents for info in infos), passages=size),
        next_passage_id=size,
        segments=infos,
    )
    write_manifest(index_dir, manifest)
    return index_dir


def bytes_written() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


def real_passages(scratch: Path, encoder, count: int = 5000) -> tuple[list[str], np.ndarray]:
    """Texts and vectors of `count` real SciFact passages (from the increments part's index), the
    material of the synthetic indexes."""
    from qa.collection import Collection

    if not (scratch / "scifact-increments.qa").exists():
        part_increments(scratch, encoder)
    snapshot = Collection.open(scratch / "scifact-increments.qa", encoder=encoder).snapshot()
    ids = [passage_id for passage_id, _, _ in snapshot.passage_texts()][:count]
    rows = snapshot.passages(ids)
    return [rows[i].text for i in ids], snapshot.vectors(np.array(ids, dtype=np.int64))


def part_update(scratch: Path, encoder, large: int, runs: int) -> dict:
    from qa.ingest.indexing import index_paths

    texts, vectors = real_passages(scratch, encoder)
    started = time.perf_counter()
    indexes = {}
    for size in (1000, large):
        indexes[size] = synthetic_index(scratch / f"synthetic-{size}.qa", size, encoder.encoder, texts, vectors)
        print(f"  built {size:,} passages in {time.perf_counter() - started:.0f} s", flush=True)
    page = " ".join(sorted((REPO / "seeds").glob("*.txt"))[0].read_text().split()[:500])
    pages = scratch / "pages"
    pages.mkdir()
    real = encoder.encoder
    real.encode(["warm up the passage model"])
    seconds: dict[int, list[float]] = {size: [] for size in indexes}
    written: dict[int, list[int]] = {size: [] for size in indexes}
    for run in range(runs):
        for size, index_dir in indexes.items():  # interleaved: load changes hit both alike
            path = pages / f"page-{size}-{run}.txt"
            path.write_text(f"Page {run}. {page}")
            before, started = bytes_written(), time.perf_counter()
            report = index_paths([path], index_dir, encoder=real)
            seconds[size].append(time.perf_counter() - started)
            written[size].append(bytes_written() - before)
            assert report.added == 1
    segment_bytes = {
        size: sum(f.stat().st_size for f in sorted((index_dir / "segments").iterdir())[-1].rglob("*") if f.is_file())
        for size, index_dir in indexes.items()
    }
    figures = {
        size: {
            "seconds_median": round(median(seconds[size]), 4),
            "seconds_runs": [round(s, 4) for s in seconds[size]],
            "bytes_written_median": int(median(written[size])),
            "last_segment_bytes": segment_bytes[size],
            "index_bytes": sum(f.stat().st_size for f in indexes[size].rglob("*") if f.is_file()),
        }
        for size in indexes
    }
    for size, index_dir in indexes.items():  # then questions, each index served by a fresh process
        figures[size]["questions"] = in_fresh_process(_ask_questions, str(index_dir))
    ratio = figures[large]["seconds_median"] / figures[1000]["seconds_median"]
    print_table(
        f"A SciFact question through Collection.ask (hybrid: dense and BM25), p50 of {QUESTIONS} after "
        f"{WARM_UP} to warm up, a fresh process per index",
        ["index", "p50 ms", "p95 ms", "process peak RSS MiB"],
        [
            [f"{size:,} passages", f["questions"]["p50_ms"], f["questions"]["p95_ms"], f["questions"]["peak_rss_mib"]]
            for size, f in figures.items()
        ],
    )
    print_table(
        f"Adding one 1-page document (real model, loaded), median of {runs}, interleaved",
        ["index", "seconds", "bytes written", "its new segment", "index size"],
        [
            [f"{size:,} passages", f["seconds_median"], f["bytes_written_median"], f["last_segment_bytes"],
             f["index_bytes"]]
            for size, f in figures.items()
        ],
    )  # fmt: skip
    print(f"{large:,} ÷ 1,000: {ratio:.3f} (target ≤ 1.5)")
    question_ratio = figures[large]["questions"]["p50_ms"] / figures[1000]["questions"]["p50_ms"]
    print(f"a question at {large:,} ÷ at 1,000: {question_ratio:.2f}")
    return {
        "sizes": {str(k): v for k, v in figures.items()},
        "ratio": round(ratio, 3),
        "target_ratio": 1.5,
        "question_ratio": round(question_ratio, 2),
    }


QUESTIONS = 100
WARM_UP = 10


def in_fresh_process(function: Callable[..., dict], *args) -> dict:
    """`function(*args)` in a new interpreter, so that its peak RSS (read by it, `peak_rss_mib`) is
    its own and not this process's, which holds a synthetic index's making."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(function, args)


def _ask_questions(index_dir: str) -> dict:
    """p50 and p95 of SciFact questions asked of `index_dir`, and this process's peak RSS."""
    from qa.collection import Collection
    from qa.evaluation import load_eval_set

    questions = [q.question for q in load_eval_set(SCIFACT).questions[: WARM_UP + QUESTIONS]]
    collection = Collection.open(Path(index_dir))
    milliseconds = []
    for number, question in enumerate(questions):
        started = time.perf_counter()
        answer = collection.ask(question)
        if number >= WARM_UP:
            milliseconds.append((time.perf_counter() - started) * 1000)
        assert answer.passages
    return {
        "p50_ms": round(median(milliseconds), 2),
        "p95_ms": round(percentile(milliseconds, 95), 2),
        "peak_rss_mib": round(peak_rss_mib()),
    }


def _compact(index_dir: str) -> dict:
    """`qa index --compact`'s work (`compact_index`): its wall time and this process's peak RSS."""
    from qa.ingest.indexing import compact_index

    started = time.perf_counter()
    compact_index(Path(index_dir))
    return {"seconds": time.perf_counter() - started, "peak_rss_mib": round(peak_rss_mib())}


def part_merge(scratch: Path, encoder, size: int) -> dict:
    from embeddings.vector_index import COMPRESS_ABOVE
    from qa.store import read_manifest

    texts, vectors = real_passages(scratch, encoder)
    index_dir = synthetic_index(scratch / f"merge-{size}.qa", 2 * size, encoder.encoder, texts, vectors, size)
    before = len(read_manifest(index_dir).segments)
    compacted = in_fresh_process(_compact, str(index_dir))
    after = read_manifest(index_dir).segments
    assert len(after) == 1 and after[0].passages == 2 * size, after
    figures = {
        "segments_before": before,
        "passages": 2 * size,
        "merge_seconds": round(compacted["seconds"], 1),  # "seconds" is the whole part's, set by main
        "passages_per_second": round(2 * size / compacted["seconds"]),
        "peak_rss_mib": compacted["peak_rss_mib"],
        "compressed": 2 * size > COMPRESS_ABOVE,
        "index_bytes": sum(f.stat().st_size for f in index_dir.rglob("*") if f.is_file()),
    }
    print_table(
        f"`qa index --compact` (compact_index, in a fresh process): two segments of {size:,} passages into one",
        ["seconds", "passages/s", "peak RSS MiB", "compressed"],
        [[figures["merge_seconds"], figures["passages_per_second"], figures["peak_rss_mib"], figures["compressed"]]],
    )
    return figures


def part_crash(scratch: Path, trials: int) -> dict:
    """SIGKILL `qa index` (and `--compact`) at random moments; check the index after each."""
    from qa.collection import Collection
    from qa.store import read_manifest

    folder = scratch / "crash-docs"
    shutil.copytree(REPO / "seeds", folder)
    index_dir = scratch / "crash.qa"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    qa = qa_command()
    subprocess.run([*qa, "index", str(folder), "--index", str(index_dir)], check=True, env=env, capture_output=True)
    seeds = sorted(folder.glob("*.txt"))
    counter = iter(range(10**6))

    def prepare(kind: str) -> list[str]:
        """Work for one run: for `index`, a changed, an added and a removed file; for `compact`,
        one more segment (two notes and a changed file) and deletion marks to merge away."""
        number = next(counter)
        if kind == "index":
            victim = seeds[number % len(seeds)]
            victim.write_text(victim.read_text() + f"\n\nAddendum {number}: the ferry left at dawn.")
            (folder / f"added-{number}.txt").write_text(f"Added note {number}. " + seeds[0].read_text()[:2000])
            (folder / f"added-{number - 1}.txt").unlink(missing_ok=True)
            return [*qa, "index", str(folder), "--index", str(index_dir)]
        for extra in range(3):
            note = folder / f"note-{number}-{extra}.txt"
            note.write_text(f"Note {number}-{extra}: " + seeds[extra].read_text()[:1500])
            subprocess.run(
                [*qa, "index", str(note), "--index", str(index_dir)], check=True, env=env, capture_output=True
            )
        return [*qa, "index", "--compact", "--index", str(index_dir)]

    rng = random.Random(7)
    outcomes: dict[str, list[dict]] = {}
    references = {}
    for kind in ("index", "compact"):
        command = prepare(kind)
        started = time.perf_counter()
        subprocess.run(command, check=True, env=env, capture_output=True)
        references[kind] = time.perf_counter() - started  # one whole run, to draw kill moments from
        outcomes[kind] = []
        for trial in range(trials):
            command = prepare(kind)
            before = _documents(index_dir)
            generation = read_manifest(index_dir).generation
            delay = rng.uniform(0, references[kind])
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
            killed = process.returncode == -signal.SIGKILL
            after = _documents(index_dir)
            manifest = read_manifest(index_dir)
            unchanged = manifest.generation == generation
            lost = [d for d, n in before.items() if unchanged and after.get(d) != n]
            if not unchanged and kind == "compact":
                lost = [d for d, n in before.items() if after.get(d) != n]
            answer = Collection.open(index_dir).ask("How many Libyan army officers appeared in Rome?", top_k=3)
            outcomes[kind].append(
                {
                    "delay": round(delay, 2),
                    "killed": killed,
                    "generation_before": generation,
                    "generation_after": manifest.generation,
                    "documents_lost": lost,
                    "answered": bool(answer.passages) and "Eight Libyan army officers" in answer.passages[0].text,
                }
            )
            print(f"  {kind} trial {trial + 1}: kill after {delay:.2f} s, killed={killed}, "
                  f"generation {generation}→{manifest.generation}, lost {len(lost)}", flush=True)  # fmt: skip
    summary = {
        kind: {
            "trials": len(rows),
            "whole_run_seconds": round(references[kind], 2),
            "killed": sum(r["killed"] for r in rows),
            "opened_and_answered": sum(r["answered"] for r in rows),
            "documents_lost": sum(len(r["documents_lost"]) for r in rows),
        }
        for kind, rows in outcomes.items()
    }
    print_table(
        "SIGKILL at random moments (uniform over one whole run)",
        ["command", "trials", "whole run s", "killed mid-run", "opened and answered after", "committed docs lost"],
        [
            [k, s["trials"], s["whole_run_seconds"], s["killed"], s["opened_and_answered"], s["documents_lost"]]
            for k, s in summary.items()
        ],
    )
    return {"summary": summary, "trials": outcomes}


def _documents(index_dir: Path) -> dict[str, int]:
    from qa.store import Snapshot

    return {d.doc_id: d.passages for d in Snapshot.open(index_dir, load=False).documents()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", nargs="+", default=["increments", "segments", "update", "crash"])
    parser.add_argument("--large", type=int, default=1_000_000, help="passages of the large index (update)")
    parser.add_argument("--merge-size", type=int, default=1_000_000, help="passages of each segment (merge)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--trials", type=int, default=20, help="SIGKILLs per command (crash)")
    args = parser.parse_args()
    if not has_scifact():
        raise SystemExit(f"needs the shared SciFact set at {SCIFACT}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import json

    from benchmarks import common

    earlier = common.RESULTS / "storage.json"  # parts not run now keep their earlier figures
    results: dict = json.loads(earlier.read_text()) if earlier.exists() else {}
    results.pop("machine", None)
    results["command"] = "python -m benchmarks.bench_storage " + " ".join(sys.argv[1:])
    encoder = scifact_encoder() if {"increments", "segments", "update", "merge"} & set(args.parts) else None
    with tempfile.TemporaryDirectory(prefix="bench-storage-", dir=cache_dir()) as scratch_name:
        scratch = Path(scratch_name)
        for part in args.parts:
            print(f"\n== {part} (load {load_average()})", flush=True)
            started = time.perf_counter()
            if part == "increments":
                results[part] = part_increments(scratch, encoder)
            elif part == "segments":
                results[part] = part_segments(scratch, encoder, args.runs)
            elif part == "update":
                results[part] = part_update(scratch, encoder, args.large, args.runs)
            elif part == "merge":
                results[part] = part_merge(scratch, encoder, args.merge_size)
            elif part == "crash":
                results[part] = part_crash(scratch, args.trials)
            results[part]["seconds"] = round(time.perf_counter() - started, 1)
            results[part]["command"] = results["command"]
            results[part]["load_average_after"] = load_average()
            path = write_results("storage", results)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
