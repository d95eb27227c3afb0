from benchmarks.corpora import ranking_sets
from qa.collection import Collection
from qa.evaluation.datasets import load_questions
from qa.search.followup import followup_query
from qa.text.analysis import question_terms
from qa.text.spelling import closed_up

sets = ranking_sets()
first = sets[0][2]
for name, idx in [
    ("sqlite-docs", "/tmp/faqh/sqlite-docs.qa"),
    ("borg-docs", "/tmp/evh-after/borg-docs.qa"),
    ("git-docs", "/tmp/evh-after/git-docs.qa"),
    ("licenses", "/tmp/evh-after/licenses.qa"),
]:
    sets.append(
        (name, load_questions(f"benchmarks/sets/{name}/questions.jsonl"), Collection.open(idx, encoder=first.encoder))
    )
for name, es, c in sets:
    bm25 = c.searcher().bm25
    hits = []
    for q in es.questions:
        text = followup_query(q.question, q.history)
        j = closed_up(text, question_terms(text), bm25.idf)
        if j:
            hits.append((q.question[:70], j))
    print(name, len(hits), "of", len(es.questions), hits[:6])
