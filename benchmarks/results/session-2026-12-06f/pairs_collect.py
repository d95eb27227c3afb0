"""Throwaway: the question's adjacent word pairs found adjacent in the leading passages."""

import json
import re
import sys
import time

from benchmarks import calibrate as C
from benchmarks.corpora import doc_set_questions
from qa.text.analysis import QUESTION_STOPWORDS

TOKEN = re.compile(r"\w+")


def pairs(text):
    w = [t.lower() for t in TOKEN.findall(text)]
    return {
        (a, b)
        for a, b in zip(w, w[1:])
        if a not in QUESTION_STOPWORDS and b not in QUESTION_STOPWORDS and not (a.isdigit() or b.isdigit())
    }


def allpairs(text):
    w = [t.lower() for t in TOKEN.findall(text)]
    return set(zip(w, w[1:]))


def one(coll, s, qid, question, history, source, out):
    ranking = coll.rank(question, C.RANKED, history=history, searcher=s, read=False)
    asked = pairs(ranking.query.text)
    res = {"n": len(asked)}
    for depth in (1, 3, 10, 20):
        ids = [h.passage_id for h in ranking.hits[:depth]]
        rows = s.snapshot.passages(ids)
        held = set()
        for i in ids:
            r = rows[i]
            held |= allpairs(" ".join(r.section) + "\n" + r.text)
        res[f"p{depth}"] = sum(p in held for p in asked) / len(asked) if asked else 1.0
    out[f"{source}\t{qid}"] = res


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
    json.dump(out, open(f"benchmarks/results/session-2026-12-06f/pairs_{which}.json", "w"))


main(sys.argv[1])
