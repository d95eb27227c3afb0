"""Throwaway: answer_passages with and without the near-copy check, alternated in one process."""
import statistics, time, sys
from benchmarks.bench_query import scifact_eval_index
from benchmarks.corpora import scifact_questions, seeds_index, seed_questions
from qa.collection import Collection
from qa.search import searcher as S
from qa.search.searcher import PassageRows
which = sys.argv[1]
index, questions = (scifact_eval_index(None), scifact_questions(100)) if which == "scifact" else (seeds_index(), seed_questions())
c = Collection(index); s = c.searcher()
rankings = []
for q in questions:
    rows = PassageRows(s.snapshot); r = s.rank(c.retriever, c.query(q), 20, None, None, rows); rankings.append((r, rows))
real = S._Quote.repeats
res = {"with": [], "without": []}
for rnd in range(5):
    for name in ("without", "with"):
        S._Quote.repeats = real if name == "with" else (lambda self, row: False)
        for r, rows in rankings:
            t = time.perf_counter(); s.answer_passages(r, rows, 5, c.retriever.settings.join_depth); res[name].append((time.perf_counter() - t) * 1000)
for k, v in res.items(): print(which, k, f"p50 {statistics.median(v):.3f} ms")
