import dataclasses

from benchmarks.corpora import ranking_sets
from qa.search.retrieval import HybridRetriever
from qa.text.analysis import question_terms
from qa.text.spelling import closed_up

sets = ranking_sets()
name, es, c = sets[1]
bm25 = c.searcher().bm25
base = c.retriever.settings
snap = c.searcher().snapshot
for q in es.questions:
    if not closed_up(q.question, question_terms(q.question), bm25.idf):
        continue
    tops = []
    for flag in (False, True):
        c.retriever = HybridRetriever(dataclasses.replace(base, close_up=flag))
        r = c.rank(q.question, 5)
        docs = [snap.passages([h.passage_id])[h.passage_id].doc_id for h in r.hits]
        tops.append(
            [d in q.gold_doc_ids for d in docs].index(True) + 1 if any(d in q.gold_doc_ids for d in docs) else 0
        )
    print(tops, q.question)
