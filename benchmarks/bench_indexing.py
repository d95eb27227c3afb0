"""Indexing throughput: `qa index` on SciFact's abstracts against raw `SentenceTransformer.encode` of the same passages.

The corpus is written as one Markdown file per abstract (see benchmarks/corpora.py) and indexed by
the real command, `qa index FOLDER --index DIR --rebuild`, in a subprocess: interpreter start,
imports, model load, reading, chunking, embedding, BM25 and writing all count. The baseline encodes
exactly the texts the index embedded (title + passage, read back from its passages.sqlite) with
sentence-transformers alone, same model, same batch size, in this process with the model loaded.
`qa index` encodes through ONNX Runtime (the same vectors, faster on a CPU), so a second baseline,
"raw ONNX encode", times that encoder alone on the same texts: the ratio to it is what the
pipeline itself costs.
`--in-process` adds `index_paths()` called in this process (imports already done) to separate the
pipeline's own overhead from start-up; `--quantize` indexes with the int8 ONNX model instead (the
baseline stays sentence-transformers; results go to indexing-quantize.json). Methods alternate run
by run so load from other processes hits them alike; each figure is the median over `--runs`.

`--compare-kinds` (or its old name `--compare-int8`) times only `qa index` with passages in float32
(`QA_PASSAGES=float32 qa index --no-quantize`), in bfloat16 (the default where the CPU has AMX and
torch is installed, `QA_PASSAGES=bfloat16`) and in int8 (`--quantize`), run by run in turn, and
reports passages/s per core (results in indexing-kinds.json). With `--before DIR`, a checkout of an
earlier commit (`git worktree add DIR COMMIT`) runs its own `qa index` with its own defaults in the
same rounds, through this interpreter: today's default against the new one, in one run.

    python -m benchmarks.bench_indexing [--limit 500] [--runs 3] [--in-process] [--quantize]
    python -m benchmarks.bench_indexing --compare-kinds [--before DIR] [--limit 500] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import exit_on_sigterm, load_average, median, print_table, qa_command, write_results
from benchmarks.corpora import cache_dir, has_scifact, scifact_folder


def embedded_texts(index_dir: Path) -> list[str]:
    """What the index embedded for each passage, in passage order (title and text, as the indexer does)."""
    from qa.store import Snapshot, searchable_text

    snapshot = Snapshot.open(index_dir, load=False)
    rows = sorted(
        tuple(row)
        for segment in snapshot.segments
        for row in segment.passage_texts()
        if row[1] not in snapshot.deleted[segment.name]
    )
    return [searchable_text(title, text) for _, _, text, title in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="index only the first N abstracts (default: all 5,183)")
    parser.add_argument("--runs", type=int, default=3, help="runs per method; each figure is their median")
    parser.add_argument("--in-process", action="store_true", help="also time index_paths() in this process")
    parser.add_argument("--quantize", action="store_true", help="index with `--quantize` (int8 ONNX passages)")
    parser.add_argument(
        "--compare-kinds",
        "--compare-int8",
        action="store_true",
        help="only `qa index` with float32, bfloat16 and int8 passages",
    )
    parser.add_argument("--before", type=Path, help="with --compare-kinds: also an earlier checkout's `qa index`")
    args = parser.parse_args()
    exit_on_sigterm()
    if not has_scifact():
        print("skipped: SciFact is not at ../shared/eval/scifact")
        write_results("indexing", {"skipped": "SciFact corpus not found"})
        return
    if args.compare_kinds:
        compare_kinds(args.limit, args.runs, args.before)
        return

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    from embeddings import SentenceTransformerEncoder
    from embeddings.model import resolve_model
    from qa import config

    folder = scifact_folder(args.limit)
    documents = sum(1 for _ in folder.glob("*.md"))
    batch_size = getattr(SentenceTransformerEncoder(), "batch_size", 32)
    transformers_logging.disable_progress_bar()
    model = SentenceTransformer(resolve_model(None)[1], device="cpu")
    model.encode(["warm up"] * batch_size, batch_size=batch_size)

    onnx = SentenceTransformerEncoder(quantized=args.quantize, **config.current().encoder_options()).onnx_encoder
    if onnx is not None:
        onnx.encode(["warm up"] * batch_size)
    seconds: dict[str, list[float]] = {"qa index": [], "raw encode": []}
    if onnx is not None:
        seconds["raw ONNX encode"] = []
    if args.in_process:
        seconds["index_paths()"] = []
    loads: dict[str, list[float]] = {name: [] for name in seconds}  # 1-minute load after each timing
    texts: list[str] = []
    quantize_flag = ["--quantize"] if args.quantize else []

    def time_method(name: str, run) -> None:
        started = time.perf_counter()
        run()
        seconds[name].append(time.perf_counter() - started)
        loads[name].append(load_average()[0])

    with tempfile.TemporaryDirectory(prefix="bench-indexing-") as scratch:
        cli_index, in_process_index = Path(scratch) / "cli-index", Path(scratch) / "in-process-index"
        command = [*qa_command(), "index", str(folder), "--index", str(cli_index), "--rebuild", *quantize_flag]
        for run in range(args.runs):
            time_method(
                "qa index",
                lambda: subprocess.run(
                    command, check=True, capture_output=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}
                ),
            )
            texts = texts or embedded_texts(cli_index)
            if args.in_process:
                from qa.ingest.indexing import IndexOptions, index_paths

                time_method(
                    "index_paths()",
                    lambda: index_paths([folder], in_process_index, IndexOptions(rebuild=True, quantize=args.quantize)),
                )
            time_method(
                "raw encode",
                lambda texts=texts: model.encode(
                    texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True
                ),
            )
            if onnx is not None:
                time_method("raw ONNX encode", lambda texts=texts: onnx.encode(texts))
            rates = ", ".join(
                f"{name} {len(texts) / times[-1]:.1f}/s (load {loads[name][-1]})" for name, times in seconds.items()
            )
            print(f"run {run + 1}/{args.runs}: {rates}", flush=True)
        if not args.quantize:
            cached = cache_dir() / f"scifact-index-{documents}"  # the query benchmark reuses it
            shutil.rmtree(cached, ignore_errors=True)
            shutil.copytree(cli_index, cached)

    passages = len(texts)
    raw_rate = passages / median(seconds["raw encode"])
    figures = method_figures(seconds, loads, passages)
    for figure in figures.values():
        figure["ratio_to_raw"] = round(figure["passages_per_s"] / raw_rate, 3)
    rows = [
        [name, f"{f['seconds_median']:.1f}", f["passages_per_s"], f["ratio_to_raw"], loads[name]]
        for name, f in figures.items()
    ]
    print_table(
        f"Indexing {documents} SciFact docs, {passages} passages (median of {args.runs})",
        ["method", "seconds", "passages/s", "÷ raw encode", "load (1 min) after each run"],
        rows,
    )
    path = write_results(
        "indexing-quantize" if args.quantize else "indexing",
        {
            "command": " ".join(["python -m benchmarks.bench_indexing", *sys.argv[1:]]),
            "corpus": f"SciFact, first {documents} abstracts as Markdown files (# title, abstract)",
            "quantize": args.quantize,
            "documents": documents,
            "passages": passages,
            "batch_size": batch_size,
            "runs": args.runs,
            "methods": figures,
            "ratio": figures["qa index"]["ratio_to_raw"],
            "ratio_to_onnx": (
                round(figures["qa index"]["passages_per_s"] / figures["raw ONNX encode"]["passages_per_s"], 3)
                if "raw ONNX encode" in figures
                else None
            ),
            "target_ratio": 0.95,
        },
    )
    print(f"written to {path}")


def method_figures(seconds: dict[str, list[float]], loads: dict[str, list[float]], passages: int) -> dict:
    """Each method's median time, its runs, passages/s and the load after each run."""
    return {
        name: {
            "seconds_median": round(median(times), 2),
            "seconds_runs": [round(t, 2) for t in times],
            "passages_per_s": round(passages / median(times), 2),
            "load_average_1m_runs": loads[name],
        }
        for name, times in seconds.items()
    }


def compare_kinds(limit: int | None, runs: int, before: Path | None = None) -> None:
    """`qa index` with float32, bfloat16 and int8 passages (and an earlier checkout's own
    default), alternating run by run, whole processes."""
    folder = scifact_folder(limit)
    documents = sum(1 for _ in folder.glob("*.md"))
    cores = len(os.sched_getaffinity(0))
    environment = {**os.environ, "HF_HUB_OFFLINE": "1"}
    variants = {  # name: (flags, the checkout whose qa runs, environment)
        "float32 (QA_PASSAGES=float32)": (["--no-quantize"], None, {**environment, "QA_PASSAGES": "float32"}),
        "bfloat16 (QA_PASSAGES=bfloat16)": (["--no-quantize"], None, {**environment, "QA_PASSAGES": "bfloat16"}),
        "int8 (--quantize)": (["--quantize"], None, environment),
    }
    if before is not None:
        before = before.resolve()
        variants[f"before: {before.name}, its default"] = ([], before, {**environment, "PYTHONPATH": str(before)})
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    loads: dict[str, list[float]] = {name: [] for name in variants}
    passages = 0
    with tempfile.TemporaryDirectory(prefix="bench-indexing-") as scratch:
        for run in range(runs):
            for number, (name, (flags, checkout, env)) in enumerate(variants.items()):
                index_dir = Path(scratch) / f"index-{number}"
                qa = [sys.executable, "-m", "qa"] if checkout else qa_command()
                command = [*qa, "index", str(folder), "--index", str(index_dir), "--rebuild", *flags]
                started = time.perf_counter()
                subprocess.run(command, check=True, capture_output=True, env=env, cwd=checkout)
                seconds[name].append(time.perf_counter() - started)
                loads[name].append(load_average()[0])
                passages = passages or len(embedded_texts(index_dir))
            print(
                f"run {run + 1}/{runs}: "
                + ", ".join(f"{name} {passages / times[-1]:.1f}/s" for name, times in seconds.items()),
                flush=True,
            )
    figures = method_figures(seconds, loads, passages)
    for figure in figures.values():
        figure["passages_per_s_per_core"] = round(figure["passages_per_s"] / cores, 2)
    fp32, bf16, int8 = (figures[name]["passages_per_s"] for name in list(variants)[:3])
    rates = [f["passages_per_s"] for f in figures.values()]
    rows = [
        [name, f"{f['seconds_median']:.1f}", f["passages_per_s"], f["passages_per_s_per_core"], loads[name]]
        for name, f in figures.items()
    ]
    versus_before = f", bfloat16 ÷ before = {bf16 / rates[3]:.2f}" if before is not None else ""
    print_table(
        f"qa index of {documents} SciFact docs, {passages} passages, {cores} cores (median of {runs}): "
        f"bfloat16 ÷ float32 = {bf16 / fp32:.2f}, int8 ÷ float32 = {int8 / fp32:.2f}{versus_before}",
        ["passages embedded as", "seconds", "passages/s", "per core", "load (1 min) after each run"],
        rows,
    )
    path = write_results(
        "indexing-kinds",
        {
            "command": " ".join(["python -m benchmarks.bench_indexing", *sys.argv[1:]]),
            "corpus": f"SciFact, first {documents} abstracts as Markdown files (# title, abstract)",
            "documents": documents,
            "passages": passages,
            "cores": cores,
            "runs": runs,
            "methods": figures,
            "ratio_bfloat16_to_float32": round(bf16 / fp32, 3),
            "ratio_int8_to_float32": round(int8 / fp32, 3),
            "ratio_bfloat16_to_before": round(bf16 / rates[3], 3) if before is not None else None,
            "before": str(before) if before is not None else None,
            "target_ratio": 2.0,
        },
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
