"""Throwaway (2026-12-06, sixth session): two candidate abstention signals for every calibration
and documentation-set question, beside the signals `python -m benchmarks.calibrate collect` keeps.

    python signals_collect.py weakest|pairs docs|public   # from the repository root, PYTHONPATH=.

weakest: each of the question's word pieces and the cosine of its first passage's closest piece
(as `qa.search.confidence.read` takes their mean). pairs: the share of the question's adjacent
words (question words aside) found adjacent in its 1, 3, 10 or 20 leading passages.
"""

import json
import re
import sys
import time
from pathlib import Path

from benchmarks import calibrate as C
from benchmarks.corpora import doc_set_questions
from qa.text.analysis import QUESTION_STOPWORDS

HERE = Path(__file__).parent
TOKEN = re.compile(r"\w+")


def weakest(collection, searcher, ranking) -> dict:
    if not ranking.hits:
        return {"pieces": [], "max": []}
    top = searcher.snapshot.passages([ranking.hits[0].passage_id])[ranking.hits[0].passage_id]
    asked, answering = collection.reader.read_tokens([ranking.query.text, " › ".join(top.section) + "\n" + top.text])
    keep = [i for i, p in enumerate(asked.pieces) if p.strip("#").isalnum() and p not in QUESTION_STOPWORDS]
    if not keep or not len(answering.vectors):
        return {"pieces": [], "max": []}
    closest = (asked.vectors[keep] @ answering.vectors.T).max(axis=1)
    return {"pieces": [asked.pieces[i] for i in keep], "max": [round(float(x), 4) for x in closest]}


def words(text: str) -> list[str]:
    return [t.lower() for t in TOKEN.findall(text)]


def pairs(collection, searcher, ranking) -> dict:
    w = words(ranking.query.text)
    asked = {
        (a, b)
        for a, b in zip(w, w[1:])
        if a not in QUESTION_STOPWORDS and b not in QUESTION_STOPWORDS and not (a.isdigit() or b.isdigit())
    }
    found = {"n": len(asked)}
    for depth in (1, 3, 10, 20):
        ids = [hit.passage_id for hit in ranking.hits[:depth]]
        rows = searcher.snapshot.passages(ids)
        held = set()
        for i in ids:
            text = words(" ".join(rows[i].section) + "\n" + rows[i].text)
            held |= set(zip(text, text[1:]))
        found[f"p{depth}"] = sum(p in held for p in asked) / len(asked) if asked else 1.0
    return found


def main(signal: str, which: str) -> None:
    measure = {"weakest": weakest, "pairs": pairs}[signal]
    out = {}
    if which == "docs":
        from qa.collection import Collection
        from qa.evaluation.datasets import load_questions

        asked = [
            (name, Collection.open(f"/tmp/cur/{name}-docs.qa"), load_questions(doc_set_questions(name)).questions)
            for name in C.DOC_SETS
        ]
        plan = [(name, coll, [(q.id, q.question, q.history) for q in qs]) for name, coll, qs in asked]
    else:
        squad, scifact, seeds, even, withheld = C.public_sets()
        collections = C.default_collections(squad, scifact, even)
        plan = [
            (source, collections[corpus], [(i, q, h) for i, q, h, _ in qs])
            for source, corpus, _, qs in C.questions_plan(squad, scifact, seeds, withheld, 1000)
        ]
    for source, collection, questions in plan:
        started, searcher = time.time(), collection.searcher()
        for question_id, question, history in questions:
            ranking = collection.rank(question, C.RANKED, history=history, searcher=searcher, read=False)
            out[f"{source}\t{question_id}"] = measure(collection, searcher, ranking)
        print(source, len(questions), f"{time.time() - started:.0f}s", flush=True)
    (HERE / f"{signal}_{which}.json").write_text(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
