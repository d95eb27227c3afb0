"""The results in benchmarks/results/*.json as Markdown tables, to paste into docs/PERFORMANCE.md.

Nothing here measures: it only formats what the benchmarks wrote, with the load average each
figure was taken under, so the document cannot carry a figure that no run produced.

    python -m benchmarks.report [--results benchmarks/results/quick]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from benchmarks.common import RESULTS


def read(folder: Path, name: str) -> dict | None:
    path = folder / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def table(columns: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def loads(values: list[float]) -> str:
    return f"{min(values)}–{max(values)}" if values else ""


def summary_section(summary: dict) -> str:
    columns = list(summary["targets"][0])
    rows = [[target[column] for column in columns] for target in summary["targets"]]
    header = f"### Targets ({'--quick' if summary['quick'] else 'full'} run, {summary['machine']['date']})"
    return f"{header}\n\n{table(columns, rows)}"


def indexing_section(data: dict) -> str:
    overall = data.get("load_average_1m_runs", [])  # older results kept one list for all methods
    rows = [
        [
            method,
            f["seconds_median"],
            f["passages_per_s"],
            f["ratio_to_raw"],
            ", ".join(map(str, f["seconds_runs"])),
            loads(f.get("load_average_1m_runs", overall)),
        ]
        for method, f in data["methods"].items()
    ]
    columns = ["method", "seconds", "passages/s", "÷ raw encode", "seconds per run", "load (1 min) after the runs"]
    kind = "int8 (`--quantize`)" if data.get("quantize") else "float32"
    return (
        f"### Indexing ({kind}): {data['documents']} SciFact abstracts → {data['passages']} passages, "
        f"batch {data['batch_size']}, median of {data['runs']} runs\n\n"
        f"`{data['command']}` on {data['machine']['date']}, code {data['machine'].get('code', 'not recorded')}\n\n"
        + table(columns, rows)
    )


def query_section(data: dict) -> str:
    parts = [
        f"### Query latency, top_k={data['top_k']}, median of {data['runs']} runs\n\n`{data['command']}` "
        f"on {data['machine']['date']}"
    ]
    for corpus in data["corpora"]:
        rows = [
            [method, f["p50_ms"], f["p95_ms"], f["p50_ratio_to_encoder"]] for method, f in corpus["methods"].items()
        ]
        memory = corpus["serve_memory_mib"]
        parts.append(
            f"**{corpus['corpus']}** ({corpus['passages']} passages, {corpus['questions']} questions, "
            f"{corpus['timings_per_run']} timings per method per run, encoder `{corpus['encoder']}`, "
            f"load average (1 min) {loads(corpus['load_average_1m_runs'])}); `qa serve`: ready in "
            f"{corpus['serve_ready_s']} s, peak RSS (VmHWM) {memory['VmHWM']} MiB, RSS {memory['VmRSS']} MiB\n\n"
            + table(["method", "p50 ms", "p95 ms", "p50 ÷ encoder alone"], rows)
        )
    if data.get("note"):
        parts.append(data["note"])
    return "\n\n".join(parts)


def startup_section(data: dict) -> str:
    rows = [
        [f"`{command}`", f["seconds_median"], f["minus_python_s"], f["ratio_to_st_import"]]
        for command, f in data["commands"].items()
    ]
    return (
        f"### Start-up, median of {data['runs']} fresh processes\n\n`{data['command']}` on "
        f"{data['machine']['date']}, load average (1 min) {loads(data['load_average_1m_runs'])}\n\n"
        + table(["command", "seconds", "− python -c pass", "÷ import sentence_transformers"], rows)
    )


def vectors_section(data: dict) -> str:
    columns = [name for name, value in data["results"][0].items() if isinstance(value, int | float | str)]
    rows = [[f"{r[c]:.3g}" if isinstance(r[c], float) else r[c] for c in columns] for r in data["results"]]
    return (
        f"### Vector search (synthetic vectors from real embeddings), {data['machine']['date']}, load average at "
        f"the end {data['machine'].get('load_average', 'not recorded')}\n\n" + table(columns, rows)
    )


def encoder_section(data: dict) -> str:
    rows = [[name, data["question_ms_p50"][name], data["passages_per_s"][name]] for name in data["question_ms_p50"]]
    cosine = "; ".join(
        f"{pair}: questions {c['questions']:.4f}, passages {c['passages']:.4f}"
        for pair, c in data["min_cosine"].items()
    )
    return (
        f"### Encoder, median of {data['setup']['runs']} runs\n\n`{data['command']}` on {data['date']}, "
        f"load average at the end {data['machine'].get('load_average', 'not recorded')}\n\n"
        + table(
            ["encoder", "one question p50 ms", f"passages/s (~{data['setup']['passage_tokens_median']:.0f} tokens)"],
            rows,
        )
        + f"\n\nMinimum cosine: {cosine}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--results",
        type=Path,
        default=RESULTS,
        help="folder of the JSON results (quick runs: benchmarks/results/quick)",
    )
    args = parser.parse_args()
    sections = {
        "summary": summary_section,
        "indexing": indexing_section,
        "indexing-quantize": indexing_section,
        "query": query_section,
        "startup": startup_section,
        "vectors": vectors_section,
        "encoder": encoder_section,
    }
    for name, section in sections.items():
        data = read(args.results, name)
        if data is None or "skipped" in data:
            print(f"### {name}: no results\n")
            continue
        print(section(data) + "\n")


if __name__ == "__main__":
    main()
