"""Throwaway: per-word reading maxima of every calibration and documentation-set question."""

import json
import sys
import time

from benchmarks import calibrate as C
from benchmarks.corpora import doc_set_questions
from qa.search.confidence import QUESTION_STOPWORDS


def maxima(reader, question, text, section):
    asked, answering = reader.read_tokens([question, " › ".join(section) + "\n" + text])
    keep = [i for i, p in enumerate(asked.pieces) if p.strip("#").isalnum() and p not in QUESTION_STOPWORDS]
    if not keep or not len(answering.vectors):
        return [], []
    m = (asked.vectors[keep] @ answering.vectors.T).max(axis=1)
    return [asked.pieces[i] for i in keep], [round(float(x), 4) for x in m]


def one(collection, searcher, qid, question, history, source, out):
    ranking = collection.rank(question, C.RANKED, history=history, searcher=searcher)
    if not ranking.hits:
        out[f"{source}\t{qid}"] = {"pieces": [], "max": []}
        return
    top = searcher.snapshot.passages([ranking.hits[0].passage_id])[ranking.hits[0].passage_id]
    pieces, m = maxima(collection.reader, ranking.query.text, top.text, top.section)
    out[f"{source}\t{qid}"] = {"pieces": pieces, "max": m}


def main(which):
    out = {}
    if which == "docs":
        from qa.collection import Collection
        from qa.evaluation.datasets import load_questions

        for name in ("sqlite", "borg", "git", "pdf"):
            coll = Collection.open(f"/tmp/cur/{name}-docs.qa")
            s = coll.searcher()
            for q in load_questions(doc_set_questions(name)).questions:
                one(coll, s, q.id, q.question, q.history, name, out)
    else:
        from qa.evaluation.datasets import load_beir, load_questions, load_squad

        squad = load_squad(C.SHARED_EVAL / "squad" / "dev-a.json")
        scifact = load_beir(C.SHARED_EVAL / "scifact")
        seeds = load_questions(C.SHARED_EVAL / "seeds" / "questions.jsonl")
        even, withheld = C.withheld_squad(squad)
        colls = C.default_collections(squad, scifact, even)
        claims = C._scifact_claims()
        ss = C._sample(squad.questions, 1000)
        sa = [q for q in seeds.questions if q.answerable]
        plan = [
            ("squad→squad", "squad", [(q.id, q.question, []) for q in squad.questions]),
            ("scifact→scifact", "scifact", [(q.id, q.question, []) for q in scifact.questions]),
            ("seeds→seeds", "seeds", [(q.id, q.question, q.history) for q in sa]),
            (
                "seeds unanswerable→seeds",
                "seeds",
                [(q.id, q.question, q.history) for q in seeds.questions if not q.answerable],
            ),
            ("scifact→squad", "squad", [(i, t, []) for i, t in C._sample(claims, 1000)]),
            ("scifact→seeds", "seeds", [(i, t, []) for i, t in C._sample(claims, 1000, 1)]),
            ("squad→seeds", "seeds", [(q.id, q.question, []) for q in ss]),
            ("squad→scifact", "scifact", [(q.id, q.question, []) for q in ss]),
            (C.WITHHELD, "squad-even", [(q.id, q.question, []) for q in withheld]),
            ("seeds→squad", "squad", [(q.id, q.question, q.history) for q in sa]),
            ("seeds→scifact", "scifact", [(q.id, q.question, q.history) for q in sa]),
        ]
        for source, corpus, qs in plan:
            t = time.time()
            coll = colls[corpus]
            s = coll.searcher()
            for qid, question, history in qs:
                one(coll, s, qid, question, history, source, out)
            print(source, len(qs), f"{time.time() - t:.0f}s", flush=True)
    json.dump(out, open(f"benchmarks/results/session-2026-12-06f/weakest_{which}.json", "w"))


main(sys.argv[1])
