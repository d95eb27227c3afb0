"""Ranking experiment: the question's words found next to each other in a passage (term proximity).

BM25 scores each word of the question apart: "delete a branch on the remote server" scores a
passage that says "delete" in one sentence and "remote server" in another as one that says "delete
the remote branch". For the `rerank_depth` leading candidates, each pair of words that stand next
to each other in the question (search terms, in order) counts when the passage holds them within
`WINDOW` terms of each other, weighted by the rarer word's IDF; the sum, scaled to the best
candidate's, joins the lexical half:

    lexical part = (BM25 / best + a · sentence BM25 / best + p · proximity / best) / (1 + a + p)

p = 0 is today's ranking. Every set in one run: SciFact, SQuAD dev-a and the seed questions (`qa
eval`'s cached indexes), and the documentation sets of benchmarks/sets on indexes you built of
their corpora, with `qa eval`'s metrics (the documentation sets as judged).

    python -m benchmarks.rank_proximity --docs sqlite=/tmp/sqlite.qa borg=/tmp/borg.qa git=/tmp/git.qa \
        pdf=/tmp/pdf.qa [--weights 0.25 0.5]
"""

from __future__ import annotations

import argparse
from functools import lru_cache

import numpy as np

from benchmarks.common import load_average, print_table, write_results
from benchmarks.corpora import RANKING_KEYS, asked_with_retrievers, metric_rows, ranking_sets, with_doc_sets
from qa.search.retrieval import HybridRetriever

WINDOW = 3


@lru_cache(maxsize=16384)
def _positions(text: str) -> dict[str, tuple[int, ...]]:
    from qa.text.analysis import analyze

    where: dict[str, list[int]] = {}
    for position, term in enumerate(analyze(text)):
        where.setdefault(term, []).append(position)
    return {term: tuple(found) for term, found in where.items()}


def proximity(text: str, pairs: list[tuple[str, str, float]]) -> float:
    """The weight of the question's neighbouring pairs that stand within WINDOW terms in `text`."""
    where = _positions(text)
    total = 0.0
    for first, second, weight in pairs:
        a, b = where.get(first), where.get(second)
        if a and b and any(abs(i - j) <= WINDOW for i in a for j in b):
            total += weight
    return total


class ProximityRetriever(HybridRetriever):
    def __init__(self, settings, proximity_weight: float) -> None:
        super().__init__(settings)
        self.proximity_weight = proximity_weight

    def head_lexical(self, head):
        a, p = self.settings.sentence_weight, self.proximity_weight
        base = head.lexical_norm + a * head.sentence_norm
        if not p:
            return base / (1 + a)
        terms = [term for term in dict.fromkeys(head.terms) if term in head.idf]
        pairs = [(x, y, min(head.idf[x], head.idf[y])) for x, y in zip(terms, terms[1:])]
        scores = np.array([proximity(text, pairs) for text in head.texts], dtype=np.float32)
        norm = scores / scores.max() if scores.max() > 0 else scores
        return (base + p * norm) / (1 + a + p)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.25, 0.5])
    parser.add_argument("--docs", nargs="*", default=[], help="NAME=INDEX for the documentation sets")
    args = parser.parse_args()
    load = load_average()
    sets = with_doc_sets(ranking_sets(), args.docs)
    results = asked_with_retrievers(sets, ProximityRetriever, args.weights, RANKING_KEYS)
    print_table("Term proximity blended into the lexical half", ["p", "set", "metrics"], metric_rows(results))
    write_results("rank_proximity", {"args": vars(args), "load": [load, load_average()], "weights": results})


if __name__ == "__main__":
    main()
