"""Throwaway (2026-12-05): two changes to the fusion of the dense and lexical scores, every set with
its judged answers, each variant in turn in one process, over the indexes in /tmp/evh-after.

    PYTHONPATH=. python fusion.py ideal 0.5 0.75 1.0   # BM25 / max(best candidate, g * sum of the question's IDF)
    PYTHONPATH=. python fusion.py weight 0.6 0.65 0.75 0.8   # the dense weight
"""

import dataclasses
import sys

import numpy as np

from benchmarks.common import load_average
from benchmarks.corpora import ranking_sets
from qa.collection import Collection
from qa.evaluation.datasets import load_questions
from qa.evaluation.metrics import summarize
from qa.evaluation.runner import run_questions
from qa.search import retrieval as R

KEYS = ("ndcg@10", "gold@1", "gold@5", "hit@1", "hit@3", "doc_hit@1", "answerable_abstained", "unanswerable_answered")
G = None  # the ideal's share, per variant; None: today's fusion
today_score = R.HybridRetriever._score


def _score(self, source, query, ids, lexical_ids, lexical_scores, idf, texts, k, mode):
    """HybridRetriever._score with the lexical half divided by max(best, G × the question's IDF)."""
    if G is None or mode in ("dense", "bm25"):
        return today_score(self, source, query, ids, lexical_ids, lexical_scores, idf, texts, k, mode)
    dense = self.dense_scores(source, query, ids)
    lexical = np.zeros(len(ids), dtype=np.float32)
    if len(lexical_ids):
        positions = np.clip(np.searchsorted(lexical_ids, ids), 0, len(lexical_ids) - 1)
        lexical = np.where(lexical_ids[positions] == ids, lexical_scores[positions], 0).astype(np.float32)
    scale = max(float(lexical.max()), G * sum(idf.values()))
    lexical_norm = lexical / scale if scale > 0 else lexical
    fused = self.settings.dense_weight * dense + (1 - self.settings.dense_weight) * lexical_norm
    return self._rerank_by_sentences(ids, fused, dense, lexical, lexical_norm, query, idf, texts, k)


def every_set():
    sets = ranking_sets()
    encoder = sets[0][2].encoder
    for name in ("sqlite-docs", "borg-docs"):
        questions = load_questions(f"benchmarks/sets/{name}/questions.jsonl")
        sets.append((name, questions, Collection.open(f"/tmp/evh-after/{name}.qa", encoder=encoder)))
    return sets


def main() -> None:
    global G
    kind, values = sys.argv[1], [float(value) for value in sys.argv[2:]]
    R.HybridRetriever._score = _score
    sets = every_set()
    base = sets[0][2].retriever.settings
    for value in [None, *values] if kind == "ideal" else values:
        for name, eval_set, collection in sets:
            if kind == "ideal":
                G = value
            else:
                collection.retriever = R.HybridRetriever(dataclasses.replace(base, dense_weight=value))
            found = summarize(eval_set, run_questions(collection, eval_set))
            print(kind, value, name, {key: round(found[key], 4) for key in KEYS if key in found}, flush=True)
    print("load", load_average())


if __name__ == "__main__":
    main()
