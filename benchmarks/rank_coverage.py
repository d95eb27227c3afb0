"""Ranking experiment: the confidence's coverage signal (how much of the question, IDF-weighted, one
sentence holds) blended into the lexical half of the leading candidates' score.

`lexical part = (BM25 / best + a · sentence BM25 / best + c · coverage) / (1 + a + c)`, for the
`rerank_depth` leading candidates; c = 0 is today's ranking. SciFact, SQuAD dev-a and the seed
questions, each in full, with `qa eval`'s metrics, in one run.

    python -m benchmarks.rank_coverage [--weights 0.25 0.5 1.0]
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.common import load_average, print_table, write_results
from benchmarks.corpora import asked_with_retrievers, ranking_sets
from qa.search.retrieval import HybridRetriever
from qa.search.sentence_scores import sentence_terms


class CoverageRetriever(HybridRetriever):
    def __init__(self, settings, coverage_weight: float) -> None:
        super().__init__(settings)
        self.coverage_weight = coverage_weight

    def head_lexical(self, head):
        weights = {t: head.idf[t] for t in dict.fromkeys(head.terms) if t in head.idf}
        total = sum(weights.values()) or 1.0
        coverage = np.array(
            [
                max(
                    (sum(w for t, w in weights.items() if t in counts) / total for *_, counts in sentence_terms(text)),
                    default=0.0,
                )
                for text in head.texts
            ],
            dtype=np.float32,
        )
        a, c = self.settings.sentence_weight, self.coverage_weight
        return (head.lexical_norm + a * head.sentence_norm + c * coverage) / (1 + a + c)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.25, 0.5, 1.0])
    args = parser.parse_args()
    load = load_average()
    keys = ("ndcg@10", "gold@1", "gold@5", "hit@1", "hit@3", "answerable_abstained")
    results = asked_with_retrievers(ranking_sets(), CoverageRetriever, args.weights, keys)
    rows = [
        [weight, name, *(f"{key} {value:.4f}" for key, value in metrics.items())]
        for weight, by_set in results.items()
        for name, metrics in by_set.items()
    ]
    print_table("Coverage blended into the lexical half", ["c", "set", "", "", "", ""], rows)
    write_results("rank_coverage", {"args": vars(args), "load": [load, load_average()], "weights": results})


if __name__ == "__main__":
    main()
