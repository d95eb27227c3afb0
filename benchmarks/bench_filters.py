"""Filtered against unfiltered search: the same questions, the same index, in the same run.

SciFact (5,183 abstracts, the evaluation cache's index, real model) is asked its test claims with
no filter and with filters letting through about half, a tenth and 1% of the passages (source
globs over the doc ids, and a list of doc_ids). Questions and filters take turns, so load changes
on the machine weigh on all of them alike. Two figures per filter:

- `ask`: `Collection.ask(question, top_k=5, filters=…)`, question encoding included;
- `retrieval`: the ranking alone, on a question already encoded (what a filter can change).

Each is the median over questions × passes; the ratio divides it by the unfiltered median. The
passage set of a filter is worked out once per index generation and cached; its cost, cold, is
given on its own.

    python -m benchmarks.bench_filters [--questions 100] [--passes 3]
"""

from __future__ import annotations

import argparse
import random
import time

from benchmarks.common import exit_on_sigterm, load_average, median, print_table, write_results
from benchmarks.corpora import SCIFACT, scifact_questions

TOP_K = 5
RANKED = TOP_K * 4  # what Collection.ask ranks for top_k


def filters_to_compare(doc_ids: list[str]) -> dict:
    from qa.search.filters import Filters

    sample = random.Random(0).sample(sorted(doc_ids), max(1, len(doc_ids) // 100))
    return {
        "none": None,
        "half (source *[02468])": Filters(source=["*[02468]"]),
        "a tenth (source *7)": Filters(source=["*7"]),
        f"1% ({len(sample)} doc_ids)": Filters(doc_id=sample),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    exit_on_sigterm()

    from qa.collection import Collection
    from qa.evaluation.datasets import load_beir
    from qa.evaluation.runner import corpus_index
    from qa.search.searcher import PassageRows

    index_dir = corpus_index(load_beir(SCIFACT))
    collection = Collection.open(index_dir)
    searcher = collection.searcher()
    snapshot = searcher.snapshot
    passages_total = snapshot.manifest.counts.passages
    doc_ids = [document.doc_id for document in snapshot.documents()]
    compared = filters_to_compare(doc_ids)
    questions = scifact_questions(args.questions)
    queries = [collection.query(question) for question in questions]

    facts = {}
    for name, filters in compared.items():
        if filters is None:
            facts[name] = {"passages": passages_total, "allowed_ms_cold": None}
            continue
        cold = []
        for _ in range(5):
            searcher._subsets.clear()  # noqa: SLF001 (timing the uncached work)
            started = time.perf_counter()
            allowed = searcher.allowed(filters)
            cold.append((time.perf_counter() - started) * 1000)
        facts[name] = {"passages": allowed.count, "allowed_ms_cold": round(median(cold), 2)}

    ask_ms: dict[str, list[float]] = {name: [] for name in compared}
    rank_ms: dict[str, list[float]] = {name: [] for name in compared}
    filled: dict[str, list[int]] = {name: [] for name in compared}
    for question in questions[:5]:  # warm-up: the encoder, the caches, FAISS selectors
        for filters in compared.values():
            collection.ask(question, top_k=TOP_K, filters=filters)
    for _ in range(args.passes):
        for question, query in zip(questions, queries):
            for name, filters in compared.items():
                started = time.perf_counter()
                answer = collection.ask(question, top_k=TOP_K, filters=filters)
                ask_ms[name].append((time.perf_counter() - started) * 1000)
                filled[name].append(len(answer.passages))
                allowed = searcher.allowed(filters)
                rows = PassageRows(snapshot)
                started = time.perf_counter()
                collection.retriever.rank(searcher, query, RANKED, rows.rows, None, allowed)
                rank_ms[name].append((time.perf_counter() - started) * 1000)

    base_ask, base_rank = median(ask_ms["none"]), median(rank_ms["none"])
    rows, results = [], {}
    for name in compared:
        ask_median, rank_median = median(ask_ms[name]), median(rank_ms[name])
        results[name] = {
            **facts[name],
            "share": round(facts[name]["passages"] / passages_total, 4),
            "ask_ms_p50": round(ask_median, 2),
            "ask_ratio": round(ask_median / base_ask, 3),
            "retrieval_ms_p50": round(rank_median, 2),
            "retrieval_ratio": round(rank_median / base_rank, 3),
            "top_k_filled": round(sum(n == TOP_K for n in filled[name]) / len(filled[name]), 3),
        }
        found = results[name]
        rows.append(
            [name, f"{found['passages']} ({found['share']:.1%})", found["ask_ms_p50"], found["ask_ratio"],
             found["retrieval_ms_p50"], found["retrieval_ratio"], found["allowed_ms_cold"] or "–",
             found["top_k_filled"]]
        )  # fmt: skip
    print_table(
        f"SciFact, {len(questions)} claims × {args.passes} passes, top_k {TOP_K} (load {load_average()})",
        ["filter", "passages allowed", "ask p50 ms", "× unfiltered", "retrieval p50 ms", "× unfiltered",
         "passage set, cold ms", "top-5 filled"],
        rows,
    )  # fmt: skip
    write_results(
        "filters",
        {
            "index": str(index_dir),
            "passages": passages_total,
            "questions": len(questions),
            "passes": args.passes,
            "results": results,
        },
    )


if __name__ == "__main__":
    main()
