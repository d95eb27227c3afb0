"""answer_passages with and without the near-copy check, alternated in one process over the same
rankings (seeds or SciFact; run from the repository's root with PYTHONPATH=.).

    python benchmarks/results/session-2026-12-05g/ab_copies.py seeds|scifact
"""

import statistics
import sys
import time

from benchmarks.bench_query import scifact_eval_index
from benchmarks.corpora import scifact_questions, seed_questions, seeds_index
from qa.collection import Collection
from qa.search import searcher
from qa.search.searcher import PassageRows


def main() -> None:
    which = sys.argv[1]
    if which == "scifact":
        index, questions = scifact_eval_index(None), scifact_questions(100)
    else:
        index, questions = seeds_index(), seed_questions()
    collection = Collection(index)
    searching = collection.searcher()
    rankings = []
    for question in questions:
        rows = PassageRows(searching.snapshot)
        query = collection.query(question)
        rankings.append((searching.rank(collection.retriever, query, 20, None, None, rows), rows))
    real = searcher._Quote.repeats
    times: dict[str, list[float]] = {"with": [], "without": []}
    for _round in range(5):
        for name in ("without", "with"):
            searcher._Quote.repeats = real if name == "with" else (lambda self, row: False)
            for ranking, rows in rankings:
                started = time.perf_counter()
                searching.answer_passages(ranking, rows, 5, collection.retriever.settings.join_depth)
                times[name].append((time.perf_counter() - started) * 1000)
    for name, measured in times.items():
        print(which, name, f"p50 {statistics.median(measured):.3f} ms")


if __name__ == "__main__":
    main()
