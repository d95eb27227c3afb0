"""End to end: the real model over seeds/, judged by the public seed questions."""

import json

import pytest

from qa.evaluation.metrics import contains_answer
from tests.conftest import SEED_QUESTIONS, require_shared

pytestmark = pytest.mark.slow


def test_most_answerable_seed_questions_have_an_answer_in_the_top_three(seeds_collection):
    questions = [json.loads(line) for line in require_shared(SEED_QUESTIONS).read_text().splitlines() if line.strip()]
    answerable = [q for q in questions if q["answers"]]
    hits = [
        any(
            contains_answer(p.text, q["answers"])
            for p in seeds_collection.ask(q["question"], 3, q.get("history", [])).passages
        )
        for q in answerable
    ]
    assert len(answerable) == 13
    assert sum(hits) >= 11, [q["id"] for q, hit in zip(answerable, hits) if not hit]


def test_passages_are_verbatim_spans_of_their_documents(seeds_collection):
    answer = seeds_collection.ask("Who is Moussa Koussa?", top_k=5)
    for passage in answer.passages:
        document = seeds_collection.document(passage.citation.doc_id)
        assert document.text[passage.citation.start : passage.citation.end] == passage.text


def test_no_two_answers_come_from_the_same_spot(seeds_collection):
    passages = seeds_collection.ask("Moussa Koussa defection", top_k=10).passages
    for i, a in enumerate(passages):
        for b in passages[i + 1 :]:
            same_doc = a.citation.doc_id == b.citation.doc_id
            assert not (same_doc and a.citation.start <= b.citation.end and b.citation.start <= a.citation.end)
