"""Run every benchmark, one after another, then print the issue's targets as one table.

Each benchmark runs in its own process (so one's memory and threads do not weigh on the next),
prints its own table and writes benchmarks/results/NAME.json; the summary reads those files and
writes benchmarks/results/summary.json. `--quick` uses small sizes (200 SciFact abstracts, vectors
at 100k only, fewer runs) and writes to benchmarks/results/quick/ instead, so that it never
replaces full-size results: minutes instead of the better part of two hours on 2 cores.

    python -m benchmarks [--quick] [--only indexing query ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from benchmarks import common
from benchmarks.common import REPO, load_average, print_table, write_results

# name: (module, arguments for the full run, arguments for --quick)
BENCHMARKS = {
    "encoder": ("bench_encoder", [], ["--runs", "3"]),
    "indexing": ("bench_indexing", [], ["--limit", "200", "--in-process"]),
    "query": ("bench_query", [], ["--runs", "3", "--scifact-limit", "200", "--scifact-questions", "50"]),
    "startup": ("bench_startup", [], ["--runs", "5"]),
    "vectors": ("bench_vectors", [], ["--sizes", "100000"]),
    "scaling": ("bench_scaling", [], "--parts indexing cluster serve --limit 60 --runs 1 --seconds 5".split()),
    "resume": ("bench_resume", [], ["--passages", "5000"]),
}


def run_benchmark(name: str, quick: bool) -> dict:
    module, full_args, quick_args = BENCHMARKS[name]
    command = [sys.executable, "-m", f"benchmarks.{module}", *(quick_args if quick else full_args)]
    print(f"\n=== {name}: {' '.join(command[1:])} (load {load_average()})", flush=True)
    started = time.perf_counter()
    returncode = subprocess.run(
        command, cwd=REPO, env={**os.environ, "QA_BENCH_RESULTS": str(common.RESULTS)}
    ).returncode
    return {
        "command": " ".join(["python", *command[1:]]),
        "returncode": returncode,
        "seconds": round(time.perf_counter() - started, 1),
        "load_average_after": load_average(),
    }


def read_results(name: str, since: float, ran: set[str]) -> dict | None:
    """A benchmark's results: this run's when it ran now, else an earlier run's marked `earlier`."""
    path = common.RESULTS / f"{name}.json"
    if not path.exists() or (name in ran and path.stat().st_mtime < since):
        return None
    data = json.loads(path.read_text())
    if name not in ran:
        data["earlier"] = f" (earlier run, {data.get('machine', {}).get('date', '?')})"
    return data


def earlier(data: dict) -> str:
    return data.get("earlier", "")


def verdict(met: bool) -> str:
    return "yes" if met else "NO"


def target_rows(since: float, ran: set[str]) -> list[list[object]]:
    """[figure, measured, baseline, ratio, target, met?] for each of the issue's targets."""
    rows: list[list[object]] = []
    indexing = read_results("indexing", since, ran)
    if indexing and "methods" in indexing:
        raw = indexing["methods"]["raw encode"]["passages_per_s"]
        for method in ("qa index", "index_paths()"):
            if method in indexing["methods"]:
                rate, ratio = (indexing["methods"][method][key] for key in ("passages_per_s", "ratio_to_raw"))
                figure = f"{method}, {indexing['documents']} SciFact docs{earlier(indexing)}"
                rows.append(
                    [figure, f"{rate} passages/s", f"raw encode {raw}/s", ratio, "≥ 0.95", verdict(ratio >= 0.95)]
                )
    else:
        rows.append(["qa index ÷ raw encode", "not run", "", "", "≥ 0.95", ""])

    query = read_results("query", since, ran)
    if query:
        seeds = query["corpora"][0]
        http, encoder = seeds["methods"]["HTTP /ask"], seeds["methods"]["encoder alone"]
        ratio = http["p50_ratio_to_encoder"]
        baseline = f"encoder {encoder['p50_ms']} ms"
        rows.append(
            [
                "warm HTTP /ask p50, seeds" + earlier(query),
                f"{http['p50_ms']} ms",
                baseline,
                ratio,
                "≤ 2× (aim ≤ 8 ms)",
                verdict(ratio <= 2),
            ]
        )
        peak_mb = round(seeds["serve_memory_mib"]["VmHWM"] * 2**20 / 1e6)
        rows.append(
            ["qa serve peak RSS, seeds" + earlier(query), f"{peak_mb} MB", "", "", "≤ 500 MB", verdict(peak_mb <= 500)]
        )
    else:
        rows.append(["warm HTTP /ask p50, seeds", "not run", "", "", "≤ 2×", ""])

    startup = read_results("startup", since, ran)
    if startup:
        commands = startup["commands"]
        st_import = commands["import sentence_transformers"]["seconds_median"]
        python = commands["python -c pass"]["seconds_median"]
        ask_s, ratio, help_s = startup["cold_ask_s"], startup["cold_ask_ratio_to_st_import"], startup["help_s"]
        rows.append(
            [
                "cold qa ask, seeds index" + earlier(startup),
                f"{ask_s} s",
                f"import sentence_transformers {st_import} s",
                ratio,
                "≤ 1.5 s and ≤ 0.25×",
                verdict(ask_s <= 1.5 and ratio <= 0.25),
            ]
        )
        rows.append(
            [
                "qa --help" + earlier(startup),
                f"{help_s} s",
                f"python -c pass {python} s",
                round(help_s / python, 2),
                "≤ 0.3 s",
                verdict(help_s <= 0.3),
            ]
        )
    else:
        rows.append(["cold qa ask / qa --help", "not run", "", "", "≤ 1.5 s / ≤ 0.3 s", ""])

    vectors = read_results("vectors", since, ran)
    figures = ("passages", "ivf_p50_ms", "exact_p50_ms", "recall@10")
    if vectors and all(name in vectors["results"][0] for name in figures):
        for result in vectors["results"]:
            size, p50, recall = result["passages"], result["ivf_p50_ms"], result["recall@10"]
            met = verdict(p50 <= 10 and recall >= 0.95) if size >= 1_000_000 else "(1M only)"
            rows.append(
                [
                    f"search p50, {size:,} passages (recall@10 {recall:.3f}){earlier(vectors)}",
                    f"{p50:.2f} ms",
                    f"exact {result['exact_p50_ms']:.2f} ms",
                    round(p50 / result["exact_p50_ms"], 3),
                    "1M: ≤ 10 ms, recall ≥ 0.95",
                    met,
                ]
            )
    else:
        rows.append(["1M search p50", "not run", "", "", "≤ 10 ms, recall ≥ 0.95", ""])

    resume = read_results("resume", since, ran)
    if resume:
        ratio = round(resume["work_ratio"], 2)
        rows.append(
            [
                f"{resume['kills']} SIGKILLs in a {resume['passages']:,}-passage first index{earlier(resume)}",
                f"{ratio}× the embedding work",
                "one uninterrupted run",
                ratio,
                "≤ 1.2×, final index equal",
                verdict(ratio <= 1.2 and resume["equal"]),
            ]
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and fewer runs")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run only these benchmarks")
    args = parser.parse_args()
    if args.quick and not os.environ.get("QA_BENCH_RESULTS"):
        common.RESULTS = common.RESULTS / "quick"
    since = time.time()
    runs = {name: run_benchmark(name, args.quick) for name in (args.only or BENCHMARKS)}
    failed = [name for name, run in runs.items() if run["returncode"] != 0]

    rows = target_rows(since, set(runs))
    columns = ["figure", "measured", "baseline (same run)", "ratio", "target", "met?"]
    print()
    print_table(f"Targets of issue 5{' (--quick sizes)' if args.quick else ''}", columns, rows)
    if failed:
        print(f"failed: {', '.join(failed)} (see their output above)")
    path = write_results(
        "summary",
        {
            "quick": args.quick,
            "runs": runs,
            "targets": [dict(zip(columns, row, strict=True)) for row in rows],
        },
    )
    print(f"written to {path}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
