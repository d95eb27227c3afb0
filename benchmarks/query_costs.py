"""Where a question's time goes beside the encoder: A/B runs behind docs/PERFORMANCE.md's issue 9 notes.

Three parts, each alternating its variants run by run in one process (five runs, the median of
each run's p50 shown):

- `http`: three `/ask` servers over the seeds index, uvicorn with h11 + asyncio, httptools +
  uvloop (what `qa serve` uses when they are installed) and httptools + asyncio, each asked over
  a standard-library keep-alive connection and over httpx, beside the encoder alone.
- `spinning`: ONNX Runtime's intra-op threads spinning (the default), stopped after each call
  (`session.force_spinning_stop`) and off (`session.intra_op.allow_spinning=0`): the encoder alone
  and `Collection.ask()` on SciFact (or the seeds without ../shared).
- `search`: the FAISS search of the question vector over SciFact alone, and right after an
  encoder call; BM25 alone; the whole ranking.

    python -m benchmarks.query_costs [--parts http spinning search] [--runs 5]
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

from benchmarks.bench_query import scifact_eval_index
from benchmarks.common import (
    exit_on_sigterm,
    free_port,
    load_average,
    median,
    percentile,
    wait_until_up,
    write_results,
)
from benchmarks.corpora import has_scifact, scifact_questions, seed_questions, seeds_index

TOP_K = 5
HTTP_STACKS = {"h11 + asyncio": ("h11", "asyncio"), "httptools + uvloop": ("httptools", "uvloop")}
HTTP_STACKS["httptools + asyncio"] = ("httptools", "asyncio")
SPINNING = {
    "spinning (default)": {},
    "stopped after each call": {"session.force_spinning_stop": "1"},
    "off": {"session.intra_op.allow_spinning": "0"},
}
_SERVER = """
import sys, uvicorn
from api.app import create_app
from api.settings import Settings
from qa.collection import Collection
index, port, http, loop = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
collection = Collection.open(index)
collection.encoder.warm_up()
app = create_app(Settings(index=index, port=port), collection)
uvicorn.run(app, host="127.0.0.1", port=port, http=http, loop=loop, log_level="warning")
"""


def p50_runs(
    methods: dict[str, Callable[[str], object]],
    questions: list[str],
    runs: int,
    before: dict[str, Callable[[str], object]] | None = None,
) -> dict[str, dict]:
    """Each method over every question once per run, methods in turn; the median of the runs' p50s.
    `before[name](question)`, when given, runs untimed just before that method's timed call."""
    before = before or {}
    for method in methods.values():
        for question in questions[:10]:
            method(question)
    p50s: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(runs):
        for name, method in methods.items():
            times = []
            for question in questions:
                if name in before:
                    before[name](question)
                started = time.perf_counter()
                method(question)
                times.append((time.perf_counter() - started) * 1000)
            p50s[name].append(percentile(times, 50))
    return {name: {"p50_ms": round(median(v), 3), "runs": [round(x, 3) for x in v]} for name, v in p50s.items()}


def corpus() -> tuple[str, object, list[str]]:
    from qa.collection import Collection

    if has_scifact():
        return "SciFact", Collection.open(scifact_eval_index(None)), scifact_questions(100)
    return "seeds", Collection.open(seeds_index()), seed_questions()


def http_part(runs: int) -> dict:
    import httpx

    from qa.collection import Collection

    index, questions = seeds_index(), seed_questions()
    servers, methods = [], {}
    encoder = Collection.open(index).encoder
    methods["encoder alone"] = lambda question: encoder.encode_queries([question])
    try:
        for name, (parser, loop) in HTTP_STACKS.items():
            port = free_port()
            command = [sys.executable, "-c", _SERVER, str(index), str(port), parser, loop]
            servers.append(subprocess.Popen(command, env={**os.environ, "HF_HUB_OFFLINE": "1"}))
            wait_until_up(port, servers[-1])
            methods[f"{name}, http.client"] = stdlib_asker(port)
            client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
            methods[f"{name}, httpx"] = lambda q, client=client: client.post("/ask", json=ask_body(q)).json()
        return p50_runs(methods, questions, runs)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


def ask_body(question: str) -> dict:
    return {"question": question, "top_k": TOP_K}


def stdlib_asker(port: int) -> Callable[[str], object]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def ask(question: str) -> object:
        connection.request("POST", "/ask", json.dumps(ask_body(question)), {"Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"/ask answered {response.status}")
        return json.loads(body)

    return ask


def spinning_part(runs: int) -> dict:
    import onnxruntime as ort

    from embeddings.onnx_encoder import ONNX_FILE, OnnxEncoder

    name, collection, questions = corpus()
    onnx_dir = collection.encoder.onnx_encoder.onnx_dir
    methods = {}
    for variant, entries in SPINNING.items():
        encoder = OnnxEncoder(onnx_dir)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = encoder.session.get_session_options().intra_op_num_threads
        for key, value in entries.items():
            options.add_session_config_entry(key, value)
        encoder.session = ort.InferenceSession(str(onnx_dir / ONNX_FILE), options, providers=["CPUExecutionProvider"])

        def use(encoder=encoder):
            collection.encoder.__dict__["onnx_encoder"] = encoder  # the cached property's slot

        methods[f"{variant}: encoder alone"] = lambda q, use=use, e=encoder: (use(), e.encode([q]))
        methods[f"{variant}: Collection.ask()"] = lambda q, use=use: (use(), collection.ask(q, top_k=TOP_K))
    return {"corpus": name, "methods": p50_runs(methods, questions, runs)}


def search_part(runs: int) -> dict:
    name, collection, questions = corpus()
    searcher = collection.searcher()
    snapshot = searcher.snapshot
    queries = {question: collection.query(question, ()) for question in questions}
    rows = snapshot.passages
    search = lambda q: searcher.search_vectors(queries[q].vector, 100)  # noqa: E731
    methods = {
        "FAISS search alone": search,
        "FAISS search right after an encoder call": search,
        "BM25 alone": lambda q: searcher.lexical_scores(queries[q].terms),
        "the whole ranking (no encoder)": lambda q: collection.retriever.rank(searcher, queries[q], TOP_K * 4, rows),
    }
    before = {"FAISS search right after an encoder call": lambda q: collection.encoder.encode_queries([q])}
    return {"corpus": name, "methods": p50_runs(methods, questions, runs, before)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parts = {"http": http_part, "spinning": spinning_part, "search": search_part}
    parser.add_argument("--parts", nargs="+", choices=list(parts), default=list(parts))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    exit_on_sigterm()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    results = {"command": " ".join(["python -m benchmarks.query_costs", *sys.argv[1:]]), "load_before": load_average()}
    for part in args.parts:
        results[part] = parts[part](args.runs)
        print(part, json.dumps(results[part], indent=1), flush=True)
    results["load_after"] = load_average()
    print(f"written to {write_results('query_costs', results)}")


if __name__ == "__main__":
    main()
