"""What reading and splitting cost: a text on one line against the same text in paragraphs, and
what reading every file in the bounded worker process costs small files.

1. One line against paragraphs: the same prose (SQuAD dev-a paragraphs, else the seeds), about
   300 KB and 1 MB, written once with a blank line between paragraphs and once as a single line,
   indexed by the real command (`qa index FILE --index DIR --rebuild`, the real model) in a
   subprocess; its CPU time (user + system, from the child's rusage) and wall time, and the same
   texts' sentence splitting and chunking alone (`split_passages` with the model's tokenizer).
   Splitting used to be quadratic in line length, so one line cost 1.5-1.9 x its paragraphs.
2. The worker's cost: `index_paths()` in this process (model loaded once) over the seeds and over
   many small files (SQuAD paragraphs as .txt, and as .html), with small text read in this process
   (the default, `ReadLimits.max_inline_bytes`) against every file in the worker
   (`max_inline_bytes=0`); HTML, always in the worker, against a reader that reads it here.

Shapes and methods alternate run by run, so load from other processes hits them alike; each
figure is the median over `--runs`.

    python -m benchmarks.bench_parsing [--runs 3] [--small-files 200]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import exit_on_sigterm, load_average, median, print_table, qa_command, write_results
from benchmarks.corpora import SEEDS, SHARED_EVAL

SIZES = {"300 KB": 300_000, "1 MB": 1_000_000}


def paragraphs() -> list[str]:
    """Real prose, one paragraph each: SQuAD dev-a's contexts, else the seeds' paragraphs."""
    squad = SHARED_EVAL / "squad" / "dev-a.json"
    if squad.exists():
        data = json.loads(squad.read_text())
        return [" ".join(p["context"].split()) for article in data["data"] for p in article["paragraphs"]]
    texts = [path.read_text() for path in sorted(SEEDS.glob("*.txt"))]
    return [" ".join(p.split()) for text in texts for p in text.split("\n\n") if len(p.split()) > 10]


def prose(size: int) -> list[str]:
    """Paragraphs, repeated as needed, until they hold `size` characters."""
    source, chosen, total = paragraphs(), [], 0
    while total < size:
        chosen.append(source[len(chosen) % len(source)])
        total += len(chosen[-1]) + 2
    return chosen


def cpu_of(command: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of a command run to completion, its children counted."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall


def one_line_against_paragraphs(scratch: Path, runs: int, encoder) -> list[list[object]]:
    from qa.ingest.chunking import split_passages

    rows = []
    for label, size in SIZES.items():
        chosen = prose(size)
        texts = {"paragraphs": "\n\n".join(chosen), "one line": " ".join(chosen)}
        files = {}
        for shape, text in texts.items():
            files[shape] = scratch / f"{label.replace(' ', '')}-{shape.replace(' ', '-')}.txt"
            files[shape].write_text(text + "\n")
        cpu, wall, split = {s: [] for s in texts}, {s: [] for s in texts}, {s: [] for s in texts}
        for run in range(runs):
            for shape, path in files.items():
                command = [*qa_command(), "index", str(path), "--index", str(scratch / "index"), "--rebuild"]
                seconds, elapsed = cpu_of(command)
                cpu[shape].append(seconds)
                wall[shape].append(elapsed)
                started = time.process_time()
                split_passages(texts[shape], encoder.count_tokens, encoder.token_spans, encoder.max_tokens - 2)
                split[shape].append(time.process_time() - started)
                print(f"{label} {shape} run {run + 1}: {seconds:.2f} s CPU (load {load_average()[0]})", flush=True)
        for shape in texts:
            rows.append(
                [
                    label,
                    shape,
                    len(texts[shape]),
                    median(cpu[shape]),
                    median(cpu[shape]) / median(cpu["paragraphs"]),
                    median(wall[shape]),
                    median(split[shape]),
                ]
            )
    return rows


def small_files(scratch: Path, count: int) -> dict[str, Path]:
    """The seeds, and `count` SQuAD paragraphs as .txt files and as .html files."""
    chosen = paragraphs()[:count]
    folders = {"seeds (.txt)": SEEDS}
    for suffix in ("txt", "html"):
        folder = scratch / f"small-{suffix}"
        folder.mkdir()
        for number, text in enumerate(chosen):
            body = text if suffix == "txt" else f"<html><body><h1>Paragraph {number}</h1><p>{text}</p></body></html>"
            (folder / f"p{number:04}.{suffix}").write_text(body)
        folders[f"{len(chosen)} paragraphs (.{suffix})"] = folder
    return folders


def worker_cost(scratch: Path, runs: int, count: int, encoder) -> list[list[object]]:
    from qa.ingest.indexing import IndexOptions, index_paths
    from qa.ingest.limits import ReadLimits
    from qa.ingest.readers import reader_for, registered

    html_here = dataclasses.replace(reader_for("x.html"), isolated=False)
    rows = []
    for label, folder in small_files(scratch, count).items():
        files = sum(1 for path in folder.iterdir() if path.is_file())
        if label.endswith("(.html)"):
            methods = {"in the worker": (ReadLimits(), None), "read here": (ReadLimits(), html_here)}
        else:
            methods = {"small read here": (ReadLimits(), None), "in the worker": (ReadLimits(max_inline_bytes=0), None)}
        seconds: dict[str, list[float]] = {name: [] for name in methods}
        for _ in range(runs):
            for name, (limits, reader) in methods.items():
                options = IndexOptions(rebuild=True, limits=limits)
                started = time.perf_counter()
                if reader is None:
                    index_paths([folder], scratch / "small-index", options, encoder=encoder)
                else:
                    with registered(reader):
                        index_paths([folder], scratch / "small-index", options, encoder=encoder)
                seconds[name].append(time.perf_counter() - started)
        fastest = min(median(times) for times in seconds.values())
        for name, times in seconds.items():
            extra = (median(times) - fastest) / files * 1000
            rows.append([label, files, name, median(times), f"{extra:+.1f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per shape and method; each figure is their median")
    parser.add_argument("--small-files", type=int, default=200, help="how many small files to index")
    args = parser.parse_args()
    exit_on_sigterm()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from embeddings import load_encoder
    from qa import config
    from qa.ingest.isolation import read_isolated
    from qa.ingest.limits import DEFAULT_READ_LIMITS
    from qa.ingest.readers import reader_for

    encoder = load_encoder(None, **config.current().encoder_options())  # as `qa index` loads it
    encoder.warm_up()
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="bench-parsing-") as scratch:
        scratch = Path(scratch)
        warm = scratch / "warm.html"
        warm.write_text("<p>The forkserver starts once per process.</p>")
        started = time.perf_counter()
        read_isolated(reader_for(warm), warm, DEFAULT_READ_LIMITS)
        forkserver = time.perf_counter() - started
        lines = one_line_against_paragraphs(scratch, args.runs, encoder)
        workers = worker_cost(scratch, args.runs, args.small_files, encoder)
    columns = ["text", "shape", "characters", "qa index CPU s", "× paragraphs", "wall s", "split_passages s"]
    print_table("One line against paragraphs (qa index, real model)", columns, lines)
    print_table(
        f"Reading in the bounded worker (index_paths, real model; forkserver start {forkserver * 1000:.0f} ms)",
        ["files", "count", "read", "seconds", "ms per file over the fastest"],
        workers,
    )
    path = write_results(
        "parsing",
        {
            "load_average_before": load_before,
            "load_average_after": load_average(),
            "runs": args.runs,
            "forkserver_start_ms": round(forkserver * 1000, 1),
            "one_line_against_paragraphs": [dict(zip(columns, row)) for row in lines],
            "worker_cost": [
                dict(zip(["files", "count", "read", "seconds", "ms_per_file_over_fastest"], row)) for row in workers
            ],
        },
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
