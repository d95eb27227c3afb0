"""Query latency: in-process `Collection.ask()` and HTTP `POST /ask` against the encoder alone, plus `qa serve` RSS.

For each corpus (the seeds; SciFact when ../shared is present) the index is built once and cached
(the seeds in benchmarks/results/.cache; SciFact is `qa eval`'s cached index), a real `qa serve`
is started on a free port and asked over one keep-alive connection of the standard library's
http.client ("HTTP /ask": the server's latency, JSON sent and parsed back) and, for comparison, of
httpx, whose own work adds ~1.5 ms of the same two cores to each request. After a warm-up,
each run times every question `--passes` times with each method in turn: the collection's
question encoder alone on one question (`encode_queries`, ONNX Runtime when the model has an
export; the baseline: what no query path can avoid), `collection.ask(question)`, `POST /ask`,
and the confidence judgement alone (qa.search.confidence.assess on the question's ranking). A run gives
p50 and p95 per method; each figure is the median over `--runs`. The server's VmHWM (peak RSS)
and VmRSS are read from /proc after the seeds runs.

    python -m benchmarks.bench_query [--runs 5] [--passes 3] [--scifact-limit N] [--scifact-questions 100]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from benchmarks.common import (
    exit_on_sigterm,
    free_port,
    load_average,
    median,
    percentile,
    print_table,
    qa_command,
    start_server,
    wait_until_up,
    write_results,
)
from benchmarks.corpora import SCIFACT, has_scifact, scifact_index, scifact_questions, seed_questions, seeds_index

TOP_K = 5


def scifact_eval_index(limit: int | None) -> Path:
    """The whole of SciFact is `qa eval`'s cached index (built once, reused); a part is built here."""
    if limit is not None:
        return scifact_index(limit)
    from qa.evaluation.datasets import load_beir
    from qa.evaluation.runner import corpus_index

    return corpus_index(load_beir(SCIFACT))


def confidence_judge(collection, questions: list[str]) -> Callable[[str], object]:
    """What judging confidence adds to `ask`: qa.search.confidence.assess on each question's ranking,
    ranked beforehand (the passage text it reads is cached by then, as within `ask`)."""
    from qa.search.confidence import assess

    searcher = collection.searcher()

    snapshot = searcher.snapshot
    rankings = {question: collection.rank(question, TOP_K * 4, searcher=searcher) for question in questions}
    top_texts = {
        question: snapshot.passages([ranking.hits[0].passage_id])[ranking.hits[0].passage_id].text
        for question, ranking in rankings.items()
        if ranking.hits
    }

    def judge(question: str) -> object:
        ranking = rankings[question]
        return assess(ranking.query.terms, ranking.idf, searcher.bm25.passages, ranking.hits, top_texts.get(question))

    return judge


def memory_mib(pid: int) -> dict[str, float]:
    """Resident memory now (VmRSS) and at its peak (VmHWM) of a running process."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {name: round(int(fields[name].split()[0]) / 1024, 1) for name in ("VmRSS", "VmHWM")}


@contextmanager
def running_server(index_dir: Path):
    """A `qa serve` subprocess on a free port, ready to answer: yields (process, base URL, seconds to ready)."""
    port = free_port()
    started = time.perf_counter()
    server = start_server(
        [*qa_command(), "serve", "--index", str(index_dir), "--port", str(port)],
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(port, server, timeout=180)
        yield server, url, time.perf_counter() - started
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def bench_corpus(name: str, index_dir: Path, questions: list[str], runs: int, passes: int) -> dict:
    import httpx

    from qa.collection import Collection

    collection = Collection.open(index_dir)
    encode_question = getattr(collection.encoder, "encode_queries", collection.encoder.encode)
    query_encoder = getattr(collection.encoder, "onnx_encoder", None) or collection.encoder
    with running_server(index_dir) as (server, url, ready_s), httpx.Client(base_url=url, timeout=60) as client:
        connection = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]), timeout=60)

        def over_http(question: str) -> None:
            """The server's latency: one keep-alive connection of the standard library, JSON both ways."""
            body = json.dumps({"question": question, "top_k": TOP_K})
            connection.request("POST", "/ask", body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = response.read()
            if response.status != 200:
                raise RuntimeError(f"/ask answered {response.status}: {answer[:200]!r}")
            json.loads(answer)

        def over_httpx(question: str) -> None:
            client.post("/ask", json={"question": question, "top_k": TOP_K}).raise_for_status().json()

        judge = confidence_judge(collection, questions)
        methods: dict[str, Callable[[str], object]] = {
            "encoder alone": lambda question: encode_question([question]),
            "Collection.ask()": lambda question: collection.ask(question, top_k=TOP_K),
            "HTTP /ask": over_http,
            "HTTP /ask, httpx client": over_httpx,
            "confidence (assess)": judge,
        }
        for method in methods.values():  # warm-up: caches, allocations, the connection
            for question in questions:
                method(question)
        p50: dict[str, list[float]] = {method: [] for method in methods}
        p95: dict[str, list[float]] = {method: [] for method in methods}
        loads = []
        for _ in range(runs):
            for method_name, method in methods.items():
                # The server closes a connection idle for 5 s (uvicorn's keep-alive), as this one is
                # while the other methods run: closed here, it opens again in an untimed question.
                connection.close()
                method(questions[0])
                times = []
                for _ in range(passes):
                    for question in questions:
                        started = time.perf_counter()
                        method(question)
                        times.append((time.perf_counter() - started) * 1000)
                p50[method_name].append(percentile(times, 50))
                p95[method_name].append(percentile(times, 95))
            loads.append(load_average()[0])
        memory = memory_mib(server.pid)
    base = median(p50["encoder alone"])
    return {
        "corpus": name,
        "index": str(index_dir),
        "passages": collection.stats().passages,
        "questions": len(questions),
        "timings_per_run": len(questions) * passes,
        "encoder": type(query_encoder).__module__ + "." + type(query_encoder).__name__,
        "serve_ready_s": round(ready_s, 2),
        "serve_memory_mib": memory,
        "load_average_1m_runs": loads,
        "methods": {
            method: {
                "p50_ms": round(median(p50[method]), 3),
                "p95_ms": round(median(p95[method]), 3),
                "p50_ms_runs": [round(v, 3) for v in p50[method]],
                "p50_ratio_to_encoder": round(median(p50[method]) / base, 2),
            }
            for method in p50
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per method; each figure is their median")
    parser.add_argument("--passes", type=int, default=3, help="times each seed question is asked per run")
    parser.add_argument("--scifact-limit", type=int, default=None, help="index only the first N abstracts")
    parser.add_argument("--scifact-questions", type=int, default=100, help="SciFact test claims asked per run")
    args = parser.parse_args()
    exit_on_sigterm()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    results = [bench_corpus("seeds", seeds_index(), seed_questions(), args.runs, args.passes)]
    note = None
    if has_scifact():
        questions = scifact_questions(args.scifact_questions)
        results.append(bench_corpus("SciFact", scifact_eval_index(args.scifact_limit), questions, args.runs, 1))
    else:
        note = "SciFact skipped: ../shared/eval/scifact is absent"
        print(note)

    rows = []
    for result in results:
        for method, figure in result["methods"].items():
            rows.append(
                [
                    f"{result['corpus']} ({result['passages']} passages)",
                    method,
                    figure["p50_ms"],
                    figure["p95_ms"],
                    figure["p50_ratio_to_encoder"],
                ]
            )
    print_table(
        f"Query latency in ms, top_k={TOP_K} (median of {args.runs} runs)",
        ["corpus", "method", "p50", "p95", "p50 ÷ encoder"],
        rows,
    )
    seeds = results[0]
    print(
        f"qa serve on the seeds: peak RSS {seeds['serve_memory_mib']['VmHWM']} MiB, "
        f"RSS {seeds['serve_memory_mib']['VmRSS']} MiB, ready in {seeds['serve_ready_s']} s"
    )
    path = write_results(
        "query",
        {
            "command": " ".join(["python -m benchmarks.bench_query", *sys.argv[1:]]),
            "runs": args.runs,
            "top_k": TOP_K,
            "note": note,
            "corpora": results,
        },
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
