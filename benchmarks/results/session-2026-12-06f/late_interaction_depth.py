"""Throwaway (2026-12-06, sixth session): late interaction on only the N leading candidates.

Each weight is N + γ/10 (5.07: the 5 leading candidates, γ 0.7). The N leading candidates of
today's ranking gain γ × MaxSim(question, section path · passage) (benchmarks.rank_late_interaction's
reader); every other candidate gains γ × the least of those, so it keeps its place below them.

    cd benchmarks/results/session-2026-12-06f
    PYTHONPATH=../../.. QA_HOME=… python late_interaction_depth.py 20.07,5.07,10.07,5.15,3.07
    PYTHONPATH=../../.. QA_HOME=… python late_interaction_depth.py flips 5.07

The documentation sets' indexes are read from /tmp/cur/{sqlite,borg,git,pdf}-docs.qa; `flips`
lists the documentation sets' questions whose rank-1 answer or page changes against today's ranking.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import rank_late_interaction as late
from benchmarks.corpora import RANKING_KEYS, asked_with_retrievers, doc_set_questions, ranking_sets, with_doc_sets
from qa.search.retrieval import HybridRetriever

HERE = Path(__file__).parent
DOCS = ("sqlite", "borg", "git", "pdf")


class Depth(late.LateInteractionRetriever):
    def __init__(self, settings, weight):
        HybridRetriever.__init__(self, settings)
        self.depth = int(weight)
        self.weight = round((weight - int(weight)) * 10, 3)
        self._question = None

    def page_signals(self, rows, fused, question=""):
        extra = HybridRetriever.page_signals(self, rows, fused, question)
        if not self.weight or not question:
            return extra
        reader = late.reader()
        if self._question is None or self._question[0] != question:
            self._question = (question, reader.question(question))
        top = np.argsort(-(fused + extra), kind="stable")[: self.depth]
        texts = [(" › ".join(rows[i].section) + "\n" + rows[i].text) if rows[i] is not None else "" for i in top]
        scores = np.array([late.max_sim(self._question[1], m) for m in reader.passage_tokens(texts)], dtype=np.float32)
        bonus = np.full(len(rows), scores.min() if len(scores) else 0.0, dtype=np.float32)
        bonus[top] = scores
        return extra + self.weight * bonus


def every_set(weights):
    sets = with_doc_sets(ranking_sets(2000), [f"{name}=/tmp/cur/{name}-docs.qa" for name in DOCS])
    started = time.time()
    results = asked_with_retrievers(sets, Depth, weights, RANKING_KEYS)
    (HERE / "late_interaction_depth.json").write_text(json.dumps(results, indent=1))
    reader = late.reader()
    print("passages read", reader.read, "seconds", round(reader.seconds), "total", round(time.time() - started))


def flips(weight):
    from qa.collection import Collection
    from qa.evaluation.datasets import load_questions
    from qa.evaluation.metrics import question_outcomes
    from qa.evaluation.runner import run_questions

    for name in DOCS:
        collection = Collection.open(Path(f"/tmp/cur/{name}-docs.qa"))
        questions = load_questions(doc_set_questions(name))
        today = collection.retriever
        outcomes = {}
        for w in (0.0, weight):
            collection.retriever = Depth(today.settings, w) if w else today
            outcomes[w] = {o.id: o for o in question_outcomes(questions, run_questions(collection, questions))}
        for q in questions.questions:
            a, b = outcomes[0.0][q.id], outcomes[weight][q.id]
            if q.answerable and (
                (a.answer_rank == 1) != (b.answer_rank == 1) or (a.page_rank == 1) != (b.page_rank == 1)
            ):
                print(
                    f"{name} {q.id}: answer rank {a.answer_rank}->{b.answer_rank},"
                    f" page {a.page_rank}->{b.page_rank} | {q.question}"
                )
                print(f"    before {a.first_source}: {a.first_quote[:200]}")
                print(f"    after  {b.first_source}: {b.first_quote[:200]}")


if __name__ == "__main__":
    if sys.argv[1] == "flips":
        flips(float(sys.argv[2]))
    else:
        every_set([float(w) for w in sys.argv[1].split(",")])
