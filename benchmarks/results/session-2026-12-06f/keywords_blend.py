"""Throwaway: the question's vector blended with its keywords' vector (multi-query), on every set."""

import re
import sys
import time
from pathlib import Path

import numpy as np

from qa.collection import Collection
from qa.evaluation.datasets import load_beir, load_questions, load_squad
from qa.evaluation.runner import run_eval
from qa.search.retrieval import Query
from qa.text.analysis import QUESTION_STOPWORDS

ALPHA = 0.0
orig = Collection.query
WORD = re.compile(r"[\w'.\-/<>{}@~^]+")


def keywords(text):
    return " ".join(w for w in WORD.findall(text) if w.lower().strip("?.") not in QUESTION_STOPWORDS)


def query(self, question, history=()):
    q = orig(self, question, history)
    if not ALPHA:
        return q
    kw = keywords(q.text)
    if not kw or kw == q.text:
        return q
    v = q.vector + ALPHA * self.encoder.encode_queries([kw])[0]
    return Query(text=q.text, terms=q.terms, vector=(v / np.linalg.norm(v)).astype(q.vector.dtype))


Collection.query = query

sets = sys.argv[2].split(",")
for a in [float(x) for x in sys.argv[1].split(",")]:
    ALPHA = a
    out = {}
    for s in sets:
        t = time.time()
        if s in ("sqlite", "borg", "git", "pdf"):
            r = run_eval(
                load_questions(Path(f"benchmarks/sets/{s}-docs/questions.jsonl")),
                index_dir=Path(f"/tmp/cur/{s}-docs.qa"),
            )
            m = r.metrics
            out[s] = (
                round(m["hit@1"], 3),
                round(m["hit@3"], 3),
                round(m["doc_hit@1"], 3),
                round(m["unanswerable_answered"], 3),
                round(m["answerable_abstained"], 3),
            )
        elif s == "seeds":
            m = run_eval(load_questions(Path("../shared/eval/seeds/questions.jsonl"))).metrics
            out[s] = (m["hit@1"], m["hit@3"])
        elif s == "squad":
            m = run_eval(load_squad(Path("../shared/eval/squad/dev-a.json"))).metrics
            out[s] = (round(m["gold@1"], 4), round(m["gold@5"], 4))
        elif s == "scifact":
            m = run_eval(load_beir(Path("../shared/eval/scifact"))).metrics
            out[s] = (round(m["ndcg@10"], 4), round(m["recall@100"], 4))
        print(f"alpha {a} {s} {out[s]} {time.time() - t:.0f}s", flush=True)
