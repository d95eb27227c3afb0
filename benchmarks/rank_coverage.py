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
from benchmarks.corpora import ranking_sets
from qa.retrieval import Hit, HybridRetriever
from qa.sentences import best, score_sentences, sentence_terms


class CoverageRetriever(HybridRetriever):
    def __init__(self, settings, coverage_weight: float) -> None:
        super().__init__(settings)
        self.coverage_weight = coverage_weight

    def _rerank_by_sentences(self, ids, fused, dense, lexical, lexical_norm, terms, idf, texts, k) -> list[Hit]:
        order = np.argsort(-fused, kind="stable")
        head = order[: self.settings.rerank_depth]
        found = texts([int(i) for i in ids[head]])
        passage_texts = [found.get(int(i), "") for i in ids[head]]
        sentences = score_sentences(passage_texts, terms, idf)
        best_sentences = [best(row) for row in sentences]
        sentence = np.array([s.score if s else 0.0 for s in best_sentences], dtype=np.float32)
        sentence_norm = sentence / sentence.max() if sentence.max() > 0 else sentence
        weights = {t: idf[t] for t in dict.fromkeys(terms) if t in idf}
        total = sum(weights.values()) or 1.0
        coverage = np.array(
            [
                max(
                    (sum(w for t, w in weights.items() if t in counts) / total for *_, counts in sentence_terms(text)),
                    default=0.0,
                )
                for text in passage_texts
            ],
            dtype=np.float32,
        )
        a, c, weight = self.settings.sentence_weight, self.coverage_weight, self.settings.dense_weight
        lexical_part = (lexical_norm[head] + a * sentence_norm + c * coverage) / (1 + a + c)
        rescored = weight * dense[head] + (1 - weight) * lexical_part
        head_order = np.argsort(-rescored, kind="stable")
        hits = [
            Hit(
                int(ids[head[i]]), float(rescored[i]), float(dense[head[i]]), float(lexical[head[i]]), best_sentences[i]
            )
            for i in head_order[:k]
        ]
        for i in order[len(head) :][: max(0, k - len(hits))]:
            hits.append(Hit(int(ids[i]), float(fused[i]), float(dense[i]), float(lexical[i])))
        return hits


def main() -> None:
    from qa.evaluation.metrics import summarize
    from qa.evaluation.runner import run_questions

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.25, 0.5, 1.0])
    args = parser.parse_args()
    load = load_average()
    sets = ranking_sets()
    keys = ("ndcg@10", "gold@1", "gold@5", "hit@1", "hit@3", "answerable_abstained")
    results, rows = {}, []
    for weight in [0.0, *args.weights]:
        for name, eval_set, collection in sets:
            collection.retriever = CoverageRetriever(collection.retriever.settings, weight)
            summary = summarize(eval_set, run_questions(collection, eval_set))
            results.setdefault(str(weight), {})[name] = {key: summary[key] for key in keys if key in summary}
            rows.append([weight, name, *(f"{key} {value:.4f}" for key, value in results[str(weight)][name].items())])
            print(rows[-1], flush=True)
    print_table("Coverage blended into the lexical half", ["c", "set", "", "", "", ""], rows)
    write_results("rank_coverage", {"args": vars(args), "load": [load, load_average()], "weights": results})


if __name__ == "__main__":
    main()
