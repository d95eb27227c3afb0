"""Throwaway: the dense weight swept on every set in one run."""

import dataclasses
import sys

from benchmarks.common import load_average
from benchmarks.corpora import ranking_sets
from qa.collection import Collection
from qa.evaluation.datasets import load_questions
from qa.evaluation.metrics import summarize
from qa.evaluation.runner import run_questions
from qa.search.retrieval import HybridRetriever

sets = ranking_sets()
first = sets[0][2]
for name in ["sqlite-docs", "borg-docs"]:
    sets.append(
        (
            name,
            load_questions(f"benchmarks/sets/{name}/questions.jsonl"),
            Collection.open(f"/tmp/evh-after/{name}.qa", encoder=first.encoder),
        )
    )
keys = ("ndcg@10", "gold@1", "gold@5", "hit@1", "hit@3", "doc_hit@1")
base = sets[0][2].retriever.settings
for w in [float(x) for x in sys.argv[1:]]:
    for name, eval_set, collection in sets:
        collection.retriever = HybridRetriever(dataclasses.replace(base, dense_weight=w))
        s = summarize(eval_set, run_questions(collection, eval_set))
        print(w, name, {k: round(s[k], 4) for k in keys if k in s}, flush=True)
print("load", load_average())
