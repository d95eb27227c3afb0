"""Throwaway: lexical normalised by max(best among candidates, g * ideal), ideal = sum of IDF of the
question's known terms (a passage of average length holding each once)."""

import json
import sys

import numpy as np

from benchmarks.common import load_average
from benchmarks.corpora import ranking_sets
from qa.collection import Collection
from qa.evaluation.datasets import load_questions
from qa.evaluation.metrics import summarize
from qa.evaluation.runner import run_questions
from qa.search import retrieval as R

G = None  # set per variant
SENT = False
orig_score = R.HybridRetriever._score
orig_rerank = R.HybridRetriever._rerank_by_sentences


def _score(self, source, query, ids, lexical_ids, lexical_scores, idf, texts, k, mode):
    if G is None or mode in ("dense", "bm25"):
        return orig_score(self, source, query, ids, lexical_ids, lexical_scores, idf, texts, k, mode)
    dense = self.dense_scores(source, query, ids)
    lexical = np.zeros(len(ids), dtype=np.float32)
    if len(lexical_ids):
        positions = np.clip(np.searchsorted(lexical_ids, ids), 0, len(lexical_ids) - 1)
        lexical = np.where(lexical_ids[positions] == ids, lexical_scores[positions], 0).astype(np.float32)
    ideal = G * sum(idf.values())
    den = max(float(lexical.max()), ideal)
    lexical_norm = lexical / den if den > 0 else lexical
    weight = self.settings.dense_weight
    fused = weight * dense + (1 - weight) * lexical_norm
    self._ideal = ideal
    return self._rerank_by_sentences(ids, fused, dense, lexical, lexical_norm, query, idf, texts, k)


R.HybridRetriever._score = _score

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
keys = ("ndcg@10", "gold@1", "gold@5", "hit@1", "hit@3", "doc_hit@1", "answerable_abstained", "unanswerable_answered")
out = {}
for g in [None] + [float(x) for x in sys.argv[1:]]:
    G = g
    for name, eval_set, collection in sets:
        s = summarize(eval_set, run_questions(collection, eval_set))
        out.setdefault(str(g), {})[name] = {k: round(s[k], 4) for k in keys if k in s}
        print(g, name, out[str(g)][name], flush=True)
json.dump(out, open("/tmp/exp/rank_ideal.json", "w"), indent=1)
print("load", load_average())
